//! `Session::write_core`: a multi-threaded program stopped at a breakpoint
//! and at a crash is written as a core, which must load in gdb (the same
//! `thread apply all bt` gdb shows live at that point), in elfutils
//! (`eu-readelf -n`, `eu-stack --core`) and in our reader (registers and
//! memory as the live session shows them, no breakpoint byte); the process
//! then runs on exactly as it would have.

mod common;
#[path = "support/cores.rs"]
mod cores;

use common::*;
use cores::*;
use dbgkit::corefile::CoreFile;
use dbgkit::{ContinueStatus, EventKind, Session, SpawnOptions, Stdio};
use std::collections::BTreeMap;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::process::Command;

/// The functions of `core_threads` itself: what every stack is checked on
/// (library frames are named differently by different tools).
const OWN_FUNCTIONS: [&str; 7] = ["fault", "checkpoint", "act", "actor", "blocked", "sleeper", "main"];

struct Stopped {
    s: Session,
    pid: i32,
    event_tid: i32,
    exe: std::path::PathBuf,
}

/// `core_threads MODE` stopped at `checkpoint` (break) or at its fault (crash).
fn stopped(mode: &str) -> Stopped {
    let exe = fixture("core_threads");
    let mut s = Session::new();
    let pid =
        s.spawn(&SpawnOptions::new([exe.to_str().unwrap(), mode]).stdout(Stdio::Piped).disable_aslr(true)).unwrap();
    if mode == "break" {
        let checkpoint = exe_symbol(&s, pid, "checkpoint");
        s.add_breakpoint(pid, checkpoint).unwrap();
    }
    let event = run_until(&mut s, |e| match e.kind {
        EventKind::Breakpoint { .. } => true,
        EventKind::Exception { signal, .. } => signal == libc::SIGSEGV,
        _ => false,
    });
    Stopped { s, pid, event_tid: event.tid, exe }
}

/// The byte at `address` in the process, as the kernel holds it (breakpoints included).
fn raw_byte(pid: i32, address: u64) -> u8 {
    let mem = std::fs::File::open(format!("/proc/{pid}/mem")).unwrap();
    let mut b = [0u8; 1];
    mem.read_exact_at(&mut b, address).unwrap();
    b[0]
}

/// Every thread's stack as our session names it, restricted to the program's own functions.
fn own_frames(s: &mut Session, pid: i32) -> BTreeMap<i32, Vec<String>> {
    let mut out = BTreeMap::new();
    for tid in s.threads(pid).unwrap() {
        let stack = s.stack(pid, tid).unwrap();
        let names = stack
            .frames
            .iter()
            .filter_map(|f| f.symbol.as_ref()?.symbol.clone())
            .filter(|n| OWN_FUNCTIONS.contains(&n.as_str()))
            .collect();
        out.insert(tid, names);
    }
    out
}

/// `eu-stack --core`'s frames per thread, restricted to the program's own functions.
fn eu_stack(exe: &Path, core: &Path) -> Option<BTreeMap<i32, Vec<String>>> {
    let out = match Command::new("eu-stack").arg("--core").arg(core).arg("-e").arg(exe).output() {
        Ok(out) => out,
        Err(e) => {
            eprintln!("eu-stack cannot run ({e}; scripts/setup installs elfutils): skipping it");
            return None;
        }
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let mut threads = BTreeMap::new();
    let mut current = None;
    for line in text.lines() {
        if let Some(tid) = line.strip_prefix("TID ").and_then(|t| t.trim_end_matches(':').parse::<i32>().ok()) {
            current = Some(tid);
            threads.insert(tid, Vec::new());
        } else if let (Some(tid), Some(name)) = (current, line.split_whitespace().nth(2)) {
            if OWN_FUNCTIONS.contains(&name) {
                threads.get_mut(&tid).unwrap().push(name.to_string());
            }
        }
    }
    assert!(!threads.is_empty(), "eu-stack read nothing:\n{text}\n{}", String::from_utf8_lossy(&out.stderr));
    Some(threads)
}

/// The note types `eu-readelf -n` lists, with their counts.
fn eu_readelf_notes(core: &Path) -> Option<BTreeMap<String, usize>> {
    let out = Command::new("eu-readelf").arg("-n").arg(core).output().ok()?;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut notes = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.len() == 3 && (words[0] == "CORE" || words[0] == "LINUX") && words[1].parse::<u64>().is_ok() {
            *notes.entry(words[2].to_string()).or_insert(0) += 1;
        }
    }
    Some(notes)
}

