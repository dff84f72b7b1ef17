//! Breakpoint loops by hand: the textbook one (two stops per hit) and the
//! out-of-line one (one stop per hit), each running a program from launch
//! to exit with one breakpoint.

use super::{describe, ptrace, Aslr, Tracee};
use crate::run::{Run, Watchdog};
use anyhow::{bail, ensure, Context, Result};
use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

/// `push %rbp`: the first instruction of a function built with frame
/// pointers and without CET, the only one the out-of-line loop relocates.
const PUSH_RBP: u8 = 0x55;
/// `endbr64`, which starts every function built with `-fcf-protection`.
const ENDBR64: [u8; 4] = [0xf3, 0x0f, 0x1e, 0xfa];
const JMP_REL32: u8 = 0xe9;

/// Launches `program args` traced, lets `plant` put its breakpoint at
/// `address` at the exec stop, then continues the program to its end,
/// handing each breakpoint stop (with the registers, `rip` checked) to `hit`.
/// The time is the whole run, launch to exit.
fn hit_loop<S>(
    program: &Path,
    args: &[String],
    address: u64,
    limit: Duration,
    what: &str,
    plant: impl FnOnce(&Tracee) -> Result<S>,
    mut hit: impl FnMut(&mut Tracee, &S, libc::user_regs_struct) -> Result<()>,
) -> Result<Run> {
    let start = Instant::now();
    let mut tracee = Tracee::spawn(program, args, Aslr::On)?;
    let watchdog = Watchdog::start(tracee.pid, limit, what.into());
    let run = (|| -> Result<(u64, i32)> {
        let state = plant(&tracee)?;
        let pid = tracee.pid;
        let mut hits = 0u64;
        let mut signal = 0u64;
        loop {
            ptrace(libc::PTRACE_CONT, pid, 0, signal).context("PTRACE_CONT")?;
            signal = 0;
            let status = tracee.wait()?;
            if libc::WIFEXITED(status) {
                return Ok((hits, libc::WEXITSTATUS(status)));
            }
            if !libc::WIFSTOPPED(status) {
                bail!("the program {}", describe(status));
            }
            if libc::WSTOPSIG(status) != libc::SIGTRAP {
                // Not ours: hand the signal to the program, as a debugger would.
                signal = libc::WSTOPSIG(status) as u64;
                continue;
            }
            let regs = tracee.regs()?;
            if regs.rip != address + 1 {
                bail!("SIGTRAP at {:#x}, not at the breakpoint {address:#x}", regs.rip);
            }
            hit(&mut tracee, &state, regs)?;
            hits += 1;
        }
    })();
    let elapsed = start.elapsed();
    let timed_out = watchdog.fired();
    drop(watchdog);
    let (hits, exit_code) =
        run.map_err(|e| if timed_out { e.context(format!("timed out after {limit:?}")) } else { e })?;
    let mut stdout = String::new();
    let mut pipe = tracee.take_stdout().context("no stdout pipe")?;
    // The program has exited, so the pipe is at its end; its output is a line.
    pipe.read_to_string(&mut stdout).context("reading the program's output")?;
    Ok(Run { hits, elapsed, stdout, exit_code })
}

/// The textbook breakpoint loop: on each hit, rewind rip, put the original
/// byte back, single-step over it, re-plant the int3, continue. Two stops
/// and six ptrace calls per hit; this is what "raw classic" means in the report.
pub fn classic_loop(program: &Path, args: &[String], address: u64, limit: Duration) -> Result<Run> {
    let plant = |t: &Tracee| -> Result<(u64, u64)> {
        let original = t.peek(address)?;
        let trapped = (original & !0xff) | 0xcc;
        t.poke(address, trapped)?;
        Ok((original, trapped))
    };
    let hit = |t: &mut Tracee, &(original, trapped): &(u64, u64), mut regs: libc::user_regs_struct| {
        regs.rip = address;
        t.set_regs(&regs)?;
        t.poke(address, original)?;
        ptrace(libc::PTRACE_SINGLESTEP, t.pid, 0, 0).context("PTRACE_SINGLESTEP")?;
        t.wait_trap("single-step over the breakpoint")?;
        t.poke(address, trapped)
    };
    hit_loop(program, args, address, limit, "raw classic loop", plant, hit)
}

