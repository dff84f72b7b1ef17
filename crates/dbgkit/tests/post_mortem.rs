//! Post-mortem debugging: a core file opened as a read-only target. Its
//! stacks must be the ones gdb shows for the same core (kernel cores, gdb's
//! `gcore`, and dbgkit's own), every read works, and what would run or
//! change the process is refused clearly.

mod common;
#[path = "support/cores.rs"]
mod cores;

use common::{fixture, next, run_until};
use cores::{gdb, gdb_core_stacks, kernel_core, scratch_dir};
use dbgkit::{ContinueStatus, Error, EventKind, Session, SpawnOptions, Stdio};
use std::path::Path;

/// Every frame of every thread as `function at file:line` (the file's
/// last component), threads sorted: the shape `cores::parse_stacks` gives
/// gdb's output, with gdb's file names cut the same way.
fn our_stacks(s: &mut Session, pid: i32) -> Vec<Vec<String>> {
    let mut stacks = Vec::new();
    for tid in s.threads(pid).unwrap() {
        let stack = s.stack(pid, tid).unwrap();
        let mut frames = Vec::new();
        for frame in &stack.frames {
            let place = frame.symbol.as_ref().expect("every frame is named");
            // Inlined calls are frames of their own, innermost first, as gdb shows them.
            let chain = if place.inlined.is_empty() { vec![None] } else { place.inlined.iter().map(Some).collect() };
            for (i, inline) in chain.iter().enumerate() {
                let function = inline
                    .and_then(|f| f.function.clone())
                    .or_else(|| (i == 0).then(|| place.symbol.clone()).flatten())
                    .unwrap_or_else(|| "??".into());
                let location = inline
                    .and_then(|f| f.location.clone())
                    .or_else(|| (i == 0).then(|| place.location.clone()).flatten());
                let at = location
                    .map(|l| format!("{}:{}", Path::new(&l.file).file_name().unwrap().to_string_lossy(), l.line))
                    .unwrap_or_default();
                frames.push(format!("{function} at {at}"));
            }
        }
        stacks.push(frames);
    }
    stacks.sort();
    stacks
}

/// gdb's stacks of a core in the same shape, less the frames gdb makes up:
/// "tail call frames" (a function that jumped to its callee has no frame
/// of its own; gdb rebuilds one from DWARF call-site records) are dropped,
/// and our stacks are cut after `main` as gdb's `bt` is.
fn gdb_stacks_short(exe: &Path, core: &Path) -> Option<Vec<Vec<String>>> {
    let _ = gdb_core_stacks;
    let commands = ["thread apply all frame apply all -q info frame".to_string()];
    let text = gdb(&commands, &[exe.to_str().unwrap(), core.to_str().unwrap()])?;
    let mut stacks: Vec<Vec<String>> = Vec::new();
    let mut frame: Option<(String, String)> = None;
    let mut tail_call = false;
    let flush = |stacks: &mut Vec<Vec<String>>, frame: &mut Option<(String, String)>, tail_call: bool| {
        if let (Some((function, place)), Some(stack)) = (frame.take(), stacks.last_mut()) {
            if !tail_call {
                stack.push(format!("{function} at {place}"));
            }
        }
    };
    for line in text.lines() {
        if line.starts_with("Thread ") && line.ends_with("):") {
            flush(&mut stacks, &mut frame, tail_call);
            stacks.push(Vec::new());
        } else if line.starts_with("Stack level ") {
            flush(&mut stacks, &mut frame, tail_call);
            tail_call = false;
        } else if let Some(rest) = line.trim_start().strip_prefix("rip = ") {
            // ` rip = 0x7ffff7e4a2ec in read (../sysdeps/unix/sysv/linux/read.c:26); saved rip = ...`
            let after = rest.split_once(" in ").map(|(_, a)| a).unwrap_or("??");
            let function = after.split(" (").next().unwrap_or(after).split(';').next().unwrap_or("").trim();
            let place = after.split_once(" (").map(|(_, p)| p.split(')').next().unwrap_or("")).unwrap_or("");
            let short = Path::new(place).file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
            frame = Some((function.to_string(), short));
        } else if line.trim_start().starts_with("tail call frame") {
            tail_call = true;
        }
    }
    flush(&mut stacks, &mut frame, tail_call);
    stacks.sort();
    Some(stacks)
}

/// Our stacks as gdb's `bt` shows them: nothing past `main`.
fn until_main(mut stacks: Vec<Vec<String>>) -> Vec<Vec<String>> {
    for stack in &mut stacks {
        if let Some(i) = stack.iter().position(|f| f.starts_with("main at ")) {
            stack.truncate(i + 1);
        }
    }
    stacks.sort();
    stacks
}

/// Opens a core and checks the replay: the process, its threads, its
/// modules, then the fatal signal on the faulting thread (when there is one).
fn open(s: &mut Session, core: &Path, exe: &Path) -> (i32, Option<dbgkit::Event>) {
    let pid = s.open_core(core, Some(exe)).unwrap();
    let mut exception = None;
    let mut modules = Vec::new();
    loop {
        let e = match s.wait_event(Some(std::time::Duration::from_millis(100))) {
            Ok(Some(e)) => e,
            Ok(None) | Err(Error::AllProcessesStopped) => break,
            Err(e) => panic!("{e}"),
        };
        match &e.kind {
            EventKind::ModuleLoaded(m) => modules.push(m.name.clone()),
            EventKind::Exception { .. } => exception = Some(e.clone()),
            _ => {}
        }
        if s.continue_event(ContinueStatus::Handled).is_err() {
            break;
        }
    }
    assert!(modules.iter().any(|m| m == "libc.so.6"), "libraries come from the core's link_map: {modules:?}");
    (pid, exception)
}

