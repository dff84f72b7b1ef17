//! Run control: go, steps into and over, go up, run to, restart, attach,
//! detach, kill, quit.

use super::args;
use super::commands::Call;
use super::debugger::{say, Debugger, Stop};
use anyhow::{anyhow, bail, Result};
use dbgkit::disasm::Flow;
use dbgkit::{ContinueStatus, EventKind, StepKind};

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

/// Repeats an engine step `n` times; stops early when something else stopped
/// the target (a breakpoint, a signal: shown as it is) or Ctrl-C.
fn repeat_steps(dbg: &mut Debugger, kind: StepKind, n: u64) -> Result<()> {
    dbg.interrupted = false;
    for _ in 0..n {
        let c = dbg.start_plan(kind)?;
        let Some(stop) = dbg.wait_stop()? else { break };
        if !is_step(&stop, c.tid) || dbg.interrupted {
            return resume_if_asked(dbg, &stop);
        }
        dbg.report_stop(&stop)?;
    }
    Ok(())
}

/// `t [COUNT]`: step into (an instruction; a source line after `l+t`).
pub fn trace(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let n = count(call, "steps")?;
    let kind = if dbg.source_mode && call.name == "t" { StepKind::Line } else { StepKind::Instruction };
    repeat_steps(dbg, kind, n)
}

/// `p [COUNT]`: step over (an instruction; a source line after `l+t`);
/// `p EXPR` and `p/FMT EXPR` are gdb's print.
pub fn step_over(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let text = call.args.trim();
    if call.name == "p" && (call.fmt.is_some() || (!text.is_empty() && args::number(text).is_err())) {
        return super::source::print(dbg, call);
    }
    let n = count(call, "steps")?;
    let kind = if dbg.source_mode && call.name == "p" { StepKind::OverLine } else { StepKind::OverInstruction };
    repeat_steps(dbg, kind, n)
}

/// gdb's `step [COUNT]`: one source line, into functions that have lines.
pub fn step_line(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let n = count(call, "lines")?;
    repeat_steps(dbg, StepKind::Line, n)
}

/// gdb's `next [COUNT]`: one source line, over calls.
pub fn next_line(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let n = count(call, "lines")?;
    repeat_steps(dbg, StepKind::OverLine, n)
}

/// WinDbg's `l+t` / `l-t`: `p` and `t` step source lines, or instructions.
pub fn source_mode(dbg: &mut Debugger, call: &Call) -> Result<()> {
    dbg.source_mode = call.name == "l+t";
    say!(
        "Source options are {}: p and t step {}",
        if dbg.source_mode { "on" } else { "off" },
        if dbg.source_mode { "source lines" } else { "instructions" }
    );
    Ok(())
}

/// `pc`: step over until the current instruction is a call.
pub fn step_to_call(dbg: &mut Debugger, _call: &Call) -> Result<()> {
    dbg.interrupted = false;
    for _ in 0..MAX_STEPS {
        let c = dbg.start_plan(StepKind::OverInstruction)?;
        let Some(stop) = dbg.wait_stop()? else { return Ok(()) };
        let now = dbg.stopped()?;
        let rip = dbg.session.registers(now.pid, now.tid)?.rip;
        let at_call = dbg.instruction_at(now.pid, rip).is_ok_and(|i| i.flow == Flow::Call);
        if at_call || !is_step(&stop, c.tid) || dbg.interrupted {
            return resume_if_asked(dbg, &stop);
        }
    }
    let c = dbg.stopped()?;
    let rip = dbg.session.registers(c.pid, c.tid)?.rip;
    dbg.show_place(c.pid, rip, Some(rip));
    bail!("no call within {MAX_STEPS} instructions")
}

/// `gu` / `finish`: run until the selected frame returns to its caller; gdb's
/// `finish` then shows the value returned.
pub fn go_up(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let c = dbg.stopped()?;
    let physical = super::source::physical_frame(dbg, c)?;
    let function = dbg
        .session
        .stack(c.pid, c.tid)?
        .frames
        .get(physical)
        .and_then(|f| f.symbol.as_ref().and_then(|s| s.symbol.clone()));
    let tid = c.tid;
    let c = dbg.start_plan(StepKind::OutOfFrame(physical))?;
    let Some(stop) = dbg.wait_stop()? else { return Ok(()) };
    if !is_step(&stop, tid) {
        return resume_if_asked(dbg, &stop);
    }
    dbg.report_stop(&stop)?;
    if call.name == "finish" {
        if let Some(function) = function {
            show_value_returned(dbg, c.pid, c.tid, &function);
        }
    }
    Ok(())
}

