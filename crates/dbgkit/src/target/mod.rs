//! The target boundary: what the engine needs from a debugged process,
//! whatever it is (a live Linux process under ptrace, a core file, later a
//! remote stub or a Windows process).
//!
//! Every target answers [`Target`]: threads, registers, memory reads that may
//! be partial, its memory map and its image (executable and auxiliary
//! vector). Everything else is an optional capability, in the style of
//! gdbstub's `target/ext` and LLDB's Process plugins: a target offers it by
//! returning `Some` from the matching `Target` method, and the engine
//! chooses its technique from what is there (out-of-line breakpoints only
//! where code can be injected to map scratch memory, the classic step-over
//! elsewhere; page watchpoints only where pages can be protected). A missing
//! capability is [`Error::NotSupported`], never a panic.
//!
//! | capability            | live Linux process | core file | remote (gdbserver, QEMU) |
//! | --------------------- | ------------------ | --------- | ------------------------ |
//! | [`WriteAccess`]       | yes                | no        | yes                      |
//! | [`RunControl`]        | yes                | no        | yes (over all-stop)      |
//! | [`DebugRegisters`]    | yes                | no        | emulated with `Z1`-`Z4`  |
//! | [`CodeInjection`]     | yes                | no        | no                       |
//! | [`TargetBreakpoints`] | no (int3 written by the engine) | no | yes (`Z0`/`Z1`)     |
//! | [`MemoryProtection`]  | no (`mprotect` by [`CodeInjection`]) | no | no              |
//! | [`EventSource`]       | yes (one for every ptrace process) | no | yes (one per connection) |

pub(crate) mod core;
#[cfg(test)]
pub(crate) mod fake;
pub mod remote;

use crate::arch::registers::{FpRegisters, Registers};
use crate::error::{Error, Result};
use std::path::PathBuf;

mod region;
pub use region::MemoryRegion;

/// Why a thread stopped, as a target reports it. Raw OS statuses (a
/// `waitpid` status, a stop-reply packet, a Win32 debug event) are turned
/// into these inside the target; the engine never sees the raw form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// The thread exited with this code.
    Exited(i32),
    /// The thread was killed by a signal.
    Killed { signal: i32 },
    /// The thread is about to receive `signal` (a breakpoint trap, a single
    /// step, a debug-register trap and a fault all arrive this way; the
    /// engine tells them apart with [`Target::signal_info`] and the debug
    /// registers).
    Signal(i32),
    /// The thread took part in a group-stop (`SIGSTOP` from outside).
    GroupStop(i32),
    /// The thread stopped because the engine asked ([`RunControl::interrupt`]),
    /// or it is a new thread's first stop.
    Interrupted,
    /// A system call entry or exit.
    Syscall,
    /// The thread created a new thread `child` (stopped at its first stop).
    NewThread { child: i32 },
    /// The thread forked: `child` is a new process, stopped; with `vfork` it
    /// shares its parent's memory until it execs or exits.
    Forked { child: i32, vfork: bool },
    /// The `vfork` child released its parent's memory.
    VforkDone,
    /// The process replaced its image.
    Exec,
    /// The target's own list of modules changed (a Windows DLL was loaded
    /// or unloaded): the engine reads it again
    /// ([`Target::listed_modules`]), then the thread goes on.
    ModulesChanged,
    /// Another target-specific stop the engine does not use; it just goes on.
    Other,
}

impl StopReason {
    /// True when the thread no longer exists after this stop.
    pub fn is_death(self) -> bool {
        matches!(self, StopReason::Exited(_) | StopReason::Killed { .. })
    }
}

/// What the target knows about the signal a thread stopped with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SignalInfo {
    pub signal: i32,
    /// `si_code`: how the signal came (a fault kind, a trap kind, a sender).
    pub code: i32,
    /// The faulting address, for faults.
    pub address: u64,
    /// For a Windows exception, its NTSTATUS (`0xC0000005`); `code` is then
    /// an access violation's kind (0 read, 1 write, 8 execute) and
    /// `address` the address it accessed.
    pub nt_status: Option<u32>,
}

