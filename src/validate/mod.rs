//! `dorsalhorn validate`: the published findings of MODEL.md §5 as an executable suite.
//!
//! Each finding is a TOML file under `validation/` (format: `docs/validation-format.md`): arms
//! (dorsal-horn scenarios, each a base file under `validation/arms/` plus the keys it changes),
//! and checks that compare read-outs of the arms (a lamina mean, a pain index, a behavioural
//! threshold) at times or over windows. The suite runs every distinct arm once on one grid,
//! evaluates the checks, prints a table and writes `validation.md`, `validation.json`, one
//! SVG figure per finding and each arm's time series.
//!
//! Besides the findings, two groups check the machinery itself: `analytic` (heat kernel, K0
//! profile, conservation, on the user's GPU) and `baseline` (MODEL.md §8.1).

pub mod groups;
mod svg;

use crate::error::{Error, ScenarioError};
use crate::gpu::Gpu;
use crate::model::network::state::RATE_NAMES;
use crate::model::network::state::STATE_NAMES;
use crate::run::stepper::Stepper;
use crate::scenario::dorsal_horn::TissueScenario;
use crate::tissue::REPORT_REGIONS;
use crate::tissue::baseline::BaselineCache;
use crate::tissue::observe::Readout;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The grids of `--grid`: the classroom grid is coarse enough for a laptop without a GPU
/// (every finding in 50–115 min on a 2-core software driver, depending on the machine); the
/// default grid is the one `dorsalhorn run` uses.
pub const GRIDS: [(&str, f64); 2] = [("classroom", 40.0), ("default", 10.0)];

// ------------------------------------------------------------------------------------------
// The file format
// ------------------------------------------------------------------------------------------

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

/// A read-out of a run: a pain index or behaviour column, or a lamina mean.
#[derive(Debug, Clone, PartialEq)]
pub enum Quantity {
    /// `P_mech`, `P_heat`, `P_spont`, `PWT_g`, `PWL_s`.
    Pain(usize),
    /// `NAME@REGION`: the lamina-weighted mean of a state, rate or occupancy.
    Mean { region: usize, field: usize },
    /// `phi_Cl@REGION`: the GABA_A/glycine polarity φ_Cl of §4.3 at the region's mean K
    /// (φ_Cl is linear in K, so this is also the region's mean φ_Cl); < 0 is depolarising.
    PhiCl { region: usize },
}

const PAIN_COLUMNS: [&str; 5] = ["P_mech", "P_heat", "P_spont", "PWT_g", "PWL_s"];

impl Quantity {
    pub fn parse(s: &str) -> Result<Quantity, String> {
        if let Some(k) = PAIN_COLUMNS.iter().position(|c| *c == s) {
            return Ok(Quantity::Pain(k));
        }
        let Some((name, region)) = s.split_once('@') else {
            return Err(format!(
                "`{s}` is not a quantity: use one of {} or NAME@REGION (e.g. IL1b@I-II)",
                PAIN_COLUMNS.join(", ")
            ));
        };
        let r = REPORT_REGIONS
            .iter()
            .position(|(n, _)| *n == region)
            .ok_or_else(|| {
                let all: Vec<&str> = REPORT_REGIONS.iter().map(|(n, _)| *n).collect();
                format!(
                    "`{region}` in `{s}` is not a region: use one of {}",
                    all.join(", ")
                )
            })?;
        if name == "phi_Cl" {
            return Ok(Quantity::PhiCl { region: r });
        }
        let f = STATE_NAMES
            .iter()
            .chain(RATE_NAMES.iter())
            .position(|n| *n == name)
            .ok_or_else(|| {
                format!(
                    "`{name}` in `{s}` is not a state, rate or occupancy (`dorsalhorn check` \
                     lists them; phi_Cl is also allowed)"
                )
            })?;
        Ok(Quantity::Mean {
            region: r,
            field: f,
        })
    }

    /// The value in one read-out.
    pub fn of(&self, r: &Readout, phi: &PhiCl) -> f64 {
        match *self {
            Quantity::Pain(0) => r.p_mech,
            Quantity::Pain(1) => r.p_heat,
            Quantity::Pain(2) => r.p_spont,
            Quantity::Pain(3) => r.pwt_g,
            Quantity::Pain(_) => r.pwl_s,
            Quantity::Mean { region, field } => r.means[region][field],
            Quantity::PhiCl { region } => {
                let k = STATE_NAMES.iter().position(|n| *n == "K").expect("K state");
                phi.at(r.means[region][k])
            }
        }
    }
}

/// φ_Cl(K) = (V_rest − E_Cl(K)) / (V_rest − E_Cl(1)), E_Cl(K) = E_Cl,K0 + slope·K (§4.3).
#[derive(Debug, Clone, Copy)]
pub struct PhiCl {
    v_rest: f64,
    e0: f64,
    slope: f64,
}

