//! `dorsalhorn run` for a dorsal-horn scenario (layer 4): the headless run with the per-lamina
//! time series, field snapshots (NPY, PNG), summary.json and the run profile. Replay files and
//! checkpoints: [`resume`](crate::run::resume), [`checkpoint`].

use crate::error::Error;
use crate::figure::{FigureWriter, Scene, Story};
use crate::gpu::Gpu;
use crate::model::network::state::{REPORTED_MEDIATOR, field_name};
use crate::output;
use crate::run::checkpoint::{self, Resumed, RunCheckpoint};
use crate::run::csv::{csv_header, csv_row, csv_units};
use crate::run::resume::{
    CheckpointMeta, prune_snapshots_after, with_resume_hint, write_replay_files,
};
use crate::run::stepper::Stepper;
use crate::scenario::dorsal_horn::TissueScenario;
use crate::tissue::ProbeResponse;
use crate::tissue::baseline::{BaselineCache, prepare_baseline};
use crate::tissue::observe::{Observation, Readout, field_values};
use serde::Serialize;
use std::path::PathBuf;
use std::time::Instant;

/// What a finished dorsal-horn run reports (also written to summary.json).
#[derive(Debug, Clone, Serialize)]
pub struct TissueSummary {
    pub completed: bool,
    pub dorsalhorn_version: &'static str,
    /// Command line, source revision and edited parameters.
    pub provenance: output::Provenance,
    pub scenario_name: String,
    pub scenario_origin: String,
    pub adapter: crate::gpu::AdapterSummary,
    pub grid: [usize; 2],
    pub spacing_um: f64,
    pub active_cells: usize,
    pub simulated_days: f64,
    pub wall_time_s: f64,
    pub transport_steps: u64,
    pub reaction_substeps: u64,
    /// Species-stencil passes of the transport (fine-grid equivalents for multigrid) and what
    /// forward Euler at the stability limit would need for the same model time (the run from
    /// t = 0; the settling is not counted).
    pub stencil_passes: u64,
    pub explicit_stencil_passes: f64,
    pub naive_probe: ProbeResponse,
    pub final_readout: Readout,
    /// Where the wall time went.
    pub profile: RunProfile,
    /// The composed figures and the movie (`None` when output.figures = false or in memory).
    pub figures: Option<crate::figure::FigureReport>,
    /// Continuations of the run from its checkpoints (`dorsalhorn resume`), oldest first;
    /// `wall_time_s` then sums the processes' times up to each checkpoint and the last one's.
    pub resumed: Vec<Resumed>,
    /// Member k (1-based) of an ensemble of n that stepped together (absent for a run alone).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ensemble: Option<EnsembleNote>,
    pub resolved_scenario: toml::Table,
}

/// Where a run stepped in an ensemble (summary.json's `ensemble`).
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct EnsembleNote {
    pub member: usize,
    pub members: usize,
}

/// A run in memory (for tests and the validation suite): the read-outs at every output time.
pub struct TissueRun {
    pub summary: TissueSummary,
    pub readouts: Vec<Readout>,
}

/// Options of a dorsal-horn run.
#[derive(Debug, Clone)]
pub struct TissueRunOptions {
    /// Where to write; `None` runs in memory only.
    pub out_dir: Option<PathBuf>,
    pub overwrite: bool,
    pub progress: bool,
    /// Where settled baselines are kept between runs (`None`: settle every time).
    pub cache: Option<BaselineCache>,
    /// A demo's captioned steps for the figures (`dorsalhorn demo NAME --record`).
    pub story: Option<Story>,
    /// Write `checkpoint.bin` every this many seconds of wall time and when the run is
    /// interrupted (`None`: never; 0: after every transport step). Needs `out_dir`.
    pub checkpoint_every_s: Option<f64>,
    /// Step as member k of this ensemble (a sweep's batch; [`crate::run::ensemble`]). Needs a
    /// fresh run (no checkpoint to continue).
    pub ensemble: Option<(std::sync::Arc<crate::run::ensemble::Ensemble>, usize)>,
}

impl TissueRunOptions {
    /// A run in memory only (no folder, no progress), with an optional baseline cache.
    pub fn in_memory(cache: Option<BaselineCache>) -> TissueRunOptions {
        TissueRunOptions {
            out_dir: None,
            overwrite: false,
            progress: false,
            cache,
            story: None,
            checkpoint_every_s: None,
            ensemble: None,
        }
    }
}

