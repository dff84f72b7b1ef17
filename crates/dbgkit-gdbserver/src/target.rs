//! The debugged process as gdbstub sees it: registers, memory, threads,
//! breakpoints and watchpoints, all through the engine's `Session`.
//!
//! The stop gdb looks at is an engine event left in flight: while it is not
//! continued, every thread of the process stays stopped. Resuming continues
//! it (or steps one thread); the events gdb has no use for (modules, thread
//! creation, the engine's own stops) are continued on the spot.

use crate::arch::{regnum, GdbRegId, GdbRegisters, X86_64Linux};
use crate::processes::Release;
use crate::run_control::{ResumePlan, ThreadAction};
use crate::stop_reply::Expedited;
use dbgkit::{ContinueStatus, Event, EventKind, FpRegisters, Session, SpawnOptions, WatchAccess};
use gdbstub::common::{Signal, Tid};
use gdbstub::stub::MultiThreadStopReason;
use gdbstub::target::ext::base::multithread::{
    MultiThreadBase, MultiThreadRangeStepping, MultiThreadRangeSteppingOps, MultiThreadResume, MultiThreadResumeOps,
    MultiThreadSchedulerLocking, MultiThreadSchedulerLockingOps, MultiThreadSingleStep, MultiThreadSingleStepOps,
};
use gdbstub::target::ext::base::single_register_access::{SingleRegisterAccess, SingleRegisterAccessOps};
use gdbstub::target::ext::base::BaseOps;
use gdbstub::target::ext::breakpoints::{
    Breakpoints, BreakpointsOps, HwBreakpoint, HwBreakpointOps, HwWatchpoint, HwWatchpointOps, SwBreakpoint,
    SwBreakpointOps, WatchKind,
};
use gdbstub::target::ext::catch_syscalls::CatchSyscallPosition;
use gdbstub::target::{Target, TargetError, TargetResult};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::num::NonZeroUsize;
use std::path::PathBuf;

/// Errors that end the debugging connection (everything else is an `E`
/// reply and the server goes on).
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("{0}")]
    Engine(#[from] dbgkit::Error),
    #[error("{0}")]
    Link(#[from] crate::connection::LinkError),
    #[error("{0}")]
    Usage(String),
}

/// How the current process came to be debugged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    Launched,
    Attached,
}

/// The process being debugged.
#[derive(Clone, Debug)]
pub struct Inferior {
    pub pid: i32,
    pub origin: Origin,
    pub argv: Vec<String>,
}

/// The breakpoints and watchpoints gdb put in one process.
#[derive(Debug, Default)]
pub(crate) struct GdbPoints {
    /// Software breakpoints by address. gdb takes every breakpoint out at
    /// each stop and puts them back before it resumes; one taken out keeps
    /// its engine breakpoint (its byte stays, hidden from reads) and is only
    /// marked, so putting it back costs nothing. One still out at the next
    /// resume but one is removed for real.
    pub software: HashMap<u64, GdbBreakpoint>,
    /// Hardware breakpoints: engine ids by address.
    pub hardware: HashMap<u64, u32>,
    /// Watchpoints: engine ids by (address, length, write only).
    pub watch: HashMap<(u64, u64, bool), u32>,
    /// Breakpoints the engine would not plant (outside executable memory,
    /// as gdb's return address for calls it makes, on the stack): a plain
    /// `int3` written in, with the byte it replaced.
    pub raw: BTreeMap<u64, u8>,
    /// Conditions and commands gdb gave with breakpoints, by address.
    pub options: HashMap<u64, crate::breakpoint_options::BreakpointOptions>,
}

/// One of gdb's software breakpoints.
#[derive(Clone, Copy, Debug)]
pub(crate) struct GdbBreakpoint {
    id: u32,
    /// gdb has it inserted (`Z0`) rather than taken out (`z0`).
    inserted: bool,
    /// The resume count when gdb took it out.
    removed_at: u64,
}

/// Stops whose reply the server writes itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SpecialStop {
    Exec {
        tid: i32,
        image: PathBuf,
    },
    Fork {
        tid: i32,
        child: i32,
    },
    VFork {
        tid: i32,
        child: i32,
    },
    /// The vfork child no longer shares the parent's memory (it exec'd or exited).
    VForkDone {
        tid: i32,
    },
    /// Every thread gdb resumed (with the others locked) has exited: `N`,
    /// as gdbserver says it; the other threads stay stopped.
    NoResumed,
}

/// A vfork gdb was told about, whose end (`vforkdone`) is still to report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PendingVforkDone {
    pub tid: i32,
    pub child: i32,
    /// The child's memory map identity at the vfork (its `/proc` exe link):
    /// it changes when the child execs.
    pub shared_exe: Option<u64>,
}

impl PendingVforkDone {
    /// Whether the child has let go of the parent's memory (it exec'd or
    /// exited). The parent cannot run before that anyway; gdb reinserts its
    /// breakpoints once told.
    pub fn child_let_go(&self) -> bool {
        let exited = crate::info::task_ended(&format!("/proc/{}/stat", self.child)).unwrap_or(true);
        exited || exe_identity(self.child) != self.shared_exe
    }
}

/// How a process ended, for the stop reply and the server's messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    Exited(i32),
    Killed(i32),
}

/// Settings of programs launched from now on (gdb's `Q` packets and the command line).
#[derive(Clone, Debug, Default)]
pub struct LaunchSettings {
    pub disable_aslr: bool,
    pub env: Vec<(String, Option<String>)>,
    pub env_reset: bool,
    pub cwd: Option<PathBuf>,
}

