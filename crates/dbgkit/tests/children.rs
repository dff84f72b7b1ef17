//! Following children (`Session::set_follow_children`): every way a
//! program starts a process gives a process of the session with its own
//! events; breakpoints belong to the process they were set in.

mod common;

use common::*;
use dbgkit::{Event, EventKind, Session, SpawnOptions, Stdio};
use std::collections::{BTreeMap, BTreeSet};

/// Runs every process of the session to its end; returns every event seen.
fn run_all(s: &mut Session, mut on_event: impl FnMut(&mut Session, &Event)) -> Vec<Event> {
    let mut events = Vec::new();
    let mut live = BTreeSet::new();
    loop {
        let event = next(s);
        match event.kind {
            EventKind::ProcessCreated { .. } => {
                live.insert(event.pid);
            }
            EventKind::ProcessExited { .. } => {
                live.remove(&event.pid);
            }
            _ => {}
        }
        on_event(s, &event);
        s.continue_event(default_status(&event)).unwrap();
        events.push(event);
        if live.is_empty() {
            return events;
        }
    }
}

/// The forker fixture launched with its children followed.
fn forker_followed() -> (Session, i32, dbgkit::SpawnedPipes) {
    let mut s = Session::new();
    s.set_follow_children(true);
    let exe = fixture("forker");
    let pid = s.spawn(&SpawnOptions::new([exe.to_str().unwrap()]).stdout(Stdio::Piped)).unwrap();
    let pipes = s.take_pipes(pid).unwrap();
    (s, pid, pipes)
}

/// (process, breakpoint id) of every breakpoint hit, in order.
fn breakpoint_hits(events: &[Event]) -> Vec<(i32, u32)> {
    events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::Breakpoint { id, .. } => Some((e.pid, id)),
            _ => None,
        })
        .collect()
}

#[test]
fn every_kind_of_child_is_followed_with_its_own_events() {
    let mut s = Session::new();
    s.set_follow_children(true);
    let exe = fixture("spawner");
    let pid = s.spawn(&SpawnOptions::new([exe.to_str().unwrap()]).stdout(Stdio::Piped)).unwrap();
    let mut pipes = s.take_pipes(pid).unwrap();
    let events = run_all(&mut s, |_, _| {});
    let mut created = Vec::new();
    let mut exits = BTreeMap::new();
    let mut execs = BTreeSet::new();
    let mut forks = Vec::new();
    for e in &events {
        match &e.kind {
            EventKind::ProcessCreated { .. } => created.push(e.pid),
            EventKind::ProcessExited { code, .. } => {
                exits.insert(e.pid, *code);
            }
            EventKind::Exec { .. } => {
                execs.insert(e.pid);
            }
            EventKind::Fork { child, .. } => forks.push(*child),
            EventKind::ModuleLoaded(_) | EventKind::ThreadCreated { .. } | EventKind::ThreadExited { .. } => {}
            _ => {}
        }
        // A child's first event is its ProcessCreated.
        assert!(created.contains(&e.pid), "an event of a process not created yet: {e:?}");
    }
    let children: Vec<i32> = created.iter().copied().filter(|&p| p != pid).collect();
    assert_eq!(children, forks, "one ProcessCreated per Fork, in order: {events:#?}");
    assert_eq!(children.len(), 4, "posix_spawn, vfork, system and clone: {events:#?}");
    let codes: Vec<Option<i32>> = children.iter().map(|c| exits.get(c).copied().flatten()).collect();
    assert_eq!(codes, [Some(2), Some(3), Some(4), Some(6)]);
    // All but the clone (which runs a function) replace their image.
    assert_eq!(execs, children[..3].iter().copied().collect());
    // The inherited libraries are reported for a child, as they are for its parent.
    let child_modules: Vec<String> = events
        .iter()
        .filter(|e| e.pid == children[3])
        .filter_map(|e| match &e.kind {
            EventKind::ModuleLoaded(m) => Some(m.name.clone()),
            _ => None,
        })
        .collect();
    assert!(child_modules.iter().any(|m| m == "libc.so.6"), "{child_modules:?}");
    assert_eq!(exits[&pid], Some(0));
    assert_eq!(read_all(&mut pipes.stdout), "posix_spawn 2\nvfork 3\nsystem 4\nclone 6\n");
}

