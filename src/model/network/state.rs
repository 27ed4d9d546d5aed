//! The reaction network's quantities (layer 1): the local [`State`] (its slot order), the
//! external [`Input`] and the [`Drugs`] occupancies, and the names of everything a field can
//! show: the states, the transported mediators, the fast rates and opioid occupancies.

use crate::model::network::coefficients::Params;

/// The 14 diffusing mediators, in transport-layer order (state slots [`MEDIATOR_SLOTS`]).
pub const MEDIATORS: [&str; 14] = [
    "SP", "ENK", "DYN", "EM", "TNF", "IL1b", "IL6", "IL10", "BDNF", "CatS", "sFKN", "CCL2",
    "CXCL1", "CXCL12",
];

/// Names of the local states in `State::to_array` order (the reaction kernel's slots).
pub const STATE_NAMES: [&str; N_STATES] = [
    "N",
    "pERK",
    "S_C",
    "SP",
    "ENK",
    "DYN",
    "EM",
    "E_seg",
    "E_sup",
    "C_csf_END",
    "Tol",
    "TNF",
    "IL1b",
    "IL6",
    "IL10",
    "BDNF",
    "CatS",
    "sFKN",
    "CCL2",
    "CXCL1",
    "CXCL12",
    "mFKN",
    "M",
    "rho_M",
    "P_p38",
    "X4",
    "Y",
    "A",
    "J",
    "Cx",
    "K",
    "COX",
    "G_EA",
    "pERK_exc",
];

/// The fields `dorsalhorn run` writes when a scenario's `output.fields` is not given.
pub const DEFAULT_OUTPUT_FIELDS: [&str; 8] =
    ["IL1b", "TNF", "IL10", "M", "A", "ENK", "pERK", "r_P"];

/// The panels `dorsalhorn view` opens with when `--fields` is not given.
pub const DEFAULT_VIEW_FIELDS: [&str; 4] = ["IL1b", "M", "ENK", "r_P"];

/// The mediator the progress line and the final report of `dorsalhorn run` quote (IL-1β).
pub const REPORTED_MEDIATOR: &str = "IL1b";

/// States that are activations or fractions in [0, 1] (the baseline check keeps them off both
/// bounds).
pub const ACTIVATIONS: [&str; 13] = [
    "N", "pERK", "M", "P_p38", "X4", "A", "J", "Cx", "COX", "Tol", "G_EA", "E_seg", "E_sup",
];

/// The slot of the state `name` in [`STATE_NAMES`], at compile time (panics, also at compile
/// time, for a name that is not a state).
pub const fn slot_of(name: &str) -> usize {
    let mut i = 0;
    while i < STATE_NAMES.len() {
        let (a, b) = (STATE_NAMES[i].as_bytes(), name.as_bytes());
        if a.len() == b.len() {
            let mut j = 0;
            while j < a.len() && a[j] == b[j] {
                j += 1;
            }
            if j == a.len() {
                return i;
            }
        }
        i += 1;
    }
    panic!("not a state name")
}

/// Named slots of the states other modules index directly.
pub mod slot {
    use super::slot_of;
    /// KCC2 (K).
    pub const K: usize = slot_of("K");
    /// The C-fibre synaptic strength S_C.
    pub const S_C: usize = slot_of("S_C");
    /// The microglial density ρ_M.
    pub const RHO_M: usize = slot_of("rho_M");
}

/// Names of the fast quantities reported beside the states: the rates of §4.3 and the opioid
/// occupancies of §4.5 (O_μδ tolerance-corrected).
pub const RATE_NAMES: [&str; 8] = [
    "r_I",
    "r_E",
    "r_P",
    "r_W",
    "O_mudelta",
    "O_kappa",
    "5HT",
    "NE",
];

/// State slots of the 14 diffusing mediators, in the kernel's order (`MEDIATORS`).
pub const MEDIATOR_SLOTS: [usize; 14] = [3, 4, 5, 6, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20];

/// Number of fields (states then rates) a panel can show.
pub const FIELDS: usize = STATE_NAMES.len() + RATE_NAMES.len();

