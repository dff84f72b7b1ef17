//! gdb driving a remote stub: dbgkit-gdbserver next to stock gdbserver, with
//! the same gdb, the same program and the same commands, in the same run.
//!
//! Two measures, each timed inside gdb (Python's `time.perf_counter()`
//! around one command, so gdb's start-up and symbol loading stay out):
//! breakpoint hits per second with `commands; silent; continue; end` on
//! `bump` of `counter N` from `main` to the program's exit, and single steps
//! per second with `stepi N` from `main`; and, beside them, hits per second
//! of a breakpoint whose condition the server evaluates (false at every
//! call but the last: the server's own cost per hit). Both servers are started the way
//! gdb's `target remote | SERVER - PROGRAM ARGS` starts them (stdio), and
//! every run is checked: the hit count, the program's output and exit, and
//! for steps the same final `rip` from both servers.

use crate::fixture::{self, Fixture};
use crate::report::{Goal, Kind, Report, Row, Series};
use crate::{gdb, Options};
use anyhow::{bail, ensure, Context, Result};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const NAME: &str = "gdbserver";

const OURS: &str = "dbgkit-gdbserver";
const STOCK: &str = "gdbserver";
const TIMER_TAG: &str = "dbgkit-bench: timed command took ";

/// `counter`'s argument for the step runs: it never ends while stepping.
const ENDLESS: &str = "1000000000000";

/// What one timed gdb run saw.
struct Timed {
    elapsed: Duration,
    log: String,
}

/// Runs gdb connected to `server` serving `program args`, with `setup`
/// commands, then `timed` under Python's clock, then `after`.
fn timed_remote_run(
    gdb: &gdb::Gdb,
    server: &Path,
    program: &Path,
    args: &[String],
    (setup, timed, after): (&str, &str, &str),
    limit: Duration,
    what: &str,
) -> Result<Timed> {
    let work_dir = fixture::work_dir()?;
    let script = format!(
        "set pagination off\n\
         set confirm off\n\
         set sysroot /\n\
         target remote | {} - {} {}\n\
         {setup}\
         python import time; t0 = time.perf_counter(); gdb.execute(\"{timed}\"); \
         print(\"{TIMER_TAG}%.9f s\" % (time.perf_counter() - t0))\n\
         {after}",
        server.display(),
        program.display(),
        args.join(" ")
    );
    let file = work_dir.join(format!("gdbserver-{what}.{}.gdb", std::process::id()));
    std::fs::write(&file, script).with_context(|| format!("writing {}", file.display()))?;
    let run = gdb::batch(gdb, &["-x".into(), file.clone().into(), program.into()], limit, what);
    let _ = std::fs::remove_file(&file);
    let run = run?;
    let seconds =
        run.log.lines().find_map(|l| l.strip_prefix(TIMER_TAG)?.strip_suffix(" s")?.parse::<f64>().ok()).with_context(
            || format!("gdb did not finish `{timed}` through {}; its output:\n{}", server.display(), run.log),
        )?;
    Ok(Timed { elapsed: Duration::from_secs_f64(seconds), log: run.log })
}

/// From the last `breakpoint already hit N time(s)` (the one on `bump`,
/// listed after the one on `main`).
fn hit_count(log: &str) -> Option<u64> {
    log.lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("breakpoint already hit ")?.split_whitespace().next()?.parse().ok())
}

/// Every `rip` value of `info registers rip` in a log, in order.
fn rips(log: &str) -> Vec<u64> {
    log.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            (fields.next() == Some("rip")).then_some(())?;
            u64::from_str_radix(fields.next()?.strip_prefix("0x")?, 16).ok()
        })
        .collect()
}

