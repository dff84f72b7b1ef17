//! The engine's error type: every failure names what was wrong.

use std::path::PathBuf;

/// Everything that can go wrong in the engine.
///
/// Each variant carries enough context to print a message a user can act on;
/// none of them is ever a panic.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("program not found: {0}")]
    ProgramNotFound(PathBuf),
    #[error("cannot execute {path}: {reason}")]
    CannotExecute { path: PathBuf, reason: String },
    #[error("no such process: {0}")]
    NoSuchProcess(i32),
    #[error("process {pid} is already traced (by thread {tracer})")]
    AlreadyTraced { pid: i32, tracer: i32 },
    #[error("permission denied to debug process {0}")]
    PermissionDenied(i32),
    #[error("process {0} is not debugged by this session")]
    NotDebugged(i32),
    #[error("process {0} has exited")]
    ProcessGone(i32),
    #[error("thread {tid} does not belong to process {pid}")]
    NoSuchThread { pid: i32, tid: i32 },
    #[error("process {0} is running: wait for an event or break in first")]
    ProcessRunning(i32),
    #[error("no event is waiting to be continued for process {0}")]
    NoEventInFlight(i32),
    #[error("no event is waiting to be continued")]
    NothingToContinue,
    #[error("every debugged process is stopped at an event: continue one first")]
    AllProcessesStopped,
    #[error("no process is being debugged")]
    NoProcesses,
    #[error("continue status {status} does not fit a {event} event")]
    StatusDoesNotFit { status: &'static str, event: &'static str },
    #[error("memory at {address:#x} ({len} bytes) is not mapped in process {pid}")]
    UnmappedMemory { pid: i32, address: u64, len: usize },
    #[error("no breakpoint with id {0}")]
    NoSuchBreakpoint(u32),
    #[error("a breakpoint is already set at {0:#x}")]
    BreakpointExists(u64),
    #[error("cannot plant a breakpoint at {address:#x}: {reason}")]
    CannotPlantBreakpoint { address: u64, reason: String },
    #[error("cannot run code in process {pid}: {reason}")]
    InjectionFailed { pid: i32, reason: String },
    #[error("cannot read {what}: {reason}")]
    BadTargetData { what: String, reason: String },
    #[error("bad core file {}: {reason}", path.display())]
    BadCoreFile { path: PathBuf, reason: String },
    #[error("bad expression {text:?}: {error}")]
    BadExpression { text: String, error: crate::expr::ExprError },
    #[error("cannot call {address:#x} in process {pid}: {reason}")]
    CallFailed { pid: i32, address: u64, reason: String },
    #[error("{0}")]
    InvalidArgument(String),
    #[error(
        "cannot {what} inside a breakpoint callback: only reading is allowed there (registers, memory, \
         symbols, stacks, expressions); stop at the breakpoint and do it at its event"
    )]
    InsideCallback { what: &'static str },
    #[error("{what} is not supported by this target ({target})")]
    NotSupported { what: &'static str, target: &'static str },
    #[error("symbol not found: {0}")]
    SymbolNotFound(String),
    #[error("ambiguous symbol {name}: {}; say which with MODULE!{name}", candidates.join(", "))]
    AmbiguousSymbol { name: String, candidates: Vec<String> },
    #[error("no module named {0}")]
    NoSuchModule(String),
    #[error("no code for line {line} of {file}")]
    NoCodeForLine { file: String, line: u32 },
    #[error("No symbol \"{0}\" in current context.")]
    UnknownName(String),
    #[error("{}", unknown_type_message(.0))]
    UnknownType(String),
    #[error("{0}: value has been optimized out")]
    OptimizedOut(String),
    #[error("No line {line} in file \"{file}\".")]
    LineOutOfRange { file: String, line: u32 },
    #[error("no debugging information for {0}")]
    NoDebugInfo(String),
    #[error("no frame {frame}: the stack has {count}")]
    NoSuchFrame { frame: usize, count: usize },
    #[error("bad pattern {pattern:?}: {reason}")]
    BadPattern { pattern: String, reason: String },
    #[error("{op} failed for {target}: {source}")]
    Os {
        op: &'static str,
        target: i32,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// Talking to a remote stub failed (see [`crate::target::remote::RemoteError`]).
    #[error(transparent)]
    Remote(#[from] crate::target::remote::RemoteError),
}

/// gdb's words for a type name that names nothing.
fn unknown_type_message(name: &str) -> String {
    for keyword in ["struct", "union", "enum", "class"] {
        if let Some(tag) = name.strip_prefix(keyword).and_then(|rest| rest.strip_prefix(' ')) {
            let keyword = if keyword == "class" { "struct" } else { keyword };
            return format!("No {keyword} type named {}.", tag.trim());
        }
    }
    format!("No symbol \"{name}\" in current context.")
}

/// Results of the engine.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// Wraps the current `errno` of a failed system call on `target`.
    #[cfg(target_os = "linux")]
    pub(crate) fn last_os(op: &'static str, target: i32) -> Error {
        Error::Os { op, target, source: std::io::Error::last_os_error() }
    }

    /// The `errno` behind an OS error, if this is one.
    pub fn raw_os_error(&self) -> Option<i32> {
        match self {
            Error::Os { source, .. } | Error::Io(source) => source.raw_os_error(),
            _ => None,
        }
    }

    /// True when a remote target's connection is gone (its process can no longer be debugged).
    pub fn is_connection_lost(&self) -> bool {
        matches!(self, Error::Remote(crate::target::remote::RemoteError::ConnectionLost { .. }))
    }

    /// True when the error says the thread or process vanished (`ESRCH`).
    pub fn is_gone(&self) -> bool {
        // Elsewhere error 3 is another system's (Windows': path not found).
        matches!(self, Error::ProcessGone(_)) || (cfg!(unix) && self.raw_os_error() == Some(crate::linux_abi::ESRCH))
    }
}
