//! Software breakpoints: counts under threads, fast callbacks, one-shot,
//! enable/disable, hidden bytes, registers and memory changed at a hit,
//! single steps.

mod common;

use common::*;
use dbgkit::{BreakpointOptions, ContinueStatus, EventKind, HitAction, Session, SpawnOptions, Stdio};
use std::cell::Cell;
use std::collections::HashMap;
use std::rc::Rc;

fn spawn_piped(s: &mut Session, args: &[&str]) -> (i32, dbgkit::SpawnedPipes) {
    let pid = s.spawn(&SpawnOptions::new(args).stdout(Stdio::Piped)).unwrap();
    let pipes = s.take_pipes(pid).unwrap();
    (pid, pipes)
}

#[test]
fn fifty_threads_hit_a_fast_breakpoint_exactly_fifty_thousand_times() {
    let mut s = Session::new();
    let exe = fixture("threads");
    let (pid, mut pipes) = spawn_piped(&mut s, &[exe.to_str().unwrap(), "50", "1000"]);
    let counted = Rc::new(Cell::new(0u64));
    let per_thread: Rc<std::cell::RefCell<HashMap<i32, u64>>> = Default::default();
    let (c, t) = (counted.clone(), per_thread.clone());
    let id = s
        .add_fast_breakpoint(pid, exe_symbol(&s, pid, "hit"), move |hit| {
            c.set(c.get() + 1);
            *t.borrow_mut().entry(hit.tid).or_default() += 1;
            HitAction::Continue
        })
        .unwrap();
    let events = run_to_exit(&mut s, pid);
    assert!(!events.iter().any(|e| matches!(e.kind, EventKind::Breakpoint { .. })), "fast hits report no event");
    assert_eq!(counted.get(), 50_000);
    let per_thread = per_thread.borrow();
    assert_eq!(per_thread.len(), 50, "every thread accounted for");
    assert!(per_thread.values().all(|&n| n == 1000));
    assert_eq!(read_all(&mut pipes.stdout).trim(), "total=50000");
    assert!(s.breakpoint(id).is_none());
}

#[test]
fn reported_hits_from_many_threads_are_each_reported_once() {
    let mut s = Session::new();
    let exe = fixture("threads");
    let (pid, mut pipes) = spawn_piped(&mut s, &[exe.to_str().unwrap(), "8", "100"]);
    let hit = exe_symbol(&s, pid, "hit");
    let id = s.add_breakpoint(pid, hit).unwrap();
    let mut per_thread: HashMap<i32, u64> = HashMap::new();
    let mut last_hits = 0;
    for e in run_to_exit(&mut s, pid).iter().filter(|e| matches!(e.kind, EventKind::Breakpoint { .. })) {
        assert_eq!(e.kind, EventKind::Breakpoint { id, address: hit });
        *per_thread.entry(e.tid).or_default() += 1;
        last_hits += 1;
    }
    assert_eq!(last_hits, 800);
    assert_eq!(per_thread.len(), 8);
    assert!(per_thread.values().all(|&n| n == 100));
    assert_eq!(read_all(&mut pipes.stdout).trim(), "total=800");
}

