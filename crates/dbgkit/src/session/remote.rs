//! `Session::connect`: a process or a machine behind a GDB remote stub
//! (gdbserver, QEMU's gdbstub), taken into the session like an attached
//! process: its present is replayed as events, then a `BreakIn` (or the
//! signal it is stopped with) is reported.

use super::Session;
use crate::error::{Error, Result};
use crate::event::EventKind;
use crate::target::remote::{RemoteKind, RemoteTarget, Traffic};
use crate::target::Target;
use std::path::{Path, PathBuf};

/// How to connect to a stub.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnectOptions {
    /// The program (an ELF executable) of a remote process, or the kernel's
    /// `vmlinux` (or its `System.map`) for a machine: where symbols come from.
    pub symbols: Option<PathBuf>,
    /// A `System.map` beside (or instead of) `vmlinux`, for a kernel.
    pub system_map: Option<PathBuf>,
    /// gdb's `target extended-remote`: the stub stays when the target ends,
    /// and runs `symbols` (with `vRun`) when it has no process yet.
    pub extended: bool,
}

/// A target of the session behind a stub.
pub(crate) struct RemoteProcess {
    pub target: RemoteTarget,
    /// What the session knows of the kernel of a machine.
    pub kernel: Option<super::kernel::KernelState>,
}

impl Session {
    /// Connects to a GDB remote stub and takes its target into the session;
    /// returns its process id (for a machine, the stub's: each CPU is a thread).
    ///
    /// `address` is `HOST:PORT` or `| COMMAND` (a stub on the command's
    /// standard input and output, as gdb's `target remote | gdbserver - prog`).
    /// `symbols` is the program's file for a process (needed when the stub
    /// runs on another machine), or `vmlinux` / `System.map` for a kernel.
    ///
    /// ```no_run
    /// let mut session = dbgkit::Session::new();
    /// let pid = session.connect("127.0.0.1:1234", Some("vmlinux".as_ref()))?;
    /// let getpid = session.lookup(pid, "__x64_sys_getpid")?;
    /// # Ok::<(), dbgkit::Error>(())
    /// ```
    pub fn connect(&mut self, address: &str, symbols: Option<&Path>) -> Result<i32> {
        self.connect_with(address, &ConnectOptions { symbols: symbols.map(Path::to_path_buf), ..Default::default() })
    }

    /// [`connect`](Self::connect) with every option.
    pub fn connect_with(&mut self, address: &str, options: &ConnectOptions) -> Result<i32> {
        for path in options.symbols.iter().chain(&options.system_map) {
            if !path.is_file() {
                return Err(Error::ProgramNotFound(path.clone()));
            }
        }
        let (target, connected) = RemoteTarget::connect(address, options.extended, options.symbols.as_deref())?;
        if self.processes.contains_key(&connected.pid) {
            return Err(Error::InvalidArgument(format!(
                "process {} is already debugged by this session (connected to {address} twice?)",
                connected.pid
            )));
        }
        match connected.kind {
            RemoteKind::Process | RemoteKind::Windows => self.adopt_remote_process(target, &connected, options),
            RemoteKind::Machine => self.adopt_machine(target, &connected, options),
        }
    }

    fn adopt_remote_process(
        &mut self,
        target: RemoteTarget,
        connected: &crate::target::remote::Connected,
        options: &ConnectOptions,
    ) -> Result<i32> {
        if let Some(program) = &options.symbols {
            target.set_executable(program.clone());
        }
        let launched_by_stub = !target.attached();
        let events = target.events();
        let pid = self.adopt_target(Box::new(target.clone()), Some(events))?;
        self.remotes.insert(pid, RemoteProcess { target: target.clone(), kernel: None });
        let p = self.process_mut(pid)?;
        // As gdb does: a program the stub started ends with the session; one it attached to runs on.
        p.kill_on_exit = launched_by_stub;
        // Stopped before the loader ran (gdbserver starting a program): its
        // libraries come when it has mapped them, as for a launch.
        let loader_started =
            p.loader.r_debug != 0 && crate::linux::rdebug::r_brk(&*p.target, p.loader.r_debug).unwrap_or(0) != 0;
        if p.loader.r_debug != 0 && !loader_started {
            self.plant_loader_ready(pid)?;
        }
        self.resolve_pending_breakpoints(pid);
        let windows = connected.kind == RemoteKind::Windows;
        self.queue_initial_stop(pid, connected.current_thread, connected.signal, windows)?;
        Ok(pid)
    }