impl PhiCl {
    pub fn new(pr: &crate::model::network::Params) -> PhiCl {
        PhiCl {
            v_rest: pr.V_rest,
            e0: pr.E_Cl_K0,
            slope: pr.E_Cl_slope,
        }
    }
    pub fn at(&self, k: f64) -> f64 {
        (self.v_rest - (self.e0 + self.slope * k)) / (self.v_rest - (self.e0 + self.slope))
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum When {
    At(f64),
    Window(f64, f64),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Stat {
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
/// 1 − relief(blocked)/relief(arm). `per` divides by a second measure.
#[derive(Debug, Clone)]
struct Measure {
    arm: String,
    control: Option<String>,
    blocked: Option<String>,
    quantity: Quantity,
    quantity_name: String,
    when: When,
    stat: Stat,
    excess: bool,
    per: Option<Box<Measure>>,
    /// The time points of a multi-time check, for its description.
    times: Option<String>,
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Higher(f64),
    Lower(f64),
    Similar(f64),
    Range(f64, f64),
    Order(f64),
}

#[derive(Debug, Clone)]
struct Check {
    what: String,
    kind: Kind,
    /// One (a, b) pair per time point; `b` is the comparison (than / smaller), absent for ranges.
    pairs: Vec<(Measure, Option<Measure>)>,
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
    key: String,
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
}

/// A finding of MODEL.md §5 as loaded from its file.
#[derive(Debug, Clone)]
pub struct Finding {
    pub about: About,
    pub quick: bool,
    pub file: PathBuf,
    pub arms: Vec<Arm>,
    checks: Vec<Check>,
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

fn ferr(file: &Path, msg: impl Into<String>) -> Error {
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
            for arm in [Some(&m.arm), m.control.as_ref(), m.blocked.as_ref()]
                .into_iter()
                .flatten()
            {
                out.push((arm.as_str(), t));
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
fn merge(base: &mut toml::Table, with: &toml::Table) {
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
        // The grid comes from --grid, and validation writes no frames.
        let forced: toml::Table = toml::from_str(&format!(
            "tissue = {{ spacing_um = {spacing_um:?} }}\noutput = {{ frames = false }}"
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
            id: raw.id,
            finding: raw.finding,
            source: raw.source,
            protocol: raw.protocol,
            not_modelled: raw.not_modelled,
            note: raw.note,
            when_not_reproduced: raw.when_not_reproduced,
        },
        quick: raw.quick,
        file: file.to_path_buf(),
        arms,
        checks,
    })
}

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
        if m.blocked.is_some() && m.control.is_none() {
            return Err(ferr(
                file,
                format!("key `{}`: `blocked` needs a `control`", key(k)),
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

/// The time series of every arm (by arm name), for one finding.
pub struct Runs<'a> {
    pub arms: BTreeMap<String, &'a [Readout]>,
    pub phi: PhiCl,
}

/// (t in hours, value) of a quantity in an arm.
fn series(runs: &Runs, arm: &str, q: &Quantity) -> Vec<(f64, f64)> {
    runs.arms[arm]
        .iter()
        .map(|r| (r.time_s / 3600.0, q.of(r, &runs.phi)))
        .collect()
}

fn interp(s: &[(f64, f64)], t: f64) -> f64 {
    if s.is_empty() || t < s[0].0 - 1e-9 || t > s[s.len() - 1].0 + 1e-9 {
        return f64::NAN;
    }
    for w in s.windows(2) {
        let ((t0, v0), (t1, v1)) = (w[0], w[1]);
        if t <= t1 + 1e-9 {
            if t1 - t0 < 1e-12 {
                return v1;
            }
            return v0 + (v1 - v0) * ((t - t0) / (t1 - t0)).clamp(0.0, 1.0);
        }
    }
    s[s.len() - 1].1
}

/// The samples in [a, b], with interpolated end points.
fn clip(s: &[(f64, f64)], a: f64, b: f64) -> Vec<(f64, f64)> {
    let mut out = vec![(a, interp(s, a))];
    out.extend(
        s.iter()
            .copied()
            .filter(|&(t, _)| t > a + 1e-9 && t < b - 1e-9),
    );
    out.push((b, interp(s, b)));
    out
}

fn stat_of(s: &[(f64, f64)], when: When, stat: Stat) -> f64 {
    let (a, b) = match when {
        When::At(t) => return interp(s, t),
        When::Window(a, b) => (a, b),
    };
    let w = clip(s, a, b);
    if w.iter().any(|p| p.1.is_nan()) {
        return f64::NAN;
    }
    let arg = |better: fn(f64, f64) -> bool| {
        let mut best = w[0];
        for &p in &w[1..] {
            if better(p.1, best.1) {
                best = p;
            }
        }
        best
    };
    match stat {
        Stat::Value => {
            let area: f64 = w
                .windows(2)
                .map(|p| 0.5 * (p[0].1 + p[1].1) * (p[1].0 - p[0].0))
                .sum();
            area / (b - a)
        }
        Stat::Peak => arg(|x, y| x > y).1,
        Stat::Trough => arg(|x, y| x < y).1,
        Stat::PeakH => arg(|x, y| x > y).0,
        Stat::TroughH => arg(|x, y| x < y).0,
        Stat::HalfRiseH => {
            let v0 = w[0].1;
            let peak = arg(|x, y| x > y).1;
            let half = v0 + 0.5 * (peak - v0);
            if peak - v0 <= 0.0 {
                return f64::NAN;
            }
            for p in w.windows(2) {
                if p[1].1 >= half {
                    let f = if p[1].1 > p[0].1 {
                        (half - p[0].1) / (p[1].1 - p[0].1)
                    } else {
                        1.0
                    };
                    return p[0].0 + f.clamp(0.0, 1.0) * (p[1].0 - p[0].0);
                }
            }
            f64::NAN
        }
    }
}

fn plain(runs: &Runs, m: &Measure, arm: &str) -> f64 {
    let s = series(runs, arm, &m.quantity);
    let mut v = stat_of(&s, m.when, m.stat);
    if m.excess && matches!(m.stat, Stat::Value | Stat::Peak | Stat::Trough) {
        v -= interp(&s, 0.0);
    }
    v
}

fn relief(runs: &Runs, m: &Measure, arm: &str, control: &str) -> f64 {
    let a = plain(runs, m, arm);
    let c = plain(runs, m, control);
    let c0 = interp(&series(runs, control, &m.quantity), 0.0);
    let change = c - c0;
    if change.abs() < 1e-9 * c0.abs().max(1e-6) {
        return f64::NAN;
    }
    (c - a) / change
}

fn eval(runs: &Runs, m: &Measure) -> f64 {
    let v = match (&m.control, &m.blocked) {
        (Some(c), Some(b)) => 1.0 - relief(runs, m, b, c) / relief(runs, m, &m.arm, c),
        (Some(c), None) => relief(runs, m, &m.arm, c),
        _ => plain(runs, m, &m.arm),
    };
    match &m.per {
        Some(p) => v / eval(runs, p),
        None => v,
    }
}

fn when_text(w: When) -> String {
    let t = |h: f64| {
        if h >= 48.0 && (h / 24.0).fract().abs() < 1e-9 {
            format!("d{}", h / 24.0)
        } else if h < 1.0 && h > 0.0 {
            format!("{} min", (h * 60.0 * 10.0).round() / 10.0)
        } else {
            format!("{h} h")
        }
    };
    match w {
        When::At(h) => t(h),
        When::Window(a, b) => format!("{}–{}", t(a), t(b)),
    }
}

impl Measure {
    fn describe(&self) -> String {
        let what = match (&self.control, &self.blocked) {
            (Some(c), Some(b)) => {
                format!("fraction of {}'s relief (vs {c}) blocked in {b}", self.arm)
            }
            (Some(c), None) => format!("relief by {} (vs {c})", self.arm),
            _ => self.arm.clone(),
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
            Some(p) => format!(" / {}", p.describe()),
            None => String::new(),
        };
        let at = self.times.clone().unwrap_or_else(|| when_text(self.when));
        format!("{stat}{}{ex} in {what} at {at}{per}", self.quantity_name)
    }
}

fn num(v: f64) -> String {
    if !v.is_finite() {
        return "n/a".into();
    }
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 0.01 {
        format!("{:.3}", v)
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    } else {
        format!("{v:.2e}")
    }
}

fn compare_text(w: When, a: f64, b: f64) -> String {
    let change = if b > 0.0 && a >= 0.0 {
        format!("×{}", num(a / b))
    } else {
        format!("{:+.0} % of |b|", 100.0 * (a - b) / b.abs())
    };
    format!("{}: {} vs {} ({change})", when_text(w), num(a), num(b))
}

/// What one check measured.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    pub what: String,
    pub criterion: String,
    pub measured: Vec<String>,
    pub pass: bool,
}

fn evaluate(runs: &Runs, c: &Check) -> CheckResult {
    let mut measured = Vec::new();
    let mut pass = true;
    for (a, b) in &c.pairs {
        let va = eval(runs, a);
        let vb = b.as_ref().map(|b| eval(runs, b));
        let (ok, text) = match (c.kind, vb) {
            // The change relative to |b|: for positive b this is the ratio minus one, and it
            // keeps its meaning for signed quantities (φ_Cl < 0).
            (Kind::Higher(by), Some(vb)) => {
                let d = (va - vb) / vb.abs();
                (d >= by, compare_text(a.when, va, vb))
            }
            (Kind::Lower(by), Some(vb)) => {
                let d = (va - vb) / vb.abs();
                (d <= -by, compare_text(a.when, va, vb))
            }
            (Kind::Similar(tol), Some(vb)) => {
                let d = (va - vb) / vb.abs();
                (d.abs() <= tol, compare_text(a.when, va, vb))
            }
            (Kind::Range(lo, hi), _) => (
                va >= lo && va <= hi,
                format!("{}: {}", when_text(a.when), num(va)),
            ),
            (Kind::Order(by), Some(vb)) => (va > vb + by, format!("{} vs {}", num(va), num(vb))),
            _ => (false, "n/a".into()),
        };
        pass &= ok && va.is_finite() && vb.is_none_or(f64::is_finite);
        measured.push(text);
    }
    let (a, b) = &c.pairs[0];
    let mut a = a.clone();
    if c.pairs.len() > 1 {
        // One criterion for every time point: "at 6 h, 24 h, d4".
        let times: Vec<String> = c.pairs.iter().map(|p| when_text(p.0.when)).collect();
        a.times = Some(times.join(", "));
    }
    let a = &a;
    let criterion = match c.kind {
        Kind::Higher(by) => format!(
            "{} exceeds {} by ≥ {} % of the latter's magnitude",
            a.describe(),
            b.as_ref().map(|b| b.arm.as_str()).unwrap_or(""),
            num(by * 100.0)
        ),
        Kind::Lower(by) => format!(
            "{} is below {} by ≥ {} % of the latter's magnitude",
            a.describe(),
            b.as_ref().map(|b| b.arm.as_str()).unwrap_or(""),
            num(by * 100.0)
        ),
        Kind::Similar(tol) => format!(
            "{} within ±{} % of {}",
            a.describe(),
            num(tol * 100.0),
            b.as_ref().map(|b| b.arm.as_str()).unwrap_or("")
        ),
        Kind::Range(lo, hi) => {
            let mut s = a.describe();
            if lo.is_finite() {
                s = format!("{} ≤ {s}", num(lo));
            }
            if hi.is_finite() {
                s = format!("{s} ≤ {}", num(hi));
            }
            s
        }
        Kind::Order(by) => format!(
            "{} > {}{}",
            a.describe(),
            b.as_ref().map(|b| b.describe()).unwrap_or_default(),
            if by > 0.0 {
                format!(" + {by}")
            } else {
                String::new()
            }
        ),
    };
    CheckResult {
        what: c.what.clone(),
        criterion,
        measured,
        pass,
    }
}

// ------------------------------------------------------------------------------------------
// Running the suite
// ------------------------------------------------------------------------------------------

/// How `dorsalhorn validate` runs what [`select`] chose.
#[derive(Debug, Clone)]
pub struct Options {
    /// `classroom`, `default` or the spacing, for the report.
    pub grid_name: String,
    pub spacing_um: f64,
    pub out: Option<PathBuf>,
    pub overwrite: bool,
    pub progress: bool,
    /// Arms run at once, each on its own GPU buffers (≥ 1); results do not depend on it.
    pub jobs: usize,
}

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
}

impl Report {
    pub fn reproduced(&self) -> usize {
        self.findings.iter().filter(|f| f.reproduced).count()
    }
}

/// Which findings and groups `only` selects (all when empty). Unknown names are errors.
pub fn select(
    findings: Vec<Finding>,
    only: &[String],
) -> Result<(Vec<Finding>, bool, bool), Error> {
    if only.is_empty() {
        return Ok((findings, true, true));
    }
    let mut keep = vec![false; findings.len()];
    let (mut analytic, mut baseline) = (false, false);
    for o in only {
        match o.as_str() {
            "analytic" => analytic = true,
            "baseline" => baseline = true,
            "findings" => keep.iter_mut().for_each(|k| *k = true),
            "quick" => {
                for (k, f) in keep.iter_mut().zip(&findings) {
                    *k |= f.quick;
                }
            }
            id => match findings
                .iter()
                .position(|f| f.about.id.eq_ignore_ascii_case(id))
            {
                Some(i) => keep[i] = true,
                None => {
                    let ids: Vec<&str> = findings.iter().map(|f| f.about.id.as_str()).collect();
                    return Err(Error::Scenario(ScenarioError::new(
                        "--only",
                        format!(
                            "`{id}` is neither a finding nor a group: use analytic, baseline, \
                             findings, quick or one of {}",
                            ids.join(", ")
                        ),
                    )));
                }
            },
        }
    }
    let kept = findings
        .into_iter()
        .zip(keep)
        .filter_map(|(f, k)| k.then_some(f))
        .collect();
    Ok((kept, analytic, baseline))
}

/// Baselines settled once per tissue (animal, grid, sex, boundaries, settling) and reused.
struct Baselines {
    cache: Option<BaselineCache>,
    memory: Vec<(String, Vec<f32>, Vec<[f32; 4]>)>,
}

impl Baselines {
    fn tissue(
        &mut self,
        gpu: &Gpu,
        sc: &TissueScenario,
    ) -> Result<crate::tissue::TissueSim, Error> {
        let key = crate::tissue::baseline::baseline_key(gpu, sc);
        if let Some((_, s, th)) = self.memory.iter().find(|m| m.0 == key)
            && let Some(sim) = crate::tissue::baseline::tissue_from_states(gpu, sc, s, th)?
        {
            return Ok(sim);
        }
        let (sim, _) =
            crate::tissue::baseline::cached_baseline(gpu, sc, self.cache.as_ref(), &mut |_| true)?;
        self.memory.push((key, sim.read_states(gpu)?, sim.thetas()));
        Ok(sim)
    }
}

/// Runs one arm to its end; returns its read-outs. The baselines are shared between the
/// workers of `--jobs`; the progress bar counts whole model hours across them.
fn run_arm(
    gpu: &Gpu,
    baselines: &std::sync::Mutex<Baselines>,
    sc: &TissueScenario,
    bar: &indicatif::ProgressBar,
) -> Result<Vec<Readout>, Error> {
    let sim = baselines
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .tissue(gpu, sc)?;
    let mut st = Stepper::from_baseline(gpu, sc.clone(), sim)?;
    let mut shown_h = 0u64;
    while !st.finished() {
        st.step(gpu)?;
        let h = (st.time_s() / 3600.0) as u64;
        if h > shown_h {
            bar.inc(h - shown_h);
            shown_h = h;
        }
    }
    Ok(st.readouts)
}

/// An arm's time series: the pain and behaviour columns, every state, rate and occupancy in
/// laminae I–II, and the finding's own quantities.
fn csv_of(readouts: &[Readout], phi: &PhiCl, extra: &[String]) -> String {
    let mut names: Vec<String> = PAIN_COLUMNS.iter().map(|s| s.to_string()).collect();
    for f in STATE_NAMES.iter().chain(RATE_NAMES.iter()) {
        names.push(format!("{f}@I-II"));
    }
    names.push("phi_Cl@I-II".into());
    for q in extra {
        if !names.contains(q) {
            names.push(q.clone());
        }
    }
    let mut out = format!("time_h,{}\n", names.join(","));
    for rd in readouts {
        let mut row = vec![format!("{}", rd.time_s / 3600.0)];
        for q in &names {
            let v = Quantity::parse(q)
                .map(|q| q.of(rd, phi))
                .unwrap_or(f64::NAN);
            row.push(format!("{v:.6e}"));
        }
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

/// Runs the selected findings and groups.
pub fn run(
    gpu: &Gpu,
    findings: &[Finding],
    analytic: bool,
    baseline: bool,
    opts: &Options,
    command: &str,
) -> Result<Report, Error> {
    crate::output::RunFolder::hold(opts.out.as_deref(), opts.overwrite, "validate", || {
        run_in_claimed(gpu, findings, analytic, baseline, opts, command)
    })
}

fn run_in_claimed(
    gpu: &Gpu,
    findings: &[Finding],
    analytic: bool,
    baseline: bool,
    opts: &Options,
    command: &str,
) -> Result<Report, Error> {
    let start = Instant::now();
    if let Some(out) = &opts.out {
        for sub in ["figures", "arms"] {
            let d = out.join(sub);
            std::fs::create_dir_all(&d).map_err(|e| Error::io("cannot create folder", &d, e))?;
        }
    }
    let table = crate::params::ParamTable::builtin();
    let phi = PhiCl::new(&crate::model::network::Params::from_table(&table));
    let mut groups_out = Vec::new();
    if analytic {
        if opts.progress {
            eprintln!("  group analytic: heat kernel, K0 profile, conservation ...");
        }
        groups_out.extend(groups::analytic(gpu)?);
    }
    let mut baselines = Baselines {
        cache: BaselineCache::from_env(),
        memory: Vec::new(),
    };
    if baseline {
        if opts.progress {
            eprintln!(
                "  group baseline: MODEL.md §8.1 on the {} µm tissue and the well-mixed model ...",
                opts.spacing_um
            );
        }
        let sc = groups::baseline_scenario(opts.spacing_um)?;
        let sim = baselines.tissue(gpu, &sc)?;
        groups_out.extend(groups::baseline(gpu, sim)?);
    }
    // Distinct arms, in order of first use.
    let mut unique: Vec<(String, TissueScenario, String)> = Vec::new();
    for f in findings {
        for a in &f.arms {
            if !unique.iter().any(|u| u.0 == a.key) {
                unique.push((
                    a.key.clone(),
                    a.scenario.clone(),
                    format!("{}:{}", f.about.id, a.name),
                ));
            }
        }
    }
    let total_s: f64 = unique.iter().map(|u| u.1.duration_s).sum();
    let bar = crate::output::progress_bar(
        opts.progress && !unique.is_empty(),
        (total_s / 3600.0).ceil() as u64,
        "h model time (eta {eta})",
    );
    // Baselines first, one at a time (each settles once and is then shared); then the arms,
    // `opts.jobs` at a time. Each arm has its own GPU buffers, so the read-outs are the same
    // whatever the number of jobs.
    for (_, sc, _) in &unique {
        baselines.tissue(gpu, sc)?;
    }
    let baselines = std::sync::Mutex::new(baselines);
    type ArmResult = (Result<Vec<Readout>, crate::error::BlowUp>, f64);
    let slots: Vec<std::sync::Mutex<Option<ArmResult>>> =
        unique.iter().map(|_| std::sync::Mutex::new(None)).collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let fatal: std::sync::Mutex<Option<Error>> = std::sync::Mutex::new(None);
    let worker = || {
        loop {
            let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if i >= unique.len() || fatal.lock().unwrap_or_else(|e| e.into_inner()).is_some() {
                return;
            }
            let (_, sc, label) = &unique[i];
            if opts.jobs == 1 {
                bar.set_message(format!("arm {}/{}: {label}", i + 1, unique.len()));
            } else {
                bar.set_message(format!("{} of {} arms started", i + 1, unique.len()));
            }
            let t0 = Instant::now();
            let r = match run_arm(gpu, &baselines, sc, &bar) {
                Ok(r) => Ok(r),
                // A blow-up is reported against the finding; anything else (GPU, I/O) stops
                // the run.
                Err(Error::BlowUp(b)) => Err(b),
                Err(e) => {
                    fatal
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .get_or_insert(e);
                    return;
                }
            };
            let wall = t0.elapsed().as_secs_f64();
            if opts.progress {
                let line = format!(
                    "  arm {}/{} {label}: {:.2} d in {wall:.0} s",
                    i + 1,
                    unique.len(),
                    sc.duration_s / 86400.0
                );
                if bar.is_hidden() {
                    eprintln!("{line}");
                } else {
                    bar.println(line);
                }
            }
            *slots[i].lock().unwrap_or_else(|e| e.into_inner()) = Some((r, wall));
        }
    };
    std::thread::scope(|scope| {
        for _ in 0..opts.jobs.clamp(1, unique.len().max(1)) {
            scope.spawn(worker);
        }
    });
    if let Some(e) = fatal.into_inner().unwrap_or_else(|e| e.into_inner()) {
        bar.finish_and_clear();
        return Err(e);
    }
    // The first blow-up in arm order, whatever order the jobs finished in.
    let mut first_blowup: Option<crate::error::BlowUp> = None;
    let results: Vec<(String, Result<Vec<Readout>, String>, f64)> = unique
        .iter()
        .zip(slots)
        .map(|((key, _, _), slot)| {
            let (r, wall) = slot
                .into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .expect("every arm ran (no fatal error)");
            let r = r.map_err(|b| {
                let text = b.to_string();
                first_blowup.get_or_insert(b);
                text
            });
            (key.clone(), r, wall)
        })
        .collect();
    bar.finish_and_clear();
    let mut out_findings = Vec::new();
    let mut errors = Vec::new();
    for f in findings {
        let mut arms = BTreeMap::new();
        let mut failed = None;
        let mut wall = 0.0;
        let mut infos = Vec::new();
        for a in &f.arms {
            let (_, r, w) = results
                .iter()
                .find(|r| r.0 == a.key)
                .expect("every arm was run");
            wall += w;
            match r {
                Ok(rd) => {
                    arms.insert(a.name.clone(), rd.as_slice());
                }
                Err(e) => failed = Some(format!("arm `{}`: {e}", a.name)),
            }
            infos.push(ArmInfo {
                name: a.name.clone(),
                label: a.label.clone(),
                base: a.base.clone(),
                changes: a.changes.clone(),
                days: a.scenario.duration_s / 86400.0,
                csv: format!("arms/{}_{}.csv", f.about.id, a.name),
            });
        }
        let runs = Runs { arms, phi };
        let checks = match &failed {
            Some(e) => {
                errors.push(format!("{}: {e}", f.about.id));
                vec![CheckResult {
                    what: "the arms run to their end".into(),
                    criterion: "no numerical blow-up".into(),
                    measured: vec![e.clone()],
                    pass: false,
                }]
            }
            None => f.checks.iter().map(|c| evaluate(&runs, c)).collect(),
        };
        if let (Some(out), None) = (&opts.out, &failed) {
            for a in &f.arms {
                let path = out.join(format!("arms/{}_{}.csv", f.about.id, a.name));
                crate::output::write_atomic(
                    &path,
                    csv_of(runs.arms[&a.name], &phi, &f.quantity_names()).as_bytes(),
                )?;
            }
            crate::output::write_atomic(
                &out.join(format!("figures/{}.svg", f.about.id)),
                svg::figure(f, &runs).as_bytes(),
            )?;
        }
        out_findings.push(FindingResult {
            about: f.about.clone(),
            reproduced: failed.is_none() && checks.iter().all(|c| c.pass),
            checks,
            arms: infos,
            wall_s: wall,
        });
    }
    let report = Report {
        dorsalhorn_version: env!("CARGO_PKG_VERSION"),
        command: command.to_string(),
        provenance: crate::output::Provenance::of_this_run(),
        adapter: gpu.summary(),
        grid: opts.grid_name.clone(),
        spacing_um: opts.spacing_um,
        wall_time_s: start.elapsed().as_secs_f64(),
        groups: groups_out,
        findings: out_findings,
        arms_run: unique.len(),
        model_days_run: total_s / 86400.0,
    };
    if let Some(out) = &opts.out {
        let json = serde_json::to_string_pretty(&report).expect("report serialises");
        crate::output::write_atomic(&out.join("validation.json"), json.as_bytes())?;
        crate::output::write_atomic(&out.join("validation.md"), markdown(&report).as_bytes())?;
    }
    if !errors.is_empty() {
        eprintln!(
            "error: {} finding(s) could not be evaluated (the report was written): {}",
            errors.len(),
            errors.join("; ")
        );
        if let Some(b) = first_blowup {
            return Err(Error::BlowUp(b));
        }
        return Err(Error::Output(errors.join("; ")));
    }
    Ok(report)
}

// ------------------------------------------------------------------------------------------
// Reports
// ------------------------------------------------------------------------------------------

fn short(s: &str, n: usize) -> String {
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
            "\n{} of {n} findings reproduced ({:.0} %) on the {} grid ({} µm); {} arm(s), {:.0} model days, {:.0} s.\n",
            r.reproduced(),
            100.0 * r.reproduced() as f64 / n as f64,
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
            "**{} of {n} findings reproduced ({:.0} %).** A finding is reproduced when every one of its checks passes. Parts of a finding that the model does not carry are listed as *not modelled* and are not judged. The finding files are in `validation/`; the format, the measures and the reasoning behind the criteria are in [validation-format.md](validation-format.md). Each finding's figure shows the compared arms, with the compared times dashed and the windows shaded.\n\n",
            r.reproduced(),
            100.0 * r.reproduced() as f64 / n as f64
        ));
        s.push_str("| ID | finding | protocol | source | reproduced | checks passed |\n|---|---|---|---|---|---|\n");
        for f in &r.findings {
            s.push_str(&format!(
                "| [{id}](#{lid}) | {} | {} | {} | {} | {}/{} |\n",
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

#[cfg(test)]
mod tests {
    use super::*;

    fn readouts(values: &[(f64, f64)]) -> Vec<Readout> {
        let width = STATE_NAMES.len() + RATE_NAMES.len();
        values
            .iter()
            .map(|&(h, v)| Readout {
                time_s: h * 3600.0,
                p_mech: v,
                p_heat: 1.0,
                p_spont: 1.0,
                pwt_g: 15.0,
                pwl_s: 10.0,
                means: vec![vec![v; width]; REPORT_REGIONS.len()],
            })
            .collect()
    }

    /// The runs of named arms, with the §4.3 chloride constants of a typical table.
    fn runs_of<'a>(arms: &[(&str, &'a [Readout])]) -> Runs<'a> {
        Runs {
            arms: arms.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            phi: PhiCl {
                v_rest: -65.0,
                e0: -40.0,
                slope: -30.0,
            },
        }
    }

    #[test]
    fn statistics_of_a_series() {
        let s = [(0.0, 1.0), (1.0, 3.0), (2.0, 5.0), (3.0, 4.0), (4.0, 4.0)];
        assert_eq!(interp(&s, 0.5), 2.0);
        assert!(interp(&s, 5.0).is_nan());
        // Mean over [0, 2] by the trapezoid rule: (2 + 4)/2 = 3.
        assert!((stat_of(&s, When::Window(0.0, 2.0), Stat::Value) - 3.0).abs() < 1e-12);
        assert_eq!(stat_of(&s, When::Window(0.0, 4.0), Stat::Peak), 5.0);
        assert_eq!(stat_of(&s, When::Window(0.0, 4.0), Stat::PeakH), 2.0);
        assert_eq!(stat_of(&s, When::Window(1.5, 4.0), Stat::TroughH), 1.5);
        // Half of the rise 1 → 5 is 3, reached at 1 h.
        assert!((stat_of(&s, When::Window(0.0, 4.0), Stat::HalfRiseH) - 1.0).abs() < 1e-12);
        // A flat series has no rise.
        assert!(
            stat_of(
                &[(0.0, 1.0), (1.0, 1.0)],
                When::Window(0.0, 1.0),
                Stat::HalfRiseH
            )
            .is_nan()
        );
    }

    #[test]
    fn relief_and_blocked_fractions() {
        // Control rises 1 → 3; the treated arm to 2 (half the rise removed); the blocked arm
        // to 2.5 (relief 0.25, so half of the treatment's relief is blocked).
        let c = readouts(&[(0.0, 1.0), (10.0, 3.0)]);
        let t = readouts(&[(0.0, 1.0), (10.0, 2.0)]);
        let b = readouts(&[(0.0, 1.0), (10.0, 2.5)]);
        let runs = runs_of(&[("c", &c), ("t", &t), ("b", &b)]);
        let m = Measure {
            arm: "t".into(),
            control: Some("c".into()),
            blocked: None,
            quantity: Quantity::parse("P_mech").unwrap(),
            quantity_name: "P_mech".into(),
            when: When::At(10.0),
            stat: Stat::Value,
            excess: false,
            per: None,
            times: None,
        };
        assert!((eval(&runs, &m) - 0.5).abs() < 1e-12);
        let mb = Measure {
            blocked: Some("b".into()),
            ..m.clone()
        };
        assert!((eval(&runs, &mb) - 0.5).abs() < 1e-12);
        // With no change in the control the relief is undefined, and a check on it fails.
        let flat = readouts(&[(0.0, 1.0), (10.0, 1.0)]);
        let runs2 = runs_of(&[("c", &flat), ("t", &t)]);
        assert!(eval(&runs2, &m).is_nan());
        let check = Check {
            what: "x".into(),
            kind: Kind::Range(0.1, f64::INFINITY),
            pairs: vec![(m, None)],
        };
        assert!(!evaluate(&runs2, &check).pass);
        // φ_Cl is 1 at K = 1.
        assert!((runs.phi.at(1.0) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn comparisons_keep_their_meaning_for_signed_quantities() {
        // φ_Cl-like values: −0.204 is higher than −0.266 by 23 % of 0.266.
        let a = readouts(&[(0.0, 1.0), (10.0, -0.204)]);
        let b = readouts(&[(0.0, 1.0), (10.0, -0.266)]);
        let runs = runs_of(&[("a", &a), ("b", &b)]);
        let m = |arm: &str| Measure {
            arm: arm.into(),
            control: None,
            blocked: None,
            quantity: Quantity::parse("K@I").unwrap(),
            quantity_name: "K@I".into(),
            when: When::At(10.0),
            stat: Stat::Value,
            excess: false,
            per: None,
            times: None,
        };
        let check = |kind| Check {
            what: "x".into(),
            kind,
            pairs: vec![(m("a"), Some(m("b")))],
        };
        assert!(evaluate(&runs, &check(Kind::Higher(0.2))).pass);
        assert!(!evaluate(&runs, &check(Kind::Higher(0.3))).pass);
        assert!(!evaluate(&runs, &check(Kind::Lower(0.1))).pass);
        assert!(!evaluate(&runs, &check(Kind::Similar(0.1))).pass);
    }

    #[test]
    fn quantities_parse_or_explain() {
        assert_eq!(Quantity::parse("P_heat").unwrap(), Quantity::Pain(1));
        assert!(matches!(
            Quantity::parse("IL1b@I-II").unwrap(),
            Quantity::Mean { region: 0, .. }
        ));
        assert!(matches!(
            Quantity::parse("phi_Cl@I").unwrap(),
            Quantity::PhiCl { region: 1 }
        ));
        assert!(
            Quantity::parse("IL1b@X")
                .unwrap_err()
                .contains("not a region")
        );
        assert!(
            Quantity::parse("IL99@I")
                .unwrap_err()
                .contains("not a state")
        );
        assert!(Quantity::parse("pain").unwrap_err().contains("NAME@REGION"));
    }

    #[test]
    fn merge_appends_arrays_of_tables_and_replaces_values() {
        let mut base: toml::Table =
            toml::from_str("[time]\ndays = 7.0\nstep_min = 10.0\n[[ea]]\ndays = [1]\n").unwrap();
        let with: toml::Table = toml::from_str("[time]\ndays = 3.0\n[[ea]]\ndays = [2]\n").unwrap();
        merge(&mut base, &with);
        assert_eq!(base["time"]["days"].as_float(), Some(3.0));
        assert_eq!(base["time"]["step_min"].as_float(), Some(10.0));
        assert_eq!(base["ea"].as_array().unwrap().len(), 2);
    }
}
