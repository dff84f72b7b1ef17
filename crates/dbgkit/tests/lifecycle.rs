//! Detach, kill, targets that die under the debugger, and bad input.

mod common;

use common::*;
use dbgkit::{ContinueStatus, Error, EventKind, HitAction, Session, SpawnOptions, Stdio};
use std::io::{BufRead, Read};

/// Starts `worker` outside the debugger and waits until its threads run.
fn start_worker(threads: &str, seconds: &str) -> (std::process::Child, std::io::BufReader<std::process::ChildStdout>) {
    let mut child = std::process::Command::new(fixture("worker"))
        .args([threads, seconds])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line.trim(), format!("started {threads}"));
    (child, out)
}

fn text_segment(pid: i32, s: &Session) -> (u64, Vec<u8>) {
    let exe = std::fs::read_link(format!("/proc/{pid}/exe")).unwrap();
    let region =
        s.memory_map(pid).unwrap().into_iter().find(|r| r.executable && std::path::Path::new(&r.path) == exe).unwrap();
    let mut raw = vec![0u8; region.size() as usize];
    // Read through the kernel, not the session, so planted bytes would show.
    let mem = std::fs::File::open(format!("/proc/{pid}/mem")).unwrap();
    std::os::unix::fs::FileExt::read_exact_at(&mem, &mut raw, region.start).unwrap();
    (region.start, raw)
}

#[test]
fn detach_leaves_code_as_before_and_the_process_finishes_normally() {
    let (mut child, mut out) = start_worker("4", "2");
    let pid = child.id() as i32;
    let mut s = Session::new();
    s.attach(pid).unwrap();
    let (start, before) = text_segment(pid, &s);
    let work = exe_symbol(&s, pid, "work");
    let main = exe_symbol(&s, pid, "main");
    s.add_breakpoint(pid, work).unwrap();
    s.add_fast_breakpoint(pid, main, |_| HitAction::Continue).unwrap();
    let e = run_until(&mut s, |e| matches!(e.kind, EventKind::Breakpoint { .. }));
    assert_ne!(e.tid, pid, "a worker thread hit it");
    let (_, during) = text_segment(pid, &s);
    assert_ne!(before, during, "breakpoint bytes are planted");
    s.detach(pid).unwrap();
    assert!(s.processes().is_empty());
    let (after_start, after) = text_segment_raw(pid, start, before.len());
    assert_eq!(after_start, start);
    assert_eq!(before, after, "the code is as before attach");
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    assert_eq!(rest.trim(), "finished 4 worked");
}

fn text_segment_raw(pid: i32, start: u64, len: usize) -> (u64, Vec<u8>) {
    let mut raw = vec![0u8; len];
    let mem = std::fs::File::open(format!("/proc/{pid}/mem")).unwrap();
    std::os::unix::fs::FileExt::read_exact_at(&mem, &mut raw, start).unwrap();
    // No scratch memory is left either.
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap();
    assert!(
        !maps.lines().any(|l| l.contains(" r-xp ") && l.trim_end().ends_with(" 0")),
        "no anonymous code left:\n{maps}"
    );
    (start, raw)
}

#[test]
fn detach_from_a_launched_process_lets_it_run_to_its_end() {
    let mut s = Session::new();
    let pid = s.spawn(&SpawnOptions::new([fixture("counter").to_str().unwrap(), "1000"]).stdout(Stdio::Piped)).unwrap();
    let mut pipes = s.take_pipes(pid).unwrap();
    let bump = exe_symbol(&s, pid, "bump");
    s.add_breakpoint(pid, bump).unwrap();
    run_until(&mut s, |e| matches!(e.kind, EventKind::Breakpoint { .. }));
    s.detach(pid).unwrap();
    // SAFETY: reaping our own child.
    let mut status = 0;
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
    assert_eq!(read_all(&mut pipes.stdout).trim(), "sum=500500 value=1");
}

#[test]
fn a_target_killed_while_stopped_becomes_process_exited() {
    let mut s = Session::new();
    let pid =
        s.spawn(&SpawnOptions::new([fixture("threads").to_str().unwrap(), "4", "100000"]).stdout(Stdio::Null)).unwrap();
    let hit = exe_symbol(&s, pid, "hit");
    s.add_breakpoint(pid, hit).unwrap();
    run_until(&mut s, |e| matches!(e.kind, EventKind::Breakpoint { .. }));
    // SAFETY: killing our own child from outside the session.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    s.continue_event(ContinueStatus::Handled).unwrap();
    let events = run_to_exit(&mut s, pid);
    assert_eq!(events.last().unwrap().kind, EventKind::ProcessExited { code: None, signal: Some(libc::SIGKILL) });
    assert!(s.processes().is_empty());
}

