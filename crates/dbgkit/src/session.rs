//! `Session`, the debug object: it owns every debugged process, one queue of
//! events, and the breakpoint table.
//!
//! ```no_run
//! use dbgkit::{Session, SpawnOptions, EventKind, ContinueStatus};
//! use std::time::Duration;
//!
//! let mut session = Session::new();
//! let pid = session.spawn(&SpawnOptions::new(["/bin/true"]))?;
//! while let Some(event) = session.wait_event(Some(Duration::from_secs(10)))? {
//!     println!("{:?}", event.kind);
//!     let done = matches!(event.kind, EventKind::ProcessExited { .. });
//!     session.continue_event(ContinueStatus::Handled)?;
//!     if done { break; }
//! }
//! # Ok::<(), dbgkit::Error>(())
//! ```

#[cfg(test)]
mod all_stop_tests;
// The local thread's XSAVE area through ptrace.
#[cfg(target_os = "linux")]
mod avx;
mod breakpoints;
mod c_string;
mod catchpoints;
mod checkpoint;
mod children;
mod control;
mod core_dump;
mod debugger_memory;
mod dispatch;
mod eval;
mod fault_loop;
mod frame_location;
mod image;
mod inject;
mod interrupt_all;
mod kernel;
mod locations;
mod page_watch;
mod plans;
mod remote;
mod search;
mod sites;
mod stack;
mod symbols;
mod thread_control;
mod typed_eval;
mod value_target;
mod variables;
// Vector registers of a local thread (its XSAVE area, this processor's layout).
mod vector_registers;
mod watchpoints;
#[cfg(windows)]
mod windows;

use crate::arch::registers::{FpRegisters, Registers};
use crate::breakpoints::Breakpoint;
use crate::error::{Error, Result};
use crate::event::{ContinueStatus, Event, EventKind};
use crate::launch::{SpawnOptions, SpawnedPipes};
use crate::module::Module;
#[cfg(target_os = "linux")]
use crate::os::local;
use crate::process::{ProcessState, Step};
use crate::target::MemoryRegion;
use crate::target::{EventSource, StopReason, WaitMode};
pub use c_string::read_c_string_with;
pub use checkpoint::CheckpointInfo;
pub use inject::{CallArg, CallResult, Protection};
pub use kernel::{KernelPlacement, KernelProcess, KernelReload};
pub use locations::{BreakpointLocation, LineRange, SourceInfo};
pub(crate) use plans::Plan;
pub use plans::{StepKind, StepOptions};
pub use remote::ConnectOptions;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::marker::PhantomData;
use std::time::{Duration, Instant};
pub use thread_control::{OtherThreads, SIGINFO_SIZE};
pub use typed_eval::{FieldInfo, SourceCondition, TypeInfo, TypedValue};
pub use variables::{expand_frames, SourceFrame, Variable, VariableKind};
pub use vector_registers::VectorWidth;
pub use watchpoints::WatchpointInfo;

/// How the memory map names the engine's scratch pages.
pub const SCRATCH_NAME: &str = "[dbgkit scratch]";

/// The debug object. Not `Send`: ptrace requires that the thread that
/// attached makes every call, so a session lives on one thread.
pub struct Session {
    processes: BTreeMap<i32, ProcessState>,
    /// Which process each known thread belongs to.
    owner: HashMap<i32, i32>,
    /// Statuses already taken from the kernel but not yet handled (their
    /// threads stay stopped until then).
    held: VecDeque<(i32, StopReason)>,
    /// Statuses of threads not known yet (a new thread's first stop can
    /// arrive before its creator's clone event).
    orphans: HashMap<i32, StopReason>,
    /// Where stops come from; each process names one (or none: a core file).
    sources: Vec<Box<dyn EventSource>>,
    /// Which source is the one of every local process (`os/local.rs`).
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    local_source: Option<usize>,
    breakpoints: BTreeMap<u32, Breakpoint>,
    /// Hardware and page watchpoints (ids shared with breakpoints).
    watchpoints: BTreeMap<u32, watchpoints::Watchpoint>,
    next_breakpoint_id: u32,
    /// The engine's own breakpoints count down from `u32::MAX`, never reused.
    next_internal_id: u32,
    /// Signals passed to the target without an event.
    quiet_signals: HashSet<i32>,
    /// Signals whose first-chance exceptions do not end a step under way.
    passing_signals: HashSet<i32>,
    /// Syscall catchpoints, by id (the breakpoints' numbering).
    syscall_catches: BTreeMap<u32, catchpoints::SyscallCatch>,
    /// Whether forked children become processes of the session.
    follow_children: bool,
    /// The breakpoint hit whose condition or callback is running: its
    /// thread is shown at the breakpoint, and nothing may resume a thread.
    hit_in_progress: Option<HitInProgress>,
    /// The process of the last reported event, for `continue_event`.
    last_reported: Option<i32>,
    /// Pipes of launched processes, until the caller takes them.
    pipes: HashMap<i32, SpawnedPipes>,
    /// Saved moments of processes, by id.
    checkpoints: BTreeMap<u32, checkpoint::Checkpoint>,
    next_checkpoint_id: u32,
    /// Symbols of every module file seen, loaded when first asked for.
    symbols: crate::symbols::SymbolCache,
    /// Processes (and machines) behind a remote stub, for what only they do.
    remotes: HashMap<i32, remote::RemoteProcess>,
    _not_send: PhantomData<*const ()>,
}

