//! Mutation fuzzing of every parser that reads user input (issue 21): scenario files (engine and
//! dorsal-horn), `--set` overrides, finding files and `DORSALHORN_PARAM_SET`. Seeds are the
//! shipped files; each round mutates one (byte flips, cut and duplicated spans, tokens from a
//! TOML dictionary, numbers swapped for extreme ones) and parses it. Any panic fails the test
//! with the input that caused it; errors are the expected outcome.
//!
//! Deterministic (a fixed xorshift seed) and bounded: `DORSALHORN_FUZZ_ROUNDS` rounds per
//! target (default 3000, a quarter of that for finding files; CI runs the default). docs/robustness.md records the
//! corpus size and time of the last long run.

use std::path::{Path, PathBuf};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

const TOKENS: &[&str] = &[
    "=",
    "[",
    "]",
    "{",
    "}",
    "\"",
    ",",
    ".",
    "\n",
    "#",
    "-1",
    "0",
    "-0.0",
    "1e308",
    "-1e308",
    "1e-308",
    "nan",
    "inf",
    "-inf",
    "18446744073709551616",
    "\"\"",
    "\"x\"",
    "[]",
    "{}",
    "[[ea]]\n",
    "[[dose]]\n",
    "[[bolus]]\n",
    "[[species]]\n",
    "[[check]]\n",
    "true",
    "µ",
    "\u{0}",
    "days = ",
    "name = ",
    "at_h = ",
    "window_h = [",
];

const NUMBERS: &[&str] = &[
    "0",
    "-1",
    "1e308",
    "-1e308",
    "1e-300",
    "nan",
    "inf",
    "65536",
    "4294967296",
    "0.5",
    "-0.0",
    "3",
    "1e9",
];

fn rounds() -> usize {
    std::env::var("DORSALHORN_FUZZ_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000)
}

/// One mutation of `text`.
fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut b = text.as_bytes().to_vec();
    for _ in 0..1 + rng.below(3) {
        let n = b.len().max(1);
        match rng.below(6) {
            0 => {
                let i = rng.below(n);
                if i < b.len() {
                    b[i] ^= 1 << rng.below(8);
                }
            }
            1 => {
                let i = rng.below(n);
                let j = (i + 1 + rng.below(40)).min(b.len());
                if i < j {
                    b.drain(i..j);
                }
            }
            2 => {
                let i = rng.below(n);
                let j = (i + 1 + rng.below(80)).min(b.len());
                if i < j {
                    let span = b[i..j].to_vec();
                    b.splice(i..i, span);
                }
            }
            3 => {
                let i = rng.below(n + 1).min(b.len());
                let t = rng.pick(TOKENS).as_bytes().to_vec();
                b.splice(i..i, t);
            }
            4 => {
                // A number replaced by an extreme one.
                let s = String::from_utf8_lossy(&b).into_owned();
                let starts: Vec<usize> = s
                    .char_indices()
                    .filter(|(i, c)| {
                        c.is_ascii_digit()
                            && (*i == 0 || !s.as_bytes()[i - 1].is_ascii_alphanumeric())
                    })
                    .map(|(i, _)| i)
                    .collect();
                if !starts.is_empty() {
                    let i = *rng.pick(&starts);
                    let j = s[i..]
                        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == 'e'))
                        .map_or(s.len(), |k| i + k);
                    b = format!("{}{}{}", &s[..i], rng.pick(NUMBERS), &s[j..]).into_bytes();
                }
            }
            _ => {
                // A line duplicated (duplicate keys, repeated tables).
                let s = String::from_utf8_lossy(&b).into_owned();
                let lines: Vec<&str> = s.lines().collect();
                if !lines.is_empty() {
                    let k = rng.below(lines.len());
                    let mut out: Vec<&str> = lines.clone();
                    out.insert(k, lines[k]);
                    b = out.join("\n").into_bytes();
                }
            }
        }
    }
    String::from_utf8_lossy(&b).into_owned()
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn toml_files(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut v: Vec<(PathBuf, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| {
            let t = std::fs::read_to_string(&p).unwrap();
            (p, t)
        })
        .collect();
    v.sort();
    v
}

/// Runs `f` (true when the input was accepted) on each input and fails on any panic. Prints
/// how many inputs there were, how many were accepted (a harness whose mutants never get past
/// the first check tests little) and how long it took.
fn no_panics(label: &str, inputs: impl Iterator<Item = String>, f: impl Fn(&str) -> bool) {
    let start = std::time::Instant::now();
    let mut panicked = Vec::new();
    let (mut n, mut accepted) = (0, 0);
    for input in inputs {
        n += 1;
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&input))) {
            Ok(true) => accepted += 1,
            Ok(false) => {}
            Err(_) => panicked.push(input),
        }
    }
    eprintln!(
        "{label}: {n} inputs ({accepted} accepted) in {:.1} s, {} panics",
        start.elapsed().as_secs_f64(),
        panicked.len()
    );
    assert!(
        panicked.is_empty(),
        "{label}: {} input(s) panicked; the first:\n{}",
        panicked.len(),
        panicked[0]
    );
}

