//! Checkpoints: a saved moment of a process to go back to (gdb's
//! `checkpoint`/`restart`, vtrace's snapshots).
//!
//! A checkpoint is a copy of the stopped process made by a `fork` injected
//! into it: the copy stays stopped, never runs, and keeps the memory and
//! registers of that moment (copy-on-write, so it costs little). Restoring
//! forks the copy once more (the checkpoint stays usable), puts the new
//! process in the old one's place (same breakpoints, watchpoints, modules,
//! pipes) and kills the old one. The files the process had open are set
//! back to their offsets of that moment.
//!
//! What cannot go back: other processes, the contents of files, sockets
//! and pipes, and anything the kernel keeps outside the process. `fork`
//! copies one thread, so only single-threaded processes can be saved.

use super::Session;
use crate::arch::registers::Registers;
use crate::breakpoints::scratch::Scratch;
use crate::error::{Error, Result};
use crate::event::EventKind;
use crate::process::ThreadState;
use crate::target::{StopReason, Target};
use std::collections::BTreeMap;

/// A checkpoint as the user sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckpointInfo {
    pub id: u32,
    /// The process it belongs to (its id now: a restore gives the process a new one).
    pub pid: i32,
    /// Where the process was.
    pub pc: u64,
}

pub(crate) struct Checkpoint {
    info: CheckpointInfo,
    /// The stopped copy.
    copy: Box<dyn Target>,
    /// Registers of the moment, as the thread will resume with them.
    registers: Registers,
    /// Open files and their offsets then.
    file_offsets: Vec<(i32, u64)>,
    /// Scratch pages mapped then (they exist in the copy).
    scratch_pages: Vec<u64>,
}

/// The kernel's "restart this system call" results, which a thread
/// interrupted inside a call carries until it returns to user space.
const ERESTARTSYS: i64 = -512;
const ERESTARTNOINTR: i64 = -513;
const ERESTARTNOHAND: i64 = -514;
const ERESTART_RESTARTBLOCK: i64 = -516;

/// Registers a thread resumes with in a fresh copy, which is not inside the
/// system call the original may have been interrupted in: the restart the
/// kernel would have done is done here (`syscall` is two bytes).
fn as_resumed(mut regs: Registers) -> Registers {
    let result = regs.rax as i64;
    if regs.orig_rax as i64 >= 0 {
        if matches!(result, ERESTARTSYS | ERESTARTNOINTR | ERESTARTNOHAND) {
            regs.rax = regs.orig_rax;
            regs.rip -= 2;
        } else if result == ERESTART_RESTARTBLOCK {
            regs.rax = crate::linux_abi::SYS_RESTART_SYSCALL as u64;
            regs.rip -= 2;
        }
    }
    regs.orig_rax = u64::MAX;
    regs
}

impl Session {
    /// Saves the moment of a stopped single-threaded process; returns the
    /// checkpoint's id. The process goes on unchanged.
    ///
    /// ```no_run
    /// # let mut session = dbgkit::Session::new(); let pid = 1;
    /// let saved = session.checkpoint(pid)?;
    /// // ... run on, change things ...
    /// let pid = session.restore(saved)?; // back to that moment (a new process id)
    /// # Ok::<(), dbgkit::Error>(())
    /// ```
    pub fn checkpoint(&mut self, pid: i32) -> Result<u32> {
        let p = self.process(pid)?;
        if !p.is_held() {
            return Err(Error::ProcessRunning(pid));
        }
        if p.threads.len() != 1 {
            return Err(Error::InvalidArgument(format!(
                "process {pid} has {} threads: a checkpoint copies one thread (fork), so only single-threaded \
                 processes can be saved",
                p.threads.len()
            )));
        }
        let tid = *p.threads.keys().next().expect("one thread");
        let registers = as_resumed(self.regs_of(pid, tid)?);
        let file_offsets = self.process(pid)?.control()?.file_offsets();
        let copy = self.fork_stopped(pid, tid)?;
        let scratch_pages = self.process(pid)?.scratch.pages.iter().map(|pg| pg.base).collect();
        let id = self.next_checkpoint_id;
        self.next_checkpoint_id += 1;
        let info = CheckpointInfo { id, pid, pc: registers.rip };
        self.checkpoints.insert(id, Checkpoint { info, copy, registers, file_offsets, scratch_pages });
        Ok(id)
    }

    /// Every checkpoint, by id.
    pub fn checkpoints(&self) -> Vec<CheckpointInfo> {
        self.checkpoints.values().map(|c| c.info.clone()).collect()
    }

    /// Deletes a checkpoint (its stopped copy is killed).
    pub fn delete_checkpoint(&mut self, id: u32) -> Result<()> {
        let cp = self.checkpoints.remove(&id).ok_or_else(|| Error::InvalidArgument(format!("no checkpoint {id}")))?;
        kill_copy(&*cp.copy);
        Ok(())
    }