    /// Reports what the target is stopped at: a break-in, or the signal it
    /// stopped with; for a Windows process, the exception the system
    /// reported (the loader's initial breakpoint, or the break-in of an
    /// attach: WinDbg's "Break instruction exception - code 80000003").
    pub(super) fn queue_initial_stop(&mut self, pid: i32, tid: i32, signal: i32, windows: bool) -> Result<()> {
        let tid = if self.process(pid)?.threads.contains_key(&tid) { tid } else { pid };
        let info = if windows && signal != 0 { Some(self.process(pid)?.target.signal_info(tid)?) } else { None };
        let quiet = matches!(
            signal,
            0 | crate::signal_numbers::SIGTRAP | crate::signal_numbers::SIGINT | crate::signal_numbers::SIGSTOP
        );
        let windows_exception = info.is_some_and(|i| i.nt_status.is_some());
        if (quiet && !windows_exception) || self.process(pid)?.target.kind() == "remote machine" {
            self.queue_event(pid, tid, EventKind::BreakIn);
            return Ok(());
        }
        let info = match info {
            Some(info) => info,
            None => self.process(pid)?.target.signal_info(tid)?,
        };
        let address = self.process(pid)?.target.pc(tid)?;
        let fault_address = info.fault_address();
        self.queue_event(
            pid,
            tid,
            EventKind::Exception {
                signal,
                code: info.code,
                address,
                fault_address,
                first_chance: true,
                os_code: info.os_code(),
            },
        );
        Ok(())
    }

    /// Runs a monitor command of the stub behind `pid` (QEMU's `info
    /// registers`, `info mtree`; gdbserver's `set debug 1`) and returns its output.
    pub fn monitor(&mut self, pid: i32, command: &str) -> Result<String> {
        self.remote(pid)?.target.monitor(command)
    }

    /// Packets and bytes exchanged with the stub behind `pid` so far.
    pub fn remote_traffic(&self, pid: i32) -> Result<Traffic> {
        Ok(self.remote(pid)?.target.traffic())
    }

    /// The dynamic loader's list of a remote process as the stub reads it
    /// (`qXfer:libraries-svr4`): what the engine's own reading of `r_debug`
    /// can be checked against. `None` when the stub does not offer it.
    pub fn remote_libraries(&self, pid: i32) -> Result<Option<Vec<crate::target::remote::lists::Library>>> {
        self.remote(pid)?.target.libraries()
    }

    /// The address of the stub behind `pid`, when it is remote.
    pub fn remote_address(&self, pid: i32) -> Option<String> {
        self.remotes.get(&pid).map(|r| r.target.address())
    }

    /// Registers beyond the general ones, by name: for a machine behind
    /// QEMU, the segment bases, `cr0`-`cr8` and `efer`. Empty for a local process.
    pub fn extra_registers(&mut self, pid: i32, tid: i32) -> Result<Vec<(String, u64)>> {
        self.regs_of(pid, tid)?;
        self.process(pid)?.target.extra_registers(tid)
    }

    pub(crate) fn remote(&self, pid: i32) -> Result<&RemoteProcess> {
        self.process(pid)?;
        self.remotes.get(&pid).ok_or_else(|| crate::target::not_supported("this request", "a target not behind a stub"))
    }

    /// Forgets every remote target whose connection is gone.
    pub(crate) fn forget_lost_remotes(&mut self) {
        let lost: Vec<i32> = self
            .remotes
            .iter()
            .filter(|(_, r)| r.target.thread_ids().is_err_and(|e| e.is_connection_lost()))
            .map(|(&pid, _)| pid)
            .collect();
        for pid in lost {
            self.held.retain(|(tid, _)| self.owner.get(tid) != Some(&pid));
            self.forget_process(pid);
        }
    }
}