#[test]
fn a_target_dying_while_fast_breakpoints_fire_ends_cleanly() {
    let mut s = Session::new();
    let pid = s
        .spawn(&SpawnOptions::new([fixture("threads").to_str().unwrap(), "8", "1000000"]).stdout(Stdio::Null))
        .unwrap();
    let hit = exe_symbol(&s, pid, "hit");
    let hits = std::rc::Rc::new(std::cell::Cell::new(0u64));
    let h = hits.clone();
    s.add_fast_breakpoint(pid, hit, move |ctx| {
        h.set(h.get() + 1);
        if h.get() == 2000 {
            // SAFETY: killing our own child in the middle of the work.
            unsafe { libc::kill(ctx.pid, libc::SIGKILL) };
        }
        let mut b = [0u8; 8];
        let _ = ctx.read_memory(ctx.address, &mut b);
        HitAction::Continue
    })
    .unwrap();
    let events = run_to_exit(&mut s, pid);
    assert_eq!(events.last().unwrap().kind, EventKind::ProcessExited { code: None, signal: Some(libc::SIGKILL) });
    assert!(hits.get() >= 2000);
}

#[test]
fn terminate_process_kills_it() {
    let mut s = Session::new();
    let pid = s.spawn(&SpawnOptions::new([fixture("spin").to_str().unwrap()])).unwrap();
    next(&mut s);
    s.continue_event(ContinueStatus::TerminateProcess).unwrap();
    let e = run_until(&mut s, |e| e.pid == pid && matches!(e.kind, EventKind::ProcessExited { .. }));
    assert_eq!(e.kind, EventKind::ProcessExited { code: None, signal: Some(libc::SIGKILL) });
    s.continue_event(ContinueStatus::Handled).unwrap();
}

#[test]
fn dropping_the_session_kills_launched_and_spares_attached_processes() {
    let (mut attached, _out) = start_worker("2", "30");
    let attached_pid = attached.id() as i32;
    let launched_pid;
    {
        let mut s = Session::new();
        launched_pid = s.spawn(&SpawnOptions::new([fixture("spin").to_str().unwrap()])).unwrap();
        s.attach(attached_pid).unwrap();
        let work = exe_symbol(&s, attached_pid, "work");
        s.add_breakpoint(attached_pid, work).unwrap();
        next(&mut s);
        s.continue_event(ContinueStatus::Handled).unwrap();
    }
    assert!(!alive(launched_pid), "launched target dies with the session");
    assert!(alive(attached_pid), "attached target lives on");
    // Running or sleeping between work (which, depends on the machine's load), never stopped.
    let now = state(attached_pid);
    assert!(now == "S" || now == "R", "the attached target runs on, not stopped: state {now}");
    attached.kill().unwrap();
    attached.wait().unwrap();
}

#[test]
fn kill_on_exit_can_be_turned_around() {
    let (mut attached, _out) = start_worker("1", "30");
    let attached_pid = attached.id() as i32;
    let launched_pid;
    {
        let mut s = Session::new();
        launched_pid = s.spawn(&SpawnOptions::new([fixture("spin").to_str().unwrap()])).unwrap();
        s.set_kill_on_exit(launched_pid, false).unwrap();
        s.attach(attached_pid).unwrap();
        s.set_kill_on_exit(attached_pid, true).unwrap();
    }
    assert!(alive(launched_pid));
    assert!(!alive(attached_pid));
    // SAFETY: cleaning up our own child.
    unsafe { libc::kill(launched_pid, libc::SIGKILL) };
    unsafe { libc::waitpid(launched_pid, std::ptr::null_mut(), 0) };
    let _ = attached.wait();
}

#[test]
fn bad_input_gets_clear_errors() {
    let mut s = Session::new();
    let err = s.spawn(&SpawnOptions::new(["/no/such/program"])).unwrap_err();
    assert_eq!(err.to_string(), "program not found: /no/such/program");
    let err = s.spawn(&SpawnOptions::new(["no-such-program-in-path"])).unwrap_err();
    assert!(matches!(err, Error::ProgramNotFound(_)), "{err}");
    let err = s.spawn(&SpawnOptions::new(["/etc/passwd"])).unwrap_err();
    assert!(err.to_string().contains("permission denied"), "{err}");
    let err = s.attach(999_999_999).unwrap_err();
    assert_eq!(err.to_string(), "no such process: 999999999");
    assert!(matches!(s.wait_event(None), Err(Error::NoProcesses)));

    let pid = s.spawn(&SpawnOptions::new([fixture("counter").to_str().unwrap(), "3"]).stdout(Stdio::Null)).unwrap();
    // A second session (on another thread) cannot take it.
    let other = std::thread::spawn(move || Session::new().attach(pid).unwrap_err().to_string()).join().unwrap();
    // SAFETY: gettid has no preconditions.
    let this_thread = unsafe { libc::gettid() };
    assert_eq!(other, format!("process {pid} is already traced (by thread {this_thread})"));

    let mut buf = [0u8; 16];
    let err = s.read_memory(pid, 0x10, &mut buf).unwrap_err();
    assert_eq!(err.to_string(), format!("memory at 0x10 (16 bytes) is not mapped in process {pid}"));
    let err = s.write_memory(pid, 0x10, &buf).unwrap_err();
    assert!(matches!(err, Error::UnmappedMemory { .. }), "{err}");
    let err = s.add_breakpoint(pid, 0x10).unwrap_err();
    assert_eq!(err.to_string(), format!("cannot plant a breakpoint at 0x10: address is not mapped in process {pid}"));
    assert!(s.breakpoints().is_empty());
    let err = s.remove_breakpoint(77).unwrap_err();
    assert_eq!(err.to_string(), "no breakpoint with id 77");
    let err = s.registers(pid, pid + 100_000).unwrap_err();
    assert!(err.to_string().contains("does not belong to process"), "{err}");

    next(&mut s);
    s.continue_event(ContinueStatus::Handled).unwrap();
    let err = s.continue_event(ContinueStatus::Handled).unwrap_err();
    assert_eq!(err.to_string(), "no event is waiting to be continued");
    // Running processes: registers need a stop.
    while s.is_stopped(pid).unwrap() {
        next(&mut s);
        s.continue_event(ContinueStatus::Handled).unwrap();
    }
    run_to_exit(&mut s, pid);
    let err = s.registers(pid, pid).unwrap_err();
    assert_eq!(err.to_string(), format!("process {pid} is not debugged by this session"));
}