/// gdb's "Value returned is $N = V", read as the function's return type says
/// (integers and pointers in rax); nothing for a void function or when the
/// type is not known.
fn show_value_returned(dbg: &mut Debugger, pid: i32, tid: i32, function: &str) {
    let Ok(signature) = dbg.session.whatis(pid, tid, 0, function) else { return };
    let returns = signature.split('(').next().unwrap_or("").trim().to_string();
    if returns.is_empty() || returns == "void" {
        return;
    }
    let shown = if matches!(returns.as_str(), "float" | "double" | "long double") {
        dbg.session.fp_registers(pid, tid).ok().map(|fp| {
            let low = fp.xmm[0] as u64;
            if returns == "float" {
                f32::from_bits(low as u32).to_string()
            } else {
                f64::from_bits(low).to_string()
            }
        })
    } else {
        dbg.session.evaluate_typed(pid, tid, 0, &format!("({returns})$rax")).ok().map(|v| v.text)
    };
    if let Some(value) = shown {
        dbg.values_printed += 1;
        say!("Value returned is ${} = {value}", dbg.values_printed);
    }
}

/// gdb's `advance LOCATION` and `until LOCATION`: run until the current
/// thread reaches LOCATION, or the current function returns first.
pub fn advance(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let target = call.args.trim();
    let target = target.strip_prefix('*').unwrap_or(target).trim();
    if target.is_empty() {
        if call.name == "until" {
            // gdb's `until` alone: `next`, not stopping in a loop's backward jump.
            return repeat_steps(dbg, StepKind::OverLine, 1);
        }
        bail!("{} takes a location: {} counter.c:12, {} *0x401000", call.name, call.name, call.name);
    }
    let c = dbg.stopped()?;
    let address = match dbg.session.breakpoint_locations(c.pid, target) {
        Ok(locations) if !locations.is_empty() => locations[0].address,
        _ => dbg.eval(target)?,
    };
    repeat_steps(dbg, StepKind::To(address), 1)
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

/// gdb's `return [VALUE]`: the selected frame (and every frame inside it)
/// is popped without running the rest of it: the caller's registers are
/// put back as the unwinder found them, `rax` gets VALUE, and the caller
/// goes on from its return address when the program continues.
pub fn return_now(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let c = dbg.stopped()?;
    let value = match call.args.trim() {
        "" => None,
        text => Some(dbg.eval(text)?),
    };
    let frames = dbg.session.source_frames(c.pid, c.tid)?;
    let selected = frames.get(c.frame).ok_or_else(|| anyhow!("no frame {}", c.frame))?;
    if selected.inlined {
        bail!("cannot return from frame {}: it is an inlined function, with no frame of its own", c.frame);
    }
    let physical = selected.physical;
    let stack = dbg.session.stack(c.pid, c.tid)?;
    let frame = &stack.frames[physical.min(stack.frames.len().saturating_sub(1))];
    let caller = stack
        .frames
        .get(physical + 1)
        .filter(|_| frame.cfa != 0)
        .ok_or_else(|| anyhow!("cannot return from frame {}: it has no caller to return to", c.frame))?;
    let mut regs = dbg.session.registers(c.pid, c.tid)?;
    regs.rip = caller.pc;
    regs.rsp = frame.cfa;
    let saved = &caller.registers;
    for (slot, recovered) in [
        (&mut regs.rbp, saved.rbp),
        (&mut regs.rbx, saved.rbx),
        (&mut regs.r12, saved.r12),
        (&mut regs.r13, saved.r13),
        (&mut regs.r14, saved.r14),
        (&mut regs.r15, saved.r15),
    ] {
        if let Some(v) = recovered {
            *slot = v;
        }
    }
    if let Some(v) = value {
        regs.rax = v;
    }
    dbg.session.set_registers(c.pid, c.tid, &regs)?;
    dbg.current = Some(super::debugger::Current { frame: 0, ..c });
    let place = crate::format::place(&mut dbg.session, c.pid, regs.rip).unwrap_or_else(|| format!("{:#x}", regs.rip));
    say!("#0  {:#018x} in {place}", regs.rip);
    dbg.show_place(c.pid, regs.rip, Some(regs.rip));
    Ok(())
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