/// The engine behind the protocol.
pub struct ServerTarget {
    pub session: Session,
    pub inferior: Option<Inferior>,
    /// The event gdb sees as the current stop (in flight: the process is stopped).
    pub(crate) stop_event: Option<Event>,
    /// The last process that ended, until gdb has been told.
    pub ending: Option<Ending>,
    /// The process that ended last, for its `W`/`X` reply (the current
    /// one is forgotten by then).
    pub(crate) ended_pid: Option<i32>,
    pub(crate) plan: ResumePlan,
    /// The thread stepping now (single or range step) and its range.
    pub(crate) stepping: Option<(i32, Option<(u64, u64)>)>,
    /// The last resume asked the other threads to stay stopped.
    pub(crate) scheduler_locked: bool,
    /// The threads the last resume ran, when not all of them (scheduler
    /// locking): a break-in is reported for one of these, as gdb expects.
    pub(crate) resumed_threads: Vec<i32>,
    /// What gdb put in the current process: breakpoints and watchpoints.
    pub(crate) points: GdbPoints,
    /// Resumes so far (for the age of breakpoints gdb took out).
    pub(crate) resumes: u64,
    /// Signals gdb said to pass without stopping (`QPassSignals`).
    pub pass_signals: HashSet<i32>,
    pub launch: LaunchSettings,
    /// Extended mode (`--multi` or `!`): the server outlives its processes.
    pub extended: bool,
    /// Log what happens on stderr (`--debug`).
    pub debug: bool,
    /// Files opened by the client through `vFile:open`.
    pub(crate) files: BTreeMap<u32, std::fs::File>,
    /// The last program run, for `vRun` without a name and `R`.
    pub last_argv: Option<Vec<String>>,
    /// `monitor exit`: end the server when the connection closes.
    pub exit_requested: bool,
    /// A stop reply gdbstub cannot write (`exec`, or `fork` with the
    /// child's own pid), written by the server in its place.
    pub pending_special: Option<SpecialStop>,
    /// A stop that happened as the resume began, reported without running
    /// (a thread resumed on a breakpoint gdb has in: see `run_control`).
    pub immediate_stop: Option<MultiThreadStopReason<u64>>,
    /// The client understands `N` (no thread is running) as a stop reply.
    pub no_resumed: bool,
    /// The client asked for exec events in `qSupported`.
    pub exec_events: bool,
    /// The client speaks of several processes (`multiprocess+`): a new
    /// process (`vRun`, `vAttach`) joins the ones it has.
    pub multiprocess: bool,
    /// The client asked for fork events in `qSupported`.
    pub fork_events: bool,
    /// The client asked for vfork events in `qSupported`.
    pub vfork_events: bool,
    /// After a reported vfork, gdb's resume waits for the child to let go of
    /// the shared memory; then `vforkdone` is reported. In non-stop mode
    /// several threads may each wait on their own vfork.
    pub pending_vfork_done: Vec<PendingVforkDone>,
    /// What `QCatchSyscalls` asked for: `None` nothing, an empty list every call.
    pub(crate) syscalls_to_catch: Option<Vec<u64>>,
    /// The engine's syscall catchpoint for it, in the debugged process.
    pub(crate) syscall_catch_id: Option<u32>,
    /// gdb's non-stop mode: which threads it sees stopped.
    pub non_stop: crate::non_stop::NonStop,
    /// Forked children kept stopped until gdb detaches or follows them,
    /// with the first event each is held at.
    pub(crate) kept_children: BTreeMap<i32, Option<Event>>,
    /// The child of the fork stop gdb was last told of, until it resumes:
    /// the one a detach of the parent follows.
    pub(crate) reported_fork_child: Option<i32>,
    /// A child whose parent gdb detached, until gdb selects one of its
    /// threads (it follows the child) or leaves; with its first event.
    /// gdb's hardware breakpoints and watchpoints of the parent go with it.
    pub(crate) child_to_follow: Option<(Inferior, Option<Event>, crate::processes::DebugRegisterUse)>,
    /// The last `qXfer:osdata` document made, by type, for gdb's reads of
    /// its further parts.
    pub(crate) osdata: Option<(String, String)>,
    /// Where threads last ran, for stop replies.
    cores: crate::info::ThreadCores,
    /// Processes gdb keeps beside the current one, each stopped at its
    /// own event (see `processes.rs`).
    pub(crate) parked: BTreeMap<i32, crate::processes::ParkedProcess>,
    /// The current process's `stop_event` is one gdb has not heard of (see
    /// `ParkedProcess::unreported`).
    pub(crate) stop_unreported: bool,
    /// The `vCont` being served names no process: every process runs.
    pub(crate) resume_every_process: bool,
    /// Processes stopped by a break-in that another stop overtook: the
    /// break-in, still to come, is not gdb's and goes unreported.
    pub(crate) stale_break_ins: BTreeSet<i32>,
    /// A Ctrl-C came while everything was stopped: the next resume is
    /// reported as a SIGINT stop instead of running.
    pub(crate) interrupt_pending: bool,
}

/// Logs on stderr when `--debug` is given.
#[macro_export]
macro_rules! debug_log {
    ($target:expr, $($arg:tt)*) => {
        if $target.debug {
            eprintln!("[dbgkit-gdbserver] {}", format_args!($($arg)*));
        }
    };
}

/// The inode of a process's executable: it changes when the process execs.
fn exe_identity(pid: i32) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(format!("/proc/{pid}/exe")).ok().map(|m| m.ino() ^ (m.dev() << 32))
}

/// Whether the leader thread of `pid` has exited while others live.
fn leader_is_zombie(pid: i32) -> bool {
    crate::info::task_ended(&format!("/proc/{pid}/task/{pid}/stat")).unwrap_or(false)
}

/// Whether task `tid` lives (it may lead a thread group of its own: a
/// `clone` sharing the memory without `CLONE_THREAD`, a thread to gdb); one
/// that ended and is not reaped yet does not.
fn task_is_alive(tid: i32) -> bool {
    crate::info::task_ended(&format!("/proc/{tid}/stat")) == Some(false)
}

pub(crate) fn tid_of(tid: Tid) -> i32 {
    tid.get() as i32
}

pub(crate) fn to_tid(tid: i32) -> Tid {
    NonZeroUsize::new(tid.max(1) as usize).expect("positive")
}

impl ServerTarget {
    pub fn new(debug: bool) -> ServerTarget {
        ServerTarget {
            session: Session::new(),
            inferior: None,
            stop_event: None,
            ending: None,
            ended_pid: None,
            plan: ResumePlan::default(),
            stepping: None,
            scheduler_locked: false,
            resumed_threads: Vec::new(),
            points: GdbPoints::default(),
            resumes: 0,
            pass_signals: HashSet::new(),
            launch: LaunchSettings { disable_aslr: true, ..Default::default() },
            extended: false,
            debug,
            files: BTreeMap::new(),
            last_argv: None,
            exit_requested: false,
            pending_special: None,
            immediate_stop: None,
            no_resumed: false,
            exec_events: false,
            multiprocess: false,
            fork_events: false,
            vfork_events: false,
            pending_vfork_done: Vec::new(),
            syscalls_to_catch: None,
            syscall_catch_id: None,
            non_stop: Default::default(),
            kept_children: BTreeMap::new(),
            reported_fork_child: None,
            child_to_follow: None,
            parked: BTreeMap::new(),
            stop_unreported: false,
            resume_every_process: false,
            stale_break_ins: BTreeSet::new(),
            interrupt_pending: false,
            osdata: None,
            cores: Default::default(),
        }
    }

    /// The pid of the debugged process, or a non-fatal error.
    pub(crate) fn pid(&self) -> TargetResult<i32, Self> {
        self.inferior.as_ref().map(|i| i.pid).ok_or(TargetError::Errno(3))
    }

    /// Turns an engine failure into an `E` reply, logged with `--debug`.
    pub(crate) fn soft<T>(&self, what: &str, result: dbgkit::Result<T>) -> TargetResult<T, Self> {
        result.map_err(|e| {
            debug_log!(self, "{what}: {e}");
            let errno = e.raw_os_error().unwrap_or(match e {
                dbgkit::Error::UnmappedMemory { .. } => libc::EFAULT,
                dbgkit::Error::NoSuchThread { .. } | dbgkit::Error::NotDebugged(_) => libc::ESRCH,
                _ => libc::EINVAL,
            });
            TargetError::Errno(errno.clamp(1, 255) as u8)
        })
    }

