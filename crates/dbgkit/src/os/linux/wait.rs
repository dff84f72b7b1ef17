//! The one place where raw wait statuses are read and classified.
//!
//! The classification follows the ptrace(2) man page: a status is an exit, a
//! death by signal, a signal-delivery-stop, a group-stop (seized tracees
//! report those as `PTRACE_EVENT_STOP` with the stopping signal), an
//! interrupt stop (`PTRACE_EVENT_STOP` with `SIGTRAP`), a syscall stop, or a
//! ptrace event stop.

use crate::error::{Error, Result};
use crate::target::StopReason;
use libc::pid_t;

/// What a raw wait status means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WaitStatus {
    /// The thread exited normally with this code.
    Exited(i32),
    /// The thread was killed by a signal.
    Killed { signal: i32, core_dumped: bool },
    /// Signal-delivery-stop: the thread is about to receive `signal`.
    Signal(i32),
    /// Group-stop of a seized tracee (`SIGSTOP`, `SIGTSTP`, `SIGTTIN`, `SIGTTOU`).
    GroupStop(i32),
    /// `PTRACE_EVENT_STOP` with `SIGTRAP`: our `PTRACE_INTERRUPT`, or the
    /// first stop of a new auto-attached thread.
    Interrupted,
    /// Syscall-enter or syscall-exit stop (with `PTRACE_O_TRACESYSGOOD`).
    Syscall,
    /// A `PTRACE_EVENT_*` stop other than `PTRACE_EVENT_STOP`.
    Event(i32),
}

impl WaitStatus {
    /// Classifies a raw status as returned by `waitpid`.
    pub(crate) fn classify(status: i32) -> WaitStatus {
        if libc::WIFEXITED(status) {
            return WaitStatus::Exited(libc::WEXITSTATUS(status));
        }
        if libc::WIFSIGNALED(status) {
            return WaitStatus::Killed { signal: libc::WTERMSIG(status), core_dumped: libc::WCOREDUMP(status) };
        }
        let signal = libc::WSTOPSIG(status);
        let event = (status >> 16) & 0xff;
        if event == libc::PTRACE_EVENT_STOP {
            return match signal {
                libc::SIGSTOP | libc::SIGTSTP | libc::SIGTTIN | libc::SIGTTOU => WaitStatus::GroupStop(signal),
                _ => WaitStatus::Interrupted,
            };
        }
        if event != 0 {
            return WaitStatus::Event(event);
        }
        if signal == (libc::SIGTRAP | 0x80) {
            return WaitStatus::Syscall;
        }
        WaitStatus::Signal(signal)
    }

    /// True when the thread no longer exists after this status.
    pub(crate) fn is_death(self) -> bool {
        matches!(self, WaitStatus::Exited(_) | WaitStatus::Killed { .. })
    }
}

/// How long a wait may block.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Block {
    /// Return at once when nothing is ready.
    No,
    /// Block until a status arrives (a signal to the debugger does not end the wait).
    Yes,
    /// Block until a status arrives or a signal to the debugger interrupts
    /// the wait (how Ctrl-C reaches a front end waiting for events).
    Interruptible,
}

/// Waits for a status from any traced thread (or from `tid` when given).
///
/// Returns `Ok(None)` when nothing is ready (`Block::No`), when a signal
/// interrupted an interruptible wait (`EINTR`), or when no traced child
/// remains (`ECHILD`). Other waits retry after a signal: an inner wait (one
/// thread's stop, an all-stop) must not give up half-way.
pub(crate) fn wait(tid: Option<pid_t>, block: Block) -> Result<Option<(pid_t, WaitStatus)>> {
    let mut status = 0;
    // __WNOTHREAD: only this thread's tracees. A session lives on one thread,
    // and sessions on other threads of the same process keep their own.
    let flags = libc::__WALL | libc::__WNOTHREAD | if matches!(block, Block::No) { libc::WNOHANG } else { 0 };
    loop {
        // SAFETY: waitpid writes only to `status`.
        let r = unsafe { libc::waitpid(tid.unwrap_or(-1), &mut status, flags) };
        if r > 0 {
            return Ok(Some((r, WaitStatus::classify(status))));
        }
        if r == 0 {
            return Ok(None);
        }
        let err = std::io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::EINTR) if !matches!(block, Block::Interruptible) => continue,
            Some(libc::EINTR) | Some(libc::ECHILD) => return Ok(None),
            _ => return Err(Error::Os { op: "waitpid", target: tid.unwrap_or(-1), source: err }),
        }
    }
}

