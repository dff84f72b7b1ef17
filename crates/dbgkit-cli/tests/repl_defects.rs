//! The interactive debugger never misleads: scripts stop at their first
//! failure, comments of both debuggers work, arguments are never ignored,
//! counts are bounded, dumps stop at unreadable memory, hints are harmless.
//! Each test runs the real `dbgkit` binary on real fixtures (and gdb where
//! gdb has the same command).

mod support;

use std::process::{Command, Stdio};
use support::{batch, fixture, gdb, output_of, piped, run_with_args, temp_file, DBGKIT};

fn counter() -> String {
    fixture("counter").to_str().unwrap().to_string()
}

#[test]
fn a_script_stops_at_its_first_failing_command_as_gdb_batch_does() {
    let script = "r rip\nnosuch\nbl\n";
    let run = batch(script, &[&counter(), "3"]);
    assert_eq!(run.code, 1, "{}", run.err);
    assert!(run.err.contains(":2: unknown command \"nosuch\""), "the file and line are named: {}", run.err);
    assert!(!run.out.contains("> bl"), "nothing after the failure runs: {}", run.out);
    // gdb does the same with the same file: its status is 1 and `print 3` never runs.
    let gdb_script = temp_file("gdb.txt", "print 2\nnosuch\nprint 3\n");
    let out = Command::new("gdb").args(["-nx", "-batch", "-x"]).arg(&gdb_script).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("= 3"));

    // -c commands stop the same way.
    let out = Command::new(DBGKIT)
        .args(["--batch", "-c", "r rip", "-c", "nosuch", "-c", ".echo after"])
        .arg(counter())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("after"));
}

#[test]
fn comments_of_gdb_and_windbg_are_skipped() {
    let script = "# gdb's comment\n* WinDbg's comment line\n$$ WinDbg's comment, don't stop; .echo after the comment\nr rip # not a comment here\n";
    let run = batch(&script.replace(" # not a comment here", ""), &[&counter(), "3"]);
    assert_eq!(run.code, 0, "{}", run.err);
    assert!(run.out.contains("after the comment"), "{}", run.out);
}

#[test]
fn the_exit_status_is_that_of_the_last_command() {
    let failed_last = piped("r rip\nnosuch\n", &[&counter(), "3"]);
    assert_eq!(failed_last.code, 1);
    let failed_before = piped("nosuch\nr rip\n", &[&counter(), "3"]);
    assert_eq!(failed_before.code, 0, "{}", failed_before.err);
    let quit_code = piped("q 7\n", &[&counter(), "3"]);
    assert_eq!(quit_code.code, 7, "quit CODE as gdb's");
}

#[test]
fn hints_are_harmless_and_close_in_meaning() {
    let run = piped("dvv\ninfo localz\ndlt\nbpp main\nkil\nzzzz\n", &[&counter(), "3"]);
    let err = &run.err;
    assert!(!err.contains("`d`") && !err.contains("`f`") && !err.contains("`delete`"), "{err}");
    assert!(err.contains("did you mean `bp`"), "{err}");
    assert!(!err.contains("`kill`") && !err.contains("`.kill`"), "kill is never guessed: {err}");
    assert!(err.contains("unknown command \"zzzz\" (help lists every command)"), "{err}");
}

#[test]
fn arguments_are_never_ignored() {
    let run = piped("lm garbage\n.detach now\ngh 1\nr rip\n", &[&counter(), "3"]);
    assert!(run.err.contains("lm takes no arguments, or m PATTERN"), "{}", run.err);
    assert!(run.err.contains(".detach takes no arguments (not \"now\")"), "{}", run.err);
    assert!(run.err.contains("gh takes no arguments"), "{}", run.err);
    assert!(!run.out.contains("Detach:"), "still attached: {}", run.out);
    assert_eq!(output_of(&run.out, "r rip").len(), 1, "the session goes on: {}", run.out);
}

