//! The stub built for Linux: it serves nothing, and says so.
#![cfg(not(windows))]

use std::process::Command;

fn run(args: &[&str]) -> (Option<i32>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_dbgkit-winstub")).args(args).output().expect("the stub runs");
    (output.status.code(), String::from_utf8_lossy(&output.stderr).into_owned())
}

#[test]
fn on_linux_the_stub_says_it_runs_on_windows() {
    let (code, said) = run(&["127.0.0.1:0", "prog.exe"]);
    assert_eq!(code, Some(2), "{said}");
    assert!(said.contains("runs on Windows (or under Wine)"), "{said}");
    assert!(said.contains("--target x86_64-pc-windows-gnu"), "{said}");
}

#[test]
fn bad_arguments_are_refused_first() {
    let (code, said) = run(&["--multi", ":1", "prog.exe"]);
    assert_eq!(code, Some(2), "{said}");
    assert!(said.contains("unknown option \"--multi\""), "{said}");
}
