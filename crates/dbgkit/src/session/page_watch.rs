//! Page watchpoints (vtrace's `PageWatchpoint`): any range, any size. The
//! watched pages lose their access rights; each access faults, is reported
//! when it touches the watched range, then runs once with the rights put
//! back (every other thread stopped) before the pages are closed again.

use super::watchpoints::{Watchpoint, WatchpointInfo};
use super::Session;
use crate::breakpoints::hardware::WatchAccess;
use crate::error::{Error, Result};
use crate::event::EventKind;
use crate::target::{Resume, SignalInfo, StopReason};
use iced_x86::{Decoder, DecoderOptions, InstructionInfoFactory, OpAccess};

const PAGE: u64 = 4096;

fn prot_bits(readable: bool, writable: bool, executable: bool) -> u64 {
    (if readable { crate::linux_abi::PROT_READ } else { 0 }
        | if writable { crate::linux_abi::PROT_WRITE } else { 0 }
        | if executable { crate::linux_abi::PROT_EXEC } else { 0 }) as u64
}

impl Session {
    /// Watches `len` bytes at `address` by taking rights away from their
    /// pages: writes only (`Write`) or every access (`ReadWrite`). The target
    /// sees nothing; debugger reads and writes of the memory still work.
    /// (A system call that touches the pages fails with `EFAULT` meanwhile.)
    pub fn add_page_watchpoint(&mut self, pid: i32, address: u64, len: u64, access: WatchAccess) -> Result<u32> {
        if len == 0 {
            return Err(Error::InvalidArgument("cannot watch 0 bytes".into()));
        }
        if !matches!(access, WatchAccess::Write | WatchAccess::ReadWrite) {
            return Err(Error::InvalidArgument("a page watchpoint watches writes or reads and writes".into()));
        }
        let first = address & !(PAGE - 1);
        let end = address.checked_add(len).ok_or_else(|| Error::InvalidArgument("the range wraps around".into()))?;
        let last = (end + PAGE - 1) & !(PAGE - 1);
        let maps = self.memory_map(pid)?;
        let mut pages = Vec::new();
        for page in (first..last).step_by(PAGE as usize) {
            if self.watchpoints.values().any(|w| w.info.pid == pid && w.pages.iter().any(|&(p, _)| p == page)) {
                return Err(Error::InvalidArgument(format!(
                    "page {page:#x} is already watched by another page watchpoint"
                )));
            }
            let region = maps.iter().find(|r| (r.start..r.end).contains(&page)).ok_or(Error::UnmappedMemory {
                pid,
                address: page,
                len: PAGE as usize,
            })?;
            pages.push((page, prot_bits(region.readable, region.writable, region.executable)));
        }
        let id = self.next_breakpoint_id;
        self.next_breakpoint_id += 1;
        let info = WatchpointInfo { id, pid, address, len, access, hits: 0, page: true, enabled: true };
        self.watchpoints.insert(id, Watchpoint { info, shadow: Vec::new(), pages: pages.clone() });
        if let Err(e) = self.with_stopped(pid, |s| s.close_watched_pages(pid, id)) {
            self.watchpoints.remove(&id);
            return Err(e);
        }
        Ok(id)
    }

    /// Takes the rights away from a page watchpoint's pages.
    pub(crate) fn close_watched_pages(&mut self, pid: i32, id: u32) -> Result<()> {
        self.close_watched_pages_via(pid, None, id)
    }

    /// [`Session::close_watched_pages`], with any `mprotect` run by thread `via`.
    fn close_watched_pages_via(&mut self, pid: i32, via: Option<i32>, id: u32) -> Result<()> {
        let w = self.watchpoints.get(&id).ok_or(Error::NoSuchBreakpoint(id))?;
        let access = w.info.access;
        for (page, original) in w.pages.clone() {
            let reduced = match access {
                WatchAccess::Write => original & !(crate::linux_abi::PROT_WRITE as u64),
                _ => crate::linux_abi::PROT_NONE as u64,
            };
            self.protect_page(pid, via, page, reduced)?;
        }
        Ok(())
    }

