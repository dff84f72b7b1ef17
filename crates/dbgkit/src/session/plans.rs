//! Stepping as engine thread plans (as LLDB's `ThreadPlan`s): one
//! instruction, over a call, out of a function, to an address, one source
//! line into or over calls. A plan lives on its thread; its single steps
//! and its own breakpoints are handled inside the engine, and only its end
//! is reported, as `StepComplete`. Any other event of the process ends every
//! plan of that process (the user sees why the step did not finish).
//!
//! Every front end (CLI, Python, the GDB remote server) steps through
//! [`Session::step`]; none builds steps out of breakpoints of its own.

use super::Session;
use crate::breakpoints::Internal;
use crate::error::{Error, Result};
use crate::event::{ContinueStatus, EventKind};
use crate::process::Step;
use iced_x86::FlowControl;

/// How far a step goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StepKind {
    /// One instruction (WinDbg `t`, gdb `stepi`).
    Instruction,
    /// One instruction; a call runs to its return (WinDbg `p`, gdb `nexti`).
    OverInstruction,
    /// Until the current function returns to its caller (WinDbg `gu`, gdb `finish`).
    Out,
    /// Until frame N of the stack (0 the innermost; inlined functions not
    /// counted) returns to its caller (gdb's `finish` in a selected frame).
    OutOfFrame(usize),
    /// Until the thread reaches `address`, or the current function returns
    /// first (gdb `advance` and `until LOCATION`).
    To(u64),
    /// One source line, into called functions that have line information
    /// (gdb `step`). Functions without line information are stepped over.
    Line,
    /// One source line, over calls (gdb `next`).
    OverLine,
}

/// How a step runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StepOptions {
    /// Only the stepping thread runs; the others stay stopped (gdb's
    /// scheduler locking; what a GDB remote stub's `vCont;s:TID` asks).
    pub lock_other_threads: bool,
}

/// A step in progress on one thread.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    kind: StepKind,
    lock_others: bool,
    /// The stack pointer when the step began, and the canonical frame
    /// address of that frame (from the unwinder): what tells a return, a
    /// call and a recursion apart.
    start_sp: u64,
    frame_cfa: u64,
    /// For line steps: the code of the line being stepped, and its line.
    range: Option<(u64, u64)>,
    line: Option<(String, u32)>,
    /// The plan's breakpoints (the engine's own, cleared when it ends), and
    /// the stack pointer at or above which a hit there counts.
    waits: Vec<(u32, u64)>,
}

impl Plan {
    /// Whether the other threads stay stopped while this step runs.
    pub(crate) fn locks_others(&self) -> bool {
        self.lock_others
    }
}

/// What a plan does after one of its stops.
enum Next {
    /// Report `StepComplete` at this address.
    Done(u64),
    /// Single-step the thread again.
    Step,
    /// Let the thread run (to one of the plan's breakpoints).
    Run,
}

impl Session {
    /// Steps thread `tid` of a process stopped at an event: the event is
    /// continued (`Handled`) and the process runs until the step is done,
    /// which is reported as `StepComplete`, or until another event comes
    /// first (a breakpoint, a signal...), which ends the step.
    ///
    /// ```no_run
    /// # let mut session = dbgkit::Session::new(); let (pid, tid) = (1, 1);
    /// use dbgkit::{StepKind, StepOptions};
    /// session.step(pid, tid, StepKind::OverLine, StepOptions::default())?; // gdb's `next`
    /// let event = session.wait_event(None)?; // StepComplete, or whatever stopped it
    /// # Ok::<(), dbgkit::Error>(())
    /// ```
    pub fn step(&mut self, pid: i32, tid: i32, kind: StepKind, options: StepOptions) -> Result<()> {
        self.refuse_inside_callback("step")?;
        let p = self.process(pid)?;
        if p.in_flight.is_none() {
            return Err(if p.is_held() { Error::NoEventInFlight(pid) } else { Error::ProcessRunning(pid) });
        }
        if !p.threads.contains_key(&tid) {
            return Err(Error::NoSuchThread { pid, tid });
        }
        p.control()?;
        let regs = self.registers(pid, tid)?;
        let frame_cfa = self.stack(pid, tid).ok().and_then(|s| s.frames.first().map(|f| f.cfa)).unwrap_or(regs.rsp);
        let mut plan = Plan {
            kind,
            lock_others: options.lock_other_threads,
            start_sp: regs.rsp,
            frame_cfa,
            range: None,
            line: None,
            waits: Vec::new(),
        };
        if matches!(kind, StepKind::Line | StepKind::OverLine) {
            self.refresh_line(pid, regs.rip, &mut plan);
        }
        let first = self.plan_first_move(pid, tid, &mut plan, regs.rip)?;
        self.thread_plan_set(pid, tid, Some(plan));
        if let Err(e) = self.go(pid, tid, first) {
            self.end_plan(pid, tid);
            return Err(e);
        }
        Ok(())
    }

