//! One measured run of a debugged program (or of a whole child program):
//! what it produced, and the time limit it runs under.
//!
//! The debugger under test may hang (a lost stop, a missed wake-up), and a
//! benchmark that never ends tells nobody anything. Killing the target turns
//! a hang into an exit the measuring loop sees and reports; if even that does
//! not end the run (the debugger spins without waiting), the whole benchmark
//! gives up. The watchdog only ever sends signals from its own thread, since
//! ptrace requests must all come from the tracing thread.

use anyhow::{ensure, Context, Result};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What one debugger made of one whole run of a fixture, launch to exit.
pub struct Run {
    pub hits: u64,
    pub elapsed: Duration,
    /// The program's standard output, captured apart from the report.
    pub stdout: String,
    pub exit_code: i32,
}

impl Run {
    pub fn hits_per_second(&self) -> f64 {
        self.hits as f64 / self.elapsed.as_secs_f64()
    }
}

/// What one debugger's stepping run saw.
pub struct StepRun {
    /// The time of the steps alone.
    pub elapsed: Duration,
    /// `rip` after the checkpoint's number of steps, and after all of them:
    /// every debugger stepping from the same place must reach the same ones.
    pub rip_at_checkpoint: u64,
    pub final_rip: u64,
}

/// How long after killing the target the benchmark waits before exiting.
const GRACE: Duration = Duration::from_secs(10);

pub struct Watchdog {
    cancel: Option<mpsc::Sender<()>>,
    fired: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Watchdog {
    /// Kills `target` (a pid, or a negated process group) with SIGKILL when
    /// the watchdog is still alive after `limit`.
    pub fn start(target: i32, limit: Duration, what: String) -> Watchdog {
        let (cancel, cancelled) = mpsc::channel::<()>();
        let fired = Arc::new(AtomicBool::new(false));
        let flag = fired.clone();
        let thread = std::thread::spawn(move || {
            if cancelled.recv_timeout(limit) != Err(RecvTimeoutError::Timeout) {
                return;
            }
            flag.store(true, Ordering::SeqCst);
            eprintln!("dbgkit-bench: {what} still running after {limit:?}; killing it");
            // SAFETY: sending a signal. The run is still in progress (not
            // cancelled), so the target has not been reaped and its pid is ours.
            unsafe { libc::kill(target, libc::SIGKILL) };
            if cancelled.recv_timeout(GRACE) == Err(RecvTimeoutError::Timeout) {
                eprintln!("dbgkit-bench: {what} did not notice its target die within {GRACE:?}; giving up");
                std::process::exit(3);
            }
        });
        Watchdog { cancel: Some(cancel), fired, thread: Some(thread) }
    }

    /// Whether the limit was reached (the target was killed by us).
    pub fn fired(&self) -> bool {
        self.fired.load(Ordering::SeqCst)
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        // Dropping the sender wakes the thread with `Disconnected`.
        self.cancel.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A program run to its end as a child of the benchmark, with the resources
/// the kernel charged to it.
pub struct ChildRun {
    /// Wall time from spawning the child to reaping it.
    pub elapsed: Duration,
    /// The child's peak resident set size in KiB (`ru_maxrss` of `wait4`).
    pub max_rss_kib: u64,
    pub status: std::process::ExitStatus,
}

/// Runs `command` to its end under a time limit (then it is killed and the
/// run fails), timing it from spawn to exit and taking its peak memory from
/// `wait4`. The caller sets its standard streams; they should be files or
/// null, since nobody reads a pipe while the child runs.
///
/// `ru_maxrss` is the peak of the child's whole life, the part before exec
/// included, so how the child is started sets a floor under the figure. The
/// child is started with fork + exec, not std's default posix_spawn: that one
/// uses vfork, where the child runs in the benchmark's own address space until
/// exec, and the kernel then records the benchmark's own peak RSS (the
/// 256 MiB buffer of `memory`, say) as the child's. A forked child starts with
/// a copy of the benchmark's anonymous pages only: keep them few (hold no large
/// buffers while measuring), and the floor is about a MiB.
pub fn measure_child(command: &mut Command, limit: Duration, what: &str) -> Result<ChildRun> {
    // Any pre_exec closure makes std fork; this one does nothing.
    // SAFETY: the closure runs between fork and exec and only returns.
    unsafe { command.pre_exec(|| Ok(())) };
    let start = Instant::now();
    let child = command.spawn().with_context(|| format!("starting {what}"))?;
    let pid = child.id() as i32;
    let watchdog = Watchdog::start(pid, limit, what.to_string());
    let mut status = 0;
    // SAFETY: rusage is plain data; wait4 fills it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `status` and `usage` are valid for writes; `pid` is our unreaped child.
        let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if reaped == pid {
            break;
        }
        let error = std::io::Error::last_os_error();
        if error.kind() != std::io::ErrorKind::Interrupted {
            return Err(error).with_context(|| format!("waiting for {what}"));
        }
    }
    let elapsed = start.elapsed();
    let timed_out = watchdog.fired();
    drop(watchdog);
    ensure!(!timed_out, "{what} timed out after {limit:?}");
    Ok(ChildRun {
        elapsed,
        max_rss_kib: u64::try_from(usage.ru_maxrss).unwrap_or(0),
        status: std::process::ExitStatus::from_raw(status),
    })
}
