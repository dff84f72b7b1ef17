//! Source-level stepping in the interactive debugger: gdb's `step`, `next`,
//! `finish` (with the value returned), `until`, `advance`, and WinDbg's
//! `l+t` that makes `p` and `t` step lines; all through the engine's steps.

#[path = "../../dbgkit/tests/common/mod.rs"]
mod common;

use common::fixture;
use std::process::{Command, Stdio};

const DBGKIT: &str = env!("CARGO_BIN_EXE_dbgkit");

/// The source line numbers of every `Step:` stop, in order.
fn step_lines(out: &str) -> Vec<u32> {
    out.lines()
        .filter(|l| l.starts_with("Step: at "))
        .map(|l| {
            let place = l.rsplit_once('(').map(|(_, p)| p).unwrap_or("");
            let place = place.split(')').next().unwrap_or("");
            place.rsplit(':').next().and_then(|n| n.parse().ok()).unwrap_or(0)
        })
        .collect()
}

#[test]
fn step_next_finish_until_advance_and_source_mode() {
    let script = "bp stepper.c:25; g; next; next; step; step; finish; next; until; l+t; p; l-t; t";
    let out = Command::new(DBGKIT)
        .args(["--batch", "-c", script])
        .arg(fixture("stepper"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let (text, err) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{text}{err}");
    // next 25->26->27, step into recurse at 20, step 21, finish back at 27, next 28, until 29, p (l+t) 30.
    let lines = step_lines(&text);
    assert_eq!(&lines[..7], [26, 27, 20, 21, 27, 28, 29], "{text}");
    assert_eq!(lines[7], 30, "p steps a line after l+t: {text}");
    assert!(text.contains("Value returned is $1 = 3"), "finish shows recurse(3)'s value: {text}");
    assert!(text.contains("stepper!recurse+0xb (stepper.c:20)"), "step stops after recurse's prologue: {text}");
    let last = text.lines().rfind(|l| l.starts_with("Step: at ")).unwrap();
    // Line 30 (`return 0`) is one instruction: t after l-t steps it, to line 31's `leave`.
    assert!(last.contains("(stepper.c:31)") && last.contains("main+0x66"), "t steps one instruction: {last}");

    let out = Command::new(DBGKIT)
        .args(["--batch", "-c", "bp stepper.c:14; g; advance stepper.c:16"])
        .arg(fixture("stepper"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(step_lines(&text), [16], "advance runs to the line: {text}");
}
