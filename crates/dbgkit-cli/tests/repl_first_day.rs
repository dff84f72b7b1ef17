//! The commands a debugger user reaches for on the first day, next to gdb:
//! every register, displays, one-shot breakpoints, jump, call, command
//! files and user commands, breakpoint command lists, printf/echo/output,
//! x/s and x/i, disassemble /r /s, the memory map, shared libraries,
//! logging, shell, cd and pwd. Each runs the real `dbgkit` on a real
//! program and, where gdb has the command, compares with gdb's output.

mod support;

use std::collections::BTreeSet;
use std::time::Instant;
use support::{batch, fixture, gdb, output_of, piped, temp_file, DBGKIT};

fn counter() -> String {
    fixture("counter").to_str().unwrap().to_string()
}

/// gdb run on a command file (for what `-ex` cannot hold: command lists).
fn gdb_script(program: &[&str], script: &str) -> String {
    let file = temp_file("gdb-script.gdb", &format!("set debuginfod enabled off\n{script}"));
    let out = std::process::Command::new("gdb")
        .args(["-nx", "-batch", "-x"])
        .arg(&file)
        .arg("--args")
        .args(program)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("gdb is installed by scripts/setup");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The value after `NAME=` in our `r NAME` output.
fn ours<'a>(out: &'a str, command: &str) -> &'a str {
    let lines = output_of(out, command);
    let line = lines.first().unwrap_or_else(|| panic!("no output for {command}:\n{out}"));
    line.split_once('=').map(|(_, v)| v).unwrap_or_else(|| panic!("{line}"))
}

/// The flags between `[` and `]` as a set.
fn flag_set(text: &str) -> BTreeSet<String> {
    let inside = text.split_once('[').and_then(|(_, r)| r.split_once(']')).map(|(f, _)| f).unwrap_or("");
    inside.split_whitespace().map(str::to_string).collect()
}

#[test]
fn registers_beyond_the_general_ones_read_as_gdb_reads_them_and_take_writes() {
    let exe = fixture("vector_regs");
    let exe = exe.to_str().unwrap();
    let avx = std::fs::read_to_string("/proc/cpuinfo").unwrap().contains(" avx ");
    let args: Vec<&str> = if avx { vec![exe, "avx"] } else { vec![exe] };
    let script = "bp vector_regs!stop_here\ng\nr xmm0\nr ymm1\nr st0\nr mxcsr\nr efl\nr fs_base\n\
                  r xmm0=0x99\nr xmm0\nr st1=7\nr st1\nr mxcsr=0x1fc0\nr mxcsr\ninfo registers vector\ninfo all-registers\ng\n";
    let run = batch(script, &args);
    let theirs = gdb(
        &args,
        &[
            "break stop_here",
            "run",
            "info registers xmm0",
            "p/x $ymm1.v2_int128",
            "info registers st0",
            "info registers mxcsr",
            "info registers eflags",
            "info registers fs_base",
        ],
    );
    let gdb_line = |name: &str| {
        theirs
            .lines()
            .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
            .unwrap_or_else(|| panic!("gdb has no {name}: {theirs}"))
            .to_string()
    };
    let xmm0 = gdb_line("xmm0");
    let uint128 = xmm0.split("uint128 = ").nth(1).unwrap().trim_end_matches('}');
    assert_eq!(
        u128::from_str_radix(&ours(&run.out, "r xmm0")[2..], 16).unwrap(),
        u128::from_str_radix(&uint128[2..], 16).unwrap()
    );
    if avx {
        let halves = theirs.lines().find(|l| l.starts_with("$1 = {")).unwrap();
        let halves: Vec<u128> = halves
            .trim_start_matches("$1 = {")
            .trim_end_matches('}')
            .split(", ")
            .map(|h| u128::from_str_radix(&h[2..], 16).unwrap())
            .collect();
        let ymm1 = ours(&run.out, "r ymm1");
        assert_eq!(ymm1, format!("0x{:032x}{:032x}", halves[1], halves[0]));
    }
    // st0 2 (raw 0x40008000000000000000)
    let st0 = gdb_line("st0");
    assert_eq!(ours(&run.out, "r st0"), format!("2 ({}", st0.split_once('(').unwrap().1));
    let mxcsr = gdb_line("mxcsr");
    assert_eq!(flag_set(ours(&run.out, "r mxcsr")), flag_set(&mxcsr));
    assert!(mxcsr.contains(&format!("0x{:x}", u32::from_str_radix(&ours(&run.out, "r mxcsr")[..8], 16).unwrap())));
    assert_eq!(flag_set(ours(&run.out, "r efl")), flag_set(&gdb_line("eflags")));
    let fs_base = gdb_line("fs_base");
    let fs_base = fs_base.split_whitespace().nth(1).unwrap();
    assert_eq!(
        u64::from_str_radix(ours(&run.out, "r fs_base"), 16).unwrap(),
        u64::from_str_radix(&fs_base[2..], 16).unwrap()
    );
    // Writes read back.
    assert_eq!(ours(&run.out, "r xmm0"), "0x22222222222222221111111111111111");
    assert_eq!(nth_value(&run.out, "r xmm0", 1), "0x00000000000000000000000000000099");
    assert_eq!(ours(&run.out, "r st1").split(' ').next().unwrap(), "7");
    assert!(
        nth_value(&run.out, "r mxcsr", 1).starts_with("00001fc0 [")
            && nth_value(&run.out, "r mxcsr", 1).contains("DAZ")
    );
    let vector = output_of(&run.out, "info registers vector");
    assert!(vector.iter().any(|l| l.contains("mm0=0x") && l.ends_with("99")), "{vector:?}");
    let all = output_of(&run.out, "info all-registers");
    assert!(all.iter().any(|l| l.starts_with("st7=")) && all.iter().any(|l| l.starts_with("rax=")), "{all:?}");
    assert!(run.out.contains("done"), "the program ran on after the writes: {}", run.out);
    assert_eq!(run.code, 0, "{}", run.err);
}

