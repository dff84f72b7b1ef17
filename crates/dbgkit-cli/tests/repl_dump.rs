//! `.dump [/o] FILE` and `gcore [FILE]`: the interactive debugger writes
//! the stopped program as a core that our reader opens, and the program
//! runs on to its normal end.

#[path = "../../dbgkit/tests/common/mod.rs"]
mod common;

use common::fixture;
use dbgkit::corefile::CoreFile;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const DBGKIT: &str = env!("CARGO_BIN_EXE_dbgkit");

fn scratch_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `dbgkit --batch -x SCRIPT PROGRAM ARGS` run in `dir`.
/// Runs `dbgkit PROGRAM` with the script on standard input: unlike `-x`, a
/// failing command does not end it, so one run can show several refusals.
fn batch_in(dir: &Path, script: &str, program: &[&str]) -> (i32, String, String) {
    use std::io::Write;
    let mut child = Command::new(DBGKIT)
        .args(program)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(script.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn dot_dump_refuses_to_replace_a_file_without_o_and_gcore_names_core_pid() {
    let dir = scratch_dir("repl-dump");
    let exe = fixture("core_threads");
    let script =
        ".dump\nbp checkpoint\ng\n.dump first.core\n.dump first.core\n.dump /o first.core\n.dump /x y\ngcore\ng\n";
    let (code, out, err) = batch_in(&dir, script, &[exe.to_str().unwrap(), "break"]);
    let _ = code;
    assert!(err.contains(".dump takes a file name"), "{err}");
    assert!(err.contains("first.core exists: `.dump /o first.core` replaces it"), "{err}");
    assert!(err.contains("unknown .dump option /x"), "{err}");
    assert_eq!(out.matches("Dump successfully written: 4 threads").count(), 2, "{out}");
    let saved = out.lines().find_map(|l| l.strip_prefix("Saved corefile ")).unwrap_or_else(|| panic!("{out}"));
    let gcore_name = saved.split_whitespace().next().unwrap();
    assert!(out.contains("sum=33"), "the program runs on to its end: {out}");

    for name in ["first.core", gcore_name] {
        let core = CoreFile::open(dir.join(name)).unwrap();
        assert_eq!(gcore_name, format!("core.{}", core.pid()));
        assert_eq!(core.threads().len(), 4);
        assert_eq!(core.signalled_thread().signal, libc::SIGTRAP);
        assert_eq!(core.executable(), Some(exe.as_path()));
    }
}
