//! gdb and lldb, the clients people use, driving dbgkit-gdbserver; where gdb
//! can debug the program itself, the answers through the server are
//! compared with gdb's own.

mod common;

use common::*;
use std::process::{Command, Stdio};
use std::time::Duration;

/// The lines worth comparing, with stack addresses (environment-dependent)
/// blanked.
fn essentials(log: &str) -> Vec<String> {
    let stack = regex_lite_stack();
    let start = log.find("Breakpoint 1, ").expect("the breakpoint was hit");
    log[start..]
        .lines()
        .filter(|l| {
            l.starts_with("Breakpoint 1, ")
                || l.starts_with('#')
                || l.starts_with("rip ")
                || l.starts_with("rsp ")
                || l.starts_with('$')
                || l.starts_with("Run till exit")
                || l.starts_with("Value returned")
                || l.chars().next().is_some_and(|c| c.is_ascii_digit())
        })
        .map(stack)
        .collect()
}

/// Replaces `0x7fff...` stack addresses with `STACK`.
fn regex_lite_stack() -> impl Fn(&str) -> String {
    |line: &str| {
        let mut out = String::new();
        let mut rest = line;
        while let Some(at) = rest.find("0x7fff") {
            out.push_str(&rest[..at]);
            let tail = &rest[at + 2..];
            let len = tail.find(|c: char| !c.is_ascii_hexdigit()).unwrap_or(tail.len());
            out.push_str("STACK");
            rest = &tail[len..];
        }
        out.push_str(rest);
        out
    }
}

#[test]
fn gdb_through_the_server_answers_as_gdb_on_its_own() {
    let counter = fixture("counter");
    let commands = |start: &[String]| -> Vec<String> {
        let mut c = vec!["set confirm off".to_string(), "break bump".to_string()];
        c.extend_from_slice(start);
        for step in [
            "bt",
            "info registers rip",
            "print value",
            "print i",
            "finish",
            "next",
            "step",
            "stepi",
            "info registers rip",
            "print $rsp == $sp",
            "continue",
            "bt 1",
            "print i",
        ] {
            c.push(step.to_string());
        }
        c
    };
    let native = gdb(&counter, &commands(&["run 3".into()]));
    let remote =
        gdb(&counter, &commands(&[format!("target remote | {SERVER} - {} 3", counter.display()), "continue".into()]));
    let (native, remote) = (essentials(&native), essentials(&remote));
    assert!(native.len() > 12, "gdb alone printed too little: {native:#?}");
    assert_eq!(remote, native, "gdb through dbgkit-gdbserver differs from gdb alone");
}

#[test]
fn gdb_reads_threads_and_libraries_from_the_server() {
    let threads = fixture("threads");
    let log = gdb(
        &threads,
        &[
            "set confirm off".into(),
            format!("target remote | {SERVER} - {} 3 100000", threads.display()),
            "break hit".into(),
            "continue".into(),
            "info threads".into(),
            "info sharedlibrary".into(),
            "thread apply all bt 1".into(),
            "kill".into(),
        ],
    );
    let thread_lines = log.lines().filter(|l| l.contains("Thread ") && l.contains("\"threads\"")).count();
    assert!(thread_lines >= 2, "info threads lists the main thread and workers:\n{log}");
    assert!(log.contains("libc.so.6"), "info sharedlibrary names libc:\n{log}");
    assert!(log.contains(" hit (i="), "a worker stopped in hit():\n{log}");
}

#[test]
fn gdb_watchpoints_and_extended_remote() {
    let watch = fixture("watch");
    let server = Server::start(&["--once", "--multi", "127.0.0.1:0"]);
    let log = gdb(
        &watch,
        &[
            "set confirm off".into(),
            format!("target extended-remote 127.0.0.1:{}", server.port),
            format!("set remote exec-file {}", watch.display()),
            "break main".into(),
            "run 1 3".into(),
            "watch counter".into(),
            "continue".into(),
            "continue".into(),
            "kill".into(),
            "run 1 3".into(),
            "kill".into(),
        ],
    );
    assert!(log.contains("Hardware watchpoint 2: counter"), "{log}");
    assert!(log.contains("Old value = 0") && log.contains("New value = 1"), "{log}");
    assert!(log.contains("Old value = 1") && log.contains("New value = 2"), "{log}");
    assert_eq!(log.matches("Breakpoint 1, main").count(), 2, "run twice over one connection:\n{log}");
}

#[test]
fn a_second_inferior_runs_beside_the_first_in_extended_mode() {
    // gdb's `add-inferior` then `run`: a `vRun` while a process lives adds
    // one (gdbserver with multi-process); the first stays, parked, and
    // runs on to its own end when gdb turns back to it.
    let counter = fixture("counter");
    let server = Server::start(&["--once", "--multi", "127.0.0.1:0"]);
    let log = gdb(
        &counter,
        &[
            "set confirm off".into(),
            format!("target extended-remote 127.0.0.1:{}", server.port),
            format!("set remote exec-file {}", counter.display()),
            "break bump".into(),
            "run 3".into(),
            "add-inferior".into(),
            "inferior 2".into(),
            format!("file {}", counter.display()),
            format!("set remote exec-file {}", counter.display()),
            "run 2".into(),
            "info inferiors".into(),
            "inferior 1".into(),
            "delete".into(),
            "continue".into(),
            "inferior 2".into(),
            "continue".into(),
        ],
    );
    assert_eq!(log.matches("hit Breakpoint 1").count() + log.matches("\nBreakpoint 1, bump").count(), 2, "{log}");
    let listed = log.lines().filter(|l| l.contains("process ") && l.contains("extended-remote")).count();
    assert_eq!(listed, 2, "both inferiors have a process:\n{log}");
    assert!(
        log.contains("[Inferior 1 (process") && log.contains("exited normally]"),
        "the first ran to its end:\n{log}"
    );
    assert!(log.contains("[Inferior 2 (process"), "the second ran to its end:\n{log}");
    assert_eq!(log.matches("exited normally]").count(), 2, "{log}");
    assert!(!log.contains("Could not read registers"), "{log}");
}