    /// Goes back to a checkpoint: the process it belongs to is replaced by
    /// a fresh copy of that moment, stopped, with a `BreakIn` event waiting.
    /// Returns the process's new id. The checkpoint stays and can be
    /// restored again.
    pub fn restore(&mut self, id: u32) -> Result<i32> {
        let cp = self.checkpoints.get(&id).ok_or_else(|| Error::InvalidArgument(format!("no checkpoint {id}")))?;
        let old = cp.info.pid;
        self.process(old)?;
        let copy_tid = cp.copy.pid();
        // The checkpoint's copy forks again, so that the checkpoint itself never runs.
        let result = cp.copy.code_injection().expect("a live copy").syscall(
            copy_tid,
            crate::linux_abi::SYS_FORK as u64,
            [0; 6],
        )?;
        let cp = &self.checkpoints[&id];
        if result.result < 0 {
            return Err(Error::InjectionFailed {
                pid: copy_tid,
                reason: format!("fork failed ({})", std::io::Error::from_raw_os_error((-result.result) as i32)),
            });
        }
        let fresh_pid = result.result as i32;
        let control = cp.copy.run_control().expect("a live copy");
        control.wait_thread(fresh_pid)?;
        let fresh = control.open_child(fresh_pid)?;
        let writer = fresh.write_access().expect("a live process");
        writer.set_registers(fresh_pid, &cp.registers)?;
        // The injected `syscall` bytes are in the fork's copy of the code: put the program's back.
        let entry = self.process(old)?.auxv.entry;
        let mut code = [0u8; 2];
        cp.copy.read_exact(entry, &mut code)?;
        writer.write_memory(entry, &code)?;
        for &(fd, offset) in &cp.file_offsets {
            // Best effort: a descriptor that is not seekable (a pipe) keeps going.
            let _ = fresh.code_injection().expect("a live process").syscall(
                fresh_pid,
                crate::linux_abi::SYS_LSEEK as u64,
                [fd as u64, offset, crate::linux_abi::SEEK_SET, 0, 0, 0],
            );
        }
        let scratch_pages = cp.scratch_pages.clone();
        let pc = cp.registers.rip;
        self.replace_process(old, fresh, scratch_pages)?;
        let p = self.process_mut(fresh_pid)?;
        p.threads.get_mut(&fresh_pid).expect("the one thread").regs = None;
        if p.sites.contains_key(&pc) {
            // Back at a breakpoint it had reported: going on runs the instruction, not the hit again.
            p.threads.get_mut(&fresh_pid).expect("the one thread").over_breakpoint = Some(pc);
        }
        for cp in self.checkpoints.values_mut().filter(|c| c.info.pid == old) {
            cp.info.pid = fresh_pid;
        }
        self.sync_modules(fresh_pid, fresh_pid)?;
        self.queue_event(fresh_pid, fresh_pid, EventKind::BreakIn);
        Ok(fresh_pid)
    }

    /// Forks a stopped process by a `fork` injected into thread `tid`; the
    /// child stays stopped and is returned as a target, with the parent's
    /// registers of before the call and the program's own memory: no
    /// breakpoint byte, no page taken away by a page watchpoint.
    fn fork_stopped(&mut self, pid: i32, tid: i32) -> Result<Box<dyn Target>> {
        let saved = self.regs_of(pid, tid)?;
        let child = self.syscall(pid, Some(tid), crate::linux_abi::SYS_FORK as u64, &[])?;
        if child < 0 {
            return Err(Error::InjectionFailed {
                pid,
                reason: format!("fork failed ({})", std::io::Error::from_raw_os_error((-child) as i32)),
            });
        }
        let child = child as i32;
        let control = self.process(pid)?.control()?;
        match control.wait_thread(child)? {
            Some(StopReason::Interrupted) | Some(StopReason::Signal(crate::signal_numbers::SIGSTOP)) => {}
            other => {
                return Err(Error::InjectionFailed { pid, reason: format!("the fork stopped unexpectedly: {other:?}") })
            }
        }
        let copy = control.open_child(child)?;
        let writer = copy.write_access().expect("a live process");
        writer.set_registers(child, &as_resumed(saved))?;
        // The copy has the injected `syscall` bytes; the parent has its own back already.
        let p = self.process(pid)?;
        let mut code = [0u8; 2];
        p.read_exact(p.auxv.entry, &mut code)?;
        writer.write_memory(p.auxv.entry, &code)?;
        for (&address, site) in &p.sites {
            writer.write_memory(address, &site.original[..1])?;
        }
        let injector = copy.code_injection().expect("a live process");
        for w in self.watchpoints.values().filter(|w| w.info.pid == pid) {
            for &(page, prot) in &w.pages {
                injector.syscall(child, crate::linux_abi::SYS_MPROTECT as u64, [page, 4096, prot, 0, 0, 0])?;
            }
        }
        Ok(copy)
    }