#[test]
fn lm_m_filters_with_a_wildcard() {
    let run = batch("lm m libc*\n", &[&counter(), "3"]);
    assert_eq!(run.code, 0, "{}", run.err);
    let lines = output_of(&run.out, "lm m libc*");
    assert_eq!(lines.len(), 2, "the header and libc: {lines:?}");
    assert!(lines[1].contains(" libc.so.6 "), "{lines:?}");
}

#[test]
fn set_args_environment_and_redirections_reach_the_program_as_in_gdb() {
    let program = fixture("args_env");
    let program = program.to_str().unwrap();
    let input = temp_file("in.txt", "from the file\n");
    let ours = temp_file("ours.txt", "");
    let theirs = temp_file("theirs.txt", "");
    let script = format!(
        "set args one two < {} > {}\nshow args\nset environment DBGKIT_TEST_VAR = hello there\nrun\ng\n",
        input.display(),
        ours.display()
    );
    let run = batch(&script, &[program, "ignored"]);
    assert_eq!(run.code, 0, "{}", run.err);
    assert_eq!(
        output_of(&run.out, "show args"),
        [format!(
            "Argument list to give program being debugged when it is started is \"one two < {} > {}\".",
            input.display(),
            ours.display()
        )]
    );
    let ours_text = std::fs::read_to_string(&ours).unwrap();
    assert_eq!(ours_text, "argv: one two\nenv: hello there\nstdin: from the file\n");
    gdb(
        &[program],
        &[
            &format!("set args one two < {} > {}", input.display(), theirs.display()),
            "set environment DBGKIT_TEST_VAR = hello there",
            "run",
        ],
    );
    assert_eq!(ours_text, std::fs::read_to_string(&theirs).unwrap(), "the same as gdb");

    // .restart with new arguments uses them; unset environment removes the variable.
    let second = temp_file("second.txt", "");
    let script = format!(
        "set environment DBGKIT_TEST_VAR=x\nunset environment DBGKIT_TEST_VAR\n.restart three > {}\ng\n",
        second.display()
    );
    let run = batch(&script, &[program, "ignored"]);
    assert_eq!(run.code, 0, "{}", run.err);
    assert_eq!(std::fs::read_to_string(&second).unwrap(), "argv: three\nenv: (unset)\nstdin: (empty)\n");

    let run = batch("run < /no/such/file\n", &[program]);
    assert_eq!(run.code, 1);
    assert!(run.err.contains("cannot open /no/such/file for the program's input"), "{}", run.err);
}

#[test]
fn counts_that_cannot_be_met_are_errors_not_panics() {
    let script = "\
x/999999999999999999i $pc
x/99999999999999999999g $rsp
s -a rsp L10 \"\"
db 0xffffffffffffffff L10
da 0xffffffffffffffff
u $pc L0
r rip
";
    let run = piped(script, &[&counter(), "3"]);
    let err = &run.err;
    assert!(!err.contains("panicked"), "{err}");
    for expected in [
        "error: cannot disassemble 999999999999999999 instructions at once (at most 100000)",
        "error: count 99999999999999999999 in x/99999999999999999999g is too large",
        "error: the pattern is empty",
        "error: 10 items of 1 bytes from 0xffffffffffffffff run past the end of the address space",
        "error: Memory access error at ffffffffffffffff",
        "error: the count must be at least 1",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in:\n{err}");
    }
    assert_eq!(output_of(&run.out, "r rip").len(), 1, "still working: {}", run.out);
}

