//! Nothing lost, nothing silently wrong (issue 21): output folders are locked, marked and only
//! ever cleaned of their own files; Ctrl-C/SIGTERM and kill -9 leave a folder that says what
//! happened; scenario names are names; adapter and key-path input never panics; a clean run
//! prints nothing that reads as an error. Each test runs the binary as a user would.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_dorsalhorn"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dorsalhorn-robust-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// A Gray–Scott run of `steps` steps on 48 × 48 cells into `out`.
fn gs(out: &Path, steps: u32, extra: &[&str]) -> Command {
    let mut c = bin();
    c.args(["run", "gray_scott", "--quiet", "--out"])
        .arg(out)
        .args(["--set", "grid.size=[48,48]", "--set"])
        .arg(format!("time.steps={steps}"))
        .args(["--set", "output.every_steps=20"])
        .args(extra);
    c
}

fn status(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("status.json")).expect("status.json");
    serde_json::from_str(&text).expect("status.json is JSON")
}

/// Sends `signal` (`TERM`, `INT`) to a child.
fn signal(child: &Child, signal: &str) {
    let ok = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(child.id().to_string())
        .status()
        .expect("kill")
        .success();
    assert!(ok, "kill -{signal} failed");
}

/// Waits until `path` exists (or panics after `secs`).
fn wait_for(path: &Path, secs: u64) {
    let start = Instant::now();
    while !path.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(secs),
            "{} did not appear within {secs} s",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Two runs started at once into one folder: exactly one runs, the other is refused with a
/// message saying why (in use, or already holding the winner's completed run), 20 times. The
/// folder then holds one consistent run.
#[test]
fn two_runs_into_one_folder_never_mix() {
    for trial in 0..20 {
        let out = tmp(&format!("race{trial}"));
        let a = gs(&out, 200, &[]).stderr(Stdio::piped()).spawn().unwrap();
        let b = gs(&out, 200, &[]).stderr(Stdio::piped()).spawn().unwrap();
        let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
        let ok = [&a, &b].iter().filter(|o| o.status.success()).count();
        assert_eq!(ok, 1, "trial {trial}: {} / {}", stderr(&a), stderr(&b));
        let loser = if a.status.success() { &b } else { &a };
        assert_eq!(loser.status.code(), Some(1), "{}", stderr(loser));
        let msg = stderr(loser);
        assert!(
            msg.contains("in use by another dorsalhorn run")
                || msg.contains("already holds a completed run"),
            "{msg}"
        );
        assert_eq!(status(&out)["state"], "completed");
        let summary: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap())
                .unwrap();
        assert_eq!(summary["steps"], 200);
        std::fs::remove_dir_all(&out).unwrap();
    }
}

/// With --overwrite, two runs at once still never mix: one is refused while the other holds the
/// folder, or they run one after the other.
#[test]
fn two_overwriting_runs_never_mix() {
    for trial in 0..5 {
        let out = tmp(&format!("race-ow{trial}"));
        let a = gs(&out, 300, &["--overwrite"])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let b = gs(&out, 300, &["--overwrite", "--set", "model.feed=0.03"])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
        for o in [&a, &b] {
            assert!(
                o.status.success() || stderr(o).contains("in use by another dorsalhorn run"),
                "{}",
                stderr(o)
            );
        }
        // The summary and the status describe the same (last) run, and every field file is
        // from the run the summary describes (same number of outputs, no leftovers).
        assert_eq!(status(&out)["state"], "completed");
        let fields = std::fs::read_dir(out.join("fields")).unwrap().count();
        assert_eq!(fields, 2 * 16, "16 output steps × 2 species");
        std::fs::remove_dir_all(&out).unwrap();
    }
}

