//! dbgkit-winstub under Wine, driven by Linux gdb: a Windows program built
//! with mingw-w64 is started by the stub (cross-built for
//! x86_64-pc-windows-gnu, run by `wine64`), and gdb debugs it remotely.
//!
//! These tests need Wine, mingw-w64 and the Windows build of the stub;
//! `scripts/windows-tests` installs and builds everything and runs them
//! with `DBGKIT_WINE_TESTS=1` and `--include-ignored`; in the default
//! run they are ignored (and say why).

mod wine_harness;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use wine_harness::*;

#[test]
#[ignore = "needs Wine, mingw-w64 and the Windows build: scripts/windows-tests runs it"]
fn a_breakpoint_is_hit_three_times_with_backtraces_registers_and_the_exit_code() {
    if !enabled("a_breakpoint_is_hit_three_times_with_backtraces_registers_and_the_exit_code") {
        return;
    }
    let stub = Stub::start(&[], "debuggee.exe", &[]);
    let out = stub.gdb(
        "debuggee.exe",
        &[
            "info sharedlibrary",
            "break target_func",
            "continue",
            "bt",
            "info registers rip",
            "info threads",
            "continue",
            "continue",
            "continue",
        ],
    );
    let (log, program_output) = stub.finish();
    let context = format!("gdb said:\n{out}\nthe stub said:\n{log}\nthe program said:\n{program_output}");

    // The loader's initial breakpoint is the first stop, in ntdll, whose
    // symbols gdb read through the DLL list.
    assert!(out.contains("in DbgBreakPoint () from") && out.contains("ntdll.dll"), "{context}");
    assert!(
        out.lines().any(|l| l.contains("Yes") && l.ends_with("/x86_64-windows/kernel32.dll")),
        "kernel32.dll's symbols are read: {context}"
    );

    // Hit once per call, with the argument of each call.
    assert_eq!(out.matches("Breakpoint 1, target_func").count(), 3, "{context}");
    for x in 0..3 {
        assert!(out.contains(&format!("Breakpoint 1, target_func (x={x})")), "{context}");
    }
    // gdb names every frame from the program's DWARF.
    let frames: Vec<&str> = out.lines().filter(|l| l.starts_with('#')).collect();
    assert!(frames.len() >= 3, "{context}");
    assert!(frames[0].contains("target_func (x=0)"), "{context}");
    assert!(frames[1].contains("caller_func (x=0)"), "{context}");
    assert!(frames[2].contains("main ("), "{context}");
    // The pc is where gdb put the breakpoint.
    let breakpoint = hex_after(&out, "Breakpoint 1 at ").expect("gdb says where the breakpoint is");
    let rip = hex_after(&out, "\nrip            ").expect("rip is read");
    assert_eq!(rip, breakpoint, "{context}");
    assert!(out.contains("<target_func+"), "{context}");
    // The worker thread has ended by then: one thread.
    assert!(out.contains("* 1    Thread "), "{context}");

    let pid = logged_pid(&log);
    assert!(out.contains(&format!("[Inferior 1 (process {pid}) exited with code 052]")), "exit code 42: {context}");
    assert!(out.contains(&format!("Thread {pid}.")), "thread ids carry the process id: {context}");
    assert!(program_output.contains("sum = 309"), "{context}");
    // Debug strings of the program, its thread and its DLL reach gdb's
    // console (as `O` packets) and the stub's log.
    for said in ["debuggee: hello from OutputDebugStringA", "debuggee: worker thread running", "testdll: attached"] {
        assert!(out.lines().any(|l| l == said), "{said:?} missing in gdb: {context}");
        assert!(log.contains(&format!("debug string: {said}")), "{said:?} missing in the log: {context}");
    }
}

