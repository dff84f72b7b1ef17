//! `dbgkit.Session`: the debug object. Process-level calls taken here work
//! on the default process (the one spawned or attached last, else the only
//! one) unless `process=` names another.

use crate::core::Core;
use crate::errors::{IntoPyResult, InvalidArgument};
use crate::event::{parse_status_opt, Event, EventIterator};
use crate::handles::{self as ops, pid_arg, thread_arg, Breakpoint, Module, Process, Thread, Watchpoint};
use crate::values::{CallResult, Stack, Symbol, Symbolized};
use dbgkit::{SpawnOptions, Stdio};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString, PyTuple};
use std::ffi::OsString;
use std::sync::Arc;
use std::time::Duration;

fn timeout_arg(timeout: Option<f64>) -> PyResult<Option<Duration>> {
    match timeout {
        None => Ok(None),
        Some(t) if t.is_finite() && t >= 0.0 => Ok(Some(Duration::from_secs_f64(t))),
        Some(t) => Err(PyValueError::new_err(format!("timeout must be a number of seconds >= 0, not {t}"))),
    }
}

fn stdio_arg(obj: Option<&Bound<'_, PyAny>>, which: &str) -> PyResult<Stdio> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else { return Ok(Stdio::Inherit) };
    // subprocess.PIPE and subprocess.DEVNULL work too.
    if let Ok(n) = obj.extract::<i64>() {
        return match n {
            -1 => Ok(Stdio::Piped),
            -3 => Ok(Stdio::Null),
            _ => Err(PyValueError::new_err(format!("{which}: use \"inherit\", \"null\" or \"pipe\""))),
        };
    }
    match obj.extract::<String>()?.to_ascii_lowercase().as_str() {
        "inherit" => Ok(Stdio::Inherit),
        "null" | "devnull" => Ok(Stdio::Null),
        "pipe" => Ok(Stdio::Piped),
        other => Err(PyValueError::new_err(format!("{which}={other:?}: use \"inherit\", \"null\" or \"pipe\""))),
    }
}

fn os_string(obj: &Bound<'_, PyAny>) -> PyResult<OsString> {
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(s.to_str()?.into());
    }
    if let Ok(b) = obj.cast::<PyBytes>() {
        use std::os::unix::ffi::OsStringExt;
        return Ok(OsString::from_vec(b.as_bytes().to_vec()));
    }
    Ok(obj.extract::<std::path::PathBuf>()?.into_os_string())
}

/// The debug object: owns every debugged process and one queue of events.
///
/// A session belongs to the thread that created it (ptrace's rule): using
/// it, or a handle of it, from another thread raises `WrongThreadError`.
/// Launched processes die with the session (`close()`, or when it is
/// garbage-collected); attached ones are detached.
#[pyclass(frozen, module = "dbgkit")]
pub struct Session {
    core: Arc<Core>,
}

impl Session {
    /// A session object over an existing core (the debugger's own).
    pub(crate) fn from_core(core: Arc<Core>) -> Session {
        Session { core }
    }

    fn resolve_process(&self, process: Option<&Bound<'_, PyAny>>) -> PyResult<Process> {
        Ok(Process::new(self.core.clone(), pid_arg(&self.core, process)?))
    }
}

#[pymethods]
impl Session {
    #[new]
    fn new() -> Session {
        Session { core: Core::new() }
    }

    /// `threading.get_ident()` of the thread the session belongs to.
    #[getter]
    fn owner_thread(&self) -> u64 {
        self.core.owner_ident()
    }

    /// True once `close()` was called.
    #[getter]
    fn closed(&self) -> PyResult<bool> {
        self.core.is_closed()
    }

    /// Whether children of debugged processes are debugged too (WinDbg's
    /// `.childdbg 1`, strace's `-f`). When on, a child (fork, vfork,
    /// posix_spawn, system, clone without CLONE_THREAD) is a process of the
    /// session: `process-created` and `module-loaded` events after its
    /// parent's `fork` event, then its own events, with no breakpoint in it
    /// until one is set in it.
    #[getter]
    fn get_follow_children(&self) -> PyResult<bool> {
        self.core.with(|s| Ok(s.follows_children()))
    }

