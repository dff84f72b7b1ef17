//! Running a program on one input under a session, and on many inputs on
//! several threads: what happened to each run, as a [`Record`].

use super::conclude::{conclude, Analysis};
use super::snapshot::{capture, Snapshot, Trigger};
use crate::error::{Error, Result};
use crate::event::{ContinueStatus, EventKind};
use crate::session::Session;
use crate::{SpawnOptions, Stdio};
use std::cell::RefCell;
use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// The word of the program's arguments that stands for the input's path
/// (AFL's convention); without it, the input goes to standard input.
pub const INPUT_PLACEHOLDER: &str = "@@";

/// Standard error kept per run; a report is at its start.
const MAX_STDERR: usize = 1 << 20;
/// How long to wait for the program's standard error to close after it exits
/// (a child it left behind may hold it open).
const STDERR_GRACE: Duration = Duration::from_secs(2);

/// Signals that mean a crash the moment they arrive: the thread is analysed
/// at their first chance, before any handler of the program runs.
const FAULT_SIGNALS: &[i32] = &[
    crate::signal_numbers::SIGSEGV,
    crate::signal_numbers::SIGBUS,
    crate::signal_numbers::SIGILL,
    crate::signal_numbers::SIGFPE,
    crate::signal_numbers::SIGTRAP,
    crate::signal_numbers::SIGABRT,
    crate::signal_numbers::SIGSYS,
];

/// Sanitizer settings for every run, unless the environment sets its own:
/// stop at the first error with an abort (so the debugger sees the stack),
/// and no leak checking (LeakSanitizer cannot run under a debugger).
const SANITIZER_DEFAULTS: &[(&str, &str)] = &[
    ("ASAN_OPTIONS", "abort_on_error=1:detect_leaks=0:symbolize=1"),
    ("UBSAN_OPTIONS", "halt_on_error=1:abort_on_error=1:print_stacktrace=1"),
    ("MSAN_OPTIONS", "abort_on_error=1"),
    // glibc writes fatal messages to standard error, not the terminal.
    ("LIBC_FATAL_STDERR_", "1"),
];

/// How to run the program.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The program and its arguments; [`INPUT_PLACEHOLDER`] is replaced by the input's path.
    pub argv: Vec<OsString>,
    /// Time limit of one run; past it the run is a hang.
    pub timeout: Duration,
    /// Frames in the stack hash.
    pub hash_frames: usize,
    /// Turn off address-space randomisation (as gdb does), for repeatable addresses.
    pub disable_aslr: bool,
    /// Extra environment variables.
    pub env: Vec<(OsString, OsString)>,
    /// Debug the processes the program starts too: a child that dies of
    /// a signal is the run's crash (a forking server whose worker faults).
    pub follow_children: bool,
}

impl RunOptions {
    /// A program and its arguments, with the defaults: 10 s per run, 5 frames hashed, no ASLR.
    pub fn new<I, S>(argv: I) -> RunOptions
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        RunOptions {
            argv: argv.into_iter().map(Into::into).collect(),
            timeout: Duration::from_secs(10),
            hash_frames: super::stack_hash::DEFAULT_HASH_FRAMES,
            disable_aslr: true,
            env: Vec::new(),
            follow_children: false,
        }
    }

    /// Whether the input is passed as a path (`@@`) rather than on standard input.
    pub fn input_by_path(&self) -> bool {
        self.argv.iter().any(|a| a == INPUT_PLACEHOLDER)
    }
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It crashed (a fatal signal, a sanitizer's report, a Rust panic).
    Crash,
    /// It did not end within the time limit.
    Hang,
    /// It exited by itself without any sign of a crash.
    NoCrash,
    /// It could not be run.
    Error(String),
}

impl Outcome {
    pub fn name(&self) -> &'static str {
        match self {
            Outcome::Crash => "crash",
            Outcome::Hang => "hang",
            Outcome::NoCrash => "no-crash",
            Outcome::Error(_) => "error",
        }
    }
}

/// What happened when the program ran on one input.
#[derive(Clone, Debug)]
pub struct Record {
    pub input: PathBuf,
    /// The input's size in bytes.
    pub size: u64,
    pub outcome: Outcome,
    /// The exit status, or the signal that killed it.
    pub exit_code: Option<i32>,
    pub exit_signal: Option<i32>,
    /// The analysis of a crash or hang.
    pub analysis: Option<Analysis>,
    pub elapsed: Duration,
}

