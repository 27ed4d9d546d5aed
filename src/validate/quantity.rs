//! The quantities a finding's checks read from an arm's read-outs: the pain and behaviour
//! columns, lamina means (`NAME@REGION`), φ_Cl, and the spatial read-outs (`NAME@GROUP/STAT`),
//! with their parsing and clear errors (docs/validation-format.md, "Quantities").

use crate::model::network::state::{RATE_NAMES, STATE_NAMES};
use crate::tissue::observe::Readout;
use crate::tissue::section::REPORT_REGIONS;
use crate::tissue::spatial::{SPATIAL_REGIONS, SpatialQuantity, SpatialStat};

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
    /// `NAME@GROUP/STAT`: where in the section (inside or outside the paw band, extent at half
    /// maximum, lateral edge width, depth of the peak); the run reads it at every output time.
    Spatial(SpatialQuantity),
}

pub(crate) const PAIN_COLUMNS: [&str; 5] = ["P_mech", "P_heat", "P_spont", "PWT_g", "PWL_s"];

impl Quantity {
    pub fn parse(s: &str) -> Result<Quantity, String> {
        if let Some(k) = PAIN_COLUMNS.iter().position(|c| *c == s) {
            return Ok(Quantity::Pain(k));
        }
        let Some((name, region)) = s.split_once('@') else {
            return Err(format!(
                "`{s}` is not a quantity: use one of {}, NAME@REGION (e.g. IL1b@I-II) or \
                 NAME@GROUP/STAT (e.g. M@III-IV/in)",
                PAIN_COLUMNS.join(", ")
            ));
        };
        let field_of = |name: &str| {
            STATE_NAMES
                .iter()
                .chain(RATE_NAMES.iter())
                .position(|n| *n == name)
                .ok_or_else(|| {
                    format!(
                        "`{name}` in `{s}` is not a state, rate or occupancy (`dorsalhorn check` \
                         lists them; phi_Cl is also allowed in NAME@REGION)"
                    )
                })
        };
        if let Some((group, stat)) = region.split_once('/') {
            let g = SPATIAL_REGIONS
                .iter()
                .position(|(n, _)| *n == group)
                .ok_or_else(|| {
                    let all: Vec<&str> = SPATIAL_REGIONS.iter().map(|(n, _)| *n).collect();
                    format!(
                        "`{group}` in `{s}` is not a lamina group: use one of {}",
                        all.join(", ")
                    )
                })?;
            let st = SpatialStat::ALL
                .iter()
                .find(|(n, _)| *n == stat)
                .map(|(_, st)| *st)
                .ok_or_else(|| {
                    let all: Vec<&str> = SpatialStat::ALL.iter().map(|(n, _)| *n).collect();
                    format!(
                        "`{stat}` in `{s}` is not a spatial statistic: use one of {}",
                        all.join(", ")
                    )
                })?;
            return Ok(Quantity::Spatial(SpatialQuantity {
                field: field_of(name)?,
                region: g,
                stat: st,
            }));
        }
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
        let f = field_of(name)?;
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
            Quantity::Spatial(q) => r
                .spatial
                .iter()
                .find(|(s, _)| *s == q)
                .map_or(f64::NAN, |(_, v)| *v),
        }
    }
}

/// φ_Cl(K) = (V_rest − E_Cl(K)) / (V_rest − E_Cl(1)), E_Cl(K) = E_Cl,K0 + slope·K (§4.3).
#[derive(Debug, Clone, Copy)]
pub struct PhiCl {
    pub(crate) v_rest: f64,
    pub(crate) e0: f64,
    pub(crate) slope: f64,
}

impl PhiCl {
    pub fn new(pr: &crate::model::network::coefficients::Params) -> PhiCl {
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