#[test]
fn threads_and_thread_locals_of_two_inferiors_stay_their_own() {
    // gdb reads a thread of the inferior that is not current (`Hg` to a
    // parked process, then `g`), and a thread-local variable of a thread
    // it names in `qGetTLSAddr` while the other process is current.
    let tls = fixture("tls");
    let server = Server::start(&["--once", "--multi", "127.0.0.1:0"]);
    let log = gdb(
        &tls,
        &[
            "set confirm off".into(),
            format!("target extended-remote 127.0.0.1:{}", server.port),
            format!("set remote exec-file {}", tls.display()),
            "break check".into(),
            "run".into(),
            "add-inferior".into(),
            "inferior 2".into(),
            format!("file {}", tls.display()),
            format!("set remote exec-file {}", tls.display()),
            "run".into(),
            "inferior 1".into(),
            "continue".into(),
            "print tls_value".into(),
            "info threads".into(),
            "thread 2.2".into(),
            "print tls_value".into(),
        ],
    );
    let values = log.lines().filter(|l| l.starts_with('$')).collect::<Vec<_>>();
    // Inferior 1 stopped in main (its worker ended); inferior 2's worker still sits in `check`.
    assert_eq!(values, ["$1 = 1", "$2 = 42"], "{log}");
    let thread_line = |id: &str| log.lines().find(|l| l.trim_start_matches('*').trim_start().starts_with(id));
    let main_of_2 = thread_line("2.1 ").unwrap_or_else(|| panic!("no thread 2.1:\n{log}"));
    assert!(
        !main_of_2.contains(" check "),
        "thread 2.1 (main, waiting for its worker) shows another thread's registers:\n{log}"
    );
    assert!(thread_line("2.2 ").is_some_and(|l| l.contains(" check ")), "{log}");
    assert!(!log.contains("Could not read registers") && !log.contains("has terminated"), "{log}");
}

#[test]
fn a_second_attached_inferior_has_its_own_registers_and_stack() {
    // gdb's `add-inferior`, then `attach`: the new process's stop reply
    // selects it, so gdb reads its description and registers, not the
    // first process's.
    let spin = fixture("spin");
    let programs = [Program::start("spin"), Program::start("spin")];
    let server = Server::start(&["--once", "--multi", "127.0.0.1:0"]);
    let log = gdb(
        &spin,
        &[
            "set confirm off".into(),
            format!("target extended-remote 127.0.0.1:{}", server.port),
            format!("attach {}", programs[0].pid()),
            format!("add-inferior -exec {}", spin.display()),
            "inferior 2".into(),
            format!("attach {}", programs[1].pid()),
            "backtrace".into(),
            "info inferiors".into(),
            "detach".into(),
            "inferior 1".into(),
            "detach".into(),
        ],
    );
    assert!(!log.contains("packet reply is too long") && !log.contains("Could not read registers"), "{log}");
    assert!(log.lines().any(|l| l.starts_with("#0") && l.contains("main")), "the second's stack:\n{log}");
    for program in &programs {
        assert!(log.contains(&format!("process {}", program.pid())), "{log}");
    }
}

#[test]
fn a_process_killed_while_stopped_keeps_its_pc_and_ends_on_continue() {
    // gdbserver answers from what it knows of the stop: the general
    // registers, and `x` for the vector ones it can no longer read. gdb
    // then resumes and hears of the end; an error reply would stop it.
    let counter = fixture("counter");
    let log = gdb(
        &counter,
        &[
            "set confirm off".into(),
            format!("target remote | {SERVER} - {} 3", counter.display()),
            "break bump".into(),
            "continue".into(),
            r#"python gdb.execute("shell kill -9 %d" % gdb.selected_inferior().pid)"#.into(),
            "shell sleep 0.2".into(),
            "maint flush register-cache".into(),
            "info registers rip".into(),
            "print $xmm0.v4_int32".into(),
            "continue".into(),
        ],
    );
    assert!(log.lines().any(|l| l.starts_with("rip") && l.contains("<bump+")), "{log}");
    assert!(log.contains("$1 = <unavailable>"), "{log}");
    assert!(log.contains("Program terminated with signal SIGKILL"), "{log}");
    assert!(!log.contains("Could not read registers"), "{log}");
}

#[test]
fn a_client_gone_kills_a_launched_inferior_and_lets_an_attached_one_go() {
    // gdbserver's rule, process by process: when the client goes (here
    // `monitor exit`), the attached inferior is detached even when the
    // launched one is the current process.
    let spin = fixture("spin");
    let mut attached = Program::start("spin");
    let server = Server::start(&["--multi", "127.0.0.1:0"]);
    let log = gdb(
        &spin,
        &[
            "set confirm off".into(),
            format!("target extended-remote 127.0.0.1:{}", server.port),
            format!("attach {}", attached.pid()),
            "add-inferior".into(),
            "inferior 2".into(),
            format!("file {}", spin.display()),
            format!("set remote exec-file {}", spin.display()),
            "break main".into(),
            "run".into(),
            "info inferiors".into(),
            "monitor exit".into(),
        ],
    );
    let launched = log
        .lines()
        .find(|l| l.trim_start().starts_with("* 2") || l.trim_start().starts_with("2 "))
        .and_then(|l| l.split("process ").nth(1)?.split_whitespace().next()?.parse::<i32>().ok())
        .unwrap_or_else(|| panic!("no process for inferior 2:\n{log}"));
    std::thread::sleep(Duration::from_millis(300));
    assert!(attached.running(), "the attached program was killed:\n{log}");
    assert_eq!(tracer_of(attached.pid()), Some(0), "the attached program is let go:\n{log}");
    assert!(!alive(launched), "the launched program is killed:\n{log}");
}

