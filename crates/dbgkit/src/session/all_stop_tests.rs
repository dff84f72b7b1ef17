//! The event dispatch and all-stop logic as a state machine, on the fake
//! target: which threads are stopped when an event is reported, which
//! stops are held and reported later, and how the engine's technique
//! follows the target's capabilities. (Real programs test the same paths
//! end to end in `tests/`.)

use super::Session;
use crate::error::Error;
use crate::event::{ContinueStatus, Event, EventKind};
use crate::target::fake::{Action, Fake};
use std::time::Duration;

const PID: i32 = 100;
const CODE: u64 = 0x1000;

fn session_on(fake: &Fake) -> Session {
    let mut s = Session::new();
    let pid = s.adopt_target(Box::new(fake.clone()), Some(fake.events())).expect("the fake is adopted");
    assert_eq!(pid, PID);
    s
}

fn next(s: &mut Session) -> Event {
    s.wait_event(Some(Duration::from_millis(200))).expect("wait_event").expect("an event")
}

/// Continues the replayed creation events until the process runs.
fn run_past_creation(s: &mut Session) {
    loop {
        let e = next(s);
        assert!(matches!(e.kind, EventKind::ProcessCreated { .. } | EventKind::ThreadCreated { .. }), "{e:?}");
        s.continue_event(ContinueStatus::Handled).unwrap();
        if s.process(PID).unwrap().queued.is_empty() {
            return;
        }
    }
}

fn all_stopped(fake: &Fake, tids: &[i32]) -> bool {
    tids.iter().all(|&t| !fake.running(t))
}

#[test]
fn a_hit_is_reported_with_every_thread_stopped_and_the_byte_stays_planted() {
    let fake = Fake::new(PID, &[PID, 101, 102], CODE);
    let mut s = session_on(&fake);
    let id = s.add_breakpoint(PID, CODE + 0x10).unwrap();
    assert_eq!(fake.code_byte(CODE + 0x10), 0xCC);
    fake.script(101, &[Action::Jump(CODE + 0x0f), Action::Jump(CODE + 0x10), Action::Jump(CODE + 0x11)]);
    run_past_creation(&mut s);

    let e = next(&mut s);
    assert_eq!(e.kind, EventKind::Breakpoint { id, address: CODE + 0x10 });
    assert_eq!(e.tid, 101);
    assert!(all_stopped(&fake, &[PID, 101, 102]), "all-stop: {:?}", fake.log());
    assert_eq!(s.registers(PID, 101).unwrap().rip, CODE + 0x10, "rewound onto the breakpoint");

    // No code injection: no scratch memory, so the classic step-over.
    s.continue_event(ContinueStatus::Handled).unwrap();
    assert!(fake.log().iter().any(|l| l == "resume 101 Step 0"), "{:?}", fake.log());
    assert_eq!(fake.code_byte(CODE + 0x10), 0xCC, "planted again after the step");
    assert_eq!(fake.pc_of(101), CODE + 0x11);
    assert!(fake.running(PID) && fake.running(101) && fake.running(102));
    assert_eq!(s.breakpoint(id).unwrap().hits, 1);
}

#[test]
fn a_second_hit_that_races_the_interrupt_is_held_and_reported_next() {
    let fake = Fake::new(PID, &[PID, 101, 102], CODE);
    let mut s = session_on(&fake);
    let id = s.add_breakpoint(PID, CODE + 0x20).unwrap();
    fake.script(101, &[Action::Jump(CODE + 0x20), Action::Jump(CODE + 0x21)]);
    // Thread 102 reaches the same breakpoint before the all-stop's interrupt lands.
    fake.script_imminent(102, &[Action::Jump(CODE + 0x20), Action::Jump(CODE + 0x21)]);
    run_past_creation(&mut s);

    let first = next(&mut s);
    assert_eq!((first.tid, &first.kind), (101, &EventKind::Breakpoint { id, address: CODE + 0x20 }));
    assert!(all_stopped(&fake, &[PID, 101, 102]));
    s.continue_event(ContinueStatus::Handled).unwrap();

    let second = next(&mut s);
    assert_eq!((second.tid, &second.kind), (102, &EventKind::Breakpoint { id, address: CODE + 0x20 }));
    assert!(all_stopped(&fake, &[PID, 101, 102]), "all-stop again: {:?}", fake.log());
    s.continue_event(ContinueStatus::Handled).unwrap();
    assert_eq!(s.breakpoint(id).unwrap().hits, 2, "each hit counted once");
    assert!(s.wait_event(Some(Duration::from_millis(50))).unwrap().is_none(), "no third event");
}

#[test]
fn a_thread_that_exits_while_others_stop_is_reported_after_the_event() {
    let fake = Fake::new(PID, &[PID, 101, 102], CODE);
    let mut s = session_on(&fake);
    let id = s.add_breakpoint(PID, CODE + 0x30).unwrap();
    fake.script(101, &[Action::Jump(CODE + 0x30), Action::Jump(CODE + 0x31)]);
    fake.script_imminent(102, &[Action::Exit(7)]);
    run_past_creation(&mut s);

    assert_eq!(next(&mut s).kind, EventKind::Breakpoint { id, address: CODE + 0x30 });
    assert!(s.threads(PID).unwrap().contains(&102), "not reported gone before its event");
    s.continue_event(ContinueStatus::Handled).unwrap();
    let exit = next(&mut s);
    assert_eq!((exit.tid, exit.kind), (102, EventKind::ThreadExited { code: 7 }));
    s.continue_event(ContinueStatus::Handled).unwrap();
    assert!(!s.threads(PID).unwrap().contains(&102));
}

