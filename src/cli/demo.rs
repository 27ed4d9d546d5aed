//! `dorsalhorn demo`: list, check, play (window) or record (headless) a guided teaching
//! demonstration.

use crate::cli::view::{WindowArgs, parse_size};
use dorsalhorn::error::{Error, ScenarioError};
use dorsalhorn::figure::panel::format_time;
use dorsalhorn::run::demo::{RecordOptions, record};
use dorsalhorn::scenario::demo::{BUILTIN_DEMOS, Demo, load};
use dorsalhorn::scenario::figures::{MovieFormat, Theme};
use std::path::PathBuf;

/// The options of `dorsalhorn demo`.
#[derive(clap::Args)]
pub struct DemoArgs {
    /// The demo: a built-in name (`--list` shows them) or a demo .toml file (format in
    /// docs/teaching.md).
    pub demo: Option<String>,
    /// List the built-in demos with their titles and length.
    #[arg(long)]
    pub list: bool,
    /// Check the demo and print its timeline (steps, changes, claims) without running it.
    #[arg(long)]
    pub check: bool,
    /// Record the demo without a display into this folder: a run folder with a captioned
    /// figure per step (steps/step_NN.png), figures between the steps, a movie, and claims.json.
    #[arg(long, value_name = "DIR")]
    pub record: Option<PathBuf>,
    /// Edit the demo's scenario, e.g. --set tissue.spacing_um=20 (keys of [scenario]).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Start the window at this step (1 = the first).
    #[arg(long, value_name = "K")]
    pub step: Option<usize>,
    /// Size in pixels, WIDTHxHEIGHT: the window's (default 1500x900) or, with --record, each
    /// figure's (default 1600x900).
    #[arg(long)]
    pub size: Option<String>,
    /// With --record: dark (the window's) or light (for print).
    #[arg(long, default_value = "dark")]
    pub theme: String,
    /// With --record: gif (in-process), mp4 or webm (need ffmpeg), or none.
    #[arg(long, default_value = "gif")]
    pub movie: String,
    /// With --record: movie frames per second (each step is held for 3 s).
    #[arg(long, default_value_t = 8)]
    pub fps: u32,
    /// With --record: replace what an earlier recording left in DIR.
    #[arg(long)]
    pub overwrite: bool,
    /// No progress output.
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub window: WindowArgs,
}

fn bad(key: &str, msg: String) -> Error {
    ScenarioError::new(key, msg).into()
}

/// `--list`.
fn list() -> Result<(), Error> {
    println!("Built-in demos (dorsalhorn demo NAME plays one, --record DIR records it):\n");
    for (name, _) in BUILTIN_DEMOS {
        let d = load(name, &[])?;
        let sc = d.scenario()?;
        println!(
            "  {name:<14} {} ({} steps, {} of model time)",
            d.title,
            d.steps.len(),
            format_time(sc.duration_s)
        );
        println!("  {:<14} {}\n", "", d.summary);
    }
    println!(
        "Write your own: docs/teaching.md, \"Writing a demo\"; examples/demos/ has the files."
    );
    Ok(())
}

/// `--check`: the timeline in words.
fn check(d: &Demo) -> Result<(), Error> {
    let sc = d.scenario()?;
    dorsalhorn::run::demo::check_claims(d)?;
    println!(
        "demo: {} ({})\n  {}\n  {}",
        d.name, d.origin, d.title, d.summary
    );
    println!(
        "scenario: {} {}, {} µm grid, {}",
        sc.animal.name(),
        sc.sex_route(),
        sc.spacing_um,
        format_time(sc.duration_s)
    );
    for (k, s) in d.steps.iter().enumerate() {
        println!(
            "step {} at {}{}: {}  [fields {}]",
            k + 1,
            format_time(s.at_h * 3600.0),
            if s.pause { " (pauses)" } else { "" },
            s.title,
            s.field_names.join(", ")
        );
        for (kind, e) in &s.edits {
            println!(
                "    then {kind}: {}",
                toml::to_string(e)
                    .unwrap_or_default()
                    .replace('\n', "; ")
                    .trim_end_matches("; ")
            );
        }
    }
    for c in &d.claims {
        println!(
            "claim: {}: {} {} {}{}",
            c.what,
            c.left.describe(),
            if c.greater { ">" } else { "<" },
            if c.factor == 1.0 {
                String::new()
            } else {
                format!("{} × ", c.factor)
            },
            c.right.describe()
        );
    }
    Ok(())
}

