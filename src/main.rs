//! The `dorsalhorn` command line: a thin layer over the library. It parses arguments, calls the
//! library, prints the whole error chain and maps errors to exit codes (see `error::exit`).

mod cli;

use clap::Parser;
use dorsalhorn::error::exit;

#[derive(Parser)]
#[command(
    name = "dorsalhorn",
    version,
    about = "GPU reaction–diffusion simulator of spinal dorsal-horn tissue"
)]
struct Cli {
    #[command(subcommand)]
    command: cli::Command,
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

/// `dorsalhorn run --from DIR` and `dorsalhorn resume DIR` run with the `$DORSALHORN_PARAM_SET`
/// the folder's run was made with:
/// set (or cleared) here, before any thread exists, so every later reader of the parameter table
/// sees the run's parameters.
fn replay_parameters(cli: &Cli) -> Result<(), dorsalhorn::error::Error> {
    let dir = match &cli.command {
        cli::Command::Run(args) => args.from.as_ref(),
        cli::Command::Resume(args) => Some(&args.dir),
        _ => None,
    };
    let Some(dir) = dir else {
        return Ok(());
    };
    let var = dorsalhorn::params::PARAM_SET_VAR;
    let wanted = dorsalhorn::run::resume::replay_param_set(dir)?;
    if std::env::var(var).ok().filter(|s| !s.trim().is_empty()) != wanted {
        eprintln!(
            "note: replaying {} with {var}={}",
            dir.display(),
            wanted
                .as_deref()
                .unwrap_or("(unset: the shipped parameters)")
        );
    }
    #[allow(
        unsafe_code,
        reason = "set_var is sound here: it runs in main before any thread exists"
    )]
    // SAFETY: no other thread exists yet, so nothing reads the environment concurrently.
    unsafe {
        match &wanted {
            Some(v) => std::env::set_var(var, v),
            None => std::env::remove_var(var),
        }
    }
    Ok(())
}

fn main() {
    private_runtime_dir();
    let cli = Cli::parse();
    if let Err(e) = replay_parameters(&cli) {
        eprintln!("error: {e}");
        std::process::exit(e.exit_code());
    }
    match cli::dispatch(cli.command) {
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
