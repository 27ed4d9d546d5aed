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

pub mod protocol;
pub mod state;

use crate::params::ParamTable;

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

/// The named parameters this module uses, in SI units, resolved once from the table (field
/// names are the table's keys).
#[allow(non_snake_case)] // field names are the parameter table's keys (k_M_plus, L_TNF, ...)
#[derive(Debug, Clone)]
pub struct Params {
    pub CFA_C_total: f64,
    pub CFA_end: f64,
    pub CFA_end_width: f64,
    pub CFA_rise: f64,
    pub EA_alternation: f64,
    pub EA_f_max: f64,
    pub EA_synergy: f64,
    pub E_Cl_K0: f64,
    pub E_Cl_slope: f64,
    pub I_inj_decay: f64,
    pub I_inj_persistent: f64,
    pub I_inj_rise: f64,
    pub K_A_glu: f64,
    pub K_DA: f64,
    pub K_DE: f64,
    pub K_DM: f64,
    pub K_P2X4: f64,
    pub K_P2X7: f64,
    pub K_P2Y12: f64,
    pub K_a1: f64,
    pub Ki_kappa: f64,
    pub Ki_mudelta: f64,
    pub L_BDNF: f64,
    pub L_CCL2: f64,
    pub L_CXCL1: f64,
    pub L_CatS: f64,
    pub L_DYN: f64,
    pub L_EM: f64,
    pub L_ENK: f64,
    pub L_IL1: f64,
    pub L_IL10: f64,
    pub L_IL10_EA: f64,
    pub L_IL6: f64,
    pub L_TNF: f64,
    pub L_X12_0: f64,
    pub L_X12_A: f64,
    pub MMP9_amplitude: f64,
    pub MMP9_decay: f64,
    pub M_pro: f64,
    pub NLX_peak: f64,
    pub NLX_tau: f64,
    pub PWL0: f64,
    pub PWL_max: f64,
    pub PWT0: f64,
    pub PWT_min: f64,
    pub R0: f64,
    pub R_CCL2: f64,
    pub R_CXCL1: f64,
    pub R_CXCL12: f64,
    pub SNL_ectopic: f64,
    pub SNL_ectopic_decay: f64,
    pub SNL_ectopic_rise: f64,
    pub S_max: f64,
    pub S_min: f64,
    pub V_rest: f64,
    pub a_A: f64,
    pub a_END: f64,
    pub a_SP: f64,
    pub a_inj: f64,
    pub a_n: f64,
    pub bone_cancer_days: f64,
    pub c_5HT: f64,
    pub c_CCR2: f64,
    pub c_CXCR2: f64,
    pub c_CXCR4: f64,
    pub c_IL1: f64,
    pub c_NE: f64,
    pub c_TNF: f64,
    pub chi_loss: f64,
    pub descending_gain: f64,
    pub e_5HT1: f64,
    pub e_COX: f64,
    pub e_GB: f64,
    pub e_a2: f64,
    pub e_kappa: f64,
    pub e_mudelta: f64,
    pub eps0: f64,
    pub eta_behaviour: f64,
    pub formalin_phase1: f64,
    pub formalin_phase2: f64,
    pub formalin_tau1: f64,
    pub g_5HT: f64,
    pub g_I: f64,
    pub g_II: f64,
    pub g_PI: f64,
    pub g_WI: f64,
    pub g_a2: f64,
    pub g_kappa: f64,
    pub g_mu: f64,
    pub g_off: f64,
    pub heat_Ad_rate: f64,
    pub heat_Cp_rate: f64,
    pub heat_duration: f64,
    pub k_A_minus: f64,
    pub k_A_plus: f64,
    pub k_BDNF: f64,
    pub k_BDNF_clear: f64,
    pub k_CCL2: f64,
    pub k_CXCL1: f64,
    pub k_CXCL12: f64,
    pub k_CatS: f64,
    pub k_Cx: f64,
    pub k_DYN: f64,
    pub k_EM: f64,
    pub k_ENK: f64,
    pub k_E_minus: f64,
    pub k_E_plus: f64,
    pub k_G: f64,
    pub k_IL10: f64,
    pub k_IL1b: f64,
    pub k_IL6: f64,
    pub k_J_minus: f64,
    pub k_J_plus: f64,
    pub k_LAA: f64,
    pub k_LTD: f64,
    pub k_LTP: f64,
    pub k_M_minus: f64,
    pub k_M_plus: f64,
    pub k_SP: f64,
    pub k_TNF: f64,
    pub k_X4: f64,
    pub k_apo: f64,
    pub k_cat: f64,
    pub k_p_minus: f64,
    pub k_p_plus: f64,
    pub k_pro: f64,
    pub k_sFKN: f64,
    pub k_tol: f64,
    pub m0: f64,
    pub mech_Ab_rate: f64,
    pub mech_Ad_rate: f64,
    pub mech_duration: f64,
    pub q_I: f64,
    pub q_glu: f64,
    pub r_Ab_base: f64,
    pub r_Ad_base: f64,
    pub r_Cn_base: f64,
    pub r_Cp_base: f64,
    pub r_ref: f64,
    pub rho_max: f64,
    pub rmax_E: f64,
    pub rmax_I: f64,
    pub rmax_P: f64,
    pub rmax_W: f64,
    pub target_rE: f64,
    pub target_rI: f64,
    pub target_rP: f64,
    pub target_rW: f64,
    pub tau_COX: f64,
    pub tau_Cx: f64,
    pub tau_END: f64,
    pub tau_E_off: f64,
    pub tau_E_on: f64,
    pub tau_G: f64,
    pub tau_K_rec: f64,
    pub tau_N_decay: f64,
    pub tau_N_rise: f64,
    pub tau_S: f64,
    pub tau_X4: f64,
    pub tau_Y: f64,
    pub tau_mFKN: f64,
    pub tau_tol: f64,
    pub theta0_LTP: f64,
    pub theta_LTD: f64,
    pub w_EAb: f64,
    pub w_EAd: f64,
    pub w_EC: f64,
    pub w_EE: f64,
    pub w_IC: f64,
    pub w_INE: f64,
    pub w_Ib: f64,
    pub w_NK1: f64,
    pub w_PAd: f64,
    pub w_PC: f64,
    pub w_PE: f64,
    pub w_WAb: f64,
    pub w_WAd: f64,
    pub w_WC: f64,
    pub w_WE: f64,
    pub w_pERK: f64,
    pub w_DE_glu: f64,
    pub tau_ERK_exc: f64,
    pub w_DE_x12: f64,
    pub w_Dp_x12: f64,
    pub I_inj_CFA: f64,
    pub w_J_x12: f64,
    pub tau_clear_it: f64,
    pub w_MKP: f64,
}

