//! dbgkit: a programmable debugger engine.
//!
//! One [`Session`] owns the debugged processes and one queue of events.
//! Each event stops its process until it is continued with an explicit
//! [`ContinueStatus`]. See `docs/design.md` for the model.

pub mod arch;
pub mod breakpoints;
pub mod c_format;
pub mod corefile;
pub mod debuginfo;
pub mod disasm;
pub mod error;
pub mod event;
mod event_defaults;
pub mod expr;
pub mod kernel;
pub mod launch;
mod linux;
mod linux_abi;
pub mod module;
mod module_sections;
pub mod nt_status;
pub mod os;
mod pe_image;
mod process;
pub mod session;
pub mod signal_numbers;
pub mod symbols;
mod syscalls;
pub mod target;
pub mod triage;
pub mod unwind;
pub mod watch_spec;
pub mod wildcard;

pub use arch::registers::{FpRegisters, Registers};
pub use breakpoints::hardware::WatchAccess;
pub use breakpoints::{BreakpointInfo, BreakpointKind, BreakpointOptions, HitAction};
pub use error::{Error, Result};
pub use event::{parse_signal, signal_name, ContinueStatus, Event, EventKind, ExceptionCode};
pub use launch::{SpawnOptions, SpawnedPipes, Stdio};
pub use linux::rdebug::{LinkMapEntry, LinkMapNamespace};
pub use module::Module;
pub use session::VectorWidth;
pub use session::{
    expand_frames, BreakpointLocation, CallArg, CallResult, CheckpointInfo, ConnectOptions, FieldInfo, HitContext,
    KernelPlacement, KernelProcess, KernelReload, LineRange, OtherThreads, Protection, Session, SourceCondition,
    SourceFrame, SourceInfo, StepKind, StepOptions, TypeInfo, TypedValue, Variable, VariableKind, WatchpointInfo,
    SCRATCH_NAME,
};
pub use symbols::{SourceLocation, Symbol, Symbolized};
pub use syscalls::{syscall_name, syscall_number};
pub use target::MemoryRegion;
pub use unwind::{FoundBy, RecoveredRegisters, Stack, StackFrame, Unwinder};
pub use watch_spec::WatchSpec;