#[test]
#[ignore = "needs Wine, mingw-w64 and the Windows build: scripts/windows-tests runs it"]
fn an_access_violation_arrives_as_sigsegv_first_and_second_chance() {
    if !enabled("an_access_violation_arrives_as_sigsegv_first_and_second_chance") {
        return;
    }
    let stub = Stub::start(&[], "fault.exe", &[]);
    let out = stub.gdb("fault.exe", &["continue", "bt", "monitor exception", "continue", "continue"]);
    let (log, program_output) = stub.finish();
    let context = format!("gdb said:\n{out}\nthe stub said:\n{log}\nthe program said:\n{program_output}");

    assert_eq!(out.matches("Program received signal SIGSEGV").count(), 2, "{context}");
    assert!(out.contains("in faulting_func (where=0x0)"), "{context}");
    // What the signal stands for: the NTSTATUS, a write (1) at address 0.
    assert!(out.contains(" code=0xc0000005 first_chance=1 ") && out.contains("parameters=0x1,0x0"), "{context}");
    assert!(out.lines().any(|l| l.starts_with("#1") && l.contains("in main (")), "{context}");
    // Passed on the second time, the exception ends the program as a signal would.
    assert!(out.contains("Program terminated with signal SIGSEGV"), "{context}");
    assert!(log.contains("(access violation), first chance"), "{context}");
    assert!(log.contains("(access violation), second chance"), "{context}");
    assert!(log.contains("Child exited with status 3221225477"), "0xC0000005: {context}");
    assert!(!program_output.contains("still alive"), "{context}");
}

#[test]
#[ignore = "needs Wine, mingw-w64 and the Windows build: scripts/windows-tests runs it"]
fn stepping_and_writing_registers_and_memory_change_what_the_program_computes() {
    if !enabled("stepping_and_writing_registers_and_memory_change_what_the_program_computes") {
        return;
    }
    let return_line = format!("break debuggee.c:{}", source_line("debuggee.c", "return doubled + 1;"));
    let stub = Stub::start(&[], "debuggee.exe", &[]);
    let out = stub.gdb(
        "debuggee.exe",
        &[
            // The function's first instruction: its argument is still in rcx.
            "break *target_func",
            "continue",
            "set $rcx = 20",
            "stepi",
            "print $pc == target_func",
            "delete",
            &return_line,
            "continue",
            "print doubled",
            "set var doubled = 1000",
            "finish",
            "delete",
            "continue",
        ],
    );
    let (log, program_output) = stub.finish();
    let context = format!("gdb said:\n{out}\nthe stub said:\n{log}\nthe program said:\n{program_output}");

    // One instruction further.
    assert!(out.contains("$1 = 0"), "{context}");
    // The argument written into rcx is what the function doubled...
    assert!(out.contains("$2 = 40"), "{context}");
    // ...and the value written into memory is what it returned.
    assert!(out.contains("Value returned is $3 = 1001"), "{context}");
    // caller_func adds 100 to each of 1001, 3 and 5.
    assert!(program_output.contains("sum = 1309"), "{context}");
    assert!(out.contains("exited with code 052"), "{context}");
}

#[test]
#[ignore = "needs Wine, mingw-w64 and the Windows build: scripts/windows-tests runs it"]
fn with_library_events_a_breakpoint_in_a_dll_loaded_later_is_hit() {
    if !enabled("with_library_events_a_breakpoint_in_a_dll_loaded_later_is_hit") {
        return;
    }
    let stub = Stub::start(&["--library-events"], "debuggee.exe", &[]);
    let out = stub.gdb("debuggee.exe", &["break dll_func", "continue", "bt", "info sharedlibrary", "continue"]);
    let (log, program_output) = stub.finish();
    let context = format!("gdb said:\n{out}\nthe stub said:\n{log}\nthe program said:\n{program_output}");

    assert!(out.contains("Breakpoint 1 (dll_func) pending."), "{context}");
    assert!(out.contains("Breakpoint 1, dll_func (x=5)"), "{context}");
    assert!(out.lines().any(|l| l.starts_with("#1") && l.contains("main (")), "{context}");
    assert!(out.lines().any(|l| l.contains("Yes") && l.ends_with("/testdll.dll")), "{context}");
    // The DLL is unloaded before the end; gdb hears of it.
    assert!(out.contains("unloaded shared library"), "{context}");
    assert!(out.contains("exited with code 052"), "{context}");
    assert!(program_output.contains("dll_func(5) = 15"), "{context}");
}

