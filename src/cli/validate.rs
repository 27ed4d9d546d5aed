//! `dorsalhorn validate`.

use dorsalhorn::error::Error;
use dorsalhorn::{gpu, validate};
use std::path::PathBuf;

/// The options of `dorsalhorn validate`.
#[derive(clap::Args)]
pub struct ValidateArgs {
    /// Findings and groups to run, comma-separated: IDs (V12), `analytic`, `baseline`,
    /// `findings` (all findings), `quick` (the CI subset), `calibration` or `held-out` (the two
    /// parts of the suite: tune on the first, judge on the second) or a group of findings
    /// (`spatial`). Default: everything.
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// `classroom` (40 µm: all 67 findings in about 40 min on 2 cores without a GPU),
    /// `default` (10 µm, the grid of `dorsalhorn run`), or a spacing in µm.
    #[arg(long, default_value = "classroom")]
    pub grid: String,
    /// Output folder (default out/validation).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace an earlier report in the output folder.
    #[arg(long)]
    pub overwrite: bool,
    /// Folder of the finding files (default: ./validation, else the one shipped with the source).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// List the findings (ID, part of the split, quick, group, model days, protocol) and exit.
    #[arg(long)]
    pub list: bool,
    /// Arms run at once (1 to 64), in one process sharing the GPU and the settled baselines.
    /// The report is the same for any number of jobs. Two (the default) keep the device
    /// busy while the other arm's host work runs: the full classroom suite took 883 s with 2
    /// jobs against 1001 s with 1 on 2 cores with lavapipe (BENCHMARKS.md).
    #[arg(long, default_value_t = 2)]
    pub jobs: usize,
    /// No progress output.
    #[arg(long, short)]
    pub quiet: bool,
}

pub fn run(args: ValidateArgs) -> Result<(), Error> {
    let ValidateArgs {
        only,
        grid,
        out,
        overwrite,
        dir,
        list,
        jobs,
        quiet,
    } = args;
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
    let dir = dir.unwrap_or_else(validate::finding::default_dir);
    let findings = validate::finding::load(&dir, spacing_um)?;
    let (findings, analytic, baseline) = validate::runner::select(findings, &only)?;
    if list {
        // The selection (--only) applies to the list too.
        for f in &findings {
            println!(
                "{:<4} {:<11} {:<5} {:<8} {:>5.1} d  {:<28} {}",
                f.about.id,
                f.about.split.name(),
                if f.quick { "quick" } else { "" },
                f.group.as_deref().unwrap_or(""),
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
    let opts = validate::runner::Options {
        grid_name,
        spacing_um,
        out: Some(out.clone()),
        overwrite,
        progress: !quiet,
        jobs,
        history: validate::split::load_history(&dir)?,
    };
    let report = validate::runner::run(&gpu, &findings, analytic, baseline, &opts, &command)?;
    print!("{}", validate::report::table(&report));
    if !quiet {
        eprintln!(
            "  report in {}/validation.md (figures/, arms/, validation.json)",
            out.display()
        );
    }
    Ok(())
}
