//! Symbolizing addresses offline, what a profiler or a crash reporter does
//! with thousands of return addresses: `dbgkit symbolize` (the release build)
//! names addresses of a large binary with full debug info, the debug build of
//! dbgkit itself, next to binutils `addr2line -f -i -C` (whose output format
//! it follows) and llvm-symbolizer. Each tool runs as a whole child process
//! reading the same addresses on stdin; its wall time and its peak resident
//! memory are measured. Before any time counts, dbgkit's function names are
//! checked against addr2line's.

use crate::fixture;
use crate::report::{median, Goal, Kind, Report, Row, Series};
use crate::run::{measure_child, ChildRun};
use crate::Options;
use anyhow::{bail, ensure, Context, Result};
use object::{Object, ObjectSection};
use std::ffi::OsString;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

pub const NAME: &str = "symbolize";

const DBGKIT: &str = "dbgkit";
const ADDR2LINE: &str = "addr2line";
const LLVM: &str = "llvm-symbolizer";

/// The share of addresses (among those addr2line knows the file and the line
/// of) whose innermost function dbgkit must name exactly as addr2line does.
/// Where addr2line knows no line (`FILE:?`) the names are compared too, but
/// only reported: binutils names the int3 padding after a function after it,
/// and finds a DW_TAG_subprogram for a few addresses no line table row
/// covers, where dbgkit prints `??`.
const MIN_AGREEMENT_PERCENT: f64 = 99.0;
/// Disagreements shown in the report (all of them count).
const EXAMPLES: usize = 3;

/// The binary symbolized.
struct Binary {
    path: PathBuf,
    bytes: u64,
    text: Range<u64>,
    /// Where `.text` starts in the file.
    text_offset: u64,
    debug_info: u64,
}

impl Binary {
    /// Reads what the benchmark needs of the ELF file, and nothing stays in
    /// memory afterwards (see [`measure_child`] on why that matters).
    fn inspect(path: &Path) -> Result<Binary> {
        let data = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let file = object::File::parse(&*data).with_context(|| format!("parsing {}", path.display()))?;
        let text = file.section_by_name(".text").with_context(|| format!("{} has no .text", path.display()))?;
        let debug_info = file.section_by_name(".debug_info").map_or(0, |s| s.size());
        ensure!(debug_info > 0, "{} has no .debug_info: not a debug build?", path.display());
        let (text_offset, text_size) =
            text.file_range().with_context(|| format!("{}: .text has no bytes in the file", path.display()))?;
        ensure!(text_size > 0 && text_size == text.size(), "{}: .text is empty or partly in the file", path.display());
        Ok(Binary {
            path: path.to_path_buf(),
            bytes: data.len() as u64,
            text: text.address()..text.address() + text.size(),
            text_offset,
            debug_info,
        })
    }
}

/// `n` addresses spread evenly over `text`, its first byte included.
fn spread(text: &Range<u64>, n: usize) -> Vec<u64> {
    let size = u128::from(text.end - text.start);
    (0..n as u128).map(|i| text.start + (i * size / n as u128) as u64).collect()
}

/// A path relative to the repository, for reports.
fn display(path: &Path) -> String {
    path.strip_prefix(fixture::repo_root()).unwrap_or(path).display().to_string()
}

/// One symbolizer: its program and arguments (the addresses come on stdin).
struct Tool {
    name: &'static str,
    program: PathBuf,
    args: Vec<OsString>,
}

impl Tool {
    fn new(name: &'static str, program: PathBuf, args: &[&str], binary: &Path) -> Tool {
        let mut args: Vec<OsString> = args.iter().map(Into::into).collect();
        match args.last_mut() {
            // `--obj=BIN` is one argument.
            Some(last) if last.to_str().is_some_and(|a| a.ends_with('=')) => last.push(binary),
            _ => args.push(binary.into()),
        }
        Tool { name, program, args }
    }

    /// The command line as the report shows it (BIN for the binary).
    fn shown(&self, binary: &Path) -> String {
        let args = self.args.iter().map(|a| {
            let a = a.to_string_lossy();
            a.replace(&*binary.to_string_lossy(), "BIN")
        });
        std::iter::once(self.name.to_string()).chain(args).collect::<Vec<_>>().join(" ")
    }

