//! Shared test support: builds the C fixtures under `tests/fixtures/` with
//! the system compiler (once per test binary) and drives sessions.
#![allow(dead_code)]

use dbgkit::{ContinueStatus, Event, EventKind, Session};
use object::{Object, ObjectSymbol};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

/// How long any single wait in a test may take before the test fails.
pub const PATIENCE: Duration = Duration::from_secs(60);

fn fixtures_source() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures").canonicalize().expect("tests/fixtures exists")
}

fn build_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        // One directory per test binary, rebuilt on each run (test binaries run one after another).
        let binary = std::env::current_exe().unwrap().file_stem().unwrap().to_string_lossy().into_owned();
        let binary = binary.split('-').next().unwrap_or("tests").to_string();
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("fixtures-{binary}"));
        std::fs::create_dir_all(&dir).unwrap();
        let src = fixtures_source();
        let cc = |args: &[&str]| {
            let out = Command::new("gcc").args(args).current_dir(&dir).output().expect("gcc runs");
            assert!(out.status.success(), "gcc {:?} failed: {}", args, String::from_utf8_lossy(&out.stderr));
        };
        let s = |name: &str| src.join(name).to_string_lossy().into_owned();
        for name in [
            "threads",
            "signals",
            "crash",
            "worker",
            "spin",
            "dlopener",
            "execer",
            "forker",
            "counter",
            "sigcount",
            "leader_exit",
            "socket",
            "watch",
            "pagewatch",
        ] {
            cc(&["-g", "-O0", "-pthread", "-o", name, &s(&format!("{name}.c")), "-ldl"]);
        }
        cc(&["-g", "-O0", "-o", "forms", &s("forms.c")]);
        let out = Command::new("g++")
            .args(["-g", "-O2", "-o", "throw", &s("throw.cpp")])
            .current_dir(&dir)
            .output()
            .expect("g++ runs");
        assert!(out.status.success(), "g++ failed: {}", String::from_utf8_lossy(&out.stderr));
        cc(&["-g", "-O2", "-shared", "-fPIC", "-o", "libfixture.so", &s("fixture_lib.c")]);
        cc(&["-g", "-O0", "-static", "-o", "static_hello", &s("static_hello.c")]);
        cc(&["-g", "-O2", "-o", "inline", &s("inline.c")]);
        // `marker` lives in the executable (exported for the library's constructor).
        cc(&["-g", "-O0", "-rdynamic", "-o", "calls", &s("calls.c")]);
        cc(&["-g", "-O0", "-shared", "-fPIC", "-o", "libinject.so", &s("inject_lib.c")]);
        cc(&["-g", "-O0", "-shared", "-fPIC", "-DDUP=1", "-o", "libdup1.so", &s("dup.c")]);
        cc(&["-g", "-O0", "-shared", "-fPIC", "-DDUP=2", "-o", "libdup2.so", &s("dup.c")]);
        cc(&[
            "-g",
            "-O0",
            "-o",
            "twolibs",
            &s("twolibs.c"),
            "-L.",
            "-Wl,--no-as-needed",
            "-ldup1",
            "-ldup2",
            "-Wl,-rpath,$ORIGIN",
        ]);
        dir
    })
}

/// The path of a built fixture.
pub fn fixture(name: &str) -> PathBuf {
    build_dir().join(name)
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

/// The everyday continue status: deliver signals, go on otherwise.
pub fn default_status(event: &Event) -> ContinueStatus {
    match event.kind {
        EventKind::Exception { .. } => ContinueStatus::NotHandled,
        _ => ContinueStatus::Handled,
    }
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
