//! The interactive debugger's commands that reach into the target:
//! `ba`/`watch`/`hbreak`, `.call`, `.inject`.

#[path = "../../dbgkit/tests/common/mod.rs"]
mod common;

use common::fixture;
use std::process::{Command, Stdio};

const DBGKIT: &str = env!("CARGO_BIN_EXE_dbgkit");

fn batch(script: &str, program: &[&str]) -> (i32, String, String) {
    // Tests run in parallel threads: each script needs a name of its own.
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("reach-{}-{n}.txt", std::process::id()));
    std::fs::write(&path, script).unwrap();
    let out =
        Command::new(DBGKIT).args(["--batch", "-x"]).arg(&path).args(program).stdin(Stdio::null()).output().unwrap();
    let _ = std::fs::remove_file(&path);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn ba_and_watch_report_writes_with_old_and_new_values() {
    let watch = fixture("watch");
    for set in ["ba w8 counter", "watch counter"] {
        let script = format!("{set}\ng\ng\nwl\nwc *\ng\n");
        let (code, out, err) = batch(&script, &[watch.to_str().unwrap(), "1", "3"]);
        assert_eq!(code, 0, "{set}: {err}\n{out}");
        let hits: Vec<&str> = out.lines().filter(|l| l.starts_with("Watchpoint: ")).collect();
        assert_eq!(hits.len(), 2, "{set}: two writes seen, then the watchpoint is removed:\n{out}");
        assert!(hits[0].contains(" write at ") && hits[0].contains(" old=0x0 new=0x1 "), "{}", hits[0]);
        assert!(hits[1].contains(" old=0x1 new=0x2 "), "{}", hits[1]);
        assert!(out.lines().any(|l| l.contains("hardware write 8 bytes") && l.contains("hits=2")), "wl: {out}");
        assert!(out.contains("counter 3 sum 35"), "the program finishes normally: {out}");
    }
}

#[test]
fn hbreak_stops_in_read_only_library_code() {
    let watch = fixture("watch");
    let (code, out, err) =
        batch("bp main\ng\nhbreak libc.so.6!getpid\ng\ng\ng\ng\n", &[watch.to_str().unwrap(), "1", "1"]);
    assert_eq!(code, 0, "{err}\n{out}");
    let hits: Vec<&str> = out.lines().filter(|l| l.starts_with("Watchpoint: ") && l.contains(" execute ")).collect();
    assert_eq!(hits.len(), 3, "{out}");
    assert!(hits.iter().all(|l| l.contains("libc.so.6!getpid")), "{hits:?}");
}

#[test]
fn dot_call_and_dot_inject() {
    let calls = fixture("calls");
    let lib = fixture("libinject.so");
    let script = format!(
        "bp ready\ng\n.call sum8 1 2 3 4 5 6 7 8\n.call libc.so.6!strlen \"hello\"\n.inject {}\n? poi(marker)\ng\n",
        lib.display()
    );
    let (code, out, err) = batch(&script, &[calls.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("rax = 0xcc (204)"), "{out}");
    assert!(out.contains("rax = 0x5 (5)"), "{out}");
    assert!(out.contains(&format!("loaded {}", lib.display())), "{out}");
    assert!(out.lines().any(|l| l.contains("0x1234") || l.contains("4660")), "the constructor's mark: {out}");
    assert!(out.contains("marker 4660"), "the program sees the mark: {out}");
    // A library that cannot be loaded: dlerror() says why, and the batch stops there with status 1.
    let (code, _, err) = batch("bp ready\ng\n.inject /no/such.so\ng\n", &[calls.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("cannot open shared object file"), "{err}");
}
