//! Support for the core file tests: cores written by the kernel and by
//! gdb, and gdb's stacks of a live process and of a core, reduced to what
//! must agree (function and source line of every frame, per thread).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The environment of gdb and of the programs it runs.
const ENV: [(&str, &str); 2] = [("PATH", "/usr/local/bin:/usr/bin:/bin"), ("LANG", "C")];

/// A fresh directory for one test's files.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs gdb in batch mode with `commands`; its standard output, or None
/// when gdb cannot run (the checks that need it are then skipped, saying so).
pub fn gdb(commands: &[String], args: &[&str]) -> Option<String> {
    let mut cmd = Command::new("gdb");
    cmd.env_clear().envs(ENV).args(["-batch", "-nx"]);
    let settings = [
        "set debuginfod enabled off",
        "set disable-randomization on",
        "set startup-with-shell off",
        "set pagination off",
        "set width 0",
        "set confirm off",
    ];
    for c in settings.iter().map(|s| s.to_string()).chain(commands.iter().cloned()) {
        cmd.arg("-ex").arg(c);
    }
    match cmd.args(args).output() {
        Ok(out) => Some(String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)),
        Err(e) => {
            eprintln!("gdb cannot run ({e}): skipping the comparison with gdb");
            None
        }
    }
}

/// gdb's `thread apply all bt` of `exe ARGS` run live up to `break_at` (or
/// to the first signal when None).
pub fn gdb_live_stacks(exe: &Path, args: &[&str], break_at: Option<&str>) -> Option<Vec<Vec<String>>> {
    let mut commands = Vec::new();
    if let Some(b) = break_at {
        commands.push(format!("break {b}"));
    }
    commands.extend(["run".to_string(), "thread apply all bt".into(), "kill".into()]);
    let mut argv = vec!["--args", exe.to_str().unwrap()];
    argv.extend_from_slice(args);
    let text = gdb(&commands, &argv)?;
    Some(parse_stacks(&text))
}

/// gdb's `thread apply all bt` of a core.
pub fn gdb_core_stacks(exe: &Path, core: &Path) -> Option<Vec<Vec<String>>> {
    let text = gdb(&["thread apply all bt".to_string()], &[exe.to_str().unwrap(), core.to_str().unwrap()])?;
    Some(parse_stacks(&text))
}

/// Per thread, each frame as `function at file:line` (arguments and
/// addresses left out: they differ between two runs), threads sorted.
pub fn parse_stacks(text: &str) -> Vec<Vec<String>> {
    let mut stacks: Vec<Vec<String>> = Vec::new();
    for line in text.lines() {
        // `Thread 2 (Thread 0x7ffff7d8f6c0 (LWP 4242) "name"):` starts a stack.
        if line.starts_with("Thread ") && line.ends_with("):") {
            stacks.push(Vec::new());
            continue;
        }
        let Some(rest) = line.strip_prefix('#') else { continue };
        let Some((_, frame)) = rest.split_once(char::is_whitespace) else { continue };
        let frame = frame.trim_start();
        let frame = match frame.split_once(" in ") {
            Some((address, after)) if address.starts_with("0x") => after,
            _ => frame,
        };
        let function = frame.split(" (").next().unwrap_or(frame).to_string();
        let place = frame.rsplit_once(" at ").map(|(_, p)| p.to_string()).unwrap_or_default();
        if let Some(stack) = stacks.last_mut() {
            stack.push(format!("{function} at {place}"));
        }
    }
    stacks.sort();
    stacks
}

/// Runs `exe ARGS` in `dir` with core dumps allowed; the core the kernel
/// wrote and the process id, or None when this machine sends cores
/// elsewhere (a pipe or another directory in `core_pattern`), said aloud.
pub fn kernel_core(exe: &Path, args: &[&str], dir: &Path) -> Option<(PathBuf, i32)> {
    let pattern = std::fs::read_to_string("/proc/sys/kernel/core_pattern").unwrap_or_default();
    let pattern = pattern.trim();
    if pattern.starts_with('|') || pattern.contains('/') {
        eprintln!("core_pattern is {pattern:?}: the kernel does not write cores here; skipping the kernel core checks");
        return None;
    }
    let child = Command::new("sh")
        .arg("-c")
        .arg("ulimit -c unlimited && exec \"$0\" \"$@\"")
        .arg(exe)
        .args(args)
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id() as i32;
    let status = child.wait_with_output().unwrap().status;
    use std::os::unix::process::ExitStatusExt;
    assert!(status.signal().is_some(), "{} {args:?} was meant to crash: {status:?}", exe.display());
    let names = [pattern.replace("%p", &pid.to_string()), format!("{pattern}.{pid}"), "core".to_string()];
    let core = names.iter().map(|n| dir.join(n)).find(|p| p.is_file());
    if core.is_none() {
        eprintln!(
            "no core file appeared in {} (core_pattern {pattern:?}); skipping the kernel core checks",
            dir.display()
        );
    }
    Some((core?, pid))
}
