//! Handles: cheap references to things the session knows (a process, a
//! thread, a module, a breakpoint, a watchpoint). They hold the session's
//! core and an id, carry no logic of their own, and say when what they name
//! is gone (`alive`, and `ProcessGone` from calls).

use crate::core::Core;
use crate::errors::{BreakpointError, IntoPyResult, ProcessGone, StateError};
use crate::event::Event;
use crate::values::{CallResult, MemoryRegion, Registers, Stack, Symbol, Symbolized};
use dbgkit::{BreakpointOptions, CallArg, EventKind, HitAction, HitContext, Protection, WatchAccess};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyInt, PyString, PyTuple};
use std::sync::{Arc, Weak};

// ---- arguments -------------------------------------------------------------

/// Bytes from `bytes`, `bytearray`, `memoryview` or anything `bytes()` takes.
pub fn bytes_arg(obj: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    if let Ok(b) = obj.cast::<PyByteArray>() {
        return Ok(b.to_vec());
    }
    if obj.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err("expected bytes, not str (encode it first)"));
    }
    let py = obj.py();
    let converted = py.get_type::<PyBytes>().call1((obj,))?;
    Ok(converted.cast::<PyBytes>()?.as_bytes().to_vec())
}

/// An integer as a 64-bit value: negative numbers in two's complement.
pub fn u64_arg(obj: &Bound<'_, PyAny>) -> PyResult<u64> {
    if let Ok(v) = obj.extract::<u64>() {
        return Ok(v);
    }
    if let Ok(v) = obj.extract::<i64>() {
        return Ok(v as u64);
    }
    if obj.is_instance_of::<PyInt>() {
        return Err(PyValueError::new_err("the value does not fit in 64 bits"));
    }
    Err(PyTypeError::new_err(format!("expected an int, got {}", obj.get_type().name()?)))
}

/// A process given as a `Process`, a pid, or `None` (the default process).
pub fn pid_arg(core: &Arc<Core>, process: Option<&Bound<'_, PyAny>>) -> PyResult<i32> {
    match process {
        None => core.default_pid(),
        Some(p) if p.is_none() => core.default_pid(),
        Some(p) => {
            if let Ok(handle) = p.cast::<Process>() {
                let handle = handle.get();
                if !Arc::ptr_eq(&handle.core, core) {
                    return Err(StateError::new_err("that process belongs to another session"));
                }
                return Ok(handle.pid);
            }
            p.extract::<i32>().map_err(|_| PyTypeError::new_err("process= takes a dbgkit.Process or a pid"))
        }
    }
}

/// A thread given as a `Thread`, a tid of `pid`, or `None` (the default thread of `pid`).
pub fn tid_arg(core: &Arc<Core>, pid: i32, thread: Option<&Bound<'_, PyAny>>) -> PyResult<i32> {
    match thread {
        Some(t) if !t.is_none() => {
            if let Ok(handle) = t.cast::<Thread>() {
                let handle = handle.get();
                if !Arc::ptr_eq(&handle.core, core) || handle.pid != pid {
                    return Err(StateError::new_err(format!("thread {} is not a thread of process {pid}", handle.tid)));
                }
                return Ok(handle.tid);
            }
            t.extract::<i32>().map_err(|_| PyTypeError::new_err("thread= takes a dbgkit.Thread or a tid"))
        }
        _ => core.default_tid(pid),
    }
}

/// A thread and its process, for calls that take `thread=` alone.
pub fn thread_arg(core: &Arc<Core>, thread: Option<&Bound<'_, PyAny>>) -> PyResult<(i32, i32)> {
    if let Some(handle) = thread.and_then(|t| t.cast::<Thread>().ok()) {
        let handle = handle.get();
        if !Arc::ptr_eq(&handle.core, core) {
            return Err(StateError::new_err("that thread belongs to another session"));
        }
        return Ok((handle.pid, handle.tid));
    }
    let pid = match core.continuable_pid() {
        Ok(pid) => pid,
        Err(_) => core.default_pid()?,
    };
    Ok((pid, tid_arg(core, pid, thread)?))
}

fn call_args(args: &Bound<'_, PyTuple>) -> PyResult<Vec<CallArg>> {
    args.iter()
        .map(|a| {
            if let Ok(s) = a.cast::<PyString>() {
                Ok(CallArg::Str(s.to_str()?.to_string()))
            } else if a.is_instance_of::<PyBytes>() || a.is_instance_of::<PyByteArray>() {
                Ok(CallArg::Bytes(bytes_arg(&a)?))
            } else {
                Ok(CallArg::Int(u64_arg(&a)?))
            }
        })
        .collect()
}

fn watch_access(text: &str) -> PyResult<WatchAccess> {
    WatchAccess::from_name(text).map_err(|e| PyValueError::new_err(e.to_string()))
}

// ---- breakpoint callbacks ----------------------------------------------------

impl Thread {
    /// Starts an engine step of this thread, continuing the waiting event.
    fn plan(&self, kind: dbgkit::StepKind, lock_other_threads: bool) -> PyResult<()> {
        let options = dbgkit::StepOptions { lock_other_threads };
        self.core.with(|s| s.step(self.pid, self.tid, kind, options))?;
        self.core.forget_in_flight(self.pid);
        Ok(())
    }
}

