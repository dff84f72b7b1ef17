//! The Win32 user-mode debug loop (`WaitForDebugEvent`,
//! `ContinueDebugEvent`, thread contexts, `ReadProcessMemory`): the
//! engine's Windows target ([`WindowsTarget`]) and `dbgkit-winstub` both
//! stand on [`Debuggee`], which turns the nine kinds of debug event into
//! stops and keeps the debugger's breakpoints (out of line where scratch
//! memory can be allocated near the code), trap flags and debug registers.
//!
//! The parts that are plain data (command-line and environment quoting,
//! debug-register slots, PE headers; the NTSTATUS codes are the engine's,
//! `crate::nt_status`) build everywhere, for their tests; the
//! rest only for Windows.

pub mod command_line;
pub mod debug_slots;
pub mod environment;
pub mod error;
pub mod exception_record;
pub mod library;

#[cfg(windows)]
pub mod context;
#[cfg(windows)]
pub mod debuggee;
#[cfg(windows)]
pub mod launch;
#[cfg(windows)]
mod target;

#[cfg(windows)]
pub use debuggee::{Debuggee, ResumePlan, Stop, ThreadAction};
pub use error::WindowsError;
pub use exception_record::ExceptionRecord;
#[cfg(windows)]
pub use launch::LaunchOptions;
#[cfg(windows)]
pub use target::WindowsTarget;

/// Which debug events stop beyond the faults and breakpoints every
/// debugger shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reporting {
    /// Report each DLL load and unload (a library stop), so that
    /// breakpoints in DLLs loaded later are planted.
    pub library_events: bool,
    /// Stop at the first chance of every exception, also those a program
    /// may handle itself (a `RaiseException`, a C++ throw), as WinDbg's
    /// `sxe` does.
    pub first_chance: bool,
    /// Report each thread's creation and end (after the first stop).
    pub thread_events: bool,
}
