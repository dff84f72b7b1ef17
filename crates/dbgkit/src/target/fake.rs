//! A fake in-memory target for testing the engine's event dispatch and
//! all-stop logic as a state machine, with no process behind it.
//!
//! Each thread follows a script. Code is one byte per instruction. A
//! running thread executes the instruction at its pc, then goes where the
//! script's next `Jump` says; executing an address that holds `0xCC` (or a
//! breakpoint the target owns) stops it with `SIGTRAP` as an `int3` would,
//! before it moves on. A step executes one instruction. Other actions
//! (signals, exits, new threads) happen when they reach the head of the
//! script; an empty script leaves the thread running forever. Stops are produced lazily, one thread
//! at a time in thread-id order, when the engine waits, so every test is
//! deterministic. A script step marked `imminent` happens even when the
//! thread is interrupted first: two threads hitting breakpoints "at once".

use super::*;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::rc::Rc;

/// What a thread does next when it runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    /// Execute the instruction at the pc, then continue at this address.
    Jump(u64),
    /// Receive a signal (a fault, `kill` from outside...).
    Raise(i32),
    /// Stop in a group-stop.
    GroupStop(i32),
    /// End the thread with this exit code.
    Exit(i32),
    /// Create a thread with this id (it starts stopped, then runs its own script).
    Spawn(i32),
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Step {
    action: Action,
    imminent: bool,
}

#[derive(Debug)]
struct FakeThread {
    pc: u64,
    running: bool,
    stepping: bool,
    /// The stop the thread is in, with its signal information.
    signal: SignalInfo,
    script: VecDeque<Step>,
    /// Signals delivered to the thread by resumes, in order.
    delivered: Vec<i32>,
}

#[derive(Debug)]
struct Machine {
    pid: i32,
    code_base: u64,
    code: Vec<u8>,
    threads: BTreeMap<i32, FakeThread>,
    /// Stops produced and not yet taken by a wait.
    pending: VecDeque<(i32, StopReason)>,
    /// Scripts of threads not created yet.
    unborn: BTreeMap<i32, VecDeque<Step>>,
    /// Offer [`TargetBreakpoints`] instead of taking written bytes.
    owns_breakpoints: bool,
    owned: BTreeSet<u64>,
    /// Offer write access and run control (false: a read-only target such as a core file).
    live: bool,
    /// Every request the engine made, for tests to check (`resume 2 step 0`).
    log: Vec<String>,
}

/// The fake target; clones share one machine.
#[derive(Clone, Debug)]
pub(crate) struct Fake(Rc<RefCell<Machine>>);

const TRAP_TRACE: i32 = 2;

impl Fake {
    /// A stopped process `pid` with threads `tids` (the leader first), each
    /// at `code_base`, and a page of code (one-byte `nop`s) at `code_base`.
    pub(crate) fn new(pid: i32, tids: &[i32], code_base: u64) -> Fake {
        let threads = tids
            .iter()
            .map(|&tid| {
                let t = FakeThread {
                    pc: code_base,
                    running: false,
                    stepping: false,
                    signal: SignalInfo::default(),
                    script: VecDeque::new(),
                    delivered: Vec::new(),
                };
                (tid, t)
            })
            .collect();
        Fake(Rc::new(RefCell::new(Machine {
            pid,
            code_base,
            code: vec![0x90; 4096],
            threads,
            pending: VecDeque::new(),
            unborn: BTreeMap::new(),
            owns_breakpoints: false,
            owned: BTreeSet::new(),
            live: true,
            log: Vec::new(),
        })))
    }

    /// The target plants breakpoints itself (as a remote stub's `Z0`).
    pub(crate) fn owning_breakpoints(self) -> Fake {
        self.0.borrow_mut().owns_breakpoints = true;
        self
    }

    /// Only reads (as a core file): no write access, no run control.
    pub(crate) fn read_only(self) -> Fake {
        self.0.borrow_mut().live = false;
        self
    }

    /// Appends to a thread's script (or an unborn thread's).
    pub(crate) fn script(&self, tid: i32, actions: &[Action]) {
        self.push(tid, actions, false);
    }

    /// Appends steps that happen even if the thread is interrupted first.
    pub(crate) fn script_imminent(&self, tid: i32, actions: &[Action]) {
        self.push(tid, actions, true);
    }

