//! Batch work beyond one run (issue 22): `dorsalhorn plot` draws finished runs side by side
//! with their protocol marked; `dorsalhorn sweep` runs a Cartesian product, its sharded and
//! merged summary is byte for byte the unsharded one, and a sweep run again resumes, running
//! only the members not completed.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_dorsalhorn");
const FIXTURE: &str = "tests/data/figures_40um.toml";
/// Figures and movie off: these tests are about the time series.
const LEAN: [&str; 4] = [
    "--set",
    "output.figures=false",
    "--set",
    "output.movie=\"none\"",
];

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dorsalhorn-batch-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn dh(args: &[&str], cache: &Path) -> Output {
    Command::new(BIN)
        .args(args)
        .env("DORSALHORN_CACHE_DIR", cache)
        .env_remove("DISPLAY")
        .output()
        .unwrap()
}

fn ok(o: &Output) -> String {
    let stderr = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(o.status.success(), "{stderr}");
    stderr
}

#[test]
fn plot_draws_runs_side_by_side_as_svg_and_png() {
    let d = tmp("plot");
    let run = d.join("run");
    let r = run.to_str().unwrap();
    ok(&dh(
        &[&["run", FIXTURE, "--quiet", "--out", r][..], &LEAN[..]].concat(),
        &d.join("cache"),
    ));
    let svg = d.join("cmp.svg");
    let a = format!("{r}=first");
    let b = format!("{r}=second");
    ok(&dh(
        &[
            "plot",
            &a,
            &b,
            "--columns",
            "P_mech,M@I-II",
            "--out",
            svg.to_str().unwrap(),
        ],
        &d.join("cache"),
    ));
    let text = std::fs::read_to_string(&svg).unwrap();
    // Two panels × two runs; each run's EA session shaded in each panel; both in the legend.
    assert_eq!(text.matches("<polyline").count(), 4);
    assert_eq!(text.matches("fill-opacity=\"0.25\"").count(), 4);
    assert!(text.contains(">first<") && text.contains(">second<"));
    assert!(text.contains("M, laminae I-II"));
    // The plotted P_mech is the CSV's column.
    let csv = std::fs::read_to_string(run.join("timeseries.csv")).unwrap();
    assert_eq!(
        csv.lines().count(),
        1 + 7 + 6,
        "hourly rows over 6 h, and inside the 30-min session one every 5 min and its end"
    );

    let png = d.join("cmp.png");
    ok(&dh(
        &[
            "plot",
            r,
            "--out",
            png.to_str().unwrap(),
            "--size",
            "900x500",
        ],
        &d.join("cache"),
    ));
    let (w, h, rgb) = dorsalhorn::figure::movie::read_png(&png).unwrap();
    assert_eq!((w, h), (900, 500));
    let mut colours: Vec<[u8; 3]> = rgb.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect();
    colours.sort_unstable();
    colours.dedup();
    assert!(
        colours.len() > 50,
        "{} colours: a blank plot?",
        colours.len()
    );

    let bad = dh(
        &[
            "plot",
            r,
            "--columns",
            "P_mecj",
            "--out",
            svg.to_str().unwrap(),
        ],
        &d.join("cache"),
    );
    assert!(!bad.status.success());
    let msg = String::from_utf8_lossy(&bad.stderr);
    assert!(
        msg.contains("P_mecj") && msg.contains("NAME@REGION"),
        "{msg}"
    );
}

