//! The interactive debugger end to end: the real `dbgkit` binary on real
//! fixtures, driven by batch scripts and through a pseudo-terminal.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod support;

use support::{batch, fixture, is_prompt_line, nth_output_of, output_of, piped, Run, DBGKIT};

fn has_line(lines: &[&str], pred: impl Fn(&str) -> bool) -> bool {
    lines.iter().any(|l| pred(l))
}

/// Replaces process and thread ids by their order of appearance (P0, T1...).
fn normalize(text: &str, pids: &[i32]) -> String {
    let mut out = text.to_string();
    for (i, id) in pids.iter().enumerate() {
        out = out.replace(&id.to_string(), &format!("<{i}>"));
    }
    out
}

/// Every pid and tid mentioned by `CreateProcess: pid=`, `CreateThread: tid=`, in order.
fn ids(out: &str) -> Vec<i32> {
    let mut ids = Vec::new();
    for line in out.lines() {
        for key in ["CreateProcess: pid=", "CreateThread: tid="] {
            if let Some(rest) = line.strip_prefix(key) {
                ids.push(rest.split(' ').next().unwrap().parse().unwrap());
            }
        }
    }
    ids
}

// ---- batch scripts ---------------------------------------------------------------

#[test]
fn help_lists_every_command_in_dbgkit_help_and_at_the_prompt() {
    let names = [
        "g",
        "c",
        "continue",
        "gh",
        "gn",
        "t",
        "si",
        "p",
        "ni",
        "pc",
        "gu",
        "finish",
        ".restart",
        "run",
        ".attach",
        ".detach",
        "detach",
        ".kill",
        "kill",
        "q",
        "quit",
        "bp",
        "break",
        "tbreak",
        "bu",
        "bl",
        "info breakpoints",
        "bc",
        "delete",
        "bd",
        "disable",
        "be",
        "enable",
        "condition",
        "ignore",
        "r",
        "info registers",
        "k",
        "bt",
        ".frame",
        "frame",
        "up",
        "down",
        "~",
        "info threads",
        "thread",
        "db",
        "dw",
        "dd",
        "dq",
        "dps",
        "da",
        "du",
        "x/FMT",
        "eb",
        "ew",
        "ed",
        "eq",
        "ea",
        "eza",
        "set",
        "s -b",
        "u",
        "uf",
        "disassemble",
        "!address",
        "info proc mappings",
        "ln",
        "info symbol",
        "x [MODULE!]PATTERN",
        "info functions",
        "lm",
        "info sharedlibrary",
        "?",
        "print",
        "sxe",
        "sxd",
        "sxn",
        "sxi",
        "sx",
        "handle",
        "help",
        ".echo",
    ];
    let out = Command::new(DBGKIT).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for name in names {
        assert!(help.contains(name), "dbgkit --help lacks {name}:\n{help}");
    }
    assert!(help.contains("trace") && help.contains("symbolize"), "{help}");
    let run = piped("help\nhelp bp\nhelp info registers\nhelp nosuch\n", &[]);
    assert_eq!(run.code, 1, "help nosuch fails");
    let listing = output_of(&run.out, "help").join("\n");
    for name in names {
        assert!(listing.contains(name), "help lacks {name}");
    }
    let bp = output_of(&run.out, "help bp");
    assert_eq!(bp[0], "bp [/1] [/w \"COND\"] EXPR [\"CONDITION\" | \"COMMANDS\"]");
    assert_eq!(bp[1], "  also: break, b");
    assert_eq!(output_of(&run.out, "help info registers")[0], "r [REG[=EXPR][, ...] | vector]");
    assert!(run.err.contains("unknown command \"nosuch\""), "{}", run.err);
}