impl Params {
    pub fn from_table(t: &ParamTable) -> Params {
        Params {
            CFA_C_total: t
                .get("CFA_C_total")
                .unwrap_or_else(|| panic!("parameter `CFA_C_total` missing from the table")),

            CFA_end: t
                .get("CFA_end")
                .unwrap_or_else(|| panic!("parameter `CFA_end` missing from the table")),

            CFA_end_width: t
                .get("CFA_end_width")
                .unwrap_or_else(|| panic!("parameter `CFA_end_width` missing from the table")),

            CFA_rise: t
                .get("CFA_rise")
                .unwrap_or_else(|| panic!("parameter `CFA_rise` missing from the table")),

            EA_alternation: t
                .get("EA_alternation")
                .unwrap_or_else(|| panic!("parameter `EA_alternation` missing from the table")),

            EA_f_max: t
                .get("EA_f_max")
                .unwrap_or_else(|| panic!("parameter `EA_f_max` missing from the table")),

            EA_synergy: t
                .get("EA_synergy")
                .unwrap_or_else(|| panic!("parameter `EA_synergy` missing from the table")),

            E_Cl_K0: t
                .get("E_Cl_K0")
                .unwrap_or_else(|| panic!("parameter `E_Cl_K0` missing from the table")),

            E_Cl_slope: t
                .get("E_Cl_slope")
                .unwrap_or_else(|| panic!("parameter `E_Cl_slope` missing from the table")),

            I_inj_decay: t
                .get("I_inj_decay")
                .unwrap_or_else(|| panic!("parameter `I_inj_decay` missing from the table")),

            I_inj_persistent: t
                .get("I_inj_persistent")
                .unwrap_or_else(|| panic!("parameter `I_inj_persistent` missing from the table")),

            I_inj_rise: t
                .get("I_inj_rise")
                .unwrap_or_else(|| panic!("parameter `I_inj_rise` missing from the table")),

            K_A_glu: t
                .get("K_A_glu")
                .unwrap_or_else(|| panic!("parameter `K_A_glu` missing from the table")),

            K_DA: t
                .get("K_DA")
                .unwrap_or_else(|| panic!("parameter `K_DA` missing from the table")),

            K_DE: t
                .get("K_DE")
                .unwrap_or_else(|| panic!("parameter `K_DE` missing from the table")),

            K_DM: t
                .get("K_DM")
                .unwrap_or_else(|| panic!("parameter `K_DM` missing from the table")),

            K_P2X4: t
                .get("K_P2X4")
                .unwrap_or_else(|| panic!("parameter `K_P2X4` missing from the table")),

            K_P2X7: t
                .get("K_P2X7")
                .unwrap_or_else(|| panic!("parameter `K_P2X7` missing from the table")),

            K_P2Y12: t
                .get("K_P2Y12")
                .unwrap_or_else(|| panic!("parameter `K_P2Y12` missing from the table")),

            K_a1: t
                .get("K_a1")
                .unwrap_or_else(|| panic!("parameter `K_a1` missing from the table")),

            Ki_kappa: t
                .get("Ki_kappa")
                .unwrap_or_else(|| panic!("parameter `Ki_kappa` missing from the table")),

            Ki_mudelta: t
                .get("Ki_mudelta")
                .unwrap_or_else(|| panic!("parameter `Ki_mudelta` missing from the table")),

            L_BDNF: t
                .get("L_BDNF")
                .unwrap_or_else(|| panic!("parameter `L_BDNF` missing from the table")),

            L_CCL2: t
                .get("L_CCL2")
                .unwrap_or_else(|| panic!("parameter `L_CCL2` missing from the table")),

            L_CXCL1: t
                .get("L_CXCL1")
                .unwrap_or_else(|| panic!("parameter `L_CXCL1` missing from the table")),

            L_CatS: t
                .get("L_CatS")
                .unwrap_or_else(|| panic!("parameter `L_CatS` missing from the table")),

            L_DYN: t
                .get("L_DYN")
                .unwrap_or_else(|| panic!("parameter `L_DYN` missing from the table")),

            L_EM: t
                .get("L_EM")
                .unwrap_or_else(|| panic!("parameter `L_EM` missing from the table")),

            L_ENK: t
                .get("L_ENK")
                .unwrap_or_else(|| panic!("parameter `L_ENK` missing from the table")),

            L_IL1: t
                .get("L_IL1")
                .unwrap_or_else(|| panic!("parameter `L_IL1` missing from the table")),

            L_IL10: t
                .get("L_IL10")
                .unwrap_or_else(|| panic!("parameter `L_IL10` missing from the table")),

            L_IL10_EA: t
                .get("L_IL10_EA")
                .unwrap_or_else(|| panic!("parameter `L_IL10_EA` missing from the table")),

            L_IL6: t
                .get("L_IL6")
                .unwrap_or_else(|| panic!("parameter `L_IL6` missing from the table")),

            L_TNF: t
                .get("L_TNF")
                .unwrap_or_else(|| panic!("parameter `L_TNF` missing from the table")),

            L_X12_0: t
                .get("L_X12_0")
                .unwrap_or_else(|| panic!("parameter `L_X12_0` missing from the table")),

            L_X12_A: t
                .get("L_X12_A")
                .unwrap_or_else(|| panic!("parameter `L_X12_A` missing from the table")),

            MMP9_amplitude: t
                .get("MMP9_amplitude")
                .unwrap_or_else(|| panic!("parameter `MMP9_amplitude` missing from the table")),

            MMP9_decay: t
                .get("MMP9_decay")
                .unwrap_or_else(|| panic!("parameter `MMP9_decay` missing from the table")),

            M_pro: t
                .get("M_pro")
                .unwrap_or_else(|| panic!("parameter `M_pro` missing from the table")),

            NLX_peak: t
                .get("NLX_peak")
                .unwrap_or_else(|| panic!("parameter `NLX_peak` missing from the table")),

            NLX_tau: t
                .get("NLX_tau")
                .unwrap_or_else(|| panic!("parameter `NLX_tau` missing from the table")),

            PWL0: t
                .get("PWL0")
                .unwrap_or_else(|| panic!("parameter `PWL0` missing from the table")),

            PWL_max: t
                .get("PWL_max")
                .unwrap_or_else(|| panic!("parameter `PWL_max` missing from the table")),

            PWT0: t
                .get("PWT0")
                .unwrap_or_else(|| panic!("parameter `PWT0` missing from the table")),

            PWT_min: t
                .get("PWT_min")
                .unwrap_or_else(|| panic!("parameter `PWT_min` missing from the table")),

            R0: t
                .get("R0")
                .unwrap_or_else(|| panic!("parameter `R0` missing from the table")),

            R_CCL2: t
                .get("R_CCL2")
                .unwrap_or_else(|| panic!("parameter `R_CCL2` missing from the table")),

            R_CXCL1: t
                .get("R_CXCL1")
                .unwrap_or_else(|| panic!("parameter `R_CXCL1` missing from the table")),

            R_CXCL12: t
                .get("R_CXCL12")
                .unwrap_or_else(|| panic!("parameter `R_CXCL12` missing from the table")),

            SNL_ectopic: t
                .get("SNL_ectopic")
                .unwrap_or_else(|| panic!("parameter `SNL_ectopic` missing from the table")),

            SNL_ectopic_decay: t
                .get("SNL_ectopic_decay")
                .unwrap_or_else(|| panic!("parameter `SNL_ectopic_decay` missing from the table")),

            SNL_ectopic_rise: t
                .get("SNL_ectopic_rise")
                .unwrap_or_else(|| panic!("parameter `SNL_ectopic_rise` missing from the table")),

            S_max: t
                .get("S_max")
                .unwrap_or_else(|| panic!("parameter `S_max` missing from the table")),

            S_min: t
                .get("S_min")
                .unwrap_or_else(|| panic!("parameter `S_min` missing from the table")),

            V_rest: t
                .get("V_rest")
                .unwrap_or_else(|| panic!("parameter `V_rest` missing from the table")),

            a_A: t
                .get("a_A")
                .unwrap_or_else(|| panic!("parameter `a_A` missing from the table")),

            a_END: t
                .get("a_END")
                .unwrap_or_else(|| panic!("parameter `a_END` missing from the table")),

            a_SP: t
                .get("a_SP")
                .unwrap_or_else(|| panic!("parameter `a_SP` missing from the table")),

            a_inj: t
                .get("a_inj")
                .unwrap_or_else(|| panic!("parameter `a_inj` missing from the table")),

            a_n: t
                .get("a_n")
                .unwrap_or_else(|| panic!("parameter `a_n` missing from the table")),

            bone_cancer_days: t
                .get("bone_cancer_days")
                .unwrap_or_else(|| panic!("parameter `bone_cancer_days` missing from the table")),

            c_5HT: t
                .get("c_5HT")
                .unwrap_or_else(|| panic!("parameter `c_5HT` missing from the table")),

            c_CCR2: t
                .get("c_CCR2")
                .unwrap_or_else(|| panic!("parameter `c_CCR2` missing from the table")),

            c_CXCR2: t
                .get("c_CXCR2")
                .unwrap_or_else(|| panic!("parameter `c_CXCR2` missing from the table")),

            c_CXCR4: t
                .get("c_CXCR4")
                .unwrap_or_else(|| panic!("parameter `c_CXCR4` missing from the table")),

            c_IL1: t
                .get("c_IL1")
                .unwrap_or_else(|| panic!("parameter `c_IL1` missing from the table")),

            c_NE: t
                .get("c_NE")
                .unwrap_or_else(|| panic!("parameter `c_NE` missing from the table")),

            c_TNF: t
                .get("c_TNF")
                .unwrap_or_else(|| panic!("parameter `c_TNF` missing from the table")),

            chi_loss: t
                .get("chi_loss")
                .unwrap_or_else(|| panic!("parameter `chi_loss` missing from the table")),

            descending_gain: t
                .get("descending_gain")
                .unwrap_or_else(|| panic!("parameter `descending_gain` missing from the table")),

            e_5HT1: t
                .get("e_5HT1")
                .unwrap_or_else(|| panic!("parameter `e_5HT1` missing from the table")),

            e_COX: t
                .get("e_COX")
                .unwrap_or_else(|| panic!("parameter `e_COX` missing from the table")),

            e_GB: t
                .get("e_GB")
                .unwrap_or_else(|| panic!("parameter `e_GB` missing from the table")),

            e_a2: t
                .get("e_a2")
                .unwrap_or_else(|| panic!("parameter `e_a2` missing from the table")),

            e_kappa: t
                .get("e_kappa")
                .unwrap_or_else(|| panic!("parameter `e_kappa` missing from the table")),

            e_mudelta: t
                .get("e_mudelta")
                .unwrap_or_else(|| panic!("parameter `e_mudelta` missing from the table")),

            eps0: t
                .get("eps0")
                .unwrap_or_else(|| panic!("parameter `eps0` missing from the table")),

            eta_behaviour: t
                .get("eta_behaviour")
                .unwrap_or_else(|| panic!("parameter `eta_behaviour` missing from the table")),

            formalin_phase1: t
                .get("formalin_phase1")
                .unwrap_or_else(|| panic!("parameter `formalin_phase1` missing from the table")),

            formalin_phase2: t
                .get("formalin_phase2")
                .unwrap_or_else(|| panic!("parameter `formalin_phase2` missing from the table")),

            formalin_tau1: t
                .get("formalin_tau1")
                .unwrap_or_else(|| panic!("parameter `formalin_tau1` missing from the table")),

            g_5HT: t
                .get("g_5HT")
                .unwrap_or_else(|| panic!("parameter `g_5HT` missing from the table")),

            g_I: t
                .get("g_I")
                .unwrap_or_else(|| panic!("parameter `g_I` missing from the table")),

            g_II: t
                .get("g_II")
                .unwrap_or_else(|| panic!("parameter `g_II` missing from the table")),

            g_PI: t
                .get("g_PI")
                .unwrap_or_else(|| panic!("parameter `g_PI` missing from the table")),

            g_WI: t
                .get("g_WI")
                .unwrap_or_else(|| panic!("parameter `g_WI` missing from the table")),

            g_a2: t
                .get("g_a2")
                .unwrap_or_else(|| panic!("parameter `g_a2` missing from the table")),

            g_kappa: t
                .get("g_kappa")
                .unwrap_or_else(|| panic!("parameter `g_kappa` missing from the table")),

            g_mu: t
                .get("g_mu")
                .unwrap_or_else(|| panic!("parameter `g_mu` missing from the table")),

            g_off: t
                .get("g_off")
                .unwrap_or_else(|| panic!("parameter `g_off` missing from the table")),

            heat_Ad_rate: t
                .get("heat_Ad_rate")
                .unwrap_or_else(|| panic!("parameter `heat_Ad_rate` missing from the table")),

            heat_Cp_rate: t
                .get("heat_Cp_rate")
                .unwrap_or_else(|| panic!("parameter `heat_Cp_rate` missing from the table")),

            heat_duration: t
                .get("heat_duration")
                .unwrap_or_else(|| panic!("parameter `heat_duration` missing from the table")),

            k_A_minus: t
                .get("k_A_minus")
                .unwrap_or_else(|| panic!("parameter `k_A_minus` missing from the table")),

            k_A_plus: t
                .get("k_A_plus")
                .unwrap_or_else(|| panic!("parameter `k_A_plus` missing from the table")),

            k_BDNF: t
                .get("k_BDNF")
                .unwrap_or_else(|| panic!("parameter `k_BDNF` missing from the table")),

            k_BDNF_clear: t
                .get("k_BDNF_clear")
                .unwrap_or_else(|| panic!("parameter `k_BDNF_clear` missing from the table")),

            k_CCL2: t
                .get("k_CCL2")
                .unwrap_or_else(|| panic!("parameter `k_CCL2` missing from the table")),

            k_CXCL1: t
                .get("k_CXCL1")
                .unwrap_or_else(|| panic!("parameter `k_CXCL1` missing from the table")),

            k_CXCL12: t
                .get("k_CXCL12")
                .unwrap_or_else(|| panic!("parameter `k_CXCL12` missing from the table")),

            k_CatS: t
                .get("k_CatS")
                .unwrap_or_else(|| panic!("parameter `k_CatS` missing from the table")),

            k_Cx: t
                .get("k_Cx")
                .unwrap_or_else(|| panic!("parameter `k_Cx` missing from the table")),

            k_DYN: t
                .get("k_DYN")
                .unwrap_or_else(|| panic!("parameter `k_DYN` missing from the table")),

            k_EM: t
                .get("k_EM")
                .unwrap_or_else(|| panic!("parameter `k_EM` missing from the table")),

            k_ENK: t
                .get("k_ENK")
                .unwrap_or_else(|| panic!("parameter `k_ENK` missing from the table")),

            k_E_minus: t
                .get("k_E_minus")
                .unwrap_or_else(|| panic!("parameter `k_E_minus` missing from the table")),

            k_E_plus: t
                .get("k_E_plus")
                .unwrap_or_else(|| panic!("parameter `k_E_plus` missing from the table")),

            k_G: t
                .get("k_G")
                .unwrap_or_else(|| panic!("parameter `k_G` missing from the table")),

            k_IL10: t
                .get("k_IL10")
                .unwrap_or_else(|| panic!("parameter `k_IL10` missing from the table")),

            k_IL1b: t
                .get("k_IL1b")
                .unwrap_or_else(|| panic!("parameter `k_IL1b` missing from the table")),

            k_IL6: t
                .get("k_IL6")
                .unwrap_or_else(|| panic!("parameter `k_IL6` missing from the table")),

            k_J_minus: t
                .get("k_J_minus")
                .unwrap_or_else(|| panic!("parameter `k_J_minus` missing from the table")),

            k_J_plus: t
                .get("k_J_plus")
                .unwrap_or_else(|| panic!("parameter `k_J_plus` missing from the table")),

            k_LAA: t
                .get("k_LAA")
                .unwrap_or_else(|| panic!("parameter `k_LAA` missing from the table")),

            k_LTD: t
                .get("k_LTD")
                .unwrap_or_else(|| panic!("parameter `k_LTD` missing from the table")),

            k_LTP: t
                .get("k_LTP")
                .unwrap_or_else(|| panic!("parameter `k_LTP` missing from the table")),

            k_M_minus: t
                .get("k_M_minus")
                .unwrap_or_else(|| panic!("parameter `k_M_minus` missing from the table")),

            k_M_plus: t
                .get("k_M_plus")
                .unwrap_or_else(|| panic!("parameter `k_M_plus` missing from the table")),

            k_SP: t
                .get("k_SP")
                .unwrap_or_else(|| panic!("parameter `k_SP` missing from the table")),

            k_TNF: t
                .get("k_TNF")
                .unwrap_or_else(|| panic!("parameter `k_TNF` missing from the table")),

            k_X4: t
                .get("k_X4")
                .unwrap_or_else(|| panic!("parameter `k_X4` missing from the table")),

            k_apo: t
                .get("k_apo")
                .unwrap_or_else(|| panic!("parameter `k_apo` missing from the table")),

            k_cat: t
                .get("k_cat")
                .unwrap_or_else(|| panic!("parameter `k_cat` missing from the table")),

            k_p_minus: t
                .get("k_p_minus")
                .unwrap_or_else(|| panic!("parameter `k_p_minus` missing from the table")),

            k_p_plus: t
                .get("k_p_plus")
                .unwrap_or_else(|| panic!("parameter `k_p_plus` missing from the table")),

            k_pro: t
                .get("k_pro")
                .unwrap_or_else(|| panic!("parameter `k_pro` missing from the table")),

            k_sFKN: t
                .get("k_sFKN")
                .unwrap_or_else(|| panic!("parameter `k_sFKN` missing from the table")),

            k_tol: t
                .get("k_tol")
                .unwrap_or_else(|| panic!("parameter `k_tol` missing from the table")),

            m0: t
                .get("m0")
                .unwrap_or_else(|| panic!("parameter `m0` missing from the table")),

            mech_Ab_rate: t
                .get("mech_Ab_rate")
                .unwrap_or_else(|| panic!("parameter `mech_Ab_rate` missing from the table")),

            mech_Ad_rate: t
                .get("mech_Ad_rate")
                .unwrap_or_else(|| panic!("parameter `mech_Ad_rate` missing from the table")),

            mech_duration: t
                .get("mech_duration")
                .unwrap_or_else(|| panic!("parameter `mech_duration` missing from the table")),

            q_I: t
                .get("q_I")
                .unwrap_or_else(|| panic!("parameter `q_I` missing from the table")),

            q_glu: t
                .get("q_glu")
                .unwrap_or_else(|| panic!("parameter `q_glu` missing from the table")),

            r_Ab_base: t
                .get("r_Ab_base")
                .unwrap_or_else(|| panic!("parameter `r_Ab_base` missing from the table")),

            r_Ad_base: t
                .get("r_Ad_base")
                .unwrap_or_else(|| panic!("parameter `r_Ad_base` missing from the table")),

            r_Cn_base: t
                .get("r_Cn_base")
                .unwrap_or_else(|| panic!("parameter `r_Cn_base` missing from the table")),

            r_Cp_base: t
                .get("r_Cp_base")
                .unwrap_or_else(|| panic!("parameter `r_Cp_base` missing from the table")),

            r_ref: t
                .get("r_ref")
                .unwrap_or_else(|| panic!("parameter `r_ref` missing from the table")),

            rho_max: t
                .get("rho_max")
                .unwrap_or_else(|| panic!("parameter `rho_max` missing from the table")),

            rmax_E: t
                .get("rmax_E")
                .unwrap_or_else(|| panic!("parameter `rmax_E` missing from the table")),

            rmax_I: t
                .get("rmax_I")
                .unwrap_or_else(|| panic!("parameter `rmax_I` missing from the table")),

            rmax_P: t
                .get("rmax_P")
                .unwrap_or_else(|| panic!("parameter `rmax_P` missing from the table")),

            rmax_W: t
                .get("rmax_W")
                .unwrap_or_else(|| panic!("parameter `rmax_W` missing from the table")),

            target_rE: t
                .get("target_rE")
                .unwrap_or_else(|| panic!("parameter `target_rE` missing from the table")),

            target_rI: t
                .get("target_rI")
                .unwrap_or_else(|| panic!("parameter `target_rI` missing from the table")),

            target_rP: t
                .get("target_rP")
                .unwrap_or_else(|| panic!("parameter `target_rP` missing from the table")),

            target_rW: t
                .get("target_rW")
                .unwrap_or_else(|| panic!("parameter `target_rW` missing from the table")),

            tau_COX: t
                .get("tau_COX")
                .unwrap_or_else(|| panic!("parameter `tau_COX` missing from the table")),

            tau_Cx: t
                .get("tau_Cx")
                .unwrap_or_else(|| panic!("parameter `tau_Cx` missing from the table")),

            tau_END: t
                .get("tau_END")
                .unwrap_or_else(|| panic!("parameter `tau_END` missing from the table")),

            tau_E_off: t
                .get("tau_E_off")
                .unwrap_or_else(|| panic!("parameter `tau_E_off` missing from the table")),

            tau_E_on: t
                .get("tau_E_on")
                .unwrap_or_else(|| panic!("parameter `tau_E_on` missing from the table")),

            tau_G: t
                .get("tau_G")
                .unwrap_or_else(|| panic!("parameter `tau_G` missing from the table")),

            tau_K_rec: t
                .get("tau_K_rec")
                .unwrap_or_else(|| panic!("parameter `tau_K_rec` missing from the table")),

            tau_N_decay: t
                .get("tau_N_decay")
                .unwrap_or_else(|| panic!("parameter `tau_N_decay` missing from the table")),

            tau_N_rise: t
                .get("tau_N_rise")
                .unwrap_or_else(|| panic!("parameter `tau_N_rise` missing from the table")),

            tau_S: t
                .get("tau_S")
                .unwrap_or_else(|| panic!("parameter `tau_S` missing from the table")),

            tau_X4: t
                .get("tau_X4")
                .unwrap_or_else(|| panic!("parameter `tau_X4` missing from the table")),

            tau_Y: t
                .get("tau_Y")
                .unwrap_or_else(|| panic!("parameter `tau_Y` missing from the table")),

            tau_mFKN: t
                .get("tau_mFKN")
                .unwrap_or_else(|| panic!("parameter `tau_mFKN` missing from the table")),

            tau_tol: t
                .get("tau_tol")
                .unwrap_or_else(|| panic!("parameter `tau_tol` missing from the table")),

            theta0_LTP: t
                .get("theta0_LTP")
                .unwrap_or_else(|| panic!("parameter `theta0_LTP` missing from the table")),

            theta_LTD: t
                .get("theta_LTD")
                .unwrap_or_else(|| panic!("parameter `theta_LTD` missing from the table")),

            w_EAb: t
                .get("w_EAb")
                .unwrap_or_else(|| panic!("parameter `w_EAb` missing from the table")),

            w_EAd: t
                .get("w_EAd")
                .unwrap_or_else(|| panic!("parameter `w_EAd` missing from the table")),

            w_EC: t
                .get("w_EC")
                .unwrap_or_else(|| panic!("parameter `w_EC` missing from the table")),

            w_EE: t
                .get("w_EE")
                .unwrap_or_else(|| panic!("parameter `w_EE` missing from the table")),

            w_IC: t
                .get("w_IC")
                .unwrap_or_else(|| panic!("parameter `w_IC` missing from the table")),

            w_INE: t
                .get("w_INE")
                .unwrap_or_else(|| panic!("parameter `w_INE` missing from the table")),

            w_Ib: t
                .get("w_Ib")
                .unwrap_or_else(|| panic!("parameter `w_Ib` missing from the table")),

            w_NK1: t
                .get("w_NK1")
                .unwrap_or_else(|| panic!("parameter `w_NK1` missing from the table")),

            w_PAd: t
                .get("w_PAd")
                .unwrap_or_else(|| panic!("parameter `w_PAd` missing from the table")),

            w_PC: t
                .get("w_PC")
                .unwrap_or_else(|| panic!("parameter `w_PC` missing from the table")),

            w_PE: t
                .get("w_PE")
                .unwrap_or_else(|| panic!("parameter `w_PE` missing from the table")),

            w_WAb: t
                .get("w_WAb")
                .unwrap_or_else(|| panic!("parameter `w_WAb` missing from the table")),

            w_WAd: t
                .get("w_WAd")
                .unwrap_or_else(|| panic!("parameter `w_WAd` missing from the table")),

            w_WC: t
                .get("w_WC")
                .unwrap_or_else(|| panic!("parameter `w_WC` missing from the table")),

            w_WE: t
                .get("w_WE")
                .unwrap_or_else(|| panic!("parameter `w_WE` missing from the table")),

            w_pERK: t
                .get("w_pERK")
                .unwrap_or_else(|| panic!("parameter `w_pERK` missing from the table")),

            w_DE_glu: t
                .get("w_DE_glu")
                .unwrap_or_else(|| panic!("parameter `w_DE_glu` missing from the table")),

            tau_ERK_exc: t
                .get("tau_ERK_exc")
                .unwrap_or_else(|| panic!("parameter `tau_ERK_exc` missing from the table")),

            w_DE_x12: t
                .get("w_DE_x12")
                .unwrap_or_else(|| panic!("parameter `w_DE_x12` missing from the table")),

            w_Dp_x12: t
                .get("w_Dp_x12")
                .unwrap_or_else(|| panic!("parameter `w_Dp_x12` missing from the table")),

            I_inj_CFA: t
                .get("I_inj_CFA")
                .unwrap_or_else(|| panic!("parameter `I_inj_CFA` missing from the table")),

            w_J_x12: t
                .get("w_J_x12")
                .unwrap_or_else(|| panic!("parameter `w_J_x12` missing from the table")),

            tau_clear_it: t
                .get("tau_clear_it")
                .unwrap_or_else(|| panic!("parameter `tau_clear_it` missing from the table")),

            w_MKP: t
                .get("w_MKP")
                .unwrap_or_else(|| panic!("parameter `w_MKP` missing from the table")),
        }
    }
}