#[test]
#[ignore = "needs Wine, mingw-w64 and the Windows build: scripts/windows-tests runs it"]
fn a_break_in_stops_a_running_program_and_kill_ends_it() {
    if !enabled("a_break_in_stops_a_running_program_and_kill_ends_it") {
        return;
    }
    break_in_and_kill("spin");
}

#[test]
#[ignore = "needs Wine, mingw-w64 and the Windows build: scripts/windows-tests runs it"]
fn a_break_in_reaches_a_program_that_floods_debug_strings() {
    if !enabled("a_break_in_reaches_a_program_that_floods_debug_strings") {
        return;
    }
    // Debug events without pause must not keep the stub from its client.
    let out = break_in_and_kill("chatter");
    assert!(out.contains("debuggee: chatter\n"), "the strings reach gdb: {}", &out[out.len().saturating_sub(2000)..]);
}

/// Runs `debuggee.exe MODE`, breaks in from gdb, lists threads, kills the
/// program; gdb's output.
fn break_in_and_kill(mode: &str) -> String {
    let started = Instant::now();
    let stub = Stub::start(&[], "debuggee.exe", &[mode]);
    let gdb = stub.gdb_command("debuggee.exe", &["continue", "info threads", "kill"]).spawn().expect("gdb runs");
    let gdb_id = gdb.id();
    // Read from the start: the program's debug strings fill gdb's output.
    let gdb = std::thread::spawn(move || collect_output(gdb));
    // gdb turns SIGINT into a break-in (`\x03`), which the stub makes a
    // DebugBreakProcess: sent once gdb is connected and the program runs.
    stub.wait_for_log("Remote debugging from host", Duration::from_secs(60)).expect("gdb connects");
    std::thread::sleep(Duration::from_millis(1500));
    let status = Command::new("kill").args(["-INT", &gdb_id.to_string()]).status().expect("kill runs");
    assert!(status.success());
    let out = gdb.join().expect("gdb's output is read");
    let (log, program_output) = stub.finish();
    let context = format!("gdb said:\n{out}\nthe stub said:\n{log}\nthe program said:\n{program_output}");

    assert!(out.contains("received signal SIGINT"), "{context}");
    // The break-in's own thread is the one that stopped; the program's is there too.
    assert!(out.contains("* 2    Thread "), "{context}");
    assert!(out.contains("  1    Thread "), "{context}");
    assert!(log.contains("Killing process"), "{context}");
    assert!(
        program_output.contains("debuggee: spinning") || program_output.contains("debuggee: chattering"),
        "{context}"
    );
    // Killed well before its 20 seconds were over.
    assert!(started.elapsed() < Duration::from_secs(18), "{:?}: {context}", started.elapsed());
    out
}

#[test]
#[ignore = "needs Wine, mingw-w64 and the Windows build: scripts/windows-tests runs it"]
fn detach_leaves_the_program_running_to_its_end() {
    if !enabled("detach_leaves_the_program_running_to_its_end") {
        return;
    }
    let stub = Stub::start(&[], "debuggee.exe", &[]);
    let out = stub.gdb("debuggee.exe", &["break target_func", "continue", "detach"]);
    let (log, program_output) = stub.finish();
    let context = format!("gdb said:\n{out}\nthe stub said:\n{log}\nthe program said:\n{program_output}");

    assert!(out.contains("Breakpoint 1, target_func (x=0)"), "{context}");
    assert!(out.contains(&format!("[Inferior 1 (process {}) detached]", logged_pid(&log))), "{context}");
    assert!(log.contains("Detaching from process"), "{context}");
    // The program went on alone, without a breakpoint byte left behind.
    assert!(program_output.contains("sum = 309"), "{context}");
}

#[test]
#[ignore = "needs Wine, mingw-w64 and the Windows build: scripts/windows-tests runs it"]
fn arguments_reach_the_program_as_given() {
    if !enabled("arguments_reach_the_program_as_given") {
        return;
    }
    let args = ["args", "a b", "say \"hi\"", "dir with space\\", "", "back\\\\slash"];
    let stub = Stub::start(&[], "debuggee.exe", &args);
    let out = stub.gdb("debuggee.exe", &["continue"]);
    let (log, program_output) = stub.finish();
    let context = format!("gdb said:\n{out}\nthe stub said:\n{log}\nthe program said:\n{program_output}");

    // Quoted by the stub for CreateProcessW, split again by the program's C runtime.
    for (i, arg) in args.iter().enumerate() {
        let expected = format!("debuggee: argv[{}] = [{arg}]", i + 1);
        assert!(program_output.lines().any(|l| l.trim_end_matches('\r') == expected), "{arg:?}: {context}");
    }
    // argc, the program's own name included.
    assert!(out.contains(&format!("exited with code {:02o}]", args.len() + 1)), "{context}");
}

