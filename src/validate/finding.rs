//! Finding files (docs/validation-format.md): the raw TOML, its checks against the arms, and
//! the resolved [`Finding`] with its arms, measures and checks.
//!
//! Longer than 600 lines: one file format: the raw types and their resolution (`resolve_check`
//! alone is 200 lines of per-key errors) side by side.

use crate::error::{Error, ScenarioError};
use crate::scenario::dorsal_horn::TissueScenario;
use crate::validate::eval::when_text;
use crate::validate::quantity::Quantity;
use crate::validate::split::Split;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFinding {
    id: String,
    finding: String,
    source: String,
    #[serde(default)]
    protocol: String,
    #[serde(default)]
    quick: bool,
    #[serde(default)]
    group: Option<String>,
    #[serde(default)]
    not_modelled: Vec<String>,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    when_not_reproduced: Option<String>,
    arms: BTreeMap<String, RawArm>,
    check: Vec<RawCheck>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawArm {
    scenario: String,
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    with: toml::Table,
}

#[derive(Debug, Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
struct RawMeasure {
    arm: Option<String>,
    control: Option<String>,
    blocked: Option<String>,
    minus: Option<String>,
    quantity: Option<String>,
    at_h: Option<f64>,
    window_h: Option<[f64; 2]>,
    stat: Option<String>,
    excess: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    what: String,
    kind: String,
    quantity: String,
    arm: Option<String>,
    than: Option<String>,
    control: Option<String>,
    blocked: Option<String>,
    minus: Option<String>,
    at_h: Option<Vec<f64>>,
    window_h: Option<[f64; 2]>,
    stat: Option<String>,
    excess: Option<bool>,
    per: Option<RawMeasure>,
    larger: Option<RawMeasure>,
    smaller: Option<RawMeasure>,
    by: Option<f64>,
    tol: Option<f64>,
    min: Option<f64>,
    max: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum When {
    At(f64),
    Window(f64, f64),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Stat {
    Value,
    Peak,
    Trough,
    HalfRiseH,
    PeakH,
    TroughH,
}

/// One number taken from the runs: a read-out of an arm at a time (or a window statistic);
/// with a control, the relief fraction (c − a)/(c − c₀) (the share of the control's change
/// from its t = 0 value that the arm removes); with a blocked arm as well, the blocked fraction
/// 1 − relief(blocked)/relief(arm); with `minus`, the arm's read-out less that of a second arm
/// at the same time (an effect on top of another arm's, e.g. EA over a drug alone). `per`
/// divides by a second measure.
#[derive(Debug, Clone)]
pub(crate) struct Measure {
    pub(crate) arm: String,
    pub(crate) control: Option<String>,
    pub(crate) blocked: Option<String>,
    pub(crate) minus: Option<String>,
    pub(crate) quantity: Quantity,
    pub(crate) quantity_name: String,
    pub(crate) when: When,
    pub(crate) stat: Stat,
    pub(crate) excess: bool,
    pub(crate) per: Option<Box<Measure>>,
    /// The time points of a multi-time check, for its description.
    pub(crate) times: Option<String>,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    Higher(f64),
    Lower(f64),
    Similar(f64),
    Range(f64, f64),
    Order(f64),
}

#[derive(Debug, Clone)]
pub(crate) struct Check {
    pub(crate) what: String,
    pub(crate) kind: Kind,
    /// One (a, b) pair per time point; `b` is the comparison (than / smaller), absent for ranges.
    pub(crate) pairs: Vec<(Measure, Option<Measure>)>,
}

/// One arm of a finding: a resolved dorsal-horn scenario.
#[derive(Debug, Clone)]
pub struct Arm {
    pub name: String,
    pub label: String,
    pub base: String,
    pub changes: String,
    pub scenario: TissueScenario,
    /// The resolved scenario text without its name: identical arms of different findings run once.
    pub(crate) key: String,
}

/// What a finding is (its file's descriptive keys), shared by the loaded finding and its result.
#[derive(Debug, Clone, Serialize)]
pub struct About {
    pub id: String,
    pub finding: String,
    pub source: String,
    pub protocol: String,
    pub not_modelled: Vec<String>,
    pub note: Option<String>,
    pub when_not_reproduced: Option<String>,
    /// Calibration or held-out, by the ID alone ([`Split::of`]).
    pub split: Split,
}

/// A finding of MODEL.md §5 as loaded from its file.
#[derive(Debug, Clone)]
pub struct Finding {
    pub about: About,
    pub quick: bool,
    /// The finding's group (`group = "spatial"`), selectable with `--only GROUP`.
    pub group: Option<String>,
    pub file: PathBuf,
    pub arms: Vec<Arm>,
    pub(crate) checks: Vec<Check>,
}

impl Finding {
    /// Every quantity its checks read.
    pub fn quantity_names(&self) -> Vec<String> {
        fn add(out: &mut Vec<String>, m: &Measure) {
            if !out.contains(&m.quantity_name) {
                out.push(m.quantity_name.clone());
            }
            if let Some(p) = &m.per {
                add(out, p);
            }
        }
        let mut out = Vec::new();
        for c in &self.checks {
            for (a, b) in &c.pairs {
                add(&mut out, a);
                if let Some(b) = b {
                    add(&mut out, b);
                }
            }
        }
        out
    }

    /// The longest arm, in model days (what the finding costs to run).
    pub fn days(&self) -> f64 {
        self.arms
            .iter()
            .map(|a| a.scenario.duration_s / 86400.0)
            .fold(0.0, f64::max)
    }
}

/// An error in a file of the suite, naming the file.
pub(crate) fn ferr(file: &Path, msg: impl Into<String>) -> Error {
    Error::Scenario(ScenarioError::new(file.display().to_string(), msg.into()))
}

/// Every time a check reads (a time point, or a window's end) lies within the length of every
/// arm it reads, so that a check outside its arm is an error in the finding file, not a finding
/// "not reproduced".
fn check_times_within_arms(file: &Path, checks: &[Check], arms: &[Arm]) -> Result<(), Error> {
    fn visit<'a>(m: &'a Measure, out: &mut Vec<(&'a str, f64)>) {
        let t = match m.when {
            When::At(t) => t,
            When::Window(_, b) => b,
        };
        if t.is_finite() {
            for arm in m.arms_read() {
                out.push((arm, t));
            }
        }
        if let Some(per) = &m.per {
            visit(per, out);
        }
    }
    for (i, c) in checks.iter().enumerate() {
        let mut reads = Vec::new();
        for (a, b) in &c.pairs {
            visit(a, &mut reads);
            if let Some(b) = b {
                visit(b, &mut reads);
            }
        }
        for (name, t) in reads {
            let Some(arm) = arms.iter().find(|a| a.name == name) else {
                continue;
            };
            let end_h = arm.scenario.duration_s / 3600.0;
            if t > end_h + 1e-9 {
                return Err(ferr(
                    file,
                    format!(
                        "check[{i}] (`{}`): reads arm `{name}` at {t} h, after its end at {end_h} h: \
                         move the time or window inside the arm, or lengthen the arm (time.days)",
                        c.what
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Merges `with` into `base`: tables merge key by key, arrays of tables (`[[ea]]`, `[[dose]]`,
/// `[[bolus]]`) are appended to, every other value is replaced.
pub(crate) fn merge(base: &mut toml::Table, with: &toml::Table) {
    for (k, v) in with {
        match (base.get_mut(k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(w)) => merge(b, w),
            (Some(toml::Value::Array(b)), toml::Value::Array(w))
                if w.iter().all(|x| x.is_table()) && !w.is_empty() =>
            {
                b.extend(w.iter().cloned())
            }
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

fn parse_stat(file: &Path, key: &str, s: Option<&str>) -> Result<Stat, Error> {
    Ok(match s.unwrap_or("value") {
        "value" => Stat::Value,
        "peak" => Stat::Peak,
        "trough" => Stat::Trough,
        "half_rise_h" => Stat::HalfRiseH,
        "peak_h" => Stat::PeakH,
        "trough_h" => Stat::TroughH,
        other => {
            return Err(ferr(
                file,
                format!(
                    "key `{key}`: `{other}` is not a statistic: use value, peak, trough, \
                     half_rise_h, peak_h or trough_h"
                ),
            ));
        }
    })
}

/// The folder of the shipped suite: `$DORSALHORN_VALIDATION_DIR`, else `validation/` in the
/// current folder, else the one beside the source tree this program was built from.
pub fn default_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("DORSALHORN_VALIDATION_DIR") {
        return PathBuf::from(d);
    }
    let here = PathBuf::from("validation");
    if here.is_dir() {
        return here;
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("validation")
}

/// Reads every `V*.toml` of `dir` (sorted by number) and resolves its arms on a grid of
/// `spacing_um`. Any problem names the file and the key.
pub fn load(dir: &Path, spacing_um: f64) -> Result<Vec<Finding>, Error> {
    if !dir.is_dir() {
        return Err(ferr(
            dir,
            "cannot read the validation folder: it does not exist. Give the suite's folder with \
             --dir or DORSALHORN_VALIDATION_DIR (the shipped one is `validation/` in the source tree)",
        ));
    }
    let entries = std::fs::read_dir(dir).map_err(|e| {
        Error::io(
            "cannot read the validation folder (set --dir or DORSALHORN_VALIDATION_DIR)",
            dir,
            e,
        )
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|x| x == "toml")
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with('V'))
        })
        .collect();
    files.sort_by_key(|p| {
        let stem = p.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        (
            stem[1..].parse::<u32>().unwrap_or(u32::MAX),
            stem.to_string(),
        )
    });
    if files.is_empty() {
        return Err(ferr(dir, "no finding files (V<n>.toml) in this folder"));
    }
    files
        .iter()
        .map(|f| load_finding(dir, f, spacing_um))
        .collect()
}

/// `--only`'s own words, which no group may take.
pub const RESERVED_WORDS: [&str; 6] = [
    "analytic",
    "baseline",
    "findings",
    "quick",
    "calibration",
    "held-out",
];

/// A finding's `group`: a plain name that is not one of `--only`'s own words.
fn check_group(file: &Path, group: Option<&str>) -> Result<(), Error> {
    if let Some(g) = group
        && (!crate::scenario::is_plain_name(g, 40, false) || RESERVED_WORDS.contains(&g))
    {
        return Err(ferr(
            file,
            format!(
                "key `group`: `{g}` is not a group name: use 1 to 40 letters, digits, `_` or `-`, \
                 other than {} (e.g. group = \"spatial\")",
                RESERVED_WORDS.join(", ")
            ),
        ));
    }
    Ok(())
}

fn load_finding(dir: &Path, file: &Path, spacing_um: f64) -> Result<Finding, Error> {
    let text = std::fs::read_to_string(file).map_err(|e| Error::io("cannot read", file, e))?;
    let origin = file.display().to_string();
    let table: toml::Table =
        toml::from_str(&text).map_err(|e| ferr(file, format!("not valid TOML: {e}")))?;
    let raw: RawFinding = crate::scenario::deserialize(&origin, &table)?;
    let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    if raw.id != stem {
        return Err(ferr(
            file,
            format!("key `id`: `{}` differs from the file name `{stem}`", raw.id),
        ));
    }
    check_group(file, raw.group.as_deref())?;
    let mut arms = Vec::new();
    for (name, a) in &raw.arms {
        // The arm's name becomes part of file names (arms/<id>_<arm>.csv).
        if !crate::scenario::is_plain_name(name, 40, false) {
            return Err(ferr(
                file,
                format!(
                    "key `arms.{name}`: an arm name is 1 to 40 letters, digits, `_` or `-` \
                     (it names the arm's CSV file), e.g. [arms.treated]"
                ),
            ));
        }
        let base_path = dir.join(&a.scenario);
        let base_text = std::fs::read_to_string(&base_path).map_err(|e| {
            ferr(
                file,
                format!(
                    "key `arms.{name}.scenario`: cannot read {} ({e}): name a scenario file \
                     relative to the findings folder, e.g. \"arms/cfa.toml\"",
                    base_path.display()
                ),
            )
        })?;
        let mut t: toml::Table = toml::from_str(&base_text)
            .map_err(|e| ferr(&base_path, format!("not valid TOML: {e}")))?;
        merge(&mut t, &a.with);
        // The grid comes from --grid, and validation writes no frames. Read-outs stay on the
        // regular output grid (no extra samples inside EA sessions): the findings' window means
        // are means of the read-outs in the window.
        let forced: toml::Table = toml::from_str(&format!(
            "tissue = {{ spacing_um = {spacing_um:?} }}\noutput = {{ frames = false, session_every_min = 0.0 }}"
        ))
        .expect("valid forced keys");
        merge(&mut t, &forced);
        t.insert(
            "name".into(),
            toml::Value::String(format!("{}_{name}", raw.id)),
        );
        let arm_origin = format!("{origin} (arm `{name}` on {})", a.scenario);
        let sc = crate::scenario::dorsal_horn::from_table(&arm_origin, t.clone())?;
        let mut keyed = t.clone();
        keyed.remove("name");
        keyed.remove("description");
        arms.push(Arm {
            name: name.clone(),
            label: a.label.clone().unwrap_or_else(|| name.clone()),
            base: a.scenario.clone(),
            changes: if a.with.is_empty() {
                String::new()
            } else {
                toml::to_string(&a.with).unwrap_or_default()
            },
            scenario: sc,
            key: toml::to_string(&keyed).unwrap_or_default(),
        });
    }
    let arm_names: Vec<&str> = arms.iter().map(|a| a.name.as_str()).collect();
    let mut checks = Vec::new();
    for (i, c) in raw.check.iter().enumerate() {
        checks.push(resolve_check(file, i, c, &arm_names)?);
    }
    if checks.is_empty() {
        return Err(ferr(file, "a finding needs at least one [[check]]"));
    }
    check_times_within_arms(file, &checks, &arms)?;
    Ok(Finding {
        about: About {
            split: Split::of(&raw.id),
            id: raw.id,
            finding: raw.finding,
            source: raw.source,
            protocol: raw.protocol,
            not_modelled: raw.not_modelled,
            note: raw.note,
            when_not_reproduced: raw.when_not_reproduced,
        },
        quick: raw.quick,
        group: raw.group,
        file: file.to_path_buf(),
        arms,
        checks,
    })
}

#[expect(
    clippy::too_many_lines,
    reason = "per-key checks of one check table, in key order"
)]
fn resolve_check(file: &Path, i: usize, c: &RawCheck, arms: &[&str]) -> Result<Check, Error> {
    let key = |k: &str| format!("check[{i}].{k}");
    let arm_ok = |k: &str, a: &Option<String>| -> Result<(), Error> {
        if let Some(a) = a
            && !arms.contains(&a.as_str())
        {
            return Err(ferr(
                file,
                format!(
                    "key `{}`: arm `{a}` is not defined: the arms are {}",
                    key(k),
                    arms.join(", ")
                ),
            ));
        }
        Ok(())
    };
    let quantity = |q: &str, k: &str| {
        Quantity::parse(q).map_err(|m| ferr(file, format!("key `{}`: {m}", key(k))))
    };
    let q0 = quantity(&c.quantity, "quantity")?;
    let measure = |m: &RawMeasure, k: &str, when: When| -> Result<Measure, Error> {
        let arm = m
            .arm
            .clone()
            .ok_or_else(|| ferr(file, format!("key `{}`: needs an `arm`", key(k))))?;
        arm_ok(k, &Some(arm.clone()))?;
        arm_ok(k, &m.control)?;
        arm_ok(k, &m.blocked)?;
        arm_ok(k, &m.minus)?;
        if m.blocked.is_some() && m.control.is_none() {
            return Err(ferr(
                file,
                format!("key `{}`: `blocked` needs a `control`", key(k)),
            ));
        }
        if m.minus.is_some() && (m.control.is_some() || m.excess == Some(true)) {
            return Err(ferr(
                file,
                format!(
                    "key `{}`: `minus` is a difference of two arms; it cannot be combined with \
                     `control` or `excess`",
                    key(k)
                ),
            ));
        }
        let (q, qn) = match &m.quantity {
            Some(q) => (quantity(q, k)?, q.clone()),
            None => (q0.clone(), c.quantity.clone()),
        };
        let when = match (m.at_h, m.window_h) {
            (Some(t), None) => When::At(t),
            (None, Some([a, b])) if a < b => When::Window(a, b),
            (None, Some(w)) => {
                return Err(ferr(
                    file,
                    format!(
                        "key `{}.window_h`: {w:?} must be [start, end] with start < end",
                        key(k)
                    ),
                ));
            }
            (None, None) => when,
            (Some(_), Some(_)) => {
                return Err(ferr(
                    file,
                    format!("key `{}`: give `at_h` or `window_h`, not both", key(k)),
                ));
            }
        };
        Ok(Measure {
            arm,
            control: m.control.clone(),
            blocked: m.blocked.clone(),
            minus: m.minus.clone(),
            quantity: q,
            quantity_name: qn,
            when,
            stat: parse_stat(file, &format!("{}.stat", key(k)), m.stat.as_deref())?,
            excess: m.excess.unwrap_or(false),
            per: None,
            times: None,
        })
    };
    let top = RawMeasure {
        arm: c.arm.clone(),
        control: c.control.clone(),
        blocked: c.blocked.clone(),
        minus: c.minus.clone(),
        quantity: None,
        at_h: None,
        window_h: None,
        stat: c.stat.clone(),
        excess: c.excess,
    };
    let whens: Vec<When> = match (&c.at_h, c.window_h) {
        (Some(ts), None) if !ts.is_empty() => ts.iter().map(|&t| When::At(t)).collect(),
        (None, Some([a, b])) if a < b => vec![When::Window(a, b)],
        (None, None) if c.kind == "order" => vec![When::At(f64::NAN)],
        _ => {
            return Err(ferr(
                file,
                format!(
                    "key `{}`: give `at_h` (a list of hours) or `window_h` ([start, end] in hours)",
                    key("at_h")
                ),
            ));
        }
    };
    let bound = |v: Option<f64>, k: &str, d: f64| -> Result<f64, Error> {
        match v {
            Some(x) if x.is_finite() => Ok(x),
            Some(x) => Err(ferr(file, format!("key `{}`: {x} is not finite", key(k)))),
            None => Ok(d),
        }
    };
    let kind = match c.kind.as_str() {
        "higher" => Kind::Higher(bound(c.by, "by", 0.1)?),
        "lower" => Kind::Lower(bound(c.by, "by", 0.1)?),
        "similar" => Kind::Similar(bound(c.tol, "tol", 0.1)?),
        "range" => {
            if c.min.is_none() && c.max.is_none() {
                return Err(ferr(
                    file,
                    format!("key `{}`: a range needs `min`, `max` or both", key("kind")),
                ));
            }
            Kind::Range(
                bound(c.min, "min", f64::NEG_INFINITY)?,
                bound(c.max, "max", f64::INFINITY)?,
            )
        }
        "order" => Kind::Order(bound(c.by, "by", 0.0)?),
        other => {
            return Err(ferr(
                file,
                format!(
                    "key `{}`: `{other}` is not a check kind: use higher, lower, similar, range \
                     or order",
                    key("kind")
                ),
            ));
        }
    };
    let mut pairs = Vec::new();
    for when in whens {
        match kind {
            Kind::Higher(_) | Kind::Lower(_) | Kind::Similar(_) => {
                let a = measure(&top, "arm", when)?;
                let than = c.than.clone().ok_or_else(|| {
                    ferr(
                        file,
                        format!("key `{}`: `{}` needs `than`", key("than"), c.kind),
                    )
                })?;
                let b = measure(
                    &RawMeasure {
                        arm: Some(than),
                        ..top.clone()
                    },
                    "than",
                    when,
                )?;
                pairs.push((a, Some(b)));
            }
            Kind::Range(..) => {
                let mut a = measure(&top, "arm", when)?;
                if let Some(p) = &c.per {
                    let mut p = p.clone();
                    if p.arm.is_none() {
                        p.arm = c.arm.clone();
                    }
                    a.per = Some(Box::new(measure(&p, "per", when)?));
                }
                pairs.push((a, None));
            }
            Kind::Order(_) => {
                let (Some(l), Some(s)) = (&c.larger, &c.smaller) else {
                    return Err(ferr(
                        file,
                        format!(
                            "key `{}`: `order` needs `larger` and `smaller`",
                            key("kind")
                        ),
                    ));
                };
                let l = measure(l, "larger", when)?;
                let s = measure(s, "smaller", when)?;
                if matches!(l.when, When::At(t) if t.is_nan()) {
                    return Err(ferr(
                        file,
                        format!("key `{}`: give it `at_h` or `window_h`", key("larger")),
                    ));
                }
                if matches!(s.when, When::At(t) if t.is_nan()) {
                    return Err(ferr(
                        file,
                        format!("key `{}`: give it `at_h` or `window_h`", key("smaller")),
                    ));
                }
                pairs.push((l, Some(s)));
            }
        }
    }
    Ok(Check {
        what: c.what.clone(),
        kind,
        pairs,
    })
}

// ------------------------------------------------------------------------------------------
// Evaluating checks on the runs
// ------------------------------------------------------------------------------------------

impl Measure {
    /// The arms this measure reads itself (not its `per`): the arm, and its control, blocked and
    /// minus arms where it has them.
    pub(crate) fn arms_read(&self) -> impl Iterator<Item = &str> {
        [
            Some(&self.arm),
            self.control.as_ref(),
            self.blocked.as_ref(),
            self.minus.as_ref(),
        ]
        .into_iter()
        .flatten()
        .map(String::as_str)
    }

    pub(crate) fn describe(&self) -> String {
        let what = match (&self.control, &self.blocked) {
            (Some(c), Some(b)) => {
                format!("fraction of {}'s relief (vs {c}) blocked in {b}", self.arm)
            }
            (Some(c), None) => format!("relief by {} (vs {c})", self.arm),
            _ => match &self.minus {
                Some(b) => format!("{} minus {b}", self.arm),
                None => self.arm.clone(),
            },
        };
        let stat = match self.stat {
            Stat::Value if matches!(self.when, When::Window(..)) => "mean ",
            Stat::Value => "",
            Stat::Peak => "peak ",
            Stat::Trough => "trough ",
            Stat::HalfRiseH => "half-rise time (h) ",
            Stat::PeakH => "time of peak (h) ",
            Stat::TroughH => "time of trough (h) ",
        };
        let ex = if self.excess { " above t=0" } else { "" };
        let per = match &self.per {
            Some(p) => {
                // A `per` that inherits a list of times is read at each of them.
                let mut p = (**p).clone();
                if p.times.is_none() && p.when == self.when {
                    p.times = self.times.clone();
                }
                format!(" / {}", p.describe())
            }
            None => String::new(),
        };
        let at = self.times.clone().unwrap_or_else(|| when_text(self.when));
        format!("{stat}{}{ex} in {what} at {at}{per}", self.quantity_name)
    }
}
