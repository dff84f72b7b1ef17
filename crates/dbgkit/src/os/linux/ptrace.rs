//! Thin, allocation-free wrappers over the ptrace requests the engine uses.
//!
//! Every wrapper returns `Err` with the failing request named; callers decide
//! whether `ESRCH` (the thread vanished) is an event or an error.

use crate::error::{Error, Result};
use libc::{c_long, c_void, pid_t};

/// The options every traced thread carries (inherited by new threads).
pub(crate) const BASE_OPTIONS: c_long = (libc::PTRACE_O_TRACECLONE
    | libc::PTRACE_O_TRACEFORK
    | libc::PTRACE_O_TRACEVFORK
    | libc::PTRACE_O_TRACEVFORKDONE
    | libc::PTRACE_O_TRACEEXEC
    | libc::PTRACE_O_TRACESYSGOOD) as c_long;

/// Options for a thread, with or without kill-on-exit.
pub(crate) fn options(kill_on_exit: bool) -> c_long {
    if kill_on_exit {
        BASE_OPTIONS | libc::PTRACE_O_EXITKILL as c_long
    } else {
        BASE_OPTIONS
    }
}

fn request(op: &'static str, req: libc::c_uint, tid: pid_t, addr: usize, data: usize) -> Result<c_long> {
    // SAFETY: ptrace with plain integer arguments; pointer arguments are only
    // passed by the typed wrappers below, which own the memory they point to.
    let r = unsafe { libc::ptrace(req, tid, addr as *mut c_void, data as *mut c_void) };
    if r == -1 {
        Err(Error::last_os(op, tid))
    } else {
        Ok(r)
    }
}

pub(crate) fn seize(tid: pid_t, options: c_long) -> Result<()> {
    request("PTRACE_SEIZE", libc::PTRACE_SEIZE, tid, 0, options as usize).map(drop)
}

pub(crate) fn interrupt(tid: pid_t) -> Result<()> {
    request("PTRACE_INTERRUPT", libc::PTRACE_INTERRUPT, tid, 0, 0).map(drop)
}

pub(crate) fn cont(tid: pid_t, signal: i32) -> Result<()> {
    request("PTRACE_CONT", libc::PTRACE_CONT, tid, 0, signal as usize).map(drop)
}

pub(crate) fn single_step(tid: pid_t, signal: i32) -> Result<()> {
    request("PTRACE_SINGLESTEP", libc::PTRACE_SINGLESTEP, tid, 0, signal as usize).map(drop)
}

pub(crate) fn syscall(tid: pid_t, signal: i32) -> Result<()> {
    request("PTRACE_SYSCALL", libc::PTRACE_SYSCALL, tid, 0, signal as usize).map(drop)
}

/// What a thread in a syscall-stop is doing: entering (number and
/// arguments) or leaving (the result) a system call.
pub(crate) fn syscall_stop(tid: pid_t) -> Result<crate::target::SyscallStop> {
    // SAFETY: ptrace_syscall_info is plain data; the kernel fills at most its size.
    let mut info: libc::ptrace_syscall_info = unsafe { std::mem::zeroed() };
    let size = std::mem::size_of::<libc::ptrace_syscall_info>();
    request("PTRACE_GET_SYSCALL_INFO", libc::PTRACE_GET_SYSCALL_INFO, tid, size, &mut info as *mut _ as usize)?;
    // The exit's information has no number: the kernel keeps it in orig_rax.
    let number = get_regs(tid)?.orig_rax;
    let mut stop = crate::target::SyscallStop { number, entry: false, args: [0; 6], result: 0 };
    match info.op {
        libc::PTRACE_SYSCALL_INFO_ENTRY => {
            stop.entry = true;
            // SAFETY: the kernel filled the union's entry member (op says so).
            stop.args = unsafe { info.u.entry.args };
        }
        libc::PTRACE_SYSCALL_INFO_EXIT => {
            // SAFETY: the kernel filled the union's exit member (op says so).
            stop.result = unsafe { info.u.exit.sval };
        }
        op => {
            return Err(Error::BadTargetData {
                what: format!("thread {tid}"),
                reason: format!("not at a system call's entry or exit (ptrace says {op})"),
            })
        }
    }
    Ok(stop)
}

pub(crate) fn listen(tid: pid_t) -> Result<()> {
    request("PTRACE_LISTEN", libc::PTRACE_LISTEN, tid, 0, 0).map(drop)
}

pub(crate) fn detach(tid: pid_t, signal: i32) -> Result<()> {
    request("PTRACE_DETACH", libc::PTRACE_DETACH, tid, 0, signal as usize).map(drop)
}

pub(crate) fn set_options(tid: pid_t, options: c_long) -> Result<()> {
    request("PTRACE_SETOPTIONS", libc::PTRACE_SETOPTIONS, tid, 0, options as usize).map(drop)
}