/// Keys of `Params`, in field order (generated with the struct; the GPU reaction stage mirrors
/// this order).
pub const PARAM_KEYS: &[&str] = &[
    "CFA_C_total",
    "CFA_end",
    "CFA_end_width",
    "CFA_rise",
    "EA_alternation",
    "EA_f_max",
    "EA_synergy",
    "E_Cl_K0",
    "E_Cl_slope",
    "I_inj_decay",
    "I_inj_persistent",
    "I_inj_rise",
    "K_A_glu",
    "K_DA",
    "K_DE",
    "K_DM",
    "K_P2X4",
    "K_P2X7",
    "K_P2Y12",
    "K_a1",
    "Ki_kappa",
    "Ki_mudelta",
    "L_BDNF",
    "L_CCL2",
    "L_CXCL1",
    "L_CatS",
    "L_DYN",
    "L_EM",
    "L_ENK",
    "L_IL1",
    "L_IL10",
    "L_IL10_EA",
    "L_IL6",
    "L_TNF",
    "L_X12_0",
    "L_X12_A",
    "MMP9_amplitude",
    "MMP9_decay",
    "M_pro",
    "NLX_peak",
    "NLX_tau",
    "PWL0",
    "PWL_max",
    "PWT0",
    "PWT_min",
    "R0",
    "R_CCL2",
    "R_CXCL1",
    "R_CXCL12",
    "SNL_ectopic",
    "SNL_ectopic_decay",
    "SNL_ectopic_rise",
    "S_max",
    "S_min",
    "V_rest",
    "a_A",
    "a_END",
    "a_SP",
    "a_inj",
    "a_n",
    "bone_cancer_days",
    "c_5HT",
    "c_CCR2",
    "c_CXCR2",
    "c_CXCR4",
    "c_IL1",
    "c_NE",
    "c_TNF",
    "chi_loss",
    "descending_gain",
    "e_5HT1",
    "e_COX",
    "e_GB",
    "e_a2",
    "e_kappa",
    "e_mudelta",
    "eps0",
    "eta_behaviour",
    "formalin_phase1",
    "formalin_phase2",
    "formalin_tau1",
    "g_5HT",
    "g_I",
    "g_II",
    "g_PI",
    "g_WI",
    "g_a2",
    "g_kappa",
    "g_mu",
    "g_off",
    "heat_Ad_rate",
    "heat_Cp_rate",
    "heat_duration",
    "k_A_minus",
    "k_A_plus",
    "k_BDNF",
    "k_BDNF_clear",
    "k_CCL2",
    "k_CXCL1",
    "k_CXCL12",
    "k_CatS",
    "k_Cx",
    "k_DYN",
    "k_EM",
    "k_ENK",
    "k_E_minus",
    "k_E_plus",
    "k_G",
    "k_IL10",
    "k_IL1b",
    "k_IL6",
    "k_J_minus",
    "k_J_plus",
    "k_LAA",
    "k_LTD",
    "k_LTP",
    "k_M_minus",
    "k_M_plus",
    "k_SP",
    "k_TNF",
    "k_X4",
    "k_apo",
    "k_cat",
    "k_p_minus",
    "k_p_plus",
    "k_pro",
    "k_sFKN",
    "k_tol",
    "m0",
    "mech_Ab_rate",
    "mech_Ad_rate",
    "mech_duration",
    "q_I",
    "q_glu",
    "r_Ab_base",
    "r_Ad_base",
    "r_Cn_base",
    "r_Cp_base",
    "r_ref",
    "rho_max",
    "rmax_E",
    "rmax_I",
    "rmax_P",
    "rmax_W",
    "target_rE",
    "target_rI",
    "target_rP",
    "target_rW",
    "tau_COX",
    "tau_Cx",
    "tau_END",
    "tau_E_off",
    "tau_E_on",
    "tau_G",
    "tau_K_rec",
    "tau_N_decay",
    "tau_N_rise",
    "tau_S",
    "tau_X4",
    "tau_Y",
    "tau_mFKN",
    "tau_tol",
    "theta0_LTP",
    "theta_LTD",
    "w_EAb",
    "w_EAd",
    "w_EC",
    "w_EE",
    "w_IC",
    "w_INE",
    "w_Ib",
    "w_NK1",
    "w_PAd",
    "w_PC",
    "w_PE",
    "w_WAb",
    "w_WAd",
    "w_WC",
    "w_WE",
    "w_pERK",
    "w_DE_glu",
    "tau_ERK_exc",
    "w_DE_x12",
    "w_Dp_x12",
    "I_inj_CFA",
    "w_J_x12",
    "tau_clear_it",
    "w_MKP",
];