#[test]
fn without_following_children_run_on_their_own() {
    let mut s = Session::new();
    let exe = fixture("spawner");
    let pid = s.spawn(&SpawnOptions::new([exe.to_str().unwrap()]).stdout(Stdio::Piped)).unwrap();
    let mut pipes = s.take_pipes(pid).unwrap();
    let events = run_to_exit(&mut s, pid);
    assert!(events.iter().all(|e| e.pid == pid), "{events:#?}");
    assert_eq!(events.iter().filter(|e| matches!(e.kind, EventKind::Fork { .. })).count(), 4);
    assert_eq!(read_all(&mut pipes.stdout), "posix_spawn 2\nvfork 3\nsystem 4\nclone 6\n");
}

#[test]
fn a_breakpoint_belongs_to_its_process_and_a_child_gets_its_own() {
    let (mut s, pid, mut pipes) = forker_followed();
    let hit = exe_symbol(&s, pid, "hit");
    let parent_bp = s.add_breakpoint(pid, hit).unwrap();
    let mut child_bp = None;
    let events = run_all(&mut s, |s, e| {
        if e.pid != pid && matches!(e.kind, EventKind::ProcessCreated { .. }) {
            // The child has none of its parent's breakpoints: give it one of its own.
            assert!(s.breakpoints().iter().all(|b| b.pid == pid));
            child_bp = Some((e.pid, s.add_breakpoint_at(e.pid, "hit", Default::default()).unwrap()));
        }
    });
    let (child, child_bp) = child_bp.expect("the child was reported");
    let hits = breakpoint_hits(&events);
    assert_eq!(hits, [(pid, parent_bp), (child, child_bp), (pid, parent_bp)], "{events:#?}");
    let child_exit = events.iter().find(|e| e.pid == child && matches!(e.kind, EventKind::ProcessExited { .. }));
    assert!(matches!(child_exit.map(|e| &e.kind), Some(EventKind::ProcessExited { code: Some(3), .. })));
    assert_eq!(read_all(&mut pipes.stdout), "child exited 3, parent hits 2\n");
}

#[test]
fn a_breakpoint_for_all_processes_is_copied_into_each_child() {
    let (mut s, pid, mut pipes) = forker_followed();
    let parent_bp = s.add_breakpoint_at(pid, "hit", dbgkit::BreakpointOptions::default().all_processes(true)).unwrap();
    let mut copies = Vec::new();
    let events = run_all(&mut s, |s, e| {
        if e.pid != pid && matches!(e.kind, EventKind::ProcessCreated { .. }) {
            copies = s.breakpoints().into_iter().filter(|b| b.pid == e.pid).collect();
        }
    });
    assert_eq!(copies.len(), 1, "{copies:#?}");
    let copy = &copies[0];
    assert!(copy.all_processes && copy.id != parent_bp && copy.expression.as_deref() == Some("hit"));
    let hits = breakpoint_hits(&events);
    assert_eq!(hits, [(pid, parent_bp), (copy.pid, copy.id), (pid, parent_bp)], "{events:#?}");
    assert_eq!(read_all(&mut pipes.stdout), "child exited 3, parent hits 2\n");
}

#[test]
fn a_vfork_child_gets_breakpoints_by_name_in_the_program_it_executes() {
    let mut s = Session::new();
    s.set_follow_children(true);
    let exe = fixture("spawner");
    let pid = s.spawn(&SpawnOptions::new([exe.to_str().unwrap()]).stdout(Stdio::Null)).unwrap();
    let options = dbgkit::BreakpointOptions::default().all_processes(true);
    s.add_breakpoint_at(pid, "libc.so.6!__libc_start_main", options).unwrap();
    let events = run_all(&mut s, |_, _| {});
    let execs: Vec<i32> = events.iter().filter(|e| matches!(e.kind, EventKind::Exec { .. })).map(|e| e.pid).collect();
    let hits: Vec<i32> =
        events.iter().filter(|e| matches!(e.kind, EventKind::Breakpoint { .. })).map(|e| e.pid).collect();
    // The parent starts (it was launched before its libc loaded), then each
    // of the three programs its shell children execute starts once.
    assert_eq!(execs.len(), 3, "{events:#?}");
    assert_eq!(hits[0], pid);
    assert_eq!(hits[1..], execs, "{events:#?}");
    let exits: Vec<Option<i32>> = events
        .iter()
        .filter(|e| e.pid != pid)
        .filter_map(|e| match e.kind {
            EventKind::ProcessExited { code, .. } => Some(code),
            _ => None,
        })
        .collect();
    assert_eq!(exits, [Some(2), Some(3), Some(4), Some(6)]);
}

