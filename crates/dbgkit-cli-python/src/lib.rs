//! The `dbgkit` command line with Python inside it.
//!
//! The `dbgkit` binary loads this library after libpython (see dbgkit-cli's
//! `python_plugin.rs`) and calls [`dbgkit_cli_python_main`]: the same
//! command line runs, with a [`PythonHost`] for its Python commands. The
//! interpreter starts the first time Python is used. The `dbgkit` package
//! comes from this library (its sources are embedded at build time) and its
//! native module is the one compiled in here, over the same engine the
//! command line uses: `dbgkit.current_session()` is the debugger's session.

mod sources {
    include!(concat!(env!("OUT_DIR"), "/sources.rs"));
}

use anyhow::anyhow;
use dbgkit_cli::scripting::{ExtensionCommand, Lend, Returned, ScriptHost, ScriptWork, Scripting};
use dbgkit_python::embed::DebuggerSession;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use std::ffi::CString;

/// Runs the command line with Python; returns the exit status.
#[no_mangle]
pub extern "C" fn dbgkit_cli_python_main() -> std::ffi::c_int {
    let host = PythonHost { started: None };
    // A panic must not unwind into the C caller: it ends the command line with status 101, as a Rust program would.
    let run = std::panic::AssertUnwindSafe(move || dbgkit_cli::run(Scripting::with_host(Box::new(host))));
    std::panic::catch_unwind(run).unwrap_or(101)
}

/// The interpreter, once started.
struct Started {
    debugger: DebuggerSession,
    /// `__main__`'s namespace: what `py` and `python` lines share.
    main: Py<PyDict>,
}

/// Python for the command line.
struct PythonHost {
    started: Option<Started>,
}

impl PythonHost {
    fn start(&mut self) -> anyhow::Result<&Started> {
        if self.started.is_none() {
            Python::initialize();
            let started = Python::attach(|py| start_interpreter(py).map_err(|e| anyhow!(describe(py, &e))))?;
            self.started = Some(started);
        }
        Ok(self.started.as_ref().expect("started"))
    }
}

fn start_interpreter(py: Python<'_>) -> PyResult<Started> {
    let native = pyo3::wrap_pymodule!(dbgkit_python::_dbgkit)(py);
    py.import("sys")?.getattr("modules")?.set_item("dbgkit._dbgkit", native)?;
    let sources = PyDict::new(py);
    for (name, package, text) in sources::SOURCES {
        sources.set_item(name, (package, text))?;
    }
    let scope = PyDict::new(py);
    scope.set_item("_sources", sources)?;
    let bootstrap = CString::new(include_str!("bootstrap.py")).expect("no NUL");
    py.run(&bootstrap, Some(&scope), None)?;
    let debugger = DebuggerSession::install(py)?;
    let main = py.import("__main__")?.dict();
    main.set_item("dbgkit", py.import("dbgkit")?)?;
    Ok(Started { debugger, main: main.unbind() })
}

/// A Python exception as its traceback text.
fn traceback_text(py: Python<'_>, err: &PyErr) -> String {
    let formatted = py
        .import("traceback")
        .and_then(|tb| tb.getattr("format_exception")?.call1((err.get_type(py), err.value(py), err.traceback(py))))
        .and_then(|lines| lines.cast_into::<PyList>().map_err(PyErr::from))
        .map(|lines| lines.iter().map(|l| l.to_string()).collect::<String>());
    formatted.unwrap_or_else(|_| format!("{err}\n"))
}

/// `TypeName: message`.
fn describe(py: Python<'_>, err: &PyErr) -> String {
    let name = err.get_type(py).name().map(|n| n.to_string()).unwrap_or_else(|_| "exception".to_string());
    format!("{name}: {}", err.value(py))
}

fn flush(py: Python<'_>) {
    if let Ok(sys) = py.import("sys") {
        for stream in ["stdout", "stderr"] {
            if let Ok(s) = sys.getattr(stream) {
                let _ = s.call_method0("flush");
            }
        }
    }
}