impl Record {
    fn failed(input: &Path, size: u64, error: String, elapsed: Duration) -> Record {
        Record {
            input: input.to_path_buf(),
            size,
            outcome: Outcome::Error(error),
            exit_code: None,
            exit_signal: None,
            analysis: None,
            elapsed,
        }
    }
}

/// Reads a pipe to its end (or `MAX_STDERR`) on a thread of its own, so the
/// program never blocks on a full pipe.
struct Collector {
    text: Arc<Mutex<Vec<u8>>>,
    done: mpsc::Receiver<()>,
}

impl Collector {
    fn start(mut pipe: std::fs::File) -> Collector {
        let text = Arc::new(Mutex::new(Vec::new()));
        let (tx, done) = mpsc::channel();
        let sink = text.clone();
        std::thread::spawn(move || {
            let mut chunk = [0u8; 16 * 1024];
            while let Ok(n) = pipe.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                let mut kept = sink.lock().unwrap_or_else(|e| e.into_inner());
                let room = MAX_STDERR.saturating_sub(kept.len());
                kept.extend_from_slice(&chunk[..n.min(room)]);
            }
            let _ = tx.send(());
        });
        Collector { text, done }
    }

    fn finish(self) -> String {
        let _ = self.done.recv_timeout(STDERR_GRACE);
        let bytes = self.text.lock().unwrap_or_else(|e| e.into_inner());
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

/// Runs the program on one input in `session` (which must have no process)
/// and says what happened.
pub fn run_input(session: &mut Session, options: &RunOptions, input: &Path) -> Record {
    let started = Instant::now();
    let data = match std::fs::read(input) {
        Ok(d) => d,
        Err(e) => return Record::failed(input, 0, format!("cannot read {}: {e}", input.display()), started.elapsed()),
    };
    let size = data.len() as u64;
    match run_checked(session, options, input, data, started) {
        Ok(record) => record,
        Err(e) => {
            // Leave the session clean for the next input.
            for pid in session.processes() {
                let _ = session.kill(pid);
                while let Ok(Some(event)) = session.wait_event(Some(Duration::from_secs(5))) {
                    let _ = session.continue_event(ContinueStatus::Handled);
                    if matches!(event.kind, EventKind::ProcessExited { .. }) && event.pid == pid {
                        break;
                    }
                }
            }
            Record::failed(input, size, e.to_string(), started.elapsed())
        }
    }
}

/// The program's arguments for one input, and whether the input goes to standard input.
fn arguments(options: &RunOptions, input: &Path) -> Vec<OsString> {
    options
        .argv
        .iter()
        .map(|a| if a == INPUT_PLACEHOLDER { input.as_os_str().to_os_string() } else { a.clone() })
        .collect()
}

fn run_checked(
    session: &mut Session,
    options: &RunOptions,
    input: &Path,
    data: Vec<u8>,
    started: Instant,
) -> Result<Record> {
    if options.argv.is_empty() {
        return Err(Error::InvalidArgument("no program to run".into()));
    }
    let by_path = options.input_by_path();
    let mut spawn = SpawnOptions::new(arguments(options, input))
        .disable_aslr(options.disable_aslr)
        .stdin(if by_path { Stdio::Null } else { Stdio::Piped })
        .stdout(Stdio::Null)
        .stderr(Stdio::Piped);
    for (key, value) in SANITIZER_DEFAULTS {
        if std::env::var_os(key).is_none() {
            spawn = spawn.env(key, value);
        }
    }
    for (key, value) in &options.env {
        spawn = spawn.env(key, value);
    }
    session.set_follow_children(options.follow_children);
    let pid = session.spawn(&spawn)?;
    let pipes = session.take_pipes(pid).unwrap_or_default();
    if let Some(mut stdin) = pipes.stdin {
        let bytes = data.clone();
        // A program that does not read its input must not block the debugger.
        std::thread::spawn(move || {
            let _ = stdin.write_all(&bytes);
        });
    }
    let stderr = pipes.stderr.map(Collector::start);

    let thrown = watch_cxx_throws(session, pid);
    let panic_breakpoint = watch_rust_panics(session, pid);

    // The time spent analysing (the first time, symbols are loaded) is not the program's.
    let mut deadline = started + options.timeout;
    let mut snapshot: Option<Snapshot> = None;
    let mut exit: Option<(Option<i32>, Option<i32>)> = None;
    // The signal that killed a followed child, when one crashed.
    let mut child_killed: Option<i32> = None;
    let mut hang = false;
    let input_bytes = Some(data.as_slice());
    while exit.is_none() {
        let remaining = deadline.saturating_duration_since(Instant::now());
        let event = if hang {
            session.wait_event(Some(Duration::from_secs(10)))?
        } else {
            session.wait_event(Some(remaining))?
        };
        let Some(event) = event else {
            if hang {
                return Err(Error::InvalidArgument(format!("process {pid} did not die after SIGKILL")));
            }
            // Out of time: break in, look at where it spins, then kill it.
            hang = true;
            session.break_in(pid)?;
            continue;
        };
        let analysed_at = Instant::now();
        let status = match &event.kind {
            // Loading a module is where the engine reads symbols (to plant
            // pending breakpoints): the program's time starts again after it.
            EventKind::ModuleLoaded(_) if !hang => {
                deadline = deadline.max(Instant::now() + options.timeout);
                ContinueStatus::Handled
            }
            EventKind::ProcessExited { code, signal } if event.pid == pid => {
                exit = Some((*code, *signal));
                ContinueStatus::Handled
            }
            EventKind::ProcessExited { signal: Some(signal), .. } => {
                // A child's crash; its fault was captured at its exception.
                child_killed = child_killed.or(Some(*signal));
                ContinueStatus::Handled
            }
            EventKind::BreakIn if hang && event.pid == pid => {
                // A crash seen before the time ran out (a handler that then
                // hung, a panic that deadlocked) is the better report.
                if snapshot.is_none() {
                    snapshot = capture(session, pid, event.tid, Trigger::Hang, input_bytes).ok();
                }
                ContinueStatus::TerminateProcess
            }
            EventKind::Exception { .. } if hang => ContinueStatus::Handled,
            &EventKind::Exception { signal, code, fault_address, first_chance, .. } => {
                let wanted = if first_chance { FAULT_SIGNALS.contains(&signal) } else { true };
                if wanted && snapshot.is_none() {
                    let trigger = Trigger::Signal { signal, code, fault_address };
                    snapshot = capture(session, event.pid, event.tid, trigger, input_bytes).ok();
                }
                ContinueStatus::NotHandled
            }
            EventKind::Breakpoint { id, .. } if Some(*id) == panic_breakpoint => {
                if snapshot.is_none() {
                    snapshot = capture(session, event.pid, event.tid, Trigger::Panic, input_bytes).ok();
                }
                ContinueStatus::Handled
            }
            _ => ContinueStatus::Handled,
        };
        if !hang {
            deadline += analysed_at.elapsed();
        }
        session.continue_event(status)?;
    }
    end_children(session, pid);
    let (exit_code, exit_signal) = exit.unwrap_or((None, None));
    let stderr = stderr.map(Collector::finish).unwrap_or_default();
    let thrown = thrown.and_then(|t| t.borrow().clone());
    // A fault the program survived (a handler that recovered) is no crash.
    let crashed = hang
        || exit_signal.is_some()
        || child_killed.is_some()
        || snapshot.as_ref().is_some_and(|s| s.trigger == Trigger::Panic)
        || super::sanitizer::parse_report(&stderr).is_some();
    let analysis = if crashed {
        let killed = exit_signal.is_some() || child_killed.is_some();
        let kept = snapshot.as_ref().filter(|s| hang || killed || s.trigger == Trigger::Panic);
        conclude(kept, &stderr, thrown.as_deref(), options.hash_frames)
    } else {
        None
    };
    let outcome = match (hang, &analysis) {
        (true, _) => Outcome::Hang,
        (false, Some(_)) => Outcome::Crash,
        (false, None) if exit_signal.is_some() || child_killed.is_some() => Outcome::Crash,
        (false, None) => Outcome::NoCrash,
    };
    Ok(Record {
        input: input.to_path_buf(),
        size: data.len() as u64,
        outcome,
        exit_code: if hang { None } else { exit_code },
        exit_signal: if hang { None } else { exit_signal },
        analysis,
        elapsed: started.elapsed(),
    })
}

/// A fast breakpoint on `__cxa_throw` that keeps the type name of each
/// exception thrown (from its `std::type_info`: the second argument, whose
/// second word is the mangled name). Pending until the C++ runtime loads.
/// Kills the followed children still running once the program itself has
/// ended, and takes their last events, so the next run's session starts
/// empty.
fn end_children(session: &mut Session, program: i32) {
    for child in session.processes().into_iter().filter(|&p| p != program) {
        // Best effort: a child that died meanwhile reports its exit all the same.
        let _ = session.kill(child);
    }
    while !session.processes().is_empty() {
        match session.wait_event(Some(Duration::from_secs(10))) {
            Ok(Some(_)) => {
                let _ = session.continue_event(ContinueStatus::Handled);
            }
            _ => break,
        }
    }
}

fn watch_cxx_throws(session: &mut Session, pid: i32) -> Option<Rc<RefCell<Option<String>>>> {
    let thrown = Rc::new(RefCell::new(None));
    let slot = thrown.clone();
    let options = crate::BreakpointOptions::default().callback(move |hit| {
        let read_word = |hit: &mut crate::HitContext<'_>, address: u64| {
            let mut word = [0u8; 8];
            hit.read_memory(address, &mut word).ok().map(|_| u64::from_le_bytes(word))
        };
        let name = hit.registers().ok().and_then(|regs| read_word(hit, regs.rsi.wrapping_add(8))).and_then(|p| {
            let mut text = [0u8; 256];
            let mut n = 0;
            // Read byte by byte up to the terminator: the name may end near the end of a mapping.
            while n < text.len() && hit.read_memory(p + n as u64, &mut text[n..n + 1]).is_ok() && text[n] != 0 {
                n += 1;
            }
            (n > 0).then(|| String::from_utf8_lossy(&text[..n]).trim_start_matches('*').to_string())
        });
        if name.is_some() {
            *slot.borrow_mut() = name;
        }
        crate::HitAction::Continue
    });
    session.add_breakpoint_at(pid, "__cxa_throw", options).ok().map(|_| thrown)
}

