//! What the CLI's end-to-end tests share: running the real `dbgkit`
//! binary on a script (as a file with `--batch -x`, or on standard input)
//! and picking each echoed command's output.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub const DBGKIT: &str = env!("CARGO_BIN_EXE_dbgkit");

pub fn fixture(name: &str) -> PathBuf {
    dbgkit_fixtures::path(name)
}

pub struct Run {
    pub code: i32,
    pub out: String,
    pub err: String,
}

/// `dbgkit --batch --echo -x SCRIPT PROGRAM ARGS...`, with the script given as text.
pub fn batch(script: &str, program: &[&str]) -> Run {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let path = dir.join(format!(
        "repl-script-{}-{}.txt",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    ));
    std::fs::write(&path, script).unwrap();
    let out = Command::new(DBGKIT)
        .args(["--batch", "--echo", "-x"])
        .arg(&path)
        .args(program)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    Run {
        code: out.status.code().unwrap_or(-1),
        out: String::from_utf8_lossy(&out.stdout).into_owned(),
        err: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `dbgkit --echo PROGRAM ARGS...` with the commands on its standard input
/// (as from a pipe: every command runs, failed or not).
pub fn piped(commands: &str, program: &[&str]) -> Run {
    let mut args = vec!["--echo"];
    args.extend_from_slice(program);
    run_with_args(&args, commands)
}

/// The output of one echoed command: the lines after `> CMD` up to the next prompt.
pub fn output_of<'a>(out: &'a str, command: &str) -> Vec<&'a str> {
    nth_output_of(out, command, 0)
}

/// The output of the `n`th (from 0) run of an echoed command.
pub fn nth_output_of<'a>(out: &'a str, command: &str, n: usize) -> Vec<&'a str> {
    let mut lines = out.lines();
    let suffix = format!("> {command}");
    let mut seen = 0;
    for line in lines.by_ref() {
        if line.ends_with(&suffix) && is_prompt_line(line) {
            if seen == n {
                break;
            }
            seen += 1;
        }
    }
    lines.take_while(|l| !is_prompt_line(l)).collect()
}

/// `0:4242:4243> cmd` or `dbgkit> cmd`.
pub fn is_prompt_line(line: &str) -> bool {
    let Some((head, _)) = line.split_once("> ") else { return false };
    head == "dbgkit" || (head.split(':').count() == 3 && head.split(':').all(|p| p.parse::<u32>().is_ok()))
}

/// `dbgkit ARGS...` with the commands on its standard input and without `--echo`.
pub fn run_with_args(args: &[&str], stdin: &str) -> Run {
    run_program(DBGKIT, args, stdin)
}

/// Any program with `stdin` as its standard input: its status and output.
pub fn run_program(program: &str, args: &[&str], stdin: &str) -> Run {
    use std::io::Write;
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    // A program may end without reading its input (a bad file, `q`): that is not the test's failure.
    if let Err(e) = child.stdin.take().unwrap().write_all(stdin.as_bytes()) {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "writing to {program}: {e}");
    }
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        out: String::from_utf8_lossy(&out.stdout).into_owned(),
        err: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A file of this test run's own, holding `text`.
pub fn temp_file(name: &str, text: &str) -> PathBuf {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{}-{n}-{name}", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

/// gdb in batch mode on a program with `-ex` commands: its standard output, then its errors.
pub fn gdb(program: &[&str], commands: &[&str]) -> String {
    let mut cmd = Command::new("gdb");
    cmd.args(["-nx", "-batch", "-ex", "set debuginfod enabled off"]);
    for c in commands {
        cmd.args(["-ex", c]);
    }
    cmd.arg("--args").args(program);
    let out = cmd.stdin(Stdio::null()).output().expect("gdb is installed by scripts/setup");
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}
