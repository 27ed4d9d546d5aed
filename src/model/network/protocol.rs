//! The protocol's drug side (layer 1): the drug catalogue, doses and routes with their time
//! courses (§6), the acupoints of the simulated segment.

use crate::model::network::pk::Amount;
use crate::model::network::state::Drugs;
use crate::model::network::{g_dyn, g_enk, h_g};

/// Acupoints whose afferents enter the simulated L4–L5 segment through the sciatic/tibial band
/// (§1.4: the EA band is the medial ⅔, overlapping the paw band).
pub const ACUPOINTS: &[&str] = &["ST36", "SP6", "GB30", "GB34", "BL40", "BL60", "KI3"];

/// The one drug key given as a concentration (nM) rather than an occupancy.
pub const NALOXONE_NM: &str = "naloxone_nm";

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
    "mu_delta",
    "kappa",
    "gaba_gly",
    "ht1",
    "a2",
    "mu_agonist",
    "a2_agonist",
    "clp257",
    "nep",
    "afferent_block",
    "ea_block",
    "ht3",
];

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
    (
        "ctop",
        "mu_delta",
        false,
        "μ-opioid antagonist (also CTAP); blocks the model's combined O_μδ",
    ),
    (
        "naltrindole",
        "mu_delta",
        false,
        "δ-opioid antagonist; blocks the model's combined O_μδ",
    ),
    (
        "nor_bni",
        "kappa",
        false,
        "κ-opioid antagonist (nor-binaltorphimine)",
    ),
    ("bicuculline", "gaba_gly", false, "GABA_A antagonist"),
    (
        "strychnine",
        "gaba_gly",
        false,
        "glycine-receptor antagonist",
    ),
    ("methysergide", "ht1", false, "5-HT1/2 antagonist"),
    ("yohimbine", "a2", false, "α2-adrenoceptor antagonist"),
    ("idazoxan", "a2", false, "α2-adrenoceptor antagonist"),
    (
        "morphine",
        "mu_agonist",
        false,
        "μ-opioid agonist (also DAMGO); u is its own occupancy",
    ),
    (
        "clonidine",
        "a2_agonist",
        false,
        "α2-adrenoceptor agonist (also dexmedetomidine)",
    ),
    (
        "clp257",
        "clp257",
        false,
        "GABA_A potentiation (reported KCC2 enhancer, contested)",
    ),
    (
        "thiorphan",
        "nep",
        false,
        "NEP (enkephalinase) inhibitor; enkephalin level × 1/(1 − 0.9·u)",
    ),
    (
        "rb101",
        "nep",
        false,
        "NEP + APN inhibitor (also kelatorphan); enkephalin level × 1/(1 − 0.9·u)",
    ),
    (
        "lidocaine",
        "afferent_block",
        false,
        "local anaesthetic at the paw or its nerve: (1 − u) on every afferent class, ongoing and evoked",
    ),
    (
        "ttx",
        "afferent_block",
        false,
        "tetrodotoxin at the paw or its nerve: (1 − u) on every afferent class",
    ),
    (
        "lidocaine_acupoint",
        "ea_block",
        false,
        "local anaesthetic at the needle site (also procaine): (1 − u) on the EA afferent pool",
    ),
    (
        "ondansetron",
        "ht3",
        false,
        "5-HT3 antagonist; acts only in the descending-facilitation mode",
    ),
];

/// The antagonists of the transmitter systems that carry inhibition and its descending control
/// (μ/δ and κ opioid, GABA_A, glycine, 5-HT, α2): the papers give them in doses chosen to block
/// an endogenous system, many times their ED50, so a dose of these given as an occupancy
/// `u_max` is read through the Emax curve, u_max = 1 standing for `c_full_block` × ED50
/// ([`crate::model::network::pk`], MODEL.md §11.3, docs/model.md). Every other drug keeps the
/// linear §6 knob.
pub const RECEPTOR_BLOCKERS: &[&str] = &[
    "ctop",
    "naltrindole",
    "nor_bni",
    "bicuculline",
    "strychnine",
    "methysergide",
    "yohimbine",
    "idazoxan",
    "ondansetron",
];

/// One dose of a drug (§6, §11.3): its amount, route and time; [`crate::model::network::pk`]
/// gives its time course.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dose {
    /// Index into DRUG_CATALOGUE.
    pub drug: usize,
    pub route: Route,
    pub amount: Amount,
    pub start_s: f64,
    /// Infusions (pumps): length; boluses: 0.
    pub duration_s: f64,
}

/// Administration routes (§6, §11.3); their time courses are in [`crate::model::network::pk`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// A bolus into the CSF: v = e^{−k_it·t}, entering the tissue through the pia (§2.5;
    /// [`crate::model::network::pk::Reach`]).
    Intrathecal,
    /// i.p. or i.v.: v = e^{−k_sys·t}, the same in every cell.
    Systemic,
    /// An intrathecal pump (or expressed pDNA): v = 1 for `duration_h`, through the pia.
    Infusion,
}

pub(crate) fn set_drug(d: &mut Drugs, name: &str, v: f64) {
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
        "mu_delta" => &mut d.mu_delta,
        "kappa" => &mut d.kappa,
        "gaba_gly" => &mut d.gaba_gly,
        "ht1" => &mut d.ht1,
        "a2" => &mut d.a2,
        "mu_agonist" => &mut d.mu_agonist,
        "a2_agonist" => &mut d.a2_agonist,
        "clp257" => &mut d.clp257,
        "nep" => &mut d.nep,
        "afferent_block" => &mut d.afferent_block,
        "ea_block" => &mut d.ea_block,
        "ht3" => &mut d.ht3,
        _ => &mut d.naloxone_nm,
    }
}

/// Pain models of §4.1 and §11.4 as afferent generators (well-mixed: every band = 1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PainModel {
    None,
    Formalin,
    Cfa,
    /// L5 spinal nerve ligation: the sciatic band's afferents injured (§4.1).
    Snl,
    /// Spared nerve injury (§11.4): SNL's transection kinetics, but the injury footprint is the
    /// tibial and peroneal part of the band and the tested territory the spared sural part
    /// (the tissue's territory, `model::anatomy::Territory`; the well-mixed compartment cannot
    /// separate them).
    Sni,
    /// Chronic constriction injury (§11.4): loose ligatures, an injury that builds up more
    /// slowly than a transection, with perineural inflammation sensitising the nerve's afferents.
    Cci,
    BoneCancer,
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