#[test]
fn hit_counts_one_shot_enable_disable_and_remove() {
    let mut s = Session::new();
    let exe = fixture("counter");
    let (pid, mut pipes) = spawn_piped(&mut s, &[exe.to_str().unwrap(), "10"]);
    let bump = exe_symbol(&s, pid, "bump");
    let main = exe_symbol(&s, pid, "main");
    let counting = s.add_fast_breakpoint(pid, bump, |_| HitAction::Continue).unwrap();
    let disabled = s.add_breakpoint_with(pid, bump, BreakpointOptions::default().disabled(true)).unwrap();
    let once = s.add_breakpoint_with(pid, main, BreakpointOptions::default().one_shot(true)).unwrap();
    let e = run_until(&mut s, |e| matches!(e.kind, EventKind::Breakpoint { .. }));
    assert_eq!(e.kind, EventKind::Breakpoint { id: once, address: main });
    assert!(s.breakpoint(once).is_none(), "one-shot breakpoints go after their hit");
    assert_eq!(s.registers(pid, pid).unwrap().rip, main);
    s.continue_event(ContinueStatus::Handled).unwrap();
    let events = run_to_exit(&mut s, pid);
    assert!(!events.iter().any(|e| matches!(e.kind, EventKind::Breakpoint { .. })));
    // Gone with the process; counted before.
    assert!(s.breakpoint(counting).is_none() && s.breakpoint(disabled).is_none());
    assert_eq!(read_all(&mut pipes.stdout).trim(), "sum=55 value=1");

    // Enable, disable, remove on a live process.
    let (pid, mut pipes) = spawn_piped(&mut s, &[exe.to_str().unwrap(), "10"]);
    let bump = exe_symbol(&s, pid, "bump");
    let a = s.add_breakpoint(pid, bump).unwrap();
    let b = s.add_fast_breakpoint(pid, bump, |_| HitAction::Continue).unwrap();
    let mut reported = 0;
    loop {
        let e = next(&mut s);
        match e.kind {
            EventKind::Breakpoint { id, .. } => {
                assert_eq!(id, a);
                reported += 1;
                assert_eq!(s.breakpoint(a).unwrap().hits, reported);
                if reported == 3 {
                    s.enable_breakpoint(a, false).unwrap();
                }
            }
            EventKind::ProcessExited { .. } => {
                s.continue_event(ContinueStatus::Handled).unwrap();
                break;
            }
            _ => {}
        }
        s.continue_event(default_status(&e)).unwrap();
    }
    assert_eq!(reported, 3);
    let _ = b;
    assert_eq!(read_all(&mut pipes.stdout).trim(), "sum=55 value=1");
}

#[test]
fn fast_callback_sees_registers_and_can_ask_to_stop() {
    let mut s = Session::new();
    let exe = fixture("counter");
    let (pid, mut pipes) = spawn_piped(&mut s, &[exe.to_str().unwrap(), "10"]);
    let bump = exe_symbol(&s, pid, "bump");
    let seen = Rc::new(std::cell::RefCell::new(Vec::new()));
    let log = seen.clone();
    let id = s
        .add_fast_breakpoint(pid, bump, move |hit| {
            let regs = hit.registers().unwrap();
            assert_eq!(regs.rip, hit.address);
            log.borrow_mut().push(regs.rdi);
            if hit.hits == 5 {
                HitAction::Stop
            } else {
                HitAction::Continue
            }
        })
        .unwrap();
    let e = run_until(&mut s, |e| matches!(e.kind, EventKind::Breakpoint { .. }));
    assert_eq!(e.kind, EventKind::Breakpoint { id, address: bump });
    assert_eq!(*seen.borrow(), vec![0, 1, 2, 3, 4]);
    s.continue_event(ContinueStatus::Handled).unwrap();
    run_to_exit(&mut s, pid);
    assert_eq!(seen.borrow().len(), 10);
    assert_eq!(read_all(&mut pipes.stdout).trim(), "sum=55 value=1");
}