impl Params {
    /// Values in the order of [`PARAM_KEYS`].
    pub fn values(&self) -> Vec<f64> {
        vec![
            self.CFA_C_total,
            self.CFA_end,
            self.CFA_end_width,
            self.CFA_rise,
            self.EA_alternation,
            self.EA_f_max,
            self.EA_synergy,
            self.E_Cl_K0,
            self.E_Cl_slope,
            self.I_inj_decay,
            self.I_inj_persistent,
            self.I_inj_rise,
            self.K_A_glu,
            self.K_DA,
            self.K_DE,
            self.K_DM,
            self.K_P2X4,
            self.K_P2X7,
            self.K_P2Y12,
            self.K_a1,
            self.Ki_kappa,
            self.Ki_mudelta,
            self.L_BDNF,
            self.L_CCL2,
            self.L_CXCL1,
            self.L_CatS,
            self.L_DYN,
            self.L_EM,
            self.L_ENK,
            self.L_IL1,
            self.L_IL10,
            self.L_IL10_EA,
            self.L_IL6,
            self.L_TNF,
            self.L_X12_0,
            self.L_X12_A,
            self.MMP9_amplitude,
            self.MMP9_decay,
            self.M_pro,
            self.NLX_peak,
            self.NLX_tau,
            self.PWL0,
            self.PWL_max,
            self.PWT0,
            self.PWT_min,
            self.R0,
            self.R_CCL2,
            self.R_CXCL1,
            self.R_CXCL12,
            self.SNL_ectopic,
            self.SNL_ectopic_decay,
            self.SNL_ectopic_rise,
            self.S_max,
            self.S_min,
            self.V_rest,
            self.a_A,
            self.a_END,
            self.a_SP,
            self.a_inj,
            self.a_n,
            self.bone_cancer_days,
            self.c_5HT,
            self.c_CCR2,
            self.c_CXCR2,
            self.c_CXCR4,
            self.c_IL1,
            self.c_NE,
            self.c_TNF,
            self.chi_loss,
            self.descending_gain,
            self.e_5HT1,
            self.e_COX,
            self.e_GB,
            self.e_a2,
            self.e_kappa,
            self.e_mudelta,
            self.eps0,
            self.eta_behaviour,
            self.formalin_phase1,
            self.formalin_phase2,
            self.formalin_tau1,
            self.g_5HT,
            self.g_I,
            self.g_II,
            self.g_PI,
            self.g_WI,
            self.g_a2,
            self.g_kappa,
            self.g_mu,
            self.g_off,
            self.heat_Ad_rate,
            self.heat_Cp_rate,
            self.heat_duration,
            self.k_A_minus,
            self.k_A_plus,
            self.k_BDNF,
            self.k_BDNF_clear,
            self.k_CCL2,
            self.k_CXCL1,
            self.k_CXCL12,
            self.k_CatS,
            self.k_Cx,
            self.k_DYN,
            self.k_EM,
            self.k_ENK,
            self.k_E_minus,
            self.k_E_plus,
            self.k_G,
            self.k_IL10,
            self.k_IL1b,
            self.k_IL6,
            self.k_J_minus,
            self.k_J_plus,
            self.k_LAA,
            self.k_LTD,
            self.k_LTP,
            self.k_M_minus,
            self.k_M_plus,
            self.k_SP,
            self.k_TNF,
            self.k_X4,
            self.k_apo,
            self.k_cat,
            self.k_p_minus,
            self.k_p_plus,
            self.k_pro,
            self.k_sFKN,
            self.k_tol,
            self.m0,
            self.mech_Ab_rate,
            self.mech_Ad_rate,
            self.mech_duration,
            self.q_I,
            self.q_glu,
            self.r_Ab_base,
            self.r_Ad_base,
            self.r_Cn_base,
            self.r_Cp_base,
            self.r_ref,
            self.rho_max,
            self.rmax_E,
            self.rmax_I,
            self.rmax_P,
            self.rmax_W,
            self.target_rE,
            self.target_rI,
            self.target_rP,
            self.target_rW,
            self.tau_COX,
            self.tau_Cx,
            self.tau_END,
            self.tau_E_off,
            self.tau_E_on,
            self.tau_G,
            self.tau_K_rec,
            self.tau_N_decay,
            self.tau_N_rise,
            self.tau_S,
            self.tau_X4,
            self.tau_Y,
            self.tau_mFKN,
            self.tau_tol,
            self.theta0_LTP,
            self.theta_LTD,
            self.w_EAb,
            self.w_EAd,
            self.w_EC,
            self.w_EE,
            self.w_IC,
            self.w_INE,
            self.w_Ib,
            self.w_NK1,
            self.w_PAd,
            self.w_PC,
            self.w_PE,
            self.w_WAb,
            self.w_WAd,
            self.w_WC,
            self.w_WE,
            self.w_pERK,
            self.w_DE_glu,
            self.tau_ERK_exc,
            self.w_DE_x12,
            self.w_Dp_x12,
            self.I_inj_CFA,
            self.w_J_x12,
            self.tau_clear_it,
            self.w_MKP,
        ]
    }
}
// end of generated PARAM_KEYS

