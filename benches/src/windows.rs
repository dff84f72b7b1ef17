//! Breakpoint hits per second on a Windows program under Wine: dbgkit's
//! engine on its own Windows target (`count_hits.exe`, the engine's
//! example built for Windows: the Win32 debug loop in the debugger's
//! process, running the instruction under a breakpoint out of line), and
//! through `dbgkit-winstub` (the same loop behind the GDB remote protocol),
//! next to the floor, a raw Win32 debug loop with the classic step-over
//! (`tests/windows/rawloop.c`: `WaitForDebugEvent`/`ContinueDebugEvent`
//! and the trap flag, nothing in between), and gdb through the stub, in
//! the same run.
//!
//! `loop.exe N` calls `bench_func` N times; every contender plants one
//! breakpoint on its first byte and must see exactly N hits and the
//! program's own output. Each rate is timed from the first hit to the
//! process's exit, so Wine's start-up stays out. Needs what
//! `scripts/windows-setup` installs.

use crate::fixture::{self, repo_root};
use crate::report::{Goal, Kind, Report, Row, Series};
use crate::{gdb, Options};
use anyhow::{bail, ensure, Context, Result};
use dbgkit::{ContinueStatus, EventKind, HitAction, Session};
use std::cell::{Cell, RefCell};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::rc::Rc;
use std::time::{Duration, Instant};

pub const NAME: &str = "windows";

const LOCAL: &str = "dbgkit (Windows target)";
const DBGKIT: &str = "dbgkit (winstub)";
const RAW: &str = "raw classic";
const GDB: &str = "gdb (winstub)";

const WINE: &str = "/usr/lib/wine/wine64";
const MINGW_GCC: &str = "x86_64-w64-mingw32-gcc";
const TIMER_TAG: &str = "dbgkit-bench: timed command took ";

/// The programs and the stub, built.
struct Built {
    stub: PathBuf,
    /// The engine's `count_hits` example, built for Windows.
    count_hits: PathBuf,
    loop_exe: PathBuf,
    rawloop_exe: PathBuf,
    /// `bench_func`'s address (an .exe is loaded at its link-time base under Wine).
    bench_func: u64,
}

/// A Linux path as Wine names it on its drive Z:.
fn windows_path(path: &Path) -> String {
    format!("Z:{}", path.display()).replace('/', "\\")
}

/// `wine64 EXE ARGS` in the test prefix, quiet.
fn wine(exe: &Path) -> Command {
    let mut command = Command::new(WINE);
    command.arg(exe).env("WINEDEBUG", "-all");
    if std::env::var_os("WINEPREFIX").is_none() {
        command.env("WINEPREFIX", "/var/tmp/dbgkit-wine/prefix");
    }
    command
}

