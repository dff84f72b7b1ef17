//! A process (under gdbserver) or a machine (QEMU's gdbstub: each vCPU a
//! thread) behind a stub, as a [`Target`] with write access, run control,
//! emulated debug registers and breakpoints of its own, and the
//! [`EventSource`] that reads its stop replies.
//!
//! Breakpoints are the stub's (`Z0`, or `Z1` first where hardware ones are
//! preferred, as for a kernel), else an `int3` this target writes and
//! rewinds itself; either way the engine sees a trap at the breakpoint's
//! address and never a written byte.

use super::all_stop::{Action, AllStop, InterruptNeed};
use super::client::{Client, PointKind, PointOutcome};
use super::connection::{Traffic, Wait};
use super::debug_slots::{DebugSlots, Point};
use super::error::RemoteError;
use super::lists::{self, Library};
use super::memory_cache::MemoryCache;
use super::signals;
use super::stop_reply::{format_ptid, Ptid, StopCause, StopReply};
use super::transport::Address;
use crate::arch::registers::{FpRegisters, Registers};
use crate::error::{Error, Result};
use crate::target::{
    not_supported, Auxv, DebugRegisters, EventSource, Image, MemoryRegion, Resume, RunControl, SignalInfo, StopReason,
    Target, TargetBreakpoints, WaitMode, WriteAccess, TRAP_BY_INT3,
};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

/// `si_code` of a single-step trap and of a debug-register trap.
const TRAP_TRACE: i32 = 2;
const TRAP_HWBKPT: i32 = 4;
const INT3: u8 = 0xcc;

/// What is behind the stub.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RemoteKind {
    /// A user process (gdbserver): threads are its threads.
    Process,
    /// A whole machine (QEMU's gdbstub): threads are its CPUs.
    Machine,
    /// A Windows process (`dbgkit-winstub`): a PE program and its DLLs,
    /// told from a Linux process by the stub's library list (the Windows
    /// `qXfer:libraries` instead of an auxiliary vector).
    Windows,
}

/// How one breakpoint of the target is planted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Planted {
    Software,
    Hardware,
    /// An `int3` written by this target over `original`.
    Memory {
        original: u8,
    },
}

/// What the last stop of a thread said.
#[derive(Clone, Debug, Default)]
struct LastStop {
    signal: i32,
    cause: Option<StopCause>,
    /// The thread was single-stepping.
    stepped: bool,
    /// The trap of an `int3` this target wrote (pc already moved back).
    memory_breakpoint: bool,
    /// What the system said of the exception a Windows thread stopped
    /// with: `Some(true)` for its second chance (from `monitor exception`).
    second_chance: Option<bool>,
}

/// What is known of a thread at its current stop.
#[derive(Clone, Debug, Default)]
struct ThreadView {
    /// The `g` bytes, read once per stop.
    registers: Option<Vec<u8>>,
    /// The pc, when a stop reply sent it along.
    pc: Option<u64>,
    stop: LastStop,
    siginfo: Option<SignalInfo>,
}

/// The shared state of a remote target and its event source.
pub(crate) struct Remote {
    client: Client,
    kind: RemoteKind,
    pid: i32,
    state: AllStop,
    threads: BTreeMap<i32, ThreadView>,
    slots: DebugSlots,
    breakpoints: BTreeMap<u64, Planted>,
    /// Ways of planting the stub refused once (`Z0`, `Z1`): not asked again.
    no_software: bool,
    no_hardware: bool,
    prefer_hardware: bool,
    executable: Option<PathBuf>,
    memory_map: Option<Vec<MemoryRegion>>,
    /// Memory and the process's memory map as read at this stop.
    cache: MemoryCache,
    maps: Option<Vec<MemoryRegion>>,
    /// Detached, killed or exited: nothing runs, nothing more comes.
    finished: Option<&'static str>,
    names: HashMap<i32, String>,
    /// The stub runs the instruction under its own breakpoint when a thread
    /// is resumed on it (dbgkit-winstub, known by its `monitor breakpoints`).
    steps_over_own_breakpoints: bool,
}

/// A remote target; clones share one connection.
#[derive(Clone)]
pub struct RemoteTarget(Rc<RefCell<Remote>>);

/// What connecting found.
#[derive(Clone, Debug)]
pub struct Connected {
    pub kind: RemoteKind,
    pub pid: i32,
    /// The thread the stub reported as stopped.
    pub current_thread: i32,
    /// The signal the target is stopped with (0 when none was reported).
    pub signal: i32,
}

fn remote(e: RemoteError) -> Error {
    Error::Remote(e)
}

