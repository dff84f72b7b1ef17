//! A live Linux process under ptrace, as a [`Target`] with every
//! capability, and the one `waitpid` that serves every such process of a
//! debugger thread as an [`EventSource`].

use super::memory::Memory;
use super::wait::{self, Block};
use super::{auxv, inject, maps, ptrace, signals};
use crate::arch::registers::{FpRegisters, Registers};
use crate::error::{Error, Result};
use crate::target::{
    CodeInjection, DebugRegisters, EventSource, Image, Resume, RunControl, SignalInfo, StopReason, SyscallOutcome,
    SyscallStop, Target, WaitMode, WriteAccess,
};
use std::path::PathBuf;

/// One live process, debugged with ptrace from this thread.
#[derive(Debug)]
pub(crate) struct LinuxProcess {
    pid: i32,
    memory: Memory,
    /// Where injected system calls run: the executable's entry point, read
    /// once (the auxiliary vector does not change until exec).
    entry: u64,
}

impl LinuxProcess {
    /// Opens a process this thread already traces (every thread stopped or seized).
    pub(crate) fn open(pid: i32) -> Result<LinuxProcess> {
        let memory = Memory::open(pid)?;
        let entry = auxv::read_auxv(pid)?.entry;
        Ok(LinuxProcess { pid, memory, entry })
    }
}

/// The executable of a process as the kernel names it (for a script, its interpreter).
fn executable_path(pid: i32) -> PathBuf {
    std::fs::read_link(format!("/proc/{pid}/exe")).unwrap_or_else(|_| PathBuf::from(format!("/proc/{pid}/exe")))
}

/// The thread ids of a process, from `/proc`.
pub(crate) fn thread_ids(pid: i32) -> Result<Vec<i32>> {
    let dir = std::fs::read_dir(format!("/proc/{pid}/task")).map_err(|_| Error::NoSuchProcess(pid))?;
    Ok(dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok()).collect())
}

impl Target for LinuxProcess {
    fn kind(&self) -> &'static str {
        "live process"
    }

    fn pid(&self) -> i32 {
        self.pid
    }

    fn thread_ids(&self) -> Result<Vec<i32>> {
        thread_ids(self.pid)
    }

    fn read_memory(&self, address: u64, buf: &mut [u8]) -> usize {
        self.memory.read_partial(address, buf)
    }

    fn memory_map(&self) -> Result<Vec<crate::target::MemoryRegion>> {
        maps::read_maps(self.pid)
    }

    fn registers(&self, tid: i32) -> Result<Registers> {
        Ok(ptrace::get_regs(tid)?.into())
    }

    fn pc(&self, tid: i32) -> Result<u64> {
        ptrace::peek_user(tid, ptrace::USER_RIP_OFFSET)
    }

    fn fp_registers(&self, tid: i32) -> Result<FpRegisters> {
        Ok(ptrace::get_fpregs(tid)?.into())
    }

    fn xstate(&self, tid: i32) -> Result<Vec<u8>> {
        ptrace::get_xstate(tid)
    }

    fn raw_siginfo(&self, tid: i32) -> Result<[u8; crate::session::SIGINFO_SIZE]> {
        let info = ptrace::siginfo(tid)?;
        let mut raw = [0u8; crate::session::SIGINFO_SIZE];
        // SAFETY: siginfo_t is plain data of exactly SIGINFO_SIZE bytes.
        let bytes = unsafe {
            std::slice::from_raw_parts((&info as *const libc::siginfo_t).cast::<u8>(), crate::session::SIGINFO_SIZE)
        };
        raw.copy_from_slice(bytes);
        Ok(raw)
    }

    fn signal_info(&self, tid: i32) -> Result<SignalInfo> {
        let info = ptrace::siginfo(tid)?;
        let faults = matches!(info.si_signo, libc::SIGSEGV | libc::SIGBUS | libc::SIGILL | libc::SIGFPE);
        // SAFETY: si_addr is the union member for these signals; read only then.
        let address = if faults { (unsafe { info.si_addr() }) as u64 } else { 0 };
        Ok(SignalInfo { signal: info.si_signo, code: info.si_code, address, nt_status: None })
    }

    fn image(&self) -> Result<Image> {
        let raw_auxv = auxv::read_raw_auxv(self.pid)?;
        Ok(Image {
            executable: executable_path(self.pid),
            auxv: crate::target::Auxv::parse(&raw_auxv),
            raw_auxv,
            pe_base: None,
        })
    }

    fn process_info(&self) -> Result<crate::corefile::ProcessInfo> {
        super::process_info::process_info(self.pid)
    }

    fn signal_masks(&self, tid: i32) -> (u64, u64) {
        (signals::thread_signal_mask(self.pid, tid, "SigPnd:"), signals::thread_signal_mask(self.pid, tid, "SigBlk:"))
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

    fn code_injection(&self) -> Option<&dyn CodeInjection> {
        Some(self)
    }
}

impl WriteAccess for LinuxProcess {
    fn write_memory(&self, address: u64, data: &[u8]) -> Result<()> {
        self.memory.write(address, data)
    }

    fn set_registers(&self, tid: i32, regs: &Registers) -> Result<()> {
        ptrace::set_regs(tid, &(*regs).into())
    }

    fn set_pc(&self, tid: i32, pc: u64) -> Result<()> {
        ptrace::poke_user(tid, ptrace::USER_RIP_OFFSET, pc)
    }

