//! The remote target against Debian's stock gdbserver. The engine's
//! scenarios (breakpoints by name, stacks, registers and memory, modules,
//! threads, watchpoints, signals and second chances, break-in, kill) run
//! once on a local process and once through `gdbserver --once`, and what
//! each saw must be the same; then what only a remote target has: the
//! connection dropping, a pipe to the stub, detaching from it.

mod common;
#[path = "support/gdbserver.rs"]
mod gdbserver;

use common::*;
use dbgkit::{ContinueStatus, Event, EventKind, Session, SpawnOptions, Stdio, WatchAccess};
use gdbserver::Gdbserver;
use std::time::Duration;

/// Where a scenario's program runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Via {
    Local,
    Gdbserver,
}

/// A program started for a scenario, its first event in flight.
struct Started {
    session: Session,
    pid: i32,
    server: Option<Gdbserver>,
    stdout: Option<std::fs::File>,
}

impl Started {
    fn new(via: Via, program: &str, args: &[&str]) -> Started {
        let exe = fixture(program);
        let mut session = Session::new();
        let (pid, server, stdout) = match via {
            Via::Local => {
                let mut argv = vec![exe.to_str().unwrap().to_string()];
                argv.extend(args.iter().map(|a| a.to_string()));
                let pid = session.spawn(&SpawnOptions::new(argv).stdout(Stdio::Piped).disable_aslr(true)).unwrap();
                let stdout = session.take_pipes(pid).unwrap().stdout;
                (pid, None, stdout)
            }
            Via::Gdbserver => {
                let server = Gdbserver::start(&exe, args);
                let pid = session.connect(&server.address(), None).expect("connect to gdbserver");
                (pid, Some(server), None)
            }
        };
        let first = next(&mut session);
        assert!(matches!(first.kind, EventKind::ProcessCreated { .. }), "{first:?}");
        Started { session, pid, server, stdout }
    }

    /// What the program printed, once it has exited.
    fn output(&mut self) -> String {
        match &mut self.server {
            Some(server) => server.program_output(Duration::from_secs(30)),
            None => read_all(&mut self.stdout),
        }
    }
}

/// A frame as both kinds of target must show it: module, function, offset, line.
fn frames(s: &mut Session, pid: i32, tid: i32) -> Vec<String> {
    let stack = s.stack(pid, tid).unwrap();
    stack.frames.iter().map(|f| f.symbol.as_ref().map(|p| p.with_location()).unwrap_or_default()).collect()
}

/// Breakpoints by name, registers, stacks, memory, the module list and the exit.
fn breakpoints_stacks_registers(via: Via) -> Vec<String> {
    let mut run = Started::new(via, "counter", &["3"]);
    let (s, pid) = (&mut run.session, run.pid);
    let bp = s.add_breakpoint_at(pid, "*counter!bump", Default::default()).unwrap();
    let mut seen = Vec::new();
    let mut hits = 0;
    s.continue_event(ContinueStatus::Handled).unwrap();
    loop {
        let e = next(s);
        match &e.kind {
            EventKind::Breakpoint { id, address } => {
                assert_eq!(*id, bp);
                let regs = s.registers(pid, e.tid).unwrap();
                seen.push(format!("hit at {address:#x} rdi={} rip={:#x}", regs.rdi, regs.rip));
                seen.extend(frames(s, pid, e.tid));
                if hits == 0 {
                    // The module list, and a memory write the program then sees: value = 100.
                    for m in s.modules(pid).unwrap() {
                        seen.push(format!("module {} {:#x}-{:#x}", m.name, m.base, m.end()));
                    }
                    if via == Via::Gdbserver {
                        // The stub's own reading of the loader's list agrees with the engine's.
                        let libraries = s.remote_libraries(pid).unwrap().expect("gdbserver offers libraries-svr4");
                        for m in s.modules(pid).unwrap().iter().skip(1) {
                            let listed = libraries.iter().any(|l| l.bias == m.bias && l.name.ends_with(&m.name));
                            assert!(listed, "{} at {:#x} not in the stub's list {libraries:?}", m.name, m.bias);
                        }
                    }
                    let value = s.lookup(pid, "counter!value").unwrap();
                    s.write_memory(pid, value, &100u64.to_le_bytes()).unwrap();
                    let mut back = [0u8; 8];
                    s.read_memory(pid, value, &mut back).unwrap();
                    assert_eq!(u64::from_le_bytes(back), 100);
                }
                if hits == 1 {
                    // A register write: bump(1) becomes bump(41).
                    let mut regs = regs;
                    regs.rdi = 41;
                    s.set_registers(pid, e.tid, &regs).unwrap();
                    assert_eq!(s.registers(pid, e.tid).unwrap().rdi, 41);
                }
                hits += 1;
            }
            EventKind::ProcessExited { code, signal } => {
                seen.push(format!("exited code={code:?} signal={signal:?}"));
                s.continue_event(ContinueStatus::Handled).unwrap();
                break;
            }
            _ => {}
        }
        s.continue_event(ContinueStatus::Handled).unwrap();
    }
    // bump(0) + bump(41) + bump(2), with value 100 from the first hit on.
    let output = run.output();
    assert_eq!(output.trim(), "sum=343 value=100", "{via:?}");
    seen
}

