//! Breakpoints by expression: pending until their module loads (also after
//! dlopen), conditions and ignore counts evaluated in the engine.

mod common;

use common::*;
use dbgkit::{BreakpointOptions, ContinueStatus, Error, EventKind, HitAction, Session, SpawnOptions, Stdio};
use std::cell::Cell;
use std::rc::Rc;

#[test]
fn a_breakpoint_on_libc_socket_waits_for_libc_and_fires_before_it_runs() {
    let mut s = Session::new();
    let pid = s.spawn(&SpawnOptions::new([fixture("socket").to_str().unwrap()]).stdout(Stdio::Piped)).unwrap();
    let mut pipes = s.take_pipes(pid).unwrap();
    let id = s.add_breakpoint_at(pid, "libc.so.6!socket", Default::default()).unwrap();
    let info = s.breakpoint(id).unwrap();
    assert_eq!(info.unresolved.as_deref(), Some("no module named libc.so.6"), "pending before libc is loaded");
    let e = run_until(&mut s, |e| matches!(e.kind, EventKind::Breakpoint { .. }));
    let EventKind::Breakpoint { id: hit, address } = e.kind else { unreachable!() };
    assert_eq!(hit, id);
    assert_eq!(s.symbolize(pid, address).unwrap().to_string(), "libc.so.6!socket");
    let info = s.breakpoint(id).unwrap();
    assert_eq!((info.unresolved, info.address, info.hits), (None, address, 1));
    // rdi is AF_INET (2): the call has not run.
    assert_eq!(s.eval(pid, e.tid, "rdi").unwrap(), 2);
    s.continue_event(ContinueStatus::Handled).unwrap();
    run_to_exit(&mut s, pid);
    assert_eq!(read_all(&mut pipes.stdout).trim(), "socket opened");
}

#[test]
fn a_breakpoint_in_a_dlopened_library_comes_and_goes_with_it() {
    breakpoint_in_a_library_loaded_with(&[]);
}

#[test]
fn a_library_dlmopened_into_a_new_namespace_is_a_module_as_any_other() {
    // Its link_map is on a second r_debug, chained from the first by r_next.
    breakpoint_in_a_library_loaded_with(&["newlm"]);
}

fn breakpoint_in_a_library_loaded_with(how: &[&str]) {
    let mut s = Session::new();
    let lib = fixture("libfixture.so");
    let exe = fixture("dlopener");
    let argv = [exe.to_str().unwrap(), lib.to_str().unwrap()].into_iter().chain(how.iter().copied());
    let pid = s.spawn(&SpawnOptions::new(argv).stdout(Stdio::Piped)).unwrap();
    let mut pipes = s.take_pipes(pid).unwrap();
    let id = s.add_breakpoint_at(pid, "libfixture!fixture_function", Default::default()).unwrap();
    assert!(s.breakpoint(id).unwrap().unresolved.is_some());
    let mut hits = 0;
    let mut unloaded_reason = None;
    loop {
        let e = next(&mut s);
        match &e.kind {
            EventKind::Breakpoint { id: hit, .. } => {
                assert_eq!(*hit, id);
                hits += 1;
                assert_eq!(s.eval(pid, e.tid, "rdi").unwrap(), 1, "fixture_function(1)");
            }
            EventKind::ModuleUnloaded(m) if m.name == "libfixture.so" => {
                unloaded_reason = s.breakpoint(id).unwrap().unresolved;
            }
            EventKind::ProcessExited { .. } => {
                s.continue_event(ContinueStatus::Handled).unwrap();
                break;
            }
            _ => {}
        }
        s.continue_event(default_status(&e)).unwrap();
    }
    assert_eq!(hits, 1);
    assert_eq!(unloaded_reason.as_deref(), Some("module libfixture.so was unloaded"));
    assert_eq!(read_all(&mut pipes.stdout).trim(), "fixture_function(1)=43\nunloaded");
}

