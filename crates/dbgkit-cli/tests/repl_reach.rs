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
fn a_watch_wider_than_the_debug_registers_is_a_page_watchpoint() {
    let watch = fixture("watch");
    // 64 bytes from `counter` take in the lock beside it: the thread's
    // locking, its `counter++` and its unlocking are all writes to the range.
    let script = format!("bp main\ng\nwatch counter 64\nwl\n{}wc *\ng\n", "g\n".repeat(6));
    let (code, out, err) = batch(&script, &[watch.to_str().unwrap(), "1", "3"]);
    assert_eq!(code, 0, "{err}\n{out}");
    assert!(out.contains("Page watchpoint 2: write 64 bytes at "), "{out}");
    assert!(out.lines().any(|l| l.contains("page write 64 bytes") && l.contains("hits=0")), "wl: {out}");
    let hits: Vec<&str> = out.lines().filter(|l| l.starts_with("Watchpoint: id=2 write at ")).collect();
    assert_eq!(hits.len(), 6, "every write to the range is seen until the watchpoint goes:\n{out}");
    assert!(hits.iter().any(|h| h.contains("watch!run+")), "counter++ in the thread's loop: {hits:?}");
    assert!(out.contains("counter 3 sum 35"), "the program finishes normally: {out}");
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

#[test]
fn breakpoints_and_watchpoints_share_one_numbering_and_one_list() {
    let watch = fixture("watch");
    let script = "bp main\ng\nba w8 counter\nhbreak libc.so.6!getpid\nbl\nbd *\nbl\nbc 2\nbl\nbc *\ng\n";
    let (code, out, err) = batch(script, &[watch.to_str().unwrap(), "1", "1"]);
    assert_eq!(code, 0, "{err}\n{out}");
    // Each `bl` starts its listing with breakpoint 1 (the `bp main`).
    let listings: Vec<Vec<&str>> = out
        .split("\n")
        .collect::<Vec<_>>()
        .split(|l| l.trim_start().starts_with("1 e") || l.trim_start().starts_with("1 d"))
        .skip(1)
        .map(|rest| rest.iter().copied().take_while(|l| l.trim_start().starts_with(char::is_numeric)).collect())
        .collect();
    assert_eq!(listings.len(), 3, "three listings: {out}");
    let first = &listings[0];
    assert!(first.iter().any(|l| l.trim_start().starts_with("2 e") && l.contains("write 8 bytes")), "{out}");
    assert!(first.iter().any(|l| l.trim_start().starts_with("3 e") && l.contains("hardware")), "{out}");
    let disabled = &listings[1];
    assert!(disabled.iter().all(|l| l.split_whitespace().nth(1) == Some("d")), "bd * disables all: {out}");
    assert_eq!(disabled.len(), 2, "{out}");
    let after_clear = &listings[2];
    assert!(!after_clear.iter().any(|l| l.trim_start().starts_with("2 ")), "bc 2 removed the watchpoint: {out}");
    assert!(after_clear.iter().any(|l| l.trim_start().starts_with("3 ")), "{out}");
    assert!(out.contains("counter 1 sum"), "nothing stops the program once all are cleared: {out}");
}

#[test]
fn a_breakpoint_with_several_locations_lists_each() {
    let twolibs = fixture("twolibs");
    let (code, out, err) = batch("bp main\ng\nbp shared_name\nbl\n", &[twolibs.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}\n{out}");
    assert!(out.lines().any(|l| l.trim_start().starts_with("2 ") && l.contains("<multiple>")), "{out}");
    assert!(out.lines().any(|l| l.trim_start().starts_with("2.1 ")), "{out}");
    assert!(out.lines().any(|l| l.trim_start().starts_with("2.2 ")), "{out}");
}
