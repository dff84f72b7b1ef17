//! The NTSTATUS codes of the exceptions that have a meaning of their own:
//! the engine's vocabulary for Windows exceptions, as `signal_numbers.rs`
//! is for signals, whatever the target (the Win32 debug loop, a stub's
//! `monitor exception`). Also which of them a debugger stops at when they
//! are first raised, and the signal the engine handles each as.

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

/// Notes a debugger may read and a program raises to be seen (a thread's
/// name, a debug print): never a stop, always passed on.
pub fn is_note(code: u32) -> bool {
    matches!(code, MS_VC_THREAD_NAME | DBG_PRINTEXCEPTION_C)
}

/// Whether an exception stops at its first chance even without
/// a debugger asking for every first chance: the faults and traps
/// every debugger shows at once (gdb has a signal for each). Other
/// exceptions (a C++ throw, a `RaiseException`) stop only when the program
/// did not handle them (second chance).
pub fn stops_at_first_chance(code: u32) -> bool {
    signal_of(code) != crate::signal_numbers::SIGTRAP
        || matches!(code, BREAKPOINT | WX86_BREAKPOINT | SINGLE_STEP | WX86_SINGLE_STEP)
}

/// The signal the engine handles an exception as (its NTSTATUS goes with
/// it): the faults as their POSIX counterparts, breakpoints, steps and
/// every other exception (a C++ throw, a `RaiseException`) as `SIGTRAP`,
/// a console Ctrl-C as `SIGINT`.
pub fn signal_of(code: u32) -> i32 {
    use crate::signal_numbers::{SIGBUS, SIGFPE, SIGILL, SIGINT, SIGSEGV, SIGTRAP};
    match code {
        ACCESS_VIOLATION | IN_PAGE_ERROR | STACK_OVERFLOW | ARRAY_BOUNDS_EXCEEDED | GUARD_PAGE_VIOLATION => SIGSEGV,
        DATATYPE_MISALIGNMENT => SIGBUS,
        FLOAT_DENORMAL_OPERAND
        | FLOAT_DIVIDE_BY_ZERO
        | FLOAT_INEXACT_RESULT
        | FLOAT_INVALID_OPERATION
        | FLOAT_OVERFLOW
        | FLOAT_STACK_CHECK
        | FLOAT_UNDERFLOW
        | INTEGER_DIVIDE_BY_ZERO
        | INTEGER_OVERFLOW => SIGFPE,
        ILLEGAL_INSTRUCTION | PRIVILEGED_INSTRUCTION | NONCONTINUABLE_EXCEPTION => SIGILL,
        DBG_CONTROL_C | DBG_CONTROL_BREAK => SIGINT,
        _ => SIGTRAP,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_stop_at_once_and_notes_never() {
        assert!(stops_at_first_chance(ACCESS_VIOLATION) && stops_at_first_chance(BREAKPOINT));
        assert!(!stops_at_first_chance(MSVC_CXX_EXCEPTION) && !stops_at_first_chance(0xE000_0001));
        assert!(is_note(MS_VC_THREAD_NAME) && !is_note(ACCESS_VIOLATION));
        assert_eq!(signal_of(ACCESS_VIOLATION), crate::signal_numbers::SIGSEGV);
        assert_eq!(signal_of(MSVC_CXX_EXCEPTION), crate::signal_numbers::SIGTRAP);
    }
}