pub fn run(args: DemoArgs) -> Result<(), Error> {
    if args.list {
        return list();
    }
    let Some(spec) = args.demo.clone() else {
        return Err(bad(
            "demo",
            format!(
                "name a demo: one of {} (dorsalhorn demo --list describes them), or a demo .toml file",
                dorsalhorn::scenario::demo::builtin_names().join(", ")
            ),
        ));
    };
    let demo = load(&spec, &args.set)?;
    if args.check {
        return check(&demo);
    }
    let n = demo.steps.len();
    let start = match args.step {
        None => 0,
        Some(k) if (1..=n).contains(&k) => k - 1,
        Some(k) => {
            return Err(bad(
                "--step",
                format!("{k} is out of range: this demo has steps 1 … {n}"),
            ));
        }
    };
    if let Some(dir) = args.record.clone() {
        return record_demo(&demo, dir, &args);
    }
    let size = parse_size(args.size.as_deref().unwrap_or("1500x900"))?;
    let script = args.window.script()?;
    let sc = demo.scenario()?;
    let first = &demo.steps[0];
    dorsalhorn::view::view(dorsalhorn::view::ViewOptions {
        spec: spec.clone(),
        fields: first.fields.clone(),
        colormap: sc.colormap,
        outlines: true,
        paused: args.window.paused,
        out_dir: args
            .window
            .out
            .unwrap_or_else(|| PathBuf::from("out").join("demo")),
        size,
        speed: demo.speed_h_per_s * 3600.0,
        script,
        scenario: sc,
        demo: Some((demo, start)),
    })
}

fn record_demo(demo: &Demo, dir: PathBuf, args: &DemoArgs) -> Result<(), Error> {
    let size = parse_size(args.size.as_deref().unwrap_or("1600x900"))?;
    let theme = match args.theme.as_str() {
        "dark" => Theme::Dark,
        "light" => Theme::Light,
        other => {
            return Err(bad(
                "--theme",
                format!("`{other}` is not allowed: use dark or light"),
            ));
        }
    };
    let movie = match args.movie.as_str() {
        "gif" => Some(MovieFormat::Gif),
        "mp4" => Some(MovieFormat::Mp4),
        "webm" => Some(MovieFormat::Webm),
        "none" => None,
        other => {
            return Err(bad(
                "--movie",
                format!("`{other}` is not allowed: use gif, mp4, webm or none"),
            ));
        }
    };
    if !(1..=60).contains(&args.fps) {
        return Err(bad(
            "--fps",
            format!("{} is out of range: allowed 1 … 60", args.fps),
        ));
    }
    dorsalhorn::run::demo::check_claims(demo)?;
    let gpu = dorsalhorn::gpu::Gpu::new()?;
    if !args.quiet {
        eprintln!(
            "dorsalhorn {}: recording the demo `{}` ({} steps) on {} ({:?})",
            env!("CARGO_PKG_VERSION"),
            demo.name,
            demo.steps.len(),
            gpu.info.name,
            gpu.info.backend
        );
    }
    let opts = RecordOptions {
        run: dorsalhorn::run::dorsal_horn::TissueRunOptions {
            out_dir: Some(dir.clone()),
            overwrite: args.overwrite,
            progress: !args.quiet,
            cache: dorsalhorn::tissue::baseline::BaselineCache::from_env(),
            story: None,
            // A recording is short, and its story is not in the folder to resume from.
            checkpoint_every_s: None,
            ensemble: None,
        },
        size,
        theme,
        movie,
        fps: args.fps,
    };
    let (run, claims) = record(&gpu, demo, &opts)?;
    if !args.quiet {
        let f = run.summary.figures.clone().unwrap_or_default();
        eprintln!(
            "recorded in {:.1} s: {} step figures in {}/steps/, {} figures, {}",
            run.summary.wall_time_s,
            f.steps.len(),
            dir.display(),
            f.figures.len(),
            f.movie.as_deref().map_or_else(
                || f.movie_note.clone().unwrap_or_else(|| "no movie".into()),
                |m| format!("{}/{m}", dir.display())
            )
        );
        for c in &claims {
            eprintln!(
                "  claim {}: {} ({})",
                if c.holds { "holds" } else { "DOES NOT HOLD" },
                c.what,
                c.detail
            );
        }
    }
    Ok(())
}
