//! The GPU reaction stage (shaders/reaction.wgsl) against the independent f64
//! well-mixed reference (src/model/network/): cells in different physiological states and inputs
//! (baseline, CFA, SNL, formalin, EA at 2 and 100 Hz, naloxone) advanced for one hour, without
//! drugs, with the receptor-selective antagonists, with NEP inhibition and the conduction
//! blocks, and with intrathecal doses at two pial depth profiles; and the projection neurons'
//! rates of the probe kernel.

use crate::common::gpu;
use dorsalhorn::gpu::reaction::{CellMap, CellMode, Kernel, ReactionCells, pack_state};
use dorsalhorn::model::network::Model;
use dorsalhorn::model::network::protocol::{EaSession, PainModel, Protocol};
use dorsalhorn::model::network::state::{Drugs, Input, State};
use dorsalhorn::params::ParamTable;

#[test]
fn gpu_reaction_stage_matches_the_f64_reference() {
    let mut m = Model::new(&ParamTable::builtin());
    let naive = m.calibrated_baseline();
    let day = 86400.0;
    let at = |proto: &Protocol, t: f64| {
        (
            m.advance(&naive, proto, 0.0, t),
            m.protocol_input(proto, t).0,
        )
    };
    let cfa = Protocol {
        pain: Some(PainModel::Cfa),
        ..Protocol::default()
    };
    let snl = Protocol {
        pain: Some(PainModel::Snl),
        ..Protocol::default()
    };
    let formalin = Protocol {
        pain: Some(PainModel::Formalin),
        ..Protocol::default()
    };
    let cfa_ea = Protocol {
        sessions: vec![EaSession::single(3.0 * day, 1800.0, 2.0, 2.0)],
        ..cfa.clone()
    };
    let snl_ea = Protocol {
        sessions: vec![EaSession::single(7.0 * day, 1800.0, 100.0, 2.0)],
        ..snl.clone()
    };
    let mut cells: Vec<(&str, State, Input)> = Vec::new();
    cells.push(("baseline", naive, m.baseline_input()));
    for (name, proto, t) in [
        ("CFA 6 h", &cfa, 0.25 * day),
        ("CFA 1 d", &cfa, day),
        ("CFA d3 + 2 Hz EA", &cfa_ea, 3.0 * day + 60.0),
        ("SNL 3 d", &snl, 3.0 * day),
        ("SNL d7 + 100 Hz EA", &snl_ea, 7.0 * day + 60.0),
        ("formalin 2 min", &formalin, 120.0),
    ] {
        let (s, i) = at(proto, t);
        cells.push((name, s, i));
    }
    let mut nlx = m.baseline_input();
    nlx.r_cp += 10.0;
    nlx.naloxone_nm = 45.0;
    cells.push(("10 Hz Cp + naloxone", naive, nlx));
    // Naloxone during a 2 Hz session: the supraspinal opioid step Φ_sup < 1 on the EA drive.
    let (s, mut i) = at(&cfa_ea, 3.0 * day + 900.0);
    i.naloxone_nm = 20.0;
    cells.push(("CFA d3 + 2 Hz EA + naloxone", s, i));

    agree(&m, &cells);
    // The receptor-selective antagonists of §6 (μ/δ, κ, GABA_A/glycine, 5-HT1, α2) at partial
    // occupancies, where each of their terms is non-zero.
    m.drugs.mu_delta = 0.6;
    m.drugs.kappa = 0.5;
    m.drugs.gaba_gly = 0.4;
    m.drugs.ht1 = 0.7;
    m.drugs.a2 = 0.5;
    agree(&m, &cells);
    // NEP inhibition (the spared enkephalin loss) and the conduction blocks of the paw's
    // afferents and of the EA pool, partial.
    m.drugs.nep = 0.7;
    m.drugs.afferent_block = 0.5;
    m.drugs.ea_block = 0.6;
    agree(&m, &cells);
    // The descending-facilitation mode (5-HT3), partly blocked by ondansetron.
    m.n_mode = 1.0;
    m.drugs.ht3 = 0.3;
    agree(&m, &cells);
    // Intrathecal doses (§2.5): the blood's drugs plus the two intrathecal sets (small molecules,
    // antibodies), each × the cell's depth profile from the pia. At the well-mixed profiles
    // (1, 1) and at (0.4, 1.7), where the f64 reference gets the combined occupancies
    // (pk::combine) as uniform drugs; the conduction blocks and naloxone add without a profile.
    let mut it = Model {
        drugs: Drugs::default(),
        n_mode: 0.0,
        ..m.clone()
    };
    it.drugs.mu_delta = 0.2;
    it.drugs.naloxone_nm = 2.0;
    let (mut small, mut antibody) = (Drugs::default(), Drugs::default());
    small.mu_delta = 0.3;
    small.p38 = 0.4;
    small.gaba_gly = 0.5;
    small.afferent_block = 0.3;
    antibody.tnf = 0.4;
    antibody.trkb = 0.5;
    antibody.mu_delta = 0.3;
    it.drugs_pia = Some([small, antibody]);
    agree(&it, &cells);
    agree_at(&it, &cells, [0.4, 1.7]);
}