    /// Launches `argv` stopped at its first instruction, as gdbserver does.
    pub fn launch(&mut self, argv: &[String]) -> Result<i32, ServerError> {
        let mut options = SpawnOptions::new(argv).disable_aslr(self.launch.disable_aslr).own_process_group(true);
        if self.launch.env_reset {
            options = options.env_clear();
            for (key, value) in std::env::vars() {
                options = options.env(key, value);
            }
        }
        for (key, value) in &self.launch.env {
            // An unset variable is given an empty value: SpawnOptions only adds.
            options = options.env(key, value.as_deref().unwrap_or(""));
        }
        if let Some(dir) = &self.launch.cwd {
            options = options.cwd(dir);
        }
        let pid = self.session.spawn(&options)?;
        crate::terminal::give_to(pid);
        self.inferior = Some(Inferior { pid, origin: Origin::Launched, argv: argv.to_vec() });
        self.settle(pid)?;
        self.apply_syscall_catch()?;
        Ok(pid)
    }

    /// Attaches to a running process and stops it.
    pub fn attach(&mut self, pid: i32) -> Result<(), ServerError> {
        self.session.attach(pid)?;
        let argv = std::fs::read_to_string(format!("/proc/{pid}/cmdline"))
            .map(|s| s.split('\0').filter(|a| !a.is_empty()).map(str::to_string).collect())
            .unwrap_or_default();
        self.inferior = Some(Inferior { pid, origin: Origin::Attached, argv });
        self.settle(pid)?;
        Ok(self.apply_syscall_catch()?)
    }

    /// Continues the start-up events of a new process and leaves it held
    /// at a break-in, the stop gdb finds when it connects.
    fn settle(&mut self, pid: i32) -> Result<(), ServerError> {
        self.ending = None;
        self.session.break_in(pid)?;
        loop {
            let Some(event) = self.session.wait_event(None)? else { continue };
            if event.pid != pid {
                self.session.continue_event(ContinueStatus::Handled)?;
                continue;
            }
            if event.kind == EventKind::BreakIn {
                self.stop_event = Some(event);
                return Ok(());
            }
            if let EventKind::ProcessExited { code, signal } = event.kind {
                self.session.continue_event(ContinueStatus::Handled)?;
                self.forget_inferior(code, signal);
                return Err(ServerError::Usage(format!("process {pid} ended before it could be stopped")));
            }
            self.session.continue_event(ContinueStatus::Handled)?;
        }
    }

    fn forget_inferior(&mut self, code: Option<i32>, signal: Option<i32>) {
        self.ended_pid = self.inferior.as_ref().map(|i| i.pid);
        if let Some(pid) = self.ended_pid {
            self.stale_break_ins.remove(&pid);
        }
        self.release_kept_children(false);
        self.inferior = None;
        self.syscall_catch_id = None;
        self.stop_event = None;
        self.stop_unreported = false;
        self.interrupt_pending = false;
        self.stepping = None;
        self.points = GdbPoints::default();
        self.ending = Some(match signal {
            Some(signal) => Ending::Killed(signal),
            None => Ending::Exited(code.unwrap_or(0)),
        });
    }

    /// Kills the process and waits until it is gone.
    pub fn kill_inferior(&mut self) -> Result<(), ServerError> {
        let Some(inferior) = self.inferior.clone() else { return Ok(()) };
        self.release_kept_children(true);
        self.session.kill(inferior.pid)?;
        self.drain_until_exit(inferior.pid)
    }

