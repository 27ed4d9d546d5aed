//! Parameter sweeps (`dorsalhorn sweep`): the Cartesian product of `--vary key=values` over a
//! dorsal-horn scenario, one ordinary run folder per member, a `summary.csv` of the outcome
//! metrics of every member at chosen days and outcome-vs-parameter plots. `--shard K/N` runs a
//! deterministic slice (members K−1, K−1+N, …) so a job array spreads a sweep over machines;
//! `merge` joins the slices' rows into the same `summary.csv` an unsharded sweep writes. A
//! sweep run again in the same folder skips the members already completed, so an interrupted
//! sweep resumes where it stopped.
//!
//! Members that share a grid, parameters and step schedule run side by side in the same
//! dispatches, as one GPU ensemble (`batch.rs`, [`crate::run::ensemble`]); the others run one
//! after another, sharing the baseline cache. A member's outputs are the same bits either way.
//! A member stopped after a checkpoint continues from it, alone. The plan (what varies, the
//! members, the summary's columns) is in `plan.rs` ([`SweepPlan`]).

pub mod batch;
mod plan;

use plan::split_top;
pub use plan::{DEFAULT_METRICS, SweepPlan, Vary};

use crate::error::{Error, ScenarioError};
use crate::figure::timeseries::RunSeries;
use crate::gpu::Gpu;
use crate::output;
use crate::output::csv_field;
use crate::output::plot::{LinePlot, PALETTE, PlotGrid, Series};
use crate::run::checkpoint::CHECKPOINT_FILE;
use crate::run::dorsal_horn::{TissueRunOptions, run};
use crate::run::resume::resume;
use crate::scenario::dorsal_horn::TissueScenario;
use crate::tissue::baseline::BaselineCache;
use std::path::{Path, PathBuf};

/// Options of a sweep run.
pub struct SweepOptions {
    pub out: PathBuf,
    /// (K, N): run members K−1, K−1+N, ... (1-based K).
    pub shard: Option<(usize, usize)>,
    pub progress: bool,
    pub cache: Option<BaselineCache>,
    /// Each member's checkpoint interval ([`TissueRunOptions::checkpoint_every_s`]): a member
    /// interrupted after a checkpoint continues from it when the sweep runs again.
    pub checkpoint_every_s: Option<f64>,
    /// At most this many members side by side in one GPU ensemble (`None`: as many as fit, up
    /// to [`batch::AUTO_BATCH`]; 1: one after another).
    pub batch: Option<usize>,
}

/// What became of each member that this invocation owned.
#[derive(Debug, Default)]
pub struct SweepReport {
    pub members: usize,
    pub ran: usize,
    pub skipped: usize,
    pub failed: Vec<String>,
    pub summary: PathBuf,
}

/// The folder of member `i` (0-based).
pub fn member_dir(out: &Path, i: usize) -> PathBuf {
    out.join("members").join(format!("m{:04}", i + 1))
}

