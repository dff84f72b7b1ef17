//! `vCont` actions turned into engine calls: continue the stop gdb looked
//! at (with its signal, or without), step one thread with the others running
//! or stopped, or step through an address range without asking gdb between
//! instructions (range stepping).

use crate::debug_log;
use crate::target::{ServerError, ServerTarget};
use dbgkit::{ContinueStatus, EventKind, OtherThreads};
use gdbstub::stub::MultiThreadStopReason;
use std::collections::BTreeMap;

/// What gdb asked one thread to do (signals in gdb's numbering).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThreadAction {
    Continue(Option<u8>),
    Step(Option<u8>),
    /// Step while `start <= pc < end`.
    RangeStep(u64, u64),
}

/// The actions of one `vCont` packet.
#[derive(Clone, Debug, Default)]
pub struct ResumePlan {
    pub actions: BTreeMap<i32, ThreadAction>,
    /// No action for "every other thread": they stay stopped.
    pub locked: bool,
}

impl ResumePlan {
    /// The thread asked to step, and its range when range stepping.
    fn stepper(&self) -> Option<(i32, Option<(u64, u64)>)> {
        self.actions.iter().find_map(|(&tid, action)| match *action {
            ThreadAction::Step(_) => Some((tid, None)),
            ThreadAction::RangeStep(start, end) => Some((tid, Some((start, end)))),
            ThreadAction::Continue(_) => None,
        })
    }

    /// The signal gdb gives thread `tid`, if any.
    fn signal_for(&self, tid: i32) -> Option<u8> {
        match self.actions.get(&tid)? {
            ThreadAction::Continue(signal) | ThreadAction::Step(signal) => *signal,
            ThreadAction::RangeStep(..) => None,
        }
    }
}

/// How the plan resumes thread `tid` (the one stopped at the event) from
/// an address where gdb has a breakpoint in. gdb steps over a breakpoint
/// by taking it out first: one left in is meant to be hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OntoBreakpoint {
    /// Not from such an address, or not resumed.
    No,
    /// Run or stepped without a signal: it hits the breakpoint at once.
    AtOnce,
    /// Run or stepped with a signal: it hits the breakpoint after the
    /// signal (its handler, if any, returns there; a step ends in it).
    AfterItsSignal,
}

fn onto_its_breakpoint(target: &mut ServerTarget, plan: &ResumePlan, pid: i32, tid: i32) -> OntoBreakpoint {
    let how = match plan.actions.get(&tid) {
        Some(_) if plan.signal_for(tid).is_some() => OntoBreakpoint::AfterItsSignal,
        Some(_) => OntoBreakpoint::AtOnce,
        None if !plan.locked && plan.stepper().is_none() => OntoBreakpoint::AtOnce,
        None => OntoBreakpoint::No,
    };
    let at_one = how != OntoBreakpoint::No
        && target.session.registers(pid, tid).is_ok_and(|r| target.breakpoint_inserted_at(r.rip));
    if at_one {
        how
    } else {
        OntoBreakpoint::No
    }
}

pub(crate) fn others(locked: bool) -> OtherThreads {
    if locked {
        OtherThreads::Stay
    } else {
        OtherThreads::Run
    }
}

/// Carries out the plan gdbstub collected: the current process resumes,
/// and with it every other one when the plan names no process.
pub(crate) fn resume(target: &mut ServerTarget) -> Result<(), ServerError> {
    let every_process = std::mem::take(&mut target.resume_every_process);
    if std::mem::take(&mut target.interrupt_pending) {
        if let Some(event) = &target.stop_event {
            // gdb's Ctrl-C came while nothing ran: this resume is where it stops.
            let plan = std::mem::take(&mut target.plan);
            let tid = plan.stepper().map_or(event.tid, |(tid, _)| tid);
            debug_log!(target, "a Ctrl-C came while stopped: thread {tid} stops with SIGINT");
            target.immediate_stop = Some(MultiThreadStopReason::SignalWithThread {
                tid: crate::target::to_tid(tid),
                signal: gdbstub::common::Signal::SIGINT,
            });
            return Ok(());
        }
    }
    if target.prepare_resume(every_process)? {
        // A stop gdb has not heard of is told instead.
        target.plan = ResumePlan::default();
        return Ok(());
    }
    let resumed = resume_current(target)?;
    if every_process && resumed {
        target.resume_parked()?;
    }
    Ok(())
}

