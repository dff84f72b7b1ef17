//! gdb's `checkpoint` / `restart N` in the interactive debugger: back to a
//! saved moment twice, memory and the program's file as they were then.

#[path = "../../dbgkit/tests/common/mod.rs"]
mod common;

use common::fixture;
use std::process::{Command, Stdio};

const DBGKIT: &str = env!("CARGO_BIN_EXE_dbgkit");

#[test]
fn restart_goes_back_to_the_checkpoint_again_and_again() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("repl-cp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("log.txt");
    let script = "bp checkpoint!tick \"rdi == 3\"; g; checkpoint; bc *; bp checkpoint!tick \"rdi == 6\"; g; \
                  ? poi(checkpoint!counter); restart 1; ? poi(checkpoint!counter); info checkpoints; restart 1; \
                  ? poi(checkpoint!counter); delete checkpoint 1; bc *; g";
    let out = Command::new(DBGKIT)
        .args(["--batch", "-c", script])
        .arg(fixture("checkpoint"))
        .arg(&log)
        .arg("8")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let (text, err) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("checkpoint 1: ") && text.contains(" checkpoint!tick+0x8 (checkpoint.c:11)"), "{text}{err}");
    let values: Vec<&str> = text.lines().filter(|l| l.ends_with(" = 0xf") || l.ends_with(" = 0x3")).collect();
    assert_eq!(values, ["15 = 0xf", "3 = 0x3", "3 = 0x3"], "{text}");
    assert_eq!(text.matches("Switching to process ").count(), 2, "{text}");
    assert!(text.contains("counter=36") && text.contains("code=0"), "the restored run ends normally: {text}");
    let expected: String = (1..=8).map(|i| format!("line {i}\n")).collect();
    assert_eq!(std::fs::read_to_string(&log).unwrap(), expected, "the file is written once, in order");
    let bad = Command::new(DBGKIT)
        .args(["--batch", "-c", "restart 2"])
        .arg(fixture("checkpoint"))
        .arg(&log)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no checkpoint 2"), "a bad number is an error");
    let _ = std::fs::remove_dir_all(dir);
}