/// [`agree_at`] in the well-mixed compartment (pial profiles 1 and 1).
fn agree(m: &Model, cells: &[(&str, State, Input)]) {
    agree_at(m, cells, [1.0, 1.0]);
}

/// Advances `cells`, whose maps have the pial profiles `pia` ([small molecule, antibody]), one
/// hour on the GPU and in f64 (with the cell's combined drugs) and asserts agreement: every
/// state within 1e-3 relative (plus 0.01 absolute), r_I within 1e-3.
fn agree_at(m: &Model, cells: &[(&str, State, Input)], pia: [f32; 2]) {
    let (dt, steps) = (5.0, 720u64);
    let pairs: Vec<(State, Input)> = cells.iter().map(|(_, s, i)| (*s, *i)).collect();
    let mut gpu_cells = ReactionCells::new(gpu(), m, &pairs).unwrap();
    let map = CellMap {
        pia_it: pia[0],
        pia_ab: pia[1],
        ..CellMap::well_mixed(&m.theta)
    };
    gpu_cells.set_maps(gpu(), &vec![map; pairs.len()]);
    let m = &Model {
        drugs: m.cell_drugs(map.pia()).into_owned(),
        drugs_pia: None,
        ..m.clone()
    };
    gpu_cells.advance(gpu(), dt, steps);
    let got = gpu_cells.read(gpu()).unwrap();
    let mut worst = 0.0f64;
    for ((name, s, i), g) in cells.iter().zip(&got) {
        let want = m.run(s, i, dt * steps as f64, dt);
        let w = want.to_array();
        for k in 0..dorsalhorn::model::network::state::N_STATES {
            let err = (g[k] - w[k]).abs() / (w[k].abs() + 0.01);
            worst = worst.max(err);
            assert!(
                err < 1e-3,
                "{name}: state {k}: GPU {} vs f64 {} (relative {err:e})",
                g[k],
                w[k]
            );
        }
        let f = m.fast(&want, i);
        assert!(
            (g[dorsalhorn::model::network::state::N_STATES] - f.r_i).abs() < 1e-3 * f.r_i.max(1.0),
            "{name}: r_I {} vs {}",
            g[dorsalhorn::model::network::state::N_STATES],
            f.r_i
        );
    }
    eprintln!("worst relative difference GPU f32 vs f64: {worst:e}");
}

/// The projection neurons' rate r_P as the rate kernel computes it (`evaluate_rates` with
/// `projection_drives`; the columns are the cell's own r_E and r_I, as in the well-mixed
/// compartment) against the f64 reference, under the touch probe's input in the naive state:
/// without drugs (the polysynaptic Aβ relay of docs/model.md §4.3 nearly shut), under a full
/// GABA_A/glycine block (open), with an NMDA block on top (closed) and at partial occupancies;
/// r_P within 1e-3 relative. r_P feeds no state, so the state comparison above cannot see it.
#[test]
fn gpu_projection_rates_match_the_f64_reference() {
    let mut m = Model::new(&ParamTable::builtin());
    let naive = m.calibrated_baseline();
    let mut touch = m.baseline_input();
    touch.r_ab += m.pr.mech_Ab_rate;
    touch.r_ad += m.pr.mech_Ad_rate;
    let mut open = 0.0f64;
    for (gaba_gly, nmda, bolus) in [
        (0.0, 0.0, 0.0),
        (1.0, 0.0, 0.0),
        (1.0, 1.0, 0.0),
        (0.5, 0.3, 0.0),
        (0.8, 0.0, 0.6),
    ] {
        let mut d = m.clone();
        d.drugs.gaba_gly = gaba_gly;
        d.drugs.nmda = nmda;
        let mut inp = touch;
        inp.u_nmda = bolus;
        // Tissue mode: the rate kernel reads one broadcast input, as in the tissue's probes.
        let cells = ReactionCells::with_maps(
            gpu(),
            &d,
            &[pack_state(&naive)],
            &[CellMap::well_mixed(&d.theta)],
            CellMode::Tissue,
        )
        .unwrap();
        let first = cells.run_kernel(gpu(), Kernel::Rates, &inp).unwrap();
        cells.set_columns(gpu(), &[[first[1], first[0], first[1], first[0]]]);
        let second = cells.run_kernel(gpu(), Kernel::Rates, &inp).unwrap();
        let want = d.fast(&naive, &inp).r_p;
        let got = f64::from(second[2]);
        eprintln!(
            "GABA_A/glycine {gaba_gly}, NMDA {nmda}, bolus {bolus}: r_P GPU {got:.4} Hz, f64 {want:.4} Hz"
        );
        assert!(
            (got - want).abs() < 1e-3 * want.max(1.0),
            "GABA_A/glycine {gaba_gly}, NMDA {nmda}, bolus {bolus}: r_P GPU {got} vs f64 {want}"
        );
        if gaba_gly == 1.0 && nmda == 0.0 {
            open = want;
        }
    }
    let closed = m.fast(&naive, &touch).r_p;
    assert!(
        open > 2.0 * closed,
        "the block opens the relay: {closed} → {open} Hz"
    );
}
