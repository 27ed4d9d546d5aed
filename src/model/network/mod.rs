//! Well-mixed (0-D) reference of the dorsal-horn reaction network (MODEL.md §4), in f64.
//!
//! One superficial (laminae I–II) compartment with the conventions of MODEL.md §8.2: diffusion
//! neglected, all bands = 1, T_Cp = T_Cn = T_Aδ = 1, T_Aβ = 1 for the E and I presynaptic
//! populations and 0.3 for the glutamate and ATP pools, W with lamina V maps (T_C 0.15,
//! T_Aδ 0.8, T_Aβ 0.6), ρ_ENK = ρ_DYN = ρ_EM = ρ_N = 1, and every mediator relaxing as
//! dX/dt = k_X·(L_X·producer − X). It is the independent reference for the GPU reaction stage
//! and the check of the §8.2 reference values. Named parameters come from the parameter table;
//! the dimensionless coefficients written inline in the §4 equations are kept inline here, each
//! next to its equation.
//!
//! Longer than 600 lines: the network's fast rates and right-hand side are one equation set, kept
//! in the order of MODEL.md §4 and of shaders/reaction.wgsl, which it mirrors.

pub mod coefficients;
pub mod pk;
pub mod protocol;
pub mod state;

use crate::params::ParamTable;
use coefficients::Params;
use protocol::{EaMode, PainModel, Protocol};
use state::{Drugs, Input, N_STATES, State};

/// Hill function H(c; K, n) = cⁿ/(cⁿ + Kⁿ), 0 for c ≤ 0 (MODEL.md §4.0).
pub fn hill(c: f64, k: f64, n: f64) -> f64 {
    if c <= 0.0 {
        0.0
    } else {
        let a = c.powf(n);
        a / (a + k.powf(n))
    }
}

fn h(c: f64) -> f64 {
    hill(c, 1.0, 1.0)
}

/// Calibrated thresholds θ_I, θ_E, θ_P, θ_W (σ units).
#[derive(Debug, Clone, Copy, Default)]
pub struct Thresholds {
    pub i: f64,
    pub e: f64,
    pub p: f64,
    pub w: f64,
}

/// The algebraic (T0/T1) quantities at one instant.
#[derive(Debug, Clone, Copy, Default)]
pub struct Fast {
    pub r_i: f64,
    pub r_e: f64,
    pub r_p: f64,
    pub r_w: f64,
    pub glu: f64,
    pub glu_c: f64,
    pub gi: f64,
    pub atp: f64,
    pub ht5: f64,
    pub ne: f64,
    pub o_mudelta: f64,
    pub o_mudelta_raw: f64,
    pub o_kappa: f64,
    pub o_5ht1: f64,
    pub o_a2: f64,
    pub r_pre: f64,
    pub phi_cl: f64,
    /// The u terms without θ (used by calibration).
    pub u_i0: f64,
    pub u_e0: f64,
    pub u_p0: f64,
    pub u_w0: f64,
}

/// The well-mixed model: parameters, thresholds and drugs.
#[derive(Debug, Clone)]
pub struct Model {
    pub pr: Params,
    pub theta: Thresholds,
    /// The occupancies that act the same in every cell (systemic doses, the constant `[drugs]`).
    pub drugs: Drugs,
    /// The intrathecal occupancies that enter through the pia ([small molecules, antibodies]),
    /// × each cell's depth profile ([`Model::cell_drugs`]); `None` without intrathecal doses.
    pub drugs_pia: Option<[Drugs; 2]>,
    /// Every drug's kinetics and potency (§11.3), for the doses of a run.
    pub kin: pk::Kinetics,
    /// Share of the microglial P2X4 → p38 → BDNF route in the BDNF source (MODEL.md §11.2: 1 in
    /// males and in T-cell-deficient females, `sigma_BDNF_female` in females).
    pub sigma_sex: f64,
    /// The female adaptive-immune route of §11.2 (1 on: intact females; 0 in males and
    /// T-cell-deficient females): T acts on D_E and on the KCC2 loss rate.
    pub t_route: f64,
    /// Descending drive multipliers (RVM → 5-HT, A7 → NE): 1 intact, 0 after a lesion (§4.5,
    /// r_RVM and r_A7 scaled, tonic and EA-evoked release alike).
    pub rvm: f64,
    pub a7: f64,
    /// n_mode of MODEL.md §4.2/§4.3: 1 in the optional "descending facilitation" mode (5-HT3
    /// facilitation of C/Aδ release and of P and W), 0 otherwise (the default).
    pub n_mode: f64,
    /// Divide the chemokines' rates of change by their GAG retardation R (§2.1). Off by
    /// default: the §8.2 reference check relaxes every mediator as dX/dt = k·(L·producer − X),
    /// without R; the spatial model applies R.
    pub retardation: bool,
}

fn logistic(rmax: f64, u: f64) -> f64 {
    rmax / (1.0 + (-u).exp())
}

/// ρ_EA(I) = H(I; 1 mA, 2) (§4.1).
pub fn recruitment(ma: f64) -> f64 {
    hill(ma, 1.0, 2.0)
}

/// g_ENK(f) = 1/(1 + (f/15)²), g_DYN(f) = (f/40)²/(1 + (f/40)²) (§4.5).
/// The opioid occupancies of §4.5 from the μ/δ ligand x = ENK + EM + C_END (EC50 units),
/// dynorphin, tolerance and naloxone (nM), with the selective antagonists of §6 (`mu_delta`,
/// `kappa`): (O_μδ,raw, O_μδ = (1 − Tol)·O_μδ,raw, O_κ). The one host formula: [`Model::fast`]
/// and the tissue's read-outs use it; shaders/reaction.wgsl mirrors it.
pub fn opioid_occupancies(
    pr: &Params,
    d: &Drugs,
    x: f64,
    dyn_: f64,
    tol: f64,
    nlx: f64,
) -> (f64, f64, f64) {
    let x = x + state::agonist_level(d.mu_agonist);
    let o_raw = x / (x + 1.0 + nlx / pr.Ki_mudelta) * (1.0 - d.mu_delta);
    let o_md = (1.0 - tol) * o_raw;
    let o_k = dyn_ / (dyn_ + 1.0 + nlx / pr.Ki_kappa) * (1.0 - d.kappa);
    (o_raw, o_md, o_k)
}

