//! Single-stepping by hand: PTRACE_SINGLESTEP and waitpid, nothing else.

use super::{ptrace, Aslr, Tracee};
use crate::run::{StepRun, Watchdog};
use anyhow::{Context, Result};
use std::path::Path;
use std::time::{Duration, Instant};

/// Launches `program args` (without address space randomisation, so every
/// run takes the same path to the same addresses), runs it to `start`, then times `steps` single
/// steps, each checked to end in a SIGTRAP stop. `rip` is also read after
/// `checkpoint` steps (one PTRACE_PEEKUSER, inside the timed loop but a
/// negligible part of it) so other debuggers stepping fewer times can be
/// checked against it. The program is killed afterwards.
pub fn single_steps(
    program: &Path,
    args: &[String],
    start: u64,
    steps: u64,
    checkpoint: u64,
    limit: Duration,
) -> Result<StepRun> {
    let mut tracee = Tracee::spawn(program, args, Aslr::Off)?;
    let pid = tracee.pid;
    let watchdog = Watchdog::start(pid, limit, "raw single-step loop".into());
    let run = (|| -> Result<StepRun> {
        tracee.run_to(start)?;
        let rip_offset = std::mem::offset_of!(libc::user_regs_struct, rip) as u64;
        let mut rip_at_checkpoint = if checkpoint == 0 { start } else { 0 };
        let begin = Instant::now();
        for done in 1..=steps {
            ptrace(libc::PTRACE_SINGLESTEP, pid, 0, 0).context("PTRACE_SINGLESTEP")?;
            tracee.wait_trap("single step")?;
            if done == checkpoint {
                rip_at_checkpoint =
                    ptrace(libc::PTRACE_PEEKUSER, pid, rip_offset, 0).context("PTRACE_PEEKUSER")? as u64;
            }
        }
        let elapsed = begin.elapsed();
        Ok(StepRun { elapsed, rip_at_checkpoint, final_rip: tracee.regs()?.rip })
    })();
    let timed_out = watchdog.fired();
    drop(watchdog);
    // Dropping the tracee kills and reaps the program.
    drop(tracee);
    run.map_err(|e| if timed_out { e.context(format!("timed out after {limit:?}")) } else { e })
}