#[test]
fn breakpoints_stacks_registers_and_modules_are_the_same_through_gdbserver() {
    let local = breakpoints_stacks_registers(Via::Local);
    let remote = breakpoints_stacks_registers(Via::Gdbserver);
    assert!(local.iter().any(|l| l.starts_with("counter!main")), "{local:#?}");
    assert!(local.iter().any(|l| l.starts_with("module libc.so.6")), "{local:#?}");
    assert_eq!(local, remote);
}

/// Thread creation and exit, and one breakpoint hit by every thread.
fn threads(via: Via) -> (usize, usize, usize, u64, String) {
    let mut run = Started::new(via, "threads", &["3", "4"]);
    let (s, pid) = (&mut run.session, run.pid);
    s.add_breakpoint_at(pid, "threads!hit", Default::default()).unwrap();
    let (mut created, mut exited, mut hits) = (0, 0, 0u64);
    let mut hitters = std::collections::HashSet::new();
    s.continue_event(ContinueStatus::Handled).unwrap();
    for e in run_to_exit(s, pid) {
        match e.kind {
            EventKind::ThreadCreated { .. } => created += 1,
            EventKind::ThreadExited { .. } => exited += 1,
            EventKind::Breakpoint { .. } => {
                hits += 1;
                hitters.insert(e.tid);
            }
            _ => {}
        }
    }
    (created, exited, hitters.len(), hits, run.output().trim().to_string())
}

#[test]
fn threads_come_and_go_and_each_hits_the_breakpoint_through_gdbserver() {
    let local = threads(Via::Local);
    assert_eq!(local, (3, 3, 3, 12, "total=12".to_string()));
    assert_eq!(threads(Via::Gdbserver), local);
}

/// A hardware write watchpoint, old and new values of every write.
fn watchpoint(via: Via) -> Vec<(u64, u64)> {
    let mut run = Started::new(via, "watch", &["2", "3"]);
    let (s, pid) = (&mut run.session, run.pid);
    let counter = s.lookup(pid, "watch!counter").unwrap();
    let id = s.add_watchpoint(pid, counter, 8, WatchAccess::Write).unwrap();
    s.continue_event(ContinueStatus::Handled).unwrap();
    let mut writes = Vec::new();
    let mut threads = Vec::new();
    for e in run_to_exit(s, pid) {
        if let EventKind::Watchpoint { id: hit, access, address, old, new, .. } = &e.kind {
            assert_eq!((*hit, *access, *address), (id, WatchAccess::Write, counter));
            let word = |b: &Option<Vec<u8>>| u64::from_le_bytes(b.clone().unwrap().try_into().unwrap());
            if !threads.contains(&e.tid) {
                threads.push(e.tid);
            }
            writes.push((word(old), word(new)));
        }
    }
    assert_eq!(threads.len(), 2, "{via:?}: writes from both threads");
    assert_eq!(run.output().trim(), "counter 6 sum 35");
    writes
}

#[test]
fn watchpoints_see_the_same_writes_through_gdbserver() {
    let local = watchpoint(Via::Local);
    assert_eq!(local, (0..6).map(|i| (i, i + 1)).collect::<Vec<_>>());
    assert_eq!(watchpoint(Via::Gdbserver), local);
}

/// A fault: first chance, not handled, second chance, death by the signal.
fn crash(via: Via) -> Vec<String> {
    let mut run = Started::new(via, "crash", &[]);
    let (s, pid) = (&mut run.session, run.pid);
    s.continue_event(ContinueStatus::Handled).unwrap();
    let mut seen = Vec::new();
    loop {
        let e = next(s);
        let status = match &e.kind {
            EventKind::Exception { signal, code, fault_address, first_chance, address, .. } => {
                let place = s.symbolize(pid, *address).unwrap().to_string();
                seen.push(format!("{signal} code={code} fault={fault_address:?} first={first_chance} at {place}"));
                seen.extend(frames(s, pid, e.tid));
                ContinueStatus::NotHandled
            }
            EventKind::ProcessExited { code, signal } => {
                seen.push(format!("exited code={code:?} signal={signal:?}"));
                s.continue_event(ContinueStatus::Handled).unwrap();
                break;
            }
            _ => ContinueStatus::Handled,
        };
        s.continue_event(status).unwrap();
    }
    seen
}