pub fn g_enk(f: f64) -> f64 {
    1.0 / (1.0 + (f / 15.0).powi(2))
}

pub fn g_dyn(f: f64) -> f64 {
    let x = (f / 40.0).powi(2);
    x / (1.0 + x)
}

/// ν(f) of Θ_LTD (§4.4).
pub fn nu(f: f64) -> f64 {
    if f <= 5.0 {
        1.0
    } else {
        1.0 - 0.8 * (f.min(100.0) / 5.0).ln() / 20f64.ln()
    }
}

/// Φ_op, the opioid gate on the build-up of the EA glial memory (§4.9, issue 20):
/// O_op²/(O_op² + K²) with O_op = O_μδ + O_κ; K = 0 switches the gate off (the spec).
pub fn opioid_gate(o_op: f64, k: f64) -> f64 {
    if k <= 0.0 { 1.0 } else { hill(o_op, k, 2.0) }
}

/// NEP inhibition (§6: k_ENK × (1 − 0.9·u) on enkephalin's loss) written as production: the
/// spared loss 0.9·u·ENK is added to ENK's goal, so dENK/dt = k_ENK·(goal − (1 − 0.9·u)·ENK)
/// while every clearance, the tissue transport's included, stays k_ENK. The kernel's `goals`
/// mirrors it.
pub fn nep_spared_loss(u_nep: f64, enk: f64) -> f64 {
    0.9 * u_nep * enk
}

/// Φ_sup, the supraspinal opioid step of EA's descending drive (§4.2, issue 20): the share of the
/// EA-evoked RVM/A7 drive left when systemic naloxone `nlx` (nM) blocks the brainstem μ receptors
/// that the low-frequency (arcuate β-endorphin) part of it runs through:
/// 1 − w_PAG·g_ENK·nlx/(nlx + K_i,μδ·(1 + x_PAG)), with `pep_enk` = g_ENK(f) of the last session.
/// Exactly 1 without naloxone or with w_PAG = 0 (the spec).
pub fn supraspinal_gate(pr: &Params, pep_enk: f64, nlx: f64) -> f64 {
    if nlx <= 0.0 {
        return 1.0;
    }
    1.0 - pr.w_PAG * pep_enk * nlx / (nlx + pr.Ki_mudelta * (1.0 + pr.x_PAG))
}

/// h_G(f) of the EA glial memory (§4.9).
pub fn h_g(f: f64) -> f64 {
    if f <= 2.0 {
        1.0
    } else if f <= 10.0 {
        1.0 - 0.1 * (f - 2.0) / 8.0
    } else {
        0.9 - 0.3 * (f.min(100.0) / 10.0).log10()
    }
}

impl Model {
    pub fn new(table: &ParamTable) -> Model {
        Model {
            pr: Params::from_table(table),
            theta: Thresholds::default(),
            drugs: Drugs::default(),
            drugs_pia: None,
            kin: pk::Kinetics::from_table(table),
            sigma_sex: 1.0,
            t_route: 0.0,
            rvm: 1.0,
            a7: 1.0,
            n_mode: 0.0,
            retardation: false,
        }
    }

