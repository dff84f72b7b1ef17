//! Breakpoint throughput: how many breakpoint hits per second a debugger
//! sustains on a tight loop, the cost that decides whether tracing a hot
//! function is usable. Fixture `counter` calls `bump()` N times; each
//! debugger plants one breakpoint on `bump`'s first byte, lets the program
//! run from launch to exit, and must see exactly N hits and the same output
//! as an undebugged run.

use crate::fixture::{self, Fixture};
use crate::report::{median, Goal, Kind, Report, Row, Series};
use crate::run::{Run, Watchdog};
use crate::{gdb, raw, Options};
use anyhow::{bail, ensure, Context, Result};
use dbgkit::{ContinueStatus, EventKind, HitAction, Session, SpawnOptions, Stdio};
use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

pub const NAME: &str = "breakpoints";

const DBGKIT: &str = "dbgkit";
const RAW_OOL: &str = "raw out-of-line";
const RAW: &str = "raw classic";
const GDB: &str = "gdb";

/// What `counter N` prints: sum of (i + value) for i < N, with value = 1.
fn expected_output(calls: u64) -> String {
    let sum = calls as u128 * (calls as u128 + 1) / 2;
    format!("sum={sum} value=1\n")
}

/// dbgkit with a fast breakpoint: the callback counts and the engine resumes
/// the target itself, so no event reaches this loop for a hit.
fn dbgkit_run(fixture: &Fixture, args: &[String], address: u64, limit: Duration) -> Result<Run> {
    let mut argv = vec![fixture.path.as_os_str().to_os_string()];
    argv.extend(args.iter().map(Into::into));
    let start = Instant::now();
    let mut session = Session::new();
    let pid = session.spawn(&SpawnOptions::new(argv).stdout(Stdio::Piped)).context("dbgkit: spawn")?;
    let mut stdout = session.take_pipes(pid).and_then(|p| p.stdout).context("dbgkit: no stdout pipe after spawn")?;
    let hits = Rc::new(Cell::new(0u64));
    let counter = hits.clone();
    let id = session
        .add_fast_breakpoint(pid, address, move |_hit| {
            counter.set(counter.get() + 1);
            HitAction::Continue
        })
        .context("dbgkit: add_fast_breakpoint")?;
    let watchdog = Watchdog::start(pid, limit, "dbgkit".into());
    let (exit, engine_hits) = loop {
        let Some(event) = session.wait_event(None).context("dbgkit: wait_event")? else {
            // Interrupted by a signal: the target runs on, keep waiting.
            continue;
        };
        match event.kind {
            EventKind::ProcessExited { code, signal } => {
                let engine_hits = session.breakpoint(id).map(|b| b.hits);
                session.continue_event(ContinueStatus::Handled).context("dbgkit: continue after exit")?;
                break ((code, signal), engine_hits);
            }
            EventKind::Breakpoint { id, address } => {
                bail!("dbgkit reported a Breakpoint event (id {id} at {address:#x}) for a fast breakpoint whose callback returned Continue")
            }
            // A signal is the program's business: deliver it as if undebugged.
            EventKind::Exception { .. } => session.continue_event(ContinueStatus::NotHandled),
            // Start-up events (process created, loader and libraries loaded).
            _ => session.continue_event(ContinueStatus::Handled),
        }
        .with_context(|| format!("dbgkit: continuing {}", event.kind.name()))?;
    };
    let elapsed = start.elapsed();
    let timed_out = watchdog.fired();
    drop(watchdog);
    drop(session);
    let exit_code = match exit {
        _ if timed_out => bail!("dbgkit timed out after {limit:?} ({} hits counted so far)", hits.get()),
        (Some(code), None) => code,
        (code, signal) => bail!("dbgkit: the program ended abnormally (code {code:?}, signal {signal:?})"),
    };
    if let Some(engine) = engine_hits.filter(|&n| n != hits.get()) {
        bail!("dbgkit: the engine counted {engine} hits but the callback ran {} times", hits.get());
    }
    let mut output = String::new();
    // The program has exited, so the pipe is at its end; its output is a line.
    std::io::Read::read_to_string(&mut stdout, &mut output).context("dbgkit: reading the program's output")?;
    Ok(Run { hits: hits.get(), elapsed, stdout: output, exit_code })
}

/// A run counts only if the debugger saw every call and left the program's
/// behaviour untouched; otherwise its speed means nothing.
fn check(tool: &str, run: &Run, calls: u64, expected: &str) -> Result<()> {
    ensure!(run.hits == calls, "{tool}: {} breakpoint hits, expected exactly {calls}", run.hits);
    ensure!(run.exit_code == 0, "{tool}: the program exited with code {}", run.exit_code);
    ensure!(
        run.stdout == expected,
        "{tool}: the program printed {:?}, but without a debugger it prints {expected:?}",
        run.stdout
    );
    Ok(())
}

fn progress(run_index: usize, runs: usize, tool: &str, run: &Run) {
    eprintln!(
        "  run {}/{runs}  {tool:<16} {:>8} hits in {:>7.3} s  {:>10.0} hits/s",
        run_index + 1,
        run.hits,
        run.elapsed.as_secs_f64(),
        run.hits_per_second()
    );
}

