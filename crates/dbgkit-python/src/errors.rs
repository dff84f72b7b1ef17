//! The exception hierarchy, and how each engine error maps onto it.
//!
//! ```text
//! DebugError
//! ├── ProcessGone           the process or thread is gone (or never was debugged)
//! ├── MemoryError           memory not mapped / not readable
//! ├── ExpressionError       a bad expression or pattern
//! ├── SymbolNotFound        no such symbol, module or source line
//! │   └── AmbiguousSymbol   a bare name found in several modules
//! ├── ProcessRunning        the call needs the process stopped at an event
//! ├── StateError            nothing to continue, no process, session closed or busy
//! ├── BreakpointError       no such breakpoint, cannot plant one
//! ├── InjectionError        running code in the target failed
//! ├── LaunchError           cannot launch or attach
//! ├── WrongThreadError      the session was used from another thread
//! ├── InvalidArgument       a value the engine refuses
//! └── WaitTimeout           `events(timeout=...)` waited in vain
//! ```

use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyModule;

pyo3::create_exception!(dbgkit, DebugError, PyException, "Base class of every error dbgkit raises.");
pyo3::create_exception!(
    dbgkit,
    ProcessGone,
    DebugError,
    "The process or thread behind a handle has exited, or is not debugged by this session."
);
pyo3::create_exception!(
    dbgkit,
    MemoryError,
    DebugError,
    "Target memory that is not mapped or cannot be read or written (not Python's MemoryError)."
);
pyo3::create_exception!(
    dbgkit,
    ExpressionError,
    DebugError,
    "An expression or pattern that does not parse or evaluate."
);
pyo3::create_exception!(dbgkit, SymbolNotFound, DebugError, "No symbol, module or source line by that name.");
pyo3::create_exception!(
    dbgkit,
    AmbiguousSymbol,
    SymbolNotFound,
    "A bare name found in several modules: say which with MODULE!NAME."
);
pyo3::create_exception!(
    dbgkit,
    ProcessRunning,
    DebugError,
    "The call needs the process stopped: wait for an event or break in first."
);
pyo3::create_exception!(
    dbgkit,
    StateError,
    DebugError,
    "The session cannot do that now: nothing to continue, no process left, closed, or busy in a callback."
);
pyo3::create_exception!(
    dbgkit,
    BreakpointError,
    DebugError,
    "No such breakpoint, or a breakpoint that cannot be planted."
);
pyo3::create_exception!(
    dbgkit,
    InjectionError,
    DebugError,
    "Running code in the target (call, syscall, dlopen) failed."
);
pyo3::create_exception!(
    dbgkit,
    LaunchError,
    DebugError,
    "A program that cannot be launched, or a process that cannot be attached."
);
pyo3::create_exception!(
    dbgkit,
    WrongThreadError,
    DebugError,
    "A session (or a handle of one) used from a thread other than the one that created it (ptrace's rule)."
);
pyo3::create_exception!(dbgkit, InvalidArgument, DebugError, "An argument the engine refuses.");
pyo3::create_exception!(
    dbgkit,
    NotSupported,
    DebugError,
    "The target cannot do that (a core file cannot run or be written, for instance)."
);
pyo3::create_exception!(dbgkit, WaitTimeout, DebugError, "No event came within the timeout given to events().");
pyo3::create_exception!(
    dbgkit,
    RemoteError,
    DebugError,
    "Talking to a GDB remote stub failed: it cannot be reached, its connection was lost, or it refused a request."
);

/// Adds every exception class to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("DebugError", py.get_type::<DebugError>())?;
    m.add("ProcessGone", py.get_type::<ProcessGone>())?;
    m.add("MemoryError", py.get_type::<MemoryError>())?;
    m.add("ExpressionError", py.get_type::<ExpressionError>())?;
    m.add("SymbolNotFound", py.get_type::<SymbolNotFound>())?;
    m.add("AmbiguousSymbol", py.get_type::<AmbiguousSymbol>())?;
    m.add("ProcessRunning", py.get_type::<ProcessRunning>())?;
    m.add("StateError", py.get_type::<StateError>())?;
    m.add("BreakpointError", py.get_type::<BreakpointError>())?;
    m.add("InjectionError", py.get_type::<InjectionError>())?;
    m.add("LaunchError", py.get_type::<LaunchError>())?;
    m.add("WrongThreadError", py.get_type::<WrongThreadError>())?;
    m.add("InvalidArgument", py.get_type::<InvalidArgument>())?;
    m.add("NotSupported", py.get_type::<NotSupported>())?;
    m.add("WaitTimeout", py.get_type::<WaitTimeout>())?;
    m.add("RemoteError", py.get_type::<RemoteError>())?;
    Ok(())
}

/// The Python exception for an engine error; the message is the engine's.
pub fn to_py(err: dbgkit::Error) -> PyErr {
    use dbgkit::Error as E;
    let message = err.to_string();
    if err.is_gone() {
        return ProcessGone::new_err(message);
    }
    match err {
        E::ProcessGone(_) | E::NoSuchProcess(_) | E::NotDebugged(_) | E::NoSuchThread { .. } => {
            ProcessGone::new_err(message)
        }
        E::UnmappedMemory { .. } => MemoryError::new_err(message),
        E::BadExpression { .. }
        | E::BadPattern { .. }
        | E::UnknownName(_)
        | E::UnknownType(_)
        | E::OptimizedOut(_)
        | E::NoDebugInfo(_) => ExpressionError::new_err(message),
        E::AmbiguousSymbol { .. } => AmbiguousSymbol::new_err(message),
        E::SymbolNotFound(_) | E::NoSuchModule(_) | E::NoCodeForLine { .. } | E::LineOutOfRange { .. } => {
            SymbolNotFound::new_err(message)
        }
        E::ProcessRunning(_) => ProcessRunning::new_err(message),
        E::NoEventInFlight(_)
        | E::NothingToContinue
        | E::AllProcessesStopped
        | E::NoProcesses
        | E::StatusDoesNotFit { .. }
        | E::InsideCallback { .. } => StateError::new_err(message),
        E::NoSuchBreakpoint(_) | E::BreakpointExists(_) | E::CannotPlantBreakpoint { .. } => {
            BreakpointError::new_err(message)
        }
        E::InjectionFailed { .. } | E::CallFailed { .. } => InjectionError::new_err(message),
        E::ProgramNotFound(_) | E::CannotExecute { .. } | E::PermissionDenied(_) | E::AlreadyTraced { .. } => {
            LaunchError::new_err(message)
        }
        E::InvalidArgument(_) => InvalidArgument::new_err(message),
        E::NotSupported { .. } => NotSupported::new_err(message),
        E::Remote(_) => RemoteError::new_err(message),
        // EIO/EFAULT from a memory access: the address is not readable.
        ref e if matches!(e.raw_os_error(), Some(libc::EIO) | Some(libc::EFAULT)) => MemoryError::new_err(message),
        _ => DebugError::new_err(message),
    }
}

/// `Result<T, dbgkit::Error>` into `PyResult<T>`.
pub trait IntoPyResult<T> {
    fn py_err(self) -> PyResult<T>;
}

impl<T> IntoPyResult<T> for dbgkit::Result<T> {
    fn py_err(self) -> PyResult<T> {
        self.map_err(to_py)
    }
}