    /// Puts `fresh` (a stopped one-thread copy) in the place of process
    /// `old`, which is killed: same breakpoints (planted again), watchpoints,
    /// modules and pipes.
    fn replace_process(&mut self, old: i32, fresh: Box<dyn Target>, scratch_pages: Vec<u64>) -> Result<()> {
        let fresh_pid = fresh.pid();
        let mut p = self.processes.remove(&old).expect("checked by the caller");
        if let Some(control) = p.target.run_control() {
            // The old process is gone for good; whatever it was doing does not matter.
            let _ = control.kill();
            for tid in p.threads.keys().copied().filter(|&t| t != old).chain([old]) {
                while let Ok(Some(s)) = control.wait_thread(tid) {
                    if s.is_death() {
                        break;
                    }
                }
            }
        }
        self.held.retain(|(tid, _)| !p.threads.contains_key(tid));
        for tid in p.threads.keys() {
            self.owner.remove(tid);
        }
        self.owner.insert(fresh_pid, fresh_pid);
        p.pid = fresh_pid;
        p.target = fresh;
        p.threads = BTreeMap::from([(fresh_pid, ThreadState::new_stopped())]);
        p.in_flight = None;
        p.queued.clear();
        p.exited = false;
        p.sites.clear();
        p.removed_sites.clear();
        let mut scratch = Scratch::default();
        for base in scratch_pages {
            scratch.add_page(base);
        }
        p.scratch = scratch;
        self.processes.insert(fresh_pid, p);
        for b in self.breakpoints.values_mut().filter(|b| b.info.pid == old) {
            b.info.pid = fresh_pid;
        }
        for w in self.watchpoints.values_mut().filter(|w| w.info.pid == old) {
            w.info.pid = fresh_pid;
        }
        if let Some(pipes) = self.pipes.remove(&old) {
            self.pipes.insert(fresh_pid, pipes);
        }
        if self.last_reported == Some(old) {
            self.last_reported = None;
        }
        // Every breakpoint planted again, in the copy's memory as it is.
        let planted: Vec<(u32, u64, bool)> = self
            .breakpoints
            .iter()
            .filter(|(_, b)| b.info.pid == fresh_pid && b.info.enabled && b.info.unresolved.is_none())
            .flat_map(|(&id, b)| b.info.locations.iter().map(move |&a| (id, a, b.internal.is_none())))
            .collect();
        for (id, address, out_of_line) in planted {
            if let Err(e) = self.attach_to_site_with(fresh_pid, address, id, out_of_line) {
                if let Some(b) = self.breakpoints.get_mut(&id) {
                    b.info.unresolved = Some(format!("cannot be planted after the restore: {e}"));
                }
            }
        }
        if self.process(fresh_pid)?.debug_slots.iter().any(Option::is_some) {
            self.apply_debug_registers(fresh_pid, fresh_pid)?;
        }
        // Old and new values of watched bytes start from the restored memory.
        let watched: Vec<(u32, u64, usize)> = self
            .watchpoints
            .iter()
            .filter(|(_, w)| w.info.pid == fresh_pid && !w.info.page && w.info.enabled)
            .map(|(&id, w)| (id, w.info.address, w.shadow.len()))
            .collect();
        for (id, address, len) in watched {
            let mut now = vec![0u8; len];
            if self.read_memory(fresh_pid, address, &mut now).is_ok() {
                self.watchpoints.get_mut(&id).expect("listed above").shadow = now;
            }
        }
        let page_watches: Vec<u32> = self
            .watchpoints
            .iter()
            .filter(|(_, w)| w.info.pid == fresh_pid && w.info.page)
            .map(|(&id, _)| id)
            .collect();
        for id in page_watches {
            self.close_watched_pages(fresh_pid, id)?;
        }
        Ok(())
    }

    /// Kills every checkpoint's copy (the session ends).
    pub(crate) fn drop_checkpoints(&mut self) {
        for (_, cp) in std::mem::take(&mut self.checkpoints) {
            kill_copy(&*cp.copy);
        }
    }
}

/// Kills a checkpoint's stopped copy and reaps it.
fn kill_copy(copy: &dyn Target) {
    if let Some(control) = copy.run_control() {
        // A copy that is gone already needs nothing more.
        let _ = control.kill();
        while let Ok(Some(s)) = control.wait_thread(copy.pid()) {
            if s.is_death() {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interrupted_system_call_is_restarted_in_the_copy() {
        let regs = Registers { rax: ERESTARTSYS as u64, orig_rax: 0, rip: 0x1002, ..Default::default() };
        let r = as_resumed(regs);
        assert_eq!((r.rax, r.rip, r.orig_rax), (0, 0x1000, u64::MAX));
        let block = Registers { rax: ERESTART_RESTARTBLOCK as u64, orig_rax: 35, rip: 0x1002, ..Default::default() };
        assert_eq!(as_resumed(block).rax, crate::linux_abi::SYS_RESTART_SYSCALL as u64);
        let plain = Registers { rax: 7, orig_rax: u64::MAX, rip: 0x1002, ..Default::default() };
        assert_eq!(as_resumed(plain).rip, 0x1002);
    }
}
