//! Stack unwinding: the stack of each `stack_*` fixture at a breakpoint,
//! compared with gdb's backtrace of the same stop (same program, same
//! environment, no address randomisation: same addresses, same stack);
//! callers that stay put while a function is stepped through; garbage
//! registers that end the walk with a reason and no panic.
//!
//! Without gdb the tests still check the frames against the fixtures'
//! symbols.

mod common;

use common::{exe_symbol, fixture, next, run_to_exit, run_until};
use dbgkit::{EventKind, FoundBy, Module, Session, SpawnOptions, Stack, StackFrame, Stdio};
use object::{Object, ObjectSection, ObjectSymbol, SymbolKind};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The environment of every run, dbgkit's and gdb's alike: the stack then
/// starts at the same address in both.
const ENV: [(&str, &str); 2] = [("PATH", "/usr/local/bin:/usr/bin:/bin"), ("LANG", "C")];

fn options(exe: &Path) -> SpawnOptions {
    let mut options = SpawnOptions::new([exe]).disable_aslr(true).stdout(Stdio::Null).env_clear();
    for (k, v) in ENV {
        options = options.env(k, v);
    }
    options
}

/// A fixture stopped at a breakpoint.
struct Stopped {
    s: Session,
    pid: i32,
    tid: i32,
    exe: PathBuf,
    address: u64,
    breakpoint: u32,
}

impl Stopped {
    fn stack(&mut self) -> Stack {
        self.s.stack(self.pid, self.tid).unwrap()
    }

    /// What each frame is: `function` in the executable, `<signal>` for a
    /// signal trampoline, else the module's name.
    fn names(&self, stack: &Stack) -> Vec<String> {
        let modules = self.s.modules(self.pid).unwrap();
        let symbols = Symbols::of(&self.exe);
        stack.frames.iter().map(|f| describe(f, &modules, &symbols)).collect()
    }
}

/// Runs a fixture to the first hit of a breakpoint at `address_of(session, pid)`.
fn stop_at_address(name: &str, address_of: impl FnOnce(&mut Session, i32) -> u64) -> Stopped {
    let exe = fixture(name);
    let mut s = Session::new();
    let pid = s.spawn(&options(&exe)).unwrap();
    let address = address_of(&mut s, pid);
    let breakpoint = s.add_breakpoint(pid, address).unwrap();
    let e = run_until(&mut s, |e| matches!(e.kind, EventKind::Breakpoint { .. }));
    assert_eq!(s.registers(pid, e.tid).unwrap().rip, address);
    Stopped { s, pid, tid: e.tid, exe, address, breakpoint }
}

fn stop_at(name: &str, function: &str) -> Stopped {
    stop_at_address(name, |s, pid| exe_symbol(s, pid, function))
}

// ---- symbols of the executable, for the checks that need no gdb ----------

struct Symbols(Vec<(u64, u64, String)>);

impl Symbols {
    fn of(path: &Path) -> Symbols {
        let data = std::fs::read(path).unwrap();
        let file = object::File::parse(&*data).unwrap();
        let mut v: Vec<(u64, u64, String)> = file
            .symbols()
            .filter(|s| s.kind() == SymbolKind::Text && s.address() != 0)
            .filter_map(|s| Some((s.address(), s.size(), s.name().ok()?.to_string())))
            .collect();
        v.sort();
        Symbols(v)
    }

    /// The function containing a file address (the last one starting at or before it).
    fn function(&self, address: u64) -> Option<&str> {
        let i = self.0.partition_point(|s| s.0 <= address);
        let (start, size, name) = self.0.get(i.checked_sub(1)?)?;
        (size == &0 || address < start + size).then_some(name.as_str())
    }
}

fn describe(frame: &StackFrame, modules: &[Module], exe: &Symbols) -> String {
    if frame.signal_trampoline {
        return "<signal>".into();
    }
    let pc = frame.lookup_pc();
    match modules.iter().position(|m| m.contains(pc)) {
        Some(0) => exe.function(pc - modules[0].bias).unwrap_or("?").to_string(),
        Some(i) => modules[i].name.clone(),
        None => "?".into(),
    }
}

