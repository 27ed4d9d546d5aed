//! The names of the reaction network's quantities (layer 1): the local states in slot order,
//! the transported mediators, the fast rates and occupancies reported beside them.

/// The 14 diffusing mediators, in transport-layer order (state slots [`MEDIATOR_SLOTS`]).
pub const MEDIATORS: [&str; 14] = [
    "SP", "ENK", "DYN", "EM", "TNF", "IL1b", "IL6", "IL10", "BDNF", "CatS", "sFKN", "CCL2",
    "CXCL1", "CXCL12",
];

/// Names of the local states in `State::to_array` order (the reaction kernel's slots).
pub const STATE_NAMES: [&str; crate::model::network::N_STATES] = [
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

/// Names of the fast quantities reported beside the states: the rates of §4.3 and the opioid
/// occupancies of §4.5 (O_μδ tolerance-corrected).
pub const RATE_NAMES: [&str; 6] = ["r_I", "r_E", "r_P", "r_W", "O_mudelta", "O_kappa"];

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