impl RemoteTarget {
    /// Connects to a stub and reads what it is stopped at. `extended`:
    /// gdb's `target extended-remote` (the stub stays when the target ends);
    /// `program` is run with `vRun` when such a stub has no process yet.
    pub fn connect(
        address: &str,
        extended: bool,
        program: Option<&std::path::Path>,
    ) -> Result<(RemoteTarget, Connected)> {
        let address = Address::parse(address).map_err(remote)?;
        let mut client = Client::connect(&address, Duration::from_secs(10)).map_err(remote)?;
        let mut initial = None;
        if extended {
            let reply = client_request(&mut client, "!")?;
            if reply != b"OK" && !reply.is_empty() {
                return Err(remote(RemoteError::Protocol {
                    address: client.address().into(),
                    request: "!".into(),
                    reason: "extended mode refused".into(),
                }));
            }
        }
        let mut stop = client.initial_stop().map_err(remote)?;
        if extended && matches!(stop, StopReply::Exited { .. } | StopReply::Terminated { .. }) {
            // No process yet: run the program, as gdb's `run` does on an extended stub.
            let program = program.ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "the stub at {} runs no process: give the program to run (target extended-remote ADDRESS PROGRAM)",
                    client.address()
                ))
            })?;
            let request = format!("vRun;{}", super::packet::to_hex(program.to_string_lossy().as_bytes()));
            let reply = client_request(&mut client, &request)?;
            stop = StopReply::parse(&reply).map_err(|why| {
                remote(RemoteError::Protocol { address: client.address().into(), request, reason: why })
            })?;
            initial = Some(());
        }
        let _ = initial;
        if client.layout_pending {
            client.load_layout().map_err(remote)?;
        }
        let (thread, signal) = match &stop {
            StopReply::Signal { thread, signal, .. } => (*thread, *signal),
            StopReply::Exited { .. } | StopReply::Terminated { .. } | StopReply::ThreadExited { .. } => {
                return Err(Error::InvalidArgument(format!(
                    "the stub at {} has no live target (it answered {stop:?})",
                    client.address()
                )))
            }
            StopReply::NoResumed => (None, 0),
        };
        let features = &client.features;
        let kind = if client.layout.is_system() {
            RemoteKind::Machine
        } else if features.libraries && !features.auxv && !features.libraries_svr4 {
            RemoteKind::Windows
        } else {
            RemoteKind::Process
        };
        let ids = thread_list(&mut client)?;
        let pid = thread
            .and_then(|t| t.pid)
            .or_else(|| ids.first().and_then(|t| t.pid))
            .filter(|&p| p > 0)
            .map(|p| p as i32)
            .or_else(|| current_pid(&mut client))
            .unwrap_or(1);
        let mut tids: Vec<i32> =
            ids.iter().filter(|t| t.pid.is_none_or(|p| p == pid as i64) && t.tid > 0).map(|t| t.tid as i32).collect();
        let current =
            thread.map(|t| t.tid).filter(|&t| t > 0).map(|t| t as i32).or(tids.first().copied()).unwrap_or(pid);
        if !tids.contains(&current) {
            tids.push(current);
        }
        tids.sort_unstable();
        let mut names = HashMap::new();
        if client.features.threads {
            if let Ok(Some(doc)) = client.xfer("threads", "") {
                for t in lists::threads(&String::from_utf8_lossy(&doc)) {
                    if let Some(name) = t.name {
                        names.insert(t.id.tid as i32, name);
                    }
                }
            }
        }
        let mut threads: BTreeMap<i32, ThreadView> = tids.iter().map(|&t| (t, ThreadView::default())).collect();
        if let (StopReply::Signal { registers, cause, .. }, Some(view)) = (&stop, threads.get_mut(&current)) {
            view.stop = LastStop { signal, cause: cause.clone(), ..Default::default() };
            view.pc = expedited_pc(&client, registers);
        }
        let prefer_hardware = kind == RemoteKind::Machine;
        // Other Windows stubs (gdbserver.exe, winedbg --gdb) leave that to the client.
        let steps_over_own_breakpoints = kind == RemoteKind::Windows
            && client
                .monitor("breakpoints")
                .is_ok_and(|a| a.starts_with("breakpoint") || a.starts_with("no breakpoints"));
        let state = AllStop::new(tids.iter().copied());
        let r = Remote {
            client,
            kind,
            pid,
            state,
            threads,
            slots: DebugSlots::default(),
            breakpoints: BTreeMap::new(),
            no_software: false,
            no_hardware: false,
            prefer_hardware,
            executable: None,
            memory_map: None,
            cache: MemoryCache::default(),
            maps: None,
            finished: None,
            names,
            steps_over_own_breakpoints,
        };
        let connected = Connected { kind, pid, current_thread: current, signal };
        Ok((RemoteTarget(Rc::new(RefCell::new(r))), connected))
    }

    /// The event source of this target's stops.
    pub fn events(&self) -> Box<dyn EventSource> {
        Box::new(RemoteEvents(self.0.clone()))
    }

    pub fn kind_of_target(&self) -> RemoteKind {
        self.0.borrow().kind
    }

    /// The stub's address, as given.
    pub fn address(&self) -> String {
        self.0.borrow().client.address().to_string()
    }

    /// Packets and bytes so far.
    pub fn traffic(&self) -> Traffic {
        self.0.borrow().client.traffic()
    }

    /// The program file to use instead of the one the stub names.
    pub fn set_executable(&self, path: PathBuf) {
        self.0.borrow_mut().executable = Some(path);
    }

    /// The memory map of a machine (the stub knows none; the session builds it from the kernel's image).
    pub fn set_memory_map(&self, regions: Vec<MemoryRegion>) {
        self.0.borrow_mut().memory_map = Some(regions);
    }

    /// Runs a monitor command of the stub (QEMU's `info registers`, gdbserver's `help`).
    pub fn monitor(&self, command: &str) -> Result<String> {
        let mut r = self.0.borrow_mut();
        r.alive()?;
        r.client.monitor(command).map_err(remote)
    }

    /// The loader's list as the stub reads it (`qXfer:libraries-svr4`);
    /// `None` when the stub does not offer it.
    pub fn libraries(&self) -> Result<Option<Vec<Library>>> {
        let mut r = self.0.borrow_mut();
        r.alive()?;
        if !r.client.features.libraries_svr4 {
            return Ok(None);
        }
        let doc = r.client.xfer("libraries-svr4", "").map_err(remote)?;
        Ok(doc.map(|d| lists::libraries(&String::from_utf8_lossy(&d)).0))
    }

    /// A thread's name, as the stub's thread list gives it.
    pub fn thread_name(&self, tid: i32) -> Option<String> {
        self.0.borrow().names.get(&tid).cloned()
    }

    /// Whether the stub was asked whether it attached (`qAttached`): true
    /// when it attached to a running process rather than starting it.
    pub fn attached(&self) -> bool {
        let mut r = self.0.borrow_mut();
        let request =
            if r.client.features.multiprocess { format!("qAttached:{:x}", r.pid) } else { "qAttached".into() };
        matches!(client_request(&mut r.client, &request).as_deref(), Ok(b"1"))
    }
}

/// A request whose errors are the engine's.
fn client_request(client: &mut Client, request: &str) -> Result<Vec<u8>> {
    client.raw_request(request).map_err(remote)
}

/// The process of the current thread (`qC`).
fn current_pid(client: &mut Client) -> Option<i32> {
    let reply = client.raw_request("qC").ok()?;
    let ptid = Ptid::parse(reply.strip_prefix(b"QC")?)?;
    ptid.pid.filter(|&p| p > 0).map(|p| p as i32)
}

/// Every thread: `qXfer:threads`, else `qfThreadInfo`/`qsThreadInfo`.
fn thread_list(client: &mut Client) -> Result<Vec<Ptid>> {
    if client.features.threads {
        if let Some(doc) = client.xfer("threads", "").map_err(remote)? {
            let list = lists::threads(&String::from_utf8_lossy(&doc));
            if !list.is_empty() {
                return Ok(list.into_iter().map(|t| t.id).collect());
            }
        }
    }
    let mut ids = Vec::new();
    let mut request = "qfThreadInfo";
    for _ in 0..10_000 {
        let reply = client_request(client, request)?;
        let Some((more, go_on)) = lists::thread_info(&reply) else { break };
        ids.extend(more);
        if !go_on {
            break;
        }
        request = "qsThreadInfo";
    }
    Ok(ids)
}

