//! The dorsal-horn model's parameter table (params/dorsal_horn.toml): every parameter with its
//! value and unit as written in the science spec, its evidence tag (S, L or E), its source,
//! and the SI value the code uses (times in s, rates in 1/s).
//!
//! The table is data, compiled into the binary; `dorsalhorn params` prints it and
//! docs/model-parameters.md is generated from it (a test keeps the two in step).
//!
//! Longer than 600 lines: the table's parsing, units, ranges, edits (DORSALHORN_PARAM_SET) and its
//! Markdown page are one owner of the parameter facts.

use crate::error::ScenarioError;
use serde::Deserialize;
use std::collections::HashMap;

/// The built-in table's source text.
pub const BUILTIN_TABLE: &str = include_str!("../params/dorsal_horn.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable {
    format_version: i64,
    param: Vec<RawParam>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParam {
    key: String,
    sym: String,
    sec: String,
    value: f64,
    unit: String,
    #[serde(rename = "as", default)]
    conversion: Option<String>,
    tag: String,
    src: String,
    what: String,
    /// The spec's value where the table's value was calibrated away from it (`src` says why).
    #[serde(default)]
    spec: Option<RawSpec>,
    /// An entry this implementation added to the spec's model (`src` says why).
    #[serde(default)]
    added: bool,
    /// The physically allowed values, in interval notation in the entry's unit (`"[0, 1]"`,
    /// `"(0, inf)"`, `"[1, inf)"`); default by unit ([`Range::for_unit`]).
    #[serde(default)]
    range: Option<String>,
}

/// The allowed values of a parameter, in its written unit: an interval whose ends may be open,
/// closed or infinite.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    pub lo: f64,
    pub hi: f64,
    pub lo_open: bool,
    pub hi_open: bool,
}

impl Range {
    /// The range of an entry without an explicit one, from what its unit measures: a time
    /// constant or half-life (`as = "rate"`/`"half_life"`), a duration, a length, a volume or a
    /// weight must be positive; a potential (mV) lies in [-200, 200]; everything else (rates,
    /// concentrations, diffusivities, gains and weights, which may be switched off) must not be
    /// negative.
    pub fn for_unit(unit: &str, conversion: Conversion) -> Range {
        let positive = Range {
            lo: 0.0,
            hi: f64::INFINITY,
            lo_open: true,
            hi_open: true,
        };
        if conversion != Conversion::Value {
            return positive;
        }
        match unit {
            "s" | "min" | "h" | "d" | "µm" | "µL" | "g" => positive,
            "mV" => Range {
                lo: -200.0,
                hi: 200.0,
                lo_open: false,
                hi_open: false,
            },
            _ => Range {
                lo: 0.0,
                hi: f64::INFINITY,
                lo_open: false,
                hi_open: true,
            },
        }
    }

    /// Parses interval notation: `[a, b]`, `(a, b)`, `[a, b)`, `(a, b]`, with `inf`/`-inf`.
    pub fn parse(text: &str) -> Result<Range, String> {
        let t = text.trim();
        let bad = || {
            format!(
                "range `{text}` is not an interval such as \"[0, 1]\", \"(0, inf)\" or \"[1, inf)\""
            )
        };
        let lo_open = match t.chars().next() {
            Some('[') => false,
            Some('(') => true,
            _ => return Err(bad()),
        };
        let hi_open = match t.chars().last() {
            Some(']') => false,
            Some(')') => true,
            _ => return Err(bad()),
        };
        let inner = &t[1..t.len() - 1];
        let (a, b) = inner.split_once(',').ok_or_else(bad)?;
        let num = |x: &str| -> Result<f64, String> {
            match x.trim() {
                "inf" => Ok(f64::INFINITY),
                "-inf" => Ok(f64::NEG_INFINITY),
                v => v.parse::<f64>().map_err(|_| bad()),
            }
        };
        let (lo, hi) = (num(a)?, num(b)?);
        if lo.is_nan() || hi.is_nan() || lo > hi {
            return Err(bad());
        }
        Ok(Range {
            lo,
            hi,
            lo_open,
            hi_open,
        })
    }

