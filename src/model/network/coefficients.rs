//! The reaction network's named coefficients (layer 1), declared once: the list below generates
//! the [`Params`] struct (SI values resolved from the parameter table), its constructor
//! [`Params::from_table`], the key list [`PARAM_KEYS`] and [`Params::values`] in the same order,
//! which the GPU reaction stage turns into its WGSL `struct Params` (`gpu::reaction`). To add a
//! coefficient: add it to `params/dorsal_horn.toml` and to this list.

use crate::params::ParamTable;

/// Declares the coefficients once; see the module documentation.
macro_rules! coefficients {
    ($($name:ident),* $(,)?) => {
        /// The named parameters the network uses, in SI units, resolved once from the table
        /// (field names are the table's keys).
        #[allow(
            non_snake_case,
            reason = "field names are the parameter table's keys (k_M_plus, L_TNF, ...)"
        )]
        #[derive(Debug, Clone)]
        pub struct Params {
            $(pub $name: f64,)*
        }

        /// Keys of [`Params`], in field order (the GPU reaction stage mirrors this order).
        pub const PARAM_KEYS: &[&str] = &[$(stringify!($name)),*];

        impl Params {
            /// Every coefficient from the table, by key.
            ///
            /// # Panics
            /// If the table lacks a key: the shipped table has every one (a test checks it), and
            /// edits through `DORSALHORN_PARAM_SET` can change values but not remove keys.
            pub fn from_table(t: &ParamTable) -> Params {
                Params {
                    $($name: t.get(stringify!($name)).unwrap_or_else(|| {
                        panic!(concat!("parameter `", stringify!($name), "` missing from the table"))
                    }),)*
                }
            }

            /// Values in the order of [`PARAM_KEYS`].
            pub fn values(&self) -> Vec<f64> {
                vec![$(self.$name),*]
            }
        }
    };
}

coefficients!(
    CFA_C_total,
    CFA_end,
    CFA_end_width,
    CFA_rise,
    EA_alternation,
    EA_f_max,
    EA_synergy,
    E_Cl_K0,
    E_Cl_slope,
    I_inj_decay,
    I_inj_persistent,
    I_inj_rise,
    K_A_glu,
    K_DA,
    K_DE,
    K_DM,
    K_P2X4,
    K_P2X7,
    K_P2Y12,
    K_a1,
    Ki_kappa,
    Ki_mudelta,
    L_BDNF,
    L_CCL2,
    L_CXCL1,
    L_CatS,
    L_DYN,
    L_EM,
    L_ENK,
    L_IL1,
    L_IL10,
    L_IL10_EA,
    L_IL6,
    L_TNF,
    L_X12_0,
    L_X12_A,
    MMP9_amplitude,
    MMP9_decay,
    M_pro,
    K_CSF1,
    NLX_peak,
    NLX_tau,
    PWL0,
    PWL_max,
    PWT0,
    PWT_min,
    R0,
    R_CCL2,
    R_CXCL1,
    R_CXCL12,
    SNL_ectopic,
    SNL_ectopic_decay,
    SNL_ectopic_rise,
    S_max,
    S_min,
    V_rest,
    a_A,
    a_END,
    a_SP,
    a_inj,
    a_n,
    bone_cancer_days,
    c_5HT,
    c_CCR2,
    c_CXCR2,
    c_CXCR4,
    c_IL1,
    c_NE,
    c_TNF,
    chi_loss,
    descending_gain,
    e_5HT1,
    e_COX,
    e_GB,
    e_a2,
    e_kappa,
    e_mudelta,
    eps0,
    eta_behaviour,
    formalin_phase1,
    formalin_phase2,
    formalin_tau1,
    g_5HT,
    g_I,
    g_II,
    g_PI,
    g_WI,
    g_a2,
    g_kappa,
    g_mu,
    g_off,
    heat_Ad_rate,
    heat_Cp_rate,
    heat_duration,
    k_A_minus,
    k_A_plus,
    k_BDNF,
    k_BDNF_clear,
    k_CCL2,
    k_CXCL1,
    k_CXCL12,
    k_CatS,
    k_Cx,
    k_DYN,
    k_EM,
    k_ENK,
    k_E_minus,
    k_E_plus,
    k_G,
    k_IL10,
    k_IL1b,
    k_IL6,
    k_J_minus,
    k_J_plus,
    k_LAA,
    k_LTD,
    k_LTP,
    k_M_minus,
    k_M_plus,
    k_SP,
    k_TNF,
    k_X4,
    k_apo,
    k_cat,
    k_p_minus,
    k_p_plus,
    k_pro,
    k_sFKN,
    k_tol,
    m0,
    mech_Ab_rate,
    mech_Ad_rate,
    mech_duration,
    q_I,
    q_glu,
    r_Ab_base,
    r_Ad_base,
    r_Cn_base,
    r_Cp_base,
    r_ref,
    rho_max,
    rmax_E,
    rmax_I,
    rmax_P,
    rmax_W,
    target_rE,
    target_rI,
    target_rP,
    target_rW,
    tau_COX,
    tau_Cx,
    tau_END,
    tau_E_off,
    tau_E_on,
    tau_G,
    tau_K_rec,
    tau_N_decay,
    tau_N_rise,
    tau_S,
    tau_X4,
    tau_Y,
    tau_mFKN,
    tau_tol,
    theta0_LTP,
    theta_LTD,
    w_EAb,
    w_EAd,
    w_EC,
    w_EE,
    w_IC,
    w_INE,
    w_Ib,
    w_NK1,
    w_PAd,
    w_PC,
    w_PE,
    w_WAb,
    w_WAd,
    w_WC,
    w_WE,
    w_pERK,
    w_DE_glu,
    tau_ERK_exc,
    w_DE_x12,
    w_Dp_x12,
    I_inj_CFA,
    w_J_x12,
    tau_clear_it,
    w_MKP,
);
