//! Time-series figures of finished runs (`dorsalhorn plot`): chosen columns of each run's
//! `timeseries.csv` in small panels, run against run, with each run's protocol marked (EA
//! sessions shaded in the run's colour, the pain model's onset and the doses as dashed lines),
//! as SVG ([`crate::output::plot`]) or PNG ([`super::lineplot`]).

use crate::error::Error;
use crate::model::network::protocol::DRUG_CATALOGUE;
use crate::output::plot::{LinePlot, PALETTE, PlotGrid, Series};
use crate::scenario::dorsal_horn::TissueScenario;
use std::path::{Path, PathBuf};

/// The columns drawn when none are named: the pain indices, the behaviour and, in laminae I–II,
/// the cytokines, the glia and the μ/δ-opioid occupancy.
pub const DEFAULT_COLUMNS: [&str; 10] = [
    "P_mech",
    "P_heat",
    "PWT_g",
    "PWL_s",
    "IL1b@I-II",
    "TNF@I-II",
    "IL10@I-II",
    "M@I-II",
    "A@I-II",
    "O_mudelta@I-II",
];

/// One run's time series and, when its summary.json is there, its scenario.
pub struct RunSeries {
    pub label: String,
    pub dir: PathBuf,
    pub header: Vec<String>,
    pub rows: Vec<Vec<f64>>,
    pub scenario: Option<TissueScenario>,
}

impl RunSeries {
    /// Reads `dir/timeseries.csv` (or a CSV named directly) and `dir/summary.json`'s resolved
    /// scenario; `label` defaults to the folder's name.
    pub fn load(path: &Path, label: Option<&str>) -> Result<RunSeries, Error> {
        if !path.exists() {
            return Err(Error::Output(format!(
                "{}: no such run folder or file (give a folder written by `dorsalhorn run`, or its timeseries.csv)",
                path.display()
            )));
        }
        let (dir, csv) = if path.is_dir() {
            (path.to_path_buf(), path.join("timeseries.csv"))
        } else {
            (
                path.parent().unwrap_or(Path::new(".")).to_path_buf(),
                path.to_path_buf(),
            )
        };
        let text = std::fs::read_to_string(&csv).map_err(|e| {
            Error::io(
                "cannot read the time series (give a run folder of `dorsalhorn run` or its timeseries.csv)",
                &csv,
                e,
            )
        })?;
        let mut lines = text.lines();
        let header: Vec<String> = lines
            .next()
            .unwrap_or("")
            .split(',')
            .map(str::to_string)
            .collect();
        if !header.iter().any(|h| h == "day") {
            return Err(Error::Output(format!(
                "{}: not a dorsal-horn time series (no `day` column)",
                csv.display()
            )));
        }
        let mut rows = Vec::new();
        for (n, line) in lines.enumerate() {
            let row: Result<Vec<f64>, _> = line.split(',').map(str::parse::<f64>).collect();
            match row {
                Ok(r) if r.len() == header.len() => rows.push(r),
                _ => {
                    return Err(Error::Output(format!(
                        "{}: row {} is not {} numbers",
                        csv.display(),
                        n + 2,
                        header.len()
                    )));
                }
            }
        }
        let scenario = std::fs::read(dir.join("summary.json"))
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|v| {
                let toml_value: toml::Value =
                    serde_json::from_value(v.get("resolved_scenario")?.clone()).ok()?;
                let table = toml_value.as_table()?.clone();
                let origin = dir.join("summary.json").display().to_string();
                crate::scenario::dorsal_horn::from_table(&origin, table).ok()
            });
        let label = label.map_or_else(
            || {
                dir.file_name()
                    .map_or_else(|| dir.display().to_string(), |n| n.to_string_lossy().into())
            },
            str::to_string,
        );
        Ok(RunSeries {
            label,
            dir,
            header,
            rows,
            scenario,
        })
    }

    /// (day, value) of column `name`.
    pub fn column(&self, name: &str) -> Option<Vec<[f64; 2]>> {
        let day = self.header.iter().position(|h| h == "day")?;
        let k = self.header.iter().position(|h| h == name)?;
        Some(self.rows.iter().map(|r| [r[day], r[k]]).collect())
    }
}