    /// The occupancies of a cell whose depth profiles from the pia are `pia` ([small molecule,
    /// antibody]; 1 and 1 in the well-mixed compartment, which stands for laminae I–II):
    /// [`pk::combine`], or the uniform drugs without intrathecal doses.
    pub fn cell_drugs(&self, pia: [f64; 2]) -> std::borrow::Cow<'_, Drugs> {
        match &self.drugs_pia {
            None => std::borrow::Cow::Borrowed(&self.drugs),
            Some(sets) => std::borrow::Cow::Owned(pk::combine(&self.drugs, sets, pia)),
        }
    }

    /// The naloxone (nM) of input `inp`: its boluses plus the constant drug.
    pub fn naloxone_nm(&self, inp: &Input) -> f64 {
        self.drugs.naloxone_nm + inp.naloxone_nm
    }

    /// Spinal 5-HT and NE (EC50 units, §4.2) where the descending varicosity maps are `v_5ht`,
    /// `v_ne` (1 in the well-mixed compartment), with the supraspinal EA gate `e_sup` and the
    /// RVM and A7 drives: c·v·(1 + descending_gain·E_sup·Φ_sup)·r, with Φ_sup the supraspinal
    /// opioid step ([`supraspinal_gate`]) of the input `inp`. The one host formula:
    /// [`Model::fast`] and the tissue's read-outs use it; shaders/reaction.wgsl mirrors it.
    pub fn monoamines(&self, e_sup: f64, inp: &Input, v_5ht: f64, v_ne: f64) -> (f64, f64) {
        let pr = &self.pr;
        let nlx = self.naloxone_nm(inp);
        let drive = 1.0 + pr.descending_gain * e_sup * supraspinal_gate(pr, inp.pep_enk, nlx);
        (
            pr.c_5HT * v_5ht * drive * self.rvm,
            pr.c_NE * v_ne * drive * self.a7,
        )
    }

    /// The T0/T1 solve of §3.2 item 2 for state `s` and input `inp`.
    #[expect(
        clippy::too_many_lines,
        reason = "the fast rates of MODEL.md §4.3–§4.5 in the spec's order, mirrored line by line in shaders/reaction.wgsl"
    )]
    pub fn fast(&self, s: &State, inp: &Input) -> Fast {
        let pr = &self.pr;
        let d = &*self.cell_drugs([1.0, 1.0]);
        // The conduction blocks act on what reaches the cord (§6; `input_at` in the kernel).
        let inp = &d.reaching_cord(inp);
        // Occupancies (§4.5).
        let x = s.enk + s.em + s.c_end;
        let nlx = self.naloxone_nm(inp);
        // Selective antagonists (§6) scale their receptor's occupancy by (1 − u).
        let (o_raw, o_md, o_k) = opioid_occupancies(pr, d, x, s.dyn_, s.tol, nlx);
        let (ht5, ne) = self.monoamines(s.e_sup, inp, 1.0, 1.0);
        let o_5ht1 = h(ht5) * (1.0 - d.ht1);
        // 5-HT3 (facilitatory), only in the descending-facilitation mode; ondansetron (1 − u).
        let o_5ht3 = hill(ht5, pr.K_5HT3, 1.0) * (1.0 - d.ht3) * self.n_mode;
        let o_a2 = h(ne + state::agonist_level(d.a2_agonist)) * (1.0 - d.a2);
        let o_a1 = hill(ne, pr.K_a1, 1.0);
        // Chloride and inhibition strength (§4.3).
        let e_cl = pr.E_Cl_K0 + pr.E_Cl_slope * s.k;
        let v_rest = pr.V_rest;
        let phi = (v_rest - e_cl) / (v_rest - (pr.E_Cl_K0 + pr.E_Cl_slope));
        let h_il1 = h(s.il1b) * (1.0 - d.il1r);
        let h_tnf = h(s.tnf) * (1.0 - d.tnf);
        // GABA_A/glycine antagonists scale every inhibitory gain (g_I, g_II, g_PI, g_WI).
        let g_hat = (1.0 - 0.3 * h_il1 - 0.2 * h(s.il6))
            * (1.0 - pr.e_COX * s.cox)
            * (1.0 - d.gaba_gly)
            * (1.0 + 0.5 * d.clp257);
        let n_g = 1.0 + 1.5 * s.n;
        let a_nk1 = h(s.sp);
        let g_cyt = pr.c_TNF * h_tnf + pr.c_IL1 * h_il1;
        let g_chem = pr.c_CCR2 * h(s.ccl2) * (1.0 - d.ccr2)
            + pr.c_CXCR2 * h(s.cxcl1) * (1.0 - d.cxcr2)
            + pr.c_CXCR4 * h(s.cxcl12) * (1.0 - d.cxcr4);
        // Normalised afferent rates; EA rates.
        let rr = pr.r_ref;
        let (rc, rad, rab) = ((inp.r_cp + inp.r_cn) / rr, inp.r_ad / rr, inp.r_ab / rr);
        let r_ea = if inp.ea_on {
            inp.ea_f.min(pr.EA_f_max) * inp.ea_rho
        } else {
            0.0
        };
        let rea = r_ea / rr;
        let (rmax_i, rmax_e, rmax_p, rmax_w) = (pr.rmax_I, pr.rmax_E, pr.rmax_P, pr.rmax_W);
        let chi = pr.chi_loss;
        // 1. r_I by damped Picard.
        let u_i0_of = |r_i: f64| {
            pr.w_Ib * (rab + rea) + pr.w_IC * rc - pr.g_II * phi * g_hat * r_i / rmax_i
                + pr.w_INE * o_a1
        };
        let mut r_i = s.r_i;
        for _ in 0..200 {
            let next = logistic(rmax_i, u_i0_of(r_i) - self.theta.i) * (1.0 - chi);
            let upd = r_i + 0.6 * (next - r_i);
            let done = (next - r_i).abs() < 1e-9;
            r_i = upd;
            if done {
                break;
            }
        }
        // 2. Transmitters.
        let gi = pr.q_I * r_i;
        let o_gb = hill(gi, 2.0, 1.0);
        let r_pre = (1.0 - pr.e_mudelta * o_md)
            * (1.0 - pr.e_kappa * o_k)
            * (1.0 - pr.e_a2 * o_a2)
            * (1.0 - pr.e_5HT1 * o_5ht1)
            * (1.0 - pr.e_GB * o_gb)
            * (1.0 + 0.3 * o_5ht3);
        let r_pre_a = (1.0 - pr.e_a2 * o_a2) * (1.0 - pr.e_GB * o_gb);
        let kappa = (1.0 - 0.4 * s.a * s.j) * (1.0 + 0.3 * s.g_ea);
        let q = pr.q_glu;
        let glu_c = q * (inp.r_cp + inp.r_cn) * r_pre / kappa;
        let glu = glu_c + q * (inp.r_ad * r_pre + inp.r_ab * 0.3 * r_pre_a) / kappa;
        let atp = pr.a_n * (inp.r_cp + inp.r_cn + inp.r_ad + 0.3 * inp.r_ab)
            + pr.a_inj * inp.i_inj
            + pr.a_A * s.a * s.cx * (1.0 - d.fluorocitrate) * (1.0 - d.carbenoxolone);
        // 3. r_E by damped Picard.
        let inhib = |gain: f64| gain * phi * g_hat * r_i / rmax_i;
        let post_common = pr.g_mu * o_md + pr.g_a2 * o_a2 + pr.g_5HT * o_5ht1;
        let u_e0_of = |r_e: f64| {
            ((pr.w_EC * s.s_c * rc + pr.w_EAd * rad) * r_pre + pr.w_EAb * rab * r_pre_a) * n_g
                + pr.w_EAb * rea
                + pr.w_EAd * rea
                + pr.w_EE * r_e / rmax_e
                - inhib(pr.g_I)
                - post_common
                + g_cyt
                + g_chem
        };
        let mut r_e = s.r_e;
        for _ in 0..200 {
            let next = logistic(rmax_e, u_e0_of(r_e) - self.theta.e);
            let upd = r_e + 0.6 * (next - r_e);
            let done = (next - r_e).abs() < 1e-9;
            r_e = upd;
            if done {
                break;
            }
        }
        // 4. r_P and r_W. The polysynaptic Aβ relay to lamina I opens as much as the cell's
        // inhibition φ_Cl·Ĝ is lost, and runs through NMDA receptors (§4.3, added).
        let re_hat = r_e / rmax_e;
        let open_nmda = d.open_nmda(inp);
        let relay = pr.w_PAb_relay * rab * r_pre_a * (1.0 - phi * g_hat).max(0.0) * open_nmda;
        let u_p0 = (pr.w_PC * s.s_c * rc + pr.w_PAd * rad) * r_pre * n_g
            + pr.w_PAd * rea
            + pr.w_PE * re_hat
            + pr.w_NK1 * a_nk1
            - inhib(pr.g_PI)
            - post_common
            - pr.g_kappa * o_k
            + g_cyt
            + pr.w_pERK * s.perk_x
            + pr.g_5HT3 * o_5ht3
            + relay;
        let u_w0 = ((pr.w_WC * s.s_c * rc * 0.15 + pr.w_WAd * rad * 0.8) * r_pre
            + pr.w_WAb * rab * 0.6 * r_pre_a)
            * n_g
            + (pr.w_WAb * rea * 0.6 + pr.w_WAd * rea * 0.8)
            + pr.w_WE * re_hat
            - inhib(pr.g_WI)
            - post_common
            - pr.g_kappa * o_k
            + g_cyt
            + pr.w_pERK * s.perk_x
            + pr.g_5HT3 * o_5ht3;
        Fast {
            r_i,
            r_e,
            r_p: logistic(rmax_p, u_p0 - self.theta.p),
            r_w: logistic(rmax_w, u_w0 - self.theta.w),
            glu,
            glu_c,
            gi,
            atp,
            ht5,
            ne,
            o_mudelta: o_md,
            o_mudelta_raw: o_raw,
            o_kappa: o_k,
            o_5ht1,
            o_a2,
            r_pre,
            phi_cl: phi,
            u_i0: u_i0_of(r_i),
            u_e0: u_e0_of(r_e),
            u_p0,
            u_w0,
        }
    }

    /// Sets θ so that, at state `s` with baseline input, the rates are the targets of §4.3
    /// (r_E 2, r_I 4, r_P 2, r_W 3 Hz): the u terms are evaluated at the target rates.
    pub fn calibrate(&mut self, s: &State, inp: &Input) {
        let pr = &self.pr;
        let inv = |r: f64, rmax: f64| -(rmax / r - 1.0).ln();
        let mut at = *s;
        at.r_i = pr.target_rI;
        at.r_e = pr.target_rE;
        // With θ = 0 the Picard loops would move the rates; evaluate the u terms at the
        // targets by pinning θ so that one update reproduces them.
        for _ in 0..50 {
            let f = self.fast(&at, inp);
            self.theta.i = f.u_i0 - inv(pr.target_rI, pr.rmax_I);
            self.theta.e = f.u_e0 - inv(pr.target_rE, pr.rmax_E);
            self.theta.p = f.u_p0 - inv(pr.target_rP, pr.rmax_P);
            self.theta.w = f.u_w0 - inv(pr.target_rW, pr.rmax_W);
        }
    }

    /// Time derivatives of every dynamic state (s⁻¹ per unit), given the fast solve.
    #[expect(
        clippy::too_many_lines,
        reason = "one equation per state in the order of MODEL.md §4, mirrored line by line in shaders/reaction.wgsl"
    )]
    pub fn rhs(&self, s: &State, inp: &Input, f: &Fast) -> [f64; N_STATES] {
        let pr = &self.pr;
        let d = &*self.cell_drugs([1.0, 1.0]);
        let inp = &d.reaching_cord(inp);
        let e_on = if inp.ea_on { 1.0 } else { 0.0 };
        let h_tnf = h(s.tnf) * (1.0 - d.tnf);
        let h_il1 = h(s.il1b) * (1.0 - d.il1r);
        let h_ccl2 = h(s.ccl2) * (1.0 - d.ccr2);
        let h_cxcl1 = h(s.cxcl1) * (1.0 - d.cxcr2);
        let h_bdnf = h(s.bdnf) * (1.0 - d.trkb);
        let h_x12 = h(s.cxcl12) * (1.0 - d.cxcr4);
        let n_g = 1.0 + 1.5 * s.n;
        let a_nk1 = h(s.sp);
        let gain = |k: usize| (1.0 + inp.ea_gain[k] * s.g_ea).max(0.0);
        // §4.4 fast plasticity.
        let open_nmda = d.open_nmda(inp);
        let n_target = hill(f.glu_c, 1.0, 2.0) * (1.0 + h(s.sp)) / 2.0 * open_nmda;
        let tau_n = if n_target > s.n {
            pr.tau_N_rise
        } else {
            pr.tau_N_decay
        };
        let dn = (n_target - s.n) / tau_n;
        let d_e = pr.w_DE_glu * hill(f.glu_c * n_g, 1.0, 2.0) * open_nmda
            + 0.5 * h(s.sp)
            + 0.5 * h_bdnf
            + 0.5 * h_ccl2
            + 0.5 * h_cxcl1
            + 0.3 * h_il1
            + pr.w_DE_x12 * h_x12
            + self.t_route * pr.w_T_DE * inp.t_cell;
        let dperk = pr.k_E_plus * hill(d_e, pr.K_DE, 4.0) * (1.0 - s.perk) * (1.0 - d.mek)
            - pr.k_E_minus * s.perk;
        let theta_ltp = pr.theta0_LTP * (1.0 - 0.4 * s.perk);
        let th_ltp = hill(f.glu_c * n_g, theta_ltp, 4.0)
            * (0.5 + 0.5 * a_nk1)
            * (1.0 + 0.5 * h_tnf + 0.5 * h_il1)
            * open_nmda;
        let r_ad_ea = if inp.ea_on {
            inp.ea_f.min(pr.EA_f_max) * inp.ea_rho
        } else {
            0.0
        };
        let th_ltd = hill(r_ad_ea, pr.theta_LTD, 2.0)
            * nu(inp.ea_f)
            * hill(f.o_mudelta, 0.3, 1.0)
            * open_nmda;
        let ds_c = pr.k_LTP * th_ltp * (pr.S_max - s.s_c)
            - pr.k_LTD * th_ltd * (s.s_c - pr.S_min)
            - (s.s_c - 1.0) / pr.tau_S;
        // §4.5 peptides (dX/dt = k (L·producer − X)) and gates.
        let r_c = inp.r_cp + inp.r_cn;
        let relax = |k: f64, target: f64, x: f64| k * (target - x);
        let dsp = relax(pr.k_SP, pr.a_SP * inp.r_cp * f.r_pre, s.sp);
        let eps0 = pr.eps0;
        let denk = relax(
            pr.k_ENK,
            pr.L_ENK * (eps0 + inp.pep_enk * s.e_seg + 0.3 * hill(s.e_sup, 0.5, 1.0))
                + nep_spared_loss(d.nep, s.enk),
            s.enk,
        );
        let ddyn = relax(
            pr.k_DYN,
            pr.L_DYN * (eps0 + inp.pep_dyn * s.e_seg + 0.2 * r_c / (r_c + 2.0)),
            s.dyn_,
        );
        let dem = relax(pr.k_EM, pr.L_EM * inp.pep_enk * s.e_seg, s.em);
        let tau_e = if inp.ea_on { pr.tau_E_on } else { pr.tau_E_off };
        let de_seg = (e_on * inp.ea_rho - s.e_seg) / tau_e;
        let de_sup = (e_on * inp.ea_rho - s.e_sup) / tau_e;
        let dc_end = (pr.a_END * inp.pep_enk * s.e_sup - s.c_end) / pr.tau_END;
        let dtol = pr.k_tol * f.o_mudelta_raw * e_on * (1.0 - d.cck) - s.tol / pr.tau_tol;
        // §4.6 microglia.
        let h_fkn = h(s.sfkn) * (1.0 - d.cx3cr1) * gain(0);
        let d_m = h_fkn
            + 0.8 * hill(f.atp, pr.K_P2Y12, 1.0)
            + 1.0 * inp.i_inj
            + 0.5 * h_tnf
            + 0.5 * h_il1
            + 0.3 * h_ccl2;
        let dm = pr.k_M_plus
            * hill(d_m, pr.K_DM, pr.n_DM)
            * (1.0 - s.m)
            * (1.0 - 0.8 * d.minocycline)
            * (1.0 - 0.5 * s.g_ea)
            - pr.k_M_minus
                * (1.0 + 2.0 * h(s.il10) * (1.0 - d.il10_block) + pr.g_off * s.g_ea)
                * s.m;
        // §11.1 decision: proliferation needs the CSF-1-like injury signal (Guan et al. 2016).
        let csf1 = if pr.K_CSF1 > 0.0 {
            inp.i_inj / (inp.i_inj + pr.K_CSF1)
        } else {
            1.0
        };
        let drho =
            pr.k_pro * csf1 * (s.m - pr.M_pro).max(0.0) * s.rho_m * (1.0 - s.rho_m / pr.rho_max)
                - pr.k_apo * (s.rho_m - 1.0);
        let h_p2x4 = hill(f.atp, pr.K_P2X4, 1.0) * (1.0 - d.p2x4);
        let d_p = (s.m * (h_fkn + h_p2x4 * s.x4 + 0.5 * h_tnf + 0.5 * h_il1 + pr.w_Dp_x12 * h_x12)
            + 0.3 * h(s.sp))
            * (1.0 - 0.8 * d.minocycline);
        // MKP-1 feedback, gated by the lagged activation Y (§11.5 decision: order n_MKP).
        let mkp = pr.w_MKP * s.y.max(0.0).powf(pr.n_MKP);
        let dp = pr.k_p_plus * d_p * (1.0 - s.p) * (1.0 - d.p38)
            - pr.k_p_minus * (1.0 + 3.0 * h(s.il10) * (1.0 - d.il10_block) + mkp) * s.p;
        let dx4 = pr.k_X4 * s.m * (1.0 + h_ccl2) * (1.0 - s.x4) * (1.0 - d.x4_antisense)
            - s.x4 / pr.tau_X4;
        let dy = (s.m - s.y) / pr.tau_Y;
        let psi = 1.0 / (1.0 + 2.0 * h(s.il10) * (1.0 - d.il10_block)) / (1.0 + 0.5 * f.o_mudelta);
        // §11.2: the cytokine sources are the same in both sexes; σ_sex scales the BDNF route.
        let sig = self.sigma_sex;
        let mp = s.rho_m * s.p;
        let dtnf = relax(pr.k_TNF, pr.L_TNF * (mp + 0.1 * s.a) * psi, s.tnf);
        let dil1 = relax(
            pr.k_IL1b,
            if inp.il1_gain > 0.0 {
                inp.il1_gain
            } else {
                1.0
            } * pr.L_IL1
                * (mp * (1.0 + inp.mmp9) + 0.3 * s.a * s.a)
                * psi,
            s.il1b,
        );
        let dil6 = relax(pr.k_IL6, pr.L_IL6 * (mp + 0.5 * s.a) * psi, s.il6);
        let dbdnf = relax(
            pr.k_BDNF_clear,
            pr.L_BDNF * sig * s.rho_m * s.x4 * h_p2x4 * s.p,
            s.bdnf,
        );
        let dcats = relax(
            pr.k_CatS,
            pr.L_CatS * s.rho_m * s.m * hill(f.atp, pr.K_P2X7, 2.0) * (1.0 - d.cats),
            s.cats,
        );
        let dil10 = relax(
            pr.k_IL10,
            pr.L_IL10 * s.rho_m * s.m * (1.0 - 0.5 * s.p) * hill(s.y, 0.5, 1.0)
                + pr.L_IL10_EA * s.g_ea
                + d.il10_exo,
            s.il10,
        );
        let k_cat = pr.k_cat;
        let dmfkn = pr.m0 * (1.0 + inp.i_inj) / pr.tau_mFKN
            - k_cat * s.cats * s.mfkn
            - s.mfkn / pr.tau_mFKN;
        let dsfkn = k_cat * s.cats * s.mfkn - pr.k_sFKN * s.sfkn;
        // §4.7 astrocytes.
        let a_fc = 1.0 - d.fluorocitrate;
        let d_a = 1.0 * h_tnf
            + 0.7 * h_il1
            + 0.3 * hill(f.glu, pr.K_A_glu, 1.0)
            + 0.3 * h(f.atp)
            + 0.3 * h_x12
            + pr.w_DA_Cx * s.a * s.cx * (1.0 - d.carbenoxolone)
            + pr.w_DA_infl * inp.i_infl;
        let da = pr.k_A_plus
            * hill(d_a, pr.K_DA, 4.0)
            * (1.0 - s.a)
            * (1.0 - 0.9 * d.fluorocitrate)
            * (1.0 - 0.5 * s.g_ea)
            - pr.k_A_minus * (1.0 + pr.g_off * s.g_ea) * s.a
            - pr.k_LAA * d.laa * s.a;
        let dj = pr.k_J_plus * s.a * (h_tnf + pr.w_J_x12 * h_x12) * (1.0 - s.j) * (1.0 - d.jnk)
            - pr.k_J_minus * s.j;
        // §11.5 decision: reactive astrocytes keep Cx43 up without TNF (w_Cx_A).
        let dcx = pr.k_Cx * (h_tnf + pr.w_Cx_A) * s.a * (1.0 - s.cx) - s.cx / pr.tau_Cx;
        let dccl2 = relax(pr.k_CCL2, pr.L_CCL2 * s.a * s.j * a_fc * gain(1), s.ccl2);
        let dcxcl1 = relax(
            pr.k_CXCL1,
            pr.L_CXCL1
                * (s.a * s.j * (0.3 + 0.7 * s.cx * (1.0 - d.carbenoxolone)) + 0.2 * h_tnf)
                * a_fc
                * gain(2),
            s.cxcl1,
        );
        let dcxcl12 = relax(
            pr.k_CXCL12,
            (pr.L_X12_0 + pr.L_X12_A * s.a * a_fc) * gain(3),
            s.cxcl12,
        );
        // §4.8 KCC2 and COX-2; §4.9 EA glial memory.
        let dk = (1.0 - s.k) / pr.tau_K_rec
            - pr.k_BDNF * (h_bdnf + self.t_route * pr.w_T_K * inp.t_cell) * s.k;
        let dcox = (s.perk * (1.0 + h_cxcl1) - s.cox) / pr.tau_COX;
        let phi_op = opioid_gate(f.o_mudelta + f.o_kappa, pr.K_G_op);
        let dg = pr.k_G * e_on * inp.ea_rho * inp.ea_hg * phi_op - s.g_ea / pr.tau_G;
        // Retardation R slows the GAG-binding chemokines (§2.1): ∂C/∂t scaled by 1/R.
        let (r_ccl2, r_cxcl1, r_cxcl12) = if self.retardation {
            (pr.R_CCL2, pr.R_CXCL1, pr.R_CXCL12)
        } else {
            (1.0, 1.0, 1.0)
        };
        [
            dn,
            dperk,
            ds_c,
            dsp,
            denk,
            ddyn,
            dem,
            de_seg,
            de_sup,
            dc_end,
            dtol,
            dtnf,
            dil1,
            dil6,
            dil10,
            dbdnf,
            dcats,
            dsfkn,
            dccl2 / r_ccl2,
            dcxcl1 / r_cxcl1,
            dcxcl12 / r_cxcl12,
            dmfkn,
            dm,
            drho,
            dp,
            dx4,
            dy,
            da,
            dj,
            dcx,
            dk,
            dcox,
            dg,
            (s.perk - s.perk_x) / pr.tau_ERK_exc,
        ]
    }

    /// Advances `s` by `dt` seconds with classical RK4 at constant input (the fast solve is
    /// redone at every stage).
    pub fn step(&self, s: &State, inp: &Input, dt: f64) -> State {
        let y0 = s.to_array();
        let eval = |y: &[f64; N_STATES], warm: &State| {
            let st = State::from_array(y, warm);
            let f = self.fast(&st, inp);
            (self.rhs(&st, inp, &f), f)
        };
        let add = |a: &[f64; N_STATES], b: &[f64; N_STATES], c: f64| {
            std::array::from_fn::<f64, N_STATES, _>(|i| a[i] + c * b[i])
        };
        let (k1, f1) = eval(&y0, s);
        let mut warm = *s;
        warm.r_i = f1.r_i;
        warm.r_e = f1.r_e;
        let (k2, _) = eval(&add(&y0, &k1, dt / 2.0), &warm);
        let (k3, _) = eval(&add(&y0, &k2, dt / 2.0), &warm);
        let (k4, _) = eval(&add(&y0, &k3, dt), &warm);
        let y: [f64; N_STATES] =
            std::array::from_fn(|i| y0[i] + dt / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]));
        let mut out = State::from_array(&y, &warm);
        out.cox = out.cox.clamp(0.0, 2.0);
        out
    }

    /// Integrates for `duration` seconds at constant input with steps of at most `dt`.
    pub fn run(&self, s: &State, inp: &Input, duration: f64, dt: f64) -> State {
        let n = (duration / dt).ceil().max(1.0) as usize;
        let h = duration / n as f64;
        let mut st = *s;
        for _ in 0..n {
            st = self.step(&st, inp, h);
        }
        st
    }

    /// Integrates from time `t0` to `t1` (s) with steps of at most `dt`, taking the input at
    /// the start of each step from `input(t)`.
    pub fn run_with(
        &self,
        s: &State,
        t0: f64,
        t1: f64,
        dt: f64,
        input: &dyn Fn(f64) -> Input,
    ) -> State {
        let n = ((t1 - t0) / dt).ceil().max(1.0) as usize;
        let h = (t1 - t0) / n as f64;
        let mut st = *s;
        for i in 0..n {
            st = self.step(&st, &input(t0 + i as f64 * h), h);
        }
        st
    }

    /// Baseline afferent input of §4.1.
    pub fn baseline_input(&self) -> Input {
        Input {
            r_cp: self.pr.r_Cp_base,
            r_cn: self.pr.r_Cn_base,
            r_ad: self.pr.r_Ad_base,
            r_ab: self.pr.r_Ab_base,
            pep_enk: g_enk(2.0),
            pep_dyn: g_dyn(2.0),
            ea_hg: 1.0,
            ..Input::default()
        }
    }

    /// The calibrated baseline (§4.0, §8.1): from the naive state, integrate 60 days with no
    /// protocol, recalibrate θ, three times.
    pub fn calibrated_baseline(&mut self) -> State {
        let inp = self.baseline_input();
        let mut s = State::naive(&self.pr);
        self.calibrate(&s, &inp);
        for _ in 0..3 {
            s = self.run(&s, &inp, 60.0 * 86400.0, 20.0);
            self.calibrate(&s, &inp);
        }
        let f = self.fast(&s, &inp);
        s.r_i = f.r_i;
        s.r_e = f.r_e;
        s
    }

    /// Integral of r_P (Hz·s) over a behavioural probe (§4.11), evaluated on the current state
    /// with every slow and local state frozen: the rates are algebraic, so the integral is a sum
    /// over the probe's phases. The probe's afferent rates are added to `inp`; EA-pool input is
    /// excluded. Mechanical: Aβ 20 Hz + Aδ 2 Hz for 1 s. Heat: Cp 10 Hz for 3 s plus Aδ 5 Hz
    /// in the first second. `gain` is the peripheral sensitisation gain on C and Aδ test rates.
    pub fn probe(&self, s: &State, inp: &Input, heat: bool, gain: f64) -> f64 {
        let pr = &self.pr;
        let mut base = *inp;
        base.ea_on = false;
        let r_p = |extra: &dyn Fn(&mut Input)| {
            let mut p = base;
            extra(&mut p);
            self.fast(s, &p).r_p
        };
        if heat {
            let first = r_p(&|p| {
                p.r_cp += gain * pr.heat_Cp_rate;
                p.r_ad += gain * pr.heat_Ad_rate;
            });
            let rest = r_p(&|p| p.r_cp += gain * pr.heat_Cp_rate);
            first * 1.0 + rest * (pr.heat_duration - 1.0)
        } else {
            pr.mech_duration
                * r_p(&|p| {
                    p.r_ab += pr.mech_Ab_rate;
                    p.r_ad += gain * pr.mech_Ad_rate;
                })
        }
    }
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

