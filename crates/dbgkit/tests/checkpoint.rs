//! Checkpoints: a stopped fork of the process to go back to, as often as
//! wanted; memory, registers and file offsets come back, breakpoints stay.

mod common;

use common::{exe_symbol, fixture, next, read_all, run_to_exit, run_until};
use dbgkit::{ContinueStatus, Error, EventKind, Session, SpawnOptions, Stdio};

/// Runs to the hit of `tick(i)` with `rdi == i`; returns the thread.
fn run_to_tick(s: &mut Session, i: u64) -> i32 {
    loop {
        let e = run_until(s, |e| matches!(e.kind, EventKind::Breakpoint { .. }));
        let arg = s.registers(e.pid, e.tid).unwrap().rdi;
        if arg == i {
            return e.tid;
        }
        assert!(arg < i, "passed tick({i}): at tick({arg})");
        s.continue_event(ContinueStatus::Handled).unwrap();
    }
}

fn counter(s: &mut Session, pid: i32) -> u64 {
    let at = exe_symbol(s, pid, "counter");
    let mut b = [0u8; 8];
    s.read_memory(pid, at, &mut b).unwrap();
    u64::from_le_bytes(b)
}

#[test]
fn a_restored_checkpoint_brings_back_memory_registers_and_file_offsets_and_can_be_restored_again() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("checkpoint-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("log.txt");
    let mut s = Session::new();
    let options = SpawnOptions::new([fixture("checkpoint").to_str().unwrap(), log.to_str().unwrap(), "10"])
        .stdout(Stdio::Piped)
        .disable_aslr(true);
    let pid = s.spawn(&options).unwrap();
    let mut pipes = s.take_pipes(pid).unwrap();
    let tick = exe_symbol(&s, pid, "tick");
    s.add_breakpoint(pid, tick).unwrap();

    run_to_tick(&mut s, 3);
    assert_eq!(counter(&mut s, pid), 3, "1 + 2 before tick(3)");
    let saved = s.checkpoint(pid).unwrap();
    assert_eq!(s.checkpoints()[0].pc, tick);
    s.continue_event(ContinueStatus::Handled).unwrap();
    run_to_tick(&mut s, 6);
    assert_eq!(counter(&mut s, pid), 15);

    for round in 0..2 {
        let old = pid;
        let pid = s.restore(saved).unwrap();
        assert_ne!(pid, old, "round {round}: a new process");
        assert!(!s.processes().contains(&old), "the old process is gone");
        let e = next(&mut s);
        assert_eq!((e.pid, &e.kind), (pid, &EventKind::BreakIn));
        assert_eq!(counter(&mut s, pid), 3, "round {round}: memory of the moment");
        let regs = s.registers(pid, pid).unwrap();
        assert_eq!((regs.rip, regs.rdi), (tick, 3), "round {round}: registers of the moment");
        let mut byte = [0u8; 1];
        s.read_memory(pid, tick, &mut byte).unwrap();
        assert_ne!(byte[0], 0xcc, "breakpoint bytes stay hidden");
        s.continue_event(ContinueStatus::Handled).unwrap();
        // The breakpoint is still planted and the hit of the moment is not repeated.
        let tid = run_to_tick(&mut s, 4);
        assert_eq!(tid, pid);
        assert_eq!(counter(&mut s, pid), 6);
        if round == 0 {
            s.continue_event(ContinueStatus::Handled).unwrap();
            run_to_tick(&mut s, 8);
        } else {
            s.remove_breakpoint(s.breakpoints()[0].id).unwrap();
            s.continue_event(ContinueStatus::Handled).unwrap();
            let events = run_to_exit(&mut s, pid);
            assert!(matches!(events.last().unwrap().kind, EventKind::ProcessExited { code: Some(0), .. }));
        }
    }
    // The checkpoint's copy holds the pipe open too: delete it before reading to the end.
    s.delete_checkpoint(saved).unwrap();
    assert!(s.checkpoints().is_empty());
    assert!(read_all(&mut pipes.stdout).contains("counter=55"), "the restored run finishes normally");
    let expected: String = (1..=10).map(|i| format!("line {i}\n")).collect();
    assert_eq!(std::fs::read_to_string(&log).unwrap(), expected, "the file's offset came back: no line twice");
}

#[test]
fn checkpoints_refuse_running_and_multithreaded_processes_clearly() {
    let mut s = Session::new();
    let pid =
        s.spawn(&SpawnOptions::new([fixture("threads").to_str().unwrap(), "2", "1"]).stdout(Stdio::Null)).unwrap();
    let e = run_until(&mut s, |e| matches!(e.kind, EventKind::ThreadCreated { .. }));
    let err = s.checkpoint(pid).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)) && err.to_string().contains("single-threaded"), "{err}");
    s.continue_event(ContinueStatus::Handled).unwrap();
    let _ = e;
    if s.is_stopped(pid).unwrap_or(true) {
        return;
    }
    assert!(matches!(s.checkpoint(pid), Err(Error::ProcessRunning(_))));
    s.kill(pid).unwrap();
}
