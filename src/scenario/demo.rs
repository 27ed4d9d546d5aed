//! Teaching demonstrations (layer 2): the demo file format, read and checked with the same
//! clear errors as scenarios (docs/teaching.md, "Writing a demo").
//!
//! A demo is a dorsal-horn scenario (`[scenario]`, every key of a scenario file) and a timeline
//! of steps. Each step is a moment of model time with a caption, what to show (fields, layout,
//! colour ranges, probes), what changes from then on (EA sessions, doses, boluses merged into
//! the scenario), an optional pause and question for the students, and the evidence tag and
//! source of the claim it illustrates. Claims (`[[claim]]`) compare read-outs of the demo's
//! own run, so a test can check that the model shows what the captions say. The whole demo is
//! one deterministic scenario: `dorsalhorn demo NAME --record DIR` and the window play the
//! same steps, and the recording is an ordinary run folder.
//!
//! Longer than 600 lines: the whole demo format in one place, its raw types, the check of each
//! table (steps, their edits and probes, claims, control) and the resolved types; split, each
//! part would hold half of one format.

use crate::error::ScenarioError;
use crate::scenario::dorsal_horn::{TissueScenario, from_table};
use crate::scenario::figures::{RangeMode, field_indices, parse_layout, parse_ranges};
use crate::scenario::keys::{choice, err, positive, range};
use crate::scenario::overrides::apply_override;
use std::path::Path;

/// Demos compiled into the binary: (name, TOML source), each the file of the same name in
/// examples/demos/ (a test checks it).
pub const BUILTIN_DEMOS: &[(&str, &str)] = &[
    ("gate", include_str!("../../examples/demos/gate.toml")),
    (
        "inflammation",
        include_str!("../../examples/demos/inflammation.toml"),
    ),
    (
        "nerve_injury",
        include_str!("../../examples/demos/nerve_injury.toml"),
    ),
    (
        "ea_frequency",
        include_str!("../../examples/demos/ea_frequency.toml"),
    ),
    (
        "naloxone",
        include_str!("../../examples/demos/naloxone.toml"),
    ),
    ("ltd", include_str!("../../examples/demos/ltd.toml")),
    (
        "astrocytes",
        include_str!("../../examples/demos/astrocytes.toml"),
    ),
    (
        "repeated_ea",
        include_str!("../../examples/demos/repeated_ea.toml"),
    ),
];

/// The evidence tags of MODEL.md, with what each means.
pub const EVIDENCE: [(&str, &str); 3] = [
    ("S", "checked against the source itself"),
    (
        "L",
        "established literature value, not re-checked against the source",
    ),
    ("E", "a modelling estimate or derived value"),
];

/// Panels a step may show (the window's layouts).
pub const STEP_PANELS: [usize; 3] = [1, 2, 4];