/// Where a run's wall time went, in seconds (summary.json's `profile`; `dorsalhorn run
/// --profile` prints it). The transport and reaction shares come from sampled steps (every
/// [`PROFILE_EVERY`]-th transport step is submitted phase by phase and waited for), scaled to
/// the stepping time; everything else is measured directly.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunProfile {
    /// Building the tissue, its maps and kernels (shader compilation included).
    pub setup_s: f64,
    /// Preparing the baseline (settling, or reading it from the cache).
    pub settle_s: f64,
    pub baseline_from_cache: bool,
    /// The time loop without read-outs and writing, and its estimated split.
    pub stepping_s: f64,
    pub transport_s: f64,
    pub reaction_s: f64,
    /// Read-outs at the output times: reading the states back, the blow-up check, the rates,
    /// the behavioural probes and the regional means.
    pub readouts_s: f64,
    /// Writing CSV, NPY, PNG and JSON files (the figures and the movie included).
    pub writing_s: f64,
    /// Of which drawing the composed figures, encoding the movie and writing fields.nc.
    pub figures_s: f64,
    /// Checkpoints written, and the wall time they took (included in `writing_s`).
    pub checkpoints: u64,
    pub checkpoints_s: f64,
    pub sampled_steps: u64,
    /// Compute dispatches of the time loop, and per transport step.
    pub dispatches: u64,
    pub dispatches_per_transport_step: f64,
}

/// Every this many transport steps one is timed phase by phase ([`RunProfile`]).
pub const PROFILE_EVERY: u64 = 20;

impl RunProfile {
    /// The profile as an aligned table.
    pub fn table(&self, total_s: f64) -> String {
        let pct = |v: f64| 100.0 * v / total_s.max(1e-12);
        let mut s = String::from("where the time went:\n");
        let rows = [
            ("set-up (tissue, kernels)", self.setup_s),
            (
                if self.baseline_from_cache {
                    "baseline (from the cache)"
                } else {
                    "baseline (settled)"
                },
                self.settle_s,
            ),
            ("time loop", self.stepping_s),
            ("  transport (estimated)", self.transport_s),
            ("  reaction (estimated)", self.reaction_s),
            ("read-outs (probes, means)", self.readouts_s),
            ("writing files", self.writing_s),
            ("  of which figures, movie, NetCDF", self.figures_s),
            ("  of which checkpoints", self.checkpoints_s),
        ];
        for (what, v) in rows {
            s.push_str(&format!("  {what:28} {v:8.2} s  {:5.1} %\n", pct(v)));
        }
        s.push_str(&format!(
            "  {} dispatches, {:.0} per transport step; {} steps sampled for the split\n",
            self.dispatches, self.dispatches_per_transport_step, self.sampled_steps
        ));
        s
    }
}

/// Runs a dorsal-horn scenario from its calibrated baseline to the end, holding its output
/// folder ([`output::RunFolder`]: locked, marked `running`, then `completed`, `interrupted` or
/// `failed`).
pub fn run(gpu: &Gpu, sc: &TissueScenario, opts: &TissueRunOptions) -> Result<TissueRun, Error> {
    output::RunFolder::hold(opts.out_dir.as_deref(), opts.overwrite, "run", || {
        with_resume_hint(opts, run_in_claimed(gpu, sc, opts, None))
    })
}

