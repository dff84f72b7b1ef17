//! Source-level debugging of a big program, what a user does first in a
//! debugger: start it, stop at a line of a source file, look at the stack and
//! at the variables of its frames. The program is dbgkit's own debug build
//! (the largest binary at hand with full DWARF: Rust, generics, inlined
//! code), run as `dbgkit trace /bin/true`; the line is in the function that
//! reads the ELF header of the traced program. The dbgkit CLI (release build)
//! and gdb each debug it as a whole child process from a command file; each
//! run's wall time and peak resident memory are measured, and its output is
//! checked: the breakpoint was hit at that line, and the stack had at least
//! ten frames.

use crate::fixture;
use crate::gdb;
use crate::report::{median, Goal, Kind, Report, Row, Series};
use crate::run::{measure_child, ChildRun};
use crate::Options;
use anyhow::{bail, ensure, Context, Result};
use std::ffi::OsString;
use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub const NAME: &str = "source";

const DBGKIT: &str = "dbgkit";
const GDB: &str = "gdb";
const DBGKIT_FRAMES: &str = "dbgkit +bt+locals";
const GDB_FRAMES: &str = "gdb +bt+locals";

/// Frames whose variables are shown in the second scenario (the innermost ones).
const FRAMES: usize = 10;

/// The source file of the debugged program holding the breakpoint's line,
/// relative to the repository, and how the line is found in it: the first
/// line containing `LINE_TEXT` after the line containing `FUNCTION_TEXT`.
const SOURCE_FILE: &str = "crates/dbgkit/src/module.rs";
const FUNCTION_TEXT: &str = "fn load_extent(";
const LINE_TEXT: &str = "::parse(header)";
/// How both debuggers name the file: enough trailing components to be the
/// only file of that name in the program.
const SPEC_FILE: &str = "dbgkit/src/module.rs";
/// The arguments of the debugged program: trace a program that exits at once.
const PROGRAM_ARGS: &[&str] = &["trace", "/bin/true"];

/// The line of the breakpoint, found in the source by its text so that it
/// follows edits of the file.
fn breakpoint_line() -> Result<u32> {
    let path = fixture::repo_root().join(SOURCE_FILE);
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut in_function = false;
    for (i, line) in text.lines().enumerate() {
        in_function |= line.contains(FUNCTION_TEXT);
        if in_function && line.contains(LINE_TEXT) {
            return Ok(i as u32 + 1);
        }
    }
    bail!("{SOURCE_FILE}: no line with `{LINE_TEXT}` after `{FUNCTION_TEXT}`: the benchmark must pick another line")
}

/// What one debugger is told to do.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scenario {
    /// Start, stop at the line, quit.
    FirstHit,
    /// The same, then the stack and the variables of the innermost frames.
    Frames,
}

/// The dbgkit command file (WinDbg's commands): `k` is the stack, `frame N`
/// selects a frame and `dv` shows its locals and arguments.
fn dbgkit_script(line: u32, scenario: Scenario) -> String {
    let mut script = format!("bp {SPEC_FILE}:{line}\ng\n");
    if scenario == Scenario::Frames {
        script.push_str("k\n");
        for frame in 0..FRAMES {
            script.push_str(&format!("frame {frame}\ndv\n"));
        }
    }
    script.push_str("q\n");
    script
}

/// The gdb command file: the same work in gdb's commands (`info args` and
/// `info locals` for `dv`, which shows both). `backtrace
/// past-main` so that gdb's stack, like dbgkit's, goes on below the Rust
/// `main`; no debuginfod (it would time the network), no shell.
fn gdb_script(line: u32, scenario: Scenario) -> String {
    let mut script = String::from(
        "set debuginfod enabled off\nset startup-with-shell off\nset pagination off\nset width 0\n\
         set confirm off\nset backtrace past-main on\n",
    );
    script.push_str(&format!("break {SPEC_FILE}:{line}\nrun\n"));
    if scenario == Scenario::Frames {
        script.push_str("bt\ninfo args\ninfo locals\n");
        for _ in 1..FRAMES {
            script.push_str("up\ninfo args\ninfo locals\n");
        }
    }
    script.push_str("kill\n");
    script
}

/// The files one run reads and writes, removed when dropped.
struct Scratch {
    script: PathBuf,
    output: PathBuf,
}

