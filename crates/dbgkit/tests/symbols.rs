//! Symbols: names for every address (checked against binutils addr2line),
//! separate debug files, PLT names, lookups and their errors.

mod common;

use common::*;
use dbgkit::{ContinueStatus, Error, EventKind, Session, SpawnOptions, Stdio};
use object::{Object, ObjectSection};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Stops a fresh process of `exe` at `main`; returns the session and pid.
fn stopped_in_main(exe: &Path, args: &[&str]) -> (Session, i32) {
    let mut s = Session::new();
    let mut argv = vec![exe.to_str().unwrap()];
    argv.extend_from_slice(args);
    let pid = s.spawn(&SpawnOptions::new(argv).stdout(Stdio::Null)).unwrap();
    run_until(&mut s, |e| matches!(&e.kind, EventKind::ModuleLoaded(m) if m.name == "libc.so.6"));
    let main = s.lookup(pid, "main").unwrap();
    s.add_breakpoint(pid, main).unwrap();
    s.continue_event(ContinueStatus::Handled).unwrap();
    run_until(&mut s, |e| matches!(e.kind, EventKind::Breakpoint { .. }));
    (s, pid)
}

/// binutils' answer for file addresses: per address, the inline chain as (function, file name, line).
fn addr2line(exe: &Path, addresses: &[u64]) -> Vec<Vec<(String, String, u32)>> {
    let input: String = addresses.iter().map(|a| format!("{a:#x}\n")).collect();
    let mut child = Command::new("addr2line")
        .args(["-f", "-i", "-C", "-a", "-e", exe.to_str().unwrap()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("binutils addr2line (installed by scripts/setup)");
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), input.as_bytes()).unwrap();
    drop(child.stdin.take());
    let out = String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap();
    let mut result: Vec<Vec<(String, String, u32)>> = Vec::new();
    let mut lines = out.lines().peekable();
    while let Some(line) = lines.next() {
        if line.starts_with("0x") {
            result.push(Vec::new());
            continue;
        }
        let function = line.to_string();
        let place = lines.next().unwrap_or("??:0");
        let (file, line_no) = place.rsplit_once(':').unwrap_or((place, "0"));
        let line_no: u32 = line_no.split_whitespace().next().unwrap_or("0").parse().unwrap_or(0);
        let file = Path::new(file).file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
        result.last_mut().unwrap().push((function, file, line_no));
    }
    result
}

fn text_range(exe: &Path) -> (u64, u64) {
    let data = std::fs::read(exe).unwrap();
    let file = object::File::parse(&*data).unwrap();
    let text = file.section_by_name(".text").unwrap();
    (text.address(), text.address() + text.size())
}

#[test]
fn every_text_address_agrees_with_binutils_addr2line() {
    let exe = fixture("inline");
    let (mut s, pid) = stopped_in_main(&exe, &[]);
    let bias = s.modules(pid).unwrap()[0].bias;
    let (start, end) = text_range(&exe);
    let addresses: Vec<u64> = (start..end).collect();
    let expected = addr2line(&exe, &addresses);
    assert_eq!(expected.len(), addresses.len());
    let mut compared = 0;
    let mut inlined_seen = 0;
    for (address, want) in addresses.iter().zip(&expected) {
        let got = s.symbolize(pid, bias + address).unwrap();
        // Padding between functions has no line: binutils names the function
        // before it, we name none. Compare where the debug information speaks.
        // (binutils also takes a file name from STT_FILE symbols, with line 0.)
        if want.iter().all(|(_, file, line)| file == "??" || *line == 0) {
            continue;
        }
        let got: Vec<(String, String, u32)> = got
            .inlined
            .iter()
            .map(|f| {
                let loc = f.location.clone();
                (
                    f.function.clone().unwrap_or_else(|| "??".into()),
                    loc.as_ref()
                        .map(|l| Path::new(&l.file).file_name().unwrap().to_string_lossy().into_owned())
                        .unwrap_or_else(|| "??".into()),
                    loc.map(|l| l.line).unwrap_or(0),
                )
            })
            .collect();
        assert_eq!(&got, want, "address {address:#x}");
        compared += 1;
        if want.len() > 1 {
            inlined_seen += 1;
        }
    }
    assert!(compared > 50, "compared {compared} addresses");
    assert!(inlined_seen > 5, "the fixture has inline chains ({inlined_seen})");
}

