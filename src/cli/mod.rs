//! The command line (binary only): the clap types stop here. Each subcommand has a file that
//! turns its options into the library's option types, calls the library and prints.

mod anatomy;
mod bench;
mod check;
mod demo;
mod info;
mod params;
mod plot;
mod render;
mod resume;
pub(crate) mod run;
mod sweep;
mod validate;
mod view;

use clap::Subcommand;
use dorsalhorn::error::Error;

pub(crate) const SCENARIO_HELP: &str =
    "Scenario: a .toml file, or a built-in name (cfa_ea_2hz, cfa_sham, gray_scott)";

#[derive(Subcommand)]
pub enum Command {
    /// Run a scenario headless, writing fields (NPY), frames (PNG), composed figures (PNG) and
    /// a movie, timeseries.csv and summary.json; no display needed. The default is the dorsal-horn model: rat CFA with daily 2 Hz EA.
    Run(run::RunArgs),
    /// Validate a scenario, print it resolved, and print the stability number of each species.
    Check(check::CheckArgs),
    /// Open a live window on a dorsal-horn scenario: fields in colour with colorbars, scale bar
    /// and lamina outlines; play, pause, step and speed; start EA, apply drugs, trigger a pain
    /// model; click to place probes, plot them and the pain index, export CSV and screenshots.
    /// Needs a display (X11); without one, use `dorsalhorn run`.
    View(view::ViewArgs),
    /// Run the validation suite: the published findings of MODEL.md §5 (validation/V*.toml),
    /// the analytic cases and the §8.1 baseline checks. Prints a table and writes
    /// validation.md, validation.json, one SVG figure per finding and each arm's time series.
    /// Exits 0 whether or not findings reproduce; non-zero only on errors.
    Validate(validate::ValidateArgs),
    /// Print the GPU adapters, their backend and the limits that bound the grid size.
    Info,
    /// Draw the labelled anatomy of the transverse section (laminae, white matter, DREZ) at a
    /// grid spacing, as the model rasterises it.
    Anatomy(anatomy::AnatomyArgs),
    /// Print the dorsal-horn model's parameter table: value and unit as in the science spec,
    /// the SI value used, the evidence tag (S/L/E) and the source.
    Params(params::ParamsArgs),
    /// Continue an interrupted dorsal-horn run from the checkpoint in its folder (written by
    /// `run --checkpoint-every`, every 10 min of wall time by default, and on Ctrl-C/SIGTERM):
    /// the files it writes are byte for byte those of the run had it never stopped.
    Resume(resume::ResumeArgs),
    /// Draw a finished run's figures and movie again from its folder (other fields, ranges,
    /// layout, size, theme or movie format through --set output.figure_*), without running it.
    Render(render::RenderArgs),
    /// Sweep a dorsal-horn scenario over the Cartesian product of --vary values: one run
    /// folder per member, summary.csv of outcome metrics, plots/outcomes.svg; --shard K/N for
    /// job arrays, `sweep merge` to join them; run again to resume.
    Sweep(sweep::SweepArgs),
    /// Plot finished runs side by side: chosen columns of their timeseries.csv (default: pain
    /// indices, PWT, PWL, cytokines, glia and opioid occupancy in laminae I–II) with each run's
    /// EA sessions, pain-model onset and doses marked, as SVG or PNG.
    Plot(plot::PlotArgs),
    /// Guided teaching demonstrations: `--list` the built-in ones, play one in the window
    /// (captions, next/previous step, evidence and source, "What if…?" for free play) or
    /// `--record DIR` it without a display (a captioned figure per step, a movie, and the
    /// demo's claims checked on its run).
    Demo(demo::DemoArgs),
    /// Benchmark the Gray–Scott step (species-cell-updates per second), optionally beside the
    /// NumPy and py-pde peers run in the same invocation.
    Bench(bench::BenchArgs),
}

/// Runs one subcommand.
pub fn dispatch(cmd: Command) -> Result<(), Error> {
    // A bad DORSALHORN_PARAM_SET is an input error, reported before anything runs.
    if dorsalhorn::params::ParamTable::with_overrides()?.is_some() {
        let var = dorsalhorn::params::PARAM_SET_VAR;
        eprintln!(
            "note: {var}={}: the model runs with these edited parameters",
            std::env::var(var).unwrap_or_default()
        );
    }
    if matches!(
        cmd,
        Command::Run(_) | Command::Resume(_) | Command::Validate(_) | Command::Sweep(_)
    ) || matches!(&cmd, Command::Demo(a) if a.record.is_some()
    ) {
        dorsalhorn::interrupt::install().map_err(|e| {
            Error::Output(format!("cannot install the Ctrl-C/SIGTERM handler: {e}"))
        })?;
    }
    match cmd {
        Command::Run(args) => run::run(args),
        Command::Check(args) => check::run(args),
        Command::View(args) => view::run(args),
        Command::Validate(args) => validate::run(args),
        Command::Info => info::run(),
        Command::Anatomy(args) => anatomy::run(args),
        Command::Params(args) => params::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Plot(args) => plot::run(args),
        Command::Sweep(args) => sweep::run(args),
        Command::Render(args) => render::run(args),
        Command::Resume(args) => resume::run(args),
        Command::Demo(args) => demo::run(args),
    }
}