fn sweep(out: &Path, extra: &[&str], cache: &Path) -> String {
    let mut args = vec![
        "sweep",
        FIXTURE,
        "--vary",
        "ea[0].frequency_hz=2,100",
        "--vary",
        "ea[0].intensity_ma=0.5:2:2",
        "--metric",
        "P_heat,O_mudelta@I-II",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(&LEAN);
    args.extend_from_slice(extra);
    ok(&dh(&args, cache))
}

#[test]
fn a_sharded_sweep_merges_to_the_unsharded_summary_and_resumes() {
    let d = tmp("sweep");
    let cache = d.join("cache");
    let whole = d.join("whole");
    sweep(&whole, &[], &cache);
    let summary = std::fs::read_to_string(whole.join("summary.csv")).unwrap();
    let rows: Vec<&str> = summary.lines().collect();
    assert_eq!(
        rows[0],
        "member,folder,ea[0].frequency_hz,ea[0].intensity_ma,status,P_heat@day0.25,O_mudelta@I-II@day0.25"
    );
    assert_eq!(rows.len(), 5, "{summary}");
    assert!(rows[1].starts_with("1,members/m0001,2,0.5,completed,"));
    assert!(rows[4].starts_with("4,members/m0004,100,2.0,completed,"));
    // Each row's metric is the member's own last read-out.
    let last: Vec<String> = std::fs::read_to_string(whole.join("members/m0004/timeseries.csv"))
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .split(',')
        .map(String::from)
        .collect();
    let p_heat: f64 = rows[4].split(',').nth(5).unwrap().parse().unwrap();
    assert!((p_heat - last[3].parse::<f64>().unwrap()).abs() < 1e-5);
    assert!(whole.join("plots/outcomes.svg").exists());

    // Two shards into one folder, then merged: the same bytes.
    let sharded = d.join("sharded");
    sweep(&sharded, &["--shard", "1/2"], &cache);
    sweep(&sharded, &["--shard", "2/2"], &cache);
    assert!(!sharded.join("summary.csv").exists());
    ok(&dh(&["sweep", "merge", sharded.to_str().unwrap()], &cache));
    assert_eq!(
        std::fs::read_to_string(sharded.join("summary.csv")).unwrap(),
        summary
    );

    // A member whose run was killed is run again; the completed ones are kept.
    let status = whole.join("members/m0002/status.json");
    let text = std::fs::read_to_string(&status).unwrap();
    std::fs::write(&status, text.replace("\"completed\"", "\"interrupted\"")).unwrap();
    let log = sweep(&whole, &[], &cache);
    assert!(log.contains("1 run now, 3 completed earlier"), "{log}");
    assert_eq!(
        std::fs::read_to_string(whole.join("summary.csv")).unwrap(),
        summary
    );

    // The same folder with a different sweep is refused.
    let o = dh(
        &[
            "sweep",
            FIXTURE,
            "--vary",
            "ea[0].frequency_hz=15",
            "--out",
            whole.to_str().unwrap(),
        ],
        &cache,
    );
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("holds a different sweep"));
}

#[test]
fn run_from_replays_a_run_byte_for_byte_with_its_parameters() {
    let d = tmp("from");
    let cache = d.join("cache");
    let (a, b, c) = (d.join("a"), d.join("b"), d.join("c"));
    let run = |out: &Path, env: Option<&str>, extra: &[&str]| {
        let mut cmd = Command::new(BIN);
        cmd.arg("run")
            .args(extra)
            .args(["--quiet", "--out", out.to_str().unwrap()])
            .args(LEAN)
            .env("DORSALHORN_CACHE_DIR", &cache)
            .env_remove("DORSALHORN_PARAM_SET");
        if let Some(v) = env {
            cmd.env("DORSALHORN_PARAM_SET", v);
        }
        cmd.output().unwrap()
    };
    ok(&run(&a, Some("L_TNF=2"), &[FIXTURE]));
    ok(&run(&b, None, &[FIXTURE]));
    // The replay runs without the variable: the parameters come from the folder.
    ok(&run(&c, None, &["--from", a.to_str().unwrap()]));
    let read = |p: &Path| std::fs::read(p).unwrap();
    assert_eq!(
        read(&a.join("timeseries.csv")),
        read(&c.join("timeseries.csv")),
        "the replay's time series is the original's"
    );
    for f in std::fs::read_dir(a.join("fields")).unwrap().flatten() {
        assert_eq!(read(&f.path()), read(&c.join("fields").join(f.file_name())));
    }
    assert_ne!(
        read(&a.join("timeseries.csv")),
        read(&b.join("timeseries.csv")),
        "L_TNF=2 changes the run"
    );
    let edited = |p: &Path| -> serde_json::Value {
        let v: serde_json::Value = serde_json::from_slice(&read(&p.join("summary.json"))).unwrap();
        v["provenance"]["edited_parameters"].clone()
    };
    assert_eq!(edited(&a)[0]["key"], "L_TNF");
    assert_eq!(edited(&a)[0]["value"], 2.0);
    assert_eq!(edited(&b).as_array().unwrap().len(), 0);
    assert_eq!(edited(&c), edited(&a));
    // Replaying into the folder being replayed is refused.
    let o = run(&a, None, &["--from", a.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("the folder being replayed"));
}

/// A Python that can run `import {modules}`, or a panic naming the Debian `packages` that give
/// it (`.ci/run` installs python3-xarray, python3-scipy and python3-vtk9; VTK's
/// `vtkNetCDFCFReader` is the reader behind ParaView's "NetCDF files generic and CF conventions").
fn python_with(modules: &str, packages: &str) -> String {
    for py in ["python3", "/usr/bin/python3"] {
        let ok = Command::new(py)
            .args(["-c", &format!("import {modules}")])
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            return py.to_string();
        }
    }
    panic!("this test needs Python with {modules}: apt-get install {packages} (.ci/run does)");
}