#[test]
fn lldb_connects_breaks_steps_and_lists_threads_and_modules() {
    let counter = fixture("counter");
    let server = Server::start(&["127.0.0.1:0", counter.to_str().unwrap(), "3"]);
    let out = Command::new("lldb")
        .args(["--batch", "--no-lldbinit"])
        .args(["-o", &format!("gdb-remote {}", server.port)])
        .args(["-o", "breakpoint set -n bump", "-o", "continue", "-o", "register read rip"])
        .args(["-o", "memory read -fx -s8 -c1 $rsp", "-o", "thread list", "-o", "image list"])
        .args(["-o", "thread step-inst", "-o", "register read rip", "-o", "kill"])
        .arg(&counter)
        .stdin(Stdio::null())
        .output()
        .expect("lldb (scripts/setup installs it)");
    let log = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("stop reason = breakpoint 1.1"), "{log}");
    assert!(log.contains("counter`bump"), "{log}");
    let rips: Vec<u64> = log
        .lines()
        .filter_map(|l| l.trim().strip_prefix("rip = 0x")?.split_whitespace().next())
        .filter_map(|h| u64::from_str_radix(h, 16).ok())
        .collect();
    assert_eq!(rips.len(), 2, "{log}");
    assert!(rips[1] > rips[0], "a step moves rip on: {log}");
    assert!(log.contains("libc.so.6") && log.contains("ld-linux-x86-64.so.2"), "image list:\n{log}");
    assert!(log.contains("thread #1: tid = "), "thread list:\n{log}");
    assert!(log.contains("0x00005555555551b2") || log.contains(": 0x"), "memory read:\n{log}");
}

#[test]
fn gdb_reads_thread_local_variables_through_the_server() {
    let tls = fixture("tls");
    let commands = |start: &[String]| -> Vec<String> {
        let mut c = vec!["set confirm off".to_string(), "break check".to_string()];
        c.extend_from_slice(start);
        c.extend(["print tls_value", "continue", "print tls_value"].map(String::from));
        c
    };
    let native = gdb(&tls, &commands(&["run".into()]));
    let remote = gdb(&tls, &commands(&[format!("target remote | {SERVER} - {}", tls.display()), "continue".into()]));
    let values = |log: &str| log.lines().filter(|l| l.starts_with('$')).map(str::to_string).collect::<Vec<_>>();
    assert_eq!(values(&native), ["$1 = 42", "$2 = 1"], "gdb alone:\n{native}");
    assert_eq!(values(&remote), values(&native), "through the server:\n{remote}");
}

#[test]
fn gdb_reads_the_signal_info_of_a_fault_through_the_server() {
    let crash = fixture("crash");
    let commands = |start: &[String]| -> Vec<String> {
        let mut c = vec!["set confirm off".to_string()];
        c.extend_from_slice(start);
        c.extend(["print $_siginfo.si_signo", "print $_siginfo._sifields._sigfault.si_addr"].map(String::from));
        c
    };
    let native = gdb(&crash, &commands(&["run".into()]));
    let remote =
        gdb(&crash, &commands(&[format!("target remote | {SERVER} - {}", crash.display()), "continue".into()]));
    let values = |log: &str| log.lines().filter(|l| l.starts_with('$')).map(str::to_string).collect::<Vec<_>>();
    assert_eq!(values(&native), ["$1 = 11", "$2 = (void *) 0x0"], "gdb alone:\n{native}");
    assert_eq!(values(&remote), values(&native), "through the server:\n{remote}");
}

