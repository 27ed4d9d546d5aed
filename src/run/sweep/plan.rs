//! The plan of a sweep: the varied keys and their values (`--vary`), the members (their
//! Cartesian product, each resolved before anything runs), the metrics and days of
//! `summary.csv` and its header.

use crate::error::{Error, ScenarioError};
use crate::output::csv_field;
use crate::scenario::dorsal_horn::TissueScenario;
use crate::scenario::{AnyScenario, load_any};

/// One varied key and its values (TOML literals, as `--set` takes them).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Vary {
    pub key: String,
    pub values: Vec<String>,
}

/// Splits `s` at commas outside brackets, braces and quotes.
pub(super) fn split_top(s: &str) -> Vec<String> {
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
        let members = self.members();
        members
            .iter()
            .enumerate()
            .map(
                |(i, values)| match load_any(&self.scenario, &self.member_sets(values)) {
                    Ok(AnyScenario::Tissue(sc)) => {
                        Ok(self.labelled(*sc, (i, members.len()), values))
                    }
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

    /// The member's scenario with a description that says which member it is and what was
    /// varied (the scenario's own description may name the values the member replaced; figures
    /// show the description under the title). It goes into the resolved scenario too, so that
    /// the member's scenario.toml replays to the same figures.
    fn labelled(
        &self,
        mut sc: TissueScenario,
        (i, n): (usize, usize),
        values: &[String],
    ) -> TissueScenario {
        let mut text = format!("sweep member {} of {n}: {}", i + 1, self.describe(values));
        if !sc.description.is_empty() {
            text = format!("{text}; varied from: {}", sc.description);
        }
        sc.resolved_toml
            .insert("description".into(), toml::Value::String(text.clone()));
        sc.description = text;
        sc
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

    pub(super) fn header(&self) -> String {
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
