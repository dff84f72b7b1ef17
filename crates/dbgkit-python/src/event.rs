//! Events as Python sees them, the continue status, and the `events()` loop.

use crate::core::{default_status, Core};
use crate::errors::{StateError, WaitTimeout};
use crate::handles::{Breakpoint, Module, Process, Thread, Watchpoint};
use dbgkit::{ContinueStatus, EventKind};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How to continue an event (the Win32 debug loop's continue status).
/// Wherever a status is taken, its lower-case name works too
/// (`"handled"`, `"not_handled"`, `"terminate_thread"`, `"terminate_process"`).
#[pyclass(eq, eq_int, frozen, module = "dbgkit", name = "ContinueStatus")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(non_camel_case_types, clippy::upper_case_acronyms)]
pub enum PyContinueStatus {
    /// Go on; the signal of an exception is suppressed.
    HANDLED,
    /// Go on and deliver the exception's signal to the program.
    NOT_HANDLED,
    /// End the event's thread (it exits with code 0); the others go on.
    TERMINATE_THREAD,
    /// Kill the whole process.
    TERMINATE_PROCESS,
}

#[pymethods]
impl PyContinueStatus {
    fn __str__(&self) -> &'static str {
        status_name(ContinueStatus::from(*self))
    }
}

impl From<PyContinueStatus> for ContinueStatus {
    fn from(s: PyContinueStatus) -> ContinueStatus {
        match s {
            PyContinueStatus::HANDLED => ContinueStatus::Handled,
            PyContinueStatus::NOT_HANDLED => ContinueStatus::NotHandled,
            PyContinueStatus::TERMINATE_THREAD => ContinueStatus::TerminateThread,
            PyContinueStatus::TERMINATE_PROCESS => ContinueStatus::TerminateProcess,
        }
    }
}

impl From<ContinueStatus> for PyContinueStatus {
    fn from(s: ContinueStatus) -> PyContinueStatus {
        match s {
            ContinueStatus::Handled => PyContinueStatus::HANDLED,
            ContinueStatus::NotHandled => PyContinueStatus::NOT_HANDLED,
            ContinueStatus::TerminateThread => PyContinueStatus::TERMINATE_THREAD,
            ContinueStatus::TerminateProcess => PyContinueStatus::TERMINATE_PROCESS,
        }
    }
}

pub fn status_name(s: ContinueStatus) -> &'static str {
    match s {
        ContinueStatus::Handled => "handled",
        ContinueStatus::NotHandled => "not_handled",
        ContinueStatus::TerminateThread => "terminate_thread",
        ContinueStatus::TerminateProcess => "terminate_process",
    }
}

/// A continue status from a `ContinueStatus` or its name.
pub fn parse_status(obj: &Bound<'_, PyAny>) -> PyResult<ContinueStatus> {
    if let Ok(s) = obj.cast::<PyContinueStatus>() {
        return Ok((*s.get()).into());
    }
    let Ok(text) = obj.extract::<String>() else {
        return Err(PyTypeError::new_err("a continue status is a dbgkit.ContinueStatus or its name"));
    };
    let norm: String = text.trim().to_ascii_lowercase().chars().filter(|c| !matches!(c, '_' | '-' | ' ')).collect();
    match norm.as_str() {
        "handled" | "gohandled" => Ok(ContinueStatus::Handled),
        "nothandled" | "gonothandled" | "unhandled" => Ok(ContinueStatus::NotHandled),
        "terminatethread" => Ok(ContinueStatus::TerminateThread),
        "terminateprocess" => Ok(ContinueStatus::TerminateProcess),
        _ => Err(PyValueError::new_err(format!(
            "unknown continue status {text:?}: use handled, not_handled, terminate_thread or terminate_process"
        ))),
    }
}