    fn drain_until_exit(&mut self, pid: i32) -> Result<(), ServerError> {
        loop {
            match self.session.wait_event(Some(std::time::Duration::from_secs(5))) {
                Ok(Some(event)) => {
                    let exited = event.pid == pid && matches!(event.kind, EventKind::ProcessExited { .. });
                    let _ = self.session.continue_event(ContinueStatus::Handled);
                    if let (true, EventKind::ProcessExited { code, signal }) = (exited, event.kind) {
                        self.forget_inferior(code, signal);
                        return Ok(());
                    }
                }
                Ok(None) => {}
                Err(dbgkit::Error::NoProcesses) => {
                    self.forget_inferior(None, Some(libc::SIGKILL));
                    return Ok(());
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Detaches from the process: breakpoints out, left running.
    pub fn detach_inferior(&mut self) -> Result<(), ServerError> {
        self.detach_inferior_keeping(None)
    }

    /// Detaches the process debugged, and with it every child the engine
    /// follows that gdb never heard of (its fork not reported yet), but
    /// `keep`, a child gdb may follow next.
    pub fn detach_inferior_keeping(&mut self, keep: Option<i32>) -> Result<(), ServerError> {
        let Some(pid) = self.inferior.as_ref().map(|i| i.pid) else { return Ok(()) };
        let raw = std::mem::take(&mut self.points.raw);
        self.restore_raw_breakpoints(pid, raw);
        let Some(inferior) = self.inferior.take() else { return Ok(()) };
        self.release_kept_children(false);
        self.stop_event = None;
        self.stepping = None;
        // The raw breakpoints were restored above.
        self.points = GdbPoints::default();
        self.session.detach(inferior.pid)?;
        for other in self.session.processes() {
            // Processes gdb keeps beside this one stay.
            if Some(other) != keep && !self.is_parked(other) {
                self.let_process_go(other);
            }
        }
        Ok(())
    }

    /// Detaches a process gdb lets go of (a forked child, or one of several
    /// processes), saying so on standard error as gdbserver does. One that
    /// already went is only logged.
    pub(crate) fn let_process_go(&mut self, pid: i32) {
        eprintln!("Detaching from process {pid}");
        if let Err(e) = self.session.detach(pid) {
            debug_log!(self, "detaching process {pid}: {e}");
        }
    }

    /// The engine takes its own breakpoints out; the raw ones are ours to restore.
    pub(crate) fn restore_raw_breakpoints(&mut self, pid: i32, raw: BTreeMap<u64, u8>) {
        for (address, byte) in raw {
            // Best effort: the page may be gone.
            let _ = self.session.write_memory(pid, address, &[byte]);
        }
    }

    /// What the client leaving means for the processes: launched ones are
    /// killed, attached ones detached (as gdbserver does).
    pub fn abandon(&mut self) -> Result<(), ServerError> {
        self.let_unfollowed_child_go();
        self.release_parked(Release::AsStarted)?;
        match self.inferior.as_ref().map(|i| i.origin) {
            Some(Origin::Launched) => self.kill_inferior(),
            Some(Origin::Attached) => self.detach_inferior(),
            None => Ok(()),
        }
    }

    /// Leaves the process stopped at an event for a client to come: a
    /// running one is broken into (its other events are continued).
    pub fn hold_for_next_client(&mut self) -> Result<(), ServerError> {
        // No one to tell of forks until a client asks again.
        self.release_kept_children(false);
        self.release_parked(Release::Detach)?;
        self.session.set_follow_children(false);
        self.stepping = None;
        self.pending_vfork_done.clear();
        while self.inferior.is_some() && self.stop_event.is_none() {
            self.interrupt()?;
            let Some(event) = self.session.wait_event(Some(std::time::Duration::from_secs(5)))? else { continue };
            self.on_event(event)?;
        }
        Ok(())
    }

    /// Stops the running process (Ctrl-C); its `BreakIn` event follows.
    pub fn interrupt(&mut self) -> Result<(), ServerError> {
        if let Some(pid) = self.inferior.as_ref().map(|i| i.pid) {
            if !self.session.is_stopped(pid)? {
                self.session.break_in(pid)?;
                return Ok(());
            }
        }
        // The current process is held (a vfork parent waiting for its
        // child): one running beside it stops instead.
        if let Some(pid) = self.parked_running() {
            self.session.break_in(pid)?;
            return Ok(());
        }
        // Nothing runs: the Ctrl-C came between two packets (gdb stepping
        // for a software watchpoint, say). The next resume stops at once
        // with SIGINT, as gdbserver's SIGINT to the stopped process makes it.
        self.interrupt_pending = self.inferior.is_some();
        Ok(())
    }

    /// What to send with thread `tid`'s stop reply (see [`Expedited`]).
    pub fn expedited(&mut self, tid: i32) -> Expedited {
        let Some(pid) = self.inferior.as_ref().map(|i| i.pid) else { return Expedited::default() };
        self.expedited_in(pid, tid)
    }

    /// [`expedited`](Self::expedited) for a thread of any process.
    pub fn expedited_in(&mut self, pid: i32, tid: i32) -> Expedited {
        let registers = match self.session.registers(pid, tid) {
            Ok(regs) => vec![
                (GdbRegId(regnum::RBP), regs.rbp.to_le_bytes().to_vec()),
                (GdbRegId(regnum::RSP), regs.rsp.to_le_bytes().to_vec()),
                (GdbRegId(regnum::RIP), regs.rip.to_le_bytes().to_vec()),
            ],
            Err(_) => Vec::new(),
        };
        Expedited { registers, core: self.cores.of(pid, tid) }
    }

    /// Translates an engine event: `Some` stop reason to report to gdb
    /// (the event stays in flight), or `None` when it was continued.
    pub fn on_event(&mut self, event: Event) -> Result<Option<MultiThreadStopReason<u64>>, ServerError> {
        let tid = to_tid(event.tid);
        if self.inferior.as_ref().map(|i| i.pid) != Some(event.pid) {
            // A process running beside the current one (`schedule-multiple`)
            // that stops is the one gdb hears of.
            self.take_running_process_in(event.pid);
        }
        if self.inferior.as_ref().is_some_and(|i| i.pid != event.pid) {
            self.on_other_process_event(event)?;
            return Ok(None);
        }
        let reason = match &event.kind {
            EventKind::ProcessExited { code, signal } => {
                self.session.continue_event(ContinueStatus::Handled)?;
                if self.inferior.is_none() {
                    return Ok(None);
                }
                self.forget_inferior(*code, *signal);
                return Ok(Some(match signal {
                    Some(signal) => MultiThreadStopReason::Terminated(Signal(crate::signals::to_gdb(*signal))),
                    None => MultiThreadStopReason::Exited(code.unwrap_or(0) as u8),
                }));
            }
            EventKind::ThreadExited { .. }
                if self.scheduler_locked
                    && self.no_resumed
                    && self.resumed_threads.contains(&event.tid)
                    && self.resumed_threads.len() == 1
                    && self.other_thread_lives(event.pid, event.tid) =>
            {
                // The last thread that ran under the lock is gone: the others
                // must not run instead; gdb hears that nothing runs (`N`).
                // (When it was the last of all, the process's end is told.)
                self.resumed_threads.clear();
                self.pending_special = Some(SpecialStop::NoResumed);
                let live = self.session.threads(event.pid).ok().and_then(|t| t.into_iter().find(|&t| t != event.tid));
                MultiThreadStopReason::SignalWithThread {
                    tid: to_tid(live.unwrap_or(event.pid)),
                    signal: Signal::SIGTRAP,
                }
            }
            EventKind::ThreadExited { .. } if self.scheduler_locked => {
                self.resumed_threads.retain(|&t| t != event.tid);
                debug_log!(self, "continuing the exit of locked thread {}", event.tid);
                self.continue_stop(ContinueStatus::Handled)?;
                return Ok(None);
            }
            EventKind::ModuleUnloaded(module) => {
                self.forget_breakpoints_in(module.base, module.size);
                self.continue_stop(ContinueStatus::Handled)?;
                return Ok(None);
            }
            EventKind::ProcessCreated { .. }
            | EventKind::ThreadCreated { .. }
            | EventKind::ThreadExited { .. }
            | EventKind::ModuleLoaded(_) => {
                debug_log!(self, "continuing {} of thread {}", event.kind.name(), event.tid);
                self.continue_stop(ContinueStatus::Handled)?;
                return Ok(None);
            }
            EventKind::Fork { child, vfork } => {
                let vfork = *vfork;
                let wanted = if vfork { self.vfork_events } else { self.fork_events };
                if !wanted {
                    self.let_child_go(*child);
                    self.continue_stop(ContinueStatus::Handled)?;
                    return Ok(None);
                }
                // The child, cleaned of breakpoints, waits stopped for gdb
                // to detach or follow it.
                self.keep_child(*child);
                self.pending_special = Some(if vfork {
                    self.pending_vfork_done.retain(|p| p.tid != event.tid);
                    self.pending_vfork_done.push(PendingVforkDone {
                        tid: event.tid,
                        child: *child,
                        shared_exe: exe_identity(*child),
                    });
                    SpecialStop::VFork { tid: event.tid, child: *child }
                } else {
                    SpecialStop::Fork { tid: event.tid, child: *child }
                });
                MultiThreadStopReason::SignalWithThread { tid, signal: Signal::SIGTRAP }
            }
            EventKind::Exec { image } => {
                // The old image's breakpoints went with it.
                self.points = GdbPoints::default();
                if !self.exec_events {
                    self.continue_stop(ContinueStatus::Handled)?;
                    return Ok(None);
                }
                self.pending_special = Some(SpecialStop::Exec { tid: event.tid, image: image.clone() });
                MultiThreadStopReason::SignalWithThread { tid, signal: Signal::SIGTRAP }
            }
            EventKind::Exception { signal: libc::SIGTRAP, address, .. }
                if self.points.raw.contains_key(&address.wrapping_sub(1)) =>
            {
                // One of our plain int3s: back to the breakpoint address, as gdb expects.
                let pid = event.pid;
                if let Ok(mut regs) = self.session.registers(pid, event.tid) {
                    regs.rip = address.wrapping_sub(1);
                    self.session.set_registers(pid, event.tid, &regs)?;
                }
                MultiThreadStopReason::SwBreak(tid)
            }
            EventKind::Exception { first_chance: false, .. } => {
                // gdb saw the first chance and passed the signal on.
                self.continue_stop(ContinueStatus::NotHandled)?;
                return Ok(None);
            }
            // A passed signal goes on unseen, except to a thread gdb steps
            // (gdb steps over the handler itself, as gdbserver leaves it to).
            EventKind::Exception { signal, .. }
                if self.pass_signals.contains(signal)
                    && !self.is_stepping(event.tid)
                    && !self.fault_at_gdb_breakpoint(event.pid, event.tid, *signal) =>
            {
                self.continue_stop(ContinueStatus::NotHandled)?;
                return Ok(None);
            }
            EventKind::Exception { signal, .. } => {
                MultiThreadStopReason::SignalWithThread { tid, signal: Signal(crate::signals::to_gdb(*signal)) }
            }
            EventKind::StepComplete { address } => match self.stepping {
                Some((stepper, Some((start, end)))) if stepper == event.tid && (start..end).contains(address) => {
                    // Still inside the range: step again without telling gdb.
                    let others = crate::run_control::others(self.scheduler_locked);
                    self.session.step_thread(event.pid, event.tid, ContinueStatus::Handled, others)?;
                    return Ok(None);
                }
                Some((stepper, _)) if stepper == event.tid => {
                    MultiThreadStopReason::SignalWithThread { tid, signal: Signal::SIGTRAP }
                }
                _ => {
                    // A step gdb no longer waits for (another event came first).
                    self.continue_stop(ContinueStatus::Handled)?;
                    return Ok(None);
                }
            },
            EventKind::Breakpoint { id, address } => {
                let stepping = self.steps_in_all_stop(event.tid);
                let taken_out = self.is_taken_out(*id);
                if !stepping && (taken_out || self.hit_is_silent(event.pid, event.tid, *address)) {
                    // gdb took this breakpoint out, or its condition is
                    // false: the thread runs through it.
                    self.continue_stop(ContinueStatus::Handled)?;
                    return Ok(None);
                }
                if stepping {
                    // A step that landed on a breakpoint: a plain trap, as
                    // gdbserver reports it; gdb finds its breakpoint there.
                    MultiThreadStopReason::SignalWithThread { tid, signal: Signal::SIGTRAP }
                } else {
                    MultiThreadStopReason::SwBreak(tid)
                }
            }
            EventKind::Watchpoint { access: WatchAccess::Execute, address, .. } => {
                if !self.steps_in_all_stop(event.tid) && self.hit_is_silent(event.pid, event.tid, *address) {
                    self.continue_stop(ContinueStatus::Handled)?;
                    return Ok(None);
                }
                MultiThreadStopReason::HwBreak(tid)
            }
            EventKind::Watchpoint { access, address, .. } => MultiThreadStopReason::Watch {
                tid,
                kind: match access {
                    WatchAccess::Write => WatchKind::Write,
                    WatchAccess::Read => WatchKind::Read,
                    _ => WatchKind::ReadWrite,
                },
                addr: *address,
            },
            EventKind::BreakIn if self.stale_break_ins.remove(&event.pid) => {
                debug_log!(self, "dropping the break-in another stop of process {} overtook", event.pid);
                self.continue_stop(ContinueStatus::Handled)?;
                return Ok(None);
            }
            EventKind::BreakIn if self.locked_leader_gone() => {
                // The leader ran alone under the lock and exited: as for any
                // locked thread's end, gdb hears that nothing runs (`N`).
                self.resumed_threads.clear();
                self.pending_special = Some(SpecialStop::NoResumed);
                let live = self.live_threads(event.pid);
                MultiThreadStopReason::SignalWithThread {
                    tid: to_tid(live.first().copied().unwrap_or(event.tid)),
                    signal: Signal::SIGTRAP,
                }
            }
            EventKind::BreakIn => {
                // A leader that exited (a zombie) has no registers: a live thread is told instead.
                let live = self.live_threads(event.pid);
                let reported = match self.resumed_threads.first() {
                    Some(&first) if !self.resumed_threads.contains(&event.tid) => to_tid(first),
                    _ if !live.contains(&event.tid) => to_tid(live.first().copied().unwrap_or(event.tid)),
                    _ => tid,
                };
                MultiThreadStopReason::SignalWithThread { tid: reported, signal: Signal::SIGINT }
            }
            EventKind::SyscallEntry { number, .. } => MultiThreadStopReason::CatchSyscall {
                tid: Some(tid),
                number: *number,
                position: CatchSyscallPosition::Entry,
            },
            EventKind::SyscallExit { number, .. } => MultiThreadStopReason::CatchSyscall {
                tid: Some(tid),
                number: *number,
                position: CatchSyscallPosition::Return,
            },
            // An event kind this server does not know: a plain trap, so gdb stops and looks.
            _ => MultiThreadStopReason::SignalWithThread { tid, signal: Signal::SIGTRAP },
        };
        self.stepping = None;
        self.stop_event = Some(event);
        Ok(Some(reason))
    }

    /// Continues the stop the engine holds: every thread runs (all-stop),
    /// or in non-stop mode only the threads gdb believes running.
    pub(crate) fn continue_stop(&mut self, status: ContinueStatus) -> dbgkit::Result<()> {
        match self.inferior.as_ref().map(|i| i.pid) {
            Some(pid) if self.non_stop.enabled => self.resume_as_gdb_sees(pid, status),
            _ => self.session.continue_event(status),
        }
    }

    /// Non-stop: continues the held event of `pid` with the threads gdb
    /// sees running resumed (stepping ones stepping) and the rest stopped.
    pub(crate) fn resume_as_gdb_sees(&mut self, pid: i32, status: ContinueStatus) -> dbgkit::Result<()> {
        let pending = std::mem::take(&mut self.pending_vfork_done);
        let result = self.resume_threads_as_gdb_sees(pid, &pending, status);
        self.pending_vfork_done = pending;
        result
    }

    /// [`resume_as_gdb_sees`](Self::resume_as_gdb_sees) for any process,
    /// with the vforks its threads wait on.
    pub(crate) fn resume_threads_as_gdb_sees(
        &mut self,
        pid: i32,
        pending_vfork_done: &[PendingVforkDone],
        status: ContinueStatus,
    ) -> dbgkit::Result<()> {
        let threads = self.session.threads(pid)?;
        let ns = &self.non_stop;
        // A vfork parent waits, parked, for its child to let go of the memory.
        let waiting_for_vfork = |t: i32| pending_vfork_done.iter().any(|p| p.tid == t);
        let running = |t: &&i32| !ns.stopped.contains_key(*t) && !waiting_for_vfork(**t);
        let stepping: Vec<i32> =
            threads.iter().filter(running).filter(|t| ns.steppers.contains_key(*t)).copied().collect();
        let free: Vec<i32> =
            threads.iter().filter(running).filter(|t| !ns.steppers.contains_key(*t)).copied().collect();
        match self.session.resume_threads_stepping(pid, &free, &stepping, status) {
            Err(e) if e.is_gone() => Ok(()),
            other => other,
        }
    }

    /// `tid` when it is a thread of the process; otherwise (a client that
    /// never selected a thread, or named one that is gone) the thread of the
    /// current stop. A thread of another process gdb has is refused: its
    /// registers are never answered with this process's.
    fn thread_or_current(&self, tid: i32) -> TargetResult<i32, Self> {
        let pid = self.pid()?;
        let has = |p: i32| self.session.threads(p).is_ok_and(|threads| threads.contains(&tid));
        if has(pid) {
            return Ok(tid);
        }
        if self.held_pids().into_iter().any(|p| p != pid && has(p)) {
            return Err(TargetError::Errno(libc::ESRCH as u8));
        }
        Ok(self.stop_event.as_ref().map(|e| e.tid).unwrap_or(pid))
    }

    pub(crate) fn read_all_registers(&mut self, tid: i32) -> TargetResult<GdbRegisters, Self> {
        let tid = self.thread_or_current(tid)?;
        let pid = self.pid()?;
        let regs = self.session.registers(pid, tid);
        let fp = self.session.fp_registers(pid, tid);
        // Without the general registers there is no pc to give: an error,
        // as gdbserver answers then too.
        let regs = self.soft("reading registers", regs)?;
        let vectors_gone = fp.is_err() && !task_is_alive(tid);
        let fp = if vectors_gone { FpRegisters::default() } else { self.soft("reading x87/SSE registers", fp)? };
        let mut all = GdbRegisters::from_engine(&regs, &fp);
        all.vectors_unavailable = vectors_gone;
        // A machine without AVX shows zeros there.
        all.ymmh = self.session.avx_upper_halves(pid, tid).unwrap_or_default();
        Ok(all)
    }

    fn write_all_registers(&mut self, tid: i32, values: &GdbRegisters) -> TargetResult<(), Self> {
        let tid = self.thread_or_current(tid)?;
        let pid = self.pid()?;
        let regs = self.session.registers(pid, tid);
        let mut regs = self.soft("reading registers", regs)?;
        let fp = self.session.fp_registers(pid, tid);
        let mut fp = self.soft("reading x87/SSE registers", fp)?;
        values.to_engine(&mut regs, &mut fp);
        let r = self.session.set_registers(pid, tid, &regs);
        self.soft("writing registers", r)?;
        let r = self.session.set_fp_registers(pid, tid, &fp);
        self.soft("writing x87/SSE registers", r)?;
        if self.session.avx_upper_halves(pid, tid).is_ok_and(|now| now != values.ymmh) {
            let r = self.session.set_avx_upper_halves(pid, tid, &values.ymmh);
            self.soft("writing AVX registers", r)?;
        }
        Ok(())
    }
}

impl Target for ServerTarget {
    type Arch = X86_64Linux;
    type Error = ServerError;

    fn base_ops(&mut self) -> BaseOps<'_, X86_64Linux, ServerError> {
        BaseOps::MultiThread(self)
    }

    fn support_breakpoints(&mut self) -> Option<BreakpointsOps<'_, Self>> {
        Some(self)
    }

    fn support_catch_syscalls(&mut self) -> Option<gdbstub::target::ext::catch_syscalls::CatchSyscallsOps<'_, Self>> {
        Some(self)
    }

    /// Always on for gdbstub, which otherwise numbers the process 1 in
    /// thread ids; whether the server behaves as in extended mode (outlives
    /// its processes) is `self.extended`.
    fn support_extended_mode(&mut self) -> Option<gdbstub::target::ext::extended_mode::ExtendedModeOps<'_, Self>> {
        Some(self)
    }