#[test]
fn symbolize_formats_the_windbg_way() {
    let exe = fixture("counter");
    let (mut s, pid) = stopped_in_main(&exe, &["1"]);
    let bump = s.lookup(pid, "bump").unwrap();
    let place = s.symbolize(pid, bump + 4).unwrap();
    assert_eq!(place.to_string(), "counter!bump+0x4");
    assert!(place.with_location().starts_with("counter!bump+0x4 (counter.c:"), "{}", place.with_location());
    let malloc = s.lookup(pid, "libc.so.6!malloc").unwrap();
    assert_eq!(s.symbolize(pid, malloc).unwrap().to_string(), "libc.so.6!malloc");
    assert_eq!(s.lookup(pid, "libc!malloc").unwrap(), malloc);
    assert_eq!(s.lookup(pid, "malloc").unwrap(), malloc);
    // The PLT entry the program calls printf through.
    let plt = s.lookup(pid, "printf@plt").unwrap();
    assert_eq!(s.symbolize(pid, plt).unwrap().to_string(), "counter!printf@plt");
    // An address in no module.
    assert_eq!(s.symbolize(pid, 0x10).unwrap().to_string(), "0x10");
    // Source lines to addresses.
    let line_of_bump = s.symbolize(pid, bump).unwrap().location.unwrap().line;
    let at_line = s.lookup_all(pid, &format!("counter.c:{line_of_bump}")).unwrap();
    assert!(at_line
        .iter()
        .any(|sym| sym.address == bump || s.symbolize(pid, sym.address).unwrap().symbol.as_deref() == Some("bump")));
}

#[test]
fn lookups_fail_clearly() {
    let exe = fixture("twolibs");
    let (mut s, pid) = stopped_in_main(&exe, &[]);
    let err = s.lookup(pid, "shared_name").unwrap_err();
    assert_eq!(
        err.to_string(),
        "ambiguous symbol shared_name: libdup1.so!shared_name, libdup2.so!shared_name; say which with MODULE!shared_name"
    );
    let one = s.lookup(pid, "libdup1!shared_name").unwrap();
    let two = s.lookup(pid, "libdup2.so!shared_name").unwrap();
    assert_ne!(one, two);
    assert!(matches!(s.lookup(pid, "no_such_function"), Err(Error::SymbolNotFound(_))));
    assert_eq!(s.lookup(pid, "nomodule!main").unwrap_err().to_string(), "no module named nomodule");
    assert_eq!(s.lookup(pid, "twolibs.c:9999").unwrap_err().to_string(), "no code for line 9999 of twolibs.c");
    assert!(matches!(s.search_symbols(pid, "(", None), Err(Error::BadPattern { .. })));
    let found = s.search_symbols(pid, "^shared_name$", None).unwrap();
    assert_eq!(
        found.iter().map(|f| f.to_string()).collect::<Vec<_>>(),
        vec!["libdup1.so!shared_name", "libdup2.so!shared_name"]
    );
    let only_one = s.search_symbols(pid, "^shared_n", Some("libdup2")).unwrap();
    assert_eq!(only_one.len(), 1);
}

#[test]
fn cpp_names_are_demangled_with_the_raw_name_kept() {
    let exe = fixture("throw");
    let (mut s, pid) = stopped_in_main(&exe, &[]);
    let found = s.search_symbols(pid, "^std::runtime_error::runtime_error", Some("libstdc++")).unwrap();
    assert!(!found.is_empty());
    assert!(found.iter().all(|f| f.raw_name.starts_with("_ZNSt13runtime_error")), "{found:?}");
}