/// Runs a Python breakpoint callback on a hit: `fn(event)` returns true to
/// stop (a `Breakpoint` event), false or `None` to go on. An exception is
/// kept for `wait_event` to raise, and stops the process.
fn run_callback(core: &Weak<Core>, callback: &Py<PyAny>, ctx: &mut HitContext<'_>) -> HitAction {
    let Some(core) = core.upgrade() else { return HitAction::Continue };
    Python::attach(|py| {
        let event = dbgkit::Event::new(ctx.pid, ctx.tid, EventKind::Breakpoint { id: ctx.id, address: ctx.address });
        let hits = ctx.hits;
        let _scope = core.enter_hit(ctx);
        let outcome = Py::new(py, Event::new(core.clone(), event, 0, Some(hits)))
            .and_then(|event| callback.call1(py, (event,)))
            .and_then(|answer| answer.bind(py).is_truthy());
        match outcome {
            Ok(true) => HitAction::Stop,
            Ok(false) => HitAction::Continue,
            Err(err) => {
                let mut state = core.state.borrow_mut();
                if state.pending_error.is_none() {
                    state.pending_error = Some(err);
                }
                HitAction::Stop
            }
        }
    })
}

pub fn add_breakpoint(
    core: &Arc<Core>,
    pid: i32,
    location: &Bound<'_, PyAny>,
    condition: Option<String>,
    callback: Option<Py<PyAny>>,
    mut options: BreakpointOptions,
) -> PyResult<Breakpoint> {
    if let Some(condition) = condition {
        options = options.condition(condition);
    }
    if let Some(callback) = callback {
        if !callback.bind(location.py()).is_callable() {
            return Err(PyTypeError::new_err("callback= must be callable: fn(event) -> bool"));
        }
        let weak = Arc::downgrade(core);
        options = options.callback(move |ctx| run_callback(&weak, &callback, ctx));
    }
    let id = if let Ok(text) = location.cast::<PyString>() {
        let text = text.to_str()?.to_string();
        core.with(|s| s.add_breakpoint_at(pid, &text, options))?
    } else {
        let address = u64_arg(location)
            .map_err(|_| PyTypeError::new_err("a breakpoint location is an address (int) or an expression (str)"))?;
        core.with(|s| s.add_breakpoint_with(pid, address, options))?
    };
    Ok(Breakpoint::new(core.clone(), id, pid))
}

pub fn add_watchpoint(
    core: &Arc<Core>,
    pid: i32,
    address: u64,
    size: u64,
    access: &str,
    page: bool,
) -> PyResult<Watchpoint> {
    let access = watch_access(access)?;
    let id = core.with(|s| {
        if page {
            s.add_page_watchpoint(pid, address, size, access)
        } else {
            s.add_watchpoint(pid, address, size, access)
        }
    })?;
    Ok(Watchpoint::new(core.clone(), id, pid))
}

pub fn call_function(
    core: &Arc<Core>,
    pid: i32,
    tid: i32,
    function: &Bound<'_, PyAny>,
    args: &Bound<'_, PyTuple>,
) -> PyResult<CallResult> {
    let args = call_args(args)?;
    let result = if let Ok(name) = function.cast::<PyString>() {
        let name = name.to_str()?.to_string();
        core.with(|s| s.call_named(pid, tid, &name, &args))?
    } else {
        let address = u64_arg(function)?;
        core.with(|s| s.call(pid, tid, address, &args))?
    };
    Ok(CallResult::from(result))
}

pub fn syscall(core: &Arc<Core>, pid: i32, tid: i32, number: u64, args: &Bound<'_, PyTuple>) -> PyResult<i64> {
    let args: Vec<u64> = args.iter().map(|a| u64_arg(&a)).collect::<PyResult<_>>()?;
    core.with(|s| s.syscall(pid, Some(tid), number, &args))
}

pub fn read_cstring<'py>(
    py: Python<'py>,
    core: &Core,
    pid: i32,
    address: u64,
    max_length: usize,
    encoding: Option<&str>,
    errors: &str,
) -> PyResult<Bound<'py, PyAny>> {
    // The engine's reading, through the core (which also reads inside a breakpoint callback).
    let out =
        dbgkit::session::read_c_string_with(address, max_length, |at, buf| core.read_memory_partial(pid, at, buf))?
            .ok_or_else(|| {
                crate::errors::MemoryError::new_err(format!("memory at {address:#x} is not readable in process {pid}"))
            })?;
    let bytes = PyBytes::new(py, &out);
    match encoding {
        None => Ok(bytes.into_any()),
        Some(encoding) => bytes.call_method1("decode", (encoding, errors)),
    }
}

// ---- Process -----------------------------------------------------------------

/// A debugged process. Cheap: a session and a pid. Calls on a process that
/// is gone raise `ProcessGone`; `alive` says whether it is still debugged.
#[pyclass(frozen, module = "dbgkit")]
pub struct Process {
    pub core: Arc<Core>,
    pub pid: i32,
}

impl Process {
    pub fn new(core: Arc<Core>, pid: i32) -> Process {
        Process { core, pid }
    }
}