    #[setter]
    fn set_follow_children(&self, on: bool) -> PyResult<()> {
        self.core.with(|s| {
            s.set_follow_children(on);
            Ok(())
        })
    }

    /// Ends the session: launched processes are killed, attached ones detached.
    fn close(&self) -> PyResult<()> {
        self.core.close()
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, _args: &Bound<'_, PyTuple>) -> PyResult<bool> {
        self.core.close()?;
        Ok(false)
    }

    // ---- processes -----------------------------------------------------

    /// Launches a program under the debugger. It is stopped before its first
    /// instruction; its first events (`process-created`, `module-loaded`
    /// for the executable, the loader and the vDSO) wait in the queue.
    ///
    /// `argv` is a list (program first; searched in `PATH` without a `/`) or
    /// a program path alone. `env` adds variables (`clear_env` starts from an
    /// empty environment). `stdin`/`stdout`/`stderr`: `"inherit"` (default),
    /// `"null"` or `"pipe"` (see `Process.take_pipes`). Address-space
    /// randomisation is off unless `aslr=True`. With `stop_at_entry=True`
    /// a `break-in` event follows the initial libraries' `module-loaded`
    /// events, at the program's entry point (WinDbg's initial breakpoint).
    /// `follow_children=True` turns on `Session.follow_children` first.
    #[pyo3(signature = (argv, *, env=None, cwd=None, stdin=None, stdout=None, stderr=None, clear_env=false, aslr=false, kill_on_exit=true, stop_at_entry=false, follow_children=None))]
    #[allow(clippy::too_many_arguments)]
    fn spawn(
        &self,
        argv: &Bound<'_, PyAny>,
        env: Option<&Bound<'_, PyDict>>,
        cwd: Option<std::path::PathBuf>,
        stdin: Option<&Bound<'_, PyAny>>,
        stdout: Option<&Bound<'_, PyAny>>,
        stderr: Option<&Bound<'_, PyAny>>,
        clear_env: bool,
        aslr: bool,
        kill_on_exit: bool,
        stop_at_entry: bool,
        follow_children: Option<bool>,
    ) -> PyResult<Process> {
        let args: Vec<OsString> = if argv.is_instance_of::<PyString>() || argv.is_instance_of::<PyBytes>() {
            vec![os_string(argv)?]
        } else if let Ok(path) = argv.extract::<std::path::PathBuf>() {
            vec![path.into_os_string()]
        } else {
            argv.try_iter()?.map(|a| os_string(&a?)).collect::<PyResult<_>>()?
        };
        if args.is_empty() {
            return Err(PyValueError::new_err("argv is empty: give at least the program"));
        }
        let mut options = SpawnOptions::new(&args)
            .stdin(stdio_arg(stdin, "stdin")?)
            .stdout(stdio_arg(stdout, "stdout")?)
            .stderr(stdio_arg(stderr, "stderr")?)
            .disable_aslr(!aslr)
            .stop_at_entry(stop_at_entry);
        if clear_env {
            options = options.env_clear();
        }
        if let Some(env) = env {
            for (k, v) in env.iter() {
                options = options.env(os_string(&k)?, os_string(&v)?);
            }
        }
        if let Some(cwd) = cwd {
            options = options.cwd(cwd);
        }
        let pid = self.core.with(|s| {
            if let Some(on) = follow_children {
                s.set_follow_children(on);
            }
            let pid = s.spawn(&options)?;
            if !kill_on_exit {
                s.set_kill_on_exit(pid, false)?;
            }
            Ok(pid)
        })?;
        self.core.added(pid);
        Ok(Process::new(self.core.clone(), pid))
    }

    /// Attaches to a running process: every thread is stopped, and the
    /// present is replayed as events (`process-created`, `thread-created`
    /// for each other thread, `module-loaded` for each module).
    fn attach(&self, pid: i32) -> PyResult<Process> {
        self.core.with(|s| s.attach(pid))?;
        self.core.added(pid);
        Ok(Process::new(self.core.clone(), pid))
    }

