//! Stepping one thread while the others stay stopped or run
//! (`Session::step_thread`), on a real multi-threaded program.

mod common;

use common::*;
use dbgkit::{ContinueStatus, EventKind, OtherThreads, Session, SpawnOptions};

/// Stops `threads 2 N` at `hit` in one of its worker threads.
fn stopped_in_a_worker(iterations: &str) -> (Session, i32, i32, u64) {
    let mut s = Session::new();
    let pid = s.spawn(&SpawnOptions::new([fixture("threads").to_str().unwrap(), "2", iterations])).unwrap();
    run_until(&mut s, |e| matches!(e.kind, EventKind::ProcessCreated { .. }));
    let hit = exe_symbol(&s, pid, "hit");
    let total = exe_symbol(&s, pid, "total");
    s.add_breakpoint(pid, hit).unwrap();
    s.continue_event(ContinueStatus::Handled).unwrap();
    // A hit before the second worker exists would leave the tests one thread
    // short, so the stop they get is one with main and both workers alive.
    let mut workers = 0;
    let event = run_until(&mut s, |e| {
        if matches!(e.kind, EventKind::ThreadCreated { .. }) {
            workers += 1;
        }
        workers == 2 && matches!(e.kind, EventKind::Breakpoint { .. })
    });
    assert_ne!(event.tid, pid, "workers call hit(), not main");
    (s, pid, event.tid, total)
}

fn read_u64(s: &Session, pid: i32, address: u64) -> u64 {
    let mut b = [0u8; 8];
    s.read_memory(pid, address, &mut b).unwrap();
    u64::from_le_bytes(b)
}

#[test]
fn a_thread_steps_alone_while_the_others_stay_where_they_were() {
    let (mut s, pid, stepper, total) = stopped_in_a_worker("100000");
    // No new hits from now on; one the other worker took already must wait.
    let id = s.breakpoints()[0].id;
    s.remove_breakpoint(id).unwrap();
    let others: Vec<(i32, u64)> = s
        .threads(pid)
        .unwrap()
        .into_iter()
        .filter(|&t| t != stepper)
        .map(|t| (t, s.registers(pid, t).unwrap().rip))
        .collect();
    assert_eq!(others.len(), 2, "main and the other worker");
    let total_before = read_u64(&s, pid, total);
    let mut rip = s.registers(pid, stepper).unwrap().rip;
    for _ in 0..30 {
        s.step_thread(pid, stepper, ContinueStatus::Handled, OtherThreads::Stay).unwrap();
        let event = next(&mut s);
        assert_eq!(event.tid, stepper, "only the stepping thread reports: {event:?}");
        assert!(matches!(event.kind, EventKind::StepComplete { .. }), "{event:?}");
        let now = s.registers(pid, stepper).unwrap().rip;
        assert_ne!(now, rip, "the thread moved");
        rip = now;
        for &(t, at) in &others {
            assert_eq!(s.registers(pid, t).unwrap().rip, at, "thread {t} stayed stopped");
        }
    }
    // Thirty instructions of one thread add to the total at most twice.
    assert!(read_u64(&s, pid, total) - total_before <= 2);
    s.kill(pid).unwrap();
    run_until(&mut s, |e| matches!(e.kind, EventKind::ProcessExited { .. }));
}

#[test]
fn a_thread_steps_while_the_others_run() {
    let (mut s, pid, stepper, total) = stopped_in_a_worker("100000000");
    let total_before = read_u64(&s, pid, total);
    // Steps until the others have visibly made progress meanwhile.
    let mut progressed = false;
    for _ in 0..200 {
        s.step_thread(pid, stepper, ContinueStatus::Handled, OtherThreads::Run).unwrap();
        let event = next(&mut s);
        if event.tid != stepper {
            // Another thread's event came first (a breakpoint hit, a thread
            // starting): it is reported, as in all-stop.
            assert!(matches!(event.kind, EventKind::Breakpoint { .. } | EventKind::ThreadCreated { .. }), "{event:?}");
        }
        if read_u64(&s, pid, total) > total_before + 5 {
            progressed = true;
            break;
        }
    }
    assert!(progressed, "the other threads ran while one stepped");
    s.kill(pid).unwrap();
    run_until(&mut s, |e| matches!(e.kind, EventKind::ProcessExited { .. }));
}

#[test]
fn stepping_needs_a_stopped_process_and_a_known_thread() {
    let (mut s, pid, stepper, _) = stopped_in_a_worker("100000");
    let err = s.step_thread(pid, 1, ContinueStatus::Handled, OtherThreads::Stay).unwrap_err();
    assert!(err.to_string().contains("does not belong"), "{err}");
    let err = s.step_thread(pid, stepper, ContinueStatus::NotHandled, OtherThreads::Stay).unwrap_err();
    assert!(err.to_string().contains("does not fit"), "{err}");
    s.step_thread(pid, stepper, ContinueStatus::Handled, OtherThreads::Stay).unwrap();
    next(&mut s);
    s.continue_event(ContinueStatus::Handled).unwrap();
    let err = s.step_thread(pid, stepper, ContinueStatus::Handled, OtherThreads::Stay).unwrap_err();
    assert!(err.to_string().contains("running") || err.to_string().contains("no event"), "{err}");
    s.kill(pid).unwrap();
    run_until(&mut s, |e| matches!(e.kind, EventKind::ProcessExited { .. }));
}