#[test]
fn a_fork_not_yet_reported_at_detach_leaves_the_child_without_breakpoint_bytes() {
    // A thread that forks without a pause is often caught, when the
    // process stops for a breakpoint hit in another thread, with its fork
    // stop waiting to be handled. Detaching there must take the breakpoint
    // bytes out of that child too, or it dies of SIGTRAP at marker().
    for _ in 0..12 {
        let mut s = Session::new();
        let exe = fixture("fork_during_hits");
        let pid = s.spawn(&SpawnOptions::new([exe.to_str().unwrap()]).stdout(Stdio::Piped)).unwrap();
        let mut pipes = s.take_pipes(pid).unwrap();
        s.add_breakpoint_at(pid, "marker", dbgkit::BreakpointOptions::default()).unwrap();
        let mut forks = 0;
        loop {
            let event = next(&mut s);
            match event.kind {
                EventKind::Fork { .. } => forks += 1,
                // The forking thread is well into its loop: detach at this hit.
                EventKind::Breakpoint { .. } if forks >= 3 && event.tid == pid => break,
                _ => {}
            }
            s.continue_event(default_status(&event)).unwrap();
        }
        s.detach(pid).unwrap();
        assert_eq!(read_all(&mut pipes.stdout), "children killed: 0\n");
    }
}

#[test]
fn detaching_at_a_fork_keeps_what_fork_returns_to_the_parent() {
    // The parent is stopped inside fork(); the scratch pages are unmapped
    // by a system call run in it, which first lets fork() finish: its
    // result (the child's pid) must survive the injected call.
    let mut s = Session::new();
    let exe = fixture("fork_result");
    let pid = s.spawn(&SpawnOptions::new([exe.to_str().unwrap()]).stdout(Stdio::Piped)).unwrap();
    let mut pipes = s.take_pipes(pid).unwrap();
    // Planted out of line: the process gets scratch pages.
    s.add_breakpoint_at(pid, "before_fork", dbgkit::BreakpointOptions::default()).unwrap();
    run_until(&mut s, |e| matches!(e.kind, EventKind::Fork { .. }));
    s.detach(pid).unwrap();
    assert_eq!(read_all(&mut pipes.stdout), "fork returned the child\n");
}

#[test]
fn a_call_at_a_fork_keeps_what_fork_returns_to_the_parent() {
    // Stopped inside fork(), the parent finishes it on its way into the call.
    let mut s = Session::new();
    let exe = fixture("fork_result");
    let pid = s.spawn(&SpawnOptions::new([exe.to_str().unwrap()]).stdout(Stdio::Piped)).unwrap();
    let mut pipes = s.take_pipes(pid).unwrap();
    let fork = run_until(&mut s, |e| matches!(e.kind, EventKind::Fork { .. }));
    s.call_named(pid, fork.tid, "before_fork", &[]).unwrap();
    s.continue_event(ContinueStatus::Handled).unwrap();
    run_to_exit(&mut s, pid);
    assert_eq!(read_all(&mut pipes.stdout), "fork returned the child\n");
}

#[test]
fn detaching_a_process_killed_from_outside_succeeds_and_forgets_it() {
    // Stopped at a breakpoint, the process is killed by someone else: a
    // detach finds nothing to let go (no memory to restore), and still
    // succeeds, taking the process's end.
    let StoppedAt { session: mut s, pid, .. } = stopped_at("counter", &["3"], "bump");
    // SAFETY: signalling our own debuggee.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    std::thread::sleep(std::time::Duration::from_millis(200));
    s.detach(pid).unwrap();
    assert!(!s.processes().contains(&pid));
    assert!(!alive(pid), "reaped, not left a zombie");
}
