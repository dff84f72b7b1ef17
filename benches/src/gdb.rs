//! Driving gdb as the reference a user would otherwise reach for.
//!
//! gdb runs in batch mode (`-batch -nx`), from a command file or `-ex`
//! commands, and its own output is parsed to check that it really did the
//! work (hit counts, where a step ended, thread lists): a fast number from a
//! debugger that skipped work would be meaningless.
//!
//! Where only one command is to be timed (a `stepi`, a `dump`), gdb's Python
//! times it with `time.perf_counter()` around `gdb.execute`, so gdb's
//! start-up and the program's launch stay out of the figure. A gdb built
//! without Python is timed as a whole run minus the same run without that
//! command instead.

use crate::run::{Run, Watchdog};
use anyhow::{bail, ensure, Context, Result};
use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A gdb found on `PATH`.
pub struct Gdb {
    pub path: PathBuf,
    /// Whether this gdb has Python (for timing single commands).
    pub python: bool,
}

/// gdb on `PATH`, if any, with what it can do.
pub fn find() -> Option<Gdb> {
    let path = crate::fixture::find_on_path("gdb")?;
    let python = gdb_command(&path)
        .args(["-batch", "-nx", "-ex", "python print(6 * 7)"])
        .output()
        .is_ok_and(|out| out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "42");
    Some(Gdb { path, python })
}

/// gdb's one-line version, for the report (results differ a lot between versions).
pub fn version(gdb: &Gdb) -> String {
    let out = gdb_command(&gdb.path).arg("--version").output().ok();
    let line = out.and_then(|o| String::from_utf8_lossy(&o.stdout).lines().next().map(str::to_string));
    let line = line.unwrap_or_else(|| "version unknown".into());
    format!("{}: {line}{}", gdb.path.display(), if gdb.python { "" } else { " (no Python)" })
}

fn gdb_command(path: &Path) -> Command {
    let mut command = Command::new(path);
    // Looking up debug info on the network would time the network.
    command.env_remove("DEBUGINFOD_URLS").stdin(Stdio::null());
    command
}

/// One finished gdb run: its whole time and everything it printed.
pub struct Batch {
    pub elapsed: Duration,
    pub log: String,
}

