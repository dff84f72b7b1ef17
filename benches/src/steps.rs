//! Single-step throughput: how many instructions per second a debugger can
//! single-step, the cost behind instruction tracing and `stepi`-driven
//! tools. Fixture `counter` is run (with so many calls that it never
//! reaches its end) to a breakpoint on `main`; only the steps from there are
//! timed, and each debugger must end where the kernel's own single steps end.

use crate::fixture::{self, Fixture};
use crate::report::{Goal, Kind, Report, Row, Series};
use crate::run::{StepRun, Watchdog};
use crate::{gdb, raw, Options};
use anyhow::{bail, ensure, Context, Result};
use dbgkit::{ContinueStatus, Event, EventKind, Session, SpawnOptions, Stdio};
use std::time::{Duration, Instant};

pub const NAME: &str = "steps";

const DBGKIT: &str = "dbgkit";
const RAW: &str = "raw";
const GDB: &str = "gdb";

/// `counter`'s argument: so many calls that no run steps anywhere near the
/// program's end (a call takes about 15 instructions).
const ENDLESS: &str = "1000000000000";

/// The next event; `None` (a signal interrupted the wait) just waits again.
fn next_event(session: &mut Session) -> Result<Event> {
    loop {
        if let Some(event) = session.wait_event(None).context("dbgkit: wait_event")? {
            return Ok(event);
        }
    }
}

/// dbgkit: a breakpoint on `start`, every earlier event continued, then
/// `steps` times `step_into` + `wait_event`, each checked to be the
/// `StepComplete` of the main thread.
fn dbgkit_run(fixture: &Fixture, start: u64, steps: u64, checkpoint: u64, limit: Duration) -> Result<StepRun> {
    let argv = [fixture.path.as_os_str(), ENDLESS.as_ref()];
    let mut session = Session::new();
    let options = SpawnOptions::new(argv).stdout(Stdio::Null).disable_aslr(true);
    let pid = session.spawn(&options).context("dbgkit: spawn")?;
    let watchdog = Watchdog::start(pid, limit, "dbgkit".into());
    let run = (|| -> Result<StepRun> {
        let id = session.add_breakpoint(pid, start).context("dbgkit: add_breakpoint")?;
        loop {
            let event = next_event(&mut session)?;
            match event.kind {
                EventKind::Breakpoint { id: hit, address } if hit == id => {
                    ensure!(
                        address == start && event.tid == pid,
                        "dbgkit: breakpoint {id} reported at {address:#x} in thread {}",
                        event.tid
                    );
                    break;
                }
                EventKind::ProcessExited { code, signal } => {
                    bail!("dbgkit: the program ended (code {code:?}, signal {signal:?}) before reaching {start:#x}")
                }
                _ => session.continue_event(ContinueStatus::Handled).context("dbgkit: continue_event")?,
            }
        }
        let rip = session.registers(pid, pid).context("dbgkit: registers")?.rip;
        ensure!(rip == start, "dbgkit: rip is {rip:#x} at the breakpoint on {start:#x}");
        let mut rip_at_checkpoint = if checkpoint == 0 { start } else { 0 };
        let mut last = start;
        let begin = Instant::now();
        for done in 1..=steps {
            session.step_into(pid, pid).with_context(|| format!("dbgkit: step_into (step {done})"))?;
            let event = next_event(&mut session)?;
            match event.kind {
                EventKind::StepComplete { address } if event.tid == pid => last = address,
                other => bail!(
                    "dbgkit: step {done} of {steps}: expected StepComplete of thread {pid}, got {other:?} in thread {}",
                    event.tid
                ),
            }
            if done == checkpoint {
                rip_at_checkpoint = last;
            }
        }
        let elapsed = begin.elapsed();
        let rip = session.registers(pid, pid).context("dbgkit: registers")?.rip;
        ensure!(rip == last, "dbgkit: the last StepComplete says {last:#x} but rip is {rip:#x}");
        Ok(StepRun { elapsed, rip_at_checkpoint, final_rip: rip })
    })();
    let timed_out = watchdog.fired();
    drop(watchdog);
    // The session kills the program it launched.
    drop(session);
    run.map_err(|e| if timed_out { e.context(format!("dbgkit timed out after {limit:?}")) } else { e })
}

