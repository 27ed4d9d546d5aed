//! Ctrl-C and SIGTERM for the long headless commands (`run`, `validate`).
//!
//! The first signal asks the time loops to stop at the end of the current step
//! ([`requested`], checked by the steppers); the command then marks its output folder
//! `interrupted` and exits with [`crate::error::exit::INTERRUPTED`]. A second signal ends the
//! process at once (the folder then still says `running`, and the next run into it reports a run
//! that stopped without finishing). The window (`view`) does not install this: it quits as a
//! window does.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: std::sync::OnceLock<Arc<AtomicBool>> = std::sync::OnceLock::new();

fn flag() -> &'static Arc<AtomicBool> {
    REQUESTED.get_or_init(|| Arc::new(AtomicBool::new(false)))
}

/// Installs the SIGINT/SIGTERM handlers (once per process; later calls do nothing).
pub fn install() -> std::io::Result<()> {
    static INSTALLED: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    if INSTALLED.get().is_some() {
        return Ok(());
    }
    let flag = flag().clone();
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // Order matters: the conditional shutdown sees the flag as it was before this signal.
        signal_hook::flag::register_conditional_shutdown(
            sig,
            crate::error::exit::INTERRUPTED,
            flag.clone(),
        )?;
        signal_hook::flag::register(sig, flag.clone())?;
    }
    let _ = INSTALLED.set(());
    Ok(())
}

/// Whether a stop was asked for.
pub fn requested() -> bool {
    flag().load(Ordering::Relaxed)
}

/// `Err(Error::Interrupted)` at model time `time_s` if a stop was asked for.
pub fn check(time_s: f64) -> Result<(), crate::error::Error> {
    if requested() {
        Err(crate::error::Error::interrupted(time_s))
    } else {
        Ok(())
    }
}
