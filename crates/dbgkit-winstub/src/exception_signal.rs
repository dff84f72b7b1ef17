//! Which signal a Windows exception is reported as, and whether it stops at
//! all: the mapping of gdb's windows-nat (and gdbserver for Windows), so a
//! gdb user sees the names they know.

use gdbstub::common::Signal;

pub use dbgkit::nt_status as status;

/// The signal an exception is reported with, or `None` when it is passed to
/// the program without stopping: exceptions gdb has no signal for are only
/// reported when they come back unhandled (second chance), as windows-nat
/// does; a C++ throw or a `RaiseException` the program catches itself does
/// not stop the debugger. The signals are the engine's
/// (`status::signal_of`), in GDB's numbering.
pub fn stop_signal(code: u32, first_chance: bool) -> Option<Signal> {
    if status::is_note(code) || (first_chance && !status::stops_at_first_chance(code)) {
        return None;
    }
    Some(Signal(dbgkit::target::remote::signals::to_gdb(status::signal_of(code))))
}

/// The signal an exit status means, when the process ended by an unhandled
/// exception (its exit code is then the NTSTATUS): gdb reports such an exit
/// as "terminated with signal", as gdbserver for Windows does.
pub fn exit_signal(exit_code: u32) -> Option<Signal> {
    if exit_code & 0xC000_0000 != 0xC000_0000 {
        return None;
    }
    stop_signal(exit_code, false).filter(|s| *s != Signal::SIGTRAP)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_map_to_the_signals_gdb_names() {
        assert_eq!(stop_signal(status::DATATYPE_MISALIGNMENT, true), Some(Signal::SIGBUS));
        assert_eq!(stop_signal(status::DBG_CONTROL_C, true), Some(Signal::SIGINT));
        assert_eq!(stop_signal(status::MSVC_CXX_EXCEPTION, true), None);
        assert_eq!(stop_signal(status::MSVC_CXX_EXCEPTION, false), Some(Signal::SIGTRAP));
        assert_eq!(stop_signal(status::MS_VC_THREAD_NAME, false), None);
        assert_eq!(stop_signal(status::ACCESS_VIOLATION, true), Some(Signal::SIGSEGV));
        assert_eq!(stop_signal(status::INTEGER_DIVIDE_BY_ZERO, true), Some(Signal::SIGFPE));
        assert_eq!(stop_signal(status::ILLEGAL_INSTRUCTION, false), Some(Signal::SIGILL));
        assert_eq!(stop_signal(status::BREAKPOINT, true), Some(Signal::SIGTRAP));
        assert_eq!(stop_signal(status::SINGLE_STEP, true), Some(Signal::SIGTRAP));
    }

    #[test]
    fn unknown_exceptions_stop_only_when_unhandled() {
        assert_eq!(stop_signal(status::MSVC_CXX_EXCEPTION, true), None);
        assert_eq!(stop_signal(0xE000_0001, true), None);
        assert_eq!(stop_signal(0xE000_0001, false), Some(Signal::SIGTRAP));
        assert_eq!(stop_signal(status::MS_VC_THREAD_NAME, false), None);
    }

    #[test]
    fn exits_by_exception_are_signals() {
        assert_eq!(exit_signal(0xC000_0005), Some(Signal::SIGSEGV));
        assert_eq!(exit_signal(42), None);
        assert_eq!(exit_signal(0xC000_0135), None);
    }
}
