//! Crash triage of many crashing inputs: the engine's `dbgkit::triage`
//! (launch, catch the first fault, unwind, symbolize, classify, in one
//! session reused for every input) next to what people run otherwise, one
//! gdb per input (`gdb -batch -ex run -ex bt`, what CERT's exploitable and
//! casr-gdb do), and casr-gdb itself when it can be installed with cargo.
//! Every contender runs its inputs one after the other; every result is
//! checked (dbgkit's class of each input, gdb's signal and backtrace, casr's
//! report file) before its time counts.

use crate::fixture;
use crate::report::{Goal, Kind, Report, Row, Series};
use crate::Options;
use anyhow::{ensure, Context, Result};
use dbgkit::triage::{self, Outcome, RunOptions};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub const NAME: &str = "triage";

const DBGKIT: &str = "dbgkit";
const GDB: &str = "gdb -batch loop";
const CASR: &str = "casr-gdb";

/// The bugs the inputs cycle through (first byte of `tests/fixtures/triage.c`'s
/// input, and the class dbgkit must find).
const BUGS: &[(&str, &str)] = &[
    ("N", "read-near-null"),
    ("W", "write-near-null"),
    ("PAAAAAAAA", "write-input-address"),
    ("D0", "division-by-zero"),
    ("H", "heap-corruption"),
    ("Axx", "assertion"),
];

/// Writes `n` crashing inputs (the bugs in turn, each input a little different).
fn write_inputs(dir: &Path, n: usize) -> Result<Vec<(PathBuf, &'static str)>> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    (0..n)
        .map(|i| {
            let (prefix, class) = BUGS[i % BUGS.len()];
            let path = dir.join(format!("input-{i:05}"));
            std::fs::write(&path, format!("{prefix}{i}")).with_context(|| format!("writing {}", path.display()))?;
            Ok((path, class))
        })
        .collect()
}

/// dbgkit on every input; checks each record's class.
fn run_dbgkit(program: &Path, inputs: &[(PathBuf, &str)], limit: Duration) -> Result<Duration> {
    let mut options = RunOptions::new([program.as_os_str(), "@@".as_ref()]);
    options.timeout = limit;
    let paths: Vec<PathBuf> = inputs.iter().map(|(p, _)| p.clone()).collect();
    let start = Instant::now();
    let records = triage::run_inputs(&options, &paths, 1, |_| {});
    let elapsed = start.elapsed();
    for (record, (path, class)) in records.iter().zip(inputs) {
        let got = record.analysis.as_ref().map(|a| a.class.id());
        ensure!(
            record.outcome == Outcome::Crash && got.as_deref() == Some(*class),
            "dbgkit: {} should be a {class} crash, got {:?} {got:?}",
            path.display(),
            record.outcome
        );
    }
    Ok(elapsed)
}

/// One gdb per input, each checked for the signal and a backtrace.
fn run_gdb(gdb: &Path, program: &Path, inputs: &[(PathBuf, &str)]) -> Result<Duration> {
    let start = Instant::now();
    for (path, _) in inputs {
        let out = Command::new(gdb)
            .args(["-batch", "-nx", "-ex", "run", "-ex", "bt", "--args"])
            .arg(program)
            .arg(path)
            .env_remove("DEBUGINFOD_URLS")
            .stdin(Stdio::null())
            .output()
            .context("running gdb")?;
        let text = String::from_utf8_lossy(&out.stdout);
        ensure!(
            text.contains("received signal") && text.lines().any(|l| l.starts_with("#0")),
            "gdb did not stop at the crash of {}:\n{text}",
            path.display()
        );
    }
    Ok(start.elapsed())
}