    /// The first move of a new plan.
    fn plan_first_move(&mut self, pid: i32, tid: i32, plan: &mut Plan, pc: u64) -> Result<Next> {
        Ok(match plan.kind {
            StepKind::Instruction => Next::Step,
            StepKind::OverInstruction => match self.call_at(pid, pc) {
                Some(after) => {
                    self.plan_wait(pid, tid, plan, after, plan.start_sp)?;
                    Next::Run
                }
                None => Next::Step,
            },
            StepKind::Out => {
                self.plan_wait_for_return(pid, tid, plan)?;
                Next::Run
            }
            StepKind::OutOfFrame(frame) => {
                let stack = self.stack(pid, tid)?;
                let (Some(this), Some(caller)) = (stack.frames.get(frame), stack.frames.get(frame + 1)) else {
                    return Err(Error::InvalidArgument(format!("frame {frame} has no caller to return to")));
                };
                let (return_address, cfa) = (caller.pc, this.cfa);
                self.plan_wait(pid, tid, plan, return_address, cfa)?;
                Next::Run
            }
            StepKind::To(address) => {
                self.plan_wait(pid, tid, plan, address, 0)?;
                // gdb's `advance`: the current function returning also ends it.
                let _ = self.plan_wait_for_return(pid, tid, plan);
                Next::Run
            }
            StepKind::Line | StepKind::OverLine => {
                if plan.range.is_none() {
                    // No line information here: run to the return, as gdb does.
                    self.plan_wait_for_return(pid, tid, plan)?;
                    Next::Run
                } else {
                    Next::Step
                }
            }
        })
    }

    /// Continues the event in flight (or, mid-plan, the stepping thread) for the plan's next move.
    fn go(&mut self, pid: i32, tid: i32, next: Next) -> Result<()> {
        let stepping = matches!(next, Next::Step);
        let lock_others = self.thread_plan(pid, tid).is_some_and(|p| p.lock_others);
        if let Some(t) = self.process_mut(pid)?.threads.get_mut(&tid) {
            t.step = stepping.then_some(Step::Plan);
        }
        let in_flight = self.process(pid)?.in_flight.is_some();
        if in_flight {
            if lock_others {
                // Only this thread goes: the event is done with, the rest stay stopped.
                let p = self.process_mut(pid)?;
                p.in_flight = None;
                if !p.queued.is_empty() {
                    return Ok(());
                }
                return self.resume_thread(pid, tid);
            }
            return self.continue_process(pid, ContinueStatus::Handled);
        }
        self.resume_thread(pid, tid)
    }

    /// After a single step of a plan's thread that ended at `pc`.
    pub(crate) fn plan_after_step(&mut self, pid: i32, tid: i32, pc: u64) -> Result<()> {
        let Some(mut plan) = self.thread_plan(pid, tid).cloned() else {
            return self.report(pid, tid, EventKind::StepComplete { address: pc });
        };
        let next = match plan.kind {
            StepKind::Instruction
            | StepKind::OverInstruction
            | StepKind::Out
            | StepKind::OutOfFrame(_)
            | StepKind::To(_) => Next::Done(pc),
            StepKind::Line | StepKind::OverLine => self.line_step_moved(pid, tid, &mut plan, pc)?,
        };
        self.plan_continue(pid, tid, plan, next)
    }

    /// A hit of one of a plan's breakpoints; false when it is not this
    /// thread's, or a deeper frame's (recursion): the hit then goes on unseen.
    pub(crate) fn plan_at_breakpoint(&mut self, pid: i32, tid: i32, id: u32, address: u64) -> Result<bool> {
        let Some(mut plan) = self.thread_plan(pid, tid).cloned() else { return Ok(false) };
        let Some(&(_, min_sp)) = plan.waits.iter().find(|(w, _)| *w == id) else { return Ok(false) };
        let sp = self.registers(pid, tid)?.rsp;
        if sp < min_sp {
            return Ok(false);
        }
        self.clear_plan_waits(pid, &mut plan);
        let next = match plan.kind {
            StepKind::Line | StepKind::OverLine => {
                // Back from a call stepped over (or out of code without lines): go on with the line.
                self.line_step_moved(pid, tid, &mut plan, address)?
            }
            _ => Next::Done(address),
        };
        self.plan_continue(pid, tid, plan, next)?;
        Ok(true)
    }

    fn plan_continue(&mut self, pid: i32, tid: i32, plan: Plan, next: Next) -> Result<()> {
        match next {
            Next::Done(pc) => {
                self.end_plan(pid, tid);
                if let Some(t) = self.process_mut(pid)?.threads.get_mut(&tid) {
                    t.step = None;
                }
                self.report(pid, tid, EventKind::StepComplete { address: pc })
            }
            next => {
                self.thread_plan_set(pid, tid, Some(plan));
                self.go(pid, tid, next)
            }
        }
    }

