//! One measured run of a debugged program: what it produced, and the time
//! limit it runs under.
//!
//! The debugger under test may hang (a lost stop, a missed wake-up), and a
//! benchmark that never ends tells nobody anything. Killing the target turns
//! a hang into an exit the measuring loop sees and reports; if even that does
//! not end the run (the debugger spins without waiting), the whole benchmark
//! gives up. The watchdog only ever sends signals from its own thread, since
//! ptrace requests must all come from the tracing thread.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

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
