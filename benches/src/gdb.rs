//! Driving gdb as the reference a user would otherwise reach for.
//!
//! gdb runs in batch mode from a command file, and its own report (`info
//! breakpoints`) is parsed to check that it really stopped on every call:
//! a fast number from a debugger that skipped hits would be meaningless.

use crate::run::{Run, Watchdog};
use anyhow::{bail, ensure, Context, Result};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// gdb on `PATH`, if any.
pub fn find() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join("gdb")).find(|candidate| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(candidate).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}

/// gdb's one-line version, for the report (results differ a lot between versions).
pub fn version(gdb: &Path) -> Option<String> {
    let out = Command::new(gdb).arg("--version").stdin(Stdio::null()).output().ok()?;
    String::from_utf8_lossy(&out.stdout).lines().next().map(str::to_string)
}

/// Runs `program args` to its end under gdb with a silent, auto-continuing
/// breakpoint at `address`; the time is the whole gdb run, its start-up included.
pub fn breakpoint_loop(
    gdb: &Path,
    program: &Path,
    args: &[String],
    address: u64,
    work_dir: &Path,
    limit: Duration,
) -> Result<Run> {
    let tag = std::process::id();
    let script = work_dir.join(format!("gdb-breakpoints.{tag}.gdb"));
    let output_file = work_dir.join(format!("gdb-program-output.{tag}.txt"));
    let quoted_output =
        output_file.to_str().filter(|s| !s.contains('\'')).context("work directory path unusable in gdb")?;
    // A stale file from an earlier run must not pass the output check.
    let _ = std::fs::remove_file(&output_file);
    // `break *ADDRESS` rather than `break bump`: gdb would skip the prologue
    // and trap a few bytes later than the other debuggers; the same byte
    // keeps the comparison exact. The program's output goes to a file through
    // the shell gdb starts it with, so it cannot mix with gdb's own output.
    // The arguments are given to `run`, which would otherwise replace
    // `--args` with the redirection alone.
    let commands = format!(
        "set pagination off\n\
         set confirm off\n\
         set disable-randomization off\n\
         break *{address:#x}\n\
         commands\n\
         silent\n\
         continue\n\
         end\n\
         run {} > '{quoted_output}'\n\
         info breakpoints\n",
        args.join(" ")
    );
    std::fs::write(&script, commands).with_context(|| format!("writing {}", script.display()))?;

    let start = Instant::now();
    let child = Command::new(gdb)
        .args(["-batch", "-nx", "-x"])
        .arg(&script)
        .arg(program)
        // Looking up debug info on the network would time the network.
        .env_remove("DEBUGINFOD_URLS")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group, so a time-out kills gdb, its shell and the program together.
        .process_group(0)
        .spawn()
        .with_context(|| format!("starting {}", gdb.display()))?;
    let watchdog = Watchdog::start(-(child.id() as i32), limit, "gdb".into());
    let finished = child.wait_with_output().context("waiting for gdb");
    let elapsed = start.elapsed();
    let timed_out = watchdog.fired();
    drop(watchdog);
    let _ = std::fs::remove_file(&script);
    let checked = (|| {
        let finished = finished?;
        let log = format!("{}{}", String::from_utf8_lossy(&finished.stdout), String::from_utf8_lossy(&finished.stderr));
        ensure!(!timed_out, "gdb timed out after {limit:?}; its output:\n{log}");
        ensure!(finished.status.success(), "gdb failed ({}); its output:\n{log}", finished.status);
        let exit_code =
            exit_code(&log).with_context(|| format!("gdb did not report the program's exit; its output:\n{log}"))?;
        let hits = hit_count(&log)?;
        let stdout = std::fs::read_to_string(&output_file)
            .with_context(|| format!("reading the program's output from {}", output_file.display()))?;
        Ok((hits, stdout, exit_code))
    })();
    let _ = std::fs::remove_file(&output_file);
    let (hits, stdout, exit_code) = checked?;
    Ok(Run { hits, elapsed, stdout, exit_code })
}

/// From `[Inferior 1 (process N) exited normally]` or `... exited with code 03]`
/// (gdb prints the code in octal).
fn exit_code(log: &str) -> Option<i32> {
    log.lines().find_map(|line| {
        let rest = line.trim().strip_prefix("[Inferior ")?;
        if rest.ends_with("exited normally]") {
            return Some(0);
        }
        let code = rest.split_once("exited with code ")?.1.strip_suffix(']')?;
        i32::from_str_radix(code, 8).ok()
    })
}

/// From `breakpoint already hit N time(s)`; no such line means no hit at all.
fn hit_count(log: &str) -> Result<u64> {
    let mut counts = log.lines().filter_map(|l| l.trim().strip_prefix("breakpoint already hit "));
    let Some(text) = counts.next() else { return Ok(0) };
    if counts.next().is_some() {
        bail!("gdb reported more than one breakpoint:\n{log}");
    }
    let number = text.split_whitespace().next().unwrap_or_default();
    number.parse().with_context(|| format!("unreadable hit count in gdb's `{text}`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_gdb_report() {
        let log = "[Inferior 1 (process 6777) exited normally]\n\
                   1       breakpoint     keep y   0x0000000000401136 in bump at counter.c:6\n\
                   \tbreakpoint already hit 20000 times\n";
        assert_eq!(exit_code(log), Some(0));
        assert_eq!(hit_count(log).unwrap(), 20000);
        assert_eq!(exit_code("[Inferior 1 (process 5) exited with code 012]"), Some(10));
        assert_eq!(hit_count("\tbreakpoint already hit 1 time\n").unwrap(), 1);
        assert_eq!(hit_count("no hits here").unwrap(), 0);
    }
}