#[test]
fn a_callback_reads_symbols_stacks_and_expressions_but_cannot_resume() {
    let mut s = Session::new();
    let exe = fixture("counter");
    let (pid, mut pipes) = spawn_piped(&mut s, &[exe.to_str().unwrap(), "10"]);
    let bump = exe_symbol(&s, pid, "bump");
    let seen = Rc::new(std::cell::RefCell::new(Vec::new()));
    let log = seen.clone();
    s.add_fast_breakpoint(pid, bump, move |hit| {
        let (pid, tid, address) = (hit.pid, hit.tid, hit.address);
        let session = hit.session();
        // The hitting thread is shown at the breakpoint, by every reader.
        assert_eq!(session.registers(pid, tid).unwrap().rip, address);
        let name = session.symbolize(pid, address).unwrap().symbol.unwrap_or_default();
        let stack = session.stack(pid, tid).unwrap();
        let callers: Vec<String> = stack
            .frames
            .iter()
            .take(2)
            .map(|f| f.symbol.as_ref().and_then(|p| p.symbol.clone()).unwrap_or_default())
            .collect();
        let argument = session.eval(pid, tid, "@rdi").unwrap();
        let refused = session.continue_event(ContinueStatus::Handled).unwrap_err();
        let call_refused = session.call(pid, tid, address, &[]).unwrap_err();
        log.borrow_mut().push((name, callers, argument, refused.to_string(), call_refused.to_string()));
        HitAction::Continue
    })
    .unwrap();
    run_to_exit(&mut s, pid);
    let seen = seen.borrow();
    assert_eq!(seen.len(), 10);
    for (i, (name, callers, argument, refused, call_refused)) in seen.iter().enumerate() {
        assert_eq!(name, "bump");
        assert_eq!(callers, &["bump", "main"]);
        assert_eq!(*argument, i as u64);
        assert!(refused.contains("inside a breakpoint callback"), "{refused}");
        assert!(call_refused.contains("inside a breakpoint callback"), "{call_refused}");
    }
    assert_eq!(read_all(&mut pipes.stdout).trim(), "sum=55 value=1");
}

#[test]
fn registers_and_memory_written_at_a_hit_change_the_program() {
    let mut s = Session::new();
    let exe = fixture("counter");
    let (pid, mut pipes) = spawn_piped(&mut s, &[exe.to_str().unwrap(), "10"]);
    let bump = exe_symbol(&s, pid, "bump");
    let value = exe_symbol(&s, pid, "value");
    let id = s.add_breakpoint(pid, bump).unwrap();
    run_until(&mut s, |e| matches!(e.kind, EventKind::Breakpoint { .. }));
    // First call: bump(0). Make it bump(1000) and make `value` 2 for every call.
    let mut regs = s.registers(pid, pid).unwrap();
    assert_eq!(regs.rdi, 0);
    regs.rdi = 1000;
    s.set_registers(pid, pid, &regs).unwrap();
    assert_eq!(s.registers(pid, pid).unwrap().rdi, 1000);
    s.write_memory(pid, value, &2u64.to_le_bytes()).unwrap();
    s.remove_breakpoint(id).unwrap();
    s.continue_event(ContinueStatus::Handled).unwrap();
    run_to_exit(&mut s, pid);
    // sum of (i + 2) for i in 0..10, with the first i replaced by 1000.
    assert_eq!(read_all(&mut pipes.stdout).trim(), format!("sum={} value=2", 45 + 1000 + 20));
}

#[test]
fn breakpoint_bytes_never_show_and_code_pages_are_writable() {
    let mut s = Session::new();
    let exe = fixture("counter");
    let (pid, mut pipes) = spawn_piped(&mut s, &[exe.to_str().unwrap(), "3"]);
    let bump = exe_symbol(&s, pid, "bump");
    let mut before = [0u8; 32];
    s.read_memory(pid, bump, &mut before).unwrap();
    let id = s.add_breakpoint(pid, bump).unwrap();
    let mut during = [0u8; 32];
    s.read_memory(pid, bump, &mut during).unwrap();
    assert_eq!(before, during, "reads show the original bytes");
    // Writing the same code back (over the breakpoint) keeps the breakpoint.
    s.write_memory(pid, bump, &before).unwrap();
    let events = run_to_exit(&mut s, pid);
    assert_eq!(events.iter().filter(|e| matches!(e.kind, EventKind::Breakpoint { id: i, .. } if i == id)).count(), 3);
    assert_eq!(read_all(&mut pipes.stdout).trim(), "sum=6 value=1");
}