    fn set_fp_registers(&self, tid: i32, regs: &FpRegisters) -> Result<()> {
        let mut raw = ptrace::get_fpregs(tid)?;
        regs.store(&mut raw);
        ptrace::set_fpregs(tid, &raw)
    }

    fn set_xstate(&self, tid: i32, area: &[u8]) -> Result<()> {
        ptrace::set_xstate(tid, area)
    }

    fn set_raw_siginfo(&self, tid: i32, info: &[u8; crate::session::SIGINFO_SIZE]) -> Result<()> {
        // SAFETY: siginfo_t is plain data of exactly SIGINFO_SIZE bytes.
        let info: libc::siginfo_t = unsafe { std::ptr::read_unaligned(info.as_ptr().cast()) };
        ptrace::set_siginfo(tid, &info)
    }
}

impl RunControl for LinuxProcess {
    fn resume(&self, tid: i32, how: Resume, signal: i32) -> Result<()> {
        match how {
            Resume::Continue => ptrace::cont(tid, signal),
            Resume::Step => ptrace::single_step(tid, signal),
            Resume::Listen => ptrace::listen(tid),
            Resume::ToSyscall => ptrace::syscall(tid, signal),
        }
    }

    fn queue_signal(&self, tid: i32, signal: i32) -> Result<()> {
        // SAFETY: tgkill takes plain values.
        let sent = unsafe { libc::syscall(libc::SYS_tgkill, self.pid, tid, signal) };
        if sent != 0 {
            return Err(crate::error::Error::last_os("tgkill", tid));
        }
        Ok(())
    }

    fn stops_at_syscalls(&self) -> bool {
        true
    }

    fn syscall_stop(&self, tid: i32) -> Result<SyscallStop> {
        ptrace::syscall_stop(tid)
    }

    fn interrupt(&self, tid: i32) -> Result<()> {
        ptrace::interrupt(tid)
    }

    fn wait_thread(&self, tid: i32) -> Result<Option<StopReason>> {
        Ok(wait::wait_stop(Some(tid), Block::Yes)?.map(|(_, reason)| reason))
    }

    fn detach_thread(&self, tid: i32, signal: i32) -> Result<()> {
        ptrace::detach(tid, signal)
    }

    fn kill(&self) -> Result<()> {
        // SAFETY: sending a signal.
        if unsafe { libc::kill(self.pid, libc::SIGKILL) } != 0 {
            return Err(Error::last_os("kill", self.pid));
        }
        Ok(())
    }

    fn set_kill_on_exit(&self, tid: i32, on: bool) -> Result<()> {
        ptrace::set_options(tid, ptrace::options(on))
    }

    fn open_child(&self, child: i32) -> Result<Box<dyn Target>> {
        Ok(Box::new(LinuxProcess::open(child)?))
    }

    fn reopen_after_exec(&self) -> Result<Box<dyn Target>> {
        // The old /proc/PID/mem stays bound to the address space that is gone.
        Ok(Box::new(LinuxProcess::open(self.pid)?))
    }

    fn signal_would_kill(&self, tid: i32, signal: i32) -> bool {
        signals::would_kill(self.pid, tid, signal)
    }

    fn file_offsets(&self) -> Vec<(i32, u64)> {
        let Ok(dir) = std::fs::read_dir(format!("/proc/{}/fdinfo", self.pid)) else { return Vec::new() };
        let mut out: Vec<(i32, u64)> = dir
            .filter_map(|e| {
                let e = e.ok()?;
                let fd: i32 = e.file_name().to_str()?.parse().ok()?;
                let info = std::fs::read_to_string(e.path()).ok()?;
                let pos = info.lines().find_map(|l| l.strip_prefix("pos:"))?.trim().parse().ok()?;
                Some((fd, pos))
            })
            .collect();
        out.sort_unstable();
        out
    }

    fn trap_pending(&self, tid: i32) -> bool {
        signals::thread_signal_mask(self.pid, tid, "SigPnd:") & (1 << (libc::SIGTRAP - 1)) != 0
    }

    fn is_zombie(&self, tid: i32) -> bool {
        std::fs::read_to_string(format!("/proc/{tid}/stat"))
            .map(|stat| stat.rsplit(')').next().and_then(|rest| rest.split_whitespace().next()) == Some("Z"))
            .unwrap_or(false)
    }
}

impl DebugRegisters for LinuxProcess {
    fn debug_register(&self, tid: i32, index: usize) -> Result<u64> {
        ptrace::peek_user(tid, crate::breakpoints::hardware::debugreg_offset(index))
    }

    fn set_debug_register(&self, tid: i32, index: usize, value: u64) -> Result<()> {
        ptrace::poke_user(tid, crate::breakpoints::hardware::debugreg_offset(index), value)
    }
}

impl CodeInjection for LinuxProcess {
    fn syscall(&self, tid: i32, number: u64, args: [u64; 6]) -> Result<SyscallOutcome> {
        inject::syscall(&self.memory, self.pid, tid, self.entry, number, args)
    }
}

/// Every ptrace stop of this debugger thread's tracees: one `waitpid`.
#[derive(Debug, Default)]
pub(crate) struct PtraceEvents;

impl EventSource for PtraceEvents {
    fn wait_any(&self, mode: WaitMode) -> Result<Option<(i32, StopReason)>> {
        let block = match mode {
            WaitMode::Poll => Block::No,
            WaitMode::Block => Block::Yes,
            WaitMode::Interruptible => Block::Interruptible,
        };
        wait::wait_stop(None, block)
    }
}
