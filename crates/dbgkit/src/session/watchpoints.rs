//! Watchpoints: hardware ones through the debug registers (per process,
//! applied to every thread, new ones included), and page watchpoints that
//! take access rights away from the watched pages.

use super::Session;
use crate::breakpoints::hardware::{dr7_with, fired_slots, split_range, WatchAccess};
use crate::error::{Error, Result};
use crate::event::EventKind;
use crate::process::ProcessState;
use crate::signal_numbers::SIGTRAP;
use crate::target::{not_supported, DebugRegisters, StopReason};

/// The target's debug registers, or the error saying it has none.
fn debug_registers(p: &ProcessState) -> Result<&dyn DebugRegisters> {
    p.target.debug_registers().ok_or_else(|| not_supported("hardware breakpoints and watchpoints", p.target.kind()))
}

/// A watchpoint as the user sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchpointInfo {
    pub id: u32,
    pub pid: i32,
    pub address: u64,
    pub len: u64,
    pub access: WatchAccess,
    /// Hits so far.
    pub hits: u64,
    /// True for a page watchpoint, false for a hardware one.
    pub page: bool,
    /// A disabled watchpoint keeps its number and settings but watches nothing.
    pub enabled: bool,
}

impl WatchpointInfo {
    /// What it watches for, in the one list of breakpoints.
    pub fn kind(&self) -> crate::breakpoints::BreakpointKind {
        use crate::breakpoints::BreakpointKind;
        match (self.page, self.access) {
            (true, access) => BreakpointKind::PageWatch { access, len: self.len },
            (false, WatchAccess::Execute) => BreakpointKind::Hardware,
            (false, access) => BreakpointKind::Watch { access, len: self.len },
        }
    }
}

pub(crate) struct Watchpoint {
    pub info: WatchpointInfo,
    /// The watched bytes as last seen, for old and new values.
    pub shadow: Vec<u8>,
    /// Page watchpoints: each watched page and its original protection bits.
    pub pages: Vec<(u64, u64)>,
}

const DR6: usize = 6;
const DR7: usize = 7;
const RESUME_FLAG: u64 = 1 << 16;

impl Watchpoint {
    /// This watchpoint as an entry of the one breakpoint list.
    pub(crate) fn as_breakpoint(&self) -> crate::breakpoints::BreakpointInfo {
        let i = &self.info;
        crate::breakpoints::BreakpointInfo {
            id: i.id,
            pid: i.pid,
            kind: i.kind(),
            address: i.address,
            locations: vec![i.address],
            enabled: i.enabled,
            one_shot: false,
            hits: i.hits,
            fast: false,
            expression: None,
            unresolved: None,
            condition: None,
            ignore_count: 0,
            all_processes: false,
        }
    }
}

impl Session {
    /// A hardware breakpoint: stops before the instruction at `address`
    /// runs, without touching the code (works on read-only code and in
    /// memory shared with other processes).
    pub fn add_hardware_breakpoint(&mut self, pid: i32, address: u64) -> Result<u32> {
        self.add_hardware_watch(pid, address, 1, WatchAccess::Execute)
    }

    /// A hardware data watchpoint on `len` bytes at `address`, for writes or
    /// for reads and writes. Lengths 1, 2, 4 and 8 on aligned addresses use
    /// one debug register; other ranges are split over several when enough
    /// of the four are free.
    pub fn add_watchpoint(&mut self, pid: i32, address: u64, len: u64, access: WatchAccess) -> Result<u32> {
        if access == WatchAccess::Execute {
            return self.add_hardware_breakpoint(pid, address);
        }
        self.add_hardware_watch(pid, address, len, access)
    }

