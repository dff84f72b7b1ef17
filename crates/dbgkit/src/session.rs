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

mod avx;
mod breakpoints;
mod control;
mod dispatch;
mod eval;
mod image;
mod inject;
mod page_watch;
mod search;
mod sites;
mod stack;
mod symbols;
mod thread_control;
mod watchpoints;

use crate::arch::registers::{FpRegisters, Registers};
use crate::breakpoints::Breakpoint;
use crate::error::{Error, Result};
use crate::event::{ContinueStatus, Event, EventKind};
use crate::module::Module;
use crate::os::linux::maps::{read_maps, MemoryRegion};
use crate::os::linux::spawn::{SpawnOptions, SpawnedPipes};
use crate::os::linux::wait::WaitStatus;
use crate::os::linux::{attach, ptrace, spawn};
use crate::process::{ProcessState, Step};
pub use inject::{CallArg, CallResult, Protection};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::marker::PhantomData;
use std::time::{Duration, Instant};
pub use thread_control::{OtherThreads, SIGINFO_SIZE};
pub use watchpoints::WatchpointInfo;

/// The debug object. Not `Send`: ptrace requires that the thread that
/// attached makes every call, so a session lives on one thread.
pub struct Session {
    processes: BTreeMap<i32, ProcessState>,
    /// Which process each known thread belongs to.
    owner: HashMap<i32, i32>,
    /// Statuses already taken from the kernel but not yet handled (their
    /// threads stay stopped until then).
    held: VecDeque<(i32, WaitStatus)>,
    /// Statuses of threads not known yet (a new thread's first stop can
    /// arrive before its creator's clone event).
    orphans: HashMap<i32, WaitStatus>,
    breakpoints: BTreeMap<u32, Breakpoint>,
    /// Hardware and page watchpoints (ids shared with breakpoints).
    watchpoints: BTreeMap<u32, watchpoints::Watchpoint>,
    next_breakpoint_id: u32,
    /// Signals passed to the target without an event.
    quiet_signals: HashSet<i32>,
    /// The process of the last reported event, for `continue_event`.
    last_reported: Option<i32>,
    /// Pipes of launched processes, until the caller takes them.
    pipes: HashMap<i32, SpawnedPipes>,
    /// Symbols of every module file seen, loaded when first asked for.
    symbols: crate::symbols::SymbolCache,
    _not_send: PhantomData<*const ()>,
}

impl Default for Session {
    fn default() -> Self {
        Session::new()
    }
}

/// What a fast breakpoint's callback sees: the hitting thread, stopped, and
/// access to its registers and its process's memory.
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
}

impl Session {
    /// A session with no process.
    pub fn new() -> Session {
        // The debugger must not die of a closed pipe; the targets reset it on exec.
        // SAFETY: setting a signal disposition.
        unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
        Session {
            processes: BTreeMap::new(),
            owner: HashMap::new(),
            held: VecDeque::new(),
            orphans: HashMap::new(),
            breakpoints: BTreeMap::new(),
            watchpoints: BTreeMap::new(),
            next_breakpoint_id: 1,
            quiet_signals: HashSet::new(),
            last_reported: None,
            pipes: HashMap::new(),
            symbols: Default::default(),
            _not_send: PhantomData,
        }
    }

    // ---- processes -------------------------------------------------------

    /// Launches a program. It is stopped before its first instruction; its
    /// first events (`ProcessCreated`, `ModuleLoaded` for the loader and the
    /// vDSO) are waiting in the queue. Launched processes are killed when the
    /// session ends (see [`set_kill_on_exit`](Self::set_kill_on_exit)).
    pub fn spawn(&mut self, options: &SpawnOptions) -> Result<i32> {
        let (pid, _path, pipes) = spawn::spawn(options, true)?;
        self.pipes.insert(pid, pipes);
        if let Err(e) = self.adopt_new_image(pid, true) {
            // SAFETY: killing and reaping our own child, which we could not take over.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, std::ptr::null_mut(), libc::__WALL);
            }
            self.forget_process(pid);
            return Err(e);
        }
        Ok(pid)
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
        if self.processes.contains_key(&pid) {
            return Err(Error::AlreadyTraced { pid, tracer: unsafe { libc::gettid() } });
        }
        let stopped = attach::seize_all(pid)?;
        self.adopt_attached(pid, stopped)
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