#[test]
fn step_into_runs_one_instruction() {
    let mut s = Session::new();
    let exe = fixture("counter");
    let (pid, mut pipes) = spawn_piped(&mut s, &[exe.to_str().unwrap(), "2"]);
    let bump = exe_symbol(&s, pid, "bump");
    let main = exe_symbol(&s, pid, "main");
    s.add_breakpoint(pid, main).unwrap();
    s.add_breakpoint(pid, bump).unwrap();
    run_until(&mut s, |e| matches!(e.kind, EventKind::Breakpoint { .. }));
    // main's first instruction is `push rbp` (1 byte) at -O0: the step lands right after it.
    let rsp = s.registers(pid, pid).unwrap().rsp;
    s.step_into(pid, pid).unwrap();
    let e = next(&mut s);
    let EventKind::StepComplete { address } = e.kind else { panic!("{e:?}") };
    let regs = s.registers(pid, pid).unwrap();
    assert_eq!(regs.rip, address);
    let mut first = [0u8; 16];
    s.read_memory(pid, main, &mut first).unwrap();
    let expected_len = if first[..4] == [0xf3, 0x0f, 0x1e, 0xfa] { 4 } else { 1 };
    assert_eq!(address, main + expected_len);
    if expected_len == 1 {
        assert_eq!(regs.rsp, rsp - 8, "push rbp ran once");
    }
    // Keep stepping into the call of bump: stepping onto a breakpoint reports it.
    let mut steps = 0;
    loop {
        s.step_into(pid, pid).unwrap();
        let e = next(&mut s);
        steps += 1;
        match e.kind {
            EventKind::StepComplete { .. } => assert!(steps < 20_000, "never reached bump"),
            EventKind::Breakpoint { address, .. } => {
                assert_eq!(address, bump);
                break;
            }
            other => panic!("{other:?}"),
        }
    }
    // The return address pushed by the stepped call is in main.
    let regs = s.registers(pid, pid).unwrap();
    let mut ret = [0u8; 8];
    s.read_memory(pid, regs.rsp, &mut ret).unwrap();
    let ret = u64::from_le_bytes(ret);
    let main_module = &s.modules(pid).unwrap()[0];
    assert!(main_module.contains(ret), "return address {ret:x} is in the executable");
    s.continue_event(ContinueStatus::Handled).unwrap();
    run_to_exit(&mut s, pid);
    assert_eq!(read_all(&mut pipes.stdout).trim(), "sum=3 value=1");
}

#[test]
fn terminate_thread_ends_only_that_thread() {
    let mut s = Session::new();
    let exe = fixture("threads");
    let (pid, mut pipes) = spawn_piped(&mut s, &[exe.to_str().unwrap(), "2", "100"]);
    let hit = exe_symbol(&s, pid, "hit");
    let id = s.add_breakpoint(pid, hit).unwrap();
    let e = run_until(&mut s, |e| matches!(e.kind, EventKind::Breakpoint { .. }));
    let victim = e.tid;
    s.remove_breakpoint(id).unwrap();
    s.continue_event(ContinueStatus::TerminateThread).unwrap();
    let events = run_to_exit(&mut s, pid);
    assert!(events.iter().any(|e| e.tid == victim && e.kind == EventKind::ThreadExited { code: 0 }));
    assert_eq!(read_all(&mut pipes.stdout).trim(), "total=100", "the other thread did all its calls");
}

