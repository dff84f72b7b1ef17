//! dbgkit-bench: the dbgkit engine next to raw ptrace loops and gdb, on the
//! same fixtures, its symbolizer next to binutils addr2line and
//! llvm-symbolizer, and its source-level debugging of a big program next to
//! gdb's, with every result checked before it is timed.
//!
//! Usage: dbgkit-bench [BENCHMARK...] [OPTIONS]; see `--help`.
//! With no benchmark named, all of them run. See docs/benchmarks.md.

mod attach;
mod breakpoints;
mod checkpoint;
mod core_write;
mod fixture;
mod gdb;
mod gdbserver;
mod kernel;
mod memory;
mod raw;
mod report;
mod run;
mod source;
mod steps;
mod symbolize;
mod triage;
mod windows;

use anyhow::{bail, Context, Result};
use std::time::Duration;

/// Settings shared by every benchmark.
pub struct Options {
    /// How many calls the fixture makes per run (hence the hits expected).
    pub calls: u64,
    /// The same for gdb, which is slow enough that the full count would
    /// dominate the whole benchmark's time.
    pub gdb_calls: u64,
    /// Single steps per run.
    pub steps: u64,
    /// The same for gdb (at most `steps`).
    pub gdb_steps: u64,
    /// The size of the buffer read by `memory`, in MiB.
    pub mib: u64,
    /// Threads of the process `attach` attaches to, the main one included.
    pub threads: usize,
    /// Addresses `symbolize` looks up per run.
    pub addresses: usize,
    /// Runs per contender; the median is reported.
    pub runs: usize,
    /// Time limit of one run, after which the target is killed.
    pub timeout: Duration,
    /// gdb, or why it is left out.
    pub gdb: Result<gdb::Gdb, String>,
    /// Where to pin the benchmark and everything it runs.
    pub pin: Pin,
    /// Crashing inputs `triage` runs dbgkit on.
    pub inputs: usize,
    /// The same for gdb and casr-gdb (one process per input: slow).
    pub gdb_inputs: usize,
    /// Whether `triage` installs (with cargo) and measures casr-gdb.
    pub casr: bool,
    /// gdbserver: breakpoint hits per gdb run through each server.
    pub server_calls: u64,
    /// gdbserver: `stepi` count per gdb run through each server.
    pub server_steps: u64,
}

/// CPU placement. On a small VM a ptrace stop that wakes the other side on
/// another CPU costs several times one that stays on the same CPU, and the
/// scheduler's choice changes from run to run: pinned, the figures are both
/// faster and steadier, and every contender is placed alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pin {
    /// The highest-numbered CPU the benchmark may run on.
    Default,
    Cpu(usize),
    /// Leave placement to the scheduler.
    Off,
}

const DEFAULT_CALLS: u64 = 200_000;
/// gdb manages a few thousand hits a second; this keeps one gdb run to seconds.
const DEFAULT_GDB_CALLS: u64 = 20_000;
const DEFAULT_STEPS: u64 = 100_000;
/// gdb manages a few thousand steps a second.
const DEFAULT_GDB_STEPS: u64 = 20_000;
const DEFAULT_MIB: u64 = 256;
const DEFAULT_THREADS: usize = 1000;
const DEFAULT_ADDRESSES: usize = 10_000;
const DEFAULT_RUNS: usize = 3;
const DEFAULT_TIMEOUT_SECS: u64 = 60;
const DEFAULT_INPUTS: usize = 1000;
/// gdb triages a few inputs a second; this keeps one gdb run under a minute.
const DEFAULT_GDB_INPUTS: usize = 100;
/// Through a remote stub gdb manages a few hundred to a few thousand hits
/// or steps a second; this keeps one run to seconds.
const DEFAULT_SERVER_CALLS: u64 = 5_000;
const DEFAULT_SERVER_STEPS: u64 = 5_000;

type Benchmark = fn(&Options) -> Result<report::Report>;

/// Every benchmark, in the order a full run takes them.
const BENCHMARKS: &[(&str, Benchmark)] = &[
    (breakpoints::NAME, breakpoints::run),
    (steps::NAME, steps::run),
    (memory::NAME, memory::run),
    (attach::NAME, attach::run),
    (core_write::NAME, core_write::run),
    (checkpoint::NAME, checkpoint::run),
    (symbolize::NAME, symbolize::run),
    (triage::NAME, triage::run),
    (source::NAME, source::run),
];