fn nth_value(out: &str, command: &str, n: usize) -> String {
    let lines = support::nth_output_of(out, command, n);
    lines[0].split_once('=').unwrap().1.to_string()
}

#[test]
fn displays_show_at_every_stop_as_gdb_shows_them() {
    let run =
        batch("bp counter!bump\ndisplay/x $rdi\ndisplay 1+1\ninfo display\ng\ng\nundisplay 1\ng\n", &[&counter(), "3"]);
    assert_eq!(run.code, 0, "{}", run.err);
    let displayed: Vec<&str> = run.out.lines().filter(|l| l.starts_with("1: /x $rdi = ")).collect();
    // After each stop at bump (i = 0, 1), not after undisplay.
    assert_eq!(displayed[displayed.len() - 2..], ["1: /x $rdi = 0x0", "1: /x $rdi = 0x1"], "{}", run.out);
    assert_eq!(
        output_of(&run.out, "info display"),
        ["Auto-display expressions now in effect:", "Num Enb Expression", "1:   y  /x $rdi", "2:   y  1+1"]
    );
    let theirs = gdb(&[&counter(), "3"], &["break bump", "run", "display/x $rdi", "display 1+1", "continue"]);
    assert!(theirs.contains("1: /x $rdi = 0x1") && theirs.contains("2: 1+1 = 2"), "{theirs}");
    assert!(run.out.contains("2: 1+1 = 2"));
    let last_stop = output_of(&run.out, "g").len();
    assert!(last_stop > 0);
}

#[test]
fn one_shot_breakpoints_go_after_their_hit() {
    for set in ["tbreak counter!bump", "bp /1 counter!bump"] {
        let run = batch(&format!("{set}\ng\nbl\ng\n"), &[&counter(), "3"]);
        assert_eq!(run.code, 0, "{set}: {}", run.err);
        assert_eq!(run.out.matches("Breakpoint: id=1").count(), 1, "{set}: {}", run.out);
        assert_eq!(output_of(&run.out, "bl"), ["No breakpoints."]);
        assert!(run.out.contains("sum=6 value=1"));
    }
}

#[test]
fn jump_goes_on_elsewhere_as_gdb_does() {
    // At line 10 the frame is set up and sum is 0: jumping to line 11 skips the loop.
    let run = batch("bp counter.c:10\ng\njump counter.c:11\n", &[&counter(), "3"]);
    assert_eq!(run.code, 0, "{}", run.err);
    let theirs = gdb(&[&counter(), "3"], &["break 10", "run", "jump 11"]);
    assert!(theirs.contains("sum=0 value=1"), "{theirs}");
    assert!(run.out.contains("sum=0 value=1"), "the loop was skipped: {}", run.out);
    assert!(output_of(&run.out, "jump counter.c:11")[0].starts_with("Continuing at 0x"));
}

