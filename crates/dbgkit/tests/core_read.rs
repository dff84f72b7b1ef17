//! Reading ELF cores written by the Linux kernel and by gdb's `gcore`:
//! threads, registers (checked against gdb's view of the same core),
//! signals, memory (dumped pages and the file-backed pages the core leaves
//! out), the memory map and the executable; and damaged cores, which must
//! give an error, never a panic.

mod common;
#[path = "support/cores.rs"]
mod cores;

use common::*;
use cores::*;
use dbgkit::corefile::CoreFile;
use dbgkit::Error;
use object::{Object, ObjectSection, ObjectSymbol};
use std::collections::BTreeMap;
use std::path::Path;

/// The file address and size of a symbol of `exe`.
fn symbol_range(exe: &Path, name: &str) -> (u64, u64) {
    let data = std::fs::read(exe).unwrap();
    let file = object::File::parse(&*data).unwrap();
    let s = file.symbols().find(|s| s.name() == Ok(name)).unwrap();
    (s.address(), s.size())
}

/// The bytes of `exe`'s file at a file address in `.text`.
fn file_code(exe: &Path, address: u64, len: usize) -> Vec<u8> {
    let data = std::fs::read(exe).unwrap();
    let file = object::File::parse(&*data).unwrap();
    let text = file.section_by_name(".text").unwrap();
    let at = (text.file_range().unwrap().0 + address - text.address()) as usize;
    data[at..at + len].to_vec()
}

/// The load bias of the executable in a core: where its first mapping (offset 0) starts.
fn exe_bias(core: &CoreFile, exe: &Path) -> u64 {
    core.mapped_files()
        .iter()
        .find(|f| Path::new(&f.path) == exe && f.offset == 0)
        .unwrap_or_else(|| panic!("no mapping of {} in {:?}", exe.display(), core.mapped_files()))
        .start
}

/// gdb's `rip` and `rsp` of every thread of a core, by thread id.
fn gdb_registers(exe: &Path, core: &Path) -> Option<BTreeMap<i32, (u64, u64)>> {
    let commands = ["thread apply all p/x $rip".to_string(), "thread apply all p/x $rsp".to_string()];
    let text = gdb(&commands, &[exe.to_str().unwrap(), core.to_str().unwrap()])?;
    let mut tids = Vec::new();
    let mut values = Vec::new();
    for line in text.lines() {
        if line.starts_with("Thread ") {
            let lwp = line.split("LWP ").nth(1).and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next());
            tids.push(lwp.and_then(|t| t.parse::<i32>().ok()).unwrap_or_else(|| panic!("thread line {line:?}")));
        } else if let Some((_, v)) = line.strip_prefix('$').and_then(|l| l.split_once(" = 0x")) {
            values.push(u64::from_str_radix(v.trim(), 16).unwrap());
        }
    }
    let n = tids.len() / 2;
    assert!(n > 0 && values.len() == 2 * n, "unexpected gdb output:\n{text}");
    Some((0..n).map(|i| (tids[i], (values[i], values[n + i]))).collect())
}