/// `fields.nc` opens in xarray with its dimensions, coordinates, units, region legend and every
/// value of the NPY snapshots, and in VTK's CF reader (ParaView's) as image data on the 40 µm
/// grid, depth pointing down, with its 7 hourly time steps and the same values.
#[test]
fn fields_nc_opens_in_xarray_and_paraview_with_coordinates_and_units() {
    let d = tmp("nc");
    let out = d.join("run");
    ok(&dh(
        &[
            &["run", FIXTURE, "--quiet", "--out", out.to_str().unwrap()][..],
            &LEAN[..],
        ]
        .concat(),
        &d.join("cache"),
    ));
    let script = r#"
import sys, numpy as np, xarray as xr
run = sys.argv[1]
ds = xr.open_dataset(run + "/fields.nc")
assert list(ds["M"].dims) == ["time", "y", "x"], ds["M"].dims
assert list(ds.time.values) == [0, 1, 2, 3, 4, 5, 6], ds.time.values
assert ds.x.attrs["units"] == "um" and ds.y.attrs["units"] == "um" and ds.time.attrs["units"] == "h"
assert abs(float(ds.x[1] - ds.x[0]) - 40.0) < 1e-9 and abs(float(ds.x[0]) - 20.0) < 1e-9
assert ds["M"].attrs["units"] == "fraction 0–1", ds["M"].attrs
assert ds["IL1b"].attrs["units"] == "EC50 units", ds["IL1b"].attrs
for name in ["IL1b", "M", "ENK"]:
    for h in range(7):
        npy = np.load(f"{run}/fields/{name}_t{60 * h:06d}min.npy")
        assert np.array_equal(ds[name].sel(time=h).values, npy, equal_nan=True), (name, h)
regions = np.load(run + "/regions.npy")
assert np.array_equal(ds["region"].values, regions.astype(np.int8))
meanings = ds["region"].attrs["flag_meanings"].split()
assert meanings[1] == "lamina_I" and len(meanings) == 13, meanings
# Lamina I lies above lamina V in every column that has both.
depth = ds.y.values[:, None] * np.ones(ds.x.size)
assert depth[ds["region"].values == 1].mean() < depth[ds["region"].values == 6].mean()
print("ok")
"#;
    let vtk_script = r#"
import sys, numpy as np, vtk
from vtk.util.numpy_support import vtk_to_numpy
run = sys.argv[1]
r = vtk.vtkNetCDFCFReader()
r.SetFileName(run + "/fields.nc")
r.UpdateMetaData()
names = sorted(r.GetVariableArrayName(i) for i in range(r.GetNumberOfVariableArrays()))
assert names == ["ENK", "IL1b", "M", "region"], names
for n in names:
    r.SetVariableArrayStatus(n, 1)
r.SphericalCoordinatesOff()
r.Update()
times = r.GetOutputInformation(0).Get(vtk.vtkStreamingDemandDrivenPipeline.TIME_STEPS())
assert list(times) == [0, 1, 2, 3, 4, 5, 6], times
img = r.GetOutput()
assert img.IsA("vtkImageData"), img.GetClassName()
nx, ny, nz = img.GetDimensions()
assert (img.GetSpacing()[0], abs(img.GetSpacing()[1])) == (40.0, 40.0), img.GetSpacing()
assert img.GetSpacing()[1] < 0, "depth points down"
for h in [0, 3, 6]:
    r.UpdateTimeStep(float(h))
    data = r.GetOutput().GetPointData()
    for name in ["IL1b", "M", "ENK"]:
        got = vtk_to_numpy(data.GetArray(name)).reshape(ny, nx)
        npy = np.load(f"{run}/fields/{name}_t{60 * h:06d}min.npy")
        assert np.array_equal(got, npy, equal_nan=True), (name, h)
print("ok")
"#;
    for (py, code) in [
        (
            python_with("xarray, scipy", "python3-xarray python3-scipy"),
            script,
        ),
        (python_with("vtk", "python3-vtk9"), vtk_script),
    ] {
        let o = Command::new(py)
            .args(["-c", code, out.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(
            o.status.success() && String::from_utf8_lossy(&o.stdout).contains("ok"),
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

#[test]
fn overwriting_a_run_removes_its_figures_and_movie() {
    let d = tmp("overwrite");
    let out = d.join("run");
    let o = out.to_str().unwrap();
    ok(&dh(
        &["run", FIXTURE, "--quiet", "--out", o],
        &d.join("cache"),
    ));
    for f in [
        "movie.gif",
        "figures/fig_t000000min.png",
        "fields.nc",
        "scenario.toml",
    ] {
        assert!(out.join(f).exists(), "{f}");
    }
    // A leftover of a killed run at the top of the folder.
    std::fs::write(out.join(".figure-fields.tmp-1"), b"x").unwrap();
    ok(&dh(
        &[
            &["run", FIXTURE, "--quiet", "--overwrite", "--out", o][..],
            &LEAN[..],
        ]
        .concat(),
        &d.join("cache"),
    ));
    // The second run made no figures: nothing of the first run's may look like its own.
    assert!(!out.join("movie.gif").exists());
    assert!(!out.join("figures").exists());
    assert!(!out.join(".figure-fields.tmp-1").exists());
    assert!(out.join("fields.nc").exists() && out.join("provenance.json").exists());
}

#[test]
fn render_redraws_a_run_from_its_folder() {
    let d = tmp("render");
    let cache = d.join("cache");
    let run = d.join("run");
    let r = run.to_str().unwrap();
    ok(&dh(
        &[&["run", FIXTURE, "--quiet", "--out", r][..], &LEAN[..]].concat(),
        &cache,
    ));
    let out = d.join("light");
    let o = out.to_str().unwrap();
    let args = [
        "render",
        r,
        "--quiet",
        "--set",
        "output.figure_theme=\"light\"",
        "--set",
        "output.figure_fields=[\"M\"]",
        "--set",
        "output.figure_range={M=[0,1]}",
        "--set",
        "output.movie=\"gif\"",
        "--set",
        "output.figures=true",
        "--out",
        o,
    ];
    ok(&dh(&args, &cache));
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("render.json")).unwrap()).unwrap();
    // One figure per hourly snapshot, one panel, the fixed range, and the movie.
    assert_eq!(report["figures"].as_array().unwrap().len(), 7);
    assert_eq!(report["panels"].as_array().unwrap().len(), 1);
    assert_eq!(report["panels"][0]["range"], serde_json::json!([0.0, 1.0]));
    assert!(out.join("movie.gif").exists());
    // Light theme: the corner pixel is the light panel colour.
    let (_, _, rgb) =
        dorsalhorn::figure::movie::read_png(&out.join("figures/fig_t000360min.png")).unwrap();
    assert!(rgb[0] > 200, "a light background, got {}", rgb[0]);
    // Again into the same folder needs --overwrite; never into the run folder.
    let again = dh(&args, &cache);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--overwrite"));
    let mut into_run = args.to_vec();
    *into_run.last_mut().unwrap() = r;
    let o = dh(&into_run, &cache);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("the run folder"));
}

/// Every file of a run folder but its status and summary (which hold wall times and the
/// continuation), relative to `dir`, with its bytes.
fn run_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let rel = p.strip_prefix(dir).unwrap().display().to_string();
            if !["status.json", "summary.json", ".dorsalhorn.lock"].contains(&rel.as_str()) {
                out.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// A run in `cwd` into `cwd/run` (relative, so that the command line, which fields.nc and
/// provenance.json record, is the same in every folder).
fn run_in(cwd: &Path, extra: &[&str], cache: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(cwd)
        .arg("run")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE))
        .args(["--out", "run", "--quiet"])
        .args(extra)
        .env("DORSALHORN_CACHE_DIR", cache)
        .env_remove("DORSALHORN_PARAM_SET")
        .env_remove("DISPLAY");
    cmd
}

fn resume_in(cwd: &Path, cache: &Path) -> Output {
    Command::new(BIN)
        .current_dir(cwd)
        .args(["resume", "run", "--quiet"])
        .env("DORSALHORN_CACHE_DIR", cache)
        .env_remove("DORSALHORN_PARAM_SET")
        .env_remove("DISPLAY")
        .output()
        .unwrap()
}

/// Rows in a folder's timeseries.csv (0 before it exists).
fn rows(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("timeseries.csv")).map_or(0, |t| t.lines().count())
}