#[test]
fn gdb_catches_system_calls_through_the_server_as_on_its_own() {
    let watch = fixture("watch");
    let commands = |start: &[String]| -> Vec<String> {
        let mut c = vec!["set confirm off".to_string()];
        c.extend_from_slice(start);
        c.extend(["catch syscall getpid", "continue", "continue", "continue", "delete", "continue"].map(String::from));
        c
    };
    let native = gdb(&watch, &commands(&["starti 1 1".into()]));
    let remote = gdb(&watch, &commands(&[format!("target remote | {SERVER} - {} 1 1", watch.display())]));
    // `[Thread 1 "watch" hit ]Catchpoint 1 (call to syscall getpid), __GI_getpid () at ...`:
    // from `Catchpoint` up to the first comma.
    let caught = |log: &str| {
        log.lines()
            .filter_map(|l| l.find("Catchpoint 1 (").map(|at| &l[at..]))
            .map(|l| l.split(',').next().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let expected = [
        "Catchpoint 1 (syscall 'getpid' [39])",
        "Catchpoint 1 (call to syscall getpid)",
        "Catchpoint 1 (returned from syscall getpid)",
        "Catchpoint 1 (call to syscall getpid)",
    ];
    assert_eq!(caught(&native), expected, "gdb alone:\n{native}");
    assert_eq!(caught(&remote), expected, "through the server:\n{remote}");
    // Once the catchpoint is deleted the program runs to its end.
    assert!(remote.contains("exited normally"), "{remote}");
}

#[test]
fn a_locked_thread_that_exits_leaves_the_others_stopped() {
    let watch = fixture("watch");
    // The worker thread runs alone under the lock to its end: gdb hears
    // that nothing runs any more, and main, locked, has not run.
    let log = gdb(
        &watch,
        &[
            "set confirm off".into(),
            format!("target remote | {SERVER} - {} 1 3", watch.display()),
            "break run".into(),
            "continue".into(),
            "delete".into(),
            "set scheduler-locking on".into(),
            "continue".into(),
            "info threads".into(),
            "print counter".into(),
            "kill".into(),
        ],
    );
    assert!(log.contains("No unwaited-for children left."), "{log}");
    assert!(log.contains("$1 = 3"), "the worker finished its loop:\n{log}");
    assert!(
        log.lines().any(|l| l.trim_start().starts_with("1 ") && l.contains("Thread ") && l.contains("\"watch\"")),
        "the main thread is still there, stopped:\n{log}"
    );
    assert!(!log.contains("exited normally"), "main did not run:\n{log}");
}

#[test]
fn in_non_stop_mode_one_thread_stops_while_the_others_run() {
    let nonstop = fixture("nonstop");
    let log = gdb(
        &nonstop,
        &[
            "set confirm off".into(),
            "set non-stop on".into(),
            format!("target remote | {SERVER} - {}", nonstop.display()),
            "break parked".into(),
            "continue".into(),
            "print counter".into(),
            "shell sleep 0.2".into(),
            "print counter".into(),
            "info threads".into(),
            "set var stop = 1".into(),
            "thread 2".into(),
            "next".into(),
            "continue".into(),
        ],
    );
    assert!(log.contains("Thread 2 \"nonstop\" hit Breakpoint 1, parked ()"), "{log}");
    let value = |name: &str| -> u64 {
        let line = log.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("no {name} in:\n{log}"));
        line.rsplit(' ').next().and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("{line}"))
    };
    assert!(value("$2 = ") > value("$1 = "), "main counted while the worker was stopped:\n{log}");
    assert!(log.lines().any(|l| l.contains("Thread ") && l.contains("(running)")), "gdb sees main running:\n{log}");
    assert!(log.contains("worker (arg=0x0) at"), "the worker stepped back into worker():\n{log}");
    assert!(log.contains("exited normally"), "main saw `stop` and the program ended:\n{log}");
}

#[test]
fn gdb_follows_a_forked_child_through_the_server() {
    let forker = fixture("forker");
    let run = |mode: &str| {
        gdb(
            &forker,
            &[
                "set confirm off".into(),
                format!("set follow-fork-mode {mode}"),
                format!("target remote | {SERVER} - {}", forker.display()),
                "break hit".into(),
                "continue".into(),
                "continue".into(),
                "bt".into(),
                "continue".into(),
                "continue".into(),
            ],
        )
    };
    // The child: the parent is detached, the child's own hit() stops, and its exit is the end.
    let child = run("child");
    assert!(child.contains("[Detaching after fork from parent process"), "{child}");
    assert!(child.contains("Thread 2.1 \"forker\" hit Breakpoint 1, hit ()"), "{child}");
    assert!(child.contains("in main () at") && child.contains("forker.c:12"), "the child's call:\n{child}");
    assert!(child.contains("exited with code 03"), "{child}");
    // The parent: the child goes free of breakpoints, the parent's second hit() stops.
    let parent = run("parent");
    assert!(parent.contains("[Detaching after fork from child process"), "{parent}");
    assert!(parent.contains("forker.c:15"), "the parent's second call:\n{parent}");
    assert!(parent.contains("child exited 3, parent hits 2"), "{parent}");
    assert!(parent.contains("exited normally"), "{parent}");
    // Detaching at a fork stop lets both go: gdb detaches the parent first,
    // and the child, not followed, goes with the connection.
    let mut server = Server::start(&["--once", "127.0.0.1:0", forker.to_str().unwrap()]);
    let detached = gdb(
        &forker,
        &[
            "set confirm off".into(),
            format!("target remote 127.0.0.1:{}", server.port),
            "catch fork".into(),
            "continue".into(),
            "detach".into(),
        ],
    );
    assert!(detached.contains("Catchpoint 1 (forked process"), "{detached}");
    assert!(server.wait_exit(Duration::from_secs(20)).is_some(), "the server ends with its one client");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut said = Vec::new();
    while !said.iter().any(|l: &String| l.contains("child exited")) && std::time::Instant::now() < deadline {
        said.extend(server.output());
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(said.iter().filter(|l| l.starts_with("Detaching from process")).count(), 2, "{said:?}");
    assert!(said.iter().any(|l| l == "child exited 3, parent hits 2"), "both ran to their end: {said:?}");
}

#[test]
fn a_locked_leader_that_exits_leaves_the_others_stopped() {
    let leader_exit = fixture("leader_exit");
    // main runs alone under the lock into pthread_exit: the system reports
    // nothing while the worker lives, and gdb still hears that nothing runs.
    let log = gdb(
        &leader_exit,
        &[
            "set confirm off".into(),
            format!("target remote | {SERVER} - {}", leader_exit.display()),
            "break leader_exit.c:21".into(),
            "continue".into(),
            "set scheduler-locking on".into(),
            "continue".into(),
            "info threads".into(),
            "set scheduler-locking off".into(),
            "thread 2".into(),
            "continue".into(),
        ],
    );
    assert!(log.contains("No unwaited-for children left."), "{log}");
    assert!(log.contains("The current thread <Thread ID 1> has terminated"), "{log}");
    assert!(log.contains("worker hits 5") && log.contains("exited normally"), "the worker went on after:\n{log}");
}

#[test]
fn a_task_cloned_without_its_own_memory_is_a_thread_gdb_stops_in() {
    let program = fixture("clone_vm");
    let out = gdb(
        &program,
        &[
            "set confirm off".into(),
            format!("target remote | {SERVER} - {}", program.display()),
            "break in_clone".into(),
            "continue".into(),
            "info threads".into(),
            "continue".into(),
        ],
    );
    assert!(out.contains("hit Breakpoint 1, in_clone ()"), "the breakpoint is told with its place:\n{out}");
    let listed = out
        .lines()
        .map(|l| l.trim_start_matches('*').trim_start())
        .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()) && l.contains("Thread "))
        .count();
    assert_eq!(listed, 2, "info threads lists main and the cloned task:\n{out}");
    assert!(out.contains("exited normally"), "{out}");
}