/// --overwrite removes only what a dorsalhorn run wrote; a folder whose run files carry no
/// status of ours is refused even with --overwrite.
#[test]
fn overwrite_removes_only_our_files() {
    let out = tmp("own");
    assert!(gs(&out, 40, &[]).status().unwrap().success());
    assert_eq!(status(&out)["state"], "completed");
    assert_eq!(status(&out)["dorsalhorn"], "run");
    std::fs::write(out.join("fields/notes.txt"), "mine").unwrap();
    std::fs::write(out.join("README.txt"), "mine too").unwrap();
    let again = gs(&out, 40, &[]).output().unwrap();
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("already holds a completed run"),
        "{}",
        stderr(&again)
    );
    let o = gs(&out, 40, &["--overwrite"]).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(out.join("fields/notes.txt")).unwrap(),
        "mine"
    );
    assert!(out.join("README.txt").exists());
    std::fs::remove_dir_all(&out).unwrap();

    let foreign = tmp("foreign");
    std::fs::create_dir_all(foreign.join("fields")).unwrap();
    std::fs::write(foreign.join("timeseries.csv"), "a,b\n1,2\n").unwrap();
    std::fs::write(foreign.join("fields/x.npy"), "not ours").unwrap();
    let o = gs(&foreign, 40, &["--overwrite"]).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    let msg = stderr(&o);
    assert!(
        msg.contains("no status.json") && msg.contains("timeseries.csv"),
        "{msg}"
    );
    assert_eq!(
        std::fs::read_to_string(foreign.join("timeseries.csv")).unwrap(),
        "a,b\n1,2\n"
    );
    assert!(foreign.join("fields/x.npy").exists());
    std::fs::remove_dir_all(&foreign).unwrap();
}

/// SIGTERM and Ctrl-C (SIGINT) stop a run at a step boundary: exit 130, a message saying so,
/// the folder marked `interrupted` with the model time, every file written so far readable, no
/// summary; a rerun is refused with the reason. kill -9 leaves `running`, reported as a run
/// that stopped without finishing.
#[test]
fn interrupted_runs_say_so() {
    for sig in ["TERM", "INT"] {
        let out = tmp(&format!("sig{sig}"));
        let child = gs(&out, 2_000_000, &["--set", "output.every_steps=2000"])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        wait_for(&out.join("timeseries.csv"), 60);
        signal(&child, sig);
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
        assert!(
            stderr(&o).contains("interrupted at model time"),
            "{}",
            stderr(&o)
        );
        let st = status(&out);
        assert_eq!(st["state"], "interrupted", "{st}");
        assert!(st["reason"].as_str().unwrap().contains("model time"));
        assert!(!out.join("summary.json").exists());
        let csv = std::fs::read_to_string(out.join("timeseries.csv")).unwrap();
        assert!(csv.lines().count() >= 2 && csv.ends_with('\n'), "{csv}");
        for e in std::fs::read_dir(out.join("fields")).unwrap() {
            let p = e.unwrap().path();
            assert!(
                dorsalhorn::output::read_npy(&std::fs::read(&p).unwrap()).is_some(),
                "{} is not a complete NPY file",
                p.display()
            );
        }
        let again = gs(&out, 40, &[]).output().unwrap();
        assert_eq!(again.status.code(), Some(1));
        assert!(
            stderr(&again).contains("an interrupted run"),
            "{}",
            stderr(&again)
        );
        std::fs::remove_dir_all(&out).unwrap();
    }

    let out = tmp("kill9");
    let mut child = gs(&out, 2_000_000, &["--set", "output.every_steps=2000"])
        .spawn()
        .unwrap();
    wait_for(&out.join("timeseries.csv"), 60);
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(status(&out)["state"], "running");
    let again = gs(&out, 40, &[]).output().unwrap();
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("stopped without finishing"),
        "{}",
        stderr(&again)
    );
    let o = gs(&out, 40, &["--overwrite"]).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::remove_dir_all(&out).unwrap();
}