#[test]
#[ignore = "needs Wine, mingw-w64 and the Windows build: scripts/windows-tests runs it"]
fn exit_codes_reach_gdb_whole() {
    if !enabled("exit_codes_reach_gdb_whole") {
        return;
    }
    // Above a byte, and a DLL-not-found status that is not a signal.
    for code in [1000u32, 0xC000_0135] {
        let stub = Stub::start(&[], "debuggee.exe", &["exit", &code.to_string()]);
        let out = stub.gdb("debuggee.exe", &["continue"]);
        let (log, _) = stub.finish();
        assert!(
            out.contains(&format!("exited with code 0{code:o}]")),
            "{code:#x}: gdb said:\n{out}\nthe stub said:\n{log}"
        );
        assert!(log.contains(&format!("Child exited with status {code}")), "{log}");
    }
}

/// A bare GDB remote protocol client, for what gdb never asks of a stub.
struct RawClient {
    stream: std::net::TcpStream,
    acks: bool,
}

impl RawClient {
    fn connect(port: u16) -> RawClient {
        let stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("the stub accepts");
        stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        RawClient { stream, acks: true }
    }

    fn read_byte(&mut self) -> u8 {
        let mut byte = [0u8];
        self.stream.read_exact(&mut byte).expect("the stub answers");
        byte[0]
    }

    /// The next packet's body, console output (`O`) skipped.
    fn receive(&mut self) -> String {
        loop {
            while self.read_byte() != b'$' {}
            let mut body = Vec::new();
            loop {
                match self.read_byte() {
                    b'#' => break,
                    b => body.push(b),
                }
            }
            let sum = [self.read_byte(), self.read_byte()];
            let expected = body.iter().fold(0u8, |s, b| s.wrapping_add(*b));
            assert_eq!(std::str::from_utf8(&sum).unwrap(), format!("{expected:02x}"), "checksum");
            if self.acks {
                std::io::Write::write_all(&mut self.stream, b"+").unwrap();
            }
            let body = String::from_utf8(run_length_decoded(&body)).unwrap();
            if body.starts_with('O') && body != "OK" {
                continue;
            }
            return body;
        }
    }

    fn request(&mut self, body: &str) -> String {
        let sum = body.bytes().fold(0u8, |s, b| s.wrapping_add(b));
        std::io::Write::write_all(&mut self.stream, format!("${body}#{sum:02x}").as_bytes()).unwrap();
        if self.acks {
            assert_eq!(self.read_byte(), b'+', "acknowledged");
        }
        self.receive()
    }

