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
