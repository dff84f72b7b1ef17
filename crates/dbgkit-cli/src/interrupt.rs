//! Ctrl-C while a target runs: a flag, and an interrupted wait.
//!
//! The handler is installed without `SA_RESTART`, so a blocking wait for
//! events returns at once and the caller sees the flag. On Windows a
//! console control handler sets the flag (and keeps the system from
//! ending the debugger), and the engine's interruptible waits return
//! every tenth of a second to let the caller look.

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

/// Installs the console's Ctrl-C (and Ctrl-Break) handler.
#[cfg(windows)]
pub fn install() {
    use windows_sys::Win32::System::Console::{SetConsoleCtrlHandler, CTRL_BREAK_EVENT, CTRL_C_EVENT};
    unsafe extern "system" fn on_control(kind: u32) -> windows_sys::core::BOOL {
        if kind == CTRL_C_EVENT || kind == CTRL_BREAK_EVENT {
            INTERRUPTED.store(true, Ordering::SeqCst);
            return 1;
        }
        0
    }
    // SAFETY: the handler only stores to an atomic.
    unsafe { SetConsoleCtrlHandler(Some(on_control), 1) };
}

/// Installs nothing: no way to interrupt is known on this system.
#[cfg(not(any(unix, windows)))]
pub fn install() {}

/// Whether Ctrl-C was pressed since the last call (clears the flag).
pub fn take() -> bool {
    INTERRUPTED.swap(false, Ordering::SeqCst)
}