fn completed(dir: &Path) -> bool {
    std::fs::read(dir.join("status.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .is_some_and(|v| v["state"] == "completed")
        && dir.join("summary.json").exists()
}

/// The summary row of member `i` from its folder (metrics at the plan's days).
fn row(plan: &SweepPlan, out: &Path, i: usize, values: &[String], status: &str) -> String {
    let dir = member_dir(out, i);
    let mut r = format!("{},members/m{:04}", i + 1, i + 1);
    for v in values {
        r.push(',');
        r.push_str(&csv_field(v));
    }
    r.push(',');
    r.push_str(&csv_field(status));
    let series = (status == "completed")
        .then(|| RunSeries::load(&dir, None).ok())
        .flatten();
    for d in &plan.at_days {
        for m in &plan.metrics {
            let v = series.as_ref().and_then(|s| {
                let col = s.column(m)?;
                col.iter().find(|p| p[0] >= d - 1e-6).map(|p| p[1])
            });
            r.push(',');
            if let Some(v) = v {
                r.push_str(&format!("{v:.6e}"));
            }
        }
    }
    r.push('\n');
    r
}

fn write_plan(out: &Path, plan: &SweepPlan) -> Result<(), Error> {
    let path = out.join("sweep.json");
    let json = serde_json::to_string_pretty(plan).expect("plan serialises");
    if let Ok(old) = std::fs::read(&path) {
        let same = serde_json::from_slice::<SweepPlan>(&old).is_ok_and(|p| p == *plan);
        if !same {
            return Err(Error::Output(format!(
                "{} holds a different sweep ({}): choose another --out folder, or delete it to start again",
                out.display(),
                path.display()
            )));
        }
        return Ok(());
    }
    output::write_atomic(&path, json.as_bytes())
}

/// The summary file of this invocation: summary.csv, or summary.shard-K-of-N.csv.
fn summary_name(shard: Option<(usize, usize)>) -> String {
    match shard {
        None => "summary.csv".into(),
        Some((k, n)) => format!("summary.shard-{k}-of-{n}.csv"),
    }
}

/// Runs the members this invocation owns (all, or one shard's), writing the summary after each.
pub fn run_sweep(gpu: &Gpu, plan: &SweepPlan, opts: &SweepOptions) -> Result<SweepReport, Error> {
    let scenarios = plan.resolve()?;
    if let Some((k, n)) = opts.shard
        && !(n >= 1 && (1..=n).contains(&k))
    {
        return Err(
            ScenarioError::new("--shard", format!("{k}/{n}: give K/N with 1 ≤ K ≤ N")).into(),
        );
    }
    std::fs::create_dir_all(opts.out.join("members"))
        .map_err(|e| Error::io("cannot create folder", &opts.out, e))?;
    write_plan(&opts.out, plan)?;
    let members = plan.members();
    let mine: Vec<usize> = (0..members.len())
        .filter(|i| opts.shard.is_none_or(|(k, n)| i % n == k - 1))
        .collect();
    let mut report = SweepReport {
        members: mine.len(),
        summary: opts.out.join(summary_name(opts.shard)),
        ..SweepReport::default()
    };
    // Each member's row, computed once when its status is settled (a completed row reads the
    // member's time series).
    let mut rows: Vec<String> = mine
        .iter()
        .map(|&i| row(plan, &opts.out, i, &members[i], "pending"))
        .collect();
    let write_summary = |rows: &[String]| -> Result<(), Error> {
        let mut s = plan.header();
        s.extend(rows.iter().map(String::as_str));
        output::write_atomic(&report.summary, s.as_bytes())
    };
    let settled = |i: usize, status: &str| row(plan, &opts.out, i, &members[i], status);
    let name = |i: usize| {
        let what = plan.describe(&members[i]);
        format!("member {}/{} ({what})", i + 1, members.len())
    };
    let tell = |i: usize, what: &str| {
        if opts.progress {
            eprintln!("{}: {what}", name(i));
        }
    };
    let run_opts = |i: usize| member_options(opts, i);
    // What is left: members continued from a checkpoint run alone; fresh members that can
    // step together run in batches (`--batch`).
    let mut fresh = Vec::new();
    let mut units: Vec<Vec<usize>> = Vec::new();
    for (j, &i) in mine.iter().enumerate() {
        let dir = member_dir(&opts.out, i);
        if completed(&dir) {
            rows[j] = settled(i, "completed");
            report.skipped += 1;
            tell(i, "completed earlier, kept");
        } else if dir.join(CHECKPOINT_FILE).exists() {
            units.push(vec![i]);
        } else {
            fresh.push(i);
        }
    }
    let cap = if opts.cache.is_some() {
        opts.batch.unwrap_or(batch::AUTO_BATCH)
    } else {
        // Without a baseline cache every member would settle its own baseline.
        1
    };
    units.extend(batch::batches(gpu, &scenarios, &fresh, cap));
    units.sort_by_key(|u| u[0]);
    let mut interrupted = None;
    for unit in &units {
        let outcomes = run_unit(gpu, &scenarios, unit, &run_opts, opts.progress, &tell);
        for (i, outcome) in outcomes {
            let j = mine
                .iter()
                .position(|&m| m == i)
                .expect("a member of this shard");
            match outcome {
                Ok(_) => {
                    rows[j] = settled(i, "completed");
                    report.ran += 1;
                }
                Err(e @ Error::Interrupted { .. }) => {
                    rows[j] = settled(i, "interrupted");
                    interrupted = Some(e);
                }
                Err(e) => {
                    let msg = format!("failed: {e}");
                    eprintln!("{}: {msg}", name(i));
                    report.failed.push(format!("{}: {e}", name(i)));
                    rows[j] = settled(i, &msg);
                }
            }
        }
        write_summary(&rows)?;
        if let Some(e) = interrupted {
            return Err(e);
        }
    }
    write_summary(&rows)?;
    if opts.shard.is_none() {
        write_plots(plan, &opts.out)?;
    }
    Ok(report)
}

/// The run options of member `i` (0-based): its folder, the sweep's cache and checkpoints.
fn member_options(opts: &SweepOptions, i: usize) -> TissueRunOptions {
    TissueRunOptions {
        out_dir: Some(member_dir(&opts.out, i)),
        overwrite: true,
        progress: opts.progress,
        cache: opts.cache.clone(),
        story: None,
        checkpoint_every_s: opts.checkpoint_every_s,
        ensemble: None,
    }
}

/// Runs one member alone (continuing it from its checkpoint if it has one) or a batch side by
/// side; `tell(i, what)` reports on member i.
fn run_unit(
    gpu: &Gpu,
    scenarios: &[TissueScenario],
    unit: &[usize],
    run_opts: &dyn Fn(usize) -> TissueRunOptions,
    progress: bool,
    tell: &dyn Fn(usize, &str),
) -> Vec<(usize, Result<crate::run::dorsal_horn::TissueRun, Error>)> {
    if let [i] = unit[..] {
        let resumable = run_opts(i)
            .out_dir
            .is_some_and(|d| d.join(CHECKPOINT_FILE).exists());
        tell(
            i,
            if resumable {
                "continuing from its checkpoint"
            } else {
                "running"
            },
        );
        let outcome = run_member(gpu, &scenarios[i], &run_opts(i), resumable, &|e| {
            tell(
                i,
                &format!("cannot continue from its checkpoint ({e}); running it from the start"),
            );
        });
        return vec![(i, outcome)];
    }
    batch::run_batch(gpu, scenarios, unit, run_opts, progress, tell, &|i, why| {
        match why {
            Some(why) => tell(i, &format!("running it alone ({why})")),
            None => tell(i, "running"),
        }
        run(gpu, &scenarios[i], &run_opts(i))
    })
}

/// Runs a member, or continues it from its checkpoint when `resumable`; if it cannot be
/// continued (another build, other parameters, a damaged file), says why through `note` and
/// runs it from the start.
fn run_member(
    gpu: &Gpu,
    sc: &TissueScenario,
    run_opts: &TissueRunOptions,
    resumable: bool,
    note: &dyn Fn(&Error),
) -> Result<crate::run::dorsal_horn::TissueRun, Error> {
    if !resumable {
        return run(gpu, sc, run_opts);
    }
    match resume(gpu, sc, run_opts) {
        Err(e) if !matches!(e, Error::Interrupted { .. }) => {
            note(&e);
            run(gpu, sc, run_opts)
        }
        resumed => resumed,
    }
}

/// Joins the shard summaries found in `dirs` into `out/summary.csv` (and its plots): every
/// member exactly once, in member order, as an unsharded sweep writes it.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<PathBuf, Error> {
    let mut plan: Option<SweepPlan> = None;
    let mut rows: Vec<(usize, String)> = Vec::new();
    for d in dirs {
        let path = d.join("sweep.json");
        let bytes = std::fs::read(&path)
            .map_err(|e| Error::io("not a sweep folder (no sweep.json)", &path, e))?;
        let p: SweepPlan = serde_json::from_slice(&bytes)
            .map_err(|e| Error::Output(format!("{}: {e}", path.display())))?;
        if plan.as_ref().is_some_and(|q| *q != p) {
            return Err(Error::Output(format!(
                "{} is a different sweep from {}",
                d.display(),
                dirs[0].display()
            )));
        }
        plan = Some(p);
        let mut entries: Vec<_> = std::fs::read_dir(d)
            .map_err(|e| Error::io("cannot read", d, e))?
            .flatten()
            .map(|e| e.file_name().to_string_lossy().to_string())
            .filter(|n| n.starts_with("summary.shard-") && n.ends_with(".csv"))
            .collect();
        entries.sort();
        for n in entries {
            let text = std::fs::read_to_string(d.join(&n))
                .map_err(|e| Error::io("cannot read", d.join(&n), e))?;
            for line in text.lines().skip(1) {
                let i: usize = line
                    .split(',')
                    .next()
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| {
                        Error::Output(format!(
                            "{}: a row without a member number",
                            d.join(&n).display()
                        ))
                    })?;
                rows.push((i, format!("{line}\n")));
            }
        }
    }
    let plan = plan.ok_or_else(|| Error::Output("give at least one sweep folder".into()))?;
    rows.sort_by_key(|r| r.0);
    rows.dedup();
    let n = plan.members().len();
    let have: Vec<usize> = rows.iter().map(|r| r.0).collect();
    if have != (1..=n).collect::<Vec<_>>() {
        let missing: Vec<String> = (1..=n)
            .filter(|i| !have.contains(i))
            .map(|i| i.to_string())
            .collect();
        return Err(Error::Output(format!(
            "the shard summaries do not hold every member once: missing {}; run the missing shards (or give every shard's folder)",
            if missing.is_empty() {
                "none, but some twice with different values".into()
            } else {
                missing.join(", ")
            }
        )));
    }
    let mut s = plan.header();
    for (_, r) in &rows {
        s.push_str(r);
    }
    std::fs::create_dir_all(out).map_err(|e| Error::io("cannot create folder", out, e))?;
    let path = out.join("summary.csv");
    output::write_atomic(&path, s.as_bytes())?;
    if out.join("sweep.json") != dirs[0].join("sweep.json") {
        write_plan(out, &plan)?;
    }
    write_plots(&plan, out)?;
    Ok(path)
}