/// The pc among the registers a stop reply sent along.
fn expedited_pc(client: &Client, registers: &[(usize, Vec<u8>)]) -> Option<u64> {
    let rip = client.layout.find("rip")?.regnum;
    registers
        .iter()
        .find(|(n, _)| *n == rip)
        .filter(|(_, b)| b.len() == 8)
        .map(|(_, b)| u64::from_le_bytes(b[..8].try_into().expect("8 bytes")))
}

impl Remote {
    fn alive(&self) -> Result<()> {
        if self.client.is_lost() && self.finished.is_none() {
            return Err(remote(self.client.lost_error()));
        }
        match self.finished {
            Some(_) => Err(Error::ProcessGone(self.pid)),
            None => Ok(()),
        }
    }

    fn thread(&mut self, tid: i32) -> Result<&mut ThreadView> {
        let pid = self.pid;
        self.threads.get_mut(&tid).ok_or(Error::NoSuchThread { pid, tid })
    }

    /// The `g` bytes of a stopped thread, read once per stop.
    fn registers_of(&mut self, tid: i32) -> Result<Vec<u8>> {
        self.alive()?;
        if let Some(r) = &self.thread(tid)?.registers {
            return Ok(r.clone());
        }
        let bytes = self.client.read_registers(self.pid, tid).map_err(|e| self.thread_error(tid, e))?;
        self.thread(tid)?.registers = Some(bytes.clone());
        Ok(bytes)
    }

    fn pc_of(&mut self, tid: i32) -> Result<u64> {
        self.alive()?;
        let pid = self.pid;
        let view = self.threads.get(&tid).ok_or(Error::NoSuchThread { pid, tid })?;
        if let Some(pc) = view.pc {
            return Ok(pc);
        }
        if let Some(r) = &view.registers {
            return Ok(self.client.layout.read(r, "rip").unwrap_or(0));
        }
        let pc = if self.client.single_register_reads {
            let rip = self.client.layout.find("rip").expect("checked at connect").regnum;
            match self.client.read_register(self.pid, tid, rip) {
                Ok(bytes) => Some(bytes.iter().take(8).rev().fold(0u64, |acc, &b| (acc << 8) | b as u64)),
                // A stub without `p` (gdbserver): every register, once for this stop.
                Err(RemoteError::Unsupported { .. }) => {
                    self.client.single_register_reads = false;
                    None
                }
                Err(e) => return Err(self.thread_error(tid, e)),
            }
        } else {
            None
        };
        let pc = match pc {
            Some(pc) => pc,
            None => {
                let bytes = self.registers_of(tid)?;
                self.client.layout.read(&bytes, "rip").unwrap_or(0)
            }
        };
        self.thread(tid)?.pc = Some(pc);
        Ok(pc)
    }

    /// Writes changed registers of a stopped thread and keeps the cache right.
    fn store_registers(&mut self, tid: i32, bytes: Vec<u8>, changed: &[&str]) -> Result<()> {
        if !changed.is_empty() {
            self.client.write_registers(self.pid, tid, &bytes, changed).map_err(|e| self.thread_error(tid, e))?;
        }
        let pc = self.client.layout.read(&bytes, "rip");
        let view = self.thread(tid)?;
        view.pc = pc;
        view.registers = Some(bytes);
        Ok(())
    }

    fn forget_stop_views(&mut self, tids: impl IntoIterator<Item = i32>) {
        for tid in tids {
            if let Some(v) = self.threads.get_mut(&tid) {
                v.registers = None;
                v.pc = None;
                v.siginfo = None;
            }
        }
    }

    /// A thread the stub no longer knows (`Hg` refused) exited since the
    /// last stop: its exit is queued and the engine hears "no such thread"
    /// (`ESRCH`), as from ptrace.
    fn thread_error(&mut self, tid: i32, e: RemoteError) -> Error {
        let refused_selection = matches!(&e, RemoteError::Refused { request, .. } if request.starts_with("Hg"));
        if !refused_selection || tid == self.pid || !self.state.knows(tid) {
            return remote(e);
        }
        self.state.remove_thread(tid);
        self.threads.remove(&tid);
        self.state.queue_exit(tid, StopReason::Exited(0));
        thread_gone(tid)
    }

    /// A thread to pin a stop on when the reply names none.
    fn default_thread(&self) -> i32 {
        let ids = self.state.thread_ids();
        if ids.contains(&self.pid) {
            self.pid
        } else {
            ids.first().copied().unwrap_or(self.pid)
        }
    }

    /// The thread whose end is the process's: the leader; for a Windows
    /// process, which has no thread whose id is its own, the process id.
    fn process_thread(&self) -> i32 {
        if self.kind == RemoteKind::Windows {
            self.pid
        } else {
            self.default_thread()
        }
    }

    /// Sends the resumes the engine asked for, when nothing waits to be reported.
    fn flush(&mut self) -> Result<()> {
        loop {
            if self.state.has_pending() {
                return Ok(());
            }
            if self.state.needs_break_to_resume() {
                self.target_runs();
                self.client.interrupt().map_err(remote)?;
                self.state.break_sent_for_resume();
                let reply = self.client.wait_stop(Wait::Block).map_err(remote)?;
                if let Some(reply) = reply {
                    if let Some((tid, reason)) = self.on_reply(reply)? {
                        self.state.queue(tid, reason);
                    }
                }
                continue;
            }
            if self.state.stub_running() {
                return Ok(());
            }
            self.sync_points()?;
            self.step_off_execute_points()?;
            if self.state.has_pending() {
                return Ok(());
            }
            let Some(actions) = self.state.take_actions() else { return Ok(()) };
            self.forget_stop_views(actions.iter().map(|a| a.tid));
            self.target_runs();
            let request = self.resume_request(&actions);
            self.client.resume(&request).map_err(remote)?;
            return Ok(());
        }
    }

    /// What was read at this stop no longer holds.
    fn target_runs(&mut self) {
        self.cache.clear();
        self.maps = None;
    }

    /// Reads memory through the cache of this stop.
    fn read_memory(&mut self, address: u64, buf: &mut [u8]) -> usize {
        let Remote { cache, client, .. } = self;
        let n = cache.read(address, buf, &mut |a, b| client.read_memory(a, b)).unwrap_or(0);
        // Our own int3 bytes read as what they replaced.
        for (&at, planted) in self.breakpoints.range(address..address.saturating_add(n as u64)) {
            if let Planted::Memory { original } = planted {
                buf[(at - address) as usize] = *original;
            }
        }
        n
    }

    /// Writes memory (the cache forgets what it covered).
    fn write_memory(&mut self, address: u64, data: &[u8]) -> Result<()> {
        self.cache.written(address, data.len());
        self.client.write_memory(address, data).map_err(remote)
    }