/// Drug occupancies u ∈ [0, 1] (MODEL.md §6); all zero means drug-free.
#[derive(Debug, Clone, Copy, Default)]
pub struct Drugs {
    pub nmda: f64,
    pub mek: f64,
    pub trkb: f64,
    pub p2x4: f64,
    pub x4_antisense: f64,
    pub minocycline: f64,
    pub p38: f64,
    pub cats: f64,
    pub cx3cr1: f64,
    pub fluorocitrate: f64,
    pub laa: f64,
    pub jnk: f64,
    pub carbenoxolone: f64,
    pub cxcr4: f64,
    pub ccr2: f64,
    pub cxcr2: f64,
    pub il1r: f64,
    pub tnf: f64,
    pub cck: f64,
    /// Naloxone concentration in nM (competitive, §4.5).
    pub naloxone_nm: f64,
    /// IL-10 neutralisation (anti-IL-10 antibody): (1 − u) on every H(IL-10) term.
    pub il10_block: f64,
    /// Exogenous IL-10 (protein or pDNA, §6): u EC50 added to the IL-10 production goal.
    pub il10_exo: f64,
}

/// Afferent and EA input at one instant (rates in Hz).
#[derive(Debug, Clone, Copy, Default)]
pub struct Input {
    pub r_cp: f64,
    pub r_cn: f64,
    pub r_ad: f64,
    pub r_ab: f64,
    /// EA on (E_on), its frequency and recruitment ρ_EA.
    pub ea_on: bool,
    pub ea_f: f64,
    pub ea_rho: f64,
    /// Peptide release gains g_ENK and g_DYN of the current or most recent session (§4.5; set
    /// by the session's frequency and mode, §4.1).
    pub pep_enk: f64,
    pub pep_dyn: f64,
    /// h_G of the current session (§4.9).
    pub ea_hg: f64,
    /// Injury signal I_inj ∈ [0, 1] and the MMP-9 pulse.
    pub i_inj: f64,
    pub mmp9: f64,
    /// Model-specific EA chemokine gains (§4.9): FKN, CCL2, CXCL1, CXCL12.
    pub ea_gain: [f64; 4],
    /// Time-varying naloxone (nM), added to `Drugs::naloxone_nm`.
    pub naloxone_nm: f64,
    /// Multiplier of the IL-1β source (2 in bone cancer, "IL-1β-dominated"; 0 means 1).
    pub il1_gain: f64,
    /// Time-varying NMDA block, combined with `Drugs::nmda` as 1 − (1 − u)(1 − u').
    pub u_nmda: f64,
}

