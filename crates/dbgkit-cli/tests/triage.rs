//! `dbgkit triage` end to end: the real binary on the triage fixture, inputs
//! from a directory and from standard input, the summary table, the JSON
//! file, and clear errors for bad use.

#[path = "../../dbgkit/tests/common/mod.rs"]
mod common;

use common::fixture;
use std::io::Write;
use std::process::{Command, Stdio};

const DBGKIT: &str = env!("CARGO_BIN_EXE_dbgkit");

fn inputs(name: &str, files: &[(&str, &[u8])]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("dbgkit-cli-triage-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (file, data) in files {
        std::fs::write(dir.join(file), data).unwrap();
    }
    dir
}

#[test]
fn a_directory_of_inputs_gives_the_ranked_table_and_json() {
    let dir = inputs(
        "dir",
        &[("null-a", b"N1"), ("null-b", b"N22"), ("write", b"PAAAAAAAA"), ("spin", b"L"), ("fine", b"ok")],
    );
    let json = dir.join("out.json");
    let program = fixture("triage");
    let out = Command::new(DBGKIT)
        .args(["triage", "--jobs", "2", "--timeout", "2", "--json"])
        .arg(&json)
        .arg("--inputs")
        .arg(&dir)
        .arg("--")
        .arg(&program)
        .arg("@@")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.starts_with("5 inputs: 3 crashes and 1 hangs in 3 clusters, 1 without a crash, 0 errors"), "{text}");
    let rows: Vec<&str> =
        text.lines().skip_while(|l| !l.trim_start().starts_with("#  severity")).skip(1).take(3).collect();
    assert!(rows[0].contains("exploitable") && rows[0].contains("write-input-address"), "{text}");
    assert!(rows[1].contains("read-near-null") && rows[1].contains("  2  "), "{text}");
    assert!(rows[1].contains("triage!read_null") && rows[1].contains("(triage.c:22)"), "{text}");
    assert!(rows[2].contains("hang") && rows[2].contains("triage!spin"), "{text}");
    assert!(text.contains("== 1. exploitable write-input-address (1 inputs, hash "), "{text}");
    assert!(text.contains("mov     qword ptr [rax], 0x1234    ; qword ptr [rax] = 0x4141414141414141"), "{text}");
    let json = std::fs::read_to_string(&json).unwrap();
    assert!(json.starts_with("{\"clusters\": [\n  {\"rank\": 1, \"hash\": "), "{json}");
    assert_eq!(json.matches("\"outcome\": \"crash\"").count(), 3);
    assert!(json.contains("\"outcome\": \"no-crash\"") && json.contains("\"outcome\": \"hang\""));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn input_paths_on_standard_input_and_the_input_on_the_programs() {
    let dir = inputs("stdin", &[("a", b"E1"), ("b", b"E123")]);
    let program = fixture("triage_throw");
    let mut child = Command::new(DBGKIT)
        .args(["triage", "--brief", "--"])
        .arg(&program)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{}\n{}", dir.join("a").display(), dir.join("b").display()).unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("2 inputs: 2 crashes and 0 hangs in 1 clusters"), "{text}");
    assert!(text.contains("uncaught-exception") && !text.contains("== 1."), "{text}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn bad_use_is_a_clear_error() {
    let run = |args: &[&str]| {
        let out = Command::new(DBGKIT).arg("triage").args(args).stdin(Stdio::null()).output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (code, err) = run(&["--inputs", "/nonexistent-dir", "--", "/bin/true"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("cannot read the input directory /nonexistent-dir"), "{err}");
    let (_, err) = run(&["--inputs", "/tmp"]);
    assert!(err.contains("no program"), "{err}");
    let (_, err) = run(&["--timeout", "0", "--inputs", "/tmp", "--", "/bin/true"]);
    assert!(err.contains("--timeout must be a positive number"), "{err}");
    let (_, err) = run(&["--cores", "/nonexistent-dir", "--", "/bin/true"]);
    assert!(err.contains("cannot read the input directory /nonexistent-dir"), "{err}");
}

/// Runs the triage fixture on an input with core dumps allowed; the kernel's core, or None
/// (said aloud) when this machine sends cores elsewhere.
fn kernel_core_of(
    program: &std::path::Path,
    input: &[u8],
    dir: &std::path::Path,
    name: &str,
) -> Option<std::path::PathBuf> {
    let pattern = std::fs::read_to_string("/proc/sys/kernel/core_pattern").unwrap_or_default();
    if pattern.trim().starts_with('|') || pattern.contains('/') {
        eprintln!("core_pattern is {pattern:?}: no kernel cores here; skipping");
        return None;
    }
    let run = dir.join(format!("run-{name}"));
    std::fs::create_dir_all(&run).unwrap();
    std::fs::write(run.join("input"), input).unwrap();
    let status = Command::new("sh")
        .arg("-c")
        .arg("ulimit -c unlimited && exec \"$0\" input")
        .arg(program)
        .current_dir(&run)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(!status.success(), "{name} was meant to crash");
    let core = std::fs::read_dir(&run)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("core")))?;
    let kept = dir.join("cores").join(name);
    std::fs::create_dir_all(kept.parent().unwrap()).unwrap();
    std::fs::rename(core, &kept).unwrap();
    Some(kept)
}

#[test]
fn cores_are_triaged_like_live_crashes() {
    let dir = inputs("cores", &[]);
    let program = fixture("triage");
    for (name, input) in [("null-a", &b"N1"[..]), ("null-b", b"N22"), ("write", b"PAAAAAAAA")] {
        if kernel_core_of(&program, input, &dir, name).is_none() {
            return;
        }
    }
    let out = Command::new(DBGKIT).args(["triage", "--cores"]).arg(dir.join("cores")).arg(&program).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.starts_with("3 inputs: 3 crashes and 0 hangs in 2 clusters"), "{text}");
    let null_row = text.lines().find(|l| l.contains("read-near-null")).unwrap_or_else(|| panic!("{text}"));
    assert!(null_row.contains("  2  ") && null_row.contains("triage!read_null"), "both null reads together: {text}");
    assert!(text.contains("write"), "{text}");
    // Bad use: a core directory wants the program alone.
    let bad = Command::new(DBGKIT).args(["triage", "--cores"]).arg(dir.join("cores")).output().unwrap();
    assert!(!bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("no program"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn follow_forks_finds_the_crash_of_a_forked_worker() {
    let dir = inputs("fork", &[("crash-a", b"W1"), ("crash-b", b"W22"), ("fine", b"ok")]);
    let program = fixture("triage_fork");
    let run = |follow: bool| {
        let mut command = Command::new(DBGKIT);
        command.args(["triage", "--jobs", "2", "--brief", "--inputs"]).arg(&dir);
        if follow {
            command.arg("-f");
        }
        let out = command.arg("--").arg(&program).arg("@@").output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let followed = run(true);
    assert!(followed.starts_with("3 inputs: 2 crashes and 0 hangs in 1 clusters, 1 without a crash"), "{followed}");
    assert!(followed.contains("triage_fork!handle_request"), "{followed}");
    let alone = run(false);
    assert!(alone.starts_with("3 inputs: 0 crashes and 0 hangs in 0 clusters, 3 without a crash"), "{alone}");
    let _ = std::fs::remove_dir_all(dir);
}
