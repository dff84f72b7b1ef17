//! For a program that runs Python inside itself around its own engine
//! session: the `dbgkit` command line. It makes one [`DebuggerSession`],
//! lends its `dbgkit::Session` to it while Python code runs, and Python
//! reaches that session with `dbgkit.current_session()`: the same
//! `dbgkit.Session` type as everywhere, over the debugger's engine session.

use crate::core::Core;
use crate::errors::StateError;
use crate::session::Session;
use pyo3::prelude::*;
use std::sync::{Arc, Mutex};

/// The debugger's session as Python sees it, when this process has one.
static CURRENT: Mutex<Option<Py<Session>>> = Mutex::new(None);

/// `dbgkit.current_session()`: the debugger's own session, inside the
/// `dbgkit` command line (`.py`, `py`, `python`, `source`, `-x`, extension
/// commands). Raises `StateError` anywhere else.
#[pyfunction]
pub fn current_session(py: Python<'_>) -> PyResult<Py<Session>> {
    let current = CURRENT.lock().unwrap_or_else(|e| e.into_inner());
    match current.as_ref() {
        Some(session) => Ok(session.clone_ref(py)),
        None => Err(StateError::new_err(
            "no debugger session here: dbgkit.current_session() is the session of the dbgkit debugger, \
             for scripts it runs (.py FILE, py CODE, source FILE.py, dbgkit -x FILE.py); elsewhere make \
             one with dbgkit.Session()",
        )),
    }
}

/// The debugger's side of its Python session. Made once, on the debugger's
/// thread, after the interpreter is up.
pub struct DebuggerSession {
    core: Arc<Core>,
}

impl DebuggerSession {
    /// Makes the session `dbgkit.current_session()` returns from now on.
    pub fn install(py: Python<'_>) -> PyResult<DebuggerSession> {
        let core = Core::for_debugger();
        let session = Py::new(py, Session::from_core(core.clone()))?;
        *CURRENT.lock().unwrap_or_else(|e| e.into_inner()) = Some(session);
        Ok(DebuggerSession { core })
    }

    /// Runs `f` (Python code) with the debugger's engine session reachable
    /// from Python, the debugger's held events as the events in flight
    /// (`current`: the process of the one it reported last). Returns `f`'s
    /// result and the events still in flight afterwards, with the process
    /// of the one reported last: Python may have continued some and waited
    /// for others.
    pub fn lend<R>(
        &self,
        session: &mut dbgkit::Session,
        held: &[dbgkit::Event],
        current: Option<i32>,
        f: impl FnOnce() -> R,
    ) -> (R, Vec<dbgkit::Event>, Option<i32>) {
        self.core.adopt_events(held, current);
        let result = self.core.lend(session, f);
        let (events, last) = self.core.events_in_flight();
        (result, events, last)
    }

    /// The exception a Python breakpoint callback raised while the debugger
    /// ran the target, if one did (the callback's breakpoint stopped the target).
    pub fn take_callback_error(&self) -> Option<PyErr> {
        self.core.take_pending_error()
    }
}
