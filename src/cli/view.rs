//! `dorsalhorn view`.

use crate::cli::SCENARIO_HELP;
use dorsalhorn::error::Error;
use dorsalhorn::model::network::state::DEFAULT_VIEW_FIELDS;
use dorsalhorn::scenario;
use dorsalhorn::scenario::{AnyScenario, load_any};
use std::path::PathBuf;

/// The options of `dorsalhorn view`.
#[derive(clap::Args)]
pub struct ViewArgs {
    #[arg(help = SCENARIO_HELP, default_value = scenario::DEFAULT_SCENARIO)]
    pub scenario: String,
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Fields of the panels: 1, 2 or 4 of the states and rates (`dorsalhorn check` lists
    /// them), e.g. --fields IL1b,M,ENK,r_P.
    #[arg(long, value_delimiter = ',', default_values_t = DEFAULT_VIEW_FIELDS.map(String::from))]
    pub fields: Vec<String>,
    /// viridis, magma or diverging (default: the scenario's output.colormap).
    #[arg(long)]
    pub colormap: Option<String>,
    /// Start with the lamina outlines hidden.
    #[arg(long)]
    pub no_outlines: bool,
    /// Model hours per second of wall time while playing.
    #[arg(long, default_value_t = 2.0)]
    pub speed_h: f64,
    /// Window size in pixels, WIDTHxHEIGHT.
    #[arg(long, default_value = "1400x900")]
    pub size: String,
    #[command(flatten)]
    pub window: WindowArgs,
}

/// The window options `view` and `demo` share.
#[derive(clap::Args)]
pub struct WindowArgs {
    /// Start paused (Space plays).
    #[arg(long)]
    pub paused: bool,
    /// Folder for screenshots, probe CSVs and the saved scenario (default out/view, or out/demo
    /// for a demo).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Scripted mode: draw this many frames, then exit (for tests and benchmarks).
    #[arg(long)]
    pub frames: Option<u64>,
    /// Scripted mode: transport steps per frame, waited for so the run is deterministic;
    /// 0 plays freely as in the window (for frame-rate benchmarks; a demo stays at its step).
    #[arg(long, default_value_t = 1)]
    pub steps_per_frame: u64,
    /// Scripted mode: write a PNG of the window after the last frame (and a JSON beside it
    /// with the panels' pixel rectangles, ranges, frame rate and time to first frame).
    #[arg(long)]
    pub screenshot: Option<PathBuf>,
}

impl WindowArgs {
    /// The scripted viewing these options ask for, if any (checked).
    pub(crate) fn script(&self) -> Result<Option<dorsalhorn::view::Script>, Error> {
        let bad = |key: &str, msg: &str| -> Error {
            dorsalhorn::error::ScenarioError::new(key, msg).into()
        };
        if self.frames == Some(0) {
            return Err(bad("--frames", "0: give at least 1 frame"));
        }
        if self.screenshot.is_some() && self.frames.is_none() {
            return Err(bad(
                "--screenshot",
                "needs --frames N (scripted mode); in the window press S for a screenshot",
            ));
        }
        Ok(self.frames.map(|frames| dorsalhorn::view::Script {
            frames,
            steps_per_frame: self.steps_per_frame,
            screenshot: self.screenshot.clone(),
        }))
    }
}

pub fn run(args: ViewArgs) -> Result<(), Error> {
    let ViewArgs {
        scenario,
        set,
        fields,
        colormap,
        no_outlines,
        speed_h,
        size,
        window,
    } = args;
    let sc = match load_any(&scenario, &set)? {
        AnyScenario::Tissue(sc) => *sc,
        AnyScenario::Engine(sc) => {
            return Err(dorsalhorn::error::ScenarioError::new(
                &sc.origin,
                "is an engine (Gray–Scott) scenario: `dorsalhorn view` shows dorsal-horn \
                 scenarios (with a [tissue] table), e.g. cfa_ea_2hz; run this one with \
                 `dorsalhorn run`",
            )
            .into());
        }
    };
    let bad = |key: &str, msg: String| -> Error {
        dorsalhorn::error::ScenarioError::new(key, msg).into()
    };
    if ![1, 2, 4].contains(&fields.len()) {
        return Err(bad(
            "--fields",
            format!("{} fields given: give 1, 2 or 4", fields.len()),
        ));
    }
    let mut field_idx = Vec::new();
    for f in &fields {
        field_idx.push(
            dorsalhorn::model::network::state::field_index(f).ok_or_else(|| {
                let names: Vec<&str> = (0..dorsalhorn::model::network::state::FIELDS)
                    .map(dorsalhorn::model::network::state::field_name)
                    .collect();
                bad(
                    "--fields",
                    format!("`{f}` is not a field: use {}", names.join(", ")),
                )
            })?,
        );
    }
    let colormap = match colormap {
        None => sc.colormap,
        Some(c) => dorsalhorn::colormap::Colormap::from_name(&c).ok_or_else(|| {
            bad(
                "--colormap",
                format!("`{c}` is not allowed: use viridis, magma or diverging"),
            )
        })?,
    };
    if !(speed_h.is_finite() && (1.0 / 60.0..=96.0).contains(&speed_h)) {
        return Err(bad(
            "--speed-h",
            format!("{speed_h} is out of range: allowed 1/60 … 96 model hours per second"),
        ));
    }
    let size = parse_size(&size)?;
    let script = window.script()?;
    dorsalhorn::view::view(dorsalhorn::view::ViewOptions {
        spec: scenario,
        scenario: sc,
        fields: field_idx,
        colormap,
        outlines: !no_outlines,
        paused: window.paused,
        out_dir: window
            .out
            .unwrap_or_else(|| PathBuf::from("out").join("view")),
        size,
        speed: speed_h * 3600.0,
        script,
        demo: None,
    })
}

/// `--size WIDTHxHEIGHT` in pixels (320 ≤ WIDTH, 240 ≤ HEIGHT ≤ 8192).
pub(crate) fn parse_size(size: &str) -> Result<[u32; 2], Error> {
    let parsed: Option<[u32; 2]> = size
        .split_once(['x', 'X'])
        .and_then(|(w, h)| Some([w.trim().parse().ok()?, h.trim().parse().ok()?]));
    match parsed {
        Some([w, h]) if (320..=8192).contains(&w) && (240..=8192).contains(&h) => Ok([w, h]),
        _ => Err(dorsalhorn::error::ScenarioError::new(
            "--size",
            format!(
                "`{size}` is not WIDTHxHEIGHT with 320 ≤ WIDTH, 240 ≤ HEIGHT ≤ 8192, e.g. 1400x900"
            ),
        )
        .into()),
    }
}
