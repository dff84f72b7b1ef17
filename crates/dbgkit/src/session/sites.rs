//! Planting and removing breakpoint bytes, and the scratch memory where
//! instructions under breakpoints run out of line.

use super::Session;
use crate::arch::x86_64::{plan_out_of_line, OutOfLine, INT3, MAX_INSTRUCTION_LEN};
use crate::breakpoints::scratch::{free_gap_near, PAGE_BYTES};
use crate::breakpoints::Site;
use crate::error::{Error, Result};
use crate::process::ProcessState;

/// Replaces planted int3 bytes in `buf` (read at `address`) by the original bytes.
pub(crate) fn hide_breakpoints(p: &ProcessState, address: u64, buf: &mut [u8]) {
    // A target that plants its own breakpoints never shows them.
    if p.target.target_breakpoints().is_some() {
        return;
    }
    let end = address.saturating_add(buf.len() as u64);
    for (&at, site) in p.sites.range(address..end) {
        buf[(at - address) as usize] = site.original[0];
    }
}

impl Session {
    /// Adds breakpoint `id` to the site at `address`, planting it if new.
    pub(crate) fn attach_to_site(&mut self, pid: i32, address: u64, id: u32) -> Result<()> {
        self.attach_to_site_with(pid, address, id, true)
    }

    /// As `attach_to_site`; `out_of_line` false keeps the classic step-over
    /// (for the engine's own rarely hit breakpoints: no scratch memory needed).
    pub(crate) fn attach_to_site_with(&mut self, pid: i32, address: u64, id: u32, out_of_line: bool) -> Result<()> {
        let p = self.process_mut(pid)?;
        if let Some(site) = p.sites.get_mut(&address) {
            site.ids.push(id);
            return Ok(());
        }
        let cannot = |reason: String| Error::CannotPlantBreakpoint { address, reason };
        let mut original = [0u8; MAX_INSTRUCTION_LEN];
        let readable = p.target.read_memory(address, &mut original);
        // A stub plants breakpoints where memory cannot be read yet (a kernel before it runs).
        if readable == 0 && p.target.target_breakpoints().is_none() {
            return Err(cannot(format!("address is not mapped in process {pid}")));
        }
        let executable = p.target.memory_map()?.iter().any(|r| r.executable && (r.start..r.end).contains(&address));
        if !executable {
            return Err(cannot("address is not in executable memory".into()));
        }
        if p.target.target_breakpoints().is_none() {
            // Fail before any scratch memory is spent on a target that cannot take the byte.
            p.writer()?;
        }
        // Out of line only where scratch memory can be mapped and the engine writes the byte.
        let relocatable = out_of_line && p.target.code_injection().is_some() && p.target.target_breakpoints().is_none();
        let (plan, slot) =
            if relocatable { self.plan_site(pid, address, &original)? } else { (OutOfLine::SingleStep, None) };
        let p = self.process_mut(pid)?;
        match p.target.target_breakpoints() {
            Some(owned) => owned.insert_breakpoint(address),
            None => p.writer()?.write_memory(address, &[INT3]),
        }
        .map_err(|e| cannot(e.to_string()))?;
        p.removed_sites.remove(&address);
        p.sites.insert(address, Site { original, plan, slot, ids: vec![id] });
        Ok(())
    }

    /// Decides how the instruction at `address` runs, writing its slot if relocated.
    fn plan_site(&mut self, pid: i32, address: u64, original: &[u8]) -> Result<(OutOfLine, Option<u64>)> {
        let Some(slot) = self.scratch_slot(pid, address)? else {
            return Ok((OutOfLine::SingleStep, None));
        };
        let plan = plan_out_of_line(address, original, slot);
        let p = self.process_mut(pid)?;
        match &plan {
            OutOfLine::Relocated { code } => {
                p.writer()?.write_memory(slot, code)?;
                Ok((plan, Some(slot)))
            }
            _ => {
                p.scratch.release_slot(slot);
                Ok((plan, None))
            }
        }
    }