    /// `vCont;c:p1.2;s:p1.3` (with `C`/`S` and the wire's signal number where one is delivered).
    fn resume_request(&self, actions: &[Action]) -> String {
        let mp = self.client.features.multiprocess;
        let has_vcont = !self.client.vcont_actions.is_empty();
        if !has_vcont {
            // An old stub: one action for every thread.
            let a = actions[0];
            let letter = if a.how == Resume::Step { 's' } else { 'c' };
            return if a.signal != 0 {
                format!("{}{:02x}", letter.to_ascii_uppercase(), signals::to_gdb(a.signal))
            } else {
                letter.to_string()
            };
        }
        let mut request = String::from("vCont");
        // With nothing held, the threads that just continue go as "the rest of
        // the process": a thread the stub created and not reported yet (it
        // holds it stopped with its creation event) goes too, and reports.
        let rest = self.state.none_held() && self.client.vcont_actions.iter().any(|a| a == "c");
        for a in actions {
            if rest && a.how != Resume::Step && a.signal == 0 {
                continue;
            }
            let ptid = format_ptid(mp, self.pid, a.tid);
            let letter = if a.how == Resume::Step { 's' } else { 'c' };
            if a.signal != 0 {
                request.push_str(&format!(";{}{:02x}:{ptid}", letter.to_ascii_uppercase(), signals::to_gdb(a.signal)));
            } else {
                request.push_str(&format!(";{letter}:{ptid}"));
            }
        }
        if rest {
            let all = if mp { format!(";c:p{:x}.-1", self.pid) } else { ";c".into() };
            request.push_str(&all);
        }
        request
    }

    /// Brings the stub's `Z1`-`Z4` points in line with the debug registers.
    fn sync_points(&mut self) -> Result<()> {
        let (remove, insert) = self.slots.changes();
        for (slot, p) in remove {
            self.client.point(false, p.kind, p.address, p.len).map_err(remote)?;
            self.slots.set_planted(slot, None);
        }
        for (slot, p) in insert {
            match self.client.point(true, p.kind, p.address, p.len) {
                Ok(PointOutcome::Done) => self.slots.set_planted(slot, Some(p)),
                Ok(PointOutcome::Unsupported) => {
                    return Err(not_supported(point_name(p.kind), "this stub (it has no such Z packet)"));
                }
                Err(e) => return Err(remote(e)),
            }
        }
        Ok(())
    }

    /// A thread about to run from a hardware breakpoint would trap again at
    /// once: it first steps over it alone, with the point lifted.
    fn step_off_execute_points(&mut self) -> Result<()> {
        if !self.slots.planted().any(|p| p.kind == PointKind::Hardware) {
            return Ok(());
        }
        for tid in self.state.thread_ids() {
            let Some(how) = self.state.released_how(tid) else { continue };
            let pc = self.pc_of(tid)?;
            let Some(point) = self.slots.executes_at(pc) else { continue };
            let signal = self.state.signal_of(tid);
            self.client.point(false, point.kind, point.address, point.len).map_err(remote)?;
            let mp = self.client.features.multiprocess;
            let step = match signal {
                0 => format!("vCont;s:{}", format_ptid(mp, self.pid, tid)),
                s => format!("vCont;S{:02x}:{}", signals::to_gdb(s), format_ptid(mp, self.pid, tid)),
            };
            self.forget_stop_views([tid]);
            self.target_runs();
            self.client.resume(&step).map_err(remote)?;
            let reply = self.client.wait_stop(Wait::Block).map_err(remote)?;
            self.client.point(true, point.kind, point.address, point.len).map_err(remote)?;
            self.state.delivered(tid);
            let plain_step = matches!(&reply, Some(StopReply::Signal { signal, thread, cause: None, .. })
                if *signal == crate::signal_numbers::SIGTRAP && thread.is_none_or(|t| t.tid as i32 == tid));
            if plain_step && how != Resume::Step {
                // Off the breakpoint: it goes on with the others.
                continue;
            }
            if let Some(reply) = reply {
                if let Some((t, reason)) = self.on_reply(reply)? {
                    self.state.queue(t, reason);
                }
            }
            return Ok(());
        }
        Ok(())
    }

    /// Turns a stop reply into the stop the engine sees (or none, when it is
    /// an interrupt's nobody waits for).
    fn on_reply(&mut self, reply: StopReply) -> Result<Option<(i32, StopReason)>> {
        match reply {
            StopReply::Signal { signal, thread, cause, registers, .. } => {
                let tid = thread.map(|t| t.tid).filter(|&t| t > 0).map(|t| t as i32).unwrap_or(self.default_thread());
                let stepped = self.state.released_how(tid) == Some(Resume::Step);
                let new = !self.state.knows(tid);
                if new {
                    self.state.add_thread(tid);
                }
                if !new && matches!(cause, Some(StopCause::Created)) {
                    // A creation event for a thread already known: nothing to report.
                    self.state.park();
                    return Ok(None);
                }
                let pc = expedited_pc(&self.client, &registers);
                let view = self.threads.entry(tid).or_default();
                view.pc = pc;
                view.registers = None;
                view.siginfo = None;
                view.stop = LastStop { signal, cause: cause.clone(), stepped, ..Default::default() };
                if signal == crate::signal_numbers::SIGTRAP {
                    self.after_trap(tid, stepped, &cause)?;
                }
                let report = if new {
                    self.on_new_thread(tid, signal, cause)
                } else if matches!(cause, Some(StopCause::Library)) && self.kind == RemoteKind::Windows {
                    self.state.on_stop(tid, StopReason::ModulesChanged, false)
                } else {
                    let is_break_answer = signal == crate::signal_numbers::SIGINT && cause.is_none();
                    self.state.on_stop(tid, StopReason::Signal(signal), is_break_answer)
                };
                // Before the engine looks at the other threads: which of them are gone.
                self.find_exited_threads(tid)?;
                Ok(report)
            }
            StopReply::Exited { code, .. } => Ok(self.process_ended(StopReason::Exited(code))),
            StopReply::Terminated { signal, .. } => Ok(self.process_ended(StopReason::Killed { signal })),
            StopReply::ThreadExited { code, thread } => {
                let tid = thread.map(|t| t.tid as i32).unwrap_or(self.default_thread());
                let report = self.state.on_stop(tid, StopReason::Exited(code), false);
                self.state.remove_thread(tid);
                self.threads.remove(&tid);
                Ok(report)
            }
            StopReply::NoResumed => {
                self.state.park();
                Ok(None)
            }
        }
    }

