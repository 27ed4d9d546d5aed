//! Teaching demonstrations without a display (layer 4): `dorsalhorn demo NAME --record DIR`
//! runs the demo's scenario as an ordinary run (timeseries.csv, summary.json, provenance) whose
//! figures carry the demo's captions: one figure per step (`steps/step_NN.png`, for slides),
//! figures between the steps for the movie (each step held for 3 s), and `claims.json`, the
//! demo's claims about its own run checked on the read-outs.

use crate::error::{Error, ScenarioError};
use crate::figure::{Story, StoryStep};
use crate::gpu::Gpu;
use crate::run::dorsal_horn::{TissueRun, TissueRunOptions, run};
use crate::scenario::demo::{Claim, Demo, Term, evidence_meaning};
use crate::scenario::dorsal_horn::TissueScenario;
use crate::scenario::figures::{FigureOptions, MovieFormat, RangeMode, Theme};
use crate::tissue::observe::Readout;

/// How a demo is recorded.
#[derive(Debug, Clone)]
pub struct RecordOptions {
    pub run: TissueRunOptions,
    /// Pixels of each figure.
    pub size: [u32; 2],
    pub theme: Theme,
    pub movie: Option<MovieFormat>,
    pub fps: u32,
}

/// A claim checked on a run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ClaimResult {
    pub what: String,
    /// The comparison in words, with the numbers.
    pub detail: String,
    pub left: f64,
    pub right: f64,
    pub holds: bool,
}

/// The evidence line of a step, as the figures and the window show it.
pub fn evidence_line(demo: &Demo, k: usize) -> String {
    let s = &demo.steps[k];
    let finding = s
        .finding
        .as_ref()
        .map(|f| format!("  ·  validation finding {f} (docs/validation.md)"))
        .unwrap_or_default();
    format!(
        "[{}] {}: {}{finding}",
        s.evidence,
        evidence_meaning(&s.evidence),
        s.source
    )
}

/// The fields any step shows, in first-shown order, and each step's panels as indices into them.
pub fn union_fields(demo: &Demo) -> (Vec<usize>, Vec<Vec<usize>>) {
    let mut all: Vec<usize> = Vec::new();
    let panels = demo
        .steps
        .iter()
        .map(|s| {
            s.fields
                .iter()
                .map(|f| {
                    all.iter().position(|a| a == f).unwrap_or_else(|| {
                        all.push(*f);
                        all.len() - 1
                    })
                })
                .collect()
        })
        .collect();
    (all, panels)
}

/// The story the figures tell.
pub fn story(demo: &Demo) -> Story {
    let (_, panels) = union_fields(demo);
    Story {
        title: demo.title.clone(),
        summary: demo.summary.clone(),
        steps: demo
            .steps
            .iter()
            .zip(panels)
            .enumerate()
            .map(|(k, (s, panels))| StoryStep {
                at_s: s.at_h * 3600.0,
                title: s.title.clone(),
                caption: s.caption.clone(),
                question: s.question.clone(),
                source: evidence_line(demo, k),
                panels,
                layout: s.layout,
                ranges: s.ranges.clone(),
            })
            .collect(),
        control: None,
    }
}

/// The scenario a recording runs: the demo's, with figures of every shown field at the demo's
/// frame interval (and at every step), no per-cell PNG frames.
pub fn record_scenario(demo: &Demo, opts: &RecordOptions) -> Result<TissueScenario, Error> {
    let mut sc = demo.scenario()?;
    let (fields, _) = union_fields(demo);
    sc.frames = false;
    sc.figures = FigureOptions {
        enabled: true,
        every_s: demo.record_every_h * 3600.0,
        ranges: vec![RangeMode::Run; fields.len()],
        fields,
        layout: None,
        size: opts.size,
        theme: opts.theme,
        plot: true,
        outlines: true,
        movie: opts.movie,
        fps: opts.fps,
    };
    Ok(sc)
}