    /// The memory map of a process.
    pub fn memory_map(&self, pid: i32) -> Result<Vec<MemoryRegion>> {
        self.process(pid)?;
        read_maps(pid)
    }

    /// Whether a process is held at an event (all its threads stopped).
    pub fn is_stopped(&self, pid: i32) -> Result<bool> {
        Ok(self.process(pid)?.is_held())
    }

    /// Whether the process dies when the session ends (default: yes for
    /// launched processes, no for attached ones).
    pub fn set_kill_on_exit(&mut self, pid: i32, on: bool) -> Result<()> {
        self.with_stopped(pid, |s| {
            let p = s.process_mut(pid)?;
            p.kill_on_exit = on;
            for &tid in p.threads.keys() {
                match ptrace::set_options(tid, ptrace::options(on)) {
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

    // ---- events ----------------------------------------------------------

    /// Waits for the next event, at most `timeout` (`None`: until one comes,
    /// or a signal such as `SIGINT` interrupts the wait).
    ///
    /// Returns `Ok(None)` on timeout or interruption. The event's process
    /// stays stopped until [`continue_event`](Self::continue_event).
    pub fn wait_event(&mut self, timeout: Option<Duration>) -> Result<Option<Event>> {
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
            if self.processes.values().all(|p| p.is_held()) {
                return Err(Error::AllProcessesStopped);
            }
            let got = match deadline {
                None => {
                    let got = crate::os::linux::wait::wait(None, crate::os::linux::wait::Block::Interruptible)?;
                    if got.is_none() {
                        return Ok(None);
                    }
                    got
                }
                Some(deadline) => {
                    let got = crate::os::linux::wait::wait(None, crate::os::linux::wait::Block::No)?;
                    if got.is_none() {
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
            if let Some((tid, status)) = got {
                backoff = Duration::from_micros(20);
                self.dispatch_tolerating_death(tid, status)?;
            }
        }
    }

    /// Continues the last reported event that is still waiting.
    pub fn continue_event(&mut self, status: ContinueStatus) -> Result<()> {
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
        let p = self.process_mut(pid)?;
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
        self.queue_event(pid, tid, EventKind::BreakIn);
        Ok(())
    }

    /// Single-steps thread `tid` of a stopped process: the waiting event is
    /// continued (`Handled`) with that thread stepping one instruction; a
    /// `StepComplete` event follows. Other threads run meanwhile.
    pub fn step_into(&mut self, pid: i32, tid: i32) -> Result<()> {
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
        self.process(pid)?;
        self.detach_process(pid)
    }

    /// Kills a process; its `ProcessExited` event follows.
    pub fn kill(&mut self, pid: i32) -> Result<()> {
        let p = self.process_mut(pid)?;
        p.in_flight = None;
        p.queued.clear();
        // SAFETY: sending a signal.
        if unsafe { libc::kill(pid, libc::SIGKILL) } != 0 {
            return Err(Error::last_os("kill", pid));
        }
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
        p.memory.read(address, buf)?;
        sites::hide_breakpoints(p, address, buf);
        Ok(())
    }

    /// Reads what is readable from `address` on; returns how many bytes were read.
    pub fn read_memory_partial(&self, pid: i32, address: u64, buf: &mut [u8]) -> Result<usize> {
        let p = self.process(pid)?;
        let n = p.memory.read_partial(address, buf);
        sites::hide_breakpoints(p, address, &mut buf[..n]);
        Ok(n)
    }

    /// Writes `data` at `address`, read-only code pages included. Bytes
    /// under a breakpoint become the new original bytes.
    pub fn write_memory(&mut self, pid: i32, address: u64, data: &[u8]) -> Result<()> {
        self.write_memory_keeping_sites(pid, address, data)
    }

    /// The general-purpose registers of a stopped thread.
    pub fn registers(&mut self, pid: i32, tid: i32) -> Result<Registers> {
        Ok(self.regs_of(pid, tid)?.into())
    }

    /// Sets the general-purpose registers of a stopped thread.
    pub fn set_registers(&mut self, pid: i32, tid: i32, regs: &Registers) -> Result<()> {
        let raw: libc::user_regs_struct = (*regs).into();
        self.stopped_thread(pid, tid)?;
        ptrace::set_regs(tid, &raw)?;
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
        Ok(ptrace::get_fpregs(tid)?.into())
    }

    /// Sets the x87 and SSE registers of a stopped thread.
    pub fn set_fp_registers(&mut self, pid: i32, tid: i32, regs: &FpRegisters) -> Result<()> {
        self.stopped_thread(pid, tid)?;
        let mut raw = ptrace::get_fpregs(tid)?;
        regs.store(&mut raw);
        ptrace::set_fpregs(tid, &raw)
    }

    // ---- internal helpers ------------------------------------------------

    pub(crate) fn process(&self, pid: i32) -> Result<&ProcessState> {
        self.processes.get(&pid).ok_or(Error::NotDebugged(pid))
    }

    pub(crate) fn process_mut(&mut self, pid: i32) -> Result<&mut ProcessState> {
        self.processes.get_mut(&pid).ok_or(Error::NotDebugged(pid))
    }

    fn stopped_thread(&mut self, pid: i32, tid: i32) -> Result<&mut crate::process::ThreadState> {
        let p = self.process_mut(pid)?;
        let t = p.threads.get_mut(&tid).ok_or(Error::NoSuchThread { pid, tid })?;
        if !t.stopped {
            return Err(Error::ProcessRunning(pid));
        }
        Ok(t)
    }

    /// The registers of a stopped thread, read once per stop.
    pub(crate) fn regs_of(&mut self, pid: i32, tid: i32) -> Result<libc::user_regs_struct> {
        let t = self.stopped_thread(pid, tid)?;
        if let Some(r) = t.regs {
            return Ok(r);
        }
        let r = ptrace::get_regs(tid)?;
        t.regs = Some(r);
        Ok(r)
    }

    /// The `rip` of a stopped thread: from the registers read at this stop,
    /// or one word of the user area (cheaper than all registers: the hot path).
    pub(crate) fn rip_of(&mut self, pid: i32, tid: i32) -> Result<u64> {
        let t = self.stopped_thread(pid, tid)?;
        match t.regs {
            Some(r) => Ok(r.rip),
            None => ptrace::peek_user(tid, ptrace::USER_RIP_OFFSET),
        }
    }

    /// Sets only `rip` of a stopped thread (one word written).
    pub(crate) fn set_rip_of(&mut self, pid: i32, tid: i32, rip: u64) -> Result<()> {
        ptrace::poke_user(tid, ptrace::USER_RIP_OFFSET, rip)?;
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
            p.queued.push_back(Event { pid, tid, kind });
        }
    }

    fn pop_queued(&mut self) -> Option<Event> {
        let p = self.processes.values_mut().find(|p| p.in_flight.is_none() && !p.queued.is_empty())?;
        let event = p.queued.pop_front()?;
        p.in_flight = Some(event.clone());
        self.last_reported = Some(p.pid);
        Some(event)
    }

    /// Handles a status; a thread that vanished meanwhile (`ESRCH`) is not
    /// an error: its death is a status still to come.
    fn dispatch_tolerating_death(&mut self, tid: i32, status: WaitStatus) -> Result<()> {
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

    /// The oldest held status whose process is free to handle it.
    fn take_held(&mut self) -> Option<(i32, WaitStatus)> {
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
