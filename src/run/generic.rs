//! The time loop of a headless run: it advances to the next due output or check, reads back,
//! checks the state and writes outputs. Progress and the finiteness check are on by default.

use crate::error::{BlowUp, Error};
use crate::gpu::Gpu;
use crate::gpu::rd_step::Simulation;
use crate::output::{self, Stats, TimeSeries};
use crate::scenario::generic::Scenario;
use std::path::PathBuf;
use std::time::Instant;

/// How a run reports and where it writes.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub out_dir: PathBuf,
    /// Replace an earlier run in `out_dir`.
    pub overwrite: bool,
    /// Show a progress bar (only drawn when stderr is a terminal).
    pub progress: bool,
}

/// What a finished run reports (also written to summary.json).
#[derive(Debug, Clone, serde::Serialize)]
pub struct RunSummary {
    pub completed: bool,
    pub dorsalhorn_version: &'static str,
    /// Command line and source revision.
    pub provenance: output::Provenance,
    pub scenario_name: String,
    pub scenario_origin: String,
    pub steps: u64,
    pub dt_s: f64,
    pub simulated_time_s: f64,
    pub wall_time_s: f64,
    pub adapter: crate::gpu::AdapterSummary,
    pub kernel_layout: crate::gpu::rd_step::KernelLayout,
    pub grid: [usize; 2],
    pub spacing_um: f64,
    pub species: Vec<String>,
    pub output_steps: Vec<u64>,
    pub final_stats: Vec<Stats>,
    pub resolved_scenario: toml::Table,
}

/// Checks a snapshot for NaN/Inf (and negative values when `nonnegative`).
pub fn check_state(scenario: &Scenario, fields: &[Vec<f32>], step: u64) -> Result<(), BlowUp> {
    let nx = scenario.problem.grid.nx;
    for (s, f) in fields.iter().enumerate() {
        let bad = f
            .iter()
            .position(|v| !v.is_finite() || (scenario.checks.nonnegative && *v < 0.0));
        if let Some(i) = bad {
            let v = f[i];
            let hint = if v.is_finite() {
                "The concentration went negative: look for a negative fixed boundary value or \
                 initial value, or a time step too large for the reaction terms (try a smaller \
                 time.dt_s); set checks.nonnegative = false if negative values are meaningful \
                 here."
            } else {
                "The solution diverged: try a smaller time.dt_s (`dorsalhorn check` prints the \
                 diffusion stability numbers)."
            };
            return Err(BlowUp {
                species: scenario.problem.species[s].name.clone(),
                value: v,
                x: i % nx,
                y: i / nx,
                step,
                time_s: step as f64 * scenario.problem.dt_s,
                hint: hint.to_string(),
            });
        }
    }
    Ok(())
}

/// Runs a scenario to the end, writing fields, frames, the time series and the summary, holding
/// the output folder ([`output::RunFolder`]).
pub fn run(gpu: &Gpu, scenario: &Scenario, opts: &RunOptions) -> Result<RunSummary, Error> {
    scenario.check_stability()?;
    output::RunFolder::hold(Some(&opts.out_dir), opts.overwrite, "run", || {
        run_in_claimed(gpu, scenario, opts)
    })
}

fn run_in_claimed(gpu: &Gpu, scenario: &Scenario, opts: &RunOptions) -> Result<RunSummary, Error> {
    let out = &opts.out_dir;
    let p = &scenario.problem;
    let (nx, ny) = (p.grid.nx, p.grid.ny);
    let names: Vec<String> = p.species.iter().map(|s| s.name.clone()).collect();
    for (enabled, sub) in [
        (scenario.output.fields, "fields"),
        (scenario.output.frames, "frames"),
    ] {
        if enabled {
            let d = out.join(sub);
            std::fs::create_dir_all(&d).map_err(|e| Error::io("cannot create folder", &d, e))?;
        }
    }

    let start = Instant::now();
    let mut sim = Simulation::new(gpu, p, &scenario.initial)?;
    let out_steps = scenario.output_steps();
    let mut events: Vec<u64> = out_steps.clone();
    events.extend((0..=scenario.steps).step_by(scenario.checks.every_steps as usize));
    events.sort_unstable();
    events.dedup();

    let bar = crate::output::progress_bar(
        opts.progress,
        scenario.steps,
        "steps ({per_sec}, eta {eta})",
    );
    let mut series = TimeSeries::new(out.join("timeseries.csv"), &names);
    let mut last_stats = Vec::new();
    for &event in &events {
        while sim.step_count() < event {
            crate::interrupt::check(sim.time_s())?;
            let n = (event - sim.step_count()).min(500);
            sim.advance(gpu, n);
            if !bar.is_hidden() {
                gpu.wait()?;
            }
            bar.set_position(sim.step_count());
        }
        let fields = sim.read_all(gpu)?;
        check_state(scenario, &fields, event)?;
        if out_steps.binary_search(&event).is_ok() {
            let stats: Vec<Stats> = fields.iter().map(|f| Stats::of(f)).collect();
            series.push(sim.time_s(), event, &stats)?;
            for &s in &scenario.output.species {
                let stem = format!("{}_{:08}", names[s], event);
                if scenario.output.fields {
                    output::write_atomic(
                        &out.join("fields").join(format!("{stem}.npy")),
                        &output::npy_bytes(&fields[s], ny, nx),
                    )?;
                }
                if scenario.output.frames {
                    let range = scenario.output.display_range[s]
                        .unwrap_or_else(|| scenario.output.colormap.auto_range(&fields[s]));
                    output::write_atomic(
                        &out.join("frames").join(format!("{stem}.png")),
                        &output::field_png(&fields[s], nx, ny, scenario.output.colormap, range),
                    )?;
                }
            }
            last_stats = stats;
            bar.set_message(format!("t = {} s", sim.time_s()));
        }
    }
    bar.finish_and_clear();
    series.flush()?;

    let summary = RunSummary {
        completed: true,
        dorsalhorn_version: env!("CARGO_PKG_VERSION"),
        provenance: output::Provenance::of_this_run(),
        scenario_name: scenario.name.clone(),
        scenario_origin: scenario.origin.clone(),
        steps: scenario.steps,
        dt_s: p.dt_s,
        simulated_time_s: sim.time_s(),
        wall_time_s: start.elapsed().as_secs_f64(),
        adapter: gpu.summary(),
        kernel_layout: sim.layout(),
        grid: [nx, ny],
        spacing_um: p.grid.dx_um,
        species: names,
        output_steps: out_steps,
        final_stats: last_stats,
        resolved_scenario: scenario.resolved_toml.clone(),
    };
    let json = serde_json::to_string_pretty(&summary).expect("summary serialises");
    output::write_atomic(&out.join("summary.json"), json.as_bytes())?;
    Ok(summary)
}