/// Breakpoint hits per second through `server`: `counter calls` from `main` to its exit.
fn hits_run(gdb: &gdb::Gdb, server: &Path, fixture: &Fixture, bump: u64, calls: u64, limit: Duration) -> Result<f64> {
    let setup = format!("break main\ncontinue\nbreak *{bump:#x}\ncommands\nsilent\ncontinue\nend\n");
    let args = [calls.to_string()];
    let run =
        timed_remote_run(gdb, server, &fixture.path, &args, (&setup, "continue", "info breakpoints\n"), limit, "hits")?;
    let hits = hit_count(&run.log).with_context(|| format!("no hit count from gdb; its output:\n{}", run.log))?;
    ensure!(hits == calls, "{}: {hits} hits, expected {calls}; gdb's output:\n{}", server.display(), run.log);
    ensure_counted_to_the_end(server, calls, &run.log)?;
    Ok(hits as f64 / run.elapsed.as_secs_f64())
}

/// Checks that `counter calls` printed its sum (every call ran) and exited normally.
fn ensure_counted_to_the_end(server: &Path, calls: u64, log: &str) -> Result<()> {
    let sum = calls as u128 * (calls as u128 + 1) / 2;
    ensure!(
        log.contains(&format!("sum={sum} value=1")) && log.contains("exited normally"),
        "{}: the program did not print its sum and exit normally; gdb's output:\n{log}",
        server.display(),
    );
    Ok(())
}

/// Hits per second of a breakpoint whose condition `server` evaluates (gdb
/// hands it over as agent bytecode): `counter calls` from `main`, the
/// condition false at every call but the last, where the one stop that
/// reaches gdb ends the timed `continue`.
fn condition_run(gdb: &gdb::Gdb, server: &Path, fixture: &Fixture, calls: u64, limit: Duration) -> Result<f64> {
    let last = calls - 1;
    let setup =
        format!("break main\ncontinue\nset breakpoint condition-evaluation target\nbreak bump if i == {last}\n");
    let args = [calls.to_string()];
    let after = "info breakpoints\ndelete\ncontinue\n";
    let run = timed_remote_run(gdb, server, &fixture.path, &args, (&setup, "continue", after), limit, "conditions")?;
    ensure!(
        run.log.contains(&format!("bump (i={last})"))
            && run.log.contains("(target evals)")
            && run.log.contains("breakpoint already hit 1 time"),
        "{}: not one stop at the last call with the condition evaluated by the server; gdb's output:\n{}",
        server.display(),
        run.log
    );
    ensure_counted_to_the_end(server, calls, &run.log)?;
    Ok(calls as f64 / run.elapsed.as_secs_f64())
}

/// Single steps per second through `server`: `stepi steps` from `main`; returns the rate and the final `rip`.
fn steps_run(gdb: &gdb::Gdb, server: &Path, fixture: &Fixture, steps: u64, limit: Duration) -> Result<(f64, u64)> {
    let setup = "break main\ncontinue\ninfo registers rip\n";
    let timed = format!("stepi {steps}");
    let run = timed_remote_run(
        gdb,
        server,
        &fixture.path,
        &[ENDLESS.into()],
        (setup, &timed, "info registers rip\nkill\n"),
        limit,
        "steps",
    )?;
    let rips = rips(&run.log);
    ensure!(rips.len() == 2, "{}: expected two rip values from gdb; its output:\n{}", server.display(), run.log);
    Ok((steps as f64 / run.elapsed.as_secs_f64(), rips[1]))
}

fn progress(run_index: usize, runs: usize, tool: &str, rate: f64, unit: &str) {
    eprintln!("  run {}/{runs}  {tool:<18} {rate:>10.0} {unit}", run_index + 1);
}

