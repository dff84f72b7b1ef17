//! Ctrl-C while a target runs: a flag, and an interrupted wait.
//!
//! The handler is installed without `SA_RESTART`, so a blocking wait for
//! events returns at once and the caller sees the flag. On Windows the
//! console's Ctrl-C is left to the system for now (it ends the debugger,
//! and a program it started with it).

use std::sync::atomic::{AtomicBool, Ordering};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

#[cfg(unix)]
extern "C" fn on_sigint(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Installs the `SIGINT` handler.
#[cfg(unix)]
pub fn install() {
    // SAFETY: installing an async-signal-safe handler that only stores to an atomic.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_sigint as extern "C" fn(libc::c_int) as usize;
        libc::sigemptyset(&mut action.sa_mask);
        action.sa_flags = 0;
        libc::sigaction(libc::SIGINT, &action, std::ptr::null_mut());
    }
}

/// Installs nothing: see the module's note.
#[cfg(not(unix))]
pub fn install() {}

/// Whether Ctrl-C was pressed since the last call (clears the flag).
pub fn take() -> bool {
    INTERRUPTED.swap(false, Ordering::SeqCst)
}
