//! `dorsalhorn check`.

use crate::cli::SCENARIO_HELP;
use dorsalhorn::error::Error;
use dorsalhorn::scenario::{AnyScenario, load_any};
use dorsalhorn::{model, scenario};

/// The options of `dorsalhorn check`.
#[derive(clap::Args)]
pub struct CheckArgs {
    #[arg(help = SCENARIO_HELP, default_value = scenario::DEFAULT_SCENARIO)]
    pub scenario: String,
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
}

pub fn run(args: CheckArgs) -> Result<(), Error> {
    let CheckArgs { scenario, set } = args;
    match load_any(&scenario, &set)? {
        AnyScenario::Engine(sc) => {
            print_check(&sc);
            sc.check_stability()?;
            println!("ok: the scenario is valid and its time step is stable");
            Ok(())
        }
        AnyScenario::Tissue(sc) => {
            print_tissue_check(&sc);
            println!("ok: the scenario is valid");
            Ok(())
        }
    }
}

fn print_tissue_check(sc: &dorsalhorn::scenario::dorsal_horn::TissueScenario) {
    use dorsalhorn::model::anatomy::{Outline, Tissue};
    println!("scenario: {} ({})", sc.name, sc.origin);
    if !sc.description.is_empty() {
        println!("  {}", sc.description);
    }
    let table = dorsalhorn::params::ParamTable::builtin();
    let t = Tissue::rasterise(Outline::new(&table, sc.animal), sc.spacing_um);
    let active = (0..t.nx * t.ny).filter(|&i| t.active(i)).count();
    println!(
        "tissue: {} ({}), {} x {} cells at {} µm, {} in the domain; ventral edge {}",
        sc.animal.name(),
        sc.sex_route(),
        t.nx,
        t.ny,
        sc.spacing_um,
        active,
        if sc.ventral_absorbing {
            "absorbing"
        } else {
            "no-flux"
        }
    );
    println!(
        "time: {} days after {} day(s) of baseline settling; transport step {} s ({} s around \
         sessions and boluses), reaction sub-step {} s",
        sc.duration_s / 86400.0,
        sc.settle_s / 86400.0,
        sc.step_s,
        sc.session_step_s,
        sc.reaction_substep_s
    );
    let p = &sc.protocol;
    println!(
        "pain model: {} at t = {} h",
        p.pain.map_or("none".to_string(), |m| format!("{m:?}")),
        p.pain_onset_s / 3600.0
    );
    for s in &p.sessions {
        println!(
            "EA session: day {:.3}, {:?} {} Hz, {} mA, {} min",
            s.start_s / 86400.0,
            s.mode,
            s.frequency_hz,
            s.intensity_ma,
            s.duration_s / 60.0
        );
    }
    for &b in &p.naloxone_s {
        println!("naloxone bolus at {} h", b / 3600.0);
    }
    for &b in &p.nmda_block_s {
        println!("MK-801 bolus at {} h", b / 3600.0);
    }
    println!("drugs (constant occupancies): {:?}", sc.drugs);
    let kin = dorsalhorn::model::network::pk::Kinetics::from_table(&table);
    for d in &sc.doses {
        let (name, field, _, class) = dorsalhorn::model::network::protocol::DRUG_CATALOGUE[d.drug];
        println!(
            "dose: {name} ({class}; u_{field}) {:?}, {}, at {} h{}",
            d.route,
            kin.describe(d),
            d.start_s / 3600.0,
            if d.duration_s > 0.0 {
                format!(" for {} h", d.duration_s / 3600.0)
            } else {
                String::new()
            }
        );
    }
    println!(
        "descending pathways: RVM {}, A7 {}; 5-HT3 facilitation mode {}",
        if sc.rvm_lesion { "lesioned" } else { "intact" },
        if sc.a7_lesion { "lesioned" } else { "intact" },
        if sc.facilitation { "on" } else { "off" }
    );
    for st in &sc.stimulations {
        println!(
            "stimulation: {:?} × {} of its tonic release from {} h for {} h",
            st.nucleus,
            st.drive,
            st.start_s / 3600.0,
            st.duration_s / 3600.0
        );
    }
    println!(
        "resolved scenario:\n{}",
        toml::to_string_pretty(&sc.resolved_toml).unwrap_or_default()
    );
}

fn print_check(sc: &scenario::generic::Scenario) {
    let p = &sc.problem;
    println!("scenario: {} ({})", sc.name, sc.origin);
    if !sc.description.is_empty() {
        println!("  {}", sc.description);
    }
    println!(
        "grid: {} x {} cells, spacing {} µm ({} x {} µm)",
        p.grid.nx,
        p.grid.ny,
        p.grid.dx_um,
        p.grid.nx as f64 * p.grid.dx_um,
        p.grid.ny as f64 * p.grid.dx_um
    );
    for side in dorsalhorn::grid::Side::ALL {
        println!("  boundary {}: {:?}", side.key(), p.grid.boundary(side));
    }
    println!("model: {:?}", p.model);
    println!(
        "time: dt = {} s, {} steps, t_end = {} s; outputs every {} steps, checks every {} steps",
        p.dt_s,
        sc.steps,
        p.dt_s * sc.steps as f64,
        sc.output.every_steps,
        sc.checks.every_steps
    );
    println!(
        "species (stability number D·dt/dx², explicit limit {}):",
        model::EXPLICIT_STABILITY_LIMIT
    );
    let stiffness = p.step_stiffness(&sc.initial);
    for ((s, nu), z) in p.species.iter().zip(p.stability_numbers()).zip(stiffness) {
        let verdict = if nu > model::EXPLICIT_STABILITY_LIMIT || z > model::EXPLICIT_STEP_LIMIT {
            "UNSTABLE"
        } else if nu > 0.9 * model::EXPLICIT_STABILITY_LIMIT {
            "stable (within 10% of the limit)"
        } else {
            "stable"
        };
        let d = match &s.diffusivity {
            model::Diffusivity::Uniform(d) => format!("D = {d} µm²/s"),
            model::Diffusivity::Field(_) => format!("D varies, max {} µm²/s", s.diffusivity.max()),
        };
        println!(
            "  {:<12} {d}, decay {} 1/s: {nu:.4}; whole step {z:.3} (limit {}) {verdict}",
            s.name,
            s.decay_per_s,
            model::EXPLICIT_STEP_LIMIT
        );
    }
    println!(
        "  (whole step: dt·(8·D/dx² + reaction + decay), the reaction Jacobian bounded at the \
         initial state; a blow-up later in the run is still caught by the run's checks)"
    );
    println!(
        "resolved scenario:\n{}",
        toml::to_string_pretty(&sc.resolved_toml).unwrap_or_default()
    );
}