/// A dorsal-horn run stops at a transport step on SIGTERM too (the tissue's time loop).
#[test]
fn an_interrupted_tissue_run_is_marked() {
    let out = tmp("tissue-sig");
    let child = bin()
        .args(["run", "cfa_sham", "--quiet", "--out"])
        .arg(&out)
        .args(["--set", "tissue.spacing_um=80", "--set", "time.days=30"])
        .env("DORSALHORN_CACHE_DIR", "off")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for(&out.join("timeseries.csv"), 120);
    signal(&child, "TERM");
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    assert_eq!(status(&out)["state"], "interrupted");
    std::fs::remove_dir_all(&out).unwrap();
}

/// A scenario name names the folder out/<name>: paths and empty names are refused (exit 2,
/// naming the key), before any output is written.
#[test]
fn scenario_names_are_not_paths() {
    for (scenario, name) in [
        ("gray_scott", "../../x"),
        ("gray_scott", ""),
        ("cfa_sham", "a/b"),
        ("cfa_sham", ".hidden"),
    ] {
        let o = bin()
            .args(["check", scenario, "--set"])
            .arg(format!("name=\"{name}\""))
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{name:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("key `name`"), "{}", stderr(&o));
    }
}

/// A WGPU_ADAPTER_NAME that matches nothing is an adapter error (exit 3) listing the adapters,
/// not a panic inside wgpu.
#[test]
fn an_unknown_adapter_name_is_a_clear_error() {
    for args in [&["info"][..], &["run", "gray_scott", "--quiet"][..]] {
        let o = bin()
            .args(args)
            .env("WGPU_ADAPTER_NAME", "no-such-gpu")
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(3), "{args:?}: {}", stderr(&o));
        let msg = stderr(&o);
        assert!(msg.contains("matches none of the adapters"), "{msg}");
        assert!(!msg.contains("panicked"), "{msg}");
    }
}

/// A --set key path 30 000 segments deep, a value nested as deep, or a malformed index is refused
/// (exit 2), not a stack overflow or a panic; the message stays short.
#[test]
fn absurd_key_paths_and_values_are_refused() {
    let deep_key = format!("{}=1", vec!["a"; 30_000].join("."));
    let deep_value = format!("grid.size={}1{}", "[".repeat(30_000), "]".repeat(30_000));
    // Found by tests/it/fuzz.rs: a stray `]` after an index used to panic.
    for spec in [deep_key, deep_value, "grid.size[0]]=0".to_string()] {
        let o = bin()
            .args(["check", "gray_scott", "--set", &spec])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).len() < 2000, "message too long");
    }
}

/// On a headless machine without XDG_RUNTIME_DIR a successful GPU command prints nothing that
/// starts with "error" (the driver's Wayland probe used to).
#[test]
fn a_clean_run_prints_no_error_lines() {
    let out = tmp("quiet");
    let o = gs(&out, 40, &[])
        .env_remove("XDG_RUNTIME_DIR")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        !stderr(&o).lines().any(|l| l.starts_with("error")),
        "{}",
        stderr(&o)
    );
    std::fs::remove_dir_all(&out).unwrap();
}

/// Parameter edits outside an entry's physical range are input errors (exit 2) naming the key,
/// the value and the range, before any GPU work: the negative diffusivity, a zero
/// anatomical size.
#[test]
fn parameter_edits_outside_their_range_are_refused() {
    for (set, key, range) in [
        ("D_IL1b=-1450", "D_IL1b", "[0, inf)"),
        ("rat_A=0", "rat_A", "(0, inf)"),
        ("alpha_grey=1.5", "alpha_grey", "(0, 1]"),
        ("lambda_IL6=0.5", "lambda_IL6", "[1, inf)"),
        ("rat_d_IIo=10", "rat_d_IIo", "must be smaller than"),
        ("mouse_VI_depth=500", "mouse_VI_depth", "domain_below_yc"),
    ] {
        let o = bin()
            .args(["check", "cfa_sham"])
            .env("DORSALHORN_PARAM_SET", set)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{set}: {}", stderr(&o));
        let msg = stderr(&o);
        assert!(msg.contains(key) && msg.contains(range), "{msg}");
    }
}