#[test]
fn call_in_c_syntax_returns_what_gdb_returns() {
    let run = batch("bp counter.c:10\ng\ncall bump(41)\ncall bump(-3)\n", &[&counter(), "3"]);
    assert_eq!(run.code, 0, "{}", run.err);
    let theirs = gdb(&[&counter(), "3"], &["break 10", "run", "call bump(41)", "call bump(-3)"]);
    // gdb 13 cannot call functions on processors whose extended state it
    // does not know; its answer is then no reference.
    let gdb_can_call = !theirs.contains("Couldn't write extended state");
    if !gdb_can_call {
        eprintln!("gdb cannot call functions on this processor; comparing with the known answers only");
    }
    for (ours_cmd, line) in [("call bump(41)", "$1 = 42"), ("call bump(-3)", "$2 = -2")] {
        assert!(!gdb_can_call || theirs.lines().any(|l| l == line), "gdb: {theirs}");
        assert_eq!(output_of(&run.out, ours_cmd), [line]);
    }
    let run = piped("bp counter.c:10\ng\ncall bump(41\ncall (1)\n", &[&counter(), "3"]);
    assert!(run.err.contains("do not end with `)`") && run.err.contains("a function name"), "{}", run.err);
}

#[test]
fn command_files_and_user_commands() {
    let inner = temp_file("inner.txt", "$$ a WinDbg script\nr rip; .echo from the inner file\n");
    let outer = temp_file(
        "outer.gdb",
        &format!(
            "# a gdb command file\ndefine twice\n  echo $arg0 $arg0\\n\n  echo argc=$argc\\n\nend\ndocument twice\nSays it twice.\nend\n\
             twice hello\nhelp twice\n$$>< {}\n",
            inner.display()
        ),
    );
    let run = batch(&format!("source {}\n", outer.display()), &[&counter(), "3"]);
    assert_eq!(run.code, 0, "{}", run.err);
    assert!(run.out.contains("hello hello\nargc=1\n"), "{}", run.out);
    assert!(run.out.contains("twice (defined with define)\n  Says it twice."), "{}", run.out);
    assert!(run.out.contains("from the inner file"), "{}", run.out);
    // The same define runs in gdb with the same output.
    let theirs =
        gdb_script(&[&counter()], "define twice\n  echo $arg0 $arg0\\n\n  echo argc=$argc\\n\nend\ntwice hello\n");
    assert!(theirs.contains("hello hello\nargc=1\n"), "{theirs}");

    // A file that sources itself ends with an error, not a stack overflow; a failure names file and line.
    let looping = temp_file("loop.txt", "");
    std::fs::write(&looping, format!("source {}\n", looping.display())).unwrap();
    let run = batch(&format!("source {}\n", looping.display()), &[&counter(), "3"]);
    assert_eq!(run.code, 1);
    assert!(run.err.contains("nested more than 32 deep"), "{}", run.err);
    let bad = temp_file("bad.txt", "r rip\nnosuch\n");
    let run = batch(&format!("$$>< {}\n.echo after\n", bad.display()), &[&counter(), "3"]);
    assert_eq!(run.code, 1);
    assert!(run.err.contains(&format!("{}:2: unknown command", bad.display())), "{}", run.err);
    let open = temp_file("open.txt", "define foo\necho x\n");
    let run = batch(&format!("source {}\n", open.display()), &[&counter(), "3"]);
    assert_eq!(run.code, 1);
    assert!(run.err.contains("`define foo` is not closed with `end`"), "{}", run.err);
    let run = piped("define\ndefine bp\nend\ndocument nosuch\nsource\n", &[&counter(), "3"]);
    for expected in [
        "give one command name",
        "bp is a command of the debugger",
        "end closes define",
        "undefined command \"nosuch\"",
        "source takes a file",
    ] {
        assert!(run.err.contains(expected), "missing {expected:?}: {}", run.err);
    }
}