#[expect(
    clippy::too_many_lines,
    reason = "the headless run's loop with its writers (CSV, NPY, PNG, summary) in the order they happen"
)]
pub(crate) fn run_in_claimed(
    gpu: &Gpu,
    sc: &TissueScenario,
    opts: &TissueRunOptions,
    resume_from: Option<RunCheckpoint>,
) -> Result<TissueRun, Error> {
    if let Some(dir) = &opts.out_dir {
        if resume_from.is_none() {
            write_replay_files(gpu, sc, dir)?;
        }
        for (enabled, sub) in [(true, "fields"), (sc.frames, "frames")] {
            if enabled {
                let d = dir.join(sub);
                std::fs::create_dir_all(&d)
                    .map_err(|e| Error::io("cannot create folder", &d, e))?;
            }
        }
    }
    let start = Instant::now();
    let settle_bar = output::progress_bar(opts.progress, 100, "% of the baseline settled");
    let baseline = prepare_baseline(gpu, sc, opts.cache.as_ref(), &mut |f| {
        settle_bar.set_position((100.0 * f) as u64);
        !crate::interrupt::requested()
    })?;
    settle_bar.finish_and_clear();
    crate::interrupt::check(0.0)?;
    let mut profile = RunProfile {
        setup_s: baseline.setup_s,
        settle_s: baseline.settle_s,
        baseline_from_cache: baseline.from_cache,
        ..RunProfile::default()
    };
    let mut sim = baseline.sim;
    sim.sample_profile(PROFILE_EVERY);
    let started = Instant::now();
    let mut st = Stepper::from_baseline(gpu, sc.clone(), sim)?;
    if let Some((ensemble, k)) = &opts.ensemble {
        assert!(resume_from.is_none(), "ensemble members start fresh");
        st.sit(crate::run::ensemble::Seat::new(ensemble.clone(), *k));
    }
    let (wall_before_s, mut resumed) = match &resume_from {
        Some(ck) => (ck.wall_s, ck.resumed.clone()),
        None => (0.0, Vec::new()),
    };
    if let Some(ck) = &resume_from {
        st.restore(gpu, ck.stepper.clone())?;
        resumed.push(Resumed {
            from_time_s: st.time_s(),
            command: output::Provenance::of_this_run().command,
            unix_s: output::unix_now(),
        });
    }
    // The command that started the run: this one, or the checkpoint's.
    let command = resume_from.as_ref().map_or_else(
        || output::Provenance::of_this_run().command,
        |ck| ck.command.clone(),
    );
    let meta = opts.out_dir.as_ref().map(|dir| CheckpointMeta {
        dir: dir.clone(),
        every_s: opts.checkpoint_every_s,
        command: command.clone(),
        adapter: gpu.info.name.clone(),
        digest: checkpoint::scenario_digest(sc),
        resumed: resumed.clone(),
        wall_before_s,
    });
    profile.setup_s += started.elapsed().as_secs_f64();
    let loop_start = Instant::now();

    let bar = output::progress_bar(
        opts.progress,
        (sc.duration_s / 3600.0).ceil() as u64,
        "h model time (eta {eta})",
    );
    // Written whole and atomically every few seconds, at the end, and on any way out.
    let mut csv = opts
        .out_dir
        .as_ref()
        .map(|d| output::GrowingFile::new(d.join("timeseries.csv"), csv_header()));
    if let Some(d) = &opts.out_dir {
        output::write_atomic(&d.join("timeseries_units.csv"), csv_units().as_bytes())?;
    }
    if let Some(f) = csv.as_mut() {
        // A fresh run's first row; a resumed run's rows up to its checkpoint.
        for r in &st.readouts {
            f.append(&csv_row(r))?;
        }
    }
    let mut next_snapshot = 0.0;
    let nx = st.sim.layout.tissue.nx;
    let ny = st.sim.layout.tissue.ny;
    let mut figures = match &opts.out_dir {
        Some(dir) if sc.figures.enabled => {
            let scene = figure_scene(gpu, sc, &st, opts.story.as_ref());
            let opts_f = sc.figures.clone();
            let mut fw = match resume_from.as_ref().map(|ck| ck.figures.clone()) {
                None => FigureWriter::new(dir, scene, opts_f)?,
                Some(Some(state)) => FigureWriter::resume(dir, scene, opts_f, state)?,
                Some(None) => {
                    return Err(Error::Output(
                        "the checkpoint has no figures but the scenario asks for them: the run \
                         folder's scenario.toml was changed after the run started"
                            .into(),
                    ));
                }
            };
            if opts.checkpoint_every_s.is_some() {
                fw.keep_spill_on_stop();
            }
            Some(fw)
        }
        _ => None,
    };
    let record_figure = |figures: &mut Option<FigureWriter>,
                         st: &Stepper,
                         obs: &Observation|
     -> Result<(), Error> {
        let Some(fw) = figures.as_mut() else {
            return Ok(());
        };
        let r = st.readouts.last().expect("a read-out was just taken");
        fw.pain(r.time_s, r.p_mech, r.p_heat);
        if fw.due(r.time_s) {
            let values: Vec<Vec<f32>> = fw
                .fields()
                .iter()
                .map(|&f| field_values(&st.sim, &obs.states, Some(&obs.rates), &obs.input, f))
                .collect();
            fw.record(r.time_s, &values)?;
        }
        Ok(())
    };
    let mut snapshot_minutes: Vec<u64> = Vec::new();
    if let Some(ck) = &resume_from {
        snapshot_minutes.clone_from(&ck.snapshot_minutes);
        next_snapshot = ck.next_snapshot_s;
        if let Some(dir) = &opts.out_dir {
            prune_snapshots_after(dir, snapshot_minutes.last().copied().unwrap_or(0))?;
            // A kill during a write leaves its temporary (`.checkpoint.bin.tmp-PID`).
            crate::output::remove_temporaries(dir)?;
        }
    }
    let write_snapshot = |st: &Stepper, obs: &Observation| -> Result<u64, Error> {
        let sim = &st.sim;
        let minutes = (sim.time_s() / 60.0).round() as u64;
        let Some(dir) = &opts.out_dir else {
            return Ok(minutes);
        };
        for &f in &sc.fields {
            let masked = field_values(sim, &obs.states, Some(&obs.rates), &obs.input, f);
            let stem = format!("{}_t{minutes:06}min", field_name(f));
            output::write_atomic(
                &dir.join("fields").join(format!("{stem}.npy")),
                &output::npy_bytes(&masked, ny, nx),
            )?;
            if sc.frames {
                let range = sc.colormap.auto_range(&masked);
                output::write_atomic(
                    &dir.join("frames").join(format!("{stem}.png")),
                    &output::field_png(&masked, nx, ny, sc.colormap, range),
                )?;
            }
        }
        Ok(minutes)
    };
    let mut writing_s = 0.0;
    if resume_from.is_none() {
        let started = Instant::now();
        let first = st.take_first().expect("the stepper observed t = 0");
        snapshot_minutes.push(write_snapshot(&st, &first)?);
        record_figure(&mut figures, &st, &first)?;
        next_snapshot += sc.snapshot_every_s;
        writing_s += started.elapsed().as_secs_f64();
    }
    let readout_s0 = st.readout_s;
    let checkpointing = meta.as_ref().filter(|_| opts.checkpoint_every_s.is_some());
    let mut last_checkpoint = Instant::now();
    while !st.finished() {
        let stepped = match st.step(gpu) {
            Err(e @ Error::Interrupted { .. }) => {
                // The previous step and its writes are whole: keep them for `resume`.
                if let Some(m) = checkpointing {
                    m.save(
                        gpu,
                        &st,
                        figures.as_ref(),
                        &snapshot_minutes,
                        next_snapshot,
                        start,
                    )?;
                }
                return Err(e);
            }
            other => other?,
        };
        if let Some(obs) = stepped {
            let started = Instant::now();
            let cut = st.time_s();
            let r = st.readouts.last().expect("a read-out was just taken");
            if let Some(f) = csv.as_mut() {
                f.append(&csv_row(r))?;
            }
            bar.set_message(format!(
                "P_mech {:.2}  P_heat {:.2}  IL-1β(I–II) {:.3}",
                r.p_mech,
                r.p_heat,
                r.mean("I-II", REPORTED_MEDIATOR).unwrap_or(0.0)
            ));
            record_figure(&mut figures, &st, &obs)?;
            if cut >= next_snapshot - 1e-6 || cut >= sc.duration_s - 1e-6 {
                snapshot_minutes.push(write_snapshot(&st, &obs)?);
                while next_snapshot <= cut + 1e-6 {
                    next_snapshot += sc.snapshot_every_s;
                }
            }
            writing_s += started.elapsed().as_secs_f64();
        }
        if let (Some(m), Some(every)) = (checkpointing, opts.checkpoint_every_s)
            && last_checkpoint.elapsed().as_secs_f64() >= every
            && !st.finished()
        {
            let started = Instant::now();
            m.save(
                gpu,
                &st,
                figures.as_ref(),
                &snapshot_minutes,
                next_snapshot,
                start,
            )?;
            profile.checkpoints += 1;
            profile.checkpoints_s += started.elapsed().as_secs_f64();
            writing_s += started.elapsed().as_secs_f64();
            last_checkpoint = Instant::now();
        }
        bar.set_position((st.time_s() / 3600.0) as u64);
    }
    bar.finish_and_clear();
    let loop_s = loop_start.elapsed().as_secs_f64();
    if let Some(dir) = &opts.out_dir {
        let started = Instant::now();
        crate::run::export::write_exports(dir, sc, &st, &snapshot_minutes, &command)?;
        profile.figures_s += started.elapsed().as_secs_f64();
    }
    let figure_report = match figures {
        Some(fw) => {
            let started = Instant::now();
            let n = fw.count() as u64;
            let fig_bar = output::progress_bar(opts.progress, n, "figures drawn");
            let report = fw.finish(gpu, &mut |k, _| fig_bar.set_position(k as u64))?;
            fig_bar.finish_and_clear();
            if let Some(note) = &report.movie_note {
                eprintln!("dorsalhorn run: no movie: {note}");
            }
            profile.figures_s += started.elapsed().as_secs_f64();
            Some(report)
        }
        None => None,
    };
    let sim = &st.sim;
    profile.readouts_s = st.readout_s - readout_s0;
    profile.stepping_s = (loop_s - profile.readouts_s - writing_s).max(0.0);
    if let Some(p) = sim.profile()
        && p.steps > 0
    {
        let sampled = p.reaction_s + p.transport_s;
        profile.transport_s = profile.stepping_s * p.transport_s / sampled.max(1e-12);
        profile.reaction_s = profile.stepping_s * p.reaction_s / sampled.max(1e-12);
        profile.sampled_steps = p.steps;
    }
    profile.dispatches = sim.dispatches;
    profile.dispatches_per_transport_step =
        profile.dispatches as f64 / sim.transport_steps().max(1) as f64;
    let started = Instant::now();
    let mut summary = TissueSummary {
        completed: true,
        dorsalhorn_version: env!("CARGO_PKG_VERSION"),
        provenance: output::Provenance::of_this_run(),
        scenario_name: sc.name.clone(),
        scenario_origin: sc.origin.clone(),
        adapter: gpu.summary(),
        grid: [nx, ny],
        spacing_um: sc.spacing_um,
        active_cells: sim.layout.active.iter().filter(|a| **a).count(),
        simulated_days: sim.time_s() / 86400.0,
        wall_time_s: wall_before_s + start.elapsed().as_secs_f64(),
        transport_steps: sim.transport_steps(),
        reaction_substeps: sim.reaction_substeps(),
        stencil_passes: sim.stencil_passes,
        explicit_stencil_passes: sim.explicit_passes,
        naive_probe: st.naive,
        final_readout: st.readouts.last().expect("at least one readout").clone(),
        profile,
        figures: figure_report,
        resumed,
        ensemble: st.seat().map(|(member, members)| EnsembleNote {
            member: member + 1,
            members,
        }),
        resolved_scenario: sc.resolved_toml.clone(),
    };
    if let Some(dir) = &opts.out_dir {
        if let Some(f) = csv.as_mut() {
            f.flush()?;
        }
        summary.profile.writing_s =
            writing_s + summary.profile.figures_s + started.elapsed().as_secs_f64();
        summary.wall_time_s = wall_before_s + start.elapsed().as_secs_f64();
        let json = serde_json::to_string_pretty(&summary).expect("summary serialises");
        output::write_atomic(&dir.join("summary.json"), json.as_bytes())?;
        // Complete: nothing is left to resume.
        checkpoint::remove(dir)?;
    } else {
        summary.profile.writing_s = writing_s + summary.profile.figures_s;
    }
    Ok(TissueRun {
        summary,
        readouts: st.readouts,
    })
}

/// What every figure of the run shows that does not change: the section, the protocol and the
/// small print.
fn figure_scene(gpu: &Gpu, sc: &TissueScenario, st: &Stepper, story: Option<&Story>) -> Scene {
    let t = &st.sim.layout.tissue;
    let p = output::Provenance::of_this_run();
    Scene {
        name: story.map_or_else(|| sc.name.clone(), |s| s.title.clone()),
        description: story.map_or_else(|| sc.description.clone(), |s| s.summary.clone()),
        story: story.cloned(),
        nx: t.nx,
        ny: t.ny,
        h_um: t.h,
        region: t.dominant_map(),
        duration_s: sc.duration_s,
        protocol: sc.protocol.clone(),
        pain_name: sc.pain_name(),
        doses: sc.doses.clone(),
        colormap: sc.colormap,
        footer: format!(
            "dorsalhorn {} ({})  ·  {} µm grid, {} × {} cells  ·  {}",
            env!("CARGO_PKG_VERSION"),
            p.source_revision,
            sc.spacing_um,
            t.nx,
            t.ny,
            gpu.info.name
        ),
    }
}
