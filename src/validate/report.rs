//! The report: result types, the terminal table and validation.md.

use crate::validate::eval::CheckResult;
use crate::validate::finding::About;
use crate::validate::split::{HistoryEntry, Split};
use serde::Serialize;

/// The outcome of one finding.
#[derive(Debug, Clone, Serialize)]
pub struct FindingResult {
    #[serde(flatten)]
    pub about: About,
    pub reproduced: bool,
    pub checks: Vec<CheckResult>,
    pub arms: Vec<ArmInfo>,
    pub wall_s: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ArmInfo {
    pub name: String,
    pub label: String,
    pub base: String,
    pub changes: String,
    pub days: f64,
    pub csv: String,
}

/// One check of the `analytic` or `baseline` group.
#[derive(Debug, Clone, Serialize)]
pub struct GroupCheck {
    pub group: String,
    pub id: String,
    pub what: String,
    pub source: String,
    pub measured: String,
    pub criterion: String,
    pub pass: bool,
}

/// Everything a validation run found.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub dorsalhorn_version: &'static str,
    pub command: String,
    /// Source revision and the parameters edited through `DORSALHORN_PARAM_SET` (with the
    /// command line again).
    pub provenance: crate::output::Provenance,
    pub adapter: crate::gpu::AdapterSummary,
    pub grid: String,
    pub spacing_um: f64,
    pub wall_time_s: f64,
    pub groups: Vec<GroupCheck>,
    pub findings: Vec<FindingResult>,
    pub arms_run: usize,
    pub model_days_run: f64,
    /// Earlier calibrations and their scores (`validation/history.toml`).
    pub history: Vec<HistoryEntry>,
}

impl Report {
    pub fn reproduced(&self) -> usize {
        self.findings.iter().filter(|f| f.reproduced).count()
    }

    /// Findings of one part of the suite reproduced, and how many of that part were run.
    pub fn score(&self, split: Split) -> (usize, usize) {
        let part = self.findings.iter().filter(|f| f.about.split == split);
        (part.clone().filter(|f| f.reproduced).count(), part.count())
    }

