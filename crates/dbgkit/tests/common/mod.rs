//! Shared test support: the fixture programs (built once per run by
//! `dbgkit-fixtures` from `tests/fixtures/manifest.txt`) and helpers that
//! drive sessions.
#![allow(dead_code)]

use dbgkit::{ContinueStatus, Event, EventKind, Session};
use object::{Object, ObjectSymbol};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long any single wait in a test may take before the test fails.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// The path of a built fixture.
pub fn fixture(name: &str) -> PathBuf {
    dbgkit_fixtures::path(name)
}

/// The file address of a symbol in an ELF file.
pub fn symbol(path: &Path, name: &str) -> u64 {
    let data = std::fs::read(path).unwrap();
    let file = object::File::parse(&*data).unwrap();
    file.symbols()
        .find(|s| s.name() == Ok(name))
        .unwrap_or_else(|| panic!("{name} not in {}", path.display()))
        .address()
}

/// The runtime address of a symbol of the main executable of `pid`.
pub fn exe_symbol(session: &Session, pid: i32, name: &str) -> u64 {
    let modules = session.modules(pid).unwrap();
    modules[0].bias + symbol(&modules[0].path, name)
}

/// Waits for the next event or fails the test.
pub fn next(session: &mut Session) -> Event {
    session.wait_event(Some(PATIENCE)).expect("wait_event").expect("an event before the timeout")
}

/// The everyday continue status (the engine's): deliver signals, go on otherwise.
pub fn default_status(event: &Event) -> ContinueStatus {
    event.kind.default_status()
}

/// Runs until `pid` exits, continuing every event the default way; returns every event seen.
pub fn run_to_exit(session: &mut Session, pid: i32) -> Vec<Event> {
    let mut events = Vec::new();
    loop {
        let event = next(session);
        let done = event.pid == pid && matches!(event.kind, EventKind::ProcessExited { .. });
        session.continue_event(default_status(&event)).unwrap();
        events.push(event);
        if done {
            return events;
        }
    }
}

/// Continues events until one matches `pred`, which is returned still in flight.
pub fn run_until(session: &mut Session, mut pred: impl FnMut(&Event) -> bool) -> Event {
    loop {
        let event = next(session);
        if pred(&event) {
            return event;
        }
        assert!(
            !matches!(event.kind, EventKind::ProcessExited { .. }),
            "process exited before the awaited event: {event:?}"
        );
        session.continue_event(default_status(&event)).unwrap();
    }
}

/// A fixture stopped at its first hit of a breakpoint on `function`.
pub struct StoppedAt {
    pub session: Session,
    pub pid: i32,
    /// The function's address (where the breakpoint is).
    pub address: u64,
    pub breakpoint: u32,
}

/// Launches fixture `name` with `args` and runs it to its first hit of a
/// breakpoint on `function` (the hit still in flight).
pub fn stopped_at(name: &str, args: &[&str], function: &str) -> StoppedAt {
    let mut session = Session::new();
    let path = fixture(name);
    let argv: Vec<&str> = std::iter::once(path.to_str().unwrap()).chain(args.iter().copied()).collect();
    let pid = session.spawn(&dbgkit::SpawnOptions::new(argv)).unwrap();
    run_until(&mut session, |e| matches!(e.kind, EventKind::ProcessCreated { .. }));
    let address = exe_symbol(&session, pid, function);
    let breakpoint = session.add_breakpoint(pid, address).unwrap();
    session.continue_event(ContinueStatus::Handled).unwrap();
    run_until(&mut session, |e| matches!(e.kind, EventKind::Breakpoint { .. }));
    StoppedAt { session, pid, address, breakpoint }
}

/// Reads everything from a piped stdout after the process exited.
pub fn read_all(file: &mut Option<std::fs::File>) -> String {
    use std::io::Read;
    let mut s = String::new();
    if let Some(f) = file.as_mut() {
        f.read_to_string(&mut s).unwrap();
    }
    s
}

/// Whether a process exists and is not a zombie.
pub fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .and_then(|rest| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

/// The state letter of a process (`R`, `S`, `T`, `t`, `Z`...).
pub fn state(pid: i32) -> String {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.rsplit(')').next().and_then(|rest| rest.split_whitespace().next()).unwrap_or("?").to_string()
}