#[test]
fn a_batch_script_on_a_small_program() {
    let exe = fixture("counter");
    let script = "\
bp counter!bump
bl
g
k
r rdi
? rdi + 1
ln rip
x counter!b*
lm
u rip L2
dd value L1
bd 1
bl
g
";
    let run = batch(script, &[exe.to_str().unwrap(), "3"]);
    assert_eq!(run.code, 0, "{}\n{}", run.out, run.err);
    let out = &run.out;
    assert!(out.starts_with("CreateProcess: pid="), "{out}");
    assert!(has_line(&out.lines().collect::<Vec<_>>(), |l| l.starts_with("ModLoad: ") && l.contains(" libc.so.6 ")));
    // A breakpoint on a function is placed after its prologue, as gdb places it.
    let set = output_of(out, "bp counter!bump");
    assert!(set[0].starts_with("Breakpoint 1 at ") && set[0].contains(" counter!bump+0x"), "{set:?}");
    assert!(set[0].ends_with(" (counter.c:6)"), "{set:?}");
    let bl = output_of(out, "bl");
    assert!(bl[0].starts_with("  1 e ") && bl[0].contains(" hits=0 counter!bump = counter!bump+0x"), "{bl:?}");
    let hit = output_of(out, "g");
    assert!(
        hit[0].starts_with("Breakpoint: id=1 at ") && hit[0].contains(" counter!bump+0x") && hit[0].contains(" tid="),
        "{hit:?}"
    );
    assert!(hit[1].starts_with("counter!bump+0x") && hit[1].ends_with(" (counter.c:6):"), "{hit:?}");
    assert!(hit[2].trim_start().starts_with("6  __attribute__((noinline)) long bump"), "the source line: {hit:?}");
    assert!(hit[3].starts_with("=> 0000"), "the current instruction: {hit:?}");
    let k = output_of(out, "k");
    assert_eq!(k[0], " # Child-SP         RetAddr          Call Site");
    assert!(k[1].starts_with("00 ") && k[1].contains(" counter!bump+0x") && k[1].ends_with(" (counter.c:6)"), "{k:?}");
    assert!(k[2].starts_with("01 ") && k[2].contains(" counter!main+0x"), "{k:?}");
    assert_eq!(output_of(out, "r rdi"), ["rdi=0000000000000000"]);
    assert_eq!(output_of(out, "? rdi + 1"), ["1 = 0x1"]);
    assert!(output_of(out, "ln rip")[0].contains(" counter!bump+0x"));
    let x = output_of(out, "x counter!b*");
    assert!(x.len() == 1 && x[0].ends_with(" counter!bump"), "{x:?}");
    let lm = output_of(out, "lm");
    assert!(lm[1].contains(" counter ") && lm.iter().any(|l| l.contains(" libc.so.6 ")), "{lm:?}");
    let u = output_of(out, "u rip L2");
    assert!(u[0].starts_with("counter!bump+0x") && u[0].ends_with(" (counter.c:6):"), "{u:?}");
    assert!(u[1].starts_with("=> ") && u[2].starts_with("   "), "{u:?}");
    assert!(output_of(out, "dd value L1")[0].ends_with("  00000001"), "{:?}", output_of(out, "dd value L1"));
    let after = nth_output_of(out, "bl", 1);
    assert!(after[0].starts_with("  1 d ") && after[0].contains(" hits=1 "), "disabled, hit once: {after:?}");
    let end = nth_output_of(out, "g", 1);
    assert!(end.iter().all(|l| !l.starts_with("Breakpoint")), "a disabled breakpoint does not stop: {end:?}");
    assert!(out.contains("sum=6 value=1") && out.trim_end().ends_with(" code=0"), "{out}");
}

const WINDBG_SCRIPT: &str = "\
bp *compute
bl
g
~
~0s
k
~1s
k
~2s
k
~0s
g compute+OFF1
p
r rax
g compute+OFF2
t
k
gu
r rax
r rax=0x10
eb message 0x4a
da message
db message L6
.detach
";

const GDB_SCRIPT: &str = "\
break *compute
info breakpoints
continue
info threads
thread 0
bt
thread 1
bt
thread 2
bt
thread 0
advance *compute+OFF1
ni
info registers rax
until *compute+OFF2
si
backtrace
finish
info registers rax
set $rax = 0x10
set {char}message = 0x4a
x/s message
x/6xb message
detach
";

