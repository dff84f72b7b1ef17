//! `dbgkit.exe`: the engine's own Windows target (`dbgkit::os::windows`,
//! the Win32 debug loop in the debugger's process, no stub) debugging
//! mingw-built programs under Wine. Run by `scripts/windows-tests`, which
//! builds `dbgkit.exe` and the programs; `#[ignore]`d in a plain
//! `cargo test`.

mod wine_harness;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use wine_harness::{collect_output, enabled, program, source_line, target_dir, Spinning, WINE};

/// The Ctrl-C test runs alone: Wine may hand the console's control event
/// to other programs the tests run at the same time. Every other test
/// holds this for reading, that one for writing.
static CONSOLE: std::sync::RwLock<()> = std::sync::RwLock::new(());

fn shared_console() -> std::sync::RwLockReadGuard<'static, ()> {
    CONSOLE.read().unwrap_or_else(|e| e.into_inner())
}

/// `dbgkit.exe`, built for Windows.
fn dbgkit_exe() -> PathBuf {
    std::env::var_os("DBGKIT_WINDOWS_CLI_EXE")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("x86_64-pc-windows-gnu/debug/dbgkit.exe"))
}

/// `wine64 dbgkit.exe ARGS` in the programs' directory.
fn dbgkit(args: &[&str]) -> Command {
    let mut command = wine_harness::wine_command(&dbgkit_exe());
    command.args(args);
    command
}

