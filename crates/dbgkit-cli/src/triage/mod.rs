//! `dbgkit triage`: runs a program on many inputs, analyses every crash
//! (with the engine's `dbgkit::triage`), and prints the bugs they are,
//! ranked and deduplicated.

mod progress;
mod summary;

use anyhow::{bail, Context, Result};
use dbgkit::triage::{self, RunOptions};
use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(clap::Args)]
#[command(after_help = "Examples:\n  \
    dbgkit triage --inputs crashes/ -- ./parser @@\n  \
    ls crashes/* | dbgkit triage --jobs 4 --json triage.json -- ./parser --stdin-mode")]
pub struct TriageArgs {
    /// A directory of inputs (every file in it); without it, input paths are read from standard input, one a line.
    #[arg(long, value_name = "DIR")]
    inputs: Option<PathBuf>,
    /// Runs at a time [default: the number of CPUs].
    #[arg(long, short = 'j', value_name = "N")]
    jobs: Option<usize>,
    /// Time limit of one run, in seconds; a run that takes longer is a hang.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    timeout: f64,
    /// Write every record and the clusters as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Frames that make the stack hash.
    #[arg(long, value_name = "N", default_value_t = triage::DEFAULT_HASH_FRAMES)]
    frames: usize,
    /// Analyse the core files in DIR (of PROGRAM) instead of running inputs.
    #[arg(long, value_name = "DIR")]
    cores: Option<PathBuf>,
    /// Print the table only, not the representative report of each cluster.
    #[arg(long)]
    brief: bool,
    /// Keep address-space randomisation on (it is off by default, as in gdb).
    #[arg(long)]
    aslr: bool,
    /// Debug the processes the program starts too: a child that crashes
    /// makes the run a crash (a forking server whose worker faults).
    #[arg(long, short = 'f')]
    follow_forks: bool,
    /// The program and its arguments; `@@` stands for the input's path, otherwise the input goes to standard input.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "PROGRAM ARGS")]
    program: Vec<String>,
}

pub fn run(args: TriageArgs) -> Result<i32> {
    if let Some(dir) = &args.cores {
        return run_cores(&args, dir);
    }
    if args.program.is_empty() {
        bail!("no program: dbgkit triage [OPTIONS] -- PROGRAM ARGS... (`@@` for the input's path)");
    }
    if !(args.timeout > 0.0 && args.timeout.is_finite()) {
        bail!("--timeout must be a positive number of seconds, not {}", args.timeout);
    }
    if args.frames == 0 {
        bail!("--frames must be at least 1");
    }
    let inputs = match &args.inputs {
        Some(dir) => inputs_in(dir)?,
        None => {
            if std::io::stdin().is_terminal() {
                bail!("no inputs: give --inputs DIR, or input paths on standard input");
            }
            std::io::stdin()
                .lock()
                .lines()
                .map(|l| l.map(|l| PathBuf::from(l.trim())))
                .filter(|l| l.as_ref().map_or(true, |p| !p.as_os_str().is_empty()))
                .collect::<std::io::Result<Vec<_>>>()
                .context("reading input paths from standard input")?
        }
    };
    if inputs.is_empty() {
        bail!("no inputs to run");
    }
    let jobs = match args.jobs {
        Some(0) => bail!("--jobs must be at least 1"),
        Some(n) => n,
        None => std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
    };
    let mut options = RunOptions::new(&args.program);
    options.timeout = Duration::from_secs_f64(args.timeout);
    options.hash_frames = args.frames;
    options.disable_aslr = !args.aslr;
    options.follow_children = args.follow_forks;

    let started = Instant::now();
    let mut bar = progress::Progress::new(inputs.len(), std::io::stderr().is_terminal());
    let records = triage::run_inputs(&options, &inputs, jobs, |record| bar.add(record));
    bar.finish();
    let clusters = triage::cluster(&records);
    let mut out = std::io::stdout().lock();
    summary::print(&mut out, &records, &clusters, started.elapsed(), jobs, !args.brief)?;
    if let Some(path) = &args.json {
        std::fs::write(path, triage::triage_to_json(&records, &clusters))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(0)
}

/// `--cores DIR PROGRAM`: every core in DIR analysed, clustered and summed up.
fn run_cores(args: &TriageArgs, dir: &std::path::Path) -> Result<i32> {
    let program = match args.program.as_slice() {
        [program] => PathBuf::from(program),
        [] => bail!("no program: dbgkit triage --cores DIR PROGRAM"),
        more => bail!("--cores takes the program alone, not arguments: {:?}", &more[1..]),
    };
    if args.frames == 0 {
        bail!("--frames must be at least 1");
    }
    let cores = inputs_in(dir)?;
    if cores.is_empty() {
        bail!("no core files in {}", dir.display());
    }
    let started = Instant::now();
    let mut bar = progress::Progress::new(cores.len(), std::io::stderr().is_terminal());
    let records = triage::analyse_cores(&program, &cores, args.frames, |record| bar.add(record));
    bar.finish();
    let clusters = triage::cluster(&records);
    let mut out = std::io::stdout().lock();
    summary::print(&mut out, &records, &clusters, started.elapsed(), 1, !args.brief)?;
    if let Some(path) = &args.json {
        std::fs::write(path, triage::triage_to_json(&records, &clusters))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(0)
}

/// The files of a directory, sorted by name.
fn inputs_in(dir: &std::path::Path) -> Result<Vec<PathBuf>> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot read the input directory {}", dir.display()))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
        if entry.file_type().map(|t| t.is_file()).unwrap_or(false) {
            files.push(entry.path());
        }
    }
    files.sort();
    Ok(files)
}
