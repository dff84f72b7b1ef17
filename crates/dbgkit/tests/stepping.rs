//! Stepping as engine thread plans (`Session::step`): instruction and
//! source-line steps, into and over calls, out of functions, to an address;
//! the stops compared with gdb's `step`/`next`/`finish` on the same program.

mod common;

use common::{fixture, next, run_until};
use dbgkit::{ContinueStatus, Event, EventKind, Session, SpawnOptions, Stdio, StepKind, StepOptions};
use std::process::Command;

/// Where a thread is: its function and source line.
fn place(s: &mut Session, e: &Event) -> (String, u32) {
    let pc = s.registers(e.pid, e.tid).unwrap().rip;
    let at = s.symbolize(e.pid, pc).unwrap();
    (at.symbol.unwrap_or_default(), at.location.map(|l| l.line).unwrap_or(0))
}

/// Runs `stepper` to a breakpoint at `line`, then does each step; the place of every stop.
fn dbgkit_stops(line: u32, steps: &[StepKind]) -> Vec<(String, u32)> {
    let mut s = Session::new();
    let pid = s
        .spawn(&SpawnOptions::new([fixture("stepper").to_str().unwrap()]).stdout(Stdio::Null).disable_aslr(true))
        .unwrap();
    let bp = s.add_breakpoint_at(pid, &format!("stepper.c:{line}"), Default::default()).unwrap();
    let e = run_until(&mut s, |e| matches!(e.kind, EventKind::Breakpoint { id, .. } if id == bp));
    let mut stops = vec![place(&mut s, &e)];
    let mut tid = e.tid;
    for &kind in steps {
        s.step(pid, tid, kind, StepOptions::default()).unwrap();
        let e = next(&mut s);
        assert!(
            matches!(e.kind, EventKind::StepComplete { .. } | EventKind::Breakpoint { .. }),
            "a step ends with its completion or a breakpoint: {e:?}"
        );
        tid = e.tid;
        stops.push(place(&mut s, &e));
    }
    s.kill(pid).unwrap();
    stops
}

/// The same under gdb: `break stepper.c:LINE`, `run`, then the commands;
/// the place of every stop, read from gdb's output.
fn gdb_stops(line: u32, commands: &[&str]) -> Option<Vec<(String, u32)>> {
    let mut cmd = Command::new("gdb");
    cmd.args(["-batch", "-nx", "-ex", &format!("break stepper.c:{line}"), "-ex", "run"]);
    for c in commands {
        cmd.args(["-ex", c]);
    }
    let out = cmd.arg(fixture("stepper")).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut stops = Vec::new();
    let mut function = String::new();
    for l in text.lines() {
        // `leaf (x=1) at .../stepper.c:9` or `Breakpoint 1, main () at .../stepper.c:25`: a frame line.
        let frame = l.rsplit_once(", ").map(|(_, f)| f).unwrap_or(l);
        if let Some((head, at)) = frame.split_once(" at ") {
            if let Some((_, n)) = at.rsplit_once(':') {
                if at.contains("stepper.c") && n.parse::<u32>().is_ok() {
                    function = head.split(" (").next().unwrap_or(head).rsplit(' ').next().unwrap_or("").to_string();
                    stops.push((function.clone(), n.parse().unwrap()));
                    continue;
                }
            }
        }
        // `26\t    r += ...`: a line of the same function.
        if let Some((n, _)) = l.split_once('\t') {
            if let Ok(n) = n.trim().parse::<u32>() {
                let repeat =
                    stops.last().is_some_and(|(f, m)| *f == function && *m == n && l.contains("Value returned"));
                if !repeat {
                    stops.push((function.clone(), n));
                }
            }
        }
    }
    // A frame line is followed by its source line: keep one stop for both.
    stops.dedup();
    Some(stops)
}

fn line_of(text: &str) -> u32 {
    let source = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/stepper.c"),
    )
    .unwrap();
    source.lines().position(|l| l.contains(text)).unwrap_or_else(|| panic!("no line {text:?}")) as u32 + 1
}

