//! Writing a core: how fast a debugger snapshots a stopped program with
//! 256 MiB of touched memory into an ELF core file. Fixture `bigmem` fills a
//! buffer with a known pattern and calls `ready(buffer, size)`; dbgkit
//! (`Session::write_core`) and gdb (`gcore`) write a core there, and the
//! floor copies the same memory into a file with `process_vm_readv` and
//! `write`, nothing else. Every core is opened with dbgkit's reader and its
//! copy of the buffer checked word by word.

use crate::fixture;
use crate::memory::{dbgkit_finish, dbgkit_start, dump_file, PATTERN};
use crate::report::{Goal, Kind, Report, Row, Series};
use crate::{gdb, raw, Options};
use anyhow::{ensure, Context, Result};
use dbgkit::corefile::CoreFile;
use std::path::Path;
use std::time::{Duration, Instant};

pub const NAME: &str = "core";

const DBGKIT: &str = "dbgkit";
const RAW: &str = "raw";
const GDB: &str = "gdb";

/// Opens a core and checks the buffer at the `rdi` of the thread stopped at
/// `ready` (the first thread: the one at the event) against the pattern.
fn verify_core(what: &str, path: &Path, size: u64) -> Result<()> {
    let core = CoreFile::open(path).with_context(|| format!("{what}: opening its core with dbgkit's reader"))?;
    let regs = &core.threads()[0].registers;
    ensure!(regs.rsi == size, "{what}: the core's first thread has rsi {} (the size), expected {size}", regs.rsi);
    let mut chunk = vec![0u8; 4 << 20];
    let mut word_index = 0u64;
    let mut at = regs.rdi;
    while at < regs.rdi + size {
        let n = (chunk.len() as u64).min(regs.rdi + size - at) as usize;
        core.read_memory_exact(at, &mut chunk[..n]).with_context(|| format!("{what}: reading the buffer"))?;
        for word in chunk[..n].chunks_exact(8) {
            let value = u64::from_le_bytes(word.try_into().expect("8 bytes"));
            let expected = word_index.wrapping_mul(PATTERN);
            ensure!(
                value == expected,
                "{what}: word {word_index} of the core's buffer is {value:#x}, expected {expected:#x}"
            );
            word_index += 1;
        }
        at += n as u64;
    }
    Ok(())
}

/// The ranges a core holds the bytes of: readable mappings but the kernel's special ones.
fn dumped_ranges(pid: i32) -> Result<Vec<(u64, u64)>> {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).context("reading the memory map")?;
    let mut ranges = Vec::new();
    for line in maps.lines() {
        let mut fields = line.split_whitespace();
        let (Some(range), Some(perms)) = (fields.next(), fields.next()) else { continue };
        let path = fields.nth(3).unwrap_or("");
        if !perms.starts_with('r') || path.starts_with("[v") {
            continue;
        }
        let (start, end) = range.split_once('-').context("a maps line without a range")?;
        ranges.push((u64::from_str_radix(start, 16)?, u64::from_str_radix(end, 16)?));
    }
    Ok(ranges)
}

fn progress(run_index: usize, runs: usize, tool: &str, bytes: u64, elapsed: Duration) {
    eprintln!(
        "  run {}/{runs}  {tool:<8} {:>5} MiB in {:>7.3} s  {:>10.0} MB/s",
        run_index + 1,
        bytes >> 20,
        elapsed.as_secs_f64(),
        bytes as f64 / elapsed.as_secs_f64() / 1e6
    );
}