/// A breakpoint on Rust's `rust_panic` (where every panic goes before it
/// unwinds or aborts), when the executable has one.
fn watch_rust_panics(session: &mut Session, pid: i32) -> Option<u32> {
    let executable = session.modules(pid).ok()?.first()?.name.clone();
    let found = session.search_symbols(pid, "(^|::)rust_panic$", Some(&executable)).ok()?;
    let address = found.first()?.address;
    session.add_breakpoint(pid, address).ok()
}

/// Runs the program on every input, `jobs` at a time (a session per
/// thread), calling `progress` on this thread as each record comes in.
/// Returns the records in the order of `inputs`.
pub fn run_inputs(
    options: &RunOptions,
    inputs: &[PathBuf],
    jobs: usize,
    mut progress: impl FnMut(&Record),
) -> Vec<Record> {
    let jobs = jobs.clamp(1, inputs.len().max(1));
    let next = Arc::new(AtomicUsize::new(0));
    let inputs: Arc<Vec<PathBuf>> = Arc::new(inputs.to_vec());
    let (tx, rx) = mpsc::channel::<(usize, Record)>();
    let mut workers = Vec::new();
    for _ in 0..jobs {
        let (next, inputs, tx, options) = (next.clone(), inputs.clone(), tx.clone(), options.clone());
        workers.push(std::thread::spawn(move || {
            let mut session = Session::new();
            loop {
                let index = next.fetch_add(1, Ordering::SeqCst);
                let Some(input) = inputs.get(index) else { break };
                let record = run_input(&mut session, &options, input);
                if tx.send((index, record)).is_err() {
                    break;
                }
            }
        }));
    }
    drop(tx);
    let mut records: Vec<Option<Record>> = vec![None; inputs.len()];
    for (index, record) in rx {
        progress(&record);
        records[index] = Some(record);
    }
    for worker in workers {
        let _ = worker.join();
    }
    records
        .into_iter()
        .zip(inputs.iter())
        .map(|(r, input)| r.unwrap_or_else(|| Record::failed(input, 0, "the run's thread died".into(), Duration::ZERO)))
        .collect()
}