#[pymethods]
impl Process {
    /// The process id.
    #[getter]
    fn pid(&self) -> i32 {
        self.pid
    }
    /// True while this session debugs the process (False once it exited or was detached).
    #[getter]
    fn alive(&self) -> PyResult<bool> {
        if self.core.hit_pid() == Some(self.pid) {
            return Ok(true);
        }
        self.core.with(|s| Ok(s.processes().contains(&self.pid)))
    }
    /// True while the process is held at an event (every thread stopped).
    #[getter]
    fn stopped(&self) -> PyResult<bool> {
        self.core.with(|s| s.is_stopped(self.pid))
    }
    /// The executable's path.
    #[getter]
    fn image(&self) -> PyResult<String> {
        Ok(self.core.with(|s| s.image(self.pid))?.to_string_lossy().into_owned())
    }
    /// Every thread, by thread id.
    #[getter]
    fn threads(&self) -> PyResult<Vec<Thread>> {
        let tids = self.core.with(|s| s.threads(self.pid))?;
        Ok(tids.into_iter().map(|tid| Thread::new(self.core.clone(), self.pid, tid)).collect())
    }
    /// A thread by id; without one, the thread of the event in flight (else the main thread).
    #[pyo3(signature = (tid=None))]
    fn thread(&self, tid: Option<i32>) -> PyResult<Thread> {
        let tid = match tid {
            Some(t) => t,
            None => self.core.default_tid(self.pid)?,
        };
        let known = self.core.with(|s| s.threads(self.pid))?.contains(&tid);
        if !known {
            return Err(ProcessGone::new_err(format!("thread {tid} does not belong to process {}", self.pid)));
        }
        Ok(Thread::new(self.core.clone(), self.pid, tid))
    }
    /// The modules in load order, the executable first.
    #[getter]
    fn modules(&self) -> PyResult<Vec<Module>> {
        let modules = self.core.with(|s| s.modules(self.pid))?;
        Ok(modules.into_iter().map(|m| Module::new(self.core.clone(), self.pid, m)).collect())
    }
    /// A module by name (`libc.so.6`, `libc`, or its path).
    fn module(&self, name: &str) -> PyResult<Module> {
        let modules = self.core.with(|s| s.modules(self.pid))?;
        modules
            .into_iter()
            .find(|m| dbgkit::symbols::module_matches(m, name))
            .map(|m| Module::new(self.core.clone(), self.pid, m))
            .ok_or_else(|| crate::errors::SymbolNotFound::new_err(format!("no module named {name}")))
    }
    /// The memory map (`/proc/PID/maps`).
    fn memory_map(&self) -> PyResult<Vec<MemoryRegion>> {
        Ok(self.core.with(|s| s.memory_map(self.pid))?.into_iter().map(MemoryRegion::from).collect())
    }
    /// Reads `size` bytes at `address` (breakpoint bytes show as the original bytes).
    fn read_memory<'py>(&self, py: Python<'py>, address: u64, size: i64) -> PyResult<Bound<'py, PyBytes>> {
        Ok(PyBytes::new(py, &self.core.read_memory(self.pid, address, crate::values::count(size, "size")? as usize)?))
    }
    /// Writes `data` at `address` (read-only code included).
    fn write_memory(&self, address: u64, data: &Bound<'_, PyAny>) -> PyResult<()> {
        self.core.write_memory(self.pid, address, &bytes_arg(data)?)
    }
    /// Reads `count` 64-bit pointers at `address`.
    #[pyo3(signature = (address, count=1))]
    fn read_pointers(&self, address: u64, count: i64) -> PyResult<Vec<u64>> {
        self.core.read_pointers(self.pid, address, count)
    }
    /// Reads a NUL-terminated string (at most `max_length` bytes), decoded
    /// with `encoding` (`None`: the raw bytes).
    #[pyo3(signature = (address, max_length=4096, encoding=Some("utf-8"), errors="replace"))]
    fn read_cstring<'py>(
        &self,
        py: Python<'py>,
        address: u64,
        max_length: usize,
        encoding: Option<&str>,
        errors: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        read_cstring(py, &self.core, self.pid, address, max_length, encoding, errors)
    }
    /// Every address where `pattern` occurs, in [start, end) or in every readable mapping.
    #[pyo3(signature = (pattern, start=None, end=None, alignment=1))]
    fn search_memory(
        &self,
        pattern: &Bound<'_, PyAny>,
        start: Option<u64>,
        end: Option<u64>,
        alignment: u64,
    ) -> PyResult<Vec<u64>> {
        let pattern = match pattern.cast::<PyString>() {
            Ok(s) => s.to_str()?.as_bytes().to_vec(),
            Err(_) => bytes_arg(pattern)?,
        };
        let range = match (start, end) {
            (None, None) => None,
            (s, e) => Some(s.unwrap_or(0)..e.unwrap_or(u64::MAX)),
        };
        self.core.with(|s| s.search_memory(self.pid, &pattern, range, alignment))
    }
    /// Names an address: module, symbol+offset, source line, inline chain.
    fn symbolize(&self, address: u64) -> PyResult<Symbolized> {
        Ok(Symbolized::from(self.core.with(|s| s.symbolize(self.pid, address))?))
    }
    /// A type by name: `int`, `struct node`, `geometry::Point`, `rusty::Player`.
    fn find_type(&self, name: &str) -> PyResult<crate::source::Type> {
        crate::source::find_type(&self.core, self.pid, name)
    }
    /// Evaluates an expression in the program's language with no frame
    /// (globals, types, literals): `process.eval_typed("first.next->value")`.
    fn eval_typed(&self, expression: &str) -> PyResult<crate::source::Value> {
        let v = self.core.with(|s| s.evaluate_global(self.pid, expression))?;
        Ok(crate::source::Value::new(self.core.clone(), self.pid, v.value, Some(v.type_name), Some(v.text)))
    }
    /// The address of a name: `module!name`, `name`, `file.c:42`, or a module (its base).
    fn lookup(&self, name: &str) -> PyResult<u64> {
        self.core.with(|s| s.lookup(self.pid, name))
    }
    /// Every symbol a name stands for.
    fn lookup_all(&self, name: &str) -> PyResult<Vec<Symbol>> {
        Ok(self.core.with(|s| s.lookup_all(self.pid, name))?.into_iter().map(Symbol::from).collect())
    }
    /// Symbols whose name matches a regular expression, in modules matching `module` if given.
    #[pyo3(signature = (pattern, module=None))]
    fn search_symbols(&self, pattern: &str, module: Option<&str>) -> PyResult<Vec<Symbol>> {
        Ok(self.core.with(|s| s.search_symbols(self.pid, pattern, module))?.into_iter().map(Symbol::from).collect())
    }
    /// Evaluates a WinDbg-style expression (`poi(rsp+8)`, `libc.so.6!malloc+0x10`)
    /// with the registers of `thread` (default: the event's thread).
    #[pyo3(signature = (expression, thread=None))]
    fn eval(&self, expression: &str, thread: Option<&Bound<'_, PyAny>>) -> PyResult<u64> {
        let tid = tid_arg(&self.core, self.pid, thread)?;
        self.core.with(|s| s.eval(self.pid, tid, expression))
    }
    /// Stops the running process; a `break-in` event follows.
    fn break_in(&self) -> PyResult<()> {
        self.core.with(|s| s.break_in(self.pid))
    }
    /// Continues the event this process waits at (default status: the event's default).
    #[pyo3(signature = (status=None))]
    fn continue_event(&self, status: Option<Bound<'_, PyAny>>) -> PyResult<()> {
        let status = crate::event::parse_status_opt(status.as_ref())?;
        self.core.continue_process(self.pid, status)
    }
    /// Detaches: breakpoints removed, the process left running as if never debugged.
    fn detach(&self) -> PyResult<()> {
        self.core.with(|s| s.detach(self.pid))?;
        self.core.forget_in_flight(self.pid);
        Ok(())
    }
    /// Kills the process; its `process-exited` event follows.
    fn kill(&self) -> PyResult<()> {
        self.core.with(|s| s.kill(self.pid))?;
        self.core.forget_in_flight(self.pid);
        Ok(())
    }
    /// Whether the process dies with the session (default: yes if launched, no if attached).
    fn set_kill_on_exit(&self, on: bool) -> PyResult<()> {
        self.core.with(|s| s.set_kill_on_exit(self.pid, on))
    }
    /// Sets a breakpoint on an address or an expression (`"libc.so.6!socket"`,
    /// `"main"`, `"file.c:12"`); one whose module is not loaded yet is pending
    /// until it is. `condition` is an engine expression (`"rdi == 5"`);
    /// `callback(event)` runs inside the engine on every hit and the program
    /// goes on unless it returns true.
    #[pyo3(signature = (location, *, condition=None, callback=None, one_shot=false, enabled=true, ignore_count=0, all_processes=false))]
    #[allow(clippy::too_many_arguments)]
    fn add_breakpoint(
        &self,
        location: &Bound<'_, PyAny>,
        condition: Option<String>,
        callback: Option<Py<PyAny>>,
        one_shot: bool,
        enabled: bool,
        ignore_count: u64,
        all_processes: bool,
    ) -> PyResult<Breakpoint> {
        let options = BreakpointOptions::default()
            .one_shot(one_shot)
            .disabled(!enabled)
            .ignore_count(ignore_count)
            .all_processes(all_processes);
        add_breakpoint(&self.core, self.pid, location, condition, callback, options)
    }
    /// A hardware breakpoint (debug registers; the code is not touched).
    fn add_hardware_breakpoint(&self, address: u64) -> PyResult<Watchpoint> {
        let id = self.core.with(|s| s.add_hardware_breakpoint(self.pid, address))?;
        Ok(Watchpoint::new(self.core.clone(), id, self.pid))
    }
    /// Watches `size` bytes at `address` for `"write"` or `"read_write"`
    /// access: with the debug registers, or (`page=True`) by taking rights
    /// away from the pages.
    #[pyo3(signature = (address, size=8, access="write", *, page=false))]
    fn add_watchpoint(&self, address: u64, size: i64, access: &str, page: bool) -> PyResult<Watchpoint> {
        add_watchpoint(&self.core, self.pid, address, crate::values::count(size, "size")?, access, page)
    }
    /// The breakpoints of this process.
    #[getter]
    fn breakpoints(&self) -> PyResult<Vec<Breakpoint>> {
        let all = self.core.with(|s| Ok(s.breakpoints()))?;
        Ok(all
            .into_iter()
            .filter(|b| b.pid == self.pid)
            .map(|b| Breakpoint::new(self.core.clone(), b.id, b.pid))
            .collect())
    }
    /// The watchpoints of this process.
    #[getter]
    fn watchpoints(&self) -> PyResult<Vec<Watchpoint>> {
        let all = self.core.with(|s| Ok(s.watchpoints()))?;
        Ok(all
            .into_iter()
            .filter(|w| w.pid == self.pid)
            .map(|w| Watchpoint::new(self.core.clone(), w.id, w.pid))
            .collect())
    }
    /// Calls a function (address or name) in the target with int, str or
    /// bytes arguments (strings and bytes are copied in; the function gets
    /// their address), on `thread` (default: the event's thread).
    #[pyo3(signature = (function, *args, thread=None))]
    fn call(
        &self,
        function: &Bound<'_, PyAny>,
        args: &Bound<'_, PyTuple>,
        thread: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<CallResult> {
        let tid = tid_arg(&self.core, self.pid, thread)?;
        call_function(&self.core, self.pid, tid, function, args)
    }
    /// Runs system call `number` in a stopped thread; returns its raw result (-errno on failure).
    #[pyo3(signature = (number, *args, thread=None))]
    fn syscall(&self, number: u64, args: &Bound<'_, PyTuple>, thread: Option<&Bound<'_, PyAny>>) -> PyResult<i64> {
        let tid = tid_arg(&self.core, self.pid, thread)?;
        syscall(&self.core, self.pid, tid, number, args)
    }
    /// Maps `size` bytes of new memory in the target (`protection` like `"rw"`, `"rwx"`).
    #[pyo3(signature = (size, protection="rw", address=None))]
    fn allocate_memory(&self, size: i64, protection: &str, address: Option<u64>) -> PyResult<u64> {
        let size = crate::values::count(size, "size")?;
        let protection = Protection::parse(protection).py_err()?;
        self.core.with(|s| s.allocate_memory(self.pid, size, protection, address))
    }
    /// Unmaps memory.
    fn free_memory(&self, address: u64, size: i64) -> PyResult<()> {
        let size = crate::values::count(size, "size")?;
        self.core.with(|s| s.free_memory(self.pid, address, size))
    }
    /// Changes the protection of memory (`"r"`, `"rw"`, `"rx"`, ...).
    fn protect_memory(&self, address: u64, size: i64, protection: &str) -> PyResult<()> {
        let size = crate::values::count(size, "size")?;
        let protection = Protection::parse(protection).py_err()?;
        self.core.with(|s| s.protect_memory(self.pid, address, size, protection))
    }
    /// Loads a shared object into the target (`dlopen`); returns its handle.
    #[pyo3(signature = (path, thread=None))]
    fn inject_library(&self, path: std::path::PathBuf, thread: Option<&Bound<'_, PyAny>>) -> PyResult<u64> {
        let tid = tid_arg(&self.core, self.pid, thread)?;
        let path = path.to_string_lossy().into_owned();
        self.core.with(|s| s.inject_library(self.pid, tid, &path))
    }
    /// Saves the moment of this stopped (single-threaded) process: a stopped
    /// copy keeps its memory, registers and file offsets. `Session.restore`
    /// goes back to it, as often as wanted.
    fn checkpoint(&self) -> PyResult<crate::values::Checkpoint> {
        let id = self.core.with(|s| s.checkpoint(self.pid))?;
        let pc = self.core.with(|s| Ok(s.checkpoints().into_iter().find(|c| c.id == id).map(|c| c.pc).unwrap_or(0)))?;
        Ok(crate::values::Checkpoint { id, pc })
    }
    /// Writes the stopped process as an ELF core file (gdb, elfutils and
    /// dbgkit read it); the process stays as it was. Returns the file's
    /// size, the bytes of memory written and those that could not be read.
    fn write_core(&self, path: std::path::PathBuf) -> PyResult<std::collections::HashMap<&'static str, u64>> {
        let written = self.core.with(|s| s.write_core(self.pid, &path))?;
        Ok([
            ("file_size", written.file_size),
            ("memory_bytes", written.memory_bytes),
            ("unreadable_bytes", written.unreadable_bytes),
        ]
        .into_iter()
        .collect())
    }
    /// The pipes of a process spawned with `stdin`/`stdout`/`stderr="pipe"`,
    /// as binary file objects (once; `None` for streams not piped).
    fn take_pipes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        use std::os::fd::IntoRawFd;
        let pipes = self.core.with(|s| Ok(s.take_pipes(self.pid)))?.unwrap_or_default();
        let fdopen = py.import("os")?.getattr("fdopen")?;
        let open = |file: Option<std::fs::File>, mode: &str| -> PyResult<Bound<'py, PyAny>> {
            match file {
                Some(f) => fdopen.call1((f.into_raw_fd(), mode)),
                None => Ok(py.None().into_bound(py)),
            }
        };
        PyTuple::new(py, [open(pipes.stdin, "wb")?, open(pipes.stdout, "rb")?, open(pipes.stderr, "rb")?])
    }

    fn __repr__(&self) -> String {
        format!("<dbgkit.Process pid={}>", self.pid)
    }
    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<Process>().is_ok_and(|o| Arc::ptr_eq(&o.get().core, &self.core) && o.get().pid == self.pid)
    }
    fn __hash__(&self) -> u64 {
        self.pid as u64
    }
}