    fn push(&self, tid: i32, actions: &[Action], imminent: bool) {
        let mut m = self.0.borrow_mut();
        let steps = actions.iter().map(|a| Step { action: a.clone(), imminent });
        match m.threads.get_mut(&tid) {
            Some(t) => t.script.extend(steps),
            None => m.unborn.entry(tid).or_default().extend(steps),
        }
    }

    pub(crate) fn running(&self, tid: i32) -> bool {
        self.0.borrow().threads.get(&tid).is_some_and(|t| t.running)
    }

    pub(crate) fn pc_of(&self, tid: i32) -> u64 {
        self.0.borrow().threads[&tid].pc
    }

    pub(crate) fn code_byte(&self, address: u64) -> u8 {
        let m = self.0.borrow();
        m.code[(address - m.code_base) as usize]
    }

    pub(crate) fn owned_breakpoints(&self) -> Vec<u64> {
        self.0.borrow().owned.iter().copied().collect()
    }

    pub(crate) fn delivered(&self, tid: i32) -> Vec<i32> {
        self.0.borrow().threads[&tid].delivered.clone()
    }

    pub(crate) fn log(&self) -> Vec<String> {
        self.0.borrow().log.clone()
    }

    /// The event source that reports this machine's stops.
    pub(crate) fn events(&self) -> Box<dyn EventSource> {
        Box::new(self.clone())
    }
}

impl Machine {
    fn is_breakpoint(&self, address: u64) -> bool {
        if self.owned.contains(&address) {
            return true;
        }
        let at = address.wrapping_sub(self.code_base) as usize;
        self.code.get(at) == Some(&0xCC)
    }

    /// Runs `tid` until it stops; `None` when its script is done (it blocks forever).
    fn advance(&mut self, tid: i32) -> Option<StopReason> {
        loop {
            let t = self.threads.get(&tid)?;
            let (pc, stepping) = (t.pc, t.stepping);
            match t.script.front()?.action.clone() {
                Action::Jump(next) => {
                    if self.is_breakpoint(pc) {
                        // An int3 in memory leaves pc after it; a stub reports the breakpoint's address.
                        let owned = self.owned.contains(&pc);
                        let t = self.threads.get_mut(&tid)?;
                        t.pc = if owned { pc } else { pc + 1 };
                        t.signal = SignalInfo {
                            signal: crate::signal_numbers::SIGTRAP,
                            code: TRAP_BY_INT3,
                            ..Default::default()
                        };
                        return Some(StopReason::Signal(crate::signal_numbers::SIGTRAP));
                    }
                    let t = self.threads.get_mut(&tid)?;
                    t.script.pop_front();
                    t.pc = next;
                    if stepping {
                        t.signal = SignalInfo {
                            signal: crate::signal_numbers::SIGTRAP,
                            code: TRAP_TRACE,
                            ..Default::default()
                        };
                        return Some(StopReason::Signal(crate::signal_numbers::SIGTRAP));
                    }
                }
                other => {
                    self.threads.get_mut(&tid)?.script.pop_front();
                    return self.perform(tid, other);
                }
            }
        }
    }

    /// One scripted action other than a jump: the stop it causes.
    fn perform(&mut self, tid: i32, action: Action) -> Option<StopReason> {
        match action {
            Action::Jump(_) => None,
            Action::Raise(signal) => {
                let t = self.threads.get_mut(&tid)?;
                t.signal = SignalInfo { signal, address: t.pc, ..Default::default() };
                Some(StopReason::Signal(signal))
            }
            Action::GroupStop(signal) => Some(StopReason::GroupStop(signal)),
            Action::Exit(code) => {
                self.threads.remove(&tid);
                Some(StopReason::Exited(code))
            }
            Action::Spawn(child) => {
                let pc = self.threads.get(&tid)?.pc;
                let script = self.unborn.remove(&child).unwrap_or_default();
                let t = FakeThread {
                    pc,
                    running: false,
                    stepping: false,
                    signal: SignalInfo::default(),
                    script,
                    delivered: Vec::new(),
                };
                self.threads.insert(child, t);
                self.pending.push_back((child, StopReason::Interrupted));
                Some(StopReason::NewThread { child })
            }
        }
    }

