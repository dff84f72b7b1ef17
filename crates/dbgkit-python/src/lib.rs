//! dbgkit's Python module: a thin layer over the engine (PyO3). Installed
//! as `dbgkit._dbgkit` and re-exported by the `dbgkit` package; see
//! `python/dbgkit/_dbgkit.pyi` for the documented API.

mod core;
pub mod embed;
mod errors;
mod event;
mod handles;
mod session;
mod source;
mod triage;
mod values;

use pyo3::prelude::*;

/// The native module (`dbgkit._dbgkit`); public so that a program embedding
/// Python (the `dbgkit` command line) can make it a built-in module.
#[pymodule]
pub fn _dbgkit(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    errors::register(m)?;
    m.add_class::<session::Session>()?;
    m.add_class::<event::Event>()?;
    m.add_class::<event::EventIterator>()?;
    m.add_class::<event::PyContinueStatus>()?;
    m.add_class::<handles::Process>()?;
    m.add_class::<handles::Thread>()?;
    m.add_class::<handles::Module>()?;
    m.add_class::<handles::Breakpoint>()?;
    m.add_class::<handles::Watchpoint>()?;
    m.add_class::<values::Registers>()?;
    m.add_class::<values::Checkpoint>()?;
    m.add_class::<values::Symbolized>()?;
    m.add_class::<values::Symbol>()?;
    m.add_class::<values::StackFrame>()?;
    m.add_class::<values::Stack>()?;
    m.add_class::<values::MemoryRegion>()?;
    m.add_class::<values::CallResult>()?;
    m.add_class::<source::Frame>()?;
    m.add_class::<source::Variable>()?;
    m.add_class::<source::Value>()?;
    m.add_class::<source::Type>()?;
    m.add_class::<source::Field>()?;
    m.add_function(wrap_pyfunction!(signal_name, m)?)?;
    m.add_function(wrap_pyfunction!(parse_signal, m)?)?;
    m.add_function(wrap_pyfunction!(triage::triage_run, m)?)?;
    m.add_function(wrap_pyfunction!(wildcard_regex, m)?)?;
    m.add_function(wrap_pyfunction!(embed::current_session, m)?)?;
    Ok(())
}

/// The anchored regular expression for a WinDbg wildcard pattern (`*` any
/// text, `?` one character), as the symbol search takes it.
#[pyfunction]
fn wildcard_regex(pattern: &str) -> String {
    dbgkit::wildcard::to_regex(pattern)
}

/// The name of a signal (`"SIGSEGV"`), or `"SIG<n>"` when it has none.
#[pyfunction]
fn signal_name(signal: i32) -> String {
    dbgkit::signal_name(signal)
}

/// A signal number from `"SIGSEGV"`, `"segv"` or `"11"`; `None` when it is not one.
#[pyfunction]
fn parse_signal(text: &str) -> Option<i32> {
    dbgkit::parse_signal(text)
}