    /// "calibration 24 of 27, held-out 4 of 10": each part that was run.
    pub fn split_line(&self) -> String {
        Split::ALL
            .iter()
            .filter_map(|&sp| {
                let (k, n) = self.score(sp);
                (n > 0).then(|| format!("{} {k} of {n}", sp.name()))
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

pub(crate) fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let t: String = s.chars().take(n - 1).collect();
        format!("{t}…")
    }
}

fn pad(s: &str, n: usize) -> String {
    let s = short(s, n);
    let w = s.chars().count();
    format!("{s}{}", " ".repeat(n.saturating_sub(w)))
}

/// The table printed to the terminal.
pub fn table(r: &Report) -> String {
    let mut out = String::new();
    if !r.groups.is_empty() {
        out.push_str(&format!(
            "{}  {}  {}  {}\n",
            pad("ID", 5),
            pad("check", 58),
            pad("measured", 40),
            "pass"
        ));
        for g in &r.groups {
            out.push_str(&format!(
                "{}  {}  {}  {}\n",
                pad(&g.id, 5),
                pad(&g.what, 58),
                pad(&g.measured, 40),
                if g.pass { "yes" } else { "NO" }
            ));
        }
        out.push('\n');
    }
    if !r.findings.is_empty() {
        out.push_str(&format!(
            "{}  {}  {}  {}  {}\n",
            pad("ID", 4),
            pad("finding", 44),
            pad("source", 22),
            pad("measured (first check)", 38),
            "reproduced"
        ));
        for f in &r.findings {
            let m = f
                .checks
                .first()
                .map(|c| c.measured.join("; "))
                .unwrap_or_default();
            let passed = f.checks.iter().filter(|c| c.pass).count();
            out.push_str(&format!(
                "{}  {}  {}  {}  {}\n",
                pad(&f.about.id, 4),
                pad(&f.about.finding, 44),
                pad(&f.about.source, 22),
                pad(&m, 38),
                if f.reproduced {
                    "yes".to_string()
                } else {
                    format!("no ({passed}/{} checks)", f.checks.len())
                }
            ));
        }
        let n = r.findings.len();
        out.push_str(&format!(
            "\n{} of {n} findings reproduced ({:.0} %; {}) on the {} grid ({} µm); {} arm(s), {:.0} model days, {:.0} s.\n",
            r.reproduced(),
            100.0 * r.reproduced() as f64 / n as f64,
            r.split_line(),
            r.grid,
            r.spacing_um,
            r.arms_run,
            r.model_days_run,
            r.wall_time_s
        ));
    }
    if !r.groups.is_empty() {
        let g = r.groups.iter().filter(|g| g.pass).count();
        out.push_str(&format!("{g} of {} group checks pass.\n", r.groups.len()));
    }
    out
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// `validation.md`: the summary table, the groups, then every finding with its checks, arms
/// and figure.
#[expect(clippy::too_many_lines, reason = "validation.md from top to bottom")]
pub fn markdown(r: &Report) -> String {
    let mut s = String::new();
    s.push_str("# Validation report\n\n");
    s.push_str(&format!(
        "Produced by `{}` (dorsalhorn {}) on {} ({}), {} grid ({} µm), in {:.0} s: {} distinct arm(s), {:.0} model days.\n\n",
        r.command, r.dorsalhorn_version, r.adapter.name, r.adapter.backend, r.grid, r.spacing_um, r.wall_time_s, r.arms_run, r.model_days_run + 0.0
    ));
    let edited = &r.provenance.edited_parameters;
    if !edited.is_empty() {
        let list: Vec<String> = edited
            .iter()
            .map(|e| {
                format!(
                    "`{}` = {} {} (shipped {})",
                    e.key, e.value, e.unit, e.shipped_value
                )
            })
            .collect();
        s.push_str(&format!(
            "**Edited parameters** (`DORSALHORN_PARAM_SET`): {}.\n\n",
            list.join(", ")
        ));
    }
    if !r.findings.is_empty() {
        let n = r.findings.len();
        s.push_str(&format!(
            "**{} of {n} findings reproduced ({:.0} %): {}.** The held-out findings (the `set` column; the rule is in [validation-format.md](validation-format.md#the-held-out-split)) are never used to choose a parameter; they judge each calibration. A finding is reproduced when every one of its checks passes. Parts of a finding that the model does not carry are listed as *not modelled* and are not judged. The finding files are in `validation/`; the format, the measures and the reasoning behind the criteria are in [validation-format.md](validation-format.md). Each finding's figure shows the compared arms, with the compared times dashed and the windows shaded.\n\n",
            r.reproduced(),
            100.0 * r.reproduced() as f64 / n as f64,
            r.split_line()
        ));
        s.push_str("| ID | set | finding | protocol | source | reproduced | checks passed |\n|---|---|---|---|---|---|---|\n");
        for f in &r.findings {
            s.push_str(&format!(
                "| [{id}](#{lid}) | {} | {} | {} | {} | {} | {}/{} |\n",
                f.about.split.name(),
                md_escape(&f.about.finding),
                md_escape(&f.about.protocol),
                md_escape(&f.about.source),
                if f.reproduced { "yes" } else { "**no**" },
                f.checks.iter().filter(|c| c.pass).count(),
                f.checks.len(),
                id = f.about.id,
                lid = f.about.id.to_lowercase()
            ));
        }
        let failing: Vec<&FindingResult> = r.findings.iter().filter(|f| !f.reproduced).collect();
        if !failing.is_empty() {
            s.push_str("\n## Not reproduced\n\n");
            for f in failing {
                let bad: Vec<&str> = f
                    .checks
                    .iter()
                    .filter(|c| !c.pass)
                    .map(|c| c.what.as_str())
                    .collect();
                s.push_str(&format!(
                    "- **{}** ({}): fails {}.",
                    f.about.id,
                    md_escape(&f.about.finding),
                    bad.join("; ")
                ));
                if let Some(w) = &f.about.when_not_reproduced {
                    s.push_str(&format!(" {}", md_escape(w)));
                }
                s.push('\n');
            }
        }
    }
    if !r.history.is_empty() {
        s.push_str(&history_markdown(&r.history));
    }
    if !r.groups.is_empty() {
        s.push_str("\n## Groups: analytic cases and the §8.1 baseline\n\n| ID | check | source | measured | criterion | pass |\n|---|---|---|---|---|---|\n");
        for g in &r.groups {
            s.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} |\n",
                g.id,
                md_escape(&g.what),
                md_escape(&g.source),
                md_escape(&g.measured),
                md_escape(&g.criterion),
                if g.pass { "yes" } else { "**no**" }
            ));
        }
    }
    for f in &r.findings {
        s.push_str(&format!("\n## {}\n\n", f.about.id));
        s.push_str(&format!(
            "**{}** ({}). Source: {}. Reproduced: **{}**.\n\n",
            md_escape(&f.about.finding),
            md_escape(&f.about.protocol),
            md_escape(&f.about.source),
            if f.reproduced { "yes" } else { "no" }
        ));
        if let Some(n) = &f.about.note {
            s.push_str(&format!("{}\n\n", n.trim()));
        }
        s.push_str("| check | measured | criterion | pass |\n|---|---|---|---|\n");
        for c in &f.checks {
            s.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                md_escape(&c.what),
                md_escape(&c.measured.join("; ")),
                md_escape(&c.criterion),
                if c.pass { "yes" } else { "**no**" }
            ));
        }
        if !f.about.not_modelled.is_empty() {
            s.push_str(&format!(
                "\nNot modelled (not judged): {}.\n",
                f.about.not_modelled.join("; ")
            ));
        }
        if !f.reproduced
            && let Some(w) = &f.about.when_not_reproduced
        {
            s.push_str(&format!("\nWhy it fails: {}\n", w.trim()));
        }
        s.push_str("\nArms: ");
        let arms: Vec<String> = f
            .arms
            .iter()
            .map(|a| {
                let ch = a
                    .changes
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ");
                if ch.is_empty() {
                    format!("`{}` = {} ({} d)", a.name, a.base, a.days)
                } else {
                    format!(
                        "`{}` = {} with `{}` ({} d)",
                        a.name,
                        a.base,
                        md_escape(&ch),
                        a.days
                    )
                }
            })
            .collect();
        s.push_str(&arms.join("; "));
        s.push_str(&format!(
            ".\n\n![{}](figures/{}.svg)\n",
            f.about.id, f.about.id
        ));
    }
    s
}

/// The calibration history: both parts' scores per calibration, oldest first.
fn history_markdown(h: &[HistoryEntry]) -> String {
    let mut s = String::from(
        "\n## Calibration history\n\nEach row is a full run of the suite after a change of the model, \
         applied or only tried (`validation/history.toml`; a tried change names its edited \
         parameters in the revision column). A calibration that raises the calibration score and \
         lowers the held-out score is reverted.\n\n\
         | date | revision | grid | change | calibration | held-out | verdict |\n|---|---|---|---|---|---|---|\n",
    );
    for e in h {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} of {} | {} of {} | {} |\n",
            e.date,
            e.revision,
            e.grid,
            md_escape(&e.change),
            e.calibration[0],
            e.calibration[1],
            e.held_out[0],
            e.held_out[1],
            md_escape(&e.verdict)
        ));
    }
    s
}
