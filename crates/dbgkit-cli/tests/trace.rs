//! `dbgkit trace` end to end: the real binary on real fixtures.

#[path = "../../dbgkit/tests/common/mod.rs"]
mod common;

use common::{alive, fixture, state, symbol};
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const DBGKIT: &str = env!("CARGO_BIN_EXE_dbgkit");

fn trace(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(DBGKIT).arg("trace").args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn lines_starting<'a>(text: &'a str, word: &str) -> Vec<&'a str> {
    text.lines().filter(|l| l.starts_with(word)).collect()
}

#[test]
fn crash_is_traced_with_both_chances_and_exit_by_signal() {
    let exe = fixture("crash");
    let (code, out, _) = trace(&[exe.to_str().unwrap()]);
    assert_eq!(code, 128 + libc::SIGSEGV);
    let first = out.lines().next().unwrap();
    assert!(first.starts_with("CreateProcess: pid=") && first.ends_with(exe.to_str().unwrap()), "{first}");
    let modload = lines_starting(&out, "ModLoad:");
    assert!(modload[0].ends_with("ld-linux-x86-64.so.2 /lib64/ld-linux-x86-64.so.2"), "{}", modload[0]);
    let exceptions = lines_starting(&out, "Exception:");
    assert_eq!(exceptions.len(), 2, "{out}");
    assert!(
        exceptions[0].starts_with("Exception: SIGSEGV code=1 at ")
            && exceptions[0].contains(" fault=0000000000000000 first-chance")
    );
    assert!(exceptions[1].contains(" second-chance"));
    let last = out.lines().last().unwrap();
    assert!(last.starts_with("ExitProcess: pid=") && last.ends_with(" signal=SIGSEGV"), "{last}");
    assert!(out.contains("about to crash"), "the program's own output goes where it would");
}

#[test]
fn threads_breakpoints_and_exit_code() {
    let exe = fixture("threads");
    let hit = symbol(&exe, "hit");
    let spec = format!("threads+{hit:#x}");
    let (code, out, err) = trace(&["--break", &spec, exe.to_str().unwrap(), "3", "4"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(lines_starting(&out, "CreateThread: tid=").len(), 3);
    let exits = lines_starting(&out, "ExitThread: tid=");
    assert_eq!(exits.len(), 3);
    assert!(exits.iter().all(|l| l.ends_with(" code=0")));
    let hits = lines_starting(&out, "Breakpoint: id=1 at ");
    assert_eq!(hits.len(), 12, "{out}");
    assert!(out.lines().any(|l| l == "total=12"));
    assert!(out.lines().last().unwrap().ends_with(" code=0"));
}

#[test]
fn handle_suppresses_a_signal() {
    let exe = fixture("signals");
    let (_, out, _) = trace(&[exe.to_str().unwrap()]);
    assert!(out.contains("Exception: SIGUSR1") && out.contains("handler ran"), "{out}");
    let (_, out, _) = trace(&["--handle", "SIGUSR1", exe.to_str().unwrap()]);
    assert!(out.contains("handler did not run"), "{out}");
}

#[test]
fn bad_input_is_a_clear_error() {
    let (code, _, err) = trace(&["/no/such/program"]);
    assert_eq!(code, 2);
    assert_eq!(err.trim(), "dbgkit: cannot launch /no/such/program: program not found: /no/such/program");
    let (code, _, err) = trace(&["-p", "999999999"]);
    assert_eq!(code, 2);
    assert_eq!(err.trim(), "dbgkit: cannot attach to process 999999999: no such process: 999999999");
    let (code, _, err) = trace(&["--handle", "SIGNOPE", "/bin/true"]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown signal \"SIGNOPE\""), "{err}");
}

fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < Duration::from_secs(30), "timed out waiting: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn start_worker(seconds: &str) -> (std::process::Child, BufReader<std::process::ChildStdout>) {
    let mut child = Command::new(fixture("worker")).args(["3", seconds]).stdout(Stdio::piped()).spawn().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    (child, out)
}

