//! `dorsalhorn run`.

use crate::cli::SCENARIO_HELP;
use dorsalhorn::error::{Error, ScenarioError};
use dorsalhorn::model::network::state::REPORTED_MEDIATOR;
use dorsalhorn::run::generic as controller;
use dorsalhorn::scenario::{AnyScenario, load_any};
use dorsalhorn::{gpu, scenario};
use std::path::PathBuf;

/// The options of `dorsalhorn run`.
#[derive(clap::Args)]
pub struct RunArgs {
    #[arg(help = SCENARIO_HELP)]
    pub scenario: Option<String>,
    /// Replay the run in this folder: its resolved scenario (scenario.toml) with the
    /// parameters it was made with (provenance.json); --set edits apply on top. Write the
    /// replay to another folder with --out.
    #[arg(long, value_name = "RUN_DIR", conflicts_with = "scenario")]
    pub from: Option<PathBuf>,
    /// Output folder (default: out/<scenario name>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Override a scenario key, e.g. --set grid.size=[200,136] --set time.steps=100.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Replace an earlier run in the output folder.
    #[arg(long)]
    pub overwrite: bool,
    /// No progress bar and no final report.
    #[arg(long, short)]
    pub quiet: bool,
    /// Print where the wall time went (set-up, baseline, transport, reaction, read-outs,
    /// writing; also in summary.json for every dorsal-horn run).
    #[arg(long)]
    pub profile: bool,
    /// Write checkpoint.bin into the output folder every DURATION of wall time (a number with
    /// s, min or h: `10min`; `0s`: after every transport step) and when Ctrl-C or SIGTERM stops
    /// the run, so that `dorsalhorn resume DIR` continues it; `off`: none. Removed when the run
    /// completes. Dorsal-horn scenarios only.
    #[arg(long, value_name = "DURATION", default_value = "10min")]
    pub checkpoint_every: String,
}

pub fn run(args: RunArgs) -> Result<(), Error> {
    let RunArgs {
        scenario,
        from,
        out,
        set,
        overwrite,
        quiet,
        profile,
        checkpoint_every,
    } = args;
    let checkpoint_every_s = dorsalhorn::run::checkpoint::parse_every(&checkpoint_every)
        .map_err(|why| ScenarioError::new("--checkpoint-every", why))?;
    let spec = match &from {
        Some(dir) => dir
            .join(dorsalhorn::run::resume::REPLAY_SCENARIO)
            .display()
            .to_string(),
        None => scenario.unwrap_or_else(|| scenario::DEFAULT_SCENARIO.to_string()),
    };
    match load_any(&spec, &set)? {
        AnyScenario::Tissue(sc) => {
            let out_dir = out.unwrap_or_else(|| PathBuf::from("out").join(&sc.name));
            if let Some(dir) = &from
                && dorsalhorn::output::same_folder(dir, &out_dir)
            {
                return Err(ScenarioError::new(
                    "--out",
                    format!(
                        "`{}` is the folder being replayed: write the replay to another folder",
                        out_dir.display()
                    ),
                )
                .into());
            }
            let gpu = gpu::Gpu::new()?;
            if !quiet {
                eprintln!(
                    "dorsalhorn {}: running `{}` ({} {} days, {} µm grid) on {} ({:?})",
                    env!("CARGO_PKG_VERSION"),
                    sc.name,
                    sc.animal.name(),
                    sc.duration_s / 86400.0,
                    sc.spacing_um,
                    gpu.info.name,
                    gpu.info.backend
                );
                eprintln!("  preparing the baseline tissue ({}) ...", settle_note(&sc));
            }
            let opts = dorsalhorn::run::dorsal_horn::TissueRunOptions {
                out_dir: Some(out_dir.clone()),
                overwrite,
                progress: !quiet,
                cache: dorsalhorn::tissue::baseline::BaselineCache::from_env(),
                story: None,
                checkpoint_every_s,
                ensemble: None,
            };
            let run = dorsalhorn::run::dorsal_horn::run(&gpu, &sc, &opts)?;
            report_done(&run.summary, &out_dir, quiet, profile);
            Ok(())
        }
        AnyScenario::Engine(sc) => {
            let out_dir = out.unwrap_or_else(|| PathBuf::from("out").join(&sc.name));
            sc.check_stability()?;
            let gpu = gpu::Gpu::new()?;
            if !quiet {
                eprintln!(
                    "dorsalhorn {}: running `{}` ({} x {} cells, {} species, {} steps) on {} ({:?})",
                    env!("CARGO_PKG_VERSION"),
                    sc.name,
                    sc.problem.grid.nx,
                    sc.problem.grid.ny,
                    sc.problem.species.len(),
                    sc.steps,
                    gpu.info.name,
                    gpu.info.backend
                );
            }
            let opts = controller::RunOptions {
                out_dir: out_dir.clone(),
                overwrite,
                progress: !quiet,
            };
            let summary = controller::run(&gpu, &sc, &opts)?;
            if !quiet {
                eprintln!(
                    "done: {} steps, t = {} s simulated in {:.2} s wall. Outputs in {}/ \
                 (fields/*.npy, frames/*.png, timeseries.csv, summary.json)",
                    summary.steps,
                    summary.simulated_time_s,
                    summary.wall_time_s,
                    out_dir.display()
                );
            }
            Ok(())
        }
    }
}

/// The end of a dorsal-horn run (`run`, `resume`): the profile when asked for, and unless
/// `quiet` what was simulated, the pain at the end and where the outputs are.
pub(crate) fn report_done(
    s: &dorsalhorn::run::dorsal_horn::TissueSummary,
    out_dir: &std::path::Path,
    quiet: bool,
    profile: bool,
) {
    if profile {
        eprint!("{}", s.profile.table(s.wall_time_s));
    }
    if quiet {
        return;
    }
    let r = &s.final_readout;
    eprintln!(
        "done: {:.2} days simulated in {:.1} s wall ({} transport steps, {} reaction sub-steps, \
         {:.0}x fewer stencil passes than forward Euler).\n  at the end: P_mech {:.2} (PWT {:.1} \
         g), P_heat {:.2} (PWL {:.1} s), IL-1β in laminae I–II {:.3} EC50\n  outputs in {}/ \
         (timeseries.csv: per-lamina means and pain indices; fields/*.npy; frames/*.png; \
         figures/*.png and the movie; summary.json)",
        s.simulated_days,
        s.wall_time_s,
        s.transport_steps,
        s.reaction_substeps,
        s.explicit_stencil_passes / s.stencil_passes.max(1) as f64,
        r.p_mech,
        r.pwt_g,
        r.p_heat,
        r.pwl_s,
        r.mean("I-II", REPORTED_MEDIATOR).unwrap_or(f64::NAN),
        out_dir.display()
    );
}

/// How the baseline of `sc` is prepared, for the start-up line.
fn settle_note(sc: &dorsalhorn::scenario::dorsal_horn::TissueScenario) -> String {
    match sc.settle {
        dorsalhorn::scenario::dorsal_horn::SettleMode::Steady => {
            "its steady state, or the cached one ($DORSALHORN_CACHE_DIR)".into()
        }
        dorsalhorn::scenario::dorsal_horn::SettleMode::Integrate => format!(
            "{} day(s) of settling, or the cached result ($DORSALHORN_CACHE_DIR)",
            sc.settle_s / 86400.0
        ),
    }
}