#[test]
fn next_step_and_finish_stop_where_gdbs_do() {
    let start = line_of("int r = middle(1);");
    use StepKind::*;
    let ours = dbgkit_stops(start, &[OverLine, OverLine, Line, Line, Out, OverLine, OverLine]);
    let expected = |f: &str, text: &str| (f.to_string(), line_of(text));
    assert_eq!(
        ours,
        [
            expected("main", "int r = middle(1);"),
            expected("main", "r += nodebug_twice(r);"),
            expected("main", "r += recurse(3);"),
            expected("recurse", "if (n == 0) return 0;"),
            expected("recurse", "return 1 + recurse(n - 1);"),
            expected("main", "r += recurse(3);"),
            expected("main", "for (int i = 0; i < 3; i++)"),
            expected("main", "printf(\"r=%d"),
        ],
        "next over a function with lines and one without, step into a recursion, finish, next over a loop's line"
    );
    if let Some(gdb) = gdb_stops(start, &["next", "next", "step", "step", "finish", "next", "next"]) {
        assert_eq!(ours, gdb, "the same stops as gdb's");
    }
}

#[test]
fn next_out_of_a_function_stops_at_the_callers_next_line_and_a_breakpoint_ends_a_step() {
    let start = line_of("int y = x * 2;");
    let ours = dbgkit_stops(start, &[StepKind::OverLine, StepKind::OverLine, StepKind::OverLine, StepKind::OverLine]);
    if let Some(gdb) = gdb_stops(start, &["next", "next", "next", "next"]) {
        assert_eq!(ours, gdb, "the same stops as gdb's");
    }
    assert_eq!(ours[3], ("middle".to_string(), line_of("int b = leaf(a);")));
    assert_eq!(ours[4], ("leaf".to_string(), start), "the breakpoint in leaf stops the next over leaf(a)");
}

#[test]
fn instruction_steps_over_calls_out_and_to_an_address() {
    let mut s = Session::new();
    let pid = s.spawn(&SpawnOptions::new([fixture("stepper").to_str().unwrap()]).stdout(Stdio::Null)).unwrap();
    let middle = s.lookup(pid, "stepper!middle").unwrap();
    let bp = s.add_breakpoint(pid, middle).unwrap();
    let e = run_until(&mut s, |e| matches!(e.kind, EventKind::Breakpoint { id, .. } if id == bp));
    let tid = e.tid;
    s.remove_breakpoint(bp).unwrap();
    let rip = |s: &mut Session| s.registers(pid, tid).unwrap().rip;
    let sym = |s: &mut Session, a: u64| s.symbolize(pid, a).unwrap().symbol.unwrap_or_default();
    // Over instructions until a call has been stepped over: never inside leaf.
    let mut stepped_over_call = false;
    for _ in 0..40 {
        let before = rip(&mut s);
        s.step(pid, tid, StepKind::OverInstruction, StepOptions::default()).unwrap();
        let e = next(&mut s);
        let EventKind::StepComplete { address } = e.kind else { panic!("{e:?}") };
        assert_eq!(address, rip(&mut s));
        assert_eq!(sym(&mut s, address), "middle", "p never stops inside a call");
        if address - before > 5 && sym(&mut s, before) == "middle" {
            stepped_over_call = true;
            break;
        }
        if address.checked_sub(before).is_some_and(|d| d == 5) {
            stepped_over_call = true;
            break;
        }
    }
    assert!(stepped_over_call);
    // Into leaf with single instructions, then out of it: back in middle after the call.
    let leaf = s.lookup(pid, "stepper!leaf").unwrap();
    s.step(pid, tid, StepKind::To(leaf), StepOptions::default()).unwrap();
    let e = next(&mut s);
    assert!(matches!(e.kind, EventKind::StepComplete { address } if address == leaf), "{e:?}");
    s.step(pid, tid, StepKind::Instruction, StepOptions::default()).unwrap();
    assert!(matches!(next(&mut s).kind, EventKind::StepComplete { .. }));
    s.step(pid, tid, StepKind::Out, StepOptions::default()).unwrap();
    let e = next(&mut s);
    let EventKind::StepComplete { address } = e.kind else { panic!("{e:?}") };
    assert_eq!(sym(&mut s, address), "middle", "finish returns to the caller");
    // The first call (leaf(1) = 3) was stepped over above: this is the second, leaf(3).
    assert_eq!(s.registers(pid, tid).unwrap().rax, 7, "leaf(3) returned 7");
    s.continue_event(ContinueStatus::Handled).unwrap();
    let events = common::run_to_exit(&mut s, pid);
    assert!(matches!(events.last().unwrap().kind, EventKind::ProcessExited { code: Some(0), .. }));
}

