//! Runs gdb on a fixture and collects the output of each command, to
//! compare dbgkit's answers with gdb's on the same stop: same program, same
//! environment, no address randomisation, so the same addresses.
#![allow(dead_code)]

use dbgkit::{EventKind, Session, SpawnOptions, Stdio};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The environment of every run, dbgkit's and gdb's alike.
pub const ENV: [(&str, &str); 2] = [("PATH", "/usr/local/bin:/usr/bin:/bin"), ("LANG", "C")];

const MARK: &str = "@@@dbgkit@@@";

/// The output of each of `commands`, run by gdb after `break BREAKPOINT`
/// and `run`: `None` when gdb is not installed (the checks that need it
/// are then skipped, with a note).
pub fn gdb_outputs(exe: &Path, breakpoint: &str, commands: &[&str]) -> Option<Vec<String>> {
    let mut init: Vec<String> = vec![
        "set debuginfod enabled off".into(),
        "set disable-randomization on".into(),
        "set startup-with-shell off".into(),
        "set pagination off".into(),
        "set width 0".into(),
        "set confirm off".into(),
        "unset environment LINES".into(),
        "unset environment COLUMNS".into(),
    ];
    if let Some(printers) = rust_printers() {
        let dir = printers.parent().unwrap().display().to_string();
        init.push(format!("python import sys; sys.path.insert(0, '{dir}')"));
        init.push(format!("source {}", printers.display()));
    }
    init.push(format!("break {breakpoint}"));
    init.push("run".into());
    let mut cmd = Command::new(std::env::var_os("DBGKIT_TEST_GDB").unwrap_or("gdb".into()));
    cmd.env_clear().envs(ENV).args(["-batch", "-nx"]);
    for c in &init {
        cmd.arg("-ex").arg(c);
    }
    for c in commands {
        cmd.arg("-ex").arg(format!("echo {MARK}\\n")).arg("-ex").arg(c);
    }
    let out = match cmd.arg("--args").arg(exe).output() {
        Ok(out) => out,
        Err(e) => {
            eprintln!("gdb cannot run ({e}): not comparing with it");
            return None;
        }
    };
    // Errors go to stderr, interleaved by the terminal but not here: gdb
    // writes each command's error right after its output, so read both
    // merged in order is impossible; take stdout and put each error back
    // in its command's slot (gdb prints one error line per failed command).
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut parts: Vec<String> = stdout.split(&format!("{MARK}\n")).skip(1).map(|s| s.trim_end().to_string()).collect();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mut errors =
        stderr.lines().filter(|l| !l.contains("warning:") && !l.contains("libthread_db") && !l.trim().is_empty());
    for part in parts.iter_mut() {
        if part.is_empty() {
            *part = errors.next().unwrap_or("").to_string();
        }
    }
    assert_eq!(parts.len(), commands.len(), "gdb output not understood:\n{stdout}\n{stderr}");
    Some(parts)
}

/// rust-gdb's pretty printers, when the toolchain has them.
fn rust_printers() -> Option<PathBuf> {
    let out = Command::new("rustc").args(["--print", "sysroot"]).output().ok()?;
    let root = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let path = Path::new(&root).join("lib/rustlib/etc/gdb_load_rust_pretty_printers.py");
    path.is_file().then_some(path)
}

/// A fixture stopped at the first hit of a breakpoint.
pub struct Stopped {
    pub s: Session,
    pub pid: i32,
    pub tid: i32,
    pub exe: PathBuf,
}

/// Launches a fixture as gdb does (same environment, no randomisation) and
/// runs it to the first hit of a breakpoint on `place` (`file.c:12`, a function).
pub fn stop_at(name: &str, place: &str) -> Stopped {
    let exe = dbgkit_fixtures::path(name);
    let mut options = SpawnOptions::new([&exe]).disable_aslr(true).stdout(Stdio::Null).env_clear();
    for (k, v) in ENV {
        options = options.env(k, v);
    }
    let mut s = Session::new();
    let pid = s.spawn(&options).unwrap();
    // Every location, as gdb plants them (an inlined function has several).
    for location in s.breakpoint_locations(pid, place).unwrap() {
        s.add_breakpoint(pid, location.address).unwrap();
    }
    loop {
        let e = s.wait_event(Some(std::time::Duration::from_secs(60))).unwrap().expect("an event");
        if matches!(e.kind, EventKind::Breakpoint { .. }) {
            return Stopped { s, pid, tid: e.tid, exe };
        }
        assert!(!matches!(e.kind, EventKind::ProcessExited { .. }), "exited before {place}");
        let status = match e.kind {
            EventKind::Exception { .. } => dbgkit::ContinueStatus::NotHandled,
            _ => dbgkit::ContinueStatus::Handled,
        };
        s.continue_event(status).unwrap();
    }
}