/// Runs `gdb -batch -nx ARGS` to its end under a time limit; fails unless
/// gdb exits successfully.
pub fn batch(gdb: &Gdb, args: &[OsString], limit: Duration, what: &str) -> Result<Batch> {
    let start = Instant::now();
    let child = gdb_command(&gdb.path)
        .args(["-batch", "-nx"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group, so a time-out kills gdb, its shell and the program together.
        .process_group(0)
        .spawn()
        .with_context(|| format!("starting {}", gdb.path.display()))?;
    let watchdog = Watchdog::start(-(child.id() as i32), limit, format!("gdb ({what})"));
    let finished = child.wait_with_output().context("waiting for gdb");
    let elapsed = start.elapsed();
    let timed_out = watchdog.fired();
    drop(watchdog);
    let finished = finished?;
    let log = format!("{}{}", String::from_utf8_lossy(&finished.stdout), String::from_utf8_lossy(&finished.stderr));
    ensure!(!timed_out, "gdb ({what}) timed out after {limit:?}; its output:\n{log}");
    ensure!(finished.status.success(), "gdb ({what}) failed ({}); its output:\n{log}", finished.status);
    Ok(Batch { elapsed, log })
}

/// Runs gdb on `program` with the command file `script`.
fn script_run(gdb: &Gdb, program: &Path, script: &str, work_dir: &Path, limit: Duration, what: &str) -> Result<Batch> {
    let file = work_dir.join(format!("gdb-{what}.{}.gdb", std::process::id()));
    std::fs::write(&file, script).with_context(|| format!("writing {}", file.display()))?;
    let result = batch(gdb, &["-x".into(), file.clone().into(), program.into()], limit, what);
    let _ = std::fs::remove_file(&file);
    result
}

const TIMER_TAG: &str = "dbgkit-bench: timed command took ";

/// Runs the command file `setup`, then the gdb command `timed`, then the
/// command file `after`, and returns the time of `timed` alone with the log
/// of the run.
fn timed_command(
    gdb: &Gdb,
    program: &Path,
    (setup, timed, after): (&str, &str, &str),
    work_dir: &Path,
    limit: Duration,
    what: &str,
) -> Result<(Duration, Batch)> {
    ensure!(!timed.contains(['"', '\\', '\n']), "cannot time the gdb command `{timed}` through Python");
    if gdb.python {
        let script = format!(
            "{setup}python import time; t0 = time.perf_counter(); gdb.execute(\"{timed}\"); \
             print(\"{TIMER_TAG}%.9f s\" % (time.perf_counter() - t0))\n{after}"
        );
        let run = script_run(gdb, program, &script, work_dir, limit, what)?;
        let seconds = run
            .log
            .lines()
            .find_map(|l| l.strip_prefix(TIMER_TAG)?.strip_suffix(" s")?.parse::<f64>().ok())
            .with_context(|| format!("gdb did not finish `{timed}`; its output:\n{}", run.log))?;
        return Ok((Duration::from_secs_f64(seconds), run));
    }
    let with = script_run(gdb, program, &format!("{setup}{timed}\n{after}"), work_dir, limit, what)?;
    let without = script_run(gdb, program, &format!("{setup}{after}"), work_dir, limit, what)?;
    let elapsed = with.elapsed.checked_sub(without.elapsed).with_context(|| {
        format!("gdb ran faster with `{timed}` ({:?}) than without ({:?})", with.elapsed, without.elapsed)
    })?;
    Ok((elapsed, with))
}

/// The time of `gdb -batch -nx -ex quit`: gdb's own start-up and exit.
pub fn startup(gdb: &Gdb, limit: Duration) -> Result<Duration> {
    Ok(batch(gdb, &["-ex".into(), "quit".into()], limit, "start-up")?.elapsed)
}

/// Runs `program args` to its end under gdb with a silent, auto-continuing
/// breakpoint at `address`; the time is the whole gdb run, its start-up included.
pub fn breakpoint_loop(
    gdb: &Gdb,
    program: &Path,
    args: &[String],
    address: u64,
    work_dir: &Path,
    limit: Duration,
) -> Result<Run> {
    let output_file = work_dir.join(format!("gdb-program-output.{}.txt", std::process::id()));
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
    let finished = script_run(gdb, program, &commands, work_dir, limit, "breakpoints");
    let checked = (|| {
        let finished = finished?;
        let log = &finished.log;
        let exit_code =
            exit_code(log).with_context(|| format!("gdb did not report the program's exit; its output:\n{log}"))?;
        let hits = hit_count(log)?;
        let stdout = std::fs::read_to_string(&output_file)
            .with_context(|| format!("reading the program's output from {}", output_file.display()))?;
        Ok(Run { hits, elapsed: finished.elapsed, stdout, exit_code })
    })();
    let _ = std::fs::remove_file(&output_file);
    checked
}

/// What a gdb `stepi` run saw.
pub struct Steps {
    /// The time of the `stepi` command alone.
    pub elapsed: Duration,
    /// `rip` afterwards, from `info registers rip`.
    pub rip: u64,
}

/// Runs `program args` under gdb (ASLR off, like the other contenders of
/// this benchmark) to `break *START`, then times `stepi STEPS`; the program
/// is killed afterwards.
pub fn steps(
    gdb: &Gdb,
    program: &Path,
    args: &[String],
    start: u64,
    steps: u64,
    work_dir: &Path,
    limit: Duration,
) -> Result<Steps> {
    let setup = format!(
        "set pagination off\n\
         set confirm off\n\
         set disable-randomization on\n\
         break *{start:#x}\n\
         run {} > /dev/null\n\
         info registers rip\n",
        args.join(" ")
    );
    let timed = format!("stepi {steps}");
    let after = "info registers rip\nkill\n";
    let (elapsed, run) = timed_command(gdb, program, (&setup, &timed, after), work_dir, limit, "steps")?;
    let rips = registers_rip(&run.log);
    // The first `info registers rip` shows where stepping began, the last where it ended.
    ensure!(
        rips.len() == 2 && rips[0] == start,
        "gdb did not stop at {start:#x} before stepping (rip read: {rips:x?}); its output:\n{}",
        run.log
    );
    Ok(Steps { elapsed, rip: rips[1] })
}

/// Every `rip` value of `info registers rip` in a log, in order.
fn registers_rip(log: &str) -> Vec<u64> {
    log.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            (fields.next() == Some("rip")).then_some(())?;
            u64::from_str_radix(fields.next()?.strip_prefix("0x")?, 16).ok()
        })
        .collect()
}