impl Default for Session {
    fn default() -> Self {
        Session::new()
    }
}

/// A breakpoint hit being decided (its condition) or handled (its callback).
#[derive(Clone, Copy)]
pub(crate) struct HitInProgress {
    pub pid: i32,
    pub tid: i32,
    /// The thread's real `rip` during the hit (one byte on after an `int3`).
    pub raw_rip: u64,
    pub address: u64,
}

/// What a fast breakpoint's callback sees: the hitting thread, stopped, and
/// access to its registers and its process's memory; through
/// [`session`](Self::session), everything that only reads.
pub struct HitContext<'a> {
    session: &'a mut Session,
    /// The process.
    pub pid: i32,
    /// The thread that hit the breakpoint.
    pub tid: i32,
    /// The breakpoint.
    pub id: u32,
    /// The breakpoint's address (the thread's `rip`).
    pub address: u64,
    /// Hits so far, this one included.
    pub hits: u64,
}

impl HitContext<'_> {
    /// The thread's registers, with `rip` at the breakpoint address.
    pub fn registers(&mut self) -> Result<Registers> {
        let mut regs = self.session.registers(self.pid, self.tid)?;
        regs.rip = self.address;
        Ok(regs)
    }
    /// Reads target memory (breakpoint bytes never show).
    pub fn read_memory(&mut self, address: u64, buf: &mut [u8]) -> Result<()> {
        self.session.read_memory(self.pid, address, buf)
    }
    /// Writes target memory.
    pub fn write_memory(&mut self, address: u64, data: &[u8]) -> Result<()> {
        self.session.write_memory(self.pid, address, data)
    }
    /// The session, for what reads while the callback runs: symbols,
    /// stacks, expressions, modules, registers and memory. The hitting
    /// thread is shown at the breakpoint. What would run a thread
    /// (continuing, stepping, waiting, calling a function, detaching)
    /// fails with [`Error::InsideCallback`](crate::Error::InsideCallback).
    ///
    /// ```no_run
    /// # let mut session = dbgkit::Session::new();
    /// # let pid = 1;
    /// session.add_breakpoint_at(pid, "bump", dbgkit::BreakpointOptions::default().callback(|hit| {
    ///     let (pid, tid) = (hit.pid, hit.tid);
    ///     let caller = hit.session().stack(pid, tid).ok().and_then(|s| s.frames.get(1).cloned());
    ///     println!("called from {:?}", caller.map(|f| f.pc));
    ///     dbgkit::HitAction::Continue
    /// }))?;
    /// # Ok::<(), dbgkit::Error>(())
    /// ```
    pub fn session(&mut self) -> &mut Session {
        self.session
    }
}

impl Session {
    /// A session with no process.
    pub fn new() -> Session {
        // The debugger must not die of a closed pipe; the targets reset it on exec.
        // SAFETY: setting a signal disposition.
        #[cfg(unix)]
        unsafe {
            libc::signal(crate::signal_numbers::SIGPIPE, libc::SIG_IGN)
        };
        Session {
            processes: BTreeMap::new(),
            owner: HashMap::new(),
            held: VecDeque::new(),
            orphans: HashMap::new(),
            sources: Vec::new(),
            local_source: None,
            breakpoints: BTreeMap::new(),
            watchpoints: BTreeMap::new(),
            next_breakpoint_id: 1,
            next_internal_id: u32::MAX,
            quiet_signals: HashSet::new(),
            passing_signals: HashSet::new(),
            hit_in_progress: None,
            follow_children: false,
            syscall_catches: BTreeMap::new(),
            last_reported: None,
            pipes: HashMap::new(),
            checkpoints: BTreeMap::new(),
            next_checkpoint_id: 1,
            symbols: Default::default(),
            remotes: HashMap::new(),
            _not_send: PhantomData,
        }
    }