// ---- Thread ------------------------------------------------------------------

/// A thread of a debugged process. Its registers, stack and expressions need
/// it stopped (at an event, or as the hitting thread inside a callback).
#[pyclass(frozen, module = "dbgkit")]
pub struct Thread {
    pub core: Arc<Core>,
    pub pid: i32,
    pub tid: i32,
}

impl Thread {
    pub fn new(core: Arc<Core>, pid: i32, tid: i32) -> Thread {
        Thread { core, pid, tid }
    }
}

#[pymethods]
impl Thread {
    /// The thread id.
    #[getter]
    fn tid(&self) -> i32 {
        self.tid
    }
    /// The process id.
    #[getter]
    fn pid(&self) -> i32 {
        self.pid
    }
    /// The process.
    #[getter]
    fn process(&self) -> Process {
        Process::new(self.core.clone(), self.pid)
    }
    /// True while the thread exists in a debugged process.
    #[getter]
    fn alive(&self) -> PyResult<bool> {
        if self.core.hit_pid() == Some(self.pid) {
            return Ok(true);
        }
        self.core.with(|s| Ok(s.threads(self.pid).map(|t| t.contains(&self.tid)).unwrap_or(false)))
    }
    /// The registers, live: `t.regs.rax`, `t.regs["rip"] = x`, `dict(t.regs)`;
    /// sub-registers (`eax`, `al`), `xmm0`-`xmm15`, `st0`-`st7`, `mxcsr` too.
    #[getter]
    fn regs(&self) -> Registers {
        Registers::new(self.core.clone(), self.pid, self.tid)
    }
    /// The instruction pointer (`rip`); settable.
    #[getter]
    fn get_pc(&self) -> PyResult<u64> {
        Ok(self.core.registers(self.pid, self.tid)?.rip)
    }
    #[setter]
    fn set_pc(&self, value: u64) -> PyResult<()> {
        Registers::new(self.core.clone(), self.pid, self.tid).write("rip", value as u128)
    }
    /// The stack pointer (`rsp`); settable.
    #[getter]
    fn get_sp(&self) -> PyResult<u64> {
        Ok(self.core.registers(self.pid, self.tid)?.rsp)
    }
    #[setter]
    fn set_sp(&self, value: u64) -> PyResult<()> {
        Registers::new(self.core.clone(), self.pid, self.tid).write("rsp", value as u128)
    }
    /// The call stack, innermost frame first (a sequence of `StackFrame`).
    fn stack(&self) -> PyResult<Stack> {
        let stack = self.core.with(|s| s.stack(self.pid, self.tid))?;
        Ok(Stack::for_thread(stack, &self.core, self.pid, self.tid))
    }
    /// The frames as a source-level debugger numbers them (inlined
    /// functions are frames of their own), innermost first: each has its
    /// variables (`locals()`, `args()`, `variable(name)`) and `eval(text)`.
    fn frames(&self) -> PyResult<Vec<crate::source::Frame>> {
        crate::source::frames(&self.core, self.pid, self.tid)
    }
    /// Source frame `number` (0: the innermost).
    #[pyo3(signature = (number=0))]
    fn frame(&self, number: usize) -> PyResult<crate::source::Frame> {
        let mut frames = crate::source::frames(&self.core, self.pid, self.tid)?;
        if number >= frames.len() {
            return Err(pyo3::exceptions::PyIndexError::new_err(format!(
                "no frame {number}: the stack has {}",
                frames.len()
            )));
        }
        Ok(frames.swap_remove(number))
    }
    /// Names an address (default: this thread's `pc`).
    #[pyo3(signature = (address=None))]
    fn symbolize(&self, address: Option<u64>) -> PyResult<Symbolized> {
        let address = match address {
            Some(a) => a,
            None => self.get_pc()?,
        };
        Ok(Symbolized::from(self.core.with(|s| s.symbolize(self.pid, address))?))
    }
    /// Evaluates an expression with this thread's registers.
    fn eval(&self, expression: &str) -> PyResult<u64> {
        self.core.with(|s| s.eval(self.pid, self.tid, expression))
    }
    /// Single-steps this thread: the waiting event is continued (handled) and
    /// a `step-complete` event follows.
    fn step_into(&self) -> PyResult<()> {
        self.core.with(|s| s.step_into(self.pid, self.tid))?;
        self.core.forget_in_flight(self.pid);
        Ok(())
    }
    /// Steps over one instruction: a call runs to its return (WinDbg `p`,
    /// gdb `nexti`). The waiting event is continued; a `step-complete`
    /// event follows (or whatever stopped the step first). With
    /// `lock_other_threads`, the other threads stay stopped meanwhile.
    #[pyo3(signature = (*, lock_other_threads=false))]
    fn step_over(&self, lock_other_threads: bool) -> PyResult<()> {
        self.plan(dbgkit::StepKind::OverInstruction, lock_other_threads)
    }
    /// Runs until the current function returns to its caller (WinDbg `gu`,
    /// gdb `finish`); `step-complete` follows, the return value in `rax`.
    #[pyo3(signature = (*, lock_other_threads=false))]
    fn step_out(&self, lock_other_threads: bool) -> PyResult<()> {
        self.plan(dbgkit::StepKind::Out, lock_other_threads)
    }
    /// Runs until this thread reaches `address` (or the current function
    /// returns first, as gdb's `advance`); `step-complete` follows.
    #[pyo3(signature = (address, *, lock_other_threads=false))]
    fn run_to(&self, address: &Bound<'_, PyAny>, lock_other_threads: bool) -> PyResult<()> {
        let address = match address.extract::<u64>() {
            Ok(a) => a,
            Err(_) => {
                let text: String = address.extract()?;
                self.core.with(|s| s.eval(self.pid, self.tid, &text))?
            }
        };
        self.plan(dbgkit::StepKind::To(address), lock_other_threads)
    }
    /// Steps one source line (gdb `step`; with `over_calls`, gdb `next`):
    /// into called functions that have line information, over the others.
    #[pyo3(signature = (*, over_calls=false, lock_other_threads=false))]
    fn step_line(&self, over_calls: bool, lock_other_threads: bool) -> PyResult<()> {
        let kind = if over_calls { dbgkit::StepKind::OverLine } else { dbgkit::StepKind::Line };
        self.plan(kind, lock_other_threads)
    }
    /// Calls a function in the target on this thread (see `Process.call`).
    #[pyo3(signature = (function, *args))]
    fn call(&self, function: &Bound<'_, PyAny>, args: &Bound<'_, PyTuple>) -> PyResult<CallResult> {
        call_function(&self.core, self.pid, self.tid, function, args)
    }
    /// Runs a system call on this thread.
    #[pyo3(signature = (number, *args))]
    fn syscall(&self, number: u64, args: &Bound<'_, PyTuple>) -> PyResult<i64> {
        syscall(&self.core, self.pid, self.tid, number, args)
    }