/// Writes the core of a stopped `core_threads` and checks it everywhere.
fn write_and_check(t: &mut Stopped, mode: &str) {
    let dir = scratch_dir(&format!("write-core-{mode}"));
    let path = dir.join("core");
    let pid = t.pid;
    let tids = t.s.threads(pid).unwrap();
    let before: Vec<_> = tids.iter().map(|&tid| t.s.registers(pid, tid).unwrap()).collect();
    let written = t.s.write_core(pid, &path).unwrap();
    assert_eq!(written.file_size, std::fs::metadata(&path).unwrap().len());
    assert!(written.memory_bytes > 1 << 20, "{written:?}");

    // Our reader: the live session's threads, registers and memory.
    let core = CoreFile::open(&path).unwrap();
    assert_eq!(core.pid(), pid);
    assert_eq!(core.threads()[0].tid, t.event_tid, "the event's thread comes first");
    let mut core_tids: Vec<i32> = core.threads().iter().map(|c| c.tid).collect();
    core_tids.sort();
    assert_eq!(core_tids, tids);
    for (&tid, regs) in tids.iter().zip(&before) {
        let c = core.thread(tid).unwrap();
        assert_eq!(&c.registers, regs, "thread {tid}");
        assert_eq!(c.fp_registers, Some(t.s.fp_registers(pid, tid).unwrap()), "thread {tid}");
        assert!(c.xstate.as_ref().is_some_and(|x| x.len() >= 576), "thread {tid} has its XSAVE area");
    }
    let first = &core.threads()[0];
    let expected_signal = if mode == "crash" { libc::SIGSEGV } else { libc::SIGTRAP };
    assert_eq!(first.signal, expected_signal);
    assert_eq!(first.siginfo.as_ref().map(|i| i.signal), Some(expected_signal));
    assert_eq!(core.executable(), Some(t.exe.as_path()));
    let process = core.process().unwrap();
    assert_eq!(process.name, "core_threads");
    assert_eq!(process.arguments, format!("{} {mode}", t.exe.display()));
    let core_map = core.memory_map();
    for region in t.s.memory_map(pid).unwrap() {
        if !core_map.iter().any(|r| r.start == region.start && r.end == region.end) {
            // Only the engine's scratch page (out-of-line breakpoints) is left out.
            assert!(region.path == dbgkit::SCRATCH_NAME && region.executable, "{region:?} is missing");
            continue;
        }
        if !region.readable || region.path.starts_with("[v") {
            continue;
        }
        let len = region.size().min(64 << 10) as usize;
        let (mut live, mut ours) = (vec![0u8; len], vec![0u8; len]);
        let n = t.s.read_memory_partial(pid, region.start, &mut live).unwrap();
        assert_eq!(core.read_memory(region.start, &mut ours[..n]), n, "{region:?}");
        assert_eq!(live[..n], ours[..n], "memory of {region:?}");
    }
    let marker = exe_symbol(&t.s, pid, "marker");
    let mut words = [0u8; 16];
    core.read_memory_exact(marker, &mut words).unwrap();
    assert_eq!(u64::from_le_bytes(words[8..].try_into().unwrap()), 0x1001);
    if mode == "break" {
        let checkpoint = exe_symbol(&t.s, pid, "checkpoint");
        assert_eq!(raw_byte(pid, checkpoint), 0xcc, "the breakpoint is planted in the process");
        let mut b = [0u8; 1];
        core.read_memory_exact(checkpoint, &mut b).unwrap();
        let symbol = common::symbol(&t.exe, "checkpoint");
        let mut original = [0u8; 1];
        t.s.read_memory(pid, checkpoint, &mut original).unwrap();
        assert_ne!(b[0], 0xcc, "no breakpoint byte in the core (file address {symbol:#x})");
        assert_eq!(b, original);
    }

    // elfutils: every note type, once per thread where the kernel writes them so.
    if let Some(notes) = eu_readelf_notes(&path) {
        let threads = tids.len();
        for (name, count) in [
            ("PRSTATUS", threads),
            ("FPREGSET", threads),
            ("X86_XSTATE", threads),
            ("PRPSINFO", 1),
            ("SIGINFO", 1),
            ("AUXV", 1),
            ("FILE", 1),
        ] {
            assert_eq!(notes.get(name), Some(&count), "{name} in {notes:?}");
        }
    }
    let ours = own_frames(&mut t.s, pid);
    if let Some(theirs) = eu_stack(&t.exe, &path) {
        assert_eq!(theirs, ours, "eu-stack's stacks (left) and the live session's (right)");
    }
    // gdb: the same stacks from the core as from a live run stopped at the same point.
    let args = [mode];
    if let (Some(live), Some(from_core)) =
        (gdb_live_stacks(&t.exe, &args, (mode == "break").then_some("checkpoint")), gdb_core_stacks(&t.exe, &path))
    {
        assert_eq!(live.len(), 4, "gdb's live stacks: {live:#?}");
        assert_eq!(from_core, live, "gdb's stacks from the core (left) and live (right)");
    }

    // The process was left as it was.
    let after: Vec<_> = tids.iter().map(|&tid| t.s.registers(pid, tid).unwrap()).collect();
    assert_eq!(after, before);
}