impl Model {
    /// CFA ramp(t) of §4.1 (t in s since injection).
    pub fn cfa_ramp(&self, t: f64) -> f64 {
        let pr = &self.pr;
        if t < 0.0 {
            return 0.0;
        }
        (1.0 - (-t / pr.CFA_rise).exp()) * sigmoid((pr.CFA_end - t) / pr.CFA_end_width)
    }

    /// The T-cell level of §11.2 at time t (s since induction): the injury signal's time course
    /// I(s) lagged by τ_T, T(t) = (1/τ_T)·∫₀ᵗ I(s)·e^{−(t−s)/τ_T} ds (T' = (I − T)/τ_T, T(0) = 0).
    /// A pure function of t (Simpson's rule on 256 intervals over the last 12 τ_T, where the
    /// kernel has fallen below 10⁻⁵), so a resumed run and an ensemble member see the same T.
    pub fn t_cell_level(&self, model: PainModel, t: f64) -> f64 {
        let tau = self.pr.tau_T;
        if t <= 0.0 {
            return 0.0;
        }
        let a = (t - 12.0 * tau).max(0.0);
        let n = 256;
        let h = (t - a) / f64::from(n);
        let f = |s: f64| self.pain_input(model, s).0.i_inj * (-(t - s) / tau).exp();
        let mut sum = f(a) + f(t);
        for k in 1..n {
            sum += if k % 2 == 1 { 4.0 } else { 2.0 } * f(a + f64::from(k) * h);
        }
        sum * h / 3.0 / tau
    }

