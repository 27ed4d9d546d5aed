//! The `dorsalhorn` binary as a user runs it: outputs of a good run, exit codes and messages of
//! bad input, a machine without an adapter, unwritable folders and numerical blow-up.

use dorsalhorn::output::read_npy;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_dorsalhorn"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("spawn dorsalhorn")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dorsalhorn-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

const SMALL: &[&str] = &[
    "--set",
    "grid.size=[70,50]",
    "--set",
    "time.steps=40",
    "--set",
    "output.every_steps=20",
];

fn small_run(out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "run",
        "gray_scott",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(SMALL);
    args.extend_from_slice(extra);
    run(&args)
}

#[test]
fn run_writes_every_output() {
    let out = tmp("good");
    let o = small_run(&out, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    for step in [0u64, 20, 40] {
        for s in ["u", "v"] {
            let npy = out.join(format!("fields/{s}_{step:08}.npy"));
            let ((ny, nx), data) = read_npy(&std::fs::read(&npy).unwrap()).expect("valid npy");
            assert_eq!((ny, nx), (50, 70), "{}", npy.display());
            assert!(data.iter().all(|v| v.is_finite()));
            let png = std::fs::read(out.join(format!("frames/{s}_{step:08}.png"))).unwrap();
            assert_eq!(&png[1..4], b"PNG");
        }
    }
    let csv = std::fs::read_to_string(out.join("timeseries.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "time_s,step,u_mean,u_min,u_max,v_mean,v_min,v_max"
    );
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(lines[3].starts_with("40,40,"));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["completed"], true);
    assert_eq!(summary["steps"], 40);
    assert_eq!(summary["resolved_scenario"]["grid"]["size"][0], 70);
    assert!(summary["adapter"]["name"].as_str().unwrap().len() > 1);
    // No temporary files are left behind.
    for sub in ["", "fields", "frames"] {
        for e in std::fs::read_dir(out.join(sub)).unwrap() {
            let n = e.unwrap().file_name().to_string_lossy().to_string();
            assert!(!n.contains(".tmp-"), "leftover temporary {n}");
        }
    }
    // A second run into the same folder is refused unless --overwrite.
    let again = small_run(&out, &[]);
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("--overwrite"), "{}", stderr(&again));
    let o = small_run(&out, &["--overwrite"]);
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::remove_dir_all(&out).unwrap();
}

