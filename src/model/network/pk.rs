//! Pharmacokinetics and dose (layer 1, MODEL.md §11.3): each drug's route-specific elimination,
//! its effect compartment and its dose–response, read from the parameter table; a run's
//! [`DoseSchedule`] turns its `[[dose]]` entries into the occupancies u(t) the reaction stage
//! sees.
//!
//! The model, per drug and route (every number from `params/dorsal_horn.toml`, section 11.3):
//! - **Central level** of one dose, v(t) = e^{−k·(t − t₀)} after a bolus (k of the route: the
//!   drug's own `{drug}_k_sys` / `{drug}_k_it` / `{drug}_k_elim` where a source gives one, else
//!   the defaults `k_sys` (t½ 1 h, flagged as a fallback), `tau_clear_it` for an intrathecal
//!   small molecule and `k_it_ab` for an intrathecal antibody), or v = 1 while an infusion runs.
//! - **Plasma (or CSF) occupancy** u_p: doses given as an occupancy (`u_max`, the knob) add
//!   linearly, capped at 1, as in §6; doses given in the papers' units (mg/kg systemic, µg or
//!   nmol intrathecal) are concentrations c = dose/ED50 (`{drug}_ED50_sys`, `{drug}_ED50_it`),
//!   which superpose and reach the target through u = cⁿ/(cⁿ + 1) (Emax model, Hill n =
//!   `{drug}_hill`, default 1). The two kinds add, capped at 1. The receptor blockers
//!   ([`RECEPTOR_BLOCKERS`]) are the exception: their occupancy doses are concentrations too,
//!   c₀ = (u/(1 − u))^{1/n}, at most `c_full_block` (u_max = 1, a blocking dose), so a block
//!   holds while the concentration falls through the top of the Emax curve.
//! - **Effect compartment**, du_eff/dt = (u_p − u_eff)/τ_eff with τ_eff = `{drug}_tau_eff`
//!   (every route: target binding, slow turnover) or `{drug}_tau_eff_sys` (systemic doses only:
//!   entry into the CNS), for drugs whose tissue effect outlasts the plasma level; without an
//!   entry u_eff = u_p. Systemic and other doses of a drug reach the tissue through different
//!   compartments, so their occupancies add (capped at 1).
//!
//! Longer than 600 lines: the schedules, the reach of each dose (blood or pia) and their
//! combination per cell are one time course from a dose to what a cell sees, with its tests.

use crate::model::network::protocol::{
    DRUG_CATALOGUE, DRUG_KEYS, Dose, NALOXONE_NM, RECEPTOR_BLOCKERS, Route, drug_slot,
};
use crate::model::network::state::Drugs;
use crate::params::ParamTable;

/// A dose's amount: the occupancy knob of §6 or a dose in the papers' units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Amount {
    /// Peak occupancy u_max ∈ [0, 1] of the dose (the §6 knob).
    Occupancy(f64),
    /// A dose in `unit` (mg/kg systemic; µg or nmol intrathecal; for an infusion, per hour).
    Dose { value: f64, unit: DoseUnit },
}

/// The units a dose can be given in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DoseUnit {
    MgPerKg,
    Microgram,
    Nanomol,
}

impl DoseUnit {
    /// The unit as written in a scenario and in the parameter table.
    pub fn name(self) -> &'static str {
        match self {
            DoseUnit::MgPerKg => "mg/kg",
            DoseUnit::Microgram => "µg",
            DoseUnit::Nanomol => "nmol",
        }
    }

    /// Parses a unit as a scenario writes it (`ug` for µg).
    pub fn parse(s: &str) -> Option<DoseUnit> {
        match s {
            "mg/kg" => Some(DoseUnit::MgPerKg),
            "µg" | "ug" => Some(DoseUnit::Microgram),
            "nmol" => Some(DoseUnit::Nanomol),
            _ => None,
        }
    }
}

/// One drug's kinetics and potency (SI: rates in 1/s, times in s).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DrugPk {
    /// Elimination rate after an i.p./i.v. dose.
    pub k_sys: f64,
    /// Elimination rate after an intrathecal bolus.
    pub k_it: f64,
    /// Effect-compartment time constant τ_eff on every route (target binding, slow turnover;
    /// 0: none).
    pub tau_eff: f64,
    /// Effect-compartment time constant of systemic doses only (entry into the CNS; 0: none).
    pub tau_eff_sys: f64,
    /// ED50 of a systemic dose and its unit, where the table states one.
    pub ed50_sys: Option<(f64, DoseUnit)>,
    /// ED50 of an intrathecal dose and its unit, where the table states one.
    pub ed50_it: Option<(f64, DoseUnit)>,
    /// Hill coefficient of the dose–response.
    pub hill: f64,
    /// For the receptor blockers, the concentration (ED50 units) an occupancy dose of
    /// u_max = 1 stands for (`c_full_block`): their occupancy doses are read through the Emax
    /// curve. `None`: the linear §6 knob.
    pub c_full: Option<f64>,
}