/// Number of dynamic states in [`State`] (the warm starts r_I, r_E are not states).
pub const N_STATES: usize = 34;

/// Every state variable of §4.0 that the well-mixed compartment carries.
#[derive(Debug, Clone, Copy)]
pub struct State {
    pub n: f64,
    pub perk: f64,
    pub s_c: f64,
    pub sp: f64,
    pub enk: f64,
    pub dyn_: f64,
    pub em: f64,
    pub e_seg: f64,
    pub e_sup: f64,
    pub c_end: f64,
    pub tol: f64,
    pub tnf: f64,
    pub il1b: f64,
    pub il6: f64,
    pub il10: f64,
    pub bdnf: f64,
    pub cats: f64,
    pub sfkn: f64,
    pub ccl2: f64,
    pub cxcl1: f64,
    pub cxcl12: f64,
    pub mfkn: f64,
    pub m: f64,
    pub rho_m: f64,
    pub p: f64,
    pub x4: f64,
    pub y: f64,
    pub a: f64,
    pub j: f64,
    pub cx: f64,
    pub k: f64,
    pub cox: f64,
    pub g_ea: f64,
    /// ERK-dependent excitability: pERK low-passed with τ_ERK,exc (the w_pERK coupling, §4.3).
    pub perk_x: f64,
    /// Warm starts of the fixed-point solves (not dynamic states).
    pub r_i: f64,
    pub r_e: f64,
}