fn build() -> Result<Built> {
    ensure!(
        Path::new(WINE).exists() && fixture::find_on_path(MINGW_GCC).is_some(),
        "windows: needs Wine and mingw-w64: run scripts/windows-setup first"
    );
    let root = repo_root();
    let status = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(["build", "--quiet", "--release", "--target", "x86_64-pc-windows-gnu", "-p", "dbgkit-winstub"])
        .current_dir(&root)
        .status()
        .context("running cargo build for the stub")?;
    ensure!(status.success(), "building dbgkit-winstub for x86_64-pc-windows-gnu failed (scripts/windows-setup?)");
    let status = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(["build", "--quiet", "--release", "--target", "x86_64-pc-windows-gnu", "-p", "dbgkit"])
        .args(["--example", "count_hits"])
        .current_dir(&root)
        .status()
        .context("running cargo build for count_hits")?;
    ensure!(status.success(), "building the count_hits example for x86_64-pc-windows-gnu failed");
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"));
    let stub = target.join("x86_64-pc-windows-gnu/release/dbgkit-winstub.exe");
    let count_hits = target.join("x86_64-pc-windows-gnu/release/examples/count_hits.exe");
    let work = fixture::work_dir()?;
    let loop_exe = work.join("loop.exe");
    let rawloop_exe = work.join("rawloop.exe");
    for (source, out, flags) in [("loop.c", &loop_exe, &["-O0", "-g"][..]), ("rawloop.c", &rawloop_exe, &["-O2"][..])] {
        let status = Command::new(MINGW_GCC)
            .args(flags)
            .arg("-o")
            .arg(out)
            .arg(root.join("tests/windows").join(source))
            .status()
            .with_context(|| format!("running {MINGW_GCC}"))?;
        ensure!(status.success(), "{MINGW_GCC} could not build tests/windows/{source}");
    }
    let nm = Command::new("x86_64-w64-mingw32-nm").arg(&loop_exe).output().context("running x86_64-w64-mingw32-nm")?;
    let bench_func = String::from_utf8_lossy(&nm.stdout)
        .lines()
        .find_map(|l| {
            let mut fields = l.split_whitespace();
            let address = fields.next()?;
            (fields.nth(1)? == "bench_func").then(|| u64::from_str_radix(address, 16).ok()).flatten()
        })
        .context("no bench_func in loop.exe")?;
    Ok(Built { stub, count_hits, loop_exe, rawloop_exe, bench_func })
}

/// What `loop.exe N` prints.
fn expected_output(calls: u64) -> String {
    format!("loop: sum={}", calls as u128 * (calls as u128 + 1) / 2)
}

/// The raw Win32 loop: it times itself from the first hit to the exit.
fn raw_run(built: &Built, calls: u64) -> Result<f64> {
    let out = wine(&built.rawloop_exe)
        .arg(format!("{:#x}", built.bench_func))
        .arg(windows_path(&built.loop_exe))
        .arg(calls.to_string())
        .stdin(Stdio::null())
        .output()
        .context("running rawloop.exe under wine64")?;
    let text = String::from_utf8_lossy(&out.stdout);
    ensure!(text.contains(&expected_output(calls)), "raw: the program printed {text:?}");
    let line = text.lines().find(|l| l.starts_with("rawloop: ")).with_context(|| format!("rawloop said {text:?}"))?;
    self_timed_rate("raw", line, calls)
}

/// The rate a contender that times itself prints (`hits=N seconds=S
/// exit=C`), checked: every call hit, the program ended with 0.
fn self_timed_rate(who: &str, line: &str, calls: u64) -> Result<f64> {
    let field = |name: &str| line.split_whitespace().find_map(|f| f.strip_prefix(name)).map(str::to_string);
    let hits: u64 = field("hits=").and_then(|h| h.parse().ok()).with_context(|| format!("{who}: no hit count"))?;
    let seconds: f64 = field("seconds=").and_then(|s| s.parse().ok()).with_context(|| format!("{who}: no time"))?;
    ensure!(hits == calls, "{who}: {hits} hits, expected {calls}");
    ensure!(field("exit=").as_deref() == Some("0"), "{who}: the program did not exit with 0: {line}");
    Ok(hits as f64 / seconds)
}