#[test]
fn gdbs_tracing_idiom_prints_what_gdb_prints_and_stays_fast() {
    let commands = "commands 1\nsilent\nprintf \"bump(%d) value=%ld\\n\", $rdi, $rdi + 1\ncontinue\nend\n";
    let hits = 2000;
    let n = hits.to_string();
    let script = format!("bp counter!bump\n{commands}g\n");
    let start = Instant::now();
    let run = batch(&script, &[&counter(), &n]);
    let ours_time = start.elapsed();
    assert_eq!(run.code, 0, "{}", run.err);
    let start = Instant::now();
    let theirs = gdb_script(&[&counter(), &n], &format!("break bump\n{commands}run\n"));
    let gdb_time = start.elapsed();
    let lines = |text: &str| text.lines().filter(|l| l.starts_with("bump(")).map(str::to_string).collect::<Vec<_>>();
    assert_eq!(lines(&run.out).len(), hits);
    assert_eq!(lines(&run.out), lines(&theirs));
    assert!(!run.out.contains("Breakpoint: id=1"), "silent: no stop is shown");
    eprintln!("{hits} traced hits: dbgkit {ours_time:?}, gdb {gdb_time:?}");
    assert!(ours_time < gdb_time * 2, "dbgkit {ours_time:?} against gdb {gdb_time:?}");

    // The idiom on one line, as `-c` takes it: `end` closes the list and `g` runs.
    let out = std::process::Command::new(DBGKIT)
        .args(["--batch", "-c", r#"bp counter!bump; commands; silent; printf "i=%d\n", $rdi; continue; end; g"#])
        .arg(counter())
        .arg("3")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("i=0\ni=1\ni=2\nsum=6 value=1"), "{text}");

    // WinDbg's form: the command string of bp.
    let run = batch("bp counter!bump \".echo hit; g\"\ng\n", &[&counter(), "3"]);
    assert_eq!(run.code, 0, "{}", run.err);
    assert_eq!(run.out.matches("hit\n").count(), 3, "{}", run.out);
    assert!(run.out.contains("sum=6 value=1"));
}

#[test]
fn printf_echo_and_output_print_as_gdb_does() {
    let commands =
        [r#"printf "%d|%5d|%-4x|%#o|%c|%lu|%%\n", 42, -7, 255, 8, 65, -1"#, r#"echo a\tb\n"#, "output 5", r#"echo \n"#];
    let script = format!("{}\n", commands.join("\n"));
    let run = batch(&script, &[&counter(), "3"]);
    assert_eq!(run.code, 0, "{}", run.err);
    let theirs = gdb(&[&counter()], &commands);
    let expected = "42|   -7|ff  |010|A|18446744073709551615|%\na\tb\n5\n";
    assert_eq!(theirs, expected);
    let ours: String = ["printf", "echo a", "output", "echo \\n"]
        .iter()
        .map(|c| {
            let cmd = commands.iter().find(|full| full.starts_with(c)).unwrap();
            let after = run.out.split(&format!("> {cmd}\n")).nth(1).unwrap();
            after[..after.find("0:").unwrap_or(after.len())].to_string()
        })
        .collect();
    assert_eq!(ours, expected);
    let run = piped("printf \"%d %d\\n\", 1\nprintf \"%f\\n\", 1\nprintf 1\n", &[&counter(), "3"]);
    for e in ["more % directives than arguments", "%f is not supported", "printf takes a quoted format"] {
        assert!(run.err.contains(e), "{e}: {}", run.err);
    }
}

#[test]
fn strings_and_instructions_of_memory_as_gdb_reads_them() {
    // At main's entry rsi is argv: x/s of argv[0], and the function's bytes against gdb's disassemble /r.
    let run = batch(
        "bp counter!main\ng\nx/s poi(rsi)\nbp counter!bump\ng\ndisassemble /r counter!bump\ndisassemble /s\nx/2i $pc\nx/2ir $pc\n",
        &[&counter(), "3"],
    );
    assert_eq!(run.code, 0, "{}", run.err);
    let theirs = gdb(&[&counter(), "3"], &["break bump", "run", "disassemble /r bump"]);
    let gdb_bytes: Vec<(u64, String)> = theirs
        .lines()
        .filter_map(|l| {
            let l = l.trim_start_matches("=>").trim();
            let (address, rest) = l.split_once(" <+")?;
            let bytes = rest.split('\t').nth(1)?.split_whitespace().collect::<String>();
            Some((u64::from_str_radix(address.trim_start_matches("0x"), 16).ok()?, bytes))
        })
        .collect();
    assert!(gdb_bytes.len() > 4, "{theirs}");
    let our_bytes: Vec<(u64, String)> = output_of(&run.out, "disassemble /r counter!bump")
        .iter()
        .filter_map(|l| {
            let mut words = l.trim_start_matches("=>").split_whitespace();
            Some((u64::from_str_radix(words.next()?, 16).ok()?, words.next()?.to_string()))
        })
        .collect();
    assert_eq!(our_bytes, gdb_bytes);
    let with_source = output_of(&run.out, "disassemble /s");
    assert!(with_source.iter().any(|l| l.contains("long bump(long i) { return i + value; }")), "{with_source:?}");
    assert_eq!(output_of(&run.out, "x/2i $pc").len(), 3, "the place and two instructions");
    assert_eq!(
        output_of(&run.out, "x/2ir $pc"),
        output_of(&run.out, "x/2i $pc"),
        "gdb's raw modifier: bytes are always shown"
    );
    let string = output_of(&run.out, "x/s poi(rsi)");
    assert!(string[0].ends_with(&format!("\"{}\"", counter())), "argv[0]: {string:?}");
}

#[test]
fn the_memory_map_labels_the_debuggers_pages_and_otherwise_matches_gdb() {
    let run = batch("bp counter!bump\ng\ninfo proc mappings\ninfo sharedlibrary\n", &[&counter(), "3"]);
    assert_eq!(run.code, 0, "{}", run.err);
    let map = output_of(&run.out, "info proc mappings");
    let ours_rows: Vec<&str> = map.iter().copied().filter(|l| l.contains("[dbgkit scratch")).collect();
    assert_eq!(ours_rows.len(), 1, "the out-of-line page of the breakpoint is labelled: {map:?}");
    let region = |start: &str, end: &str| {
        (
            u64::from_str_radix(start.trim_start_matches("0x"), 16).unwrap(),
            u64::from_str_radix(end.trim_start_matches("0x"), 16).unwrap(),
        )
    };
    let ours_set: BTreeSet<(u64, u64)> = map[1..]
        .iter()
        .filter(|l| !l.contains("[dbgkit scratch"))
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            region(w[0], w[1])
        })
        .collect();
    let theirs = gdb(&[&counter(), "3"], &["break bump", "run", "info proc mappings", "info sharedlibrary"]);
    let theirs_set: BTreeSet<(u64, u64)> = theirs
        .lines()
        .filter(|l| l.trim_start().starts_with("0x") && l.split_whitespace().count() >= 5)
        .filter(|l| !l.contains("Yes"))
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            region(w[0], w[1])
        })
        .collect();
    assert_eq!(ours_set, theirs_set);
    // The same table as gdb's, line for line: header, then each library's .text and path.
    let gdb_table: Vec<&str> = theirs
        .lines()
        .skip_while(|l| !l.starts_with("From "))
        .take_while(|l| l.starts_with("From ") || l.starts_with("0x"))
        .collect();
    assert!(gdb_table.len() >= 3, "{theirs}");
    assert_eq!(output_of(&run.out, "info sharedlibrary"), gdb_table);
}