impl State {
    /// The naive column of §4.0.
    pub fn naive(pr: &Params) -> State {
        State {
            n: 0.0,
            perk: 0.0,
            s_c: 1.0,
            sp: 0.0,
            enk: 0.0,
            dyn_: 0.0,
            em: 0.0,
            e_seg: 0.0,
            e_sup: 0.0,
            c_end: 0.0,
            tol: 0.0,
            tnf: 0.0,
            il1b: 0.0,
            il6: 0.0,
            il10: 0.0,
            bdnf: 0.0,
            cats: 0.0,
            sfkn: 0.0,
            ccl2: 0.0,
            cxcl1: 0.0,
            cxcl12: pr.L_X12_0,
            mfkn: pr.m0,
            m: 0.0,
            rho_m: 1.0,
            p: 0.0,
            x4: 0.0,
            y: 0.0,
            a: 0.0,
            j: 0.0,
            cx: 0.0,
            k: 1.0,
            cox: 0.0,
            g_ea: 0.0,
            perk_x: 0.0,
            r_i: 4.0,
            r_e: 2.0,
        }
    }

    /// The dynamic states in a fixed order (the GPU reaction stage uses the same order).
    pub fn to_array(&self) -> [f64; N_STATES] {
        [
            self.n,
            self.perk,
            self.s_c,
            self.sp,
            self.enk,
            self.dyn_,
            self.em,
            self.e_seg,
            self.e_sup,
            self.c_end,
            self.tol,
            self.tnf,
            self.il1b,
            self.il6,
            self.il10,
            self.bdnf,
            self.cats,
            self.sfkn,
            self.ccl2,
            self.cxcl1,
            self.cxcl12,
            self.mfkn,
            self.m,
            self.rho_m,
            self.p,
            self.x4,
            self.y,
            self.a,
            self.j,
            self.cx,
            self.k,
            self.cox,
            self.g_ea,
            self.perk_x,
        ]
    }

    fn from_array(v: &[f64; N_STATES], warm: &State) -> State {
        State {
            n: v[0],
            perk: v[1],
            s_c: v[2],
            sp: v[3],
            enk: v[4],
            dyn_: v[5],
            em: v[6],
            e_seg: v[7],
            e_sup: v[8],
            c_end: v[9],
            tol: v[10],
            tnf: v[11],
            il1b: v[12],
            il6: v[13],
            il10: v[14],
            bdnf: v[15],
            cats: v[16],
            sfkn: v[17],
            ccl2: v[18],
            cxcl1: v[19],
            cxcl12: v[20],
            mfkn: v[21],
            m: v[22],
            rho_m: v[23],
            p: v[24],
            x4: v[25],
            y: v[26],
            a: v[27],
            j: v[28],
            cx: v[29],
            k: v[30],
            cox: v[31],
            g_ea: v[32],
            perk_x: v[33],
            r_i: warm.r_i,
            r_e: warm.r_e,
        }
    }
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
    pub drugs: Drugs,
    /// Microglia → pain coupling σ_sex (1 male, 0.2 female).
    pub sigma_sex: f64,
    /// Descending drive multipliers (RVM → 5-HT, A7 → NE): 1 intact, 0 after a lesion (§4.5,
    /// r_RVM and r_A7 scaled, tonic and EA-evoked release alike).
    pub rvm: f64,
    pub a7: f64,
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
            sigma_sex: 1.0,
            rvm: 1.0,
            a7: 1.0,
            retardation: false,
        }
    }

    /// The T0/T1 solve of §3.2 item 2 for state `s` and input `inp`.
    pub fn fast(&self, s: &State, inp: &Input) -> Fast {
        let pr = &self.pr;
        let d = &self.drugs;
        // Occupancies (§4.5).
        let x = s.enk + s.em + s.c_end;
        let nlx = d.naloxone_nm + inp.naloxone_nm;
        let o_raw = x / (x + 1.0 + nlx / pr.Ki_mudelta);
        let o_md = (1.0 - s.tol) * o_raw;
        let o_k = s.dyn_ / (s.dyn_ + 1.0 + nlx / pr.Ki_kappa);
        let drive = 1.0 + pr.descending_gain * s.e_sup;
        let ht5 = pr.c_5HT * drive * self.rvm;
        let ne = pr.c_NE * drive * self.a7;
        let o_5ht1 = h(ht5);
        let o_a2 = h(ne);
        let o_a1 = hill(ne, pr.K_a1, 1.0);
        // Chloride and inhibition strength (§4.3).
        let e_cl = pr.E_Cl_K0 + pr.E_Cl_slope * s.k;
        let v_rest = pr.V_rest;
        let phi = (v_rest - e_cl) / (v_rest - (pr.E_Cl_K0 + pr.E_Cl_slope));
        let h_il1 = h(s.il1b) * (1.0 - d.il1r);
        let h_tnf = h(s.tnf) * (1.0 - d.tnf);
        let g_hat = (1.0 - 0.3 * h_il1 - 0.2 * h(s.il6)) * (1.0 - pr.e_COX * s.cox);
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
            * (1.0 - pr.e_GB * o_gb);
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
        // 4. r_P and r_W.
        let re_hat = r_e / rmax_e;
        let u_p0 = (pr.w_PC * s.s_c * rc + pr.w_PAd * rad) * r_pre * n_g
            + pr.w_PAd * rea
            + pr.w_PE * re_hat
            + pr.w_NK1 * a_nk1
            - inhib(pr.g_PI)
            - post_common
            - pr.g_kappa * o_k
            + g_cyt
            + pr.w_pERK * s.perk_x;
        let u_w0 = ((pr.w_WC * s.s_c * rc * 0.15 + pr.w_WAd * rad * 0.8) * r_pre
            + pr.w_WAb * rab * 0.6 * r_pre_a)
            * n_g
            + (pr.w_WAb * rea * 0.6 + pr.w_WAd * rea * 0.8)
            + pr.w_WE * re_hat
            - inhib(pr.g_WI)
            - post_common
            - pr.g_kappa * o_k
            + g_cyt
            + pr.w_pERK * s.perk_x;
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
    pub fn rhs(&self, s: &State, inp: &Input, f: &Fast) -> [f64; N_STATES] {
        let pr = &self.pr;
        let d = &self.drugs;
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
        // NMDA block: the constant drug and a bolus time course combine as independent blocks.
        let open_nmda = (1.0 - d.nmda) * (1.0 - inp.u_nmda);
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
            + pr.w_DE_x12 * h_x12;
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
            pr.L_ENK * (eps0 + inp.pep_enk * s.e_seg + 0.3 * hill(s.e_sup, 0.5, 1.0)),
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
            * hill(d_m, pr.K_DM, 4.0)
            * (1.0 - s.m)
            * (1.0 - 0.8 * d.minocycline)
            * (1.0 - 0.5 * s.g_ea)
            - pr.k_M_minus
                * (1.0 + 2.0 * h(s.il10) * (1.0 - d.il10_block) + pr.g_off * s.g_ea)
                * s.m;
        let drho = pr.k_pro * (s.m - pr.M_pro).max(0.0) * s.rho_m * (1.0 - s.rho_m / pr.rho_max)
            - pr.k_apo * (s.rho_m - 1.0);
        let h_p2x4 = hill(f.atp, pr.K_P2X4, 1.0) * (1.0 - d.p2x4);
        let d_p = (s.m * (h_fkn + h_p2x4 * s.x4 + 0.5 * h_tnf + 0.5 * h_il1 + pr.w_Dp_x12 * h_x12)
            + 0.3 * h(s.sp))
            * (1.0 - 0.8 * d.minocycline);
        let dp = pr.k_p_plus * d_p * (1.0 - s.p) * (1.0 - d.p38)
            - pr.k_p_minus * (1.0 + 3.0 * h(s.il10) * (1.0 - d.il10_block) + pr.w_MKP * s.y) * s.p;
        let dx4 = pr.k_X4 * s.m * (1.0 + h_ccl2) * (1.0 - s.x4) * (1.0 - d.x4_antisense)
            - s.x4 / pr.tau_X4;
        let dy = (s.m - s.y) / pr.tau_Y;
        let psi = 1.0 / (1.0 + 2.0 * h(s.il10) * (1.0 - d.il10_block)) / (1.0 + 0.5 * f.o_mudelta);
        let sig = self.sigma_sex;
        let mp = sig * s.rho_m * s.p;
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
            + 0.3 * h_x12;
        let da = pr.k_A_plus
            * hill(d_a, pr.K_DA, 4.0)
            * (1.0 - s.a)
            * (1.0 - 0.9 * d.fluorocitrate)
            * (1.0 - 0.5 * s.g_ea)
            - pr.k_A_minus * (1.0 + pr.g_off * s.g_ea) * s.a
            - pr.k_LAA * d.laa * s.a;
        let dj = pr.k_J_plus * s.a * (h_tnf + pr.w_J_x12 * h_x12) * (1.0 - s.j) * (1.0 - d.jnk)
            - pr.k_J_minus * s.j;
        let dcx = pr.k_Cx * h_tnf * s.a * (1.0 - s.cx) - s.cx / pr.tau_Cx;
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
        let dk = (1.0 - s.k) / pr.tau_K_rec - pr.k_BDNF * h_bdnf * s.k;
        let dcox = (s.perk * (1.0 + h_cxcl1) - s.cox) / pr.tau_COX;
        let dg = pr.k_G * e_on * inp.ea_rho * inp.ea_hg - s.g_ea / pr.tau_G;
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

/// Pain models of §4.1 as afferent generators (well-mixed: every band = 1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PainModel {
    None,
    Formalin,
    Cfa,
    Snl,
    BoneCancer,
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
                inp.ea_gain = [-0.2, -0.2, -0.3, 0.0];
            }
            PainModel::Snl => {
                let t = t.max(0.0);
                let e = pr.SNL_ectopic
                    * (1.0 - (-t / pr.SNL_ectopic_rise).exp())
                    * (-t / pr.SNL_ectopic_decay).exp();
                inp.r_cp += 0.5 * e;
                inp.r_cn += 0.5 * e;
                inp.r_ad += e;
                let p = pr.I_inj_persistent;
                inp.i_inj = (1.0 - (-t / pr.I_inj_rise).exp())
                    * (p + (1.0 - p) * (-t / pr.I_inj_decay).exp());
                inp.mmp9 = pr.MMP9_amplitude
                    * (1.0 - (-t / pr.I_inj_rise).exp())
                    * (-t / pr.MMP9_decay).exp();
                inp.ea_gain = [-0.5, -0.3, -0.3, -0.2];
            }
        }
        (inp, gain)
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