#[test]
fn detaching_at_a_fork_catchpoint_lets_the_child_run_at_once() {
    // The parent waits for its child, then exits 0: it ends only if both
    // run on after gdb detached them, while gdb is still there. (Its output
    // is no witness: it reaches gdb through the server's error channel,
    // which gdb reads only while it talks to the server.)
    let program = fixture("forker");
    for non_stop in ["off", "on"] {
        let out = gdb(
            &program,
            &[
                "set confirm off".into(),
                format!("maint set target-non-stop {non_stop}"),
                format!("target remote | {SERVER} - {}", program.display()),
                "catch fork".into(),
                "continue".into(),
                "python parent = gdb.selected_inferior().pid".into(),
                "detach".into(),
                "shell sleep 1".into(),
                PROGRAM_STATE.into(),
            ],
        );
        assert!(out.contains("Catchpoint 1 (forked process"), "{out}");
        assert!(out.contains("[Inferior 1 (process") && out.contains(") detached]"), "non-stop {non_stop}:\n{out}");
        assert!(!out.contains("Remote communication error"), "the server stays, non-stop {non_stop}:\n{out}");
        let state = out.lines().find_map(|l| l.strip_prefix("PROGRAM-STATE ")).unwrap_or_else(|| panic!("{out}"));
        assert!(
            state == "Z 0" || state == "gone",
            "the parent ran to its normal end after gdb detached both, before gdb left (state {state}):\n{out}"
        );
    }
}

/// gdb Python printing `PROGRAM-STATE` and the state and exit status of
/// process `parent` (a zombie that exited 0 is `Z 0`), or `gone` once reaped.
const PROGRAM_STATE: &str =
    "python exec(\"try:\\n  st = open('/proc/%d/stat' % parent).read().rsplit(')', 1)[1].split()\\n  \
     print('PROGRAM-STATE %s %s' % (st[0], st[49]))\\nexcept OSError:\\n  print('PROGRAM-STATE gone')\")";

#[test]
fn a_breakpoint_in_a_page_the_program_unmapped_cannot_be_removed_and_gdb_says_so() {
    // gdbserver's write of the original byte fails there; gdb warns.
    let program = fixture("unmaps_code");
    let out = gdb(
        &program,
        &[
            "set confirm off".into(),
            format!("target remote | {SERVER} - {}", program.display()),
            "set breakpoint always-inserted on".into(),
            "break mapped".into(),
            "break unmapped".into(),
            "continue".into(),
            "break *page".into(),
            "continue".into(),
            "continue".into(),
            "delete 3".into(),
            "delete 1".into(),
            "continue".into(),
        ],
    );
    assert!(out.contains("Breakpoint 2, "), "{out}");
    assert!(out.contains("Error removing breakpoint 3"), "gdb is told the byte could not go:\n{out}");
    assert!(!out.contains("Error removing breakpoint 1"), "a mapped one goes quietly:\n{out}");
    assert!(out.contains("exited normally"), "{out}");
}

#[test]
fn a_library_loaded_into_a_new_namespace_is_listed_and_breaks() {
    // dlmopen(LM_ID_NEWLM): the library is on a second r_debug, chained
    // from the first; gdb learns of it only from the server's list.
    let program = fixture("dlopener");
    let library = fixture("libfixture.so");
    let out = gdb(
        &program,
        &[
            "set confirm off".into(),
            "set breakpoint pending on".into(),
            format!("target remote | {SERVER} - {} {} newlm", program.display(), library.display()),
            "break fixture_function".into(),
            "continue".into(),
            "info sharedlibrary".into(),
            "continue".into(),
        ],
    );
    assert!(out.contains("Breakpoint 1, fixture_function"), "{out}");
    assert!(out.lines().any(|l| l.contains("libfixture.so") && l.contains("Yes")), "listed with its symbols:\n{out}");
    assert!(out.contains("exited normally"), "{out}");
}

#[test]
fn a_signal_held_over_a_function_call_keeps_its_sender() {
    // The call's own stops replace the thread's signal information; gdb
    // writes the saved one back (qXfer:siginfo:write) before delivering.
    let program = fixture("siginfo_call");
    let out = gdb(
        &program,
        &[
            "set confirm off".into(),
            format!("target remote | {SERVER} - {}", program.display()),
            "continue".into(),
            "print callme()".into(),
            "print $_siginfo.si_signo".into(),
            "continue".into(),
        ],
    );
    assert!(out.contains("received signal SIGUSR1"), "{out}");
    assert!(out.contains("= 42"), "the call ran:\n{out}");
    assert!(out.contains("= 10"), "$_siginfo is the signal's:\n{out}");
    assert!(out.contains("from self: 1"), "the handler saw the program as the sender:\n{out}");
}

