//! Events: what the debug object reports, and how each one is continued.

use crate::module::Module;
use std::path::PathBuf;

/// One debug event. The process it names stays stopped (all its threads)
/// until the event is continued with [`crate::Session::continue_event`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Event {
    pub pid: i32,
    pub tid: i32,
    pub kind: EventKind,
}

/// What happened.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum EventKind {
    /// A process is now debugged: launched, or attached (then synthetic).
    ProcessCreated {
        image: PathBuf,
        base: u64,
        size: u64,
        entry: u64,
    },
    /// The process is gone; `code` is its exit status, or `signal` killed it.
    ProcessExited {
        code: Option<i32>,
        signal: Option<i32>,
    },
    /// A new thread; `start` is the first instruction it will run.
    ThreadCreated {
        start: u64,
    },
    /// A thread ended with this exit code.
    ThreadExited {
        code: i32,
    },
    ModuleLoaded(Module),
    ModuleUnloaded(Module),
    /// A signal arrived for the thread (first chance), or a signal that will
    /// kill the process is about to be delivered (second chance).
    ///
    /// `signal` is the POSIX signal (on other systems, the nearest one);
    /// `os_code` is the exception as the target's own system names it.
    #[non_exhaustive]
    Exception {
        signal: i32,
        code: i32,
        address: u64,
        fault_address: Option<u64>,
        first_chance: bool,
        os_code: ExceptionCode,
    },
    /// A breakpoint was hit; the thread's `rip` is the breakpoint address.
    Breakpoint {
        id: u32,
        address: u64,
    },
    /// A watchpoint fired: hardware (the debug registers) or page. `address`
    /// is the data address (for an execute watch, the instruction), `pc` the
    /// thread's `rip` after the access (for data watchpoints the access is
    /// the instruction before). `old` and `new` are the watched bytes around
    /// a write, when known.
    Watchpoint {
        id: u32,
        access: crate::breakpoints::hardware::WatchAccess,
        address: u64,
        pc: u64,
        old: Option<Vec<u8>>,
        new: Option<Vec<u8>>,
    },
    /// A single step requested with [`crate::Session::step_into`] finished.
    StepComplete {
        address: u64,
    },
    /// The process was stopped by [`crate::Session::break_in`].
    BreakIn,
    /// The process replaced its image with `execve`.
    Exec {
        image: PathBuf,
    },
    /// The process forked; the child runs undebugged, with no breakpoint in
    /// it, unless children are followed (`Session::set_follow_children`):
    /// then the child's `ProcessCreated` comes next.
    Fork {
        child: i32,
        /// `vfork` (or `clone` with `CLONE_VFORK`): the parent waits while
        /// the child borrows its memory, until the child execs or exits.
        vfork: bool,
    },
    /// The thread entered a system call a syscall catchpoint watches
    /// ([`crate::Session::add_syscall_catchpoint`]); `rip` is after the
    /// `syscall` instruction. [`crate::syscall_name`] names `number`.
    SyscallEntry {
        id: u32,
        number: u64,
        args: [u64; 6],
    },
    /// The system call returns `result` (a negative errno on failure).
    SyscallExit {
        id: u32,
        number: u64,
        result: i64,
    },
    /// The program wrote a line for its debugger (Windows'
    /// `OutputDebugString`, through `dbgkit-winstub`). The stub lets the
    /// program go on at once; the line is reported at the process's next
    /// stop, before that stop's own event.
    DebugOutput {
        text: String,
    },
}

impl EventKind {
    /// A short name for messages.
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::ProcessCreated { .. } => "process-created",
            EventKind::ProcessExited { .. } => "process-exited",
            EventKind::ThreadCreated { .. } => "thread-created",
            EventKind::ThreadExited { .. } => "thread-exited",
            EventKind::ModuleLoaded(_) => "module-loaded",
            EventKind::ModuleUnloaded(_) => "module-unloaded",
            EventKind::Exception { .. } => "exception",
            EventKind::Breakpoint { .. } => "breakpoint",
            EventKind::Watchpoint { .. } => "watchpoint",
            EventKind::StepComplete { .. } => "step-complete",
            EventKind::BreakIn => "break-in",
            EventKind::Exec { .. } => "exec",
            EventKind::Fork { .. } => "fork",
            EventKind::SyscallEntry { .. } => "syscall-entry",
            EventKind::SyscallExit { .. } => "syscall-exit",
            EventKind::DebugOutput { .. } => "debug-output",
        }
    }
}