    /// Threads gone from the stub's list since the last stop exited
    /// meanwhile: their exits are reported after the stop at hand.
    fn find_exited_threads(&mut self, reporting: i32) -> Result<()> {
        if self.kind == RemoteKind::Machine || self.state.thread_ids().len() < 2 {
            return Ok(());
        }
        let listed: Vec<i32> = thread_list(&mut self.client)?.iter().map(|t| t.tid as i32).collect();
        if listed.is_empty() {
            return Ok(());
        }
        for tid in self.state.thread_ids() {
            // The leader's end is the process's, which the stub reports itself.
            if tid != reporting && tid != self.pid && !listed.contains(&tid) {
                self.state.queue(tid, StopReason::Exited(0));
                self.state.remove_thread(tid);
                self.threads.remove(&tid);
            }
        }
        Ok(())
    }

    /// DR6 for watchpoints, and the pc moved back over an `int3` this target wrote.
    fn after_trap(&mut self, tid: i32, stepped: bool, cause: &Option<StopCause>) -> Result<()> {
        if self.slots.in_use() {
            let watched = match cause {
                Some(StopCause::Watch { address, .. }) => Some(*address),
                _ => None,
            };
            let pc = if watched.is_none() { Some(self.pc_of(tid)?) } else { None };
            self.slots.record_stop(tid, watched, pc);
        }
        if !stepped && self.breakpoints.values().any(|p| matches!(p, Planted::Memory { .. })) {
            let pc = self.pc_of(tid)?;
            let at = pc.wrapping_sub(1);
            if matches!(self.breakpoints.get(&at), Some(Planted::Memory { .. })) {
                let mut bytes = self.registers_of(tid)?;
                self.client.layout.write(&mut bytes, "rip", at as u128);
                self.store_registers(tid, bytes, &["rip"])?;
                self.thread(tid)?.stop.memory_breakpoint = true;
            }
        }
        Ok(())
    }

    /// A stop of a thread never seen: it is new. The engine hears of it
    /// through a thread it thinks runs (`NewThread`), then its first stop.
    fn on_new_thread(&mut self, tid: i32, signal: i32, cause: Option<StopCause>) -> Option<(i32, StopReason)> {
        let first =
            if matches!(cause, Some(StopCause::Created)) || signal == 0 || signal == crate::signal_numbers::SIGSTOP {
                StopReason::Interrupted
            } else {
                StopReason::Signal(signal)
            };
        let running =
            self.state.thread_ids().into_iter().filter(|&t| t != tid && !self.state.is_held(t)).collect::<Vec<_>>();
        let creator = if running.contains(&self.pid) { Some(self.pid) } else { running.first().copied() };
        self.state.queue(tid, first);
        match creator {
            Some(c) => self.state.on_stop(c, StopReason::NewThread { child: tid }, false),
            None => None,
        }
    }

    /// The whole target ended: every thread goes; the leader reports it.
    fn process_ended(&mut self, reason: StopReason) -> Option<(i32, StopReason)> {
        let leader = self.process_thread();
        self.state.clear();
        self.threads.clear();
        self.finished = Some("exited");
        // As gdb does when a remote target's process ends: the stub (`--once`) may go.
        self.client.close("the target exited");
        Some((leader, reason))
    }

    /// Plants a breakpoint the way the stub prefers.
    fn insert_breakpoint(&mut self, address: u64) -> Result<()> {
        self.alive()?;
        let order: [PointKind; 2] = if self.prefer_hardware {
            [PointKind::Hardware, PointKind::Software]
        } else {
            [PointKind::Software, PointKind::Hardware]
        };
        let mut refusal = None;
        for kind in order {
            let skip = match kind {
                PointKind::Software => self.no_software,
                _ => self.no_hardware,
            };
            if skip {
                continue;
            }
            match self.client.point(true, kind, address, 1) {
                Ok(PointOutcome::Done) => {
                    let way = if kind == PointKind::Software { Planted::Software } else { Planted::Hardware };
                    self.breakpoints.insert(address, way);
                    return Ok(());
                }
                Ok(PointOutcome::Unsupported) => match kind {
                    PointKind::Software => self.no_software = true,
                    _ => self.no_hardware = true,
                },
                // Out of hardware slots, or memory the stub cannot patch: try the other way.
                Err(RemoteError::Refused { code, .. }) => refusal = Some(code),
                Err(e) => return Err(remote(e)),
            }
        }
        if self.no_software && self.no_hardware {
            // Neither kind of point: an int3 of our own.
            let mut original = [0u8; 1];
            if self.client.read_memory(address, &mut original).map_err(remote)? == 1 {
                self.write_memory(address, &[INT3])?;
                self.breakpoints.insert(address, Planted::Memory { original: original[0] });
                return Ok(());
            }
        }
        Err(Error::CannotPlantBreakpoint {
            address,
            reason: format!("the stub refused it (error {})", refusal.unwrap_or_else(|| "unknown".into())),
        })
    }

    fn remove_breakpoint(&mut self, address: u64) -> Result<()> {
        self.alive()?;
        match self.breakpoints.remove(&address) {
            Some(Planted::Software) => self.client.point(false, PointKind::Software, address, 1).map_err(remote)?,
            Some(Planted::Hardware) => self.client.point(false, PointKind::Hardware, address, 1).map_err(remote)?,
            Some(Planted::Memory { original }) => {
                self.write_memory(address, &[original])?;
                PointOutcome::Done
            }
            None => PointOutcome::Done,
        };
        Ok(())
    }

