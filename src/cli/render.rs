//! `dorsalhorn render`: figures and a movie drawn again from a finished run folder.

use dorsalhorn::error::{Error, ScenarioError};
use dorsalhorn::figure::render::render_folder;
use dorsalhorn::scenario::{AnyScenario, load_any};
use std::path::PathBuf;

/// The options of `dorsalhorn render`.
#[derive(clap::Args)]
pub struct RenderArgs {
    /// A run folder written by `dorsalhorn run` (it needs scenario.toml, regions.npy,
    /// timeseries.csv and the snapshots in fields/).
    pub run: PathBuf,
    /// Change the figures with the figure keys of the scenario, e.g.
    /// --set output.figure_theme=light --set 'output.figure_fields=["M","A"]'
    /// --set 'output.figure_range={M=[0,1]}' --set output.movie=mp4.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Where figures/ and the movie go (default: RUN/render).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace figures and a movie an earlier render left in --out.
    #[arg(long)]
    pub overwrite: bool,
    /// No progress line.
    #[arg(long, short)]
    pub quiet: bool,
}

pub fn run(args: RenderArgs) -> Result<(), Error> {
    let scenario = args.run.join("scenario.toml");
    if !scenario.is_file() {
        return Err(Error::Output(format!(
            "{}: not a run folder of this version (no scenario.toml); render draws from the folder of a `dorsalhorn run`",
            args.run.display()
        )));
    }
    let sc = match load_any(&scenario.display().to_string(), &args.set)? {
        AnyScenario::Tissue(sc) => *sc,
        AnyScenario::Engine(_) => {
            return Err(ScenarioError::new(
                scenario.display().to_string(),
                "render draws dorsal-horn runs; this is an engine scenario",
            )
            .into());
        }
    };
    let out = args.out.unwrap_or_else(|| args.run.join("render"));
    if dorsalhorn::output::same_folder(&out, &args.run) {
        return Err(ScenarioError::new(
            "--out",
            format!(
                "`{}` is the run folder: its own figures would mix with the redrawn ones; choose another folder",
                out.display()
            ),
        )
        .into());
    }
    let figures = out.join("figures");
    let earlier = std::fs::read_dir(&figures)
        .map(|d| {
            d.flatten()
                .any(|e| e.path().extension().is_some_and(|x| x == "png"))
        })
        .unwrap_or(false);
    if earlier {
        if !args.overwrite {
            return Err(Error::Output(format!(
                "{} holds figures of an earlier render: pass --overwrite to replace them, or choose another --out",
                figures.display()
            )));
        }
        for e in std::fs::read_dir(&figures)
            .map_err(|e| Error::io("cannot read", &figures, e))?
            .flatten()
        {
            if e.path().extension().is_some_and(|x| x == "png") {
                std::fs::remove_file(e.path())
                    .map_err(|err| Error::io("cannot remove", e.path(), err))?;
            }
        }
        for ext in ["gif", "mp4", "webm"] {
            let _ = std::fs::remove_file(out.join(format!("movie.{ext}")));
        }
    }
    let gpu = dorsalhorn::gpu::Gpu::new()?;
    let bar = dorsalhorn::output::progress_bar(!args.quiet, 1, "figures drawn");
    let report = render_folder(&gpu, &args.run, &sc, &out, &mut |k, n| {
        bar.set_length(n as u64);
        bar.set_position(k as u64);
    })?;
    bar.finish_and_clear();
    if let Some(note) = &report.movie_note {
        eprintln!("no movie: {note}");
    }
    let json = serde_json::to_string_pretty(&report).expect("the report serialises");
    dorsalhorn::output::write_atomic(&out.join("render.json"), json.as_bytes())?;
    if !args.quiet {
        eprintln!(
            "drew {} figures into {}{} ({:.1} s); render.json lists them",
            report.figures.len(),
            figures.display(),
            report
                .movie
                .as_ref()
                .map_or(String::new(), |m| format!(" and {}", out.join(m).display())),
            report.render_s + report.encode_s
        );
    }
    Ok(())
}