    fn __repr__(&self) -> String {
        format!("<dbgkit.Thread tid={} pid={}>", self.tid, self.pid)
    }
    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<Thread>().is_ok_and(|o| {
            let o = o.get();
            Arc::ptr_eq(&o.core, &self.core) && o.pid == self.pid && o.tid == self.tid
        })
    }
    fn __hash__(&self) -> u64 {
        ((self.pid as u64) << 32) | self.tid as u32 as u64
    }
}

// ---- Module ------------------------------------------------------------------

/// A module mapped in a process (the executable, the loader, a library,
/// the vDSO), as it was when the handle was made.
#[pyclass(frozen, module = "dbgkit")]
pub struct Module {
    core: Arc<Core>,
    pid: i32,
    module: dbgkit::Module,
}

impl Module {
    pub fn new(core: Arc<Core>, pid: i32, module: dbgkit::Module) -> Module {
        Module { core, pid, module }
    }
}

#[pymethods]
impl Module {
    /// The short name (`libc.so.6`).
    #[getter]
    fn name(&self) -> &str {
        &self.module.name
    }
    /// The file's path (`[vdso]` for the vDSO).
    #[getter]
    fn path(&self) -> String {
        self.module.path.to_string_lossy().into_owned()
    }
    /// The lowest address of the image.
    #[getter]
    fn base(&self) -> u64 {
        self.module.base
    }
    /// The size of the image.
    #[getter]
    fn size(&self) -> u64 {
        self.module.size
    }
    /// One past the last address of the image.
    #[getter]
    fn end(&self) -> u64 {
        self.module.end()
    }
    /// The load bias (added to the file's addresses).
    #[getter]
    fn bias(&self) -> u64 {
        self.module.bias
    }
    /// The process.
    #[getter]
    fn process(&self) -> Process {
        Process::new(self.core.clone(), self.pid)
    }
    /// True while the module is loaded in a debugged process.
    #[getter]
    fn alive(&self) -> PyResult<bool> {
        self.core.with(|s| Ok(s.modules(self.pid).map(|ms| ms.contains(&self.module)).unwrap_or(false)))
    }
    /// Whether `address` lies in the image.
    fn contains(&self, address: u64) -> bool {
        self.module.contains(address)
    }
    fn __contains__(&self, address: u64) -> bool {
        self.module.contains(address)
    }
    /// The address of a symbol of this module.
    fn lookup(&self, name: &str) -> PyResult<u64> {
        let qualified = format!("{}!{name}", self.module.path.display());
        self.core.with(|s| s.lookup(self.pid, &qualified))
    }
    /// This module's symbols whose name matches a regular expression (all without one).
    #[pyo3(signature = (pattern=""))]
    fn symbols(&self, pattern: &str) -> PyResult<Vec<Symbol>> {
        let path = self.module.path.to_string_lossy().into_owned();
        Ok(self
            .core
            .with(|s| s.search_symbols(self.pid, pattern, Some(&path)))?
            .into_iter()
            .map(Symbol::from)
            .collect())
    }