#[test]
fn faults_and_second_chances_are_the_same_through_gdbserver() {
    let local = crash(Via::Local);
    assert!(
        local[0].starts_with(&format!("{} code=1 fault=Some(0) first=true at crash!deref", libc::SIGSEGV)),
        "{local:?}"
    );
    assert!(local.iter().any(|l| l.contains("first=false")), "{local:?}");
    assert_eq!(crash(Via::Gdbserver), local);
}

/// Breaking into a spinning program, then killing it.
fn break_in_and_kill(via: Via) -> (String, String) {
    let mut run = Started::new(via, "spin", &[]);
    let (s, pid) = (&mut run.session, run.pid);
    // Run on to the program's own code, then let it spin.
    s.add_breakpoint_at(pid, "*spin!main", Default::default()).unwrap();
    s.continue_event(ContinueStatus::Handled).unwrap();
    run_until(s, |e| matches!(e.kind, EventKind::Breakpoint { .. }));
    s.continue_event(ContinueStatus::Handled).unwrap();
    assert!(s.wait_event(Some(Duration::from_millis(300))).unwrap().is_none(), "it spins");
    s.break_in(pid).unwrap();
    let e: Event = run_until(s, |e| matches!(e.kind, EventKind::BreakIn));
    let rip = s.registers(pid, e.tid).unwrap().rip;
    let place = s.symbolize(pid, rip).unwrap();
    let function = format!("{}!{}", place.module.unwrap(), place.symbol.unwrap());
    s.kill(pid).unwrap();
    let exit = run_until(s, |e| matches!(e.kind, EventKind::ProcessExited { .. }));
    let how = format!("{:?}", exit.kind);
    s.continue_event(ContinueStatus::Handled).unwrap();
    if let Some(server) = &mut run.server {
        assert!(server.wait(Duration::from_secs(10)), "gdbserver --once ends with its program");
    }
    (function, how)
}

#[test]
fn break_in_and_kill_work_the_same_through_gdbserver() {
    let local = break_in_and_kill(Via::Local);
    assert_eq!(local.0, "spin!main");
    assert_eq!(break_in_and_kill(Via::Gdbserver), local);
}

#[test]
fn a_dropped_connection_is_a_clear_error_and_the_process_is_forgotten() {
    let mut run = Started::new(Via::Gdbserver, "spin", &[]);
    let (s, pid) = (&mut run.session, run.pid);
    s.continue_event(ContinueStatus::Handled).unwrap();
    run_until(s, |e| matches!(e.kind, EventKind::BreakIn));
    s.continue_event(ContinueStatus::Handled).unwrap();
    run.server.as_mut().unwrap().kill();
    let s = &mut run.session;
    let e = s.wait_event(Some(Duration::from_secs(30))).unwrap_err();
    assert!(e.is_connection_lost(), "{e}");
    let text = e.to_string();
    assert!(text.contains("127.0.0.1:") && text.contains("lost"), "{text}");
    assert_eq!(s.processes(), Vec::<i32>::new(), "the process is gone from the session");
    assert!(matches!(s.registers(pid, pid), Err(dbgkit::Error::NotDebugged(_))));
    assert!(matches!(s.wait_event(Some(Duration::from_millis(10))), Err(dbgkit::Error::NoProcesses)));
}

#[test]
fn a_stub_on_a_pipe() {
    let exe = fixture("counter");
    let mut s = Session::new();
    // gdbserver in stdio mode: the protocol on its standard input and output.
    let command = format!("| gdbserver --once - {} 5", exe.display());
    let pid = s.connect(&command, Some(&exe)).expect("connect through a pipe");
    assert_eq!(s.remote_address(pid).unwrap(), command);
    s.add_breakpoint_at(pid, "*counter!bump", Default::default()).unwrap();
    let mut hits = 0;
    for e in run_to_exit(&mut s, pid) {
        match e.kind {
            EventKind::Breakpoint { .. } => hits += 1,
            EventKind::ProcessExited { code, .. } => assert_eq!(code, Some(0)),
            _ => {}
        }
    }
    assert_eq!(hits, 5);
}

#[test]
fn detaching_leaves_the_program_running_without_breakpoints() {
    let mut run = Started::new(Via::Gdbserver, "counter", &["4"]);
    let (s, pid) = (&mut run.session, run.pid);
    s.add_breakpoint_at(pid, "*counter!bump", Default::default()).unwrap();
    s.continue_event(ContinueStatus::Handled).unwrap();
    let hit = run_until(s, |e| matches!(e.kind, EventKind::Breakpoint { .. }));
    assert_eq!(s.registers(pid, hit.tid).unwrap().rdi, 0);
    s.detach(pid).unwrap();
    assert!(s.processes().is_empty());
    // No breakpoint byte left behind: the program finishes by itself, normally.
    assert_eq!(run.output().trim(), "sum=10 value=1");
}