#[test]
fn a_breakpoint_in_a_library_loaded_where_an_unloaded_one_was_is_planted_again() {
    // gdb sends no z0 for a breakpoint whose library went away; when the
    // next library is mapped at the same place, its Z0 there must plant.
    let program = fixture("reloader");
    let (one, two) = (fixture("libdup1.so"), fixture("libdup2.so"));
    let out = gdb(
        &program,
        &[
            "set confirm off".into(),
            "set breakpoint pending on".into(),
            format!("target remote | {SERVER} - {} {} {}", program.display(), one.display(), two.display()),
            "break shared_name".into(),
            "continue".into(),
            "continue".into(),
            "continue".into(),
        ],
    );
    assert_eq!(out.matches("Breakpoint 1, shared_name").count(), 2, "a hit in each library:\n{out}");
    assert!(out.contains("shared_name(10)=11") && out.contains("shared_name(10)=12"), "{out}");
    assert!(out.contains("exited normally"), "{out}");
}

#[test]
fn jumping_to_a_breakpoint_hits_it_at_once() {
    // gdb steps over a breakpoint by taking it out first; resumed on one it
    // left in (`jump *$pc`), the thread hits it again before anything runs.
    let program = fixture("counter");
    let out = gdb(
        &program,
        &[
            "set confirm off".into(),
            format!("target remote | {SERVER} - {} 5", program.display()),
            "break bump".into(),
            "continue".into(),
            "jump *$pc".into(),
            "print i".into(),
            "continue".into(),
            "print i".into(),
            "delete".into(),
            "continue".into(),
        ],
    );
    assert_eq!(out.matches("Breakpoint 1, ").count(), 3, "{out}");
    let printed: Vec<&str> = out.lines().filter(|l| l.starts_with('$')).collect();
    assert_eq!(printed, ["$1 = 0", "$2 = 1"], "the jump hit the same call again:\n{out}");
    assert!(out.contains("exited normally"), "{out}");
}

/// Runs `fork_both_hit` (parent and child hit `hit` 50 times each, in
/// lockstep, so only both running gets either on) with gdb in `mode` and
/// `detach-on-fork off`, counting every hit of each process. The child's
/// end comes after both processes' last hit; the parent's end is looked
/// for only when `after_first_continue` waits for it.
fn both_processes_hit_50_times_each(mode: &str, after_first_continue: &[&str]) {
    let program = fixture("fork_both_hit");
    let mut commands = vec![
        "set confirm off".to_string(),
        mode.to_string(),
        "set detach-on-fork off".into(),
        format!("target remote | {SERVER} - {}", program.display()),
        "dprintf hit,\"hit in inferior %d\\n\", $_inferior".into(),
        "continue".into(),
    ];
    commands.extend(after_first_continue.iter().map(|c| c.to_string()));
    let out = gdb(&program, &commands);
    assert_eq!(out.matches("hit in inferior 1").count(), 50, "{out}");
    assert_eq!(out.matches("hit in inferior 2").count(), 50, "{out}");
    assert!(out.contains("exited with code 07]"), "{out}");
    if !after_first_continue.is_empty() {
        assert!(out.contains("child exited 7, parent hits 50"), "{out}");
    }
}

#[test]
fn schedule_multiple_runs_two_processes_at_once_and_loses_no_hit() {
    // gdb's `schedule-multiple on`: `vCont;c` names no process, and the
    // parent and its kept child both run. Every stop of one process stops
    // the other, which may be at a hit of its own just then: that hit is
    // told at the next resume, not lost. The child's end stops gdb; the
    // parent goes on after it.
    both_processes_hit_50_times_each("set schedule-multiple on", &["inferior 1", "continue"]);
}

#[test]
fn non_stop_runs_two_processes_at_once_and_loses_no_hit() {
    // Non-stop mode: the parent and its child run side by side, each
    // stopping and going on alone (gdb steps each over the breakpoint in
    // its own memory). gdb's `continue` ends with the child's end, and
    // the parent is killed as gdb quits.
    both_processes_hit_50_times_each("set non-stop on", &[]);
}

#[test]
fn detaching_a_kept_child_killed_from_outside_succeeds() {
    // One process of several, stopped at a breakpoint, is killed by
    // someone else: gdb's `detach` of it finds nothing to let go and must
    // succeed (as with gdbserver), leaving the parent debugged.
    let program = fixture("forker");
    let out = gdb(
        &program,
        &[
            "set confirm off".into(),
            "set detach-on-fork off".into(),
            "set schedule-multiple on".into(),
            format!("target remote | {SERVER} - {}", program.display()),
            "break hit".into(),
            "continue".into(),
            "continue".into(),
            "python import os, signal, time; os.kill(gdb.selected_inferior().pid, signal.SIGKILL); time.sleep(0.2)"
                .into(),
            "detach".into(),
            "info inferiors".into(),
            "inferior 1".into(),
            "delete".into(),
            "continue".into(),
        ],
    );
    assert!(out.contains("Thread 2.1") && out.contains("hit Breakpoint 1"), "the child stopped:\n{out}");
    assert!(!out.contains("Can't detach"), "{out}");
    assert!(out.contains("[Inferior 2 (process") && out.contains(" detached]"), "{out}");
    assert!(out.contains("child exited -1, parent hits 2"), "the parent saw its child killed:\n{out}");
}