    fn add_hardware_watch(&mut self, pid: i32, address: u64, len: u64, access: WatchAccess) -> Result<u32> {
        if len == 0 || len > 32 {
            return Err(Error::InvalidArgument(format!(
                "cannot watch {len} bytes with the debug registers: 1 to 32 bytes (four registers of 8)"
            )));
        }
        debug_registers(self.process(pid)?)?;
        let mut shadow = vec![0u8; len as usize];
        if access != WatchAccess::Execute {
            // Memory not mapped yet can be watched (the debug registers take
            // any address); its old value reads as zeros.
            self.read_memory_partial(pid, address, &mut shadow)?;
        }
        let id = self.next_breakpoint_id;
        self.claim_debug_slots(pid, id, address, len, access)?;
        self.next_breakpoint_id += 1;
        let info = WatchpointInfo { id, pid, address, len, access, hits: 0, page: false, enabled: true };
        self.watchpoints.insert(id, Watchpoint { info, shadow, pages: Vec::new() });
        Ok(id)
    }

    /// Gives watchpoint `id` the debug registers its range needs (split in
    /// aligned pieces), written into every thread; an error names how many
    /// are needed and free.
    fn claim_debug_slots(&mut self, pid: i32, id: u32, address: u64, len: u64, access: WatchAccess) -> Result<()> {
        self.note_fired_watchpoints(pid);
        let pieces = if access == WatchAccess::Execute { vec![(address, 1)] } else { split_range(address, len) };
        let p = self.process_mut(pid)?;
        let free: Vec<usize> = (0..4).filter(|&i| p.debug_slots[i].is_none()).collect();
        if pieces.len() > free.len() {
            return Err(Error::InvalidArgument(format!(
                "not enough free debug registers: {} bytes at {address:#x} need {}, {} of 4 free",
                len,
                pieces.len(),
                free.len()
            )));
        }
        for (&slot, &(at, size)) in free.iter().zip(&pieces) {
            p.debug_slots[slot] = Some((id, at, size, access));
        }
        if let Err(e) = self.with_stopped(pid, |s| s.apply_debug_registers_all(pid)) {
            self.release_debug_slots(pid, id);
            return Err(e);
        }
        Ok(())
    }

    /// Frees the debug registers of watchpoint `id` (not yet written to the threads).
    fn release_debug_slots(&mut self, pid: i32, id: u32) {
        self.note_fired_watchpoints(pid);
        if let Ok(p) = self.process_mut(pid) {
            for slot in p.debug_slots.iter_mut() {
                if slot.is_some_and(|(owner, ..)| owner == id) {
                    *slot = None;
                }
            }
        }
    }

    /// Enables or disables a watchpoint: its debug registers are given back
    /// (or claimed again), or its pages get their rights back (or lose them).
    pub(crate) fn enable_watchpoint(&mut self, id: u32, enabled: bool) -> Result<()> {
        let w = self.watchpoints.get(&id).ok_or(Error::NoSuchBreakpoint(id))?;
        if w.info.enabled == enabled {
            return Ok(());
        }
        let WatchpointInfo { pid, address, len, access, page, .. } = w.info;
        let pages = w.pages.clone();
        match (page, enabled) {
            (true, true) => self.with_stopped(pid, |s| s.close_watched_pages(pid, id))?,
            (true, false) => self.with_stopped(pid, |s| s.restore_pages(pid, &pages))?,
            (false, true) => {
                self.claim_debug_slots(pid, id, address, len, access)?;
                // The old value starts from now.
                let mut now = vec![0u8; len as usize];
                if access != WatchAccess::Execute && self.read_memory_partial(pid, address, &mut now).is_ok() {
                    self.watchpoints.get_mut(&id).expect("checked above").shadow = now;
                }
            }
            (false, false) => {
                self.release_debug_slots(pid, id);
                self.with_stopped(pid, |s| s.apply_debug_registers_all(pid))?;
            }
        }
        self.watchpoints.get_mut(&id).expect("checked above").info.enabled = enabled;
        Ok(())
    }

    /// Removes a watchpoint (hardware or page).
    pub fn remove_watchpoint(&mut self, id: u32) -> Result<()> {
        let wp = self.watchpoints.get(&id).ok_or(Error::NoSuchBreakpoint(id))?;
        let (pid, page) = (wp.info.pid, wp.info.page);
        if !self.processes.contains_key(&pid) {
            self.watchpoints.remove(&id);
            return Ok(());
        }
        if page {
            let pages = wp.pages.clone();
            self.with_stopped(pid, |s| s.restore_pages(pid, &pages))?;
        } else {
            self.release_debug_slots(pid, id);
            self.with_stopped(pid, |s| s.apply_debug_registers_all(pid))?;
        }
        self.watchpoints.remove(&id);
        Ok(())
    }