#[test]
fn uf_does_not_trust_a_symbol_size_no_function_has() {
    let exe = fixture("garbage_size");
    let run = batch("uf huge_fn\n", &[exe.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.err);
    let lines = output_of(&run.out, "uf huge_fn");
    assert!(lines[0].contains("a size of 0x4000000000"), "{lines:?}");
    assert!(lines.iter().any(|l| l.ends_with(" ret")), "{lines:?}");
}

#[test]
fn a_dump_stops_at_the_first_unreadable_page_where_gdb_does() {
    let run = piped("db rsp L100000000\n", &[&counter(), "3"]);
    let ours = run
        .err
        .lines()
        .find_map(|l| l.strip_prefix("error: Memory access error at "))
        .unwrap_or_else(|| panic!("{}", run.err))
        .to_string();
    // No line of `??` past the end: the last line shown is readable.
    assert!(!run.out.contains("?? ??"), "{}", &run.out[run.out.len().saturating_sub(400)..]);
    let theirs = gdb(&[&counter(), "3"], &["starti", "x/100000000xb $sp"]);
    let theirs = theirs
        .lines()
        .find_map(|l| l.split("Cannot access memory at address ").nth(1))
        .unwrap_or_else(|| panic!("gdb said: {}", &theirs[theirs.len().saturating_sub(400)..]));
    assert_eq!(
        u64::from_str_radix(&ours, 16).unwrap(),
        u64::from_str_radix(theirs.trim_start_matches("0x"), 16).unwrap()
    );
}

#[test]
fn a_batch_with_nothing_to_do_says_so() {
    let run = run_with_args(&["--batch"], "");
    assert_eq!(run.code, 2);
    assert!(run.err.contains("nothing to do"), "{}", run.err);
}

#[test]
fn r_follows_the_selected_frame_as_gdb_does() {
    // `*`: bump's very first instruction (a name alone is placed after the prologue, as gdb does).
    let run = batch("bp *counter!bump\ng\nr rbp\nr rsp\nup\nr rip\nr rbp\nr rsp\n? rip\n", &[&counter(), "3"]);
    assert_eq!(run.code, 0, "{}", run.err);
    let value = |command: &str, n: usize| {
        let line = support::nth_output_of(&run.out, command, n)[0].to_string();
        u64::from_str_radix(line.split_once('=').unwrap().1, 16).unwrap()
    };
    // Where gdb's `up` says the caller is.
    let theirs = gdb(&[&counter(), "3"], &["break bump", "run", "up", "info registers rip"]);
    let gdb_rip = theirs
        .lines()
        .find_map(|l| l.strip_prefix("rip").and_then(|r| r.split_whitespace().next()))
        .unwrap_or_else(|| panic!("{theirs}"));
    assert_eq!(value("r rip", 0), u64::from_str_radix(&gdb_rip[2..], 16).unwrap());
    // Stopped at bump's first instruction: the caller's rbp is still in rbp, its rsp above the return address.
    assert_eq!(value("r rbp", 1), value("r rbp", 0));
    assert_eq!(value("r rsp", 1), value("r rsp", 0) + 8);
    assert!(output_of(&run.out, "? rip")[0].contains(&format!("{:#x}", value("r rip", 0))), "r and ? agree");
    let run = piped("bp counter!bump\ng\nup\nr rax\nr rip=1\n", &[&counter(), "3"]);
    assert!(run.out.contains("rax=<not saved>"), "as gdb shows it: {}", run.out);
    assert!(run.err.contains("frame 1 is not the innermost: registers are set in frame 0"), "{}", run.err);
}

#[test]
fn continue_n_is_gdbs_count_not_an_address() {
    let run = batch("bp counter!bump\ng\ncontinue 3\nr rdi\n", &[&counter(), "10"]);
    assert_eq!(run.code, 0, "{}", run.err);
    assert_eq!(output_of(&run.out, "continue 3")[0], "Will ignore next 2 crossings of breakpoint 1.  Continuing.");
    let theirs = gdb(&[&counter(), "10"], &["break bump", "run", "continue 3", "p $rdi"]);
    // gdb stops at the same hit (its message is not printed in batch mode).
    assert!(theirs.contains("$1 = 3"), "{theirs}");
    assert_eq!(output_of(&run.out, "r rdi"), ["rdi=0000000000000003"]);
    let run = piped("continue x\n", &[&counter(), "3"]);
    assert!(run.err.contains("continue takes a count"), "{}", run.err);
}
