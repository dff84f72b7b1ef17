//! dbgkit's own engine debugs Windows programs under Wine: the stub runs a
//! mingw-built program and `dbgkit::Session::connect` adopts it as a
//! remote Windows process (PE executable, DLLs from the stub's list, PE
//! symbols and DWARF, debug strings as events). The same harness as
//! `wine.rs`; `scripts/windows-tests` sets everything up and runs these.

mod wine_harness;

use dbgkit::{ContinueStatus, Event, EventKind, ExceptionCode, Session, WatchAccess};
use std::process::{Command, Stdio};
use std::time::Duration;
use wine_harness::*;

/// The next event (a minute at most: Wine is slow to start).
fn next(s: &mut Session) -> Event {
    s.wait_event(Some(Duration::from_secs(60))).expect("waiting works").expect("an event within a minute")
}

/// Continues events until one matches; returns it, and every event seen before it.
fn run_until(s: &mut Session, wanted: impl Fn(&Event) -> bool) -> (Event, Vec<Event>) {
    let mut seen = Vec::new();
    loop {
        let e = next(s);
        // Shown when the test fails.
        eprintln!("event: {e:?}");
        if wanted(&e) {
            return (e, seen);
        }
        seen.push(e);
        s.continue_event(ContinueStatus::Handled).expect("the event continues");
    }
}

/// A Windows program's first stop, as WinDbg reports it: the system's
/// breakpoint exception (the loader's int3, or an attach's break-in).
fn is_initial_break(e: &Event) -> bool {
    matches!(e.kind, EventKind::Exception { os_code: ExceptionCode::NtStatus(0x8000_0003), first_chance: true, .. })
}

/// The stub started on `program`, and a session connected to it.
fn connect(options: &[&str], program_name: &str, args: &[&str]) -> (Stub, Session, i32) {
    let stub = Stub::start(options, program_name, args);
    let mut session = Session::new();
    let pid = session
        .connect(&format!("127.0.0.1:{}", stub.port), Some(&program(program_name)))
        .expect("dbgkit adopts the Windows process");
    (stub, session, pid)
}

/// Module!function (file:line) of each frame.
fn frames(s: &mut Session, pid: i32, tid: i32) -> Vec<String> {
    let stack = s.stack(pid, tid).expect("the stack is walked");
    stack.frames.iter().map(|f| f.symbol.as_ref().map(|p| p.with_location()).unwrap_or_default()).collect()
}