/// The offsets of compute's two calls of leaf, from the debugger's own disassembly.
fn call_offsets(exe: &Path) -> (String, String) {
    let run = batch("uf compute\n", &[exe.to_str().unwrap()]);
    let calls: Vec<u64> = output_of(&run.out, "uf compute")
        .iter()
        .filter(|l| l.contains("call") && l.ends_with("repl_threads!leaf"))
        .map(|l| u64::from_str_radix(l[3..19].trim(), 16).unwrap())
        .collect();
    assert_eq!(calls.len(), 2, "{}", run.out);
    let start = output_of(&run.out, "uf compute")
        .iter()
        .find(|l| l.starts_with("   ") || l.starts_with("=> "))
        .map(|l| u64::from_str_radix(&l[3..19], 16).unwrap())
        .unwrap();
    (format!("{:#x}", calls[0] - start), format!("{:#x}", calls[1] - start))
}

fn threads_session(script: &str) -> Run {
    let exe = fixture("repl_threads");
    let (first, second) = call_offsets(&exe);
    let script = script.replace("OFF1", &first).replace("OFF2", &second);
    let mut run = batch(&script, &[exe.to_str().unwrap()]);
    // The program runs on after the debugger leaves; its output comes when it ends.
    run.out = run.out.replace("\r", "");
    run
}

#[test]
fn a_session_on_a_multithreaded_program_windbg_names() {
    let run = threads_session(WINDBG_SCRIPT);
    assert_eq!(run.code, 0, "{}\n{}", run.out, run.err);
    let out = &run.out;
    let threads = output_of(out, "~");
    assert_eq!(threads.len(), 3, "every thread: {threads:?}");
    assert!(threads[0].starts_with(". 0  Id: ") && threads[0].contains(" repl_threads!compute (repl_threads.c:"));
    assert!(threads[1].starts_with("  1  Id: ") && threads[2].starts_with("  2  Id: "), "{threads:?}");
    // k on each thread: main is in compute, both workers wait in the mutex.
    let stacks: Vec<String> = out.split("> k\n").skip(1).map(|s| s.to_string()).collect();
    assert_eq!(stacks.len(), 4, "{out}");
    assert!(stacks[0].lines().nth(1).unwrap().ends_with(" repl_threads!compute (repl_threads.c:19)"), "{}", stacks[0]);
    assert!(stacks[0].contains(" repl_threads!main+0x"));
    for worker in &stacks[1..3] {
        assert!(
            worker.contains("libc.so.6!pthread_mutex_lock") && worker.contains(" repl_threads!worker+0x"),
            "{worker}"
        );
    }
    // p over the first call: leaf(20) returned 40 and we are after the call.
    let over = output_of(out, "p");
    assert!(over[0].starts_with("Step: at ") && over[0].contains(" repl_threads!compute+0x"), "{over:?}");
    assert_eq!(output_of(out, "r rax")[0], "rax=0000000000000028");
    // t into the second call, k shows leaf under compute, gu comes back with 80.
    let into = output_of(out, "t");
    assert!(into[0].contains(" repl_threads!leaf (repl_threads.c:17) "), "{into:?}");
    let k = &stacks[3];
    let frames: Vec<&str> = k.lines().skip(1).take(3).collect();
    assert!(frames[0].ends_with(" repl_threads!leaf (repl_threads.c:17)"), "{k}");
    assert!(frames[1].contains(" repl_threads!compute+0x") && frames[2].contains(" repl_threads!main+0x"), "{k}");
    let up = output_of(out, "gu");
    assert!(up[0].starts_with("Step: at ") && up[0].contains(" repl_threads!compute+0x"), "{up:?}");
    assert!(out.contains("rax=0000000000000050"), "{out}");
    assert!(output_of(out, "da message")[0].ends_with("  \"Jello\""));
    assert!(output_of(out, "db message L6")[0].contains(" 4a 65 6c 6c 6f 00 "), "{out}");
    // Detached, the program finishes normally, with the changes made: b = 16, message "Jello".
    assert!(out.contains("Detach: pid="), "{out}");
    assert!(out.contains("result=56 message=Jello\ndone\n"), "{out}");
}