    /// The first line of `--version` that names a version, for the report.
    fn version(&self) -> String {
        let out = Command::new(&self.program).arg("--version").stdin(Stdio::null()).output().ok();
        let text = out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default();
        let line = text.lines().find(|l| l.to_lowercase().contains("version") || l.starts_with("GNU "));
        let line = line.or_else(|| text.lines().next()).unwrap_or("version unknown");
        format!("{}: {}", self.program.display(), line.trim())
    }
}

/// The files a run reads and writes, removed when dropped.
struct Scratch {
    input: PathBuf,
    stdout: PathBuf,
    /// addr2line's checked output, read next to dbgkit's.
    reference: PathBuf,
    stderr: PathBuf,
}

impl Scratch {
    fn new(addresses: &[u64]) -> Result<Scratch> {
        let dir = fixture::work_dir()?;
        let id = std::process::id();
        let scratch = Scratch {
            input: dir.join(format!("symbolize-addresses.{id}.txt")),
            stdout: dir.join(format!("symbolize-stdout.{id}.txt")),
            reference: dir.join(format!("symbolize-reference.{id}.txt")),
            stderr: dir.join(format!("symbolize-stderr.{id}.txt")),
        };
        // `0x` for every tool: llvm-symbolizer reads a bare number as decimal.
        let text: String = addresses.iter().map(|a| format!("{a:#x}\n")).collect();
        std::fs::write(&scratch.input, text).with_context(|| format!("writing {}", scratch.input.display()))?;
        Ok(scratch)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        for file in [&self.input, &self.stdout, &self.reference, &self.stderr] {
            let _ = std::fs::remove_file(file);
        }
    }
}

/// Runs `tool` (with `extra` arguments last) on the addresses: stdin from
/// the input file, stdout to `stdout`, stderr to the scratch file, so nothing
/// of its output is held by the benchmark while it runs. Fails unless it
/// exits with 0.
fn run_tool(tool: &Tool, extra: &[&str], scratch: &Scratch, stdout: &Path, limit: Duration) -> Result<ChildRun> {
    let open = |path: &Path| File::open(path).with_context(|| format!("opening {}", path.display()));
    let create = |path: &Path| File::create(path).with_context(|| format!("creating {}", path.display()));
    let mut command = Command::new(&tool.program);
    command
        .args(&tool.args)
        // After the file: `dbgkit symbolize -e BIN -a`; getopt takes it there too.
        .args(extra)
        // Looking up debug info on the network would time the network.
        .env_remove("DEBUGINFOD_URLS")
        .stdin(open(&scratch.input)?)
        .stdout(create(stdout)?)
        .stderr(create(&scratch.stderr)?);
    let run = measure_child(&mut command, limit, tool.name)?;
    if !run.status.success() {
        let stderr = std::fs::read(&scratch.stderr).unwrap_or_default();
        bail!("{} failed ({}); its stderr:\n{}", tool.name, run.status, String::from_utf8_lossy(&stderr));
    }
    Ok(run)
}

/// The first line a run wrote to stderr, if any (warnings, for the report).
fn first_stderr_line(scratch: &Scratch) -> Option<String> {
    let file = File::open(&scratch.stderr).ok()?;
    BufReader::new(file).lines().next()?.ok()
}

/// 64-bit FNV-1a, continued over `bytes` from `hash` (start from
/// [`FNV_START`]): the same result however the bytes are split, so the
/// outputs of timed runs are compared without holding them in memory.
fn fnv1a(mut hash: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    hash
}
const FNV_START: u64 = 0xcbf2_9ce4_8422_2325;

/// The length and the hash of an output.
type Digest = (u64, u64);

/// A file's length and hash, read in small pieces.
fn file_digest(path: &Path) -> Result<Digest> {
    let mut file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let (mut length, mut hash) = (0, FNV_START);
    let mut buf = [0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf).with_context(|| format!("reading {}", path.display()))?;
        if n == 0 {
            return Ok((length, hash));
        }
        length += n as u64;
        hash = fnv1a(hash, &buf[..n]);
    }
}

/// One frame of `addr2line -f -i` output: the function, then `file:line`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Frame {
    function: String,
    location: String,
}

