//! Run control: go, steps into and over, go up, run to, restart, attach,
//! detach, kill, quit.

use super::args;
use super::commands::Call;
use super::debugger::{say, Debugger, Stop};
use anyhow::{anyhow, bail, Result};
use dbgkit::disasm::Flow;
use dbgkit::{ContinueStatus, EventKind};

/// At most this many steps for `pc` before it gives up.
const MAX_STEPS: usize = 100_000;

fn count(call: &Call, what: &str) -> Result<u64> {
    let text = call.args.trim();
    if text.is_empty() {
        return Ok(1);
    }
    args::number(text).map_err(|_| {
        anyhow!("{} takes a count of {what}, not {text:?}; to print an expression use `?` or `print`", call.name)
    })
}

/// `g [ADDR]`: go, or run to ADDR.
pub fn go(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let target = call.args.trim();
    // gdb's `continue N` is not an address: it lets the breakpoint it stopped at pass N-1 more times.
    if matches!(call.name, "c" | "continue") && !target.is_empty() && !target.starts_with('*') {
        let n = args::number(target).map_err(|_| {
            anyhow!("continue takes a count (continue 3: stop at the third hit from now); g ADDR runs to an address")
        })?;
        ignore_current_breakpoint(dbg, n.saturating_sub(1))?;
        return dbg.go(None);
    }
    let target = target.strip_prefix('*').unwrap_or(target).trim();
    if target.is_empty() {
        return dbg.go(None);
    }
    let c = dbg.stopped()?;
    let address = dbg.eval(target)?;
    dbg.temporary_breakpoint(c.pid, address, None)?;
    if let Err(e) = dbg.continue_held(None) {
        dbg.remove_internal();
        return Err(e);
    }
    dbg.wait_and_show()
}

/// Sets the ignore count of the user breakpoint the current thread stopped at.
fn ignore_current_breakpoint(dbg: &mut Debugger, count: u64) -> Result<()> {
    let c = dbg.stopped()?;
    let stopped_at = match dbg.held.get(&c.pid).map(|e| &e.kind) {
        Some(EventKind::Breakpoint { id, .. }) => Some(*id),
        _ => None,
    };
    let Some(i) =
        stopped_at.and_then(|id| dbg.breakpoints.iter().position(|b| b.engine == Some(id) && b.pid == Some(c.pid)))
    else {
        say!("Not stopped at any breakpoint; argument ignored.");
        return Ok(());
    };
    let engine = dbg.breakpoints[i].engine.expect("found by it");
    dbg.session.set_breakpoint_ignore_count(engine, count)?;
    dbg.breakpoints[i].ignore = count;
    say!("Will ignore next {count} crossings of breakpoint {}.  Continuing.", dbg.breakpoints[i].number);
    Ok(())
}

pub fn go_handled(dbg: &mut Debugger, _call: &Call) -> Result<()> {
    dbg.go(Some(ContinueStatus::Handled))
}

pub fn go_not_handled(dbg: &mut Debugger, _call: &Call) -> Result<()> {
    dbg.go(Some(ContinueStatus::NotHandled))
}

/// Whether a stop is the end of a step of thread `tid`.
fn is_step(stop: &Stop, tid: i32) -> bool {
    stop.event.tid == tid && matches!(stop.shown.kind, EventKind::StepComplete { .. })
}

/// `t [COUNT]`: step into.
pub fn trace(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let n = count(call, "instructions")?;
    dbg.interrupted = false;
    for _ in 0..n {
        let c = dbg.start_step()?;
        let Some(stop) = dbg.wait_stop()? else { break };
        if !is_step(&stop, c.tid) || dbg.interrupted {
            return resume_if_asked(dbg, &stop);
        }
        dbg.report_stop(&stop)?;
    }
    Ok(())
}

/// One step over: a call (or `rep` string instruction) runs until it
/// returns to this stack depth; anything else is a step into.
fn step_over_once(dbg: &mut Debugger) -> Result<Option<Stop>> {
    let c = dbg.stopped()?;
    let regs = dbg.session.registers(c.pid, c.tid)?;
    let insn = dbg.instruction_at(c.pid, regs.rip)?;
    if insn.steps_over() {
        dbg.temporary_breakpoint(c.pid, insn.next_address(), Some(format!("@rsp == {:#x}", regs.rsp)))?;
        if let Err(e) = dbg.continue_held(None) {
            dbg.remove_internal();
            return Err(e);
        }
    } else {
        dbg.start_step()?;
    }
    dbg.wait_stop()
}

