//! Composed figures and movies without a display (issue 22): `dorsalhorn run` with no `DISPLAY`
//! writes one figure per figure time and a GIF of them; each panel's pixels are the field's
//! values through the colormap over the range the run reports (the run's min–max, or the fixed
//! range the scenario gives), so a figure never disagrees with the NPY data. A synthetic figure
//! drawn through the library matches its golden image.

use dorsalhorn::colormap::Colormap;
use dorsalhorn::figure::{FigureWriter, Scene};
use dorsalhorn::model::network::protocol::{EaSession, PainModel, Protocol};
use dorsalhorn::model::network::state::{RATE_NAMES, STATE_NAMES};
use dorsalhorn::output::read_npy;
use dorsalhorn::scenario::figures::{FigureOptions, MovieFormat, RangeMode, Theme};
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_dorsalhorn");
const FIXTURE: &str = "tests/data/figures_40um.toml";

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dorsalhorn-fig-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// (width, height, RGB bytes) of a PNG.
fn read_png(path: &Path) -> (usize, usize, Vec<u8>) {
    let (w, h, rgb) = dorsalhorn::figure::movie::read_png(path).unwrap();
    (w as usize, h as usize, rgb)
}

fn field_index(name: &str) -> usize {
    STATE_NAMES
        .iter()
        .chain(RATE_NAMES.iter())
        .position(|n| *n == name)
        .unwrap()
}