impl DrugPk {
    /// The elimination rate of a bolus by `route` (`None` for an infusion).
    pub fn k(&self, route: Route) -> Option<f64> {
        match route {
            Route::Systemic => Some(self.k_sys),
            Route::Intrathecal => Some(self.k_it),
            Route::Infusion => None,
        }
    }

    /// The ED50 (and its unit) of a dose by `route`, where the table states one.
    pub fn ed50(&self, route: Route) -> Option<(f64, DoseUnit)> {
        match route {
            Route::Systemic => self.ed50_sys,
            _ => self.ed50_it,
        }
    }

    /// τ_eff of a dose by `route` (the larger of the all-route and the systemic constant for
    /// a systemic dose; 0: no effect compartment).
    pub fn tau_of(&self, route: Route) -> f64 {
        match route {
            Route::Systemic => self.tau_eff.max(self.tau_eff_sys),
            _ => self.tau_eff,
        }
    }
}

/// Every catalogue drug's kinetics, in the order of [`DRUG_CATALOGUE`].
#[derive(Debug, Clone, PartialEq)]
pub struct Kinetics {
    pub drugs: Vec<DrugPk>,
}

/// The parameter-table keys of a drug's optional entries: `{drug}_{what}`.
pub fn key(drug: &str, what: &str) -> String {
    format!("{drug}_{what}")
}

/// The ED50 of `drug` by `route` ("sys" or "it") in the table, with its unit, where stated.
pub fn potency(table: &ParamTable, drug: &str, route: &str) -> Option<(f64, DoseUnit)> {
    let p = table.param(&key(drug, &format!("ED50_{route}")))?;
    Some((p.si, DoseUnit::parse(&p.unit)?))
}

/// " (stated: ip/iv in mg/kg, …)" for the routes where `drug` has a potency, or "".
pub fn stated_potencies(table: &ParamTable, drug: &str) -> String {
    let stated: Vec<String> = [("sys", "ip/iv"), ("it", "intrathecal")]
        .iter()
        .filter_map(|&(k, route)| {
            potency(table, drug, k).map(|(_, u)| format!("{route} in {}", u.name()))
        })
        .collect();
    if stated.is_empty() {
        String::new()
    } else {
        format!(" (its stated potencies: {})", stated.join(", "))
    }
}

impl Kinetics {
    /// The kinetics of every catalogue drug from the table (its 11.3 entries and defaults).
    ///
    /// # Panics
    /// If the table lacks a default (`k_sys`, `k_it_ab`, `tau_clear_it`, `c_full_block`): the
    /// shipped table has them and edits cannot remove keys.
    pub fn from_table(t: &ParamTable) -> Kinetics {
        let need = |k: &str| {
            t.get(k)
                .unwrap_or_else(|| panic!("parameter `{k}` missing from the table"))
        };
        let (k_sys, k_it_ab, tau_it) = (need("k_sys"), need("k_it_ab"), need("tau_clear_it"));
        let c_full_block = need("c_full_block");
        let drugs = DRUG_CATALOGUE
            .iter()
            .map(|&(name, _, antibody, _)| {
                let own = |what: &str| t.get(&key(name, what));
                let elim = own("k_elim");
                DrugPk {
                    k_sys: own("k_sys").or(elim).unwrap_or(k_sys),
                    k_it: own("k_it").or(elim).unwrap_or(if antibody {
                        k_it_ab
                    } else {
                        1.0 / tau_it
                    }),
                    tau_eff: own("tau_eff").unwrap_or(0.0),
                    tau_eff_sys: own("tau_eff_sys").unwrap_or(0.0),
                    ed50_sys: potency(t, name, "sys"),
                    ed50_it: potency(t, name, "it"),
                    hill: own("hill").unwrap_or(1.0),
                    c_full: RECEPTOR_BLOCKERS.contains(&name).then_some(c_full_block),
                }
            })
            .collect();
        Kinetics { drugs }
    }

