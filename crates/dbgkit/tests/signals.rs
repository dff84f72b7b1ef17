//! Signals: handled or delivered as the user says, crashes seen twice before
//! death, stop and continue from outside as without a debugger, none lost.

mod common;

use common::*;
use dbgkit::{ContinueStatus, EventKind, Session, SpawnOptions, Stdio};
use std::time::Duration;

fn run_signals_fixture(status: ContinueStatus) -> String {
    let mut s = Session::new();
    let pid = s.spawn(&SpawnOptions::new([fixture("signals").to_str().unwrap()]).stdout(Stdio::Piped)).unwrap();
    let mut pipes = s.take_pipes(pid).unwrap();
    let e = run_until(&mut s, |e| matches!(e.kind, EventKind::Exception { .. }));
    let EventKind::Exception { signal, first_chance, .. } = e.kind else { unreachable!() };
    assert_eq!(signal, libc::SIGUSR1);
    assert!(first_chance);
    s.continue_event(status).unwrap();
    let events = run_to_exit(&mut s, pid);
    assert!(!events.iter().any(|e| matches!(e.kind, EventKind::Exception { .. })), "one signal, one event");
    read_all(&mut pipes.stdout)
}

#[test]
fn not_handled_delivers_the_signal_to_its_handler() {
    assert_eq!(run_signals_fixture(ContinueStatus::NotHandled).trim(), "handler ran");
}

#[test]
fn handled_suppresses_the_signal() {
    assert_eq!(run_signals_fixture(ContinueStatus::Handled).trim(), "handler did not run");
}

#[test]
fn status_that_does_not_fit_is_refused_and_the_event_stays() {
    let mut s = Session::new();
    let pid = s.spawn(&SpawnOptions::new([fixture("signals").to_str().unwrap()]).stdout(Stdio::Null)).unwrap();
    let e = next(&mut s);
    assert!(matches!(e.kind, EventKind::ProcessCreated { .. }));
    let err = s.continue_event(ContinueStatus::NotHandled).unwrap_err();
    assert_eq!(err.to_string(), "continue status NotHandled does not fit a process-created event");
    s.continue_event(ContinueStatus::Handled).unwrap();
    let err = s.continue_process(pid, ContinueStatus::Handled).unwrap_err();
    assert!(err.to_string().contains("no event is waiting"), "{err}");
    run_to_exit(&mut s, pid);
}

#[test]
fn crash_gives_first_then_second_chance_then_exit_by_sigsegv() {
    let mut s = Session::new();
    let pid = s.spawn(&SpawnOptions::new([fixture("crash").to_str().unwrap()]).stdout(Stdio::Null)).unwrap();
    let deref = exe_symbol(&s, pid, "deref");
    let first = run_until(&mut s, |e| matches!(e.kind, EventKind::Exception { .. }));
    let EventKind::Exception { signal, code, address, fault_address, first_chance, os_code, .. } = first.kind else {
        unreachable!()
    };
    assert_eq!((signal, code, fault_address, first_chance), (libc::SIGSEGV, 1, Some(0), true));
    assert_eq!(os_code, dbgkit::ExceptionCode::Signal(libc::SIGSEGV));
    assert!((deref..deref + 64).contains(&address), "faulting instruction {address:x} is in deref at {deref:x}");
    assert_eq!(s.registers(pid, pid).unwrap().rip, address);
    s.continue_event(ContinueStatus::NotHandled).unwrap();

    let second = next(&mut s);
    let EventKind::Exception { signal, code, address: again, fault_address, first_chance, .. } = second.kind else {
        panic!("a second chance, not {second:?}")
    };
    assert_eq!((signal, code, again, fault_address, first_chance), (libc::SIGSEGV, 1, address, Some(0), false));
    // Still alive and readable at the second chance.
    assert_eq!(s.registers(pid, pid).unwrap().rip, address);
    let mut code_bytes = [0u8; 4];
    s.read_memory(pid, address, &mut code_bytes).unwrap();
    s.continue_event(ContinueStatus::NotHandled).unwrap();

    let exit = next(&mut s);
    assert_eq!(exit.kind, EventKind::ProcessExited { code: None, signal: Some(libc::SIGSEGV) });
    s.continue_event(ContinueStatus::Handled).unwrap();
    assert!(s.processes().is_empty());
}

