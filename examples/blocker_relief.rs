//! A quick screen for calibration trials: in the well-mixed compartment (CPU, seconds), how
//! much each blocker (u = 1 from the injury on) relieves the mechanical index of a pain model,
//! in three windows, with the slow states it acts through at day 7. Parameter edits are read
//! from `DORSALHORN_PARAM_SET`, as for every command:
//!
//! ```text
//! cargo run --release --example blocker_relief -- snl
//! DORSALHORN_PARAM_SET=K_DM=1.0 cargo run --release --example blocker_relief -- cfa
//! cargo run --release --example blocker_relief -- snl course   # the drug-free course, daily to d21
//! ```
//!
//! The well-mixed compartment is stronger than the tissue's laminae I–II means (no spatial
//! dilution of the afferent input), so this ranks levers; `dorsalhorn validate` judges them.

use dorsalhorn::model::network::Model;
use dorsalhorn::model::network::protocol::{PainModel, Protocol, drug_slot};
use dorsalhorn::model::network::state::{Drugs, State};
use dorsalhorn::params::ParamTable;

const BLOCKERS: [&str; 14] = [
    "cx3cr1",
    "ccr2",
    "cxcr2",
    "jnk",
    "cats",
    "cxcr4",
    "p2x4",
    "p38",
    "minocycline",
    "tnf",
    "il1r",
    "mek",
    "trkb",
    "fluorocitrate",
];

fn with(name: &str) -> Drugs {
    let mut d = Drugs::default();
    *drug_slot(&mut d, name) = 1.0;
    d
}

/// Every 6 h to day 14: (day, P_mech, M, P, K, pERK).
fn run(m: &Model, naive: &State, pr: &Protocol) -> Vec<[f64; 6]> {
    let dt = 6.0 * 3600.0;
    let mut s = *naive;
    (1..=56)
        .map(|i| {
            let (t0, t1) = ((i - 1) as f64 * dt, i as f64 * dt);
            s = m.advance(&s, pr, t0, t1);
            let (inp, gain) = m.protocol_input(pr, t1);
            let mech = m.pain_index(&s, &inp, gain, naive).mech;
            [t1 / 86400.0, mech, s.m, s.p, s.k, s.perk]
        })
        .collect()
}

fn main() {
    let pain = match std::env::args().nth(1).as_deref() {
        None | Some("snl") => PainModel::Snl,
        Some("cfa") => PainModel::Cfa,
        Some(other) => {
            eprintln!("blocker_relief: pain model `{other}` is not snl or cfa");
            std::process::exit(2);
        }
    };
    if let Err(e) = ParamTable::with_overrides() {
        eprintln!("blocker_relief: {e}");
        std::process::exit(2);
    }
    let mut m = Model::new(&ParamTable::builtin());
    let naive = m.calibrated_baseline();
    let pr = Protocol {
        pain: Some(pain),
        ..Default::default()
    };
    if std::env::args().nth(2).as_deref() == Some("course") {
        // The drug-free time course, daily to day 21.
        let dt = 86400.0;
        let mut s = naive;
        println!(
            "{:>4} {:>7} {:>5} {:>5} {:>5} {:>5} {:>5} {:>5} {:>6}",
            "day", "P_mech", "M", "rho", "P", "X4", "K", "pERK", "IL10"
        );
        for i in 1..=21 {
            let (t0, t1) = ((i - 1) as f64 * dt, i as f64 * dt);
            s = m.advance(&s, &pr, t0, t1);
            let (inp, gain) = m.protocol_input(&pr, t1);
            let mech = m.pain_index(&s, &inp, gain, &naive).mech;
            println!(
                "{i:>4} {mech:>7.2} {:>5.2} {:>5.2} {:>5.3} {:>5.2} {:>5.2} {:>5.2} {:>6.3}",
                s.m, s.rho_m, s.p, s.x4, s.k, s.perk, s.il10
            );
        }
        return;
    }
    let ctl = run(&m, &naive, &pr);
    let at7 = |r: &[[f64; 6]]| r[27];
    let c = at7(&ctl);
    println!(
        "{pain:?}, no drug, day 7: P_mech {:.2}  M {:.2}  P {:.2}  K {:.2}  pERK {:.2}",
        c[1], c[2], c[3], c[4], c[5]
    );
    println!(
        "{:<14} {:>8} {:>8} {:>8}   day 7: {:>5} {:>5} {:>5} {:>5}",
        "blocker", "d1–2", "d3–7", "d8–14", "M", "P", "K", "pERK"
    );
    for name in BLOCKERS {
        m.drugs = with(name);
        let r = run(&m, &naive, &pr);
        let relief = |a: f64, b: f64| {
            let v: Vec<f64> = ctl
                .iter()
                .zip(&r)
                .filter(|(c, _)| c[0] >= a - 1e-9 && c[0] <= b + 1e-9)
                .map(|(c, x)| (c[1] - x[1]) / (c[1] - 1.0))
                .collect();
            v.iter().sum::<f64>() / v.len() as f64
        };
        let d = at7(&r);
        println!(
            "{name:<14} {:>8.3} {:>8.3} {:>8.3}          {:>5.2} {:>5.2} {:>5.2} {:>5.2}",
            relief(1.0, 2.0),
            relief(3.0, 7.0),
            relief(8.0, 14.0),
            d[2],
            d[3],
            d[4],
            d[5]
        );
    }
}