    /// "40 mg/kg (ED50 10 mg/kg, Hill 1), t½ 3 h, τ_eff 24 h": a dose's amount, its drug's
    /// kinetics on its route and, for intrathecal doses, the pial entry, as `dorsalhorn check`
    /// prints them.
    pub fn describe(&self, dose: &Dose) -> String {
        let pk = &self.drugs[dose.drug];
        let amount = match dose.amount {
            Amount::Occupancy(u) => match pk.c_full {
                Some(c) => {
                    let c0 = format!("{:.3}", occupancy_concentration(u, pk.hill, c));
                    let c0 = c0.trim_end_matches('0').trim_end_matches('.');
                    format!(
                        "u_max {u} (a blocker: {c0} × ED50 through the Emax curve, Hill {})",
                        pk.hill
                    )
                }
                None => format!("u_max {u}"),
            },
            Amount::Dose { value, unit } => {
                let (e, _) = pk.ed50(dose.route).unwrap_or((f64::NAN, unit));
                format!(
                    "{value} {u} (ED50 {e} {u}, Hill {h})",
                    u = unit.name(),
                    h = pk.hill
                )
            }
        };
        let elim = pk.k(dose.route).map_or(String::new(), |k| {
            format!(", t½ {:.3} h", std::f64::consts::LN_2 / k / 3600.0)
        });
        let tau = pk.tau_of(dose.route);
        let eff = if tau > 0.0 {
            format!(", effect compartment τ_eff {:.3} h", tau / 3600.0)
        } else {
            String::new()
        };
        let reach = match Reach::of(dose.drug, dose.route) {
            Reach::Blood => "",
            Reach::PiaSmall => ", through the pia (small-molecule depth profile)",
            Reach::PiaAntibody => ", through the pia (antibody depth profile)",
        };
        format!("{amount}{elim}{eff}{reach}")
    }

    /// The central level v(t) of one dose (1 at a bolus, 1 while an infusion runs).
    pub fn level(&self, dose: &Dose, t: f64) -> f64 {
        if t < dose.start_s {
            return 0.0;
        }
        let dt = t - dose.start_s;
        match self.drugs[dose.drug].k(dose.route) {
            Some(k) => (-dt * k).exp(),
            None if dt < dose.duration_s => 1.0,
            None => 0.0,
        }
    }

    /// The concentration (ED50 units) a dose gives at its peak: a dose in the papers' units,
    /// or a receptor blocker's occupancy dose ([`occupancy_concentration`]); `None` for an
    /// occupancy dose of any other drug (the linear §6 knob). An unstated potency was refused
    /// when the scenario was read.
    fn concentration(&self, dose: &Dose) -> Option<f64> {
        let pk = &self.drugs[dose.drug];
        match dose.amount {
            Amount::Dose { value, .. } => {
                Some(value / pk.ed50(dose.route).map_or(f64::INFINITY, |e| e.0))
            }
            Amount::Occupancy(u) => pk.c_full.map(|c| occupancy_concentration(u, pk.hill, c)),
        }
    }
}

/// The concentration (ED50 units) at which the Emax curve u = cⁿ/(cⁿ + 1) gives occupancy
/// `u`, c = (u/(1 − u))^{1/n}, at most `c_full` (u = 1, a blocking dose).
pub fn occupancy_concentration(u: f64, n: f64, c_full: f64) -> f64 {
    if u >= 1.0 {
        return c_full;
    }
    (u / (1.0 - u)).powf(1.0 / n).min(c_full)
}

/// The occupancy the plasma (or CSF) level of one drug's doses gives at time t: occupancy
/// doses add linearly, doses in papers' units (and a receptor blocker's occupancy doses)
/// superpose as concentrations through the Emax curve; the two add, capped at 1.
fn plasma_occupancy(kin: &Kinetics, doses: &[Dose], t: f64) -> f64 {
    let (mut knob, mut conc) = (0.0, 0.0);
    for d in doses {
        let v = kin.level(d, t);
        match kin.concentration(d) {
            Some(c0) => conc += c0 * v,
            None => {
                if let Amount::Occupancy(u) = d.amount {
                    knob += u * v;
                }
            }
        }
    }
    let n = doses.first().map_or(1.0, |d| kin.drugs[d.drug].hill);
    let emax = if conc > 0.0 {
        let x = conc.powf(n);
        x / (x + 1.0)
    } else {
        0.0
    };
    (knob.min(1.0) + emax).min(1.0)
}