impl SignalInfo {
    /// The address a fault was about, for the signals that have one.
    pub fn fault_address(&self) -> Option<u64> {
        crate::signal_numbers::is_hardware_fault(self.signal).then_some(self.address)
    }

    /// This information with a Windows exception's NTSTATUS added: an
    /// access violation's parameters (the kind of access, the address
    /// accessed) become its code and address, as a fault's are.
    pub fn with_exception(mut self, nt_status: u32, parameters: &[u64]) -> SignalInfo {
        self.nt_status = Some(nt_status);
        if let (crate::nt_status::ACCESS_VIOLATION, [kind, accessed, ..]) = (nt_status, parameters) {
            self.code = *kind as i32;
            self.address = *accessed;
        }
        self
    }

    /// Whether the access faulted because of the page's rights (Linux's
    /// `SEGV_ACCERR`, a Windows access violation): what a page watchpoint makes.
    pub fn refused_by_page_rights(&self) -> bool {
        const SEGV_ACCERR: i32 = 2;
        match self.nt_status {
            Some(status) => status == crate::nt_status::ACCESS_VIOLATION,
            None => self.signal == crate::signal_numbers::SIGSEGV && self.code == SEGV_ACCERR,
        }
    }

    /// The exception as the target's system names it: its NTSTATUS on
    /// Windows, the signal elsewhere.
    pub fn os_code(&self) -> crate::event::ExceptionCode {
        match self.nt_status {
            Some(status) => crate::event::ExceptionCode::NtStatus(status),
            None => crate::event::ExceptionCode::Signal(self.signal),
        }
    }
}

/// `si_code` of a `SIGTRAP` raised by an `int3` (the kernel's `SI_KERNEL`).
pub const TRAP_BY_INT3: i32 = 0x80;

/// The entries of the auxiliary vector the engine uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Auxv {
    /// `AT_PHDR`: address of the main executable's program headers.
    pub phdr: u64,
    /// `AT_PHNUM`.
    pub phnum: u64,
    /// `AT_BASE`: load address of the dynamic loader (0 for static executables).
    pub interpreter_base: u64,
    /// `AT_ENTRY`: entry point of the main executable.
    pub entry: u64,
    /// `AT_SYSINFO_EHDR`: address of the vDSO.
    pub vdso: u64,
}

impl Auxv {
    /// Reads the entries the engine uses from raw (key, value) pairs of 8 bytes each.
    pub fn parse(bytes: &[u8]) -> Auxv {
        let mut auxv = Auxv::default();
        for pair in bytes.chunks_exact(16) {
            let key = u64::from_le_bytes(pair[..8].try_into().expect("8 bytes"));
            let value = u64::from_le_bytes(pair[8..].try_into().expect("8 bytes"));
            match key {
                crate::linux_abi::AT_PHDR => auxv.phdr = value,
                crate::linux_abi::AT_PHNUM => auxv.phnum = value,
                crate::linux_abi::AT_BASE => auxv.interpreter_base = value,
                crate::linux_abi::AT_ENTRY => auxv.entry = value,
                crate::linux_abi::AT_SYSINFO_EHDR => auxv.vdso = value,
                _ => {}
            }
        }
        auxv
    }
}

/// What a process runs: its executable file and auxiliary vector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Image {
    pub executable: PathBuf,
    pub auxv: Auxv,
    /// The raw auxiliary vector, as the process has it.
    pub raw_auxv: Vec<u8>,
    /// Where a PE executable (Windows) is mapped: such a process has no
    /// auxiliary vector to place it by.
    pub pe_base: Option<u64>,
}

/// How a thread goes on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resume {
    /// Run until something stops it.
    Continue,
    /// Run one instruction.
    Step,
    /// Stay in a group-stop, but report when it ends (ptrace's `LISTEN`).
    Listen,
    /// Run, stopping also where a system call is entered or left (ptrace's
    /// `SYSCALL`), as [`StopReason::Syscall`].
    ToSyscall,
}

/// A thread stopped at a system call's entry or exit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyscallStop {
    pub number: u64,
    /// Entering (`args` are its arguments) or leaving (`result` is what it returns).
    pub entry: bool,
    pub args: [u64; 6],
    pub result: i64,
}

