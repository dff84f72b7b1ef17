//! What a signal will do to a process: the facts `/proc` gives.

/// Signals whose default action is to ignore, or to stop or continue the process.
fn default_is_harmless(signal: i32) -> bool {
    matches!(
        signal,
        libc::SIGCHLD
            | libc::SIGCONT
            | libc::SIGURG
            | libc::SIGWINCH
            | libc::SIGSTOP
            | libc::SIGTSTP
            | libc::SIGTTIN
            | libc::SIGTTOU
    )
}

/// One signal mask of a thread from `/proc/PID/task/TID/status` (`SigPnd:`,
/// `SigBlk:`, `SigCgt:`...); 0 when it cannot be read.
pub(crate) fn thread_signal_mask(pid: i32, tid: i32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/status")).unwrap_or_default();
    mask_field(&status, field)
}

fn mask_field(status: &str, field: &str) -> u64 {
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| u64::from_str_radix(l.split_whitespace().nth(1)?, 16).ok())
        .unwrap_or(0)
}

/// Whether delivering `signal` to thread `tid` of `pid` ends the process:
/// its default action terminates, and the process neither catches nor
/// ignores it (a synchronous fault that is blocked or ignored kills anyway).
pub(crate) fn would_kill(pid: i32, tid: i32, signal: i32) -> bool {
    if default_is_harmless(signal) {
        return false;
    }
    if signal == libc::SIGKILL {
        return true;
    }
    let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/status")) else {
        return false;
    };
    would_kill_with(&status, signal)
}

/// The same from the text of a thread's `status` file (read here or by a remote stub).
pub(crate) fn would_kill_with(status: &str, signal: i32) -> bool {
    if default_is_harmless(signal) {
        return false;
    }
    if signal == libc::SIGKILL {
        return true;
    }
    let bit = 1u64 << (signal - 1);
    let caught = mask_field(status, "SigCgt:") & bit != 0;
    let ignored = mask_field(status, "SigIgn:") & bit != 0;
    let blocked = mask_field(status, "SigBlk:") & bit != 0;
    let synchronous_fault =
        matches!(signal, libc::SIGSEGV | libc::SIGBUS | libc::SIGILL | libc::SIGFPE | libc::SIGTRAP);
    if synchronous_fault && (blocked || ignored) {
        return true;
    }
    !caught && !ignored
}