/// The engine's view of a status: ptrace events become what they mean, with
/// the new task a clone or fork created (read from the event message now,
/// while the thread is in that stop).
pub(crate) fn stop_reason(tid: pid_t, status: WaitStatus) -> StopReason {
    let child = || super::ptrace::event_message(tid).map(|m| m as i32).unwrap_or(0);
    match status {
        WaitStatus::Exited(code) => StopReason::Exited(code),
        WaitStatus::Killed { signal, .. } => StopReason::Killed { signal },
        WaitStatus::Signal(signal) => StopReason::Signal(signal),
        WaitStatus::GroupStop(signal) => StopReason::GroupStop(signal),
        WaitStatus::Interrupted => StopReason::Interrupted,
        WaitStatus::Syscall => StopReason::Syscall,
        WaitStatus::Event(libc::PTRACE_EVENT_CLONE) => {
            let child = child();
            // `clone` without CLONE_THREAD (and without CLONE_VM: a copy of
            // the memory) makes a process, as fork does.
            if leads_own_thread_group(child) && !shares_memory_with(tid, child) {
                StopReason::Forked { child, vfork: false }
            } else {
                StopReason::NewThread { child }
            }
        }
        WaitStatus::Event(libc::PTRACE_EVENT_FORK) => StopReason::Forked { child: child(), vfork: false },
        WaitStatus::Event(libc::PTRACE_EVENT_VFORK) => StopReason::Forked { child: child(), vfork: true },
        WaitStatus::Event(libc::PTRACE_EVENT_VFORK_DONE) => StopReason::VforkDone,
        WaitStatus::Event(libc::PTRACE_EVENT_EXEC) => StopReason::Exec,
        WaitStatus::Event(_) => StopReason::Other,
    }
}

/// Whether a new task is a thread-group leader (a process, not a thread).
fn leads_own_thread_group(task: pid_t) -> bool {
    let Ok(status) = std::fs::read_to_string(format!("/proc/{task}/status")) else { return false };
    status
        .lines()
        .find_map(|l| l.strip_prefix("Tgid:"))
        .and_then(|v| v.trim().parse::<pid_t>().ok())
        .is_some_and(|tgid| tgid == task)
}

/// Whether two tasks share one address space (`kcmp` with `KCMP_VM`).
fn shares_memory_with(a: pid_t, b: pid_t) -> bool {
    const KCMP_VM: libc::c_long = 1;
    // SAFETY: kcmp reads nothing from our memory; it compares two tasks we trace.
    unsafe { libc::syscall(libc::SYS_kcmp, a as libc::c_long, b as libc::c_long, KCMP_VM, 0, 0) == 0 }
}

/// `wait`, with the status turned into a [`StopReason`].
pub(crate) fn wait_stop(tid: Option<pid_t>, block: Block) -> Result<Option<(pid_t, StopReason)>> {
    Ok(wait(tid, block)?.map(|(t, status)| (t, stop_reason(t, status))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_exit_and_signal_statuses() {
        assert_eq!(WaitStatus::classify(3 << 8), WaitStatus::Exited(3));
        assert_eq!(
            WaitStatus::classify(libc::SIGSEGV),
            WaitStatus::Killed { signal: libc::SIGSEGV, core_dumped: false }
        );
        assert_eq!(WaitStatus::classify((libc::SIGUSR1 << 8) | 0x7f), WaitStatus::Signal(libc::SIGUSR1));
        let interrupt = (libc::PTRACE_EVENT_STOP << 16) | (libc::SIGTRAP << 8) | 0x7f;
        assert_eq!(WaitStatus::classify(interrupt), WaitStatus::Interrupted);
        let group = (libc::PTRACE_EVENT_STOP << 16) | (libc::SIGSTOP << 8) | 0x7f;
        assert_eq!(WaitStatus::classify(group), WaitStatus::GroupStop(libc::SIGSTOP));
        let clone = (libc::PTRACE_EVENT_CLONE << 16) | (libc::SIGTRAP << 8) | 0x7f;
        assert_eq!(WaitStatus::classify(clone), WaitStatus::Event(libc::PTRACE_EVENT_CLONE));
        assert_eq!(WaitStatus::classify(((libc::SIGTRAP | 0x80) << 8) | 0x7f), WaitStatus::Syscall);
    }
}