    /// `si_code` and fault address: from the stub's `siginfo` when it has
    /// one (gdbserver), else worked out from the stop reply.
    fn signal_info(&mut self, tid: i32) -> Result<SignalInfo> {
        self.alive()?;
        if let Some(info) = self.thread(tid)?.siginfo {
            return Ok(info);
        }
        let stop = self.thread(tid)?.stop.clone();
        let mut info = SignalInfo { signal: stop.signal, ..Default::default() };
        let from_stub = if self.client.features.siginfo && stop.signal != 0 && !stop.memory_breakpoint {
            self.client.select_thread(self.pid, tid).map_err(|e| self.thread_error(tid, e))?;
            self.client.xfer("siginfo", "").ok().flatten().filter(|b| b.len() >= 24)
        } else {
            None
        };
        match from_stub {
            Some(raw) => {
                info.code = i32::from_le_bytes(raw[8..12].try_into().expect("4 bytes"));
                info.address = u64::from_le_bytes(raw[16..24].try_into().expect("8 bytes"));
            }
            None => {
                info.code = match (&stop.cause, stop.signal) {
                    (_, s) if s != crate::signal_numbers::SIGTRAP => 0,
                    (Some(StopCause::SoftwareBreakpoint), _) => TRAP_BY_INT3,
                    (Some(StopCause::HardwareBreakpoint | StopCause::Watch { .. }), _) => TRAP_HWBKPT,
                    _ if stop.memory_breakpoint => TRAP_BY_INT3,
                    _ if stop.stepped => TRAP_TRACE,
                    _ => {
                        let pc = self.pc_of(tid)?;
                        if self.breakpoints.contains_key(&pc) {
                            TRAP_BY_INT3
                        } else {
                            0
                        }
                    }
                };
                if let Some(StopCause::Watch { address, .. }) = stop.cause {
                    info.address = address;
                }
            }
        }
        // A step's own trap is no exception of the program's; a fault while stepping is.
        let own_trap = stop.signal == crate::signal_numbers::SIGTRAP && (stop.stepped || stop.cause.is_some());
        if self.kind == RemoteKind::Windows && stop.signal != 0 && !own_trap {
            self.add_windows_exception(tid, &mut info);
        }
        self.thread(tid)?.siginfo = Some(info);
        Ok(info)
    }

    /// The NTSTATUS behind a Windows stop, from the stub (`monitor
    /// exception`); an access violation's kind and address replace the
    /// signal's code and fault address. A stub that cannot tell leaves the signal alone.
    fn add_windows_exception(&mut self, tid: i32, info: &mut SignalInfo) {
        let Ok(answer) = self.client.monitor("exception") else { return };
        let Some(exception) = super::windows_exception::parse(&answer).filter(|e| e.tid == tid) else { return };
        *info = info.with_exception(exception.code, &exception.parameters);
        if let Some(view) = self.threads.get_mut(&tid) {
            view.stop.second_chance = Some(!exception.first_chance);
        }
    }

    fn image(&mut self) -> Result<Image> {
        self.alive()?;
        if self.kind == RemoteKind::Machine {
            return Ok(Image {
                executable: self.executable.clone().unwrap_or_default(),
                auxv: Auxv::default(),
                raw_auxv: Vec::new(),
                pe_base: None,
            });
        }
        if self.kind == RemoteKind::Windows {
            return self.windows_image();
        }
        let raw_auxv = if self.client.features.auxv {
            self.client.xfer("auxv", "").map_err(remote)?.unwrap_or_default()
        } else {
            Vec::new()
        };
        let executable = match &self.executable {
            Some(p) => p.clone(),
            None => {
                let named = if self.client.features.exec_file {
                    self.client.xfer("exec-file", &format!("{:x}", self.pid)).map_err(remote)?
                } else {
                    None
                };
                let named = named.map(|b| PathBuf::from(String::from_utf8_lossy(&b).into_owned()));
                match named {
                    Some(p) if p.is_file() => p,
                    Some(p) => {
                        return Err(Error::BadTargetData {
                            what: format!("the program of remote process {}", self.pid),
                            reason: format!(
                            "it runs {} on the stub's machine, which is not on this one: give a copy of the program",
                            p.display()
                        ),
                        })
                    }
                    None => {
                        return Err(Error::BadTargetData {
                            what: format!("the program of remote process {}", self.pid),
                            reason: "the stub does not say which program it runs: give the program".into(),
                        })
                    }
                }
            }
        };
        if raw_auxv.is_empty() {
            return Err(Error::BadTargetData {
                what: format!("remote process {}", self.pid),
                reason: "the stub does not give its auxiliary vector (qXfer:auxv:read)".into(),
            });
        }
        Ok(Image { auxv: Auxv::parse(&raw_auxv), executable, raw_auxv, pe_base: None })
    }

    /// A Windows program: the PE file given, found in memory where it was linked to go.
    fn windows_image(&mut self) -> Result<Image> {
        let pid = self.pid;
        let what = move || format!("the program of remote Windows process {pid}");
        let executable = self.executable.clone().ok_or_else(|| Error::BadTargetData {
            what: what(),
            reason: "the stub does not say which program it runs: give the program (the .exe file)".into(),
        })?;
        let header = crate::module::read_head(&executable).and_then(|h| crate::pe_image::parse_header(&h));
        let header = header.ok_or_else(|| Error::BadTargetData {
            what: format!("executable {}", executable.display()),
            reason: "not a 64-bit PE file (a Windows program is debugged with its .exe)".into(),
        })?;
        // Wine maps a program where it was linked to go; a relocated one
        // would need the stub to say where (not done yet).
        let mut in_memory = [0u8; 2];
        if self.read_memory(header.image_base, &mut in_memory) != 2 || !crate::pe_image::is_pe(&in_memory) {
            return Err(Error::BadTargetData {
                what: what(),
                reason: format!(
                    "no image at its link-time base {:#x} (relocated programs are not supported yet)",
                    header.image_base
                ),
            });
        }
        Ok(Image { executable, auxv: Auxv::default(), raw_auxv: Vec::new(), pe_base: Some(header.image_base) })
    }

    /// What the stub cannot list (it has no `/proc/PID/maps`): the images
    /// of a Windows process, section by section as their headers in memory
    /// describe them. Stacks and heaps are not in it.
    fn windows_memory_map(&mut self) -> Result<Vec<MemoryRegion>> {
        let image = self.windows_image()?;
        let mut images = vec![(image.executable, image.pe_base.unwrap_or_default())];
        images.extend(self.windows_modules()?);
        let mut regions = Vec::new();
        for (path, base) in images {
            let mut headers = vec![0u8; 0x1000];
            let n = self.read_memory(base, &mut headers);
            let path = path.to_string_lossy().into_owned();
            let region = |start: u64, end: u64, readable, writable, executable| MemoryRegion {
                start,
                end,
                readable,
                writable,
                executable,
                shared: false,
                offset: 0,
                path: path.clone(),
            };
            let Some(headers_end) = base.checked_add(0x1000) else { continue };
            regions.push(region(base, headers_end, true, false, false));
            for section in crate::pe_image::sections(&headers[..n]) {
                // Headers from memory are the program's to write: nothing is trusted to fit.
                let pages = section.size.div_ceil(0x1000).max(1).saturating_mul(0x1000);
                let Some((start, end)) = base.checked_add(section.rva).and_then(|s| Some((s, s.checked_add(pages)?)))
                else {
                    continue;
                };
                regions.push(region(start, end, section.readable, section.writable, section.executable));
            }
        }
        regions.sort_by_key(|r| r.start);
        Ok(regions)
    }