impl Scratch {
    fn new(what: &str, script: &str) -> Result<Scratch> {
        let dir = fixture::work_dir()?;
        let id = std::process::id();
        let scratch = Scratch {
            script: dir.join(format!("source-{what}.{id}.txt")),
            output: dir.join(format!("source-{what}.{id}.out")),
        };
        std::fs::write(&scratch.script, script).with_context(|| format!("writing {}", scratch.script.display()))?;
        Ok(scratch)
    }

    /// What the run printed (stdout and stderr together).
    fn output(&self) -> Result<String> {
        let bytes = std::fs::read(&self.output).with_context(|| format!("reading {}", self.output.display()))?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.script);
        let _ = std::fs::remove_file(&self.output);
    }
}

/// One debugger with one command file.
struct Contender {
    name: &'static str,
    debugger: PathBuf,
    /// Its arguments, the command file's path and the program's included.
    args: Vec<OsString>,
    scratch: Scratch,
    scenario: Scenario,
}

impl Contender {
    /// Runs it once to its end; fails unless it exits with 0 and its output
    /// shows the work done.
    fn run(&self, line: u32, opts: &Options) -> Result<ChildRun> {
        let mut command = Command::new(&self.debugger);
        command.args(&self.args);
        let output = File::create(&self.scratch.output)
            .with_context(|| format!("creating {}", self.scratch.output.display()))?;
        let errors = output.try_clone().context("duplicating a file handle")?;
        command
            .env_remove("DEBUGINFOD_URLS")
            // The debugged dbgkit runs from its own binary, not from its
            // Python plugin (a copy of the same code in a library it would
            // load when built beside it), so that the line's code is where
            // the breakpoint is set. The release dbgkit debugging it has no
            // plugin beside it: for it nothing changes.
            .env("DBGKIT_PYTHON", "none")
            .stdin(Stdio::null())
            .stdout(output)
            .stderr(errors)
            // Its own process group, as gdb::batch does.
            .process_group(0);
        let run = measure_child(&mut command, opts.timeout, self.name)?;
        let log = self.scratch.output()?;
        ensure!(run.status.success(), "{} failed ({}); its output:\n{}", self.name, run.status, tail(&log));
        let checked = if self.name.starts_with(GDB) {
            check_gdb(&log, line, self.scenario)
        } else {
            check_dbgkit(&log, line, self.scenario)
        };
        checked.with_context(|| format!("{}: its output:\n{}", self.name, tail(&log)))?;
        Ok(run)
    }
}

/// The end of a long output, for error messages.
fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// dbgkit reports the hit as `Breakpoint: id=1 at ADDR MODULE!FUNCTION+OFF
/// (module.rs:LINE)`, and `k` prints one line a frame, numbered `00`, `01`...
fn check_dbgkit(log: &str, line: u32, scenario: Scenario) -> Result<()> {
    let place = format!("(module.rs:{line})");
    let hit = log.lines().any(|l| l.starts_with("Breakpoint: id=") && l.contains(&place));
    ensure!(hit, "no `Breakpoint: id=... {place}` line: the breakpoint was not hit");
    if scenario == Scenario::Frames {
        let last = format!("{:02} ", FRAMES - 1);
        ensure!(log.lines().any(|l| l.starts_with(&last)), "`k` did not show {FRAMES} frames");
        let selected = log.lines().filter(|l| l.len() > 3 && l.as_bytes()[..2].iter().all(u8::is_ascii_digit)).count();
        // `k` lists every frame once, and each `frame N` prints its frame again.
        ensure!(selected >= 2 * FRAMES, "only {selected} frame lines for `k` and {FRAMES} `frame N` commands");
    }
    Ok(())
}

/// gdb reports the hit as `Breakpoint 1, FUNCTION (ARGS) at FILE:LINE`,
/// `bt` and `up` print frames as `#N  ...`.
fn check_gdb(log: &str, line: u32, scenario: Scenario) -> Result<()> {
    let place = format!("module.rs:{line}");
    let hit = log.lines().any(|l| l.starts_with("Breakpoint 1, ") && l.contains(&place));
    ensure!(hit, "no `Breakpoint 1, ... {place}` line: the breakpoint was not hit");
    if scenario == Scenario::Frames {
        let last = format!("#{} ", FRAMES - 1);
        let shown = log.lines().filter(|l| l.starts_with(&last)).count();
        // Once by `bt`, once by the last `up`.
        ensure!(shown >= 2, "frame #{} shown {shown} times, not by both `bt` and `up`", FRAMES - 1);
    }
    Ok(())
}

fn mib(run: &ChildRun) -> f64 {
    run.max_rss_kib as f64 / 1024.0
}