#[test]
fn logging_copies_what_is_shown_into_a_file() {
    let gdb_log = temp_file("gdb-log.txt", "");
    let windbg_log = temp_file("windbg-log.txt", "");
    let script = format!(
        "set logging on {}\n.echo into the gdb log\nset logging off\n.logopen {}\nr rip\nnosuch\n.logclose\n.echo not logged\n",
        gdb_log.display(),
        windbg_log.display()
    );
    let run = piped(&script, &[&counter(), "3"]);
    let gdb_text = std::fs::read_to_string(&gdb_log).unwrap();
    assert!(gdb_text.contains("into the gdb log") && !gdb_text.contains("rip="), "{gdb_text}");
    let windbg_text = std::fs::read_to_string(&windbg_log).unwrap();
    assert!(windbg_text.contains("rip=") && windbg_text.contains("error: unknown command \"nosuch\""), "{windbg_text}");
    assert!(!windbg_text.contains("not logged"));
    assert!(run.out.contains("into the gdb log"), "the terminal still gets it");
    let run = piped("set logging on /no/such/dir/log.txt\n.logclose\nset logging sideways\n", &[&counter(), "3"]);
    for e in ["cannot open log file /no/such/dir/log.txt", "no log file is open", "set logging on [FILE]"] {
        assert!(run.err.contains(e), "{e}: {}", run.err);
    }
}

