//! dbgkit: a programmable debugger engine.
//!
//! One [`Session`] owns the debugged processes and one queue of events.
//! Each event stops its process until it is continued with an explicit
//! [`ContinueStatus`]. See `docs/design.md` for the model.

pub mod arch;
pub mod breakpoints;
pub mod disasm;
pub mod error;
pub mod event;
pub mod expr;
pub mod module;
pub mod os;
mod process;
pub mod session;
pub mod symbols;
pub mod unwind;

pub use arch::registers::{FpRegisters, Registers};
pub use breakpoints::hardware::WatchAccess;
pub use breakpoints::{BreakpointInfo, BreakpointOptions, HitAction};
pub use error::{Error, Result};
pub use event::{parse_signal, signal_name, ContinueStatus, Event, EventKind};
pub use module::Module;
pub use os::linux::maps::MemoryRegion;
pub use os::linux::spawn::{SpawnOptions, SpawnedPipes, Stdio};
pub use session::{CallArg, CallResult, HitContext, OtherThreads, Protection, Session, WatchpointInfo};
pub use symbols::{SourceLocation, Symbol, Symbolized};
pub use unwind::{FoundBy, RecoveredRegisters, Stack, StackFrame, Unwinder};