/// Bad scenario input: exit code 2 and a message naming the key, the value and what is allowed.
#[test]
fn bad_input_names_the_key() {
    let cases: &[(&[&str], &[&str])] = &[
        (&["--set", "grid.sise=[3,3]"], &["sise", "unknown field"]),
        (
            &["--set", "grid.size=[2,50]"],
            &["grid.size[0]", "2", "3 ≤"],
        ),
        (
            &["--set", "grid.size=\"big\""],
            &["grid.size", "invalid type"],
        ),
        (
            &["--set", "time.dt_s=2.0"],
            &["time.dt_s", "unstable", "`u`", "dt_s ≤ 1.5625"],
        ),
        (
            &["--set", "model.kind=brusselator"],
            &["model.kind", "brusselator", "gray_scott"],
        ),
        (
            &["--set", "species.u.diffusivity_um2_s=-1"],
            &["species[0].diffusivity_um2_s", "-1"],
        ),
        (
            &["--set", "species.w.initial=1"],
            &["no entry named `w`", "u, v"],
        ),
        (
            &["--set", "grid.boundary.x_min=\"periodic\""],
            &["grid.boundary.x_max", "pairs"],
        ),
        (
            &["--set", "output.colormap=jet"],
            &["output.colormap", "viridis"],
        ),
        (&["--set", "format_version=7"], &["format_version", "7"]),
        (&["--set", "nonsense"], &["KEY.PATH=VALUE"]),
    ];
    for (extra, needles) in cases {
        let mut args = vec!["check", "gray_scott"];
        args.extend_from_slice(extra);
        let o = run(&args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {err}");
        for n in *needles {
            assert!(err.contains(n), "{extra:?}: message lacks `{n}`: {err}");
        }
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn bad_scenario_file_names_the_file_and_key() {
    let dir = tmp("badfile");
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("bad.toml");
    let text = std::fs::read_to_string("examples/scenarios/gray_scott.toml")
        .unwrap()
        .replace("kill = 0.065", "kill = 0.065\ncolour = 3");
    std::fs::write(&f, text).unwrap();
    let o = run(&["check", f.to_str().unwrap()]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("bad.toml") && err.contains("model") && err.contains("colour"),
        "{err}"
    );
    std::fs::write(&f, "format_version = 1\n[grid\n").unwrap();
    let o = run(&["check", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not valid TOML"), "{}", stderr(&o));
    let o = run(&["run", "no/such/file.toml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("not a built-in scenario"),
        "{}",
        stderr(&o)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn check_prints_stability_numbers() {
    let o = run(&["check", "gray_scott"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        text.contains("0.1600; whole step 1.627 (limit 2) stable")
            && text.contains("0.0800; whole step 0.852 (limit 2) stable"),
        "{text}"
    );
    assert!(text.contains("ok: the scenario is valid"));
}

#[test]
fn info_lists_adapters_and_limits() {
    let o = run(&["info"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("adapter:") && text.contains("max_texture_dimension_2d"),
        "{text}"
    );
}

/// Without any driver the program says how to get one, with exit code 3, never a panic.
#[test]
fn no_adapter_is_a_clear_error() {
    let out = tmp("noadapter");
    let mut c = bin();
    c.env("VK_ICD_FILENAMES", "/nonexistent.json")
        .env("VK_DRIVER_FILES", "/nonexistent.json")
        .env("__EGL_VENDOR_LIBRARY_FILENAMES", "/nonexistent.json")
        .env("WGPU_BACKEND", "vulkan")
        .args([
            "run",
            "gray_scott",
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ]);
    let o = c.output().unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(
        err.contains("no GPU adapter") && err.contains("mesa-vulkan-drivers"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn grid_beyond_device_limits_is_refused() {
    let out = tmp("toolarge");
    let o = run(&[
        "run",
        "gray_scott",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
        "--set",
        "grid.size=[8,40000]",
        "--set",
        "time.steps=1",
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(
        err.contains("too large for the device") && err.contains("40000"),
        "{err}"
    );
    let o = run(&["check", "gray_scott", "--set", "grid.size=[60000,60000]"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("2^26"), "{}", stderr(&o));
}

#[test]
fn unwritable_output_folder_is_a_clear_error() {
    let o = run(&[
        "run",
        "gray_scott",
        "--quiet",
        "--out",
        "/proc/dorsalhorn-out",
        "--set",
        "time.steps=1",
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("/proc/dorsalhorn-out") && err.contains("--out"),
        "{err}"
    );
}

/// A negative fixed boundary value drives u below zero: reported with species, cell and time.
#[test]
fn blow_up_is_reported_with_species_place_and_time() {
    let out = tmp("blowup");
    let o = small_run(
        &out,
        &[
            "--set",
            "grid.boundary.x_min={fixed=-1.0}",
            "--set",
            "checks.every_steps=5",
        ],
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert!(
        err.contains("species `u`") && err.contains("x = 0") && err.contains("step 5"),
        "{err}"
    );
    assert!(
        !out.join("summary.json").exists(),
        "a failed run must not look complete"
    );
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn bench_reports_rates() {
    let o = run(&[
        "bench",
        "--sizes",
        "64",
        "--steps",
        "10",
        "--repeats",
        "1",
        "--rounds",
        "1",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("adapter:") && text.contains("| 64 |"),
        "{text}"
    );
    let rate: f64 = text
        .lines()
        .find(|l| l.starts_with("| 64 |"))
        .and_then(|l| l.split('|').nth(2))
        .and_then(|v| v.trim().parse().ok())
        .expect("a rate in the table");
    assert!(rate > 0.0 && rate.is_finite());
}

#[test]
fn anatomy_draws_a_png_and_refuses_bad_values() {
    let out = tmp("anatomy");
    std::fs::create_dir_all(&out).unwrap();
    let f = out.join("rat.png");
    let o = run(&[
        "anatomy",
        "--spacing-um",
        "10",
        "--out",
        f.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(&std::fs::read(&f).unwrap()[1..4], b"PNG");
    let o = run(&["anatomy", "--species", "cat", "--out", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("rat, mouse"), "{}", stderr(&o));
    let o = run(&["anatomy", "--spacing-um", "0", "--out", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("0.5 ≤ spacing"), "{}", stderr(&o));
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn params_prints_the_table() {
    let o = run(&["params"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("k_M_plus") && text.contains("1/(6 h)") && text.contains("4.63e-5 1/s"),
        "{text}"
    );
}

#[test]
fn bench_refuses_bad_values() {
    for (args, needle) in [
        (&["bench", "--sizes", "0"][..], "--sizes"),
        (&["bench", "--steps", "0"][..], "--steps"),
        (&["bench", "--workgroup", "4096"][..], "workgroup"),
    ] {
        let o = run(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(needle) && !stderr(&o).contains("panicked"),
            "{}",
            stderr(&o)
        );
    }
}

/// The default (dorsal-horn) scenario validates and `check` describes it; bad values in a
/// dorsal-horn scenario name the key, the value and what is allowed (exit code 2).
#[test]
fn dorsal_horn_scenarios_check_and_refuse_bad_values() {
    let o = run(&["check"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("scenario: cfa_ea_2hz"), "{out}");
    assert!(out.contains("EA session: day 1.417"), "{out}");
    assert!(out.contains("pain model: Cfa"), "{out}");
    for (set, key, allowed) in [
        ("pain.model=arthritis", "pain.model", "cfa"),
        ("tissue.spacing_um=0.1", "tissue.spacing_um", "1 ≤"),
        ("ea[0].intensity_ma=-1", "ea[0].intensity_ma", "0 ≤"),
        ("ea[0].points=[\"LI4\"]", "ea[0].points", "ST36"),
        ("ea[0].days=[9]", "ea[0].days", "≤ 7"),
        ("drugs.aspirin=0.5", "drugs.aspirin", "minocycline"),
        ("drugs.minocycline=2", "drugs.minocycline", "≤ 1"),
        ("output.fields=[\"glutamate\"]", "output.fields", "IL1b"),
        ("tissue.colour=1", "colour", "unknown field"),
    ] {
        let o = run(&["check", "cfa_ea_2hz", "--set", set]);
        assert_eq!(o.status.code(), Some(2), "{set}: {}", stderr(&o));
        let e = stderr(&o);
        assert!(e.contains(key) && e.contains(allowed), "{set}: {e}");
    }
}

/// A dorsal-horn grid whose per-cell state exceeds the device's storage-buffer limit is refused
/// with exit code 3, the sizes and the key to change (lavapipe allows 128 MiB; 1 µm needs 328 MB).
#[test]
fn dorsal_horn_grid_beyond_device_limits_is_refused() {
    let out = tmp("big");
    let o = run(&[
        "run",
        "cfa_sham",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
        "--set",
        "tissue.spacing_um=1",
        "--set",
        "time.settle_days=0",
        "--set",
        "time.days=0.01",
    ]);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{e}");
    assert!(
        e.contains("tissue.spacing_um") && e.contains("too large"),
        "{e}"
    );
}

/// Piped into a log (stderr not a terminal), a run still reports its progress, as plain lines
/// (the first at once, then every 30 s), not a hidden or redrawn bar.
#[test]
fn piped_runs_print_progress_lines() {
    let out = tmp("piped");
    let mut args = vec!["run", "gray_scott", "--out", out.to_str().unwrap()];
    args.extend_from_slice(SMALL);
    let o = run(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    let line = err
        .lines()
        .find(|l| l.contains("/40 steps"))
        .unwrap_or_else(|| panic!("no progress line in: {err}"));
    assert!(!line.contains('\r'), "a redrawn bar, not a line: {line:?}");
    std::fs::remove_dir_all(&out).unwrap();
}

/// summary.json records where the numbers come from beyond the scenario: the command line, the
/// source revision and every parameter edited through DORSALHORN_PARAM_SET with its shipped
/// value, so that runs with different parameters never look alike.
#[test]
fn summary_records_provenance() {
    let out = tmp("provenance");
    let o = bin()
        .args(["run", "cfa_sham", "--quiet", "--out", out.to_str().unwrap()])
        .args(["--set", "tissue.spacing_um=80", "--set", "time.days=0.25"])
        .env("DORSALHORN_PARAM_SET", "L_TNF=2")
        .env("DORSALHORN_CACHE_DIR", "off")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let p = &summary["provenance"];
    assert!(
        p["command"]
            .as_str()
            .unwrap()
            .starts_with("dorsalhorn run cfa_sham"),
        "{p}"
    );
    assert!(!p["source_revision"].as_str().unwrap().is_empty(), "{p}");
    assert_eq!(p["param_set"], "L_TNF=2");
    assert_eq!(p["edited_parameters"][0]["key"], "L_TNF");
    assert_eq!(p["edited_parameters"][0]["value"], 2.0);
    assert_eq!(p["edited_parameters"][0]["shipped_value"], 1.0);
    assert_eq!(p["edited_parameters"].as_array().unwrap().len(), 1);
    std::fs::remove_dir_all(&out).unwrap();
}