    /// Sets the sex of the model (MODEL.md §11.2): males and T-cell-deficient females use the
    /// microglial BDNF route in full; females with T cells use `sigma_BDNF_female` of it and the
    /// adaptive-immune route T.
    pub fn set_sex(&mut self, table: &ParamTable, female: bool, t_cells: bool) {
        let intact_female = female && t_cells;
        self.sigma_sex = if intact_female {
            table.get("sigma_BDNF_female").unwrap_or(0.0)
        } else {
            1.0
        };
        self.t_route = if intact_female { 1.0 } else { 0.0 };
    }

    /// Afferent input and injury signals of a pain model at time t (s since induction), and
    /// the peripheral sensitisation gain on evoked C and Aδ test input.
    pub fn pain_input(&self, model: PainModel, t: f64) -> (Input, f64) {
        let pr = &self.pr;
        let mut inp = self.baseline_input();
        let mut gain = 1.0;
        match model {
            PainModel::None => {}
            PainModel::Formalin => {
                let t = t.max(0.0);
                let g = sigmoid((t - 900.0) / 120.0) * sigmoid((3600.0 - t) / 300.0);
                let r_f =
                    pr.formalin_phase1 * (-t / pr.formalin_tau1).exp() + pr.formalin_phase2 * g;
                inp.r_cp += 0.6 * r_f;
                inp.r_cn += 0.4 * r_f;
            }
            PainModel::BoneCancer => {
                // C input ramps linearly 0.5 → 3 Hz over days 0–14 (total C, split 0.6/0.4),
                // I_inj ramps 0 → 1 over the same days; IL-1β source × 2.
                let f = (t / (pr.bone_cancer_days)).clamp(0.0, 1.0);
                let r_c = 0.5 + 2.5 * f;
                inp.r_cp = 0.6 * r_c;
                inp.r_cn = 0.4 * r_c;
                inp.i_inj = f;
                inp.il1_gain = 2.0;
                inp.ea_gain = [-0.2, -0.3, -0.2, -0.4];
            }
            PainModel::Cfa => {
                let ramp = self.cfa_ramp(t);
                let extra = (pr.CFA_C_total - pr.r_Cp_base - pr.r_Cn_base) * ramp;
                inp.r_cp += 0.6 * extra;
                inp.r_cn += 0.4 * extra;
                gain = 1.0 + ramp;
                inp.i_inj = pr.I_inj_CFA * ramp;
                inp.i_infl = ramp;
                inp.ea_gain = [-0.2, -0.2, -0.3, 0.0];
            }
            PainModel::Cci => {
                // §11.4: SNL's nerve-injury terms, every rise replaced by the slower build-up
                // over τ_CCI, the injury signal at the fraction CCI_injury of a transection's,
                // and a perineural-inflammation gain on the evoked C and Aδ test input.
                let build = 1.0 - (-t.max(0.0) / pr.CCI_rise).exp();
                self.nerve_injury(&mut inp, t, build, build, pr.CCI_injury);
                gain = 1.0 + pr.CCI_gain * build;
            }
            PainModel::Snl | PainModel::Sni => {
                let t = t.max(0.0);
                let rise_e = 1.0 - (-t / pr.SNL_ectopic_rise).exp();
                let rise_inj = 1.0 - (-t / pr.I_inj_rise).exp();
                self.nerve_injury(&mut inp, t, rise_e, rise_inj, 1.0);
            }
        }
        (inp, gain)
    }

