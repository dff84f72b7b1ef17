//! Attaching to every thread of a running process by hand.

use super::{describe, ptrace, waitpid};
use anyhow::{bail, Context, Result};
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// What one raw attach saw.
pub struct AttachRun {
    /// From the first PTRACE_SEIZE until every thread is known to be stopped.
    pub elapsed: Duration,
    /// Threads seized and stopped.
    pub threads: usize,
}

fn thread_ids(pid: i32) -> Result<Vec<i32>> {
    let dir = std::fs::read_dir(format!("/proc/{pid}/task")).with_context(|| format!("listing /proc/{pid}/task"))?;
    Ok(dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok()).collect())
}

/// PTRACE_SEIZE and PTRACE_INTERRUPT every thread of `pid` (rescanning
/// /proc/PID/task until a pass finds no new thread), then waitpid (`__WALL`)
/// each until it reports its interrupt stop: the least any debugger must do
/// to hold a multi-threaded process. The time ends there; every thread is
/// then detached (not timed) and the process runs on.
pub fn seize_all(pid: i32) -> Result<AttachRun> {
    let start = Instant::now();
    let mut seized = HashSet::new();
    let mut stopped = 0;
    let run = (|| -> Result<Duration> {
        loop {
            let mut new = 0;
            for tid in thread_ids(pid)? {
                if seized.contains(&tid) {
                    continue;
                }
                match ptrace(libc::PTRACE_SEIZE, tid, 0, 0) {
                    Ok(_) => {
                        seized.insert(tid);
                        new += 1;
                        ptrace(libc::PTRACE_INTERRUPT, tid, 0, 0)
                            .with_context(|| format!("PTRACE_INTERRUPT of thread {tid}"))?;
                    }
                    // The thread ended meanwhile.
                    Err(e) if e.raw_os_error() == Some(libc::ESRCH) => {}
                    Err(e) => return Err(e).with_context(|| format!("PTRACE_SEIZE of thread {tid}")),
                }
            }
            if new == 0 {
                break;
            }
        }
        for &tid in &seized {
            let status = waitpid(tid, libc::__WALL).with_context(|| format!("waitpid for thread {tid}"))?;
            if !(libc::WIFSTOPPED(status) && status >> 16 == libc::PTRACE_EVENT_STOP) {
                bail!("thread {tid}: expected its interrupt stop, but it {} (status {status:#x})", describe(status));
            }
            stopped += 1;
        }
        Ok(start.elapsed())
    })();
    for &tid in &seized {
        // A thread not stopped (after an error) cannot be detached this way;
        // it is detached when the benchmark exits.
        let _ = ptrace(libc::PTRACE_DETACH, tid, 0, 0);
    }
    Ok(AttachRun { elapsed: run?, threads: stopped })
}