    /// Opens an ELF core file for post-mortem debugging and returns its
    /// process: threads, registers, memory, modules, symbols and stacks read
    /// as for a live process; what would run or change it raises
    /// `NotSupported`. Its events (`process-created`, `thread-created`,
    /// `module-loaded`, then the fatal `exception` or a `break-in`) are
    /// waiting. `executable` names the program when the core's own record of
    /// it should not be used.
    #[pyo3(signature = (path, executable=None))]
    fn open_core(&self, path: std::path::PathBuf, executable: Option<std::path::PathBuf>) -> PyResult<Process> {
        let pid = self.core.with(|s| s.open_core(&path, executable.as_deref()))?;
        self.core.added(pid);
        Ok(Process::new(self.core.clone(), pid))
    }

    /// Connects to a GDB remote stub and takes its target into the session:
    /// a process under gdbserver, or a machine behind QEMU's stub (each CPU a
    /// thread, the kernel's `vmlinux` and loaded modules as modules).
    /// `address` is `"HOST:PORT"` or `"| COMMAND"`. `symbols` is the
    /// program's file (needed when the stub runs on another machine), or the
    /// kernel's `vmlinux` or `System.map`; `system_map` adds a `System.map`.
    /// The target's present is replayed as events, then a `break-in`.
    #[pyo3(signature = (address, symbols=None, system_map=None, extended=false))]
    fn connect(
        &self,
        address: &str,
        symbols: Option<std::path::PathBuf>,
        system_map: Option<std::path::PathBuf>,
        extended: bool,
    ) -> PyResult<Process> {
        let options = dbgkit::ConnectOptions { symbols, system_map, extended };
        let pid = self.core.with(|s| s.connect_with(address, &options))?;
        self.core.added(pid);
        Ok(Process::new(self.core.clone(), pid))
    }

    /// Runs a command of the remote stub behind a process (QEMU's monitor:
    /// `"info registers"`) and returns its output.
    #[pyo3(signature = (command, process=None))]
    fn monitor(&self, command: &str, process: Option<&Bound<'_, PyAny>>) -> PyResult<String> {
        let pid = pid_arg(&self.core, process)?;
        self.core.with(|s| s.monitor(pid, command))
    }

    /// Where the kernel of a machine is: `(slide, how)`; the slide is `None`
    /// while the kernel has not started.
    #[pyo3(signature = (process=None))]
    fn kernel_placement(&self, process: Option<&Bound<'_, PyAny>>) -> PyResult<(Option<u64>, String)> {
        let pid = pid_arg(&self.core, process)?;
        let placement = self.core.with(|s| s.kernel_placement(pid))?;
        Ok((placement.slide, placement.how))
    }