impl Frame {
    /// Whether the location names a file (addr2line prints `??:0` or `??:?`
    /// when it knows none).
    fn file_known(&self) -> bool {
        !self.location.starts_with("??")
    }

    /// Whether the location names a file and a line (not `file:?` or `file:0`).
    fn line_known(&self) -> bool {
        let location = match self.location.find(" (discriminator ") {
            Some(at) => &self.location[..at],
            None => &self.location,
        };
        self.file_known()
            && location.rsplit_once(':').and_then(|(_, line)| line.parse::<u64>().ok()).is_some_and(|line| line > 0)
    }
}

/// Reads the output of `-a -f -i` (each address, then its frames,
/// innermost first) address by address, checking that every address is
/// there, in order, with at least one frame. Nothing but the current
/// address's frames is held (see [`measure_child`] on why that matters), and
/// it digests what the same run prints without `-a`: the frame lines alone.
struct FrameReader<R: BufRead> {
    what: &'static str,
    lines: std::iter::Peekable<std::io::Split<R>>,
    /// Length and hash of the frame lines read so far.
    digest: Digest,
}

impl<R: BufRead> FrameReader<R> {
    fn new(what: &'static str, reader: R) -> FrameReader<R> {
        FrameReader { what, lines: reader.split(b'\n').peekable(), digest: (0, FNV_START) }
    }

    fn line(&mut self) -> Result<Option<String>> {
        let line = self.lines.next().transpose().with_context(|| format!("reading {}'s output", self.what))?;
        Ok(line.map(|bytes| {
            self.digest = (self.digest.0 + bytes.len() as u64 + 1, fnv1a(fnv1a(self.digest.1, &bytes), b"\n"));
            String::from_utf8_lossy(&bytes).into_owned()
        }))
    }

    /// The frames of `address`, which must come next; `next` is the address
    /// after it, whose line ends the frames (none: the end of the output).
    fn frames(&mut self, address: u64, next: Option<u64>) -> Result<Vec<Frame>> {
        let what = self.what;
        let header = format!("0x{address:016x}");
        let line = self.lines.next().transpose().with_context(|| format!("reading {what}'s output"))?;
        ensure!(
            line.as_deref() == Some(header.as_bytes()),
            "{what}: expected the address line {header}, found {:?}",
            line.map(|l| String::from_utf8_lossy(&l).into_owned())
        );
        let next = next.map(|a| format!("0x{a:016x}"));
        let mut frames = Vec::new();
        loop {
            match self.lines.peek() {
                None => break,
                Some(Ok(line)) if next.as_ref().is_some_and(|n| line == n.as_bytes()) => break,
                // A read error comes out of `line`.
                _ => {}
            }
            let function = self.line()?.unwrap_or_default();
            let location = self.line()?.with_context(|| format!("{what}: {header}: a function without location"))?;
            frames.push(Frame { function, location });
        }
        ensure!(!frames.is_empty(), "{what}: no frame for {header}");
        Ok(frames)
    }

    /// Checks that the output ends here; returns the digest of its frame lines.
    fn finish(mut self) -> Result<Digest> {
        ensure!(self.lines.next().is_none(), "{}: output after the last address", self.what);
        Ok(self.digest)
    }
}

/// How often dbgkit names the innermost function as addr2line does: over
/// the addresses where addr2line knows the file and the line (the check), and
/// apart over those where it names a function but prints line `?`, with the
/// compilation unit's name for a file at times (bytes that no line table row
/// covers, the int3 padding between functions among them).
#[derive(Debug, Default)]
struct Agreement {
    /// Addresses where addr2line knows file and line, and of them where
    /// dbgkit names the same function.
    compared: usize,
    agreed: usize,
    /// The same where addr2line prints `FILE:?`.
    lineless: usize,
    lineless_agreed: usize,
    /// Every address where the names differ (a few, normally).
    differing: Vec<u64>,
    /// Of those, where dbgkit names no function (`??`)...
    unnamed: usize,
    /// ...and where the byte is int3, padding between functions (see `count_padding`).
    padding: usize,
    /// The first few disagreements.
    examples: Vec<String>,
}