    pub fn contains(&self, v: f64) -> bool {
        let above = if self.lo_open {
            v > self.lo
        } else {
            v >= self.lo
        };
        let below = if self.hi_open {
            v < self.hi
        } else {
            v <= self.hi
        };
        v.is_finite() && above && below
    }
}

impl std::fmt::Display for Range {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let end = |v: f64| {
            if v == f64::INFINITY {
                "inf".to_string()
            } else if v == f64::NEG_INFINITY {
                "-inf".to_string()
            } else {
                fmt_num(v)
            }
        };
        write!(
            f,
            "{}{}, {}{}",
            if self.lo_open { '(' } else { '[' },
            end(self.lo),
            end(self.hi),
            if self.hi_open { ')' } else { ']' }
        )
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    value: f64,
    /// Defaults to the entry's unit.
    unit: Option<String>,
}

/// How a written value becomes the SI number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conversion {
    /// The value in its unit, converted to SI.
    Value,
    /// The value is a time constant τ; the parameter is 1/τ (1/s).
    Rate,
    /// The value is a half-life t½; the parameter is ln 2 / t½ (1/s).
    HalfLife,
}

/// Evidence level of a parameter (MODEL.md, "Evidence tags").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag {
    /// Checked against the source.
    Source,
    /// Literature value not re-checked.
    Literature,
    /// Modelling estimate.
    Estimate,
}

impl Tag {
    pub fn letter(self) -> &'static str {
        match self {
            Tag::Source => "S",
            Tag::Literature => "L",
            Tag::Estimate => "E",
        }
    }
}

/// One parameter.
#[derive(Debug, Clone)]
pub struct Param {
    pub key: String,
    pub symbol: String,
    pub section: String,
    /// As written in the spec, in `unit`.
    pub value: f64,
    pub unit: String,
    pub conversion: Conversion,
    pub tag: Tag,
    pub source: String,
    pub meaning: String,
    /// The value the code uses.
    pub si: f64,
    pub si_unit: String,
    /// The science spec's value (in its own unit, with its SI value) where this entry was
    /// calibrated against the validation suite; `source` gives the reason.
    pub spec: Option<SpecValue>,
    /// An entry this implementation added to the spec's model (a term the spec does not have);
    /// `source` gives the reason. `spec_set()` keeps it.
    pub added: bool,
    /// The allowed values of `value` (in `unit`), checked on load.
    pub range: Range,
}

/// The spec's value of a calibrated parameter.
#[derive(Debug, Clone)]
pub struct SpecValue {
    pub value: f64,
    pub unit: String,
    pub si: f64,
}

impl Param {
    /// The value as written, e.g. `1/(6 h)` or `t½ 30 min` or `0.2 EC50/Hz`.
    pub fn written(&self) -> String {
        written(self.value, &self.unit, self.conversion)
    }

    /// Sets a calibrated entry back to the spec's value (a no-op for the others).
    fn restore_spec(&mut self) {
        if let Some(sv) = self.spec.take() {
            self.value = sv.value;
            self.unit = sv.unit;
            self.si = sv.si;
        }
    }

    /// The value as written, followed by the spec's value for a calibrated parameter, e.g.
    /// `2 h (spec 2 d)`.
    pub fn written_with_spec(&self) -> String {
        match &self.spec {
            Some(sv) => format!(
                "{} (spec {})",
                self.written(),
                written(sv.value, &sv.unit, self.conversion)
            ),
            None => self.written(),
        }
    }
}

fn written(value: f64, unit: &str, conversion: Conversion) -> String {
    let v = fmt_num(value);
    match conversion {
        Conversion::Value if unit == "1" => v,
        Conversion::Value => format!("{v} {unit}"),
        Conversion::Rate => format!("1/({v} {unit})"),
        Conversion::HalfLife => format!("ln 2/({v} {unit})"),
    }
}