#[test]
fn gdb_keeps_a_forked_child_beside_its_parent_with_detach_on_fork_off() {
    // Two inferiors on one connection: gdb follows the child, which runs
    // to its end while the parent waits stopped; then the parent goes on.
    let program = fixture("forker");
    let out = gdb(
        &program,
        &[
            "set confirm off".into(),
            "set detach-on-fork off".into(),
            "set follow-fork-mode child".into(),
            format!("target remote | {SERVER} - {}", program.display()),
            "break hit".into(),
            "continue".into(),
            "continue".into(),
            "info inferiors".into(),
            "continue".into(),
            "inferior 1".into(),
            "continue".into(),
            "continue".into(),
        ],
    );
    assert!(out.contains("[New inferior 2 (process"), "{out}");
    assert!(
        out.contains("Thread 2.1") && out.contains("hit Breakpoint 1"),
        "the child stops at the breakpoint:\n{out}"
    );
    let listed = out.lines().filter(|l| l.contains("process ") && l.contains("(remote")).count();
    assert_eq!(listed, 2, "both processes are inferiors:\n{out}");
    assert!(out.contains("[Inferior 2 (process") && out.contains("exited with code 03]"), "{out}");
    assert!(out.contains("child exited 3, parent hits 2"), "the parent ran on after its child:\n{out}");
}

#[test]
fn next_over_vfork_following_the_child_stops_in_the_child() {
    // gdb keeps the vfork parent (the child runs in its memory) and steps
    // on in the child: its step-resume breakpoint, planted for the child,
    // must not be taken out with the parent's breakpoints.
    let program = fixture("vfork_exit");
    let out = gdb(
        &program,
        &[
            "set confirm off".into(),
            format!("target remote | {SERVER} - {}", program.display()),
            "break main".into(),
            "continue".into(),
            "set follow-fork-mode child".into(),
            "next".into(),
            "info inferiors".into(),
            "continue".into(),
        ],
    );
    assert!(out.contains("vfork to child"), "{out}");
    assert!(out.contains("if (pid == 0)"), "the step ends on the next line, in the child:\n{out}");
    assert!(out.contains("is vfork child of inferior 1"), "{out}");
    assert!(out.contains("exited with code 07]"), "{out}");
}

#[test]
fn info_os_lists_the_program_leading_its_own_process_group() {
    // qXfer:osdata, read in parts from one document; the launched program
    // leads a process group of its own, as under gdbserver.
    let program = fixture("counter");
    let out = gdb(
        &program,
        &[
            format!("target remote | {SERVER} - {} 5", program.display()),
            "info os procgroups".into(),
            "info os files".into(),
            "info os unknown_entry".into(),
        ],
    );
    let pid = out
        .lines()
        .find_map(|l| l.strip_prefix("Process ").and_then(|l| l.rsplit_once("pid = ")).map(|(_, pid)| pid.trim()))
        .unwrap_or_else(|| panic!("the server names the pid:\n{out}"));
    let leads_its_group = out.lines().any(|l| {
        let columns: Vec<&str> = l.split_whitespace().collect();
        columns.len() >= 3 && columns[0] == pid && columns[1] == "counter" && columns[2] == pid
    });
    assert!(leads_its_group, "pgid = pid for the program:\n{out}");
    assert!(!out.contains("while parsing osdata"), "each document reads whole:\n{out}");
    assert!(out.contains("Wrong osdata type"), "an unknown type is said so:\n{out}");
}

#[test]
fn thread_local_variables_of_a_static_program_read_through_the_server() {
    // qGetTLSAddr with no link map: the executable is TLS module 1, and
    // glibc's debugger descriptors are the executable's own symbols.
    let program = fixture("static_tls");
    let out = gdb(
        &program,
        &[
            format!("target remote | {SERVER} - {}", program.display()),
            "break marker".into(),
            "continue".into(),
            "print tlsvar".into(),
            "continue".into(),
            "print tlsvar".into(),
            "continue".into(),
        ],
    );
    let printed: Vec<&str> = out.lines().filter(|l| l.starts_with('$')).collect();
    assert_eq!(printed, ["$1 = 42", "$2 = 99"], "each thread's own copy:\n{out}");
    assert!(out.contains("main's tlsvar 42"), "{out}");
}

#[test]
fn conditions_and_agent_dprintf_run_in_the_server() {
    // gdb hands the condition (and the dprintf) to the server as bytecode:
    // of fifty hits only the true one reaches gdb, and the dprintf prints
    // from the server without stopping at all.
    let counter = fixture("counter");
    let out = gdb(
        &counter,
        &[
            "set breakpoint condition-evaluation target".into(),
            "break bump if i == 37 && value == 1".into(),
            format!("target remote | {SERVER} - {} 50", counter.display()),
            "set debug remote 1".into(),
            "continue".into(),
            "set debug remote 0".into(),
            "print i".into(),
            "info breakpoints".into(),
            "set dprintf-style agent".into(),
            r#"dprintf bump,"i=%d value=%ld\n",i,value"#.into(),
            "delete 1".into(),
            "set debug remote 1".into(),
            "continue".into(),
        ],
    );
    assert!(out.contains("Breakpoint 1, bump (i=37)"), "{out}");
    assert!(out.contains("(target evals)"), "gdb gave the condition to the server:\n{out}");
    // Stops at bump's breakpoint: `rip` (register 0x10) there, little-endian.
    let address = out.split("Dprintf 2 at 0x").nth(1).and_then(|s| s.split(':').next()).expect("dprintf address");
    let address = u64::from_str_radix(address, 16).unwrap();
    let rip = format!("10:{};", address.to_le_bytes().iter().map(|b| format!("{b:02x}")).collect::<String>());
    let stops = out.lines().filter(|l| l.contains("Packet received: T05") && l.contains(&rip)).count();
    assert_eq!(stops, 1, "one stop for the one true condition, none for the dprintf ({rip}):\n{out}");
    let printed: Vec<&str> = out.lines().filter(|l| l.starts_with("i=")).collect();
    let expected: Vec<String> = (38..50).map(|i| format!("i={i} value=1")).collect();
    assert_eq!(printed, expected, "each dprintf printed by the server:\n{out}");
    assert!(out.contains("sum=1275 value=1"), "{out}");
}