/// Whether `names` match `pattern`, where `x+` stands for one or more `x`.
fn matches(names: &[String], pattern: &[&str]) -> bool {
    match (pattern.first(), names.first()) {
        (None, None) => true,
        (Some(p), Some(n)) => match p.strip_suffix('+') {
            Some(p) => p == n && (matches(&names[1..], &pattern[1..]) || matches(&names[1..], pattern)),
            None => p == n && matches(&names[1..], &pattern[1..]),
        },
        _ => false,
    }
}

fn render(stack: &Stack, names: &[String]) -> String {
    let mut out = String::new();
    for (f, name) in stack.frames.iter().zip(names) {
        out += &format!(
            "#{:<3} pc={:#x} sp={:#x} cfa={:#x} {:?}{} {}\n",
            f.number,
            f.pc,
            f.sp,
            f.cfa,
            f.found_by,
            if f.after_call { "" } else { " (exact pc)" },
            name
        );
    }
    if let Some(reason) = &stack.stopped {
        out += reason;
        out += "\n";
    }
    out
}

fn check_shape(stopped: &Stopped, stack: &Stack, pattern: &[&str]) -> Vec<String> {
    let names = stopped.names(stack);
    assert!(matches(&names, pattern), "frames do not match {pattern:?}:\n{}", render(stack, &names));
    assert_eq!(stack.stopped, None, "the walk reaches the outermost frame:\n{}", render(stack, &names));
    let numbers: Vec<usize> = stack.frames.iter().map(|f| f.number).collect();
    assert_eq!(numbers, (0..stack.frames.len()).collect::<Vec<_>>());
    let first = &stack.frames[0];
    assert_eq!((first.pc, first.found_by, first.after_call), (stopped.address, FoundBy::Registers, false));
    names
}

// ---- gdb ------------------------------------------------------------------

/// The values gdb shows for each frame, in this order.
const GDB_VALUES: [&str; 8] = ["pc", "sp", "rbp", "rbx", "r12", "r13", "r14", "r15"];

#[derive(Debug)]
struct GdbFrame {
    line: String,
    /// `GDB_VALUES`; `None` for `<not saved>`.
    values: Vec<Option<u64>>,
}

