//! Running a system call inside a stopped thread.
//!
//! The thread's registers and the two code bytes used are saved, a `syscall`
//! instruction is written at an executable address, the thread single-steps
//! over it, and everything is put back. A thread stopped inside an
//! interrupted system call restarts it afterwards as it would have anyway:
//! the saved registers (with their restart state) are restored before the
//! thread leaves its trap stop, and so is the signal information of the
//! stop it was in.

use super::memory::Memory;
use super::ptrace;
use super::wait::{self, Block, WaitStatus};
use crate::error::{Error, Result};
use crate::target::SyscallOutcome;

const SYSCALL: [u8; 2] = [0x0f, 0x05];

/// Runs system call `number` with `args` in thread `tid` (which must be
/// stopped), using the two bytes at the executable address `at`.
pub(crate) fn syscall(
    memory: &Memory,
    pid: i32,
    tid: i32,
    at: u64,
    number: u64,
    args: [u64; 6],
) -> Result<SyscallOutcome> {
    let fail = |reason: String| Error::InjectionFailed { pid, reason };
    let mut saved = ptrace::get_regs(tid)?;
    // The step's own trap replaces the signal information of the stop the
    // thread is in; a signal it is resumed with must still carry its own.
    let saved_info = ptrace::siginfo(tid).ok();
    let mut saved_bytes = [0u8; 2];
    memory.read(at, &mut saved_bytes).map_err(|e| fail(format!("cannot read code at {at:#x}: {e}")))?;
    memory.write(at, &SYSCALL).map_err(|e| fail(format!("cannot write code at {at:#x}: {e}")))?;
    let mut regs = saved;
    regs.rax = number;
    regs.orig_rax = u64::MAX; // not inside a system call: no restart logic on the way out
    regs.rdi = args[0];
    regs.rsi = args[1];
    regs.rdx = args[2];
    regs.r10 = args[3];
    regs.r8 = args[4];
    regs.r9 = args[5];
    regs.rip = at;
    // The result of a system call the thread was stopped inside (a fork or
    // exec event, `rax` still -ENOSYS): it completes on the way out of the
    // stop. A thread stopped anywhere else has its result already.
    let inside_syscall = saved.orig_rax != u64::MAX && saved.rax as i64 == -(libc::ENOSYS as i64);
    let mut completed = None;
    let run = (|| -> Result<SyscallOutcome> {
        ptrace::set_regs(tid, &regs)?;
        ptrace::single_step(tid, 0)?;
        let mut deferred_signals = Vec::new();
        loop {
            match wait::wait(Some(tid), Block::Yes)? {
                // Stepping out of a stop inside a system call (such as the
                // exec or fork event) traps once before the first instruction
                // runs, the call complete: its result is the thread's, to
                // keep. The exit path rewrote registers: set them again.
                Some((_, WaitStatus::Signal(libc::SIGTRAP))) if ptrace::get_regs(tid)?.rip == at => {
                    completed = Some(ptrace::get_regs(tid)?.rax);
                    ptrace::set_regs(tid, &regs)?;
                    ptrace::single_step(tid, 0)?;
                }
                Some((_, WaitStatus::Signal(libc::SIGTRAP))) => break,
                Some((_, WaitStatus::Signal(sig))) => {
                    // A signal arrived before the step completed: keep it for later.
                    deferred_signals.push(sig);
                    ptrace::single_step(tid, 0)?;
                }
                Some((_, s)) if s.is_death() => return Err(Error::ProcessGone(pid)),
                Some(_) => ptrace::single_step(tid, 0)?,
                None => return Err(fail("interrupted while waiting for the system call".into())),
            }
        }
        let after = ptrace::get_regs(tid)?;
        Ok(SyscallOutcome { result: after.rax as i64, deferred_signals })
    })();
    // Put everything back whatever happened (ignore failures of a dead thread).
    if let Some(result) = completed.filter(|_| inside_syscall) {
        saved.rax = result;
    }
    let _ = memory.write(at, &saved_bytes);
    let _ = ptrace::set_regs(tid, &saved);
    if let Some(info) = saved_info {
        let _ = ptrace::set_siginfo(tid, &info);
    }
    run
}