/// A path relative to the repository, for reports.
fn display(path: &Path) -> String {
    path.strip_prefix(fixture::repo_root()).unwrap_or(path).display().to_string()
}

pub fn run(opts: &Options) -> Result<Report> {
    eprintln!("{NAME}: building dbgkit: the debug build is the program debugged, the release build debugs it");
    let program = fixture::cargo_build("dbgkit-cli", "dbgkit", false)?;
    let dbgkit = fixture::cargo_build("dbgkit-cli", "dbgkit", true)?;
    ensure!(dbgkit != program, "the release and debug builds are the same file");
    let line = breakpoint_line()?;
    let program_bytes = std::fs::metadata(&program).map(|m| m.len()).unwrap_or(0);

    let mut contenders: Vec<Contender> = Vec::new();
    let program_and_args =
        || std::iter::once(program.clone().into_os_string()).chain(PROGRAM_ARGS.iter().map(OsString::from));
    for (name, scenario, what) in
        [(DBGKIT, Scenario::FirstHit, "dbgkit-hit"), (DBGKIT_FRAMES, Scenario::Frames, "dbgkit-frames")]
    {
        let scratch = Scratch::new(what, &dbgkit_script(line, scenario))?;
        let mut args: Vec<OsString> = vec!["--batch".into(), "-x".into(), scratch.script.clone().into_os_string()];
        args.extend(program_and_args());
        contenders.push(Contender { name, debugger: dbgkit.clone(), args, scratch, scenario });
    }
    let gdb = opts.gdb.as_ref();
    if let Ok(found) = gdb {
        for (name, scenario, what) in
            [(GDB, Scenario::FirstHit, "gdb-hit"), (GDB_FRAMES, Scenario::Frames, "gdb-frames")]
        {
            let scratch = Scratch::new(what, &gdb_script(line, scenario))?;
            let mut args: Vec<OsString> =
                vec!["-batch".into(), "-nx".into(), "-x".into(), scratch.script.clone().into_os_string()];
            args.push("--args".into());
            args.extend(program_and_args());
            contenders.push(Contender { name, debugger: found.path.clone(), args, scratch, scenario });
        }
    }

    // The check, untimed: every contender once (which also brings the
    // program, its debug info and the debuggers into the page cache).
    eprintln!("{NAME}: checking each debugger once: stop at {SPEC_FILE}:{line} of {}", display(&program));
    for contender in &contenders {
        contender.run(line, opts)?;
    }
    let mut times: Vec<Series> = contenders.iter().map(|c| Series::new(c.name, 1)).collect();
    let mut memory: Vec<Series> = contenders.iter().map(|c| Series::new(c.name, 1)).collect();
    eprintln!("{NAME}: {} runs of each", opts.runs);
    for i in 0..opts.runs {
        for (c, contender) in contenders.iter().enumerate() {
            let run = contender.run(line, opts)?;
            eprintln!(
                "  run {}/{}  {:<18} {:>8.3} s  {:>8.1} MiB peak",
                i + 1,
                opts.runs,
                contender.name,
                run.elapsed.as_secs_f64(),
                mib(&run)
            );
            times[c].values.push(run.elapsed.as_secs_f64());
            memory[c].values.push(mib(&run));
        }
    }

    let mut notes = Vec::new();
    let rows = |series: Vec<Series>| {
        let mut rows: Vec<Row> = series.into_iter().map(Row::Measured).collect();
        if let Err(reason) = gdb {
            rows.push(Row::Skipped { name: GDB.into(), reason: reason.clone() });
        }
        rows
    };
    let ratio = |series: &[Series], numerator: &str, denominator: &str| -> Option<f64> {
        let of = |name: &str| series.iter().find(|s| s.name == name).map(|s| median(&s.values));
        Some(of(numerator)? / of(denominator)?)
    };
    if let Some(r) = ratio(&times, GDB_FRAMES, DBGKIT_FRAMES) {
        notes.push(format!("{GDB_FRAMES} / {DBGKIT_FRAMES}: {r:.2}x (no goal)"));
    }
    if let Ok(found) = gdb {
        notes.push(gdb::version(found));
    }
    let mut memory_notes = Vec::new();
    if let Some(r) = ratio(&memory, GDB, DBGKIT) {
        memory_notes.push(format!("{DBGKIT} / {GDB}: {:.2} (the issue's goal: less than half)", 1.0 / r));
    }
    memory_notes.push(
        "ru_maxrss is the largest of the debugger and the programs it waited for (the debugged program and \
         the one it traces), not their sum"
            .into(),
    );
    let memory_table = Report {
        name: NAME,
        measures: format!(
            "peak resident memory of the same runs (MiB: ru_maxrss from wait4 / 1024), median of {} runs",
            opts.runs
        ),
        unit: "MiB",
        work: "hits",
        kind: Kind::Memory,
        decimals: 1,
        context: Vec::new(),
        rows: rows(memory),
        goals: vec![Goal::at_least(GDB, DBGKIT, 2.0), Goal::at_least(GDB_FRAMES, DBGKIT_FRAMES, 2.0)],
        notes: memory_notes,
        also: Vec::new(),
    };
    Ok(Report {
        name: NAME,
        measures: format!(
            "seconds from starting the debugger to the breakpoint's hit (and the {FRAMES} frames' variables), \
             whole process from spawn to exit, median of {} runs",
            opts.runs
        ),
        unit: "s",
        work: "hits",
        kind: Kind::Time,
        decimals: 3,
        context: vec![
            format!(
                "program: {} {} ({:.1} MB), built by `cargo build -p dbgkit-cli`",
                display(&program),
                PROGRAM_ARGS.join(" "),
                program_bytes as f64 / 1e6
            ),
            format!("dbgkit: {}, built by `cargo build --release -p dbgkit-cli`", display(&dbgkit)),
            format!("breakpoint: {SPEC_FILE}:{line} (`{LINE_TEXT}` in `{FUNCTION_TEXT}...`)"),
            format!(
                "`{DBGKIT}`: `dbgkit --batch -x FILE PROGRAM {}` with `bp {SPEC_FILE}:{line}`, `g`, `q`; \
                 `{DBGKIT_FRAMES}` adds `k`, then `frame N` and `dv` for N = 0..{}",
                PROGRAM_ARGS.join(" "),
                FRAMES - 1
            ),
            format!(
                "`{GDB}`: `gdb -batch -nx -x FILE --args PROGRAM {}` with `break {SPEC_FILE}:{line}`, `run`, `kill`; \
                 `{GDB_FRAMES}` adds `bt`, `info args`, `info locals`, then `up`, `info args` and `info locals` {} times",
                PROGRAM_ARGS.join(" "),
                FRAMES - 1
            ),
            format!("checked: every run hit the breakpoint at that line; the +bt+locals runs showed at least {FRAMES} frames"),
        ],
        rows: rows(times),
        goals: vec![Goal::at_least(GDB, DBGKIT, 10.0)],
        notes,
        also: vec![memory_table],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_is_in_the_source() {
        let line = breakpoint_line().unwrap();
        let text = std::fs::read_to_string(fixture::repo_root().join(SOURCE_FILE)).unwrap();
        assert!(text.lines().nth(line as usize - 1).unwrap().contains(LINE_TEXT));
    }

    #[test]
    fn outputs_are_checked() {
        let hit = "Breakpoint: id=1 at 0000555555c1882b dbgkit!dbgkit::module::load_extent+0x2b (module.rs:44) tid=7\n";
        assert!(check_dbgkit(hit, 44, Scenario::FirstHit).is_ok());
        assert!(check_dbgkit(hit, 45, Scenario::FirstHit).is_err());
        assert!(check_dbgkit(hit, 44, Scenario::Frames).is_err());
        let frames: String = (0..FRAMES).map(|i| format!("{i:02} 00007fff f()\n")).collect();
        assert!(check_dbgkit(&format!("{hit}{frames}{frames}"), 44, Scenario::Frames).is_ok());
        let gdb_hit = "Breakpoint 1, dbgkit::module::load_extent (header=...) at crates/dbgkit/src/module.rs:44\n";
        assert!(check_gdb(gdb_hit, 44, Scenario::FirstHit).is_ok());
        assert!(check_gdb(gdb_hit, 44, Scenario::Frames).is_err());
        assert!(check_gdb(&format!("{gdb_hit}#9  0x1 in f ()\n#9  0x1 in f ()\n"), 44, Scenario::Frames).is_ok());
    }

    #[test]
    fn scripts_do_the_same_work() {
        let ours = dbgkit_script(44, Scenario::Frames);
        assert_eq!(ours.matches("dv\n").count(), FRAMES);
        let theirs = gdb_script(44, Scenario::Frames);
        assert_eq!(theirs.matches("info locals\n").count(), FRAMES);
        assert!(
            ours.starts_with("bp dbgkit/src/module.rs:44\ng\n")
                && theirs.contains("break dbgkit/src/module.rs:44\nrun\n")
        );
    }
}