#[test]
fn a_fault_gets_a_second_chance_then_is_delivered() {
    let fake = Fake::new(PID, &[PID], CODE);
    let mut s = session_on(&fake);
    fake.script(PID, &[Action::Jump(CODE), Action::Raise(crate::signal_numbers::SIGSEGV)]);
    run_past_creation(&mut s);

    let first = next(&mut s);
    assert!(matches!(
        first.kind,
        EventKind::Exception { signal: crate::signal_numbers::SIGSEGV, first_chance: true, .. }
    ));
    s.continue_event(ContinueStatus::NotHandled).unwrap();
    let second = next(&mut s);
    assert!(matches!(
        second.kind,
        EventKind::Exception { signal: crate::signal_numbers::SIGSEGV, first_chance: false, .. }
    ));
    assert!(fake.delivered(PID).is_empty(), "nothing delivered before the last look");
    s.continue_event(ContinueStatus::NotHandled).unwrap();
    assert_eq!(fake.delivered(PID), [crate::signal_numbers::SIGSEGV]);
}

#[test]
fn a_handled_signal_is_suppressed_and_a_group_stop_listens() {
    let fake = Fake::new(PID, &[PID], CODE);
    let mut s = session_on(&fake);
    fake.script(
        PID,
        &[Action::Raise(crate::signal_numbers::SIGUSR1), Action::GroupStop(crate::signal_numbers::SIGSTOP)],
    );
    run_past_creation(&mut s);
    assert!(matches!(next(&mut s).kind, EventKind::Exception { signal: crate::signal_numbers::SIGUSR1, .. }));
    s.continue_event(ContinueStatus::Handled).unwrap();
    assert!(s.wait_event(Some(Duration::from_millis(50))).unwrap().is_none(), "a group-stop is no event");
    assert!(fake.delivered(PID).is_empty());
    assert!(fake.log().iter().any(|l| l == &format!("resume {PID} Listen 0")), "{:?}", fake.log());
}

#[test]
fn a_new_thread_is_reported_and_stops_with_the_rest() {
    let fake = Fake::new(PID, &[PID], CODE);
    let mut s = session_on(&fake);
    let id = s.add_breakpoint(PID, CODE + 0x40).unwrap();
    fake.script(PID, &[Action::Spawn(101)]);
    fake.script(101, &[Action::Jump(CODE + 0x40), Action::Jump(CODE + 0x41)]);
    run_past_creation(&mut s);

    let created = next(&mut s);
    assert_eq!(created.tid, 101);
    assert!(matches!(created.kind, EventKind::ThreadCreated { .. }));
    assert!(all_stopped(&fake, &[PID, 101]));
    s.continue_event(ContinueStatus::Handled).unwrap();
    let hit = next(&mut s);
    assert_eq!((hit.tid, hit.kind), (101, EventKind::Breakpoint { id, address: CODE + 0x40 }));
}

#[test]
fn breakpoints_a_target_owns_are_planted_by_it_and_never_written() {
    let fake = Fake::new(PID, &[PID], CODE).owning_breakpoints();
    let mut s = session_on(&fake);
    let id = s.add_breakpoint(PID, CODE + 0x50).unwrap();
    assert_eq!(fake.code_byte(CODE + 0x50), 0x90, "the engine wrote no byte");
    assert_eq!(fake.owned_breakpoints(), [CODE + 0x50]);
    let there_and_on = [Action::Jump(CODE + 0x50), Action::Jump(CODE + 0x51)];
    fake.script(PID, &[there_and_on.clone(), there_and_on].concat());
    run_past_creation(&mut s);

    for round in 0..2 {
        let hit = next(&mut s);
        assert_eq!(hit.kind, EventKind::Breakpoint { id, address: CODE + 0x50 }, "round {round}");
        assert_eq!(s.registers(PID, PID).unwrap().rip, CODE + 0x50);
        s.continue_event(ContinueStatus::Handled).unwrap();
        assert_eq!(fake.owned_breakpoints(), [CODE + 0x50], "put back after the step over it");
    }
    s.remove_breakpoint(id).unwrap_or_else(|e| panic!("{e}: {:?}", fake.log()));
    assert!(fake.owned_breakpoints().is_empty());
    assert_eq!(fake.code_byte(CODE + 0x50), 0x90);
}

#[test]
fn a_read_only_target_refuses_what_needs_a_capability_clearly() {
    let fake = Fake::new(PID, &[PID, 101], CODE).read_only();
    let mut s = Session::new();
    s.adopt_target(Box::new(fake.clone()), None).unwrap();
    assert!(matches!(next(&mut s).kind, EventKind::ProcessCreated { .. }));

    // What every target does still works.
    assert_eq!(s.registers(PID, 101).unwrap().rip, CODE);
    let mut byte = [0u8; 1];
    s.read_memory(PID, CODE, &mut byte).unwrap();
    assert_eq!(byte, [0x90]);

    let refused = |r: crate::Result<u32>| match r {
        Err(e @ Error::NotSupported { .. }) => e.to_string(),
        other => panic!("expected NotSupported, got {other:?}"),
    };
    let text = refused(s.add_breakpoint(PID, CODE));
    assert!(text.contains("not supported by this target (fake core file)"), "{text}");
    refused(s.add_watchpoint(PID, CODE, 8, crate::WatchAccess::Write));
    assert!(matches!(s.write_memory(PID, CODE, &[1]), Err(Error::NotSupported { .. })));
    assert!(matches!(s.allocate_memory(PID, 4096, Default::default(), None), Err(Error::NotSupported { .. })));
    assert_eq!(fake.code_byte(CODE), 0x90, "nothing written");
}