/// What a field means and its unit (MODEL.md §4.0), for panel titles and colorbars.
pub fn field_info(f: usize) -> (&'static str, &'static str) {
    match field_name(f) {
        "N" => ("NMDA / wind-up state", "fraction 0–1"),
        "pERK" => ("neuronal phospho-ERK", "fraction 0–1"),
        "S_C" => ("C-fibre synaptic weight (LTP/LTD)", "weight (naive 1)"),
        "SP" => ("substance P", "EC50 units"),
        "ENK" => ("enkephalin", "EC50 units"),
        "DYN" => ("dynorphin", "EC50 units"),
        "EM" => ("endomorphin", "EC50 units"),
        "E_seg" => ("slow EA gate, segmental", "fraction 0–1"),
        "E_sup" => ("slow EA gate, supraspinal", "fraction 0–1"),
        "C_csf_END" => ("β-endorphin in CSF", "EC50 units"),
        "Tol" => ("opioid tolerance", "fraction 0–1"),
        "TNF" => ("TNF-α", "EC50 units"),
        "IL1b" => ("IL-1β", "EC50 units"),
        "IL6" => ("IL-6", "EC50 units"),
        "IL10" => ("IL-10", "EC50 units"),
        "BDNF" => ("BDNF", "EC50 units"),
        "CatS" => ("cathepsin S", "EC50 units"),
        "sFKN" => ("soluble fractalkine", "EC50 units"),
        "CCL2" => ("CCL2", "EC50 units"),
        "CXCL1" => ("CXCL1", "EC50 units"),
        "CXCL12" => ("CXCL12", "EC50 units"),
        "mFKN" => ("membrane fractalkine pool", "sFKN-EC50 eq."),
        "M" => ("microglial activation", "fraction 0–1"),
        "rho_M" => ("microglial density", "relative (naive 1)"),
        "P_p38" => ("microglial p-p38", "fraction 0–1"),
        "X4" => ("microglial P2X4", "fraction 0–1"),
        "Y" => ("lagged microglial activation", "fraction 0–1"),
        "A" => ("astrocyte activation (GFAP)", "fraction 0–1"),
        "J" => ("astrocytic p-JNK", "fraction 0–1"),
        "Cx" => ("Cx43 hemichannel activity", "fraction 0–1"),
        "K" => ("KCC2 level", "fraction 0–1"),
        "COX" => ("COX-2 / PGE2 activity", "activity 0–2"),
        "G_EA" => ("EA glial memory", "memory ≥ 0"),
        "pERK_exc" => ("ERK-dependent excitability (pERK lagged)", "fraction 0–1"),
        "r_I" => ("inhibitory interneuron rate", "Hz"),
        "r_E" => ("excitatory interneuron rate", "Hz"),
        "r_P" => ("projection neuron rate (lamina I)", "Hz"),
        "r_W" => ("WDR neuron rate (lamina V)", "Hz"),
        "O_mudelta" => ("μ/δ opioid receptor occupancy", "occupancy 0–1"),
        "O_kappa" => ("κ opioid receptor occupancy", "occupancy 0–1"),
        "5HT" => ("serotonin from the RVM (descending)", "EC50 units"),
        "NE" => ("noradrenaline from the A7/LC (descending)", "EC50 units"),
        _ => ("", ""),
    }
}

