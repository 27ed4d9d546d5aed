//! `dorsalhorn plot`: time-series figures of finished runs, run against run (SVG or PNG).

use dorsalhorn::error::{Error, ScenarioError};
use dorsalhorn::figure::timeseries::{DEFAULT_COLUMNS, RunSeries, grid};
use dorsalhorn::output;
use std::path::PathBuf;

/// The options of `dorsalhorn plot`.
#[derive(clap::Args)]
pub struct PlotArgs {
    /// Run folders of `dorsalhorn run` (or their timeseries.csv), each optionally `=LABEL`,
    /// e.g. out/default="CFA + EA" out/sham=sham.
    #[arg(required = true, value_name = "RUN[=LABEL]")]
    pub runs: Vec<String>,
    /// The figure to write: .svg or .png.
    #[arg(long)]
    pub out: PathBuf,
    /// Columns of timeseries.csv, one panel each (default: pain indices, PWT, PWL, and IL-1β,
    /// TNF-α, IL-10, M, A, O_mudelta in laminae I–II).
    #[arg(long, value_delimiter = ',')]
    pub columns: Vec<String>,
    /// Put the default lamina columns in this region instead of I-II (e.g. V, C-field).
    #[arg(long, default_value = "I-II")]
    pub region: String,
    /// PNG size in pixels, WIDTHxHEIGHT.
    #[arg(long, default_value = "1800x900")]
    pub size: String,
}

pub fn run(args: PlotArgs) -> Result<(), Error> {
    let ext = args
        .out
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    if !matches!(ext.as_deref(), Some("svg" | "png")) {
        return Err(ScenarioError::new(
            "--out",
            format!("`{}`: name an .svg or .png file", args.out.display()),
        )
        .into());
    }
    let size = parse_size(&args.size)?;
    let runs = args
        .runs
        .iter()
        .map(|spec| {
            let (path, label) = match spec.split_once('=') {
                Some((p, l)) => (p, Some(l)),
                None => (spec.as_str(), None),
            };
            RunSeries::load(std::path::Path::new(path), label)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let columns: Vec<String> = if args.columns.is_empty() {
        DEFAULT_COLUMNS
            .iter()
            .map(|c| c.replace("@I-II", &format!("@{}", args.region)))
            .collect()
    } else {
        args.columns.clone()
    };
    let g = grid(&runs, &columns)?;
    if let Some(dir) = args.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("cannot create folder", dir, e))?;
    }
    if ext.as_deref() == Some("svg") {
        output::write_atomic(&args.out, g.svg(340.0, 250.0).as_bytes())?;
    } else {
        let gpu = dorsalhorn::gpu::Gpu::new()?;
        let rgb = dorsalhorn::figure::lineplot::draw(&gpu, &g, size)?;
        output::write_atomic(
            &args.out,
            &output::png_bytes(&rgb, size[0] as usize, size[1] as usize),
        )?;
    }
    eprintln!(
        "wrote {} ({} panels, {} runs)",
        args.out.display(),
        columns.len(),
        runs.len()
    );
    Ok(())
}

fn parse_size(s: &str) -> Result<[u32; 2], Error> {
    let bad = || -> Error {
        ScenarioError::new(
            "--size",
            format!("`{s}`: give WIDTHxHEIGHT in pixels, each 320 to 8192, e.g. 1800x900"),
        )
        .into()
    };
    let (w, h) = s.split_once('x').ok_or_else(bad)?;
    let (w, h): (u32, u32) = (w.parse().map_err(|_| bad())?, h.parse().map_err(|_| bad())?);
    if !(320..=8192).contains(&w) || !(320..=8192).contains(&h) {
        return Err(bad());
    }
    Ok([w, h])
}
