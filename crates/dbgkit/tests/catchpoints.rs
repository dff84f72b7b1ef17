//! Syscall catchpoints: entries and exits of the watched system calls are
//! reported, with arguments and results, in every thread; nothing else is.

mod common;

use common::*;
use dbgkit::{BreakpointKind, EventKind, Session, SpawnOptions, Stdio};

#[test]
fn a_syscall_catchpoint_reports_each_entry_and_exit_of_its_calls() {
    let mut s = Session::new();
    let exe = fixture("watch");
    // Four threads make system calls of their own (futex, exit) that nobody watches.
    let pid = s.spawn(&SpawnOptions::new([exe.to_str().unwrap(), "4", "100"]).stdout(Stdio::Piped)).unwrap();
    let mut pipes = s.take_pipes(pid).unwrap();
    let getpid = dbgkit::syscall_number("getpid").unwrap();
    let write = dbgkit::syscall_number("write").unwrap();
    let id = s.add_syscall_catchpoint(pid, &[getpid, write]).unwrap();
    let info = s.breakpoint(id).unwrap();
    assert_eq!(info.kind, BreakpointKind::Syscall);
    assert_eq!(info.expression.as_deref(), Some("getpid, write"));
    assert!(s.breakpoints().iter().any(|b| b.id == id), "listed with the breakpoints");
    let events = run_to_exit(&mut s, pid);
    let calls: Vec<(bool, u64, Option<i64>)> = events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::SyscallEntry { id: hit, number, .. } if hit == id => Some((true, number, None)),
            EventKind::SyscallExit { id: hit, number, result } if hit == id => Some((false, number, Some(result))),
            _ => None,
        })
        .collect();
    let line = "counter 400 sum 35\n";
    let expected: Vec<(bool, u64, Option<i64>)> = [
        (true, getpid, None),
        (false, getpid, Some(pid as i64)),
        (true, getpid, None),
        (false, getpid, Some(pid as i64)),
        (true, getpid, None),
        (false, getpid, Some(pid as i64)),
        (true, write, None),
        (false, write, Some(line.len() as i64)),
    ]
    .into();
    assert_eq!(calls, expected, "{events:#?}");
    let write_args = events.iter().find_map(|e| match e.kind {
        EventKind::SyscallEntry { number, args, .. } if number == write => Some(args),
        _ => None,
    });
    let args = write_args.unwrap();
    assert_eq!((args[0], args[2]), (1, line.len() as u64), "fd 1, the line's length");
    assert_eq!(read_all(&mut pipes.stdout), line);
}

#[test]
fn a_removed_or_disabled_catchpoint_stops_nothing() {
    let mut s = Session::new();
    let exe = fixture("watch");
    let pid = s.spawn(&SpawnOptions::new([exe.to_str().unwrap(), "1", "1"]).stdout(Stdio::Null)).unwrap();
    let every = s.add_syscall_catchpoint(pid, &[]).unwrap();
    assert_eq!(s.breakpoint(every).unwrap().expression.as_deref(), Some("every system call"));
    // The first system call stops; then the catchpoint is disabled, enabled, and removed.
    let first = run_until(&mut s, |e| matches!(e.kind, EventKind::SyscallEntry { .. }));
    assert_eq!(first.pid, pid);
    s.enable_breakpoint(every, false).unwrap();
    s.continue_event(dbgkit::ContinueStatus::Handled).unwrap();
    s.enable_breakpoint(every, true).unwrap();
    let again = run_until(&mut s, |e| matches!(e.kind, EventKind::SyscallEntry { .. } | EventKind::SyscallExit { .. }));
    assert_eq!(again.pid, pid);
    s.remove_breakpoint(every).unwrap();
    assert!(s.breakpoint(every).is_none());
    s.continue_event(dbgkit::ContinueStatus::Handled).unwrap();
    let rest = run_to_exit(&mut s, pid);
    assert!(
        rest.iter().all(|e| !matches!(e.kind, EventKind::SyscallEntry { .. } | EventKind::SyscallExit { .. })),
        "{rest:#?}"
    );
    assert!(s.add_syscall_catchpoint(pid, &[5000]).is_err(), "the process is gone");
}

#[test]
fn bad_syscall_numbers_are_refused() {
    let mut s = Session::new();
    let exe = fixture("watch");
    let pid = s.spawn(&SpawnOptions::new([exe.to_str().unwrap(), "1", "1"]).stdout(Stdio::Null)).unwrap();
    let err = s.add_syscall_catchpoint(pid, &[5000]).unwrap_err();
    assert!(err.to_string().contains("5000 is not a system call number"), "{err}");
    assert!(s.breakpoints().is_empty());
    run_to_exit(&mut s, pid);
}

#[test]
fn the_return_from_execve_is_reported_after_the_exec_even_when_code_runs_at_the_exec_stop() {
    let mut s = Session::new();
    let execer = fixture("execer");
    let pid = s.spawn(&SpawnOptions::new([execer.to_str().unwrap(), "/bin/true"])).unwrap();
    let execve = dbgkit::syscall_number("execve").unwrap();
    let id = s.add_syscall_catchpoint(pid, &[execve]).unwrap();
    let entry = run_until(&mut s, |e| matches!(e.kind, EventKind::SyscallEntry { .. }));
    assert!(matches!(entry.kind, EventKind::SyscallEntry { id: i, number, .. } if i == id && number == execve));
    s.continue_event(dbgkit::ContinueStatus::Handled).unwrap();
    let exec = run_until(&mut s, |e| matches!(e.kind, EventKind::Exec { .. }));
    assert_eq!(exec.pid, pid);
    // Running code in the thread now (an injected mmap) must not eat the call's exit.
    let page = s.allocate_memory(pid, 4096, dbgkit::Protection::parse("rw").unwrap(), None).unwrap();
    assert_ne!(page, 0);
    s.continue_event(dbgkit::ContinueStatus::Handled).unwrap();
    let exit = run_until(&mut s, |e| matches!(e.kind, EventKind::SyscallExit { .. }));
    assert_eq!(exit.kind, EventKind::SyscallExit { id, number: execve, result: 0 });
    s.continue_event(dbgkit::ContinueStatus::Handled).unwrap();
    let rest = run_to_exit(&mut s, pid);
    assert!(matches!(rest.last().unwrap().kind, EventKind::ProcessExited { code: Some(0), .. }));
}