pub fn parse_status_opt(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<ContinueStatus>> {
    obj.filter(|o| !o.is_none()).map(parse_status).transpose()
}

fn status_code(s: Option<ContinueStatus>) -> u8 {
    match s {
        None => 0,
        Some(ContinueStatus::Handled) => 1,
        Some(ContinueStatus::NotHandled) => 2,
        Some(ContinueStatus::TerminateThread) => 3,
        Some(ContinueStatus::TerminateProcess) => 4,
    }
}

fn status_of_code(c: u8) -> Option<ContinueStatus> {
    match c {
        1 => Some(ContinueStatus::Handled),
        2 => Some(ContinueStatus::NotHandled),
        3 => Some(ContinueStatus::TerminateThread),
        4 => Some(ContinueStatus::TerminateProcess),
        _ => None,
    }
}

/// One debug event. Its process stays stopped (every thread) until the
/// event is continued: by `Session.continue_event`, or by the `events()`
/// loop when the loop body ends.
///
/// `kind` says what happened (`"process-created"`, `"process-exited"`,
/// `"thread-created"`, `"thread-exited"`, `"module-loaded"`,
/// `"module-unloaded"`, `"exception"`, `"breakpoint"`, `"watchpoint"`,
/// `"step-complete"`, `"break-in"`, `"exec"`, `"fork"`, `"syscall-entry"`,
/// `"syscall-exit"`, `"debug-output"`); the attributes that
/// do not apply to the kind are `None`.
#[pyclass(frozen, module = "dbgkit")]
pub struct Event {
    core: Arc<Core>,
    pid: i32,
    tid: i32,
    kind: EventKind,
    serial: u64,
    /// Hits so far, for the event a breakpoint callback gets.
    hits: Option<u64>,
    /// The status chosen for the `events()` loop (0: the default).
    status: AtomicU8,
}

impl Event {
    pub fn new(core: Arc<Core>, event: dbgkit::Event, serial: u64, hits: Option<u64>) -> Event {
        Event { core, pid: event.pid, tid: event.tid, kind: event.kind, serial, hits, status: AtomicU8::new(0) }
    }

    pub fn pid_value(&self) -> i32 {
        self.pid
    }

    /// True while this event waits to be continued.
    pub fn is_waiting(&self) -> bool {
        self.serial != 0 && self.core.in_flight(self.pid).is_some_and(|f| f.serial == self.serial)
    }

    /// The status the loop continues it with.
    pub fn chosen_status(&self) -> ContinueStatus {
        status_of_code(self.status.load(Ordering::Relaxed)).unwrap_or_else(|| default_status(&self.kind))
    }
}

#[pymethods]
impl Event {
    /// What happened: `"breakpoint"`, `"exception"`, `"module-loaded"`, ...
    #[getter]
    fn kind(&self) -> &'static str {
        self.kind.name()
    }
    /// The process id.
    #[getter]
    fn pid(&self) -> i32 {
        self.pid
    }
    /// The thread id.
    #[getter]
    fn tid(&self) -> i32 {
        self.tid
    }
    /// The process.
    #[getter]
    fn process(&self) -> Process {
        Process::new(self.core.clone(), self.pid)
    }
    /// The thread the event happened on.
    #[getter]
    fn thread(&self) -> Thread {
        Thread::new(self.core.clone(), self.pid, self.tid)
    }
    /// The executable (`process-created`, `exec`).
    #[getter]
    fn image(&self) -> Option<String> {
        match &self.kind {
            EventKind::ProcessCreated { image, .. } | EventKind::Exec { image } => {
                Some(image.to_string_lossy().into_owned())
            }
            _ => None,
        }
    }
    /// The line the program wrote for its debugger (`debug-output`: a
    /// Windows program's `OutputDebugString`).
    #[getter]
    fn text(&self) -> Option<String> {
        match &self.kind {
            EventKind::DebugOutput { text } => Some(text.clone()),
            _ => None,
        }
    }
    /// Where the executable's image starts (`process-created`).
    #[getter]
    fn base(&self) -> Option<u64> {
        match &self.kind {
            EventKind::ProcessCreated { base, .. } => Some(*base),
            EventKind::ModuleLoaded(m) | EventKind::ModuleUnloaded(m) => Some(m.base),
            _ => None,
        }
    }
    /// The size of the executable's image (`process-created`) or of the module.
    #[getter]
    fn size(&self) -> Option<u64> {
        match &self.kind {
            EventKind::ProcessCreated { size, .. } => Some(*size),
            EventKind::ModuleLoaded(m) | EventKind::ModuleUnloaded(m) => Some(m.size),
            _ => None,
        }
    }
    /// The executable's entry point (`process-created`).
    #[getter]
    fn entry(&self) -> Option<u64> {
        match &self.kind {
            EventKind::ProcessCreated { entry, .. } => Some(*entry),
            _ => None,
        }
    }
    /// The exit status (`process-exited`, `thread-exited`); `None` when a signal killed the process.
    #[getter]
    fn exit_code(&self) -> Option<i32> {
        match &self.kind {
            EventKind::ProcessExited { code, .. } => *code,
            EventKind::ThreadExited { code } => Some(*code),
            _ => None,
        }
    }
    /// What a shell would see of a finished process (`process-exited`): its
    /// exit code, or 128 + the signal that killed it (the engine's answer).
    #[getter]
    fn exit_status(&self) -> Option<i32> {
        self.kind.exit_status()
    }
    /// The signal number (`exception`; `process-exited` when a signal killed it).
    #[getter]
    fn signal(&self) -> Option<i32> {
        match &self.kind {
            EventKind::Exception { signal, .. } => Some(*signal),
            EventKind::ProcessExited { signal, .. } => *signal,
            _ => None,
        }
    }
    /// The signal's name, e.g. `"SIGSEGV"`.
    #[getter]
    fn signal_name(&self) -> Option<String> {
        self.signal().map(dbgkit::signal_name)
    }
    /// The signal's `si_code` (`exception`).
    #[getter]
    fn code(&self) -> Option<i32> {
        match &self.kind {
            EventKind::Exception { code, .. } => Some(*code),
            _ => None,
        }
    }
    /// The instruction address (`exception`, `breakpoint`, `step-complete`)
    /// or the watched data address (`watchpoint`).
    #[getter]
    fn address(&self) -> Option<u64> {
        match &self.kind {
            EventKind::Exception { address, .. }
            | EventKind::Breakpoint { address, .. }
            | EventKind::Watchpoint { address, .. }
            | EventKind::StepComplete { address } => Some(*address),
            _ => None,
        }
    }
    /// The faulting data address of a memory fault (`exception`), when there is one.
    #[getter]
    fn fault_address(&self) -> Option<u64> {
        match &self.kind {
            EventKind::Exception { fault_address, .. } => *fault_address,
            _ => None,
        }
    }
    /// The Windows exception code (`exception` of a Windows program:
    /// `0xC0000005` for an access violation); `None` elsewhere.
    #[getter]
    fn nt_status(&self) -> Option<u32> {
        match &self.kind {
            EventKind::Exception { os_code: dbgkit::event::ExceptionCode::NtStatus(status), .. } => Some(*status),
            _ => None,
        }
    }
    /// First chance (`True`) or the second chance before the signal kills the process (`exception`).
    #[getter]
    fn first_chance(&self) -> Option<bool> {
        match &self.kind {
            EventKind::Exception { first_chance, .. } => Some(*first_chance),
            _ => None,
        }
    }
    /// The module (`module-loaded`, `module-unloaded`).
    #[getter]
    fn module(&self) -> Option<Module> {
        match &self.kind {
            EventKind::ModuleLoaded(m) | EventKind::ModuleUnloaded(m) => {
                Some(Module::new(self.core.clone(), self.pid, m.clone()))
            }
            _ => None,
        }
    }
    /// The breakpoint hit (`breakpoint`).
    #[getter]
    fn breakpoint(&self) -> Option<Breakpoint> {
        match &self.kind {
            EventKind::Breakpoint { id, .. }
            | EventKind::SyscallEntry { id, .. }
            | EventKind::SyscallExit { id, .. } => Some(Breakpoint::new(self.core.clone(), *id, self.pid)),
            _ => None,
        }
    }
    /// The watchpoint that fired (`watchpoint`).
    #[getter]
    fn watchpoint(&self) -> Option<Watchpoint> {
        match &self.kind {
            EventKind::Watchpoint { id, .. } => Some(Watchpoint::new(self.core.clone(), *id, self.pid)),
            _ => None,
        }
    }
    /// `"read"`, `"write"`, `"read/write"` or `"execute"` (`watchpoint`).
    #[getter]
    fn access(&self) -> Option<&'static str> {
        match &self.kind {
            EventKind::Watchpoint { access, .. } => Some(access.name()),
            _ => None,
        }
    }
    /// The thread's `rip` after the access (`watchpoint`) or at the breakpoint (`breakpoint`).
    #[getter]
    fn pc(&self) -> Option<u64> {
        match &self.kind {
            EventKind::Watchpoint { pc, .. } => Some(*pc),
            EventKind::Breakpoint { address, .. } => Some(*address),
            _ => None,
        }
    }
    /// The watched bytes before the write (`watchpoint`), when known.
    #[getter(old)]
    fn old_bytes<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        match &self.kind {
            EventKind::Watchpoint { old: Some(b), .. } => Some(PyBytes::new(py, b)),
            _ => None,
        }
    }
    /// The watched bytes after the write (`watchpoint`), when known.
    #[getter(new)]
    fn new_bytes<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        match &self.kind {
            EventKind::Watchpoint { new: Some(b), .. } => Some(PyBytes::new(py, b)),
            _ => None,
        }
    }
    /// The first instruction of the new thread (`thread-created`).
    #[getter]
    fn start(&self) -> Option<u64> {
        match &self.kind {
            EventKind::ThreadCreated { start } => Some(*start),
            _ => None,
        }
    }
    /// The child's pid (`fork`; the child runs undebugged unless
    /// `Session.follow_children` is on).
    #[getter]
    fn child(&self) -> Option<i32> {
        match &self.kind {
            EventKind::Fork { child, .. } => Some(*child),
            _ => None,
        }
    }
    /// For `fork`: whether it was a vfork (the parent waits while the child borrows its memory).
    #[getter]
    fn vfork(&self) -> Option<bool> {
        match &self.kind {
            EventKind::Fork { vfork, .. } => Some(*vfork),
            _ => None,
        }
    }
    /// For `syscall-entry` and `syscall-exit`: the system call's number.
    #[getter]
    fn syscall_number(&self) -> Option<u64> {
        match &self.kind {
            EventKind::SyscallEntry { number, .. } | EventKind::SyscallExit { number, .. } => Some(*number),
            _ => None,
        }
    }
    /// For `syscall-entry` and `syscall-exit`: the system call's name (`openat`).
    #[getter]
    fn syscall(&self) -> Option<String> {
        let number = self.syscall_number()?;
        Some(dbgkit::syscall_name(number).map_or_else(|| number.to_string(), str::to_string))
    }
    /// For `syscall-entry`: the six argument registers.
    #[getter]
    fn args(&self) -> Option<Vec<u64>> {
        match &self.kind {
            EventKind::SyscallEntry { args, .. } => Some(args.to_vec()),
            _ => None,
        }
    }
    /// For `syscall-exit`: what the system call returned (a negative errno on failure).
    #[getter]
    fn result(&self) -> Option<i64> {
        match &self.kind {
            EventKind::SyscallExit { result, .. } => Some(*result),
            _ => None,
        }
    }
    /// Hits of the breakpoint so far, this one included (in a breakpoint callback).
    #[getter]
    fn hits(&self) -> Option<u64> {
        self.hits
    }
    /// The status the event gets when nobody chooses: `NOT_HANDLED` for
    /// exceptions (the signal goes to the program), `HANDLED` otherwise.
    #[getter]
    fn default_status(&self) -> PyContinueStatus {
        default_status(&self.kind).into()
    }
    /// The status the `events()` loop continues this event with (settable;
    /// `None` restores the default).
    #[getter]
    fn get_status(&self) -> PyContinueStatus {
        self.chosen_status().into()
    }
    #[setter]
    fn set_status(&self, status: Option<Bound<'_, PyAny>>) -> PyResult<()> {
        let status = parse_status_opt(status.as_ref())?;
        self.status.store(status_code(status), Ordering::Relaxed);
        Ok(())
    }
    /// True while the event waits to be continued (its process stopped).
    #[getter]
    fn waiting(&self) -> PyResult<bool> {
        self.core.check_thread()?;
        Ok(self.is_waiting())
    }
    /// Continues this event now (with `status`, else the chosen or default one).
    #[pyo3(signature = (status=None))]
    fn continue_event(&self, status: Option<Bound<'_, PyAny>>) -> PyResult<()> {
        self.core.check_thread()?;
        if !self.is_waiting() {
            return Err(StateError::new_err("this event is not waiting to be continued"));
        }
        let status = parse_status_opt(status.as_ref())?.unwrap_or_else(|| self.chosen_status());
        self.core.continue_process(self.pid, Some(status))
    }

    fn __repr__(&self) -> String {
        let detail = match &self.kind {
            EventKind::ProcessCreated { image, base, .. } => format!(" image={} base={base:#x}", image.display()),
            EventKind::ProcessExited { code: Some(c), .. } => format!(" exit_code={c}"),
            EventKind::ProcessExited { signal: Some(s), .. } => format!(" signal={}", dbgkit::signal_name(*s)),
            EventKind::ThreadCreated { start } => format!(" start={start:#x}"),
            EventKind::ThreadExited { code } => format!(" exit_code={code}"),
            EventKind::ModuleLoaded(m) | EventKind::ModuleUnloaded(m) => {
                format!(" module={} base={:#x}", m.name, m.base)
            }
            EventKind::Exception { signal, address, first_chance, .. } => format!(
                " signal={} address={address:#x} {}",
                dbgkit::signal_name(*signal),
                if *first_chance { "first-chance" } else { "second-chance" }
            ),
            EventKind::Breakpoint { id, address } => format!(" id={id} address={address:#x}"),
            EventKind::Watchpoint { id, access, address, pc, .. } => {
                format!(" id={id} {} address={address:#x} pc={pc:#x}", access.name())
            }
            EventKind::StepComplete { address } => format!(" address={address:#x}"),
            EventKind::Exec { image } => format!(" image={}", image.display()),
            EventKind::DebugOutput { text } => format!(" text={text:?}"),
            EventKind::Fork { child, vfork } => format!(" child={child}{}", if *vfork { " vfork" } else { "" }),
            EventKind::SyscallEntry { number, .. } | EventKind::SyscallExit { number, .. } => {
                format!(" syscall={}", dbgkit::syscall_name(*number).unwrap_or("?"))
            }
            _ => String::new(),
        };
        format!("<dbgkit.Event {} pid={} tid={}{detail}>", self.kind.name(), self.pid, self.tid)
    }
}