/// Resumes the current process as the plan says; false when it stopped at
/// once instead (it resumed onto a breakpoint gdb has in).
fn resume_current(target: &mut ServerTarget) -> Result<bool, ServerError> {
    let plan = std::mem::take(&mut target.plan);
    let Some(inferior) = target.inferior.clone() else {
        return Err(ServerError::Usage("there is no process to resume".into()));
    };
    if !target.pending_vfork_done.is_empty() {
        // The parent stays held at its vfork until the child lets go of the
        // shared memory; the wait reports `vforkdone` then (gdb reinserts
        // its breakpoints only after it).
        target.plan = plan;
        return Ok(true);
    }
    let Some(event) = target.stop_event.take() else {
        debug_log!(target, "resume with no stop in hand: the process is already running");
        return Ok(true);
    };
    // gdb passing back the signal the event reported means "deliver it";
    // any other signal given to a thread is set for it before it runs.
    let event_signal = match event.kind {
        EventKind::Exception { signal, .. } => Some(signal),
        _ => None,
    };
    match onto_its_breakpoint(target, &plan, inferior.pid, event.tid) {
        OntoBreakpoint::AtOnce => {
            // Put there (`jump *$pc`): it hits the breakpoint again at once,
            // as its int3 would under gdbserver. The engine, which would
            // step over the breakpoint the thread stopped at, is not asked.
            debug_log!(target, "thread {} resumed on a breakpoint gdb has in: hit at once", event.tid);
            target.immediate_stop = Some(MultiThreadStopReason::SwBreak(crate::target::to_tid(event.tid)));
            target.stop_event = Some(event);
            return Ok(false);
        }
        OntoBreakpoint::AfterItsSignal => {
            // A signal came while gdb stepped it off the breakpoint: gdb
            // passes it now and expects the trap there before it steps again.
            if let Err(e) = target.session.hit_breakpoint_again(inferior.pid, event.tid) {
                debug_log!(target, "thread {} resumed onto its breakpoint: {e}", event.tid);
            }
        }
        OntoBreakpoint::No => {}
    }
    let mut status = ContinueStatus::Handled;
    for (&tid, _) in plan.actions.iter() {
        let Some(signal) = plan.signal_for(tid).and_then(crate::signals::from_gdb).filter(|&s| s != 0) else {
            continue;
        };
        if tid == event.tid && event_signal == Some(signal) {
            status = ContinueStatus::NotHandled;
        } else if let Err(e) = target.session.set_thread_signal(inferior.pid, tid, signal) {
            debug_log!(target, "signal {signal} for thread {tid} not set: {e}");
        }
    }
    target.retire_breakpoints_taken_out(plan.stepper().is_some());
    if let Some((tid, _)) = plan.stepper() {
        // A thread steps over a breakpoint gdb took out only if it reported
        // that breakpoint (the engine then runs the instruction out of line).
        if let Ok(pc) = target.session.registers(inferior.pid, tid).map(|r| r.rip) {
            let reported_here =
                event.tid == tid && matches!(event.kind, EventKind::Breakpoint { address, .. } if address == pc);
            if !reported_here {
                target.retire_breakpoint_at(pc);
            }
        }
    }
    target.resumes += 1;
    target.reported_fork_child = None;
    target.scheduler_locked = plan.locked;
    target.resumed_threads = if plan.locked { plan.actions.keys().copied().collect() } else { Vec::new() };
    let result = match plan.stepper() {
        Some((tid, range)) => {
            target.stepping = Some((tid, range));
            target.session.step_thread(inferior.pid, tid, status, others(plan.locked))
        }
        None if plan.locked => {
            // Scheduler locking: only the threads named run.
            target.stepping = None;
            let threads: Vec<i32> = plan.actions.keys().copied().collect();
            target.session.resume_threads(inferior.pid, &threads, status)
        }
        None => {
            target.stepping = None;
            target.session.continue_process(inferior.pid, status)
        }
    };
    match result {
        Ok(()) => Ok(true),
        // A process that vanished reports its exit next.
        Err(e) if e.is_gone() => Ok(true),
        Err(e) => {
            debug_log!(target, "resume failed: {e}");
            Err(e.into())
        }
    }
}