/// An exception's code in the terms of the system it comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ExceptionCode {
    /// A signal number (Linux and other POSIX systems).
    Signal(i32),
    /// An `NTSTATUS` (Windows), e.g. `0xC0000005` for an access violation.
    NtStatus(u32),
}

impl Event {
    /// An event (for targets and tests that make their own).
    pub fn new(pid: i32, tid: i32, kind: EventKind) -> Event {
        Event { pid, tid, kind }
    }
}

/// How to continue an event (the Win32 debug loop's continue status).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ContinueStatus {
    /// Go on; the signal of an exception is suppressed.
    Handled,
    /// Go on and deliver the exception's signal to the target.
    NotHandled,
    /// End the event's thread (it exits with code 0), the rest go on.
    TerminateThread,
    /// Kill the whole process.
    TerminateProcess,
}

impl ContinueStatus {
    pub fn name(self) -> &'static str {
        match self {
            ContinueStatus::Handled => "Handled",
            ContinueStatus::NotHandled => "NotHandled",
            ContinueStatus::TerminateThread => "TerminateThread",
            ContinueStatus::TerminateProcess => "TerminateProcess",
        }
    }

    /// Whether this status makes sense for an event of `kind`.
    pub(crate) fn fits(self, kind: &EventKind) -> bool {
        match (self, kind) {
            (_, EventKind::ProcessExited { .. }) => self == ContinueStatus::Handled,
            (_, EventKind::ThreadExited { .. }) => {
                matches!(self, ContinueStatus::Handled | ContinueStatus::TerminateProcess)
            }
            (ContinueStatus::NotHandled, EventKind::Exception { .. }) => true,
            (ContinueStatus::NotHandled, _) => false,
            _ => true,
        }
    }
}

/// A short name for a Windows exception code (`0xC0000005`: `"access
/// violation"`), for the common ones.
pub fn nt_status_name(code: u32) -> Option<&'static str> {
    Some(match code {
        0xC000_0005 => "access violation",
        0xC000_0006 => "in-page error",
        0xC000_001D => "illegal instruction",
        0xC000_0025 => "noncontinuable exception",
        0xC000_008C => "array bounds exceeded",
        0xC000_0094 => "integer divide by zero",
        0xC000_0095 => "integer overflow",
        0xC000_0096 => "privileged instruction",
        0xC000_00FD => "stack overflow",
        0xC000_0409 => "stack buffer overrun",
        0x8000_0001 => "guard page violation",
        0x8000_0002 => "datatype misalignment",
        0x8000_0003 => "break instruction",
        0x8000_0004 => "single step",
        0xE06D_7363 => "C++ exception",
        _ => return None,
    })
}

/// What an access violation's first parameter says was done.
pub fn access_violation_kind(kind: i32) -> &'static str {
    match kind {
        0 => "read",
        1 => "write",
        8 => "execute",
        _ => "access",
    }
}

/// The name of a signal (`SIGSEGV`), or its number when it has none.
pub fn signal_name(signal: i32) -> String {
    crate::signal_numbers::name_of(signal).map(str::to_string).unwrap_or_else(|| {
        if (crate::signal_numbers::SIGRTMIN..=crate::signal_numbers::SIGRTMAX).contains(&signal) {
            format!("SIGRT{}", signal - crate::signal_numbers::SIGRTMIN)
        } else {
            format!("SIG{signal}")
        }
    })
}

/// Parses `SIGSEGV`, `segv` or `11` into a signal number.
pub fn parse_signal(text: &str) -> Option<i32> {
    if let Ok(n) = text.parse::<i32>() {
        return (1..=64).contains(&n).then_some(n);
    }
    let upper = text.to_ascii_uppercase();
    let full = if upper.starts_with("SIG") { upper } else { format!("SIG{upper}") };
    crate::signal_numbers::number_of(&full)
}