    /// A line step moved to `pc`: done at the start of another line of the
    /// same function (or of the caller it returned to); stepping on while
    /// inside the line; over (or out of) a call it entered.
    fn line_step_moved(&mut self, pid: i32, tid: i32, plan: &mut Plan, pc: u64) -> Result<Next> {
        if plan.range.is_some_and(|(lo, hi)| (lo..hi).contains(&pc)) {
            return Ok(Next::Step);
        }
        let sp = self.registers(pid, tid)?.rsp;
        // Below the frame the step began in: a call was entered.
        let deeper = sp < plan.start_sp && self.call_entered(pid, pc, sp);
        if deeper {
            let into = plan.kind == StepKind::Line;
            if into {
                if let Some(body) = self.function_body_start(pid, pc) {
                    if body == pc {
                        return Ok(Next::Done(pc));
                    }
                    self.plan_wait(pid, tid, plan, body, 0)?;
                    // The body might never be reached (a function that returns at once).
                    let return_address = self.read_u64_at(pid, sp)?;
                    self.plan_wait(pid, tid, plan, return_address, sp + 8)?;
                    plan.kind = StepKind::To(body);
                    return Ok(Next::Run);
                }
            }
            // Over the call: run to its return address (on top of the stack right after the call).
            let return_address = self.read_u64_at(pid, sp)?;
            self.plan_wait(pid, tid, plan, return_address, sp + 8)?;
            return Ok(Next::Run);
        }
        let Some(row) = self.line_row(pid, pc) else {
            // Code without line information (returned into it, or jumped there): run out of it.
            if sp > plan.frame_cfa.saturating_sub(8) || self.function_body_start(pid, pc).is_none() {
                plan.start_sp = sp;
                plan.frame_cfa = self.stack(pid, tid).ok().and_then(|s| s.frames.first().map(|f| f.cfa)).unwrap_or(sp);
                if self.plan_wait_for_return(pid, tid, plan).is_ok() {
                    return Ok(Next::Run);
                }
            }
            return Ok(Next::Done(pc));
        };
        let returned = sp >= plan.frame_cfa;
        let other_line = plan.line.as_ref() != Some(&(row.location.file.clone(), row.location.line));
        if row.start == pc && (other_line || returned) && row.location.line != 0 {
            return Ok(Next::Done(pc));
        }
        // In the middle of a line (back from a return, or a jump into it): step to the next line's start.
        plan.range = Some((row.start, row.end));
        if returned {
            plan.start_sp = sp;
            plan.frame_cfa = self.stack(pid, tid).ok().and_then(|s| s.frames.first().map(|f| f.cfa)).unwrap_or(sp);
            plan.line = Some((row.location.file.clone(), row.location.line));
        }
        Ok(Next::Step)
    }

    /// Whether `pc` with stack pointer `sp` is the first instruction of a
    /// called function: the word on top of the stack is a return address
    /// right after a call instruction.
    fn call_entered(&mut self, pid: i32, _pc: u64, sp: u64) -> bool {
        let Ok(return_address) = self.read_u64_at(pid, sp) else { return false };
        let mut code = [0u8; 16];
        for len in [5u64, 6, 2, 3, 7] {
            let at = return_address.wrapping_sub(len);
            if self.read_memory(pid, at, &mut code[..len as usize]).is_err() {
                continue;
            }
            if let Some(insn) = crate::arch::x86_64::decode(at, &code[..len as usize]) {
                if insn.len() as u64 == len && insn.flow_control() == FlowControl::Call
                    || insn.len() as u64 == len && insn.flow_control() == FlowControl::IndirectCall
                {
                    return true;
                }
            }
        }
        false
    }

    /// The address after the instruction at `pc` when stepping over it
    /// means running to there: a call, or a repeated string instruction
    /// (`rep movsb`: one step would stop in the middle of its repetitions).
    fn call_at(&mut self, pid: i32, pc: u64) -> Option<u64> {
        let mut code = [0u8; crate::arch::x86_64::MAX_INSTRUCTION_LEN];
        let n = self.read_memory_partial(pid, pc, &mut code).ok()?;
        let insn = crate::arch::x86_64::decode(pc, &code[..n])?;
        let call = matches!(insn.flow_control(), FlowControl::Call | FlowControl::IndirectCall);
        let repeated = (insn.has_rep_prefix() || insn.has_repne_prefix()) && insn.is_string_instruction();
        (call || repeated).then(|| pc + insn.len() as u64)
    }