pub fn run(opts: &Options) -> Result<Report> {
    let gdb = match &opts.gdb {
        Ok(gdb) if gdb.python => gdb,
        Ok(_) => bail!("gdbserver: this gdb has no Python to time single commands"),
        Err(reason) => bail!("gdbserver: needs gdb ({reason})"),
    };
    let stock: PathBuf = fixture::find_on_path("gdbserver")
        .context("gdbserver not found on PATH (scripts/gdbserver-setup installs it)")?;
    let ours = fixture::cargo_build("dbgkit-gdbserver", "dbgkit-gdbserver", true)?;
    let fixture = fixture::build("counter")?;
    let bump = fixture.symbol_address("bump")?;
    let calls = opts.server_calls;
    let steps = opts.server_steps;

    let mut hits = [Series::new(OURS, calls), Series::new(STOCK, calls)];
    let mut step_rates = [Series::new(OURS, steps), Series::new(STOCK, steps)];
    let mut condition_rates = [Series::new(OURS, calls), Series::new(STOCK, calls)];
    eprintln!("{NAME}: {} runs of each; `counter {calls}` for hits, `stepi {steps}` for steps", opts.runs);
    // Interleaved, so a slow phase of the machine hits both servers alike.
    for i in 0..opts.runs {
        for (series, server) in hits.iter_mut().zip([&ours, &stock]) {
            let rate = hits_run(gdb, server, &fixture, bump, calls, opts.timeout)?;
            progress(i, opts.runs, &series.name, rate, "hits/s");
            series.values.push(rate);
        }
        for (series, server) in condition_rates.iter_mut().zip([&ours, &stock]) {
            let rate = condition_run(gdb, server, &fixture, calls, opts.timeout)?;
            progress(i, opts.runs, &series.name, rate, "hits/s (server-side condition)");
            series.values.push(rate);
        }
        let mut ends = Vec::new();
        for (series, server) in step_rates.iter_mut().zip([&ours, &stock]) {
            let (rate, rip) = steps_run(gdb, server, &fixture, steps, opts.timeout)?;
            progress(i, opts.runs, &series.name, rate, "steps/s");
            series.values.push(rate);
            ends.push(rip);
        }
        ensure!(
            ends[0] == ends[1],
            "after {steps} steps the servers disagree on rip: {:#x} vs {:#x}",
            ends[0],
            ends[1]
        );
    }

    let context = vec![
        fixture.build_line(),
        format!("{OURS}: {} (release build)", ours.display()),
        format!("{STOCK}: {}", stock.display()),
        gdb::version(gdb),
        "gdb starts each server as `target remote | SERVER - PROGRAM ARGS`".into(),
    ];
    let [ours_steps, stock_steps] = step_rates;
    let steps_report = Report {
        name: NAME,
        measures: format!("single steps per second (gdb `stepi {steps}` from main), median of {} runs", opts.runs),
        unit: "steps/s",
        work: "steps",
        kind: Kind::Rate,
        decimals: 0,
        context: Vec::new(),
        rows: vec![Row::Measured(ours_steps), Row::Measured(stock_steps)],
        goals: vec![Goal::at_least(OURS, STOCK, 1.5)],
        notes: Vec::new(),
        also: Vec::new(),
    };
    let [ours_conditions, stock_conditions] = condition_rates;
    let condition_ratio = ours_conditions.median() / stock_conditions.median();
    let conditions_report = Report {
        name: NAME,
        measures: format!(
            "hits per second of a breakpoint whose condition the server evaluates \
             (`break bump if i == {}`, condition-evaluation target, `counter {calls}` from main), \
             median of {} runs",
            calls - 1,
            opts.runs
        ),
        unit: "hits/s",
        work: "hits",
        kind: Kind::Rate,
        decimals: 0,
        context: Vec::new(),
        rows: vec![Row::Measured(ours_conditions), Row::Measured(stock_conditions)],
        goals: Vec::new(),
        notes: vec![
            format!("{OURS} / {STOCK}: {condition_ratio:.2}x (higher is faster)"),
            "one stop reaches gdb, at the last call: this is the server's own cost per hit".into(),
        ],
        also: Vec::new(),
    };
    let [ours_hits, stock_hits] = hits;
    Ok(Report {
        name: NAME,
        measures: format!(
            "breakpoint hits per second (gdb `commands; silent; continue; end` on bump, `counter {calls}` \
             from main to exit), median of {} runs",
            opts.runs
        ),
        unit: "hits/s",
        work: "hits",
        kind: Kind::Rate,
        decimals: 0,
        context,
        rows: vec![Row::Measured(ours_hits), Row::Measured(stock_hits)],
        goals: vec![Goal::at_least(OURS, STOCK, 1.5)],
        notes: Vec::new(),
        also: vec![steps_report, conditions_report],
    })
}