    /// The DLLs of a Windows process, from the stub's list: each at the
    /// address of its first section less 0x1000 (gdb's convention), as files here.
    fn windows_modules(&mut self) -> Result<Vec<(PathBuf, u64)>> {
        self.alive()?;
        let doc = self.client.xfer("libraries", "").map_err(remote)?.unwrap_or_default();
        Ok(lists::windows_libraries(&String::from_utf8_lossy(&doc))
            .into_iter()
            // A segment below the first page is no image's: a broken list.
            .filter_map(|library| {
                Some((super::wine_paths::host_path(&library.name), library.segment.checked_sub(0x1000)?))
            })
            .collect())
    }

    fn memory_map(&mut self) -> Result<Vec<MemoryRegion>> {
        self.alive()?;
        if let Some(map) = &self.memory_map {
            return Ok(map.clone());
        }
        if let Some(maps) = &self.maps {
            return Ok(maps.clone());
        }
        if self.kind == RemoteKind::Windows {
            let maps = self.windows_memory_map()?;
            self.maps = Some(maps.clone());
            return Ok(maps);
        }
        if self.kind == RemoteKind::Process {
            let maps = self.client.read_host_file(Some(self.pid), &format!("/proc/{}/maps", self.pid));
            if let Some(text) = maps.map_err(remote)? {
                let maps = crate::linux::maps::parse_maps(&String::from_utf8_lossy(&text));
                self.maps = Some(maps.clone());
                return Ok(maps);
            }
        }
        Err(not_supported("the memory map", "this stub (no host file access)"))
    }

    fn signal_would_kill(&mut self, tid: i32, signal: i32) -> bool {
        if self.kind == RemoteKind::Machine || self.alive().is_err() {
            return false;
        }
        let path = format!("/proc/{}/task/{tid}/status", self.pid);
        match self.client.read_host_file(Some(self.pid), &path) {
            Ok(Some(status)) => crate::linux::proc_status::would_kill_with(&String::from_utf8_lossy(&status), signal),
            // Without the process's signal dispositions: only signals no program survives.
            _ => matches!(signal, crate::signal_numbers::SIGKILL),
        }
    }
}

/// What ptrace says of a thread that is gone: `ESRCH`, which the engine
/// expects at any time (where `ESRCH` is no OS error, the same as gone).
fn thread_gone(tid: i32) -> Error {
    #[cfg(unix)]
    return Error::Os {
        op: "reach the thread",
        target: tid,
        source: std::io::Error::from_raw_os_error(crate::linux_abi::ESRCH),
    };
    #[cfg(not(unix))]
    return Error::ProcessGone(tid);
}

fn point_name(kind: PointKind) -> &'static str {
    match kind {
        PointKind::Software => "software breakpoints",
        PointKind::Hardware => "hardware breakpoints",
        PointKind::WriteWatch => "write watchpoints",
        PointKind::ReadWatch => "read watchpoints",
        PointKind::AccessWatch => "read/write watchpoints",
    }
}

impl Target for RemoteTarget {
    fn kind(&self) -> &'static str {
        match self.0.borrow().kind {
            RemoteKind::Process => "remote process",
            RemoteKind::Machine => "remote machine",
            RemoteKind::Windows => "remote Windows process",
        }
    }

    fn pid(&self) -> i32 {
        self.0.borrow().pid
    }

    fn thread_ids(&self) -> Result<Vec<i32>> {
        let r = self.0.borrow();
        if r.client.is_lost() && r.finished.is_none() {
            return Err(remote(r.client.lost_error()));
        }
        Ok(r.state.thread_ids())
    }

    fn read_memory(&self, address: u64, buf: &mut [u8]) -> usize {
        let mut r = self.0.borrow_mut();
        if r.alive().is_err() {
            return 0;
        }
        r.read_memory(address, buf)
    }

    fn memory_map(&self) -> Result<Vec<MemoryRegion>> {
        self.0.borrow_mut().memory_map()
    }

    fn registers(&self, tid: i32) -> Result<Registers> {
        let mut r = self.0.borrow_mut();
        let bytes = r.registers_of(tid)?;
        Ok(r.client.layout.general(&bytes))
    }

    fn pc(&self, tid: i32) -> Result<u64> {
        self.0.borrow_mut().pc_of(tid)
    }

    fn fp_registers(&self, tid: i32) -> Result<FpRegisters> {
        let mut r = self.0.borrow_mut();
        let bytes = r.registers_of(tid)?;
        if r.client.layout.find("fctrl").is_none() {
            return Err(not_supported("x87/SSE registers", "this stub (none in its description)"));
        }
        Ok(r.client.layout.fp(&bytes))
    }

    fn signal_info(&self, tid: i32) -> Result<SignalInfo> {
        self.0.borrow_mut().signal_info(tid)
    }

    fn image(&self) -> Result<Image> {
        self.0.borrow_mut().image()
    }

    fn listed_modules(&self) -> Result<Option<Vec<(PathBuf, u64)>>> {
        let mut r = self.0.borrow_mut();
        if r.kind != RemoteKind::Windows {
            return Ok(None);
        }
        r.windows_modules().map(Some)
    }

    fn extra_registers(&self, tid: i32) -> Result<Vec<(String, u64)>> {
        let mut r = self.0.borrow_mut();
        let bytes = r.registers_of(tid)?;
        Ok(r.client.layout.system(&bytes))
    }

    fn write_access(&self) -> Option<&dyn WriteAccess> {
        Some(self)
    }

    fn run_control(&self) -> Option<&dyn RunControl> {
        Some(self)
    }

    fn debug_registers(&self) -> Option<&dyn DebugRegisters> {
        Some(self)
    }

    fn target_breakpoints(&self) -> Option<&dyn TargetBreakpoints> {
        Some(self)
    }
}

impl WriteAccess for RemoteTarget {
    fn write_memory(&self, address: u64, data: &[u8]) -> Result<()> {
        let mut r = self.0.borrow_mut();
        r.alive()?;
        let end = address.saturating_add(data.len() as u64);
        let mut data = data.to_vec();
        // Our own int3 bytes stay; what was written under them is what they now replace.
        let ours: Vec<u64> = r.breakpoints.range(address..end).map(|(&a, _)| a).collect();
        for at in ours {
            if let Some(Planted::Memory { original }) = r.breakpoints.get_mut(&at) {
                *original = data[(at - address) as usize];
                data[(at - address) as usize] = INT3;
            }
        }
        r.write_memory(address, &data)
    }