#[test]
fn letting_a_vfork_child_go_leaves_its_parent_s_scratch_memory_alone() {
    // A vfork child borrows its parent's memory, scratch pages included:
    // detaching it must not unmap them, or the parent's next out-of-line
    // step over a breakpoint faults.
    let mut s = Session::new();
    s.set_follow_children(true);
    let exe = fixture("spawner");
    let pid = s.spawn(&SpawnOptions::new([exe.to_str().unwrap()]).stdout(Stdio::Null)).unwrap();
    s.add_breakpoint_at(pid, "libc.so.6!waitpid", dbgkit::BreakpointOptions::default()).unwrap();
    let mut waits = 0;
    let mut vforks = 0;
    loop {
        let event = next(&mut s);
        match event.kind {
            EventKind::Fork { child, vfork: true } if event.pid == pid => {
                vforks += 1;
                s.detach(child).unwrap();
            }
            EventKind::Breakpoint { .. } if event.pid == pid => waits += 1,
            EventKind::ProcessExited { code, signal } if event.pid == pid => {
                assert_eq!((code, signal), (Some(0), None), "the parent ends well");
                break;
            }
            _ => {}
        }
        s.continue_process(event.pid, default_status(&event)).unwrap();
    }
    assert!(vforks >= 2, "posix_spawn and vfork share memory with the parent: {vforks}");
    assert_eq!(waits, 4, "every waitpid call stopped");
}

/// While a vfork child runs in its parent's memory the breakpoint bytes are
/// out of it; the parent's other threads must not run past their
/// breakpoints meanwhile. Each of main's calls to `tick` is a hit, whether
/// the children are let go at once or followed (and held at their first
/// event until continued).
#[test]
fn no_thread_runs_past_a_breakpoint_while_a_vfork_child_borrows_the_memory() {
    for follow in [false, true] {
        let mut s = Session::new();
        s.set_follow_children(follow);
        let exe = fixture("vfork_threads");
        let pid = s.spawn(&SpawnOptions::new([exe.to_str().unwrap()]).stdout(Stdio::Piped)).unwrap();
        let mut pipes = s.take_pipes(pid).unwrap();
        let tick = exe_symbol(&s, pid, "tick");
        let bp = s.add_breakpoint(pid, tick).unwrap();
        let events = run_all(&mut s, |_, _| {});
        let vforks = events.iter().filter(|e| matches!(e.kind, EventKind::Fork { vfork: true, .. })).count();
        assert_eq!(vforks, 8, "follow={follow}");
        let hits = breakpoint_hits(&events);
        assert_eq!(hits.len(), 40, "follow={follow}: every call to tick is a hit");
        assert!(hits.iter().all(|&h| h == (pid, bp)));
        assert_eq!(read_all(&mut pipes.stdout), "ticks 40\n");
    }
}

#[test]
fn detaching_a_vfork_parent_while_its_child_is_held_does_not_wait_for_the_child() {
    // The parent's only thread is in vfork until the held child lets go: no
    // code can be run in it meanwhile (the scratch pages, which the child
    // may still run in, stay). Detaching both lets the program finish.
    let mut s = Session::new();
    s.set_follow_children(true);
    let exe = fixture("spawner");
    let pid = s.spawn(&SpawnOptions::new([exe.to_str().unwrap()]).stdout(Stdio::Piped)).unwrap();
    let mut pipes = s.take_pipes(pid).unwrap();
    // Planted out of line: the parent gets a scratch page.
    s.add_breakpoint_at(pid, "libc.so.6!waitpid", dbgkit::BreakpointOptions::default()).unwrap();
    let child = loop {
        let event = next(&mut s);
        if let (EventKind::Fork { child, vfork: true }, true) = (&event.kind, event.pid == pid) {
            break *child;
        }
        s.continue_process(event.pid, default_status(&event)).unwrap();
    };
    let (done, finished) = std::sync::mpsc::channel();
    let watchdog = std::thread::spawn(move || {
        if finished.recv_timeout(std::time::Duration::from_secs(20)).is_err() {
            eprintln!("detaching the vfork parent hung");
            std::process::exit(1);
        }
    });
    s.detach(pid).unwrap();
    s.detach(child).unwrap();
    done.send(()).unwrap();
    watchdog.join().unwrap();
    assert_eq!(read_all(&mut pipes.stdout), "posix_spawn 2\nvfork 3\nsystem 4\nclone 6\n");
}