    /// Removes breakpoint `id` from the site at `address`, restoring the byte when none is left.
    pub(crate) fn detach_from_site(&mut self, pid: i32, address: u64, id: u32) -> Result<()> {
        let p = self.process_mut(pid)?;
        let Some(site) = p.sites.get_mut(&address) else {
            return Ok(());
        };
        site.ids.retain(|&i| i != id);
        if !site.ids.is_empty() {
            return Ok(());
        }
        let site = p.sites.remove(&address).expect("site exists");
        let restored = match p.target.target_breakpoints() {
            Some(owned) => owned.remove_breakpoint(address),
            None => p.writer().and_then(|w| w.write_memory(address, &site.original[..1])),
        };
        if let Some(slot) = site.slot {
            p.scratch.release_slot(slot);
        }
        p.removed_sites.insert(address);
        // Threads stopped at the jump back of the slot go to the next original instruction;
        // threads about to run the slot run the restored original.
        let stopped: Vec<i32> = p.threads.iter().filter(|(_, t)| t.stopped).map(|(&t, _)| t).collect();
        for tid in stopped {
            let Ok(rip) = self.rip_of(pid, tid) else {
                continue;
            };
            if let Some(pc) = site.original_pc(address, rip) {
                // A thread that vanished meanwhile has nothing to move.
                let _ = self.set_rip_of(pid, tid, pc);
            }
        }
        restored
    }

    /// Removes every site of a process (detach).
    pub(crate) fn remove_all_sites(&mut self, pid: i32) -> Result<()> {
        let sites: Vec<(u64, Vec<u32>)> = self.process(pid)?.sites.iter().map(|(&a, s)| (a, s.ids.clone())).collect();
        for (address, ids) in sites {
            for id in ids {
                self.detach_from_site(pid, address, id)?;
            }
        }
        Ok(())
    }

    /// Takes the breakpoint out of the site at `address` for a classic step
    /// over it (the site itself stays; `replant_site` puts it back).
    pub(crate) fn lift_site(&mut self, pid: i32, address: u64, original: u8) -> Result<()> {
        let p = self.process(pid)?;
        match p.target.target_breakpoints() {
            Some(owned) => owned.remove_breakpoint(address),
            None => p.writer()?.write_memory(address, &[original]),
        }
    }

    /// Plants the breakpoint of the site at `address` again after `lift_site`.
    pub(crate) fn replant_site(&mut self, pid: i32, address: u64) -> Result<()> {
        let p = self.process(pid)?;
        match p.target.target_breakpoints() {
            Some(owned) => owned.insert_breakpoint(address),
            None => p.writer()?.write_memory(address, &[INT3]),
        }
    }

    /// Whether a site was at `address` and is gone.
    pub(crate) fn removed_site(&self, pid: i32, address: u64) -> bool {
        self.processes.get(&pid).is_some_and(|p| p.removed_sites.contains(&address))
    }

    /// A trap at `address` from a breakpoint removed since, whose restored
    /// instruction is not itself an `int3` (the program's own, which traps
    /// again: that trap is the program's).
    pub(crate) fn trap_of_removed_site(&self, pid: i32, address: u64) -> bool {
        if !self.removed_site(pid, address) {
            return false;
        }
        let mut byte = [0u8];
        let read = self.processes.get(&pid).map(|p| p.target.read_memory(address, &mut byte));
        read == Some(1) && byte[0] != crate::arch::x86_64::INT3
    }

    /// A slot near `address`, mapping a new scratch page when needed.
    /// `None` when the target cannot get one (the classic step is used then).
    fn scratch_slot(&mut self, pid: i32, address: u64) -> Result<Option<u64>> {
        if let Some(slot) = self.process_mut(pid)?.scratch.take_slot(address) {
            return Ok(Some(slot));
        }
        let Some(hint) = free_gap_near(&self.process(pid)?.target.memory_map()?, address) else {
            return Ok(None);
        };
        if self.map_scratch_page(pid, hint).is_err() {
            return Ok(None);
        }
        Ok(self.process_mut(pid)?.scratch.take_slot(address))
    }

    /// Maps one scratch page at `at` inside the target.
    fn map_scratch_page(&mut self, pid: i32, at: u64) -> Result<u64> {
        let p = self.process(pid)?;
        let tid = p.any_stopped_thread().ok_or(Error::ProcessRunning(pid))?;
        let prot = (crate::linux_abi::PROT_READ | crate::linux_abi::PROT_EXEC) as u64;
        let flags = (crate::linux_abi::MAP_PRIVATE
            | crate::linux_abi::MAP_ANONYMOUS
            | crate::linux_abi::MAP_FIXED_NOREPLACE) as u64;
        let outcome = p.injector()?.syscall(
            tid,
            crate::linux_abi::SYS_MMAP as u64,
            [at, PAGE_BYTES, prot, flags, u64::MAX, 0],
        )?;
        self.defer_signals(pid, tid, outcome.deferred_signals);
        let base = outcome.result;
        if base < 0 || base as u64 != at {
            return Err(Error::InjectionFailed {
                pid,
                reason: format!(
                    "mmap of scratch memory failed ({})",
                    std::io::Error::from_raw_os_error((-base) as i32)
                ),
            });
        }
        let p = self.process_mut(pid)?;
        let first = p.scratch.pages.is_empty();
        p.scratch.add_page(at);
        if first {
            // Slot 0: the stub that ends a thread (`syscall`), then a trap.
            p.writer()?.write_memory(at, &[0x0f, 0x05, INT3])?;
        }
        Ok(at)
    }