    fn support_libraries_svr4(&mut self) -> Option<gdbstub::target::ext::libraries::LibrariesSvr4Ops<'_, Self>> {
        Some(self)
    }

    fn support_exec_file(&mut self) -> Option<gdbstub::target::ext::exec_file::ExecFileOps<'_, Self>> {
        Some(self)
    }

    fn support_auxv(&mut self) -> Option<gdbstub::target::ext::auxv::AuxvOps<'_, Self>> {
        Some(self)
    }

    fn support_host_io(&mut self) -> Option<gdbstub::target::ext::host_io::HostIoOps<'_, Self>> {
        Some(self)
    }

    fn support_monitor_cmd(&mut self) -> Option<gdbstub::target::ext::monitor_cmd::MonitorCmdOps<'_, Self>> {
        Some(self)
    }

    fn support_host_info(&mut self) -> Option<gdbstub::target::ext::host_info::HostInfoOps<'_, Self>> {
        Some(self)
    }

    fn support_process_info(&mut self) -> Option<gdbstub::target::ext::process_info::ProcessInfoOps<'_, Self>> {
        Some(self)
    }

    fn guard_rail_implicit_sw_breakpoints(&self) -> bool {
        true
    }

    /// The engine lets forked children go undebugged: no fork events (gdb
    /// would otherwise try to detach, and remove breakpoints from, a child
    /// this server does not hold).
    fn use_fork_stop_reason(&self) -> bool {
        false
    }

    fn use_vfork_stop_reason(&self) -> bool {
        false
    }

    fn use_vforkdone_stop_reason(&self) -> bool {
        false
    }
}