/// The out-of-line loop: the int3 stays; a copy of the instruction under it,
/// followed by a jump back, sits in spare bytes of the program's code; each
/// hit only moves `rip` to that copy. One stop and three ptrace calls per hit.
///
/// `code_end` is where the executable segment holding `address` ends in the
/// ELF file: the copy goes after it, in the zero padding that fills the rest
/// of its last page.
pub fn out_of_line_loop(program: &Path, args: &[String], address: u64, code_end: u64, limit: Duration) -> Result<Run> {
    let plant = |t: &Tracee| plant_out_of_line(t, address, code_end);
    let hit = |t: &mut Tracee, &displaced: &u64, mut regs: libc::user_regs_struct| {
        regs.rip = displaced;
        t.set_regs(&regs)
    };
    hit_loop(program, args, address, limit, "raw out-of-line loop", plant, hit)
}

/// Writes `push %rbp; jmp address+1` into the padding at the end of the
/// executable mapping holding `address`, plants the int3, and returns the
/// copy's address.
fn plant_out_of_line(t: &Tracee, address: u64, code_end: u64) -> Result<u64> {
    let word = t.peek(address)?;
    let bytes = word.to_le_bytes();
    if bytes[..4] == ENDBR64 {
        bail!(
            "the function at {address:#x} starts with endbr64 ({:02x?}): the fixture was built with CET \
             (-fcf-protection); the out-of-line loop relocates only `push %rbp` (0x55)",
            &bytes[..4]
        );
    }
    ensure!(
        bytes[0] == PUSH_RBP,
        "the function at {address:#x} starts with bytes {:02x?}, not `push %rbp` (0x55), the only instruction \
         the out-of-line loop knows how to relocate (build with -O0 -fno-omit-frame-pointer, without CET)",
        &bytes[..4]
    );
    let mapping_end = exec_mapping_end(t.pid, address)?;
    // The copy (6 bytes) in the last 16 bytes of the page: 8-aligned, so two
    // whole words are ours to check and one to write.
    let displaced = mapping_end - 16;
    ensure!(
        displaced >= code_end,
        "no spare bytes after the code: the segment ends at {code_end:#x}, its mapping at {mapping_end:#x}"
    );
    for at in [displaced, displaced + 8] {
        let current = t.peek(at)?;
        ensure!(current == 0, "the padding at {at:#x} is not zero ({current:#018x}): not spare");
    }
    let rel = i32::try_from((address + 1) as i64 - (displaced + 6) as i64).context("jump back out of rel32 range")?;
    let mut code = [0u8; 8];
    code[0] = PUSH_RBP;
    code[1] = JMP_REL32;
    code[2..6].copy_from_slice(&rel.to_le_bytes());
    t.poke(displaced, u64::from_le_bytes(code))?;
    t.poke(address, (word & !0xff) | 0xcc)?;
    Ok(displaced)
}

/// The end of the executable (`r-x`) mapping holding `address`, from /proc/PID/maps.
fn exec_mapping_end(pid: i32, address: u64) -> Result<u64> {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).context("reading /proc/PID/maps")?;
    for line in maps.lines() {
        let mut fields = line.split_whitespace();
        let (Some(range), Some(perms)) = (fields.next(), fields.next()) else { continue };
        let Some((start, end)) = range.split_once('-') else { continue };
        let (Ok(start), Ok(end)) = (u64::from_str_radix(start, 16), u64::from_str_radix(end, 16)) else { continue };
        if (start..end).contains(&address) {
            ensure!(perms.starts_with("r-x"), "the mapping of {address:#x} is `{line}`, not r-x");
            return Ok(end);
        }
    }
    bail!("no mapping holds {address:#x} in /proc/{pid}/maps")
}
