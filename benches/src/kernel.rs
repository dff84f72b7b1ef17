//! A kernel in QEMU through its gdbstub, dbgkit against gdb on the same
//! kernel in the same run: the time from connecting (with vmlinux's
//! symbols) to the first hit of a breakpoint set by name on
//! `__x64_sys_getpid`, and how fast each reads the kernel's memory from the
//! stub once stopped there. Each contender gets a fresh QEMU, stopped at
//! reset (`-S`, `nokaslr`), so both times include the same boot. The bytes
//! each read are compared.
//!
//! Needs the kernel scripts/qemu-kernel fetches (`$KWORK`, default
//! /var/tmp/dbgkit-harness/kernel) and qemu-system-x86_64.

use crate::report::{Goal, Kind, Report, Row, Series};
use crate::{gdb, Options};
use anyhow::{bail, ensure, Context, Result};
use dbgkit::{ContinueStatus, EventKind, Session};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const NAME: &str = "kernel";

const DBGKIT: &str = "dbgkit";
const GDB: &str = "gdb";
/// The kernel memory both read: from `_text` on (code and read-only data).
const READ_MIB: u64 = 16;
const BREAK_AT: &str = "__x64_sys_getpid";

/// Where the kernel's files are.
fn kernel_dir() -> PathBuf {
    std::env::var_os("KWORK").map(PathBuf::from).unwrap_or_else(|| "/var/tmp/dbgkit-harness/kernel".into())
}

/// A QEMU machine stopped at reset, its stub on a free loopback port; killed when dropped.
struct Qemu {
    child: Child,
    address: String,
}

impl Qemu {
    fn start(kwork: &Path) -> Result<Qemu> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = Command::new("qemu-system-x86_64")
            .args(["-accel", "tcg", "-m", "512M", "-smp", "1", "-nographic", "-no-reboot", "-kernel"])
            .arg(kwork.join("vmlinuz"))
            .arg("-initrd")
            .arg(kwork.join("initramfs.cpio.gz"))
            .args(["-append", "console=ttyS0 nokaslr panic=-1", "-gdb"])
            .arg(format!("tcp:127.0.0.1:{port}"))
            .arg("-S")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting qemu-system-x86_64 (scripts/qemu-kernel installs it)")?;
        // The stub listens once QEMU has set up; the clock starts after this.
        std::thread::sleep(Duration::from_millis(500));
        Ok(Qemu { child, address: format!("127.0.0.1:{port}") })
    }
}

impl Drop for Qemu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// dbgkit: connect with vmlinux, break on the function by name, run to it; then read.
fn dbgkit_run(kwork: &Path, text: u64, bytes: &mut [u8], limit: Duration) -> Result<(Duration, Duration)> {
    let qemu = Qemu::start(kwork)?;
    let start = Instant::now();
    let mut session = Session::new();
    let pid = session.connect(&qemu.address, Some(&kwork.join("vmlinux"))).context("dbgkit: connect")?;
    let deadline = Instant::now() + limit;
    let mut id = None;
    loop {
        ensure!(Instant::now() < deadline, "dbgkit: no breakpoint hit within {limit:?}");
        let Some(event) = session.wait_event(Some(limit)).context("dbgkit: wait_event")? else { continue };
        match event.kind {
            EventKind::BreakIn if id.is_none() => {
                id = Some(session.add_breakpoint_at(pid, BREAK_AT, Default::default())?);
            }
            EventKind::Breakpoint { id: hit, .. } if Some(hit) == id => break,
            EventKind::ProcessExited { .. } => bail!("dbgkit: the machine went away"),
            _ => {}
        }
        session.continue_event(ContinueStatus::Handled)?;
    }
    let to_hit = start.elapsed();
    let start = Instant::now();
    session.read_memory(pid, text, bytes).context("dbgkit: read_memory")?;
    let read = start.elapsed();
    drop(session);
    drop(qemu);
    Ok((to_hit, read))
}

const HIT_TAG: &str = "dbgkit-bench: hit after ";
const READ_TAG: &str = "dbgkit-bench: read took ";

/// gdb: the same, timed from gdb's Python; the dump goes to `dump`.
fn gdb_run(gdb: &gdb::Gdb, kwork: &Path, text: u64, dump: &Path, limit: Duration) -> Result<(Duration, Duration)> {
    let qemu = Qemu::start(kwork)?;
    let end = text + (READ_MIB << 20);
    let script = format!(
        "set pagination off\n\
         set confirm off\n\
         python import time; t0 = time.perf_counter()\n\
         file {vmlinux}\n\
         target remote {address}\n\
         hbreak {BREAK_AT}\n\
         continue\n\
         python print(\"{HIT_TAG}%.6f s\" % (time.perf_counter() - t0))\n\
         python t1 = time.perf_counter(); gdb.execute(\"dump binary memory {dump} {text:#x} {end:#x}\"); print(\"{READ_TAG}%.6f s\" % (time.perf_counter() - t1))\n\
         kill\n",
        vmlinux = kwork.join("vmlinux").display(),
        address = qemu.address,
        dump = dump.display(),
    );
    let file = std::env::temp_dir().join(format!("dbgkit-bench-kernel.{}.gdb", std::process::id()));
    std::fs::write(&file, script)?;
    let run = gdb::batch(gdb, &["-x".into(), file.clone().into()], limit, "kernel");
    let _ = std::fs::remove_file(&file);
    drop(qemu);
    let run = run?;
    let seconds = |tag: &str| {
        run.log
            .lines()
            .find_map(|l| l.strip_prefix(tag)?.strip_suffix(" s")?.parse::<f64>().ok())
            .map(Duration::from_secs_f64)
            .with_context(|| format!("gdb did not get that far; its output:\n{}", run.log))
    };
    Ok((seconds(HIT_TAG)?, seconds(READ_TAG)?))
}