/// The checks every core of `core_threads` passes, whoever wrote it.
fn check_core_threads(core: &CoreFile, exe: &Path, core_path: &Path, pid: i32) {
    assert_eq!(core.pid(), pid);
    assert_eq!(core.threads().len(), 4, "{:?}", core.threads());
    assert!(core.thread(pid).is_some(), "the leader is among the threads");
    assert_eq!(core.executable(), Some(exe));
    let process = core.process().expect("NT_PRPSINFO");
    assert_eq!(process.name, "core_threads");
    assert!(process.arguments.starts_with(exe.to_str().unwrap()), "{process:?}");
    let bias = exe_bias(core, exe);
    assert_eq!(core.auxv().entry, bias + symbol_range(exe, "_start").0);
    assert_ne!(core.auxv().execfn, 0);
    for t in core.threads() {
        assert!(t.fp_registers.is_some_and(|f| f.mxcsr != 0), "thread {} has its SSE state", t.tid);
    }
    // Memory written by the program, read from the core's own pages.
    let (marker, _) = symbol_range(exe, "marker");
    let mut words = [0u8; 64 * 8];
    core.read_memory_exact(bias + marker, &mut words).unwrap();
    for (i, w) in words.chunks_exact(8).enumerate() {
        assert_eq!(u64::from_le_bytes(w.try_into().unwrap()), 0x1000 + i as u64);
    }
    // Code: the same bytes as the executable's (from the core or from the file).
    let (act, size) = symbol_range(exe, "act");
    let mut code = vec![0u8; size as usize];
    core.read_memory_exact(bias + act, &mut code).unwrap();
    assert_eq!(code, file_code(exe, act, size as usize));
    // The map: the executable's mappings by name; the leader's stack.
    let map = core.memory_map();
    let text = map.iter().find(|r| r.start <= bias + act && bias + act < r.end).expect("a region holds act");
    assert!(text.executable && text.readable && !text.writable, "{text:?}");
    assert_eq!(Path::new(&text.path), exe);
    let leader_sp = core.thread(pid).unwrap().registers.rsp;
    assert!(map.iter().any(|r| r.start <= leader_sp && leader_sp < r.end && r.writable));
    // A partial read stops where memory stops.
    let last = map.iter().max_by_key(|r| r.end).unwrap();
    let mut over = vec![0u8; 0x2000];
    assert!(core.read_memory(last.end - 0x1000, &mut over) <= 0x1000);
    // gdb sees the same threads with the same registers.
    if let Some(theirs) = gdb_registers(exe, core_path) {
        let ours: BTreeMap<i32, (u64, u64)> =
            core.threads().iter().map(|t| (t.tid, (t.registers.rip, t.registers.rsp))).collect();
        assert_eq!(ours, theirs);
    }
}

#[test]
fn a_kernel_core_of_a_threaded_crash_reads_back() {
    let dir = scratch_dir("kernel-core");
    let exe = fixture("core_threads");
    let Some((path, pid)) = kernel_core(&exe, &["crash"], &dir) else { return };
    let core = CoreFile::open(&path).unwrap();
    check_core_threads(&core, &exe, &path, pid);
    // The faulting thread comes first, inside fault(), with its siginfo.
    let faulting = core.signalled_thread();
    assert_eq!(faulting.tid, core.threads()[0].tid);
    assert_eq!(faulting.signal, libc::SIGSEGV);
    let info = faulting.siginfo.as_ref().expect("NT_SIGINFO");
    assert_eq!((info.signal, info.code, info.fault_address), (libc::SIGSEGV, 1 /* SEGV_MAPERR */, 0));
    let (fault, size) = symbol_range(&exe, "fault");
    let bias = exe_bias(&core, &exe);
    let rip = faulting.registers.rip;
    assert!((bias + fault..bias + fault + size).contains(&rip), "rip {rip:#x} is in fault()");
    assert!(faulting.xstate.as_ref().is_some_and(|x| x.len() >= 576), "the kernel writes NT_X86_XSTATE");
}

#[test]
fn a_gdb_gcore_core_reads_back() {
    let dir = scratch_dir("gcore");
    let exe = fixture("core_threads");
    let path = dir.join("gcore");
    let commands = [
        "break checkpoint".to_string(),
        "run".into(),
        format!("gcore {}", path.display()),
        "info inferiors".into(),
        "kill".into(),
    ];
    let Some(text) = gdb(&commands, &["--args", exe.to_str().unwrap(), "break"]) else { return };
    assert!(path.is_file(), "gdb wrote no core:\n{text}");
    // `info inferiors` shows "process PID".
    let pid: i32 = text
        .split("process ")
        .nth(1)
        .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no pid in gdb's output:\n{text}"));
    let core = CoreFile::open(&path).unwrap();
    check_core_threads(&core, &exe, &path, pid);
    let (checkpoint, size) = symbol_range(&exe, "checkpoint");
    let bias = exe_bias(&core, &exe);
    let stopped = core.signalled_thread();
    assert_eq!(stopped.signal, libc::SIGTRAP);
    let rip = stopped.registers.rip;
    assert!((bias + checkpoint..bias + checkpoint + size).contains(&rip), "rip {rip:#x} is in checkpoint()");
}

/// A tiny deterministic generator: enough to vary the damage without a dependency.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