impl Agreement {
    /// Counts one address, given the innermost frame of each.
    fn add(&mut self, address: u64, ours: &Frame, theirs: &Frame) {
        if !theirs.file_known() {
            return;
        }
        let same = ours.function == theirs.function;
        if theirs.line_known() {
            self.compared += 1;
            self.agreed += usize::from(same);
        } else {
            self.lineless += 1;
            self.lineless_agreed += usize::from(same);
        }
        if same {
            return;
        }
        self.differing.push(address);
        self.unnamed += usize::from(ours.function == "??");
        if self.examples.len() < EXAMPLES {
            self.examples.push(format!(
                "{address:#x}: addr2line `{}` ({}), dbgkit `{}` ({})",
                theirs.function, theirs.location, ours.function, ours.location
            ));
        }
    }

    /// The percentage of the checked addresses (file and line known) that agree.
    fn share(&self) -> f64 {
        percent(self.agreed, self.compared)
    }

    fn summary(&self) -> String {
        format!(
            "{:.2}% of the {} addresses where addr2line knows file and line (at least {MIN_AGREEMENT_PERCENT}% \
             required); {:.2}% of the {} more where it prints line `?` ({:.2}% of both); of the {} that differ, \
             dbgkit names no function at {}, and {} are int3 padding between functions",
            self.share(),
            self.compared,
            percent(self.lineless_agreed, self.lineless),
            self.lineless,
            percent(self.agreed + self.lineless_agreed, self.compared + self.lineless),
            self.differing.len(),
            self.unnamed,
            self.padding
        )
    }
}

fn percent(part: usize, whole: usize) -> f64 {
    100.0 * part as f64 / whole as f64
}

/// How many of `addresses` (inside `.text`) hold an int3 byte (0xcc), which
/// compilers put between functions as padding.
fn count_padding(binary: &Binary, addresses: &[u64]) -> Result<usize> {
    use std::os::unix::fs::FileExt;
    let file = File::open(&binary.path).with_context(|| format!("opening {}", binary.path.display()))?;
    let mut padding = 0;
    for &address in addresses {
        let mut byte = [0u8];
        let offset = binary.text_offset + (address - binary.text.start);
        file.read_exact_at(&mut byte, offset).with_context(|| format!("reading {}", binary.path.display()))?;
        padding += usize::from(byte[0] == 0xcc);
    }
    Ok(padding)
}

/// Reads the `-a` outputs of dbgkit and addr2line side by side: how often
/// they agree, and the digest of each without `-a`.
fn compare<R: BufRead>(
    addresses: &[u64],
    mut ours: FrameReader<R>,
    mut theirs: FrameReader<R>,
) -> Result<(Agreement, [Digest; 2])> {
    let mut agreement = Agreement::default();
    for (i, &address) in addresses.iter().enumerate() {
        let next = addresses.get(i + 1).copied();
        let (a, b) = (ours.frames(address, next)?, theirs.frames(address, next)?);
        agreement.add(address, &a[0], &b[0]);
    }
    Ok((agreement, [ours.finish()?, theirs.finish()?]))
}

/// llvm-symbolizer ends each address's frames with an empty line: it must
/// have printed one block per address.
fn check_llvm_blocks(scratch: &Scratch, addresses: usize) -> Result<()> {
    let file = File::open(&scratch.stdout).context("opening llvm-symbolizer's output")?;
    let mut blocks = 0;
    for line in BufReader::new(file).split(b'\n') {
        blocks += usize::from(line.context("reading llvm-symbolizer's output")?.is_empty());
    }
    ensure!(blocks == addresses, "llvm-symbolizer printed {blocks} blocks for {addresses} addresses");
    Ok(())
}

fn mib(run: &ChildRun) -> f64 {
    run.max_rss_kib as f64 / 1024.0
}

fn progress(run_index: usize, runs: usize, tool: &str, run: &ChildRun) {
    eprintln!(
        "  run {}/{runs}  {tool:<16} {:>8.3} s  {:>8.1} MiB peak",
        run_index + 1,
        run.elapsed.as_secs_f64(),
        mib(run)
    );
}