#[test]
fn shell_cd_and_pwd_as_gdb() {
    let dir = std::env::temp_dir();
    let dir = dir.canonicalize().unwrap();
    let script = format!(
        "pwd\ncd {}\npwd\nshell echo from sh\n!echo bang\n.shell echo windbg\ncd /no/such/dir\n",
        dir.display()
    );
    let run = piped(&script, &[&counter(), "3"]);
    let theirs =
        gdb(&[&counter()], &[&format!("cd {}", dir.display()), "pwd", "shell echo from sh", "cd /no/such/dir"]);
    let line = format!("Working directory {}.", dir.display());
    assert!(theirs.contains(&line), "{theirs}");
    assert_eq!(support::nth_output_of(&run.out, "pwd", 1), [line.as_str()]);
    assert_eq!(output_of(&run.out, "shell echo from sh"), ["from sh"]);
    assert_eq!(output_of(&run.out, "!echo bang"), ["bang"]);
    assert_eq!(output_of(&run.out, ".shell echo windbg"), ["windbg", ".shell: Process exited"]);
    assert!(theirs.contains("/no/such/dir: No such file or directory."), "{theirs}");
    assert!(run.err.contains("/no/such/dir: No such file or directory."), "{}", run.err);
}

#[test]
fn batch_mode_never_pages_and_colour_is_for_terminals() {
    let run = batch("set pagination off\nset height 0\nset width 0\nset confirm off\nnosuch\n", &[&counter(), "3"]);
    assert_eq!(run.code, 1);
    assert!(!run.err.contains('\x1b'), "no colour into a pipe: {:?}", run.err);
    let run = piped("set pagination sideways\n", &[&counter(), "3"]);
    assert!(run.err.contains("set pagination takes on, off or a number"), "{}", run.err);
    // On a terminal: red unless NO_COLOR says otherwise.
    for (no_color, red) in [(None, true), (Some("1"), false)] {
        let mut cmd = std::process::Command::new(DBGKIT);
        cmd.arg(counter()).arg("3");
        if let Some(v) = no_color {
            cmd.env("NO_COLOR", v);
        } else {
            cmd.env_remove("NO_COLOR");
        }
        let mut p = rexpect::session::spawn_command(cmd, Some(20_000)).unwrap();
        let (start, _) = p.exp_regex(r"\d+:\d+:\d+> ").unwrap();
        assert_eq!(start.contains("\x1b[1;32m=> "), red, "the current instruction: {start:?}");
        p.send_line("nosuch").unwrap();
        let text = p.exp_string("unknown command").unwrap();
        assert_eq!(text.contains("\x1b[31m"), red, "NO_COLOR={no_color:?}: {text:?}");
        p.send_line("q").unwrap();
        p.exp_eof().unwrap();
    }
}

#[test]
fn help_documents_every_new_command() {
    let run = piped(
        "help printf\nhelp display\nhelp source\nhelp define\nhelp commands\nhelp jump\nhelp call\nhelp set logging\nhelp shell\nhelp cd\nhelp pwd\nhelp set args\nhelp info sharedlibrary\nhelp $$><\n",
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.err);
    for topic in [
        "printf",
        "display",
        "source",
        "define",
        "commands",
        "jump",
        "call",
        "set logging",
        "shell",
        "cd",
        "pwd",
        "set args",
        "info sharedlibrary",
        "$$><",
    ] {
        let lines = output_of(&run.out, &format!("help {topic}"));
        assert!(lines.len() >= 2, "help {topic}: {lines:?}");
    }
}

#[test]
fn define_at_the_prompt_asks_for_lines_until_end() {
    let mut cmd = std::process::Command::new(DBGKIT);
    cmd.arg(counter()).arg("3").env("NO_COLOR", "1");
    let mut p = rexpect::session::spawn_command(cmd, Some(20_000)).unwrap();
    p.exp_regex(r"\d+:\d+:\d+> ").unwrap();
    p.send_line("define twice").unwrap();
    p.exp_string("End with a line saying just \"end\".").unwrap();
    p.exp_string(">").unwrap();
    p.send_line("echo $arg0 $arg0\\n").unwrap();
    p.exp_string(">").unwrap();
    p.send_line("end").unwrap();
    p.exp_regex(r"\d+:\d+:\d+> ").unwrap();
    p.send_line("twice hi").unwrap();
    p.exp_string("hi hi").unwrap();
    p.send_line("q").unwrap();
    p.exp_eof().unwrap();
}