/// `plots/METRIC.svg` from summary.csv: each metric at the last day against the first varied
/// key, one line per combination of the others.
fn write_plots(plan: &SweepPlan, out: &Path) -> Result<(), Error> {
    let text = std::fs::read_to_string(out.join("summary.csv"))
        .map_err(|e| Error::io("cannot read", out.join("summary.csv"), e))?;
    let members = plan.members();
    let day = *plan.at_days.last().unwrap_or(&0.0);
    let nv = plan.vary.len();
    let rows: Vec<Vec<String>> = text.lines().skip(1).map(split_top).collect();
    let dir = out.join("plots");
    std::fs::create_dir_all(&dir).map_err(|e| Error::io("cannot create folder", &dir, e))?;
    let numeric = plan.vary[0].values.iter().all(|v| v.parse::<f64>().is_ok());
    let x_of = |v: &str| -> f64 {
        if numeric {
            v.parse().unwrap_or(f64::NAN)
        } else {
            plan.vary[0]
                .values
                .iter()
                .position(|x| x == v)
                .map_or(f64::NAN, |k| k as f64)
        }
    };
    let base = 2 + nv + 1 + (plan.at_days.len() - 1) * plan.metrics.len();
    let mut panels = Vec::new();
    for (mi, m) in plan.metrics.iter().enumerate() {
        let mut groups: Vec<(String, Vec<[f64; 2]>)> = Vec::new();
        for (k, r) in rows.iter().enumerate() {
            let Some(vals) = members.get(k) else { continue };
            let rest = plan
                .describe(vals)
                .split(", ")
                .skip(1)
                .collect::<Vec<_>>()
                .join(", ");
            let y = r
                .get(base + mi)
                .and_then(|s| s.parse::<f64>().ok())
                .unwrap_or(f64::NAN);
            let pt = [x_of(&vals[0]), y];
            match groups.iter_mut().find(|g| g.0 == rest) {
                Some(g) => g.1.push(pt),
                None => groups.push((rest, vec![pt])),
            }
        }
        panels.push(LinePlot {
            title: format!("{m} on day {day}"),
            x_label: if numeric {
                plan.vary[0].key.clone()
            } else {
                format!("{} ({})", plan.vary[0].key, plan.vary[0].values.join(", "))
            },
            y_label: m.clone(),
            series: groups
                .into_iter()
                .enumerate()
                .map(|(k, (name, points))| Series {
                    name: if name.is_empty() { "all".into() } else { name },
                    points,
                    colour: PALETTE[k % PALETTE.len()],
                    dashed: false,
                    dots: true,
                })
                .collect(),
            ..LinePlot::default()
        });
    }
    let legend = panels.first().map_or_else(Vec::new, |p| {
        p.series
            .iter()
            .map(|s| (s.name.clone(), s.colour, false))
            .collect()
    });
    let grid = PlotGrid {
        title: format!(
            "sweep of {}: outcomes on day {day} against {}",
            plan.scenario, plan.vary[0].key
        ),
        cols: 3,
        panels,
        legend,
        note: format!(
            "{} members; each point one member's run (members/mNNNN); summary.csv holds the numbers.",
            members.len()
        ),
    };
    output::write_atomic(&dir.join("outcomes.svg"), grid.svg(360.0, 260.0).as_bytes())
}