/// gdb's backtrace at the first hit of `break *ADDRESS` (None: no gdb).
fn gdb_backtrace(exe: &Path, address: u64) -> Option<Vec<GdbFrame>> {
    let mut commands = vec![
        "set debuginfod enabled off".to_string(),
        "set disable-randomization on".into(),
        "set startup-with-shell off".into(),
        "set backtrace past-main on".into(),
        "set pagination off".into(),
        "set width 0".into(),
        "unset environment LINES".into(),
        "unset environment COLUMNS".into(),
        "handle SIGUSR1 nostop noprint pass".into(),
        format!("break *{address:#x}"),
        "run".into(),
        "bt".into(),
    ];
    commands.extend(GDB_VALUES.iter().map(|r| format!("frame apply all -q p/x ${r}")));
    commands.push("kill".into());
    // DBGKIT_TEST_GDB names another gdb (a missing one: the checks without gdb).
    let mut cmd = Command::new(std::env::var_os("DBGKIT_TEST_GDB").unwrap_or("gdb".into()));
    cmd.env_clear().envs(ENV).args(["-batch", "-nx"]);
    for c in &commands {
        cmd.arg("-ex").arg(c);
    }
    let out = match cmd.arg("--args").arg(exe).output() {
        Ok(out) => out,
        Err(e) => {
            eprintln!("gdb cannot run ({e}): checking without it");
            return None;
        }
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> =
        text.lines().filter(|l| l.starts_with('#') && l[1..].starts_with(char::is_numeric)).collect();
    let values: Vec<Option<u64>> = text
        .lines()
        .filter_map(|l| l.strip_prefix('$')?.split_once(" = ").map(|(_, v)| v))
        .map(|v| v.strip_prefix("0x").and_then(|h| u64::from_str_radix(h, 16).ok()))
        .collect();
    assert!(
        !lines.is_empty() && values.len() == lines.len() * GDB_VALUES.len(),
        "unexpected gdb output:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let n = lines.len();
    let mut frames: Vec<GdbFrame> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let frame =
            GdbFrame { line: line.to_string(), values: (0..GDB_VALUES.len()).map(|k| values[k * n + i]).collect() };
        // gdb shows functions inlined into a frame (with libc's debug
        // information, `msort_with_tmp` in itself) as frames of their own,
        // with the same pc and stack pointer: one frame for the unwinder.
        match frames.last_mut() {
            Some(last) if last.values[..2] == frame.values[..2] => {
                last.line = format!("{} [inlined into {}]", last.line, frame.line);
            }
            _ => frames.push(frame),
        }
    }
    Some(frames)
}

fn ours(frame: &StackFrame) -> Vec<Option<u64>> {
    let r = &frame.registers;
    vec![Some(frame.pc), Some(frame.sp), r.rbp, r.rbx, r.r12, r.r13, r.r14, r.r15]
}

/// Compares our stack with gdb's frame by frame: the same frames, pcs and
/// stack pointers; every register both know has the same value; a register
/// gdb knows but we do not is allowed only in frames found without CFI.
fn compare_with_gdb(stopped: &Stopped, stack: &Stack, names: &[String]) {
    let Some(gdb) = gdb_backtrace(&stopped.exe, stopped.address) else { return };
    let table = || {
        let gdb: String = gdb.iter().map(|f| format!("{}\n   {:x?}\n", f.line, f.values)).collect();
        format!("dbgkit:\n{}gdb:\n{gdb}", render(stack, names))
    };
    if std::env::var_os("DBGKIT_SHOW_STACKS").is_some() {
        eprintln!("{}\n{}", stopped.exe.display(), table());
    }
    assert_eq!(stack.frames.len(), gdb.len(), "frame counts differ\n{}", table());
    // A register whose value already differs at the stop itself (the two
    // runs are not the same process) says nothing about unwinding.
    let same_at_stop: Vec<bool> =
        (0..GDB_VALUES.len()).map(|k| ours(&stack.frames[0])[k] == gdb[0].values[k]).collect();
    for (k, same) in same_at_stop.iter().enumerate() {
        if !same {
            eprintln!("{}: {} differs at the stop itself; not compared", stopped.exe.display(), GDB_VALUES[k]);
        }
    }
    for (frame, theirs) in stack.frames.iter().zip(&gdb) {
        let mine = ours(frame);
        assert_eq!(mine[0], theirs.values[0], "pc of frame {}\n{}", frame.number, table());
        assert_eq!(mine[1], theirs.values[1], "sp of frame {}\n{}", frame.number, table());
        assert_eq!(
            frame.signal_trampoline,
            theirs.line.contains("<signal handler called>"),
            "signal frame {}\n{}",
            frame.number,
            table()
        );
        for k in (2..GDB_VALUES.len()).filter(|&k| same_at_stop[k]) {
            let what = format!("{} of frame {}\n{}", GDB_VALUES[k], frame.number, table());
            match (mine[k], theirs.values[k]) {
                (Some(a), Some(b)) => assert_eq!(a, b, "{what}"),
                (None, None) => {}
                (Some(_), None) => panic!("we claim a value gdb says is not saved: {what}"),
                (None, Some(_)) => assert!(
                    matches!(frame.found_by, FoundBy::FramePointer | FoundBy::StackTop)
                        || stack.frames[..frame.number]
                            .iter()
                            .any(|f| matches!(f.found_by, FoundBy::FramePointer | FoundBy::StackTop)),
                    "a register gdb recovers is unknown to us: {what}"
                ),
            }
        }
    }
}

// ---- the fixtures ----------------------------------------------------------

#[test]
fn recursion_five_deep_matches_gdb() {
    let mut stopped = stop_at("stack_recurse", "leaf");
    let stack = stopped.stack();
    let names = check_shape(
        &stopped,
        &stack,
        &["leaf", "recurse", "recurse", "recurse", "recurse", "recurse", "main", "libc.so.6+", "_start"],
    );
    assert!(stack.frames[1..].iter().all(|f| f.found_by == FoundBy::Cfi && f.after_call));
    // Every recursive call returns to the same place, on a higher stack.
    assert!(stack.frames[2..6].windows(2).all(|w| w[0].pc == w[1].pc && w[0].sp < w[1].sp));
    assert!(stack.frames.windows(2).all(|w| w[0].cfa == w[1].sp));
    compare_with_gdb(&stopped, &stack, &names);
}

#[test]
fn signal_handler_stack_goes_through_the_trampoline_to_the_interrupted_code() {
    let mut stopped = stop_at("stack_signal", "handler_work");
    let stack = stopped.stack();
    let names = check_shape(
        &stopped,
        &stack,
        &["handler_work", "on_usr1", "<signal>", "interrupted", "main", "libc.so.6+", "_start"],
    );
    let modules = stopped.s.modules(stopped.pid).unwrap();
    let trampoline = &stack.frames[2];
    assert!(modules.iter().find(|m| m.contains(trampoline.pc)).is_some_and(|m| m.name.starts_with("libc.so")));
    // The interrupted frame resumes right after its `syscall`: its pc is exact.
    let interrupted = &stack.frames[3];
    assert!(!interrupted.after_call);
    let mut code = [0u8; 2];
    stopped.s.read_memory(stopped.pid, interrupted.pc - 2, &mut code).unwrap();
    assert_eq!(code, [0x0f, 0x05], "the interrupted pc follows the syscall instruction");
    // The signal context gives back every register, rsp included.
    assert!(interrupted.registers.rbx.is_some() && interrupted.registers.r12.is_some());
    compare_with_gdb(&stopped, &stack, &names);
}

#[test]
fn qsort_comparator_stack_goes_through_libc_back_to_main() {
    let mut stopped = stop_at("stack_qsort", "by_value");
    let stack = stopped.stack();
    let names = check_shape(&stopped, &stack, &["by_value", "libc.so.6+", "main", "libc.so.6+", "_start"]);
    compare_with_gdb(&stopped, &stack, &names);
}

#[test]
fn thread_stack_ends_in_the_thread_start() {
    let mut stopped = stop_at("stack_thread", "in_thread");
    assert_ne!(stopped.tid, stopped.pid, "the breakpoint is hit by the new thread");
    let stack = stopped.stack();
    let names = check_shape(&stopped, &stack, &["in_thread", "worker", "libc.so.6+"]);
    compare_with_gdb(&stopped, &stack, &names);
}

#[test]
fn stack_at_a_thread_entry_stops_cleanly() {
    let mut stopped = stop_at("stack_thread", "worker");
    let stack = stopped.stack();
    // worker, start_thread, clone3: clone3 says rip is undefined.
    let names = check_shape(&stopped, &stack, &["worker", "libc.so.6", "libc.so.6"]);
    assert!(stack.frames[1].cfa < stack.frames[2].cfa);
    compare_with_gdb(&stopped, &stack, &names);
}

#[test]
fn stack_at_the_first_instruction_of_a_process_is_one_clean_frame() {
    let exe = fixture("stack_recurse");
    let mut s = Session::new();
    let pid = s.spawn(&options(&exe)).unwrap();
    let e = next(&mut s);
    assert!(matches!(e.kind, EventKind::ProcessCreated { .. }), "{e:?}");
    // The loader's `_start`: no CFI, rbp = 0 as the kernel leaves it.
    let stack = s.stack(pid, pid).unwrap();
    assert_eq!(stack.frames.len(), 1, "{stack:?}");
    assert_eq!(stack.stopped, None);
    let loader = s.modules(pid).unwrap().into_iter().find(|m| m.name.starts_with("ld-linux")).unwrap();
    assert!(loader.contains(stack.frames[0].pc));
}

#[test]
fn omitted_frame_pointers_are_unwound_with_cfi() {
    let mut stopped = stop_at("stack_nofp", "third");
    let stack = stopped.stack();
    let names = check_shape(&stopped, &stack, &["third", "second", "first", "main", "libc.so.6+", "_start"]);
    compare_with_gdb(&stopped, &stack, &names);
}

#[test]
fn debug_frame_alone_unwinds() {
    let exe = fixture("stack_nocfi");
    let data = std::fs::read(&exe).unwrap();
    let file = object::File::parse(&*data).unwrap();
    assert!(file.section_by_name(".debug_frame").is_some_and(|s| s.size() > 0));
    let mut stopped = stop_at("stack_nocfi", "inner");
    let stack = stopped.stack();
    let names = check_shape(&stopped, &stack, &["inner", "middle", "outer", "main", "libc.so.6+", "_start"]);
    assert!(stack.frames[1..=4].iter().all(|f| f.found_by == FoundBy::Cfi));
    compare_with_gdb(&stopped, &stack, &names);
}

#[test]
fn frame_pointers_unwind_code_without_cfi() {
    // At the first instruction (before `push rbp`)...
    let mut stopped = stop_at("stack_nocfi_fp", "inner");
    let stack = stopped.stack();
    let names = check_shape(&stopped, &stack, &["inner", "middle", "outer", "main", "libc.so.6+", "_start"]);
    assert_eq!(stack.frames[1].found_by, FoundBy::StackTop);
    assert_eq!(stack.frames[2].found_by, FoundBy::FramePointer);
    compare_with_gdb(&stopped, &stack, &names);
    // ...and inside the body, after the frame is set up.
    let mut stopped = stop_at_address("stack_nocfi_fp", |s, pid| {
        let inner = exe_symbol(s, pid, "inner");
        let mut code = [0u8; 32];
        s.read_memory(pid, inner, &mut code).unwrap();
        let at = code.windows(3).position(|w| w == [0x48, 0x89, 0xe5]).expect("mov rbp, rsp in inner");
        inner + at as u64 + 3
    });
    let stack = stopped.stack();
    let names = check_shape(&stopped, &stack, &["inner", "middle", "outer", "main", "libc.so.6+", "_start"]);
    assert_eq!(stack.frames[1].found_by, FoundBy::FramePointer);
    compare_with_gdb(&stopped, &stack, &names);
}

#[test]
fn vdso_frames_are_unwound_from_the_image_in_memory() {
    // Planted once libc is loaded: a breakpoint's scratch page mapped near
    // the vDSO earlier would move libc, and gdb's run would differ.
    let exe = fixture("stack_vdso");
    let mut s = Session::new();
    let pid = s.spawn(&options(&exe)).unwrap();
    let main_address = exe_symbol(&s, pid, "main");
    let main = s.add_breakpoint(pid, main_address).unwrap();
    run_until(&mut s, |e| e.kind == EventKind::Breakpoint { id: main, address: main_address });
    s.remove_breakpoint(main).unwrap();
    let vdso = s.modules(pid).unwrap().into_iter().find(|m| m.path == Path::new("[vdso]")).expect("a vDSO");
    let mut image = vec![0u8; (vdso.end() - vdso.bias) as usize];
    s.read_memory(pid, vdso.bias, &mut image).unwrap();
    let file = object::File::parse(&*image).unwrap();
    let symbol = file.dynamic_symbols().find(|s| s.name() == Ok("__vdso_clock_gettime")).expect("__vdso_clock_gettime");
    let address = vdso.bias + symbol.address();
    let breakpoint = s.add_breakpoint(pid, address).unwrap();
    s.continue_event(dbgkit::ContinueStatus::Handled).unwrap();
    let e = run_until(&mut s, |e| matches!(e.kind, EventKind::Breakpoint { .. }));
    assert_eq!(e.kind, EventKind::Breakpoint { id: breakpoint, address });
    let mut stopped = Stopped { s, pid, tid: e.tid, exe, address, breakpoint };
    let stack = stopped.stack();
    let names =
        check_shape(&stopped, &stack, &["linux-vdso.so.1", "libc.so.6", "ask_time", "main", "libc.so.6+", "_start"]);
    compare_with_gdb(&stopped, &stack, &names);
}

// ---- stepping: callers stay put -------------------------------------------

/// Steps through `function` (and what it calls) instruction by instruction
/// until it returns; at every step the frames of its callers must be the
/// ones seen at its entry: the CFI (or frame-pointer logic) holds at every
/// instruction of prologues, bodies and epilogues.
fn callers_stay_put_while_stepping(name: &str, function: &str) {
    let mut stopped = stop_at(name, function);
    let (pid, tid) = (stopped.pid, stopped.tid);
    // Recursion would hit it again while stepping.
    stopped.s.remove_breakpoint(stopped.breakpoint).unwrap();
    let at_entry = stopped.stack();
    assert_eq!(at_entry.stopped, None);
    let callers: Vec<(u64, u64, u64)> = at_entry.frames[1..].iter().map(|f| (f.pc, f.sp, f.cfa)).collect();
    let return_address = callers[0].0;
    let mut steps = 0;
    loop {
        stopped.s.step_into(pid, tid).unwrap();
        let e = next(&mut stopped.s);
        assert!(matches!(e.kind, EventKind::StepComplete { .. }), "{e:?}");
        steps += 1;
        let rip = stopped.s.registers(pid, tid).unwrap().rip;
        if rip == return_address {
            break;
        }
        let stack = stopped.stack();
        let names = stopped.names(&stack);
        let frames: Vec<(u64, u64, u64)> = stack.frames.iter().map(|f| (f.pc, f.sp, f.cfa)).collect();
        assert!(
            stack.stopped.is_none() && frames.ends_with(&callers),
            "step {steps} at {rip:#x}: the callers changed\n{}",
            render(&stack, &names)
        );
        assert!(steps < 10_000, "{function} does not return");
    }
    assert!(steps > 5);
    stopped.s.continue_event(dbgkit::ContinueStatus::Handled).unwrap();
    run_to_exit(&mut stopped.s, pid);
}

#[test]
fn callers_stay_put_while_stepping_with_cfi() {
    callers_stay_put_while_stepping("stack_nofp", "second");
    callers_stay_put_while_stepping("stack_recurse", "recurse");
}

#[test]
fn callers_stay_put_while_stepping_with_debug_frame() {
    callers_stay_put_while_stepping("stack_nocfi", "middle");
}

#[test]
fn callers_stay_put_while_stepping_with_frame_pointers() {
    callers_stay_put_while_stepping("stack_nocfi_fp", "middle");
}

// ---- garbage ---------------------------------------------------------------

#[test]
fn garbage_registers_end_the_walk_with_a_reason() {
    let mut stopped = stop_at("stack_recurse", "leaf");
    let (pid, tid) = (stopped.pid, stopped.tid);
    let good = stopped.s.registers(pid, tid).unwrap();
    let before = stopped.stack();

    let mut bad = good;
    (bad.rip, bad.rsp, bad.rbp) = (0x30, 0x10, 0x20);
    stopped.s.set_registers(pid, tid, &bad).unwrap();
    let stack = stopped.stack();
    assert_eq!(stack.frames.len(), 1);
    assert_eq!(stack.frames[0].pc, 0x30);
    assert_eq!(stack.stopped.as_deref(), Some("unwind stopped: no unwind information for 0x30 and no frame pointer"));

    // A good pc (with CFI) on a garbage stack.
    bad = good;
    bad.rsp = 0x10;
    stopped.s.set_registers(pid, tid, &bad).unwrap();
    let stack = stopped.stack();
    assert_eq!(stack.frames.len(), 1);
    assert_eq!(stack.stopped.as_deref(), Some("unwind stopped: cannot read memory at 0x10"));

    // A stack of random words.
    bad = good;
    bad.rsp = good.rsp - 0x1000;
    let noise: Vec<u8> = (0..0x1000u64).map(|i| (i.wrapping_mul(0x9e37_79b9) >> 7) as u8).collect();
    let mut saved = vec![0u8; noise.len()];
    stopped.s.read_memory(pid, bad.rsp, &mut saved).unwrap();
    stopped.s.write_memory(pid, bad.rsp, &noise).unwrap();
    stopped.s.set_registers(pid, tid, &bad).unwrap();
    let stack = stopped.stack();
    assert!(stack.stopped.as_deref().is_some_and(|r| r.starts_with("unwind stopped: ")), "{stack:?}");
    stopped.s.write_memory(pid, bad.rsp, &saved).unwrap();

    // A pc outside every module with a good stack: a call through a bad
    // pointer; the return address on top of the stack finds the caller.
    bad = good;
    bad.rip = 0x1234;
    stopped.s.set_registers(pid, tid, &bad).unwrap();
    let stack = stopped.stack();
    assert_eq!(stack.frames[1].found_by, FoundBy::StackTop);
    let pcs = |s: &Stack| s.frames.iter().map(|f| f.pc).collect::<Vec<_>>();
    assert_eq!(pcs(&stack)[1..], pcs(&before)[1..]);

    stopped.s.set_registers(pid, tid, &good).unwrap();
    assert_eq!(stopped.stack(), before);
    stopped.s.continue_event(dbgkit::ContinueStatus::Handled).unwrap();
    let events = run_to_exit(&mut stopped.s, pid);
    assert!(
        events.iter().any(|e| matches!(e.kind, EventKind::ProcessExited { code: Some(0), .. })),
        "the fixture runs on as if nothing happened"
    );
}
