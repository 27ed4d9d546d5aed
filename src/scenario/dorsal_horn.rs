//! Dorsal-horn scenarios (layer 2): a TOML file with a `[tissue]` table, resolved into a
//! [`TissueScenario`]: pain model, electroacupuncture sessions, drugs, boluses, doses, output.
//!
//! Every key is documented in docs/scenario-format.md ("Dorsal-horn scenarios"). Errors name the
//! file, the key, the value and what is allowed; `--set key.path=value` overrides work as for
//! engine scenarios.
//!
//! Longer than 600 lines: the format's raw types and one resolving function per table
//! (`resolve_tissue`, `resolve_time`, ... `resolve_output`), each with its per-key errors.

use crate::colormap::Colormap;
use crate::error::ScenarioError;
use crate::model::anatomy::Animal;
use crate::model::network::pk::{self, Amount, DoseUnit};
use crate::model::network::protocol::{
    ACUPOINTS, DRUG_CATALOGUE, DRUG_KEYS, Dose, EaMode, EaSession, NALOXONE_NM, PainModel,
    Protocol, Route, set_drug,
};
use crate::model::network::state::{DEFAULT_OUTPUT_FIELDS, Drugs};
use crate::params::ParamTable;
use crate::scenario::descending::{RawStimulation, Stimulation, resolve_stimulations};
use crate::scenario::figures::{FigureOptions, field_indices, resolve_figures};
use crate::scenario::keys::{choice, err, range};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
    pub stimulation: Vec<RawStimulation>,
    #[serde(default)]
    pub output: RawTissueOutput,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawTissue {
    pub animal: Option<String>,
    pub spacing_um: Option<f64>,
    pub ventral: Option<String>,
    pub sex: Option<String>,
    pub t_cells: Option<bool>,
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
    pub facilitation: Option<bool>,
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
    pub dose: Option<f64>,
    pub unit: Option<String>,
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
    // Figures and movies (scenario/figures.rs).
    pub figures: Option<bool>,
    pub figure_every_h: Option<f64>,
    pub figure_fields: Option<Vec<String>>,
    pub figure_layout: Option<String>,
    pub figure_size: Option<Vec<i64>>,
    pub figure_range: Option<toml::Table>,
    pub figure_theme: Option<String>,
    pub figure_plot: Option<bool>,
    pub figure_outlines: Option<bool>,
    pub movie: Option<String>,
    pub movie_fps: Option<i64>,
    pub netcdf: Option<bool>,
    pub session_every_min: Option<f64>,
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
    /// T cells present (`tissue.t_cells`, default true): false is a T-cell-deficient animal, in
    /// which females use the microglial route of males (MODEL.md §11.2).
    pub t_cells: bool,
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
    /// MODEL.md's optional "descending facilitation" mode (n_mode = 1, from t = 0): 5-HT3
    /// facilitation of C/Aδ release and of the projection neurons.
    pub facilitation: bool,
    /// Timed stimulation or silencing of the RVM and A7 (`[[stimulation]]`).
    pub stimulations: Vec<Stimulation>,
    pub output_every_s: f64,
    /// Extra read-outs inside each EA session (its start, every this many s, its end; 0 = none).
    pub session_every_s: f64,
    pub snapshot_every_s: f64,
    /// Indices into STATE_NAMES (0..33) or RATE_NAMES (33..37).
    pub fields: Vec<usize>,
    pub frames: bool,
    pub colormap: Colormap,
    /// Composed figures and the movie made of them.
    pub figures: FigureOptions,
    /// Write the snapshots as one NetCDF file with coordinates and units (`fields.nc`).
    pub netcdf: bool,
    pub resolved_toml: toml::Table,
    /// Extra times (s) the run stops at and reads out, ascending: a demo's step times
    /// (src/scenario/demo.rs), so its captions describe the state at exactly that moment. Not a
    /// scenario key; empty for scenario files.
    pub stops_s: Vec<f64>,
}

/// How the baseline tissue before t = 0 is prepared (§8.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SettleMode {
    /// The steady state of the baseline, computed directly by steps of growing length until no
    /// state of any cell changes ([`steady_state`](crate::tissue::baseline::steady_state)). The default.
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

impl TissueScenario {
    /// The sex and its route of central sensitisation (MODEL.md §11.2): "male", "female"
    /// (adaptive-immune route) or "female, T-cell deficient" (microglial route).
    pub fn sex_route(&self) -> &'static str {
        match (self.female, self.t_cells) {
            (false, true) => "male",
            (false, false) => "male, T-cell deficient",
            (true, true) => "female",
            (true, false) => "female, T-cell deficient",
        }
    }

    /// `pain.model` as the scenario names it (`sham` runs without a generator), if any.
    pub fn pain_name(&self) -> Option<String> {
        self.resolved_toml
            .get("pain")
            .and_then(|p| p.get("model"))
            .and_then(|m| m.as_str())
            .map(str::to_string)
    }
}

