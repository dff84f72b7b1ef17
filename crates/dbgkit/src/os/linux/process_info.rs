//! A live process's identity from `/proc`, as a core file's `NT_PRPSINFO`
//! records it.

use crate::corefile::ProcessInfo;
use crate::error::{Error, Result};

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
    }
}
