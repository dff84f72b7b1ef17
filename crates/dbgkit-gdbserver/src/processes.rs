//! Several processes on one connection (gdb's `detach-on-fork off`, and a
//! vfork parent gdb keeps while it follows the child). The process gdb
//! works on is the server's current one (`ServerTarget::inferior` and the
//! state beside it); the others wait parked, each stopped at its own event
//! with its own breakpoints. gdb names a process by selecting one of its
//! threads (`Hg`) for registers or breakpoints, or by resuming it
//! (`vCont;c:pPID.-1`); it then becomes current and the one before is
//! parked. A forked child the server keeps for gdb to decide about becomes
//! a process of its own the first time gdb names it so.
//!
//! gdb runs one process at a time unless told `schedule-multiple on`
//! (`vCont` naming one process); a `vCont` that names none runs them all
//! (see `schedule_multiple.rs`).

use crate::debug_log;
use crate::target::{GdbPoints, Inferior, Origin, PendingVforkDone, ServerError, ServerTarget};
use dbgkit::{ContinueStatus, Event, EventKind, WatchAccess};
use std::time::{Duration, Instant};

/// How long a process asked to die may take to report its end.
const END_WAIT: Duration = Duration::from_secs(10);

/// The server's state of a process that is not the current one.
pub(crate) struct ParkedProcess {
    pub(crate) inferior: Inferior,
    pub(crate) stop_event: Option<Event>,
    points: GdbPoints,
    syscall_catch_id: Option<u32>,
    pub(crate) pending_vfork_done: Vec<PendingVforkDone>,
    /// Resumed with the current process (gdb's `schedule-multiple`): its
    /// stop is not in hand until it reports one or is stopped.
    pub(crate) running: bool,
    /// `stop_event` is a stop gdb has not heard of: it came as the process
    /// was being stopped for another's, and is told before it runs again.
    pub(crate) unreported: bool,
}

/// How parked processes go when the server lets go of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Release {
    Kill,
    Detach,
    /// The client left: a launched one is killed and an attached one let
    /// go (gdbserver's rule, process by process).
    AsStarted,
}

impl ParkedProcess {
    fn new(inferior: Inferior, stop_event: Option<Event>) -> ParkedProcess {
        ParkedProcess {
            inferior,
            stop_event,
            points: GdbPoints::default(),
            syscall_catch_id: None,
            pending_vfork_done: Vec::new(),
            running: false,
            unreported: false,
        }
    }
}

/// gdb's hardware breakpoints and watchpoints in a process: a fork child
/// has them too for gdb (gdbserver copies the debug registers into it),
/// though the system does not copy them.
#[derive(Clone, Debug, Default)]
pub(crate) struct DebugRegisterUse {
    breakpoints: Vec<u64>,
    watchpoints: Vec<(u64, u64, bool)>,
}

/// Whether a packet needs its process to be the current one: registers,
/// and breakpoints put in (taking one out of a kept child has nothing to
/// do: the engine cleaned it).
pub(crate) fn needs_current_process(body: &[u8]) -> bool {
    matches!(body.first(), Some(b'g' | b'G' | b'p' | b'P' | b'Z'))
}

/// The one process a `vCont` packet's actions name (`pPID.TID`), if they
/// name exactly one.
pub(crate) fn process_named_by_vcont(actions: &str) -> Option<i32> {
    let mut named = actions
        .split(';')
        .filter_map(|action| action.split_once(':'))
        .filter_map(|(_, thread)| thread.strip_prefix('p'))
        .filter_map(|thread| i32::from_str_radix(thread.split('.').next()?, 16).ok())
        .filter(|&pid| pid > 0);
    let first = named.next()?;
    named.all(|pid| pid == first).then_some(first)
}

impl ServerTarget {
    /// Whether `pid` is a parked process of this connection.
    pub(crate) fn is_parked(&self, pid: i32) -> bool {
        self.parked.contains_key(&pid)
    }

    /// The parked processes, by pid.
    pub(crate) fn parked_pids(&self) -> Vec<i32> {
        self.parked.keys().copied().collect()
    }

    /// Every process gdb has: the current one first, then the parked ones.
    pub(crate) fn held_pids(&self) -> Vec<i32> {
        self.inferior.iter().map(|i| i.pid).chain(self.parked.keys().copied()).collect()
    }

    /// Makes `pid` the current process: a parked one, or a forked child
    /// kept for gdb (adopted as a process of its own). The current one is
    /// parked. False when `pid` is neither.
    pub(crate) fn make_current(&mut self, pid: i32) -> Result<bool, ServerError> {
        if self.inferior.as_ref().is_some_and(|i| i.pid == pid) {
            return Ok(true);
        }
        let (incoming, inherited) = match self.parked.remove(&pid) {
            Some(parked) => (parked, None),
            None => match self.kept_children.remove(&pid) {
                Some(held) => {
                    // A vfork child runs in its parent's memory: breakpoints
                    // gdb took out of the parent, which the engine keeps
                    // until the next resume, go for real before gdb plants
                    // the child's own at the same places.
                    self.retire_breakpoints_taken_out(false);
                    (self.adopt_kept_child(pid, held)?, Some(self.debug_register_use()))
                }
                None => return Ok(false),
            },
        };
        debug_log!(self, "process {pid} is current now");
        if let Some(outgoing) = self.park_current() {
            self.parked.insert(outgoing.inferior.pid, outgoing);
        }
        self.unpark(incoming);
        if let Some(inherited) = inherited {
            self.inherit_debug_registers(&inherited);
        }
        Ok(true)
    }