pub fn run(opts: &Options) -> Result<Report> {
    let kwork = kernel_dir();
    for file in ["vmlinuz", "initramfs.cpio.gz", "vmlinux", "System.map"] {
        ensure!(
            kwork.join(file).exists(),
            "{} is missing: scripts/qemu-kernel fetches the kernel (~930 MB) into {}",
            kwork.join(file).display(),
            kwork.display()
        );
    }
    let map = std::fs::read_to_string(kwork.join("System.map"))?;
    let text = map
        .lines()
        .find_map(|l| {
            let mut f = l.split_whitespace();
            let (a, _, n) = (f.next()?, f.next()?, f.next()?);
            (n == "_text").then(|| u64::from_str_radix(a, 16).ok()).flatten()
        })
        .context("no _text in System.map")?;
    // A boot under TCG takes tens of seconds: the limit is per run, not per request.
    let limit = opts.timeout.max(Duration::from_secs(300));
    let size = (READ_MIB << 20) as usize;
    let gdb = opts.gdb.as_ref();
    let mut hit = (Series::new(DBGKIT, 1), Series::new(GDB, 1));
    let mut read = (Series::new(DBGKIT, READ_MIB), Series::new(GDB, READ_MIB));
    let mb_per_s = |d: Duration| size as f64 / d.as_secs_f64() / 1e6;
    let dump = std::env::temp_dir().join(format!("dbgkit-bench-kernel.{}.bin", std::process::id()));
    eprintln!("{NAME}: {} runs of each; QEMU (TCG) boots to the first getpid every time", opts.runs);
    for i in 0..opts.runs {
        let mut bytes = vec![0u8; size];
        let (to_hit, reading) = dbgkit_run(&kwork, text, &mut bytes, limit)?;
        eprintln!(
            "  run {}/{}  {DBGKIT:<6} hit after {:>6.2} s, read {:>7.1} MB/s",
            i + 1,
            opts.runs,
            to_hit.as_secs_f64(),
            mb_per_s(reading)
        );
        hit.0.values.push(to_hit.as_secs_f64());
        read.0.values.push(mb_per_s(reading));
        if let Ok(gdb) = gdb {
            let (to_hit, reading) = gdb_run(gdb, &kwork, text, &dump, limit)?;
            let theirs = std::fs::read(&dump).context("gdb's dump")?;
            let _ = std::fs::remove_file(&dump);
            ensure!(theirs.len() == size, "gdb dumped {} bytes, expected {size}", theirs.len());
            let differ = theirs.iter().zip(&bytes).filter(|(a, b)| a != b).count();
            ensure!(differ == 0, "gdb and dbgkit read different kernel memory ({differ} bytes differ)");
            eprintln!(
                "  run {}/{}  {GDB:<6} hit after {:>6.2} s, read {:>7.1} MB/s",
                i + 1,
                opts.runs,
                to_hit.as_secs_f64(),
                mb_per_s(reading)
            );
            hit.1.values.push(to_hit.as_secs_f64());
            read.1.values.push(mb_per_s(reading));
        }
    }
    let mut notes = Vec::new();
    let (hit_gdb, read_gdb) = match gdb {
        Ok(g) => {
            notes.push(gdb::version(g));
            (Row::Measured(hit.1), Row::Measured(read.1))
        }
        Err(reason) => (
            Row::Skipped { name: GDB.into(), reason: reason.clone() },
            Row::Skipped { name: GDB.into(), reason: reason.clone() },
        ),
    };
    notes.push("both times include QEMU's TCG boot to the first getpid; the difference is each debugger's own".into());
    let memory = Report {
        name: NAME,
        measures: format!(
            "MB/s reading {READ_MIB} MiB of kernel memory from _text through the stub, stopped at the hit"
        ),
        unit: "MB/s",
        work: "MiB",
        kind: Kind::Rate,
        decimals: 1,
        context: vec![
            "dbgkit: Session::read_memory; gdb: dump binary memory (timed in gdb's Python)".into(),
            "checked: both read the same bytes".into(),
        ],
        rows: vec![Row::Measured(read.0), read_gdb],
        goals: vec![Goal::at_least(DBGKIT, GDB, 1.0)],
        notes: Vec::new(),
        also: Vec::new(),
    };
    Ok(Report {
        name: NAME,
        measures: format!(
            "seconds from connecting (vmlinux's symbols loaded, `{BREAK_AT}` set by name) to its first hit, median of {} runs",
            opts.runs
        ),
        unit: "s",
        work: "hits",
        kind: Kind::Time,
        decimals: 2,
        context: vec![
            format!("QEMU: qemu-system-x86_64 -accel tcg -m 512M -smp 1 -S, `nokaslr`, the kernel of {}", kwork.display()),
            "dbgkit: Session::connect(ADDRESS, vmlinux), add_breakpoint_at on the break-in, continue; \
             gdb: file vmlinux, target remote, hbreak, continue"
                .into(),
        ],
        rows: vec![Row::Measured(hit.0), hit_gdb],
        goals: vec![Goal::at_most(DBGKIT, GDB, 1.0)],
        notes,
        also: vec![memory],
    })
}