/// What every target can do: show one process, stopped.
pub trait Target {
    /// What kind of target this is, for messages: "live process", "core file".
    fn kind(&self) -> &'static str;
    /// The process id the target reports.
    fn pid(&self) -> i32;
    /// Every thread the target knows of now.
    fn thread_ids(&self) -> Result<Vec<i32>>;
    /// Reads as many bytes as are readable from `address` on; returns the count.
    fn read_memory(&self, address: u64, buf: &mut [u8]) -> usize;
    /// The memory map, lowest address first.
    fn memory_map(&self) -> Result<Vec<MemoryRegion>>;
    /// The general-purpose registers of a stopped thread.
    fn registers(&self, tid: i32) -> Result<Registers>;
    /// The program counter of a stopped thread (targets may read it alone: the hot path).
    fn pc(&self, tid: i32) -> Result<u64> {
        Ok(self.registers(tid)?.rip)
    }
    /// The x87 and SSE registers of a stopped thread.
    fn fp_registers(&self, tid: i32) -> Result<FpRegisters>;
    /// The thread's whole `xsave` area (AVX and beyond), as the kernel lays it out.
    fn xstate(&self, _tid: i32) -> Result<Vec<u8>> {
        Err(not_supported("reading the extended register state", self.kind()))
    }
    /// The signal a stopped thread stopped with.
    fn signal_info(&self, tid: i32) -> Result<SignalInfo>;
    /// The executable and auxiliary vector.
    fn image(&self) -> Result<Image>;
    /// The raw `siginfo_t` (the kernel's 128 bytes) of the signal a thread
    /// stopped with: what a debugger shows as `$_siginfo`.
    fn raw_siginfo(&self, _tid: i32) -> Result<[u8; crate::session::SIGINFO_SIZE]> {
        Err(not_supported("the raw signal information", self.kind()))
    }
    /// The images the target lists itself, each with the address it is
    /// mapped at (a Windows process's DLLs); `None` for a target whose
    /// libraries come from the dynamic loader's list in its memory.
    fn listed_modules(&self) -> Result<Option<Vec<(PathBuf, u64)>>> {
        Ok(None)
    }
    /// Who the process is (parent, group, user, name, arguments), as a core
    /// file's `NT_PRPSINFO` records it.
    fn process_info(&self) -> Result<crate::corefile::ProcessInfo> {
        Ok(crate::corefile::ProcessInfo { pid: self.pid(), state: b't', ..Default::default() })
    }
    /// Registers beyond the general ones that the target shows by name: a
    /// machine's segment bases, control registers and `efer` (QEMU).
    fn extra_registers(&self, _tid: i32) -> Result<Vec<(String, u64)>> {
        Ok(Vec::new())
    }
    /// The function a thread was created to run, where the system says
    /// (a Windows thread's start address; its first instruction is in
    /// ntdll's thread start). `None`: the thread's first pc is its start.
    fn thread_start(&self, _tid: i32) -> Option<u64> {
        None
    }
    /// The pending and blocked signal masks of a thread (bit `n - 1` for signal `n`).
    fn signal_masks(&self, _tid: i32) -> (u64, u64) {
        (0, 0)
    }

    /// Writing memory and registers.
    fn write_access(&self) -> Option<&dyn WriteAccess> {
        None
    }
    /// Resuming, stepping, stopping, detaching, killing.
    fn run_control(&self) -> Option<&dyn RunControl> {
        None
    }
    /// The x86 debug registers DR0-DR7 (hardware breakpoints and watchpoints).
    fn debug_registers(&self) -> Option<&dyn DebugRegisters> {
        None
    }
    /// Running system calls inside the target (memory allocation and
    /// protection: scratch memory for out-of-line breakpoints, page watchpoints).
    fn code_injection(&self) -> Option<&dyn CodeInjection> {
        None
    }
    /// Software breakpoints planted by the target itself (a remote stub's `Z0`).
    fn target_breakpoints(&self) -> Option<&dyn TargetBreakpoints> {
        None
    }
    /// Changing the access rights of pages from outside (a Windows
    /// process's `VirtualProtectEx`), for page watchpoints where no system
    /// call can be injected.
    fn memory_protection(&self) -> Option<&dyn MemoryProtection> {
        None
    }
}

