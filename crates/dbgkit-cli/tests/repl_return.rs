//! gdb's `return [VALUE]`: the selected frame is popped without running,
//! and the program goes on in its caller with the value given.

mod support;

use support::{batch, fixture, gdb};

#[test]
fn return_pops_the_frame_with_a_value_as_gdb_does() {
    let counter = fixture("counter");
    let program = [counter.to_str().unwrap(), "10"];
    let run = batch("bp bump\ng\nreturn 100\nbc *\ng\n", &program);
    assert_eq!(run.code, 0, "{}\n{}", run.err, run.out);
    assert!(run.out.contains("#0  0x") && run.out.contains("counter!main"), "{}", run.out);
    // bump(0) returned 100 instead of 1: the sum of the other nine is 54.
    assert!(run.out.contains("sum=154 value=1"), "{}", run.out);
    let theirs = gdb(&program, &["break bump", "run", "return 100", "delete", "continue"]);
    assert!(theirs.contains("sum=154 value=1"), "gdb agrees: {theirs}");
}

#[test]
fn return_from_the_outermost_frame_is_refused() {
    let counter = fixture("counter");
    let run = batch("return\n", &[counter.to_str().unwrap(), "1"]);
    assert_ne!(run.code, 0);
    assert!(run.err.contains("has no caller to return to"), "{}", run.err);
}
