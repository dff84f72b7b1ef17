//! The children a program starts, in the interactive debugger: WinDbg's
//! `.childdbg` and gdb's `follow-fork-mode` / `detach-on-fork`.

mod support;

use support::{batch, fixture, output_of};

fn pid_of(line: &str) -> i32 {
    line.split("pid=").nth(1).and_then(|r| r.split_whitespace().next()).and_then(|p| p.parse().ok()).unwrap()
}

#[test]
fn follow_fork_mode_child_moves_to_the_child_with_the_breakpoints() {
    let forker = fixture("forker");
    let script = "set follow-fork-mode child\nshow follow-fork-mode\nbp hit\ng\ng\n|\nbl\ng\n";
    let run = batch(script, &[forker.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}\n{}", run.err, run.out);
    let out = &run.out;
    assert_eq!(
        output_of(out, "show follow-fork-mode"),
        ["Debugger response to a program call of fork or vfork is \"child\"."]
    );
    let created: Vec<i32> = out.lines().filter(|l| l.starts_with("CreateProcess: ")).map(pid_of).collect();
    assert_eq!(created.len(), 2, "{out}");
    let (parent, child) = (created[0], created[1]);
    assert!(out.contains(&format!("[Detaching after fork from parent process {parent}]")), "{out}");
    // The second stop is the child's hit, with the breakpoint's number kept.
    let hits: Vec<&str> = out.lines().filter(|l| l.starts_with("Breakpoint: id=1 ")).collect();
    assert_eq!(hits.len(), 2, "{out}");
    assert!(hits[1].ends_with(&format!("tid={child}")), "{out}");
    let processes = output_of(out, "|");
    assert_eq!(processes.len(), 1, "only the child is debugged: {processes:?}");
    assert!(processes[0].contains(&format!("pid={child}")), "{processes:?}");
    assert!(output_of(out, "bl").iter().any(|l| l.trim_start().starts_with("1 e")), "{out}");
    // The parent ran on free and finished: its output comes after the child's exit.
    assert!(out.contains(&format!("ExitProcess: pid={child} code=3")), "{out}");
    assert!(out.contains("child exited 3, parent hits 2"), "{out}");
}

#[test]
fn childdbg_keeps_both_processes() {
    let forker = fixture("forker");
    let script = ".childdbg 1\nbp hit\ng\ng\n|\ng\n";
    let run = batch(script, &[forker.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}\n{}", run.err, run.out);
    let out = &run.out;
    assert_eq!(output_of(out, ".childdbg 1"), ["Processes created by the current process will be debugged"]);
    let created: Vec<i32> = out.lines().filter(|l| l.starts_with("CreateProcess: ")).map(pid_of).collect();
    assert_eq!(created.len(), 2, "{out}");
    // The child has no breakpoint of its own: it runs to its end, then the parent hits again.
    assert!(out.contains(&format!("ExitProcess: pid={} code=3", created[1])), "{out}");
    let hits: Vec<&str> = out.lines().filter(|l| l.starts_with("Breakpoint: id=1 ")).collect();
    assert_eq!(hits.len(), 2, "the parent's two calls: {out}");
    assert!(hits.iter().all(|l| l.ends_with(&format!("tid={}", created[0]))), "{out}");
    assert!(out.contains("child exited 3, parent hits 2"), "{out}");
    let bad = batch(".childdbg 2\n", &[forker.to_str().unwrap()]);
    assert_ne!(bad.code, 0);
    assert!(bad.err.contains(".childdbg takes 0 or 1"), "{}", bad.err);
}
