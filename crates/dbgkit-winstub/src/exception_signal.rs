//! Which signal a Windows exception is reported as, and whether it stops at
//! all: the mapping of gdb's windows-nat (and gdbserver for Windows), so a
//! gdb user sees the names they know.

use gdbstub::common::Signal;

/// NTSTATUS codes of the exceptions that have a meaning of their own.
pub mod status {
    pub const ACCESS_VIOLATION: u32 = 0xC000_0005;
    pub const IN_PAGE_ERROR: u32 = 0xC000_0006;
    pub const INVALID_HANDLE: u32 = 0xC000_0008;
    pub const NONCONTINUABLE_EXCEPTION: u32 = 0xC000_0025;
    pub const ARRAY_BOUNDS_EXCEEDED: u32 = 0xC000_008C;
    pub const FLOAT_DENORMAL_OPERAND: u32 = 0xC000_008D;
    pub const FLOAT_DIVIDE_BY_ZERO: u32 = 0xC000_008E;
    pub const FLOAT_INEXACT_RESULT: u32 = 0xC000_008F;
    pub const FLOAT_INVALID_OPERATION: u32 = 0xC000_0090;
    pub const FLOAT_OVERFLOW: u32 = 0xC000_0091;
    pub const FLOAT_STACK_CHECK: u32 = 0xC000_0092;
    pub const FLOAT_UNDERFLOW: u32 = 0xC000_0093;
    pub const INTEGER_DIVIDE_BY_ZERO: u32 = 0xC000_0094;
    pub const INTEGER_OVERFLOW: u32 = 0xC000_0095;
    pub const PRIVILEGED_INSTRUCTION: u32 = 0xC000_0096;
    pub const STACK_OVERFLOW: u32 = 0xC000_00FD;
    pub const ILLEGAL_INSTRUCTION: u32 = 0xC000_001D;
    pub const GUARD_PAGE_VIOLATION: u32 = 0x8000_0001;
    pub const DATATYPE_MISALIGNMENT: u32 = 0x8000_0002;
    pub const BREAKPOINT: u32 = 0x8000_0003;
    pub const SINGLE_STEP: u32 = 0x8000_0004;
    pub const WX86_BREAKPOINT: u32 = 0x4000_001F;
    pub const WX86_SINGLE_STEP: u32 = 0x4000_001E;
    pub const DBG_CONTROL_C: u32 = 0x4001_0005;
    pub const DBG_PRINTEXCEPTION_C: u32 = 0x4001_0006;
    pub const DBG_CONTROL_BREAK: u32 = 0x4001_0008;
    /// The MSVC convention for naming a thread (`RaiseException(0x406D1388)`).
    pub const MS_VC_THREAD_NAME: u32 = 0x406D_1388;
    /// A C++ exception thrown by MSVC-built code.
    pub const MSVC_CXX_EXCEPTION: u32 = 0xE06D_7363;
}

/// The signal an exception is reported with, or `None` when it is passed to
/// the program without stopping: exceptions gdb has no signal for are only
/// reported when they come back unhandled (second chance), as windows-nat
/// does; a C++ throw or a `RaiseException` the program catches itself does
/// not stop the debugger.
pub fn stop_signal(code: u32, first_chance: bool) -> Option<Signal> {
    use status::*;
    let signal = match code {
        ACCESS_VIOLATION | IN_PAGE_ERROR | STACK_OVERFLOW | ARRAY_BOUNDS_EXCEEDED | GUARD_PAGE_VIOLATION => {
            Signal::SIGSEGV
        }
        DATATYPE_MISALIGNMENT => Signal::SIGBUS,
        FLOAT_DENORMAL_OPERAND
        | FLOAT_DIVIDE_BY_ZERO
        | FLOAT_INEXACT_RESULT
        | FLOAT_INVALID_OPERATION
        | FLOAT_OVERFLOW
        | FLOAT_STACK_CHECK
        | FLOAT_UNDERFLOW
        | INTEGER_DIVIDE_BY_ZERO
        | INTEGER_OVERFLOW => Signal::SIGFPE,
        ILLEGAL_INSTRUCTION | PRIVILEGED_INSTRUCTION | NONCONTINUABLE_EXCEPTION => Signal::SIGILL,
        BREAKPOINT | WX86_BREAKPOINT | SINGLE_STEP | WX86_SINGLE_STEP => Signal::SIGTRAP,
        DBG_CONTROL_C | DBG_CONTROL_BREAK => Signal::SIGINT,
        // Not errors: notes a debugger may read, passed on silently.
        MS_VC_THREAD_NAME | DBG_PRINTEXCEPTION_C => return None,
        _ if first_chance => return None,
        _ => Signal::SIGTRAP,
    };
    Some(signal)
}

/// With `--first-chance`: the signal of an exception [`stop_signal`] lets
/// pass at its first chance: SIGTRAP (the client asks `monitor exception`
/// for what it is), except the notes a debugger only reads (a thread's
/// name, a debug print), which still pass.
pub fn first_chance_signal(code: u32) -> Option<Signal> {
    match code {
        status::MS_VC_THREAD_NAME | status::DBG_PRINTEXCEPTION_C => None,
        _ => Some(Signal::SIGTRAP),
    }
}

/// A short name for an exception code, for the stub's log.
pub fn exception_name(code: u32) -> &'static str {
    use status::*;
    match code {
        ACCESS_VIOLATION => "access violation",
        IN_PAGE_ERROR => "in-page error",
        STACK_OVERFLOW => "stack overflow",
        ARRAY_BOUNDS_EXCEEDED => "array bounds exceeded",
        GUARD_PAGE_VIOLATION => "guard page violation",
        DATATYPE_MISALIGNMENT => "datatype misalignment",
        INTEGER_DIVIDE_BY_ZERO => "integer divide by zero",
        INTEGER_OVERFLOW => "integer overflow",
        ILLEGAL_INSTRUCTION => "illegal instruction",
        PRIVILEGED_INSTRUCTION => "privileged instruction",
        BREAKPOINT => "breakpoint",
        SINGLE_STEP => "single step",
        DBG_CONTROL_C => "control-c",
        MSVC_CXX_EXCEPTION => "C++ exception",
        INVALID_HANDLE => "invalid handle",
        _ if code & 0xF000_0000 == 0xC000_0000 => "error",
        _ => "exception",
    }
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
    fn every_first_chance_can_stop_but_the_notes() {
        assert_eq!(first_chance_signal(status::MSVC_CXX_EXCEPTION), Some(Signal::SIGTRAP));
        assert_eq!(first_chance_signal(0xE000_0001), Some(Signal::SIGTRAP));
        assert_eq!(first_chance_signal(status::MS_VC_THREAD_NAME), None);
        assert_eq!(first_chance_signal(status::DBG_PRINTEXCEPTION_C), None);
        // Without the option a C++ throw passes at its first chance.
        assert_eq!(stop_signal(status::MSVC_CXX_EXCEPTION, true), None);
    }

    #[test]
    fn faults_map_to_the_signals_gdb_names() {
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