#[test]
fn ctrl_c_detaches_from_an_attached_process_cleanly() {
    let (mut worker, mut worker_out) = start_worker("2");
    let pid = worker.id();
    let mut tracer =
        Command::new(DBGKIT).args(["trace", "-p", &pid.to_string()]).stdout(Stdio::piped()).spawn().unwrap();
    let mut tracer_out = BufReader::new(tracer.stdout.take().unwrap());
    let mut first = String::new();
    tracer_out.read_line(&mut first).unwrap();
    assert!(first.starts_with(&format!("CreateProcess: pid={pid} ")), "{first}");
    std::thread::sleep(Duration::from_millis(200));
    // SAFETY: signalling our own child.
    unsafe { libc::kill(tracer.id() as i32, libc::SIGINT) };
    let status = tracer.wait().unwrap();
    let mut rest = String::new();
    tracer_out.read_to_string(&mut rest).unwrap();
    assert!(status.success(), "{rest}");
    assert!(rest.lines().last().unwrap().starts_with(&format!("Detach: pid={pid}")), "{rest}");
    assert!(worker.wait().unwrap().success());
    let mut out = String::new();
    worker_out.read_to_string(&mut out).unwrap();
    assert_eq!(out.trim(), "finished 3 worked");
}

#[test]
fn killing_the_debugger_kills_launched_targets_and_spares_attached_ones() {
    // Launched: dies with the debugger.
    let mut tracer =
        Command::new(DBGKIT).args(["trace", fixture("spin").to_str().unwrap()]).stdout(Stdio::piped()).spawn().unwrap();
    let mut tracer_out = BufReader::new(tracer.stdout.take().unwrap());
    let mut first = String::new();
    tracer_out.read_line(&mut first).unwrap();
    let target: i32 = first.trim_start_matches("CreateProcess: pid=").split(' ').next().unwrap().parse().unwrap();
    assert!(alive(target));
    tracer.kill().unwrap();
    tracer.wait().unwrap();
    wait_until("the launched target dies", || !alive(target));

    // Attached: lives on, running.
    let (mut worker, mut worker_out) = start_worker("1.5");
    let pid = worker.id() as i32;
    let mut tracer =
        Command::new(DBGKIT).args(["trace", "-p", &pid.to_string()]).stdout(Stdio::piped()).spawn().unwrap();
    let mut tracer_out = BufReader::new(tracer.stdout.take().unwrap());
    let mut first = String::new();
    tracer_out.read_line(&mut first).unwrap();
    tracer.kill().unwrap();
    tracer.wait().unwrap();
    wait_until("the attached target runs on", || state(pid) != "t");
    assert!(alive(pid));
    assert!(worker.wait().unwrap().success());
    let mut out = String::new();
    worker_out.read_to_string(&mut out).unwrap();
    assert_eq!(out.trim(), "finished 3 worked");
}