/// Protocol nonsense in a dorsal-horn scenario is refused (exit 2, naming the key): EA without
/// acupoints, a frequency for manual acupuncture, a dose after the run ends.
#[test]
fn protocol_nonsense_is_refused() {
    for (sets, key) in [
        (&["ea=[{ days = [1], points = [] }]"][..], "ea[0].points"),
        (
            &["ea=[{ days = [1], mode = \"manual\", frequency_hz = -5 }]"][..],
            "ea[0].frequency_hz",
        ),
        (
            &[
                "time.days=2",
                "dose=[{ drug = \"minocycline\", days = [2], at_h = 3 }]",
            ][..],
            "dose[0].days",
        ),
    ] {
        let mut c = bin();
        c.args(["check", "cfa_sham"]);
        for s in sets {
            c.args(["--set", s]);
        }
        let o = c.output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{sets:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(key), "{}", stderr(&o));
    }
}

/// A finding whose check reads an arm after its end, or whose arm names a missing scenario
/// file, is an error in the finding file (exit 2 naming the file and the key), not a finding
/// "not reproduced".
#[test]
fn bad_findings_are_input_errors() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("validation");
    let v13 = std::fs::read_to_string(root.join("V13.toml")).unwrap();
    for (edit, expect) in [
        (
            v13.replace("window_h = [120.0, 168.0]", "window_h = [120.0, 400.0]"),
            "after its end",
        ),
        (
            v13.replacen(
                "scenario = \"arms/snl.toml\"",
                "scenario = \"arms/nope.toml\"",
                1,
            ),
            "arms.cci.scenario",
        ),
    ] {
        let dir = tmp("findings");
        std::fs::create_dir_all(dir.join("arms")).unwrap();
        for e in std::fs::read_dir(root.join("arms")).unwrap() {
            let p = e.unwrap().path();
            std::fs::copy(&p, dir.join("arms").join(p.file_name().unwrap())).unwrap();
        }
        std::fs::write(dir.join("V13.toml"), edit).unwrap();
        let o = bin()
            .args(["validate", "--list", "--dir"])
            .arg(&dir)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(
            stderr(&o).contains("V13.toml") && stderr(&o).contains(expect),
            "{}",
            stderr(&o)
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// `check` judges the whole explicit step, reaction included: the step, stable for
/// diffusion (D·dt/dx² = 0.016) but 300× past the reaction's limit, is refused (exit 2) with a
/// step that would do; the default step passes.
#[test]
fn check_counts_the_reaction_in_the_step() {
    let o = bin()
        .args(["check", "gray_scott", "--set", "grid.size=[32,32]"])
        .args(["--set", "grid.spacing_um=100", "--set", "time.dt_s=1000"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let msg = stderr(&o);
    assert!(
        msg.contains("once its reaction is counted") && msg.contains("dt_s ≤"),
        "{msg}"
    );
    let o = bin().args(["check", "gray_scott"]).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("whole step"));
}

/// `validate` stops on SIGTERM too: exit 130, its folder marked `interrupted`.
#[test]
fn an_interrupted_validation_is_marked() {
    let out = tmp("validate-sig");
    let child = bin()
        .args(["validate", "--only", "V4", "--grid", "80", "-q", "--out"])
        .arg(&out)
        .env("DORSALHORN_CACHE_DIR", "off")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for(&out.join("status.json"), 60);
    signal(&child, "TERM");
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    let st = status(&out);
    assert_eq!(st["state"], "interrupted", "{st}");
    assert_eq!(st["dorsalhorn"], "validate");
    assert!(!out.join("validation.md").exists());
    std::fs::remove_dir_all(&out).unwrap();
}