impl dyn Target + '_ {
    /// Reads exactly `buf.len()` bytes or fails naming the unreadable range.
    pub fn read_exact(&self, address: u64, buf: &mut [u8]) -> Result<()> {
        if self.read_memory(address, buf) == buf.len() {
            Ok(())
        } else {
            Err(Error::UnmappedMemory { pid: self.pid(), address, len: buf.len() })
        }
    }

    /// Reads one little-endian 64-bit word.
    pub fn read_u64(&self, address: u64) -> Result<u64> {
        let mut b = [0u8; 8];
        self.read_exact(address, &mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    /// Reads a NUL-terminated string of at most `limit` bytes (lossy UTF-8;
    /// empty when unreadable, cut where the memory stops being readable).
    pub fn read_c_string(&self, address: u64, limit: usize) -> String {
        if address == 0 {
            return String::new();
        }
        let mut out = Vec::new();
        let mut chunk = [0u8; 256];
        while out.len() < limit {
            let at = address.wrapping_add(out.len() as u64);
            let want = chunk.len().min(limit - out.len());
            let n = self.read_memory(at, &mut chunk[..want]);
            if n == 0 {
                break;
            }
            if let Some(end) = chunk[..n].iter().position(|&b| b == 0) {
                out.extend_from_slice(&chunk[..end]);
                break;
            }
            out.extend_from_slice(&chunk[..n]);
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// Writing memory and registers.
pub trait WriteAccess {
    /// Writes all of `data` at `address`, read-only code included.
    fn write_memory(&self, address: u64, data: &[u8]) -> Result<()>;
    fn set_registers(&self, tid: i32, regs: &Registers) -> Result<()>;
    /// Sets the program counter alone (the hot path).
    fn set_pc(&self, tid: i32, pc: u64) -> Result<()>;
    fn set_fp_registers(&self, tid: i32, regs: &FpRegisters) -> Result<()>;
    /// Writes a thread's whole `xsave` area back (as [`Target::xstate`] gave it).
    fn set_xstate(&self, _tid: i32, _area: &[u8]) -> Result<()> {
        Err(not_supported("writing the extended register state", "this target"))
    }
    /// Replaces the raw `siginfo_t` of the signal a stopped thread stopped
    /// with: a signal it is then resumed with carries this information.
    fn set_raw_siginfo(&self, _tid: i32, _info: &[u8; crate::session::SIGINFO_SIZE]) -> Result<()> {
        Err(not_supported("writing the signal information", "it keeps none"))
    }
}

/// Running threads and waiting for them.
pub trait RunControl {
    /// Lets a stopped thread go on, delivering `signal` (0 for none).
    fn resume(&self, tid: i32, how: Resume, signal: i32) -> Result<()>;
    /// Asks a running thread to stop; its stop comes as [`StopReason::Interrupted`].
    fn interrupt(&self, tid: i32) -> Result<()>;
    /// Sends `signal` to thread `tid`, to arrive when it runs: for a thread
    /// whose stop drops a signal given on [`resume`](Self::resume) (on
    /// Linux, every stop but a signal's own: an interrupt, a ptrace event).
    fn queue_signal(&self, _tid: i32, _signal: i32) -> Result<()> {
        Err(crate::error::Error::NotSupported { what: "sending a signal to a thread", target: "this target" })
    }
    /// Waits for the next stop of one thread.
    fn wait_thread(&self, tid: i32) -> Result<Option<StopReason>>;
    /// Lets a stopped thread go, no longer debugged, delivering `signal`.
    fn detach_thread(&self, tid: i32, signal: i32) -> Result<()>;
    /// Ends the whole process.
    fn kill(&self) -> Result<()>;
    /// Whether the process dies with the debugger (set on every thread).
    fn set_kill_on_exit(&self, tid: i32, on: bool) -> Result<()>;
    /// A target for a child this process forked (stopped at its first stop).
    fn open_child(&self, child: i32) -> Result<Box<dyn Target>>;
    /// The target again after the process replaced its image.
    fn reopen_after_exec(&self) -> Result<Box<dyn Target>>;
    /// Whether `signal`, delivered to `tid` now, would end the process
    /// (not caught, not ignored): the last look is a second chance.
    fn signal_would_kill(&self, tid: i32, signal: i32) -> bool;
    /// The process's open files and their offsets (file descriptor, offset).
    fn file_offsets(&self) -> Vec<(i32, u64)> {
        Vec::new()
    }
    /// Whether `tid` has a `SIGTRAP` pending that has not stopped it yet.
    fn trap_pending(&self, _tid: i32) -> bool {
        false
    }
    /// Whether `tid` is dead but not reaped (a leader waiting for its threads).
    fn is_zombie(&self, _tid: i32) -> bool {
        false
    }
    /// Whether the system itself says `tid`'s stop is the second chance of
    /// an exception the program did not handle (`Some`: Windows does);
    /// `None` where the engine decides ([`signal_would_kill`](Self::signal_would_kill),
    /// a fault repeating at one place).
    fn is_second_chance(&self, _tid: i32) -> Option<bool> {
        None
    }
    /// Whether threads can stop at system calls ([`Resume::ToSyscall`]).
    fn stops_at_syscalls(&self) -> bool {
        false
    }
    /// Where a thread stopped at a system call is: entry or exit, and what.
    fn syscall_stop(&self, _tid: i32) -> Result<SyscallStop> {
        Err(crate::error::Error::NotSupported { what: "system call stops", target: "this target" })
    }
}

/// The x86 debug registers of each thread.
pub trait DebugRegisters {
    /// Reads DR`index` (0-3 addresses, 6 status, 7 control).
    fn debug_register(&self, tid: i32, index: usize) -> Result<u64>;
    fn set_debug_register(&self, tid: i32, index: usize, value: u64) -> Result<()>;
}

/// What an injected system call returned, and signals that arrived meanwhile
/// (the engine delivers them later: nothing meant for the target is lost).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyscallOutcome {
    pub result: i64,
    pub deferred_signals: Vec<i32>,
}

/// Running a system call inside a stopped thread.
pub trait CodeInjection {
    /// Runs system call `number` in the stopped thread `tid`; every register
    /// and code byte used is put back afterwards.
    fn syscall(&self, tid: i32, number: u64, args: [u64; 6]) -> Result<SyscallOutcome>;
}

/// Software breakpoints the target plants itself (the engine then never
/// writes breakpoint bytes, and every hit is a classic step-over).
pub trait TargetBreakpoints {
    fn insert_breakpoint(&self, address: u64) -> Result<()>;
    fn remove_breakpoint(&self, address: u64) -> Result<()>;
    /// Whether the target runs the instruction under one of its
    /// breakpoints itself when a thread is resumed on it (dbgkit-winstub
    /// does, out of line): the engine then resumes without lifting it.
    fn steps_over_itself(&self) -> bool {
        false
    }
}

/// What a page lets the program do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PageRights {
    pub read: bool,
    pub write: bool,
    pub execute: bool,
}

/// Changing the access rights of a process's pages.
pub trait MemoryProtection {
    /// Gives the pages covering `address..address + len` these rights.
    fn protect(&self, address: u64, len: u64, rights: PageRights) -> Result<()>;
}

/// How long a wait may block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitMode {
    /// Return at once when nothing is ready.
    Poll,
    /// Block until a stop arrives (a signal to the debugger does not end the wait).
    Block,
    /// Block until a stop arrives or a signal to the debugger (Ctrl-C)
    /// interrupts the wait.
    Interruptible,
}

/// Where stops come from: one source may serve several processes (every
/// ptrace process of a debugger thread shares one `waitpid`).
pub trait EventSource {
    /// The next stop of any thread of this source: `(tid, reason)`; `None`
    /// when nothing is ready (`Poll`) or the wait was interrupted.
    fn wait_any(&self, mode: WaitMode) -> Result<Option<(i32, StopReason)>>;
    /// The lines the target wrote for its debugger up to the last stop
    /// (a Windows program's `OutputDebugString`), taken.
    fn take_debug_output(&self) -> Vec<String> {
        Vec::new()
    }
}

/// The error for a capability a target lacks.
pub(crate) fn not_supported(what: &'static str, target: &'static str) -> Error {
    Error::NotSupported { what, target }
}