/// `p [COUNT]`: step over; `p EXPR` and `p/FMT EXPR` are gdb's print.
pub fn step_over(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let text = call.args.trim();
    if call.name == "p" && (call.fmt.is_some() || (!text.is_empty() && args::number(text).is_err())) {
        return super::source::print(dbg, call);
    }
    let n = count(call, "instructions")?;
    dbg.interrupted = false;
    for _ in 0..n {
        let tid = dbg.stopped()?.tid;
        let Some(stop) = step_over_once(dbg)? else { break };
        if !is_step(&stop, tid) || dbg.interrupted {
            return resume_if_asked(dbg, &stop);
        }
        dbg.report_stop(&stop)?;
    }
    Ok(())
}

/// `pc`: step over until the current instruction is a call.
pub fn step_to_call(dbg: &mut Debugger, _call: &Call) -> Result<()> {
    dbg.interrupted = false;
    for _ in 0..MAX_STEPS {
        let tid = dbg.stopped()?.tid;
        let Some(stop) = step_over_once(dbg)? else { return Ok(()) };
        let c = dbg.stopped()?;
        let rip = dbg.session.registers(c.pid, c.tid)?.rip;
        let at_call = dbg.instruction_at(c.pid, rip).is_ok_and(|i| i.flow == Flow::Call);
        if at_call || !is_step(&stop, tid) || dbg.interrupted {
            return resume_if_asked(dbg, &stop);
        }
    }
    let c = dbg.stopped()?;
    let rip = dbg.session.registers(c.pid, c.tid)?.rip;
    dbg.show_place(c.pid, rip, Some(rip));
    bail!("no call within {MAX_STEPS} instructions")
}

/// `gu`: run until the selected frame returns.
pub fn go_up(dbg: &mut Debugger, _call: &Call) -> Result<()> {
    let c = dbg.stopped()?;
    let physical = super::source::physical_frame(dbg, c)?;
    let stack = dbg.session.stack(c.pid, c.tid)?;
    let frame = stack.frames.get(physical).ok_or_else(|| anyhow!("no frame {}", c.frame))?;
    let caller =
        stack.frames.get(physical + 1).ok_or_else(|| anyhow!("frame {} has no caller to return to", c.frame))?;
    // Only this depth returns there: recursion and other threads go by.
    let condition = (frame.cfa != 0).then(|| format!("@rsp == {:#x}", frame.cfa));
    dbg.temporary_breakpoint(c.pid, caller.pc, condition)?;
    if let Err(e) = dbg.continue_held(None) {
        dbg.remove_internal();
        return Err(e);
    }
    dbg.wait_and_show()
}

/// Shows a stop that ended a step; when its breakpoint's commands say
/// `continue`, the target goes on as after `g`.
fn resume_if_asked(dbg: &mut Debugger, stop: &Stop) -> Result<()> {
    if dbg.report_stop(stop)? {
        dbg.continue_held(None)?;
        return dbg.wait_and_show();
    }
    Ok(())
}

/// gdb's `jump LOCATION`: the current thread goes on at LOCATION (an
/// address, `*ADDR`, a symbol or `file.c:LINE`), which becomes its pc.
pub fn jump(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let target = call.args.trim();
    let target = target.strip_prefix('*').unwrap_or(target).trim();
    if target.is_empty() {
        bail!("jump takes a location: jump *0x401000, jump counter.c:12");
    }
    let c = dbg.stopped()?;
    let address = dbg.eval(target)?;
    let mut regs = dbg.session.registers(c.pid, c.tid)?;
    let place = crate::format::place(&mut dbg.session, c.pid, address).unwrap_or_else(|| format!("{address:#x}"));
    regs.rip = address;
    dbg.session.set_registers(c.pid, c.tid, &regs)?;
    say!("Continuing at {address:#x} {place}.");
    dbg.go(None)
}

pub fn attach(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let pid = args::number(call.args).map_err(|_| anyhow!("give a process id: .attach 4242"))? as i32;
    dbg.attach(pid).map_err(|e| e.context(format!("cannot attach to process {pid}")))
}

pub fn detach(dbg: &mut Debugger, _call: &Call) -> Result<()> {
    // Arguments are refused by the command table (`.detach now` detaches nothing more).
    let pid = dbg.process()?;
    dbg.detach(pid)
}

pub fn kill(dbg: &mut Debugger, _call: &Call) -> Result<()> {
    let pid = dbg.process()?;
    dbg.kill(pid)
}

/// `q [CODE]`: gdb's `quit EXPR` sets the debugger's exit status.
pub fn quit(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let text = call.args.trim();
    if !text.is_empty() {
        let code = dbg.eval(text)?;
        dbg.exit_code = Some(code as i32);
    }
    dbg.quit = true;
    Ok(())
}
