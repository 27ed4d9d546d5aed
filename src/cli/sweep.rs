//! `dorsalhorn sweep` and `dorsalhorn sweep merge`.

use crate::cli::SCENARIO_HELP;
use dorsalhorn::error::{Error, ScenarioError};
use dorsalhorn::run::sweep::{DEFAULT_METRICS, SweepOptions, SweepPlan, Vary, merge, run_sweep};
use std::path::PathBuf;

/// The options of `dorsalhorn sweep`.
#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SweepArgs {
    #[command(subcommand)]
    pub merge: Option<SweepCommand>,
    #[arg(help = SCENARIO_HELP)]
    pub scenario: Option<String>,
    /// A key to vary and its values: KEY.PATH=V1,V2,... (TOML values; commas inside [..]
    /// do not split) or KEY.PATH=START:STOP:COUNT. Repeat for a Cartesian product; the first
    /// varies slowest. E.g. --vary ea[0].frequency_hz=2,15,100 --vary ea[0].intensity_ma=0.5:2:4
    #[arg(long, value_name = "KEY=VALUES")]
    pub vary: Vec<String>,
    /// Override a scenario key in every member, as for `run`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// The sweep folder: sweep.json, summary.csv, plots/, members/mNNNN/ (one run each).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Columns of timeseries.csv in summary.csv (default: pain indices, PWT, PWL, and IL-1β,
    /// IL-10, M, A, O_mudelta in laminae I–II).
    #[arg(long, value_delimiter = ',')]
    pub metric: Vec<String>,
    /// Days at which the metrics are read (default: the end of the run).
    #[arg(long, value_delimiter = ',')]
    pub at_days: Vec<f64>,
    /// Run only slice K of N (members K, K+N, ... counting from 1), for a job array; join the
    /// slices with `dorsalhorn sweep merge`.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// No progress lines.
    #[arg(long, short)]
    pub quiet: bool,
    /// Each member writes a checkpoint every DURATION of wall time (s, min or h: `10min`) and
    /// when the sweep is stopped; the same command then continues the interrupted member from
    /// it. `off`: an interrupted member runs again from the start.
    #[arg(long, value_name = "DURATION", default_value = "10min")]
    pub checkpoint_every: String,
    /// Members that share a grid, parameters and step schedule run side by side in the same
    /// GPU dispatches, at most N at once (`auto`: as many as the device holds, up to 32; `1`:
    /// one after another). Each member's outputs are the same bits either way.
    #[arg(long, value_name = "N", default_value = "auto")]
    pub batch: String,
}

#[derive(clap::Subcommand)]
pub enum SweepCommand {
    /// Join the shard summaries of a sharded sweep (one folder, or one per machine) into
    /// summary.csv and its plots.
    Merge {
        /// Sweep folders holding summary.shard-K-of-N.csv files.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Where summary.csv goes (default: the first folder).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

fn parse_shard(s: &str) -> Result<(usize, usize), Error> {
    let bad = || -> Error {
        ScenarioError::new(
            "--shard",
            format!("`{s}`: give K/N with 1 ≤ K ≤ N, e.g. 3/8"),
        )
        .into()
    };
    let (k, n) = s.split_once('/').ok_or_else(bad)?;
    let (k, n): (usize, usize) = (
        k.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if n == 0 || k == 0 || k > n {
        return Err(bad());
    }
    Ok((k, n))
}

/// `--batch`: `auto` (None) or a whole number ≥ 1.
fn parse_batch(b: &str) -> Result<Option<usize>, Error> {
    match b.trim() {
        "auto" => Ok(None),
        b => b
            .parse::<usize>()
            .ok()
            .filter(|&n| n >= 1)
            .map(Some)
            .ok_or_else(|| {
                ScenarioError::new(
                    "--batch",
                    format!("`{b}`: give a whole number of members ≥ 1, or `auto`"),
                )
                .into()
            }),
    }
}

pub fn run(args: SweepArgs) -> Result<(), Error> {
    if let Some(SweepCommand::Merge { dirs, out }) = args.merge {
        let out = out.unwrap_or_else(|| dirs[0].clone());
        let path = merge(&dirs, &out)?;
        eprintln!(
            "wrote {} and {}",
            path.display(),
            out.join("plots/outcomes.svg").display()
        );
        return Ok(());
    }
    let scenario = args.scenario.ok_or_else(|| -> Error {
        ScenarioError::new(
            "dorsalhorn sweep",
            "name a scenario, e.g. dorsalhorn sweep cfa_ea_2hz --vary ea[0].frequency_hz=2,100 --out sweeps/freq",
        )
        .into()
    })?;
    let out = args.out.ok_or_else(|| -> Error {
        ScenarioError::new(
            "dorsalhorn sweep",
            "name the sweep folder with --out DIR (it will hold sweep.json, summary.csv, plots/ and members/)",
        )
        .into()
    })?;
    let vary = args
        .vary
        .iter()
        .map(|v| Vary::parse(v))
        .collect::<Result<Vec<_>, _>>()?;
    let shard = args.shard.as_deref().map(parse_shard).transpose()?;
    let checkpoint_every_s = dorsalhorn::run::checkpoint::parse_every(&args.checkpoint_every)
        .map_err(|why| ScenarioError::new("--checkpoint-every", why))?;
    let batch = parse_batch(&args.batch)?;
    let mut plan = SweepPlan {
        scenario,
        sets: args.set,
        vary,
        metrics: if args.metric.is_empty() {
            DEFAULT_METRICS.iter().map(|s| s.to_string()).collect()
        } else {
            args.metric
        },
        at_days: args.at_days,
    };
    let scenarios = plan.resolve()?;
    plan.choose_days(&scenarios)?;
    let n = plan.members().len();
    let gpu = dorsalhorn::gpu::Gpu::new()?;
    if !args.quiet {
        eprintln!(
            "dorsalhorn {}: sweep of `{}`, {n} members{} on {} ({:?}), into {}",
            env!("CARGO_PKG_VERSION"),
            plan.scenario,
            shard.map_or(String::new(), |(k, n)| format!(" (shard {k} of {n})")),
            gpu.info.name,
            gpu.info.backend,
            out.display()
        );
    }
    let opts = SweepOptions {
        out: out.clone(),
        shard,
        progress: !args.quiet,
        cache: dorsalhorn::tissue::baseline::BaselineCache::from_env(),
        checkpoint_every_s,
        batch,
    };
    let report = run_sweep(&gpu, &plan, &opts).inspect_err(|e| {
        if matches!(e, Error::Interrupted { .. }) {
            eprintln!(
                "note: the sweep stopped; the same command resumes it (completed members are kept, an interrupted one continues from its checkpoint or runs again)"
            );
        }
    })?;
    if !args.quiet {
        eprintln!(
            "done: {} members ({} run now, {} completed earlier, {} failed); {}{}",
            report.members,
            report.ran,
            report.skipped,
            report.failed.len(),
            report.summary.display(),
            if shard.is_none() {
                format!(", {}", out.join("plots/outcomes.svg").display())
            } else {
                "; join the shards with `dorsalhorn sweep merge`".into()
            }
        );
    }
    if report.failed.is_empty() {
        Ok(())
    } else {
        Err(Error::Output(format!(
            "{} member(s) failed (their rows in {} say why): {}",
            report.failed.len(),
            report.summary.display(),
            report.failed.join("; ")
        )))
    }
}