/// What a column means, for its panel title.
fn title_of(column: &str) -> String {
    let (name, region) = column.split_once('@').unwrap_or((column, ""));
    let what = match name {
        "P_mech" => "mechanical pain index (1 = naive)",
        "P_heat" => "heat pain index (1 = naive)",
        "P_spont" => "spontaneous pain index (1 = naive)",
        "PWT_g" => "paw-withdrawal threshold (g)",
        "PWL_s" => "paw-withdrawal latency (s)",
        _ => "",
    };
    match (what.is_empty(), region.is_empty()) {
        (false, _) => format!("{name}: {what}"),
        (true, true) => name.to_string(),
        (true, false) => format!("{name}, laminae {region}"),
    }
}

/// The figure of `columns` for `runs`.
pub fn grid(runs: &[RunSeries], columns: &[String]) -> Result<PlotGrid, Error> {
    check_columns(runs, columns)?;
    let colour = |k: usize| PALETTE[k % PALETTE.len()];
    let mut panels = Vec::new();
    for c in columns {
        let mut p = LinePlot {
            title: title_of(c),
            x_label: "time (days)".into(),
            y_label: c.clone(),
            ..LinePlot::default()
        };
        for (k, r) in runs.iter().enumerate() {
            p.series.push(Series {
                name: r.label.clone(),
                points: r.column(c).unwrap_or_default(),
                colour: colour(k),
                dashed: false,
                dots: false,
            });
            if let Some(sc) = &r.scenario {
                for s in &sc.protocol.sessions {
                    p.spans.push((
                        s.start_s / 86400.0,
                        (s.start_s + s.duration_s) / 86400.0,
                        colour(k),
                    ));
                }
                if sc.protocol.pain.is_some() {
                    p.marks.push((
                        sc.protocol.pain_onset_s / 86400.0,
                        format!("{}: pain model induced", r.label),
                        [120, 120, 120],
                    ));
                }
                for d in &sc.doses {
                    p.marks.push((
                        d.start_s / 86400.0,
                        format!("{}: {}", r.label, DRUG_CATALOGUE[d.drug].0),
                        colour(k),
                    ));
                }
            }
        }
        panels.push(p);
    }
    let without: Vec<&str> = runs
        .iter()
        .filter(|r| r.scenario.is_none())
        .map(|r| r.label.as_str())
        .collect();
    Ok(PlotGrid {
        title: format!(
            "dorsalhorn: {}",
            runs.iter()
                .map(|r| r.label.as_str())
                .collect::<Vec<_>>()
                .join(" vs ")
        ),
        cols: if columns.len() <= 4 { columns.len() } else { 5 },
        panels,
        legend: runs
            .iter()
            .enumerate()
            .map(|(k, r)| (r.label.clone(), colour(k), false))
            .collect(),
        note: format!(
            "Shaded: EA sessions (in the run's colour); dashed: pain-model onset (grey) and doses.{}",
            if without.is_empty() {
                String::new()
            } else {
                format!(
                    " No protocol marks for {} (no summary.json: the run is unfinished).",
                    without.join(", ")
                )
            }
        ),
    })
}

/// An error naming the first column some run lacks, with similar names.
fn check_columns(runs: &[RunSeries], columns: &[String]) -> Result<(), Error> {
    for c in columns {
        if runs.iter().any(|r| r.column(c).is_none()) {
            let missing: Vec<&str> = runs
                .iter()
                .filter(|r| r.column(c).is_none())
                .map(|r| r.label.as_str())
                .collect();
            let like: Vec<&str> = runs[0]
                .header
                .iter()
                .filter(|h| {
                    let stem = c.split('@').next().unwrap_or(c);
                    h.starts_with(stem) || h.ends_with(c.split('@').nth(1).unwrap_or("\u{0}"))
                })
                .take(8)
                .map(String::as_str)
                .collect();
            return Err(Error::Output(format!(
                "column `{c}` is not in the time series of {}: columns are `NAME@REGION` \
                 (a state, rate or occupancy name and one of I-II, I, IIo, IIi, III, IV, V, VI, \
                 white, C-field) or P_mech, P_heat, P_spont, PWT_g, PWL_s{}",
                missing.join(", "),
                if like.is_empty() {
                    String::new()
                } else {
                    format!("; similar: {}", like.join(", "))
                }
            )));
        }
    }
    Ok(())
}