#[test]
fn break_in_stops_a_spinning_process() {
    let mut s = Session::new();
    let pid = s.spawn(&SpawnOptions::new([fixture("spin").to_str().unwrap()])).unwrap();
    // Let it start spinning.
    loop {
        let e = next(&mut s);
        s.continue_event(ContinueStatus::Handled).unwrap();
        if matches!(&e.kind, EventKind::ModuleLoaded(m) if m.name == "libc.so.6") {
            break;
        }
    }
    std::thread::sleep(std::time::Duration::from_millis(100));
    assert!(s.wait_event(Some(std::time::Duration::from_millis(50))).unwrap().is_none(), "spinning: no event");
    s.break_in(pid).unwrap();
    let e = next(&mut s);
    assert_eq!(e.kind, EventKind::BreakIn);
    let counter = exe_symbol(&s, pid, "counter");
    let mut a = [0u8; 8];
    s.read_memory(pid, counter, &mut a).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(50));
    let mut b = [0u8; 8];
    s.read_memory(pid, counter, &mut b).unwrap();
    assert_eq!(a, b, "stopped: the counter does not move");
    assert_ne!(u64::from_le_bytes(a), 0);
    s.continue_event(ContinueStatus::Handled).unwrap();
    s.kill(pid).unwrap();
    let e = run_until(&mut s, |e| matches!(e.kind, EventKind::ProcessExited { .. }));
    assert_eq!(e.kind, EventKind::ProcessExited { code: None, signal: Some(libc::SIGKILL) });
    s.continue_event(ContinueStatus::Handled).unwrap();
}

/// Every thread is shown where the program is: at each stop of a breakpoint
/// that 8 threads hit at once, no thread shows a pc one byte after a
/// breakpoint (a trap taken, not yet reported) or inside the engine's
/// scratch memory; every pc is an instruction boundary of its function.
#[test]
fn other_threads_are_shown_at_their_program_pc() {
    let mut s = Session::new();
    let pid =
        s.spawn(&SpawnOptions::new([fixture("threads").to_str().unwrap(), "8", "200"]).stdout(Stdio::Null)).unwrap();
    let hit = exe_symbol(&s, pid, "hit");
    let bp = s.add_breakpoint(pid, hit).unwrap();
    for round in 0..40 {
        let e = run_until(&mut s, |e| matches!(e.kind, EventKind::Breakpoint { id, .. } if id == bp));
        let scratch: Vec<(u64, u64)> = s
            .memory_map(pid)
            .unwrap()
            .iter()
            .filter(|r| r.path == dbgkit::SCRATCH_NAME)
            .map(|r| (r.start, r.end))
            .collect();
        for tid in s.threads(pid).unwrap() {
            let rip = s.registers(pid, tid).unwrap().rip;
            assert_ne!(rip, hit + 1, "round {round}: thread {tid} shown after the int3 at hit");
            assert!(!scratch.iter().any(|&(a, b)| (a..b).contains(&rip)), "round {round}: thread {tid} in scratch");
            let place = s.symbolize(pid, rip).unwrap();
            assert!(place.module.is_some(), "round {round}: thread {tid} at {rip:#x} is in no module");
        }
        assert_eq!(s.registers(pid, e.tid).unwrap().rip, hit);
        s.continue_event(ContinueStatus::Handled).unwrap();
    }
    s.remove_breakpoint(bp).unwrap();
    let events = run_to_exit(&mut s, pid);
    assert!(matches!(events.last().unwrap().kind, EventKind::ProcessExited { code: Some(0), .. }));
}

