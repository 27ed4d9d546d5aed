//! Parameter sweeps (`dorsalhorn sweep`): the Cartesian product of `--vary key=values` over a
//! dorsal-horn scenario, one ordinary run folder per member, a `summary.csv` of the outcome
//! metrics of every member at chosen days and outcome-vs-parameter plots. `--shard K/N` runs a
//! deterministic slice (members K−1, K−1+N, …) so a job array spreads a sweep over machines;
//! `merge` joins the slices' rows into the same `summary.csv` an unsharded sweep writes. A
//! sweep run again in the same folder skips the members already completed, so an interrupted
//! sweep resumes where it stopped.
//!
//! Members run one after another on one device, sharing the baseline cache; running members
//! that share a grid side by side in the same dispatches (a GPU ensemble) is not built yet.

use crate::error::{Error, ScenarioError};
use crate::figure::timeseries::RunSeries;
use crate::gpu::Gpu;
use crate::output;
use crate::output::csv_field;
use crate::output::plot::{LinePlot, PALETTE, PlotGrid, Series};
use crate::run::dorsal_horn::{TissueRunOptions, run};
use crate::scenario::dorsal_horn::TissueScenario;
use crate::scenario::{AnyScenario, load_any};
use crate::tissue::baseline::BaselineCache;
use std::path::{Path, PathBuf};

/// One varied key and its values (TOML literals, as `--set` takes them).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Vary {
    pub key: String,
    pub values: Vec<String>,
}

/// Splits `s` at commas outside brackets, braces and quotes.
fn split_top(s: &str) -> Vec<String> {
    let (mut out, mut cur, mut depth, mut quote) = (Vec::new(), String::new(), 0i32, None);
    for ch in s.chars() {
        match (ch, quote) {
            ('"' | '\'', None) => quote = Some(ch),
            (c, Some(q)) if c == q => quote = None,
            ('[' | '{', None) => depth += 1,
            (']' | '}', None) => depth -= 1,
            (',', None) if depth == 0 => {
                out.push(std::mem::take(&mut cur).trim().to_string());
                continue;
            }
            _ => {}
        }
        cur.push(ch);
    }
    out.push(cur.trim().to_string());
    out
}

impl Vary {
    /// `key.path=v1,v2,...` (values are TOML; commas inside [..] or {..} do not split) or
    /// `key.path=start:stop:count` (count evenly spaced numbers, both ends included).
    pub fn parse(arg: &str) -> Result<Vary, ScenarioError> {
        let origin = format!("--vary {arg}");
        let Some((key, vals)) = arg.split_once('=') else {
            return Err(ScenarioError::new(
                origin,
                "expected KEY.PATH=V1,V2,... or KEY.PATH=START:STOP:COUNT, e.g. --vary ea[0].frequency_hz=2,15,100",
            ));
        };
        let key = key.trim().to_string();
        let parts: Vec<&str> = vals.split(':').collect();
        let values = if parts.len() == 3 && !vals.contains(['[', '{', '"']) {
            let num = |s: &str| s.trim().parse::<f64>().ok().filter(|v| v.is_finite());
            let (Some(a), Some(b), Ok(n)) = (
                num(parts[0]),
                num(parts[1]),
                parts[2].trim().parse::<usize>(),
            ) else {
                return Err(ScenarioError::new(
                    origin,
                    "START:STOP:COUNT needs two numbers and a whole count, e.g. 0.5:2:4",
                ));
            };
            if !(2..=1000).contains(&n) {
                return Err(ScenarioError::new(
                    origin,
                    format!("COUNT {n} is out of range: allowed 2 ≤ COUNT ≤ 1000"),
                ));
            }
            (0..n)
                .map(|k| {
                    let v = a + (b - a) * k as f64 / (n - 1) as f64;
                    // Round away float noise (0.1 + 0.2) so folders and rows read cleanly.
                    let v = (v * 1e9).round() / 1e9;
                    if v.fract() == 0.0 {
                        format!("{v:.1}")
                    } else {
                        format!("{v}")
                    }
                })
                .collect()
        } else {
            split_top(vals)
        };
        if values.iter().any(String::is_empty) {
            return Err(ScenarioError::new(
                origin,
                "an empty value: write V1,V2,... with no empty entries",
            ));
        }
        Ok(Vary { key, values })
    }
}

/// What a sweep runs and measures.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SweepPlan {
    /// The scenario as named (file or built-in).
    pub scenario: String,
    /// `--set` edits applied to every member before its own values.
    pub sets: Vec<String>,
    pub vary: Vec<Vary>,
    /// Columns of timeseries.csv reported per member.
    pub metrics: Vec<String>,
    /// Days at which the metrics are read (the first read-out at or after each).
    pub at_days: Vec<f64>,
}

/// The metrics when none are named.
pub const DEFAULT_METRICS: [&str; 9] = [
    "P_mech",
    "P_heat",
    "PWT_g",
    "PWL_s",
    "IL1b@I-II",
    "IL10@I-II",
    "M@I-II",
    "A@I-II",
    "O_mudelta@I-II",
];

