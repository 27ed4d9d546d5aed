//! Dorsal-horn scenarios (a TOML file with a `[tissue]` table) and their headless run: pain
//! model, electroacupuncture sessions, drugs and boluses in, per-lamina time series with the pain
//! indices and behaviour, field snapshots (NPY, PNG) and summary.json out.
//!
//! Every key is documented in docs/scenario-format.md ("Dorsal-horn scenarios"). Errors name the
//! file, the key, the value and what is allowed; `--set key.path=value` overrides work as for
//! engine scenarios.

use crate::colormap::Colormap;
use crate::error::{BlowUp, Error, ScenarioError};
use crate::gpu::Gpu;
use crate::gpu::reaction::STATE_STRIDE;
use crate::model::anatomy::Animal;
use crate::model::network::{Drugs, EaMode, EaSession, Model, PainModel, Protocol};
use crate::output;
use crate::params::ParamTable;
use crate::tissue::{
    Layout, ProbeResponse, RATE_NAMES, REPORT_REGIONS, STATE_NAMES, TissueSim, TransportScheme,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

/// Built-in dorsal-horn scenarios: (name, TOML source).
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "cfa_ea_2hz",
        include_str!("../examples/scenarios/cfa_ea_2hz.toml"),
    ),
    (
        "cfa_sham",
        include_str!("../examples/scenarios/cfa_sham.toml"),
    ),
];

/// Acupoints whose afferents enter the simulated L4–L5 segment through the sciatic/tibial band
/// (§1.4: the EA band is the medial ⅔, overlapping the paw band).
pub const ACUPOINTS: &[&str] = &["ST36", "SP6", "GB30", "GB34", "BL40", "BL60", "KI3"];

/// Drug names accepted in `[drugs]` (constant occupancies u ∈ [0, 1], §6), and naloxone in nM.
pub const DRUG_KEYS: &[&str] = &[
    "nmda",
    "mek",
    "trkb",
    "p2x4",
    "x4_antisense",
    "minocycline",
    "p38",
    "cats",
    "cx3cr1",
    "fluorocitrate",
    "laa",
    "jnk",
    "carbenoxolone",
    "cxcr4",
    "ccr2",
    "cxcr2",
    "il1r",
    "tnf",
    "cck",
    "naloxone_nm",
    "il10_block",
    "il10_exo",
];

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawTissueScenario {
    pub format_version: i64,
    pub name: Option<String>,
    pub description: Option<String>,
    pub tissue: RawTissue,
    #[serde(default)]
    pub time: RawTissueTime,
    #[serde(default)]
    pub pain: RawPain,
    #[serde(default)]
    pub ea: Vec<RawEa>,
    #[serde(default)]
    pub descending: RawDescending,
    #[serde(default)]
    pub drugs: BTreeMap<String, f64>,
    #[serde(default)]
    pub bolus: Vec<RawBolus>,
    #[serde(default)]
    pub dose: Vec<RawDose>,
    #[serde(default)]
    pub output: RawTissueOutput,
}

/// The drugs of MODEL.md §6 that act on a term the model carries as an occupancy: (name in a
/// scenario, the `Drugs` field it sets, whether it is an antibody (intrathecal t½ 2 d), its
/// class).
pub const DRUG_CATALOGUE: &[(&str, &str, bool, &str)] = &[
    (
        "mk801",
        "nmda",
        false,
        "NMDA antagonist (also ketamine, AP5)",
    ),
    ("ketamine", "nmda", false, "NMDA antagonist"),
    ("pd98059", "mek", false, "MEK inhibitor (also U0126)"),
    (
        "trkb_fc",
        "trkb",
        true,
        "BDNF-TrkB block (also K252a, ANA-12)",
    ),
    (
        "tnp_atp",
        "p2x4",
        false,
        "P2X4 antagonist (also NP-1815-PX)",
    ),
    (
        "p2x4_antisense",
        "x4_antisense",
        false,
        "P2X4 expression block",
    ),
    (
        "minocycline",
        "minocycline",
        false,
        "microglial activation inhibitor",
    ),
    (
        "sb203580",
        "p38",
        false,
        "p38 inhibitor (also SD-282, skepinone)",
    ),
    ("lhvs", "cats", false, "cathepsin S inhibitor"),
    (
        "anti_cx3cr1",
        "cx3cr1",
        true,
        "CX3CR1 block (antibody; AZD8797)",
    ),
    (
        "fluorocitrate",
        "fluorocitrate",
        false,
        "astrocytic aconitase inhibitor (τ 12 h)",
    ),
    ("laa", "laa", false, "L-α-aminoadipate, astroglial toxin"),
    ("d_jnki1", "jnk", false, "JNK inhibitor (also SP600125)"),
    (
        "carbenoxolone",
        "carbenoxolone",
        false,
        "Cx43 hemichannel block (also Gap26/27)",
    ),
    ("amd3100", "cxcr4", false, "CXCR4 antagonist (plerixafor)"),
    (
        "rs504393",
        "ccr2",
        false,
        "CCR2 antagonist (also INCB3344, AZ889)",
    ),
    ("sb225002", "cxcr2", false, "CXCR2 antagonist"),
    ("il1ra", "il1r", false, "IL-1R1 antagonist (anakinra)"),
    ("etanercept", "tnf", true, "TNF neutralisation (sTNFR)"),
    (
        "proglumide",
        "cck",
        false,
        "CCK antagonist (restores opioid tolerance)",
    ),
    (
        "anti_il10",
        "il10_block",
        true,
        "IL-10 neutralising antibody",
    ),
    (
        "il10",
        "il10_exo",
        false,
        "exogenous IL-10 (protein: intrathecal; pDNA: infusion), u EC50",
    ),
];

/// One dose of a drug (§6): occupancy u(t) = u_max·v(t) with the route's time course v.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dose {
    /// Index into DRUG_CATALOGUE.
    pub drug: usize,
    pub route: Route,
    pub u_max: f64,
    pub start_s: f64,
    /// Infusions (pumps): length; boluses: 0.
    pub duration_s: f64,
}

/// Administration routes and their normalised time courses v(t) (§6 default PK, rat).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// v = e^{−t/τ}, τ = τ_clear (`tau_clear_it`, §2.5; antibodies: t½ 2 d; fluorocitrate
    /// τ 12 h); the "uniform intrathecal" simplification of §6 (same occupancy in every cell).
    Intrathecal,
    /// i.p. or i.v. small molecule: t½ 1 h (fluorocitrate τ 12 h).
    Systemic,
    /// Pump or infusion: v = 1 for `duration_h`.
    Infusion,
}

impl Dose {
    /// v(t) of this dose at time t (s), with `tau_it_s` the clearance time τ_clear (s) of an
    /// intrathecal small molecule (the table's `tau_clear_it`).
    pub fn level(&self, t: f64, tau_it_s: f64) -> f64 {
        if t < self.start_s {
            return 0.0;
        }
        let dt = t - self.start_s;
        let (_, field, antibody, _) = DRUG_CATALOGUE[self.drug];
        let v = match self.route {
            Route::Infusion => {
                if dt < self.duration_s {
                    1.0
                } else {
                    0.0
                }
            }
            _ if field == "fluorocitrate" => (-dt / (12.0 * 3600.0)).exp(),
            Route::Intrathecal if antibody => {
                (-dt * std::f64::consts::LN_2 / (2.0 * 86400.0)).exp()
            }
            Route::Intrathecal => (-dt / tau_it_s).exp(),
            Route::Systemic => (-dt * std::f64::consts::LN_2 / 3600.0).exp(),
        };
        self.u_max * v
    }
}

/// The drug occupancies at time t: the constant `[drugs]` plus every dose (repeated doses add,
/// capped at 1); `tau_it_s` as in [`Dose::level`].
pub fn drugs_at(base: &Drugs, doses: &[Dose], t: f64, tau_it_s: f64) -> Drugs {
    let mut d = *base;
    for dose in doses {
        let field = DRUG_CATALOGUE[dose.drug].1;
        let now = get_drug(&d, field);
        set_drug(&mut d, field, (now + dose.level(t, tau_it_s)).min(1.0));
    }
    d
}