#[test]
fn scenario_files_never_panic() {
    let seeds = toml_files(&root().join("examples/scenarios"))
        .into_iter()
        .chain(toml_files(&root().join("validation/arms")))
        .map(|(_, t)| t)
        .collect::<Vec<_>>();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let inputs: Vec<String> = (0..rounds())
        .map(|_| {
            let seed = rng.pick(&seeds).clone();
            mutate(&mut rng, &seed)
        })
        .collect();
    no_panics("scenario files", inputs.into_iter(), |text| {
        let a = dorsalhorn::scenario::generic::from_str("fuzz.toml", text, &[]).is_ok();
        let b = dorsalhorn::scenario::dorsal_horn::from_str("fuzz.toml", text, &[]).is_ok();
        a || b
    });
}

#[test]
fn set_overrides_never_panic() {
    let keys = [
        "grid.size",
        "grid.size[0]",
        "grid.spacing_um",
        "time.dt_s",
        "time.steps",
        "time.days",
        "tissue.spacing_um",
        "tissue.animal",
        "pain.model",
        "pain.onset_h",
        "ea",
        "ea[0].days",
        "ea[0].frequency_hz",
        "dose",
        "drugs.minocycline",
        "species.u.diffusivity_um2_s",
        "species[1].initial",
        "output.every_steps",
        "output.every_h",
        "name",
        "model.feed",
        "a..b",
        "[0]",
        "ea[99999999999999999999].days",
        "",
    ];
    let values = [
        "1",
        "-1",
        "0",
        "1e308",
        "nan",
        "inf",
        "[1,2]",
        "[",
        "{",
        "\"x\"",
        "[[1]]",
        "{a=1}",
        "true",
        "\"../x\"",
        "[3,3]",
        "[]",
        "[{days=[1]}]",
        "",
    ];
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let inputs: Vec<String> = (0..rounds())
        .map(|_| {
            let spec = format!("{}={}", rng.pick(&keys), rng.pick(&values));
            if rng.below(3) == 0 {
                mutate(&mut rng, &spec)
            } else {
                spec
            }
        })
        .collect();
    no_panics("--set overrides", inputs.into_iter(), |spec| {
        let set = [spec.to_string()];
        let a = dorsalhorn::scenario::generic::load("gray_scott", &set).is_ok();
        let b = dorsalhorn::scenario::dorsal_horn::from_str(
            "cfa_sham",
            include_str!("../../examples/scenarios/cfa_sham.toml"),
            &set,
        )
        .is_ok();
        let mut t = toml::Table::new();
        let _ = dorsalhorn::scenario::overrides::apply_override(&mut t, spec);
        a || b
    });
}

#[test]
fn finding_files_never_panic() {
    let dir = std::env::temp_dir().join(format!("dorsalhorn-fuzz-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("arms")).unwrap();
    for (p, t) in toml_files(&root().join("validation/arms")) {
        std::fs::write(dir.join("arms").join(p.file_name().unwrap()), t).unwrap();
    }
    let seeds: Vec<String> = toml_files(&root().join("validation"))
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    // Fewer rounds: each loads every arm's scenario.
    let inputs: Vec<String> = (0..rounds() / 4)
        .map(|_| {
            let seed = rng.pick(&seeds).clone();
            mutate(&mut rng, &seed)
        })
        .collect();
    no_panics("finding files", inputs.into_iter(), |text| {
        // The file is named after its id when the id survived the mutation.
        let id = text
            .lines()
            .find_map(|l| l.strip_prefix("id = \""))
            .and_then(|r| r.split('"').next())
            .filter(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric()))
            .unwrap_or("V0");
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_file() {
                std::fs::remove_file(p).unwrap();
            }
        }
        std::fs::write(dir.join(format!("{id}.toml")), text).unwrap();
        dorsalhorn::validate::finding::load(&dir, 40.0).is_ok()
    });
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn parameter_edits_never_panic() {
    let table = dorsalhorn::params::ParamTable::builtin();
    let keys: Vec<String> = table.params.iter().map(|p| p.key.clone()).collect();
    let mut rng = Rng(0xA076_1D64_78BD_642F);
    let inputs: Vec<String> = (0..rounds())
        .map(|_| {
            let mut parts = Vec::new();
            for _ in 0..1 + rng.below(3) {
                parts.push(format!("{}={}", rng.pick(&keys), rng.pick(NUMBERS)));
            }
            let s = parts.join(",");
            if rng.below(3) == 0 {
                mutate(&mut rng, &s)
            } else {
                s
            }
        })
        .collect();
    no_panics("parameter edits", inputs.into_iter(), |set| {
        dorsalhorn::params::ParamTable::edited(set).is_ok()
    });
}