/// Starts `cmd`, waits until the run folder `dir` has `n` rows of timeseries.csv (and, with
/// `checkpoint`, a checkpoint), sends `signal` (`TERM`, `KILL`) and waits for the process.
fn stop_after_rows(
    cmd: &mut Command,
    dir: &Path,
    n: usize,
    checkpoint: bool,
    signal: &str,
) -> Output {
    let child = cmd.stderr(std::process::Stdio::piped()).spawn().unwrap();
    let start = std::time::Instant::now();
    while rows(dir) < n || (checkpoint && !dir.join("checkpoint.bin").exists()) {
        assert!(
            start.elapsed().as_secs() < 120,
            "{} did not reach {n} rows",
            dir.display()
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let sent = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(sent.success(), "kill -{signal}");
    child.wait_with_output().unwrap()
}

/// `run --checkpoint-every` then `resume` (issue 22, item 9): a run killed with SIGKILL at
/// whatever step it had reached (checkpoints after every step), and one stopped with SIGTERM
/// (a checkpoint at the stop, as a rule inside the EA session between two output times), each continued
/// with `dorsalhorn resume`, leave folders whose every file (time series, NPY and PNG
/// snapshots, composed figures, the movie, fields.nc, regions.npy, scenario and provenance) is
/// byte for byte that of the same run never stopped; the folder says the run completed, its
/// summary records the continuation, and no checkpoint or spill is left behind. The SIGTERM run
/// uses the RKL2 transport and a daily i.p. dose, the SIGKILL run the implicit transport (whose
/// history the checkpoint carries).
#[test]
fn a_stopped_run_resumes_byte_for_byte() {
    let d = tmp("resume");
    let cache = d.join("cache");
    let cases: [(&str, &[&str]); 2] = [
        (
            "KILL",
            &["--set", "time.days=0.5", "--checkpoint-every", "0s"],
        ),
        (
            "TERM",
            &[
                "--set",
                "time.days=0.5",
                "--set",
                "time.transport=\"rkl2\"",
                "--set",
                "dose=[{drug=\"minocycline\",route=\"ip\",u_max=0.8,at_h=1.0}]",
            ],
        ),
    ];
    for (signal, extra) in cases {
        let (whole, stopped) = (
            d.join(format!("whole-{signal}")),
            d.join(format!("stopped-{signal}")),
        );
        for c in [&whole, &stopped] {
            std::fs::create_dir_all(c).unwrap();
        }
        ok(&run_in(&whole, extra, &cache).output().unwrap());
        let run = stopped.join("run");
        // KILL after a periodic checkpoint; TERM inside the EA session at 2 h (session samples
        // every 5 min), where the stop writes the checkpoint.
        let kill = signal == "KILL";
        let o = stop_after_rows(
            &mut run_in(&stopped, extra, &cache),
            &run,
            if kill { 4 } else { 5 },
            kill,
            signal,
        );
        let status: serde_json::Value =
            serde_json::from_slice(&std::fs::read(run.join("status.json")).unwrap()).unwrap();
        if signal == "TERM" {
            assert_eq!(
                o.status.code(),
                Some(130),
                "{}",
                String::from_utf8_lossy(&o.stderr)
            );
            assert!(
                String::from_utf8_lossy(&o.stderr).contains("`dorsalhorn resume run` continues"),
                "{}",
                String::from_utf8_lossy(&o.stderr)
            );
            assert_eq!(status["state"], "interrupted");
            assert!(
                status["reason"]
                    .as_str()
                    .unwrap()
                    .contains("checkpoint written")
            );
        } else {
            assert_eq!(
                status["state"], "running",
                "a killed run never looks complete"
            );
        }
        assert!(!run.join("summary.json").exists());
        if kill {
            // A kill can land inside an atomic write: its temporaries must not survive the
            // resume (the file lists below are compared, hidden files included).
            std::fs::write(run.join(".checkpoint.bin.tmp-999999"), b"half").unwrap();
            std::fs::create_dir_all(run.join("fields")).unwrap();
            std::fs::write(run.join("fields/.M_t60min.npy.tmp-999999"), b"half").unwrap();
        }
        ok(&resume_in(&stopped, &cache));
        let (a, b) = (run_files(&whole.join("run")), run_files(&run));
        let names = |v: &[(String, Vec<u8>)]| v.iter().map(|f| f.0.clone()).collect::<Vec<_>>();
        assert_eq!(names(&a), names(&b), "{signal}: the same files");
        assert!(names(&a).contains(&"fields.nc".to_string()));
        assert!(names(&a).contains(&"movie.gif".to_string()));
        for ((name, x), (_, y)) in a.iter().zip(&b) {
            assert!(
                x == y,
                "{signal}: {name} differs from the uninterrupted run's"
            );
        }
        let summary: serde_json::Value =
            serde_json::from_slice(&std::fs::read(run.join("summary.json")).unwrap()).unwrap();
        assert_eq!(summary["completed"], true);
        assert_eq!(summary["resumed"].as_array().unwrap().len(), 1);
        assert!(summary["resumed"][0]["from_time_s"].as_f64().unwrap() > 0.0);
        let status: serde_json::Value =
            serde_json::from_slice(&std::fs::read(run.join("status.json")).unwrap()).unwrap();
        assert_eq!(status["state"], "completed");
    }
}

/// `resume` refuses what it cannot continue, saying why and what to do: a completed run, a
/// folder without a checkpoint, a damaged checkpoint, an edited scenario, a folder that is not
/// a run.
#[test]
fn resume_refuses_what_it_cannot_continue() {
    let d = tmp("resume-bad");
    let cache = d.join("cache");
    let says = |o: &Output, what: &str| {
        let e = String::from_utf8_lossy(&o.stderr).to_string();
        assert!(!o.status.success(), "{e}");
        assert!(e.contains(what), "expected `{what}` in: {e}");
    };
    ok(&run_in(&d, &["--set", "time.days=0.125"], &cache)
        .output()
        .unwrap());
    let run = d.join("run");
    says(&resume_in(&d, &cache), "nothing to resume");
    // A run stopped before its first checkpoint.
    let status = std::fs::read_to_string(run.join("status.json")).unwrap();
    std::fs::write(
        run.join("status.json"),
        status.replace("\"completed\"", "\"interrupted\""),
    )
    .unwrap();
    says(&resume_in(&d, &cache), "has no checkpoint.bin");
    // A checkpoint to spoil: stop a run with SIGTERM.
    std::fs::remove_dir_all(&run).unwrap();
    let o = stop_after_rows(&mut run_in(&d, &[], &cache), &run, 3, false, "TERM");
    assert_eq!(o.status.code(), Some(130));
    let ck = std::fs::read(run.join("checkpoint.bin")).unwrap();
    let scenario = std::fs::read_to_string(run.join("scenario.toml")).unwrap();
    std::fs::write(
        run.join("scenario.toml"),
        scenario.replace("days = 0.25", "days = 0.3"),
    )
    .unwrap();
    says(&resume_in(&d, &cache), "differ from those the run");
    std::fs::write(run.join("scenario.toml"), &scenario).unwrap();
    let mut bad = ck.clone();
    bad[100] ^= 0xff;
    std::fs::write(run.join("checkpoint.bin"), &bad).unwrap();
    says(&resume_in(&d, &cache), "checksum");
    std::fs::write(run.join("checkpoint.bin"), &ck).unwrap();
    ok(&resume_in(&d, &cache));
    says(
        &Command::new(BIN)
            .args(["resume", d.join("nowhere").to_str().unwrap()])
            .output()
            .unwrap(),
        "no provenance.json",
    );
}

/// A sweep stopped with SIGTERM inside a member continues that member from its checkpoint when
/// the command runs again, and its summary is the uninterrupted sweep's, byte for byte (members
/// one after another, `--batch 1`; the batched case is in
/// `sweep_members_side_by_side_give_the_bits_they_give_alone`).
#[test]
fn a_stopped_sweep_continues_its_member_from_the_checkpoint() {
    let d = tmp("sweep-resume");
    let cache = d.join("cache");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE);
    let sweep_in = |out: &Path| {
        let mut cmd = Command::new(BIN);
        cmd.args(["sweep"])
            .arg(&fixture)
            .args([
                "--vary",
                "ea[0].frequency_hz=2,100",
                "--batch",
                "1",
                "--out",
            ])
            .arg(out)
            .args(LEAN)
            .args(["--set", "time.days=0.5"])
            .env("DORSALHORN_CACHE_DIR", &cache)
            .env_remove("DORSALHORN_PARAM_SET")
            .env_remove("DISPLAY");
        cmd
    };
    let (whole, stopped) = (d.join("whole"), d.join("stopped"));
    ok(&sweep_in(&whole).output().unwrap());
    let member = stopped.join("members/m0002");
    let o = stop_after_rows(&mut sweep_in(&stopped), &member, 4, false, "TERM");
    assert_eq!(o.status.code(), Some(130));
    assert!(member.join("checkpoint.bin").exists());
    let log = ok(&sweep_in(&stopped).output().unwrap());
    assert!(
        log.contains("member 2/2 (ea[0].frequency_hz=100): continuing from its checkpoint"),
        "{log}"
    );
    assert!(log.contains("1 run now, 1 completed earlier"), "{log}");
    let read = |p: &Path| std::fs::read(p).unwrap();
    assert_eq!(
        read(&whole.join("summary.csv")),
        read(&stopped.join("summary.csv"))
    );
    assert_eq!(
        read(&whole.join("members/m0002/timeseries.csv")),
        read(&member.join("timeseries.csv"))
    );
    assert!(!member.join("checkpoint.bin").exists());
}

/// Sweep members run side by side as one GPU ensemble (issue 22, item 8) give, member by member,
/// the same bytes as the same members run one after another: every time series, every NPY
/// snapshot and the summary, with members that differ in a constant drug, a descending lesion
/// and the time of their EA session (two step schedules, so two ensembles of four), all with a
/// dose on top. A batched sweep stopped with SIGTERM checkpoints every member of the ensemble;
/// run again, each continues alone from its checkpoint to the same bytes.
#[test]
fn sweep_members_side_by_side_give_the_bits_they_give_alone() {
    let d = tmp("sweep-batch");
    let cache = d.join("cache");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE);
    let sweep_in = |out: &Path, batch: &str| {
        let mut cmd = Command::new(BIN);
        cmd.args(["sweep"])
            .arg(&fixture)
            .args(["--vary", "ea[0].start_h=1,2"])
            .args(["--vary", "drugs.mu_delta=0,0.7"])
            .args(["--vary", "descending.rvm_lesion=false,true"])
            .args(["--batch", batch, "--out"])
            .arg(out)
            .args(LEAN)
            .args(["--set", "time.days=0.125"])
            .args([
                "--set",
                "dose=[{drug = \"minocycline\", route = \"ip\", u_max = 0.8, at_h = 0.5}]",
            ])
            .env("DORSALHORN_CACHE_DIR", &cache)
            .env_remove("DORSALHORN_PARAM_SET")
            .env_remove("DISPLAY");
        cmd
    };
    let (alone, together, stopped) = (d.join("alone"), d.join("together"), d.join("stopped"));
    let log = ok(&sweep_in(&alone, "1").output().unwrap());
    assert!(!log.contains("side by side"), "{log}");
    let log = ok(&sweep_in(&together, "auto").output().unwrap());
    assert_eq!(
        log.matches("running side by side with 3 others").count(),
        8,
        "{log}"
    );
    let read = |p: &Path| std::fs::read(p).unwrap();
    let same_members = |a: &Path, b: &Path| {
        assert_eq!(read(&a.join("summary.csv")), read(&b.join("summary.csv")));
        for m in 1..=8 {
            let (ma, mb) = (
                a.join(format!("members/m{m:04}")),
                b.join(format!("members/m{m:04}")),
            );
            assert_eq!(
                read(&ma.join("timeseries.csv")),
                read(&mb.join("timeseries.csv")),
                "member {m}"
            );
            let mut snapshots = 0;
            for f in std::fs::read_dir(ma.join("fields")).unwrap() {
                let f = f.unwrap().path();
                let name = f.file_name().unwrap();
                assert_eq!(read(&f), read(&mb.join("fields").join(name)), "{f:?}");
                snapshots += 1;
            }
            assert!(snapshots >= 3 * 4, "member {m}: {snapshots} snapshots");
        }
    };
    same_members(&alone, &together);
    // The members differ: the drug, the lesion and the session time each change the outcome.
    let rows: Vec<String> = String::from_utf8(read(&alone.join("summary.csv")))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').skip(6).collect::<Vec<_>>().join(","))
        .collect();
    for (k, r) in rows.iter().enumerate() {
        assert!(
            !rows[..k].contains(r),
            "member {} repeats an earlier member: {r}",
            k + 1
        );
    }
    let summary: serde_json::Value =
        serde_json::from_slice(&read(&together.join("members/m0006/summary.json"))).unwrap();
    assert_eq!(summary["ensemble"]["member"], 2);
    assert_eq!(summary["ensemble"]["members"], 4);
    let summary: serde_json::Value =
        serde_json::from_slice(&read(&alone.join("members/m0006/summary.json"))).unwrap();
    assert!(summary.get("ensemble").is_none());

    let member = stopped.join("members/m0002");
    let mut cmd = sweep_in(&stopped, "auto");
    cmd.args(["--checkpoint-every", "0s"]);
    let o = stop_after_rows(&mut cmd, &member, 3, false, "TERM");
    assert_eq!(o.status.code(), Some(130));
    for m in 1..=4 {
        let dir = stopped.join(format!("members/m{m:04}"));
        assert!(
            dir.join("checkpoint.bin").exists(),
            "member {m} has no checkpoint"
        );
    }
    let log = ok(&sweep_in(&stopped, "auto").output().unwrap());
    assert_eq!(
        log.matches("continuing from its checkpoint").count(),
        4,
        "{log}"
    );
    same_members(&alone, &stopped);
}