/// Whether a parsed TOML tree is a dorsal-horn scenario (it has a `[tissue]` table).
pub fn is_tissue(table: &toml::Table) -> bool {
    table.contains_key("tissue")
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
        crate::scenario::overrides::apply_override(&mut table, o)?;
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
    let (animal, spacing_um, ventral_absorbing, p_pia, female) = resolve_tissue(o, &raw)?;
    let t_cells = raw.tissue.t_cells.unwrap_or(true);
    let time = resolve_time(o, &raw)?;
    let days = time.days;
    let (pain, duration_s, onset_s) = resolve_pain(o, &raw, days)?;
    let sessions = resolve_sessions(o, &raw, days, duration_s)?;
    let drugs = resolve_drugs(o, &raw)?;
    let (naloxone_s, nmda_block_s) = resolve_boluses(o, &raw, days)?;
    let doses = resolve_doses(o, &raw, days)?;
    let (output_every_s, snapshot_every_s, fields, colormap) = resolve_output(o, &raw, days)?;
    let figures = resolve_figures(o, &raw.output, output_every_s, duration_s)?;
    Ok(TissueScenario {
        name: raw.name.clone().unwrap_or_else(|| "dorsal_horn".into()),
        description: raw.description.clone().unwrap_or_default(),
        origin: origin.to_string(),
        animal,
        spacing_um,
        ventral_absorbing,
        p_pia,
        female,
        t_cells,
        duration_s,
        step_s: time.step_s,
        session_step_s: time.session_step_s,
        reaction_substep_s: time.reaction_substep_s,
        settle_s: time.settle_s,
        settle_step_s: time.settle_step_s,
        settle: time.settle,
        transport: time.transport,
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
        facilitation: raw.descending.facilitation.unwrap_or(false),
        stimulations: resolve_stimulations(o, &raw.stimulation, days)?,
        output_every_s,
        session_every_s: 60.0
            * range(
                o,
                "output.session_every_min",
                raw.output.session_every_min.unwrap_or(5.0),
                0.0,
                720.0,
                "min",
            )?,
        snapshot_every_s,
        fields,
        frames: raw.output.frames.unwrap_or(true),
        colormap,
        figures,
        netcdf: raw.output.netcdf.unwrap_or(true),
        resolved_toml: table,
        stops_s: Vec::new(),
    })
}

/// Resolves `[tissue]`: animal, grid spacing, ventral edge, pial permeability, sex.
fn resolve_tissue(
    o: &str,
    raw: &RawTissueScenario,
) -> Result<(Animal, f64, bool, f64, bool), ScenarioError> {
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
    Ok((animal, spacing_um, ventral_absorbing, p_pia, female))
}

/// The resolved `[time]` table (times in seconds except `days`).
struct TimeKeys {
    days: f64,
    step_s: f64,
    session_step_s: f64,
    reaction_substep_s: f64,
    settle_s: f64,
    settle_step_s: f64,
    settle: SettleMode,
    transport: TransportScheme,
}

/// Resolves `[time]`: duration, steps, settling and transport.
fn resolve_time(o: &str, raw: &RawTissueScenario) -> Result<TimeKeys, ScenarioError> {
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
    Ok(TimeKeys {
        days,
        step_s,
        session_step_s,
        reaction_substep_s,
        settle_s,
        settle_step_s,
        settle,
        transport,
    })
}

/// Resolves `[pain]`: the pain model and its onset.
fn resolve_pain(
    o: &str,
    raw: &RawTissueScenario,
    days: f64,
) -> Result<(Option<PainModel>, f64, f64), ScenarioError> {
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
        "snl" => Some(PainModel::Snl),
        "sni" => Some(PainModel::Sni),
        "cci" => Some(PainModel::Cci),
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
    Ok((pain, duration_s, onset_s))
}

/// Resolves `[[ea]]`: the EA sessions, sorted, without overlaps.
#[expect(
    clippy::too_many_lines,
    reason = "one EA session's keys with their per-key errors, in key order"
)]
fn resolve_sessions(
    o: &str,
    raw: &RawTissueScenario,
    days: f64,
    duration_s: f64,
) -> Result<Vec<EaSession>, ScenarioError> {
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
    Ok(sessions)
}

/// Resolves `[drugs]`: constant occupancies and naloxone.
fn resolve_drugs(o: &str, raw: &RawTissueScenario) -> Result<Drugs, ScenarioError> {
    let mut drugs = Drugs::default();
    for (name, &v) in &raw.drugs {
        let key = format!("drugs.{name}");
        let name = choice(o, &key, name, DRUG_KEYS)?;
        let v = if name == NALOXONE_NM {
            range(o, &key, v, 0.0, 1e4, "nM")?
        } else {
            range(o, &key, v, 0.0, 1.0, "(occupancy)")?
        };
        set_drug(&mut drugs, name, v);
    }
    Ok(drugs)
}

/// Resolves `[[bolus]]`: naloxone and MK-801 boluses (times in s).
fn resolve_boluses(
    o: &str,
    raw: &RawTissueScenario,
    days: f64,
) -> Result<(Vec<f64>, Vec<f64>), ScenarioError> {
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
    Ok((naloxone_s, nmda_block_s))
}