#[test]
fn the_same_session_with_gdb_names_gives_the_same_results() {
    let windbg = threads_session(WINDBG_SCRIPT);
    let gdb = threads_session(GDB_SCRIPT);
    assert_eq!(gdb.code, 0, "{}\n{}", gdb.out, gdb.err);
    assert!(gdb.out.contains("result=56 message=Jello\ndone\n"), "{}", gdb.out);
    // Command by command, the outputs are the same (ids aside).
    let strip = |run: &Run| -> Vec<String> {
        let pids = ids(&run.out);
        let mut blocks = Vec::new();
        let mut current = String::new();
        for line in run.out.lines() {
            if is_prompt_line(line) {
                blocks.push(std::mem::take(&mut current));
            } else {
                current.push_str(line);
                current.push('\n');
            }
        }
        blocks.push(current);
        // After the detach, the program's own output races the debugger's last line.
        if let Some(last) = blocks.last_mut() {
            let mut lines: Vec<&str> = last.lines().collect();
            lines.sort_unstable();
            *last = lines.join("\n");
        }
        blocks.iter().map(|b| normalize(b, &pids)).collect()
    };
    let (w, g) = (strip(&windbg), strip(&gdb));
    assert_eq!(w.len(), g.len());
    for (i, (a, b)) in w.iter().zip(&g).enumerate() {
        assert_eq!(
            a,
            b,
            "output of command {i} differs:\n{}\n---\n{}",
            WINDBG_SCRIPT.lines().nth(i.saturating_sub(1)).unwrap_or(""),
            GDB_SCRIPT.lines().nth(i.saturating_sub(1)).unwrap_or("")
        );
    }
}

#[test]
fn failed_commands_say_why_and_leave_the_session_as_it_was() {
    let exe = fixture("counter");
    let script = "\
r rip
bpp counter!bump
? counter!bump +
bp counter!bump \"rdi ==\"
db 0
eb 0 1
r nosuch=1
r rip=nosuch
p nonsense
bl
r rip
g
k
.detach
";
    // From a pipe every command runs; the last one failed, so the status is 1.
    let run = piped(script, &[exe.to_str().unwrap(), "3"]);
    assert_eq!(run.code, 1, "the last command failed");
    let err = &run.err;
    for expected in [
        "error: unknown command \"bpp\": did you mean `bp`?",
        "error: bad expression \"counter!bump +\": column 15: expected an operand\n  counter!bump +\n                ^ expected an operand",
        "error: bad expression \"rdi ==\": column 7: expected an operand\n  rdi ==\n        ^ expected an operand",
        "error: Memory access error at 0000000000000000",
        "error: memory at 0x0 (1 bytes) is not mapped in process",
        "error: unknown register \"nosuch\"",
        "error: bad expression \"nosuch\": column 1: symbol not found: nosuch\n  nosuch\n  ^ symbol not found: nosuch",
        "error: No symbol \"nonsense\" in current context.",
        "error: no process: start one with .restart, or .attach PID",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in:\n{err}");
    }
    let out = &run.out;
    assert_eq!(output_of(out, "bl"), ["No breakpoints."], "the bad breakpoint was not set");
    assert_eq!(nth_output_of(out, "r rip", 0), nth_output_of(out, "r rip", 1), "nothing moved");
    assert!(out.contains("sum=6 value=1"), "the program ran as if nothing had happened: {out}");
    assert!(out.contains("dbgkit> k"), "no process, no prompt with ids: {out}");
}

