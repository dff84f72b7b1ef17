//! What a front end does with an event when its user has not said: the
//! continue status it gets, and the exit status a finished process gives
//! a command-line tool. One answer for the CLI, Python and PyDbgEng.

use crate::event::{ContinueStatus, EventKind, ExceptionCode};

/// Whether a Windows exception code is a debugger's own trap: a breakpoint
/// or a single step (also their WOW64 forms), which the program never handles.
fn is_debug_trap(code: u32) -> bool {
    matches!(code, 0x8000_0003 | 0x8000_0004 | 0x4000_001F | 0x4000_001E)
}

impl EventKind {
    /// The continue status this event gets when nobody chooses one:
    /// exceptions go back to the program (`NotHandled`), everything else
    /// goes on (`Handled`).
    ///
    /// ```
    /// use dbgkit::{ContinueStatus, EventKind};
    /// assert_eq!(EventKind::BreakIn.default_status(), ContinueStatus::Handled);
    /// ```
    pub fn default_status(&self) -> ContinueStatus {
        self.default_status_with(|_| true)
    }

    /// As [`default_status`](Self::default_status), with a policy saying
    /// which signals are passed to the program (`pass(signal)`); the others
    /// are continued `Handled` (suppressed). A second chance is always
    /// delivered: suppressing it again would only repeat it. A Windows
    /// exception that is neither a breakpoint nor a step goes back to the
    /// program whatever its signal's policy says (WinDbg's default): only
    /// the program's handlers know what a `RaiseException` or a C++ throw
    /// is for, and "handled" would make `RaiseException` return.
    pub fn default_status_with(&self, pass: impl Fn(i32) -> bool) -> ContinueStatus {
        match self {
            EventKind::Exception { first_chance: false, .. } => ContinueStatus::NotHandled,
            EventKind::Exception { os_code: ExceptionCode::NtStatus(code), .. } if !is_debug_trap(*code) => {
                ContinueStatus::NotHandled
            }
            EventKind::Exception { signal, .. } if pass(*signal) => ContinueStatus::NotHandled,
            _ => ContinueStatus::Handled,
        }
    }

    /// For `ProcessExited`, the status a shell would see: the exit code, or
    /// `128 + signal` for a process a signal killed. `None` for other events.
    ///
    /// ```
    /// use dbgkit::EventKind;
    /// let killed = EventKind::ProcessExited { code: None, signal: Some(11) };
    /// assert_eq!(killed.exit_status(), Some(139));
    /// ```
    pub fn exit_status(&self) -> Option<i32> {
        match self {
            EventKind::ProcessExited { code: Some(code), .. } => Some(*code),
            EventKind::ProcessExited { code: None, signal } => Some(128 + signal.unwrap_or(0)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exceptions_go_back_to_the_program_unless_the_policy_keeps_them() {
        let segv = EventKind::Exception {
            signal: 11,
            code: 1,
            address: 0,
            fault_address: None,
            first_chance: true,
            os_code: crate::event::ExceptionCode::Signal(11),
        };
        assert_eq!(segv.default_status(), ContinueStatus::NotHandled);
        assert_eq!(segv.default_status_with(|s| s != 11), ContinueStatus::Handled);
        let second = EventKind::Exception {
            signal: 11,
            code: 1,
            address: 0,
            fault_address: None,
            first_chance: false,
            os_code: crate::event::ExceptionCode::Signal(11),
        };
        assert_eq!(second.default_status_with(|_| false), ContinueStatus::NotHandled);
        // A Windows program's own exception (reported with SIGTRAP) goes back to it.
        let raised = EventKind::Exception {
            signal: 5,
            code: 0,
            address: 0,
            fault_address: None,
            first_chance: true,
            os_code: ExceptionCode::NtStatus(0xE000_0001),
        };
        assert_eq!(raised.default_status_with(|_| false), ContinueStatus::NotHandled);
        let breakpoint = EventKind::Exception {
            signal: 5,
            code: 0,
            address: 0,
            fault_address: None,
            first_chance: true,
            os_code: ExceptionCode::NtStatus(0x8000_0003),
        };
        assert_eq!(breakpoint.default_status_with(|_| false), ContinueStatus::Handled);
        assert_eq!(EventKind::ThreadExited { code: 0 }.default_status(), ContinueStatus::Handled);
    }

    #[test]
    fn exit_status_is_the_code_or_128_plus_the_signal() {
        assert_eq!(EventKind::ProcessExited { code: Some(3), signal: None }.exit_status(), Some(3));
        assert_eq!(EventKind::ProcessExited { code: None, signal: Some(9) }.exit_status(), Some(137));
        assert_eq!(EventKind::BreakIn.exit_status(), None);
    }
}
