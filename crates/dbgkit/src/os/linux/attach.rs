//! Attaching to a running process: seize and stop every thread.

use super::ptrace;
use super::wait::{self, Block, WaitStatus};
use crate::error::{Error, Result};
use std::collections::BTreeMap;

pub(crate) use crate::os::local::AttachedThread;

use super::target::thread_ids;

/// The tracer of `tid`, from `/proc`, when it has one.
pub(crate) fn tracer_of(tid: i32) -> Option<i32> {
    let status = std::fs::read_to_string(format!("/proc/{tid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("TracerPid:"))?;
    line.split_whitespace().nth(1)?.parse().ok().filter(|&t| t != 0)
}

/// Seizes every thread of `pid`, rescanning the thread list until no new
/// thread appears, and waits until each one is stopped.
pub(crate) fn seize_all(pid: i32) -> Result<BTreeMap<i32, AttachedThread>> {
    if pid <= 0 || !std::path::Path::new(&format!("/proc/{pid}")).exists() {
        return Err(Error::NoSuchProcess(pid));
    }
    let tgid = std::fs::read_to_string(format!("/proc/{pid}/status")).ok().and_then(|s| {
        s.lines().find(|l| l.starts_with("Tgid:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<i32>().ok())
    });
    if tgid != Some(pid) {
        return Err(Error::NoSuchProcess(pid));
    }
    if let Some(tracer) = tracer_of(pid) {
        return Err(Error::AlreadyTraced { pid, tracer });
    }
    let me = std::process::id() as i32;
    let mut seized: Vec<i32> = Vec::new();
    let mut known = std::collections::HashSet::new();
    loop {
        let mut new = 0;
        for tid in thread_ids(pid)? {
            if !known.insert(tid) {
                continue;
            }
            match ptrace::seize(tid, ptrace::options(false)) {
                Ok(()) => {
                    seized.push(tid);
                    new += 1;
                    let _ = ptrace::interrupt(tid);
                }
                Err(e) if e.raw_os_error() == Some(libc::ESRCH) => {}
                Err(e) if e.raw_os_error() == Some(libc::EPERM) => {
                    match tracer_of(tid) {
                        // Created by a seized thread since: auto-attached, its clone event will claim it.
                        Some(t) if t == me => {}
                        Some(tracer) if tid == pid => return Err(Error::AlreadyTraced { pid, tracer }),
                        _ if seized.is_empty() => return Err(Error::PermissionDenied(pid)),
                        _ => {}
                    }
                }
                Err(e) => return Err(e),
            }
        }
        if new == 0 {
            break;
        }
    }
    if seized.is_empty() {
        return Err(Error::NoSuchProcess(pid));
    }
    let mut threads = BTreeMap::new();
    for tid in seized {
        match wait::wait(Some(tid), Block::Yes)? {
            Some((_, WaitStatus::Interrupted)) => {
                threads.insert(tid, AttachedThread::Stopped { group_stopped: false });
            }
            Some((_, WaitStatus::GroupStop(_))) => {
                threads.insert(tid, AttachedThread::Stopped { group_stopped: true });
            }
            Some((_, status)) => {
                threads.insert(tid, AttachedThread::Held(wait::stop_reason(tid, status)));
            }
            None => {}
        }
    }
    Ok(threads)
}