fn objcopy(args: &[&str]) {
    let out = Command::new("objcopy").args(args).output().unwrap();
    assert!(out.status.success(), "objcopy {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn build_id(path: &Path) -> String {
    let data = std::fs::read(path).unwrap();
    let file = object::File::parse(&*data).unwrap();
    file.build_id().unwrap().unwrap().iter().map(|b| format!("{b:02x}")).collect()
}

fn scratch_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_stripped_program_is_symbolized_through_its_build_id_debug_file() {
    let dir = scratch_dir("build-id");
    let exe = dir.join("counter");
    std::fs::copy(fixture("counter"), &exe).unwrap();
    let id = build_id(&exe);
    let tree = dir.join("debug/.build-id").join(&id[..2]);
    std::fs::create_dir_all(&tree).unwrap();
    let debug = tree.join(format!("{}.debug", &id[2..]));
    objcopy(&["--only-keep-debug", exe.to_str().unwrap(), debug.to_str().unwrap()]);
    objcopy(&["--strip-all", exe.to_str().unwrap()]);

    let mut s = Session::new();
    s.add_symbol_path(dir.join("debug"));
    let pid = s.spawn(&SpawnOptions::new([exe.to_str().unwrap(), "1"]).stdout(Stdio::Null)).unwrap();
    let bump = s.lookup(pid, "bump").expect("found through the debug file");
    let place = s.symbolize(pid, bump + 1).unwrap();
    assert_eq!(place.to_string(), "counter!bump+0x1");
    assert!(place.location.unwrap().file.ends_with("counter.c"));
    run_to_exit(&mut s, pid);
}

#[test]
fn a_debug_link_is_followed_only_when_its_crc_matches() {
    let dir = scratch_dir("debuglink");
    let exe = dir.join("counter");
    std::fs::copy(fixture("counter"), &exe).unwrap();
    let debug = dir.join("counter.dbg");
    objcopy(&["--only-keep-debug", exe.to_str().unwrap(), debug.to_str().unwrap()]);
    objcopy(&["--strip-all", "--remove-section=.note.gnu.build-id", exe.to_str().unwrap()]);
    objcopy(&[&format!("--add-gnu-debuglink={}", debug.display()), exe.to_str().unwrap()]);
    let run = || {
        let mut s = Session::new();
        let pid = s.spawn(&SpawnOptions::new([exe.to_str().unwrap(), "1"]).stdout(Stdio::Null)).unwrap();
        let found = s.lookup(pid, "bump").is_ok();
        run_to_exit(&mut s, pid);
        found
    };
    assert!(run(), "the .debug file next to the program is used");
    // A debug file that does not match the recorded CRC is refused.
    let mut bytes = std::fs::read(&debug).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&debug, bytes).unwrap();
    assert!(!run(), "a file with the wrong CRC is not used");
}

#[test]
fn compressed_debug_sections_are_read() {
    for name in ["inline_zlib", "inline_zdebug"] {
        let exe = fixture(name);
        let symbols = dbgkit::symbols::ModuleSymbols::load(&exe, None, &Default::default());
        let compute = symbols.elf.named("compute").next().expect("compute in the symbol table").address;
        let frames = symbols.frames_at(compute);
        let location = frames[0].location.clone().unwrap_or_else(|| panic!("{name}: no line for compute: {frames:?}"));
        assert!(location.file.ends_with("inline.c"), "{name}: {location:?}");
    }
}

/// A tiny deterministic generator: enough to vary the damage without a dependency.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

#[test]
fn malformed_and_truncated_files_never_panic() {
    let dir = scratch_dir("malformed");
    let original = std::fs::read(fixture("inline")).unwrap();
    let (start, end) = text_range(&fixture("inline"));
    let mut rng = Lcg(0x5eed);
    let mut unwinder = dbgkit::Unwinder::new();
    for round in 0..300 {
        let mut bytes = original.clone();
        match round % 3 {
            // Truncated anywhere, headers included.
            0 => bytes.truncate(rng.next() as usize % original.len()),
            // Random bytes flipped (headers, tables, DWARF).
            1 => {
                for _ in 0..(1 + rng.next() % 64) {
                    let at = rng.next() as usize % bytes.len();
                    bytes[at] ^= (rng.next() & 0xff) as u8 | 1;
                }
            }
            // A run of garbage in the second half, where the debug sections are.
            _ => {
                let at = bytes.len() / 2 + rng.next() as usize % (bytes.len() / 2);
                let len = (rng.next() as usize % 4096).min(bytes.len() - at);
                for b in &mut bytes[at..at + len] {
                    *b = rng.next() as u8;
                }
            }
        }
        let path = dir.join(format!("broken-{round}"));
        std::fs::write(&path, &bytes).unwrap();
        let symbols = dbgkit::symbols::ModuleSymbols::load(&path, None, &Default::default());
        for address in (start..end).step_by(7) {
            let _ = symbols.frames_at(address);
            let _ = symbols.elf.covering(address);
        }
        // Unwinding through the broken file's call-frame information, from a made-up state.
        let module =
            dbgkit::Module { name: "broken".into(), path: path.clone(), base: 0, size: end, bias: 0, dynamic: 0 };
        let regs = dbgkit::Registers {
            rip: start + rng.next() % (end - start),
            rsp: 0x7000_0000,
            rbp: 0x7000_0100,
            ..Default::default()
        };
        let mut memory = |_: u64, buf: &mut [u8]| {
            buf.fill(0x41);
            true
        };
        let stack = unwinder.unwind(&regs, std::slice::from_ref(&module), &mut memory);
        assert!(stack.frames.len() <= 1024);
        std::fs::remove_file(&path).unwrap();
    }
}