#[test]
fn figures_and_a_movie_are_drawn_without_a_display() {
    let out = tmp("run");
    let o = Command::new(BIN)
        .args(["run", FIXTURE, "--quiet", "--overwrite", "--out"])
        .arg(&out)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env("DORSALHORN_CACHE_DIR", out.join("cache"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let fig = &summary["figures"];
    // A figure at every hour of the 6-h run.
    let names: Vec<String> = fig["figures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let want: Vec<String> = (0..=6)
        .map(|h| format!("figures/fig_t{:06}min.png", 60 * h))
        .collect();
    assert_eq!(names, want);
    for n in &names {
        let (w, h, _) = read_png(&out.join(n));
        assert_eq!((w, h), (800, 450), "{n}");
    }
    // No leftover of the recording.
    let hidden: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".figure"))
        .collect();
    assert!(hidden.is_empty(), "{hidden:?}");

    // The movie: a looping GIF with one frame per figure, of the figures' size.
    assert_eq!(fig["movie"], "movie.gif");
    let mut opts = gif::DecodeOptions::new();
    opts.set_color_output(gif::ColorOutput::RGBA);
    let mut dec = opts
        .read_info(std::fs::File::open(out.join("movie.gif")).unwrap())
        .unwrap();
    assert_eq!((dec.width(), dec.height()), (800, 450));
    let mut frames = 0;
    while let Some(f) = dec.read_next_frame().unwrap() {
        assert_eq!(f.delay, 25, "4 frames per second");
        frames += 1;
    }
    assert_eq!(frames, 7);

    // Each panel of the last figure shows the field at t = 6 h through magma over its range,
    // within 2 levels per channel at every cell centre (the texture sampling).
    let (w, _, rgb) = read_png(&out.join(&names[6]));
    let panels = fig["panels"].as_array().unwrap();
    assert_eq!(panels.len(), 3);
    for p in panels {
        panel_matches_its_field(&out, p, w, &rgb);
    }
}

/// A panel of the last figure (t = 6 h) shows its field at t = 6 h through magma over its range,
/// within 2 levels per channel at every cell centre (the texture sampling); the range is fixed
/// for ENK and the min-max over the seven snapshots otherwise.
fn panel_matches_its_field(out: &Path, p: &serde_json::Value, w: usize, rgb: &[u8]) {
    let field = p["field"].as_str().unwrap();
    let r = super::common::rect_px(p);
    let range: Vec<f32> = p["range"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect();
    // The range: fixed for ENK, else the min-max over the seven snapshots.
    let mut lo = f32::INFINITY;
    let mut hi = f32::NEG_INFINITY;
    let mut last = Vec::new();
    let mut shape = (0, 0);
    for h in 0..=6 {
        let bytes = std::fs::read(
            out.join("fields")
                .join(format!("{field}_t{:06}min.npy", 60 * h)),
        )
        .unwrap();
        let (s, v) = read_npy(&bytes).unwrap();
        for x in v.iter().filter(|x| x.is_finite()) {
            lo = lo.min(*x);
            hi = hi.max(*x);
        }
        shape = s;
        last = v;
    }
    if field == "ENK" {
        assert_eq!(range, [0.0, 0.05]);
    } else {
        assert_eq!(range, [lo, hi], "{field}: the run's range");
    }
    let (ny, nx) = shape;
    let expect = Colormap::Magma.colorize(&last, (range[0], range[1]));
    let (sx, sy) = ((r[2] - r[0]) / nx as f64, (r[3] - r[1]) / ny as f64);
    assert!(sx >= 1.0 && (sx - sy).abs() < 1e-3, "{field}: {sx} × {sy}");
    let (worst, _) = super::common::cells_against_colours(rgb, w, &r, &expect, (nx, ny), 2);
    assert!(worst <= 2, "{field}: a cell differs by {worst} levels");
}

#[test]
fn an_mp4_without_ffmpeg_leaves_the_figures_and_says_how() {
    let out = tmp("mp4");
    let o = Command::new(BIN)
        .args(["run", FIXTURE, "--quiet", "--overwrite", "--out"])
        .arg(&out)
        .args(["--set", "output.movie=\"mp4\""])
        .env("DORSALHORN_CACHE_DIR", out.join("cache"))
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let note = summary["figures"]["movie_note"].as_str().unwrap();
    for w in [
        "needs ffmpeg",
        "apt-get install ffmpeg",
        "fig_t*.png",
        "gif",
    ] {
        assert!(note.contains(w), "{note}");
        assert!(stderr.contains(w), "{stderr}");
    }
    assert!(summary["figures"]["movie"].is_null());
    assert!(!out.join("movie.mp4").exists());
    assert!(out.join("figures/fig_t000000min.png").exists());
}

/// A figure of a made-up section: two regions, a ramp and a spot, an EA session and a dose.
fn synthetic(dir: &Path, theme: Theme) -> PathBuf {
    let (nx, ny) = (60, 40);
    let region: Vec<u8> = (0..nx * ny)
        .map(|i| if i % nx < 25 { 3 } else { 7 })
        .collect();
    let mut protocol = Protocol {
        pain: Some(PainModel::Cfa),
        ..Protocol::default()
    };
    protocol
        .sessions
        .push(EaSession::single(7200.0, 1800.0, 2.0, 1.0));
    let scene = Scene {
        name: "synthetic".into(),
        description: "a made-up section for the golden image".into(),
        nx,
        ny,
        h_um: 20.0,
        region,
        duration_s: 4.0 * 3600.0,
        protocol,
        doses: Vec::new(),
        colormap: Colormap::Viridis,
        footer: "golden image".into(),
        pain_name: None,
        story: None,
    };
    let opts = FigureOptions {
        enabled: true,
        every_s: 3600.0,
        fields: vec![field_index("M"), field_index("IL1b")],
        layout: None,
        size: [640, 360],
        ranges: vec![RangeMode::Run, RangeMode::Fixed(0.0, 2.0)],
        theme,
        plot: true,
        outlines: true,
        movie: Some(MovieFormat::Gif),
        fps: 2,
    };
    let mut w = FigureWriter::new(dir, scene, opts).unwrap();
    for k in 0..=4 {
        let t = k as f64 * 3600.0;
        let ramp: Vec<f32> = (0..nx * ny)
            .map(|i| (i % nx) as f32 / nx as f32 * (1.0 + k as f32))
            .collect();
        let spot: Vec<f32> = (0..nx * ny)
            .map(|i| {
                let (x, y) = ((i % nx) as f32 - 30.0, (i / nx) as f32 - 20.0);
                k as f32 * 0.5 * (-(x * x + y * y) / 60.0).exp()
            })
            .collect();
        w.pain(t, 1.0 + 0.4 * k as f64, 1.0 + 0.6 * k as f64);
        assert!(w.due(t));
        w.record(t, &[ramp, spot]).unwrap();
    }
    let report = w.finish(super::common::gpu(), &mut |_, _| {}).unwrap();
    assert_eq!(report.figures.len(), 5);
    assert_eq!(report.movie.as_deref(), Some("movie.gif"));
    // The run range of M is the min-max over the five figures: 0 to 5 · 59/60.
    let r = report.panels[0].range;
    assert!(
        r[0] == 0.0 && (r[1] - 5.0 * 59.0 / 60.0).abs() < 1e-5,
        "{r:?}"
    );
    dir.join("figures/fig_t000180min.png")
}

#[test]
fn a_synthetic_figure_matches_its_golden_image() {
    let golden_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    for (theme, name) in [(Theme::Dark, "dark"), (Theme::Light, "light")] {
        let dir = tmp(&format!("golden-{name}"));
        let got = synthetic(&dir, theme);
        let golden = golden_dir.join(format!("figure_synthetic_{name}.png"));
        if std::env::var_os("DORSALHORN_BLESS").is_some() {
            std::fs::copy(&got, &golden).unwrap();
        }
        let (gw, gh, g) = read_png(&golden);
        let (w, h, a) = read_png(&got);
        assert_eq!((w, h), (gw, gh));
        // Text edges may differ by a level or two between drivers: count clear differences.
        let differ = g
            .chunks_exact(3)
            .zip(a.chunks_exact(3))
            .filter(|(p, q)| (0..3).any(|k| p[k].abs_diff(q[k]) > 24))
            .count();
        if differ * 1000 > w * h {
            let actual = golden.with_extension("actual.png");
            std::fs::copy(&got, &actual).unwrap();
            panic!(
                "{name}: {differ} of {} pixels differ from {} (see {})",
                w * h,
                golden.display(),
                actual.display()
            );
        }
    }
}