#[test]
fn conditions_and_ignore_counts_give_exact_hit_numbers_across_threads() {
    let mut s = Session::new();
    let exe = fixture("threads");
    let pid = s.spawn(&SpawnOptions::new([exe.to_str().unwrap(), "4", "100"]).stdout(Stdio::Null)).unwrap();
    // Reported only when hit(7): once per thread.
    let seven = s.add_breakpoint_at(pid, "hit", BreakpointOptions::default().condition("rdi == 7")).unwrap();
    // A fast breakpoint whose condition is false most of the time: the callback sees only i < 10.
    let called = Rc::new(Cell::new(0));
    let c = called.clone();
    let fast = s
        .add_breakpoint_at(
            pid,
            "hit",
            BreakpointOptions::default().condition("@rdi < 0n10 && poi(rsp) != 0").callback(move |_| {
                c.set(c.get() + 1);
                HitAction::Continue
            }),
        )
        .unwrap();
    // Skips the first 390 hits, reports the last 10.
    let late = s.add_breakpoint_at(pid, "threads!hit", BreakpointOptions::default().ignore_count(390)).unwrap();
    let mut reported = std::collections::HashMap::new();
    for e in run_to_exit(&mut s, pid) {
        if let EventKind::Breakpoint { id, .. } = e.kind {
            *reported.entry(id).or_insert(0) += 1;
        }
    }
    assert_eq!(reported.get(&seven), Some(&4));
    assert_eq!(reported.get(&late), Some(&10));
    assert_eq!(reported.get(&fast), None);
    assert_eq!(called.get(), 40);
}

#[test]
fn bad_expressions_are_clear_errors() {
    let mut s = Session::new();
    let pid = s.spawn(&SpawnOptions::new([fixture("counter").to_str().unwrap(), "1"]).stdout(Stdio::Null)).unwrap();
    let err = s.add_breakpoint_at(pid, "main +", Default::default()).unwrap_err();
    assert!(matches!(err, Error::BadExpression { .. }), "{err}");
    assert!(err.to_string().contains("column 7"), "{err}");
    let err = s.add_breakpoint_at(pid, "main", BreakpointOptions::default().condition("rdi ==")).unwrap_err();
    assert!(err.to_string().contains("rdi =="), "{err}");
    assert!(s.breakpoints().is_empty(), "nothing half-made is left");
    // An unknown name stays pending and says why.
    let id = s.add_breakpoint_at(pid, "no_such_function", Default::default()).unwrap();
    assert_eq!(s.breakpoint(id).unwrap().unresolved.as_deref(), Some("symbol not found: no_such_function"));
    let e = next(&mut s);
    let err = s.eval(pid, e.tid, "poi(0)").unwrap_err();
    assert!(err.to_string().contains("not mapped"), "{err}");
    assert_eq!(s.eval(pid, e.tid, "main - main + 0n10 * 2").unwrap(), 20);
    s.continue_event(ContinueStatus::Handled).unwrap();
    let events = run_to_exit(&mut s, pid);
    assert!(!events.iter().any(|e| matches!(e.kind, EventKind::Breakpoint { .. })));
    assert_eq!(s.breakpoint(id), None);
}

/// Every process keeps its own loader hooks, whatever the others do: two
/// `dlopener`s run side by side (one held at its initial libraries while
/// the other runs to its end) both report the library they load.
#[test]
fn loader_hooks_of_one_process_survive_others_ending() {
    let lib = fixture("libfixture.so");
    let mut s = Session::new();
    let spawn = |s: &mut Session| {
        s.spawn(&SpawnOptions::new([fixture("dlopener").to_str().unwrap(), lib.to_str().unwrap()]).stdout(Stdio::Null))
            .unwrap()
    };
    let a = spawn(&mut s);
    let b = spawn(&mut s);
    let mut loaded = std::collections::HashSet::new();
    let mut exited = std::collections::HashSet::new();
    let mut a_held = None;
    while exited.len() < 2 {
        let e = next(&mut s);
        match &e.kind {
            EventKind::ModuleLoaded(m) if m.name == "libfixture.so" => {
                loaded.insert(e.pid);
            }
            // A waits at its initial libraries until B is gone.
            EventKind::ModuleLoaded(m)
                if m.name == "libc.so.6" && e.pid == a && a_held.is_none() && !exited.contains(&b) =>
            {
                a_held = Some(e);
                continue;
            }
            EventKind::ProcessExited { .. } => {
                exited.insert(e.pid);
            }
            _ => {}
        }
        s.continue_process(e.pid, ContinueStatus::Handled).unwrap();
        if exited.contains(&b) && a_held.take().is_some() {
            s.continue_process(a, ContinueStatus::Handled).unwrap();
        }
    }
    assert!(loaded.contains(&a) && loaded.contains(&b), "both report their dlopen: {loaded:?} of {a} and {b}");
}
