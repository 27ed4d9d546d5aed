//! `dorsalhorn view` in a real window under Xvfb (installed by `.ci/run`): it opens, runs a
//! scripted number of frames, and its screenshot shows the same pixels for each field as the
//! batch renderer's PNG of the same state. Without a display it explains itself and suggests
//! `dorsalhorn run`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_dorsalhorn");
const FIXTURE: &str = "tests/data/view_cfa_40um.toml";

/// An Xvfb server on a free display, stopped on drop.
pub(crate) struct Xvfb {
    child: Child,
    pub(crate) display: String,
}

impl Xvfb {
    pub(crate) fn start() -> Xvfb {
        let mut child = Command::new("Xvfb")
            .args(["-displayfd", "1", "-screen", "0", "1600x1000x24", "-nolisten", "tcp"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb must be installed for the window tests (apt-get install xvfb; .ci/run does it)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let n: u32 = line.trim().parse().expect("Xvfb prints its display number");
        Xvfb {
            child,
            display: format!(":{n}"),
        }
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dorsalhorn-view-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

pub(crate) fn xdg() -> PathBuf {
    let d = std::env::temp_dir().join("dorsalhorn-test-xdg");
    std::fs::create_dir_all(&d).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    d
}

/// (width, height, RGB bytes) of a PNG.
fn read_png(path: &Path) -> (usize, usize, Vec<u8>) {
    let dec = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = dec.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb, "{}", path.display());
    buf.truncate(info.buffer_size());
    (info.width as usize, info.height as usize, buf)
}

#[test]
fn window_screenshot_matches_the_batch_frames() {
    let x = Xvfb::start();
    let batch = tmp("batch");
    let shots = tmp("shots");
    let run = Command::new(BIN)
        .args(["run", FIXTURE, "--quiet", "--overwrite", "--out"])
        .arg(&batch)
        .env("XDG_RUNTIME_DIR", xdg())
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let shot = shots.join("shot.png");
    // 6 frames of one 10-min step each: the state at t = 1 h, as the batch frame *_t000060min.
    let view = Command::new(BIN)
        .args([
            "view",
            FIXTURE,
            "--no-outlines",
            "--frames",
            "6",
            "--steps-per-frame",
            "1",
        ])
        .args(["--size", "1400x900", "--screenshot"])
        .arg(&shot)
        .arg("--out")
        .arg(&shots)
        .env("DISPLAY", &x.display)
        .env("XDG_RUNTIME_DIR", xdg())
        .env("DORSALHORN_CACHE_DIR", shots.join("cache"))
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&view.stderr);
    assert!(view.status.success(), "view failed: {stderr}");
    assert!(stderr.contains("first frame after"), "{stderr}");

    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(shot.with_extension("json")).unwrap()).unwrap();
    assert_eq!(report["frames"], 6);
    assert_eq!(report["steps"], 6);
    assert_eq!(report["time_s"].as_f64().unwrap(), 3600.0);
    assert!(report["first_frame_s"].as_f64().unwrap() > 0.0);

    let (w, h, rgb) = read_png(&shot);
    assert_eq!((w, h), (1400, 900));
    // Not blank: many distinct colours and a spread of brightness.
    let mut colours: Vec<[u8; 3]> = rgb.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect();
    colours.sort_unstable();
    colours.dedup();
    assert!(
        colours.len() > 200,
        "only {} colours: blank window?",
        colours.len()
    );

    let panels = report["panels"].as_array().unwrap();
    assert_eq!(panels.len(), 4);
    for p in panels {
        let field = p["field"].as_str().unwrap();
        let (nx, ny, reference) =
            read_png(&batch.join("frames").join(format!("{field}_t000060min.png")));
        let r = super::common::rect_px(p);
        let (sx, sy) = ((r[2] - r[0]) / nx as f64, (r[3] - r[1]) / ny as f64);
        assert!(
            sx >= 2.0 && (sx - sy).abs() < 1e-3,
            "{field}: cells drawn {sx} × {sy} px"
        );
        // Sample the screenshot at each cell's centre: the window's colours are the batch
        // renderer's, within 2 levels per channel (egui's texture sampling), in every cell.
        let (worst, bad) =
            super::common::cells_against_colours(&rgb, w, &r, &reference, (nx, ny), 2);
        assert_eq!(
            bad, 0,
            "{field}: {bad} cells differ by more than 2 levels (worst {worst})"
        );
    }
}

#[test]
fn without_a_display_view_explains_and_suggests_run() {
    let out = tmp("nodisplay");
    let o = Command::new(BIN)
        .args(["view", FIXTURE, "--out"])
        .arg(&out)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env("XDG_RUNTIME_DIR", xdg())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.contains("cannot open a window"), "{stderr}");
    assert!(stderr.contains("dorsalhorn run"), "{stderr}");
}

#[test]
fn bad_view_options_name_the_option() {
    for (args, key) in [
        (&["--fields", "IL1b,nope"][..], "--fields"),
        (&["--fields", "IL1b,M,ENK"][..], "--fields"),
        (&["--size", "10x10"][..], "--size"),
        (&["--speed-h", "0"][..], "--speed-h"),
        (&["--colormap", "jet"][..], "--colormap"),
        (&["--screenshot", "x.png"][..], "--screenshot"),
    ] {
        let o = Command::new(BIN)
            .args(["view", FIXTURE])
            .args(args)
            .env_remove("DISPLAY")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(key), "{args:?}: {stderr}");
    }
}

/// A script that asks for more steps than the scenario has (the fixture ends after 36 steps of
/// 10 min) stops at the scenario's end and exits, instead of waiting for steps that never come.
#[test]
fn a_script_longer_than_the_scenario_ends_with_it() {
    let x = Xvfb::start();
    let dir = tmp("past-the-end");
    let shot = dir.join("shot.png");
    let mut child = Command::new(BIN)
        .args(["view", FIXTURE, "--frames", "20", "--steps-per-frame", "2"])
        .arg("--screenshot")
        .arg(&shot)
        .arg("--out")
        .arg(&dir)
        .env("DISPLAY", &x.display)
        .env("XDG_RUNTIME_DIR", xdg())
        .env("DORSALHORN_CACHE_DIR", dir.join("cache"))
        .env_remove("WAYLAND_DISPLAY")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed().as_secs() > 240 {
            let _ = child.kill();
            panic!("the scripted window did not exit 240 s after the scenario's end");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert!(status.success());
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(shot.with_extension("json")).unwrap())
            .unwrap();
    assert_eq!(report["steps"], 36, "{report}");
    assert_eq!(report["frames"], 20, "{report}");
    let _ = std::fs::remove_dir_all(&dir);
}