/// How an EA session delivers its frequency (§4.1).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum EaMode {
    /// One frequency (`frequency_hz`).
    #[default]
    Single,
    /// Alternating 2/100 Hz ("dense–disperse"), switching every 3 s; peptide gains constant
    /// over the session: g_ENK = 1.4·0.5·g_ENK(2), g_DYN = 1.4·0.5·g_DYN(100).
    Alternating,
    /// Simultaneous 2 + 100 Hz: g_ENK = 0, g_DYN = g_DYN(100).
    Simultaneous,
}

/// One electroacupuncture session (§4.1): start (s), duration (s), frequency (Hz, for the
/// single mode), intensity (mA) and mode.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EaSession {
    pub start_s: f64,
    pub duration_s: f64,
    pub frequency_hz: f64,
    pub intensity_ma: f64,
    pub mode: EaMode,
}

impl EaSession {
    pub fn single(
        start_s: f64,
        duration_s: f64,
        frequency_hz: f64,
        intensity_ma: f64,
    ) -> EaSession {
        EaSession {
            start_s,
            duration_s,
            frequency_hz,
            intensity_ma,
            mode: EaMode::Single,
        }
    }

    /// (g_ENK, g_DYN) of the session (§4.1, §4.5).
    pub fn peptide_gains(&self, synergy: f64) -> (f64, f64) {
        match self.mode {
            EaMode::Single => (g_enk(self.frequency_hz), g_dyn(self.frequency_hz)),
            EaMode::Alternating => (synergy * 0.5 * g_enk(2.0), synergy * 0.5 * g_dyn(100.0)),
            EaMode::Simultaneous => (0.0, g_dyn(100.0)),
        }
    }

    /// Instantaneous stimulation frequency at time t within the session, and h_G.
    pub fn frequency_at(&self, t: f64, alternation_s: f64) -> (f64, f64) {
        match self.mode {
            EaMode::Single => (self.frequency_hz, h_g(self.frequency_hz)),
            EaMode::Alternating => {
                let phase = ((t - self.start_s) / alternation_s).floor() as i64;
                (if phase % 2 == 0 { 2.0 } else { 100.0 }, 1.0)
            }
            // h_G of the simultaneous mode is not given in §4.9: taken as h_G(100) [E].
            EaMode::Simultaneous => (100.0, h_g(100.0)),
        }
    }
}

/// A protocol for the well-mixed model: a pain model induced at t = 0 and EA sessions.
#[derive(Debug, Clone, Default)]
pub struct Protocol {
    pub pain: Option<PainModel>,
    /// Time (s) of the pain model's induction (0 by default); before it the input is baseline.
    pub pain_onset_s: f64,
    pub sessions: Vec<EaSession>,
    /// Times (s) of naloxone 1 mg/kg i.p.: peak naloxone concentration at injection, exponential elimination.
    pub naloxone_s: Vec<f64>,
    /// Times (s) of an NMDA antagonist bolus (MK-801 0.5 mg/kg i.v.): u_NMDA = 1 at injection,
    /// decaying with a half-life of 3 h, the long end of §6's 0.5–3 h range for systemic small
    /// molecules (MK-801 is a long-acting, trapping blocker); a modelling estimate.
    pub nmda_block_s: Vec<f64>,
}

impl Protocol {
    /// `n` daily sessions starting on day `first_day` (at the start of the day).
    pub fn daily_ea(
        pain: PainModel,
        first_day: u32,
        n: u32,
        frequency_hz: f64,
        intensity_ma: f64,
    ) -> Protocol {
        Protocol {
            pain: Some(pain),
            pain_onset_s: 0.0,
            naloxone_s: Vec::new(),
            nmda_block_s: Vec::new(),
            sessions: (0..n)
                .map(|k| {
                    EaSession::single(
                        (first_day + k) as f64 * 86400.0,
                        1800.0,
                        frequency_hz,
                        intensity_ma,
                    )
                })
                .collect(),
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
