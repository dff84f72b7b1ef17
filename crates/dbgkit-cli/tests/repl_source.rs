//! Source-level commands of the interactive debugger on real fixtures:
//! gdb's names (`info locals`, `info args`, `print`, `p/x`, `ptype`,
//! `whatis`, `set var`, `list`, `info line`) give gdb's text, compared
//! with gdb's own on the same stop; WinDbg's (`dv`, `dt`, `??`, `lsa`)
//! show the same values; `frame`/`up` change what they all see, `r`
//! included; `p` alone still steps.

use std::path::Path;
use std::process::Command;

const DBGKIT: &str = env!("CARGO_BIN_EXE_dbgkit");
const ENV: [(&str, &str); 2] = [("PATH", "/usr/local/bin:/usr/bin:/bin"), ("LANG", "C")];

/// Runs a batch script (echoed commands) in dbgkit, with gdb's environment.
fn dbgkit(script: &str, program: &Path) -> String {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let path = dir.join(format!("repl-source-{}-{}.txt", std::process::id(), script.len()));
    std::fs::write(&path, script).unwrap();
    let out = Command::new(DBGKIT)
        .env_clear()
        .envs(ENV)
        .args(["--batch", "--echo", "-x"])
        .arg(&path)
        .arg(program)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

/// The output of each echoed command, in order (the lines up to the next prompt).
fn outputs(out: &str, commands: &[&str]) -> Vec<String> {
    let mut from = 0;
    commands
        .iter()
        .map(|c| {
            let start = from + out[from..].find(&format!("> {c}\n")).unwrap_or_else(|| panic!("{c} not run:\n{out}"));
            let rest = &out[start + c.len() + 3..];
            // Up to the next prompt line (at once, for a command that prints nothing).
            let end = if rest.starts_with("0:") { 0 } else { rest.find("\n0:").map(|e| e + 1).unwrap_or(rest.len()) };
            from = start + c.len() + 3 + end;
            rest[..end].trim_end().to_string()
        })
        .collect()
}

/// gdb's output for each command after `break PLACE` and `run` (None without gdb).
fn gdb(program: &Path, place: &str, commands: &[&str]) -> Option<Vec<String>> {
    let mark = "@@@";
    let mut cmd = Command::new("gdb");
    cmd.env_clear().envs(ENV).args(["-batch", "-nx"]);
    for c in [
        "set debuginfod enabled off",
        "set startup-with-shell off",
        "set pagination off",
        "set width 0",
        "unset environment LINES",
        "unset environment COLUMNS",
    ] {
        cmd.arg("-ex").arg(c);
    }
    cmd.arg("-ex").arg(format!("break {place}")).arg("-ex").arg("run");
    for c in commands {
        cmd.arg("-ex").arg(format!("echo {mark}\\n")).arg("-ex").arg(c);
    }
    let out = cmd.arg(program).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    Some(text.split(&format!("{mark}\n")).skip(1).map(|s| s.trim_end().to_string()).collect())
}

#[test]
fn gdb_commands_print_what_gdb_prints() {
    let program = dbgkit_fixtures::path("types");
    let commands = [
        "info args",
        "info locals",
        "print *s",
        "p copy.bits",
        "p/x local_array",
        "p first",
        "print/d letter",
        "ptype struct shape",
        "whatis s->grid",
        "ptype binary_op",
        "p mode",
        "info line",
        "up",
        "info locals",
        "p total + 1",
        "down",
        "p deepest",
    ];
    let mut script = String::from("bp types.c:91\ng\n");
    for c in commands {
        script.push_str(c);
        script.push('\n');
    }
    let out = dbgkit(&script, &program);
    let ours = outputs(&out, &commands);
    // Without gdb, the values the program set.
    assert_eq!(ours[0].lines().nth(1), Some("p = {x = 7, y = 8}"), "{out}");
    assert!(ours[1].starts_with("deepest = 30\ninner = 15\n"), "{out}");
    assert_eq!(ours[3], "$2 = {low = 5, mid = 17, neg = -3, high = 999999}");
    assert_eq!(ours[4], "$3 = {0xa, 0x14, 0x1e, 0x28}");
    assert_eq!(ours[6], "$5 = 81");
    assert_eq!(ours[10], "$6 = (F_READ | F_WRITE)");
    assert!(ours[12].starts_with("01 ") && ours[12].contains("types!main+0x"), "{out}");
    assert_eq!(ours[16], "$8 = 30");
    let Some(theirs) = gdb(&program, "types.c:91", &commands) else {
        eprintln!("gdb is not installed: not comparing with it");
        return;
    };
    for (i, command) in commands.iter().enumerate() {
        // Frame selection prints each debugger's own frame line.
        if ["up", "down"].contains(command) {
            continue;
        }
        assert_eq!(ours[i], theirs[i], "{command}");
    }
}

#[test]
fn windbg_commands_show_the_same_values() {
    let program = dbgkit_fixtures::path("types");
    let commands = [
        "dv",
        "dv /t",
        "dv l*",
        "?? where->y",
        "?? *where",
        "dt struct node",
        "dt struct node first",
        "dt copy.bits",
        "set var counter = 41",
        "?? counter + 1",
        "p counter = counter * 2",
        "lsa",
        "r rip",
        "up",
        "r rip",
        "dv",
        "p",
    ];
    let mut script = String::from("bp types.c:91\ng\n");
    for c in commands {
        script.push_str(c);
        script.push('\n');
    }
    let out = dbgkit(&script, &program);
    let ours = outputs(&out, &commands);
    assert!(ours[0].contains("\n       deepest = 30\n") && ours[0].contains("\n         inner = 15\n"), "{out}");
    assert!(ours[1].contains(" short deepest = 30\n"), "{out}");
    assert_eq!(ours[2], "   local_array = {10, 20, 30, 40}\n        letter = 81 'Q'", "{out}");
    assert_eq!(ours[3], "int 4");
    assert_eq!(ours[4], "struct point\n   +0x000 x                : 3\n   +0x004 y                : 4");
    assert_eq!(
        ours[5],
        "struct node\n   +0x000 value            : int\n   +0x008 name             : const char *\n   +0x010 next             : struct node *"
    );
    assert!(ours[6].starts_with("struct node at 0x") && ours[6].contains("   +0x010 next             : 0x"), "{out}");
    assert!(ours[6].ends_with(" <second>"), "{out}");
    assert!(ours[7].contains("   +0x001 neg              : -3 (Pos 0, 4 Bits)"), "{out}");
    assert_eq!(ours[9], "int 42");
    assert_eq!(ours[10], "$1 = 82");
    assert!(ours[11].contains(">   91              counter += deepest;"), "{out}");
    // `r` follows the selected frame: frame 1's rip is the return address into main.
    assert_ne!(ours[12], ours[14]);
    assert!(ours[15].contains("total = 0"), "{out}");
    // `p` alone steps (WinDbg), in the innermost frame.
    assert!(ours[16].starts_with("Step: at "), "{out}");
}

#[test]
fn inlined_frames_in_k_and_frame_selection() {
    let program = dbgkit_fixtures::path("optimized");
    let commands = ["k", "info args", "frame 1", "info locals", "p *p", "info frame"];
    // helper has two inlined copies (a breakpoint with several locations is
    // the breakpoint table's): stop in the first, found by the engine.
    let offset = {
        let mut s = dbgkit::Session::new();
        let pid = s.spawn(&dbgkit::SpawnOptions::new([&program])).unwrap();
        let base = s.modules(pid).unwrap()[0].base;
        let first = s.breakpoint_locations(pid, "helper").unwrap()[0].address;
        s.kill(pid).unwrap();
        first - base
    };
    let mut script = format!("bp *optimized+{offset:#x}\ng\n");
    for c in commands {
        script.push_str(c);
        script.push('\n');
    }
    let out = dbgkit(&script, &program);
    let ours = outputs(&out, &commands);
    let k: Vec<&str> = ours[0].lines().collect();
    assert_eq!(k[1], "00 (Inline Function) ---------------- optimized!helper (inlined) (optimized.c:16)", "{out}");
    assert!(
        k[2].starts_with("01 ") && k[2].contains(" optimized!work+0x") && k[2].ends_with(" (optimized.c:28)"),
        "{out}"
    );
    assert_eq!(ours[1], "scale = 2\nx = 0");
    assert!(ours[2].starts_with("01 "), "{out}");
    assert!(ours[3].starts_with("i = 0\nunused = 12\nacc = 0"), "{out}");
    assert_eq!(ours[4], "$1 = {left = 2, right = 3}");
    assert!(ours[5].starts_with("Stack level 1, frame at 0x"), "{out}");
}
