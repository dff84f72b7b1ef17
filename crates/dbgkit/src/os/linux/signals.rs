//! What a signal will do to a process on this machine: the facts `/proc` gives.

use crate::linux::proc_status::{default_is_harmless, mask_field, would_kill_with};

/// One signal mask of a thread from `/proc/PID/task/TID/status` (`SigPnd:`,
/// `SigBlk:`, `SigCgt:`...); 0 when it cannot be read.
pub(crate) fn thread_signal_mask(pid: i32, tid: i32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/status")).unwrap_or_default();
    mask_field(&status, field)
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