/// The SI value and unit of a value written in `unit` with `conversion`, or why it has none.
fn to_si(value: f64, unit: &str, conversion: Conversion) -> Result<(f64, String), String> {
    match conversion {
        Conversion::Value => {
            if let Some(f) = seconds(unit) {
                Ok((value * f, "s".to_string()))
            } else if let Some(f) = unit.strip_prefix("1/").and_then(seconds) {
                Ok((value / f, "1/s".to_string()))
            } else if PLAIN_UNITS.contains(&unit) {
                Ok((value, unit.to_string()))
            } else {
                Err(format!(
                    "unit `{unit}` is not known: allowed s, min, h, d, 1/s, 1/min, 1/h, 1/d, {}",
                    PLAIN_UNITS.join(", ")
                ))
            }
        }
        Conversion::Rate | Conversion::HalfLife => {
            let f = seconds(unit)
                .ok_or_else(|| format!("`{unit}` is not a time unit (s, min, h, d)"))?;
            if value <= 0.0 {
                return Err("a time constant must be > 0".into());
            }
            let k = if conversion == Conversion::Rate {
                1.0
            } else {
                std::f64::consts::LN_2
            };
            Ok((k / (value * f), "1/s".to_string()))
        }
    }
}

/// A number with at most 4 significant digits, in exponent form when very small or large.
fn fmt_num(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    if v.abs() < 1e-3 || v.abs() >= 1e5 {
        let s = format!("{v:.3e}");
        // 1.800e-4 → 1.8e-4
        match s.split_once('e') {
            Some((m, e)) => format!("{}e{e}", m.trim_end_matches('0').trim_end_matches('.')),
            None => s,
        }
    } else {
        let digits = (3 - v.abs().log10().floor() as i32).max(0) as usize;
        let s = format!("{v:.digits$}");
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    }
}

/// Seconds per unit of time, for the time units the table accepts.
fn seconds(unit: &str) -> Option<f64> {
    match unit {
        "s" => Some(1.0),
        "min" => Some(60.0),
        "h" => Some(3600.0),
        "d" => Some(86400.0),
        _ => None,
    }
}

/// Units that pass through unchanged.
const PLAIN_UNITS: &[&str] = &[
    "1", "σ", "Hz", "Hz·s", "µm", "µm/s", "µm²/s", "µL", "nM", "mV", "mA", "g", "EC50", "EC50/Hz",
    "1/s", "mg/kg", "µg", "nmol",
];

/// The parameter table, indexed by key.
#[derive(Debug, Clone)]
pub struct ParamTable {
    pub params: Vec<Param>,
    index: HashMap<String, usize>,
}

/// A parameter whose value differs from the shipped table's (provenance of a run).
#[derive(Debug, Clone, serde::Serialize)]
pub struct EditedParam {
    pub key: String,
    pub value: f64,
    pub unit: String,
    pub shipped_value: f64,
}

/// The environment variable of [`ParamTable::with_overrides`].
pub const PARAM_SET_VAR: &str = "DORSALHORN_PARAM_SET";

impl ParamTable {
    /// The table compiled into the binary.
    pub fn builtin() -> ParamTable {
        // Overrides were checked by `check_overrides` at start-up; a table they break is never
        // used (the built-in one is).
        if let Ok(Some(t)) = Self::with_overrides() {
            return t;
        }
        Self::shipped()
    }

    /// The entries whose value differs from `base` (e.g. the table in use against
    /// [`ParamTable::shipped`]): key, value and unit here, value in `base`.
    pub fn differences(&self, base: &ParamTable) -> Vec<EditedParam> {
        self.params
            .iter()
            .filter_map(|p| {
                let b = base.param(&p.key)?;
                (p.value != b.value).then(|| EditedParam {
                    key: p.key.clone(),
                    value: p.value,
                    unit: p.unit.clone(),
                    shipped_value: b.value,
                })
            })
            .collect()
    }