/// Runs `dbgkit.exe ARGS` with `commands` on its input; everything it and
/// the program printed.
fn session(args: &[&str], commands: &[&str]) -> String {
    let mut child = dbgkit(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{WINE} runs dbgkit.exe: {e}"));
    let mut input = child.stdin.take().expect("piped");
    for command in commands {
        writeln!(input, "{command}").expect("dbgkit reads its commands");
    }
    drop(input);
    collect_output(child)
}

fn trace(args: &[&str]) -> String {
    let output = dbgkit(&[&["trace"], args].concat()).stdin(Stdio::null()).output().expect("dbgkit.exe runs");
    wine_harness::text_of(&output.stdout, &output.stderr)
}

#[test]
#[ignore = "needs Wine, mingw-w64 and the Windows build: scripts/windows-tests runs it"]
fn dbgkit_exe_traces_a_windows_program() {
    enabled("dbgkit_exe_traces_a_windows_program");
    let _console = shared_console();
    let _ = program("debuggee.exe");
    let out = trace(&["debuggee.exe"]);
    let lines: Vec<&str> = out.lines().collect();
    let position = |text: &str| {
        lines.iter().position(|l| l.contains(text)).unwrap_or_else(|| panic!("no line with {text:?} in:\n{out}"))
    };
    assert!(lines[0].starts_with("CreateProcess: pid=") && lines[0].contains("debuggee.exe"), "{out}");
    let kernel32 = position("ModLoad: ");
    assert!(out.contains("kernel32.dll"), "{out}");
    let initial = position("Exception: 0x80000003 break instruction at ");
    assert!(lines[initial].contains("ntdll.dll!") && lines[initial].contains("first-chance"), "{out}");
    assert!(kernel32 < initial, "the DLLs loaded before the initial breakpoint come first:\n{out}");
    let created = position("CreateThread: tid=");
    // The thread's start is the function it runs, as the system reports it.
    let worker = symbol_address("debuggee.exe", "worker");
    assert!(lines[created].ends_with(&format!("start={worker:016x}")), "{}", lines[created]);
    assert!(position("DebugOutput: \"debuggee: worker thread running\"") > created, "{out}");
    assert!(position("ExitThread: ") > created && out.contains("code=7"), "{out}");
    let loaded = position("testdll.dll Z:\\");
    assert!(position("ModUnload: ") > loaded, "{out}");
    assert!(out.contains("DebugOutput: \"testdll: attached\""), "{out}");
    assert!(lines.last().is_some_and(|l| l.starts_with("ExitProcess: pid=") && l.ends_with("code=42")), "{out}");
}

#[test]
#[ignore = "needs Wine, mingw-w64 and the Windows build: scripts/windows-tests runs it"]
fn dbgkit_exe_breaks_steps_watches_and_detaches() {
    enabled("dbgkit_exe_breaks_steps_watches_and_detaches");
    let _console = shared_console();
    let _ = program("debuggee.exe");
    let out = session(
        &["debuggee.exe"],
        &[
            // A hardware watchpoint set now reaches the worker thread created later.
            "ba w4 debuggee!worker_runs",
            "g",
            "k",
            "bc *",
            "bp debuggee!target_func",
            "g",
            "k",
            "dv",
            "p",
            ".detach",
        ],
    );
    let watched_line = source_line("debuggee.c", "worker_runs++") + 1;
    assert!(
        out.contains("Watchpoint: id=1 write at ") && out.contains("old=0x0 new=0x1"),
        "the worker thread's write is caught:\n{out}"
    );
    assert!(out.contains("debuggee.exe!worker+") && out.contains(&format!("(debuggee.c:{watched_line})")), "{out}");
    let hit = out.find("Breakpoint: id=2 at ").unwrap_or_else(|| panic!("the breakpoint is hit:\n{out}"));
    let after = &out[hit..];
    assert!(after.contains("debuggee.exe!target_func+"), "{out}");
    assert!(
        after.contains("debuggee.exe!caller_func+") && after.contains("debuggee.exe!main+"),
        "k walks to main:\n{out}"
    );
    assert!(after.contains("kernel32.dll!BaseThreadInitThunk"), "k walks through kernel32:\n{out}");
    assert!(after.contains(" x = "), "dv shows the parameter:\n{out}");
    assert!(after.contains("Step: at "), "p steps:\n{out}");
    assert!(after.contains("Detach: pid="), "{out}");
    // Detached, the program runs to its end by itself. Its line and
    // dbgkit's `Detach:` line share one console and may interleave.
    assert!(without_detach_line(&out).contains("debuggee: sum = 309, worker exit code = 7"), "{out}");
}

/// `out` with dbgkit's `Detach: pid=N` line taken out, wherever it fell.
fn without_detach_line(out: &str) -> String {
    let Some(at) = out.find("Detach: pid=") else { return out.to_string() };
    let end = out[at..].find('\n').map_or(out.len(), |n| at + n + 1);
    format!("{}{}", &out[..at], &out[end..])
}

#[test]
#[ignore = "needs Wine, mingw-w64 and the Windows build: scripts/windows-tests runs it"]
fn dbgkit_exe_sees_access_violations_and_handled_exceptions() {
    enabled("dbgkit_exe_sees_access_violations_and_handled_exceptions");
    let _console = shared_console();
    let _ = program("fault.exe");
    let fault_line = source_line("fault.c", "*where = 1;");
    let out = trace(&["fault.exe"]);
    let first = "Exception: 0xC0000005 access violation (write) at ";
    let lines: Vec<&str> = out.lines().filter(|l| l.starts_with(first)).collect();
    assert_eq!(lines.len(), 2, "first and second chance:\n{out}");
    assert!(lines[0].ends_with(&format!("first-chance tid={}", tid_of(lines[0]))), "{out}");
    assert!(lines[1].contains("second-chance"), "{out}");
    assert!(lines[0].contains("fault.exe!faulting_func+") && lines[0].contains(&format!("(fault.c:{fault_line})")));
    assert!(lines[0].contains("fault=0000000000000000"), "the address written: {out}");
    assert!(out.trim_end().ends_with("code=0xC0000005"), "the process dies of it:\n{out}");

    // Exceptions the program handles itself: seen at their first chance, then given back.
    let out = trace(&["fault.exe", "handled"]);
    assert!(
        out.contains("Exception: 0xE0000001 exception at ") && out.contains("kernelbase.dll!RaiseException"),
        "{out}"
    );
    assert!(out.contains("Exception: 0xC0000005 access violation (read) at "), "{out}");
    assert!(!out.contains("second-chance"), "{out}");
    assert!(out.contains("fault: handled custom=1 access_violation=1"), "{out}");
    assert!(out.trim_end().ends_with("code=0"), "{out}");

    // A C++ exception as MSVC raises it, and an illegal instruction, both handled by the program.
    let out = trace(&["fault.exe", "cxx"]);
    assert!(out.contains("Exception: 0xE06D7363 C++ exception at ") && out.contains("first-chance"), "{out}");
    let ud2_line = source_line("fault.c", "volatile(\"ud2\")");
    assert!(
        out.contains("Exception: 0xC000001D illegal instruction at ")
            && out.contains(&format!("fault.exe!illegal_instruction+0x4 (fault.c:{ud2_line})")),
        "{out}"
    );
    assert!(!out.contains("second-chance"), "{out}");
    assert!(out.contains("fault: handled cxx=1 illegal=1"), "{out}");
}

#[test]
#[ignore = "needs Wine, mingw-w64 and the Windows build: scripts/windows-tests runs it"]
fn dbgkit_exe_hardware_breakpoint_is_hit_at_every_call() {
    enabled("dbgkit_exe_hardware_breakpoint_is_hit_at_every_call");
    let _console = shared_console();
    let _ = program("debuggee.exe");
    let out = session(&["debuggee.exe"], &["ba e1 debuggee!target_func", "g", "g", "g", "bl", "g"]);
    let hits = out.lines().filter(|l| l.starts_with("Watchpoint: id=1 execute at ")).count();
    assert_eq!(hits, 3, "target_func is called three times:\n{out}");
    assert!(out.contains("hits=3 hardware breakpoint"), "{out}");
    assert!(
        without_detach_line(&out).contains("debuggee: sum = 309, worker exit code = 7"),
        "the program runs on normally:\n{out}"
    );
    assert!(out.trim_end().ends_with("code=42"), "{out}");
}

/// The address of `symbol` in a test program, from mingw's `nm`.
fn symbol_address(program_name: &str, symbol: &str) -> u64 {
    let out = Command::new("x86_64-w64-mingw32-nm").arg(program(program_name)).output().expect("mingw's nm runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| {
            let mut fields = l.split_whitespace();
            let address = fields.next()?;
            (fields.nth(1)? == symbol).then(|| u64::from_str_radix(address, 16).ok()).flatten()
        })
        .unwrap_or_else(|| panic!("{symbol} is not in {program_name}"))
}