/// The index of a field by name (a state or a rate).
pub fn field_index(name: &str) -> Option<usize> {
    (0..FIELDS).find(|&f| field_name(f) == name)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_has_a_meaning_and_a_unit() {
        for f in 0..FIELDS {
            let (m, u) = field_info(f);
            assert!(!m.is_empty() && !u.is_empty(), "{}", field_name(f));
            assert_eq!(field_index(field_name(f)), Some(f));
        }
    }
}

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
    /// Selective μ or δ antagonist (CTOP, naltrindole; §6): (1 − u) on O_μδ (μ and δ share one
    /// occupancy in the model, so either blocks the combined one).
    pub mu_delta: f64,
    /// κ antagonist (nor-BNI, §6): (1 − u) on O_κ.
    pub kappa: f64,
    /// GABA_A / glycine antagonist (bicuculline, strychnine; §6): (1 − u) on every inhibitory
    /// gain g_I, g_II, g_PI, g_WI.
    pub gaba_gly: f64,
    /// 5-HT1/2 antagonist (methysergide, §6): (1 − u) on O_5HT1.
    pub ht1: f64,
    /// α2 antagonist (yohimbine, idazoxan; §6): (1 − u) on O_α2.
    pub a2: f64,
    /// μ agonist (morphine, DAMGO; §6): adds the level u/(1 − u) EC50 (u capped at 0.99, so u is
    /// the occupancy the agonist alone gives) to the μ/δ ligand of O_μδ,raw.
    pub mu_agonist: f64,
    /// α2 agonist (clonidine, dexmedetomidine; §6): adds u/(1 − u) EC50 to NE in O_α2.
    pub a2_agonist: f64,
    /// GABA_A potentiation (CLP257, §6's default reading): every inhibitory gain × (1 + 0.5·u).
    pub clp257: f64,
    /// NEP (± APN) inhibition (thiorphan, RB101; §6): enkephalin's clearance k_ENK × (1 − 0.9·u)
    /// on the loss, so up to 10× the level (`nep_spared_loss` in the network).
    pub nep: f64,
    /// Conduction block of the paw's afferents (lidocaine, TTX at the paw or nerve; §6): (1 − u)
    /// on every afferent class, ongoing and evoked ([`Drugs::reaching_cord`]).
    pub afferent_block: f64,
    /// 5-HT3 antagonist (ondansetron; §6): (1 − u) on O_5HT3, which acts only in the
    /// descending-facilitation mode (n_mode = 1).
    pub ht3: f64,
    /// Conduction block at the needle site (local anaesthetic at the acupoint; §6): (1 − u) on
    /// the EA afferent pool ([`Drugs::reaching_cord`]).
    pub ea_block: f64,
}

impl Drugs {
    /// open_NMDA of §4.4: the constant NMDA block and the bolus time course of `inp` combine as
    /// independent blocks. shaders/reaction.wgsl (`open_nmda`) computes the same.
    pub fn open_nmda(&self, inp: &Input) -> f64 {
        (1.0 - self.nmda) * (1.0 - inp.u_nmda)
    }

    /// The input that reaches the cord under the conduction blocks: the paw's afferent rates
    /// and their activity-dependent inflammatory drive × (1 − u_afferent_block), the EA
    /// recruitment × (1 − u_ea_block). Exactly `inp` without them. shaders/reaction.wgsl
    /// (`input_at`) applies the same to every input it reads.
    pub fn reaching_cord(&self, inp: &Input) -> Input {
        let mut out = *inp;
        let a = 1.0 - self.afferent_block;
        out.r_cp *= a;
        out.r_cn *= a;
        out.r_ad *= a;
        out.r_ab *= a;
        out.i_infl *= a;
        out.ea_rho *= 1.0 - self.ea_block;
        out
    }
}

/// The level (EC50 units) of an agonist whose occupancy alone is u: u/(1 − u), u capped at
/// 0.99 (§6: agonists add their level inside the receptor's Hill function).
pub fn agonist_level(u: f64) -> f64 {
    let u = u.clamp(0.0, 0.99);
    u / (1.0 - u)
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
    /// The adaptive-immune (T-cell) level T ∈ [0, 1] of MODEL.md §11.2: the injury signal's
    /// time course lagged by τ_T (onset over days); like `i_inj` it acts in the injury
    /// footprint. Zero unless the model's female T-cell route is on.
    pub t_cell: f64,
    /// The inflammatory drive I_infl ∈ [0, 1] of a paw inflammation (CFA), in the injury
    /// footprint like `i_inj`: the sensitised nociceptors' activity-dependent drive of the
    /// astrocytes (D_A, §11.1 decision "which glia respond to which injury").
    pub i_infl: f64,
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

    pub(crate) fn from_array(v: &[f64; N_STATES], warm: &State) -> State {
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