#[test]
fn signals_stop_print_and_pass_as_the_table_says() {
    let exe = fixture("signals");
    let program = [exe.to_str().unwrap()];
    // By default a signal stops at its first chance and is passed on.
    let run = batch("g\ng\n", &program);
    let first = output_of(&run.out, "g");
    assert!(
        first[0].starts_with("Exception: SIGUSR1 code=")
            && first[0].ends_with(&format!("first-chance tid={}", ids(&run.out)[0])),
        "{first:?}"
    );
    assert!(run.out.contains("handler ran"), "{}", run.out);
    // sxi: neither stop nor print; still passed.
    let run = batch("sxi sigusr1\ng\n", &program);
    assert_eq!(
        output_of(&run.out, "sxi sigusr1"),
        ["Signal       Stop   Print  Pass", "SIGUSR1      No     No     Yes"]
    );
    assert!(!run.out.contains("Exception:") && run.out.contains("handler ran"), "{}", run.out);
    // gdb's handle: print, do not stop, do not pass.
    let run = batch("handle SIGUSR1 nostop print nopass\ng\n", &program);
    assert!(run.out.contains("Exception: SIGUSR1") && run.out.contains("handler did not run"), "{}", run.out);
    // gh: this once, handled.
    let run = batch("g\ngh\n", &program);
    assert!(run.out.contains("handler did not run"), "{}", run.out);
    // A crash stops at both chances, then the program dies of it.
    let crash = fixture("crash");
    let run = batch("sxn sigsegv\ng\ng\n", &[crash.to_str().unwrap()]);
    let go = output_of(&run.out, "g");
    assert!(
        go.iter()
            .any(|l| l.starts_with("Exception: SIGSEGV")
                && l.ends_with(&format!("first-chance tid={}", ids(&run.out)[0]))),
        "{go:?}"
    );
    assert!(
        go.iter().any(|l| l.starts_with("Exception: SIGSEGV")
            && l.contains(" crash!deref+0x")
            && l.contains("second-chance")),
        "sxn prints the first chance, the second one stops: {go:?}"
    );
    assert!(nth_output_of(&run.out, "g", 1)[0].ends_with(" signal=SIGSEGV"), "{}", run.out);
}

#[test]
fn restart_and_kill_keep_the_breakpoints() {
    let exe = fixture("counter");
    let script = "\
bp counter!bump
g
.restart
bl
g
.kill
bl
run
g
bc *
g
";
    let run = batch(script, &[exe.to_str().unwrap(), "2"]);
    assert_eq!(run.code, 0, "{}\n{}", run.out, run.err);
    let pids = ids(&run.out);
    assert_eq!(pids.len(), 3, "three processes: {}", run.out);
    let restart = output_of(&run.out, ".restart");
    assert_eq!(restart[0], format!("ExitProcess: pid={} signal=SIGKILL", pids[0]));
    assert!(restart[1].starts_with(&format!("CreateProcess: pid={} ", pids[1])), "{restart:?}");
    assert!(restart.contains(&format!("Break: pid={} tid={}", pids[1], pids[1]).as_str()), "{restart:?}");
    assert!(
        output_of(&run.out, "bl")[0].starts_with("  1 e 0000") && output_of(&run.out, "bl")[0].contains(" hits=0 ")
    );
    for n in 0..3 {
        let go = nth_output_of(&run.out, "g", n);
        if n < 2 || go.iter().any(|l| l.starts_with("Breakpoint")) {
            assert!(go.iter().any(|l| l.starts_with("Breakpoint: id=1 at ")), "hit in every run: {go:?}");
        }
    }
    assert_eq!(output_of(&run.out, ".kill"), [format!("ExitProcess: pid={} signal=SIGKILL", pids[1])]);
    assert!(
        nth_output_of(&run.out, "bl", 1)[0].contains(" pending ")
            && nth_output_of(&run.out, "bl", 1)[0].ends_with("(no process)")
    );
    let last = nth_output_of(&run.out, "g", 3);
    assert!(last.iter().all(|l| !l.starts_with("Breakpoint")), "bc * cleared it: {last:?}");
    assert!(run.out.contains("sum=3 value=1"), "{}", run.out);
}

