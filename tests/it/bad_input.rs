//! The bad-input corpus (issue 21): each case is a command a careless user could type, with the
//! exit code it must end with and the words its message must contain (the key, the value or
//! the option it is about). No case may panic. Scenario cases use `check`, which reads and
//! judges a scenario without a GPU run; a few use `run` or `validate --list` where that is the
//! code path.

use std::path::PathBuf;
use std::process::Command;

struct Case {
    args: Vec<String>,
    env: Vec<(&'static str, &'static str)>,
    code: i32,
    says: Vec<&'static str>,
}

fn set(scenario: &str, sets: &[&str], code: i32, says: &[&'static str]) -> Case {
    let mut args = vec!["check".to_string(), scenario.to_string()];
    for s in sets {
        args.push("--set".into());
        args.push(s.to_string());
    }
    Case {
        args,
        env: vec![],
        code,
        says: says.to_vec(),
    }
}

fn cli(args: &[&str], code: i32, says: &[&'static str]) -> Case {
    Case {
        args: args.iter().map(|s| s.to_string()).collect(),
        env: vec![],
        code,
        says: says.to_vec(),
    }
}

fn param(edit: &'static str, says: &[&'static str]) -> Case {
    Case {
        args: vec!["check".into(), "cfa_sham".into()],
        env: vec![("DORSALHORN_PARAM_SET", edit)],
        code: 2,
        says: says.to_vec(),
    }
}

#[expect(clippy::too_many_lines, reason = "the corpus: one row per bad input")]
fn corpus() -> Vec<Case> {
    let gs = |sets: &[&str], says: &[&'static str]| set("gray_scott", sets, 2, says);
    let dh = |sets: &[&str], says: &[&'static str]| set("cfa_sham", sets, 2, says);
    vec![
        // Engine scenarios: grid, time, model, species, output, format.
        gs(&["grid.size=[2,2]"], &["grid.size"]),
        gs(&["grid.size=[3]"], &["grid.size"]),
        gs(&["grid.size=\"big\""], &["grid.size"]),
        gs(&["grid.size=[16384,16384]"], &["grid.size", "cells"]),
        gs(&["grid.spacing_um=0"], &["spacing_um"]),
        gs(&["grid.spacing_um=-1"], &["spacing_um"]),
        gs(&["grid.spacing_um=nan"], &["spacing_um"]),
        gs(&["grid.boundary.x_min=\"sticky\""], &["x_min", "sticky"]),
        gs(&["time.dt_s=0"], &["dt_s"]),
        gs(&["time.dt_s=-1"], &["dt_s"]),
        gs(&["time.dt_s=2"], &["dt_s", "0.32"]),
        gs(
            &["grid.size=[32,32]", "grid.spacing_um=100", "time.dt_s=1000"],
            &["dt_s", "reaction"],
        ),
        gs(&["time.steps=0"], &["steps"]),
        gs(&["time.steps=-5"], &["steps"]),
        gs(&["model.kind=\"brusselator\""], &["kind", "brusselator"]),
        gs(&["model.feed=-0.1"], &["feed"]),
        gs(&["model.kill=nan"], &["kill"]),
        gs(&["species.u.diffusivity_um2_s=-1"], &["diffusivity"]),
        gs(&["species[0].initial=nan"], &["initial"]),
        gs(&["species[5].initial=1"], &["species"]),
        gs(&["output.every_steps=0"], &["every_steps"]),
        gs(&["output.colormap=\"rainbowz\""], &["colormap", "rainbowz"]),
        gs(&["checks.every_steps=0"], &["every_steps"]),
        gs(&["grid.sise=[3,3]"], &["sise"]),
        gs(&["format_version=99"], &["format_version"]),
        gs(&["name=\"../x\""], &["name"]),
        gs(&["name=\"\""], &["name"]),
        // The --set syntax itself.
        gs(&["=1"], &["key path"]),
        gs(&["grid..size=1"], &["empty segment"]),
        gs(&["grid.size[x]=1"], &["not an index"]),
        gs(&["grid.size[0=1"], &["unclosed"]),
        gs(&["noequals"], &["KEY.PATH=VALUE"]),
        gs(&["grid.size=[200,"], &["not valid TOML"]),
        gs(&["grid.size[0]]=0"], &["after an index"]),
        // Dorsal-horn scenarios: tissue, time, pain, EA, doses, drugs, boluses, output.
        dh(&["tissue.spacing_um=0"], &["spacing_um"]),
        dh(&["tissue.spacing_um=1000"], &["spacing_um"]),
        dh(&["tissue.animal=\"horse\""], &["animal", "horse"]),
        dh(&["tissue.sise=1"], &["sise"]),
        dh(&["time.days=0"], &["days"]),
        dh(&["time.days=1000"], &["days"]),
        dh(&["pain.model=\"toothache\""], &["model", "toothache"]),
        dh(&["pain.onset_h=-1"], &["onset_h"]),
        dh(&["ea=[{ days = [] }]"], &["ea[0].days"]),
        dh(
            &["ea=[{ days = [1], points = [\"LI4x\"] }]"],
            &["points", "LI4x"],
        ),
        dh(&["ea=[{ days = [1], points = [] }]"], &["ea[0].points"]),
        dh(
            &["ea=[{ days = [1], mode = \"random\" }]"],
            &["mode", "random"],
        ),
        dh(
            &["ea=[{ days = [1], frequency_hz = 0 }]"],
            &["frequency_hz"],
        ),
        dh(
            &["ea=[{ days = [1], frequency_hz = 1000 }]"],
            &["frequency_hz"],
        ),
        dh(
            &["ea=[{ days = [1], mode = \"manual\", frequency_hz = 2 }]"],
            &["frequency_hz", "manual"],
        ),
        dh(
            &["ea=[{ days = [1], intensity_ma = -1 }]"],
            &["intensity_ma"],
        ),
        dh(
            &["ea=[{ days = [1], duration_min = 0 }]"],
            &["duration_min"],
        ),
        dh(&["ea=[{ days = [1], start_h = 30 }]"], &["start_h"]),
        dh(&["ea=[{ days = [100] }]"], &["ea[0].days"]),
        dh(&["ea=[{ days = [1] }, { days = [1] }]"], &["overlap"]),
        dh(&["dose=[{ drug = \"aspirinx\" }]"], &["drug", "aspirinx"]),
        dh(
            &["dose=[{ drug = \"minocycline\", route = \"oral\" }]"],
            &["route", "oral"],
        ),
        dh(
            &["dose=[{ drug = \"minocycline\", u_max = 2 }]"],
            &["u_max"],
        ),
        dh(
            &["dose=[{ drug = \"minocycline\", route = \"infusion\" }]"],
            &["duration_h"],
        ),
        dh(
            &["dose=[{ drug = \"minocycline\", duration_h = 2 }]"],
            &["duration_h"],
        ),
        dh(&["dose=[{ drug = \"minocycline\", at_h = -1 }]"], &["at_h"]),
        // Doses in the papers' units (MODEL.md §11.3).
        dh(
            &["dose=[{ drug = \"minocycline\", route = \"ip\", dose = 40 }]"],
            &["dose[0].unit", "mg/kg"],
        ),
        dh(
            &["dose=[{ drug = \"minocycline\", route = \"ip\", dose = 40, unit = \"ug\" }]"],
            &["dose[0].unit", "ug", "mg/kg"],
        ),
        dh(
            &[
                "dose=[{ drug = \"minocycline\", route = \"ip\", dose = 40, unit = \"mg/kg\", u_max = 0.5 }]",
            ],
            &["dose[0].dose", "not both"],
        ),
        dh(
            &["dose=[{ drug = \"sb203580\", route = \"ip\", dose = 10, unit = \"mg/kg\" }]"],
            &["dose[0].dose", "sb203580_ED50_sys", "u_max"],
        ),
        dh(
            &["dose=[{ drug = \"minocycline\", route = \"ip\", dose = -4, unit = \"mg/kg\" }]"],
            &["dose[0].dose", "-4"],
        ),
        dh(
            &[
                "dose=[{ drug = \"minocycline\", route = \"infusion\", duration_h = 2, dose = 4, unit = \"mg/kg\" }]",
            ],
            &["dose[0].dose", "infusion", "u_max"],
        ),
        dh(
            &["dose=[{ drug = \"minocycline\", unit = \"mg/kg\" }]"],
            &["dose[0].unit", "dose"],
        ),
        dh(
            &[
                "time.days=2",
                "dose=[{ drug = \"minocycline\", days = [2], at_h = 3 }]",
            ],
            &["dose[0].days", "end of the run"],
        ),
        dh(&["drugs.minocyclinex=1"], &["minocyclinex"]),
        dh(&["drugs.minocycline=2"], &["drugs.minocycline"]),
        dh(&["bolus=[{ drug = \"naloxone\", at_h = -1 }]"], &["at_h"]),
        dh(
            &["bolus=[{ drug = \"heroin\", at_h = 1 }]"],
            &["drug", "heroin"],
        ),
        dh(&["output.every_h=0"], &["every_h"]),
        dh(
            &["output.figure_fields=[\"M\",\"Mx\"]"],
            &["output.figure_fields", "Mx"],
        ),
        dh(
            &["output.figure_fields=[]"],
            &["output.figure_fields", "1 to 9"],
        ),
        dh(&["output.figure_layout=\"1x2\""], &["figure_layout", "1x2"]),
        dh(
            &["output.figure_size=[100000, 10]"],
            &["figure_size", "100000", "8192"],
        ),
        dh(
            &["output.figure_size=[800]"],
            &["figure_size", "[width, height]"],
        ),
        dh(
            &["output.figure_range={ Q = [0, 1] }"],
            &["output.figure_range.Q", "figure_fields"],
        ),
        dh(
            &["output.figure_range={ M = [1, 0] }"],
            &["output.figure_range.M", "low < high"],
        ),
        dh(
            &["output.figure_range={ M = \"auto\" }"],
            &["output.figure_range.M", "auto", "run"],
        ),
        dh(&["output.figure_theme=\"neon\""], &["figure_theme", "neon"]),
        dh(&["output.movie=\"avi\""], &["output.movie", "avi", "gif"]),
        dh(&["output.movie_fps=0"], &["movie_fps", "1 ≤"]),
        dh(
            &["output.figures=false", "output.movie=\"gif\""],
            &["output.movie", "output.figures = false"],
        ),
        dh(&["output.figure_every_h=0"], &["figure_every_h"]),
        dh(&["name=\"a/b\""], &["name"]),
        dh(&["time.transport=\"magic\""], &["transport", "magic"]),
        dh(&["time.settle=\"later\""], &["settle", "later"]),
        // Parameter edits (DORSALHORN_PARAM_SET).
        param("D_IL1b=-1450", &["D_IL1b", "[0, inf)"]),
        param("rat_A=0", &["rat_A", "(0, inf)"]),
        param("alpha_grey=2", &["alpha_grey", "(0, 1]"]),
        param("rat_d_IIo=10", &["rat_d_IIo", "smaller"]),
        param("nosuchkey=1", &["nosuchkey", "not a parameter key"]),
        param("K_DM=abc", &["K_DM", "not a finite number"]),
        param("K_DM", &["KEY=VALUE"]),
        param("K_DM=inf", &["K_DM", "finite"]),
        // Options and files.
        cli(&["validate", "--list", "--jobs", "0"], 2, &["--jobs"]),
        cli(&["validate", "--list", "--grid", "500"], 2, &["500"]),
        cli(
            &[
                "validate",
                "--only",
                "V999",
                "--out",
                "/tmp/dorsalhorn-bad-v999",
            ],
            2,
            &["--only", "V999"],
        ),
        cli(
            &["validate", "--list", "--only", "V999"],
            2,
            &["--only", "V999"],
        ),
        cli(&["check", "nosuchscenario"], 2, &["nosuchscenario"]),
        cli(
            &["check", "/tmp/dorsalhorn-no-such-file.toml"],
            2,
            &["dorsalhorn-no-such-file.toml"],
        ),
        cli(
            &["run", "gray_scott", "--set", "time.steps=0"],
            2,
            &["steps"],
        ),
        cli(
            &["anatomy", "--species", "horse", "--out", "/tmp/x.png"],
            2,
            &["horse"],
        ),
        cli(&["frobnicate"], 2, &["frobnicate"]),
        // Sweeps and plots.
        cli(
            &["sweep", "cfa_sham", "--vary", "ea", "--out", "/tmp/x"],
            2,
            &["--vary ea", "KEY.PATH=V1,V2"],
        ),
        cli(
            &[
                "sweep",
                "cfa_sham",
                "--vary",
                "time.days=1,2",
                "--out",
                "/tmp/x",
                "--batch",
                "0",
            ],
            2,
            &["--batch", "`0`", "auto"],
        ),
        cli(
            &[
                "sweep",
                "cfa_sham",
                "--vary",
                "time.days=1:2:x",
                "--out",
                "/tmp/x",
            ],
            2,
            &["START:STOP:COUNT"],
        ),
        cli(
            &[
                "sweep",
                "cfa_sham",
                "--vary",
                "tissue.spacing_um=40,0",
                "--out",
                "/tmp/x",
            ],
            2,
            &["sweep member 2", "tissue.spacing_um=0", "spacing_um"],
        ),
        cli(
            &[
                "sweep",
                "cfa_sham",
                "--vary",
                "time.days=1,2",
                "--shard",
                "3/2",
                "--out",
                "/tmp/x",
            ],
            2,
            &["--shard", "3/2"],
        ),
        cli(
            &[
                "run",
                "cfa_sham",
                "--checkpoint-every",
                "10",
                "--out",
                "/tmp/x",
            ],
            2,
            &["--checkpoint-every", "`10`", "s, min or h"],
        ),
        cli(
            &["sweep", "cfa_sham", "--vary", "time.days=1,2"],
            2,
            &["--out"],
        ),
        cli(
            &[
                "sweep",
                "cfa_sham",
                "--vary",
                "time.days=1,2",
                "--at-days",
                "5",
                "--out",
                "/tmp/x",
            ],
            2,
            &["--at-days", "5"],
        ),
        cli(
            &["plot", "somewhere", "--out", "x.jpg"],
            2,
            &["--out", "x.jpg", ".svg"],
        ),
        cli(
            &["plot", "/nonexistent/run", "--out", "x.svg"],
            1,
            &["/nonexistent/run", "no such run folder"],
        ),
        Case {
            args: vec!["info".into()],
            env: vec![("WGPU_ADAPTER_NAME", "no-such-gpu")],
            code: 3,
            says: vec!["no-such-gpu", "matches none"],
        },
    ]
}

/// Finding files with one defect each, loaded by `validate --list --dir`.
fn finding_cases() -> Vec<(String, Vec<&'static str>)> {
    let v13 = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("validation/V13.toml"),
    )
    .unwrap();
    vec![
        (
            v13.replace("id = \"V13\"", "id = \"V14\""),
            vec!["id", "V14"],
        ),
        (
            v13.replace("window_h = [120.0, 168.0]", "window_h = [120.0, 400.0]"),
            vec!["after its end"],
        ),
        (
            v13.replacen(
                "scenario = \"arms/snl.toml\"",
                "scenario = \"arms/nope.toml\"",
                1,
            ),
            vec!["arms.cci.scenario"],
        ),
        (
            v13.replacen("kind = \"range\"", "kind = \"sideways\"", 1),
            vec!["kind", "sideways"],
        ),
        (
            v13.replacen("arm = \"anti\"", "arm = \"ghost\"", 1),
            vec!["ghost"],
        ),
        (
            v13.replacen("quantity = \"P_mech\"", "quantity = \"P_wow\"", 1),
            vec!["P_wow"],
        ),
        (
            v13.replacen("window_h = [24.0, 48.0]", "window_h = [48.0, 24.0]", 1),
            vec!["window_h"],
        ),
        (
            v13.replacen("[arms.anti.with.pain]", "[arms.anti.with.pane]", 1),
            vec!["pane"],
        ),
        (
            v13.replace("[arms.cci]", "[arms.\"../../x\"]")
                .replace("[arms.cci.", "[arms.\"../../x\"."),
            vec!["arms.../../x", "arm name"],
        ),
    ]
}

fn stderr_of(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn every_bad_input_fails_cleanly_and_names_the_problem() {
    let cases = corpus();
    let mut failures = Vec::new();
    for c in &cases {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_dorsalhorn"));
        cmd.current_dir(env!("CARGO_MANIFEST_DIR")).args(&c.args);
        for (k, v) in &c.env {
            cmd.env(k, v);
        }
        let o = cmd.output().expect("spawn dorsalhorn");
        let msg = stderr_of(&o);
        let ok = o.status.code() == Some(c.code)
            && c.says.iter().all(|w| msg.contains(w))
            && !msg.contains("panicked");
        if !ok {
            failures.push(format!(
                "{:?} {:?}: exit {:?} (want {}), stderr: {}",
                c.env,
                c.args,
                o.status.code(),
                c.code,
                msg.trim()
            ));
        }
    }
    let mut n = cases.len();
    // Finding files.
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("validation");
    for (k, (text, says)) in finding_cases().into_iter().enumerate() {
        n += 1;
        let dir = std::env::temp_dir().join(format!("dorsalhorn-bad-{}-{k}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("arms")).unwrap();
        for e in std::fs::read_dir(root.join("arms")).unwrap() {
            let p = e.unwrap().path();
            std::fs::copy(&p, dir.join("arms").join(p.file_name().unwrap())).unwrap();
        }
        std::fs::write(dir.join("V13.toml"), text).unwrap();
        let o = Command::new(env!("CARGO_BIN_EXE_dorsalhorn"))
            .args(["validate", "--list", "--dir"])
            .arg(&dir)
            .output()
            .unwrap();
        let msg = stderr_of(&o);
        if o.status.code() != Some(2) || !says.iter().all(|w| msg.contains(w)) {
            failures.push(format!(
                "finding case {k}: exit {:?}, stderr: {}",
                o.status.code(),
                msg.trim()
            ));
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
    eprintln!("{n} bad inputs, {} failures", failures.len());
    assert!(n >= 80, "the corpus has {n} cases, fewer than 80");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