    /// The nerve-injury terms of §4.1 at time t with the given rises (0 … 1) of the ectopic
    /// input and of the injury signal: ectopic C (0.5/0.5) and Aδ input, the injury signal
    /// (× `scale`, its persistent fraction I_inj,∞ never decays), the MMP-9 pulse and the
    /// nerve-injury EA chemokine gains.
    fn nerve_injury(&self, inp: &mut Input, t: f64, rise_e: f64, rise_inj: f64, scale: f64) {
        let pr = &self.pr;
        let t = t.max(0.0);
        let e = pr.SNL_ectopic * rise_e * (-t / pr.SNL_ectopic_decay).exp();
        inp.r_cp += 0.5 * e;
        inp.r_cn += 0.5 * e;
        inp.r_ad += e;
        let p = pr.I_inj_persistent;
        inp.i_inj = scale * rise_inj * (p + (1.0 - p) * (-t / pr.I_inj_decay).exp());
        inp.mmp9 = pr.MMP9_amplitude * rise_inj * (-t / pr.MMP9_decay).exp();
        inp.ea_gain = [-0.5, -0.3, -0.3, -0.2];
    }
}

/// The pain read-outs of §4.11 for one state, relative to the calibrated naive state.
#[derive(Debug, Clone, Copy)]
pub struct PainIndex {
    pub mech: f64,
    pub heat: f64,
    pub spont: f64,
    /// Paw-withdrawal threshold (g) and latency (s).
    pub pwt_g: f64,
    pub pwl_s: f64,
}