    fn __repr__(&self) -> String {
        format!(
            "<dbgkit.Module {} {:#x}-{:#x} {}>",
            self.module.name,
            self.module.base,
            self.module.end(),
            self.module.path.display()
        )
    }
    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<Module>().is_ok_and(|o| {
            let o = o.get();
            Arc::ptr_eq(&o.core, &self.core) && o.pid == self.pid && o.module == self.module
        })
    }
    fn __hash__(&self) -> u64 {
        self.module.base ^ self.pid as u64
    }
}

// ---- Breakpoint --------------------------------------------------------------

/// A breakpoint. Its state is read from the session each time.
#[pyclass(frozen, module = "dbgkit")]
pub struct Breakpoint {
    core: Arc<Core>,
    id: u32,
    pid: i32,
}

impl Breakpoint {
    pub fn new(core: Arc<Core>, id: u32, pid: i32) -> Breakpoint {
        Breakpoint { core, id, pid }
    }

    fn info(&self) -> PyResult<dbgkit::BreakpointInfo> {
        self.core.with(|s| Ok(s.breakpoint(self.id)))?.ok_or_else(|| {
            BreakpointError::new_err(format!(
                "breakpoint {} no longer exists (removed, or its process is gone)",
                self.id
            ))
        })
    }

    /// (address, hits) from the running callback, when it is this breakpoint's.
    fn at_hit(&self) -> Option<(u64, u64)> {
        self.core.hit_breakpoint(self.pid).filter(|(id, ..)| *id == self.id).map(|(_, a, h)| (a, h))
    }
}

