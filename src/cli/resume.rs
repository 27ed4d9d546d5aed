//! `dorsalhorn resume`.

use dorsalhorn::error::{Error, ScenarioError};
use dorsalhorn::run::checkpoint;
use dorsalhorn::run::dorsal_horn::TissueRunOptions;
use dorsalhorn::run::resume::REPLAY_SCENARIO;
use dorsalhorn::scenario::{AnyScenario, load_any};
use std::path::PathBuf;

/// The options of `dorsalhorn resume`.
#[derive(clap::Args)]
pub struct ResumeArgs {
    /// The output folder of an interrupted `dorsalhorn run` (it holds checkpoint.bin).
    pub dir: PathBuf,
    /// The checkpoint interval from here on (default: the run's own); `off`: only when stopped.
    #[arg(long, value_name = "DURATION")]
    pub checkpoint_every: Option<String>,
    /// No progress bar and no final report.
    #[arg(long, short)]
    pub quiet: bool,
    /// Print where this continuation's wall time went.
    #[arg(long)]
    pub profile: bool,
}

pub fn run(args: ResumeArgs) -> Result<(), Error> {
    let dir = args.dir;
    let spec = dir.join(REPLAY_SCENARIO);
    if !spec.is_file() {
        return Err(Error::Output(format!(
            "{} holds no {REPLAY_SCENARIO}: give the output folder of a dorsal-horn run made by \
             this version",
            dir.display()
        )));
    }
    let sc = match load_any(&spec.display().to_string(), &[])? {
        AnyScenario::Tissue(sc) => sc,
        AnyScenario::Engine(_) => {
            return Err(Error::Output(format!(
                "{} is an engine run: only dorsal-horn runs can be resumed",
                dir.display()
            )));
        }
    };
    // Read here for the start-up line and the interval; the run reads it again under the
    // folder's lock, and says what is wrong when it cannot (a completed run, no checkpoint).
    let ck = checkpoint::read(&dir).ok();
    // A continuation always writes a checkpoint when it is stopped (`off`: only then), so that
    // it can be resumed again.
    let every = match &args.checkpoint_every {
        Some(text) => checkpoint::parse_every(text)
            .map_err(|why| ScenarioError::new("--checkpoint-every", why))?,
        None => ck.as_ref().and_then(|c| c.every_s),
    };
    let checkpoint_every_s = Some(every.unwrap_or(f64::INFINITY));
    let gpu = dorsalhorn::gpu::Gpu::new()?;
    if !args.quiet
        && let Some(ck) = &ck
    {
        let t = ck.stepper.sim.time_s;
        eprintln!(
            "dorsalhorn {}: resuming `{}` in {} from model time {:.2} h (day {:.2}) of {} days, on \
             {} ({:?})",
            env!("CARGO_PKG_VERSION"),
            sc.name,
            dir.display(),
            t / 3600.0,
            t / 86400.0,
            sc.duration_s / 86400.0,
            gpu.info.name,
            gpu.info.backend
        );
    }
    let opts = TissueRunOptions {
        out_dir: Some(dir.clone()),
        overwrite: false,
        progress: !args.quiet,
        cache: dorsalhorn::tissue::baseline::BaselineCache::from_env(),
        story: None,
        checkpoint_every_s,
        ensemble: None,
    };
    let run = dorsalhorn::run::resume::resume(&gpu, &sc, &opts)?;
    crate::cli::run::report_done(&run.summary, &dir, args.quiet, args.profile);
    Ok(())
}