impl Model {
    /// P_mech, P_heat, P_spont and the behavioural mapping, with `naive` the calibrated
    /// drug-free baseline state.
    pub fn pain_index(&self, s: &State, inp: &Input, gain: f64, naive: &State) -> PainIndex {
        let pr = &self.pr;
        let base = self.baseline_input();
        let r0 = pr.R0;
        let mech =
            (self.probe(s, inp, false, gain) + r0) / (self.probe(naive, &base, false, 1.0) + r0);
        let heat =
            (self.probe(s, inp, true, gain) + r0) / (self.probe(naive, &base, true, 1.0) + r0);
        let mut quiet = *inp;
        quiet.ea_on = false;
        let spont = self.fast(s, &quiet).r_p / self.fast(naive, &base).r_p;
        let eta = pr.eta_behaviour;
        PainIndex {
            mech,
            heat,
            spont,
            pwt_g: (pr.PWT0 * mech.powf(-eta)).clamp(pr.PWT_min, pr.PWT0),
            pwl_s: (pr.PWL0 * heat.powf(-eta)).min(pr.PWL_max),
        }
    }
}

impl Model {
    /// The input of a protocol at time t (s), and the peripheral test gain.
    pub fn protocol_input(&self, pr: &Protocol, t: f64) -> (Input, f64) {
        let (mut inp, gain) = match pr.pain {
            Some(m) if t >= pr.pain_onset_s => self.pain_input(m, t - pr.pain_onset_s),
            _ => (self.baseline_input(), 1.0),
        };
        if let Some(m) = pr.pain
            && self.t_route > 0.0
        {
            inp.t_cell = self.t_cell_level(m, t - pr.pain_onset_s);
        }
        for &tn in &pr.nmda_block_s {
            if t >= tn {
                let u = (-(t - tn) * std::f64::consts::LN_2 / 10800.0).exp();
                inp.u_nmda = (inp.u_nmda + u).min(1.0);
            }
        }
        for &tn in &pr.naloxone_s {
            if t >= tn {
                inp.naloxone_nm += self.pr.NLX_peak * (-(t - tn) / self.pr.NLX_tau).exp();
            }
        }
        for s in &pr.sessions {
            if t >= s.start_s {
                (inp.pep_enk, inp.pep_dyn) = s.peptide_gains(self.pr.EA_synergy);
            }
            if t >= s.start_s && t < s.start_s + s.duration_s {
                inp.ea_on = true;
                (inp.ea_f, inp.ea_hg) = s.frequency_at(t, self.pr.EA_alternation);
                inp.ea_rho = recruitment(s.intensity_ma);
            }
        }
        (inp, gain)
    }

