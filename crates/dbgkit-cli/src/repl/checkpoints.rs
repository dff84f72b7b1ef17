//! gdb's checkpoints: `checkpoint` saves the moment of the stopped process,
//! `restart N` goes back to it (again and again), `info checkpoints` lists
//! them and `delete checkpoint N` drops one. WinDbg has no equivalent.

use super::commands::Call;
use super::debugger::{say, Debugger};
use anyhow::{anyhow, bail, Result};

fn checkpoint_number(text: &str) -> Result<u32> {
    text.trim().parse().map_err(|_| anyhow!("a checkpoint number, not {:?} (see `info checkpoints`)", text.trim()))
}

/// `checkpoint`: saves the stopped process's moment.
pub fn checkpoint(dbg: &mut Debugger, call: &Call) -> Result<()> {
    if !call.args.trim().is_empty() {
        bail!("checkpoint takes no argument");
    }
    let pid = dbg.stopped()?.pid;
    let id = dbg.session.checkpoint(pid)?;
    let pc = dbg.session.checkpoints().into_iter().find(|c| c.id == id).map(|c| c.pc).unwrap_or(0);
    let place = dbg.session.symbolize(pid, pc).map(|s| s.with_location()).unwrap_or_default();
    say!("checkpoint {id}: {pc:016x} {place}");
    Ok(())
}

/// `restart N`: the process goes back to checkpoint N (a new process id).
pub fn restart(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let id = checkpoint_number(call.args)?;
    let old = dbg.session.checkpoints().into_iter().find(|c| c.id == id).map(|c| c.pid);
    let Some(old) = old else { bail!("no checkpoint {id} (see `info checkpoints`)") };
    let new = dbg.session.restore(id)?;
    dbg.renumber_process(old, new);
    say!("Switching to process {new}: checkpoint {id}");
    if let Some(stop) = dbg.wait_stop()? {
        dbg.show_stop(&stop);
    }
    Ok(())
}

/// `info checkpoints`: every checkpoint, where it was taken.
pub fn info_checkpoints(dbg: &mut Debugger, _call: &Call) -> Result<()> {
    let list = dbg.session.checkpoints();
    if list.is_empty() {
        say!("No checkpoints.");
    }
    for c in list {
        let place = dbg.session.symbolize(c.pid, c.pc).map(|s| s.with_location()).unwrap_or_default();
        say!("{:>3}  process {}  {:016x} {place}", c.id, c.pid, c.pc);
    }
    Ok(())
}

/// `delete checkpoint N`.
pub fn delete_checkpoint(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let id = checkpoint_number(call.args)?;
    dbg.session.delete_checkpoint(id)?;
    say!("Deleted checkpoint {id}");
    Ok(())
}