    /// The table compiled into the binary, without `$DORSALHORN_PARAM_SET`.
    pub fn shipped() -> ParamTable {
        Self::parse("params/dorsal_horn.toml", BUILTIN_TABLE)
            .expect("the built-in parameter table is valid (tested)")
    }

    /// The built-in table with the values of `$DORSALHORN_PARAM_SET` (`KEY=VALUE,KEY=VALUE`, each
    /// value in the unit of the table, e.g. `K_DM=0.4,L_TNF=2`), or `None` when it is unset. For
    /// checking one's own parameter edits with `dorsalhorn validate`; every value is checked.
    pub fn with_overrides() -> Result<Option<ParamTable>, ScenarioError> {
        let Ok(set) = std::env::var(PARAM_SET_VAR) else {
            return Ok(None);
        };
        if set.trim().is_empty() {
            return Ok(None);
        }
        Self::edited(&set).map(Some)
    }

    /// The built-in table with the edits `set` (`KEY=VALUE,KEY=VALUE`, as in
    /// `$DORSALHORN_PARAM_SET`): each key must exist and each value be finite and inside the
    /// entry's allowed range.
    pub fn edited(set: &str) -> Result<ParamTable, ScenarioError> {
        let origin = PARAM_SET_VAR;
        let mut t: toml::Table = toml::from_str(BUILTIN_TABLE).expect("valid built-in table");
        let Some(toml::Value::Array(ps)) = t.get_mut("param") else {
            return Err(ScenarioError::new(
                origin,
                "the built-in table has no `param` list",
            ));
        };
        for kv in set.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let Some((k, v)) = kv.split_once('=') else {
                return Err(ScenarioError::new(
                    origin,
                    format!("`{kv}` is not KEY=VALUE (e.g. {PARAM_SET_VAR}=K_DM=0.4,L_TNF=2)"),
                ));
            };
            let (k, v) = (k.trim(), v.trim());
            let value: f64 = v
                .parse()
                .ok()
                .filter(|x: &f64| x.is_finite())
                .ok_or_else(|| {
                    ScenarioError::new(origin, format!("`{k}`: `{v}` is not a finite number"))
                })?;
            let entry = ps
                .iter_mut()
                .find(|p| p.get("key").and_then(|x| x.as_str()) == Some(k))
                .ok_or_else(|| {
                    ScenarioError::new(
                        origin,
                        format!(
                            "`{k}` is not a parameter key (`dorsalhorn params` lists the keys)"
                        ),
                    )
                })?;
            entry
                .as_table_mut()
                .expect("parameter entries are tables")
                .insert("value".into(), toml::Value::Float(value));
        }
        let text = toml::to_string(&t).expect("the table serialises");
        Self::parse(&format!("params/dorsal_horn.toml with {origin}"), &text)
    }

    /// Parses and checks a table: known units, S/L/E tags, a source and a meaning for every
    /// entry, unique keys, finite values.
    pub fn parse(origin: &str, text: &str) -> Result<ParamTable, ScenarioError> {
        let raw: RawTable = toml::from_str(text)
            .map_err(|e| ScenarioError::new(origin, format!("not a valid parameter table: {e}")))?;
        if raw.format_version != 1 {
            return Err(ScenarioError::new(origin, "format_version must be 1"));
        }
        let mut params = Vec::with_capacity(raw.param.len());
        let mut index = HashMap::new();
        for (i, r) in raw.param.into_iter().enumerate() {
            let err =
                |m: String| ScenarioError::new(origin, format!("param[{i}] `{}`: {m}", r.key));
            if index.insert(r.key.clone(), i).is_some() {
                return Err(err("duplicate key".into()));
            }
            let tag = match r.tag.as_str() {
                "S" => Tag::Source,
                "L" => Tag::Literature,
                "E" => Tag::Estimate,
                t => return Err(err(format!("tag `{t}` is not S, L or E"))),
            };
            if r.src.trim().is_empty() || r.what.trim().is_empty() {
                return Err(err("needs a source (`src`) and a meaning (`what`)".into()));
            }
            if !r.value.is_finite() {
                return Err(err(format!("value {} is not finite", r.value)));
            }
            let conversion = match r.conversion.as_deref() {
                None | Some("value") => Conversion::Value,
                Some("rate") => Conversion::Rate,
                Some("half_life") => Conversion::HalfLife,
                Some(c) => {
                    return Err(err(format!(
                        "`as = \"{c}\"`: allowed value, rate, half_life"
                    )));
                }
            };
            let range = match &r.range {
                Some(text) => Range::parse(text).map_err(err)?,
                None => Range::for_unit(&r.unit, conversion),
            };
            if !range.contains(r.value) {
                return Err(err(format!(
                    "value {} {} is outside its allowed range {range} {} ({}): choose a value \
                     in that range",
                    fmt_num(r.value),
                    r.unit,
                    r.unit,
                    r.what
                )));
            }
            let (si, si_unit) = to_si(r.value, &r.unit, conversion).map_err(err)?;
            let spec = match &r.spec {
                None => None,
                Some(sp) => {
                    let unit = sp.unit.clone().unwrap_or_else(|| r.unit.clone());
                    let (spec_si, spec_unit) = to_si(sp.value, &unit, conversion)
                        .map_err(|m| err(format!("`spec`: {m}")))?;
                    if spec_unit != si_unit {
                        return Err(err(format!(
                            "`spec` is in {spec_unit}, the value in {si_unit}: use a unit of the same kind"
                        )));
                    }
                    Some(SpecValue {
                        value: sp.value,
                        unit,
                        si: spec_si,
                    })
                }
            };
            params.push(Param {
                key: r.key,
                symbol: r.sym,
                section: r.sec,
                value: r.value,
                unit: r.unit,
                conversion,
                tag,
                source: r.src,
                meaning: r.what,
                si,
                si_unit,
                spec,
                added: r.added,
                range,
            });
        }
        let table = ParamTable { params, index };
        table.check_geometry(origin)?;
        Ok(table)
    }

    /// The anatomy's parameters must describe an outline (§1.3): per animal, the lamina borders
    /// are cumulative depths inside the cap (d_I < d_IIo < d_IIi < d_III < min(A, B)), and the
    /// deep borders lie below one another within the domain (V < VI < domain below yc). Checked
    /// with the table, before any tissue is built.
    fn check_geometry(&self, origin: &str) -> Result<(), ScenarioError> {
        const ORDER: &[(&str, &str)] = &[
            ("d_I", "d_IIo"),
            ("d_IIo", "d_IIi"),
            ("d_IIi", "d_III"),
            ("d_III", "A"),
            ("d_III", "B"),
            ("V_depth", "VI_depth"),
            ("VI_depth", "domain_below_yc"),
        ];
        for animal in ["rat", "mouse"] {
            for (lo, hi) in ORDER {
                let (kl, kh) = (format!("{animal}_{lo}"), format!("{animal}_{hi}"));
                let (Some(a), Some(b)) = (self.param(&kl), self.param(&kh)) else {
                    continue;
                };
                if a.si >= b.si {
                    return Err(ScenarioError::new(
                        origin,
                        format!(
                            "`{kl}` ({}) must be smaller than `{kh}` ({}): the {animal} outline \
                             needs d_I < d_IIo < d_IIi < d_III < min(A, B) and V_depth < \
                             VI_depth < domain_below_yc (MODEL.md §1.3)",
                            a.written(),
                            b.written()
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The table with every calibrated entry set back to the science spec's value: the
    /// parameter set of MODEL.md, whose §8.2 reference numbers the well-mixed tests reproduce.
    /// Entries the implementation added (`added`) keep their value: the spec has no such term.
    pub fn spec_set() -> ParamTable {
        let mut t = Self::shipped();
        t.params.iter_mut().for_each(Param::restore_spec);
        t
    }

    /// This table with the named calibrated entries set back to the spec's value (the others
    /// as they are), to see what one calibration does on its own. Keys that are not calibrated
    /// are left unchanged.
    pub fn with_spec_values(&self, keys: &[&str]) -> ParamTable {
        let mut t = self.clone();
        t.params
            .iter_mut()
            .filter(|p| keys.contains(&p.key.as_str()))
            .for_each(Param::restore_spec);
        t
    }

    /// The entries calibrated away from the spec's value.
    pub fn calibrated(&self) -> impl Iterator<Item = &Param> {
        self.params.iter().filter(|p| p.spec.is_some())
    }

    /// The entries this implementation added to the spec's model.
    pub fn added(&self) -> impl Iterator<Item = &Param> {
        self.params.iter().filter(|p| p.added)
    }

    /// The SI value of a parameter, or `None` for an unknown key.
    pub fn get(&self, key: &str) -> Option<f64> {
        self.index.get(key).map(|&i| self.params[i].si)
    }

    pub fn param(&self, key: &str) -> Option<&Param> {
        self.index.get(key).map(|&i| &self.params[i])
    }

    /// The table as Markdown, grouped by section (docs/model-parameters.md).
    pub fn markdown(&self) -> String {
        let mut out = String::from(
            "# Parameters of the dorsal-horn model\n\n\
             Generated from `params/dorsal_horn.toml` by `dorsalhorn params --markdown`; a test \
             keeps this page equal to the table. Values are as written in the science \
             specification (MODEL.md v0.2, section in the first column); the SI column is what \
             the code uses; \"allowed\" is the physical range every value (also an edit through \
             `DORSALHORN_PARAM_SET`) must lie in, in the value's unit. Tags: **S** checked against the source, **L** literature value not \
             re-checked, **E** modelling estimate (a tunable default). Where a value was \
             calibrated against the validation suite (`dorsalhorn validate`), the spec's value \
             follows it in brackets and the source column gives the reason.\n",
        );
        let counts = |t: Tag| self.params.iter().filter(|p| p.tag == t).count();
        out.push_str(&format!(
            "\n{} parameters: {} S, {} L, {} E.\n",
            self.params.len(),
            counts(Tag::Source),
            counts(Tag::Literature),
            counts(Tag::Estimate)
        ));
        // One line naming the entries of a kind, e.g. "Calibrated away from the spec (2): …".
        let mut list = |title: &str, entries: Vec<&Param>| {
            if !entries.is_empty() {
                let names: Vec<String> = entries
                    .iter()
                    .map(|p| format!("{} (`{}`)", p.symbol, p.key))
                    .collect();
                out.push_str(&format!(
                    "\n{title} ({}): {}.\n",
                    names.len(),
                    names.join(", ")
                ));
            }
        };
        list("Calibrated away from the spec", self.calibrated().collect());
        list(
            "Added to the spec's model by this implementation and kept by the spec's set",
            self.added().collect(),
        );
        let mut section = String::new();
        let mut ordered: Vec<&Param> = self.params.iter().collect();
        let major = |p: &Param| {
            p.section
                .split('.')
                .next()
                .and_then(|m| m.parse::<u32>().ok())
        };
        ordered.sort_by_key(|p| major(p)); // stable: table order within a section
        for p in ordered {
            let major = p.section.split('.').next().unwrap_or("").to_string();
            if major != section {
                section = major;
                out.push_str(&format!(
                    "\n## MODEL.md §{section}\n\n| § | symbol | key | value | SI | allowed | tag | meaning | source |\n|---|---|---|---|---|---|---|---|---|\n"
                ));
            }
            out.push_str(&format!(
                "| {} | {} | `{}` | {} | {} {} | {} {} | {} | {} | {} |\n",
                p.section,
                p.symbol,
                p.key,
                p.written_with_spec(),
                fmt_num(p.si),
                p.si_unit,
                p.range,
                p.unit,
                p.tag.letter(),
                p.meaning,
                p.source.replace('|', "/")
            ));
        }
        out
    }

    /// The table as aligned plain text (`dorsalhorn params`).
    pub fn text(&self) -> String {
        let mut out = format!(
            "{:<22} {:<14} {:<27} {:<22} {:<3} {}\n",
            "key", "symbol", "value", "SI", "tag", "meaning [source]"
        );
        for p in &self.params {
            out.push_str(&format!(
                "{:<22} {:<14} {:<27} {:<22} {:<3} {} [{}]\n",
                p.key,
                p.symbol,
                p.written_with_spec(),
                format!("{} {}", fmt_num(p.si), p.si_unit),
                p.tag.letter(),
                p.meaning,
                p.source
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_table_parses_with_sources() {
        let t = ParamTable::builtin();
        assert!(t.params.len() > 200, "{} parameters", t.params.len());
        assert!(
            t.params
                .iter()
                .all(|p| !p.source.is_empty() && p.si.is_finite())
        );
    }

    /// MODEL.md "Time units": k_M+ = 1/(6 h) = 4.63 × 10⁻⁵ s⁻¹.
    #[test]
    fn time_units_convert_on_load() {
        let t = ParamTable::builtin();
        let k = t.get("k_M_plus").unwrap();
        assert!((k - 4.63e-5).abs() < 0.005e-5, "k_M+ = {k}");
        assert_eq!(t.param("k_M_plus").unwrap().written(), "1/(6 h)");
        // Half-lives: TNF t½ = 30 min → ln 2/1800 s.
        assert!((t.get("k_TNF").unwrap() - std::f64::consts::LN_2 / 1800.0).abs() < 1e-12);
        // Plain time constants become seconds; rates stay per second.
        assert_eq!(t.get("tau_S"), Some(12.0 * 3600.0));
        assert_eq!(t.get("k_E_plus"), Some(0.03));
        // MODEL.md §4.0 worked example: β_TNF = L_TNF·α_grey·k_TNF = 8.1e-5 EC50/s.
        let beta = t.get("L_TNF").unwrap() * t.get("alpha_grey").unwrap() * t.get("k_TNF").unwrap();
        assert!((beta - 8.1e-5).abs() < 0.05e-5, "β_TNF = {beta}");
    }

    #[test]
    fn bad_entries_are_refused_with_the_key() {
        let base = "format_version = 1\nparam = [{ key = \"x\", sym = \"x\", sec = \"1\", value = 1, unit = \"UNIT\", tag = \"TAG\", src = \"s\", what = \"w\" }]";
        let e = ParamTable::parse("t", &base.replace("UNIT", "furlong").replace("TAG", "E"))
            .unwrap_err();
        assert!(
            e.message.contains("`x`") && e.message.contains("furlong"),
            "{}",
            e.message
        );
        let e = ParamTable::parse("t", &base.replace("UNIT", "s").replace("TAG", "X")).unwrap_err();
        assert!(e.message.contains("tag"), "{}", e.message);
        let spec = |sp: &str| {
            base.replace("UNIT", "h")
                .replace("TAG", "E")
                .replace(" }]", &format!(", spec = {sp} }}]"))
        };
        let e = ParamTable::parse("t", &spec("{ value = 2, unit = \"nM\" }")).unwrap_err();
        assert!(
            e.message.contains("`x`") && e.message.contains("spec"),
            "{}",
            e.message
        );
        let t = ParamTable::parse("t", &spec("{ value = 2, unit = \"d\" }")).unwrap();
        assert_eq!(t.param("x").unwrap().written_with_spec(), "1 h (spec 2 d)");
    }

    #[test]
    fn ranges_parse_and_print() {
        let r = Range::parse("(0, inf)").unwrap();
        assert!(!r.contains(0.0) && r.contains(1e-9) && r.contains(1e30));
        assert!(!r.contains(f64::INFINITY) && !r.contains(f64::NAN));
        let r = Range::parse("[1, inf)").unwrap();
        assert!(r.contains(1.0) && !r.contains(0.999));
        let r = Range::parse("[0, 1]").unwrap();
        assert!(r.contains(0.0) && r.contains(1.0) && !r.contains(1.0001) && !r.contains(-1e-12));
        assert_eq!(r.to_string(), "[0, 1]");
        assert_eq!(Range::parse("(0, inf)").unwrap().to_string(), "(0, inf)");
        for bad in ["0, 1", "[1, 0]", "[a, 1]", "[0 1]", "", "[0, 1"] {
            assert!(Range::parse(bad).is_err(), "{bad:?}");
        }
    }

    /// Every entry of the built-in table, edited to just outside its range (each end that is
    /// finite), is refused with the key, the value and the range; just inside, accepted.
    #[test]
    fn every_parameter_refuses_values_outside_its_range() {
        let t = ParamTable::shipped();
        let mut refused = 0;
        for p in &t.params {
            let r = p.range;
            let step = |v: f64| 1e-6 * v.abs().max(1.0);
            let mut outside = Vec::new();
            if r.lo.is_finite() {
                outside.push(if r.lo_open { r.lo } else { r.lo - step(r.lo) });
            }
            if r.hi.is_finite() {
                outside.push(if r.hi_open { r.hi } else { r.hi + step(r.hi) });
            }
            assert!(!outside.is_empty(), "{}: a range with no finite end", p.key);
            for v in outside {
                let e = ParamTable::edited(&format!("{}={v}", p.key)).unwrap_err();
                assert!(
                    e.message.contains(&format!("`{}`", p.key))
                        && e.message.contains("outside its allowed range")
                        && e.message.contains(&r.to_string()),
                    "{}",
                    e.message
                );
                refused += 1;
            }
            ParamTable::edited(&format!("{}={}", p.key, p.value))
                .unwrap_or_else(|e| panic!("{}: its own value is refused: {e}", p.key));
        }
        assert!(refused >= t.params.len(), "{refused}");
        // The example: a negative diffusivity.
        let e = ParamTable::edited("D_IL1b=-1450").unwrap_err();
        assert!(e.message.contains("D_IL1b"), "{}", e.message);
    }

    /// Calibrated entries keep the spec's value beside their own, and `spec_set` restores it.
    #[test]
    fn calibrated_entries_carry_the_spec_value() {
        let t = ParamTable::parse("params/dorsal_horn.toml", BUILTIN_TABLE).unwrap();
        let s = ParamTable::spec_set();
        let keys: Vec<&str> = t.calibrated().map(|p| p.key.as_str()).collect();
        assert!(
            keys.contains(&"tau_K_rec") && keys.contains(&"k_BDNF"),
            "{keys:?}"
        );
        for p in &t.params {
            let q = s.param(&p.key).unwrap();
            match &p.spec {
                Some(sv) => {
                    assert_ne!(p.si, q.si, "{}", p.key);
                    assert_eq!(q.si, sv.si, "{}", p.key);
                    assert!(
                        p.tag == Tag::Estimate,
                        "{}: a calibrated value is an estimate",
                        p.key
                    );
                }
                None => assert_eq!(p.si, q.si, "{}", p.key),
            }
        }
        // MODEL.md §4.8: τ_K,rec = 2 d, k_BDNF = 1/(6 h).
        assert_eq!(s.get("tau_K_rec"), Some(2.0 * 86400.0));
        assert!((s.get("k_BDNF").unwrap() - 1.0 / 21600.0).abs() < 1e-15);
        assert!(s.calibrated().next().is_none());
        // Added terms are not calibrations: no spec value, kept by the spec's set, estimates.
        let added: Vec<&str> = t.added().map(|p| p.key.as_str()).collect();
        assert_eq!(added, ["tau_ERK_exc"]);
        for p in t.added() {
            assert!(p.spec.is_none() && p.tag == Tag::Estimate, "{}", p.key);
            assert_eq!(s.get(&p.key), Some(p.si), "{}", p.key);
        }
    }
}