fn get_drug(d: &Drugs, name: &str) -> f64 {
    let mut copy = *d;
    *drug_slot(&mut copy, name)
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawTissue {
    pub animal: Option<String>,
    pub spacing_um: Option<f64>,
    pub ventral: Option<String>,
    pub sex: Option<String>,
    pub pial_permeability_um_s: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawTissueTime {
    pub days: Option<f64>,
    pub step_min: Option<f64>,
    pub session_step_s: Option<f64>,
    pub reaction_substep_s: Option<f64>,
    pub settle_days: Option<f64>,
    pub settle_step_h: Option<f64>,
    pub settle: Option<String>,
    pub transport: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawPain {
    pub model: Option<String>,
    pub onset_h: Option<f64>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawEa {
    pub points: Option<Vec<String>>,
    pub mode: Option<String>,
    pub frequency_hz: Option<f64>,
    pub intensity_ma: Option<f64>,
    pub duration_min: Option<f64>,
    pub days: Vec<f64>,
    pub start_h: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawDescending {
    pub rvm_lesion: Option<bool>,
    pub a7_lesion: Option<bool>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawBolus {
    pub drug: String,
    pub at_h: f64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawDose {
    pub drug: String,
    pub route: Option<String>,
    pub u_max: Option<f64>,
    pub at_h: Option<f64>,
    pub days: Option<Vec<f64>>,
    pub duration_h: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawTissueOutput {
    pub every_h: Option<f64>,
    pub snapshot_every_h: Option<f64>,
    pub fields: Option<Vec<String>>,
    pub frames: Option<bool>,
    pub colormap: Option<String>,
}

/// A validated dorsal-horn scenario.
#[derive(Debug, Clone)]
pub struct TissueScenario {
    pub name: String,
    pub description: String,
    pub origin: String,
    pub animal: Animal,
    pub spacing_um: f64,
    pub ventral_absorbing: bool,
    /// P_pia (µm/s) of the Robin exchange with the CSF (§2.5).
    pub p_pia: f64,
    pub female: bool,
    pub duration_s: f64,
    pub step_s: f64,
    pub session_step_s: f64,
    pub reaction_substep_s: f64,
    pub settle_s: f64,
    pub settle_step_s: f64,
    /// How the baseline before t = 0 is prepared.
    pub settle: SettleMode,
    /// How the diffusing mediators are transported.
    pub transport: TransportScheme,
    pub protocol: Protocol,
    pub drugs: Drugs,
    /// Doses with route-specific time courses (§6).
    pub doses: Vec<Dose>,
    /// Lesions of the descending pathways (RVM → 5-HT, A7 → NE), from t = 0.
    pub rvm_lesion: bool,
    pub a7_lesion: bool,
    pub output_every_s: f64,
    pub snapshot_every_s: f64,
    /// Indices into STATE_NAMES (0..33) or RATE_NAMES (33..37).
    pub fields: Vec<usize>,
    pub frames: bool,
    pub colormap: Colormap,
    pub resolved_toml: toml::Table,
}

/// How the baseline tissue before t = 0 is prepared (§8.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SettleMode {
    /// The steady state of the baseline, computed directly by steps of growing length until no
    /// state of any cell changes ([`steady_state`]). The default.
    #[default]
    Steady,
    /// `time.settle_days` of baseline input in steps of `time.settle_step_h`.
    Integrate,
}

impl SettleMode {
    pub const NAMES: [&'static str; 2] = ["steady", "integrate"];

    pub fn name(self) -> &'static str {
        match self {
            SettleMode::Steady => "steady",
            SettleMode::Integrate => "integrate",
        }
    }
}

/// Whether a parsed TOML tree is a dorsal-horn scenario (it has a `[tissue]` table).
pub fn is_tissue(table: &toml::Table) -> bool {
    table.contains_key("tissue")
}

pub use crate::scenario::read_spec;

fn err(origin: &str, key: &str, msg: impl std::fmt::Display) -> ScenarioError {
    ScenarioError::new(origin, format!("key `{key}`: {msg}"))
}

fn range(
    origin: &str,
    key: &str,
    v: f64,
    lo: f64,
    hi: f64,
    unit: &str,
) -> Result<f64, ScenarioError> {
    if v.is_finite() && v >= lo && v <= hi {
        Ok(v)
    } else {
        Err(err(
            origin,
            key,
            format!("{v} is out of range: allowed {lo} ≤ {key} ≤ {hi} {unit}"),
        ))
    }
}

fn choice<'a>(
    origin: &str,
    key: &str,
    v: &str,
    allowed: &[&'a str],
) -> Result<&'a str, ScenarioError> {
    allowed.iter().copied().find(|a| *a == v).ok_or_else(|| {
        err(
            origin,
            key,
            format!("`{v}` is not allowed: use one of {}", allowed.join(", ")),
        )
    })
}

/// Parses, applies overrides and resolves a dorsal-horn scenario from TOML text.
pub fn from_str(
    origin: &str,
    text: &str,
    overrides: &[String],
) -> Result<TissueScenario, ScenarioError> {
    let mut table: toml::Table = toml::from_str(text)
        .map_err(|e| ScenarioError::new(origin, format!("not valid TOML: {e}")))?;
    for o in overrides {
        crate::scenario::apply_override(&mut table, o)?;
    }
    from_table(origin, table)
}

/// Resolves a parsed (and overridden) TOML tree.
pub fn from_table(origin: &str, table: toml::Table) -> Result<TissueScenario, ScenarioError> {
    let raw: RawTissueScenario = crate::scenario::deserialize(origin, &table)?;
    let o = origin;
    if let Some(name) = &raw.name {
        crate::scenario::check_name(o, name)?;
    }
    if raw.format_version != crate::scenario::FORMAT_VERSION {
        return Err(err(
            o,
            "format_version",
            format!(
                "{} is not supported: this build reads format_version = {}",
                raw.format_version,
                crate::scenario::FORMAT_VERSION
            ),
        ));
    }
    let t = &raw.tissue;
    let animal = match choice(
        o,
        "tissue.animal",
        t.animal.as_deref().unwrap_or("rat"),
        &["rat", "mouse"],
    )? {
        "mouse" => Animal::Mouse,
        _ => Animal::Rat,
    };
    let default_h = if animal == Animal::Rat { 5.0 } else { 3.0 };
    let spacing_um = range(
        o,
        "tissue.spacing_um",
        t.spacing_um.unwrap_or(default_h),
        1.0,
        100.0,
        "µm",
    )?;
    let ventral_absorbing = choice(
        o,
        "tissue.ventral",
        t.ventral.as_deref().unwrap_or("no_flux"),
        &["no_flux", "absorbing"],
    )? == "absorbing";
    let p_pia = range(
        o,
        "tissue.pial_permeability_um_s",
        t.pial_permeability_um_s
            .unwrap_or_else(|| ParamTable::builtin().get("P_pia").unwrap_or(0.3)),
        0.0,
        10.0,
        "µm/s",
    )?;
    let female = choice(
        o,
        "tissue.sex",
        t.sex.as_deref().unwrap_or("male"),
        &["male", "female"],
    )? == "female";
    let tm = &raw.time;
    let days = range(o, "time.days", tm.days.unwrap_or(7.0), 0.001, 120.0, "d")?;
    let step_s = 60.0
        * range(
            o,
            "time.step_min",
            tm.step_min.unwrap_or(10.0),
            0.05,
            60.0,
            "min",
        )?;
    let session_step_s = range(
        o,
        "time.session_step_s",
        tm.session_step_s.unwrap_or(60.0),
        1.0,
        600.0,
        "s",
    )?;
    let reaction_substep_s = range(
        o,
        "time.reaction_substep_s",
        tm.reaction_substep_s.unwrap_or(150.0),
        0.5,
        900.0,
        "s",
    )?;
    let settle_s = 86400.0
        * range(
            o,
            "time.settle_days",
            tm.settle_days.unwrap_or(7.0),
            0.0,
            90.0,
            "d",
        )?;
    let settle_step_s = 3600.0
        * range(
            o,
            "time.settle_step_h",
            tm.settle_step_h.unwrap_or(12.0),
            0.1,
            12.0,
            "h",
        )?;
    let settle = match choice(
        o,
        "time.settle",
        tm.settle.as_deref().unwrap_or("steady"),
        &SettleMode::NAMES,
    )? {
        "integrate" => SettleMode::Integrate,
        _ => SettleMode::Steady,
    };
    let transport = TransportScheme::from_name(choice(
        o,
        "time.transport",
        tm.transport.as_deref().unwrap_or("implicit"),
        &TransportScheme::NAMES,
    )?)
    .unwrap_or_default();
    let pain = match choice(
        o,
        "pain.model",
        raw.pain.model.as_deref().unwrap_or("none"),
        &[
            "none",
            "sham",
            "cfa",
            "formalin",
            "snl",
            "sni",
            "cci",
            "bone_cancer",
        ],
    )? {
        "cfa" => Some(PainModel::Cfa),
        "formalin" => Some(PainModel::Formalin),
        "snl" | "sni" | "cci" => Some(PainModel::Snl),
        "bone_cancer" => Some(PainModel::BoneCancer),
        _ => None,
    };
    let duration_s = days * 86400.0;
    let onset_s = 3600.0
        * range(
            o,
            "pain.onset_h",
            raw.pain.onset_h.unwrap_or(0.0),
            0.0,
            days * 24.0,
            "h",
        )?;
    let mut sessions = Vec::new();
    for (k, e) in raw.ea.iter().enumerate() {
        let key = |f: &str| format!("ea[{k}].{f}");
        let points = e
            .points
            .clone()
            .unwrap_or_else(|| vec!["ST36".into(), "SP6".into()]);
        if points.is_empty() {
            return Err(err(
                o,
                &key("points"),
                format!(
                    "is empty: a session needs at least one acupoint ({}; default [\"ST36\", \"SP6\"])",
                    ACUPOINTS.join(", ")
                ),
            ));
        }
        for p in points {
            if !ACUPOINTS.contains(&p.as_str()) {
                return Err(err(
                    o,
                    &key("points"),
                    format!(
                        "`{p}` is not an acupoint of the simulated L4–L5 segment: use {}",
                        ACUPOINTS.join(", ")
                    ),
                ));
            }
        }
        let mode_name = choice(
            o,
            &key("mode"),
            e.mode.as_deref().unwrap_or("single"),
            &["single", "alternating", "simultaneous", "manual"],
        )?;
        let mode = match mode_name {
            "alternating" => EaMode::Alternating,
            "simultaneous" => EaMode::Simultaneous,
            _ => EaMode::Single,
        };
        let frequency_hz = if mode_name == "manual" {
            if let Some(f) = e.frequency_hz {
                return Err(err(
                    o,
                    &key("frequency_hz"),
                    format!(
                        "{f} Hz is given for mode = \"manual\", which has no stimulation \
                         frequency (manual needling is modelled as 2 Hz-like A-fibre input): \
                         remove the key, or choose an electrical mode"
                    ),
                ));
            }
            2.0
        } else {
            range(
                o,
                &key("frequency_hz"),
                e.frequency_hz.unwrap_or(2.0),
                0.1,
                200.0,
                "Hz",
            )?
        };
        let intensity_ma = range(
            o,
            &key("intensity_ma"),
            e.intensity_ma.unwrap_or(1.0),
            0.0,
            10.0,
            "mA",
        )?;
        let duration = 60.0
            * range(
                o,
                &key("duration_min"),
                e.duration_min.unwrap_or(30.0),
                1.0,
                720.0,
                "min",
            )?;
        let start_h = range(o, &key("start_h"), e.start_h.unwrap_or(0.0), 0.0, 24.0, "h")?;
        if e.days.is_empty() {
            return Err(err(
                o,
                &key("days"),
                "is empty: list the days of the sessions, e.g. [1, 2, 3, 4, 5]",
            ));
        }
        for &d in &e.days {
            let d = range(o, &key("days"), d, 0.0, days, "d (within time.days)")?;
            let start = d * 86400.0 + start_h * 3600.0;
            if start + duration > duration_s {
                return Err(err(
                    o,
                    &key("days"),
                    format!(
                        "the session on day {d} ends after time.days = {days}: shorten it or run longer"
                    ),
                ));
            }
            sessions.push(EaSession {
                start_s: start,
                duration_s: duration,
                frequency_hz,
                intensity_ma,
                mode,
            });
        }
    }
    sessions.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
    for w in sessions.windows(2) {
        if w[1].start_s < w[0].start_s + w[0].duration_s {
            return Err(err(
                o,
                "ea",
                format!(
                    "sessions overlap at t = {:.2} h: one session at a time",
                    w[1].start_s / 3600.0
                ),
            ));
        }
    }
    let mut drugs = Drugs::default();
    for (name, &v) in &raw.drugs {
        let key = format!("drugs.{name}");
        let name = choice(o, &key, name, DRUG_KEYS)?;
        let v = if name == "naloxone_nm" {
            range(o, &key, v, 0.0, 1e4, "nM")?
        } else {
            range(o, &key, v, 0.0, 1.0, "(occupancy)")?
        };
        set_drug(&mut drugs, name, v);
    }
    let mut naloxone_s = Vec::new();
    let mut nmda_block_s = Vec::new();
    for (k, b) in raw.bolus.iter().enumerate() {
        let at = 3600.0
            * range(
                o,
                &format!("bolus[{k}].at_h"),
                b.at_h,
                0.0,
                days * 24.0,
                "h",
            )?;
        match choice(
            o,
            &format!("bolus[{k}].drug"),
            &b.drug,
            &["naloxone", "mk801"],
        )? {
            "naloxone" => naloxone_s.push(at),
            _ => nmda_block_s.push(at),
        }
    }
    let mut doses = Vec::new();
    for (k, d) in raw.dose.iter().enumerate() {
        let key = |f: &str| format!("dose[{k}].{f}");
        let names: Vec<&str> = DRUG_CATALOGUE.iter().map(|c| c.0).collect();
        let name = choice(o, &key("drug"), &d.drug, &names)?;
        let drug = names
            .iter()
            .position(|n| *n == name)
            .expect("chosen from the list");
        let route = match choice(
            o,
            &key("route"),
            d.route.as_deref().unwrap_or("intrathecal"),
            &["intrathecal", "ip", "iv", "infusion"],
        )? {
            "intrathecal" => Route::Intrathecal,
            "infusion" => Route::Infusion,
            _ => Route::Systemic,
        };
        let u_max = range(
            o,
            &key("u_max"),
            d.u_max.unwrap_or(1.0),
            0.0,
            1.0,
            "(occupancy)",
        )?;
        let duration_s = match (route, d.duration_h) {
            (Route::Infusion, Some(h)) => {
                3600.0 * range(o, &key("duration_h"), h, 0.01, days * 24.0, "h")?
            }
            (Route::Infusion, None) => {
                return Err(err(
                    o,
                    &key("duration_h"),
                    "is required for an infusion (hours of pumping)",
                ));
            }
            (_, Some(_)) => {
                return Err(err(
                    o,
                    &key("duration_h"),
                    "applies to route = \"infusion\" only",
                ));
            }
            (_, None) => 0.0,
        };
        let at_h = range(
            o,
            &key("at_h"),
            d.at_h.unwrap_or(0.0),
            0.0,
            days * 24.0,
            "h",
        )?;
        let starts: Vec<f64> = match &d.days {
            Some(list) => {
                let mut v = Vec::new();
                for &day in list {
                    let day = range(o, &key("days"), day, 0.0, days, "d (within time.days)")?;
                    v.push(day * 86400.0 + at_h * 3600.0);
                }
                v
            }
            None => vec![at_h * 3600.0],
        };
        for start_s in starts {
            let run_s = days * 86400.0;
            if start_s >= run_s {
                return Err(err(
                    o,
                    &key(if d.days.is_some() { "days" } else { "at_h" }),
                    format!(
                        "the dose at t = {:.2} h is not before the end of the run (time.days = \
                         {days}, {:.2} h): give it earlier or run longer",
                        start_s / 3600.0,
                        run_s / 3600.0
                    ),
                ));
            }
            doses.push(Dose {
                drug,
                route,
                u_max,
                start_s,
                duration_s,
            });
        }
    }
    let out = &raw.output;
    let output_every_s = 3600.0
        * range(
            o,
            "output.every_h",
            out.every_h.unwrap_or(2.0),
            0.01,
            24.0 * days.max(1.0),
            "h",
        )?;
    let snapshot_every_s = 3600.0
        * range(
            o,
            "output.snapshot_every_h",
            out.snapshot_every_h.unwrap_or(24.0),
            0.01,
            24.0 * days.max(1.0),
            "h",
        )?;
    let names: Vec<&str> = STATE_NAMES
        .iter()
        .chain(RATE_NAMES.iter())
        .copied()
        .collect();
    let field_names = out.fields.clone().unwrap_or_else(|| {
        ["IL1b", "TNF", "IL10", "M", "A", "ENK", "pERK", "r_P"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    });
    let mut fields = Vec::new();
    for f in &field_names {
        let i = names.iter().position(|n| n == f).ok_or_else(|| {
            err(
                o,
                "output.fields",
                format!("`{f}` is not a field or state: use {}", names.join(", ")),
            )
        })?;
        fields.push(i);
    }
    let colormap_name = out.colormap.as_deref().unwrap_or("magma");
    let colormap = Colormap::from_name(colormap_name).ok_or_else(|| {
        err(
            o,
            "output.colormap",
            format!("`{colormap_name}` is not allowed: use viridis, magma or diverging"),
        )
    })?;
    Ok(TissueScenario {
        name: raw.name.clone().unwrap_or_else(|| "dorsal_horn".into()),
        description: raw.description.clone().unwrap_or_default(),
        origin: origin.to_string(),
        animal,
        spacing_um,
        ventral_absorbing,
        p_pia,
        female,
        duration_s,
        step_s,
        session_step_s,
        reaction_substep_s,
        settle_s,
        settle_step_s,
        settle,
        transport,
        protocol: Protocol {
            pain,
            pain_onset_s: onset_s,
            sessions,
            naloxone_s,
            nmda_block_s,
        },
        drugs,
        doses,
        rvm_lesion: raw.descending.rvm_lesion.unwrap_or(false),
        a7_lesion: raw.descending.a7_lesion.unwrap_or(false),
        output_every_s,
        snapshot_every_s,
        fields,
        frames: out.frames.unwrap_or(true),
        colormap,
        resolved_toml: table,
    })
}

fn set_drug(d: &mut Drugs, name: &str, v: f64) {
    *drug_slot(d, name) = v;
}

/// The occupancy field of `Drugs` named `name` (a name of DRUG_KEYS; any other name gives the
/// naloxone concentration).
pub fn drug_slot<'a>(d: &'a mut Drugs, name: &str) -> &'a mut f64 {
    match name {
        "nmda" => &mut d.nmda,
        "mek" => &mut d.mek,
        "trkb" => &mut d.trkb,
        "p2x4" => &mut d.p2x4,
        "x4_antisense" => &mut d.x4_antisense,
        "minocycline" => &mut d.minocycline,
        "p38" => &mut d.p38,
        "cats" => &mut d.cats,
        "cx3cr1" => &mut d.cx3cr1,
        "fluorocitrate" => &mut d.fluorocitrate,
        "laa" => &mut d.laa,
        "jnk" => &mut d.jnk,
        "carbenoxolone" => &mut d.carbenoxolone,
        "cxcr4" => &mut d.cxcr4,
        "ccr2" => &mut d.ccr2,
        "cxcr2" => &mut d.cxcr2,
        "il1r" => &mut d.il1r,
        "tnf" => &mut d.tnf,
        "cck" => &mut d.cck,
        "il10_block" => &mut d.il10_block,
        "il10_exo" => &mut d.il10_exo,
        _ => &mut d.naloxone_nm,
    }
}

/// The read-outs of one output time.
#[derive(Debug, Clone, Serialize)]
pub struct Readout {
    pub time_s: f64,
    pub p_mech: f64,
    pub p_heat: f64,
    pub p_spont: f64,
    pub pwt_g: f64,
    pub pwl_s: f64,
    /// Per report region (REPORT_REGIONS order): the mean of every state then every rate.
    pub means: Vec<Vec<f64>>,
}

impl Readout {
    /// Mean of a state or rate (by name) in a report region (by name).
    pub fn mean(&self, region: &str, name: &str) -> Option<f64> {
        let r = REPORT_REGIONS.iter().position(|(n, _)| *n == region)?;
        let names: Vec<&str> = STATE_NAMES
            .iter()
            .chain(RATE_NAMES.iter())
            .copied()
            .collect();
        let k = names.iter().position(|n| *n == name)?;
        Some(self.means[r][k])
    }
}

/// What a finished dorsal-horn run reports (also written to summary.json).
#[derive(Debug, Clone, Serialize)]
pub struct TissueSummary {
    pub completed: bool,
    pub dorsalhorn_version: &'static str,
    /// Command line, source revision and edited parameters.
    pub provenance: output::Provenance,
    pub scenario_name: String,
    pub scenario_origin: String,
    pub adapter: crate::gpu::AdapterSummary,
    pub grid: [usize; 2],
    pub spacing_um: f64,
    pub active_cells: usize,
    pub simulated_days: f64,
    pub wall_time_s: f64,
    pub transport_steps: u64,
    pub reaction_substeps: u64,
    /// Species-stencil passes of the transport (fine-grid equivalents for multigrid) and what
    /// forward Euler at the stability limit would need for the same model time (the run from
    /// t = 0; the settling is not counted).
    pub stencil_passes: u64,
    pub explicit_stencil_passes: f64,
    pub naive_probe: ProbeResponse,
    pub final_readout: Readout,
    /// Where the wall time went.
    pub profile: RunProfile,
    pub resolved_scenario: toml::Table,
}

/// A run in memory (for tests and the validation suite): the read-outs at every output time.
pub struct TissueRun {
    pub summary: TissueSummary,
    pub readouts: Vec<Readout>,
}

/// Options of a dorsal-horn run.
#[derive(Debug, Clone)]
pub struct TissueRunOptions {
    /// Where to write; `None` runs in memory only.
    pub out_dir: Option<PathBuf>,
    pub overwrite: bool,
    pub progress: bool,
    /// Where settled baselines are kept between runs (`None`: settle every time).
    pub cache: Option<BaselineCache>,
}

/// Where a run's wall time went, in seconds (summary.json's `profile`; `dorsalhorn run
/// --profile` prints it). The transport and reaction shares come from sampled steps (every
/// [`PROFILE_EVERY`]-th transport step is submitted phase by phase and waited for), scaled to
/// the stepping time; everything else is measured directly.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunProfile {
    /// Building the tissue, its maps and kernels (shader compilation included).
    pub setup_s: f64,
    /// Preparing the baseline (settling, or reading it from the cache).
    pub settle_s: f64,
    pub baseline_from_cache: bool,
    /// The time loop without read-outs and writing, and its estimated split.
    pub stepping_s: f64,
    pub transport_s: f64,
    pub reaction_s: f64,
    /// Read-outs at the output times: reading the states back, the blow-up check, the rates,
    /// the behavioural probes and the regional means.
    pub readouts_s: f64,
    /// Writing CSV, NPY, PNG and JSON files.
    pub writing_s: f64,
    pub sampled_steps: u64,
    /// Compute dispatches of the time loop, and per transport step.
    pub dispatches: u64,
    pub dispatches_per_transport_step: f64,
}

/// Every this many transport steps one is timed phase by phase ([`RunProfile`]).
pub const PROFILE_EVERY: u64 = 20;

impl RunProfile {
    /// The profile as an aligned table.
    pub fn table(&self, total_s: f64) -> String {
        let pct = |v: f64| 100.0 * v / total_s.max(1e-12);
        let mut s = String::from("where the time went:\n");
        let rows = [
            ("set-up (tissue, kernels)", self.setup_s),
            (
                if self.baseline_from_cache {
                    "baseline (from the cache)"
                } else {
                    "baseline (settled)"
                },
                self.settle_s,
            ),
            ("time loop", self.stepping_s),
            ("  transport (estimated)", self.transport_s),
            ("  reaction (estimated)", self.reaction_s),
            ("read-outs (probes, means)", self.readouts_s),
            ("writing files", self.writing_s),
        ];
        for (what, v) in rows {
            s.push_str(&format!("  {what:28} {v:8.2} s  {:5.1} %\n", pct(v)));
        }
        s.push_str(&format!(
            "  {} dispatches, {:.0} per transport step; {} steps sampled for the split\n",
            self.dispatches, self.dispatches_per_transport_step, self.sampled_steps
        ));
        s
    }
}

/// Prepares the calibrated, settled baseline tissue for a scenario (§8.1): the well-mixed
/// calibrated baseline in every active cell, θ calibrated per cell, `settle_s` of baseline
/// input with transport (large steps: the baseline is near its fixed point, which both step
/// schemes keep exactly), θ calibrated again.
pub fn baseline(gpu: &Gpu, sc: &TissueScenario) -> Result<TissueSim, Error> {
    baseline_with_progress(gpu, sc, &mut |_| true)
}

/// The tissue of `sc` with the model of its sex, every cell at the well-mixed calibrated
/// baseline and θ not yet calibrated.
fn uncalibrated_tissue(gpu: &Gpu, sc: &TissueScenario) -> Result<TissueSim, Error> {
    let table = ParamTable::builtin();
    let mut model = Model::new(&table);
    if sc.female {
        model.sigma_sex = table.get("sigma_sex").unwrap_or(0.2);
    }
    let naive = model.calibrated_baseline();
    let mut layout = Layout::new(&table, sc.animal, sc.spacing_um, sc.ventral_absorbing);
    layout.p_pia = sc.p_pia as f32;
    TissueSim::with_scheme(gpu, layout, model, &naive, sc.transport)
}

/// [`baseline`], calling `progress` with the settled fraction (0 … 1) after each settling step;
/// when it returns false the settling stops with an error (the window was closed).
pub fn baseline_with_progress(
    gpu: &Gpu,
    sc: &TissueScenario,
    progress: &mut dyn FnMut(f64) -> bool,
) -> Result<TissueSim, Error> {
    let mut sim = uncalibrated_tissue(gpu, sc)?;
    settle(gpu, sc, &mut sim, progress)?;
    Ok(sim)
}

/// The error of a settling its progress callback stopped: an interruption (Ctrl-C) when one was
/// asked for, else a cancellation (the window closed).
fn settling_cancelled() -> Error {
    if crate::interrupt::requested() {
        Error::Interrupted { time_s: 0.0 }
    } else {
        Error::Output("the baseline settling was cancelled".into())
    }
}

/// Calibrates θ, settles the baseline of `sc` (`time.settle`) and calibrates θ again.
fn settle(
    gpu: &Gpu,
    sc: &TissueScenario,
    sim: &mut TissueSim,
    progress: &mut dyn FnMut(f64) -> bool,
) -> Result<(), Error> {
    let base = sim.model.baseline_input();
    sim.calibrate(gpu, &base)?;
    if !progress(0.0) {
        return Err(settling_cancelled());
    }
    match sc.settle {
        SettleMode::Integrate => {
            let mut t = 0.0;
            while t < sc.settle_s - 1e-6 {
                let dt = sc.settle_step_s.min(sc.settle_s - t);
                sim.step(gpu, dt, dt / 2.0, &|_| base)?;
                t += dt;
                if !progress(t / sc.settle_s) {
                    return Err(settling_cancelled());
                }
            }
            if sc.settle_s > 0.0 {
                sim.calibrate(gpu, &base)?;
            }
        }
        SettleMode::Steady => {
            let report = steady_state(gpu, sim, &base, progress)?;
            if !report.converged {
                return Err(Error::Output(format!(
                    "the baseline did not reach a steady state: after {} steps of up to {:.0} d \
                     a state still changed by {:.1e} of its scale per step ({} at cell {}); \
                     set time.settle = \"integrate\" to settle for time.settle_days instead",
                    report.steps,
                    report.last_dt_s / 86400.0,
                    report.change,
                    STATE_NAMES[report.worst_state],
                    report.worst_cell
                )));
            }
            sim.calibrate(gpu, &base)?;
        }
    }
    sim.time_s = 0.0;
    Ok(())
}

/// How [`steady_state`] went.
#[derive(Debug, Clone, Copy)]
pub struct SteadyReport {
    pub converged: bool,
    /// Strang steps taken and the last one's length.
    pub steps: u32,
    pub last_dt_s: f64,
    /// The last step's largest change of a state in a cell, relative to that state's largest
    /// magnitude over the cells (at least [`STEADY_FLOOR`]), and where it was.
    pub change: f64,
    pub worst_state: usize,
    pub worst_cell: usize,
}

/// Steady-state tolerance: a step that changes no state of any cell by more than this fraction
/// of the state's scale ends the search.
pub const STEADY_TOLERANCE: f64 = 2e-5;
/// Smallest scale of a state in the steady-state test (states are in EC50 or fraction units).
pub const STEADY_FLOOR: f64 = 1e-2;
/// First and largest step of the steady-state search, and the most steps it takes.
const STEADY_FIRST_S: f64 = 3600.0;
const STEADY_MAX_S: f64 = 64.0 * 86400.0;
const STEADY_MAX_STEPS: u32 = 80;

/// Drives `sim` to the steady state of constant input `input` by pseudo-transient continuation:
/// Strang steps (one reaction sub-step per half) whose length doubles from 1 h to 64 d, until a
/// step changes no state of any cell by more than [`STEADY_TOLERANCE`] of its scale. Both
/// split steps keep a steady state exactly (the exponential midpoint and TR-BDF2 have it as a
/// fixed point), so the long steps only decide how fast the transients die out.
pub fn steady_state(
    gpu: &Gpu,
    sim: &mut TissueSim,
    input: &crate::model::network::Input,
    progress: &mut dyn FnMut(f64) -> bool,
) -> Result<SteadyReport, Error> {
    let n_states = STATE_NAMES.len();
    let active = sim.layout.active.clone();
    let mut before = sim.read_states(gpu)?;
    let mut dt = STEADY_FIRST_S;
    let mut report = SteadyReport {
        converged: false,
        steps: 0,
        last_dt_s: 0.0,
        change: f64::INFINITY,
        worst_state: 0,
        worst_cell: 0,
    };
    let start = sim.time_s;
    while report.steps < STEADY_MAX_STEPS {
        sim.step(gpu, dt, dt / 2.0, &|_| *input)?;
        let after = sim.read_states(gpu)?;
        let mut scale = vec![STEADY_FLOOR; n_states];
        for (i, c) in after.chunks_exact(STATE_STRIDE).enumerate() {
            if active[i] {
                for k in 0..n_states {
                    scale[k] = scale[k].max(c[k].abs() as f64);
                }
            }
        }
        let (mut change, mut worst) = (0.0f64, (0, 0));
        for (i, (a, b)) in after
            .chunks_exact(STATE_STRIDE)
            .zip(before.chunks_exact(STATE_STRIDE))
            .enumerate()
        {
            if !active[i] {
                continue;
            }
            for k in 0..n_states {
                let d = (a[k] - b[k]).abs() as f64 / scale[k];
                // NaN counts as the largest change.
                if d > change || d.is_nan() {
                    change = d;
                    worst = (k, i);
                }
            }
        }
        report.steps += 1;
        report.last_dt_s = dt;
        report.change = change;
        report.worst_state = worst.0;
        report.worst_cell = worst.1;
        before = after;
        // Progress: how many of the ~8 decades from a first change of ~1 to the tolerance.
        let done = (change.max(STEADY_TOLERANCE).ln() / STEADY_TOLERANCE.ln()).clamp(0.0, 1.0);
        if !progress(done) {
            return Err(settling_cancelled());
        }
        if change <= STEADY_TOLERANCE {
            report.converged = true;
            break;
        }
        dt = (2.0 * dt).min(STEADY_MAX_S);
    }
    sim.time_s = start;
    Ok(report)
}

/// The tissue of `sc` with the given states and θ (a settled baseline kept in memory or on
/// disk), or `None` when their sizes do not fit the layout.
pub fn tissue_from_states(
    gpu: &Gpu,
    sc: &TissueScenario,
    states: &[f32],
    thetas: &[[f32; 4]],
) -> Result<Option<TissueSim>, Error> {
    let mut sim = uncalibrated_tissue(gpu, sc)?;
    Ok(restore_states(gpu, &mut sim, states, thetas).then_some(sim))
}

/// Writes a settled baseline's states and θ into `sim`; false (and `sim` untouched) when
/// their sizes do not fit its layout.
fn restore_states(gpu: &Gpu, sim: &mut TissueSim, states: &[f32], thetas: &[[f32; 4]]) -> bool {
    let cells = sim.layout.cells();
    if states.len() != cells * STATE_STRIDE || thetas.len() != cells {
        return false;
    }
    sim.set_thetas(gpu, thetas);
    let rows: &[[f32; STATE_STRIDE]] = bytemuck::cast_slice(states);
    sim.write_states(gpu, rows);
    true
}

/// A settled baseline kept on disk, so that a second `dorsalhorn view` of the same tissue shows
/// its fields at once instead of settling again (minutes on the software driver). The file holds
/// the exact bits of the states and θ, so a cached baseline is bit-identical to a fresh one; its
/// name is a hash of everything the baseline depends on ([`baseline_key`]).
#[derive(Debug, Clone)]
pub struct BaselineCache {
    dir: PathBuf,
}

/// The cache file's format and version: this magic, the FNV-1a hash of the full
/// [`baseline_key`], the state count, the states, the thetas, and the FNV-1a checksum of
/// everything before it.
const CACHE_MAGIC: &[u8; 8] = b"DHBASE03";

/// FNV-1a (64 bit) of `bytes`, continuing from `h` (start with [`FNV_START`]): stable across
/// runs and builds (unlike std's RandomState).
fn fnv1a(mut h: u64, bytes: &[u8]) -> u64 {
    for b in bytes {
        h = (h ^ *b as u64).wrapping_mul(0x100000001b3);
    }
    h
}
const FNV_START: u64 = 0xcbf29ce484222325;

/// Everything a settled baseline depends on, as text: the one key of the disk cache
/// ([`BaselineCache`]) and of `validate`'s in-memory set. It holds the program version and the
/// text of every kernel the settling runs (so that a changed kernel never reuses an old
/// baseline), the parameter table, the tissue keys, the settling and transport keys and the
/// adapter.
pub fn baseline_key(gpu: &Gpu, sc: &TissueScenario) -> String {
    // The integration's length and step only matter when the baseline is integrated.
    let (settle_s, settle_step_s) = match sc.settle {
        SettleMode::Integrate => (sc.settle_s, sc.settle_step_s),
        SettleMode::Steady => (0.0, 0.0),
    };
    let kernels = [
        include_str!("../shaders/reaction.wgsl"),
        include_str!("../shaders/multigrid.wgsl"),
        include_str!("../shaders/rkl2.wgsl"),
        include_str!("../shaders/stencil.wgsl"),
        include_str!("../shaders/transfer.wgsl"),
    ]
    .concat();
    format!(
        "{}|{}|{}|{}|{:?}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}",
        String::from_utf8_lossy(CACHE_MAGIC),
        env!("CARGO_PKG_VERSION"),
        kernels,
        ParamTable::builtin().markdown(),
        sc.animal,
        sc.spacing_um,
        sc.ventral_absorbing,
        sc.p_pia,
        sc.female,
        sc.settle.name(),
        settle_s,
        settle_step_s,
        sc.transport.name(),
        gpu.info.name,
        gpu.info.driver,
        gpu.info.driver_info,
    )
}

/// The states and thetas of a cache file written by [`BaselineCache::store`] for `key_hash`;
/// `None` if anything does not check out.
fn parse_cache(bytes: &[u8], key_hash: u64) -> Option<(Vec<f32>, Vec<[f32; 4]>)> {
    let (body, sum) = bytes.split_at_checked(bytes.len().checked_sub(8)?)?;
    if fnv1a(FNV_START, body) != u64::from_le_bytes(sum.try_into().ok()?) {
        return None;
    }
    let rest = body.strip_prefix(CACHE_MAGIC)?;
    let (key, rest) = rest.split_at_checked(8)?;
    if u64::from_le_bytes(key.try_into().ok()?) != key_hash {
        return None;
    }
    let (n_states, rest) = rest.split_at_checked(8)?;
    let n_states = usize::try_from(u64::from_le_bytes(n_states.try_into().ok()?)).ok()?;
    let (states, thetas) = rest.split_at_checked(n_states.checked_mul(4)?)?;
    if thetas.len() % 16 != 0 {
        return None;
    }
    let f = |b: &[u8]| -> Vec<f32> {
        b.chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    };
    let (states, thetas) = (f(states), f(thetas));
    if !states.iter().chain(&thetas).all(|v| v.is_finite()) {
        return None;
    }
    let thetas = thetas
        .chunks_exact(4)
        .map(|c| [c[0], c[1], c[2], c[3]])
        .collect();
    Some((states, thetas))
}

impl BaselineCache {
    /// `$DORSALHORN_CACHE_DIR`, else `$XDG_CACHE_HOME/dorsalhorn`, else `~/.cache/dorsalhorn`;
    /// `None` if none is known or `DORSALHORN_CACHE_DIR` is `off`.
    pub fn from_env() -> Option<BaselineCache> {
        let dir = match std::env::var_os("DORSALHORN_CACHE_DIR") {
            Some(d) if d == "off" => return None,
            Some(d) => PathBuf::from(d),
            None => match std::env::var_os("XDG_CACHE_HOME") {
                Some(d) if !d.is_empty() => PathBuf::from(d).join("dorsalhorn"),
                _ => PathBuf::from(std::env::var_os("HOME")?)
                    .join(".cache")
                    .join("dorsalhorn"),
            },
        };
        Some(BaselineCache { dir })
    }

    /// A cache in `dir`.
    pub fn at(dir: &std::path::Path) -> BaselineCache {
        BaselineCache {
            dir: dir.to_path_buf(),
        }
    }

    /// The hash of [`baseline_key`] that names the file and is stored in it.
    fn key_hash(gpu: &Gpu, sc: &TissueScenario) -> u64 {
        fnv1a(FNV_START, baseline_key(gpu, sc).as_bytes())
    }

    fn path(&self, key_hash: u64) -> PathBuf {
        self.dir.join(format!("baseline-{key_hash:016x}.bin"))
    }

    /// The cached baseline of `sc`, if there is one that fits this layout. A file that is
    /// damaged (wrong checksum, length or key, or a non-finite value) is removed with a note on
    /// stderr, and the baseline is settled anew.
    pub fn load(&self, gpu: &Gpu, sc: &TissueScenario) -> Option<(Vec<f32>, Vec<[f32; 4]>)> {
        let key_hash = Self::key_hash(gpu, sc);
        let path = self.path(key_hash);
        let bytes = std::fs::read(&path).ok()?;
        let parsed = parse_cache(&bytes, key_hash);
        if parsed.is_none() {
            eprintln!(
                "note: the cached baseline {} is damaged or from another version; it is removed \
                 and the baseline is settled anew",
                path.display()
            );
            let _ = std::fs::remove_file(&path);
        }
        parsed
    }

    /// Stores a settled baseline (atomically; a failure only costs the next start its speed).
    pub fn store(&self, gpu: &Gpu, sc: &TissueScenario, sim: &TissueSim) -> Result<(), Error> {
        let states = sim.read_states(gpu)?;
        let key_hash = Self::key_hash(gpu, sc);
        let mut bytes = CACHE_MAGIC.to_vec();
        bytes.extend(key_hash.to_le_bytes());
        bytes.extend((states.len() as u64).to_le_bytes());
        bytes.extend(states.iter().flat_map(|v| v.to_le_bytes()));
        bytes.extend(sim.thetas().iter().flatten().flat_map(|v| v.to_le_bytes()));
        bytes.extend(fnv1a(FNV_START, &bytes).to_le_bytes());
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| Error::io("cannot create the cache folder", &self.dir, e))?;
        output::write_atomic(&self.path(key_hash), &bytes)
    }
}

/// The settled baseline of `sc`, from `cache` when it holds it (bit-identical to settling
/// again), else settled now (reporting progress) and stored there. Returns whether it came
/// from the cache.
pub fn cached_baseline(
    gpu: &Gpu,
    sc: &TissueScenario,
    cache: Option<&BaselineCache>,
    progress: &mut dyn FnMut(f64) -> bool,
) -> Result<(TissueSim, bool), Error> {
    let b = prepare_baseline(gpu, sc, cache, progress)?;
    Ok((b.sim, b.from_cache))
}

/// A baseline tissue ready to run, where it came from and what it cost.
pub struct Baseline {
    pub sim: TissueSim,
    pub from_cache: bool,
    /// Building the tissue and its kernels, and settling (or restoring) the baseline (s).
    pub setup_s: f64,
    pub settle_s: f64,
}

/// [`cached_baseline`] with the time of its parts.
pub fn prepare_baseline(
    gpu: &Gpu,
    sc: &TissueScenario,
    cache: Option<&BaselineCache>,
    progress: &mut dyn FnMut(f64) -> bool,
) -> Result<Baseline, Error> {
    let started = Instant::now();
    let mut sim = uncalibrated_tissue(gpu, sc)?;
    gpu.wait()?;
    let setup_s = started.elapsed().as_secs_f64();
    let started = Instant::now();
    if let Some(c) = cache
        && let Some((states, thetas)) = c.load(gpu, sc)
        && restore_states(gpu, &mut sim, &states, &thetas)
    {
        gpu.wait()?;
        return Ok(Baseline {
            sim,
            from_cache: true,
            setup_s,
            settle_s: started.elapsed().as_secs_f64(),
        });
    }
    settle(gpu, sc, &mut sim, progress)?;
    if let Some(c) = cache {
        // A failure to store only costs the next start its speed.
        let _ = c.store(gpu, sc, &sim);
    }
    Ok(Baseline {
        sim,
        from_cache: false,
        setup_s,
        settle_s: started.elapsed().as_secs_f64(),
    })
}

/// The time loop of a dorsal-horn scenario, one transport step at a time. [`run`] drives it to
/// the end; `dorsalhorn view` drives it a few steps per frame and may add events (EA sessions,
/// doses, a pain model) at a future time with [`Stepper::set_scenario`]. The steps depend only
/// on the scenario, never on how they are grouped, so a viewing replays exactly in batch from
/// the scenario the view exports.
pub struct Stepper {
    pub sc: TissueScenario,
    pub sim: TissueSim,
    /// The probe response of the naive baseline (the denominator of the pain indices).
    pub naive: ProbeResponse,
    /// The model with the scenario's constant drugs and lesions (doses are applied per step).
    model: Model,
    /// Times the loop stops at (outputs, protocol boundaries), ascending, all after `time_s`.
    cuts: Vec<f64>,
    next_output: f64,
    /// Read-outs at t = 0 and at every output time reached so far.
    pub readouts: Vec<Readout>,
    /// Wall time spent taking read-outs (s).
    pub readout_s: f64,
}

/// The times a run must stop at after `after`: outputs, EA session starts and ends, boluses,
/// doses and the pain onset.
fn cuts_after(sc: &TissueScenario, after: f64) -> Vec<f64> {
    let mut cuts: Vec<f64> = Vec::new();
    let mut t = 0.0;
    while t < sc.duration_s - 1e-6 {
        t = (t + sc.output_every_s).min(sc.duration_s);
        cuts.push(t);
    }
    let p = &sc.protocol;
    cuts.extend(
        p.sessions
            .iter()
            .flat_map(|s| [s.start_s, s.start_s + s.duration_s]),
    );
    cuts.extend(p.naloxone_s.iter().chain(p.nmda_block_s.iter()).copied());
    cuts.extend(
        sc.doses
            .iter()
            .flat_map(|d| [d.start_s, d.start_s + d.duration_s]),
    );
    if p.pain.is_some() {
        cuts.push(p.pain_onset_s);
    }
    cuts.retain(|&c| c > after + 1e-6 && c <= sc.duration_s + 1e-6);
    cuts.sort_by(f64::total_cmp);
    cuts.dedup_by(|a, b| (*a - *b).abs() < 1e-6);
    cuts
}

impl Stepper {
    /// Settles the baseline of `sc` (reporting the settled fraction) and takes the first
    /// read-out.
    pub fn new(
        gpu: &Gpu,
        sc: TissueScenario,
        progress: &mut dyn FnMut(f64) -> bool,
    ) -> Result<Stepper, Error> {
        let sim = baseline_with_progress(gpu, &sc, progress)?;
        Stepper::from_baseline(gpu, sc, sim)
    }

    /// Starts from a settled baseline (`sim` at t = 0, e.g. restored with
    /// [`TissueSim::write_states`] for a reset).
    pub fn from_baseline(
        gpu: &Gpu,
        sc: TissueScenario,
        mut sim: TissueSim,
    ) -> Result<Stepper, Error> {
        sim.forget_history();
        sim.reset_clock();
        let naive = sim.probe(gpu, &sim.model.baseline_input(), 1.0)?;
        let mut st = Stepper {
            model: sim.model.clone(),
            cuts: Vec::new(),
            next_output: sc.output_every_s,
            readouts: Vec::new(),
            readout_s: 0.0,
            sc,
            sim,
            naive,
        };
        st.apply_scenario(gpu);
        let states = st.sim.read_states(gpu)?;
        let first = readout(gpu, &st.sim, &st.sc, &st.naive, &states)?;
        st.readouts.push(first);
        Ok(st)
    }

    fn apply_scenario(&mut self, gpu: &Gpu) {
        let mut m = self.sim.model.clone();
        m.drugs = self.sc.drugs;
        m.rvm = if self.sc.rvm_lesion { 0.0 } else { 1.0 };
        m.a7 = if self.sc.a7_lesion { 0.0 } else { 1.0 };
        self.sim.set_model(gpu, &m);
        self.model = m;
        self.cuts = cuts_after(&self.sc, self.sim.time_s);
    }

    /// Replaces the scenario mid-run, e.g. with an event added by the viewer. The tissue and
    /// time keys must not change, and added events must lie after the current time (the past
    /// is not re-run); the caller checks both.
    pub fn set_scenario(&mut self, gpu: &Gpu, sc: TissueScenario) {
        self.sc = sc;
        self.apply_scenario(gpu);
    }

    /// Gives back the tissue (for a reset: write the baseline states, then
    /// [`Stepper::from_baseline`]).
    pub fn into_sim(self) -> TissueSim {
        self.sim
    }

    /// The model time (s).
    pub fn time_s(&self) -> f64 {
        self.sim.time_s
    }

    /// Whether the scenario's end has been reached.
    pub fn finished(&self) -> bool {
        self.cuts.is_empty()
    }

    /// The model with the scenario's constant drugs and lesions, as used for the input.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Takes one transport step (shortened to end at the next cut). At an output time it reads
    /// the states, checks them for blow-up, takes a read-out and returns the states.
    /// Stops with [`Error::Interrupted`] before the step when Ctrl-C or SIGTERM asked for it
    /// (src/interrupt.rs; only `run` and `validate` install the handler).
    pub fn step(&mut self, gpu: &Gpu) -> Result<Option<Vec<f32>>, Error> {
        crate::interrupt::check(self.sim.time_s)?;
        let Some(&cut) = self.cuts.first() else {
            return Ok(None);
        };
        let sc = &self.sc;
        let t0 = self.sim.time_s;
        if t0 < cut - 1e-6 {
            let dt = step_at(sc, t0).min(cut - t0);
            let h = substep_at(sc, t0, t0 + dt).min(dt / 2.0);
            if !sc.doses.is_empty() {
                // Occupancies of the doses at the step's midpoint, constant over the step.
                let mut m = self.sim.model.clone();
                m.drugs = drugs_at(&sc.drugs, &sc.doses, t0 + 0.5 * dt, m.pr.tau_clear_it);
                self.sim.set_model(gpu, &m);
            }
            let (model, p) = (&self.model, &sc.protocol);
            self.sim
                .step(gpu, dt, h, &|tt| model.protocol_input(p, tt).0)?;
        }
        if self.sim.time_s < cut - 1e-6 {
            return Ok(None);
        }
        self.sim.time_s = cut;
        self.cuts.remove(0);
        if cut >= self.next_output - 1e-6 || cut >= self.sc.duration_s - 1e-6 {
            let started = Instant::now();
            let states = self.sim.read_states(gpu)?;
            check_states(&self.sim, &states)?;
            let r = readout(gpu, &self.sim, &self.sc, &self.naive, &states)?;
            self.readouts.push(r);
            self.readout_s += started.elapsed().as_secs_f64();
            while self.next_output <= cut + 1e-6 {
                self.next_output += self.sc.output_every_s;
            }
            return Ok(Some(states));
        }
        Ok(None)
    }
}

/// Checks every active cell's state for NaN/Inf or negative values.
pub fn check_states(sim: &TissueSim, states: &[f32]) -> Result<(), BlowUp> {
    let nx = sim.layout.tissue.nx;
    for (i, c) in states.chunks_exact(STATE_STRIDE).enumerate() {
        if !sim.layout.active[i] {
            continue;
        }
        for (k, name) in STATE_NAMES.iter().enumerate() {
            let v = c[k];
            if !v.is_finite() || v < 0.0 {
                return Err(BlowUp {
                    species: name.to_string(),
                    value: v,
                    x: i % nx,
                    y: i / nx,
                    step: sim.transport_steps,
                    time_s: sim.time_s,
                    hint: "This should not happen with the positivity-preserving reaction step \
                           and clipped transport: please report it with the scenario file. \
                           Smaller time.step_min or time.reaction_substep_s may avoid it."
                        .into(),
                });
            }
        }
    }
    Ok(())
}

/// The read-outs at the current time (probes with the protocol's input, §4.11).
pub fn readout(
    gpu: &Gpu,
    sim: &TissueSim,
    sc: &TissueScenario,
    naive: &ProbeResponse,
    states: &[f32],
) -> Result<Readout, Error> {
    let pr = &sim.model.pr;
    let inp = sim.model.protocol_input(&sc.protocol, sim.time_s).0;
    let ((p_mech, p_heat, p_spont), ongoing) = indices_and_rates(gpu, sim, sc, naive)?;
    let eta = pr.eta_behaviour;
    let rates = match ongoing {
        Some(r) => r,
        None => sim.rates(gpu, &inp)?,
    };
    let weights = &sim.layout.report_weights;
    let nlx = sim.model.drugs.naloxone_nm + inp.naloxone_nm;
    let means = weights
        .iter()
        .map(|w| {
            let total: f64 = w.iter().map(|&x| x as f64).sum::<f64>().max(1e-30);
            let mut out = vec![0.0f64; STATE_NAMES.len() + RATE_NAMES.len()];
            for (i, &wi) in w.iter().enumerate() {
                if wi <= 0.0 {
                    continue;
                }
                let wi = wi as f64;
                let c = &states[i * STATE_STRIDE..][..STATE_NAMES.len()];
                for (k, v) in c.iter().enumerate() {
                    out[k] += wi * *v as f64;
                }
                let (o_md, o_k) = occupancies(c, nlx, pr);
                let r = [
                    rates.r_i[i],
                    rates.r_e[i],
                    rates.r_p[i],
                    rates.r_w[i],
                    o_md,
                    o_k,
                ];
                for (k, v) in r.iter().enumerate() {
                    out[STATE_NAMES.len() + k] += wi * *v as f64;
                }
            }
            out.iter().map(|v| v / total).collect()
        })
        .collect();
    Ok(Readout {
        time_s: sim.time_s,
        p_mech,
        p_heat,
        p_spont,
        pwt_g: (pr.PWT0 * p_mech.powf(-eta)).clamp(pr.PWT_min, pr.PWT0),
        pwl_s: (pr.PWL0 * p_heat.powf(-eta)).min(pr.PWL_max),
        means,
    })
}

/// The pain indices (P_mech, P_heat, P_spont) of §4.11 at the current time: the probe
/// responses with the protocol's input relative to the naive baseline's.
pub fn pain_indices(
    gpu: &Gpu,
    sim: &TissueSim,
    sc: &TissueScenario,
    naive: &ProbeResponse,
) -> Result<PainIndices, Error> {
    Ok(indices_and_rates(gpu, sim, sc, naive)?.0)
}

/// The pain indices (P_mech, P_heat, P_spont).
type PainIndices = (f64, f64, f64);

/// [`pain_indices`], and the rates of every cell under the protocol's input when no EA session
/// is on (the probes' ongoing input is then that input; `None` during a session).
fn indices_and_rates(
    gpu: &Gpu,
    sim: &TissueSim,
    sc: &TissueScenario,
    naive: &ProbeResponse,
) -> Result<(PainIndices, Option<crate::tissue::Rates>), Error> {
    let m = &sim.model;
    let (inp, gain) = m.protocol_input(&sc.protocol, sim.time_s);
    let (probe, ongoing) = sim.probe_with_rates(gpu, &inp, gain)?;
    let r0 = m.pr.R0 * sim.probe_area_um2();
    let indices = (
        (probe.mech + r0) / (naive.mech + r0),
        (probe.heat + r0) / (naive.heat + r0),
        probe.ongoing_r_p / naive.ongoing_r_p.max(1e-12),
    );
    Ok((indices, (!inp.ea_on).then_some(ongoing)))
}

/// Every state then every rate (STATE_NAMES then RATE_NAMES order) of cell `i`; a population's
/// rate is NaN where it is absent, and everything is NaN outside the cord.
pub fn cell_values(
    sim: &TissueSim,
    states: &[f32],
    rates: &crate::tissue::Rates,
    naloxone_nm: f64,
    i: usize,
) -> Vec<f32> {
    if !sim.layout.active.get(i).copied().unwrap_or(false) {
        return vec![f32::NAN; STATE_NAMES.len() + RATE_NAMES.len()];
    }
    let c = &states[i * STATE_STRIDE..][..STATE_NAMES.len()];
    let pops = &sim.layout.pops;
    let rate = |v: &[f32], p: &[f32]| if p[i] > 0.0 { v[i] } else { f32::NAN };
    let (o_md, o_k) = occupancies(c, sim.model.drugs.naloxone_nm + naloxone_nm, &sim.model.pr);
    let mut out = c.to_vec();
    out.extend([
        rate(&rates.r_i, &pops.present_i),
        rate(&rates.r_e, &pops.present_e),
        rate(&rates.r_p, &pops.present_p),
        rate(&rates.r_w, &pops.present_w),
        o_md,
        o_k,
    ]);
    out
}

/// O_μδ (tolerance-corrected) and O_κ of a cell's state with naloxone `nlx` nM (§4.5).
pub fn occupancies(c: &[f32], nlx: f64, pr: &crate::model::network::Params) -> (f32, f32) {
    let (enk, dyn_, em, c_end, tol) = (
        c[4] as f64,
        c[5] as f64,
        c[6] as f64,
        c[9] as f64,
        c[10] as f64,
    );
    let x = enk + em + c_end;
    let o_raw = x / (x + 1.0 + nlx / pr.Ki_mudelta);
    let o_k = dyn_ / (dyn_ + 1.0 + nlx / pr.Ki_kappa);
    (((1.0 - tol) * o_raw) as f32, o_k as f32)
}

fn csv_header() -> String {
    let mut h = String::from("time_h,day,P_mech,P_heat,P_spont,PWT_g,PWL_s");
    for (region, _) in REPORT_REGIONS {
        for name in STATE_NAMES.iter().chain(RATE_NAMES.iter()) {
            h.push_str(&format!(",{name}@{region}"));
        }
    }
    h.push('\n');
    h
}

fn csv_row(r: &Readout) -> String {
    let mut s = format!(
        "{:.4},{:.4},{:.6},{:.6},{:.6},{:.4},{:.4}",
        r.time_s / 3600.0,
        r.time_s / 86400.0,
        r.p_mech,
        r.p_heat,
        r.p_spont,
        r.pwt_g,
        r.pwl_s
    );
    for region in &r.means {
        for v in region {
            s.push_str(&format!(",{v:.6e}"));
        }
    }
    s.push('\n');
    s
}

/// The transport step to take from `t` (session and bolus windows use the short step).
fn step_at(sc: &TissueScenario, t: f64) -> f64 {
    let p = &sc.protocol;
    let near_session = p
        .sessions
        .iter()
        .any(|s| t >= s.start_s - 1e-6 && t < s.start_s + s.duration_s + 3600.0);
    let near_bolus = p
        .naloxone_s
        .iter()
        .chain(p.nmda_block_s.iter())
        .any(|&b| t >= b - 1e-6 && t < b + 3600.0);
    let acute = matches!(p.pain, Some(PainModel::Formalin))
        && t >= p.pain_onset_s - 1e-6
        && t < p.pain_onset_s + 5400.0;
    if near_session || near_bolus || acute {
        sc.session_step_s.min(sc.step_s)
    } else {
        sc.step_s
    }
}

/// The reaction sub-step at `t` (§3.2: 1 s while alternating 2/100 Hz switches every 3 s, 5 s
/// in other sessions).
fn substep_at(sc: &TissueScenario, t0: f64, t1: f64) -> f64 {
    let mut h = sc.reaction_substep_s;
    for s in &sc.protocol.sessions {
        if s.start_s < t1 && s.start_s + s.duration_s > t0 {
            h = h.min(if s.mode == EaMode::Alternating {
                1.0
            } else {
                5.0
            });
        }
    }
    if matches!(sc.protocol.pain, Some(PainModel::Formalin))
        && t1 > sc.protocol.pain_onset_s
        && t0 < sc.protocol.pain_onset_s + 5400.0
    {
        h = h.min(20.0);
    }
    h
}

/// Runs a dorsal-horn scenario from its calibrated baseline to the end, holding its output
/// folder ([`output::RunFolder`]: locked, marked `running`, then `completed`, `interrupted` or
/// `failed`).
pub fn run(gpu: &Gpu, sc: &TissueScenario, opts: &TissueRunOptions) -> Result<TissueRun, Error> {
    output::RunFolder::hold(opts.out_dir.as_deref(), opts.overwrite, "run", || {
        run_in_claimed(gpu, sc, opts)
    })
}

fn run_in_claimed(
    gpu: &Gpu,
    sc: &TissueScenario,
    opts: &TissueRunOptions,
) -> Result<TissueRun, Error> {
    if let Some(dir) = &opts.out_dir {
        for (enabled, sub) in [(true, "fields"), (sc.frames, "frames")] {
            if enabled {
                let d = dir.join(sub);
                std::fs::create_dir_all(&d)
                    .map_err(|e| Error::io("cannot create folder", &d, e))?;
            }
        }
    }
    let start = Instant::now();
    let settle_bar = output::progress_bar(opts.progress, 100, "% of the baseline settled");
    let baseline = prepare_baseline(gpu, sc, opts.cache.as_ref(), &mut |f| {
        settle_bar.set_position((100.0 * f) as u64);
        !crate::interrupt::requested()
    })?;
    settle_bar.finish_and_clear();
    crate::interrupt::check(0.0)?;
    let mut profile = RunProfile {
        setup_s: baseline.setup_s,
        settle_s: baseline.settle_s,
        baseline_from_cache: baseline.from_cache,
        ..RunProfile::default()
    };
    let mut sim = baseline.sim;
    sim.sample_profile(PROFILE_EVERY);
    let started = Instant::now();
    let mut st = Stepper::from_baseline(gpu, sc.clone(), sim)?;
    profile.setup_s += started.elapsed().as_secs_f64();
    let loop_start = Instant::now();

    let bar = output::progress_bar(
        opts.progress,
        (sc.duration_s / 3600.0).ceil() as u64,
        "h model time (eta {eta})",
    );
    // Written whole and atomically every few seconds, at the end, and on any way out.
    let mut csv = opts
        .out_dir
        .as_ref()
        .map(|d| output::GrowingFile::new(d.join("timeseries.csv"), csv_header()));
    if let Some(f) = csv.as_mut() {
        f.append(&csv_row(&st.readouts[0]))?;
    }
    let mut next_snapshot = 0.0;
    let nx = st.sim.layout.tissue.nx;
    let ny = st.sim.layout.tissue.ny;
    let write_snapshot = |st: &Stepper, states: &[f32]| -> Result<(), Error> {
        let Some(dir) = &opts.out_dir else {
            return Ok(());
        };
        let sim = &st.sim;
        let input = st.model().protocol_input(&sc.protocol, sim.time_s).0;
        let rates = if sc.fields.iter().any(|&f| f >= STATE_NAMES.len()) {
            Some(sim.rates(gpu, &input)?)
        } else {
            None
        };
        let minutes = (sim.time_s / 60.0).round() as u64;
        for &f in &sc.fields {
            let masked = field_values(sim, states, rates.as_ref(), input.naloxone_nm, f);
            let stem = format!("{}_t{minutes:06}min", field_name(f));
            output::write_atomic(
                &dir.join("fields").join(format!("{stem}.npy")),
                &output::npy_bytes(&masked, ny, nx),
            )?;
            if sc.frames {
                let range = sc.colormap.auto_range(&masked);
                output::write_atomic(
                    &dir.join("frames").join(format!("{stem}.png")),
                    &output::field_png(&masked, nx, ny, sc.colormap, range),
                )?;
            }
        }
        Ok(())
    };
    let mut writing_s = 0.0;
    {
        let started = Instant::now();
        let states = st.sim.read_states(gpu)?;
        write_snapshot(&st, &states)?;
        next_snapshot += sc.snapshot_every_s;
        writing_s += started.elapsed().as_secs_f64();
    }
    let readout_s0 = st.readout_s;
    while !st.finished() {
        if let Some(states) = st.step(gpu)? {
            let started = Instant::now();
            let cut = st.time_s();
            let r = st.readouts.last().expect("a read-out was just taken");
            if let Some(f) = csv.as_mut() {
                f.append(&csv_row(r))?;
            }
            bar.set_message(format!(
                "P_mech {:.2}  P_heat {:.2}  IL-1β(I–II) {:.3}",
                r.p_mech,
                r.p_heat,
                r.mean("I-II", "IL1b").unwrap_or(0.0)
            ));
            if cut >= next_snapshot - 1e-6 || cut >= sc.duration_s - 1e-6 {
                write_snapshot(&st, &states)?;
                while next_snapshot <= cut + 1e-6 {
                    next_snapshot += sc.snapshot_every_s;
                }
            }
            writing_s += started.elapsed().as_secs_f64();
        }
        bar.set_position((st.time_s() / 3600.0) as u64);
    }
    bar.finish_and_clear();
    let loop_s = loop_start.elapsed().as_secs_f64();
    let sim = &st.sim;
    profile.readouts_s = st.readout_s - readout_s0;
    profile.stepping_s = (loop_s - profile.readouts_s - writing_s).max(0.0);
    if let Some(p) = sim.profile()
        && p.steps > 0
    {
        let sampled = p.reaction_s + p.transport_s;
        profile.transport_s = profile.stepping_s * p.transport_s / sampled.max(1e-12);
        profile.reaction_s = profile.stepping_s * p.reaction_s / sampled.max(1e-12);
        profile.sampled_steps = p.steps;
    }
    profile.dispatches = sim.dispatches;
    profile.dispatches_per_transport_step =
        profile.dispatches as f64 / sim.transport_steps.max(1) as f64;
    let started = Instant::now();
    let mut summary = TissueSummary {
        completed: true,
        dorsalhorn_version: env!("CARGO_PKG_VERSION"),
        provenance: output::Provenance::of_this_run(),
        scenario_name: sc.name.clone(),
        scenario_origin: sc.origin.clone(),
        adapter: gpu.summary(),
        grid: [nx, ny],
        spacing_um: sc.spacing_um,
        active_cells: sim.layout.active.iter().filter(|a| **a).count(),
        simulated_days: sim.time_s / 86400.0,
        wall_time_s: start.elapsed().as_secs_f64(),
        transport_steps: sim.transport_steps,
        reaction_substeps: sim.reaction_substeps,
        stencil_passes: sim.stencil_passes,
        explicit_stencil_passes: sim.explicit_passes,
        naive_probe: st.naive,
        final_readout: st.readouts.last().expect("at least one readout").clone(),
        profile,
        resolved_scenario: sc.resolved_toml.clone(),
    };
    if let Some(dir) = &opts.out_dir {
        if let Some(f) = csv.as_mut() {
            f.flush()?;
        }
        summary.profile.writing_s = writing_s + started.elapsed().as_secs_f64();
        summary.wall_time_s = start.elapsed().as_secs_f64();
        let json = serde_json::to_string_pretty(&summary).expect("summary serialises");
        output::write_atomic(&dir.join("summary.json"), json.as_bytes())?;
    } else {
        summary.profile.writing_s = writing_s;
    }
    Ok(TissueRun {
        summary,
        readouts: st.readouts,
    })
}

/// The name of field `f` (an index into STATE_NAMES then RATE_NAMES).
pub fn field_name(f: usize) -> &'static str {
    STATE_NAMES
        .iter()
        .chain(RATE_NAMES.iter())
        .nth(f)
        .copied()
        .unwrap_or("?")
}

/// The values of field `f` in every cell of the grid, as written to NPY and drawn: NaN outside
/// the cord and, for a population's rate, where that population is absent (§4.3). Rate fields
/// need `rates`; O_μδ and O_κ use `naloxone_nm` of the input beside the constant drugs.
pub fn field_values(
    sim: &TissueSim,
    states: &[f32],
    rates: Option<&crate::tissue::Rates>,
    naloxone_nm: f64,
    f: usize,
) -> Vec<f32> {
    let n = sim.layout.active.len();
    let field: Vec<f32> = if f < STATE_NAMES.len() {
        states.chunks_exact(STATE_STRIDE).map(|c| c[f]).collect()
    } else {
        let k = f - STATE_NAMES.len();
        match (k, rates) {
            (0, Some(r)) => r.r_i.clone(),
            (1, Some(r)) => r.r_e.clone(),
            (2, Some(r)) => r.r_p.clone(),
            (3, Some(r)) => r.r_w.clone(),
            (4 | 5, _) => {
                let nlx = sim.model.drugs.naloxone_nm + naloxone_nm;
                states
                    .chunks_exact(STATE_STRIDE)
                    .map(|c| {
                        let o = occupancies(c, nlx, &sim.model.pr);
                        if k == 4 { o.0 } else { o.1 }
                    })
                    .collect()
            }
            _ => vec![f32::NAN; n],
        }
    };
    let pops = &sim.layout.pops;
    let present = match f.checked_sub(STATE_NAMES.len()) {
        Some(0) => Some(&pops.present_i),
        Some(1) => Some(&pops.present_e),
        Some(2) => Some(&pops.present_p),
        Some(3) => Some(&pops.present_w),
        _ => None,
    };
    (0..n)
        .map(|i| {
            let here = sim.layout.active[i] && present.is_none_or(|p| p[i] > 0.0);
            if here { field[i] } else { f32::NAN }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dose(name: &str, route: Route) -> Dose {
        Dose {
            drug: DRUG_CATALOGUE.iter().position(|c| c.0 == name).unwrap(),
            route,
            u_max: 0.8,
            start_s: 3600.0,
            duration_s: 7200.0,
        }
    }

    #[test]
    fn dose_time_courses_follow_section_6() {
        let ip = dose("minocycline", Route::Systemic);
        assert_eq!(ip.level(0.0, 3600.0), 0.0);
        assert!((ip.level(3600.0, 3600.0) - 0.8).abs() < 1e-12);
        assert!((ip.level(7200.0, 3600.0) - 0.4).abs() < 1e-12, "t½ 1 h");
        let it = dose("minocycline", Route::Intrathecal);
        assert!(
            (it.level(7200.0, 3600.0) - 0.8 * (-1.0f64).exp()).abs() < 1e-12,
            "τ_clear 1 h"
        );
        assert!(
            (it.level(3600.0 + 3600.0, 7200.0) - 0.8 * (-0.5f64).exp()).abs() < 1e-12,
            "τ_clear from the table"
        );
        let ab = dose("etanercept", Route::Intrathecal);
        assert!(
            (ab.level(3600.0 + 2.0 * 86400.0, 3600.0) - 0.4).abs() < 1e-12,
            "antibody t½ 2 d"
        );
        let fc = dose("fluorocitrate", Route::Intrathecal);
        assert!((fc.level(3600.0 + 12.0 * 3600.0, 3600.0) - 0.8 * (-1.0f64).exp()).abs() < 1e-12);
        let pump = dose("sb203580", Route::Infusion);
        assert_eq!(pump.level(3600.0 + 7100.0, 3600.0), 0.8);
        assert_eq!(pump.level(3600.0 + 7300.0, 3600.0), 0.0);
        // Repeated doses add, capped at 1; they set the catalogue's occupancy field.
        let d = drugs_at(&Drugs::default(), &[ip, ip], 3600.0, 3600.0);
        assert_eq!(d.minocycline, 1.0);
        assert_eq!(
            drugs_at(&Drugs::default(), &[pump], 5000.0, 3600.0).p38,
            0.8
        );
    }
}