/// Runs `program args` under gdb to `break *AT` (a function taking a buffer
/// address and size), then times `dump binary memory FILE $rdi $rdi+$rsi`;
/// the program is killed afterwards. Returns the time of the dump alone.
pub fn dump_memory(
    gdb: &Gdb,
    program: &Path,
    args: &[String],
    at: u64,
    file: &Path,
    work_dir: &Path,
    limit: Duration,
) -> Result<Duration> {
    let name = file.to_str().filter(|s| !s.contains(|c: char| c.is_whitespace() || "'\"\\".contains(c)));
    let name = name.with_context(|| format!("{} is unusable as a gdb file name", file.display()))?;
    let setup = format!(
        "set pagination off\n\
         set confirm off\n\
         set disable-randomization off\n\
         break *{at:#x}\n\
         run {}\n\
         info registers rip\n",
        args.join(" ")
    );
    let timed = format!("dump binary memory {name} $rdi $rdi+$rsi");
    let (elapsed, run) = timed_command(gdb, program, (&setup, &timed, "kill\n"), work_dir, limit, "memory")?;
    ensure!(
        registers_rip(&run.log).first() == Some(&at),
        "gdb did not stop at {at:#x} before dumping; its output:\n{}",
        run.log
    );
    Ok(elapsed)
}

/// Runs `program args` under gdb to the breakpoint at `at` and times
/// `gcore FILE` alone there.
pub fn gcore(
    gdb: &Gdb,
    program: &Path,
    args: &[String],
    at: u64,
    file: &Path,
    work_dir: &Path,
    limit: Duration,
) -> Result<Duration> {
    let name = file.to_str().filter(|s| !s.contains(|c: char| c.is_whitespace() || "'\"\\".contains(c)));
    let name = name.with_context(|| format!("{} is unusable as a gdb file name", file.display()))?;
    let setup = format!(
        "set pagination off\n\
         set confirm off\n\
         break *{at:#x}\n\
         run {}\n\
         info registers rip\n",
        args.join(" ")
    );
    let timed = format!("gcore {name}");
    let (elapsed, run) = timed_command(gdb, program, (&setup, &timed, "kill\n"), work_dir, limit, "gcore")?;
    ensure!(
        registers_rip(&run.log).first() == Some(&at),
        "gdb did not stop at {at:#x} before gcore; its output:\n{}",
        run.log
    );
    Ok(elapsed)
}

/// What `gdb -p` made of a running process.
pub struct Attach {
    /// The whole gdb run, start-up included.
    pub elapsed: Duration,
    /// Threads listed by `info threads`.
    pub threads: usize,
}

/// `gdb -batch -nx -p PID -ex 'info threads' -ex detach`, timed whole.
pub fn attach(gdb: &Gdb, pid: i32, limit: Duration) -> Result<Attach> {
    let args: Vec<OsString> =
        ["-p", &pid.to_string(), "-ex", "info threads", "-ex", "detach"].iter().map(Into::into).collect();
    let run = batch(gdb, &args, limit, "attach")?;
    ensure!(
        run.log.contains(&format!("[Inferior 1 (process {pid}) detached]")),
        "gdb did not report detaching from {pid}; its output:\n{}",
        run.log
    );
    Ok(Attach { elapsed: run.elapsed, threads: thread_lines(&run.log) })
}

/// Lines of `info threads` naming a thread: `* 1    Thread 0x... (LWP 42) ...`.
fn thread_lines(log: &str) -> usize {
    log.lines()
        .filter(|line| {
            let line = line.trim_start().trim_start_matches('*').trim_start();
            let id = line.split_whitespace().next().unwrap_or_default();
            !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) && line.contains("(LWP ")
        })
        .count()
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

    #[test]
    fn parses_registers_and_threads() {
        let log = "Breakpoint 1, 0x000000000040114e in main ()\n\
                   rip            0x40114e            0x40114e <main>\n\
                   6\t__attribute__((noinline)) long bump(long i) { return i + value; }\n\
                   rip            0x40114c            0x40114c <bump+22>\n";
        assert_eq!(registers_rip(log), [0x40114e, 0x40114c]);
        let threads = "[New LWP 26085]\n\
                       \x20 Id   Target Id                                   Frame \n\
                       * 1    Thread 0x7fe7a4 (LWP 26084) \"manythreads\" 0x00007f in __libc_pause ()\n\
                       \x20 2    Thread 0x7fe7a3 (LWP 26085) \"manythreads\" 0x00007f in __libc_pause ()\n\
                       \x20 1000 Thread 0x7fe7a0 (LWP 27083) \"manythreads\" 0x00007f in __libc_pause ()\n\
                       [Inferior 1 (process 26084) detached]\n";
        assert_eq!(thread_lines(threads), 3);
    }
}