    /// One watchpoint.
    pub fn watchpoint(&self, id: u32) -> Option<WatchpointInfo> {
        self.watchpoints.get(&id).map(|w| w.info.clone())
    }

    /// Every watchpoint, by id.
    pub fn watchpoints(&self) -> Vec<WatchpointInfo> {
        self.watchpoints.values().map(|w| w.info.clone()).collect()
    }

    /// Writes the process's debug registers into every thread.
    pub(crate) fn apply_debug_registers_all(&mut self, pid: i32) -> Result<()> {
        let tids: Vec<i32> = self.process(pid)?.threads.keys().copied().collect();
        for tid in tids {
            match self.apply_debug_registers(pid, tid) {
                Err(e) if e.is_gone() => {}
                other => other?,
            }
        }
        Ok(())
    }

    /// Writes the process's debug registers into one (stopped) thread.
    pub(crate) fn apply_debug_registers(&mut self, pid: i32, tid: i32) -> Result<()> {
        let p = self.process(pid)?;
        let slots = p.debug_slots;
        let dr = debug_registers(p)?;
        // Disable first: the kernel checks each address against DR7 as it is written.
        dr.set_debug_register(tid, DR7, 0)?;
        let mut dr7 = 0;
        for (i, slot) in slots.iter().enumerate() {
            let (address, len, access) = slot.map(|(_, a, l, acc)| (a, l, acc)).unwrap_or((0, 1, WatchAccess::Execute));
            dr.set_debug_register(tid, i, address)?;
            if slot.is_some() {
                dr7 = dr7_with(dr7, i, access, len).expect("lengths are checked when set");
            }
        }
        if dr7 != 0 {
            dr.set_debug_register(tid, DR7, dr7)?;
        }
        Ok(())
    }

    /// Clears the debug registers of every thread (detach).
    pub(crate) fn clear_debug_registers(&mut self, pid: i32) {
        let Ok(p) = self.process_mut(pid) else { return };
        if p.debug_slots.iter().all(Option::is_none) {
            return;
        }
        p.debug_slots = [None; 4];
        if let Some(dr) = p.target.debug_registers() {
            for &tid in p.threads.keys() {
                // Best effort per thread: one that died meanwhile keeps nothing.
                let _ = dr.set_debug_register(tid, DR7, 0);
                for i in 0..4 {
                    let _ = dr.set_debug_register(tid, i, 0);
                }
            }
        }
        self.watchpoints.retain(|_, w| w.info.pid != pid || w.info.page);
    }

    /// Before the debug slots change: each thread holding a trap not yet
    /// reported keeps which watchpoint fired. DR6 names a slot, and the
    /// slot may hold another watchpoint by the time the trap is reported
    /// (a debugger takes its watchpoints out and puts them back at a stop).
    fn note_fired_watchpoints(&mut self, pid: i32) {
        let Some(p) = self.processes.get_mut(&pid) else { return };
        let slots = p.debug_slots;
        if slots.iter().all(Option::is_none) {
            return;
        }
        for (tid, _) in self.held.iter().filter(|(_, status)| *status == StopReason::Signal(SIGTRAP)) {
            if p.threads.get(tid).is_none_or(|t| t.fired_watch.is_some()) {
                continue;
            }
            let Ok(dr6) = debug_registers(p).and_then(|dr| dr.debug_register(*tid, DR6)) else { continue };
            let fired = fired_slots(dr6).find_map(|i| slots[i].map(|(id, address, _, access)| (id, address, access)));
            if let (Some(fired), Some(t)) = (fired, p.threads.get_mut(tid)) {
                t.fired_watch = Some(fired);
            }
        }
    }