/// Benchmarks run only when named: they need what scripts/qemu-kernel fetches, or tools beyond gdb.
const ON_REQUEST: &[(&str, Benchmark)] =
    &[(kernel::NAME, kernel::run), (gdbserver::NAME, gdbserver::run), (windows::NAME, windows::run)];

const USAGE: &str = "\
usage: dbgkit-bench [BENCHMARK...] [OPTIONS]

Benchmarks (all of them when none is named), dbgkit vs raw ptrace vs gdb:
  breakpoints        breakpoint hits/s (raw: out-of-line and classic loops)
  steps              single steps/s
  memory             MB/s reading a stopped program's memory
  attach             ms to attach to a running process with many threads
  core               ms to write the core of a stopped program (raw: the
                     same bytes copied with process_vm_readv; gdb: gcore)
  checkpoint         ms to restore a checkpoint of a program with 10 MiB of
                     touched memory, next to launching it to the same point
and dbgkit vs binutils addr2line vs llvm-symbolizer:
  symbolize          s and peak MiB to symbolize addresses of a large binary
                     (the debug build of dbgkit itself)
and dbgkit vs a gdb per input (vs casr-gdb with --casr):
  triage             crashing inputs triaged per second
and dbgkit vs gdb on dbgkit's debug build:
  source             s and peak MiB to stop at a source line, then the stack
                     and the variables of 10 frames
and, only when named, with gdb as the client of both:
  gdbserver          dbgkit-gdbserver vs stock gdbserver: breakpoint hits/s
                     (commands; silent; continue), single steps/s (stepi),
                     and hits/s of a false condition the server evaluates
and, only when named (Wine and mingw-w64, from scripts/windows-setup), on a
Windows program, dbgkit through dbgkit-winstub vs a raw Win32 debug loop vs gdb:
  windows            breakpoint hits/s (raw: the classic trap-flag step-over)
and, only when named (the kernel of scripts/qemu-kernel, ~930 MB), dbgkit vs gdb
against the same kernel in QEMU:
  kernel             s from connecting to the first hit of a breakpoint by name,
                     and MB/s reading kernel memory through the stub

Options:
  --calls N          breakpoints: calls (breakpoint hits) per run [200000]
  --gdb-calls N      breakpoints: calls per gdb run [min(calls, 20000)]
  --steps N          steps: single steps per run [100000]
  --gdb-steps N      steps: single steps per gdb run [min(steps, 20000)]
  --mib N            memory, core: MiB of the program's buffer [256]
  --threads N        attach: threads of the process, the main one included [1000]
  --addresses N      symbolize: addresses looked up per run [10000]
  --inputs N         triage: crashing inputs for dbgkit [1000]
  --gdb-inputs N     triage: inputs for gdb and casr-gdb [min(inputs, 100)]
  --casr             triage: install casr with cargo (once) and measure casr-gdb
  --server-calls N   gdbserver, windows: breakpoint hits per run [5000]
  --server-steps N   gdbserver: single steps per run [5000]
  --runs R           runs per contender; the median is reported [3]
  --timeout SECS     time limit of one run [60]
  --cpu N            pin the benchmark and all it runs to CPU N [the last one allowed]
  --no-pin           let the scheduler place everything
  --no-gdb           do not measure gdb even if it is installed
  -h, --help         this text";

