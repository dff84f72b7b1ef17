//! Bulk memory reads: how fast a debugger copies a large buffer out of a
//! stopped program (a core-dump-like snapshot, a big array in a watch
//! window). Fixture `bigmem` fills a buffer with a known pattern and calls
//! `ready(buffer, size)`; each debugger stops there, reads the whole buffer,
//! and the copy is checked word by word.

use crate::fixture::{self, Fixture};
use crate::report::{Goal, Kind, Report, Row, Series};
use crate::run::Watchdog;
use crate::{gdb, raw, Options};
use anyhow::{bail, ensure, Context, Result};
use dbgkit::{ContinueStatus, EventKind, Session, SpawnOptions, Stdio};
use std::io::Read;
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub const NAME: &str = "memory";

const DBGKIT: &str = "dbgkit";
const RAW: &str = "raw";
const GDB: &str = "gdb";

/// What `bigmem` writes: 64-bit word i holds i * PATTERN (see bigmem.c).
pub(crate) const PATTERN: u64 = 0x9e37_79b9_7f4a_7c15;
/// What the buffer holds before each read, so a read that wrote nothing
/// fails the check (word 0 of the pattern is 0).
const POISON: u8 = 0x5a;

fn verify(what: &str, buf: &[u8]) -> Result<()> {
    for (i, word) in buf.chunks_exact(8).enumerate() {
        let value = u64::from_le_bytes(word.try_into().expect("8 bytes"));
        let expected = (i as u64).wrapping_mul(PATTERN);
        ensure!(
            value == expected,
            "{what}: word {i} (offset {:#x}) is {value:#018x}, expected {expected:#018x}",
            i * 8
        );
    }
    Ok(())
}

/// Where gdb dumps the buffer: tmpfs when there is one, so that gdb's
/// figure is not a disk's.
pub(crate) fn dump_file() -> Result<PathBuf> {
    let name = format!("dbgkit-bench-dump.{}.bin", std::process::id());
    let shm = std::path::Path::new("/dev/shm");
    Ok(if shm.is_dir() { shm.join(name) } else { fixture::work_dir()?.join(name) })
}

/// Launches the fixture under dbgkit and runs it to its breakpoint on
/// `ready`; returns the session holding it there and the buffer's address.
pub(crate) fn dbgkit_start(
    fixture: &Fixture,
    args: &[String],
    ready: u64,
    size: u64,
    limit: Duration,
) -> Result<(Session, i32, u64)> {
    let mut argv = vec![fixture.path.as_os_str().to_os_string()];
    argv.extend(args.iter().map(Into::into));
    let mut session = Session::new();
    let pid = session.spawn(&SpawnOptions::new(argv).stdout(Stdio::Null)).context("dbgkit: spawn")?;
    let watchdog = Watchdog::start(pid, limit, "dbgkit (running to ready)".into());
    let id = session.add_breakpoint(pid, ready).context("dbgkit: add_breakpoint")?;
    loop {
        let Some(event) = session.wait_event(None).context("dbgkit: wait_event")? else { continue };
        match event.kind {
            EventKind::Breakpoint { id: hit, .. } if hit == id => break,
            EventKind::ProcessExited { code, signal } => {
                bail!("dbgkit: the program ended (code {code:?}, signal {signal:?}) before reaching ready()")
            }
            _ => session.continue_event(ContinueStatus::Handled).context("dbgkit: continue_event")?,
        }
    }
    drop(watchdog);
    let regs = session.registers(pid, pid).context("dbgkit: registers")?;
    ensure!(regs.rip == ready, "dbgkit: rip is {:#x} at the breakpoint on ready ({ready:#x})", regs.rip);
    ensure!(regs.rsi == size, "dbgkit: ready() got size {} (rsi), expected {size}", regs.rsi);
    Ok((session, pid, regs.rdi))
}

/// Lets the program go from `ready` to its end, which must be normal.
pub(crate) fn dbgkit_finish(mut session: Session, limit: Duration) -> Result<()> {
    let pid = session.processes().first().copied().context("dbgkit: no process left")?;
    let watchdog = Watchdog::start(pid, limit, "dbgkit (running to the end)".into());
    session.continue_event(ContinueStatus::Handled).context("dbgkit: continue_event")?;
    let result = loop {
        let Some(event) = session.wait_event(None).context("dbgkit: wait_event")? else { continue };
        if let EventKind::ProcessExited { code, signal } = event.kind {
            break (code, signal);
        }
        session.continue_event(ContinueStatus::Handled).context("dbgkit: continue_event")?;
    };
    let timed_out = watchdog.fired();
    drop(watchdog);
    ensure!(!timed_out, "dbgkit: the program did not end within {limit:?} after the reads");
    ensure!(result == (Some(0), None), "dbgkit: after the reads the program ended with {result:?}, not code 0");
    Ok(())
}

fn progress(run_index: usize, runs: usize, tool: &str, size: usize, elapsed: Duration) {
    eprintln!(
        "  run {}/{runs}  {tool:<8} {:>5} MiB in {:>7.3} s  {:>10.0} MB/s",
        run_index + 1,
        size >> 20,
        elapsed.as_secs_f64(),
        size as f64 / elapsed.as_secs_f64() / 1e6
    );
}