#[test]
fn a_core_written_at_a_breakpoint_loads_everywhere_and_the_program_runs_on() {
    let mut t = stopped("break");
    let mut pipes = t.s.take_pipes(t.pid).unwrap();
    write_and_check(&mut t, "break");
    t.s.continue_event(ContinueStatus::Handled).unwrap();
    let events = run_to_exit(&mut t.s, t.pid);
    let exit = events.last().unwrap();
    assert_eq!(exit.kind, EventKind::ProcessExited { code: Some(0), signal: None });
    assert_eq!(read_all(&mut pipes.stdout), "sum=33\n");
}

#[test]
fn a_core_written_at_a_crash_loads_everywhere_and_the_crash_goes_on() {
    let mut t = stopped("crash");
    write_and_check(&mut t, "crash");
    // Delivered, the fault kills the program as it would have without us.
    t.s.continue_event(ContinueStatus::NotHandled).unwrap();
    let events = run_to_exit(&mut t.s, t.pid);
    assert!(events.iter().any(|e| matches!(e.kind, EventKind::Exception { first_chance: false, .. })));
    assert_eq!(events.last().unwrap().kind, EventKind::ProcessExited { code: None, signal: Some(libc::SIGSEGV) });
}

#[test]
fn a_core_of_a_running_process_is_written_and_it_keeps_running() {
    let exe = fixture("spin");
    let mut s = Session::new();
    let pid = s.spawn(&SpawnOptions::new([exe.to_str().unwrap()]).stdout(Stdio::Null)).unwrap();
    run_until(&mut s, |e| matches!(&e.kind, EventKind::ModuleLoaded(m) if m.name == "libc.so.6"));
    s.continue_event(ContinueStatus::Handled).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(50));
    let dir = scratch_dir("write-core-running");
    let path = dir.join("core");
    s.write_core(pid, &path).unwrap();
    let core = CoreFile::open(&path).unwrap();
    assert_eq!(core.pid(), pid);
    assert!(core.threads()[0].siginfo.is_none() || core.threads()[0].signal == 0);
    assert!(!s.is_stopped(pid).unwrap(), "the process runs again");
    assert!(alive(pid));
    // Into a directory that does not exist: an error, no file.
    let err = s.write_core(pid, dir.join("no/such/dir/core")).unwrap_err();
    assert!(matches!(err, dbgkit::Error::Io(_)), "{err}");
    s.kill(pid).unwrap();
}