fn progress(run_index: usize, runs: usize, tool: &str, steps: u64, elapsed: Duration) {
    eprintln!(
        "  run {}/{runs}  {tool:<8} {steps:>8} steps in {:>7.3} s  {:>10.0} steps/s",
        run_index + 1,
        elapsed.as_secs_f64(),
        steps as f64 / elapsed.as_secs_f64()
    );
}

pub fn run(opts: &Options) -> Result<Report> {
    let fixture = fixture::build("counter")?;
    let main = fixture.symbol_address("main")?;
    let work_dir = fixture::work_dir()?;
    let args = [ENDLESS.to_string()];
    let (steps, gdb_steps) = (opts.steps, opts.gdb_steps);
    let gdb = opts.gdb.as_ref();

    let mut dbgkit = Series::new(DBGKIT, steps);
    let mut raw_series = Series::new(RAW, steps);
    let mut gdb_series = Series::new(GDB, gdb_steps);
    eprintln!("{NAME}: {} runs of each; {steps} steps from main (gdb: {gdb_steps})", opts.runs);
    for i in 0..opts.runs {
        let ours = dbgkit_run(&fixture, main, steps, gdb_steps, opts.timeout)?;
        progress(i, opts.runs, DBGKIT, steps, ours.elapsed);
        dbgkit.values.push(steps as f64 / ours.elapsed.as_secs_f64());

        let kernel = raw::steps::single_steps(&fixture.path, &args, main, steps, gdb_steps, opts.timeout)?;
        progress(i, opts.runs, RAW, steps, kernel.elapsed);
        raw_series.values.push(steps as f64 / kernel.elapsed.as_secs_f64());
        // The kernel's own single steps are the reference: a debugger that
        // skipped or repeated an instruction ends elsewhere.
        ensure!(
            (ours.rip_at_checkpoint, ours.final_rip) == (kernel.rip_at_checkpoint, kernel.final_rip),
            "dbgkit stepped elsewhere than raw single steps: after {gdb_steps} steps {:#x} (raw {:#x}), \
             after {steps} steps {:#x} (raw {:#x})",
            ours.rip_at_checkpoint,
            kernel.rip_at_checkpoint,
            ours.final_rip,
            kernel.final_rip
        );

        if let Ok(gdb) = gdb {
            let theirs = gdb::steps(gdb, &fixture.path, &args, main, gdb_steps, &work_dir, opts.timeout)?;
            progress(i, opts.runs, GDB, gdb_steps, theirs.elapsed);
            gdb_series.values.push(gdb_steps as f64 / theirs.elapsed.as_secs_f64());
            ensure!(
                theirs.rip == kernel.rip_at_checkpoint,
                "gdb's `stepi {gdb_steps}` ended at {:#x}, raw single steps at {:#x}",
                theirs.rip,
                kernel.rip_at_checkpoint
            );
        }
    }

    let mut rows = vec![Row::Measured(dbgkit), Row::Measured(raw_series)];
    let mut notes = Vec::new();
    match gdb {
        Ok(gdb) => {
            rows.push(Row::Measured(gdb_series));
            let how = if gdb.python {
                "gdb's Python times `stepi N` alone (time.perf_counter around gdb.execute)"
            } else {
                "gdb has no Python: its figure is a whole run minus the same run without `stepi`"
            };
            notes.push(how.into());
            if gdb_steps != steps {
                notes.push(format!("gdb steps {gdb_steps} times (--gdb-steps), not {steps}, to keep its runs short"));
            }
            notes.push(gdb::version(gdb));
        }
        Err(reason) => rows.push(Row::Skipped { name: GDB.into(), reason: reason.clone() }),
    }
    Ok(Report {
        name: NAME,
        measures: format!(
            "single steps per second from a breakpoint on main, steps alone timed, median of {} runs",
            opts.runs
        ),
        unit: "steps/s",
        work: "steps",
        kind: Kind::Rate,
        decimals: 0,
        context: vec![
            fixture.build_line(),
            format!(
                "program: `counter {ENDLESS}`, ASLR off, run to main ({main:#x}), then single steps of the main thread"
            ),
            "dbgkit: step_into + wait_event (StepComplete checked each time); raw: PTRACE_SINGLESTEP + waitpid; \
             gdb: stepi N"
                .into(),
            format!("checked: every debugger ends where raw single steps end (after {gdb_steps} and {steps} steps)"),
        ],
        rows,
        goals: vec![Goal::at_least(DBGKIT, RAW, 0.9), Goal::at_least(DBGKIT, GDB, 3.0)],
        notes,
        also: Vec::new(),
    })
}