#[test]
fn memory_is_searched_shown_in_every_format_and_written() {
    let exe = fixture("counter");
    let script = "\
s -a counter L 0x10000 \"sum=%ld\"
s -b counter L 0x40 7f 45 4c 46
s -q counter L 0x10000 1
dq value L1
dd value L2
x/2xw value
x/2dw value
x/1ug value
dps rsp L1
x/1a rsp
x/2i rip
eq value 5
dq value L1
eza counter!value \"AB\"
da value
eq value 5
g
";
    let run = batch(script, &[exe.to_str().unwrap(), "2"]);
    assert_eq!(run.code, 0, "{}\n{}", run.out, run.err);
    let out = &run.out;
    let text = output_of(out, "s -a counter L 0x10000 \"sum=%ld\"");
    assert!(!text.is_empty() && text.iter().all(|l| l.ends_with("  sum=%ld value=%l")), "{text:?}");
    let elf = output_of(out, "s -b counter L 0x40 7f 45 4c 46");
    assert!(elf.len() == 1 && elf[0].starts_with("0000555555554000  7f 45 4c 46 "), "{elf:?}");
    assert!(!output_of(out, "s -q counter L 0x10000 1").is_empty());
    assert!(output_of(out, "dq value L1")[0].ends_with("  0000000000000001"));
    assert_eq!(output_of(out, "dd value L2")[0][16..], *"  00000001 00000000");
    assert_eq!(output_of(out, "x/2xw value"), output_of(out, "dd value L2"), "x/xw is dd");
    assert!(output_of(out, "x/2dw value")[0].ends_with("            1           0"));
    assert!(output_of(out, "x/1ug value")[0].ends_with("                    1"));
    assert_eq!(output_of(out, "dps rsp L1"), output_of(out, "x/1a rsp"), "x/a is dps");
    let insns = output_of(out, "x/2i rip");
    assert_eq!(insns[0], "counter!_start:");
    assert!(insns[1].starts_with("=> ") && insns.len() == 3, "{insns:?}");
    assert!(nth_output_of(out, "dq value L1", 1)[0].ends_with("  0000000000000005"));
    assert_eq!(output_of(out, "da value")[0][16..], *"  \"AB\"");
    assert!(out.contains("sum=11 value=5"), "bump returned i + 5: {out}");
}

#[test]
fn conditions_ignore_counts_frames_and_pending_breakpoints() {
    let exe = fixture("counter");
    let script = "\
bp counter!bump \"rdi == 3\"
bu nosuchlib!f
tbreak counter.c:10
bl
g
g
r rdi
.frame 1
? @rip
down
condition 1
ignore 1 1
bl
g
r rdi
bd 1-2
g
";
    let run = batch(script, &[exe.to_str().unwrap(), "6"]);
    assert_eq!(run.code, 0, "{}\n{}", run.out, run.err);
    let out = &run.out;
    assert!(
        output_of(out, "bu nosuchlib!f")[0].starts_with("Breakpoint 2 pending: nosuchlib!f (no module named nosuchlib")
    );
    let bl = output_of(out, "bl");
    assert!(bl[0].contains(" if \"rdi == 3\""), "{bl:?}");
    assert!(bl[1].starts_with("  2 e pending ") && bl[1].contains(" deferred"), "{bl:?}");
    assert!(bl[2].starts_with("  3 e ") && bl[2].contains(" once"), "{bl:?}");
    let first = output_of(out, "g");
    assert!(
        first[0].starts_with("Breakpoint: id=3 at ") && first[0].contains("(counter.c:10)"),
        "the tbreak: {first:?}"
    );
    assert!(nth_output_of(out, "g", 1)[0].starts_with("Breakpoint: id=1 at "));
    assert_eq!(output_of(out, "r rdi"), ["rdi=0000000000000003"], "the condition held");
    let frame = output_of(out, ".frame 1");
    assert!(frame[0].starts_with("01 ") && frame[0].contains(" counter!main+0x"), "{frame:?}");
    assert!(output_of(out, "? @rip")[0].contains(" counter!main+0x"), "expressions see the frame's registers");
    assert!(output_of(out, "down")[0].starts_with("00 "), "back to frame 0");
    assert_eq!(output_of(out, "ignore 1 1"), ["Breakpoint 1 ignores its next 1 hits"]);
    let after = nth_output_of(out, "bl", 1);
    assert!(!after[0].contains(" if ") && after.len() == 2, "unconditional; the tbreak is gone: {after:?}");
    assert_eq!(nth_output_of(out, "r rdi", 1), ["rdi=0000000000000005"], "hit 4 ignored, stopped at 5");
    assert!(out.contains("sum=21 value=1"), "{out}");
}

