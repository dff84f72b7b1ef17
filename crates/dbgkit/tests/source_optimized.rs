//! An -O2 build (`optimized.c`): an inlined function is a frame of its own
//! and a breakpoint on it has a location in every inlined copy; values
//! that live in registers are read from the right frame; what the compiler
//! did not keep is `<optimized out>`, never a guess. Compared with gdb.

mod gdb_compare;

use gdb_compare::{compare, gdb_outputs, stop_at};

#[test]
fn an_inlined_function_has_a_location_per_copy() {
    let stopped = stop_at("optimized", "optimized.c:21");
    let mut s = stopped.s;
    let locations = s.breakpoint_locations(stopped.pid, "helper").unwrap();
    assert_eq!(locations.len(), 2, "{locations:?}");
    assert!(locations.iter().all(|l| l.inlined && l.function.as_deref() == Some("helper")));
    let lines: Vec<u32> = locations.iter().map(|l| l.location.as_ref().unwrap().line).collect();
    let addresses: Vec<u64> = locations.iter().map(|l| l.address).collect();
    // gdb: `2.1 ... 0x...1cc in helper at optimized.c:16`, `2.2 ... 0x...1e0 in helper at optimized.c:15`.
    if let Some(gdb) = gdb_outputs(&stopped.exe, "consume", &["break helper", "info breakpoints"]) {
        let table = &gdb[1];
        for (address, line) in addresses.iter().zip(&lines) {
            let row = table.lines().find(|l| l.contains(&format!("{address:#018x} in helper at ")));
            assert!(
                row.is_some_and(|r| r.ends_with(&format!("optimized.c:{line}"))),
                "gdb has no {address:#x} line {line}:\n{table}"
            );
        }
        assert_eq!(table.lines().filter(|l| l.contains(" in helper at ")).count(), 2, "{table}");
    }
    // A function that is not inlined: one location, at its first instruction
    // (no frame set-up to skip at -O2), the same as gdb's.
    let consume = s.breakpoint_locations(stopped.pid, "consume").unwrap();
    assert_eq!(consume.len(), 1);
    assert_eq!(consume[0].address, s.lookup(stopped.pid, "consume").unwrap());
}

#[test]
fn frames_of_inlined_code_and_their_variables() {
    let mut stopped = stop_at("optimized", "helper");
    let frames = stopped.s.source_frames(stopped.pid, stopped.tid).unwrap();
    let shown: Vec<(String, u32, bool)> = frames
        .iter()
        .take(3)
        .map(|f| (f.function.clone().unwrap(), f.location.as_ref().map(|l| l.line).unwrap_or(0), f.inlined))
        .collect();
    assert_eq!(
        shown,
        [("helper".to_string(), 16, true), ("work".to_string(), 28, false), ("main".to_string(), 36, false)]
    );
    assert_eq!(stopped.answer(0, "info args"), "scale = 2\nx = 0");
    // gdb also lists the abstract `scaled` a second time, as optimized out,
    // because this copy declares it in a nested block; there is one `scaled`.
    assert_eq!(stopped.answer(0, "info locals"), "scaled = 0");
    compare(
        &mut stopped,
        "helper",
        0,
        &[
            "info args",
            "p x",
            "p scale",
            "p scaled",
            "p x * scale + 1",
            "up",
            "info args",
            "info locals",
            "p *p",
            "p n * 2",
        ],
    );
}

#[test]
fn values_the_compiler_dropped_are_optimized_out() {
    let mut stopped = stop_at("optimized", "consume");
    let (pid, tid) = (stopped.pid, stopped.tid);
    assert_eq!(stopped.answer(0, "info args"), "value = 29");
    let outer = stopped.s.frame_variables(pid, tid, 1).unwrap();
    let n = outer.iter().find(|v| v.name == "n").unwrap();
    assert!(n.value.is_optimized_out());
    assert_eq!(n.text, "<optimized out>");
    match stopped.s.evaluate_typed(pid, tid, 1, "n + 1") {
        Err(dbgkit::Error::OptimizedOut(what)) => assert_eq!(what, "n + 1"),
        other => panic!("{other:?}"),
    }
    // Frame 1's `acc` and `unused` live in registers a callee may change
    // (rdi, r9): not known in an outer frame. gdb assumes them unchanged
    // and shows consume's values; where dbgkit shows a value, it is gdb's.
    if let Some(gdb) = gdb_outputs(&stopped.exe, "consume", &["up", "info args", "info locals"]) {
        let ours = stopped.answer(1, "info locals") + "\n" + &stopped.answer(1, "info args");
        for line in ours.lines().filter(|l| !l.ends_with("<optimized out>")) {
            assert!(gdb[1].contains(line) || gdb[2].contains(line), "{line} is not gdb's:\n{}\n{}", gdb[1], gdb[2]);
        }
        assert!(gdb[1].contains("n = <optimized out>"));
    }
}

#[test]
fn a_line_has_a_location_per_block_as_in_gdb() {
    let stopped = stop_at("optimized", "consume");
    let mut s = stopped.s;
    for (line, count) in [(16, 2), (28, 1), (30, 1)] {
        let found = s.breakpoint_locations(stopped.pid, &format!("optimized.c:{line}")).unwrap();
        assert_eq!(found.len(), count, "line {line}: {found:?}");
    }
    // A line without code slides to the next one that has some; past the end is an error.
    let blank = s.breakpoint_locations(stopped.pid, "optimized.c:24").unwrap();
    assert_eq!(blank.len(), 1);
    assert_eq!(blank[0].address, s.lookup(stopped.pid, "work").unwrap(), "the next line with code is work's first");
    if let Some(gdb) = gdb_outputs(&stopped.exe, "consume", &["break optimized.c:24", "break optimized.c:500"]) {
        assert!(gdb[0].starts_with(&format!("Breakpoint 2 at {:#x}: file ", blank[0].address)), "{}", gdb[0]);
        assert_eq!(gdb[1], "No line 500 in file \"optimized.c\".");
    }
    match s.breakpoint_locations(stopped.pid, "optimized.c:500") {
        Err(e @ dbgkit::Error::LineOutOfRange { line: 500, .. }) => {
            assert_eq!(e.to_string(), "No line 500 in file \"optimized.c\".")
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(s.breakpoint_locations(stopped.pid, "nosuch.c:3"), Err(dbgkit::Error::NoCodeForLine { .. })));
}

#[test]
fn a_condition_names_only_what_is_in_scope() {
    let stopped = stop_at("optimized", "optimized.c:21");
    let mut s = stopped.s;
    let pid = stopped.pid;
    let consume = s.lookup(pid, "consume").unwrap();
    let condition = s.parse_condition(pid, consume, "value > 20 && sink != 1").unwrap();
    assert_eq!(condition.text(), "value > 20 && sink != 1");
    match s.parse_condition(pid, consume, "valeu > 20") {
        Err(dbgkit::Error::UnknownName(name)) => assert_eq!(name, "valeu"),
        other => panic!("{other:?}"),
    }
    match s.parse_condition(pid, consume, "(struct nothing *) value") {
        Err(dbgkit::Error::UnknownType(name)) => assert_eq!(name, "struct nothing"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(s.parse_condition(pid, consume, "value >"), Err(dbgkit::Error::BadExpression { .. })));
    // Evaluated at a hit: the first call to consume gets 29.
    assert!(s.source_condition_holds(pid, stopped.tid, &condition).unwrap());
    let low = s.parse_condition(pid, consume, "value < 20").unwrap();
    assert!(!s.source_condition_holds(pid, stopped.tid, &low).unwrap());
}