impl SweepPlan {
    /// The members' values in order: the first `--vary` varies slowest.
    pub fn members(&self) -> Vec<Vec<String>> {
        let mut out: Vec<Vec<String>> = vec![Vec::new()];
        for v in &self.vary {
            out = out
                .into_iter()
                .flat_map(|prefix| {
                    v.values.iter().map(move |x| {
                        let mut p = prefix.clone();
                        p.push(x.clone());
                        p
                    })
                })
                .collect();
        }
        out
    }

    /// The `--set` list of member values `values`.
    pub fn member_sets(&self, values: &[String]) -> Vec<String> {
        let mut sets = self.sets.clone();
        sets.extend(
            self.vary
                .iter()
                .zip(values)
                .map(|(v, x)| format!("{}={x}", v.key)),
        );
        sets
    }

    /// Every member's scenario, resolved before anything runs: a bad value stops the sweep
    /// with the member and the key named.
    pub fn resolve(&self) -> Result<Vec<TissueScenario>, Error> {
        if self.vary.is_empty() {
            return Err(ScenarioError::new(
                "dorsalhorn sweep",
                "nothing to vary: give at least one --vary KEY.PATH=V1,V2,...",
            )
            .into());
        }
        self.members()
            .iter()
            .enumerate()
            .map(
                |(i, values)| match load_any(&self.scenario, &self.member_sets(values)) {
                    Ok(AnyScenario::Tissue(sc)) => Ok(*sc),
                    Ok(AnyScenario::Engine(_)) => Err(ScenarioError::new(
                        &self.scenario,
                        "sweeps run dorsal-horn scenarios; this is an engine scenario",
                    )
                    .into()),
                    Err(e) => Err(ScenarioError::new(
                        format!("sweep member {} ({})", i + 1, self.describe(values)),
                        e.to_string(),
                    )
                    .into()),
                },
            )
            .collect()
    }

    /// The metric days: the end of the shortest member when none are given; each must lie
    /// within every member's run.
    pub fn choose_days(&mut self, scenarios: &[TissueScenario]) -> Result<(), Error> {
        let shortest = scenarios
            .iter()
            .map(|s| s.duration_s / 86400.0)
            .fold(f64::INFINITY, f64::min);
        if self.at_days.is_empty() {
            self.at_days = vec![shortest];
        }
        if let Some(d) = self
            .at_days
            .iter()
            .find(|d| !(0.0..=shortest + 1e-9).contains(*d))
        {
            return Err(ScenarioError::new(
                "--at-days",
                format!(
                    "{d} is out of range: allowed 0 ≤ day ≤ {shortest} (the shortest member's time.days)"
                ),
            )
            .into());
        }
        Ok(())
    }

    /// `ea[0].frequency_hz=2, ea[0].intensity_ma=1`: the member's values by key.
    pub fn describe(&self, values: &[String]) -> String {
        self.vary
            .iter()
            .zip(values)
            .map(|(v, x)| format!("{}={x}", v.key))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn header(&self) -> String {
        let mut h = String::from("member,folder");
        for v in &self.vary {
            h.push(',');
            h.push_str(&csv_field(&v.key));
        }
        h.push_str(",status");
        for d in &self.at_days {
            for m in &self.metrics {
                h.push_str(&format!(",{}", csv_field(&format!("{m}@day{d}"))));
            }
        }
        h.push('\n');
        h
    }
}

/// Options of a sweep run.
pub struct SweepOptions {
    pub out: PathBuf,
    /// (K, N): run members K−1, K−1+N, ... (1-based K).
    pub shard: Option<(usize, usize)>,
    pub progress: bool,
    pub cache: Option<BaselineCache>,
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
    for (j, &i) in mine.iter().enumerate() {
        let dir = member_dir(&opts.out, i);
        let what = plan.describe(&members[i]);
        if completed(&dir) {
            rows[j] = settled(i, "completed");
            report.skipped += 1;
            if opts.progress {
                eprintln!(
                    "member {}/{} ({what}): completed earlier, kept",
                    i + 1,
                    members.len()
                );
            }
            continue;
        }
        if opts.progress {
            eprintln!("member {}/{} ({what}): running", i + 1, members.len());
        }
        let run_opts = TissueRunOptions {
            out_dir: Some(dir.clone()),
            overwrite: true,
            progress: opts.progress,
            cache: opts.cache.clone(),
            story: None,
        };
        match run(gpu, &scenarios[i], &run_opts) {
            Ok(_) => {
                rows[j] = settled(i, "completed");
                report.ran += 1;
            }
            Err(e @ Error::Interrupted { .. }) => {
                rows[j] = settled(i, "interrupted");
                write_summary(&rows)?;
                return Err(e);
            }
            Err(e) => {
                let msg = format!("failed: {e}");
                eprintln!("member {}/{} ({what}): {msg}", i + 1, members.len());
                report
                    .failed
                    .push(format!("member {} ({what}): {e}", i + 1));
                rows[j] = settled(i, &msg);
            }
        }
        write_summary(&rows)?;
    }
    write_summary(&rows)?;
    if opts.shard.is_none() {
        write_plots(plan, &opts.out)?;
    }
    Ok(report)
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