#[test]
#[ignore = "needs Wine, mingw-w64 and the Windows build: scripts/windows-tests runs it"]
fn dbgkit_launches_breaks_steps_inspects_and_detaches() {
    if !enabled("dbgkit_launches_breaks_steps_inspects_and_detaches") {
        return;
    }
    let (stub, mut s, pid) = connect(&["--library-events"], "debuggee.exe", &[]);

    // The present, replayed: the program at its image base, ntdll and
    // kernel32 from the stub's list (Wine's Z: names as files here), then
    // the loader's initial breakpoint, as the breakpoint exception WinDbg shows.
    let (initial, replayed) = run_until(&mut s, is_initial_break);
    let created = replayed.iter().find_map(|e| match &e.kind {
        EventKind::ProcessCreated { image, base, .. } => Some((image.clone(), *base)),
        _ => None,
    });
    assert_eq!(created, Some((program("debuggee.exe"), 0x1_4000_0000)), "{replayed:?}");
    let loaded: Vec<String> = replayed
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::ModuleLoaded(m) => Some(m.name.to_lowercase()),
            _ => None,
        })
        .collect();
    assert!(loaded.contains(&"ntdll.dll".into()) && loaded.contains(&"kernel32.dll".into()), "{loaded:?}");
    let ntdll = s.modules(pid).unwrap().into_iter().find(|m| m.name.eq_ignore_ascii_case("ntdll.dll")).unwrap();
    assert!(ntdll.path.is_file(), "ntdll.dll is found on this machine: {}", ntdll.path.display());
    let rip = s.registers(pid, initial.tid).unwrap().rip;
    let place = s.symbolize(pid, rip).unwrap();
    assert_eq!(place.module.as_deref().map(str::to_lowercase).as_deref(), Some("ntdll.dll"), "{place:?}");

    // A breakpoint by name (the PE's symbols), and one pending in a DLL
    // the program loads later.
    let target_func = s.lookup(pid, "debuggee!target_func").expect("PE symbols are read");
    let on_target = s.add_breakpoint_at(pid, "debuggee!target_func", Default::default()).unwrap();
    let on_dll = s.add_breakpoint_at(pid, "testdll!dll_func", Default::default()).unwrap();
    // The stub runs the instruction under it out of line.
    let planted = s.monitor(pid, "breakpoints").unwrap();
    assert!(planted.contains("out-of-line"), "{planted}");
    // A hardware watchpoint, set before the thread that writes exists.
    let worker_runs = s.lookup(pid, "debuggee!worker_runs").unwrap();
    let watch = s.add_watchpoint(pid, worker_runs, 4, WatchAccess::Write).unwrap();
    s.continue_event(ContinueStatus::Handled).unwrap();

    let (written, mut before) = run_until(&mut s, |e| matches!(e.kind, EventKind::Watchpoint { .. }));
    assert!(matches!(written.kind, EventKind::Watchpoint { id, address, .. } if id == watch && address == worker_runs));
    assert_ne!(written.tid, initial.tid, "the worker thread wrote it");
    let stack = frames(&mut s, pid, written.tid);
    assert!(stack[0].starts_with("debuggee.exe!worker"), "{stack:?}");
    s.remove_watchpoint(watch).unwrap();
    s.continue_event(ContinueStatus::Handled).unwrap();

    let (hit, after) = run_until(&mut s, |e| matches!(e.kind, EventKind::Breakpoint { .. }));
    before.extend(after);
    let texts: Vec<&str> = before
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::DebugOutput { text } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert!(texts.contains(&"debuggee: hello from OutputDebugStringA"), "{before:?}");
    assert!(
        before.iter().any(|e| matches!(&e.kind, EventKind::ModuleLoaded(m) if m.name == "testdll.dll")),
        "the DLL's load is an event: {before:?}"
    );
    assert!(matches!(hit.kind, EventKind::Breakpoint { id, .. } if id == on_dll), "{hit:?}");
    let stack = frames(&mut s, pid, hit.tid);
    assert!(stack[0].starts_with("testdll.dll!dll_func") && stack[0].contains("testdll.c:"), "{stack:?}");
    assert!(stack[1].starts_with("debuggee.exe!main") && stack[1].contains("debuggee.c:"), "{stack:?}");
    s.remove_breakpoint(on_dll).unwrap();
    s.continue_event(ContinueStatus::Handled).unwrap();

    let (hit, _) = run_until(&mut s, |e| matches!(e.kind, EventKind::Breakpoint { .. }));
    let EventKind::Breakpoint { id, address } = hit.kind else { unreachable!() };
    assert_eq!(id, on_target);
    // After the prologue, by the DWARF line table, as on Linux.
    assert!(address > target_func && address < target_func + 32, "{address:#x} {target_func:#x}");
    let regs = s.registers(pid, hit.tid).unwrap();
    assert_eq!(regs.rip, address);
    let stack = frames(&mut s, pid, hit.tid);
    let line = source_line("debuggee.c", "volatile int doubled = x * 2;");
    assert!(stack[0].starts_with("debuggee.exe!target_func") && stack[0].ends_with(&format!("debuggee.c:{line})")));
    assert!(stack[1].starts_with("debuggee.exe!caller_func"), "{stack:?}");
    assert!(stack[2].starts_with("debuggee.exe!main"), "{stack:?}");
    assert!(stack.iter().any(|f| f.starts_with("kernel32.dll!")), "the walk goes on through Wine's DLLs: {stack:?}");
    // The argument, from the DWARF in the PE file; memory reads show the
    // program's own code, not the breakpoint's byte.
    let variables = s.frame_variables(pid, hit.tid, 0).unwrap();
    let x = variables.iter().find(|v| v.name == "x").expect("x is a parameter");
    assert_eq!(x.text, "0", "{variables:?}");
    let mut code = [0u8; 1];
    s.read_memory(pid, address, &mut code).unwrap();
    assert_ne!(code[0], 0xcc, "the int3 is hidden");

    // One instruction at a time.
    s.step_into(pid, hit.tid).unwrap();
    let (stepped, _) = run_until(&mut s, |e| matches!(e.kind, EventKind::StepComplete { .. }));
    let after = s.registers(pid, stepped.tid).unwrap().rip;
    assert!(after > address && after < address + 16, "{after:#x} after {address:#x}");

    // Detached, the program runs to its end alone: the rest of its calls, its exit code.
    s.remove_breakpoint(on_target).unwrap();
    s.detach(pid).unwrap();
    let (log, output) = stub.finish();
    assert!(output.contains("debuggee: sum = 309"), "the program finished its work: {output}\n{log}");
    assert!(s.processes().is_empty(), "the process is gone from the session");
}