/// Grid spacing (s) of the effect-compartment tables: the lag is integrated exactly for an
/// occupancy that is linear between grid points (and at every dose start and infusion end),
/// so the error is second order in 60 s against hour-long kinetics (< 1e-4 relative, tested).
const EFFECT_GRID_S: f64 = 60.0;

/// Where a dose reaches the tissue from (§2.5, §6): systemic doses through the blood, the same
/// in every cell; intrathecal boluses and infusions (pumps, expressed pDNA) from the CSF through
/// the pia, with the depth profile of a small molecule or of an antibody (`CellMap::pia`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    Blood,
    PiaSmall,
    PiaAntibody,
}

impl Reach {
    /// The reach of a dose of catalogue drug `drug` by `route`.
    pub fn of(drug: usize, route: Route) -> Reach {
        match route {
            Route::Systemic => Reach::Blood,
            _ if DRUG_CATALOGUE[drug].2 => Reach::PiaAntibody,
            _ => Reach::PiaSmall,
        }
    }
}

/// The occupancies of a moment by reach: `blood` (with the constant `[drugs]`) acts the same in
/// every cell, `pia` ([small molecules, antibodies]) × each cell's depth profile.
#[derive(Debug, Clone, Copy, Default)]
pub struct DrugSets {
    pub blood: Drugs,
    pub pia: [Drugs; 2],
}

/// One drug field's occupancy over a run from one reach (systemic doses and the others reach
/// the tissue through different compartments, so their occupancies add).
#[derive(Debug, Clone)]
struct FieldSchedule {
    field: &'static str,
    reach: Reach,
    /// The doses that set this field.
    doses: Vec<Dose>,
    /// τ_eff of the field's drug (0: none).
    tau_eff: f64,
    /// Effect-compartment table: (t, u_p just after t, u_eff at t), ascending in t.
    table: Vec<(f64, f64, f64)>,
}

/// A run's doses with their kinetics: the occupancies at any time, effect compartments
/// integrated once when the schedule is built (a pure function of the scenario, so a resumed
/// run sees the same numbers).
#[derive(Debug, Clone)]
pub struct DoseSchedule {
    kin: Kinetics,
    fields: Vec<FieldSchedule>,
}

impl DoseSchedule {
    /// The schedule of `doses` with kinetics `kin`, tabulated to `end_s`.
    pub fn new(doses: &[Dose], kin: &Kinetics, end_s: f64) -> DoseSchedule {
        let mut fields: Vec<FieldSchedule> = Vec::new();
        for d in doses {
            let field = DRUG_CATALOGUE[d.drug].1;
            let reach = Reach::of(d.drug, d.route);
            let tau = kin.drugs[d.drug].tau_of(d.route);
            match fields
                .iter_mut()
                .find(|f| f.field == field && f.reach == reach)
            {
                Some(f) => {
                    f.doses.push(*d);
                    f.tau_eff = f.tau_eff.max(tau);
                }
                None => fields.push(FieldSchedule {
                    field,
                    reach,
                    doses: vec![*d],
                    tau_eff: tau,
                    table: Vec::new(),
                }),
            }
        }
        let mut s = DoseSchedule {
            kin: kin.clone(),
            fields,
        };
        for f in 0..s.fields.len() {
            if s.fields[f].tau_eff > 0.0 {
                s.fields[f].table = s.tabulate(&s.fields[f], end_s);
            }
        }
        s
    }

    /// u_p of a field just before t (a bolus at t not yet counted).
    fn plasma_before(&self, f: &FieldSchedule, t: f64) -> f64 {
        plasma_occupancy(&self.kin, &f.doses, t - 1e-6 * t.abs().max(1.0))
    }

    /// The effect-compartment table of a field from its first dose to `end_s`.
    fn tabulate(&self, f: &FieldSchedule, end_s: f64) -> Vec<(f64, f64, f64)> {
        let ds = &f.doses;
        let first = ds.iter().map(|d| d.start_s).fold(f64::INFINITY, f64::min);
        // Breakpoints: the grid from the first dose, every dose start and infusion end.
        let mut ts: Vec<f64> = Vec::new();
        let mut t = first;
        while t < end_s {
            ts.push(t);
            t += EFFECT_GRID_S;
        }
        ts.push(end_s.max(first));
        for d in ds {
            ts.push(d.start_s);
            if d.route == Route::Infusion {
                ts.push(d.start_s + d.duration_s);
            }
        }
        ts.sort_by(f64::total_cmp);
        ts.dedup_by(|a, b| (*a - *b).abs() < 1e-6);
        let mut table = Vec::with_capacity(ts.len());
        let mut u = 0.0;
        let mut prev: Option<(f64, f64)> = None;
        for &t in &ts {
            let after = plasma_occupancy(&self.kin, ds, t);
            if let Some((t0, p0)) = prev {
                u = lag(u, p0, self.plasma_before(f, t), t - t0, f.tau_eff);
            }
            table.push((t, after, u));
            prev = Some((t, after));
        }
        table
    }