/// The everyday loop: waits, yields each event, and continues it when the
/// loop body ends (with `event.status`: by default `NOT_HANDLED` for
/// exceptions, `HANDLED` otherwise). Ends when no process is left.
#[pyclass(module = "dbgkit")]
pub struct EventIterator {
    core: Arc<Core>,
    timeout: Option<Duration>,
    last: Option<Py<Event>>,
    started: bool,
}

impl EventIterator {
    pub fn new(core: Arc<Core>, timeout: Option<Duration>) -> EventIterator {
        EventIterator { core, timeout, last: None, started: false }
    }
}

#[pymethods]
impl EventIterator {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&mut self, py: Python<'_>) -> PyResult<Option<Py<Event>>> {
        self.core.check_thread()?;
        if !self.started {
            self.started = true;
            // An event reported before the loop and still waiting comes first.
            if let Some(event) = self.core.waiting_event(py)? {
                self.last = Some(event.clone_ref(py));
                return Ok(Some(event));
            }
        }
        if let Some(last) = self.last.take() {
            let last = last.get();
            if last.is_waiting() {
                match self.core.continue_process(last.pid, Some(last.chosen_status())) {
                    Err(e) if e.is_instance_of::<crate::errors::ProcessGone>(py) => {}
                    other => other?,
                }
            }
            if !self.core.has_processes()? {
                return Ok(None);
            }
        } else if !self.core.has_processes()? {
            return Ok(None);
        }
        match self.core.wait(py, self.timeout) {
            Ok(Some(event)) => {
                self.last = Some(event.clone_ref(py));
                Ok(Some(event))
            }
            Ok(None) => Err(WaitTimeout::new_err(format!(
                "no event within {:.3} s",
                self.timeout.map(|t| t.as_secs_f64()).unwrap_or_default()
            ))),
            Err(e) => Err(e),
        }
    }
}