/// The benchmarks to run, the options, and whether gdb is wanted.
fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Option<(Vec<Benchmark>, Options)>> {
    let mut selected: Vec<Benchmark> = Vec::new();
    let mut calls = DEFAULT_CALLS;
    let mut gdb_calls = None;
    let mut steps = DEFAULT_STEPS;
    let mut gdb_steps = None;
    let mut mib = DEFAULT_MIB;
    let mut threads = DEFAULT_THREADS as u64;
    let mut addresses = DEFAULT_ADDRESSES as u64;
    let mut runs = DEFAULT_RUNS;
    let mut timeout = DEFAULT_TIMEOUT_SECS;
    let mut gdb = true;
    let mut pin = Pin::Default;
    let mut inputs = DEFAULT_INPUTS as u64;
    let mut gdb_inputs = None;
    let mut casr = false;
    let mut server_calls = DEFAULT_SERVER_CALLS;
    let mut server_steps = DEFAULT_SERVER_STEPS;
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
            "--steps" => steps = value("--steps")?,
            "--gdb-steps" => gdb_steps = Some(value("--gdb-steps")?),
            "--mib" => mib = value("--mib")?,
            "--threads" => threads = value("--threads")?,
            "--addresses" => addresses = value("--addresses")?,
            "--runs" => runs = value("--runs")? as usize,
            "--server-calls" => server_calls = value("--server-calls")?,
            "--server-steps" => server_steps = value("--server-steps")?,
            "--timeout" => timeout = value("--timeout")?,
            "--no-gdb" => gdb = false,
            "--inputs" => inputs = value("--inputs")?,
            "--gdb-inputs" => gdb_inputs = Some(value("--gdb-inputs")?),
            "--casr" => casr = true,
            "--cpu" => pin = Pin::Cpu(value("--cpu")? as usize),
            "--no-pin" => pin = Pin::Off,
            _ if flag.starts_with('-') => bail!("unknown option `{arg}`\n\n{USAGE}"),
            name => match BENCHMARKS.iter().chain(ON_REQUEST).find(|(n, _)| *n == name) {
                Some((_, bench)) => selected.push(*bench),
                None => bail!("unknown benchmark `{name}`\n\n{USAGE}"),
            },
        }
    }
    if runs == 0 {
        bail!("--runs must be at least 1");
    }
    if steps == 0 || mib == 0 || threads == 0 || addresses == 0 || server_calls == 0 || server_steps == 0 {
        bail!("--steps, --mib, --threads, --addresses, --server-calls and --server-steps must be at least 1");
    }
    if inputs == 0 || inputs > 1_000_000 || gdb_inputs == Some(0) {
        bail!("--inputs must be between 1 and 1000000, --gdb-inputs at least 1");
    }
    if mib > 1 << 20 || threads > 100_000 || addresses > 100_000_000 {
        bail!("--mib, --threads or --addresses is unreasonably large");
    }
    let gdb_steps = gdb_steps.unwrap_or(steps.min(DEFAULT_GDB_STEPS));
    if gdb_steps == 0 || gdb_steps > steps {
        bail!("--gdb-steps must be between 1 and --steps ({steps}): gdb's end point is checked against the raw run's");
    }
    if selected.is_empty() {
        selected = BENCHMARKS.iter().map(|(_, b)| *b).collect();
    }
    let gdb_calls = gdb_calls.unwrap_or(calls.min(DEFAULT_GDB_CALLS));
    let options = Options {
        calls,
        gdb_calls,
        steps,
        gdb_steps,
        mib,
        threads: threads as usize,
        addresses: addresses as usize,
        runs,
        timeout: Duration::from_secs(timeout),
        gdb: Err(if gdb { "not looked up yet" } else { "--no-gdb" }.into()),
        pin,
        inputs: inputs as usize,
        gdb_inputs: gdb_inputs.unwrap_or(inputs.min(DEFAULT_GDB_INPUTS as u64)) as usize,
        casr,
        server_calls,
        server_steps,
    };
    Ok(Some((selected, options)))
}

/// Pins the calling thread, before it starts any thread or program (they
/// all inherit its CPU set), to one CPU; returns which.
fn pin(pin: Pin) -> Result<Option<usize>> {
    if pin == Pin::Off {
        return Ok(None);
    }
    // SAFETY: cpu_set_t is plain data; sched_getaffinity fills it.
    let mut allowed: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    let size = std::mem::size_of::<libc::cpu_set_t>();
    // SAFETY: `allowed` is a valid cpu_set_t of `size` bytes.
    if unsafe { libc::sched_getaffinity(0, size, &mut allowed) } != 0 {
        return Err(std::io::Error::last_os_error()).context("sched_getaffinity");
    }
    // SAFETY: CPU_ISSET reads inside the set for any cpu < CPU_SETSIZE.
    let usable: Vec<usize> =
        (0..libc::CPU_SETSIZE as usize).filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &allowed) }).collect();
    let cpu = match pin {
        Pin::Cpu(cpu) if usable.contains(&cpu) => cpu,
        Pin::Cpu(cpu) => bail!("--cpu {cpu}: this process may only run on CPUs {usable:?}"),
        _ => *usable.last().context("no CPU allowed")?,
    };
    // SAFETY: as above; CPU_SET writes inside the set.
    let mut only: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    unsafe { libc::CPU_SET(cpu, &mut only) };
    // SAFETY: `only` is a valid cpu_set_t of `size` bytes.
    if unsafe { libc::sched_setaffinity(0, size, &only) } != 0 {
        return Err(std::io::Error::last_os_error()).with_context(|| format!("pinning to CPU {cpu}"));
    }
    Ok(Some(cpu))
}