#[test]
fn a_step_that_lands_on_a_breakpoint_that_does_not_stop_completes_there() {
    // bench_counter's functions start with a one-byte `push rbp` (no CET).
    let mut s = Session::new();
    let pid = s.spawn(&SpawnOptions::new([fixture("bench_counter").to_str().unwrap(), "5"])).unwrap();
    run_until(&mut s, |e| matches!(e.kind, EventKind::ProcessCreated { .. }));
    let bump = exe_symbol(&s, pid, "bump");
    let entry = s.add_breakpoint(pid, bump).unwrap();
    // A fast breakpoint that never stops, on the instruction after the entry.
    let passes = std::rc::Rc::new(std::cell::Cell::new(0));
    let counter = passes.clone();
    s.add_fast_breakpoint(pid, bump + 1, move |_| {
        counter.set(counter.get() + 1);
        dbgkit::HitAction::Continue
    })
    .unwrap();
    s.continue_event(ContinueStatus::Handled).unwrap();
    let hit = run_until(&mut s, |e| matches!(e.kind, EventKind::Breakpoint { .. }));
    assert_eq!(hit.kind, EventKind::Breakpoint { id: entry, address: bump });
    s.step_thread(pid, pid, ContinueStatus::Handled, OtherThreads::Stay).unwrap();
    let event = next(&mut s);
    assert_eq!(event.kind, EventKind::StepComplete { address: bump + 1 });
    assert_eq!(s.registers(pid, pid).unwrap().rip, bump + 1);
    assert_eq!(passes.get(), 1, "landing there counts as passing the fast breakpoint");
    // And it goes on from there normally: the next call hits the entry again.
    s.continue_event(ContinueStatus::Handled).unwrap();
    let hit = run_until(&mut s, |e| matches!(e.kind, EventKind::Breakpoint { .. }));
    assert_eq!(hit.kind, EventKind::Breakpoint { id: entry, address: bump });
    s.kill(pid).unwrap();
    run_until(&mut s, |e| matches!(e.kind, EventKind::ProcessExited { .. }));
}

#[test]
fn resuming_one_thread_leaves_the_others_stopped() {
    let (mut s, pid, worker, _) = stopped_in_a_worker("100000");
    let others: Vec<(i32, u64)> = s
        .threads(pid)
        .unwrap()
        .into_iter()
        .filter(|&t| t != worker)
        .map(|t| (t, s.registers(pid, t).unwrap().rip))
        .collect();
    for _ in 0..5 {
        s.resume_threads(pid, &[worker], ContinueStatus::Handled).unwrap();
        let event = next(&mut s);
        // The worker comes back to its breakpoint on its next call; nobody else reports.
        assert_eq!(event.tid, worker, "{event:?}");
        assert!(matches!(event.kind, EventKind::Breakpoint { .. }), "{event:?}");
        for &(t, at) in &others {
            assert_eq!(s.registers(pid, t).unwrap().rip, at, "thread {t} stayed stopped");
        }
    }
    assert!(s.resume_threads(pid, &[], ContinueStatus::Handled).is_err());
    assert!(s.resume_threads(pid, &[1], ContinueStatus::Handled).is_err());
    s.kill(pid).unwrap();
    run_until(&mut s, |e| matches!(e.kind, EventKind::ProcessExited { .. }));
}

#[test]
fn a_signal_set_for_a_thread_is_delivered_to_it() {
    // sigcount 3 1: one worker calls hit(); the program ends once three
    // SIGRTMIN+1 arrived and prints how many it saw.
    let mut s = Session::new();
    let options = SpawnOptions::new([fixture("sigcount").to_str().unwrap(), "3", "1"]).stdout(dbgkit::Stdio::Piped);
    let pid = s.spawn(&options).unwrap();
    let mut pipes = s.take_pipes(pid).unwrap();
    run_until(&mut s, |e| matches!(e.kind, EventKind::ProcessCreated { .. }));
    let hit = exe_symbol(&s, pid, "hit");
    let id = s.add_breakpoint(pid, hit).unwrap();
    s.continue_event(ContinueStatus::Handled).unwrap();
    for _ in 0..3 {
        let event = run_until(&mut s, |e| matches!(e.kind, EventKind::Breakpoint { .. }));
        assert!(s.set_thread_signal(pid, event.tid, 99).is_err());
        s.set_thread_signal(pid, event.tid, libc::SIGRTMIN() + 1).unwrap();
        s.continue_event(ContinueStatus::Handled).unwrap();
    }
    s.remove_breakpoint(id).unwrap_or(());
    let events = run_to_exit(&mut s, pid);
    assert!(events.iter().all(|e| !matches!(e.kind, EventKind::Exception { .. })), "{events:?}");
    assert_eq!(read_all(&mut pipes.stdout), "ready\nreceived 3\n");
}