/// The scenario arrays a step may add entries to.
const EDIT_KEYS: [&str; 3] = ["ea", "dose", "bolus"];

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDemo {
    format_version: i64,
    name: String,
    title: String,
    summary: String,
    #[serde(default)]
    limits: Vec<String>,
    speed_h_per_s: Option<f64>,
    record_every_h: Option<f64>,
    range: Option<toml::Table>,
    scenario: toml::Table,
    control: Option<RawControl>,
    #[serde(default)]
    step: Vec<RawStep>,
    #[serde(default)]
    claim: Vec<RawClaim>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    at_h: f64,
    title: String,
    caption: String,
    question: Option<String>,
    #[serde(default)]
    pause: bool,
    evidence: String,
    source: String,
    finding: Option<String>,
    fields: Vec<String>,
    layout: Option<String>,
    range: Option<toml::Table>,
    #[serde(default)]
    probes: Vec<[f64; 2]>,
    speed_h_per_s: Option<f64>,
    #[serde(default)]
    ea: Vec<toml::Table>,
    #[serde(default)]
    dose: Vec<toml::Table>,
    #[serde(default)]
    bolus: Vec<toml::Table>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawControl {
    label: String,
    without: Vec<String>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClaim {
    what: String,
    left: RawTerm,
    relation: String,
    right: RawTerm,
    factor: Option<f64>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTerm {
    run: Option<String>,
    quantity: Option<String>,
    at_h: Option<f64>,
    from_h: Option<f64>,
    value: Option<f64>,
}

/// A demo, checked: its scenario resolves with every step's edits, the steps are in time order
/// inside the run, every key is in range.
#[derive(Debug, Clone)]
pub struct Demo {
    pub name: String,
    pub title: String,
    pub summary: String,
    /// The file or `built-in demo NAME`.
    pub origin: String,
    /// What the model does not capture for this topic (the guide and the window say it).
    pub limits: Vec<String>,
    /// Model hours per wall-clock second in the window (steps may change it).
    pub speed_h_per_s: f64,
    /// Interval of the recording's movie frames between the steps (h).
    pub record_every_h: f64,
    pub steps: Vec<DemoStep>,
    pub claims: Vec<Claim>,
    /// The control run the claims may compare with: (label, the scenario arrays it leaves out).
    pub control: Option<(String, Vec<String>)>,
    /// `[scenario]` with the command line's `--set` edits, before the steps' edits.
    base: toml::Table,
}

/// One step of a demo's timeline.
#[derive(Debug, Clone)]
pub struct DemoStep {
    pub at_h: f64,
    pub title: String,
    pub caption: String,
    pub question: Option<String>,
    /// Stop here until the lecturer goes on.
    pub pause: bool,
    /// `S`, `L` or `E` ([`EVIDENCE`]).
    pub evidence: String,
    pub source: String,
    /// The validation finding (`V12`) that tests the claim, if any.
    pub finding: Option<String>,
    /// Field indices (into `STATE_NAMES` then `RATE_NAMES`), 1, 2 or 4 of them.
    pub fields: Vec<usize>,
    pub field_names: Vec<String>,
    pub layout: Option<(usize, usize)>,
    /// One per field.
    pub ranges: Vec<RangeMode>,
    /// Probe points (x, y) in µm from the section's top-left corner.
    pub probes: Vec<[f64; 2]>,
    pub speed_h_per_s: Option<f64>,
    /// (scenario array, entry): what this step adds from its time on.
    pub edits: Vec<(&'static str, toml::Table)>,
}

/// A claim of the demo about its own run: `left relation factor × right`.
#[derive(Debug, Clone)]
pub struct Claim {
    pub what: String,
    pub left: Term,
    /// `>` or `<`.
    pub greater: bool,
    pub factor: f64,
    pub right: Term,
}

/// A number a claim compares.
#[derive(Debug, Clone)]
pub enum Term {
    /// A `timeseries.csv` column at `at_h` (linear between read-outs), minus its value at
    /// `from_h` when given (a change), of the demo's run or of its control run.
    Read {
        control: bool,
        quantity: String,
        at_h: f64,
        from_h: Option<f64>,
    },
    Value(f64),
}

impl Term {
    pub fn describe(&self) -> String {
        match self {
            Term::Read {
                control,
                quantity,
                at_h,
                from_h,
            } => {
                let of = if *control { " (control run)" } else { "" };
                match from_h {
                    None => format!("{quantity} at {at_h} h{of}"),
                    Some(f) => format!("the change of {quantity} from {f} h to {at_h} h{of}"),
                }
            }
            Term::Value(v) => format!("{v}"),
        }
    }
}

/// The names of the built-in demos.
pub fn builtin_names() -> Vec<&'static str> {
    BUILTIN_DEMOS.iter().map(|(n, _)| *n).collect()
}

/// Reads a demo: a file path or the name of a built-in demo; `set` are `--set key.path=value`
/// edits of its `[scenario]` (e.g. `tissue.spacing_um=80`).
pub fn load(spec: &str, set: &[String]) -> Result<Demo, ScenarioError> {
    let path = Path::new(spec);
    let (origin, text) = if path.exists() && path.is_file() {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ScenarioError::new(spec, format!("cannot read the demo file: {e}")))?;
        (spec.to_string(), text)
    } else if let Some((name, text)) = BUILTIN_DEMOS.iter().find(|(n, _)| *n == spec) {
        (format!("built-in demo `{name}`"), text.to_string())
    } else {
        return Err(ScenarioError::new(
            spec,
            format!(
                "no such file, and not a built-in demo (built-ins: {}; `dorsalhorn demo --list` \
                 describes them). Give the path of a demo .toml file (examples in examples/demos/, \
                 the format in docs/teaching.md) or a built-in name.",
                builtin_names().join(", ")
            ),
        ));
    };
    from_str(&origin, &text, set)
}

/// Parses and checks a demo from its TOML text.
pub fn from_str(origin: &str, text: &str, set: &[String]) -> Result<Demo, ScenarioError> {
    let table: toml::Table = toml::from_str(text)
        .map_err(|e| ScenarioError::new(origin, format!("not valid TOML: {e}")))?;
    let raw: RawDemo = crate::scenario::deserialize(origin, &table)?;
    let o = origin;
    if raw.format_version != crate::scenario::FORMAT_VERSION {
        return Err(err(
            o,
            "format_version",
            format!(
                "{} is not supported: this build reads demo format version {} (format_version = {})",
                raw.format_version,
                crate::scenario::FORMAT_VERSION,
                crate::scenario::FORMAT_VERSION
            ),
        ));
    }
    crate::scenario::check_name(o, &raw.name)?;
    for (key, v) in [("title", &raw.title), ("summary", &raw.summary)] {
        if v.trim().is_empty() {
            return Err(err(o, key, "is empty: say what the demo shows"));
        }
    }
    let mut base = raw.scenario.clone();
    if !crate::scenario::dorsal_horn::is_tissue(&base) {
        return Err(err(
            o,
            "scenario",
            "has no [scenario.tissue] table: a demo runs a dorsal-horn scenario; give at least \
             [scenario.tissue] (e.g. animal = \"rat\", spacing_um = 40.0)",
        ));
    }
    base.entry("format_version")
        .or_insert(toml::Value::Integer(crate::scenario::FORMAT_VERSION));
    base.entry("name")
        .or_insert(toml::Value::String(raw.name.clone()));
    base.entry("description")
        .or_insert(toml::Value::String(raw.title.clone()));
    for s in set {
        apply_override(&mut base, s)?;
    }
    let scenario_origin = format!("{o} [scenario]");
    let sc = from_table(&scenario_origin, base.clone())?;
    let end_h = sc.duration_s / 3600.0;
    if raw.step.is_empty() {
        return Err(err(
            o,
            "step",
            "the demo has no steps: add at least one [[step]] with at_h, title, caption, fields, \
             evidence and source",
        ));
    }
    // The demo-wide colour ranges: checked once, then the default of every step that shows
    // the field.
    let demo_range = raw.range.clone().unwrap_or_default();
    let names: Vec<String> = demo_range.keys().cloned().collect();
    field_indices(o, "range", &names)?;
    parse_ranges(o, "range", Some(&demo_range), &names, "range")?;
    let mut steps = Vec::with_capacity(raw.step.len());
    for (k, s) in raw.step.iter().enumerate() {
        let prev = steps.last().map(|p: &DemoStep| p.at_h);
        steps.push(step(o, k, s, prev, end_h, &base, &demo_range)?);
    }
    let speed = |key: &str, v: Option<f64>| -> Result<Option<f64>, ScenarioError> {
        v.map(|v| range(o, key, v, 0.01, 96.0, "model h per second"))
            .transpose()
    };
    for (k, s) in raw.step.iter().enumerate() {
        steps[k].speed_h_per_s = speed(&format!("step[{k}].speed_h_per_s"), s.speed_h_per_s)?;
    }
    let control = control(o, raw.control.as_ref())?;
    let claims = raw
        .claim
        .iter()
        .enumerate()
        .map(|(k, c)| claim(o, k, c, end_h, control.is_some()))
        .collect::<Result<Vec<_>, _>>()?;
    let demo = Demo {
        name: raw.name,
        title: raw.title,
        summary: raw.summary,
        origin: o.to_string(),
        limits: raw.limits,
        speed_h_per_s: speed("speed_h_per_s", raw.speed_h_per_s)?.unwrap_or(1.0),
        record_every_h: match raw.record_every_h {
            Some(v) => positive(o, "record_every_h", v, "h")?,
            None => (end_h / 60.0).max(0.05),
        },
        steps,
        claims,
        control,
        base,
    };
    // The whole timeline resolves (edits of different steps together), and so does its control.
    demo.scenario()?;
    demo.control_scenario().transpose()?;
    Ok(demo)
}

/// Checks `[control]`: (label, the scenario arrays the control run leaves out).
fn control(
    o: &str,
    c: Option<&RawControl>,
) -> Result<Option<(String, Vec<String>)>, ScenarioError> {
    let Some(c) = c else {
        return Ok(None);
    };
    if c.without.is_empty() {
        return Err(err(
            o,
            "control.without",
            "is empty: name the scenario arrays the control run leaves out, e.g. \
             without = [\"ea\"] (allowed: ea, dose, bolus)",
        ));
    }
    for w in &c.without {
        choice(o, "control.without", w, &EDIT_KEYS)?;
    }
    Ok(Some((c.label.clone(), c.without.clone())))
}

/// Checks step `k`.
fn step(
    o: &str,
    k: usize,
    s: &RawStep,
    prev_h: Option<f64>,
    end_h: f64,
    base: &toml::Table,
    demo_range: &toml::Table,
) -> Result<DemoStep, ScenarioError> {
    let key = |name: &str| format!("step[{k}].{name}");
    let at_h = range(
        o,
        &key("at_h"),
        s.at_h,
        0.0,
        end_h,
        "h (the scenario's time.days × 24)",
    )?;
    if let Some(p) = prev_h
        && at_h <= p
    {
        return Err(err(
            o,
            &key("at_h"),
            format!(
                "{at_h} h is not after the previous step's {p} h: steps are a timeline in order of \
                 model time"
            ),
        ));
    }
    for (name, v) in [
        ("title", &s.title),
        ("caption", &s.caption),
        ("source", &s.source),
    ] {
        if v.trim().is_empty() {
            return Err(err(o, &key(name), "is empty"));
        }
    }
    let tags: Vec<&str> = EVIDENCE.iter().map(|(t, _)| *t).collect();
    choice(o, &key("evidence"), &s.evidence, &tags)?;
    if let Some(f) = &s.finding
        && !(f.starts_with('V') && f.len() > 1 && f[1..].chars().all(|c| c.is_ascii_digit()))
    {
        return Err(err(
            o,
            &key("finding"),
            format!(
                "`{f}` is not a validation finding ID: use the ID of a validation/V*.toml file, e.g. \"V35\""
            ),
        ));
    }
    if !STEP_PANELS.contains(&s.fields.len()) {
        return Err(err(
            o,
            &key("fields"),
            format!(
                "{} fields given: a step shows 1, 2 or 4 panels (the window's layouts)",
                s.fields.len()
            ),
        ));
    }
    let fields = field_indices(o, &key("fields"), &s.fields)?;
    let layout = parse_layout(
        o,
        &key("layout"),
        s.layout.as_deref(),
        fields.len(),
        &key("fields"),
    )?;
    let mut range: toml::Table = demo_range
        .iter()
        .filter(|(f, _)| s.fields.contains(f))
        .map(|(f, v)| (f.clone(), v.clone()))
        .collect();
    if let Some(own) = &s.range {
        for (f, v) in own {
            range.insert(f.clone(), v.clone());
        }
    }
    let ranges = parse_ranges(o, &key("range"), Some(&range), &s.fields, &key("fields"))?;
    check_probes(o, k, &s.probes)?;
    let mut edits = Vec::new();
    for (name, list) in EDIT_KEYS.iter().zip([&s.ea, &s.dose, &s.bolus]) {
        for e in list {
            edits.push((*name, e.clone()));
        }
    }
    check_edits(o, k, at_h, &edits, base)?;
    Ok(DemoStep {
        at_h,
        title: s.title.clone(),
        caption: s.caption.clone(),
        question: s.question.clone().filter(|q| !q.trim().is_empty()),
        pause: s.pause,
        evidence: s.evidence.clone(),
        source: s.source.clone(),
        finding: s.finding.clone(),
        fields,
        field_names: s.fields.clone(),
        layout,
        ranges,
        probes: s.probes.clone(),
        speed_h_per_s: None,
        edits,
    })
}

/// Checks step `k`'s probe points.
fn check_probes(o: &str, k: usize, probes: &[[f64; 2]]) -> Result<(), ScenarioError> {
    for (j, p) in probes.iter().enumerate() {
        if !(p[0].is_finite() && p[1].is_finite() && p[0] >= 0.0 && p[1] >= 0.0) {
            return Err(err(
                o,
                &format!("step[{k}].probes[{j}]"),
                format!(
                    "{p:?} is not a point: give [x, y] in µm from the section's top-left corner \
                     (`dorsalhorn anatomy` draws the section with its scale)"
                ),
            ));
        }
    }
    Ok(())
}

/// Checks step `k`'s edits alone on the scenario: errors name the step, and every edit
/// starts at or after the step's time (a step announces what happens from then on).
fn check_edits(
    o: &str,
    k: usize,
    at_h: f64,
    edits: &[(&'static str, toml::Table)],
    base: &toml::Table,
) -> Result<(), ScenarioError> {
    if edits.is_empty() {
        return Ok(());
    }
    // The step's edits alone on the scenario: errors name this step, and every edit starts at
    // or after the step's time (a step announces what happens from then on).
    let mut t = base.clone();
    for name in EDIT_KEYS {
        t.remove(name);
    }
    for (name, e) in edits {
        crate::scenario::edit::push_array(&mut t, name, e.clone());
    }
    let origin = format!("{o} step[{k}] (its ea/dose/bolus entries, numbered within the step)");
    let sc = from_table(&origin, t)?;
    let p = &sc.protocol;
    let starts = p
        .sessions
        .iter()
        .map(|s| s.start_s)
        .chain(sc.doses.iter().map(|d| d.start_s))
        .chain(p.naloxone_s.iter().copied())
        .chain(p.nmda_block_s.iter().copied());
    for t in starts {
        if t < at_h * 3600.0 - 1e-6 {
            return Err(ScenarioError::new(
                origin,
                format!(
                    "an entry starts at {} h, before the step's at_h = {at_h} h: a step's \
                     edits happen from its time on; move the entry to an earlier step or \
                     into [scenario]",
                    t / 3600.0
                ),
            ));
        }
    }
    Ok(())
}

/// Checks claim `k`.
fn claim(
    o: &str,
    k: usize,
    c: &RawClaim,
    end_h: f64,
    has_control: bool,
) -> Result<Claim, ScenarioError> {
    let term = |side: &str, t: &RawTerm| -> Result<Term, ScenarioError> {
        let key = |name: &str| format!("claim[{k}].{side}.{name}");
        match (&t.quantity, t.value) {
            (Some(q), None) => {
                let at_h = t.at_h.ok_or_else(|| {
                    err(
                        o,
                        &key("at_h"),
                        "is missing: a quantity is read at a time (h)",
                    )
                })?;
                let at_h = range(o, &key("at_h"), at_h, 0.0, end_h, "h")?;
                let from_h = t
                    .from_h
                    .map(|f| range(o, &key("from_h"), f, 0.0, end_h, "h"))
                    .transpose()?;
                let control = match t.run.as_deref() {
                    None | Some("demo") => false,
                    Some("control") if has_control => true,
                    Some(other) => {
                        return Err(err(
                            o,
                            &key("run"),
                            format!(
                                "`{other}` is not allowed: use \"demo\" (the default) or \
                                 \"control\" (which needs a [control] table)"
                            ),
                        ));
                    }
                };
                Ok(Term::Read {
                    control,
                    quantity: q.clone(),
                    at_h,
                    from_h,
                })
            }
            (None, Some(v))
                if v.is_finite() && t.at_h.is_none() && t.from_h.is_none() && t.run.is_none() =>
            {
                Ok(Term::Value(v))
            }
            _ => Err(err(
                o,
                &format!("claim[{k}].{side}"),
                "give either { quantity = \"COLUMN\", at_h = H } (optionally from_h = H0 for the \
                 change since H0; COLUMN a timeseries.csv column such as \"P_mech\" or \
                 \"M@I-II\") or { value = NUMBER }",
            )),
        }
    };
    if c.what.trim().is_empty() {
        return Err(err(o, &format!("claim[{k}].what"), "is empty"));
    }
    let rel = choice(o, &format!("claim[{k}].relation"), &c.relation, &[">", "<"])?;
    let factor = match c.factor {
        Some(f) => positive(o, &format!("claim[{k}].factor"), f, "")?,
        None => 1.0,
    };
    Ok(Claim {
        what: c.what.clone(),
        left: term("left", &c.left)?,
        greater: rel == ">",
        factor,
        right: term("right", &c.right)?,
    })
}

impl Demo {
    /// `[scenario]` with the edits of steps `0..=last` (every step with `None`).
    pub fn table_through(&self, last: Option<usize>) -> toml::Table {
        let mut t = self.base.clone();
        let n = last.map_or(self.steps.len(), |l| (l + 1).min(self.steps.len()));
        for s in &self.steps[..n] {
            for (name, e) in &s.edits {
                crate::scenario::edit::push_array(&mut t, name, e.clone());
            }
        }
        t
    }

    /// The scenario with the edits of steps `0..=last`, stopping and reading out at every step's
    /// time.
    pub fn scenario_through(&self, last: Option<usize>) -> Result<TissueScenario, ScenarioError> {
        let mut sc = from_table(&self.origin, self.table_through(last))?;
        sc.stops_s = self.steps.iter().map(|s| s.at_h * 3600.0).collect();
        Ok(sc)
    }

    /// The whole demo's scenario.
    pub fn scenario(&self) -> Result<TissueScenario, ScenarioError> {
        self.scenario_through(None)
    }

    /// The control run's scenario: the whole demo without the arrays `control.without` names.
    pub fn control_scenario(&self) -> Option<Result<TissueScenario, ScenarioError>> {
        let (_, without) = self.control.as_ref()?;
        let mut t = self.table_through(None);
        for w in without {
            t.remove(w);
        }
        Some(
            from_table(&format!("{} [control]", self.origin), t).map(|mut sc| {
                sc.stops_s = self.steps.iter().map(|s| s.at_h * 3600.0).collect();
                sc
            }),
        )
    }

    /// The step shown at model time `t_h` (the last one at or before it; the first before it).
    pub fn step_at(&self, t_h: f64) -> usize {
        self.steps
            .iter()
            .rposition(|s| s.at_h <= t_h + 1e-6)
            .unwrap_or(0)
    }
}

/// The evidence tag's meaning.
pub fn evidence_meaning(tag: &str) -> &'static str {
    EVIDENCE
        .iter()
        .find(|(t, _)| *t == tag)
        .map_or("", |(_, m)| m)
}