#[pymethods]
impl Breakpoint {
    /// The breakpoint's id.
    #[getter]
    fn id(&self) -> u32 {
        self.id
    }
    /// The process id.
    #[getter]
    fn pid(&self) -> i32 {
        self.pid
    }
    /// The process.
    #[getter]
    fn process(&self) -> Process {
        Process::new(self.core.clone(), self.pid)
    }
    /// Copied into every child of its process when children are followed.
    #[getter]
    fn all_processes(&self) -> PyResult<bool> {
        Ok(self.info()?.all_processes)
    }
    /// What it is: `"software"`, `"hardware"`, `"watch"`, `"page-watch"` or
    /// `"syscall"` (a syscall catchpoint, its calls named by `expression`).
    #[getter]
    fn kind(&self) -> PyResult<&'static str> {
        Ok(match self.info()?.kind {
            dbgkit::BreakpointKind::Software => "software",
            dbgkit::BreakpointKind::Hardware => "hardware",
            dbgkit::BreakpointKind::Watch { .. } => "watch",
            dbgkit::BreakpointKind::PageWatch { .. } => "page-watch",
            dbgkit::BreakpointKind::Syscall => "syscall",
            _ => "other",
        })
    }
    /// The address, or `None` while the breakpoint is pending.
    #[getter]
    fn address(&self) -> PyResult<Option<u64>> {
        if let Some((address, _)) = self.at_hit() {
            return Ok(Some(address));
        }
        let info = self.info()?;
        Ok(info.unresolved.is_none().then_some(info.address))
    }
    /// Hits so far.
    #[getter]
    fn hits(&self) -> PyResult<u64> {
        if let Some((_, hits)) = self.at_hit() {
            return Ok(hits);
        }
        Ok(self.info()?.hits)
    }
    /// Whether it is enabled (settable).
    #[getter]
    fn get_enabled(&self) -> PyResult<bool> {
        Ok(self.info()?.enabled)
    }
    #[setter]
    fn set_enabled(&self, enabled: bool) -> PyResult<()> {
        self.core.with(|s| s.enable_breakpoint(self.id, enabled))
    }
    /// The condition (an engine expression), or `None` (settable).
    #[getter]
    fn get_condition(&self) -> PyResult<Option<String>> {
        Ok(self.info()?.condition)
    }
    #[setter]
    fn set_condition(&self, condition: Option<String>) -> PyResult<()> {
        self.core.with(|s| s.set_breakpoint_condition(self.id, condition.as_deref()))
    }
    /// Hits let pass before it reports (settable: lets that many more hits pass).
    #[getter]
    fn get_ignore_count(&self) -> PyResult<u64> {
        Ok(self.info()?.ignore_count)
    }
    #[setter]
    fn set_ignore_count(&self, count: u64) -> PyResult<()> {
        self.core.with(|s| s.set_breakpoint_ignore_count(self.id, count))
    }
    /// Removed after its first hit.
    #[getter]
    fn one_shot(&self) -> PyResult<bool> {
        Ok(self.info()?.one_shot)
    }
    /// True when it has a callback (a fast breakpoint).
    #[getter]
    fn has_callback(&self) -> PyResult<bool> {
        Ok(self.info()?.fast)
    }
    /// The expression it was set on, when set by name.
    #[getter]
    fn expression(&self) -> PyResult<Option<String>> {
        Ok(self.info()?.expression)
    }
    /// Why it is not planted yet, or `None` once planted.
    #[getter]
    fn unresolved(&self) -> PyResult<Option<String>> {
        Ok(self.info()?.unresolved)
    }
    /// True while it waits for its module.
    #[getter]
    fn pending(&self) -> PyResult<bool> {
        Ok(self.info()?.unresolved.is_some())
    }
    /// True while the breakpoint exists.
    #[getter]
    fn alive(&self) -> PyResult<bool> {
        if self.at_hit().is_some() {
            return Ok(true);
        }
        self.core.with(|s| Ok(s.breakpoint(self.id).is_some()))
    }
    /// Removes the breakpoint.
    fn remove(&self) -> PyResult<()> {
        self.core.with(|s| s.remove_breakpoint(self.id))
    }

    fn __repr__(&self) -> String {
        match self.core.with(|s| Ok(s.breakpoint(self.id))) {
            Ok(Some(info)) => {
                let place = match (&info.unresolved, &info.expression) {
                    (Some(_), Some(e)) => format!("{e} (pending)"),
                    (None, Some(e)) => format!("{e} at {:#x}", info.address),
                    _ => format!("{:#x}", info.address),
                };
                format!(
                    "<dbgkit.Breakpoint {} {place} pid={} hits={}{}>",
                    self.id,
                    self.pid,
                    info.hits,
                    if info.enabled { "" } else { " disabled" }
                )
            }
            _ => format!("<dbgkit.Breakpoint {} pid={}>", self.id, self.pid),
        }
    }
    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<Breakpoint>().is_ok_and(|o| Arc::ptr_eq(&o.get().core, &self.core) && o.get().id == self.id)
    }
    fn __hash__(&self) -> u64 {
        self.id as u64
    }
}