impl MultiThreadBase for ServerTarget {
    fn read_registers(&mut self, regs: &mut GdbRegisters, tid: Tid) -> TargetResult<(), Self> {
        *regs = self.read_all_registers(tid_of(tid))?;
        Ok(())
    }

    fn write_registers(&mut self, regs: &GdbRegisters, tid: Tid) -> TargetResult<(), Self> {
        self.write_all_registers(tid_of(tid), regs)
    }

    fn support_single_register_access(&mut self) -> Option<SingleRegisterAccessOps<'_, Tid, Self>> {
        Some(self)
    }

    fn read_addrs(&mut self, start: u64, data: &mut [u8], _tid: Tid) -> TargetResult<usize, Self> {
        let pid = self.pid()?;
        let read = self.session.read_memory_partial(pid, start, data);
        let n = self.soft("reading memory", read)?;
        if n == 0 {
            return Err(TargetError::Errno(libc::EFAULT as u8));
        }
        for (&address, &byte) in self.points.raw.range(start..start.saturating_add(n as u64)) {
            data[(address - start) as usize] = byte;
        }
        Ok(n)
    }

    fn write_addrs(&mut self, start: u64, data: &[u8], _tid: Tid) -> TargetResult<(), Self> {
        let pid = self.pid()?;
        let written = self.session.write_memory(pid, start, data);
        self.soft("writing memory", written)
    }

    /// A thread of any process gdb has (`T` names threads of parked ones too).
    fn is_thread_alive(&mut self, tid: Tid) -> Result<bool, ServerError> {
        let tid = tid_of(tid);
        Ok(self.held_pids().into_iter().any(|pid| self.live_threads(pid).contains(&tid)))
    }

    fn list_active_threads(&mut self, thread_is_active: &mut dyn FnMut(Tid)) -> Result<(), ServerError> {
        if let Some(pid) = self.inferior.as_ref().map(|i| i.pid) {
            for tid in self.live_threads(pid) {
                thread_is_active(to_tid(tid));
            }
        }
        Ok(())
    }

    fn support_resume(&mut self) -> Option<MultiThreadResumeOps<'_, Self>> {
        Some(self)
    }

    fn support_thread_extra_info(
        &mut self,
    ) -> Option<gdbstub::target::ext::thread_extra_info::ThreadExtraInfoOps<'_, Self>> {
        Some(self)
    }
}