    /// Register `n` of `thread` as a little-endian number.
    fn register(&mut self, thread: &str, n: usize) -> u64 {
        assert_eq!(self.request(&format!("Hg{thread}")), "OK");
        let hex = self.request(&format!("p{n:x}"));
        let bytes: Vec<u8> =
            (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
        bytes.iter().rev().fold(0u64, |v, b| v << 8 | *b as u64)
    }
}

/// A packet body with its run lengths (`X*n`: `n - 29` more `X`) expanded.
fn run_length_decoded(body: &[u8]) -> Vec<u8> {
    let mut out: Vec<u8> = Vec::with_capacity(body.len());
    let mut bytes = body.iter();
    while let Some(&b) = bytes.next() {
        if b == b'*' {
            let count = bytes.next().expect("a run length") - 29;
            let last = *out.last().expect("a run follows a character");
            out.extend(std::iter::repeat_n(last, count as usize));
        } else {
            out.push(b);
        }
    }
    out
}

/// The thread of a `T` stop reply.
fn stop_thread(reply: &str) -> String {
    let start = reply.find("thread:").expect("the reply names a thread") + "thread:".len();
    reply[start..].split(';').next().unwrap().to_string()
}

/// The address of `symbol` in a test program, from its symbol table.
fn symbol_address(program_name: &str, symbol: &str) -> u64 {
    let output = Command::new("x86_64-w64-mingw32-nm").arg(program(program_name)).output().expect("nm runs");
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text.lines().find(|l| l.ends_with(&format!(" {symbol}"))).expect("the symbol is there");
    u64::from_str_radix(line.split(' ').next().unwrap(), 16).unwrap()
}

#[test]
#[ignore = "needs Wine, mingw-w64 and the Windows build: scripts/windows-tests runs it"]
fn the_stub_steps_over_its_own_breakpoint_and_hides_it_from_reads() {
    if !enabled("the_stub_steps_over_its_own_breakpoint_and_hides_it_from_reads") {
        return;
    }
    let target_func = symbol_address("debuggee.exe", "target_func");
    let stub = Stub::start(&[], "debuggee.exe", &[]);
    let mut client = RawClient::connect(stub.port);
    assert_eq!(client.request("QStartNoAckMode"), "OK");
    client.acks = false;
    assert!(client.request("qSupported:swbreak+;xmlRegisters=i386").contains("qXfer:libraries:read+"));
    assert!(client.request("?").starts_with("T05"));

    // The DLL list in the Windows form: each DLL at its first section.
    let libraries = client.request("qXfer:libraries:read::0,ffff");
    assert!(libraries.contains("ntdll.dll\"><segment address=\"0x"), "{libraries}");
    assert!(libraries.contains("kernel32.dll\"><segment address=\"0x"), "{libraries}");
    assert!(libraries.contains("</library-list>"), "{libraries}");

    let original = client.request(&format!("m{target_func:x},4"));
    assert_eq!(client.request(&format!("Z0,{target_func:x},1")), "OK");
    assert_eq!(client.request(&format!("m{target_func:x},4")), original, "the int3 is hidden from reads");

    // Continued without removing the breakpoint: the stub runs the original
    // instruction alone and plants the int3 again, so every call stops.
    let mut reply = client.request("c");
    for x in 0..3u64 {
        assert!(reply.starts_with("T05") && reply.contains("swbreak"), "hit {x}: {reply}");
        let thread = stop_thread(&reply);
        assert_eq!(client.register(&thread, 16), target_func, "rip on the breakpoint");
        assert_eq!(client.register(&thread, 2) & 0xffff_ffff, x, "the argument in rcx");
        if x < 2 {
            reply = client.request("c");
        }
    }
    // All registers at once: `g`, then `G` with rcx (register 2, bytes
    // 16..24) changed, read back with `p`.
    let thread = stop_thread(&reply);
    assert_eq!(client.request(&format!("Hg{thread}")), "OK");
    let all = client.request("g");
    let mut changed = all.clone();
    changed.replace_range(32..48, "2a00000000000000");
    assert_eq!(client.request(&format!("G{changed}")), "OK");
    assert_eq!(client.register(&thread, 2), 42);
    assert_eq!(client.request(&format!("G{all}")), "OK");
    assert_eq!(client.register(&thread, 2), 2);

    // Memory written with `M` (below the stack pointer, unused) reads back.
    let stack = client.register(&thread, 7) - 0x100;
    assert_eq!(client.request(&format!("M{stack:x},4:deadbeef")), "OK");
    assert_eq!(client.request(&format!("m{stack:x},4")), "deadbeef");

    // A step from the breakpoint ends one instruction (push rbp, one byte) further.
    let stepped = client.request(&format!("vCont;s:{thread}"));
    assert!(stepped.starts_with("T05"), "{stepped}");
    assert_eq!(client.register(&stop_thread(&stepped), 16), target_func + 1);
    assert_eq!(client.request(&format!("m{target_func:x},4")), original);
    assert_eq!(client.request(&format!("z0,{target_func:x},1")), "OK");
    let exit = client.request("c");
    let (log, program_output) = stub.finish();
    assert_eq!(exit, "W2a", "{log}");
    assert!(program_output.contains("sum = 309"), "{program_output}");
}

#[test]
#[ignore = "needs Wine, mingw-w64 and the Windows build: scripts/windows-tests runs it"]
fn watchpoints_and_hardware_breakpoints_use_the_debug_registers() {
    if !enabled("watchpoints_and_hardware_breakpoints_use_the_debug_registers") {
        return;
    }
    let stub = Stub::start(&[], "debuggee.exe", &[]);
    let out = stub.gdb(
        "debuggee.exe",
        &[
            "break main",
            "continue",
            // Set before the worker thread exists.
            "watch worker_runs",
            "continue",
            "info threads",
            // Back to main's frame, under the worker's wait: the stack of
            // a thread in ntdll unwinds through Wine's DLLs.
            "thread 1",
            "frame function main",
            "watch sum",
            "delete 2",
            "continue",
            "continue",
            "delete",
            "hbreak target_func",
            "continue",
            "bt",
            "continue",
        ],
    );
    let (log, program_output) = stub.finish();
    let context = format!("gdb said:\n{out}\nthe stub said:\n{log}\nthe program said:\n{program_output}");

    // The worker thread got the debug registers when it started.
    assert!(out.contains("Hardware watchpoint 2: worker_runs\n\nOld value = 0\nNew value = 1\n"), "{context}");
    assert!(out.lines().any(|l| l.starts_with("* 2 ") && l.contains("worker (arg=")), "{context}");
    let waiting_line = format!("debuggee.c:{}", source_line("debuggee.c", "WaitForSingleObject(thread"));
    assert!(out.lines().any(|l| l.contains("in main (") && l.ends_with(&waiting_line)), "{context}");
    assert!(out.contains("Hardware watchpoint 3: sum"), "{context}");
    // Each call's result (x * 2 + 1 + 100) added to the sum.
    assert!(out.contains("Old value = 0\nNew value = 101\n"), "{context}");
    assert!(out.contains("Old value = 101\nNew value = 204\n"), "{context}");
    assert!(out.contains("Hardware assisted breakpoint 4 at"), "{context}");
    // Two calls are behind: the hardware breakpoint stops the third, once.
    assert_eq!(out.matches("Breakpoint 4, target_func").count(), 1, "{context}");
    assert!(out.contains("Breakpoint 4, target_func (x=2)"), "{context}");
    assert!(out.lines().any(|l| l.starts_with("#1") && l.contains("caller_func (x=2)")), "{context}");
    assert!(out.contains("exited with code 052"), "{context}");
    assert!(program_output.contains("sum = 309"), "{context}");
}

#[test]
#[ignore = "needs Wine, mingw-w64 and the Windows build: scripts/windows-tests runs it"]
fn attach_to_a_running_program_and_detach_leave_it_running() {
    if !enabled("attach_to_a_running_program_and_detach_leave_it_running") {
        return;
    }
    // Started by Wine alone, not debugged; it says its Windows process id.
    let Spinning { child: mut program, lines, first, pid } = Spinning::start(120);

    let stub = Stub::attach(pid);
    // No detach: gdb leaves a process the stub attached to when it ends.
    let out = stub.gdb("debuggee.exe", &["info threads", "thread apply all bt"]);
    let (log, _) = stub.finish();
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = program.wait().unwrap();
    let context = format!("gdb said:\n{out}\nthe stub said:\n{log}\nthe program said:\n{first}\n{}", rest.join("\n"));

    assert!(log.contains(&format!("Attached; pid = {pid}")), "{context}");
    // The system's break-in thread stopped; the program's own thread is in its loop.
    assert!(out.contains("in DbgUiRemoteBreakin"), "{context}");
    assert!(out.lines().any(|l| l.contains("in spin (rounds=120)")), "{context}");
    assert!(out.lines().any(|l| l.contains("in main (")), "{context}");
    assert!(out.contains(&format!("[Inferior 1 (process {pid}) detached]")), "{context}");
    assert!(log.contains(&format!("Detaching from process {pid}")), "{context}");
    // It ran on to its end, no longer debugged.
    assert!(rest.iter().any(|l| l.trim_end() == "debuggee: done spinning, debugger present: 0"), "{context}");
    assert_eq!(status.code(), Some(3), "{context}");
}

#[test]
#[ignore = "needs Wine, mingw-w64 and the Windows build: scripts/windows-tests runs it"]
fn bad_input_gets_a_clear_error() {
    if !enabled("bad_input_gets_a_clear_error") {
        return;
    }
    // Standard error goes to a file: a Wine server this command starts
    // would hold a pipe open for seconds after the stub is gone.
    let log = std::env::temp_dir().join(format!("dbgkit-winstub-bad-input-{}.log", std::process::id()));
    let run = |args: &[&str]| {
        let file = std::fs::File::create(&log).unwrap();
        let status = wine_command(&stub_exe())
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(file)
            .status()
            .expect("wine64 runs");
        (status.code(), std::fs::read_to_string(&log).unwrap())
    };
    let (code, said) = run(&["127.0.0.1:0", "no-such-program.exe"]);
    assert!(said.contains("cannot start no-such-program.exe (Windows error 2: no such file)"), "{said}");
    assert_eq!(code, Some(1), "{said}");

    let (code, said) = run(&["--attach", "127.0.0.1:0", "999999"]);
    assert!(said.contains("cannot attach to process 999999"), "{said}");
    assert_eq!(code, Some(1), "{said}");

    let (code, said) = run(&["127.0.0.1:0"]);
    assert!(said.contains("usage: dbgkit-winstub"), "{said}");
    assert_eq!(code, Some(2), "{said}");

    // A port already taken, by a listener of this test.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("127.0.0.1:{}", taken.local_addr().unwrap().port());
    let (code, said) = run(&[&address, "debuggee.exe"]);
    assert!(said.contains(&format!("cannot listen on {address}: the port is in use")), "{said}");
    assert_eq!(code, Some(1), "{said}");
    let _ = std::fs::remove_file(&log);
}

#[test]
#[ignore = "needs Wine, mingw-w64 and the Windows build: scripts/windows-tests runs it"]
fn exceptions_the_program_handles_reach_its_handler_when_passed() {
    if !enabled("exceptions_the_program_handles_reach_its_handler_when_passed") {
        return;
    }
    let stub = Stub::start(&[], "fault.exe", &["handled"]);
    // `signal 0` continues without the signal: handled by the debugger,
    // the faulting read runs again and faults again. `continue` passes
    // SIGSEGV (gdb's default): the program's handler skips the read.
    let out = stub.gdb("fault.exe", &["continue", "signal 0", "continue"]);
    let (log, program_output) = stub.finish();
    let context = format!("gdb said:\n{out}\nthe stub said:\n{log}\nthe program said:\n{program_output}");

    // The custom exception never stopped: first chance, no signal for it.
    assert!(log.contains("0xe0000001"), "{context}");
    assert_eq!(out.matches("Program received signal").count(), 2, "{context}");
    assert_eq!(out.matches("Program received signal SIGSEGV").count(), 2, "{context}");
    assert!(out.contains("in read_null ()"), "{context}");
    assert_eq!(log.matches("(access violation), first chance").count(), 2, "{context}");
    assert!(!log.contains("second chance"), "{context}");
    assert!(program_output.contains("fault: handled custom=1 access_violation=1"), "{context}");
    assert!(out.contains("exited normally"), "{context}");
}

#[test]
#[ignore = "needs Wine, mingw-w64 and the Windows build: scripts/windows-tests runs it"]
fn a_started_program_is_killed_when_gdb_leaves() {
    if !enabled("a_started_program_is_killed_when_gdb_leaves") {
        return;
    }
    let stub = Stub::start(&[], "debuggee.exe", &[]);
    // gdb ends at the breakpoint: it kills what the stub started (qAttached 0).
    let out = stub.gdb("debuggee.exe", &["break target_func", "continue"]);
    let (log, program_output) = stub.finish();
    let context = format!("gdb said:\n{out}\nthe stub said:\n{log}\nthe program said:\n{program_output}");

    assert!(out.contains("Breakpoint 1, target_func (x=0)"), "{context}");
    assert!(log.contains(&format!("Killing process {}", logged_pid(&log))), "{context}");
    assert!(!program_output.contains("sum ="), "{context}");
}