#[test]
fn a_kernel_core_of_a_threaded_crash_has_gdbs_stacks_and_the_fault() {
    let dir = scratch_dir("post-mortem-kernel");
    let exe = fixture("core_threads");
    let Some((path, crashed_pid)) = kernel_core(&exe, &["crash"], &dir) else { return };
    let mut s = Session::new();
    let (pid, exception) = open(&mut s, &path, &exe);
    assert_eq!(pid, crashed_pid);
    assert_eq!(s.target_kind(pid).unwrap(), "core file");
    let e = exception.expect("the fatal signal is an event");
    let EventKind::Exception { signal, fault_address, first_chance, address, .. } = e.kind else { unreachable!() };
    assert_eq!((signal, fault_address, first_chance), (libc::SIGSEGV, Some(0), false));
    let place = s.symbolize(pid, address).unwrap();
    assert_eq!(place.symbol.as_deref(), Some("fault"), "the faulting thread is in fault(): {place}");
    assert_eq!(s.threads(pid).unwrap().len(), 4);

    let ours = until_main(our_stacks(&mut s, pid));
    if let Some(theirs) = gdb_stacks_short(&exe, &path) {
        assert_eq!(ours, theirs, "thread apply all bt");
    }
    // Reads work: the evaluator, memory, a global.
    assert_eq!(s.eval(pid, e.tid, "@rip").unwrap(), address);
    let sum = s.resolve(pid, "core_threads!sum").unwrap();
    let mut word = [0u8; 8];
    s.read_memory(pid, sum, &mut word).unwrap();
}

#[test]
fn cores_written_by_gdb_and_by_dbgkit_show_the_live_stacks() {
    let dir = scratch_dir("post-mortem-written");
    let exe = fixture("core_threads");
    // dbgkit's own core, at the breakpoint in checkpoint().
    let ours_path = dir.join("dbgkit.core");
    let live_stacks;
    {
        let mut s = Session::new();
        let options = SpawnOptions::new([exe.to_str().unwrap(), "break"]).stdout(Stdio::Null).disable_aslr(true);
        let pid = s.spawn(&options).unwrap();
        let at = s.add_breakpoint_at(pid, "core_threads!checkpoint", Default::default()).unwrap();
        run_until(&mut s, |e| matches!(e.kind, EventKind::Breakpoint { id, .. } if id == at));
        live_stacks = our_stacks(&mut s, pid);
        s.write_core(pid, &ours_path).unwrap();
        s.kill(pid).unwrap();
    }
    let mut s = Session::new();
    let (pid, exception) = open(&mut s, &ours_path, &exe);
    assert!(exception.is_some_and(|e| matches!(e.kind, EventKind::Exception { signal: libc::SIGTRAP, .. })));
    assert_eq!(our_stacks(&mut s, pid), live_stacks, "the core shows the stacks the live process had");
    if let Some(theirs) = gdb_stacks_short(&exe, &ours_path) {
        assert_eq!(until_main(our_stacks(&mut s, pid)), theirs, "gdb reads the same stacks from dbgkit's core");
    }

    // gdb's gcore of the same stop.
    let gcore = dir.join("gdb.core");
    let commands = ["break checkpoint".to_string(), "run".into(), format!("gcore {}", gcore.display()), "kill".into()];
    if gdb(&commands, &["--args", exe.to_str().unwrap(), "break"]).is_some() {
        let mut s = Session::new();
        let (pid, _) = open(&mut s, &gcore, &exe);
        let theirs = gdb_stacks_short(&exe, &gcore).unwrap();
        assert_eq!(until_main(our_stacks(&mut s, pid)), theirs, "gcore's core");
    }
}

#[test]
fn a_core_refuses_to_run_or_change_and_stays_at_its_event() {
    let dir = scratch_dir("post-mortem-refusals");
    let exe = fixture("core_threads");
    let core = dir.join("core");
    {
        let mut s = Session::new();
        let pid = s.spawn(&SpawnOptions::new([exe.to_str().unwrap(), "crash"]).stdout(Stdio::Null)).unwrap();
        run_until(&mut s, |e| matches!(e.kind, EventKind::Exception { .. }));
        s.write_core(pid, &core).unwrap();
        s.kill(pid).unwrap();
    }
    let mut s = Session::new();
    let pid = s.open_core(&core, Some(&exe)).unwrap();
    let last = loop {
        let e = next(&mut s);
        if matches!(e.kind, EventKind::Exception { .. }) {
            break e;
        }
        s.continue_event(ContinueStatus::Handled).unwrap();
    };
    let not_supported = |r: Result<(), Error>, what: &str| match r {
        Err(e @ Error::NotSupported { .. }) => assert!(e.to_string().ends_with("(core file)"), "{what}: {e}"),
        other => panic!("{what}: expected NotSupported, got {other:?}"),
    };
    not_supported(s.continue_event(ContinueStatus::Handled), "continue");
    not_supported(s.add_breakpoint(pid, last.kind_address()).map(drop), "breakpoint");
    not_supported(s.write_memory(pid, 0x1000, &[0]), "write");
    not_supported(s.kill(pid), "kill");
    not_supported(s.step_into(pid, last.tid), "step");
    // Still at the event, still readable.
    assert_eq!(s.registers(pid, last.tid).unwrap().rip, last.kind_address());
    s.detach(pid).unwrap();
    assert!(s.processes().is_empty());
    let _ = dbgkit::Event::new(0, 0, EventKind::BreakIn);
}

trait Address {
    fn kind_address(&self) -> u64;
}

impl Address for dbgkit::Event {
    fn kind_address(&self) -> u64 {
        match self.kind {
            EventKind::Exception { address, .. } => address,
            _ => panic!("{self:?}"),
        }
    }
}
