//! The engine's bookkeeping for each debugged process and thread.

use crate::breakpoints::scratch::Scratch;
use crate::breakpoints::Site;
use crate::error::Result;
use crate::event::Event;
use crate::module::Module;
use crate::target::{not_supported, Auxv, CodeInjection, RunControl, Target, WriteAccess};
use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};
use std::path::PathBuf;

/// Why a thread is single-stepping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// [`crate::Session::step_into`]: report `StepComplete`.
    User,
    /// A step of the thread's plan ([`crate::Session::step`]): the plan decides.
    Plan,
}

#[derive(Debug)]
pub(crate) struct ThreadState {
    /// The thread is in a ptrace-stop that we hold.
    pub stopped: bool,
    /// Registers read at this stop (invalidated on resume).
    pub regs: Option<crate::arch::registers::Registers>,
    /// Signal to deliver when the thread is resumed.
    pub signal_to_deliver: i32,
    /// The thread is in a group-stop (`SIGSTOP` from outside): resume with `PTRACE_LISTEN`.
    pub group_stopped: bool,
    /// Single-step on the next resume.
    pub step: Option<Step>,
    /// The step in progress on this thread (`Session::step`).
    pub plan: Option<crate::session::Plan>,
    /// The thread reported a hit at this site address and must run the
    /// original instruction out of line when resumed there.
    pub over_breakpoint: Option<u64>,
    /// Resume with the resume flag set: the thread stopped at a hardware
    /// execute breakpoint, which would fire again on the same instruction.
    pub resume_flag: bool,
    /// The thread faulted on a page-watched page: when it goes on, its
    /// access is replayed with the page's rights restored (watchpoint id).
    pub page_step: Option<u32>,
    /// A hit at this address was already counted (a classic step-over was
    /// interrupted by a signal before the instruction ran).
    pub uncounted_rehit: Option<u64>,
    /// A fault continued `Handled` and the registers then (see `session/fault_loop.rs`).
    pub handled_fault: Option<(i32, crate::arch::registers::Registers)>,
    /// Kept stopped while another thread steps alone: its held statuses
    /// wait until the process is resumed as a whole.
    pub parked: bool,
    /// The thread's stop is a signal's own (signal-delivery stop): a signal
    /// given as it resumes is delivered. Other stops drop it.
    pub signal_stop: bool,
    /// A signal the debugger sent the thread (its stop would have dropped
    /// it), let through without an event when it arrives.
    pub signal_sent: Option<i32>,
    /// The watchpoint (id, slot address, access) whose debug-register trap
    /// the thread holds, noted before the slots changed under it.
    pub fired_watch: Option<(u32, u64, crate::breakpoints::hardware::WatchAccess)>,
}

impl ThreadState {
    pub(crate) fn new_stopped() -> ThreadState {
        ThreadState {
            stopped: true,
            regs: None,
            signal_to_deliver: 0,
            group_stopped: false,
            step: None,
            plan: None,
            over_breakpoint: None,
            uncounted_rehit: None,
            resume_flag: false,
            page_step: None,
            handled_fault: None,
            parked: false,
            signal_stop: false,
            signal_sent: None,
            fired_watch: None,
        }
    }
}

/// Where the dynamic loader's hooks are.
#[derive(Debug, Default)]
pub(crate) struct LoaderState {
    /// Address of `_r_debug` in the target, once known.
    pub r_debug: u64,
}