    fn set_registers(&self, tid: i32, regs: &Registers) -> Result<()> {
        let mut r = self.0.borrow_mut();
        let mut bytes = r.registers_of(tid)?;
        let changed = r.client.layout.store_general(&mut bytes, regs);
        r.store_registers(tid, bytes, &changed)
    }

    fn set_pc(&self, tid: i32, pc: u64) -> Result<()> {
        let mut r = self.0.borrow_mut();
        if r.pc_of(tid)? == pc {
            return Ok(());
        }
        let mut bytes = r.registers_of(tid)?;
        r.client.layout.write(&mut bytes, "rip", pc as u128);
        r.store_registers(tid, bytes, &["rip"])
    }

    fn set_fp_registers(&self, tid: i32, regs: &FpRegisters) -> Result<()> {
        let mut r = self.0.borrow_mut();
        let mut bytes = r.registers_of(tid)?;
        let changed = r.client.layout.store_fp(&mut bytes, regs);
        let names: Vec<&str> = changed.iter().map(String::as_str).collect();
        let names: Vec<&str> = if names.len() > 4 { Vec::from(["st0", "st1", "st2", "st3", "st4"]) } else { names };
        // More than a few: the whole packet goes (write_registers takes `G` past four names).
        r.store_registers(tid, bytes, &names)
    }
}

impl RunControl for RemoteTarget {
    fn resume(&self, tid: i32, how: Resume, signal: i32) -> Result<()> {
        let mut r = self.0.borrow_mut();
        r.alive()?;
        if !r.state.knows(tid) {
            // Gone since the last stop; its exit is (or was) reported.
            return Err(thread_gone(tid));
        }
        r.state.resume(tid, how, signal);
        Ok(())
    }

    fn is_second_chance(&self, tid: i32) -> Option<bool> {
        self.0.borrow().threads.get(&tid).and_then(|v| v.stop.second_chance)
    }

    fn interrupt(&self, tid: i32) -> Result<()> {
        let mut r = self.0.borrow_mut();
        if r.finished.is_some() {
            return Err(Error::ProcessGone(r.pid));
        }
        if !r.state.knows(tid) {
            return Err(Error::ProcessGone(r.pid));
        }
        if r.state.interrupt(tid) == InterruptNeed::Break {
            r.client.interrupt().map_err(remote)?;
        }
        Ok(())
    }

    fn wait_thread(&self, tid: i32) -> Result<Option<StopReason>> {
        super::all_stop::wait_thread(&mut *self.0.borrow_mut(), tid)
    }

    fn detach_thread(&self, _tid: i32, _signal: i32) -> Result<()> {
        let mut r = self.0.borrow_mut();
        if r.finished.is_some() || r.client.is_lost() {
            return Ok(());
        }
        // The points the engine's registers asked for go with us.
        let planted: Vec<Point> = r.slots.planted().collect();
        for p in planted {
            let _ = r.client.point(false, p.kind, p.address, p.len);
        }
        let pid = r.pid;
        r.client.detach(pid).map_err(remote)?;
        r.state.clear();
        r.finished = Some("detached");
        Ok(())
    }

    fn kill(&self) -> Result<()> {
        let mut r = self.0.borrow_mut();
        r.alive()?;
        let pid = r.pid;
        let leader = r.process_thread();
        r.client.kill(pid).map_err(remote)?;
        r.state.clear();
        r.threads.clear();
        r.finished = Some("killed");
        r.state.queue(leader, StopReason::Killed { signal: crate::signal_numbers::SIGKILL });
        Ok(())
    }

    fn set_kill_on_exit(&self, _tid: i32, _on: bool) -> Result<()> {
        Ok(())
    }

    fn open_child(&self, _child: i32) -> Result<Box<dyn Target>> {
        Err(not_supported("forked children", "remote target"))
    }

    fn reopen_after_exec(&self) -> Result<Box<dyn Target>> {
        Ok(Box::new(self.clone()))
    }

    fn signal_would_kill(&self, tid: i32, signal: i32) -> bool {
        self.0.borrow_mut().signal_would_kill(tid, signal)
    }
}

impl DebugRegisters for RemoteTarget {
    fn debug_register(&self, tid: i32, index: usize) -> Result<u64> {
        let r = self.0.borrow();
        r.alive()?;
        Ok(r.slots.get(tid, index))
    }

    fn set_debug_register(&self, tid: i32, index: usize, value: u64) -> Result<()> {
        let mut r = self.0.borrow_mut();
        r.alive()?;
        if r.slots.set(tid, index, value) {
            r.sync_points()?;
        }
        Ok(())
    }
}

impl TargetBreakpoints for RemoteTarget {
    fn insert_breakpoint(&self, address: u64) -> Result<()> {
        self.0.borrow_mut().insert_breakpoint(address)
    }

    fn remove_breakpoint(&self, address: u64) -> Result<()> {
        self.0.borrow_mut().remove_breakpoint(address)
    }

    /// dbgkit-winstub runs the instruction under its int3 itself (out of
    /// line) when a thread is resumed on it. (It takes `Z0`, so this target
    /// never writes int3s of its own there.)
    fn steps_over_itself(&self) -> bool {
        self.0.borrow().steps_over_own_breakpoints
    }
}

impl super::all_stop::AllStopDriver for Remote {
    fn all_stop(&mut self) -> &mut AllStop {
        &mut self.state
    }

    fn finished(&self) -> bool {
        self.finished.is_some()
    }

    fn flush(&mut self) -> Result<()> {
        Remote::flush(self)
    }

    fn next_stop(&mut self, mode: WaitMode) -> Result<Option<Option<(i32, StopReason)>>> {
        let wait = match mode {
            WaitMode::Poll => Wait::Poll,
            WaitMode::Block => Wait::Block,
            WaitMode::Interruptible => Wait::Interruptible,
        };
        match self.client.wait_stop(wait).map_err(remote)? {
            None => Ok(None),
            Some(reply) => self.on_reply(reply).map(Some),
        }
    }
}

/// The stops of one remote target.
struct RemoteEvents(Rc<RefCell<Remote>>);

impl EventSource for RemoteEvents {
    /// A Windows stub sends the program's debug strings as console output.
    fn take_debug_output(&self) -> Vec<String> {
        let mut r = self.0.borrow_mut();
        if r.kind != RemoteKind::Windows {
            return Vec::new();
        }
        let text = r.client.take_console();
        String::from_utf8_lossy(&text).lines().map(str::to_string).collect()
    }

    fn wait_any(&self, mode: WaitMode) -> Result<Option<(i32, StopReason)>> {
        super::all_stop::wait_any(&mut *self.0.borrow_mut(), mode)
    }
}