    /// The occupancies at time t by reach: `base` (the constant `[drugs]`) plus every
    /// systemic field's effect-site occupancy in `blood`, the intrathecal fields' in `pia`, each
    /// capped at 1 (the cell adds them with its profile, [`combine`]).
    pub fn sets_at(&self, base: &Drugs, t: f64) -> DrugSets {
        let mut out = DrugSets {
            blood: *base,
            ..DrugSets::default()
        };
        for f in &self.fields {
            let u = if f.tau_eff > 0.0 {
                self.effect_at(f, t)
            } else {
                plasma_occupancy(&self.kin, &f.doses, t)
            };
            let set = match f.reach {
                Reach::Blood => &mut out.blood,
                Reach::PiaSmall => &mut out.pia[0],
                Reach::PiaAntibody => &mut out.pia[1],
            };
            let slot = drug_slot(set, f.field);
            *slot = (*slot + u).min(1.0);
        }
        out
    }

    /// Whether any dose enters through the pia (intrathecal boluses, infusions).
    pub fn through_pia(&self) -> bool {
        self.fields.iter().any(|f| f.reach != Reach::Blood)
    }

    /// The occupancies at time t where every profile is 1 (laminae I–II on average, the
    /// well-mixed compartment): [`DoseSchedule::sets_at`] combined.
    pub fn drugs_at(&self, base: &Drugs, t: f64) -> Drugs {
        let s = self.sets_at(base, t);
        combine(&s.blood, &s.pia, [1.0, 1.0])
    }
}

/// How a `Drugs` field's intrathecal sets join the blood's in a cell ([`combine`] on the host,
/// `enter_drugs` in the kernel).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PialCombination {
    /// Naloxone (nM, systemic): summed, uncapped.
    Concentration,
    /// The conduction blocks act on the nerve and the roots, before the input reaches the cord:
    /// summed without a profile, capped at 1.
    Flat,
    /// Exogenous IL-10 is a source (EC50 added to its goal): × the profile, capped at 1.
    Source,
    /// An occupancy: at the profile × the dose's concentration ([`occupancy_at`]), capped at 1.
    Occupancy,
}

impl PialCombination {
    pub fn of(key: &str) -> PialCombination {
        match key {
            NALOXONE_NM => PialCombination::Concentration,
            "afferent_block" | "ea_block" => PialCombination::Flat,
            "il10_exo" => PialCombination::Source,
            _ => PialCombination::Occupancy,
        }
    }
}

/// An intrathecal occupancy `u` (the dose's, laminae I–II on average) where the concentration
/// is `pi` × the dose's: through the Emax curve (Hill 1), c = u/(1 − u) becomes c·pi, so
/// u·pi/(u·pi + 1 − u); a saturating dose stays saturating where less of it arrives.
pub fn occupancy_at(u: f64, pi: f64) -> f64 {
    if pi == 1.0 {
        return u;
    }
    let num = u * pi;
    let den = num + (1.0 - u);
    if den <= 0.0 { 0.0 } else { num / den }
}

/// The occupancies a cell sees (§2.5, §6): the blood's plus each intrathecal set's where the
/// concentration is the cell's depth profile `pia` ([small molecule, antibody], mean 1 over
/// laminae I–II) × the dose's ([`occupancy_at`]; exogenous IL-10, a source, × the profile),
/// capped at 1. Naloxone (nM, systemic only) and the conduction blocks, which act on the nerve
/// and the roots before the input reaches the cord, add without a profile.
pub fn combine(blood: &Drugs, pia: &[Drugs; 2], w: [f64; 2]) -> Drugs {
    let mut out = *blood;
    let (mut a, mut b) = (pia[0], pia[1]);
    for key in DRUG_KEYS {
        let (ua, ub) = (*drug_slot(&mut a, key), *drug_slot(&mut b, key));
        let how = PialCombination::of(key);
        let add = match how {
            PialCombination::Concentration | PialCombination::Flat => ua + ub,
            PialCombination::Source => ua * w[0] + ub * w[1],
            PialCombination::Occupancy => occupancy_at(ua, w[0]) + occupancy_at(ub, w[1]),
        };
        let slot = drug_slot(&mut out, key);
        *slot = if how == PialCombination::Concentration {
            *slot + add
        } else {
            (*slot + add).min(1.0)
        };
    }
    out
}

