//! What is read from the tissue at an output time (layer 3): the per-lamina read-out with the
//! pain indices, the blow-up check, the field and cell values the writers and the window show.

use crate::error::{BlowUp, Error};
use crate::gpu::Gpu;
use crate::gpu::reaction::STATE_STRIDE;
use crate::model::network::opioid_occupancies;
use crate::model::network::state::{Input, RATE_NAMES, STATE_NAMES};
use crate::scenario::dorsal_horn::TissueScenario;
use crate::tissue::section::REPORT_REGIONS;
use crate::tissue::spatial::SpatialQuantity;
use crate::tissue::{ProbeResponse, Rates, TissueSim};
use serde::Serialize;

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
    /// The spatial read-outs asked of the run ([`Stepper::read_spatial`](crate::run::stepper::Stepper::read_spatial)), with their values.
    #[serde(skip)]
    pub spatial: Vec<(SpatialQuantity, f64)>,
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

    /// The value of a `timeseries.csv` column: `time_h`, `day`, `P_mech`, `P_heat`, `P_spont`,
    /// `PWT_g`, `PWL_s` or `NAME@REGION`.
    pub fn column(&self, column: &str) -> Option<f64> {
        match column {
            "time_h" => Some(self.time_s / 3600.0),
            "day" => Some(self.time_s / 86400.0),
            "P_mech" => Some(self.p_mech),
            "P_heat" => Some(self.p_heat),
            "P_spont" => Some(self.p_spont),
            "PWT_g" => Some(self.pwt_g),
            "PWL_s" => Some(self.pwl_s),
            _ => {
                let (name, region) = column.split_once('@')?;
                self.mean(region, name)
            }
        }
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
                    step: sim.transport_steps(),
                    time_s: sim.time_s(),
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

/// Everything read from the tissue at one output time, taken once: the states, the protocol's
/// input, the rates of every cell under that input and the read-out with the pain indices.
/// `run` writes its fields and CSV row from it, `validate` keeps its read-out; the window's
/// 50-ms snapshots between output times read states and rates themselves.
#[derive(Debug, Clone)]
pub struct Observation {
    pub states: Vec<f32>,
    pub input: Input,
    pub rates: Rates,
    pub readout: Readout,
}

/// Observes the tissue at the current time (`states` just read from it): the protocol's input
/// is evaluated once, the probes run once (§4.11), and the rates are those of the probes'
/// ongoing input when no EA session is on (the same input), else one more rates pass.
pub fn observe(
    gpu: &Gpu,
    sim: &TissueSim,
    sc: &TissueScenario,
    naive: &ProbeResponse,
    states: Vec<f32>,
) -> Result<Observation, Error> {
    let (inp, gain) = sim.model.protocol_input(&sc.protocol, sim.time_s());
    let ((p_mech, p_heat, p_spont), ongoing) = indices_and_rates(gpu, sim, naive, &inp, gain)?;
    let rates = match ongoing {
        Some(r) => r,
        None => sim.rates(gpu, &inp)?,
    };
    let readout = readout_of(sim, (p_mech, p_heat, p_spont), &rates, &inp, &states);
    Ok(Observation {
        states,
        input: inp,
        rates,
        readout,
    })
}

/// The read-out from an observation's parts.
fn readout_of(
    sim: &TissueSim,
    (p_mech, p_heat, p_spont): PainIndices,
    rates: &Rates,
    inp: &Input,
    states: &[f32],
) -> Readout {
    let pr = &sim.model.pr;
    let eta = pr.eta_behaviour;
    let weights = &sim.layout.report_weights;
    let nlx = sim.model.naloxone_nm(inp);
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
                let (o_md, o_k) = occupancies(c, &sim.layout.cell_maps[i], nlx, &sim.model);
                let (ht5, ne) = monoamines(c, &sim.layout.cell_maps[i], &sim.model, inp);
                let r = [
                    rates.r_i[i],
                    rates.r_e[i],
                    rates.r_p[i],
                    rates.r_w[i],
                    o_md,
                    o_k,
                    ht5,
                    ne,
                ];
                for (k, v) in r.iter().enumerate() {
                    out[STATE_NAMES.len() + k] += wi * *v as f64;
                }
            }
            out.iter().map(|v| v / total).collect()
        })
        .collect();
    Readout {
        time_s: sim.time_s(),
        p_mech,
        p_heat,
        p_spont,
        pwt_g: (pr.PWT0 * p_mech.powf(-eta)).clamp(pr.PWT_min, pr.PWT0),
        pwl_s: (pr.PWL0 * p_heat.powf(-eta)).min(pr.PWL_max),
        means,
        spatial: Vec::new(),
    }
}