    /// Plants a plan breakpoint: a hit at `address` by the plan's thread
    /// with `rsp >= min_sp` moves the plan on.
    fn plan_wait(&mut self, pid: i32, tid: i32, plan: &mut Plan, address: u64, min_sp: u64) -> Result<()> {
        let id = self.add_internal_breakpoint(pid, address, Internal::Plan { tid }, true)?;
        plan.waits.push((id, min_sp));
        Ok(())
    }

    /// Plants the plan breakpoint at the current function's return (the
    /// caller's next instruction, hit with the frame gone).
    fn plan_wait_for_return(&mut self, pid: i32, tid: i32, plan: &mut Plan) -> Result<()> {
        let stack = self.stack(pid, tid)?;
        let caller = stack
            .frames
            .get(1)
            .ok_or_else(|| Error::InvalidArgument("there is no caller to return to (the outermost frame)".into()))?;
        let (return_address, cfa) = (caller.pc, stack.frames[0].cfa);
        self.plan_wait(pid, tid, plan, return_address, cfa)
    }

    fn clear_plan_waits(&mut self, pid: i32, plan: &mut Plan) {
        for (id, _) in std::mem::take(&mut plan.waits) {
            self.remove_internal_breakpoint(pid, id);
        }
    }

    /// Ends the plan of a thread, removing its breakpoints.
    pub(crate) fn end_plan(&mut self, pid: i32, tid: i32) {
        if let Some(mut plan) = self.thread_plan_set(pid, tid, None) {
            self.clear_plan_waits(pid, &mut plan);
        }
    }

    /// Ends every plan of a process (another event was reported).
    pub(crate) fn end_plans(&mut self, pid: i32) {
        let tids: Vec<i32> = match self.processes.get(&pid) {
            Some(p) => p.threads.iter().filter(|(_, t)| t.plan.is_some()).map(|(&tid, _)| tid).collect(),
            None => return,
        };
        for tid in tids {
            self.end_plan(pid, tid);
            if let Some(t) = self.processes.get_mut(&pid).and_then(|p| p.threads.get_mut(&tid)) {
                if t.step == Some(Step::Plan) {
                    t.step = None;
                }
            }
        }
    }

    fn thread_plan(&self, pid: i32, tid: i32) -> Option<&Plan> {
        self.processes.get(&pid)?.threads.get(&tid)?.plan.as_ref()
    }

    fn thread_plan_set(&mut self, pid: i32, tid: i32, plan: Option<Plan>) -> Option<Plan> {
        let t = self.processes.get_mut(&pid)?.threads.get_mut(&tid)?;
        std::mem::replace(&mut t.plan, plan)
    }

    /// Sets the plan's line (and its code) to the line holding `pc`.
    fn refresh_line(&mut self, pid: i32, pc: u64, plan: &mut Plan) {
        if let Some(row) = self.line_row(pid, pc) {
            plan.range = Some((row.start, row.end));
            plan.line = Some((row.location.file, row.location.line));
        }
    }

    /// The line-table row holding `pc`, in the process's addresses.
    fn line_row(&mut self, pid: i32, pc: u64) -> Option<crate::symbols::dwarf::LineRow> {
        let module = self.process(pid).ok()?.modules.iter().find(|m| m.contains(pc)).cloned()?;
        let symbols = self.module_symbols(pid, &module);
        let dwarf = symbols.dwarf.as_ref()?;
        let file_pc = pc.wrapping_sub(module.bias);
        let row = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| dwarf.row_at(file_pc))).ok()??;
        Some(crate::symbols::dwarf::LineRow {
            start: row.start.wrapping_add(module.bias),
            end: row.end.wrapping_add(module.bias),
            location: row.location,
        })
    }

    /// Where the body of the function at `entry` starts (after its
    /// prologue: the second row of its line table, gdb's rule), if the
    /// function has line information.
    fn function_body_start(&mut self, pid: i32, entry: u64) -> Option<u64> {
        let module = self.process(pid).ok()?.modules.iter().find(|m| m.contains(entry)).cloned()?;
        let symbols = self.module_symbols(pid, &module);
        let file_entry = entry.wrapping_sub(module.bias);
        let function = symbols.elf.covering(file_entry)?;
        let (start, end) = (function.address, function.address + function.size.max(1));
        let dwarf = symbols.dwarf.as_ref()?;
        let rows = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| dwarf.rows(start, end))).ok()?;
        let first = rows.iter().find(|r| r.start >= start)?;
        let body = rows
            .iter()
            .find(|r| r.start > first.start && r.location.line != first.location.line && r.location.line != 0)
            .map(|r| r.start)
            .unwrap_or(first.start);
        (file_entry == start).then_some(body.wrapping_add(module.bias)).or(Some(entry))
    }

    fn read_u64_at(&mut self, pid: i32, address: u64) -> Result<u64> {
        let mut b = [0u8; 8];
        self.read_memory(pid, address, &mut b)?;
        Ok(u64::from_le_bytes(b))
    }
}