/// Resolves `[[dose]]`: doses with their routes.
fn resolve_doses(o: &str, raw: &RawTissueScenario, days: f64) -> Result<Vec<Dose>, ScenarioError> {
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
        let amount = resolve_amount(o, k, d, name, route)?;
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
                amount,
                start_s,
                duration_s,
            });
        }
    }
    Ok(doses)
}

/// The amount of `dose[k]`: the occupancy knob `u_max` (default 1), or `dose` in `unit` through
/// the drug's dose–response for the route (MODEL.md §11.3), where the parameter table states one.
fn resolve_amount(
    o: &str,
    k: usize,
    d: &RawDose,
    name: &str,
    route: Route,
) -> Result<Amount, ScenarioError> {
    let key = |f: &str| format!("dose[{k}].{f}");
    match (d.u_max, d.dose, d.unit.as_deref()) {
        (Some(_), Some(_), _) => Err(err(
            o,
            &key("dose"),
            "give either u_max (the occupancy knob) or dose with unit, not both",
        )),
        (_, Some(_), None) => Err(err(
            o,
            &key("unit"),
            "is required with dose: the unit of the drug's ED50 entry for the route (mg/kg \
             for ip/iv, µg or nmol intrathecal; `dorsalhorn params` lists the {drug}_ED50_sys \
             and {drug}_ED50_it entries)",
        )),
        (_, None, Some(_)) => Err(err(
            o,
            &key("unit"),
            "applies to dose only: give dose = NUMBER with it, or drop unit and give u_max",
        )),
        (u_max, None, None) => Ok(Amount::Occupancy(range(
            o,
            &key("u_max"),
            u_max.unwrap_or(1.0),
            0.0,
            1.0,
            "(occupancy)",
        )?)),
        (None, Some(value), Some(unit)) => {
            let table = ParamTable::builtin();
            let (route_key, route_name) = match route {
                Route::Systemic => ("sys", "ip/iv"),
                Route::Intrathecal => ("it", "intrathecal"),
                Route::Infusion => {
                    return Err(err(
                        o,
                        &key("dose"),
                        "an infusion takes u_max (the occupancy the pump holds), not a dose",
                    ));
                }
            };
            let Some((_, stated)) = pk::potency(&table, name, route_key) else {
                return Err(err(
                    o,
                    &key("dose"),
                    format!(
                        "{name} has no {route_name} dose–response in the parameter table (no \
                         `{}` entry, MODEL.md §11.3); give u_max, the occupancy, instead{}",
                        pk::key(name, &format!("ED50_{route_key}")),
                        pk::stated_potencies(&table, name)
                    ),
                ));
            };
            let Some(unit) = DoseUnit::parse(unit).filter(|u| *u == stated) else {
                return Err(err(
                    o,
                    &key("unit"),
                    format!(
                        "is {unit:?}; {name} {route_name} takes \"{}\" (the unit its potency \
                         is stated in)",
                        stated.name()
                    ),
                ));
            };
            let value = range(o, &key("dose"), value, 1e-6, 1e4, unit.name())?;
            Ok(Amount::Dose { value, unit })
        }
    }
}

/// Resolves `[output]`: sampling, snapshots, fields and colormap.
fn resolve_output(
    o: &str,
    raw: &RawTissueScenario,
    days: f64,
) -> Result<(f64, f64, Vec<usize>, Colormap), ScenarioError> {
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
    let field_names = out.fields.clone().unwrap_or_else(|| {
        DEFAULT_OUTPUT_FIELDS
            .iter()
            .map(|s| s.to_string())
            .collect()
    });
    let fields = field_indices(o, "output.fields", &field_names)?;
    let colormap_name = out.colormap.as_deref().unwrap_or("magma");
    let colormap = Colormap::from_name(colormap_name).ok_or_else(|| {
        err(
            o,
            "output.colormap",
            format!("`{colormap_name}` is not allowed: use viridis, magma or diverging"),
        )
    })?;
    Ok((output_every_s, snapshot_every_s, fields, colormap))
}

/// How the transport step moves the diffusing mediators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TransportScheme {
    /// Backward Euler solved by multigrid (src/gpu/multigrid.rs): all 14 mediators in one solve of
    /// a fixed number of V-cycles, whatever the step. The default.
    #[default]
    Implicit,
    /// RKL2 super-time-stepping (src/gpu/rkl2.rs) in two groups: the stage count grows with
    /// √(Δt·D/h²). Kept as the reference the implicit scheme is tested against.
    Rkl2,
}

impl TransportScheme {
    pub const NAMES: [&'static str; 2] = ["implicit", "rkl2"];

    pub fn name(self) -> &'static str {
        match self {
            TransportScheme::Implicit => "implicit",
            TransportScheme::Rkl2 => "rkl2",
        }
    }

    pub fn from_name(name: &str) -> Option<TransportScheme> {
        match name {
            "implicit" => Some(TransportScheme::Implicit),
            "rkl2" => Some(TransportScheme::Rkl2),
            _ => None,
        }
    }
}