/// Runs one piece of work in the interpreter.
fn run_work(py: Python<'_>, main: &Bound<'_, PyDict>, work: &ScriptWork<'_>) -> PyResult<()> {
    let builtins = py.import("builtins")?;
    match work {
        ScriptWork::Source { text, interactive } => {
            let mode = if *interactive { "single" } else { "exec" };
            let code = builtins.getattr("compile")?.call1((*text, "<python>", mode))?;
            builtins.getattr("exec")?.call1((code, main))?;
        }
        ScriptWork::File { path, args } => {
            let sys = py.import("sys")?;
            let path_text = path.to_string_lossy().into_owned();
            let mut argv = vec![path_text.clone()];
            argv.extend(args.iter().cloned());
            sys.setattr("argv", argv)?;
            // As `python3 FILE` does: the script's directory first on the import path.
            let dir = path.parent().map(|d| d.to_string_lossy().into_owned()).filter(|d| !d.is_empty());
            let dir = dir.unwrap_or_else(|| ".".to_string());
            let search = sys.getattr("path")?;
            search.call_method1("insert", (0, &dir))?;
            let ran = py.import("runpy")?.getattr("run_path")?.call(
                (path_text,),
                Some(&{
                    let kw = PyDict::new(py);
                    kw.set_item("run_name", "__main__")?;
                    kw
                }),
            );
            let _ = search.call_method1("remove", (&dir,));
            ran?;
        }
        ScriptWork::Command { name, args } => {
            let registry = py.import("dbgkit")?.getattr("_commands")?;
            let function = registry.get_item(*name)?;
            function.call1((*args,))?;
        }
    }
    Ok(())
}

impl ScriptHost for PythonHost {
    fn run(&mut self, lend: Lend<'_>, work: ScriptWork<'_>) -> (anyhow::Result<()>, Returned) {
        let Lend { session, held, current } = lend;
        let started = match self.start() {
            Ok(started) => started,
            Err(e) => return (Err(e.context("cannot start Python")), Returned { held, current }),
        };
        let (result, held, current) = started.debugger.lend(session, &held, current, || {
            Python::attach(|py| {
                let outcome = run_work(py, started.main.bind(py), &work);
                let result = match outcome {
                    Ok(()) => Ok(()),
                    Err(e) if e.is_instance_of::<pyo3::exceptions::PySystemExit>(py) => {
                        let code = e.value(py).getattr("code").ok().filter(|c| !c.is_none());
                        match code {
                            None => Ok(()),
                            Some(c) if c.extract::<i64>().is_ok_and(|n| n == 0) => Ok(()),
                            Some(c) => Err(anyhow!("the Python script exited with status {c}")),
                        }
                    }
                    Err(e) => {
                        eprint!("{}", traceback_text(py, &e));
                        Err(anyhow!("Python: {}", describe(py, &e)))
                    }
                };
                flush(py);
                result
            })
        });
        (result, Returned { held, current })
    }

    fn commands(&mut self) -> Vec<ExtensionCommand> {
        let Some(started) = &self.started else { return Vec::new() };
        let _ = started;
        Python::attach(|py| {
            let listed = || -> PyResult<Vec<ExtensionCommand>> {
                let registry = py.import("dbgkit")?.getattr("_commands")?.cast_into::<PyDict>()?;
                let getdoc = py.import("inspect")?.getattr("getdoc")?;
                let mut out = Vec::new();
                for (name, function) in registry.iter() {
                    let doc = getdoc.call1((function,))?;
                    let help = if doc.is_none() { String::new() } else { doc.to_string() };
                    let help = help.lines().next().unwrap_or("").trim().to_string();
                    out.push(ExtensionCommand { name: name.to_string(), help });
                }
                out.sort_by(|a, b| a.name.cmp(&b.name));
                Ok(out)
            };
            listed().unwrap_or_default()
        })
    }

    fn take_callback_error(&mut self) -> Option<String> {
        let started = self.started.as_ref()?;
        let err = started.debugger.take_callback_error()?;
        Some(Python::attach(|py| traceback_text(py, &err)))
    }
}