fn tid_of(line: &str) -> &str {
    line.rsplit("tid=").next().unwrap_or_default()
}

#[test]
#[ignore = "needs Wine, mingw-w64 and the Windows build: scripts/windows-tests runs it"]
fn dbgkit_exe_attaches_and_detach_leaves_the_program_running() {
    enabled("dbgkit_exe_attaches_and_detach_leaves_the_program_running");
    let _console = shared_console();
    let mut spinning = Spinning::start(60);
    let pid = spinning.pid.to_string();
    let out = session(&["-p", &pid], &["k", "~", ".detach"]);
    assert!(out.starts_with(&format!("CreateProcess: pid={pid} ")), "{out}");
    assert!(out.contains("Exception: 0x80000003 break instruction at "), "{out}");
    assert!(
        out.contains("debuggee.exe!spin+") && out.contains("debuggee.exe!main+"),
        "k shows the program's thread:\n{out}"
    );
    assert!(!out.contains("DbgUiRemoteBreakin"), "the system's break-in thread is not the program's:\n{out}");
    assert!(out.contains(&format!("Detach: pid={pid}")), "{out}");
    let rest: Vec<String> = spinning.lines.by_ref().map_while(Result::ok).collect();
    assert!(
        rest.iter().any(|l| l.contains("done spinning, debugger present: 0")),
        "the program ends by itself, no longer debugged: {rest:?}"
    );
    spinning.child.wait().expect("the program ends");
}

