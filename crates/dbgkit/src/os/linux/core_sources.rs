//! What a core of a live process needs beyond the registers and memory the
//! engine already reads: the extended register state (`NT_X86_XSTATE`
//! through `PTRACE_GETREGSET`), the raw auxiliary vector, the process's
//! identity from `/proc` (`NT_PRPSINFO`) and a `siginfo_t` as bytes.

use crate::corefile::{ProcessInfo, SigInfo};
use crate::error::{Error, Result};

/// The `NT_X86_XSTATE` register set code.
const NT_X86_XSTATE: usize = 0x202;
/// Larger than any XSAVE area today (AMX tiles included: 11008 bytes).
const XSTATE_MAX: usize = 16 * 1024;

/// The XSAVE area of a stopped thread, as long as the kernel says it is.
pub(crate) fn xstate(tid: i32) -> Result<Vec<u8>> {
    let mut buf = vec![0u8; XSTATE_MAX];
    let mut iov = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() };
    // SAFETY: `iov` describes `buf`, which outlives the call; the kernel shortens `iov_len`.
    let r = unsafe {
        libc::ptrace(
            libc::PTRACE_GETREGSET,
            tid,
            NT_X86_XSTATE as *mut libc::c_void,
            &mut iov as *mut libc::iovec as *mut libc::c_void,
        )
    };
    if r == -1 {
        return Err(Error::last_os("PTRACE_GETREGSET NT_X86_XSTATE", tid));
    }
    buf.truncate(iov.iov_len);
    Ok(buf)
}

/// The raw auxiliary vector (`/proc/PID/auxv`: pairs of words up to `AT_NULL`).
pub(crate) fn auxv_bytes(pid: i32) -> Result<Vec<u8>> {
    std::fs::read(format!("/proc/{pid}/auxv")).map_err(|source| Error::Os {
        op: "read /proc/PID/auxv",
        target: pid,
        source,
    })
}

/// The fields of `/proc/PID/stat` after the command name, and the name.
fn stat_fields(pid: i32) -> Result<(String, Vec<String>)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).map_err(|source| Error::Os {
        op: "read /proc/PID/stat",
        target: pid,
        source,
    })?;
    let open = stat.find('(').unwrap_or(0);
    let close = stat.rfind(')').unwrap_or(stat.len());
    let name = stat.get(open + 1..close).unwrap_or("").to_string();
    let rest = stat.get(close + 1..).unwrap_or("").split_whitespace().map(str::to_string).collect();
    Ok((name, rest))
}

/// Who the process is, as `NT_PRPSINFO` records it.
pub(crate) fn process_info(pid: i32) -> Result<ProcessInfo> {
    let (name, fields) = stat_fields(pid)?;
    // Fields after the name, from 0: state, ppid, pgrp, session, ..., flags (6), ..., nice (16).
    let number = |i: usize| fields.get(i).and_then(|f| f.parse::<i64>().ok()).unwrap_or(0);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let id_of = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1)?.parse::<u32>().ok())
            .unwrap_or(0)
    };
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let arguments = String::from_utf8_lossy(&cmdline).replace('\0', " ").trim_end().to_string();
    Ok(ProcessInfo {
        pid,
        ppid: number(1) as i32,
        pgrp: number(2) as i32,
        sid: number(3) as i32,
        uid: id_of("Uid:"),
        gid: id_of("Gid:"),
        state: fields.first().and_then(|s| s.bytes().next()).unwrap_or(b'R'),
        nice: number(16) as i8,
        flags: number(6) as u64,
        name,
        arguments,
    })
}

/// A `siginfo_t` as the 128 bytes a core stores, with its main fields.
pub(crate) fn siginfo_of(info: &libc::siginfo_t) -> SigInfo {
    const SIZE: usize = 128;
    // SAFETY: siginfo_t is 128 bytes of plain data.
    let raw: [u8; SIZE] = unsafe { std::mem::transmute_copy(info) };
    SigInfo {
        signal: info.si_signo,
        code: info.si_code,
        errno: info.si_errno,
        // SAFETY: reading the union's address member; for signals without one it is whatever the kernel put there.
        fault_address: unsafe { info.si_addr() } as u64,
        raw: raw.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_own_process_is_described() {
        let me = std::process::id() as i32;
        let info = process_info(me).unwrap();
        assert_eq!(info.pid, me);
        // SAFETY: plain queries.
        assert_eq!(info.ppid, unsafe { libc::getppid() });
        assert_eq!(info.uid, unsafe { libc::getuid() });
        assert!(!info.name.is_empty());
        assert_eq!(auxv_bytes(me).unwrap().len() % 16, 0);
    }
}
