//! `dbgkit --remote`: the same commands on the same program, launched
//! locally and started by Debian's gdbserver, must print the same thing
//! once both stop at the breakpoint (breakpoints by name, `k`, `r`, `dq`,
//! `lm`, `~`, `ba`, `g` to the exit); and `target remote` in the REPL.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

const DBGKIT: &str = env!("CARGO_BIN_EXE_dbgkit");

/// A gdbserver started with the same environment as the local run (no
/// shell in between: the program's stack is laid out identically).
struct Gdbserver {
    child: Child,
    address: String,
}

impl Gdbserver {
    fn start(program: &str, args: &[&str]) -> Gdbserver {
        let mut argv = vec!["--once", "--no-startup-with-shell", "127.0.0.1:0", program];
        argv.extend(args);
        Gdbserver::with(&argv)
    }

    /// `gdbserver --once --multi`: an extended stub with no process yet.
    fn multi() -> Gdbserver {
        Gdbserver::with(&["--once", "--multi", "--no-startup-with-shell", "127.0.0.1:0"])
    }

    fn with(argv: &[&str]) -> Gdbserver {
        let mut child = Command::new("gdbserver")
            .args(argv)
            .env_clear()
            .envs(ENV)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("gdbserver is not installed: scripts/setup installs it");
        let stderr = child.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr).lines();
        let port = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|l| l.strip_prefix("Listening on port ").map(|p| p.trim().to_string()))
            .expect("gdbserver says its port");
        // Keep draining what it says, so it never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Gdbserver { child, address: format!("127.0.0.1:{port}") }
    }
}

impl Drop for Gdbserver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const ENV: [(&str, &str); 2] = [("PATH", "/usr/bin:/bin"), ("LANG", "C")];

fn dbgkit(args: &[&str]) -> String {
    let out = Command::new(DBGKIT).args(args).env_clear().envs(ENV).stdin(Stdio::null()).output().unwrap();
    assert!(
        out.status.success(),
        "dbgkit {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The output from the first breakpoint hit on, with process and thread
/// ids made anonymous and the program's own output left out.
fn from_first_hit(text: &str) -> String {
    let start = text.find("Breakpoint: id=1").expect("the breakpoint was hit");
    text[start..].lines().filter(|l| !l.starts_with("sum=")).map(anonymous_ids).collect::<Vec<_>>().join("\n")
}

/// `pid=1234`, `tid=1234`, `Id: 1234.1235` with `N` for the numbers.
fn anonymous_ids(line: &str) -> String {
    let mut out = line.to_string();
    for tag in ["pid=", "tid=", "Id: "] {
        let mut from = 0;
        while let Some(at) = out[from..].find(tag).map(|i| from + i + tag.len()) {
            let end = out[at..].find(|c: char| !c.is_ascii_digit() && c != '.').map_or(out.len(), |e| at + e);
            out.replace_range(at..end, "N");
            from = at + 1;
        }
    }
    out
}

#[test]
fn the_same_commands_print_the_same_locally_and_through_gdbserver() {
    let counter = dbgkit_fixtures::path("counter");
    let counter = counter.to_str().unwrap();
    let commands = "bp counter!bump; g; k; r; dq rsp L2; lm; ~; g; r rdi; bc *; g";
    let local = dbgkit(&["--batch", "-c", commands, counter, "3"]);
    let server = Gdbserver::start(counter, &["3"]);
    let remote = dbgkit(&["--batch", "-c", commands, "--remote", &server.address]);
    let (local, remote) = (from_first_hit(&local), from_first_hit(&remote));
    assert!(local.contains("counter!main+0x51 (counter.c:10)"), "{local}");
    assert!(local.contains(" libc.so.6 ") && local.contains("\nrdi=0000000000000001"), "{local}");
    assert!(local.ends_with("ExitProcess: pid=N code=0"), "{local}");
    assert_eq!(local, remote);
}

#[test]
fn target_remote_in_the_repl_and_a_clear_error_for_nothing_there() {
    let counter = dbgkit_fixtures::path("counter");
    let server = Gdbserver::start(counter.to_str().unwrap(), &["2"]);
    let out =
        dbgkit(&["--batch", "-c", &format!("target remote {}; bp counter!bump; g; ln rip; g; g", server.address)]);
    assert!(out.contains("Break: pid="), "{out}");
    assert!(out.contains("counter!bump+0x8 (counter.c:6)"), "{out}");
    assert!(out.trim_end().ends_with("code=0"), "{out}");
    // A port nobody listens on: the address and the reason, and the exit status says so.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let out = Command::new(DBGKIT).args(["--batch", "--remote", &format!("127.0.0.1:{port}")]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains(&format!("cannot connect to 127.0.0.1:{port}")) && err.contains("refused"), "{err}");
}

#[test]
fn target_extended_remote_runs_the_program_on_a_stub_with_none() {
    let counter = dbgkit_fixtures::path("counter");
    let server = Gdbserver::multi();
    let script =
        format!("target extended-remote {} {}; bp counter!bump; g; ln rip; bc *; g", server.address, counter.display());
    let out = dbgkit(&["--batch", "-c", &script]);
    assert!(out.contains("Breakpoint: id=1 at 0000555555555151 counter!bump+0x8"), "{out}");
    assert!(out.trim_end().ends_with("code=0"), "{out}");
}

/// The state letter of a process (`R`, `S`, `t`...).
fn state(pid: i32) -> String {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.rsplit(')').next().and_then(|rest| rest.split_whitespace().next()).unwrap_or("?").to_string()
}

#[test]
fn ctrl_c_breaks_into_a_program_under_gdbserver() {
    let spin = dbgkit_fixtures::path("spin");
    let server = Gdbserver::start(spin.to_str().unwrap(), &[]);
    let history = std::env::temp_dir().join(format!("dbgkit-remote-history-{}", std::process::id()));
    let mut command = Command::new(DBGKIT);
    command.args(["--remote", &server.address]).env("DBGKIT_HISTORY", &history).env("TERM", "xterm");
    let mut p = rexpect::session::spawn_command(command, Some(30_000)).expect("dbgkit starts in a pty");
    let prompt = r"\d+:\d+:\d+> ";
    let (_, first) = p.exp_regex(prompt).unwrap();
    let pid: i32 = first.rsplit('\n').next().unwrap().split(':').nth(1).unwrap().parse().unwrap();
    p.send_line("g spin!main").unwrap();
    p.exp_string("spin!main").unwrap();
    p.exp_regex(prompt).unwrap();
    p.send_line("g").unwrap();
    let start = std::time::Instant::now();
    while state(pid) != "R" {
        assert!(start.elapsed() < std::time::Duration::from_secs(30), "the program does not run");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    // Ctrl-C: dbgkit sends the stub its break-in byte; the program stops in its loop.
    p.send_control('c').unwrap();
    p.exp_string(&format!("Break: pid={pid} tid={pid}")).unwrap();
    p.exp_string("spin!main").unwrap();
    p.exp_regex(prompt).unwrap();
    assert_eq!(state(pid), "t", "stopped by gdbserver");
    p.send_line("k").unwrap();
    p.exp_regex(r"00 [0-9a-f]{16} [0-9a-f]{16} spin!main").unwrap();
    p.exp_regex(prompt).unwrap();
    p.send_line("q").unwrap();
    p.exp_eof().unwrap();
    let _ = std::fs::remove_file(&history);
}
