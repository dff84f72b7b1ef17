//! dbgkit-bench: throughput of the dbgkit engine next to a raw ptrace loop and
//! gdb, on the same fixture, with every result checked before it is timed.
//!
//! Usage: dbgkit-bench [BENCHMARK...] [--calls N] [--gdb-calls N] [--runs R]
//!                     [--timeout SECS] [--no-gdb]
//! With no benchmark named, all of them run. See docs/benchmarks.md.

mod breakpoints;
mod fixture;
mod gdb;
mod raw_ptrace;
mod report;
mod run;

use anyhow::{bail, Context, Result};
use std::time::Duration;

/// Settings shared by every benchmark.
pub struct Options {
    /// How many calls the fixture makes per run (hence the hits expected).
    pub calls: u64,
    /// The same for gdb, which is slow enough that the full count would
    /// dominate the whole benchmark's time.
    pub gdb_calls: u64,
    /// Runs per debugger; the median is reported.
    pub runs: usize,
    /// Time limit of one run, after which the target is killed.
    pub timeout: Duration,
    /// Whether to measure gdb when it is installed.
    pub gdb: bool,
}

const DEFAULT_CALLS: u64 = 200_000;
/// gdb manages a few thousand hits a second; this keeps one gdb run to seconds.
const DEFAULT_GDB_CALLS: u64 = 20_000;
const DEFAULT_RUNS: usize = 3;
const DEFAULT_TIMEOUT_SECS: u64 = 60;

type Benchmark = fn(&Options) -> Result<report::Report>;

/// Every benchmark, in the order a full run takes them.
const BENCHMARKS: &[(&str, Benchmark)] = &[(breakpoints::NAME, breakpoints::run)];

const USAGE: &str = "\
usage: dbgkit-bench [BENCHMARK...] [OPTIONS]

Benchmarks (all of them when none is named):
  breakpoints        breakpoint hits/s: dbgkit vs a raw ptrace loop vs gdb

Options:
  --calls N          calls (breakpoint hits) per run of the fixture [200000]
  --gdb-calls N      calls per gdb run [min(calls, 20000)]
  --runs R           runs per debugger; the median is reported [3]
  --timeout SECS     time limit of one run [60]
  --no-gdb           do not measure gdb even if it is installed
  -h, --help         this text";

/// The benchmarks to run, and the options.
fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Option<(Vec<Benchmark>, Options)>> {
    let mut selected: Vec<Benchmark> = Vec::new();
    let mut calls = DEFAULT_CALLS;
    let mut gdb_calls = None;
    let mut runs = DEFAULT_RUNS;
    let mut timeout = DEFAULT_TIMEOUT_SECS;
    let mut gdb = true;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        // Both `--calls N` and `--calls=N`.
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| -> Result<u64> {
            let text = inline.clone().or_else(|| args.next()).with_context(|| format!("{name} needs a value"))?;
            text.parse().with_context(|| format!("{name}: `{text}` is not a number"))
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--calls" => calls = value("--calls")?,
            "--gdb-calls" => gdb_calls = Some(value("--gdb-calls")?),
            "--runs" => runs = value("--runs")? as usize,
            "--timeout" => timeout = value("--timeout")?,
            "--no-gdb" => gdb = false,
            _ if flag.starts_with('-') => bail!("unknown option `{arg}`\n\n{USAGE}"),
            name => match BENCHMARKS.iter().find(|(n, _)| *n == name) {
                Some((_, bench)) => selected.push(*bench),
                None => bail!("unknown benchmark `{name}`\n\n{USAGE}"),
            },
        }
    }
    if runs == 0 {
        bail!("--runs must be at least 1");
    }
    if selected.is_empty() {
        selected = BENCHMARKS.iter().map(|(_, b)| *b).collect();
    }
    let gdb_calls = gdb_calls.unwrap_or(calls.min(DEFAULT_GDB_CALLS));
    Ok(Some((selected, Options { calls, gdb_calls, runs, timeout: Duration::from_secs(timeout), gdb })))
}

fn main() {
    let (benchmarks, options) = match parse_args(std::env::args().skip(1)) {
        Ok(Some(parsed)) => parsed,
        Ok(None) => {
            println!("{USAGE}");
            return;
        }
        Err(e) => {
            eprintln!("dbgkit-bench: {e:#}");
            std::process::exit(2);
        }
    };
    // A missed goal is a result, not a failure; only a wrong count, a wrong
    // output or a broken run makes the exit status non-zero.
    let mut failed = false;
    for bench in benchmarks {
        match bench(&options) {
            Ok(report) => report.print(),
            Err(e) => {
                eprintln!("dbgkit-bench: FAILED: {e:#}");
                failed = true;
            }
        }
    }
    if failed {
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Option<(Vec<Benchmark>, Options)>> {
        parse_args(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn defaults_and_flags() {
        let (benches, o) = parse(&[]).unwrap().unwrap();
        assert_eq!(benches.len(), BENCHMARKS.len());
        assert_eq!((o.calls, o.gdb_calls, o.runs, o.gdb), (200_000, 20_000, 3, true));
        let (benches, o) = parse(&["breakpoints", "--calls", "500", "--runs=5", "--no-gdb"]).unwrap().unwrap();
        assert_eq!(benches.len(), 1);
        assert_eq!((o.calls, o.gdb_calls, o.runs, o.gdb), (500, 500, 5, false));
        assert!(parse(&["nope"]).is_err());
        assert!(parse(&["--calls"]).is_err());
        assert!(parse(&["--runs", "0"]).is_err());
        assert!(parse(&["--help"]).unwrap().is_none());
    }
}