#[test]
fn names_and_stacks_at_exceptions_and_breakpoints() {
    let exe = fixture("crash");
    let (_, out, _) = trace(&["--stack", exe.to_str().unwrap()]);
    let lines: Vec<&str> = out.lines().collect();
    let at = lines.iter().position(|l| l.starts_with("Exception: SIGSEGV")).unwrap();
    assert!(lines[at].contains(" crash!deref+0x") && lines[at].contains("(crash.c:"), "{}", lines[at]);
    assert!(lines[at + 1].starts_with("  #0 ") && lines[at + 1].contains("crash!deref+0x"), "{}", lines[at + 1]);
    assert!(lines[at + 2].starts_with("  #1 ") && lines[at + 2].contains("crash!main+0x"), "{}", lines[at + 2]);
    assert!(lines[at + 3].contains("libc.so.6!__libc_start_call_main+0x"), "{}", lines[at + 3]);

    let counter = fixture("counter");
    let (code, out, err) =
        trace(&["--break", "counter!bump", "--break", "libc.so.6!exit", counter.to_str().unwrap(), "2"]);
    assert_eq!(code, 0, "{err}");
    let hits = lines_starting(&out, "Breakpoint: id=1 at ");
    assert_eq!(hits.len(), 2);
    // A function's breakpoint goes after its prologue, as gdb places it.
    assert!(hits.iter().all(|l| l.contains(" counter!bump+0x") && l.contains(" (counter.c:6)")), "{hits:?}");
    assert_eq!(lines_starting(&out, "Breakpoint: id=2 at ").len(), 1, "libc's exit, planted once libc loaded");
    let (code, _, err) = trace(&["--break", "main +", counter.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("bad --break \"main +\""), "{err}");
}

#[test]
fn watchpoint_hits_are_traced() {
    let watch = fixture("watch");
    let (code, out, err) = trace(&["--watch", "w8 counter", watch.to_str().unwrap(), "2", "3"]);
    assert_eq!(code, 0, "{err}");
    let hits = lines_starting(&out, "Watchpoint: id=1 write at ");
    assert_eq!(hits.len(), 6, "{out}");
    assert!(hits[0].contains(" old=0x0 new=0x1 pc="), "{}", hits[0]);
    assert!(hits[5].contains(" old=0x5 new=0x6 pc="), "{}", hits[5]);
    assert!(hits.iter().all(|l| l.contains(" watch!run+0x")), "the accessing code is named: {hits:?}");
    let (code, _, err) = trace(&["--watch", "q8 counter", watch.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("bad --watch"), "{err}");
}

/// A fault continued as handled faults again at once; the second identical
/// fault is reported as second chance and delivered, instead of repeating
/// for ever (the program dies as it would without a debugger).
#[test]
fn a_handled_fault_that_repeats_without_progress_becomes_second_chance() {
    let exe = fixture("crash");
    let mut child = Command::new(DBGKIT)
        .args(["trace", "--handle", "SIGSEGV", exe.to_str().unwrap()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = String::new();
    // Bounded: a flood is cut after 200 lines rather than hanging the test.
    let reader = BufReader::new(child.stdout.take().unwrap());
    for line in reader.lines().take(200) {
        out.push_str(&line.unwrap());
        out.push('\n');
    }
    let _ = child.kill();
    let code = child.wait().unwrap().code().unwrap_or(-1);
    let exceptions = lines_starting(&out, "Exception: SIGSEGV");
    assert_eq!(exceptions.len(), 2, "{out}");
    assert!(exceptions[0].contains(" first-chance") && exceptions[1].contains(" second-chance"), "{out}");
    let at = |l: &str| l.split(" at ").nth(1).unwrap().split(' ').next().unwrap().to_string();
    assert_eq!(at(exceptions[0]), at(exceptions[1]), "the same instruction");
    assert!(out.lines().last().unwrap().ends_with(" signal=SIGSEGV"), "{out}");
    assert_eq!(code, 128 + libc::SIGSEGV);
}

#[test]
fn follow_forks_traces_every_process_of_a_shell_loop() {
    let (code, out, err) = trace(&["-f", "/bin/sh", "-c", "for i in 1 2 3; do /bin/true; done; exit 5"]);
    assert_eq!(code, 5, "the shell's exit status, not a child's: {err}\n{out}");
    let created: Vec<&str> = out.lines().filter(|l| l.starts_with("CreateProcess: ")).collect();
    assert_eq!(created.len(), 4, "{out}");
    let exits: Vec<&str> = out.lines().filter(|l| l.starts_with("ExitProcess: ")).collect();
    assert_eq!(exits.len(), 4, "{out}");
    assert_eq!(exits.iter().filter(|l| l.ends_with("code=0")).count(), 3, "{out}");
    assert!(exits.last().unwrap().ends_with("code=5"), "{out}");
    assert_eq!(out.lines().filter(|l| l.starts_with("Exec: ") && l.ends_with("/true")).count(), 3, "{out}");
    // Without -f the children run on their own.
    let (code, out, _) = trace(&["/bin/sh", "-c", "for i in 1 2 3; do /bin/true; done; exit 5"]);
    assert_eq!(code, 5);
    assert_eq!(out.lines().filter(|l| l.starts_with("CreateProcess: ")).count(), 1, "{out}");
}

#[test]
fn follow_forks_plants_the_breakpoints_in_every_child() {
    let exe = fixture("forker");
    let (code, out, err) = trace(&["-f", "--break", "hit", exe.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}\n{out}");
    let hits: Vec<&str> = out.lines().filter(|l| l.starts_with("Breakpoint: ")).collect();
    assert_eq!(hits.len(), 3, "two in the parent, one in the child: {out}");
    assert!(out.contains("child exited 3, parent hits 2"), "{out}");
}