    /// The kernel's processes (WinDbg's `!process 0 0`), read through
    /// vmlinux's DWARF types: dicts with `address` (the `task_struct`),
    /// `pid`, `parent_pid`, `comm` and `user` (false for kernel threads).
    #[pyo3(signature = (process=None))]
    fn kernel_processes<'py>(
        &self,
        py: Python<'py>,
        process: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Vec<Bound<'py, PyDict>>> {
        let pid = pid_arg(&self.core, process)?;
        let list = self.core.with(|s| s.kernel_processes(pid))?;
        list.into_iter()
            .map(|p| {
                let d = PyDict::new(py);
                d.set_item("address", p.address)?;
                d.set_item("pid", p.pid)?;
                d.set_item("parent_pid", p.parent_pid)?;
                d.set_item("comm", p.comm)?;
                d.set_item("user", p.user)?;
                Ok(d)
            })
            .collect()
    }

    /// Finds the kernel (its slide) and its modules again (WinDbg's
    /// `.reload`); returns the names of the modules loaded and unloaded since.
    #[pyo3(signature = (process=None))]
    fn reload_kernel(&self, process: Option<&Bound<'_, PyAny>>) -> PyResult<(Vec<String>, Vec<String>)> {
        let pid = pid_arg(&self.core, process)?;
        let changes = self.core.with(|s| s.reload_kernel(pid))?;
        let names = |m: Vec<dbgkit::Module>| m.into_iter().map(|m| m.name).collect();
        Ok((names(changes.loaded), names(changes.unloaded)))
    }

    /// Goes back to a checkpoint (`Process.checkpoint()`): its process is
    /// replaced by a copy of that moment, stopped with a `break-in` event
    /// waiting; breakpoints stay. Returns the process (its id is new). The
    /// checkpoint stays for another restore.
    fn restore(&self, checkpoint: &Bound<'_, PyAny>) -> PyResult<Process> {
        let id = checkpoint_id(checkpoint)?;
        let old = self.core.with(|s| Ok(s.checkpoints().into_iter().find(|c| c.id == id).map(|c| c.pid)))?;
        let pid = self.core.with(|s| s.restore(id))?;
        if let Some(old) = old {
            self.core.forget_in_flight(old);
        }
        self.core.added(pid);
        Ok(Process::new(self.core.clone(), pid))
    }

    /// Drops a checkpoint (its stopped copy is killed).
    fn delete_checkpoint(&self, checkpoint: &Bound<'_, PyAny>) -> PyResult<()> {
        let id = checkpoint_id(checkpoint)?;
        self.core.with(|s| s.delete_checkpoint(id))
    }

    /// Detaches from a process (default: the default process), leaving it
    /// running as if it had never been debugged.
    #[pyo3(signature = (process=None))]
    fn detach(&self, process: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let p = self.resolve_process(process)?;
        self.core.with(|s| s.detach(p.pid))?;
        self.core.forget_in_flight(p.pid);
        Ok(())
    }

    /// Kills a process (default: the default process); its `process-exited` event follows.
    #[pyo3(signature = (process=None))]
    fn kill(&self, process: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let p = self.resolve_process(process)?;
        self.core.with(|s| s.kill(p.pid))?;
        self.core.forget_in_flight(p.pid);
        Ok(())
    }

    /// Every debugged process.
    #[getter]
    fn processes(&self) -> PyResult<Vec<Process>> {
        Ok(self.core.with(|s| Ok(s.processes()))?.into_iter().map(|pid| Process::new(self.core.clone(), pid)).collect())
    }

    /// A process by pid; without one, the default process (spawned or attached last, else the only one).
    #[pyo3(signature = (pid=None))]
    fn process(&self, pid: Option<i32>) -> PyResult<Process> {
        let pid = match pid {
            Some(pid) => {
                self.core.with(|s| s.is_stopped(pid))?;
                pid
            }
            None => self.core.default_pid()?,
        };
        Ok(Process::new(self.core.clone(), pid))
    }

    /// The threads of the default process.
    #[getter]
    fn threads(&self) -> PyResult<Vec<Thread>> {
        let pid = self.core.default_pid()?;
        let tids = self.core.with(|s| s.threads(pid))?;
        Ok(tids.into_iter().map(|tid| Thread::new(self.core.clone(), pid, tid)).collect())
    }

    /// The modules of the default process.
    #[getter]
    fn modules(&self) -> PyResult<Vec<Module>> {
        let pid = self.core.default_pid()?;
        let modules = self.core.with(|s| s.modules(pid))?;
        Ok(modules.into_iter().map(|m| Module::new(self.core.clone(), pid, m)).collect())
    }

    /// Signals passed to the program at once, without an `exception` event
    /// (`"SIGCHLD"`, `"chld"` or `17`).
    #[pyo3(signature = (signal, quiet=true))]
    fn set_signal_quiet(&self, signal: &Bound<'_, PyAny>, quiet: bool) -> PyResult<()> {
        let number = signal_number(signal)?;
        self.core.check_thread()?;
        self.core.with(|s| {
            s.set_signal_quiet(number, quiet);
            Ok(())
        })
    }

    /// Whether a signal's first-chance `exception` stops the program (the
    /// default) or only informs: an informing one is still reported, but a
    /// step under way goes on once it is continued (gdb's `handle SIG nostop`).
    #[pyo3(signature = (signal, stops=false))]
    fn set_signal_stops(&self, signal: &Bound<'_, PyAny>, stops: bool) -> PyResult<()> {
        let number = signal_number(signal)?;
        self.core.check_thread()?;
        self.core.with(|s| {
            s.set_signal_stops(number, stops);
            Ok(())
        })
    }

    /// Adds a directory searched for separate debug files (before the standard ones).
    fn add_symbol_path(&self, path: std::path::PathBuf) -> PyResult<()> {
        self.core.with(|s| {
            s.add_symbol_path(path);
            Ok(())
        })
    }

    // ---- events --------------------------------------------------------

    /// Waits for the next event, at most `timeout` seconds (`None`: until
    /// one comes). Returns `None` on timeout. The event's process stays
    /// stopped until `continue_event`. The GIL is released while waiting.
    ///
    /// Ctrl-C during the wait raises `KeyboardInterrupt` with every running
    /// process stopped (their `break-in` events wait in the queue). An
    /// exception raised by a breakpoint callback is raised here, with the
    /// breakpoint's event in flight.
    #[pyo3(signature = (timeout=None))]
    fn wait_event(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Option<Py<Event>>> {
        self.core.wait(py, timeout_arg(timeout)?)
    }

    /// Continues the waiting event (default: the last one reported) with
    /// `status` (default: `NOT_HANDLED` for exceptions, `HANDLED` otherwise).
    #[pyo3(signature = (status=None, process=None))]
    fn continue_event(&self, status: Option<Bound<'_, PyAny>>, process: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let status = parse_status_opt(status.as_ref())?;
        let pid = match process.filter(|p| !p.is_none()) {
            Some(_) => pid_arg(&self.core, process)?,
            None => self.core.continuable_pid()?,
        };
        self.core.continue_process(pid, status)
    }

    /// The everyday loop: `for event in session.events(): ...` waits, yields
    /// the event, and continues it when the loop body ends (with
    /// `event.status`, by default `NOT_HANDLED` for exceptions and `HANDLED`
    /// otherwise). Ends when no process is left. With a `timeout`, a wait
    /// that long without an event raises `WaitTimeout`.
    #[pyo3(signature = (timeout=None))]
    fn events(&self, timeout: Option<f64>) -> PyResult<EventIterator> {
        self.core.check_thread()?;
        Ok(EventIterator::new(self.core.clone(), timeout_arg(timeout)?))
    }

    /// Stops a running process (default: the default process); a `break-in` event follows.
    #[pyo3(signature = (process=None))]
    fn break_in(&self, process: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let p = self.resolve_process(process)?;
        self.core.with(|s| s.break_in(p.pid))
    }

    /// Stops every running process; each reports a `break-in` event.
    /// Returns the pids broken into.
    fn break_in_all(&self) -> PyResult<Vec<i32>> {
        self.core.with(|s| Ok(s.break_in_all()))
    }

    /// Single-steps a thread (default: the thread of the waiting event); a
    /// `step-complete` event follows.
    #[pyo3(signature = (thread=None))]
    fn step_into(&self, thread: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let (pid, tid) = thread_arg(&self.core, thread)?;
        self.core.with(|s| s.step_into(pid, tid))?;
        self.core.forget_in_flight(pid);
        Ok(())
    }

    // ---- breakpoints -----------------------------------------------------

    /// Sets a breakpoint in a process (default: the default process) on an
    /// address or an expression: `"libc.so.6!socket"`, `"main"`,
    /// `"file.c:12"`, `"bump+4"`. A name whose module is not loaded yet makes
    /// a pending breakpoint, planted the moment the module loads.
    ///
    /// `condition`: an engine expression evaluated at each hit (`"rdi == 5"`);
    /// false hits cost no event. `callback(event)`: runs inside the engine on
    /// every (conditioned) hit; the program goes on when it returns a false
    /// value (`False`, `None`) and stops with a `breakpoint` event when it
    /// returns a true one. Inside it, the hitting thread's registers and the
    /// process's memory can be read (memory written). An exception it raises
    /// stops the process and is raised by `wait_event`/`events()`.
    /// `all_processes=True`: the children it starts get a copy, when
    /// children are followed (`follow_children`).
    #[pyo3(signature = (location, *, process=None, condition=None, callback=None, one_shot=false, enabled=true, ignore_count=0, all_processes=false))]
    #[allow(clippy::too_many_arguments)]
    fn add_breakpoint(
        &self,
        location: &Bound<'_, PyAny>,
        process: Option<&Bound<'_, PyAny>>,
        condition: Option<String>,
        callback: Option<Py<PyAny>>,
        one_shot: bool,
        enabled: bool,
        ignore_count: u64,
        all_processes: bool,
    ) -> PyResult<Breakpoint> {
        let pid = pid_arg(&self.core, process)?;
        let options = dbgkit::BreakpointOptions::default()
            .one_shot(one_shot)
            .disabled(!enabled)
            .ignore_count(ignore_count)
            .all_processes(all_processes);
        ops::add_breakpoint(&self.core, pid, location, condition, callback, options)
    }

    /// A hardware breakpoint (debug registers) at `address`.
    #[pyo3(signature = (address, *, process=None))]
    fn add_hardware_breakpoint(&self, address: u64, process: Option<&Bound<'_, PyAny>>) -> PyResult<Watchpoint> {
        let pid = pid_arg(&self.core, process)?;
        let id = self.core.with(|s| s.add_hardware_breakpoint(pid, address))?;
        Ok(Watchpoint::new(self.core.clone(), id, pid))
    }

    /// Watches `size` bytes at `address` for `"write"` or `"read_write"`
    /// access (debug registers; `page=True`: page protection, any size).
    #[pyo3(signature = (address, size=8, access="write", *, page=false, process=None))]
    fn add_watchpoint(
        &self,
        address: u64,
        size: i64,
        access: &str,
        page: bool,
        process: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Watchpoint> {
        let pid = pid_arg(&self.core, process)?;
        ops::add_watchpoint(&self.core, pid, address, crate::values::count(size, "size")?, access, page)
    }

    /// A syscall catchpoint (gdb's `catch syscall`): each entry to and exit
    /// from the named system calls (names like `"openat"` or numbers; every
    /// system call when none is given) is reported as a `syscall-entry` /
    /// `syscall-exit` event. It is listed with the breakpoints (kind
    /// `"syscall"`) and removed like them. Programs without one are not
    /// slowed: the kernel is asked for system call stops only while one exists.
    #[pyo3(signature = (*syscalls, process=None))]
    fn catch_syscall(
        &self,
        syscalls: Vec<Bound<'_, PyAny>>,
        process: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Breakpoint> {
        let mut numbers = Vec::new();
        for s in &syscalls {
            let number = match s.extract::<u64>() {
                Ok(n) => n,
                Err(_) => {
                    let name: String = s.extract()?;
                    dbgkit::syscall_number(&name).ok_or_else(|| {
                        crate::errors::InvalidArgument::new_err(format!("unknown system call {name:?}"))
                    })?
                }
            };
            numbers.push(number);
        }
        let pid = pid_arg(&self.core, process)?;
        let id = self.core.with(|s| s.add_syscall_catchpoint(pid, &numbers))?;
        Ok(Breakpoint::new(self.core.clone(), id, pid))
    }

    /// Every breakpoint of every process.
    #[getter]
    fn breakpoints(&self) -> PyResult<Vec<Breakpoint>> {
        let all = self.core.with(|s| Ok(s.breakpoints()))?;
        Ok(all.into_iter().map(|b| Breakpoint::new(self.core.clone(), b.id, b.pid)).collect())
    }

    /// Every watchpoint of every process.
    #[getter]
    fn watchpoints(&self) -> PyResult<Vec<Watchpoint>> {
        let all = self.core.with(|s| Ok(s.watchpoints()))?;
        Ok(all.into_iter().map(|w| Watchpoint::new(self.core.clone(), w.id, w.pid)).collect())
    }

    /// Removes a breakpoint or watchpoint (a handle or an id).
    fn remove_breakpoint(&self, breakpoint: &Bound<'_, PyAny>) -> PyResult<()> {
        let id: u32 = if let Ok(b) = breakpoint.cast::<Breakpoint>() {
            b.getattr("id")?.extract()?
        } else if let Ok(w) = breakpoint.cast::<Watchpoint>() {
            let id: u32 = w.getattr("id")?.extract()?;
            return self.core.with(|s| s.remove_watchpoint(id));
        } else {
            breakpoint.extract().map_err(|_| PyTypeError::new_err("expected a Breakpoint or an id"))?
        };
        self.core.with(|s| match s.remove_breakpoint(id) {
            Err(dbgkit::Error::NoSuchBreakpoint(_)) if s.watchpoint(id).is_some() => s.remove_watchpoint(id),
            other => other,
        })
    }

    // ---- memory, symbols, expressions (default process) -------------------

    /// Reads `size` bytes at `address`.
    #[pyo3(signature = (address, size, *, process=None))]
    fn read_memory<'py>(
        &self,
        py: Python<'py>,
        address: u64,
        size: i64,
        process: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let pid = pid_arg(&self.core, process)?;
        let size = crate::values::count(size, "size")? as usize;
        Ok(PyBytes::new(py, &self.core.read_memory(pid, address, size)?))
    }

    /// Writes `data` at `address`.
    #[pyo3(signature = (address, data, *, process=None))]
    fn write_memory(&self, address: u64, data: &Bound<'_, PyAny>, process: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let pid = pid_arg(&self.core, process)?;
        self.core.write_memory(pid, address, &crate::handles::bytes_arg(data)?)
    }

    /// Reads `count` 64-bit pointers at `address`.
    #[pyo3(signature = (address, count=1, *, process=None))]
    fn read_pointers(&self, address: u64, count: i64, process: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<u64>> {
        let pid = pid_arg(&self.core, process)?;
        self.core.read_pointers(pid, address, count)
    }

    /// Reads a NUL-terminated string (see `Process.read_cstring`).
    #[pyo3(signature = (address, max_length=4096, encoding=Some("utf-8"), errors="replace", *, process=None))]
    #[allow(clippy::too_many_arguments)]
    fn read_cstring<'py>(
        &self,
        py: Python<'py>,
        address: u64,
        max_length: usize,
        encoding: Option<&str>,
        errors: &str,
        process: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let pid = pid_arg(&self.core, process)?;
        ops::read_cstring(py, &self.core, pid, address, max_length, encoding, errors)
    }

    /// Names an address (module, symbol+offset, line).
    #[pyo3(signature = (address, *, process=None))]
    fn symbolize(&self, address: u64, process: Option<&Bound<'_, PyAny>>) -> PyResult<Symbolized> {
        let pid = pid_arg(&self.core, process)?;
        Ok(Symbolized::from(self.core.with(|s| s.symbolize(pid, address))?))
    }

    /// The address of a name (`module!name`, `name`, `file.c:42`, a module).
    #[pyo3(signature = (name, *, process=None))]
    fn lookup(&self, name: &str, process: Option<&Bound<'_, PyAny>>) -> PyResult<u64> {
        let pid = pid_arg(&self.core, process)?;
        self.core.with(|s| s.lookup(pid, name))
    }

    /// Symbols whose name matches a regular expression.
    #[pyo3(signature = (pattern, module=None, *, process=None))]
    fn search_symbols(
        &self,
        pattern: &str,
        module: Option<&str>,
        process: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Vec<Symbol>> {
        let pid = pid_arg(&self.core, process)?;
        Ok(self.core.with(|s| s.search_symbols(pid, pattern, module))?.into_iter().map(Symbol::from).collect())
    }

    /// Evaluates an expression with the registers of `thread` (default: the
    /// thread of the waiting event).
    #[pyo3(signature = (expression, *, thread=None))]
    fn eval(&self, expression: &str, thread: Option<&Bound<'_, PyAny>>) -> PyResult<u64> {
        let (pid, tid) = thread_arg(&self.core, thread)?;
        self.core.with(|s| s.eval(pid, tid, expression))
    }

    /// The call stack of `thread` (default: the thread of the waiting event).
    #[pyo3(signature = (thread=None))]
    fn stack(&self, thread: Option<&Bound<'_, PyAny>>) -> PyResult<Stack> {
        let (pid, tid) = thread_arg(&self.core, thread)?;
        let stack = self.core.with(|s| s.stack(pid, tid))?;
        Ok(Stack::for_thread(stack, &self.core, pid, tid))
    }

    // ---- pretty printers ------------------------------------------------------

    /// Registers a pretty printer: values whose type name (typedefs and
    /// qualifiers taken off) matches the regular expression `pattern` are
    /// printed by `printer(value)`, which returns a string, or a pair
    /// `(summary, children)` whose children are `Value`s or `(name, Value)`
    /// pairs. It is asked before the built-in printers.
    fn add_pretty_printer(&self, name: &str, pattern: &str, printer: Py<PyAny>) -> PyResult<()> {
        crate::source::add_printer(&self.core, name, pattern, printer)
    }

    /// Removes the pretty printers named `name`; returns how many there were.
    fn remove_pretty_printer(&self, name: &str) -> PyResult<usize> {
        self.core.with(|s| Ok(s.remove_pretty_printer(name)))
    }

    /// The names of the pretty printers, the first asked first.
    fn pretty_printers(&self) -> PyResult<Vec<String>> {
        self.core.with(|s| Ok(s.pretty_printers()))
    }

    // ---- running code in the target -----------------------------------------

    /// Calls a function (address or name) in the target on `thread`
    /// (default: the thread of the waiting event); see `Process.call`.
    #[pyo3(signature = (function, *args, thread=None))]
    fn call(
        &self,
        function: &Bound<'_, PyAny>,
        args: &Bound<'_, PyTuple>,
        thread: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<CallResult> {
        let (pid, tid) = thread_arg(&self.core, thread)?;
        ops::call_function(&self.core, pid, tid, function, args)
    }

    /// Maps new memory in a process; returns its address.
    #[pyo3(signature = (size, protection="rw", address=None, *, process=None))]
    fn allocate_memory(
        &self,
        size: i64,
        protection: &str,
        address: Option<u64>,
        process: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<u64> {
        let pid = pid_arg(&self.core, process)?;
        let size = crate::values::count(size, "size")?;
        let protection = dbgkit::Protection::parse(protection).py_err()?;
        self.core.with(|s| s.allocate_memory(pid, size, protection, address))
    }

    /// Loads a shared object into the target (`dlopen`) on `thread`; returns its handle.
    #[pyo3(signature = (path, *, thread=None))]
    fn inject_library(&self, path: std::path::PathBuf, thread: Option<&Bound<'_, PyAny>>) -> PyResult<u64> {
        let (pid, tid) = thread_arg(&self.core, thread)?;
        let path = path.to_string_lossy().into_owned();
        self.core.with(|s| s.inject_library(pid, tid, &path))
    }

    fn __repr__(&self) -> String {
        match self.core.with(|s| Ok(s.processes())) {
            Ok(pids) => format!("<dbgkit.Session processes={pids:?}>"),
            Err(_) if self.core.is_closed().unwrap_or(false) => "<dbgkit.Session closed>".to_string(),
            Err(_) => "<dbgkit.Session>".to_string(),
        }
    }
}

/// A checkpoint given as a `Checkpoint` or as its number.
fn checkpoint_id(checkpoint: &Bound<'_, PyAny>) -> PyResult<u32> {
    match checkpoint.cast::<crate::values::Checkpoint>() {
        Ok(cp) => Ok(cp.get().id),
        Err(_) => checkpoint.extract(),
    }
}

/// A signal given by number or name (`"SIGCHLD"`, `"chld"`, `17`).
fn signal_number(signal: &Bound<'_, PyAny>) -> PyResult<i32> {
    match signal.extract::<i32>() {
        Ok(n) => Some(n).filter(|n| (1..=64).contains(n)),
        Err(_) => dbgkit::parse_signal(&signal.extract::<String>()?),
    }
    .ok_or_else(|| InvalidArgument::new_err(format!("not a signal: {signal}")))
}