impl SingleRegisterAccess<Tid> for ServerTarget {
    fn read_register(&mut self, tid: Tid, reg: GdbRegId, buf: &mut [u8]) -> TargetResult<usize, Self> {
        let regs = self.read_all_registers(tid_of(tid))?;
        if !regs.is_available(reg.0) {
            // gdbstub sends `xx` for each byte.
            return Ok(0);
        }
        let bytes = regs.register_bytes(reg.0).ok_or(TargetError::Errno(libc::EINVAL as u8))?;
        let n = bytes.len().min(buf.len());
        buf[..n].copy_from_slice(&bytes[..n]);
        Ok(n)
    }

    fn write_register(&mut self, tid: Tid, reg: GdbRegId, value: &[u8]) -> TargetResult<(), Self> {
        let mut regs = self.read_all_registers(tid_of(tid))?;
        if !regs.set_register_bytes(reg.0, value) {
            return Err(TargetError::Errno(libc::EINVAL as u8));
        }
        self.write_all_registers(tid_of(tid), &regs)
    }
}

impl MultiThreadResume for ServerTarget {
    fn resume(&mut self) -> Result<(), ServerError> {
        crate::run_control::resume(self)
    }

    fn clear_resume_actions(&mut self) -> Result<(), ServerError> {
        self.plan = ResumePlan::default();
        Ok(())
    }

    fn set_resume_action_continue(&mut self, tid: Tid, signal: Option<Signal>) -> Result<(), ServerError> {
        self.plan.actions.insert(tid_of(tid), ThreadAction::Continue(signal.map(|s| s.0)));
        Ok(())
    }

    fn support_single_step(&mut self) -> Option<MultiThreadSingleStepOps<'_, Self>> {
        Some(self)
    }

    fn support_range_step(&mut self) -> Option<MultiThreadRangeSteppingOps<'_, Self>> {
        Some(self)
    }

    fn support_scheduler_locking(&mut self) -> Option<MultiThreadSchedulerLockingOps<'_, Self>> {
        Some(self)
    }
}

impl MultiThreadSingleStep for ServerTarget {
    fn set_resume_action_step(&mut self, tid: Tid, signal: Option<Signal>) -> Result<(), ServerError> {
        self.plan.actions.insert(tid_of(tid), ThreadAction::Step(signal.map(|s| s.0)));
        Ok(())
    }
}

impl MultiThreadRangeStepping for ServerTarget {
    fn set_resume_action_range_step(&mut self, tid: Tid, start: u64, end: u64) -> Result<(), ServerError> {
        self.plan.actions.insert(tid_of(tid), ThreadAction::RangeStep(start, end));
        Ok(())
    }
}

impl MultiThreadSchedulerLocking for ServerTarget {
    fn set_resume_action_scheduler_lock(&mut self) -> Result<(), ServerError> {
        self.plan.locked = true;
        Ok(())
    }
}

impl Breakpoints for ServerTarget {
    fn support_sw_breakpoint(&mut self) -> Option<SwBreakpointOps<'_, Self>> {
        Some(self)
    }

    fn support_hw_breakpoint(&mut self) -> Option<HwBreakpointOps<'_, Self>> {
        Some(self)
    }

    fn support_hw_watchpoint(&mut self) -> Option<HwWatchpointOps<'_, Self>> {
        Some(self)
    }
}

impl SwBreakpoint for ServerTarget {
    fn add_sw_breakpoint(&mut self, addr: u64, _kind: usize) -> TargetResult<bool, Self> {
        if let Some(bp) = self.points.software.get_mut(&addr) {
            bp.inserted = true;
            return Ok(true);
        }
        let pid = self.pid()?;
        match self.session.add_breakpoint(pid, addr) {
            Ok(id) => {
                self.points.software.insert(addr, GdbBreakpoint { id, inserted: true, removed_at: 0 });
                Ok(true)
            }
            Err(dbgkit::Error::CannotPlantBreakpoint { reason, .. }) if !self.points.raw.contains_key(&addr) => {
                debug_log!(self, "breakpoint at {addr:#x} planted as a plain int3: {reason}");
                let mut byte = [0u8];
                let read = self.session.read_memory(pid, addr, &mut byte);
                self.soft("reading memory under a breakpoint", read)?;
                let written = self.session.write_memory(pid, addr, &[0xcc]);
                self.soft("writing a breakpoint", written)?;
                self.points.raw.insert(addr, byte[0]);
                Ok(true)
            }
            Err(e) => self.soft("inserting a breakpoint", Err(e)),
        }
    }

    fn remove_sw_breakpoint(&mut self, addr: u64, _kind: usize) -> TargetResult<bool, Self> {
        if let Some(byte) = self.points.raw.remove(&addr) {
            let pid = self.pid()?;
            let written = self.session.write_memory(pid, addr, &[byte]);
            return self.soft("removing a breakpoint", written).map(|_| true);
        }
        let watching = !self.points.watch.is_empty();
        if let Some(bp) = self.points.software.get_mut(&addr) {
            bp.inserted = false;
            bp.removed_at = self.resumes;
            // The program may have unmapped the page: gdb warns that the
            // breakpoint could not be removed, as gdbserver's write fails.
            let pid = self.pid()?;
            let readable = self.session.read_memory(pid, addr, &mut [0]);
            if watching || readable.is_err() {
                // A data watchpoint that fires in the out-of-line copy of the
                // instruction would stop the thread in scratch memory: with
                // watchpoints, a breakpoint taken out goes for real.
                self.retire_breakpoint_at(addr);
            }
            self.soft("removing a breakpoint", readable)?;
        }
        Ok(true)
    }
}

impl ServerTarget {
    /// The threads of `pid` gdb sees. A leader that called `pthread_exit`
    /// stays a zombie until the last thread ends, and a thread whose end
    /// came as the process was being stopped is reported at the next
    /// resume; neither has registers left, so both are gone for gdb, as
    /// gdbserver drops them.
    pub(crate) fn live_threads(&self, pid: i32) -> Vec<i32> {
        let mut threads = self.session.threads(pid).unwrap_or_default();
        if threads.len() > 1 {
            threads.retain(|&t| if t == pid { !leader_is_zombie(pid) } else { task_is_alive(t) });
        }
        threads
    }

    /// Whether the leader alone ran under scheduler locking and has exited
    /// (a zombie while other threads live, which the system does not report).
    pub(crate) fn locked_leader_gone(&self) -> bool {
        let Some(pid) = self.inferior.as_ref().map(|i| i.pid) else { return false };
        self.scheduler_locked
            && self.no_resumed
            && self.resumed_threads == [pid]
            && leader_is_zombie(pid)
            && self.other_thread_lives(pid, pid)
    }