pub fn run(opts: &Options) -> Result<Report> {
    let fixture = fixture::build("bigmem")?;
    let ready = fixture.symbol_address("ready")?;
    let work_dir = fixture::work_dir()?;
    let size = usize::try_from(opts.mib << 20).context("--mib too large")?;
    let args = [opts.mib.to_string()];
    let gdb = opts.gdb.as_ref();
    let dump = dump_file()?;
    // Allocated and written once (a non-zero fill touches every page), so no
    // run pays for faulting in the benchmark's own buffer.
    let mut buf = vec![POISON; size];

    let (session, pid, address) = dbgkit_start(&fixture, &args, ready, size as u64, opts.timeout)?;
    let mut dbgkit = Series::new(DBGKIT, opts.mib);
    let mut raw_series = Series::new(RAW, opts.mib);
    let mut gdb_series = Series::new(GDB, opts.mib);
    let megabytes_per_second = |elapsed: Duration| size as f64 / elapsed.as_secs_f64() / 1e6;
    eprintln!("{NAME}: {} runs of each; {} MiB at {address:#x}", opts.runs, opts.mib);
    for i in 0..opts.runs {
        buf.fill(POISON);
        let start = Instant::now();
        session.read_memory(pid, address, &mut buf).context("dbgkit: read_memory")?;
        let elapsed = start.elapsed();
        verify(DBGKIT, &buf)?;
        progress(i, opts.runs, DBGKIT, size, elapsed);
        dbgkit.values.push(megabytes_per_second(elapsed));

        // The same range of the same stopped process.
        buf.fill(POISON);
        let elapsed = raw::memory::read(pid, address, &mut buf)?;
        verify(RAW, &buf)?;
        progress(i, opts.runs, RAW, size, elapsed);
        raw_series.values.push(megabytes_per_second(elapsed));

        if let Ok(gdb) = gdb {
            let _ = std::fs::remove_file(&dump);
            let result = (|| {
                let elapsed = gdb::dump_memory(gdb, &fixture.path, &args, ready, &dump, &work_dir, opts.timeout)?;
                let mut file =
                    std::fs::File::open(&dump).with_context(|| format!("gdb wrote no {}", dump.display()))?;
                let written = file.metadata()?.len();
                ensure!(written == size as u64, "gdb: the dump has {written} bytes, expected {size}");
                buf.fill(POISON);
                file.read_exact(&mut buf).context("reading gdb's dump")?;
                verify(GDB, &buf)?;
                Ok(elapsed)
            })();
            let _ = std::fs::remove_file(&dump);
            let elapsed = result?;
            progress(i, opts.runs, GDB, size, elapsed);
            gdb_series.values.push(megabytes_per_second(elapsed));
        }
    }
    dbgkit_finish(session, opts.timeout)?;

    let mut rows = vec![Row::Measured(dbgkit), Row::Measured(raw_series)];
    let mut notes = Vec::new();
    match gdb {
        Ok(gdb) => {
            rows.push(Row::Measured(gdb_series));
            let how = if gdb.python {
                "gdb's Python times the `dump` command alone (time.perf_counter around gdb.execute)"
            } else {
                "gdb has no Python: its figure is a whole run minus the same run without `dump`"
            };
            notes.push(format!("{how}; gdb's figure includes writing the file ({})", dump.display()));
            notes.push(gdb::version(gdb));
        }
        Err(reason) => rows.push(Row::Skipped { name: GDB.into(), reason: reason.clone() }),
    }
    Ok(Report {
        name: NAME,
        measures: format!(
            "MB/s (10^6 bytes) reading the fixture's whole buffer while it is stopped, median of {} runs",
            opts.runs
        ),
        unit: "MB/s",
        work: "MiB",
        kind: Kind::Rate,
        decimals: 0,
        context: vec![
            fixture.build_line(),
            format!(
                "program: `bigmem {}`, stopped on a breakpoint at ready ({ready:#x}); buffer at rdi, size rsi",
                opts.mib
            ),
            "dbgkit: Session::read_memory; raw: process_vm_readv of the same range of the same process; \
             gdb: dump binary memory FILE $rdi $rdi+$rsi"
                .into(),
            "checked: every copy, word by word, against the pattern bigmem wrote".into(),
        ],
        rows,
        goals: vec![Goal::at_least(DBGKIT, RAW, 0.9), Goal::at_least(DBGKIT, GDB, 3.0)],
        notes,
        also: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn verify_finds_a_wrong_word() {
        let mut buf: Vec<u8> = (0..64u64).flat_map(|i| i.wrapping_mul(super::PATTERN).to_le_bytes()).collect();
        assert!(super::verify("t", &buf).is_ok());
        buf[8 * 40 + 3] ^= 1;
        let err = super::verify("t", &buf).unwrap_err().to_string();
        assert!(err.contains("word 40"), "{err}");
    }
}