#[test]
#[ignore = "needs Wine, mingw-w64 and the Windows build: scripts/windows-tests runs it"]
fn dbgkit_sees_an_access_violation_first_and_second_chance() {
    if !enabled("dbgkit_sees_an_access_violation_first_and_second_chance") {
        return;
    }
    let (stub, mut s, pid) = connect(&[], "fault.exe", &[]);
    run_until(&mut s, is_initial_break);
    s.continue_event(ContinueStatus::Handled).unwrap();
    let mut seen = Vec::new();
    let exit = loop {
        let e = next(&mut s);
        match &e.kind {
            EventKind::Exception { signal, code, address, fault_address, first_chance, os_code, .. }
                if *signal == libc_sigsegv() =>
            {
                // The NTSTATUS, and what the access violation did where, from the stub.
                assert_eq!(*os_code, ExceptionCode::NtStatus(0xC000_0005), "{e:?}");
                assert_eq!((*code, *fault_address), (1, Some(0)), "a write at address 0: {e:?}");
                let place = s.symbolize(pid, *address).unwrap();
                seen.push(format!("{} first={first_chance}", place.symbol.unwrap_or_default()));
                s.continue_event(ContinueStatus::NotHandled).unwrap();
            }
            EventKind::ProcessExited { code, signal } => break (*code, *signal),
            _ => s.continue_event(ContinueStatus::Handled).unwrap(),
        }
    };
    assert_eq!(seen.first().map(String::as_str), Some("faulting_func first=true"), "{seen:?}");
    assert!(seen.iter().any(|l| l.ends_with("first=false")), "a second chance: {seen:?}");
    // The stub reports a death by an unhandled exception as a death by its signal.
    assert_eq!(exit, (None, Some(libc_sigsegv())));
    s.continue_event(ContinueStatus::Handled).unwrap();
    stub.finish();
}

/// SIGSEGV, as the stub reports an access violation.
fn libc_sigsegv() -> i32 {
    11
}

#[test]
#[ignore = "needs Wine, mingw-w64 and the Windows build: scripts/windows-tests runs it"]
fn dbgkit_breaks_into_a_running_program_and_kills_it() {
    if !enabled("dbgkit_breaks_into_a_running_program_and_kills_it") {
        return;
    }
    let (stub, mut s, pid) = connect(&[], "debuggee.exe", &["spin"]);
    run_until(&mut s, is_initial_break);
    s.continue_event(ContinueStatus::Handled).unwrap();
    assert!(s.wait_event(Some(Duration::from_secs(1))).unwrap().is_none(), "it spins");
    s.break_in(pid).unwrap();
    run_until(&mut s, |e| matches!(e.kind, EventKind::BreakIn));
    s.kill(pid).unwrap();
    let (exit, _) = run_until(&mut s, |e| matches!(e.kind, EventKind::ProcessExited { .. }));
    assert!(matches!(exit.kind, EventKind::ProcessExited { .. }));
    s.continue_event(ContinueStatus::Handled).unwrap();
    let (_, output) = stub.finish();
    assert!(!output.contains("done spinning"), "killed before its loop ended: {output}");
}