    /// The address of a `syscall` instruction in scratch memory.
    pub(crate) fn syscall_stub(&mut self, pid: i32) -> Result<u64> {
        if let Some(stub) = self.process(pid)?.scratch.syscall_stub() {
            return Ok(stub);
        }
        let near = self.process(pid)?.auxv.entry;
        let hint = free_gap_near(&self.process(pid)?.target.memory_map()?, near)
            .ok_or_else(|| Error::InjectionFailed { pid, reason: "no free address range for scratch memory".into() })?;
        self.map_scratch_page(pid, hint)
    }

    /// Unmaps the scratch pages (detach). Best effort: a dying process keeps them.
    pub(crate) fn release_scratch(&mut self, pid: i32) {
        let Ok(p) = self.process(pid) else { return };
        let Some(tid) = p.any_stopped_thread() else {
            return;
        };
        let pages: Vec<u64> = p.scratch.pages.iter().map(|pg| pg.base).collect();
        for base in pages {
            let p = self.processes.get(&pid).expect("checked above");
            let Ok(injector) = p.injector() else { break };
            if let Ok(outcome) =
                injector.syscall(tid, crate::linux_abi::SYS_MUNMAP as u64, [base, PAGE_BYTES, 0, 0, 0, 0])
            {
                self.defer_signals(pid, tid, outcome.deferred_signals);
            }
        }
        if let Some(p) = self.processes.get_mut(&pid) {
            p.scratch.pages.clear();
        }
    }

    /// Keeps signals that arrived during injected code for delivery later.
    pub(crate) fn defer_signals(&mut self, pid: i32, tid: i32, signals: Vec<i32>) {
        for sig in signals {
            if let Some(t) = self.processes.get_mut(&pid).and_then(|p| p.threads.get_mut(&tid)) {
                if t.signal_to_deliver == 0 {
                    t.signal_to_deliver = sig;
                    continue;
                }
            }
            // SAFETY: re-raising a signal for a thread of a traced process.
            // (Code runs injected only in a local Linux process.)
            #[cfg(target_os = "linux")]
            unsafe {
                libc::syscall(libc::SYS_tgkill, pid, tid, sig)
            };
        }
    }

    /// Writes memory while keeping planted bytes planted: the written bytes
    /// under a site become its original bytes (and its plan is redone).
    pub(crate) fn write_memory_keeping_sites(&mut self, pid: i32, address: u64, data: &[u8]) -> Result<()> {
        let end = address.saturating_add(data.len() as u64);
        let p = self.process(pid)?;
        let touched: Vec<u64> =
            p.sites.range(address.saturating_sub(MAX_INSTRUCTION_LEN as u64)..end).map(|(&a, _)| a).collect();
        if touched.is_empty() {
            return p.writer()?.write_memory(address, data);
        }
        let mut patched = data.to_vec();
        // Bytes the engine planted stay planted; a target that plants its own keeps them itself.
        if p.target.target_breakpoints().is_none() {
            for &at in &touched {
                if (address..end).contains(&at) {
                    patched[(at - address) as usize] = INT3;
                }
            }
        }
        p.writer()?.write_memory(address, &patched)?;
        for at in touched {
            let p = self.process_mut(pid)?;
            let site = p.sites.get_mut(&at).expect("site listed above");
            for (i, byte) in site.original.iter_mut().enumerate() {
                let a = at + i as u64;
                if (address..end).contains(&a) {
                    *byte = data[(a - address) as usize];
                }
            }
            if let (OutOfLine::Relocated { .. }, Some(slot)) = (&site.plan, site.slot) {
                let plan = plan_out_of_line(at, &site.original, slot);
                if let OutOfLine::Relocated { code } = &plan {
                    p.writer()?.write_memory(slot, code)?;
                }
                let site = p.sites.get_mut(&at).expect("site listed above");
                site.plan = plan;
            }
        }
        Ok(())
    }
}