pub fn run(opts: &Options) -> Result<Report> {
    let n = opts.addresses;
    eprintln!("{NAME}: building dbgkit: the debug build is the binary symbolized, the release build symbolizes");
    let binary = Binary::inspect(&fixture::cargo_build("dbgkit-cli", "dbgkit", false)?)?;
    let dbgkit_release = fixture::cargo_build("dbgkit-cli", "dbgkit", true)?;
    ensure!(dbgkit_release != binary.path, "the release and debug builds are the same file");
    let bin = binary.path.as_path();
    let dbgkit = Tool::new(DBGKIT, dbgkit_release, &["symbolize", "-e"], bin);
    let addr2line = fixture::find_on_path("addr2line")
        .context("binutils addr2line not found on PATH (the reference of the check, and a contender)")?;
    let addr2line = Tool::new(ADDR2LINE, addr2line, &["-f", "-i", "-C", "-e"], bin);
    let llvm = fixture::find_on_path(LLVM).map(|path| Tool::new(LLVM, path, &["--obj="], bin));
    let addresses = spread(&binary.text, n);
    let scratch = Scratch::new(&addresses)?;

    // The check, untimed: every tool once (which also brings the binary and
    // the tools into the page cache), dbgkit and addr2line with `-a` so that
    // their output splits by address.
    eprintln!("{NAME}: checking dbgkit against addr2line on {n} addresses of {}", display(bin));
    let mut warnings = Vec::new();
    let mut checked = |tool: &Tool, extra: &[&str], stdout: &Path| -> Result<BufReader<File>> {
        run_tool(tool, extra, &scratch, stdout, opts.timeout)?;
        if let Some(line) = first_stderr_line(&scratch) {
            warnings.push(format!("{} wrote to stderr: {line}", tool.name));
        }
        Ok(BufReader::new(File::open(stdout).with_context(|| format!("opening {}", stdout.display()))?))
    };
    let ours = FrameReader::new(DBGKIT, checked(&dbgkit, &["-a"], &scratch.stdout)?);
    let theirs = FrameReader::new(ADDR2LINE, checked(&addr2line, &["-a"], &scratch.reference)?);
    let (mut agreement, expected) = compare(&addresses, ours, theirs)?;
    agreement.padding = count_padding(&binary, &agreement.differing)?;
    ensure!(agreement.compared > 0, "addr2line knows file and line of none of the {n} addresses");
    eprintln!("  same innermost function as addr2line: {}", agreement.summary());
    if agreement.share() < MIN_AGREEMENT_PERCENT {
        let examples = agreement.examples.iter().map(|e| format!("\n    {e}")).collect::<String>();
        bail!(
            "dbgkit names the innermost function as addr2line does too rarely: {}; for instance:{examples}",
            agreement.summary()
        );
    }
    if let Some(llvm) = &llvm {
        run_tool(llvm, &[], &scratch, &scratch.stdout, opts.timeout)?;
        check_llvm_blocks(&scratch, n)?;
        if let Some(line) = first_stderr_line(&scratch) {
            warnings.push(format!("{LLVM} wrote to stderr: {line}"));
        }
    }
    // The floor of the memory figures: a program doing nothing, started the
    // same way (see `measure_child`).
    let floor = match fixture::find_on_path("true") {
        Some(program) => {
            let mut command = Command::new(program);
            command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
            Some(mib(&measure_child(&mut command, opts.timeout, "true")?))
        }
        None => None,
    };

    // Each contender with the digest its timed runs must reproduce: what its
    // checked run printed, without `-a` (none for llvm-symbolizer).
    let contenders: Vec<(&Tool, Option<Digest>)> = [(&dbgkit, Some(expected[0])), (&addr2line, Some(expected[1]))]
        .into_iter()
        .chain(llvm.as_ref().map(|llvm| (llvm, None)))
        .collect();
    let mut times: Vec<Series> = contenders.iter().map(|(tool, _)| Series::new(tool.name, n as u64)).collect();
    let mut memory: Vec<Series> = contenders.iter().map(|(tool, _)| Series::new(tool.name, n as u64)).collect();
    eprintln!("{NAME}: {} runs of each", opts.runs);
    for i in 0..opts.runs {
        for (t, (tool, expected)) in contenders.iter().enumerate() {
            let run = run_tool(tool, &[], &scratch, &scratch.stdout, opts.timeout)?;
            match expected {
                Some(expected) => {
                    let digest = file_digest(&scratch.stdout)?;
                    ensure!(
                        digest == *expected,
                        "{}: run {} printed {} bytes that differ from the checked run's {} (without -a)",
                        tool.name,
                        i + 1,
                        digest.0,
                        expected.0
                    );
                }
                None => check_llvm_blocks(&scratch, n)?,
            }
            progress(i, opts.runs, tool.name, &run);
            times[t].values.push(run.elapsed.as_secs_f64());
            memory[t].values.push(mib(&run));
        }
    }

    let mut time_notes = vec![addr2line.version()];
    let mut memory_notes = Vec::new();
    if let Some(llvm) = &llvm {
        time_notes.push(llvm.version());
        memory_notes
            .push(format!("{LLVM} / dbgkit: {:.2}x (no goal)", median(&memory[2].values) / median(&memory[0].values)));
    }
    time_notes.extend(warnings);
    if let Some(floor) = floor {
        memory_notes.push(format!(
            "floor: `true` started the same way peaks at {floor:.1} MiB; no figure can be lower (ru_maxrss \
             is the peak of the child's whole life, its forked copy of the benchmark before exec included)"
        ));
    }
    let rows = |series: Vec<Series>| {
        let mut rows: Vec<Row> = series.into_iter().map(Row::Measured).collect();
        if llvm.is_none() {
            rows.push(Row::Skipped { name: LLVM.into(), reason: "not installed".into() });
        }
        rows
    };
    let step = (binary.text.end - binary.text.start) / n as u64;
    let memory_table = Report {
        name: NAME,
        measures: format!(
            "peak resident memory of the same runs (MiB: ru_maxrss from wait4 / 1024), median of {} runs",
            opts.runs
        ),
        unit: "MiB",
        work: "addresses",
        kind: Kind::Memory,
        decimals: 1,
        context: Vec::new(),
        rows: rows(memory),
        goals: vec![Goal::at_least(ADDR2LINE, DBGKIT, 1.0)],
        notes: memory_notes,
        also: Vec::new(),
    };
    Ok(Report {
        name: NAME,
        measures: format!(
            "seconds to symbolize {n} addresses, whole process from spawn to exit, median of {} runs",
            opts.runs
        ),
        unit: "s",
        work: "addresses",
        kind: Kind::Time,
        decimals: 3,
        context: vec![
            format!(
                "binary: {} ({:.1} MB, .text {:.1} MiB, .debug_info {:.1} MiB), built by `cargo build -p dbgkit-cli`",
                display(bin),
                binary.bytes as f64 / 1e6,
                (binary.text.end - binary.text.start) as f64 / 1048576.0,
                binary.debug_info as f64 / 1048576.0
            ),
            format!(
                "dbgkit: {}, built by `cargo build --release -p dbgkit-cli` (cargo skips either build when up to date)",
                display(&dbgkit.program)
            ),
            format!(
                "input: {n} addresses evenly spaced over .text ({:#x}..{:#x}, every {step} bytes), one `0x` line each \
                 on stdin, the same file for every tool; output to a file",
                binary.text.start, binary.text.end
            ),
            format!(
                "commands: `{}`, `{}`, `{}`",
                dbgkit.shown(bin),
                addr2line.shown(bin),
                llvm.as_ref().map_or(format!("{LLVM} --obj=BIN"), |l| l.shown(bin))
            ),
            format!(
                "checked (untimed, also warming the page cache): dbgkit names the innermost function as addr2line \
                 does at {}",
                agreement.summary()
            ),
            "checked: every timed run of dbgkit and addr2line printed exactly what its checked run did (without -a), \
             llvm-symbolizer one block per address"
                .into(),
        ],
        rows: rows(times),
        goals: vec![Goal::at_least(ADDR2LINE, DBGKIT, 1.0), Goal::at_least(LLVM, DBGKIT, 1.0)],
        notes: time_notes.into_iter().chain(agreement.examples.iter().map(|e| format!("differs at {e}"))).collect(),
        also: vec![memory_table],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(function: &str, location: &str) -> Frame {
        Frame { function: function.into(), location: location.into() }
    }

    #[test]
    fn spread_over_text() {
        assert_eq!(spread(&(0x1000..0x1010), 4), vec![0x1000, 0x1004, 0x1008, 0x100c]);
        assert_eq!(spread(&(0x10..0x13), 2), vec![0x10, 0x11]);
    }

    #[test]
    fn known_locations() {
        assert!(frame("f", "a.rs:12").line_known());
        assert!(frame("f", "a.c:3 (discriminator 2)").line_known());
        assert!(!frame("f", "a.rs:?").line_known() && frame("f", "a.rs:?").file_known());
        assert!(!frame("f", "a.rs:0").line_known());
        assert!(!frame("??", "??:0").file_known() && !frame("??", "??:?").file_known());
    }

    fn read(text: &str, addresses: &[u64]) -> Result<(Vec<Vec<Frame>>, Digest)> {
        let mut reader = FrameReader::new("t", text.as_bytes());
        let mut all = Vec::new();
        for (i, &address) in addresses.iter().enumerate() {
            all.push(reader.frames(address, addresses.get(i + 1).copied())?);
        }
        Ok((all, reader.finish()?))
    }

    #[test]
    fn reads_inline_frames_by_address() {
        let text = "0x0000000000001000\ninner\na.rs:3\nouter\na.rs:9\n0x0000000000001004\n??\n??:0\n";
        let (frames, digest) = read(text, &[0x1000, 0x1004]).unwrap();
        assert_eq!(frames[0], vec![frame("inner", "a.rs:3"), frame("outer", "a.rs:9")]);
        assert_eq!(frames[1], vec![frame("??", "??:0")]);
        let plain = "inner\na.rs:3\nouter\na.rs:9\n??\n??:0\n";
        assert_eq!(digest, (plain.len() as u64, fnv1a(FNV_START, plain.as_bytes())));
        assert!(read(text, &[0x1000]).is_err());
        assert!(read(text, &[0x1000, 0x1008]).is_err());
        assert!(read("0x0000000000001000\nf\n", &[0x1000]).is_err());
        assert!(read("0x0000000000001000\n0x0000000000001004\nf\nx:1\n", &[0x1000, 0x1004]).is_err());
    }

    #[test]
    fn agreement_is_judged_where_file_and_line_are_known() {
        let theirs = [
            frame("f", "a.rs:1"),
            frame("g", "a.rs:?"),
            frame("??", "??:0"),
            frame("h", "b.rs:2"),
            frame("k", "d.rs:5"),
        ];
        let ours =
            [frame("f", "a.rs:1"), frame("??", "??:0"), frame("x", "c:1"), frame("h", "b.rs:2"), frame("j", "d.rs:5")];
        let mut a = Agreement::default();
        for (i, (ours, theirs)) in ours.iter().zip(&theirs).enumerate() {
            a.add(i as u64 + 1, ours, theirs);
        }
        assert_eq!((a.compared, a.agreed, a.lineless, a.lineless_agreed, a.unnamed), (3, 2, 1, 0, 1));
        assert_eq!((&a.differing[..], a.examples.len()), (&[2, 5][..], 2));
        assert!(a.examples[0].starts_with("0x2: addr2line `g`"), "{}", a.examples[0]);
        assert!((a.share() - 200.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn compares_side_by_side() {
        let ours = "0x0000000000000010\nf\na.rs:1\n0x0000000000000020\n??\n??:0\n";
        let theirs = "0x0000000000000010\nf\na.rs:1\n0x0000000000000020\ng\nb.rs:?\n";
        let (a, digests) =
            compare(&[0x10, 0x20], FrameReader::new("a", ours.as_bytes()), FrameReader::new("b", theirs.as_bytes()))
                .unwrap();
        assert_eq!((a.compared, a.agreed, a.lineless, a.lineless_agreed), (1, 1, 1, 0));
        let plain = b"f\na.rs:1\n??\n??:0\n";
        assert_eq!(digests[0], (plain.len() as u64, fnv1a(FNV_START, plain)));
        assert_ne!(digests[0], digests[1]);
    }

    #[test]
    fn fnv_is_split_invariant() {
        assert_eq!(fnv1a(fnv1a(FNV_START, b"ab"), b"c"), fnv1a(FNV_START, b"abc"));
        assert_ne!(fnv1a(FNV_START, b"abc"), fnv1a(FNV_START, b"acb"));
    }
}