/// A member of an ensemble that fails (here before its first step: its folder cannot be made)
/// stops the others instead of leaving them waiting; they then run alone and complete, and the
/// sweep reports the one failure.
#[test]
fn a_failing_member_stops_its_ensemble_and_the_others_run_alone() {
    let d = tmp("sweep-fail");
    let out = d.join("sweep");
    std::fs::create_dir_all(out.join("members")).unwrap();
    std::fs::write(out.join("members/m0002"), "in the way").unwrap();
    let o = Command::new(BIN)
        .args(["sweep"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE))
        .args(["--vary", "ea[0].frequency_hz=2,15,50", "--out"])
        .arg(&out)
        .args(LEAN)
        .args(["--set", "time.days=0.125"])
        .env("DORSALHORN_CACHE_DIR", d.join("cache"))
        .env_remove("DORSALHORN_PARAM_SET")
        .env_remove("DISPLAY")
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{log}");
    assert_eq!(
        log.matches("running side by side with 2 others").count(),
        3,
        "{log}"
    );
    for m in [1, 3] {
        assert!(
            log.contains(&format!("member {m}/3 (ea[0].frequency_hz="))
                && log.contains("running it alone"),
            "{log}"
        );
    }
    assert!(log.contains("1 member(s) failed"), "{log}");
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    let status: Vec<&str> = summary
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(3).unwrap())
        .collect();
    assert_eq!(status[0], "completed", "{summary}");
    assert!(status[1].starts_with("failed"), "{summary}");
    assert_eq!(status[2], "completed", "{summary}");
}