    /// Takes a stop already produced for `tid`, if any.
    fn take_pending(&mut self, tid: i32) -> Option<StopReason> {
        let i = self.pending.iter().position(|(t, _)| *t == tid)?;
        self.pending.remove(i).map(|(_, s)| s)
    }

    /// The stop `tid` comes to when it runs now, marking it stopped.
    fn run_to_stop(&mut self, tid: i32) -> Option<StopReason> {
        let stop = self.advance(tid)?;
        if let Some(t) = self.threads.get_mut(&tid) {
            t.running = false;
        }
        Some(stop)
    }
}

impl Target for Fake {
    fn kind(&self) -> &'static str {
        if self.0.borrow().live {
            "fake live process"
        } else {
            "fake core file"
        }
    }

    fn pid(&self) -> i32 {
        self.0.borrow().pid
    }

    fn thread_ids(&self) -> Result<Vec<i32>> {
        Ok(self.0.borrow().threads.keys().copied().collect())
    }

    fn read_memory(&self, address: u64, buf: &mut [u8]) -> usize {
        let m = self.0.borrow();
        let Some(start) = address.checked_sub(m.code_base).map(|a| a as usize) else { return 0 };
        let available = m.code.len().saturating_sub(start).min(buf.len());
        buf[..available].copy_from_slice(&m.code[start..start + available]);
        available
    }

    fn memory_map(&self) -> Result<Vec<MemoryRegion>> {
        let m = self.0.borrow();
        Ok(vec![MemoryRegion {
            start: m.code_base,
            end: m.code_base + m.code.len() as u64,
            readable: true,
            writable: false,
            executable: true,
            shared: false,
            offset: 0,
            path: String::new(),
        }])
    }

    fn registers(&self, tid: i32) -> Result<Registers> {
        let m = self.0.borrow();
        let t = m.threads.get(&tid).ok_or(Error::NoSuchThread { pid: m.pid, tid })?;
        Ok(Registers { rip: t.pc, rsp: 0x7fff_0000, ..Default::default() })
    }

    fn fp_registers(&self, _tid: i32) -> Result<FpRegisters> {
        Ok(FpRegisters::default())
    }

    fn signal_info(&self, tid: i32) -> Result<SignalInfo> {
        let m = self.0.borrow();
        Ok(m.threads.get(&tid).ok_or(Error::NoSuchThread { pid: m.pid, tid })?.signal)
    }

    fn image(&self) -> Result<Image> {
        // The test binary itself stands for the executable, loaded at its own addresses.
        let executable = std::env::current_exe()?;
        let head = crate::module::read_head(&executable).unwrap_or_default();
        let phdr = crate::module::phdr_vaddr(&head).unwrap_or(0);
        let auxv = Auxv { phdr, entry: crate::module::elf_entry(&head).unwrap_or(0), ..Default::default() };
        Ok(Image { executable, auxv, raw_auxv: Vec::new(), pe_base: None })
    }

    fn write_access(&self) -> Option<&dyn WriteAccess> {
        self.0.borrow().live.then_some(self as &dyn WriteAccess)
    }

    fn run_control(&self) -> Option<&dyn RunControl> {
        self.0.borrow().live.then_some(self as &dyn RunControl)
    }

    fn target_breakpoints(&self) -> Option<&dyn TargetBreakpoints> {
        let m = self.0.borrow();
        (m.live && m.owns_breakpoints).then_some(self as &dyn TargetBreakpoints)
    }
}

impl WriteAccess for Fake {
    fn write_memory(&self, address: u64, data: &[u8]) -> Result<()> {
        let mut m = self.0.borrow_mut();
        let pid = m.pid;
        let start = address.wrapping_sub(m.code_base) as usize;
        let slot =
            m.code.get_mut(start..start + data.len()).ok_or(Error::UnmappedMemory { pid, address, len: data.len() })?;
        slot.copy_from_slice(data);
        Ok(())
    }

    fn set_registers(&self, tid: i32, regs: &Registers) -> Result<()> {
        self.set_pc(tid, regs.rip)
    }

    fn set_pc(&self, tid: i32, pc: u64) -> Result<()> {
        let mut m = self.0.borrow_mut();
        let pid = m.pid;
        m.threads.get_mut(&tid).ok_or(Error::NoSuchThread { pid, tid })?.pc = pc;
        Ok(())
    }