pub(crate) struct ProcessState {
    pub pid: i32,
    pub image: PathBuf,
    pub launched: bool,
    pub kill_on_exit: bool,
    pub threads: BTreeMap<i32, ThreadState>,
    /// In load order: the executable first.
    pub modules: Vec<Module>,
    /// What the process is: a live process, a core file...
    pub target: Box<dyn Target>,
    /// Which of the session's event sources reports this process's stops
    /// (`None`: the target never stops or runs, e.g. a core file).
    pub source: Option<usize>,
    pub auxv: Auxv,
    pub loader: LoaderState,
    /// The event reported and not yet continued.
    pub in_flight: Option<Event>,
    /// Events decided but not yet reported; the process stays stopped until all are continued.
    pub queued: VecDeque<Event>,
    /// Lines the program wrote for its debugger since its last reported
    /// event: reported as `DebugOutput` before its next one.
    pub debug_output: VecDeque<String>,
    /// Planted int3 bytes, by address.
    pub sites: BTreeMap<u64, Site>,
    pub scratch: Scratch,
    /// Addresses whose breakpoint byte was removed: a trap already taken
    /// there by another thread is rewound, not reported as a signal.
    pub removed_sites: HashSet<u64>,
    /// Set once the leader's death is seen.
    pub exited: bool,
    /// What each debug register DR0-DR3 holds: (watchpoint id, address, length, access).
    pub debug_slots: [Option<(u32, u64, u64, crate::breakpoints::hardware::WatchAccess)>; 4],
    /// Threads resume stopping at system calls (a syscall catchpoint is set).
    pub syscall_stops: bool,
    /// Threads that vforked, with their children, while those borrow the
    /// memory.
    pub vfork_parents: BTreeMap<i32, i32>,
    /// The breakpoint bytes are out of the memory, for a vfork child that
    /// runs in it. Meanwhile only the vfork parents run: any other thread
    /// would run past its breakpoints (as gdb resumes only the vfork parent
    /// until `VFORK_DONE`).
    pub bytes_lent: bool,
    /// Threads a resume left stopped while a vfork child borrowed the
    /// memory: they go once every such child let go, unless an event held
    /// the process meanwhile (its continue decides again).
    pub waiting_for_vfork: BTreeSet<i32>,
    /// A followed vfork child: the process whose memory it borrows (until
    /// it execs or exits), whose breakpoint bytes come out before it runs.
    pub borrows_memory_of: Option<i32>,
}

impl ProcessState {
    /// The target's run control, or the error saying it has none.
    pub(crate) fn control(&self) -> Result<&dyn RunControl> {
        self.target.run_control().ok_or_else(|| not_supported("running or stopping threads", self.target.kind()))
    }

    /// The target's write access, or the error saying it has none.
    pub(crate) fn writer(&self) -> Result<&dyn WriteAccess> {
        self.target.write_access().ok_or_else(|| not_supported("writing memory or registers", self.target.kind()))
    }

    /// The target's code injection, or the error saying it has none.
    pub(crate) fn injector(&self) -> Result<&dyn CodeInjection> {
        self.target.code_injection().ok_or_else(|| not_supported("running code in the target", self.target.kind()))
    }

    /// Reads exactly `buf.len()` bytes (breakpoint bytes not hidden).
    pub(crate) fn read_exact(&self, address: u64, buf: &mut [u8]) -> Result<()> {
        self.target.read_exact(address, buf)
    }

    /// Reads one little-endian word (breakpoint bytes not hidden).
    pub(crate) fn read_u64(&self, address: u64) -> Result<u64> {
        self.target.read_u64(address)
    }

    /// True while the process is held at an event (reported or queued).
    pub(crate) fn is_held(&self) -> bool {
        self.in_flight.is_some() || !self.queued.is_empty()
    }

    /// A thread that is stopped, for running injected code (the leader
    /// first). Not a vfork parent whose child still borrows the memory: it
    /// runs nothing until the child lets go.
    pub(crate) fn any_stopped_thread(&self) -> Option<i32> {
        let usable = |tid: &i32, t: &ThreadState| t.stopped && !self.vfork_parents.contains_key(tid);
        self.threads
            .get(&self.pid)
            .filter(|t| usable(&self.pid, t))
            .map(|_| self.pid)
            .or_else(|| self.threads.iter().find(|(tid, t)| usable(tid, t)).map(|(&tid, _)| tid))
    }
}