/// Breakpoints and watchpoints share one numbering and one list; removing,
/// disabling and enabling work on both; a condition that names something
/// unknown is refused when it is set.
#[test]
fn one_numbering_and_one_list_for_breakpoints_and_watchpoints() {
    let mut s = Session::new();
    let pid = s.spawn(&SpawnOptions::new([fixture("watch").to_str().unwrap(), "1", "3"]).stdout(Stdio::Null)).unwrap();
    let main = s.add_breakpoint_at(pid, "watch!main", Default::default()).unwrap();
    run_until(&mut s, |e| matches!(e.kind, EventKind::Breakpoint { id, .. } if id == main));
    let counter = s.resolve(pid, "watch!counter").unwrap();
    let watch = s.add_watchpoint(pid, counter, 8, dbgkit::WatchAccess::Write).unwrap();
    let getpid = s.resolve(pid, "libc.so.6!getpid").unwrap();
    let hardware = s.add_hardware_breakpoint(pid, getpid).unwrap();
    let soft = s.add_breakpoint(pid, getpid).unwrap();
    assert_eq!([main, watch, hardware, soft], [1, 2, 3, 4], "one counter");
    let kinds: Vec<dbgkit::BreakpointKind> = s.breakpoints().iter().map(|b| b.kind).collect();
    assert_eq!(
        kinds,
        [
            dbgkit::BreakpointKind::Software,
            dbgkit::BreakpointKind::Watch { access: dbgkit::WatchAccess::Write, len: 8 },
            dbgkit::BreakpointKind::Hardware,
            dbgkit::BreakpointKind::Software
        ]
    );
    // Disabled, a watchpoint watches nothing: the program's writes go unseen.
    for b in s.breakpoints() {
        s.enable_breakpoint(b.id, false).unwrap();
    }
    assert!(s.breakpoints().iter().all(|b| !b.enabled));
    s.enable_breakpoint(watch, true).unwrap();
    s.remove_breakpoint(hardware).unwrap();
    assert!(s.breakpoint(hardware).is_none() && s.watchpoint(hardware).is_none());
    s.continue_event(ContinueStatus::Handled).unwrap();
    let events = run_to_exit(&mut s, pid);
    let watched = events.iter().filter(|e| matches!(e.kind, EventKind::Watchpoint { id, .. } if id == watch)).count();
    assert!(watched >= 1, "the enabled watchpoint fires: {events:?}");
    assert!(!events.iter().any(|e| matches!(e.kind, EventKind::Breakpoint { .. })), "disabled breakpoints stay quiet");

    // Conditions naming something unknown are refused when set.
    let pid = s.spawn(&SpawnOptions::new([fixture("counter").to_str().unwrap(), "3"]).stdout(Stdio::Null)).unwrap();
    let bump = exe_symbol(&s, pid, "bump");
    let err = s.add_breakpoint_with(pid, bump, BreakpointOptions::default().condition("nosuchthing == 3")).unwrap_err();
    assert!(err.to_string().contains("nosuchthing"), "{err}");
    let ok = s.add_breakpoint_with(pid, bump, BreakpointOptions::default().condition("rdi == 2")).unwrap();
    assert!(s.set_breakpoint_condition(ok, Some("rdi == nosuch")).is_err());
    assert_eq!(s.breakpoint(ok).unwrap().condition.as_deref(), Some("rdi == 2"), "a refused condition changes nothing");
    s.kill(pid).unwrap();
}

#[test]
fn an_int3_of_the_program_where_a_removed_breakpoint_was_traps_as_the_program_s() {
    // A trap just after a removed breakpoint's address is normally a hit
    // taken before the removal, rewound to run the restored instruction;
    // when that instruction is itself an int3 (the program's own, as a
    // permanent breakpoint), rewinding would loop forever: it is the
    // program's SIGTRAP.
    let mut s = Session::new();
    let pid = s.spawn(&SpawnOptions::new([fixture("counter").to_str().unwrap(), "3"]).stdout(Stdio::Null)).unwrap();
    let bump = exe_symbol(&s, pid, "bump");
    let bp = s.add_breakpoint(pid, bump).unwrap();
    run_until(&mut s, |e| matches!(e.kind, EventKind::Breakpoint { .. }));
    s.remove_breakpoint(bp).unwrap();
    s.write_memory(pid, bump, &[0xcc]).unwrap();
    s.continue_event(ContinueStatus::Handled).unwrap();
    let trap = next(&mut s);
    assert!(
        matches!(trap.kind, EventKind::Exception { signal: libc::SIGTRAP, .. }),
        "the program's int3 is reported: {:?}",
        trap.kind
    );
    s.kill(pid).unwrap();
}