    /// A kept child, stopped at its first event, as a process of its own
    /// started the way its parent was.
    fn adopt_kept_child(&mut self, pid: i32, held: Option<Event>) -> Result<ParkedProcess, ServerError> {
        let stop_event = match held {
            Some(event) => event,
            None => self.first_event_of(pid)?,
        };
        if self.reported_fork_child == Some(pid) {
            self.reported_fork_child = None;
        }
        let parent = self.inferior.as_ref().or_else(|| self.parked.values().next().map(|p| &p.inferior));
        let (origin, argv) = parent.map_or((Origin::Launched, Vec::new()), |p| (p.origin, p.argv.clone()));
        Ok(ParkedProcess::new(Inferior { pid, origin, argv }, Some(stop_event)))
    }

    /// The current process's hardware breakpoints and watchpoints.
    pub(crate) fn debug_register_use(&self) -> DebugRegisterUse {
        DebugRegisterUse {
            breakpoints: self.points.hardware.keys().copied().collect(),
            watchpoints: self.points.watch.keys().copied().collect(),
        }
    }

    /// Puts a parent's hardware breakpoints and watchpoints in the current
    /// process, its fork child.
    pub(crate) fn inherit_debug_registers(&mut self, inherited: &DebugRegisterUse) {
        let Some(pid) = self.inferior.as_ref().map(|i| i.pid) else { return };
        for &address in &inherited.breakpoints {
            match self.session.add_hardware_breakpoint(pid, address) {
                Ok(id) => {
                    self.points.hardware.insert(address, id);
                }
                Err(e) => debug_log!(self, "hardware breakpoint at {address:#x} in child {pid}: {e}"),
            }
        }
        for &(address, length, write_only) in &inherited.watchpoints {
            let access = if write_only { WatchAccess::Write } else { WatchAccess::ReadWrite };
            match self.session.add_watchpoint(pid, address, length, access) {
                Ok(id) => {
                    self.points.watch.insert((address, length, write_only), id);
                }
                Err(e) => debug_log!(self, "watchpoint at {address:#x} in child {pid}: {e}"),
            }
        }
    }

    fn park_current(&mut self) -> Option<ParkedProcess> {
        let inferior = self.inferior.take()?;
        self.stepping = None;
        self.scheduler_locked = false;
        self.resumed_threads.clear();
        Some(ParkedProcess {
            inferior,
            stop_event: self.stop_event.take(),
            points: std::mem::take(&mut self.points),
            syscall_catch_id: self.syscall_catch_id.take(),
            pending_vfork_done: std::mem::take(&mut self.pending_vfork_done),
            running: false,
            unreported: std::mem::take(&mut self.stop_unreported),
        })
    }

    fn unpark(&mut self, parked: ParkedProcess) {
        self.inferior = Some(parked.inferior);
        self.stop_event = parked.stop_event;
        self.points = parked.points;
        self.syscall_catch_id = parked.syscall_catch_id;
        self.pending_vfork_done = parked.pending_vfork_done;
        self.stop_unreported = parked.unreported;
    }

    /// Parks the current process for one gdb starts or attaches beside it
    /// (a new inferior, `add-inferior` then `run` or `attach`).
    pub(crate) fn park_for_a_new_process(&mut self) {
        if let Some(outgoing) = self.park_current() {
            debug_log!(self, "process {} waits parked beside a new one", outgoing.inferior.pid);
            self.parked.insert(outgoing.inferior.pid, outgoing);
        }
    }

    /// `D;PID` of a parked process: it goes, free of breakpoints. False
    /// when `pid` is not parked.
    pub(crate) fn detach_parked(&mut self, pid: i32) -> bool {
        let Some(parked) = self.parked.remove(&pid) else { return false };
        self.restore_raw_breakpoints(pid, parked.points.raw);
        self.let_process_go(pid);
        true
    }

    /// `vKill;PID` of a parked process: it dies, and its end is taken
    /// here. False when `pid` is not parked.
    pub(crate) fn kill_parked(&mut self, pid: i32) -> Result<bool, ServerError> {
        if self.parked.remove(&pid).is_none() {
            return Ok(false);
        }
        self.kill_and_reap(pid)?;
        Ok(true)
    }

    /// Every parked process goes: killed, let go, or each as it came.
    pub(crate) fn release_parked(&mut self, how: Release) -> Result<(), ServerError> {
        for pid in self.parked_pids() {
            let launched = self.parked.get(&pid).is_some_and(|p| p.inferior.origin == Origin::Launched);
            let kill = match how {
                Release::Kill => true,
                Release::Detach => false,
                Release::AsStarted => launched,
            };
            if kill {
                self.kill_parked(pid)?;
            } else {
                self.detach_parked(pid);
            }
        }
        Ok(())
    }

    /// Kills `pid` and takes its end, continuing any other process's events meanwhile.
    pub(crate) fn kill_and_reap(&mut self, pid: i32) -> Result<(), ServerError> {
        self.session.kill(pid)?;
        let deadline = Instant::now() + END_WAIT;
        while Instant::now() < deadline {
            let Some(event) = self.session.wait_event(Some(Duration::from_millis(100)))? else { continue };
            let done = event.pid == pid && matches!(event.kind, EventKind::ProcessExited { .. });
            if event.pid == pid {
                let _ = self.session.continue_process(pid, ContinueStatus::Handled);
            } else {
                self.on_other_process_event(event)?;
            }
            if done {
                break;
            }
        }
        Ok(())
    }
}