    // ---- processes -------------------------------------------------------

    /// Launches a program. It is stopped before its first instruction; its
    /// first events (`ProcessCreated`, `ModuleLoaded` for the loader and the
    /// vDSO) are waiting in the queue. Launched processes are killed when the
    /// session ends (see [`set_kill_on_exit`](Self::set_kill_on_exit)).
    pub fn spawn(&mut self, options: &SpawnOptions) -> Result<i32> {
        #[cfg(windows)]
        {
            self.refuse_inside_callback("launch a program")?;
            self.spawn_windows(options)
        }
        #[cfg(not(any(target_os = "linux", windows)))]
        {
            let _ = options;
            Err(crate::target::not_supported(
                "launching a program",
                "this system (no local target yet: debug through a stub)",
            ))
        }
        #[cfg(target_os = "linux")]
        {
            self.refuse_inside_callback("launch a program")?;
            let (pid, pipes) = local::launch(options)?;
            self.pipes.insert(pid, pipes);
            let adopted = self.adopt_new_image(pid, true).and_then(|()| match options.stop_at_entry {
                true => self.plant_entry_stop(pid),
                false => Ok(()),
            });
            if let Err(e) = adopted {
                local::abandon_launched(pid);
                self.forget_process(pid);
                return Err(e);
            }
            Ok(pid)
        }
    }

    /// The pipes of a launched process asked for with [`crate::Stdio::Piped`] (once).
    pub fn take_pipes(&mut self, pid: i32) -> Option<SpawnedPipes> {
        self.pipes.remove(&pid)
    }

    /// Attaches to a running process: every thread is stopped, then the
    /// present is replayed as events: `ProcessCreated`, `ThreadCreated` for
    /// each other thread, `ModuleLoaded` for each module. Attached processes
    /// are left running when the session ends.
    pub fn attach(&mut self, pid: i32) -> Result<()> {
        self.refuse_inside_callback("attach")?;
        #[cfg(windows)]
        {
            if self.processes.contains_key(&pid) {
                return Err(Error::InvalidArgument(format!("process {pid} is already debugged by this session")));
            }
            self.attach_windows(pid)
        }
        #[cfg(not(any(target_os = "linux", windows)))]
        {
            let _ = pid;
            Err(crate::target::not_supported(
                "attaching to a process",
                "this system (no local target yet: debug through a stub)",
            ))
        }
        #[cfg(target_os = "linux")]
        {
            if self.processes.contains_key(&pid) {
                return Err(Error::AlreadyTraced { pid, tracer: unsafe { libc::gettid() } });
            }
            let stopped = local::attach(pid)?;
            self.adopt_attached(pid, stopped)
        }
    }

    /// Opens an ELF core file for post-mortem debugging; returns its process
    /// id. The process is replayed as for an attach (`ProcessCreated`,
    /// `ThreadCreated`, `ModuleLoaded`), then an `Exception` event (second
    /// chance) names the thread that received the fatal signal, when the
    /// core records one. Everything that reads works (threads, registers,
    /// memory, modules, symbols, stacks, expressions); what would run or
    /// change the process is `Error::NotSupported`. `executable` names the
    /// program when the core's own record of it should not be used.
    ///
    /// ```no_run
    /// let mut session = dbgkit::Session::new();
    /// let pid = session.open_core("core", Some("./crash".as_ref()))?;
    /// # Ok::<(), dbgkit::Error>(())
    /// ```
    pub fn open_core(
        &mut self,
        path: impl AsRef<std::path::Path>,
        executable: Option<&std::path::Path>,
    ) -> Result<i32> {
        let core = crate::target::core::CoreTarget::open(path.as_ref(), executable)?;
        let faulting = core.signalled_thread();
        let pid = self.adopt_target(Box::new(core), None)?;
        let p = self.process(pid)?;
        let info = p.target.signal_info(faulting)?;
        if info.signal != 0 {
            let address = p.target.pc(faulting)?;
            let fault_address = info.fault_address();
            self.queue_event(
                pid,
                faulting,
                EventKind::Exception {
                    signal: info.signal,
                    code: info.code,
                    address,
                    fault_address,
                    first_chance: false,
                    os_code: info.os_code(),
                },
            );
        } else {
            // No signal recorded (a snapshot of a process that was simply stopped).
            self.queue_event(pid, faulting, EventKind::BreakIn);
        }
        Ok(pid)
    }