#[test]
fn the_signal_info_of_a_fault_names_the_signal_and_the_address() {
    // crash: a read through a null pointer (SIGSEGV with the fault address).
    let mut s = Session::new();
    let pid = s.spawn(&SpawnOptions::new([fixture("crash").to_str().unwrap()])).unwrap();
    let event = run_until(&mut s, |e| matches!(e.kind, EventKind::Exception { signal: libc::SIGSEGV, .. }));
    let EventKind::Exception { fault_address: Some(fault), .. } = event.kind else { panic!("{event:?}") };
    let info = s.signal_info(pid, event.tid).unwrap();
    let word = |at: usize| i32::from_le_bytes(info[at..at + 4].try_into().unwrap());
    assert_eq!(word(0), libc::SIGSEGV, "si_signo");
    assert_eq!(u64::from_le_bytes(info[16..24].try_into().unwrap()), fault, "si_addr");
    assert!(s.signal_info(pid, 1).is_err());
    s.kill(pid).unwrap();
    run_until(&mut s, |e| matches!(e.kind, EventKind::ProcessExited { .. }));
}

#[test]
fn a_thread_told_to_hit_its_breakpoint_again_traps_there_after_its_signal() {
    // A debugger steps a thread off its breakpoint and a signal comes
    // first; it then passes the signal with the breakpoint kept and wants
    // the thread to trap there once more before it steps again (gdb does,
    // through a remote stub). Without being told, the engine would run
    // the thread over the breakpoint it reported.
    let mut s = Session::new();
    let pid = s.spawn(&SpawnOptions::new([fixture("counter").to_str().unwrap(), "3"])).unwrap();
    run_until(&mut s, |e| matches!(e.kind, EventKind::ProcessCreated { .. }));
    let bump = exe_symbol(&s, pid, "bump");
    let id = s.add_breakpoint(pid, bump).unwrap();
    s.continue_event(ContinueStatus::Handled).unwrap();
    let hit = run_until(&mut s, |e| matches!(e.kind, EventKind::Breakpoint { .. }));
    let tid = hit.tid;
    let argument = s.registers(pid, tid).unwrap().rdi;
    // A signal the program ignores (SIGCHLD), pending when the step starts.
    // SAFETY: tgkill takes plain values.
    assert_eq!(unsafe { libc::syscall(libc::SYS_tgkill, pid, tid, libc::SIGCHLD) }, 0);
    s.step_thread(pid, tid, ContinueStatus::Handled, OtherThreads::Run).unwrap();
    let signal = next(&mut s);
    assert!(matches!(signal.kind, EventKind::Exception { signal: libc::SIGCHLD, .. }), "{signal:?}");
    assert_eq!(s.registers(pid, tid).unwrap().rip, bump, "the signal came before the step ran");
    s.hit_breakpoint_again(pid, tid).unwrap();
    s.continue_event(ContinueStatus::NotHandled).unwrap();
    let again = next(&mut s);
    assert_eq!(again.kind, EventKind::Breakpoint { id, address: bump }, "{again:?}");
    assert_eq!(s.registers(pid, tid).unwrap().rdi, argument, "the same call, not the next one");
    s.continue_event(ContinueStatus::Handled).unwrap();
    let hits = run_to_exit(&mut s, pid).iter().filter(|e| matches!(e.kind, EventKind::Breakpoint { .. })).count();
    assert_eq!(hits, 2, "the two calls left");
}

#[test]
fn a_trap_taken_as_the_thread_was_broken_into_survives_its_breakpoint_going() {
    // The thread executes the breakpoint's int3 while nothing waits for it;
    // a break-in then finds that trap and holds it (the thread's rip is one
    // byte after the int3). The debugger removes the breakpoint and steps
    // the thread alone: it must run the restored instruction, from the
    // breakpoint's address, not go on from the middle of it.
    let StoppedAt { session: mut s, pid, address: bump, breakpoint: id } = stopped_at("counter", &["1000000"], "bump");
    s.continue_event(ContinueStatus::Handled).unwrap();
    // Not waiting: the thread hits the int3 again and sits in its trap.
    std::thread::sleep(std::time::Duration::from_millis(300));
    s.break_in(pid).unwrap();
    let stop = run_until(&mut s, |e| matches!(e.kind, EventKind::BreakIn | EventKind::Breakpoint { .. }));
    assert_eq!(s.registers(pid, pid).unwrap().rip, bump, "the thread shows at the breakpoint ({:?})", stop.kind);
    s.remove_breakpoint(id).unwrap();
    let first = s.disassemble(pid, bump, 1).unwrap();
    let next = bump + first[0].bytes.len() as u64;
    s.step_thread(pid, pid, ContinueStatus::Handled, OtherThreads::Stay).unwrap();
    let step = run_until(&mut s, |e| matches!(e.kind, EventKind::StepComplete { .. }));
    assert_eq!(step.kind, EventKind::StepComplete { address: next }, "one whole instruction from {bump:#x}");
    s.kill(pid).unwrap();
}