/// The engine's own Windows target: `count_hits.exe` times itself from
/// the first hit to the exit.
fn local_run(built: &Built, calls: u64) -> Result<f64> {
    let out = wine(&built.count_hits)
        .arg(format!("{:#x}", built.bench_func))
        .arg(windows_path(&built.loop_exe))
        .arg(calls.to_string())
        .stdin(Stdio::null())
        .output()
        .context("running count_hits.exe under wine64")?;
    let text = String::from_utf8_lossy(&out.stdout);
    ensure!(
        text.contains(&expected_output(calls)),
        "local: the program printed {text:?} ({})",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = text.lines().find(|l| l.starts_with("hits=")).with_context(|| format!("count_hits said {text:?}"))?;
    self_timed_rate("local", line, calls)
}

/// The stub under Wine on `loop.exe calls`, listening.
struct Stub {
    child: Child,
    port: u16,
}

impl Stub {
    fn start(built: &Built, calls: u64) -> Result<Stub> {
        let mut child = wine(&built.stub)
            .arg("127.0.0.1:0")
            .arg(windows_path(&built.loop_exe))
            .arg(calls.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .context("starting dbgkit-winstub under wine64")?;
        let mut lines = BufReader::new(child.stderr.take().context("stderr")?).lines();
        let port = loop {
            let line = lines.next().context("the stub ended before listening")??;
            if let Some(port) = line.strip_prefix("Listening on port ") {
                break port.trim().parse().context("the stub's port")?;
            }
        };
        // The rest of its log is not needed, but must not fill the pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Ok(Stub { child, port })
    }

    /// The program's output once the stub has ended.
    fn finish(mut self) -> Result<String> {
        let mut out = String::new();
        self.child.stdout.take().context("stdout")?.read_to_string(&mut out)?;
        self.child.wait()?;
        Ok(out)
    }
}

/// dbgkit's engine through the stub, with a fast breakpoint: its callback
/// counts, the engine resumes, and the stub runs the instruction out of line.
fn dbgkit_run(built: &Built, calls: u64, limit: Duration) -> Result<f64> {
    let stub = Stub::start(built, calls)?;
    let mut session = Session::new();
    let pid = session.connect(&format!("127.0.0.1:{}", stub.port), Some(&built.loop_exe)).context("dbgkit: connect")?;
    let hits = Rc::new(Cell::new(0u64));
    let first_hit = Rc::new(RefCell::new(None::<Instant>));
    let (counter, first) = (hits.clone(), first_hit.clone());
    session
        .add_fast_breakpoint(pid, built.bench_func, move |_| {
            if counter.get() == 0 {
                *first.borrow_mut() = Some(Instant::now());
            }
            counter.set(counter.get() + 1);
            HitAction::Continue
        })
        .context("dbgkit: add_fast_breakpoint")?;
    let deadline = Instant::now() + limit;
    let end = loop {
        let Some(event) = session.wait_event(Some(limit)).context("dbgkit: wait_event")? else {
            ensure!(Instant::now() < deadline, "dbgkit timed out ({} hits)", hits.get());
            continue;
        };
        match event.kind {
            EventKind::ProcessExited { code, .. } => {
                let end = Instant::now();
                ensure!(code == Some(0), "dbgkit: the program exited with {code:?}");
                session.continue_event(ContinueStatus::Handled)?;
                break end;
            }
            EventKind::Breakpoint { .. } => bail!("dbgkit reported a hit of a breakpoint whose callback continued"),
            _ => session.continue_event(ContinueStatus::Handled)?,
        }
    };
    drop(session);
    let output = stub.finish()?;
    ensure!(hits.get() == calls, "dbgkit: {} hits, expected {calls}", hits.get());
    ensure!(output.contains(&expected_output(calls)), "dbgkit: the program printed {output:?}");
    let start = first_hit.borrow().context("dbgkit: no hit")?;
    Ok(hits.get() as f64 / (end - start).as_secs_f64())
}

/// gdb through the stub: `commands; silent; continue; end`, the `continue`
/// from the first hit to the exit timed by gdb's Python.
fn gdb_run(gdb: &gdb::Gdb, built: &Built, calls: u64, limit: Duration) -> Result<f64> {
    let stub = Stub::start(built, calls)?;
    let script = format!(
        "set pagination off\nset confirm off\nset osabi none\ntarget remote 127.0.0.1:{port}\n\
         break *{address:#x}\ncontinue\ncommands 1\nsilent\ncontinue\nend\n\
         python import time; t0 = time.perf_counter(); gdb.execute(\"continue\"); \
         print(\"{TIMER_TAG}%.9f s\" % (time.perf_counter() - t0))\ninfo breakpoints\n",
        port = stub.port,
        address = built.bench_func
    );
    let file = fixture::work_dir()?.join(format!("windows-gdb.{}.gdb", std::process::id()));
    std::fs::write(&file, script)?;
    let run = gdb::batch(gdb, &["-x".into(), file.clone().into(), built.loop_exe.clone().into()], limit, "windows");
    let _ = std::fs::remove_file(&file);
    let run = run?;
    let output = stub.finish()?;
    let seconds: f64 = run
        .log
        .lines()
        .find_map(|l| l.strip_prefix(TIMER_TAG)?.strip_suffix(" s")?.parse().ok())
        .with_context(|| format!("gdb did not finish; its output:\n{}", run.log))?;
    let hits: u64 = run
        .log
        .lines()
        .find_map(|l| l.trim().strip_prefix("breakpoint already hit ")?.split_whitespace().next()?.parse().ok())
        .with_context(|| format!("no hit count from gdb; its output:\n{}", run.log))?;
    ensure!(hits == calls, "gdb: {hits} hits, expected {calls}");
    ensure!(output.contains(&expected_output(calls)), "gdb: the program printed {output:?}");
    // The first hit stopped before the timed continue: the rest are timed.
    Ok((hits - 1) as f64 / seconds)
}

fn progress(run_index: usize, runs: usize, tool: &str, rate: f64) {
    eprintln!("  run {}/{runs}  {tool:<24} {rate:>10.0} hits/s", run_index + 1);
}

pub fn run(opts: &Options) -> Result<Report> {
    let built = build()?;
    let calls = opts.server_calls;
    let mut series = vec![Series::new(LOCAL, calls), Series::new(DBGKIT, calls), Series::new(RAW, calls)];
    let gdb = opts.gdb.as_ref().ok().filter(|g| g.python);
    if gdb.is_some() {
        series.push(Series::new(GDB, calls));
    }
    // One Wine server for the whole benchmark: none of the contenders pays for starting it.
    let wineserver = || {
        let mut command = Command::new("/usr/lib/wine/wineserver");
        if std::env::var_os("WINEPREFIX").is_none() {
            command.env("WINEPREFIX", "/var/tmp/dbgkit-wine/prefix");
        }
        command
    };
    let _ = wineserver().arg("-p").status();
    eprintln!("{NAME}: {} runs of each; `loop.exe {calls}` under Wine", opts.runs);
    for i in 0..opts.runs {
        let rate = local_run(&built, calls)?;
        progress(i, opts.runs, LOCAL, rate);
        series[0].values.push(rate);
        let rate = dbgkit_run(&built, calls, opts.timeout)?;
        progress(i, opts.runs, DBGKIT, rate);
        series[1].values.push(rate);
        let rate = raw_run(&built, calls)?;
        progress(i, opts.runs, RAW, rate);
        series[2].values.push(rate);
        if let Some(gdb) = gdb {
            let rate = gdb_run(gdb, &built, calls, opts.timeout)?;
            progress(i, opts.runs, GDB, rate);
            series[3].values.push(rate);
        }
    }
    let _ = wineserver().arg("-k").status();
    let mut rows: Vec<Row> = series.into_iter().map(Row::Measured).collect();
    if gdb.is_none() {
        rows.push(Row::Skipped { name: GDB.into(), reason: "no gdb with Python".into() });
    }
    Ok(Report {
        name: NAME,
        measures: format!(
            "breakpoint hits per second on a Windows program under Wine (`loop.exe {calls}`, first hit to exit), \
             median of {} runs",
            opts.runs
        ),
        unit: "hits/s",
        work: "hits",
        kind: Kind::Rate,
        decimals: 0,
        context: vec![
            format!("dbgkit (Windows target): {} (release build)", built.count_hits.display()),
            format!("dbgkit-winstub: {} (release build)", built.stub.display()),
            "raw classic: tests/windows/rawloop.c, WaitForDebugEvent with the trap-flag step-over".into(),
        ],
        rows,
        goals: vec![Goal::at_least(LOCAL, RAW, 2.0)],
        notes: Vec::new(),
        also: Vec::new(),
    })
}