    fn set_fp_registers(&self, _tid: i32, _regs: &FpRegisters) -> Result<()> {
        Ok(())
    }
}

impl RunControl for Fake {
    fn resume(&self, tid: i32, how: Resume, signal: i32) -> Result<()> {
        let mut m = self.0.borrow_mut();
        m.log.push(format!("resume {tid} {how:?} {signal}"));
        let pid = m.pid;
        let t = m.threads.get_mut(&tid).ok_or(Error::NoSuchThread { pid, tid })?;
        assert!(!t.running, "thread {tid} resumed while running");
        if signal != 0 {
            t.delivered.push(signal);
        }
        t.running = how != Resume::Listen;
        t.stepping = how == Resume::Step;
        Ok(())
    }

    fn interrupt(&self, tid: i32) -> Result<()> {
        let mut m = self.0.borrow_mut();
        m.log.push(format!("interrupt {tid}"));
        let imminent = m.threads.get(&tid).and_then(|t| t.script.front()).is_some_and(|s| s.imminent);
        if imminent {
            // It got there first: its own stop comes, then the interrupt's.
            if let Some(stop) = m.run_to_stop(tid) {
                m.pending.push_back((tid, stop));
            }
            if m.threads.contains_key(&tid) {
                m.pending.push_back((tid, StopReason::Interrupted));
            }
            return Ok(());
        }
        if let Some(t) = m.threads.get_mut(&tid) {
            t.running = false;
            m.pending.push_back((tid, StopReason::Interrupted));
        }
        Ok(())
    }

    fn wait_thread(&self, tid: i32) -> Result<Option<StopReason>> {
        let mut m = self.0.borrow_mut();
        if let Some(stop) = m.take_pending(tid) {
            return Ok(Some(stop));
        }
        if m.threads.get(&tid).is_some_and(|t| t.running) {
            return Ok(m.run_to_stop(tid));
        }
        Ok(None)
    }

    fn detach_thread(&self, tid: i32, signal: i32) -> Result<()> {
        self.0.borrow_mut().log.push(format!("detach {tid} {signal}"));
        Ok(())
    }

    fn kill(&self) -> Result<()> {
        let mut m = self.0.borrow_mut();
        m.log.push("kill".into());
        let tids: Vec<i32> = m.threads.keys().copied().collect();
        m.threads.clear();
        for tid in tids {
            m.pending.push_back((tid, StopReason::Killed { signal: crate::signal_numbers::SIGKILL }));
        }
        Ok(())
    }

    fn set_kill_on_exit(&self, _tid: i32, _on: bool) -> Result<()> {
        Ok(())
    }

    fn open_child(&self, _child: i32) -> Result<Box<dyn Target>> {
        Err(not_supported("forked children", "fake"))
    }

    fn reopen_after_exec(&self) -> Result<Box<dyn Target>> {
        Ok(Box::new(self.clone()))
    }

    fn signal_would_kill(&self, _tid: i32, signal: i32) -> bool {
        matches!(
            signal,
            crate::signal_numbers::SIGSEGV | crate::signal_numbers::SIGKILL | crate::signal_numbers::SIGABRT
        )
    }
}

impl TargetBreakpoints for Fake {
    fn insert_breakpoint(&self, address: u64) -> Result<()> {
        let mut m = self.0.borrow_mut();
        m.log.push(format!("insert {address:#x}"));
        m.owned.insert(address);
        Ok(())
    }

    fn remove_breakpoint(&self, address: u64) -> Result<()> {
        let mut m = self.0.borrow_mut();
        m.log.push(format!("remove {address:#x}"));
        m.owned.remove(&address);
        Ok(())
    }
}

impl EventSource for Fake {
    fn wait_any(&self, _mode: WaitMode) -> Result<Option<(i32, StopReason)>> {
        let mut m = self.0.borrow_mut();
        if let Some(stop) = m.pending.pop_front() {
            return Ok(Some(stop));
        }
        let running: Vec<i32> = m.threads.iter().filter(|(_, t)| t.running).map(|(&tid, _)| tid).collect();
        for tid in running {
            if let Some(stop) = m.run_to_stop(tid) {
                return Ok(Some((tid, stop)));
            }
        }
        Ok(None)
    }
}