#[test]
fn stop_and_continue_from_outside_behave_as_without_a_debugger() {
    let mut s = Session::new();
    let pid =
        s.spawn(&SpawnOptions::new([fixture("worker").to_str().unwrap(), "3", "1.5"]).stdout(Stdio::Piped)).unwrap();
    let mut pipes = s.take_pipes(pid).unwrap();
    // Every thread exists before the stop (a clone under way would still report its thread).
    let mut created = 0;
    run_until(&mut s, |e| {
        created += matches!(e.kind, EventKind::ThreadCreated { .. }) as u32;
        created == 3
    });
    s.continue_event(ContinueStatus::Handled).unwrap();
    // SAFETY: signalling our own child.
    unsafe { libc::kill(pid, libc::SIGSTOP) };
    let e = run_until(&mut s, |e| matches!(e.kind, EventKind::Exception { .. }));
    assert!(matches!(e.kind, EventKind::Exception { signal: libc::SIGSTOP, .. }));
    s.continue_event(ContinueStatus::NotHandled).unwrap();
    // The process now sits in a group-stop: no event, no progress.
    let quiet = s.wait_event(Some(Duration::from_millis(300))).unwrap();
    assert!(quiet.is_none(), "{quiet:?}");
    let stopped_state = state(pid);
    assert!(stopped_state == "t" || stopped_state == "T", "state {stopped_state}");
    // SAFETY: signalling our own child.
    unsafe { libc::kill(pid, libc::SIGCONT) };
    let events = run_to_exit(&mut s, pid);
    assert!(events.iter().any(|e| matches!(e.kind, EventKind::Exception { signal: libc::SIGCONT, .. })));
    assert_eq!(read_all(&mut pipes.stdout).trim(), "started 3\nfinished 3 worked");
}

#[test]
fn no_signal_is_lost_while_breakpoints_fire_in_threads() {
    let mut s = Session::new();
    let pid =
        s.spawn(&SpawnOptions::new([fixture("sigcount").to_str().unwrap(), "200", "3"]).stdout(Stdio::Piped)).unwrap();
    let mut pipes = s.take_pipes(pid).unwrap();
    let hit = exe_symbol(&s, pid, "hit");
    s.add_fast_breakpoint(pid, hit, |_| dbgkit::HitAction::Continue).unwrap();
    s.set_signal_quiet(libc::SIGRTMIN() + 1, true);
    run_until(&mut s, |e| matches!(e.kind, EventKind::ThreadCreated { .. }));
    s.continue_event(ContinueStatus::Handled).unwrap();
    // Queue real-time signals from another thread while this one drives the session.
    let sender = std::thread::spawn(move || {
        for i in 0..200 {
            // SAFETY: queueing a signal to our child.
            let r = unsafe {
                libc::syscall(libc::SYS_rt_sigqueueinfo, pid, libc::SIGRTMIN() + 1, &{
                    let mut info: libc::siginfo_t = std::mem::zeroed();
                    info.si_signo = libc::SIGRTMIN() + 1;
                    info.si_code = -1; // SI_QUEUE
                    info
                }
                    as *const libc::siginfo_t)
            };
            assert_eq!(r, 0, "signal {i}");
            std::thread::sleep(Duration::from_micros(200));
        }
    });
    run_to_exit(&mut s, pid);
    sender.join().unwrap();
    assert_eq!(read_all(&mut pipes.stdout).trim(), "ready\nreceived 200");
}

/// `signal_other_thread` at its `marker()` hit, SIGUSR2 set for the other
/// (spinning) thread, which the debugger stopped.
fn spinner_given_sigusr2() -> (Session, i32, dbgkit::SpawnedPipes) {
    let mut s = Session::new();
    let exe = fixture("signal_other_thread");
    let pid = s.spawn(&SpawnOptions::new([exe.to_str().unwrap()]).stdout(Stdio::Piped)).unwrap();
    let pipes = s.take_pipes(pid).unwrap();
    s.add_breakpoint_at(pid, "marker", Default::default()).unwrap();
    let hit = run_until(&mut s, |e| matches!(e.kind, EventKind::Breakpoint { .. }));
    let spinner = s.threads(pid).unwrap().into_iter().find(|&t| t != hit.tid).expect("the spinning thread");
    s.set_thread_signal(pid, spinner, libc::SIGUSR2).unwrap();
    (s, pid, pipes)
}

#[test]
fn a_signal_given_to_a_thread_stopped_by_the_debugger_reaches_it() {
    // The spinning thread was stopped by the debugger (not by a signal of
    // its own): the signal set for it must still be delivered as it runs.
    let (mut s, pid, mut pipes) = spinner_given_sigusr2();
    s.continue_event(ContinueStatus::Handled).unwrap();
    let events = run_to_exit(&mut s, pid);
    assert!(
        !events.iter().any(|e| matches!(e.kind, EventKind::Exception { signal: libc::SIGUSR2, .. })),
        "the signal the debugger gave is delivered, not reported back"
    );
    assert_eq!(read_all(&mut pipes.stdout), "thread got SIGUSR2: yes\n");
}

#[test]
fn a_signal_given_to_a_thread_the_debugger_stopped_reaches_it_after_a_detach() {
    let (mut s, pid, mut pipes) = spinner_given_sigusr2();
    s.detach(pid).unwrap();
    assert_eq!(read_all(&mut pipes.stdout), "thread got SIGUSR2: yes\n");
}