/// Checks that every claim reads a `timeseries.csv` column (before any run).
pub fn check_claims(demo: &Demo) -> Result<(), ScenarioError> {
    let probe = Readout {
        time_s: 0.0,
        p_mech: 0.0,
        p_heat: 0.0,
        p_spont: 0.0,
        pwt_g: 0.0,
        pwl_s: 0.0,
        means: vec![
            vec![0.0; crate::model::network::state::FIELDS];
            crate::tissue::section::REPORT_REGIONS.len()
        ],
        spatial: Vec::new(),
    };
    for (k, c) in demo.claims.iter().enumerate() {
        for (side, t) in [("left", &c.left), ("right", &c.right)] {
            if let Term::Read { quantity, .. } = t
                && probe.column(quantity).is_none()
            {
                return Err(ScenarioError::new(
                    &demo.origin,
                    format!(
                        "key `claim[{k}].{side}.quantity`: `{quantity}` is not a timeseries.csv \
                         column: use P_mech, P_heat, P_spont, PWT_g, PWL_s or NAME@REGION with a \
                         state or rate name and one of the regions {} (e.g. \"M@I-II\"; \
                         docs/scenario-format.md lists them)",
                        crate::tissue::section::REPORT_REGIONS
                            .iter()
                            .map(|(n, _)| *n)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// `column` at `t_h`, linear between the read-outs around it.
fn value_at(readouts: &[Readout], column: &str, t_h: f64) -> Option<f64> {
    let t = t_h * 3600.0;
    let after = readouts.iter().position(|r| r.time_s >= t - 1e-6)?;
    let b = &readouts[after];
    if after == 0 || (b.time_s - t).abs() < 1e-6 {
        return b.column(column);
    }
    let a = &readouts[after - 1];
    let (va, vb) = (a.column(column)?, b.column(column)?);
    let w = (t - a.time_s) / (b.time_s - a.time_s);
    Some(va + w * (vb - va))
}

fn term_value(readouts: &[Readout], control: &[Readout], t: &Term) -> Option<f64> {
    match t {
        Term::Value(v) => Some(*v),
        Term::Read {
            control: of_control,
            quantity,
            at_h,
            from_h,
        } => {
            let readouts = if *of_control { control } else { readouts };
            let v = value_at(readouts, quantity, *at_h)?;
            match from_h {
                Some(f) => Some(v - value_at(readouts, quantity, *f)?),
                None => Some(v),
            }
        }
    }
}

/// Checks the demo's claims on the read-outs of its run (and of its control run, empty when
/// there is none).
pub fn evaluate_claims(
    claims: &[Claim],
    readouts: &[Readout],
    control: &[Readout],
) -> Vec<ClaimResult> {
    claims
        .iter()
        .map(|c| {
            let left = term_value(readouts, control, &c.left).unwrap_or(f64::NAN);
            let right = term_value(readouts, control, &c.right).unwrap_or(f64::NAN);
            let holds = if c.greater {
                left > c.factor * right
            } else {
                left < c.factor * right
            };
            let factor = if c.factor == 1.0 {
                String::new()
            } else {
                format!("{} × ", c.factor)
            };
            ClaimResult {
                what: c.what.clone(),
                detail: format!(
                    "{} = {left:.4} {} {factor}{} = {:.4}",
                    c.left.describe(),
                    if c.greater { ">" } else { "<" },
                    c.right.describe(),
                    c.factor * right
                ),
                left,
                right,
                holds,
            }
        })
        .collect()
}

/// The read-outs of the demo's control run, in memory (empty when it has none).
pub fn control_readouts(
    gpu: &Gpu,
    demo: &Demo,
    opts: &TissueRunOptions,
) -> Result<Vec<Readout>, Error> {
    let Some(sc) = demo.control_scenario() else {
        return Ok(Vec::new());
    };
    let mut sc = sc?;
    sc.figures.enabled = false;
    let opts = TissueRunOptions::in_memory(opts.cache.clone());
    Ok(run(gpu, &sc, &opts)?.readouts)
}

/// Records the demo into `opts.run.out_dir`: the run, its captioned figures and movie, and
/// `claims.json`.
pub fn record(
    gpu: &Gpu,
    demo: &Demo,
    opts: &RecordOptions,
) -> Result<(TissueRun, Vec<ClaimResult>), Error> {
    check_claims(demo)?;
    let sc = record_scenario(demo, opts)?;
    // The control first, so its pain course is drawn (dashed) in the demo's figures.
    if let Some((label, _)) = &demo.control
        && opts.run.progress
    {
        eprintln!("  the control run ({label}) first, for the claims and the dashed lines ...");
    }
    let control = control_readouts(gpu, demo, &opts.run)?;
    let mut story = story(demo);
    story.control = demo.control.as_ref().map(|(label, _)| {
        (
            label.clone(),
            control
                .iter()
                .map(|r| [r.time_s, r.p_mech, r.p_heat])
                .collect(),
        )
    });
    let mut run_opts = opts.run.clone();
    run_opts.story = Some(story);
    let out = run(gpu, &sc, &run_opts)?;
    let claims = evaluate_claims(&demo.claims, &out.readouts, &control);
    if let Some(dir) = &run_opts.out_dir {
        let json = serde_json::json!({
            "demo": demo.name,
            "control": demo.control.as_ref().map(|(label, without)| {
                serde_json::json!({ "label": label, "without": without })
            }),
            "title": demo.title,
            "origin": demo.origin,
            "claims": claims,
        });
        crate::output::write_atomic(
            &dir.join("claims.json"),
            serde_json::to_string_pretty(&json)
                .unwrap_or_default()
                .as_bytes(),
        )?;
    }
    Ok((out, claims))
}