    /// Who a process is: parent, user, command name and arguments (from
    /// `/proc` for a live process, from `NT_PRPSINFO` for a core).
    pub fn process_info(&self, pid: i32) -> Result<crate::corefile::ProcessInfo> {
        self.process(pid)?.target.process_info()
    }

    /// Processes debugged by this session, in the order they were added.
    pub fn processes(&self) -> Vec<i32> {
        self.processes.keys().copied().collect()
    }

    /// Threads of a process, by thread id.
    pub fn threads(&self, pid: i32) -> Result<Vec<i32>> {
        Ok(self.process(pid)?.threads.keys().copied().collect())
    }

    /// Modules of a process in load order, the executable first.
    pub fn modules(&self, pid: i32) -> Result<Vec<Module>> {
        Ok(self.process(pid)?.modules.clone())
    }

    /// The executable image of a process.
    pub fn image(&self, pid: i32) -> Result<std::path::PathBuf> {
        Ok(self.process(pid)?.image.clone())
    }

    /// The memory map of a process. The engine's own scratch pages (where
    /// instructions under breakpoints run) are named `[dbgkit scratch]`.
    pub fn memory_map(&self, pid: i32) -> Result<Vec<MemoryRegion>> {
        let p = self.process(pid)?;
        let mut map = p.target.memory_map()?;
        for region in map.iter_mut().filter(|r| p.scratch.contains(r.start)) {
            region.path = SCRATCH_NAME.to_string();
        }
        Ok(map)
    }

