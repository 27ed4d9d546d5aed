//! The `dorsalhorn` command line: a thin layer over the library. It parses arguments, calls the
//! library, prints the whole error chain and maps errors to exit codes (see `error::exit`).

use clap::{Parser, Subcommand};
use dorsalhorn::error::{Error, exit};
use dorsalhorn::gpu::engine;
use dorsalhorn::run::{bench, generic as controller};
use dorsalhorn::{gpu, model, scenario, validate};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "dorsalhorn",
    version,
    about = "GPU reaction–diffusion simulator of spinal dorsal-horn tissue"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

const SCENARIO_HELP: &str =
    "Scenario: a .toml file, or a built-in name (cfa_ea_2hz, cfa_sham, gray_scott)";

#[derive(Subcommand)]
enum Command {
    /// Run a scenario headless, writing fields (NPY), frames (PNG), timeseries.csv and
    /// summary.json. The default is the dorsal-horn model: rat CFA with daily 2 Hz EA.
    Run {
        #[arg(help = SCENARIO_HELP, default_value = scenario::DEFAULT_SCENARIO)]
        scenario: String,
        /// Output folder (default: out/<scenario name>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Override a scenario key, e.g. --set grid.size=[200,136] --set time.steps=100.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Replace an earlier run in the output folder.
        #[arg(long)]
        overwrite: bool,
        /// No progress bar and no final report.
        #[arg(long, short)]
        quiet: bool,
        /// Print where the wall time went (set-up, baseline, transport, reaction, read-outs,
        /// writing; also in summary.json for every dorsal-horn run).
        #[arg(long)]
        profile: bool,
    },
    /// Validate a scenario, print it resolved, and print the stability number of each species.
    Check {
        #[arg(help = SCENARIO_HELP, default_value = scenario::DEFAULT_SCENARIO)]
        scenario: String,
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
    },
    /// Open a live window on a dorsal-horn scenario: fields in colour with colorbars, scale bar
    /// and lamina outlines; play, pause, step and speed; start EA, apply drugs, trigger a pain
    /// model; click to place probes, plot them and the pain index, export CSV and screenshots.
    /// Needs a display (X11); without one, use `dorsalhorn run`.
    View {
        #[arg(help = SCENARIO_HELP, default_value = scenario::DEFAULT_SCENARIO)]
        scenario: String,
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Fields of the panels: 1, 2 or 4 of the states and rates (`dorsalhorn check` lists
        /// them), e.g. --fields IL1b,M,ENK,r_P.
        #[arg(long, value_delimiter = ',', default_values_t = ["IL1b".to_string(), "M".to_string(), "ENK".to_string(), "r_P".to_string()])]
        fields: Vec<String>,
        /// viridis, magma or diverging (default: the scenario's output.colormap).
        #[arg(long)]
        colormap: Option<String>,
        /// Start with the lamina outlines hidden.
        #[arg(long)]
        no_outlines: bool,
        /// Start paused (Space plays).
        #[arg(long)]
        paused: bool,
        /// Model hours per second of wall time while playing.
        #[arg(long, default_value_t = 2.0)]
        speed_h: f64,
        /// Window size in pixels, WIDTHxHEIGHT.
        #[arg(long, default_value = "1400x900")]
        size: String,
        /// Folder for screenshots, probe CSVs and the saved scenario (default out/view).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Scripted mode: draw this many frames, then exit (for tests and benchmarks).
        #[arg(long)]
        frames: Option<u64>,
        /// Scripted mode: transport steps per frame, waited for so the run is deterministic;
        /// 0 plays freely at --speed-h as in the window (for frame-rate benchmarks).
        #[arg(long, default_value_t = 1)]
        steps_per_frame: u64,
        /// Scripted mode: write a PNG of the window after the last frame (and a JSON beside it
        /// with the panels' pixel rectangles, ranges, frame rate and time to first frame).
        #[arg(long)]
        screenshot: Option<PathBuf>,
    },
    /// Run the validation suite: the published findings of MODEL.md §5 (validation/V*.toml),
    /// the analytic cases and the §8.1 baseline checks. Prints a table and writes
    /// validation.md, validation.json, one SVG figure per finding and each arm's time series.
    /// Exits 0 whether or not findings reproduce; non-zero only on errors.
    Validate {
        /// Findings and groups to run, comma-separated: IDs (V12), `analytic`, `baseline`,
        /// `findings` (all findings) or `quick` (the CI subset). Default: everything.
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
        /// `classroom` (40 µm: every finding in 50–115 min on 2 cores without a GPU, depending on
        /// the machine), `default` (10 µm, the grid of `dorsalhorn run`), or a spacing in µm.
        #[arg(long, default_value = "classroom")]
        grid: String,
        /// Output folder (default out/validation).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Replace an earlier report in the output folder.
        #[arg(long)]
        overwrite: bool,
        /// Folder of the finding files (default: ./validation, else the one shipped with the source).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// List the findings (ID, protocol, model days, quick) and exit.
        #[arg(long)]
        list: bool,
        /// Arms run at once (1 to 64), in one process sharing the GPU and the settled baselines.
        /// The report is the same for any number of jobs. Two (the default) keep the device
        /// busy while the other arm's host work runs: the full classroom suite took 883 s with 2
        /// jobs against 1001 s with 1 on 2 cores with lavapipe (BENCHMARKS.md).
        #[arg(long, default_value_t = 2)]
        jobs: usize,
        /// No progress output.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Print the GPU adapters, their backend and the limits that bound the grid size.
    Info,
    /// Draw the labelled anatomy of the transverse section (laminae, white matter, DREZ) at a
    /// grid spacing, as the model rasterises it.
    Anatomy {
        /// rat or mouse.
        #[arg(long, default_value = "rat")]
        species: String,
        /// Grid spacing in µm (rat default 5; 10 is the classroom grid).
        #[arg(long, default_value_t = 5.0)]
        spacing_um: f64,
        /// PNG file to write.
        #[arg(long)]
        out: PathBuf,
        /// Also write every spatial map (termination, density, varicosity, α, λ) as
        /// `<name>.png` (viridis, 0 … max) and `<name>.npy` into this folder.
        #[arg(long)]
        maps: Option<PathBuf>,
    },
    /// Print the dorsal-horn model's parameter table: value and unit as in the science spec,
    /// the SI value used, the evidence tag (S/L/E) and the source.
    Params {
        /// Markdown (the format of docs/model-parameters.md) instead of plain text.
        #[arg(long)]
        markdown: bool,
    },
    /// Benchmark the Gray–Scott step (species-cell-updates per second), optionally beside the
    /// NumPy and py-pde peers run in the same invocation.
    Bench {
        /// Grid sides to measure.
        #[arg(long, value_delimiter = ',', default_values_t = [256usize, 512, 1024])]
        sizes: Vec<usize>,
        /// Steps per timed repeat.
        #[arg(long, default_value_t = 500)]
        steps: u64,
        /// Timed repeats (best is reported).
        #[arg(long, default_value_t = 3)]
        repeats: usize,
        /// Rows walked per invocation (default: chosen for the adapter).
        #[arg(long)]
        rows: Option<u32>,
        /// Workgroup width (default: chosen for the adapter).
        #[arg(long)]
        workgroup: Option<u32>,
        /// Also run the peers with this Python (needs numpy and py-pde installed).
        #[arg(long, value_name = "PYTHON")]
        peers: Option<String>,
        /// Folder holding gray_scott_numpy.py and gray_scott_pypde.py.
        #[arg(long, default_value = "bench/peers")]
        peers_dir: PathBuf,
        /// Steps for the peers (they are slower; fewer steps keep the run short).
        #[arg(long, default_value_t = 200)]
        peer_steps: u64,
        /// Peer scripts to run (in --peers-dir).
        #[arg(long, value_delimiter = ',', default_values_t = ["gray_scott_numpy.py".to_string(), "gray_scott_pypde.py".to_string()])]
        peer_scripts: Vec<String>,
        /// Alternating rounds of (dorsalhorn, peers); medians are reported, since shared
        /// machines drift between and during runs.
        #[arg(long, default_value_t = 3)]
        rounds: usize,
    },
}

/// Gives the process a private `XDG_RUNTIME_DIR` when it has none. Mesa's Vulkan device-select
/// layer probes for a Wayland display when the instance is created, and libwayland prints
/// "error: XDG_RUNTIME_DIR is invalid or not set in the environment" on headless machines (every
/// GPU command, also on success), which reads as our error. With a private empty directory the
/// probe finds no display and stays silent.
#[cfg(target_os = "linux")]
fn private_runtime_dir() {
    let set =
        std::env::var_os("XDG_RUNTIME_DIR").is_some_and(|d| std::path::Path::new(&d).is_dir());
    if set {
        return;
    }
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    let uid = std::fs::metadata("/proc/self")
        .map(|m| m.uid())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("dorsalhorn-runtime-{uid}"));
    let _ = std::fs::DirBuilder::new().mode(0o700).create(&dir);
    let ours = std::fs::metadata(&dir).is_ok_and(|m| m.is_dir() && m.uid() == uid);
    if ours {
        #[allow(
            unsafe_code,
            reason = "set_var is sound here: it runs first in main, before any thread exists"
        )]
        // SAFETY: no other thread exists yet, so nothing reads the environment concurrently.
        unsafe {
            std::env::set_var("XDG_RUNTIME_DIR", &dir);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn private_runtime_dir() {}

fn main() {
    private_runtime_dir();
    let cli = Cli::parse();
    match dispatch(cli.command) {
        Ok(()) => std::process::exit(exit::OK),
        Err(e) => {
            eprintln!("error: {e}");
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                eprintln!("  caused by: {s}");
                source = s.source();
            }
            std::process::exit(e.exit_code());
        }
    }
}

/// How the baseline of `sc` is prepared, for the start-up line.
fn settle_note(sc: &dorsalhorn::scenario::dorsal_horn::TissueScenario) -> String {
    match sc.settle {
        dorsalhorn::scenario::dorsal_horn::SettleMode::Steady => {
            "its steady state, or the cached one ($DORSALHORN_CACHE_DIR)".into()
        }
        dorsalhorn::scenario::dorsal_horn::SettleMode::Integrate => format!(
            "{} day(s) of settling, or the cached result ($DORSALHORN_CACHE_DIR)",
            sc.settle_s / 86400.0
        ),
    }
}

fn dispatch(cmd: Command) -> Result<(), Error> {
    // A bad DORSALHORN_PARAM_SET is an input error, reported before anything runs.
    if dorsalhorn::params::ParamTable::with_overrides()?.is_some() {
        let var = dorsalhorn::params::PARAM_SET_VAR;
        eprintln!(
            "note: {var}={}: the model runs with these edited parameters",
            std::env::var(var).unwrap_or_default()
        );
    }
    if matches!(cmd, Command::Run { .. } | Command::Validate { .. }) {
        dorsalhorn::interrupt::install().map_err(|e| {
            Error::Output(format!("cannot install the Ctrl-C/SIGTERM handler: {e}"))
        })?;
    }
    match cmd {
        Command::Run {
            scenario,
            out,
            set,
            overwrite,
            quiet,
            profile,
        } => match load_any(&scenario, &set)? {
            AnyScenario::Tissue(sc) => {
                let out_dir = out.unwrap_or_else(|| PathBuf::from("out").join(&sc.name));
                let gpu = gpu::Gpu::new()?;
                if !quiet {
                    eprintln!(
                        "dorsalhorn {}: running `{}` ({} {} days, {} µm grid) on {} ({:?})",
                        env!("CARGO_PKG_VERSION"),
                        sc.name,
                        sc.animal.name(),
                        sc.duration_s / 86400.0,
                        sc.spacing_um,
                        gpu.info.name,
                        gpu.info.backend
                    );
                    eprintln!("  preparing the baseline tissue ({}) ...", settle_note(&sc));
                }
                let opts = dorsalhorn::run::dorsal_horn::TissueRunOptions {
                    out_dir: Some(out_dir.clone()),
                    overwrite,
                    progress: !quiet,
                    cache: dorsalhorn::tissue::baseline::BaselineCache::from_env(),
                };
                let run = dorsalhorn::run::dorsal_horn::run(&gpu, &sc, &opts)?;
                if profile {
                    eprint!("{}", run.summary.profile.table(run.summary.wall_time_s));
                }
                if !quiet {
                    let s = &run.summary;
                    let r = &s.final_readout;
                    eprintln!(
                        "done: {:.2} days simulated in {:.1} s wall ({} transport steps, {} \
                         reaction sub-steps, {:.0}x fewer stencil passes than forward Euler).\n  at the end: P_mech {:.2} (PWT {:.1} g), P_heat \
                         {:.2} (PWL {:.1} s), IL-1β in laminae I–II {:.3} EC50\n  outputs in \
                         {}/ (timeseries.csv: per-lamina means and pain indices; fields/*.npy; \
                         frames/*.png; summary.json)",
                        s.simulated_days,
                        s.wall_time_s,
                        s.transport_steps,
                        s.reaction_substeps,
                        s.explicit_stencil_passes / s.stencil_passes.max(1) as f64,
                        r.p_mech,
                        r.pwt_g,
                        r.p_heat,
                        r.pwl_s,
                        r.mean("I-II", "IL1b").unwrap_or(f64::NAN),
                        out_dir.display()
                    );
                }
                Ok(())
            }
            AnyScenario::Engine(sc) => {
                let out_dir = out.unwrap_or_else(|| PathBuf::from("out").join(&sc.name));
                sc.check_stability()?;
                let gpu = gpu::Gpu::new()?;
                if !quiet {
                    eprintln!(
                        "dorsalhorn {}: running `{}` ({} x {} cells, {} species, {} steps) on {} ({:?})",
                        env!("CARGO_PKG_VERSION"),
                        sc.name,
                        sc.problem.grid.nx,
                        sc.problem.grid.ny,
                        sc.problem.species.len(),
                        sc.steps,
                        gpu.info.name,
                        gpu.info.backend
                    );
                }
                let opts = controller::RunOptions {
                    out_dir: out_dir.clone(),
                    overwrite,
                    progress: !quiet,
                };
                let summary = controller::run(&gpu, &sc, &opts)?;
                if !quiet {
                    eprintln!(
                        "done: {} steps, t = {} s simulated in {:.2} s wall. Outputs in {}/ \
                         (fields/*.npy, frames/*.png, timeseries.csv, summary.json)",
                        summary.steps,
                        summary.simulated_time_s,
                        summary.wall_time_s,
                        out_dir.display()
                    );
                }
                Ok(())
            }
        },
        Command::View {
            scenario,
            set,
            fields,
            colormap,
            no_outlines,
            paused,
            speed_h,
            size,
            out,
            frames,
            steps_per_frame,
            screenshot,
        } => {
            let sc = match load_any(&scenario, &set)? {
                AnyScenario::Tissue(sc) => *sc,
                AnyScenario::Engine(sc) => {
                    return Err(dorsalhorn::error::ScenarioError::new(
                        &sc.origin,
                        "is an engine (Gray–Scott) scenario: `dorsalhorn view` shows dorsal-horn \
                         scenarios (with a [tissue] table), e.g. cfa_ea_2hz; run this one with \
                         `dorsalhorn run`",
                    )
                    .into());
                }
            };
            let bad = |key: &str, msg: String| -> Error {
                dorsalhorn::error::ScenarioError::new(key, msg).into()
            };
            if ![1, 2, 4].contains(&fields.len()) {
                return Err(bad(
                    "--fields",
                    format!("{} fields given: give 1, 2 or 4", fields.len()),
                ));
            }
            let mut field_idx = Vec::new();
            for f in &fields {
                field_idx.push(dorsalhorn::view::field_index(f).ok_or_else(|| {
                    let names: Vec<&str> = (0..dorsalhorn::view::FIELDS)
                        .map(dorsalhorn::tissue::observe::field_name)
                        .collect();
                    bad(
                        "--fields",
                        format!("`{f}` is not a field: use {}", names.join(", ")),
                    )
                })?);
            }
            let colormap = match colormap {
                None => sc.colormap,
                Some(c) => dorsalhorn::colormap::Colormap::from_name(&c).ok_or_else(|| {
                    bad(
                        "--colormap",
                        format!("`{c}` is not allowed: use viridis, magma or diverging"),
                    )
                })?,
            };
            if !(speed_h.is_finite() && (1.0 / 60.0..=96.0).contains(&speed_h)) {
                return Err(bad(
                    "--speed-h",
                    format!("{speed_h} is out of range: allowed 1/60 … 96 model hours per second"),
                ));
            }
            let parsed: Option<[u32; 2]> = size
                .split_once(['x', 'X'])
                .and_then(|(w, h)| Some([w.trim().parse().ok()?, h.trim().parse().ok()?]));
            let size = match parsed {
                Some([w, h]) if (320..=8192).contains(&w) && (240..=8192).contains(&h) => [w, h],
                _ => {
                    return Err(bad(
                        "--size",
                        format!(
                            "`{size}` is not WIDTHxHEIGHT with 320 ≤ WIDTH, 240 ≤ HEIGHT ≤ 8192, e.g. 1400x900"
                        ),
                    ));
                }
            };
            if frames == Some(0) {
                return Err(bad("--frames", "0: give at least 1 frame".into()));
            }
            if screenshot.is_some() && frames.is_none() {
                return Err(bad(
                    "--screenshot",
                    "needs --frames N (scripted mode); in the window press S for a screenshot"
                        .into(),
                ));
            }
            let script = frames.map(|frames| dorsalhorn::view::Script {
                frames,
                steps_per_frame,
                screenshot,
            });
            dorsalhorn::view::view(dorsalhorn::view::ViewOptions {
                spec: scenario,
                scenario: sc,
                fields: field_idx,
                colormap,
                outlines: !no_outlines,
                paused,
                out_dir: out.unwrap_or_else(|| PathBuf::from("out").join("view")),
                size,
                speed: speed_h * 3600.0,
                script,
            })
        }
        Command::Check { scenario, set } => match load_any(&scenario, &set)? {
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
        },
        Command::Anatomy {
            species,
            spacing_um,
            out,
            maps,
        } => {
            use dorsalhorn::model::anatomy::{Animal, Outline, Tissue};
            let animal = Animal::from_name(&species).ok_or_else(|| {
                dorsalhorn::error::ScenarioError::new(
                    "--species",
                    format!("`{species}` is not supported: allowed rat, mouse"),
                )
            })?;
            if !(spacing_um.is_finite() && (0.5..=50.0).contains(&spacing_um)) {
                return Err(dorsalhorn::error::ScenarioError::new(
                    "--spacing-um",
                    format!("{spacing_um} is out of range: allowed 0.5 ≤ spacing ≤ 50 µm"),
                )
                .into());
            }
            let outline = Outline::new(&dorsalhorn::params::ParamTable::builtin(), animal);
            let tissue = Tissue::rasterise(outline, spacing_um);
            dorsalhorn::output::write_atomic(&out, &tissue.figure().png())?;
            if let Some(dir) = maps {
                std::fs::create_dir_all(&dir)
                    .map_err(|e| Error::io("cannot create the maps folder", &dir, e))?;
                let m = tissue.maps(&dorsalhorn::params::ParamTable::builtin());
                for (name, v) in dorsalhorn::model::anatomy::Maps::NAMES.iter().zip(m.all()) {
                    let hi = v.iter().copied().fold(0.0f32, f32::max).max(1e-30);
                    let png = dorsalhorn::output::field_png(
                        v,
                        tissue.nx,
                        tissue.ny,
                        dorsalhorn::colormap::Colormap::Viridis,
                        (0.0, hi),
                    );
                    dorsalhorn::output::write_atomic(&dir.join(format!("{name}.png")), &png)?;
                    let npy = dorsalhorn::output::npy_bytes(v, tissue.ny, tissue.nx);
                    dorsalhorn::output::write_atomic(&dir.join(format!("{name}.npy")), &npy)?;
                }
                eprintln!("wrote {} maps into {}", m.all().len(), dir.display());
            }
            eprintln!(
                "wrote {} ({} anatomy, {} x {} cells at {} µm)",
                out.display(),
                animal.name(),
                tissue.nx,
                tissue.ny,
                spacing_um
            );
            Ok(())
        }
        Command::Params { markdown } => {
            let table = dorsalhorn::params::ParamTable::builtin();
            print!(
                "{}",
                if markdown {
                    table.markdown()
                } else {
                    table.text()
                }
            );
            Ok(())
        }
        Command::Validate {
            only,
            grid,
            out,
            overwrite,
            dir,
            list,
            jobs,
            quiet,
        } => {
            if !(1..=64).contains(&jobs) {
                return Err(Error::Scenario(dorsalhorn::error::ScenarioError::new(
                    "--jobs",
                    format!(
                        "{jobs} is out of range: use 1 to 64 arms at once (1 runs them one after \
                         another)"
                    ),
                )));
            }
            let (grid_name, spacing_um) = match validate::GRIDS.iter().find(|g| g.0 == grid) {
                Some(&(n, s)) => (n.to_string(), s),
                None => match grid.parse::<f64>() {
                    Ok(s) if (1.0..=100.0).contains(&s) => (format!("{s} µm"), s),
                    _ => {
                        return Err(Error::Scenario(dorsalhorn::error::ScenarioError::new(
                            "--grid",
                            format!(
                                "`{grid}` is not a grid: use classroom (40 µm), default (10 µm) \
                                 or a spacing in µm from 1 to 100"
                            ),
                        )));
                    }
                },
            };
            let dir = dir.unwrap_or_else(validate::default_dir);
            let findings = validate::load(&dir, spacing_um)?;
            let (findings, analytic, baseline) = validate::select(findings, &only)?;
            if list {
                // The selection (--only) applies to the list too.
                for f in &findings {
                    println!(
                        "{:<4} {:<5} {:>5.1} d  {:<28} {}",
                        f.about.id,
                        if f.quick { "quick" } else { "" },
                        f.days(),
                        f.about.protocol,
                        f.about.finding
                    );
                }
                return Ok(());
            }
            let out = out.unwrap_or_else(|| PathBuf::from("out").join("validation"));
            let gpu = gpu::Gpu::new()?;
            let command = std::iter::once("dorsalhorn".to_string())
                .chain(std::env::args().skip(1))
                .collect::<Vec<_>>()
                .join(" ");
            if !quiet {
                eprintln!(
                    "dorsalhorn {}: validating {} finding(s){}{} on the {grid_name} grid ({spacing_um} µm) on {} ({:?})",
                    env!("CARGO_PKG_VERSION"),
                    findings.len(),
                    if analytic { " + analytic" } else { "" },
                    if baseline { " + baseline" } else { "" },
                    gpu.info.name,
                    gpu.info.backend
                );
            }
            let opts = validate::Options {
                grid_name,
                spacing_um,
                out: Some(out.clone()),
                overwrite,
                progress: !quiet,
                jobs,
            };
            let report = validate::run(&gpu, &findings, analytic, baseline, &opts, &command)?;
            print!("{}", validate::table(&report));
            if !quiet {
                eprintln!(
                    "  report in {}/validation.md (figures/, arms/, validation.json)",
                    out.display()
                );
            }
            Ok(())
        }
        Command::Info => {
            let adapters = gpu::list_adapters();
            if adapters.is_empty() {
                return Err(dorsalhorn::error::GpuError::NoAdapter {
                    detail: "no adapter on any backend".into(),
                }
                .into());
            }
            // The adapter the other commands would open; its error (a WGPU_ADAPTER_NAME that
            // matches nothing, a device that cannot be opened) follows the list, with exit 3.
            let opened = gpu::Gpu::new();
            let chosen = opened.as_ref().ok().map(|g| g.summary());
            for (a, l) in adapters {
                let is_default = chosen
                    .as_ref()
                    .is_some_and(|c| c.name == a.name && c.backend == a.backend);
                let mark = if is_default { " (default)" } else { "" };
                println!("adapter: {}{mark}", a.name);
                println!(
                    "  backend: {}   type: {}   driver: {} {}",
                    a.backend, a.device_type, a.driver, a.driver_info
                );
                println!(
                    "  max_texture_dimension_2d: {}  -> largest grid {} x {} cells",
                    l.max_texture_dimension_2d,
                    l.max_texture_dimension_2d as u64 * 4,
                    l.max_texture_dimension_2d
                );
                println!(
                    "  max_texture_array_layers: {}  -> at most {} species",
                    l.max_texture_array_layers,
                    (l.max_texture_array_layers / 2).min(model::MAX_SPECIES as u32)
                );
                println!("  max_buffer_size: {} bytes", l.max_buffer_size);
                println!(
                    "  max_compute_workgroup_size_x: {}",
                    l.max_compute_workgroup_size_x
                );
            }
            opened.map(|_| ()).map_err(Error::from)
        }
        Command::Bench {
            sizes,
            steps,
            repeats,
            rows,
            workgroup,
            peers,
            peers_dir,
            peer_steps,
            peer_scripts,
            rounds,
        } => {
            let bad = |key: &str, msg: String| -> Error {
                dorsalhorn::error::ScenarioError::new(key, msg).into()
            };
            if let Some(n) = sizes.iter().find(|&&n| !(8..=16384).contains(&n)) {
                return Err(bad(
                    "--sizes",
                    format!("{n} is out of range: allowed 8 ≤ N ≤ 16384 cells"),
                ));
            }
            if steps == 0 || peer_steps == 0 {
                return Err(bad("--steps", "step counts must be ≥ 1".into()));
            }
            if rows == Some(0) || workgroup.is_some_and(|w| !(1..=256).contains(&w)) {
                return Err(bad(
                    "--rows/--workgroup",
                    "allowed: rows ≥ 1, 1 ≤ workgroup ≤ 256 (the WebGPU per-workgroup limit)"
                        .into(),
                ));
            }
            let gpu = gpu::Gpu::new()?;
            let mut layout = engine::KernelLayout::for_adapter(&gpu.info);
            if let Some(r) = rows {
                layout.rows = r.max(1);
            }
            if let Some(w) = workgroup {
                layout.workgroup_x = w.max(1);
            }
            println!(
                "adapter: {} ({:?}, {:?}); layout: {} rows/invocation, workgroup {}x1",
                gpu.info.name,
                gpu.info.backend,
                gpu.info.device_type,
                layout.rows,
                layout.workgroup_x
            );
            let peer_setup = peers.as_deref().map(|py| bench::PeerSetup {
                python: py,
                dir: &peers_dir,
                steps: peer_steps,
                scripts: &peer_scripts,
            });
            println!(
                "| N | dorsalhorn species-cell-updates/s (median of {rounds}) | peer | peer species-cell-updates/s (median) | ratio |"
            );
            println!("|---|---|---|---|---|");
            for n in sizes {
                let row =
                    bench::compare(&gpu, n, steps, repeats, layout, rounds, peer_setup.as_ref())?;
                if row.peers.is_empty() {
                    println!("| {n} | {:.3e} | - | - | - |", row.ours);
                }
                for (name, rate) in &row.peers {
                    println!(
                        "| {n} | {:.3e} | {name} | {rate:.3e} | {:.2}x |",
                        row.ours,
                        row.ours / rate
                    );
                }
            }
            Ok(())
        }
    }
}

enum AnyScenario {
    Engine(Box<scenario::Scenario>),
    Tissue(Box<dorsalhorn::scenario::dorsal_horn::TissueScenario>),
}

/// Loads a scenario of either kind: a file or built-in with a `[tissue]` table is a dorsal-horn
/// scenario, anything else an engine scenario.
fn load_any(spec: &str, set: &[String]) -> Result<AnyScenario, Error> {
    let (origin, text) = dorsalhorn::scenario::read_spec(spec)?;
    let mut table: toml::Table = toml::from_str(&text).map_err(|e| {
        dorsalhorn::error::ScenarioError::new(&origin, format!("not valid TOML: {e}"))
    })?;
    for o in set {
        scenario::apply_override(&mut table, o)?;
    }
    if dorsalhorn::scenario::dorsal_horn::is_tissue(&table) {
        Ok(AnyScenario::Tissue(Box::new(
            dorsalhorn::scenario::dorsal_horn::from_table(&origin, table)?,
        )))
    } else {
        Ok(AnyScenario::Engine(Box::new(scenario::from_str(
            &origin, &text, set,
        )?)))
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
        if sc.female { "female" } else { "male" },
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
    for d in &sc.doses {
        let (name, field, _, class) = dorsalhorn::model::network::protocol::DRUG_CATALOGUE[d.drug];
        println!(
            "dose: {name} ({class}; u_{field}) {:?}, u_max {}, at {} h{}",
            d.route,
            d.u_max,
            d.start_s / 3600.0,
            if d.duration_s > 0.0 {
                format!(" for {} h", d.duration_s / 3600.0)
            } else {
                String::new()
            }
        );
    }
    println!(
        "descending pathways: RVM {}, A7 {}",
        if sc.rvm_lesion { "lesioned" } else { "intact" },
        if sc.a7_lesion { "lesioned" } else { "intact" }
    );
    println!(
        "resolved scenario:\n{}",
        toml::to_string_pretty(&sc.resolved_toml).unwrap_or_default()
    );
}

fn print_check(sc: &scenario::Scenario) {
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