/// One casr-gdb per input, each leaving its report.
fn run_casr(casr: &Path, program: &Path, inputs: &[(PathBuf, &str)], work: &Path) -> Result<Duration> {
    let start = Instant::now();
    for (i, (path, _)) in inputs.iter().enumerate() {
        let report = work.join(format!("casr-{i}.casrep"));
        let out = Command::new(casr)
            .arg("-o")
            .arg(&report)
            .arg("--")
            .arg(program)
            .arg(path)
            .stdin(Stdio::null())
            .output()
            .context("running casr-gdb")?;
        ensure!(
            report.is_file(),
            "casr-gdb left no report for {} ({}):\n{}",
            path.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(start.elapsed())
}

/// casr-gdb: on PATH, in the benchmark's own cargo root, or installed there
/// now with `cargo install casr` (crates.io must be reachable).
fn casr_gdb(work: &Path) -> Result<PathBuf, String> {
    if let Some(found) = fixture::find_on_path(CASR) {
        return Ok(found);
    }
    let root = work.join("casr");
    let installed = root.join("bin").join(CASR);
    if installed.is_file() {
        return Ok(installed);
    }
    eprintln!("dbgkit-bench: installing casr with `cargo install casr --root {}` (once)", root.display());
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(["install", "--quiet", "casr", "--root"])
        .arg(&root)
        .stdin(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run cargo install: {e}"))?;
    if !status.success() || !installed.is_file() {
        return Err(format!("`cargo install casr` failed ({status})"));
    }
    Ok(installed)
}

pub fn run(options: &Options) -> Result<Report> {
    let program = dbgkit_fixtures::path("triage");
    let work = fixture::work_dir()?;
    let inputs = write_inputs(&work.join("triage-inputs"), options.inputs)?;
    let gdb_inputs = &inputs[..options.gdb_inputs.min(inputs.len())];
    let casr = if options.casr { Some(casr_gdb(&work)) } else { None };

    let mut dbgkit = Series::new(DBGKIT, inputs.len() as u64);
    let mut gdb = Series::new(GDB, gdb_inputs.len() as u64);
    let mut casr_series = Series::new(CASR, gdb_inputs.len() as u64);
    for run in 0..options.runs {
        eprintln!("dbgkit-bench: triage run {}/{}", run + 1, options.runs);
        let t = run_dbgkit(&program, &inputs, options.timeout)?;
        dbgkit.values.push(inputs.len() as f64 / t.as_secs_f64());
        if let Ok(g) = &options.gdb {
            let t = run_gdb(&g.path, &program, gdb_inputs)?;
            gdb.values.push(gdb_inputs.len() as f64 / t.as_secs_f64());
        }
        if let Some(Ok(casr)) = &casr {
            let t = run_casr(casr, &program, gdb_inputs, &work)?;
            casr_series.values.push(gdb_inputs.len() as f64 / t.as_secs_f64());
        }
    }
    let mut rows = vec![Row::Measured(dbgkit)];
    rows.push(match &options.gdb {
        Ok(_) => Row::Measured(gdb),
        Err(reason) => Row::Skipped { name: GDB.into(), reason: reason.clone() },
    });
    rows.push(match casr {
        Some(Ok(_)) => Row::Measured(casr_series),
        Some(Err(reason)) => Row::Skipped { name: CASR.into(), reason },
        None => Row::Skipped { name: CASR.into(), reason: "not asked for (--casr installs and measures it)".into() },
    });
    let mut context = vec![
        format!("program: {} (tests/fixtures/triage.c), input by path (@@)", program.display()),
        format!(
            "inputs: {} crashing ones for dbgkit, the first {} for gdb and casr-gdb; one run at a time for all",
            inputs.len(),
            gdb_inputs.len()
        ),
        format!("bugs, in turn: {}", BUGS.iter().map(|(_, c)| *c).collect::<Vec<_>>().join(", ")),
    ];
    if let Ok(g) = &options.gdb {
        context.push(crate::gdb::version(g));
    }
    Ok(Report {
        name: NAME,
        measures:
            "crashing inputs triaged per second (launch, stop at the crash, stack; dbgkit also classifies and hashes)"
                .into(),
        unit: "inputs/s",
        work: "inputs",
        kind: Kind::Rate,
        decimals: 1,
        context,
        rows,
        goals: vec![Goal::at_least(DBGKIT, GDB, 20.0), Goal::at_least(DBGKIT, CASR, 20.0)],
        notes: vec![],
        also: vec![],
    })
}