pub fn run(opts: &Options) -> Result<Report> {
    let fixture = fixture::build("counter")?;
    let bump = fixture.symbol_address("bump")?;
    let code_end = fixture.segment_end(bump)?;
    let work_dir = fixture::work_dir()?;
    let args = [opts.calls.to_string()];
    let expected = expected_output(opts.calls);
    let reference = fixture.reference_output(&args)?;
    ensure!(reference == expected, "the fixture itself prints {reference:?}, expected {expected:?}: was it changed?");

    let gdb = opts.gdb.as_ref();
    let gdb_args = [opts.gdb_calls.to_string()];
    let gdb_expected = expected_output(opts.gdb_calls);
    let mut notes = Vec::new();
    let mut gdb_startup = None;
    if let Ok(gdb) = gdb {
        // gdb's start-up (symbols, libthread_db, the shell it launches through)
        // is inside its timed runs; a run with no call shows how much of the
        // figure it is, so the ratio can be read fairly.
        let idle = gdb::breakpoint_loop(gdb, &fixture.path, &["0".into()], bump, &work_dir, opts.timeout)?;
        check("gdb (0 calls)", &idle, 0, &expected_output(0))?;
        gdb_startup = Some(idle.elapsed);
    }

    let mut dbgkit = Series::new(DBGKIT, opts.calls);
    let mut raw_ool = Series::new(RAW_OOL, opts.calls);
    let mut raw = Series::new(RAW, opts.calls);
    let mut gdb_series = Series::new(GDB, opts.gdb_calls);
    let mut gdb_times = Vec::new();
    eprintln!("{NAME}: {} runs of each; `counter {}` (gdb: `counter {}`)", opts.runs, opts.calls, opts.gdb_calls);
    // Runs are interleaved (dbgkit, raw, gdb, dbgkit, ...) so that a slow
    // phase of the machine hits every debugger alike instead of one of them.
    for i in 0..opts.runs {
        let run = dbgkit_run(&fixture, &args, bump, opts.timeout)?;
        check(DBGKIT, &run, opts.calls, &expected)?;
        progress(i, opts.runs, DBGKIT, &run);
        dbgkit.values.push(run.hits_per_second());

        let run = raw::breakpoints::out_of_line_loop(&fixture.path, &args, bump, code_end, opts.timeout)?;
        check(RAW_OOL, &run, opts.calls, &expected)?;
        progress(i, opts.runs, RAW_OOL, &run);
        raw_ool.values.push(run.hits_per_second());

        let run = raw::breakpoints::classic_loop(&fixture.path, &args, bump, opts.timeout)?;
        check(RAW, &run, opts.calls, &expected)?;
        progress(i, opts.runs, RAW, &run);
        raw.values.push(run.hits_per_second());

        if let Ok(gdb) = gdb {
            let run = gdb::breakpoint_loop(gdb, &fixture.path, &gdb_args, bump, &work_dir, opts.timeout)?;
            check(GDB, &run, opts.gdb_calls, &gdb_expected)?;
            progress(i, opts.runs, GDB, &run);
            gdb_series.values.push(run.hits_per_second());
            gdb_times.push(run.elapsed.as_secs_f64());
        }
    }

    let mut rows = vec![Row::Measured(dbgkit), Row::Measured(raw_ool), Row::Measured(raw)];
    match gdb {
        Ok(gdb) => {
            if let Some(startup) = gdb_startup {
                notes.push(format!(
                    "gdb times are whole gdb runs; gdb with 0 calls takes {:.2} s, {:.0}% of its median run",
                    startup.as_secs_f64(),
                    100.0 * startup.as_secs_f64() / median(&gdb_times)
                ));
            }
            if opts.gdb_calls != opts.calls {
                notes.push(format!(
                    "gdb runs `counter {}` (--gdb-calls), not {}, to keep its runs short",
                    opts.gdb_calls, opts.calls
                ));
            }
            rows.push(Row::Measured(gdb_series));
            notes.push(gdb::version(gdb));
        }
        Err(reason) => rows.push(Row::Skipped { name: GDB.into(), reason: reason.to_string() }),
    }
    Ok(Report {
        name: NAME,
        measures: format!(
            "breakpoint hits per second over whole runs of the fixture (launch to exit), median of {} runs",
            opts.runs
        ),
        unit: "hits/s",
        work: "hits",
        kind: Kind::Rate,
        decimals: 0,
        context: vec![
            fixture.build_line(),
            format!("breakpoint: bump at {bump:#x}, every hit counted and checked; output checked against an undebugged run"),
            "raw out-of-line: int3 kept, `push %rbp; jmp bump+1` in the padding after the code, one stop per hit"
                .into(),
            "raw classic: restore the byte, single-step, re-plant: two stops per hit".into(),
        ],
        rows,
        goals: vec![
            Goal::at_least(DBGKIT, RAW_OOL, 0.9),
            Goal::at_least(DBGKIT, RAW, 3.0),
            Goal::at_least(DBGKIT, GDB, 10.0),
        ],
        notes,
        also: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn expected_output_matches_the_fixture_formula() {
        assert_eq!(super::expected_output(10), "sum=55 value=1\n");
        assert_eq!(super::expected_output(0), "sum=0 value=1\n");
    }
}