#[test]
fn stepping_one_thread_keeps_the_others_stopped() {
    let mut s = Session::new();
    let pid =
        s.spawn(&SpawnOptions::new([fixture("threads").to_str().unwrap(), "3", "50"]).stdout(Stdio::Null)).unwrap();
    let hit = s.lookup(pid, "threads!hit").unwrap();
    let bp = s.add_breakpoint(pid, hit).unwrap();
    let e = run_until(&mut s, |e| matches!(e.kind, EventKind::Breakpoint { id, .. } if id == bp));
    s.remove_breakpoint(bp).unwrap();
    let others: Vec<i32> = s.threads(pid).unwrap().into_iter().filter(|&t| t != e.tid).collect();
    let before: Vec<u64> = others.iter().map(|&t| s.registers(pid, t).unwrap().rip).collect();
    for _ in 0..20 {
        s.step(pid, e.tid, StepKind::Instruction, StepOptions { lock_other_threads: true }).unwrap();
        // A thread that had ended, or been created, before the stop is
        // reported meanwhile; the step goes on after it, the others still stopped.
        let done = loop {
            let done = next(&mut s);
            match done.kind {
                EventKind::ThreadExited { .. } | EventKind::ThreadCreated { .. } if done.tid != e.tid => {
                    s.continue_event(ContinueStatus::Handled).unwrap()
                }
                _ => break done,
            }
        };
        assert_eq!((done.tid, matches!(done.kind, EventKind::StepComplete { .. })), (e.tid, true), "{done:?}");
    }
    let alive = s.threads(pid).unwrap();
    for (tid, rip) in others.iter().zip(before) {
        if alive.contains(tid) {
            assert_eq!(s.registers(pid, *tid).unwrap().rip, rip, "thread {tid} did not move");
        }
    }
    s.kill(pid).unwrap();
}

/// `next` over `raise(SIGUSR1)` in the `signals` fixture, with SIGUSR1
/// stopping or not; the events up to the step's end and the handler's word.
fn next_over_raise(signal_stops: bool) -> (Vec<EventKind>, String) {
    let mut s = Session::new();
    s.set_signal_stops(libc::SIGUSR1, signal_stops);
    let pid = s.spawn(&SpawnOptions::new([fixture("signals").to_str().unwrap()]).stdout(Stdio::Piped)).unwrap();
    let mut pipes = s.take_pipes(pid).unwrap();
    let source = std::fs::read_to_string("../../tests/fixtures/signals.c").unwrap();
    let line = source.lines().position(|l| l.contains("raise(SIGUSR1)")).unwrap() + 1;
    let bp = s.add_breakpoint_at(pid, &format!("signals.c:{line}"), Default::default()).unwrap();
    let e = run_until(&mut s, |e| matches!(e.kind, EventKind::Breakpoint { id, .. } if id == bp));
    s.step(pid, e.tid, StepKind::OverLine, StepOptions::default()).unwrap();
    let mut seen = Vec::new();
    loop {
        let e = next(&mut s);
        seen.push(e.kind.clone());
        match e.kind {
            // Passed to the program: its handler runs either way.
            EventKind::Exception { .. } => s.continue_event(ContinueStatus::NotHandled).unwrap(),
            EventKind::StepComplete { .. } => {
                s.continue_event(ContinueStatus::Handled).unwrap();
                common::run_to_exit(&mut s, pid);
                break;
            }
            EventKind::ProcessExited { .. } => break,
            _ => s.continue_event(ContinueStatus::Handled).unwrap(),
        }
    }
    (seen, common::read_all(&mut pipes.stdout))
}

#[test]
fn a_signal_that_does_not_stop_lets_a_step_go_on() {
    let (seen, out) = next_over_raise(false);
    assert!(matches!(seen[0], EventKind::Exception { signal: libc::SIGUSR1, .. }), "still reported: {seen:?}");
    assert!(matches!(seen[1], EventKind::StepComplete { .. }), "then the next ends: {seen:?}");
    assert!(out.contains("handler ran"), "{out}");
    // A signal that stops ends the step where it came: continued, the program runs to its end.
    let (seen, out) = next_over_raise(true);
    assert!(matches!(seen[0], EventKind::Exception { signal: libc::SIGUSR1, .. }), "{seen:?}");
    assert!(matches!(seen[1], EventKind::ProcessExited { .. }), "{seen:?}");
    assert!(out.contains("handler ran"), "{out}");
}
