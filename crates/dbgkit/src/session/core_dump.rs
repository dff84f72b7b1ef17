//! `Session::write_core`: a snapshot of a stopped process as an ELF core
//! that gdb, elfutils and [`crate::corefile::CoreFile`] can open.
//!
//! Everything comes through the session's own view of the process, so the
//! core shows what the user sees: breakpoint bytes hidden (the program's own
//! code), a thread about to run a relocated instruction shown at the
//! original one, and the engine's scratch pages left out.

use super::Session;
use crate::corefile::writer::{self, CoreDescription, DumpRegion, WrittenCore};
use crate::corefile::{CoreThread, MappedFile, SigInfo};
use crate::error::{Error, Result};
use crate::event::EventKind;
use crate::target::MemoryRegion;
use std::path::Path;

/// `si_code` of a trap from `int3` (`SI_KERNEL`), a single step (`TRAP_TRACE`)
/// and a debug register (`TRAP_HWBKPT`), as the kernel reports them.
const SI_KERNEL: i32 = 0x80;
const TRAP_TRACE: i32 = 2;
const TRAP_HWBKPT: i32 = 4;

/// Regions whose bytes no core holds: the kernel's pages for the vDSO's
/// data and the legacy vsyscall page cannot be read like memory.
fn has_dumpable_contents(region: &MemoryRegion) -> bool {
    let special = matches!(region.path.as_str(), "[vvar]" | "[vvar_vclock]" | "[vsyscall]");
    // Device mappings (frame buffers, GPUs) are not memory; shared memory files are.
    let device =
        region.path.starts_with("/dev/") && !region.path.starts_with("/dev/shm/") && region.path != "/dev/zero";
    region.readable && !special && !device
}

impl Session {
    /// Writes an ELF core of process `pid` to `path` (replacing any file
    /// there): every thread's general, x87/SSE and XSAVE registers, the
    /// process's identity, the `siginfo` of the event it is stopped at, its
    /// auxiliary vector, its file mappings and its memory. The process is
    /// left exactly as it was (a running process is stopped for the time of
    /// the write). A partly written file is removed on failure.
    pub fn write_core(&mut self, pid: i32, path: impl AsRef<Path>) -> Result<WrittenCore> {
        let path = path.as_ref();
        self.with_stopped(pid, |s| {
            let description = s.describe_for_core(pid)?;
            let mut file = std::fs::File::create(path)?;
            let mut memory = |address: u64, buf: &mut [u8]| s.read_memory_partial(pid, address, buf).unwrap_or(0);
            match writer::write_core(&mut file, &description, &mut memory) {
                Ok(written) => Ok(written),
                Err(e) => {
                    drop(file);
                    // The error that matters is the write's; a leftover file would only mislead.
                    std::fs::remove_file(path).ok();
                    Err(e)
                }
            }
        })
    }

    /// Everything but the memory's bytes, with the event's thread first.
    fn describe_for_core(&mut self, pid: i32) -> Result<CoreDescription> {
        let event = self.process(pid)?.in_flight.clone().filter(|e| e.pid == pid);
        let mut tids = self.threads(pid)?;
        if let Some(e) = &event {
            if let Some(i) = tids.iter().position(|&t| t == e.tid) {
                let first = tids.remove(i);
                tids.insert(0, first);
            }
        }
        let event_siginfo = event.as_ref().and_then(|e| Some((e.tid, self.event_siginfo(pid, e.tid, &e.kind)?)));
        let mut threads = Vec::with_capacity(tids.len());
        for tid in tids {
            let siginfo = event_siginfo.as_ref().filter(|(t, _)| *t == tid).map(|(_, info)| info.clone());
            match self.core_thread(pid, tid, siginfo) {
                Ok(thread) => threads.push(thread),
                // A thread that ended meanwhile is not part of the snapshot.
                Err(e) if e.is_gone() => {}
                Err(e) => return Err(e),
            }
        }
        if threads.is_empty() {
            return Err(Error::ProcessGone(pid));
        }
        let map = self.memory_map(pid)?;
        let p = self.process(pid)?;
        let regions = map
            .iter()
            .filter(|r| !p.scratch.contains(r.start))
            .map(|r| DumpRegion {
                start: r.start,
                end: r.end,
                readable: r.readable,
                writable: r.writable,
                executable: r.executable,
                contents: has_dumpable_contents(r),
            })
            .collect();
        let files = map
            .iter()
            .filter(|r| r.path.starts_with('/'))
            .map(|r| MappedFile { start: r.start, end: r.end, offset: r.offset, path: r.path.clone() })
            .collect();
        Ok(CoreDescription {
            process: p.target.process_info()?,
            threads,
            auxv: p.target.image()?.raw_auxv,
            files,
            regions,
        })
    }

    fn core_thread(&mut self, pid: i32, tid: i32, siginfo: Option<SigInfo>) -> Result<CoreThread> {
        let mut registers = self.registers(pid, tid)?;
        // A thread about to run a relocated copy is, for the user, at the original instruction.
        registers.rip = self.original_address(pid, registers.rip)?;
        let fp_registers = Some(self.fp_registers(pid, tid)?);
        // Older processors have no XSAVE: the core then has the fxsave area only.
        let xstate = self.xstate(pid, tid).ok();
        let (pending_signals, blocked_signals) = self.process(pid)?.target.signal_masks(tid);
        Ok(CoreThread {
            tid,
            registers,
            fp_registers,
            xstate,
            signal: siginfo.as_ref().map_or(0, |i| i.signal),
            pending_signals,
            blocked_signals,
            siginfo,
        })
    }

    /// The `siginfo` of the event a thread is stopped at: the kernel's own for
    /// an exception, the trap's for breakpoints, steps and watchpoints;
    /// `None` for events that are no signal.
    fn event_siginfo(&self, pid: i32, tid: i32, kind: &EventKind) -> Option<SigInfo> {
        let trap = |code: i32, address: u64| SigInfo {
            signal: crate::signal_numbers::SIGTRAP,
            code,
            errno: 0,
            fault_address: address,
            raw: Vec::new(),
        };
        match kind {
            EventKind::Exception { signal, code, fault_address, .. } => {
                let live = self.process(pid).ok()?.target.signal_info(tid).ok().map(|i| SigInfo {
                    signal: i.signal,
                    code: i.code,
                    errno: 0,
                    fault_address: i.address,
                    raw: Vec::new(),
                });
                live.filter(|i| i.signal == *signal).or(Some(SigInfo {
                    signal: *signal,
                    code: *code,
                    errno: 0,
                    fault_address: fault_address.unwrap_or(0),
                    raw: Vec::new(),
                }))
            }
            EventKind::Breakpoint { .. } => Some(trap(SI_KERNEL, 0)),
            EventKind::StepComplete { .. } => Some(trap(TRAP_TRACE, 0)),
            EventKind::Watchpoint { address, .. } => Some(trap(TRAP_HWBKPT, *address)),
            _ => None,
        }
    }
}