impl DoseSchedule {
    /// u_eff of a field at t, from the table's last point at or before t.
    fn effect_at(&self, f: &FieldSchedule, t: f64) -> f64 {
        let k = f.table.partition_point(|row| row.0 <= t);
        if k == 0 {
            return 0.0;
        }
        let (t0, p0, u0) = f.table[k - 1];
        lag(u0, p0, self.plasma_before(f, t), t - t0, f.tau_eff)
    }
}

/// u_eff after `h` seconds of du/dt = (p − u)/τ from u0, with p linear from p0 to p1: exact,
/// u(h) = p1 − s·τ + (u0 − p0 + s·τ)·e^{−h/τ}, s = (p1 − p0)/h.
fn lag(u0: f64, p0: f64, p1: f64, h: f64, tau: f64) -> f64 {
    if h <= 0.0 {
        return u0;
    }
    let s = (p1 - p0) / h;
    p1 - s * tau + (u0 - p0 + s * tau) * (-h / tau).exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dose(name: &str, route: Route, amount: Amount) -> Dose {
        Dose {
            drug: DRUG_CATALOGUE.iter().position(|c| c.0 == name).unwrap(),
            route,
            amount,
            start_s: 3600.0,
            duration_s: if route == Route::Infusion {
                7200.0
            } else {
                0.0
            },
        }
    }

    fn kinetics() -> Kinetics {
        Kinetics::from_table(&ParamTable::builtin())
    }

    /// The pial profile scales the concentration, not the occupancy: u = 0.8 (4 EC50) at a
    /// quarter of the concentration is 1 EC50, u = 0.5; a saturating dose stays saturating;
    /// profile 1 leaves u; exogenous IL-10 (a source) and the conduction blocks combine as
    /// documented in `combine`.
    #[test]
    fn the_pial_profile_scales_the_concentration() {
        assert!((occupancy_at(0.8, 0.25) - 0.5).abs() < 1e-12);
        assert!((occupancy_at(0.3, 1.0) - 0.3).abs() < 1e-12);
        assert_eq!(occupancy_at(1.0, 0.07), 1.0);
        assert_eq!(occupancy_at(0.0, 2.0), 0.0);
        assert!(occupancy_at(0.5, 2.0) > 0.5 && occupancy_at(0.5, 0.5) < 0.5);
        let blood = Drugs {
            mu_delta: 0.2,
            ..Drugs::default()
        };
        let small = Drugs {
            mu_delta: 0.8,
            il10_exo: 0.6,
            afferent_block: 0.4,
            ..Drugs::default()
        };
        let d = combine(&blood, &[small, Drugs::default()], [0.25, 1.0]);
        assert!((d.mu_delta - 0.7).abs() < 1e-12, "{}", d.mu_delta);
        assert!((d.il10_exo - 0.15).abs() < 1e-12);
        assert!((d.afferent_block - 0.4).abs() < 1e-12);
        let capped = combine(&blood, &[small, small], [1.0, 1.0]);
        assert_eq!(capped.mu_delta, 1.0);
    }

    #[test]
    fn the_lag_is_exact_for_a_linear_input() {
        // du/dt = (p − u)/τ with p = a + s·t, u(0) = 0: u = a + s(t − τ) + (sτ − a)e^{−t/τ}.
        let (a, s, tau, h): (f64, f64, f64, f64) = (0.3, 1e-4, 5000.0, 2000.0);
        let exact = a + s * (h - tau) + (s * tau - a) * (-h / tau).exp();
        assert!((lag(0.0, a, a + s * h, h, tau) - exact).abs() < 1e-15);
    }

    #[test]
    fn an_effect_compartment_follows_the_bateman_function() {
        // A 0.2 knob dose stays below the cap, so u_p = 0.2·e^{−kt} and the effect site is
        // 0.2·ke/(ke − k)·(e^{−kt} − e^{−ke·t}), ke = 1/τ_eff.
        let mut kin = kinetics();
        let d = dose("sb203580", Route::Systemic, Amount::Occupancy(0.2));
        let (k, tau) = (std::f64::consts::LN_2 / 3600.0, 6.0 * 3600.0);
        kin.drugs[d.drug].k_sys = k;
        kin.drugs[d.drug].tau_eff_sys = tau;
        let s = DoseSchedule::new(&[d], &kin, 3.0 * 86400.0);
        let ke = 1.0 / tau;
        for h in [0.5, 1.0, 3.0, 10.0, 30.0, 60.0] {
            let t = h * 3600.0;
            let exact = 0.2 * ke / (ke - k) * ((-k * t).exp() - (-ke * t).exp());
            let got = s.drugs_at(&Drugs::default(), 3600.0 + t).p38;
            assert!(
                (got - exact).abs() < 1e-4 * exact.max(1e-3),
                "t = {h} h: {got} against {exact}"
            );
        }
        assert_eq!(s.drugs_at(&Drugs::default(), 3000.0).p38, 0.0);
    }

    #[test]
    fn doses_in_papers_units_saturate_through_the_emax_curve() {
        let mut kin = kinetics();
        let d = dose(
            "minocycline",
            Route::Systemic,
            Amount::Dose {
                value: 30.0,
                unit: DoseUnit::MgPerKg,
            },
        );
        let pk = &mut kin.drugs[d.drug];
        pk.ed50_sys = Some((10.0, DoseUnit::MgPerKg));
        pk.tau_eff = 0.0;
        pk.tau_eff_sys = 0.0;
        pk.hill = 1.0;
        let k = pk.k_sys;
        let s = DoseSchedule::new(&[d, d], &kin, 86400.0);
        // Two simultaneous 30 mg/kg doses are one of 60: c = 6, u = 6/7.
        let u0 = s.drugs_at(&Drugs::default(), 3600.0).minocycline;
        assert!((u0 - 6.0 / 7.0).abs() < 1e-12);
        let t = 3600.0 + 5000.0;
        let c = 6.0 * (-k * 5000.0).exp();
        let u = s.drugs_at(&Drugs::default(), t).minocycline;
        assert!((u - c / (c + 1.0)).abs() < 1e-12);
    }

    #[test]
    fn occupancy_doses_keep_the_section_6_time_courses() {
        let kin = kinetics();
        let at = |name: &str, route: Route, t: f64| {
            let d = dose(name, route, Amount::Occupancy(0.8));
            kin.level(&d, t) * 0.8
        };
        let tau_it = 1.0 / kin.drugs[0].k_it;
        assert_eq!(at("sb203580", Route::Systemic, 0.0), 0.0);
        assert!(
            (at("sb203580", Route::Systemic, 7200.0) - 0.4).abs() < 1e-12,
            "t½ 1 h"
        );
        assert!(
            (at("sb203580", Route::Intrathecal, 3600.0 + tau_it) - 0.8 * (-1.0f64).exp()).abs()
                < 1e-12
        );
        let ab = at("etanercept", Route::Intrathecal, 3600.0 + 2.0 * 86400.0);
        assert!((ab - 0.4).abs() < 1e-12, "antibody t½ 2 d: {ab}");
        let fc = at("fluorocitrate", Route::Intrathecal, 3600.0 + 12.0 * 3600.0);
        assert!((fc - 0.8 * (-1.0f64).exp()).abs() < 1e-12, "τ 12 h");
        assert_eq!(at("sb203580", Route::Infusion, 3600.0 + 7100.0), 0.8);
        assert_eq!(at("sb203580", Route::Infusion, 3600.0 + 7300.0), 0.0);
        // Repeated knob doses add, capped at 1, on the catalogue's field.
        let ip = dose("sb203580", Route::Systemic, Amount::Occupancy(0.8));
        let s = DoseSchedule::new(&[ip, ip], &kin, 86400.0);
        assert_eq!(s.drugs_at(&Drugs::default(), 3600.0).p38, 1.0);
    }

    /// A receptor blocker's occupancy dose is a concentration on the Emax curve: u_max = 1 is
    /// c_full × ED50 and holds while the concentration clears, u_max < 1 starts where the knob
    /// did; any other drug's u_max decays with the level.
    #[test]
    fn a_blocking_dose_holds_while_its_concentration_clears() {
        let kin = kinetics();
        let c_full = ParamTable::builtin().get("c_full_block").unwrap();
        let ctop = dose("ctop", Route::Intrathecal, Amount::Occupancy(1.0));
        let pk = &kin.drugs[ctop.drug];
        assert_eq!(pk.c_full, Some(c_full));
        // Every listed blocker is a catalogue drug (a misspelt name would fall silently back
        // to the knob): as many drugs carry c_full as the list names.
        let blockers = kin.drugs.iter().filter(|d| d.c_full.is_some()).count();
        assert_eq!(blockers, RECEPTOR_BLOCKERS.len());
        let tau = 1.0 / pk.k_it;
        let s = DoseSchedule::new(&[ctop], &kin, 86400.0);
        let at = |t: f64| s.drugs_at(&Drugs::default(), 3600.0 + t).mu_delta;
        assert!((at(0.0) - c_full / (c_full + 1.0)).abs() < 1e-12);
        // One clearance time later: c = c_full/e, u = c/(c + 1) (0.974 for 100), where the
        // knob would have left 1/e.
        let c = c_full * (-1.0f64).exp();
        assert!((at(tau) - c / (c + 1.0)).abs() < 1e-9, "{}", at(tau));
        assert!(at(tau) > 0.9);
        // Half the block is left after ln(c_full) clearance times.
        assert!((at(c_full.ln() * tau) - 0.5).abs() < 1e-9);
        // A partial dose starts at the knob's occupancy: u_max 0.5 is c = 1.
        let half = dose("yohimbine", Route::Intrathecal, Amount::Occupancy(0.5));
        let s = DoseSchedule::new(&[half], &kin, 86400.0);
        assert!((s.drugs_at(&Drugs::default(), 3600.0).a2 - 0.5).abs() < 1e-12);
        let c = (-1.0f64).exp();
        let u = s.drugs_at(&Drugs::default(), 3600.0 + tau).a2;
        assert!((u - c / (c + 1.0)).abs() < 1e-9, "{u}");
        // Not a blocker: the knob decays with the level.
        let p38 = dose("sb203580", Route::Intrathecal, Amount::Occupancy(1.0));
        assert_eq!(kin.drugs[p38.drug].c_full, None);
        let s = DoseSchedule::new(&[p38], &kin, 86400.0);
        let u = s.drugs_at(&Drugs::default(), 3600.0 + tau).p38;
        assert!((u - (-1.0f64).exp()).abs() < 1e-9, "{u}");
        assert_eq!(occupancy_concentration(1.0, 2.0, 50.0), 50.0);
        assert!((occupancy_concentration(0.8, 2.0, 50.0) - 2.0).abs() < 1e-12);
    }

    /// (mean, trough, peak) of the minocycline occupancy over day 3 of a daily i.p. regimen.
    fn day_three(kin: &Kinetics, amount: Amount) -> (f64, f64, f64) {
        let drug = DRUG_CATALOGUE
            .iter()
            .position(|c| c.0 == "minocycline")
            .unwrap();
        let doses: Vec<Dose> = (0..5)
            .map(|d| Dose {
                drug,
                route: Route::Systemic,
                amount,
                start_s: f64::from(d) * 86400.0,
                duration_s: 0.0,
            })
            .collect();
        let s = DoseSchedule::new(&doses, kin, 6.0 * 86400.0);
        let v: Vec<f64> = (0..96)
            .map(|q| {
                s.drugs_at(&Drugs::default(), 3.0 * 86400.0 + f64::from(q) * 900.0)
                    .minocycline
            })
            .collect();
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        (
            mean,
            v.iter().copied().fold(1.0, f64::min),
            v.iter().copied().fold(0.0, f64::max),
        )
    }

    #[test]
    fn a_daily_systemic_regimen_acts_through_the_whole_day() {
        let kin = kinetics();
        let mg = |value| Amount::Dose {
            value,
            unit: DoseUnit::MgPerKg,
        };
        let (mean40, trough40, peak40) = day_three(&kin, mg(40.0));
        // The shipped minocycline effect compartment (τ_eff 16 h) carries the daily dose
        // through the day: the trough before the next dose is over a third of the peak.
        assert!(trough40 > peak40 / 3.0, "{trough40} against {peak40}");
        // Without it the plasma occupancy (t½ 1 h) is gone long before the next dose.
        let mut plain = kin.clone();
        plain.drugs.iter_mut().for_each(|d| d.tau_eff_sys = 0.0);
        let (_, trough, peak) = day_three(&plain, mg(40.0));
        assert!(trough < 1e-3 * peak, "{trough} against {peak}");
        // The dose–response saturates: 4× the dose gives more, but less than 4× the effect.
        let (mean10, _, _) = day_three(&kin, mg(10.0));
        assert!(
            mean40 > 1.5 * mean10 && mean40 < 4.0 * mean10,
            "{mean40} {mean10}"
        );
    }
}