    /// Integrates a protocol from t0 to t1, splitting at session boundaries; steps of 1 s in
    /// alternating sessions, 5 s in other sessions and 20 s otherwise.
    pub fn advance(&self, s: &State, pr: &Protocol, t0: f64, t1: f64) -> State {
        let mut cuts: Vec<f64> = pr
            .sessions
            .iter()
            .flat_map(|x| [x.start_s, x.start_s + x.duration_s])
            .chain(pr.naloxone_s.iter().copied())
            .chain(pr.nmda_block_s.iter().copied())
            .filter(|&c| c > t0 && c < t1)
            .collect();
        cuts.push(t1);
        cuts.sort_by(f64::total_cmp);
        let mut st = *s;
        let mut t = t0;
        for c in cuts {
            let (probe, _) = self.protocol_input(pr, 0.5 * (t + c));
            let alternating = pr.sessions.iter().any(|x| {
                x.mode == EaMode::Alternating && x.start_s < c && x.start_s + x.duration_s > t
            });
            // Alternating sessions switch every 3 s: 1-s steps resolve the switching exactly.
            let dt = if alternating {
                1.0
            } else if probe.ea_on {
                5.0
            } else {
                20.0
            };
            st = self.run_with(&st, t, c, dt, &|tt| self.protocol_input(pr, tt).0);
            t = c;
        }
        st
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hill_and_frequency_rules() {
        assert_eq!(hill(1.0, 1.0, 1.0), 0.5);
        assert_eq!(hill(-1.0, 1.0, 1.0), 0.0);
        assert!((recruitment(2.0) - 0.8).abs() < 1e-12);
        assert!((nu(100.0) - 0.2).abs() < 1e-12);
        assert!((h_g(100.0) - 0.6).abs() < 1e-12 && (h_g(10.0) - 0.9).abs() < 1e-12);
    }
}