/// Everything a reader of a core may be asked, on a core that opened.
fn exercise(core: &CoreFile) {
    let _ = (core.threads(), core.process(), core.auxv(), core.executable(), core.pid(), core.signalled_thread());
    let mut buf = vec![0u8; 256];
    for region in core.memory_map().iter().take(64) {
        let n = core.read_memory(region.start, &mut buf);
        assert!(n <= buf.len());
        let _ = core.read_memory(region.end.wrapping_sub(16), &mut buf);
    }
    for t in core.threads() {
        let _ = core.read_memory(t.registers.rsp, &mut buf);
        let _ = core.read_memory(t.registers.rip, &mut buf);
    }
    let _ = core.read_memory(u64::MAX - 8, &mut buf);
}

/// Damaged copies of a real core: truncated anywhere, bits flipped in the
/// headers and notes, runs of garbage; each opens or fails with
/// `BadCoreFile`, and an opened one answers every question without panic.
fn damage(original: &[u8], rounds: u32, seed: u64) {
    let mut rng = Lcg(seed);
    // Headers and notes are where a parser can go wrong; the rest is memory.
    let notes_end = original.len().min(64 << 10);
    let (mut opened, mut refused) = (0, 0);
    for round in 0..rounds {
        let mut bytes = original.to_vec();
        match round % 4 {
            0 => bytes.truncate(rng.next() as usize % original.len()),
            1 => bytes.truncate(rng.next() as usize % notes_end),
            2 => {
                for _ in 0..(1 + rng.next() % 32) {
                    let at = rng.next() as usize % notes_end;
                    bytes[at] ^= (rng.next() & 0xff) as u8 | 1;
                }
            }
            _ => {
                let at = rng.next() as usize % notes_end;
                let len = (rng.next() as usize % 512).min(bytes.len() - at);
                for b in &mut bytes[at..at + len] {
                    *b = rng.next() as u8;
                }
            }
        }
        match CoreFile::parse(bytes) {
            Ok(core) => {
                exercise(&core);
                opened += 1;
            }
            Err(Error::BadCoreFile { reason, .. }) => {
                assert!(!reason.is_empty());
                refused += 1;
            }
            Err(other) => panic!("round {round}: not a BadCoreFile error: {other}"),
        }
    }
    assert!(refused > 0, "some damage is refused ({opened} opened)");
}

/// A core written by dbgkit of `core_threads` stopped at `checkpoint`: always at hand.
fn dbgkit_core(path: &Path) {
    use dbgkit::{EventKind, Session, SpawnOptions, Stdio};
    let exe = fixture("core_threads");
    let mut s = Session::new();
    let pid = s.spawn(&SpawnOptions::new([exe.to_str().unwrap(), "break"]).stdout(Stdio::Null)).unwrap();
    let checkpoint = exe_symbol(&s, pid, "checkpoint");
    s.add_breakpoint(pid, checkpoint).unwrap();
    run_until(&mut s, |e| matches!(e.kind, EventKind::Breakpoint { .. }));
    s.write_core(pid, path).unwrap();
    s.kill(pid).unwrap();
}

#[test]
fn damaged_cores_give_errors_never_panics() {
    let dir = scratch_dir("damaged");
    let ours = dir.join("dbgkit.core");
    dbgkit_core(&ours);
    let mut originals = vec![std::fs::read(&ours).unwrap()];
    // The kernel's too, where this machine writes cores into the working directory.
    if let Some((path, _)) = kernel_core(&fixture("core_threads"), &["crash"], &dir) {
        originals.push(std::fs::read(path).unwrap());
    }
    for (i, original) in originals.iter().enumerate() {
        exercise(&CoreFile::parse(original.clone()).unwrap());
        damage(original, 300, 0x5eed + i as u64);
    }
    // A truncated file on disk says so.
    let cut = dir.join("cut");
    std::fs::write(&cut, &originals[0][..originals[0].len() / 2]).unwrap();
    let err = CoreFile::open(&cut).unwrap_err().to_string();
    assert!(err.contains("truncated") && err.contains("cut"), "{err}");
}

#[test]
fn files_that_are_no_core_are_named_as_such() {
    let err = CoreFile::open(fixture("core_threads")).unwrap_err().to_string();
    assert!(err.contains("not a core file"), "{err}");
    let err = CoreFile::parse(b"hello".to_vec()).unwrap_err().to_string();
    assert!(err.contains("not an ELF file"), "{err}");
    assert!(matches!(CoreFile::open("/nonexistent/core"), Err(Error::Io(_))));
}