#[test]
#[ignore = "needs Wine, mingw-w64 and the Windows build: scripts/windows-tests runs it"]
fn dbgkit_exe_breaks_in_on_ctrl_c_and_kills_on_quit() {
    enabled("dbgkit_exe_breaks_in_on_ctrl_c_and_kills_on_quit");
    let _alone = CONSOLE.write().unwrap_or_else(|e| e.into_inner());
    let _ = program("debuggee.exe");
    let mut child = dbgkit(&["debuggee.exe", "spin", "400"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("dbgkit.exe runs");
    let mut input = child.stdin.take().expect("piped");
    let (lines_tx, lines) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().expect("piped");
    let reader = std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    writeln!(input, "g").unwrap();
    let mut seen = Vec::new();
    let wait_for = |seen: &mut Vec<String>, text: &str| loop {
        let line = lines
            .recv_timeout(std::time::Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("no {text:?} from dbgkit.exe; it said:\n{}", seen.join("\n")));
        let found = line.contains(text);
        seen.push(line);
        if found {
            return;
        }
    };
    wait_for(&mut seen, "debuggee: spinning");
    // Ctrl-C: Wine turns the signal into the console's control event.
    let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill runs");
    assert!(status.success());
    wait_for(&mut seen, "Break: pid=");
    for command in ["k", "~", "q"] {
        writeln!(input, "{command}").unwrap();
    }
    drop(input);
    let status = child.wait().expect("dbgkit.exe ends");
    reader.join().unwrap();
    seen.extend(lines.try_iter());
    let out = seen.join("\n");
    assert!(status.success(), "{out}");
    assert!(out.contains("debuggee.exe!spin+") && out.contains("debuggee.exe!main+"), "k after the break:\n{out}");
    assert!(!out.contains("DbgUiRemoteBreakin"), "the break-in thread is not shown:\n{out}");
    assert!(!out.contains("done spinning"), "quitting killed the program it started:\n{out}");
}

#[test]
#[ignore = "needs Wine, mingw-w64 and the Windows build: scripts/windows-tests runs it"]
fn dbgkit_exe_runs_the_program_with_the_environment_and_directory_set() {
    enabled("dbgkit_exe_runs_the_program_with_the_environment_and_directory_set");
    let _console = shared_console();
    let _ = program("debuggee.exe");
    let directory = wine_harness::programs_dir().join("working directory");
    std::fs::create_dir_all(&directory).unwrap();
    let cd = format!("cd {}", wine_harness::windows_path(&directory.canonicalize().unwrap()));
    let out = session(
        &["debuggee.exe", "env", "DBGKIT_GREETING"],
        &["set environment DBGKIT_GREETING=hello there", &cd, "run", "g"],
    );
    let expected = format!(
        "debuggee: DBGKIT_GREETING=[hello there] cwd=[{}]",
        wine_harness::windows_path(&directory.canonicalize().unwrap())
    );
    assert!(out.contains(&expected), "{expected:?} not in:\n{out}");
}

#[test]
#[ignore = "needs Wine, mingw-w64 and the Windows build: scripts/windows-tests runs it"]
fn dbgkit_exe_page_watchpoint_catches_a_write_in_a_later_thread() {
    enabled("dbgkit_exe_page_watchpoint_catches_a_write_in_a_later_thread");
    let _console = shared_console();
    let _ = program("debuggee.exe");
    // 64 bytes: more than the debug registers watch, so the pages lose
    // their rights (VirtualProtectEx); the C runtime's own variables beside
    // worker_runs are hit first.
    let mut commands = vec!["watch debuggee!worker_runs 64"];
    commands.extend(["g"; 8]);
    commands.extend(["bc *", "g"]);
    let out = session(&["debuggee.exe"], &commands);
    assert!(out.contains("Page watchpoint 1: write 64 bytes at "), "{out}");
    let written_line = source_line("debuggee.c", "worker_runs++");
    let hit = out
        .lines()
        .find(|l| l.starts_with("Watchpoint: id=1 write at ") && l.contains("debuggee.exe!worker+"))
        .unwrap_or_else(|| panic!("the worker's write is caught:\n{out}"));
    assert!(hit.contains(&format!("(debuggee.c:{written_line})")), "{hit}");
    assert!(
        without_detach_line(&out).contains("debuggee: sum = 309, worker exit code = 7"),
        "the program runs on normally:\n{out}"
    );
}

#[test]
#[ignore = "needs Wine, mingw-w64 and the Windows build: scripts/windows-tests runs it"]
fn dbgkit_exe_debugs_through_a_stub_too() {
    enabled("dbgkit_exe_debugs_through_a_stub_too");
    let _console = shared_console();
    // The engine's remote client built for Windows (its socket waits are
    // WSAPoll's), against the stub: both under Wine.
    let stub = wine_harness::Stub::start(&["--library-events"], "debuggee.exe", &[]);
    let address = format!("127.0.0.1:{}", stub.port);
    let out = trace(&["--remote", &address, "debuggee.exe"]);
    let _ = stub.finish();
    assert!(out.starts_with("CreateProcess: pid="), "{out}");
    assert!(out.contains("kernel32.dll"), "{out}");
    assert!(out.contains("Exception: 0x80000003 break instruction at "), "{out}");
    assert!(out.contains("DebugOutput: \"testdll: attached\""), "{out}");
    assert!(out.contains("ModUnload: ") && out.contains("testdll.dll"), "{out}");
    assert!(out.trim_end().ends_with("code=42"), "{out}");
}