    /// Whether gdb asked thread `tid` to step, in all-stop mode.
    fn steps_in_all_stop(&self, tid: i32) -> bool {
        self.stepping.is_some_and(|(stepper, _)| stepper == tid)
    }

    /// Whether gdb asked thread `tid` to step (all-stop or non-stop).
    fn is_stepping(&self, tid: i32) -> bool {
        self.steps_in_all_stop(tid) || self.non_stop.steppers.contains_key(&tid)
    }

    /// Whether a `SIGSEGV` or `SIGILL` of thread `tid` is a breakpoint gdb
    /// put where code cannot run (its return address on a non-executable
    /// stack, after a call it made): gdb must see it even when it passes
    /// the signal, as gdbserver reports these signals always.
    fn fault_at_gdb_breakpoint(&mut self, pid: i32, tid: i32, signal: i32) -> bool {
        if signal != libc::SIGSEGV && signal != libc::SIGILL {
            return false;
        }
        let Ok(pc) = self.session.registers(pid, tid).map(|r| r.rip) else { return false };
        self.points.raw.contains_key(&pc) || self.breakpoint_inserted_at(pc)
    }

    /// Whether engine breakpoint `id` is one gdb took out (hits run through it).
    pub(crate) fn is_taken_out(&self, id: u32) -> bool {
        self.points.software.values().any(|b| b.id == id && !b.inserted)
    }

    /// Removes for good a breakpoint gdb took out at `address` (a thread
    /// about to step from there without having reported it would otherwise
    /// execute its `int3`).
    pub(crate) fn retire_breakpoint_at(&mut self, address: u64) {
        if let Some(bp) = self.points.software.get(&address).copied().filter(|b| !b.inserted) {
            self.points.software.remove(&address);
            if let Err(e) = self.session.remove_breakpoint(bp.id) {
                debug_log!(self, "removing breakpoint at {address:#x}: {e}");
            }
        }
    }

    /// The stop reply for the event the process is held at, when that is a
    /// signal.
    pub(crate) fn held_signal_stop_reply(&mut self, negotiated: &crate::server::Negotiated) -> Option<String> {
        let pid = self.inferior.as_ref()?.pid;
        let event = self.stop_event.as_ref()?;
        let EventKind::Exception { signal, .. } = event.kind else { return None };
        let tid = event.tid;
        let reason = MultiThreadStopReason::SignalWithThread {
            tid: to_tid(tid),
            signal: Signal(crate::signals::to_gdb(signal)),
        };
        let expedited = self.expedited(tid);
        Some(crate::stop_reply::for_reason(&reason, negotiated, pid, &expedited))
    }

    /// Whether a thread of `pid` other than `tid` is still alive.
    fn other_thread_lives(&self, pid: i32, tid: i32) -> bool {
        self.session.threads(pid).is_ok_and(|threads| threads.iter().any(|&t| t != tid && task_is_alive(t)))
    }

    /// Whether gdb has a breakpoint in at `address` (`Z0` and no `z0` since).
    pub(crate) fn breakpoint_inserted_at(&self, address: u64) -> bool {
        self.points.software.get(&address).is_some_and(|b| b.inserted) || self.points.raw.contains_key(&address)
    }

    /// A library went away with breakpoints gdb put in it: gdb takes them
    /// for gone with it (it sends no `z0`), and the engine's are unplanted.
    /// A library loaded later at the same address gets fresh ones.
    fn forget_breakpoints_in(&mut self, base: u64, size: u64) {
        let gone: Vec<(u64, u32)> = self
            .points
            .software
            .iter()
            .filter(|(&address, _)| (base..base.saturating_add(size)).contains(&address))
            .map(|(&address, b)| (address, b.id))
            .collect();
        for (address, id) in gone {
            self.points.software.remove(&address);
            if let Err(e) = self.session.remove_breakpoint(id) {
                debug_log!(self, "forgetting breakpoint at {address:#x}: {e}");
            }
        }
    }

    /// At a resume: breakpoints gdb took out before an earlier resume and
    /// did not put back are gone for good (the current resume's are kept
    /// for a step: gdb steps over one it took out, then puts it back).
    pub(crate) fn retire_breakpoints_taken_out(&mut self, stepping: bool) {
        let now = self.resumes;
        let watching = !self.points.watch.is_empty();
        let retired: Vec<(u64, u32)> = self
            .points
            .software
            .iter()
            .filter(|(_, b)| !b.inserted && (!stepping || b.removed_at < now || watching))
            .map(|(&address, b)| (address, b.id))
            .collect();
        for (address, id) in retired {
            self.points.software.remove(&address);
            if let Err(e) = self.session.remove_breakpoint(id) {
                debug_log!(self, "removing breakpoint at {address:#x}: {e}");
            }
        }
    }
}

impl HwBreakpoint for ServerTarget {
    fn add_hw_breakpoint(&mut self, addr: u64, _kind: usize) -> TargetResult<bool, Self> {
        if self.points.hardware.contains_key(&addr) {
            return Ok(true);
        }
        let pid = self.pid()?;
        let added = self.session.add_hardware_breakpoint(pid, addr);
        let id = self.soft("inserting a hardware breakpoint", added)?;
        self.points.hardware.insert(addr, id);
        Ok(true)
    }

    fn remove_hw_breakpoint(&mut self, addr: u64, _kind: usize) -> TargetResult<bool, Self> {
        let Some(id) = self.points.hardware.remove(&addr) else { return Ok(true) };
        let removed = self.session.remove_watchpoint(id);
        self.soft("removing a hardware breakpoint", removed)?;
        Ok(true)
    }
}

impl HwWatchpoint for ServerTarget {
    fn add_hw_watchpoint(&mut self, addr: u64, len: u64, kind: WatchKind) -> TargetResult<bool, Self> {
        // The debug registers cannot watch reads alone (gdbserver says the same).
        let access = match kind {
            WatchKind::Write => WatchAccess::Write,
            WatchKind::ReadWrite => WatchAccess::ReadWrite,
            WatchKind::Read => return Ok(false),
        };
        let key = (addr, len, access == WatchAccess::Write);
        if self.points.watch.contains_key(&key) {
            return Ok(true);
        }
        let pid = self.pid()?;
        let added = self.session.add_watchpoint(pid, addr, len, access);
        let id = self.soft("inserting a watchpoint", added)?;
        self.points.watch.insert(key, id);
        Ok(true)
    }

    fn remove_hw_watchpoint(&mut self, addr: u64, len: u64, kind: WatchKind) -> TargetResult<bool, Self> {
        let key = (addr, len, kind == WatchKind::Write);
        let Some(id) = self.points.watch.remove(&key) else { return Ok(true) };
        let removed = self.session.remove_watchpoint(id);
        self.soft("removing a watchpoint", removed)?;
        Ok(true)
    }
}