fn main() {
    let (benchmarks, mut options) = match parse_args(std::env::args().skip(1)) {
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
    if options.gdb.as_ref().is_err_and(|e| e != "--no-gdb") {
        options.gdb = gdb::find().ok_or_else(|| "gdb not found on PATH".to_string());
    }
    match pin(options.pin) {
        Ok(Some(cpu)) => println!(
            "dbgkit-bench: pinned to CPU {cpu} with every program it runs, debuggers and targets alike \
             (--no-pin to let them move)\n"
        ),
        Ok(None) => println!("dbgkit-bench: not pinned: the scheduler places debuggers and targets (--no-pin)\n"),
        Err(e) => {
            eprintln!("dbgkit-bench: {e:#}");
            std::process::exit(2);
        }
    }
    let started = std::time::Instant::now();
    // A missed goal is a result, not a failure; only a wrong count, a wrong
    // output or a broken run makes the exit status non-zero.
    let mut failed = false;
    for bench in benchmarks {
        match bench(&options) {
            Ok(report) => {
                report.print();
                // Progress goes to stderr as it happens; keep each report next to it.
                let _ = std::io::Write::flush(&mut std::io::stdout());
            }
            Err(e) => {
                eprintln!("dbgkit-bench: FAILED: {e:#}");
                failed = true;
            }
        }
    }
    eprintln!("dbgkit-bench: finished in {:.0} s", started.elapsed().as_secs_f64());
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
        assert_eq!((o.calls, o.gdb_calls, o.runs), (DEFAULT_CALLS, DEFAULT_GDB_CALLS, 3));
        assert_eq!((o.steps, o.gdb_steps, o.mib, o.threads, o.addresses), (100_000, 20_000, 256, 1000, 10_000));
        assert_eq!(o.pin, Pin::Default);
        assert!(o.gdb.is_err_and(|e| e != "--no-gdb"));
        let (benches, o) = parse(&["breakpoints", "--calls", "500", "--runs=5", "--no-gdb"]).unwrap().unwrap();
        assert_eq!(benches.len(), 1);
        assert_eq!((o.calls, o.gdb_calls, o.runs), (500, 500, 5));
        assert!(o.gdb.is_err_and(|e| e == "--no-gdb"));
        let (benches, o) = parse(&["steps", "attach", "--steps=300", "--threads", "8"]).unwrap().unwrap();
        assert_eq!(benches.len(), 2);
        assert_eq!((o.steps, o.gdb_steps, o.threads), (300, 300, 8));
        let (benches, o) = parse(&["symbolize", "--addresses=500"]).unwrap().unwrap();
        assert_eq!((benches.len(), o.addresses), (1, 500));
        assert!(parse(&["--addresses", "0"]).is_err());
        assert_eq!(parse(&["--cpu", "1"]).unwrap().unwrap().1.pin, Pin::Cpu(1));
        assert_eq!(parse(&["--no-pin"]).unwrap().unwrap().1.pin, Pin::Off);
        let (_, o) = parse(&["triage", "--inputs", "300", "--casr"]).unwrap().unwrap();
        assert_eq!((o.inputs, o.gdb_inputs, o.casr), (300, 100, true));
        let (_, o) = parse(&["triage", "--inputs=50"]).unwrap().unwrap();
        assert_eq!((o.inputs, o.gdb_inputs, o.casr), (50, 50, false));
        assert!(parse(&["--gdb-inputs", "0"]).is_err());
        assert!(parse(&["nope"]).is_err());
        assert!(parse(&["--calls"]).is_err());
        assert!(parse(&["--runs", "0"]).is_err());
        assert!(parse(&["--steps", "10", "--gdb-steps", "11"]).is_err());
        assert!(parse(&["--help"]).unwrap().is_none());
    }
}