#[test]
#[ignore = "needs Wine, mingw-w64 and the Windows build: scripts/windows-tests runs it"]
fn the_five_minute_debugger_runs_against_a_windows_program() {
    if !enabled("the_five_minute_debugger_runs_against_a_windows_program") {
        return;
    }
    let stub = Stub::start(&[], "net.exe", &[]);
    let example = workspace_dir().join("examples/five_minute_debugger.py");
    let run = Command::new("timeout")
        .args(["120", "python3"])
        .arg(example)
        .args(["--remote", &format!("127.0.0.1:{}", stub.port)])
        .arg(program("net.exe"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs (scripts/setup installs the dbgkit module)");
    let out = collect_output(run);
    let (log, output) = stub.finish();
    let context = format!("the example said:\n{out}\nthe stub said:\n{log}");
    assert!(out.contains("CreateProc: 140000000-") && out.contains("net.exe"), "{context}");
    assert!(out.lines().any(|l| l.starts_with("ModLoad: ") && l.contains("kernel32.dll")), "{context}");
    // The initial breakpoint, in ntdll, with a stack: DbgEng's breakpoint exception.
    assert!(
        out.lines().any(|l| l.starts_with("Exception: 80000003 ") && l.contains("ntdll.dll!DbgBreakPoint")),
        "{context}"
    );
    // Its breakpoint on socket() in Winsock's DLL, set when the DLL loaded, is hit.
    assert!(out.contains("Add Breakpoint: CODE 0 @ ") && out.contains("ws2_32.dll!socket"), "{context}");
    assert!(out.contains("Hit Breakpoint: CODE 0 @ "), "{context}");
    assert!(out.contains("ExitProcess 0"), "{context}");
    assert!(output.contains("net: socket opened"), "{output}");
}

#[test]
#[ignore = "needs Wine, mingw-w64 and the Windows build: scripts/windows-tests runs it"]
fn dbgkit_attaches_to_a_running_program_and_detach_leaves_it_running() {
    if !enabled("dbgkit_attaches_to_a_running_program_and_detach_leaves_it_running") {
        return;
    }
    // Started by Wine alone, not debugged; it says its Windows process id.
    let Spinning { child: mut running, lines, first, pid: windows_pid } = Spinning::start(60);
    let windows_pid = windows_pid as i32;

    let stub = Stub::attach(windows_pid as u32);
    let mut s = Session::new();
    let pid = s.connect(&format!("127.0.0.1:{}", stub.port), Some(&program("debuggee.exe"))).unwrap();
    assert_eq!(pid, windows_pid);
    // The present replayed, then the system's break-in (a breakpoint exception).
    let (_, replayed) = run_until(&mut s, is_initial_break);
    assert!(matches!(replayed[0].kind, EventKind::ProcessCreated { .. }), "{replayed:?}");
    assert!(
        replayed
            .iter()
            .any(|e| matches!(&e.kind, EventKind::ModuleLoaded(m) if m.name.eq_ignore_ascii_case("kernel32.dll"))),
        "{replayed:?}"
    );
    // Its own thread is in its loop, under main.
    let mut in_spin = false;
    for tid in s.threads(pid).unwrap() {
        let stack = frames(&mut s, pid, tid);
        in_spin |=
            stack.iter().any(|f| f.starts_with("debuggee.exe!spin")) && stack.iter().any(|f| f.contains("!main"));
    }
    assert!(in_spin, "a thread is in spin, called by main");
    s.detach(pid).unwrap();
    let (log, _) = stub.finish();
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = running.wait().unwrap();
    let context = format!("the stub said:\n{log}\nthe program said:\n{first}\n{}", rest.join("\n"));
    assert!(rest.iter().any(|l| l.trim_end() == "debuggee: done spinning, debugger present: 0"), "{context}");
    assert_eq!(status.code(), Some(3), "{context}");
}

/// `dbgkit trace --remote` on a program behind the stub: its lines (then
/// the program's own output and the stub's log), and its exit status.
fn trace(program_name: &str, program_args: &[&str], options: &[&str]) -> (String, Option<i32>) {
    let stub = Stub::start(&["--library-events", "--first-chance"], program_name, program_args);
    let cli = std::env::var_os("DBGKIT_CLI_EXE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| workspace_dir().join("target/debug/dbgkit"));
    let out = Command::new(&cli)
        .arg("trace")
        .args(options)
        .args(["--remote", &format!("127.0.0.1:{}", stub.port)])
        .arg(program(program_name))
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{} runs ({e}): scripts/windows-tests builds it", cli.display()));
    let (log, program_output) = stub.finish();
    let text = format!(
        "{}{}\nthe program said:\n{program_output}\nthe stub said:\n{log}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (text, out.status.code())
}

#[test]
#[ignore = "needs Wine, mingw-w64 and the Windows build: scripts/windows-tests runs it"]
fn dbgkit_trace_prints_windows_events() {
    if !enabled("dbgkit_trace_prints_windows_events") {
        return;
    }
    let (out, status) = trace("debuggee.exe", &[], &["--break", "debuggee!target_func"]);
    assert!(out.lines().any(|l| l.starts_with("CreateProcess: pid=") && l.ends_with("debuggee.exe")), "{out}");
    assert!(out.lines().any(|l| l.starts_with("ModLoad: ") && l.contains(" kernel32.dll ")), "{out}");
    assert!(out.contains("DebugOutput: \"debuggee: hello from OutputDebugStringA\""), "{out}");
    assert!(out.lines().any(|l| l.starts_with("ModLoad: ") && l.contains(" testdll.dll ")), "{out}");
    assert!(out.lines().any(|l| l.starts_with("ModUnload: ") && l.ends_with(" testdll.dll")), "{out}");
    assert_eq!(out.matches("debuggee.exe!target_func+").filter(|_| true).count(), 3, "three hits: {out}");
    assert!(out.lines().any(|l| l.starts_with("ExitProcess: pid=") && l.ends_with(" code=42")), "{out}");
    assert_eq!(status, Some(42), "trace exits with the program's status: {out}");

    let (out, _) = trace("fault.exe", &[], &[]);
    for chance in ["first-chance", "second-chance"] {
        assert!(
            out.lines().any(|l| l.starts_with("Exception: 0xC0000005 access violation (write) at ")
                && l.contains("fault.exe!faulting_func")
                && l.contains(chance)),
            "{chance}: {out}"
        );
    }
    assert!(out.lines().any(|l| l.starts_with("ExitProcess: pid=") && l.ends_with(" signal=SIGSEGV")), "{out}");

    // With --first-chance, exceptions the program handles itself are seen
    // first: its RaiseException, then its read through a null pointer;
    // passed on, its handler deals with both.
    let (out, status) = trace("fault.exe", &["handled"], &[]);
    let raised = out.lines().position(|l| {
        l.starts_with("Exception: 0xE0000001 exception at ")
            && l.contains("!RaiseException")
            && l.contains("first-chance")
    });
    let read = out.lines().position(|l| {
        l.starts_with("Exception: 0xC0000005 access violation (read) at ") && l.contains("fault.exe!read_null")
    });
    assert!(raised.is_some() && read.is_some() && raised < read, "{out}");
    assert!(out.contains("fault: handled custom=1 access_violation=1"), "{out}");
    assert_eq!(status, Some(0), "{out}");
}