/// The pain indices (P_mech, P_heat, P_spont) of §4.11 at the current time: the probe
/// responses with the protocol's input relative to the naive baseline's.
pub fn pain_indices(
    gpu: &Gpu,
    sim: &TissueSim,
    sc: &TissueScenario,
    naive: &ProbeResponse,
) -> Result<PainIndices, Error> {
    let (inp, gain) = sim.model.protocol_input(&sc.protocol, sim.time_s());
    Ok(indices_and_rates(gpu, sim, naive, &inp, gain)?.0)
}

/// The pain indices (P_mech, P_heat, P_spont).
type PainIndices = (f64, f64, f64);

/// [`pain_indices`], and the rates of every cell under the protocol's input when no EA session
/// is on (the probes' ongoing input is then that input; `None` during a session).
fn indices_and_rates(
    gpu: &Gpu,
    sim: &TissueSim,
    naive: &ProbeResponse,
    inp: &Input,
    gain: f64,
) -> Result<(PainIndices, Option<Rates>), Error> {
    let m = &sim.model;
    let (probe, ongoing) = sim.probe_with_rates(gpu, inp, gain)?;
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
    inp: &Input,
    i: usize,
) -> Vec<f32> {
    if !sim.layout.active.get(i).copied().unwrap_or(false) {
        return vec![f32::NAN; STATE_NAMES.len() + RATE_NAMES.len()];
    }
    let c = &states[i * STATE_STRIDE..][..STATE_NAMES.len()];
    let pops = &sim.layout.pops;
    let rate = |v: &[f32], p: &[f32]| if p[i] > 0.0 { v[i] } else { f32::NAN };
    let (o_md, o_k) = occupancies(
        c,
        &sim.layout.cell_maps[i],
        sim.model.naloxone_nm(inp),
        &sim.model,
    );
    let (ht5, ne) = monoamines(c, &sim.layout.cell_maps[i], &sim.model, inp);
    let mut out = c.to_vec();
    out.extend([
        rate(&rates.r_i, &pops.present_i),
        rate(&rates.r_e, &pops.present_e),
        rate(&rates.r_p, &pops.present_p),
        rate(&rates.r_w, &pops.present_w),
        o_md,
        o_k,
        ht5,
        ne,
    ]);
    out
}

/// Spinal 5-HT and NE of a cell (EC50 units, §4.2): its varicosity maps, its supraspinal EA gate,
/// the supraspinal opioid step under the input's naloxone and the model's RVM and A7 drives
/// ([`crate::model::network::Model::monoamines`]).
pub fn monoamines(
    c: &[f32],
    map: &crate::gpu::reaction::CellMap,
    model: &crate::model::network::Model,
    inp: &Input,
) -> (f32, f32) {
    let (ht5, ne) = model.monoamines(c[8] as f64, inp, map.v_5ht as f64, map.v_ne as f64);
    (ht5 as f32, ne as f32)
}

/// O_μδ (tolerance-corrected) and O_κ of a cell's state with naloxone `nlx` nM and the model's
/// selective antagonists (§4.5, §6; [`opioid_occupancies`]).
pub fn occupancies(
    c: &[f32],
    map: &crate::gpu::reaction::CellMap,
    nlx: f64,
    model: &crate::model::network::Model,
) -> (f32, f32) {
    let (enk, dyn_, em, c_end, tol) = (
        c[4] as f64,
        c[5] as f64,
        c[6] as f64,
        c[9] as f64 * map.end_w as f64,
        c[10] as f64,
    );
    let (_, o_md, o_k) = opioid_occupancies(
        &model.pr,
        &model.cell_drugs(map.pia()),
        enk + em + c_end,
        dyn_,
        tol,
        nlx,
    );
    (o_md as f32, o_k as f32)
}

/// The values of field `f` in every cell of the grid, as written to NPY and drawn: NaN outside
/// the cord and, for a population's rate, where that population is absent (§4.3). Rate fields
/// need `rates`; O_μδ, O_κ, 5-HT and NE use the naloxone of the input `inp` beside the constant
/// drugs.
pub fn field_values(
    sim: &TissueSim,
    states: &[f32],
    rates: Option<&crate::tissue::Rates>,
    inp: &Input,
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
                let nlx = sim.model.naloxone_nm(inp);
                states
                    .chunks_exact(STATE_STRIDE)
                    .zip(&sim.layout.cell_maps)
                    .map(|(c, m)| {
                        let o = occupancies(c, m, nlx, &sim.model);
                        if k == 4 { o.0 } else { o.1 }
                    })
                    .collect()
            }
            (6 | 7, _) => states
                .chunks_exact(STATE_STRIDE)
                .zip(&sim.layout.cell_maps)
                .map(|(c, map)| {
                    let m = monoamines(c, map, &sim.model, inp);
                    if k == 6 { m.0 } else { m.1 }
                })
                .collect(),
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