pub fn run(opts: &Options) -> Result<Report> {
    let fixture = fixture::build("bigmem")?;
    let ready = fixture.symbol_address("ready")?;
    let work_dir = fixture::work_dir()?;
    let size = opts.mib << 20;
    let args = [opts.mib.to_string()];
    let gdb = opts.gdb.as_ref();
    let file = dump_file()?.with_extension("core");

    let (mut session, pid, address) = dbgkit_start(&fixture, &args, ready, size, opts.timeout)?;
    let ranges = dumped_ranges(pid)?;
    let mut dbgkit = Series::new(DBGKIT, opts.mib);
    let mut raw_series = Series::new(RAW, opts.mib);
    let mut gdb_series = Series::new(GDB, opts.mib);
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let (mut dbgkit_bytes, mut raw_bytes, mut gdb_size) = (0, 0, 0);
    eprintln!("{NAME}: {} runs of each; {} MiB buffer at {address:#x}", opts.runs, opts.mib);
    for i in 0..opts.runs {
        let _ = std::fs::remove_file(&file);
        let start = Instant::now();
        let written = session.write_core(pid, &file).context("dbgkit: write_core")?;
        let elapsed = start.elapsed();
        verify_core(DBGKIT, &file, size)?;
        dbgkit_bytes = written.memory_bytes;
        progress(i, opts.runs, DBGKIT, written.memory_bytes, elapsed);
        dbgkit.values.push(ms(elapsed));

        let _ = std::fs::remove_file(&file);
        let (elapsed, copied) = raw::core_copy::copy_ranges(pid, &ranges, &file)?;
        raw_bytes = copied;
        progress(i, opts.runs, RAW, copied, elapsed);
        raw_series.values.push(ms(elapsed));

        if let Ok(gdb) = gdb {
            let _ = std::fs::remove_file(&file);
            let elapsed = gdb::gcore(gdb, &fixture.path, &args, ready, &file, &work_dir, opts.timeout)?;
            verify_core(GDB, &file, size)?;
            gdb_size = std::fs::metadata(&file)?.len();
            progress(i, opts.runs, GDB, gdb_size, elapsed);
            gdb_series.values.push(ms(elapsed));
        }
    }
    let _ = std::fs::remove_file(&file);
    // The floor must have copied what dbgkit's core holds (within a page or two of special mappings).
    ensure!(
        raw_bytes.abs_diff(dbgkit_bytes) <= dbgkit_bytes / 100,
        "the floor copied {raw_bytes} bytes, dbgkit's core holds {dbgkit_bytes}"
    );
    dbgkit_finish(session, opts.timeout)?;

    let mut rows = vec![Row::Measured(dbgkit), Row::Measured(raw_series)];
    let mut notes = vec![format!(
        "bytes of memory: dbgkit's core {dbgkit_bytes}, the floor's copy {raw_bytes}{}",
        if gdb_size > 0 { format!(", gdb's core file {gdb_size}") } else { String::new() }
    )];
    match gdb {
        Ok(gdb) => {
            rows.push(Row::Measured(gdb_series));
            let how = if gdb.python {
                "gdb's Python times the `gcore` command alone (time.perf_counter around gdb.execute)"
            } else {
                "gdb has no Python: its figure is a whole run minus the same run without `gcore`"
            };
            notes.push(how.into());
            notes.push(gdb::version(gdb));
        }
        Err(reason) => rows.push(Row::Skipped { name: GDB.into(), reason: reason.clone() }),
    }
    Ok(Report {
        name: NAME,
        measures: format!(
            "milliseconds to write the core of a stopped program with {} MiB of touched memory, median of {} runs",
            opts.mib, opts.runs
        ),
        unit: "ms",
        work: "MiB",
        kind: Kind::Time,
        decimals: 1,
        context: vec![
            fixture.build_line(),
            format!(
                "program: `bigmem {}`, stopped on a breakpoint at ready ({ready:#x}); buffer at rdi, size rsi",
                opts.mib
            ),
            format!(
                "dbgkit: Session::write_core; raw: process_vm_readv + write of every readable mapping into one \
                 file (the floor); gdb: gcore; all into {}",
                file.display()
            ),
            "checked: dbgkit's and gdb's cores opened with dbgkit's reader, the buffer compared word by word".into(),
        ],
        rows,
        goals: vec![Goal::at_most(DBGKIT, GDB, 0.2), Goal::at_most(DBGKIT, RAW, 2.0)],
        notes,
        also: Vec::new(),
    })
}