#[test]
fn attach_stops_the_process_lists_its_threads_and_detach_lets_it_finish() {
    let mut worker = Command::new(fixture("worker")).args(["3", "1"]).stdout(Stdio::piped()).spawn().unwrap();
    let mut worker_out = BufReader::new(worker.stdout.take().unwrap());
    let mut line = String::new();
    worker_out.read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "started 3");
    let pid = worker.id().to_string();
    let out = Command::new(DBGKIT).args(["-p", &pid, "--batch", "--echo", "-c", "~; k; .detach"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.starts_with(&format!("CreateProcess: pid={pid} ")), "{text}");
    assert_eq!(text.lines().filter(|l| l.starts_with("CreateThread: ")).count(), 3, "{text}");
    assert!(text.contains(&format!("Break: pid={pid} tid={pid}")), "{text}");
    assert_eq!(output_of(&text, "~").len(), 4, "every thread: {text}");
    assert!(output_of(&text, ".detach") == [format!("Detach: pid={pid}")], "{text}");
    assert!(worker.wait().unwrap().success());
    let mut rest = String::new();
    worker_out.read_to_string(&mut rest).unwrap();
    assert_eq!(rest.trim(), "finished 3 worked");
}

// ---- through a pseudo-terminal -----------------------------------------------------

const PROMPT: &str = r"\d+:\d+:\d+> ";

fn spawn_pty(args: &[&str], history: &Path) -> rexpect::session::PtySession {
    let mut command = Command::new(DBGKIT);
    command.args(args).env("DBGKIT_HISTORY", history).env("TERM", "xterm");
    rexpect::session::spawn_command(command, Some(30_000)).expect("dbgkit starts in a pty")
}

