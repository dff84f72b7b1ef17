//! What a signal will do to a Linux process, from the text of a thread's
//! `/proc/PID/task/TID/status` (read on this machine or through a remote stub).

/// Signals whose default action is to ignore, or to stop or continue the process.
pub(crate) fn default_is_harmless(signal: i32) -> bool {
    matches!(
        signal,
        crate::signal_numbers::SIGCHLD
            | crate::signal_numbers::SIGCONT
            | crate::signal_numbers::SIGURG
            | crate::signal_numbers::SIGWINCH
            | crate::signal_numbers::SIGSTOP
            | crate::signal_numbers::SIGTSTP
            | crate::signal_numbers::SIGTTIN
            | crate::signal_numbers::SIGTTOU
    )
}

pub(crate) fn mask_field(status: &str, field: &str) -> u64 {
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| u64::from_str_radix(l.split_whitespace().nth(1)?, 16).ok())
        .unwrap_or(0)
}

/// Whether delivering `signal` ends the process, from the text of the
/// thread's `status`: its default action terminates, and the process
/// neither catches nor ignores it (a synchronous fault that is blocked or
/// ignored kills anyway).
pub(crate) fn would_kill_with(status: &str, signal: i32) -> bool {
    if default_is_harmless(signal) {
        return false;
    }
    if signal == crate::signal_numbers::SIGKILL {
        return true;
    }
    let bit = 1u64 << (signal - 1);
    let caught = mask_field(status, "SigCgt:") & bit != 0;
    let ignored = mask_field(status, "SigIgn:") & bit != 0;
    let blocked = mask_field(status, "SigBlk:") & bit != 0;
    let synchronous_fault = matches!(
        signal,
        crate::signal_numbers::SIGSEGV
            | crate::signal_numbers::SIGBUS
            | crate::signal_numbers::SIGILL
            | crate::signal_numbers::SIGFPE
            | crate::signal_numbers::SIGTRAP
    );
    if synchronous_fault && (blocked || ignored) {
        return true;
    }
    !caught && !ignored
}