pub(crate) fn event_message(tid: pid_t) -> Result<u64> {
    let mut msg: libc::c_ulong = 0;
    request("PTRACE_GETEVENTMSG", libc::PTRACE_GETEVENTMSG, tid, 0, &mut msg as *mut _ as usize)?;
    Ok(msg)
}

pub(crate) fn siginfo(tid: pid_t) -> Result<libc::siginfo_t> {
    // SAFETY: siginfo_t is plain data; the kernel fills it.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    request("PTRACE_GETSIGINFO", libc::PTRACE_GETSIGINFO, tid, 0, &mut info as *mut _ as usize)?;
    Ok(info)
}

pub(crate) fn set_siginfo(tid: pid_t, info: &libc::siginfo_t) -> Result<()> {
    request("PTRACE_SETSIGINFO", libc::PTRACE_SETSIGINFO, tid, 0, info as *const _ as usize).map(drop)
}

pub(crate) fn get_regs(tid: pid_t) -> Result<libc::user_regs_struct> {
    // SAFETY: user_regs_struct is plain data; the kernel fills it.
    let mut regs: libc::user_regs_struct = unsafe { std::mem::zeroed() };
    request("PTRACE_GETREGS", libc::PTRACE_GETREGS, tid, 0, &mut regs as *mut _ as usize)?;
    Ok(regs)
}

pub(crate) fn set_regs(tid: pid_t, regs: &libc::user_regs_struct) -> Result<()> {
    request("PTRACE_SETREGS", libc::PTRACE_SETREGS, tid, 0, regs as *const _ as usize).map(drop)
}

pub(crate) fn get_fpregs(tid: pid_t) -> Result<libc::user_fpregs_struct> {
    // SAFETY: user_fpregs_struct is plain data; the kernel fills it.
    let mut regs: libc::user_fpregs_struct = unsafe { std::mem::zeroed() };
    request("PTRACE_GETFPREGS", libc::PTRACE_GETFPREGS, tid, 0, &mut regs as *mut _ as usize)?;
    Ok(regs)
}

pub(crate) fn set_fpregs(tid: pid_t, regs: &libc::user_fpregs_struct) -> Result<()> {
    request("PTRACE_SETFPREGS", libc::PTRACE_SETFPREGS, tid, 0, regs as *const _ as usize).map(drop)
}

/// The thread's `xsave` area (x87, SSE, AVX and beyond) with
/// `PTRACE_GETREGSET` and `NT_X86_XSTATE`, trimmed to what the kernel filled.
pub(crate) fn get_xstate(tid: pid_t) -> Result<Vec<u8>> {
    const NT_X86_XSTATE: usize = 0x202;
    // Large enough for AVX-512 and AMX tile state.
    let mut buf = vec![0u8; 16 * 1024];
    let mut iov = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() };
    request("PTRACE_GETREGSET", libc::PTRACE_GETREGSET, tid, NT_X86_XSTATE, &mut iov as *mut _ as usize)?;
    buf.truncate(iov.iov_len);
    Ok(buf)
}

/// Writes a thread's `xsave` area back: `area` must be the size a read gave.
pub(crate) fn set_xstate(tid: pid_t, area: &[u8]) -> Result<()> {
    const NT_X86_XSTATE: usize = 0x202;
    let mut copy = area.to_vec();
    let mut iov = libc::iovec { iov_base: copy.as_mut_ptr().cast(), iov_len: copy.len() };
    request("PTRACE_SETREGSET", libc::PTRACE_SETREGSET, tid, NT_X86_XSTATE, &mut iov as *mut _ as usize)?;
    Ok(())
}

/// Reads one word of the user area (the debug registers live there).
pub(crate) fn peek_user(tid: pid_t, offset: usize) -> Result<u64> {
    // PTRACE_PEEKUSER returns the word; -1 is a valid value, so errno decides.
    // SAFETY: errno is thread-local; ptrace with integer arguments.
    unsafe {
        *libc::__errno_location() = 0;
        let r = libc::ptrace(libc::PTRACE_PEEKUSER, tid, offset as *mut c_void, std::ptr::null_mut::<c_void>());
        if r == -1 && *libc::__errno_location() != 0 {
            return Err(Error::last_os("PTRACE_PEEKUSER", tid));
        }
        Ok(r as u64)
    }
}

/// Writes one word of the user area.
pub(crate) fn poke_user(tid: pid_t, offset: usize, value: u64) -> Result<()> {
    request("PTRACE_POKEUSER", libc::PTRACE_POKEUSER, tid, offset, value as usize).map(drop)
}

/// Byte offset of `rip` in the user area (`struct user` starts with the registers).
pub(crate) const USER_RIP_OFFSET: usize = std::mem::offset_of!(libc::user_regs_struct, rip);