/// A `stepi` off a breakpoint with a signal (SIGCHLD, which gdb passes
/// silently, with no handler in the program) pending: `extra` are gdb
/// commands given first. The pc after it and the loop counter, through the
/// server and with gdb alone.
fn stepi_with_a_pending_signal(extra: &[&str]) -> (Vec<String>, Vec<String>) {
    let counter = fixture("counter");
    let commands = |start: &[String]| -> Vec<String> {
        let mut c = vec!["set confirm off".to_string(), "break *bump".to_string()];
        c.extend_from_slice(start);
        c.extend(extra.iter().map(|e| e.to_string()));
        c.push("python gdb.execute('shell kill -CHLD %d' % gdb.selected_inferior().pid)".into());
        c.push("stepi".into());
        c.push("print $pc - (char *) bump".into());
        c.push("print i".into());
        c
    };
    let native = gdb(&counter, &commands(&["run 3".into()]));
    let remote =
        gdb(&counter, &commands(&[format!("target remote | {SERVER} - {} 3", counter.display()), "continue".into()]));
    let printed = |out: &str| out.lines().filter(|l| l.starts_with('$')).map(str::to_string).collect::<Vec<_>>();
    assert_eq!(printed(&native).len(), 2, "gdb alone:\n{native}");
    (printed(&remote), printed(&native))
}

#[test]
fn a_signal_that_comes_as_gdb_steps_over_a_breakpoint_still_ends_the_step_there() {
    // The step is cut short by the signal, which gdb then passes with a
    // continue, the breakpoint put back: the thread must trap there again
    // before gdb steps once more, not run away.
    let (remote, native) = stepi_with_a_pending_signal(&[]);
    assert_eq!(remote, native, "through the server");
}

#[test]
fn a_signal_gdb_steps_into_from_a_breakpoint_with_no_handler_traps_there() {
    // With a software watchpoint gdb single-steps everything, so it passes
    // the signal with a step, the breakpoint put back: with no handler to
    // run, the thread traps on the breakpoint, and gdb steps over it again.
    let (remote, native) = stepi_with_a_pending_signal(&["watch $convenience"]);
    assert_eq!(remote, native, "through the server");
}

#[test]
fn a_call_gdb_makes_returns_even_when_gdb_passes_segfaults() {
    // gdb's return address for a call it makes is a breakpoint on the
    // (non-executable) stack: the return faults there, and that SIGSEGV is
    // the breakpoint, which gdb must see although it passes SIGSEGV.
    let counter = fixture("counter");
    let out = gdb(
        &counter,
        &[
            "break bump".into(),
            format!("target remote | {SERVER} - {} 3", counter.display()),
            "continue".into(),
            "delete".into(),
            "handle SIGSEGV nostop noprint pass".into(),
            "handle SIGILL nostop noprint pass".into(),
            "print bump(41)".into(),
            "print i".into(),
        ],
    );
    let printed: Vec<&str> = out.lines().filter(|l| l.starts_with('$')).collect();
    assert_eq!(printed, ["$1 = 42", "$2 = 0"], "{out}");
}

#[test]
fn a_signal_gdb_passes_stops_a_step_so_gdb_runs_the_handler_to_its_breakpoint() {
    // A passed signal that arrives while gdb steps a thread reaches gdb (as
    // gdbserver leaves it to gdb), which runs the handler and meets the
    // breakpoint there; passed on silently, the step would end inside it.
    let program = fixture("handler_step");
    let commands = |start: &[String]| -> Vec<String> {
        let mut c = vec!["set confirm off".to_string(), "break tick".to_string()];
        c.extend_from_slice(start);
        c.push("handle SIGUSR1 nostop noprint pass".into());
        c.push("break on_usr1".into());
        // Off the breakpoint first: gdb stops passing signals while it steps over one.
        c.push("stepi".into());
        c.push("python gdb.execute('shell kill -USR1 %d' % gdb.selected_inferior().pid)".into());
        c.push("stepi".into());
        c.push("print $pc == (char *) on_usr1".into());
        c.push("bt 1".into());
        c
    };
    let native = gdb(&program, &commands(&["run".into()]));
    let remote =
        gdb(&program, &commands(&[format!("target remote | {SERVER} - {}", program.display()), "continue".into()]));
    let shown = |out: &str| {
        out.lines()
            .filter(|l| l.starts_with('$') || l.starts_with("Breakpoint 2,") || l.starts_with("#0"))
            .map(|l| l.split(" at ").next().unwrap_or(l).to_string())
            .collect::<Vec<_>>()
    };
    assert!(native.contains("Breakpoint 2, on_usr1"), "gdb alone:\n{native}");
    assert_eq!(shown(&remote), shown(&native), "through the server:\n{remote}\ngdb alone:\n{native}");
}
