//! The remote target against Debian's stock gdbserver: a program started
//! by `gdbserver --once`, debugged through the GDB remote protocol.

mod common;
#[path = "support/gdbserver.rs"]
mod gdbserver;

use common::*;
use dbgkit::{ContinueStatus, EventKind, Session};
use gdbserver::Gdbserver;

/// Connects and takes the replayed events up to the initial break-in.
fn connect(session: &mut Session, server: &Gdbserver) -> (i32, Vec<dbgkit::Event>) {
    let pid = session.connect(&server.address(), None).expect("connect");
    let mut events = Vec::new();
    loop {
        let e = next(session);
        let done = matches!(e.kind, EventKind::BreakIn);
        events.push(e);
        if done {
            return (pid, events);
        }
        session.continue_event(ContinueStatus::Handled).unwrap();
    }
}

#[test]
fn breakpoint_by_name_stack_and_exit() {
    let exe = fixture("counter");
    let server = Gdbserver::start(&exe, &["3"]);
    let mut s = Session::new();
    let (pid, events) = connect(&mut s, &server);
    assert!(matches!(events[0].kind, EventKind::ProcessCreated { .. }), "{events:?}");
    assert_eq!(s.target_kind(pid).unwrap(), "remote process");
    let bp = s.add_breakpoint_at(pid, "counter!bump", Default::default()).unwrap();
    s.continue_event(ContinueStatus::Handled).unwrap();
    let mut hits = 0;
    loop {
        let e = next(&mut s);
        match &e.kind {
            EventKind::Breakpoint { id, .. } => {
                assert_eq!(*id, bp);
                let regs = s.registers(pid, e.tid).unwrap();
                assert_eq!(regs.rdi, hits, "bump's argument");
                let stack = s.stack(pid, e.tid).unwrap();
                let names: Vec<String> =
                    stack.frames.iter().map(|f| f.symbol.as_ref().map(|s| s.to_string()).unwrap_or_default()).collect();
                assert!(names[0].starts_with("counter!bump"), "{names:?}");
                assert!(names[1].starts_with("counter!main"), "{names:?}");
                hits += 1;
            }
            EventKind::ProcessExited { code, .. } => {
                assert_eq!(*code, Some(0));
                s.continue_event(ContinueStatus::Handled).unwrap();
                break;
            }
            _ => {}
        }
        s.continue_event(ContinueStatus::Handled).unwrap();
    }
    assert_eq!(hits, 3);
}