    /// What kind of target a process is ("live process", "core file").
    pub fn target_kind(&self, pid: i32) -> Result<&'static str> {
        Ok(self.process(pid)?.target.kind())
    }

    /// Whether a process is held at an event (all its threads stopped).
    pub fn is_stopped(&self, pid: i32) -> Result<bool> {
        Ok(self.process(pid)?.is_held())
    }

    /// Whether thread `tid` has a stop not reported yet: one the kernel gave
    /// while the process was being stopped for another event, or an event
    /// queued behind another. A debugger asking such a thread to stop hears
    /// of that stop instead (a step that just ended is not lost).
    pub fn has_pending_stop(&self, pid: i32, tid: i32) -> bool {
        let queued = self.processes.get(&pid).is_some_and(|p| p.queued.iter().any(|e| e.tid == tid));
        queued || self.held.iter().any(|(held, _)| *held == tid)
    }

    /// Whether the process dies when the session ends (default: yes for
    /// launched processes, no for attached ones).
    pub fn set_kill_on_exit(&mut self, pid: i32, on: bool) -> Result<()> {
        self.with_stopped(pid, |s| {
            let p = s.process_mut(pid)?;
            p.kill_on_exit = on;
            let p = s.process(pid)?;
            for &tid in p.threads.keys() {
                match p.control()?.set_kill_on_exit(tid, on) {
                    Err(e) if e.is_gone() => {}
                    other => other?,
                }
            }
            Ok(())
        })
    }

    /// Signals passed to the target at once, without an `Exception` event.
    pub fn set_signal_quiet(&mut self, signal: i32, quiet: bool) {
        if quiet {
            self.quiet_signals.insert(signal);
        } else {
            self.quiet_signals.remove(&signal);
        }
    }

    /// Whether a first-chance exception of `signal` stops the program for
    /// the client (the default) or only informs it, as gdb's `handle SIG
    /// nostop` and WinDbg's `sxn`: an informing exception is still
    /// reported and continued with the status the client picks (pass the
    /// signal or not), but a step under way (a thread plan) goes on after
    /// it instead of ending there.
    ///
    /// ```no_run
    /// let mut session = dbgkit::Session::new();
    /// // Ctrl-C's copy of SIGINT must not cut a `step` short.
    /// session.set_signal_stops(libc::SIGINT, false);
    /// ```
    pub fn set_signal_stops(&mut self, signal: i32, stops: bool) {
        if stops {
            self.passing_signals.remove(&signal);
        } else {
            self.passing_signals.insert(signal);
        }
    }

    // ---- events ----------------------------------------------------------

    /// Waits for the next event, at most `timeout` (`None`: until one comes,
    /// or a signal such as `SIGINT` interrupts the wait).
    ///
    /// Returns `Ok(None)` on timeout or interruption. The event's process
    /// stays stopped until [`continue_event`](Self::continue_event).
    pub fn wait_event(&mut self, timeout: Option<Duration>) -> Result<Option<Event>> {
        self.refuse_inside_callback("wait for an event")?;
        let result = self.wait_event_unguarded(timeout);
        if result.as_ref().is_err_and(Error::is_connection_lost) {
            // A remote stub went away: its processes are gone from the session.
            self.forget_lost_remotes();
        }
        result
    }

    fn wait_event_unguarded(&mut self, timeout: Option<Duration>) -> Result<Option<Event>> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut backoff = Duration::from_micros(20);
        loop {
            if let Some(event) = self.pop_queued() {
                return Ok(Some(event));
            }
            if self.processes.is_empty() {
                return Err(Error::NoProcesses);
            }
            if let Some((tid, status)) = self.take_held() {
                self.dispatch_tolerating_death(tid, status)?;
                continue;
            }
            if self.processes.values().all(|p| p.is_held() || p.source.is_none()) {
                return Err(Error::AllProcessesStopped);
            }
            let got = match (deadline, self.runnable_source()) {
                // One source with something that may run: block on it.
                (None, Some(only)) => {
                    let got = self.sources[only].wait_any(WaitMode::Interruptible)?;
                    if got.is_none() {
                        return Ok(None);
                    }
                    got.map(|stop| (only, stop))
                }
                // A deadline, or several sources: poll each with a short back-off.
                (deadline, _) => {
                    let mut got = None;
                    for (index, source) in self.sources.iter().enumerate() {
                        got = source.wait_any(WaitMode::Poll)?.map(|stop| (index, stop));
                        if got.is_some() {
                            break;
                        }
                    }
                    if got.is_none() {
                        let deadline = deadline.unwrap_or_else(|| Instant::now() + backoff);
                        let now = Instant::now();
                        if now >= deadline {
                            return Ok(None);
                        }
                        std::thread::sleep(backoff.min(deadline - now));
                        backoff = (backoff * 2).min(Duration::from_millis(5));
                        continue;
                    }
                    got
                }
            };
            if let Some((source, (tid, status))) = got {
                backoff = Duration::from_micros(20);
                let output = self.sources[source].take_debug_output();
                if let Some(p) = self.owner.get(&tid).copied().and_then(|pid| self.processes.get_mut(&pid)) {
                    p.debug_output.extend(output);
                }
                self.dispatch_tolerating_death(tid, status)?;
            }
        }
    }

    /// Continues the last reported event that is still waiting.
    pub fn continue_event(&mut self, status: ContinueStatus) -> Result<()> {
        self.refuse_inside_callback("continue")?;
        let pid = self
            .last_reported
            .filter(|pid| self.processes.get(pid).is_some_and(|p| p.in_flight.is_some()))
            .or_else(|| {
                let mut waiting = self.processes.values().filter(|p| p.in_flight.is_some());
                let first = waiting.next().map(|p| p.pid);
                first.filter(|_| waiting.next().is_none())
            })
            .ok_or(Error::NothingToContinue)?;
        self.continue_process(pid, status)
    }

    /// Continues the event waiting for process `pid`.
    pub fn continue_process(&mut self, pid: i32, status: ContinueStatus) -> Result<()> {
        self.refuse_inside_callback("continue")?;
        let p = self.process_mut(pid)?;
        // A target that cannot run (a core file) stays at its last event.
        if p.queued.is_empty() && p.in_flight.is_some() && p.target.run_control().is_none() {
            return Err(crate::target::not_supported("running the process", p.target.kind()));
        }
        let event = p.in_flight.take().ok_or(Error::NoEventInFlight(pid))?;
        if !status.fits(&event.kind) {
            let err = Error::StatusDoesNotFit { status: status.name(), event: event.kind.name() };
            p.in_flight = Some(event);
            return Err(err);
        }
        match self.apply_continue(event, status) {
            // The process died while stopped: its exit is the next event.
            Err(e) if e.is_gone() => Ok(()),
            other => other,
        }
    }

    /// Stops a running process and reports a `BreakIn` event for it (the
    /// process's events already waiting come first).
    pub fn break_in(&mut self, pid: i32) -> Result<()> {
        let p = self.process(pid)?;
        let held = p.is_held();
        let tid =
            if p.threads.contains_key(&pid) { pid } else { *p.threads.keys().next().ok_or(Error::ProcessGone(pid))? };
        if !held {
            self.stop_all(pid)?;
        }
        // Ctrl-C ends a step in progress, as in gdb.
        self.end_plans(pid);
        self.queue_event(pid, tid, EventKind::BreakIn);
        Ok(())
    }

    /// Single-steps thread `tid` of a stopped process: the waiting event is
    /// continued (`Handled`) with that thread stepping one instruction; a
    /// `StepComplete` event follows. Other threads run meanwhile.
    pub fn step_into(&mut self, pid: i32, tid: i32) -> Result<()> {
        self.refuse_inside_callback("step")?;
        let p = self.process_mut(pid)?;
        if p.in_flight.is_none() {
            return Err(if p.is_held() { Error::NoEventInFlight(pid) } else { Error::ProcessRunning(pid) });
        }
        let thread = p.threads.get_mut(&tid).ok_or(Error::NoSuchThread { pid, tid })?;
        thread.step = Some(Step::User);
        if let Err(e) = self.continue_process(pid, ContinueStatus::Handled) {
            if let Some(t) = self.processes.get_mut(&pid).and_then(|p| p.threads.get_mut(&tid)) {
                t.step = None;
            }
            return Err(e);
        }
        Ok(())
    }

    /// Detaches from a process: breakpoints and scratch memory removed,
    /// pending signals delivered, the process left running as if it had
    /// never been debugged.
    pub fn detach(&mut self, pid: i32) -> Result<()> {
        self.refuse_inside_callback("detach")?;
        self.process(pid)?;
        match self.detach_process(pid) {
            // Killed from outside while stopped: there is nothing left to let
            // go, only its end to take.
            Err(_) if self.died(pid) => {
                self.kill_and_reap(pid);
                Ok(())
            }
            other => other,
        }
    }

    /// Whether live process `pid` has died (its leader is a zombie not reaped yet).
    fn died(&self, pid: i32) -> bool {
        self.process(pid).ok().and_then(|p| p.control().ok()).is_some_and(|control| control.is_zombie(pid))
    }

    /// Kills a process; its `ProcessExited` event follows.
    pub fn kill(&mut self, pid: i32) -> Result<()> {
        self.refuse_inside_callback("kill a process")?;
        self.process(pid)?.control()?.kill()?;
        let p = self.process_mut(pid)?;
        p.in_flight = None;
        p.queued.clear();
        p.debug_output.clear();
        for t in p.threads.values_mut() {
            t.stopped = false;
        }
        Ok(())
    }

    // ---- memory and registers -------------------------------------------

    /// Reads `buf.len()` bytes at `address`; fails if any byte is unmapped.
    /// Breakpoint bytes show as the original bytes.
    pub fn read_memory(&self, pid: i32, address: u64, buf: &mut [u8]) -> Result<()> {
        let p = self.process(pid)?;
        p.read_exact(address, buf)?;
        sites::hide_breakpoints(p, address, buf);
        Ok(())
    }

    /// Reads what is readable from `address` on; returns how many bytes were read.
    pub fn read_memory_partial(&self, pid: i32, address: u64, buf: &mut [u8]) -> Result<usize> {
        let p = self.process(pid)?;
        let n = p.target.read_memory(address, buf);
        sites::hide_breakpoints(p, address, &mut buf[..n]);
        Ok(n)
    }

    /// Writes `data` at `address`, read-only code pages included. Bytes
    /// under a breakpoint become the new original bytes.
    pub fn write_memory(&mut self, pid: i32, address: u64, data: &[u8]) -> Result<()> {
        self.write_memory_keeping_sites(pid, address, data)
    }

    /// The general-purpose registers of a stopped thread, as the program
    /// sees them: a thread that has taken a breakpoint's trap not reported
    /// yet is shown at the breakpoint (not one byte after it), and one about
    /// to run an instruction out of line at the instruction itself.
    pub fn registers(&mut self, pid: i32, tid: i32) -> Result<Registers> {
        let mut regs = self.regs_of(pid, tid)?;
        regs.rip = self.logical_pc(pid, tid, regs.rip)?;
        Ok(regs)
    }

    /// Where a stopped thread is for the program, given its real `rip`.
    pub(crate) fn logical_pc(&self, pid: i32, tid: i32, raw: u64) -> Result<u64> {
        if let Some(hit) = self.hit_in_progress.filter(|h| h.pid == pid && h.tid == tid && h.raw_rip == raw) {
            return Ok(hit.address);
        }
        if self.held_breakpoint_trap(pid, tid, raw) {
            return Ok(raw - 1);
        }
        self.original_address(pid, raw)
    }

    /// Refuses what would run a thread while a breakpoint's condition or callback runs.
    pub(crate) fn refuse_inside_callback(&self, what: &'static str) -> Result<()> {
        match self.hit_in_progress {
            Some(_) => Err(Error::InsideCallback { what }),
            None => Ok(()),
        }
    }

    /// Whether `tid` holds a trap (not handled yet) from an int3 the engine
    /// planted (or removed since) just before `raw`.
    fn held_breakpoint_trap(&self, pid: i32, tid: i32, raw: u64) -> bool {
        let Ok(p) = self.process(pid) else { return false };
        if p.target.target_breakpoints().is_some() {
            return false;
        }
        let at = raw.wrapping_sub(1);
        (p.sites.contains_key(&at) || p.removed_sites.contains(&at))
            && self.held.iter().any(|(t, s)| *t == tid && *s == StopReason::Signal(crate::signal_numbers::SIGTRAP))
    }

    /// Sets the general-purpose registers of a stopped thread.
    pub fn set_registers(&mut self, pid: i32, tid: i32, regs: &Registers) -> Result<()> {
        let mut raw = *regs;
        self.stopped_thread(pid, tid)?;
        // The program's pc as `registers` showed it: the engine's real one stays; a new one drops a pending hit.
        let now = self.regs_of(pid, tid)?.rip;
        let logical = self.logical_pc(pid, tid, now)?;
        if logical != now {
            if raw.rip == logical {
                raw.rip = now;
            } else if self.held_breakpoint_trap(pid, tid, now) {
                self.held.retain(|(t, s)| !(*t == tid && *s == StopReason::Signal(crate::signal_numbers::SIGTRAP)));
            }
        }
        self.process(pid)?.writer()?.set_registers(tid, &raw)?;
        let t = self.stopped_thread(pid, tid)?;
        t.regs = Some(raw);
        if t.over_breakpoint.is_some_and(|a| a != raw.rip) {
            t.over_breakpoint = None;
        }
        Ok(())
    }

    /// The x87 and SSE registers of a stopped thread.
    pub fn fp_registers(&mut self, pid: i32, tid: i32) -> Result<FpRegisters> {
        self.stopped_thread(pid, tid)?;
        self.process(pid)?.target.fp_registers(tid)
    }

    /// The whole `xsave` area of a stopped thread (AVX and beyond), as the kernel lays it out.
    pub fn xstate(&mut self, pid: i32, tid: i32) -> Result<Vec<u8>> {
        self.stopped_thread(pid, tid)?;
        self.process(pid)?.target.xstate(tid)
    }

    /// Sets the x87 and SSE registers of a stopped thread.
    pub fn set_fp_registers(&mut self, pid: i32, tid: i32, regs: &FpRegisters) -> Result<()> {
        self.stopped_thread(pid, tid)?;
        self.process(pid)?.writer()?.set_fp_registers(tid, regs)
    }

    // ---- internal helpers ------------------------------------------------

    pub(crate) fn process(&self, pid: i32) -> Result<&ProcessState> {
        self.processes.get(&pid).ok_or(Error::NotDebugged(pid))
    }

    pub(crate) fn process_mut(&mut self, pid: i32) -> Result<&mut ProcessState> {
        self.processes.get_mut(&pid).ok_or(Error::NotDebugged(pid))
    }

    pub(crate) fn stopped_thread(&mut self, pid: i32, tid: i32) -> Result<&mut crate::process::ThreadState> {
        let p = self.process_mut(pid)?;
        let t = p.threads.get_mut(&tid).ok_or(Error::NoSuchThread { pid, tid })?;
        if !t.stopped {
            return Err(Error::ProcessRunning(pid));
        }
        Ok(t)
    }

    /// The registers of a stopped thread, read once per stop.
    pub(crate) fn regs_of(&mut self, pid: i32, tid: i32) -> Result<Registers> {
        let t = self.stopped_thread(pid, tid)?;
        if let Some(r) = t.regs {
            return Ok(r);
        }
        let r = self.process(pid)?.target.registers(tid)?;
        self.stopped_thread(pid, tid)?.regs = Some(r);
        Ok(r)
    }

    /// Writes the registers of a stopped thread and keeps them as read at this stop.
    pub(crate) fn put_regs(&mut self, pid: i32, tid: i32, regs: Registers) -> Result<()> {
        self.process(pid)?.writer()?.set_registers(tid, &regs)?;
        if let Some(t) = self.process_mut(pid)?.threads.get_mut(&tid) {
            t.regs = Some(regs);
        }
        Ok(())
    }

    /// The `rip` of a stopped thread: from the registers read at this stop,
    /// or one word of the user area (cheaper than all registers: the hot path).
    pub(crate) fn rip_of(&mut self, pid: i32, tid: i32) -> Result<u64> {
        let t = self.stopped_thread(pid, tid)?;
        match t.regs {
            Some(r) => Ok(r.rip),
            None => self.process(pid)?.target.pc(tid),
        }
    }

    /// Sets only `rip` of a stopped thread (one word written).
    pub(crate) fn set_rip_of(&mut self, pid: i32, tid: i32, rip: u64) -> Result<()> {
        self.process(pid)?.writer()?.set_pc(tid, rip)?;
        if let Some(r) = self.stopped_thread(pid, tid)?.regs.as_mut() {
            r.rip = rip;
        }
        Ok(())
    }

    /// Runs `f` with every thread of `pid` stopped, stopping and resuming
    /// the process around it when it was running.
    pub(crate) fn with_stopped<T>(&mut self, pid: i32, f: impl FnOnce(&mut Session) -> Result<T>) -> Result<T> {
        let was_held = self.process(pid)?.is_held();
        let all_stopped = self.process(pid)?.threads.values().all(|t| t.stopped);
        if was_held || all_stopped {
            return f(self);
        }
        self.stop_all(pid)?;
        let result = f(self);
        if self.processes.contains_key(&pid) {
            self.resume_all(pid)?;
        }
        result
    }

    pub(crate) fn queue_event(&mut self, pid: i32, tid: i32, kind: EventKind) {
        if let Some(p) = self.processes.get_mut(&pid) {
            // Held at an event: its continue decides again which threads run.
            p.waiting_for_vfork.clear();
            p.queued.push_back(Event { pid, tid, kind });
        }
    }

    fn pop_queued(&mut self) -> Option<Event> {
        let p = self.processes.values_mut().find(|p| p.in_flight.is_none() && !p.queued.is_empty())?;
        let event = match p.debug_output.pop_front() {
            // What the program wrote comes before what stopped it.
            Some(text) => {
                let tid = p.queued.front().map_or(p.pid, |e| e.tid);
                Event { pid: p.pid, tid, kind: EventKind::DebugOutput { text } }
            }
            None => p.queued.pop_front()?,
        };
        p.in_flight = Some(event.clone());
        self.last_reported = Some(p.pid);
        Some(event)
    }

    /// Handles a status; a thread that vanished meanwhile (`ESRCH`) is not
    /// an error: its death is a status still to come.
    fn dispatch_tolerating_death(&mut self, tid: i32, status: StopReason) -> Result<()> {
        match self.dispatch(tid, status) {
            Err(e) if e.is_gone() => {
                if let Some(t) = self
                    .owner
                    .get(&tid)
                    .and_then(|pid| self.processes.get_mut(pid))
                    .and_then(|p| p.threads.get_mut(&tid))
                {
                    t.stopped = false;
                    t.regs = None;
                }
                Ok(())
            }
            other => other,
        }
    }

    /// The one event source serving every process that may run, if there
    /// is exactly one (no allocation: this runs once per silent breakpoint hit).
    fn runnable_source(&self) -> Option<usize> {
        let mut only = None;
        for p in self.processes.values().filter(|p| !p.is_held()) {
            match (only, p.source) {
                (_, None) => {}
                (None, Some(s)) => only = Some(s),
                (Some(a), Some(b)) if a == b => {}
                _ => return None,
            }
        }
        only
    }

    /// The event source of every local process of this session.
    #[cfg(target_os = "linux")]
    pub(crate) fn local_source(&mut self) -> usize {
        if let Some(source) = self.local_source {
            return source;
        }
        self.sources.push(crate::os::local::event_source());
        self.local_source = Some(self.sources.len() - 1);
        self.sources.len() - 1
    }

    /// The oldest held status whose process is free to handle it.
    fn take_held(&mut self) -> Option<(i32, StopReason)> {
        let index = self.held.iter().position(|(tid, _)| {
            self.owner
                .get(tid)
                .and_then(|pid| self.processes.get(pid))
                .is_none_or(|p| !p.is_held() && !p.threads.get(tid).is_some_and(|t| t.parked))
        })?;
        self.held.remove(index)
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.drop_checkpoints();
        let pids: Vec<i32> = self.processes.keys().copied().collect();
        for pid in pids {
            let kill = self.processes.get(&pid).is_some_and(|p| p.kill_on_exit);
            if kill {
                self.kill_and_reap(pid);
            } else if self.detach_process(pid).is_err() {
                self.processes.remove(&pid);
            }
        }
    }
}
