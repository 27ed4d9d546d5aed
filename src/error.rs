//! Typed errors of the library and the process exit code each one maps to.
//!
//! Every error names the place it concerns (file, key path, value, allowed range) and what the
//! user can do about it; `main` prints the whole cause chain.

use std::path::PathBuf;

/// Exit codes of the `dorsalhorn` binary (documented in the README).
pub mod exit {
    /// Success.
    pub const OK: i32 = 0;
    /// An I/O or other runtime failure (e.g. an output folder that cannot be written).
    pub const RUNTIME: i32 = 1;
    /// Invalid input: a scenario file, a `--set` override or a command-line value.
    pub const INPUT: i32 = 2;
    /// No usable GPU adapter, or the request exceeds the device's limits.
    pub const GPU: i32 = 3;
    /// The simulation blew up (NaN/Inf or a negative concentration).
    pub const NUMERICS: i32 = 4;
    /// Stopped by Ctrl-C or SIGTERM (128 + SIGINT, as shells report it).
    pub const INTERRUPTED: i32 = 130;
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error(transparent)]
    Gpu(#[from] GpuError),
    #[error(transparent)]
    BlowUp(#[from] BlowUp),
    #[error("{context}: {path}")]
    Io {
        context: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Output(String),
    /// No window can be opened (no display server, or it refused the window).
    #[error(
        "cannot open a window: {detail}.\n`dorsalhorn {window}` needs a display (an X11 server: \
         DISPLAY must be set). Without one, run it headless with `dorsalhorn {headless}`, or \
         start a virtual display: `xvfb-run -a dorsalhorn {window}`"
    )]
    NoDisplay {
        detail: String,
        /// The window command as given (`view SCENARIO`, `demo NAME`).
        window: String,
        /// The headless command that does the same work (`run SCENARIO`, `demo NAME --record DIR`).
        headless: String,
    },
    /// Stopped by Ctrl-C or SIGTERM at the end of a step (src/interrupt.rs).
    #[error(
        "{}: the files written so far are complete, and status.json marks the run \
         `interrupted`. {}",
        interrupted_at(*time_s),
        resume_hint(resume.as_deref())
    )]
    Interrupted {
        time_s: f64,
        /// The command that continues the run from its checkpoint, when one was written.
        resume: Option<String>,
    },
}

/// "interrupted at model time 12.00 h (day 0.50)": where a run stopped, for the message and
/// the output folder's status.
pub fn interrupted_at(time_s: f64) -> String {
    format!(
        "interrupted at model time {:.2} h (day {:.2})",
        time_s / 3600.0,
        time_s / 86400.0
    )
}

/// What to do after an interruption: resume from the checkpoint, or start again.
fn resume_hint(resume: Option<&str>) -> String {
    match resume {
        Some(cmd) => format!("A checkpoint was written: `{cmd}` continues the run from there"),
        None => "Run the same command with --overwrite to start again".into(),
    }
}

impl Error {
    /// An interruption at model time `time_s` without a checkpoint.
    pub fn interrupted(time_s: f64) -> Error {
        Error::Interrupted {
            time_s,
            resume: None,
        }
    }

    pub fn io(
        context: impl Into<String>,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        Error::Io {
            context: context.into(),
            path: path.into(),
            source,
        }
    }

    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Scenario(_) => exit::INPUT,
            Error::Gpu(_) => exit::GPU,
            Error::BlowUp(_) => exit::NUMERICS,
            Error::Interrupted { .. } => exit::INTERRUPTED,
            Error::Io { .. } | Error::Output(_) | Error::NoDisplay { .. } => exit::RUNTIME,
        }
    }
}

/// A problem with a scenario file or an override, located by file and key path.
#[derive(Debug, thiserror::Error)]
#[error("{origin}: {message}")]
pub struct ScenarioError {
    /// The file (or `built-in scenario NAME`, or `--set`) the problem comes from.
    pub origin: String,
    /// What is wrong, naming the key path, the value and what is allowed.
    pub message: String,
}

impl ScenarioError {
    pub fn new(origin: impl Into<String>, message: impl Into<String>) -> Self {
        ScenarioError {
            origin: origin.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    #[error(
        "no GPU adapter found ({detail}).\n\
         dorsalhorn needs a Vulkan, Metal, DX12 or OpenGL ES 3.1 capable device. On Linux without \
         a GPU install Mesa's software Vulkan driver: `sudo apt-get install mesa-vulkan-drivers \
         libvulkan1` (Debian/Ubuntu). To pick an adapter set WGPU_BACKEND=vulkan|gl or \
         WGPU_ADAPTER_NAME=<substring>; `dorsalhorn info` lists what is visible."
    )]
    NoAdapter { detail: String },
    #[error("could not open the GPU device on adapter `{adapter}`: {detail}")]
    Device { adapter: String, detail: String },
    #[error(
        "grid {nx} x {ny} is too large for the device `{adapter}`: {what} is {needed}, the \
         device allows at most {limit}. Use a coarser grid (grid.size / grid.spacing_um) or a \
         device with larger limits (`dorsalhorn info` prints them)."
    )]
    GridTooLarge {
        nx: u32,
        ny: u32,
        adapter: String,
        what: &'static str,
        needed: u64,
        limit: u64,
    },
    #[error("GPU validation error in {stage}: {detail}")]
    Validation { stage: &'static str, detail: String },
    #[error("GPU readback failed: {0}")]
    Readback(String),
}

/// Numerical blow-up detected at a check: which species, where, when.
#[derive(Debug, thiserror::Error)]
#[error(
    "numerical blow-up: species `{species}` is {value} at cell (x = {x}, y = {y}) at step {step} \
     (t = {time_s} s). {hint}"
)]
pub struct BlowUp {
    pub species: String,
    pub value: f32,
    pub x: usize,
    pub y: usize,
    pub step: u64,
    pub time_s: f64,
    pub hint: String,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
