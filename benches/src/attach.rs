//! Attaching to a busy server: how long a debugger takes to take hold of a
//! running process with many threads and know them all. Fixture
//! `manythreads` starts N threads that block; it runs outside any debugger,
//! and each debugger in turn attaches, lists every thread, and detaches,
//! leaving the process running as before.

use crate::fixture::{self, Fixture};
use crate::report::{median, Goal, Kind, Report, Row, Series};
use crate::run::Watchdog;
use crate::{gdb, raw, Options};
use anyhow::{bail, ensure, Context, Result};
use dbgkit::{ContinueStatus, EventKind, Session};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const NAME: &str = "attach";

const DBGKIT: &str = "dbgkit";
const RAW: &str = "raw";
const GDB: &str = "gdb";

/// How long the fixture lives at most (its own alarm), should the benchmark die.
const TARGET_LIFETIME_SECS: u64 = 900;

/// The fixture, running undebugged; killed when dropped.
struct Target {
    child: Child,
    pid: i32,
    threads: usize,
}

impl Target {
    fn start(fixture: &Fixture, threads: usize, limit: Duration) -> Result<Target> {
        let child = Command::new(&fixture.path)
            .args([threads.to_string(), TARGET_LIFETIME_SECS.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {}", fixture.path.display()))?;
        let pid = child.id() as i32;
        let mut target = Target { child, pid, threads };
        let watchdog = Watchdog::start(pid, limit, "manythreads (starting)".into());
        let mut line = String::new();
        let stdout = target.child.stdout.take().context("no stdout pipe")?;
        BufReader::new(stdout).read_line(&mut line).context("reading the fixture's output")?;
        drop(watchdog);
        if line != "ready\n" {
            let status = target.child.wait()?;
            bail!("manythreads {threads} printed {line:?} instead of \"ready\" and ended: {status}");
        }
        target.check_running("after start-up")?;
        Ok(target)
    }

    /// Checks that the process runs as if never debugged: all its threads
    /// there, none stopped, none traced.
    fn check_running(&self, when: &str) -> Result<BTreeSet<i32>> {
        let pid = self.pid;
        let tids = thread_ids(pid)?;
        ensure!(tids.len() == self.threads, "{when}: the fixture has {} threads, not {}", tids.len(), self.threads);
        for &tid in &tids {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/stat"))
                .with_context(|| format!("{when}: thread {tid} is gone"))?;
            let state = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().next()).unwrap_or("?");
            ensure!(
                state == "S" || state == "R",
                "{when}: thread {tid} of the fixture is in state {state} (t: stopped by a tracer, T: stopped)"
            );
            let status = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/status"))
                .with_context(|| format!("{when}: thread {tid} is gone"))?;
            let tracer = status.lines().find_map(|l| l.strip_prefix("TracerPid:")).map(str::trim);
            ensure!(tracer == Some("0"), "{when}: thread {tid} of the fixture is still traced (TracerPid {tracer:?})");
        }
        Ok(tids)
    }

    /// Ends the process with SIGTERM, which its default action must obey:
    /// the last proof that it was left running normally.
    fn finish(&mut self) -> Result<()> {
        // SAFETY: signalling our own child, not yet reaped.
        unsafe { libc::kill(self.pid, libc::SIGTERM) };
        let status = self.child.wait().context("waiting for the fixture")?;
        use std::os::unix::process::ExitStatusExt;
        ensure!(status.signal() == Some(libc::SIGTERM), "the fixture did not end by SIGTERM: {status}");
        Ok(())
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        // Not when `finish` has reaped it already.
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Why gdb cannot attach to the fixture, if Yama forbids it. gdb is not the
/// fixture's parent: with `ptrace_scope` 1 or 2 it needs CAP_SYS_PTRACE
/// (approximated here by root), with 3 it cannot attach at all.
fn yama_forbids_gdb() -> Option<String> {
    let scope = std::fs::read_to_string("/proc/sys/kernel/yama/ptrace_scope").ok()?;
    let scope: u32 = scope.trim().parse().ok()?;
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    (scope >= 3 || (scope >= 1 && !root)).then(|| format!("Yama ptrace_scope is {scope}: `gdb -p` may not attach"))
}

fn thread_ids(pid: i32) -> Result<BTreeSet<i32>> {
    let dir = std::fs::read_dir(format!("/proc/{pid}/task")).with_context(|| format!("listing /proc/{pid}/task"))?;
    Ok(dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok()).collect())
}

/// What dbgkit reported while attaching.
struct Attached {
    elapsed: Duration,
    modules: usize,
}

/// dbgkit: `Session::attach`, then every replayed event taken and continued
/// until the process runs again. The time ends when the last event arrives;
/// the detach after it is not timed.
fn dbgkit_run(target: &Target, tids: &BTreeSet<i32>, limit: Duration) -> Result<Attached> {
    let pid = target.pid;
    let mut session = Session::new();
    let watchdog = Watchdog::start(pid, limit, "dbgkit (attach)".into());
    let start = Instant::now();
    let run = (|| -> Result<Attached> {
        session.attach(pid).context("dbgkit: attach")?;
        let (mut created, mut modules, mut threads) = (0, 0, BTreeSet::new());
        let last = loop {
            let Some(event) = session.wait_event(None).context("dbgkit: wait_event")? else { continue };
            let received = Instant::now();
            match event.kind {
                EventKind::ProcessCreated { .. } if event.tid == pid => created += 1,
                EventKind::ThreadCreated { .. } => {
                    ensure!(threads.insert(event.tid), "dbgkit: thread {} reported twice", event.tid)
                }
                EventKind::ModuleLoaded(_) => modules += 1,
                other => bail!("dbgkit: unexpected event while attaching: {other:?} (thread {})", event.tid),
            }
            session.continue_event(ContinueStatus::Handled).context("dbgkit: continue_event")?;
            if !session.is_stopped(pid).context("dbgkit: is_stopped")? {
                break received;
            }
        };
        let elapsed = last - start;
        ensure!(created == 1, "dbgkit: {created} ProcessCreated events, expected 1");
        let others: BTreeSet<i32> = tids.iter().copied().filter(|&t| t != pid).collect();
        if threads != others {
            let missing = others.difference(&threads).count();
            let extra = threads.difference(&others).count();
            bail!(
                "dbgkit: {} ThreadCreated events, expected {} ({missing} threads missing, {extra} unknown ones)",
                threads.len(),
                others.len()
            );
        }
        session.detach(pid).context("dbgkit: detach")?;
        Ok(Attached { elapsed, modules })
    })();
    let timed_out = watchdog.fired();
    drop(watchdog);
    drop(session);
    run.map_err(|e| if timed_out { e.context(format!("dbgkit timed out after {limit:?}")) } else { e })
}

fn progress(run_index: usize, runs: usize, tool: &str, threads: usize, elapsed: Duration) {
    eprintln!(
        "  run {}/{runs}  {tool:<15} {threads:>5} threads in {:>9.2} ms",
        run_index + 1,
        elapsed.as_secs_f64() * 1e3
    );
}

pub fn run(opts: &Options) -> Result<Report> {
    let fixture = fixture::build("manythreads")?;
    let n = opts.threads;
    let gdb = opts.gdb.as_ref().map_err(Clone::clone).and_then(|gdb| match yama_forbids_gdb() {
        Some(reason) => Err(reason),
        None => Ok(gdb),
    });
    let gdb = gdb.as_ref();
    let mut target = Target::start(&fixture, n, opts.timeout)?;
    let tids = target.check_running("before the first run")?;

    let mut dbgkit = Series::new(DBGKIT, n as u64);
    let mut raw_series = Series::new(RAW, n as u64);
    let mut gdb_whole = Vec::new();
    let mut gdb_startups = Vec::new();
    let mut modules = 0;
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    eprintln!("{NAME}: {} runs of each; `manythreads {n}` (pid {})", opts.runs, target.pid);
    for i in 0..opts.runs {
        let run = dbgkit_run(&target, &tids, opts.timeout)?;
        target.check_running("after dbgkit detached")?;
        progress(i, opts.runs, DBGKIT, n, run.elapsed);
        dbgkit.values.push(ms(run.elapsed));
        modules = run.modules;

        let watchdog = Watchdog::start(target.pid, opts.timeout, "raw attach".into());
        let run = raw::attach::seize_all(target.pid);
        drop(watchdog);
        let run = run?;
        ensure!(run.threads == n, "raw: {} threads stopped, expected {n}", run.threads);
        target.check_running("after raw detached")?;
        progress(i, opts.runs, RAW, n, run.elapsed);
        raw_series.values.push(ms(run.elapsed));

        if let Ok(gdb) = gdb {
            let run = gdb::attach(gdb, target.pid, opts.timeout)?;
            ensure!(run.threads == n, "gdb: `info threads` listed {} threads, expected {n}", run.threads);
            target.check_running("after gdb detached")?;
            progress(i, opts.runs, "gdb (whole run)", n, run.elapsed);
            gdb_whole.push(ms(run.elapsed));
            gdb_startups.push(ms(gdb::startup(gdb, opts.timeout)?));
        }
    }
    target.finish()?;

    let mut rows = vec![Row::Measured(dbgkit), Row::Measured(raw_series)];
    let mut notes = Vec::new();
    match gdb {
        Ok(gdb) => {
            // gdb's start-up is no part of attaching; a bare start-up is taken out.
            let startup = median(&gdb_startups);
            let mut series = Series::new(GDB, n as u64);
            series.values = gdb_whole.iter().map(|t| t - startup).collect();
            notes.push(format!(
                "gdb: whole `gdb -batch -nx -p PID -ex 'info threads' -ex detach` runs (median {:.1} ms) minus \
                 gdb's start-up, the median of {} runs of `gdb -batch -nx -ex quit` ({startup:.1} ms)",
                median(&gdb_whole),
                gdb_startups.len()
            ));
            rows.push(Row::Measured(series));
            notes.push(gdb::version(gdb));
        }
        Err(reason) => rows.push(Row::Skipped { name: GDB.into(), reason: reason.clone() }),
    }
    Ok(Report {
        name: NAME,
        measures: format!(
            "milliseconds to attach to a running process and know all its threads, median of {} runs",
            opts.runs
        ),
        unit: "ms",
        work: "threads",
        kind: Kind::Time,
        decimals: 2,
        context: vec![
            fixture.build_line(),
            format!("program: `manythreads {n}` ({n} threads in all, blocked in pause()), started undebugged, one process for every run"),
            format!(
                "dbgkit: Session::attach until the last replayed event (1 ProcessCreated, {} ThreadCreated, \
                 {modules} ModuleLoaded) arrives; detach not timed",
                n - 1
            ),
            "raw: PTRACE_SEIZE + PTRACE_INTERRUPT each thread of /proc/PID/task (rescanned until no new one), \
             then waitpid(__WALL) each; detach not timed"
                .into(),
            "checked: every thread reported once; after each run all threads run untraced; the process ends by SIGTERM"
                .into(),
        ],
        rows,
        goals: vec![Goal::at_most(DBGKIT, RAW, 1.5), Goal::at_least(GDB, DBGKIT, 8.0)],
        notes,
        also: Vec::new(),
    })
}