fn history_file(name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("repl-history-{name}-{}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

#[test]
fn the_prompt_completes_survives_ctrl_c_and_keeps_history() {
    let exe = fixture("counter");
    let history = history_file("prompt");
    let mut p = spawn_pty(&[exe.to_str().unwrap(), "2"], &history);
    let (_, prompt) = p.exp_regex(PROMPT).unwrap();
    assert!(prompt.ends_with("> "));
    // A symbol: `x counter!bu<TAB>` becomes `x counter!bump`.
    p.send("x counter!bu\t").unwrap();
    p.flush().unwrap();
    p.exp_string("counter!bump").unwrap();
    p.send("\r").unwrap();
    p.flush().unwrap();
    p.exp_regex(r"[0-9a-f]{16} counter!bump").unwrap();
    p.exp_regex(PROMPT).unwrap();
    // A register: `r ri<TAB>` becomes `r rip`.
    p.send("r ri\t").unwrap();
    p.flush().unwrap();
    p.exp_string("rip").unwrap();
    p.send("\r").unwrap();
    p.flush().unwrap();
    p.exp_regex(r"rip=[0-9a-f]{16}").unwrap();
    p.exp_regex(PROMPT).unwrap();
    // A command: `.ech<TAB>` becomes `.echo `.
    p.send(".ech\t").unwrap();
    p.flush().unwrap();
    p.exp_string(".echo").unwrap();
    p.send("completed\r").unwrap();
    p.flush().unwrap();
    p.exp_string("completed").unwrap();
    p.exp_regex(PROMPT).unwrap();
    // Ctrl-C at the prompt: a fresh prompt, the debugger and its program stay.
    p.send("? 0n1").unwrap();
    p.flush().unwrap();
    p.send_control('c').unwrap();
    p.exp_regex(PROMPT).unwrap();
    p.send_line("? 0n4242+1").unwrap();
    p.exp_string("4243 = 0x1093").unwrap();
    p.exp_regex(PROMPT).unwrap();
    p.send_line("q").unwrap();
    p.exp_eof().unwrap();
    let kept = std::fs::read_to_string(&history).unwrap();
    assert!(kept.contains("? 0n4242+1") && kept.contains("x counter!bump"), "{kept}");

    // The next session finds it: two lines up is the expression.
    let mut p = spawn_pty(&[exe.to_str().unwrap(), "2"], &history);
    p.exp_regex(PROMPT).unwrap();
    p.send("\x1b[A\x1b[A").unwrap();
    p.flush().unwrap();
    p.exp_string("0n4242+1").unwrap();
    p.send("\r").unwrap();
    p.flush().unwrap();
    p.exp_string("4243 = 0x1093").unwrap();
    p.exp_regex(PROMPT).unwrap();
    p.send_line("q").unwrap();
    p.exp_eof().unwrap();
    let _ = std::fs::remove_file(&history);
}

/// Waits until the line editor gave the terminal back (Ctrl-C is a signal again).
fn wait_for_cooked_mode(p: &rexpect::session::PtySession) {
    use std::os::fd::AsRawFd;
    let file = p.process().get_file_handle().unwrap();
    wait_until("the debugger leaves the line editor", || {
        // SAFETY: reading the terminal attributes of our own pty into a local.
        let mut t: libc::termios = unsafe { std::mem::zeroed() };
        (unsafe { libc::tcgetattr(file.as_raw_fd(), &mut t) }) == 0 && t.c_lflag & libc::ISIG != 0
    });
}

/// The state letter of a process (`R`, `S`, `t`...).
fn state(pid: i32) -> String {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.rsplit(')').next().and_then(|rest| rest.split_whitespace().next()).unwrap_or("?").to_string()
}

fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < Duration::from_secs(30), "timed out waiting: {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn ctrl_c_breaks_into_a_spinning_program() {
    let exe = fixture("spin");
    let history = history_file("spin");
    let mut p = spawn_pty(&[exe.to_str().unwrap()], &history);
    let (_, prompt) = p.exp_regex(PROMPT).unwrap();
    let pid: i32 = prompt.split(':').nth(1).unwrap().parse().unwrap();
    // To main first: from there on the program spins in main and never stops by itself.
    p.send_line("g spin!main").unwrap();
    p.exp_string("spin!main").unwrap();
    p.exp_regex(PROMPT).unwrap();
    p.send_line("g").unwrap();
    wait_until("the program runs", || state(pid) == "R");
    p.send_control('c').unwrap();
    p.exp_string(&format!("Break: pid={pid} tid={pid}")).unwrap();
    p.exp_string("spin!main").unwrap();
    p.exp_regex(PROMPT).unwrap();
    assert_eq!(state(pid), "t", "stopped by the debugger");
    p.send_line("k").unwrap();
    p.exp_regex(r"00 [0-9a-f]{16} [0-9a-f]{16} spin!main").unwrap();
    p.exp_regex(PROMPT).unwrap();
    // Ctrl-C also ends a command that steps many times (pc never meets a call here):
    // it stops at the break-in, or at the step under way when Ctrl-C came.
    p.send_line("pc").unwrap();
    wait_for_cooked_mode(&p);
    p.send_control('c').unwrap();
    let (_, stop) = p.exp_regex(&format!(r"(Break: pid={pid}|Step: at [0-9a-f]{{16}} spin!main)")).unwrap();
    assert!(!stop.is_empty());
    let (before, _) = p.exp_regex(PROMPT).unwrap();
    assert!(!before.contains("no call within"), "{before}");
    // The step cut short does not show up later: the next step is one instruction.
    p.send_line("t").unwrap();
    p.exp_regex(r"Step: at [0-9a-f]{16} spin!main\+0x").unwrap();
    p.exp_regex(PROMPT).unwrap();
    // And again: go, break in, the program is still there.
    p.send_line("g").unwrap();
    wait_until("the program runs again", || state(pid) == "R");
    p.send_control('c').unwrap();
    p.exp_string(&format!("Break: pid={pid}")).unwrap();
    p.exp_regex(PROMPT).unwrap();
    p.send_line("q").unwrap();
    p.exp_eof().unwrap();
    wait_until("the launched program dies with the debugger", || !matches!(state(pid).as_str(), "R" | "S" | "t"));
}