    /// A `SIGSEGV` on a watched page: reported when the access touches the
    /// watched range, replayed silently otherwise. Returns false when the
    /// fault is not ours (a real crash).
    pub(crate) fn on_page_fault(&mut self, pid: i32, tid: i32, info: &SignalInfo) -> Result<bool> {
        if !info.refused_by_page_rights() {
            return Ok(false);
        }
        let fault = info.address;
        let page = fault & !(PAGE - 1);
        let Some((id, watched, access)) = self
            .watchpoints
            .values()
            .find(|w| w.info.pid == pid && w.info.enabled && w.pages.iter().any(|&(p, _)| p == page))
            .map(|w| (w.info.id, (w.info.address..w.info.address + w.info.len), w.info.access))
        else {
            return Ok(false);
        };
        let rip = self.regs_of(pid, tid)?.rip;
        if let Some(t) = self.process_mut(pid)?.threads.get_mut(&tid) {
            t.page_step = Some(id);
        }
        if !watched.contains(&fault) {
            self.stop_all(pid)?;
            self.replay_page_accesses(pid)?;
            return self.resume_all(pid).map(|_| true);
        }
        let kind = if access == WatchAccess::Write { WatchAccess::Write } else { self.access_kind(pid, rip) };
        if let Some(w) = self.watchpoints.get_mut(&id) {
            w.info.hits += 1;
        }
        self.queue_event(
            pid,
            tid,
            EventKind::Watchpoint { id, access: kind, address: fault, pc: rip, old: None, new: None },
        );
        self.stop_all(pid)?;
        Ok(true)
    }

    /// Whether the instruction at `rip` writes memory (else it reads).
    fn access_kind(&mut self, pid: i32, rip: u64) -> WatchAccess {
        let mut code = [0u8; 16];
        let n = self.read_memory_partial(pid, rip, &mut code).unwrap_or(0);
        let mut decoder = Decoder::with_ip(64, &code[..n], rip, DecoderOptions::NONE);
        let instruction = decoder.decode();
        let mut factory = InstructionInfoFactory::new();
        let writes = factory.info(&instruction).used_memory().iter().any(|m| {
            matches!(m.access(), OpAccess::Write | OpAccess::CondWrite | OpAccess::ReadWrite | OpAccess::ReadCondWrite)
        });
        if writes {
            WatchAccess::Write
        } else {
            WatchAccess::Read
        }
    }

    /// For every stopped thread that faulted on a watched page: open the
    /// pages, let it run its one access, close them again. Every other
    /// thread is stopped meanwhile, so no access slips through unseen.
    pub(crate) fn replay_page_accesses(&mut self, pid: i32) -> Result<()> {
        let pending: Vec<(i32, u32)> = self
            .process(pid)?
            .threads
            .iter()
            .filter(|(_, t)| t.stopped)
            .filter_map(|(&tid, t)| Some((tid, t.page_step?)))
            .collect();
        for (tid, id) in pending {
            if let Some(t) = self.process_mut(pid)?.threads.get_mut(&tid) {
                t.page_step = None;
            }
            let Some(pages) = self.watchpoints.get(&id).map(|w| w.pages.clone()) else { continue };
            // The faulting thread itself runs the `mprotect`s: it is stopped
            // at its fault, a clean place; another thread may have been
            // stopped in the middle of a system call of its own.
            if self.restore_pages_via(pid, Some(tid), &pages).is_err() {
                self.restore_pages(pid, &pages)?;
            }
            let outcome = self.step_one(pid, tid);
            // A thread that ended in its step leaves the closing to another.
            if self.close_watched_pages_via(pid, Some(tid), id).is_err() {
                self.close_watched_pages(pid, id)?;
            }
            outcome?;
        }
        Ok(())
    }

    /// Single-steps one thread (its pending SIGSEGV suppressed); a different
    /// stop meanwhile is held for later.
    fn step_one(&mut self, pid: i32, tid: i32) -> Result<()> {
        let control = self.process(pid)?.control()?;
        control.resume(tid, Resume::Step, 0)?;
        let status = control.wait_thread(tid)?;
        if let Some(t) = self.process_mut(pid)?.threads.get_mut(&tid) {
            t.regs = None;
        }
        match status {
            Some(StopReason::Signal(crate::signal_numbers::SIGTRAP)) => Ok(()),
            Some(other) => {
                self.held.push_back((tid, other));
                Ok(())
            }
            None => Err(Error::ProcessGone(pid)),
        }
    }
}
