//! Checkpoints: how fast dbgkit goes back to a saved moment of a program
//! with 10 MiB of touched memory (`Session::restore`: a fork of the stopped
//! copy put in the process's place, breakpoints planted again), next to
//! what going back costs without checkpoints: launching the program again
//! and running it to the same point. Fixture `bigmem 10` fills its buffer
//! and calls `ready(buffer, size)`, where the checkpoint is taken. Before
//! each restore the live process's buffer is changed; after it the buffer
//! is checked to hold the moment's contents again.

use crate::fixture;
use crate::memory::{dbgkit_finish, dbgkit_start, PATTERN};
use crate::report::{Goal, Kind, Report, Row, Series};
use crate::Options;
use anyhow::{ensure, Context, Result};
use dbgkit::EventKind;
use std::time::Instant;

pub const NAME: &str = "checkpoint";

const RESTORE: &str = "dbgkit restore";
const SPAWN: &str = "spawn to the same point";
/// Restores per run: one restore is well under a millisecond.
const RESTORES: usize = 50;
/// The goal for one restore, in milliseconds.
const GOAL_MS: f64 = 1.0;

pub fn run(opts: &Options) -> Result<Report> {
    let mib = 10u64;
    let fixture = fixture::build("bigmem")?;
    let ready = fixture.symbol_address("ready")?;
    let size = mib << 20;
    let args = [mib.to_string()];
    let mut restore = Series::new(RESTORE, mib);
    let mut spawn = Series::new(SPAWN, mib);
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
    eprintln!("{NAME}: {} runs of {RESTORES} restores and of one launch; {mib} MiB buffer", opts.runs);
    for run in 0..opts.runs {
        let started = Instant::now();
        let (mut session, mut pid, buffer) = dbgkit_start(&fixture, &args, ready, size, opts.timeout)?;
        spawn.values.push(ms(started.elapsed()));

        let saved = session.checkpoint(pid).context("dbgkit: checkpoint")?;
        let mut times = Vec::with_capacity(RESTORES);
        for _ in 0..RESTORES {
            session.write_memory(pid, buffer, &[0xff; 8]).context("dbgkit: changing the buffer")?;
            let started = Instant::now();
            pid = session.restore(saved).context("dbgkit: restore")?;
            times.push(ms(started.elapsed()));
            let event = session.wait_event(None)?.context("dbgkit: no event after the restore")?;
            ensure!(matches!(event.kind, EventKind::BreakIn) && event.pid == pid, "after a restore: {event:?}");
            let (mut first, mut last) = ([0u8; 8], [0u8; 8]);
            session.read_memory(pid, buffer, &mut first)?;
            session.read_memory(pid, buffer + size - 8, &mut last)?;
            ensure!(u64::from_le_bytes(first) == 0, "the restored buffer's first word is not the moment's");
            ensure!(
                u64::from_le_bytes(last) == (size / 8 - 1).wrapping_mul(PATTERN),
                "the restored buffer's last word is not the moment's"
            );
        }
        let median = crate::report::median(&times);
        eprintln!("  run {}/{}  restore median {median:.3} ms, launch {:.1} ms", run + 1, opts.runs, spawn.values[run]);
        restore.values.push(median);
        session.delete_checkpoint(saved)?;
        // Back at ready() after a restore: the program must still end normally.
        let regs = session.registers(pid, pid)?;
        ensure!(regs.rip == ready, "the restored program is at {:#x}, not at ready", regs.rip);
        dbgkit_finish(session, opts.timeout)?;
    }
    let restore_ms = restore.median();
    let verdict = if restore_ms < GOAL_MS { "met" } else { "NOT met" };
    Ok(Report {
        name: NAME,
        measures: format!(
            "milliseconds to go back to a saved moment of a program with {mib} MiB of touched memory, median of {} \
             runs ({RESTORES} restores each)",
            opts.runs
        ),
        unit: "ms",
        work: "MiB",
        kind: Kind::Time,
        decimals: 3,
        context: vec![
            fixture.build_line(),
            format!("program: `bigmem {mib}`, checkpoint at the breakpoint on ready ({ready:#x})"),
            "restore: Session::restore (fork of the saved copy, old process killed, breakpoints planted again)".into(),
            "spawn to the same point: Session::spawn, run to the breakpoint on ready (fills the buffer again)".into(),
            "checked: the buffer changed before each restore holds the moment's pattern after it".into(),
        ],
        rows: vec![Row::Measured(restore), Row::Measured(spawn)],
        goals: vec![Goal::at_most(RESTORE, SPAWN, 0.5)],
        notes: vec![format!("restore median {restore_ms:.3} ms: goal < {GOAL_MS} ms {verdict}")],
        also: Vec::new(),
    })
}