// ---- Watchpoint --------------------------------------------------------------

/// A hardware or page watchpoint (or a hardware breakpoint).
#[pyclass(frozen, module = "dbgkit")]
pub struct Watchpoint {
    core: Arc<Core>,
    id: u32,
    pid: i32,
}

impl Watchpoint {
    pub fn new(core: Arc<Core>, id: u32, pid: i32) -> Watchpoint {
        Watchpoint { core, id, pid }
    }

    fn info(&self) -> PyResult<dbgkit::WatchpointInfo> {
        self.core.with(|s| Ok(s.watchpoint(self.id)))?.ok_or_else(|| {
            BreakpointError::new_err(format!(
                "watchpoint {} no longer exists (removed, or its process is gone)",
                self.id
            ))
        })
    }
}

#[pymethods]
impl Watchpoint {
    /// The watchpoint's id (shared with breakpoint ids).
    #[getter]
    fn id(&self) -> u32 {
        self.id
    }
    /// The process id.
    #[getter]
    fn pid(&self) -> i32 {
        self.pid
    }
    /// The process.
    #[getter]
    fn process(&self) -> Process {
        Process::new(self.core.clone(), self.pid)
    }
    /// The first watched address.
    #[getter]
    fn address(&self) -> PyResult<u64> {
        Ok(self.info()?.address)
    }
    /// How many bytes are watched.
    #[getter]
    fn size(&self) -> PyResult<u64> {
        Ok(self.info()?.len)
    }
    /// `"write"`, `"read/write"` or `"execute"`.
    #[getter]
    fn access(&self) -> PyResult<&'static str> {
        Ok(self.info()?.access.name())
    }
    /// Hits so far.
    #[getter]
    fn hits(&self) -> PyResult<u64> {
        Ok(self.info()?.hits)
    }
    /// True for a page watchpoint, false for a hardware one.
    #[getter]
    fn page(&self) -> PyResult<bool> {
        Ok(self.info()?.page)
    }
    /// True while the watchpoint exists.
    #[getter]
    fn alive(&self) -> PyResult<bool> {
        self.core.with(|s| Ok(s.watchpoint(self.id).is_some()))
    }
    /// Removes the watchpoint.
    fn remove(&self) -> PyResult<()> {
        self.core.with(|s| s.remove_watchpoint(self.id))
    }

    fn __repr__(&self) -> String {
        match self.core.with(|s| Ok(s.watchpoint(self.id))) {
            Ok(Some(w)) => format!(
                "<dbgkit.Watchpoint {} {} {:#x}+{} pid={} hits={}{}>",
                self.id,
                w.access.name(),
                w.address,
                w.len,
                self.pid,
                w.hits,
                if w.page { " page" } else { "" }
            ),
            _ => format!("<dbgkit.Watchpoint {} pid={}>", self.id, self.pid),
        }
    }
    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<Watchpoint>().is_ok_and(|o| Arc::ptr_eq(&o.get().core, &self.core) && o.get().id == self.id)
    }
    fn __hash__(&self) -> u64 {
        self.id as u64
    }
}