impl Stopped {
    /// What dbgkit answers to one gdb command, in gdb's words.
    pub fn answer(&mut self, frame: usize, command: &str) -> String {
        let (pid, tid) = (self.pid, self.tid);
        let lines = |vars: Vec<&dbgkit::Variable>, none: &str| -> String {
            if vars.is_empty() {
                return none.to_string();
            }
            vars.iter().map(|v| format!("{} = {}", v.name, v.text)).collect::<Vec<_>>().join("\n")
        };
        if command == "info locals" || command == "info args" {
            let vars = match self.s.frame_variables(pid, tid, frame) {
                Ok(v) => v,
                Err(e) => return e.to_string(),
            };
            let want =
                if command == "info args" { dbgkit::VariableKind::Argument } else { dbgkit::VariableKind::Local };
            let none = if command == "info args" { "No arguments." } else { "No locals." };
            return lines(vars.iter().filter(|v| v.kind == want).collect(), none);
        }
        if let Some(text) = command.strip_prefix("ptype ") {
            return match self.s.ptype(pid, tid, frame, text) {
                Ok(t) => format!("type = {t}"),
                Err(e) => e.to_string(),
            };
        }
        if let Some(text) = command.strip_prefix("whatis ") {
            return match self.s.whatis(pid, tid, frame, text) {
                Ok(t) => format!("type = {t}"),
                Err(e) => e.to_string(),
            };
        }
        if let Some(rest) = command.strip_prefix("p/") {
            let (format, text) = rest.split_once(' ').unwrap();
            let format = format.chars().next();
            return match self.s.evaluate_typed(pid, tid, frame, text) {
                Ok(v) => self.s.format_typed(pid, &v.value, format).unwrap_or_else(|e| e.to_string()),
                Err(e) => e.to_string(),
            };
        }
        if let Some(text) = command.strip_prefix("p ") {
            return match self.s.evaluate_typed(pid, tid, frame, text) {
                Ok(v) => v.text,
                Err(e) => e.to_string(),
            };
        }
        panic!("no dbgkit answer for {command:?}");
    }
}

/// gdb's `$N = VALUE` without the `$N = `.
pub fn value_of(gdb: &str) -> &str {
    match gdb.split_once(" = ") {
        Some((history, value)) if history.starts_with('$') => value,
        _ => gdb,
    }
}

/// Runs `commands` in gdb and in dbgkit at the same stop (frame `frame`
/// for dbgkit; gdb's commands select it themselves with `up`/`frame`, which
/// are not compared), and asserts that each answer is the same, except the
/// commands listed in `differ` (compared by the test itself).
pub fn compare(stopped: &mut Stopped, breakpoint: &str, frame: usize, commands: &[&str]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let gdb = gdb_outputs(&stopped.exe, breakpoint, commands);
    let mut mismatches = Vec::new();
    let mut frame = frame;
    for (i, command) in commands.iter().enumerate() {
        // gdb selects frames itself: follow it.
        if let Some(n) = command.strip_prefix("frame ") {
            frame = n.trim().parse().unwrap();
            continue;
        }
        if let Some(n) = command.strip_prefix("up") {
            frame += n.trim().parse::<usize>().unwrap_or(1);
            continue;
        }
        let ours = stopped.answer(frame, command);
        if let Some(gdb) = &gdb {
            let theirs = value_of(&gdb[i]).to_string();
            if theirs != ours {
                mismatches.push(format!("{command}\n  gdb:\n{theirs}\n  dbgkit:\n{ours}"));
            }
            out.push((theirs, ours));
        } else {
            out.push((String::new(), ours));
        }
    }
    assert!(mismatches.is_empty(), "dbgkit and gdb disagree:\n{}", mismatches.join("\n"));
    out
}
