//! Launch options (environment, directory, pipes, randomisation) and the
//! x87/SSE registers.

mod common;

use common::*;
use dbgkit::{ContinueStatus, EventKind, Session, SpawnOptions, Stdio};
use std::io::Write;

#[test]
fn environment_directory_and_pipes_reach_the_program() {
    let mut s = Session::new();
    let dir = std::env::temp_dir();
    let opts = SpawnOptions::new(["/bin/sh", "-c", "read line; echo \"$line $DBGKIT_TEST $(pwd)\"; echo oops >&2"])
        .env("DBGKIT_TEST", "from-env")
        .cwd(&dir)
        .stdin(Stdio::Piped)
        .stdout(Stdio::Piped)
        .stderr(Stdio::Piped);
    let pid = s.spawn(&opts).unwrap();
    let mut pipes = s.take_pipes(pid).unwrap();
    pipes.stdin.take().unwrap().write_all(b"hello\n").unwrap();
    run_to_exit(&mut s, pid);
    let expected = format!("hello from-env {}", dir.canonicalize().unwrap().display());
    assert_eq!(read_all(&mut pipes.stdout).trim(), expected);
    assert_eq!(read_all(&mut pipes.stderr).trim(), "oops");
}

#[test]
fn a_missing_working_directory_is_a_clear_error() {
    let mut s = Session::new();
    let err = s.spawn(&SpawnOptions::new(["/bin/true"]).cwd("/no/such/dir")).unwrap_err();
    assert_eq!(err.to_string(), "cannot execute /bin/true: working directory /no/such/dir does not exist");
}

#[test]
fn disabling_randomisation_gives_the_same_layout_twice() {
    let bases = |aslr_off: bool| -> Vec<u64> {
        (0..2)
            .map(|_| {
                let mut s = Session::new();
                let pid = s.spawn(&SpawnOptions::new(["/bin/true"]).disable_aslr(aslr_off)).unwrap();
                let events = run_to_exit(&mut s, pid);
                events
                    .iter()
                    .find_map(|e| if let EventKind::ProcessCreated { base, .. } = e.kind { Some(base) } else { None })
                    .unwrap()
            })
            .collect()
    };
    let fixed = bases(true);
    assert_eq!(fixed[0], fixed[1]);
    assert_eq!(fixed[0], 0x5555_5555_4000, "the kernel's base for a PIE without randomisation");
    let random = bases(false);
    assert_ne!(random[0], random[1], "randomised layouts differ (1 in 2^28 chance of a false failure)");
}

#[test]
fn sse_registers_read_and_write() {
    let mut s = Session::new();
    let pid = s.spawn(&SpawnOptions::new([fixture("counter").to_str().unwrap(), "3"]).stdout(Stdio::Null)).unwrap();
    let bump = exe_symbol(&s, pid, "bump");
    s.add_breakpoint(pid, bump).unwrap();
    run_until(&mut s, |e| matches!(e.kind, EventKind::Breakpoint { .. }));
    let mut fp = s.fp_registers(pid, pid).unwrap();
    assert_eq!(fp.fcw, 0x037f, "the default x87 control word");
    assert_eq!(fp.mxcsr & 0xffc0, 0x1f80, "the default SSE control bits");
    fp.xmm[7] = 0x0123_4567_89ab_cdef_fedc_ba98_7654_3210;
    s.set_fp_registers(pid, pid, &fp).unwrap();
    assert_eq!(s.fp_registers(pid, pid).unwrap().xmm[7], fp.xmm[7]);
    let regs = s.registers(pid, pid).unwrap();
    assert_ne!(regs.fs_base, 0, "the thread pointer is set");
    assert_eq!(regs.rip, bump);
    s.continue_event(ContinueStatus::Handled).unwrap();
    run_to_exit(&mut s, pid);
}

#[test]
fn stop_at_entry_breaks_in_at_the_first_instruction_with_the_libraries_loaded() {
    let mut s = Session::new();
    let pid = s
        .spawn(&SpawnOptions::new([fixture("calls").to_str().unwrap()]).stdout(Stdio::Null).stop_at_entry(true))
        .unwrap();
    let mut entry = 0;
    let mut modules = Vec::new();
    let stop = run_until(&mut s, |e| {
        match &e.kind {
            EventKind::ProcessCreated { entry: at, .. } => entry = *at,
            EventKind::ModuleLoaded(m) => modules.push(m.path.clone()),
            _ => {}
        }
        matches!(e.kind, EventKind::BreakIn)
    });
    assert_eq!(stop.tid, pid);
    assert_eq!(s.registers(pid, pid).unwrap().rip, entry, "at the entry point");
    assert!(modules.iter().any(|m| m.to_string_lossy().contains("libc.so")), "libc is loaded: {modules:?}");
    assert!(s.breakpoints().is_empty(), "the stop used no breakpoint number");
    assert_eq!(s.next_breakpoint_id(), 1);
    s.continue_event(ContinueStatus::Handled).unwrap();
    let events = run_to_exit(&mut s, pid);
    assert!(!events.iter().any(|e| matches!(e.kind, EventKind::BreakIn)), "once: {events:?}");
}