    /// A `SIGTRAP` from the debug registers: which watchpoint, reported as
    /// an event. Returns false when DR6 names none of ours.
    pub(crate) fn on_debug_register_trap(&mut self, pid: i32, tid: i32) -> Result<bool> {
        let noted = self.thread_mut(pid, tid).and_then(|t| t.fired_watch.take());
        let slots = self.process(pid)?.debug_slots;
        if noted.is_none() && slots.iter().all(Option::is_none) {
            return Ok(false);
        }
        let dr6 = debug_registers(self.process(pid)?)?.debug_register(tid, DR6)?;
        let fired = noted
            .or_else(|| fired_slots(dr6).find_map(|i| slots[i].map(|(id, address, _, access)| (id, address, access))));
        let Some((id, slot_address, access)) = fired else {
            return Ok(false);
        };
        // DR6 is sticky: clear it for the next trap.
        debug_registers(self.process(pid)?)?.set_debug_register(tid, DR6, 0)?;
        let pc = self.regs_of(pid, tid)?.rip;
        let (address, old, new) = match self.watchpoints.get(&id) {
            Some(w) if access == WatchAccess::Execute => (w.info.address, None, None),
            Some(w) => {
                let mut now = vec![0u8; w.shadow.len()];
                let address = w.info.address;
                self.read_memory_partial(pid, address, &mut now)?;
                let w = self.watchpoints.get_mut(&id).expect("checked above");
                let old = std::mem::replace(&mut w.shadow, now.clone());
                (address, Some(old), Some(now))
            }
            None => (slot_address, None, None),
        };
        if let Some(w) = self.watchpoints.get_mut(&id) {
            w.info.hits += 1;
        }
        if access == WatchAccess::Execute {
            if let Some(t) = self.process_mut(pid)?.threads.get_mut(&tid) {
                t.resume_flag = true;
            }
        }
        self.queue_event(pid, tid, EventKind::Watchpoint { id, access, address, pc, old, new });
        self.stop_all(pid)?;
        Ok(true)
    }

    /// Sets the resume flag in a thread about to run again from a hardware
    /// execute breakpoint, so it does not fire twice on one instruction.
    pub(crate) fn apply_resume_flag(&mut self, pid: i32, tid: i32) -> Result<()> {
        let wants = self.process_mut(pid)?.threads.get_mut(&tid).is_some_and(|t| std::mem::take(&mut t.resume_flag));
        if wants {
            let mut regs = self.regs_of(pid, tid)?;
            regs.eflags |= RESUME_FLAG;
            self.put_regs(pid, tid, regs)?;
        }
        Ok(())
    }

    /// Puts back the original protection of page-watched pages.
    pub(crate) fn restore_pages(&mut self, pid: i32, pages: &[(u64, u64)]) -> Result<()> {
        self.restore_pages_via(pid, None, pages)
    }

    /// [`Session::restore_pages`], with any `mprotect` run by thread `via`.
    pub(crate) fn restore_pages_via(&mut self, pid: i32, via: Option<i32>, pages: &[(u64, u64)]) -> Result<()> {
        for &(page, prot) in pages {
            self.protect_page(pid, via, page, prot)?;
        }
        Ok(())
    }

    /// Gives a page the rights `prot` (Linux's `PROT_*` bits): through the
    /// target where it can change them from outside, else by an `mprotect`
    /// run inside the process, by thread `via` if given (else the engine
    /// picks a stopped thread).
    pub(crate) fn protect_page(&mut self, pid: i32, via: Option<i32>, page: u64, prot: u64) -> Result<()> {
        if let Some(protection) = self.process(pid)?.target.memory_protection() {
            let has = |bit: i32| prot & bit as u64 != 0;
            let rights = crate::target::PageRights {
                read: has(crate::linux_abi::PROT_READ),
                write: has(crate::linux_abi::PROT_WRITE),
                execute: has(crate::linux_abi::PROT_EXEC),
            };
            return protection.protect(page, 4096, rights);
        }
        let r = self.syscall(pid, via, crate::linux_abi::SYS_MPROTECT as u64, &[page, 4096, prot])?;
        if r < 0 {
            return Err(Error::InjectionFailed { pid, reason: format!("mprotect of {page:#x} failed ({r})") });
        }
        Ok(())
    }
}
