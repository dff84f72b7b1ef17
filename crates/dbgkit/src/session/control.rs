//! Stopping and resuming threads: all-stop, out-of-line steps over
//! breakpoints, continue statuses, detach and kill.

use super::Session;
use crate::arch::x86_64::{call_target, OutOfLine};
use crate::error::{Error, Result};
use crate::event::{ContinueStatus, Event, EventKind};
use crate::process::Step;
use crate::target::{Resume, StopReason, WaitMode};

/// Ignores "the thread is gone": a death is reported as an event later.
fn tolerate_gone(r: Result<()>) -> Result<()> {
    match r {
        Err(e) if e.is_gone() => Ok(()),
        other => other,
    }
}

impl Session {
    /// Stops every running thread of `pid` (all-stop). Statuses other than
    /// our interrupt are held for later; nothing is lost.
    ///
    /// Waits take any tracee's status, not one thread's: a dead leader is
    /// reported only after every other thread is reaped, so waiting for it
    /// alone could block forever.
    pub(crate) fn stop_all(&mut self, pid: i32) -> Result<()> {
        self.stop_all_but(pid, &[])
    }

    /// [`stop_all`](Self::stop_all), leaving the threads `spared` running.
    pub(crate) fn stop_all_but(&mut self, pid: i32, spared: &[i32]) -> Result<()> {
        let p = self.process(pid)?;
        if p.threads.iter().all(|(tid, t)| t.stopped || spared.contains(tid)) {
            return Ok(());
        }
        let control = p.control()?;
        let source = p.source.ok_or_else(|| crate::target::not_supported("waiting for stops", p.target.kind()))?;
        let mut waiting = std::collections::HashSet::new();
        for (&tid, t) in p.threads.iter() {
            if t.stopped || spared.contains(&tid) {
                continue;
            }
            match control.interrupt(tid) {
                Ok(()) => {
                    waiting.insert(tid);
                }
                Err(e) if e.is_gone() => {}
                Err(e) => return Err(e),
            }
        }
        while !waiting.is_empty() {
            // A leader that exited alone stays a zombie while other threads live: never wait for it.
            if waiting.len() == 1 && waiting.contains(&pid) && self.process(pid)?.control()?.is_zombie(pid) {
                break;
            }
            // Nothing left to wait for (no tracee at all): the rest are gone.
            let Some((tid, status)) = self.sources[source].wait_any(WaitMode::Block)? else { break };
            if status == StopReason::Exec && tid == pid {
                // A thread exec'd: the kernel ended every other thread, and the
                // one that exec'd now has the leader's id; none will stop.
                waiting.clear();
                waiting.insert(pid);
            }
            if !waiting.remove(&tid) {
                self.hold(tid, status);
                continue;
            }
            let p = self.process_mut(pid)?;
            let Some(t) = p.threads.get_mut(&tid) else { continue };
            t.regs = None;
            t.signal_stop = matches!(status, StopReason::Signal(_));
            match status {
                StopReason::Interrupted => {
                    t.stopped = true;
                    // A trap (not a stop signal) means no group-stop is in effect.
                    t.group_stopped = false;
                    if self.trap_pending_at_site(pid, tid)? {
                        // It executed an int3 and the interrupt overtook the trap:
                        // let the trap be reported now, so it is held and not lost.
                        self.process_mut(pid)?.threads.get_mut(&tid).expect("known thread").stopped = false;
                        self.process(pid)?.control()?.resume(tid, Resume::Continue, 0)?;
                        waiting.insert(tid);
                    }
                }
                StopReason::GroupStop(_) => {
                    t.stopped = true;
                    t.group_stopped = true;
                }
                other => {
                    t.stopped = !other.is_death();
                    self.held.push_back((tid, other));
                }
            }
        }
        Ok(())
    }

    /// Whether `tid` (just stopped by our interrupt) sits right after a
    /// planted int3 with its `SIGTRAP` still pending in the kernel.
    fn trap_pending_at_site(&mut self, pid: i32, tid: i32) -> Result<bool> {
        let rip = self.rip_of(pid, tid)?;
        if !self.process(pid)?.sites.contains_key(&rip.wrapping_sub(1)) {
            return Ok(false);
        }
        Ok(self.process(pid)?.control()?.trap_pending(tid))
    }

    /// Keeps a status for later: held for a known thread, orphaned for a new one.
    pub(crate) fn hold(&mut self, tid: i32, status: StopReason) {
        if self.owner.contains_key(&tid) {
            self.held.push_back((tid, status));
        } else if !status.is_death() {
            self.orphans.insert(tid, status);
        }
    }

    /// Resumes every stopped thread of `pid` that has nothing held.
    pub(crate) fn resume_all(&mut self, pid: i32) -> Result<()> {
        let p = self.process_mut(pid)?;
        // While a step keeps the other threads stopped they stay parked:
        // what they hold (a breakpoint hit taken as the process stopped)
        // would otherwise be handled now and set them running.
        let locked = p.threads.values().any(|t| t.plan.as_ref().is_some_and(|plan| plan.locks_others()));
        for t in p.threads.values_mut() {
            t.parked = locked && t.plan.is_none();
        }
        self.resume_all_but_one(pid, None)
    }

    /// Resumes every stopped thread of `pid` but `tid`, which stays stopped.
    pub(crate) fn resume_all_but(&mut self, pid: i32, tid: i32) -> Result<()> {
        self.resume_all_but_one(pid, Some(tid))
    }

    fn resume_all_but_one(&mut self, pid: i32, except: Option<i32>) -> Result<()> {
        // Accesses to page-watched pages run first, while every thread is still stopped.
        if self.process(pid)?.threads.values().any(|t| t.page_step.is_some()) {
            self.replay_page_accesses(pid)?;
        }
        let p = self.process(pid)?;
        // A step that keeps the other threads stopped: only stepping threads go.
        let locked = p.threads.values().any(|t| t.plan.as_ref().is_some_and(|plan| plan.locks_others()));
        let tids: Vec<i32> = p
            .threads
            .iter()
            .filter(|(&tid, t)| t.stopped && Some(tid) != except && (!locked || t.plan.is_some()))
            .map(|(&tid, _)| tid)
            .collect();
        for tid in tids {
            if self.held.iter().any(|(held, _)| *held == tid) {
                continue;
            }
            // A classic step-over of an earlier thread may have resumed this one already.
            let still_stopped = self.process(pid)?.threads.get(&tid).is_some_and(|t| t.stopped);
            if still_stopped {
                tolerate_gone(self.resume_thread(pid, tid))?;
            }
        }
        Ok(())
    }

    /// Resumes one thread: over its breakpoint if it reported one, stepping
    /// if asked, listening if group-stopped, with its signal if any.
    pub(crate) fn resume_thread(&mut self, pid: i32, tid: i32) -> Result<()> {
        self.refuse_inside_callback("resume a thread")?;
        if self.held.iter().any(|(held, _)| *held == tid) {
            // A stop the kernel gave while the thread was being stopped for
            // another event is handled first, as if the thread had just come
            // to it; running it now would skip that stop (an int3's trap,
            // with rip one byte on, would be lost and the thread run on from
            // the middle of an instruction).
            return Ok(());
        }
        if self.waits_for_vfork(pid, tid)? {
            return Ok(());
        }
        self.before_vfork_child_runs(pid)?;
        let p = self.process_mut(pid)?;
        let Some(t) = p.threads.get_mut(&tid) else {
            return Ok(());
        };
        let signal = std::mem::take(&mut t.signal_to_deliver);
        let step = t.step;
        let over = t.over_breakpoint.take();
        if t.group_stopped && signal == 0 && step.is_none() {
            t.stopped = false;
            t.regs = None;
            return self.process(pid)?.control()?.resume(tid, Resume::Listen, 0);
        }
        t.group_stopped = false;
        self.apply_resume_flag(pid, tid)?;
        if let Some(address) = over {
            let rip = self.rip_of(pid, tid)?;
            if rip == address && self.process(pid)?.sites.contains_key(&address) {
                return self.run_over_site(pid, tid, address, signal, step.is_some());
            }
        }
        self.restart(pid, tid, signal, step.is_some())
    }

    /// True, with `tid` noted to resume later, when a vfork child still
    /// borrows the memory (breakpoint bytes out): `tid` would run past its
    /// breakpoints. A vfork parent kept stopped (parked) runs meanwhile up
    /// to its `VFORK_DONE` only (it runs no code of its own before that), so
    /// that the wait ends; not while the debugger holds the child itself,
    /// which could then never let go, and then no one waits.
    fn waits_for_vfork(&mut self, pid: i32, tid: i32) -> Result<bool> {
        let p = self.process(pid)?;
        if !p.bytes_lent || p.vfork_parents.contains_key(&tid) || !p.threads.contains_key(&tid) {
            return Ok(false);
        }
        // A VFORK_DONE taken while the process was being stopped, and held, counts now.
        let done: Vec<i32> = p
            .vfork_parents
            .keys()
            .copied()
            .filter(|&parent| {
                self.held.iter().any(|(held, status)| *held == parent && *status == StopReason::VforkDone)
            })
            .collect();
        for parent in done {
            let waiting = self.on_vfork_done(pid, parent)?;
            self.resume_waiting_for_vfork(pid, waiting.into_iter().filter(|&t| t != tid).collect())?;
        }
        let p = self.process(pid)?;
        let child_held = |child: &i32| self.processes.get(child).is_some_and(|c| c.is_held());
        let mut to_run = Vec::new();
        for (&parent, child) in &p.vfork_parents {
            let Some(t) = p.threads.get(&parent) else { continue };
            if t.parked && child_held(child) {
                return Ok(false);
            }
            if t.parked && t.stopped && !self.held.iter().any(|(held, _)| *held == parent) {
                to_run.push(parent);
            }
        }
        if !p.bytes_lent || p.vfork_parents.is_empty() {
            return Ok(false);
        }
        self.process_mut(pid)?.waiting_for_vfork.insert(tid);
        for parent in to_run {
            let t = self.process_mut(pid)?.threads.get_mut(&parent).expect("listed above");
            t.stopped = false;
            t.regs = None;
            tolerate_gone(self.process(pid)?.control()?.resume(parent, Resume::Continue, 0))?;
        }
        Ok(true)
    }

    /// Resumes the threads a vfork child kept waiting (see `on_vfork_done`)
    /// that are still stopped, unless an event holds the process.
    pub(crate) fn resume_waiting_for_vfork(&mut self, pid: i32, waiting: Vec<i32>) -> Result<()> {
        for tid in waiting {
            let p = self.process(pid)?;
            let stopped = p.threads.get(&tid).is_some_and(|t| t.stopped);
            if stopped && !p.is_held() && !self.held.iter().any(|(held, _)| *held == tid) {
                tolerate_gone(self.resume_thread(pid, tid))?;
            }
        }
        Ok(())
    }

    /// The plain restart: continue or single-step with `signal`.
    fn restart(&mut self, pid: i32, tid: i32, mut signal: i32, step: bool) -> Result<()> {
        let t = self.process_mut(pid)?.threads.get_mut(&tid).expect("caller checked the thread");
        t.stopped = false;
        t.regs = None;
        if signal != 0 && !std::mem::take(&mut t.signal_stop) {
            // This stop would drop the signal (our interrupt, a ptrace
            // event): it is sent instead, and let through when it comes.
            if self.process(pid)?.control()?.queue_signal(tid, signal).is_ok() {
                if let Some(t) = self.thread_mut(pid, tid) {
                    t.signal_sent = Some(signal);
                }
                signal = 0;
            }
        }
        let p = self.process(pid)?;
        let how = match (step, p.syscall_stops) {
            (true, _) => Resume::Step,
            (false, true) => Resume::ToSyscall,
            (false, false) => Resume::Continue,
        };
        p.control()?.resume(tid, how, signal)
    }

    /// Runs the original instruction under the site at `address` for thread
    /// `tid` (stopped with `rip == address`) and lets it go on.
    pub(crate) fn run_over_site(&mut self, pid: i32, tid: i32, address: u64, signal: i32, step: bool) -> Result<()> {
        let p = self.process(pid)?;
        let site = &p.sites[&address];
        if let (OutOfLine::Relocated { .. }, Some(slot), 0) = (&site.plan, site.slot, signal) {
            // The hot path: one word written, then go.
            self.set_rip_of(pid, tid, slot)?;
            if step {
                // Step the relocated copy, then map the slot address back (the step's reason stays).
                let t = self.process_mut(pid)?.threads.get_mut(&tid).expect("stopped thread");
                t.step = t.step.or(Some(Step::User));
            }
            return self.restart(pid, tid, 0, step);
        }
        // A target's own breakpoint (never relocated by the engine) that the
        // target gets over itself: one resume.
        if signal == 0 && !step && p.target.target_breakpoints().is_some_and(|t| t.steps_over_itself()) {
            return self.restart(pid, tid, 0, false);
        }
        let mut regs = self.regs_of(pid, tid)?;
        let p = self.process(pid)?;
        let site = &p.sites[&address];
        match (&site.plan, site.slot) {
            (OutOfLine::Call { instruction, return_address }, _) if signal == 0 => {
                let (instruction, return_address) = (*instruction, *return_address);
                let target = call_target(&instruction, &regs, |a| p.read_u64(a).ok()).ok_or_else(|| {
                    Error::CannotPlantBreakpoint { address, reason: "cannot compute the call target".into() }
                })?;
                regs.rsp = regs.rsp.wrapping_sub(8);
                p.writer()?.write_memory(regs.rsp, &return_address.to_le_bytes())?;
                regs.rip = target;
                self.put_regs(pid, tid, regs)?;
                if step {
                    // The call is done: the step is complete at its target.
                    let t = self.process_mut(pid)?.threads.get_mut(&tid).expect("stopped thread");
                    let reason = t.step.take().unwrap_or(Step::User);
                    return self.on_step_complete(pid, tid, target, reason);
                }
                self.restart(pid, tid, 0, false)
            }
            _ => self.classic_step_over(pid, tid, address, signal, step),
        }
    }

    /// The classic way: with every other thread stopped, restore the byte,
    /// single-step, plant it again.
    fn classic_step_over(&mut self, pid: i32, tid: i32, address: u64, signal: i32, user_step: bool) -> Result<()> {
        let others_running: Vec<i32> =
            self.process(pid)?.threads.iter().filter(|(&t, s)| t != tid && !s.stopped).map(|(&t, _)| t).collect();
        if !others_running.is_empty() {
            self.stop_all(pid)?;
        }
        let original = self.process(pid)?.sites[&address].original[0];
        self.set_rip_of(pid, tid, address)?;
        self.lift_site(pid, address, original)?;
        let outcome = self.process(pid)?.control()?.resume(tid, Resume::Step, signal);
        let outcome = outcome.and_then(|()| self.process(pid)?.control()?.wait_thread(tid));
        // Plant it again whatever happened: a byte left out loses the breakpoint.
        let replanted = self.replant_site(pid, address);
        let status = outcome?;
        replanted?;
        let t = self.process_mut(pid)?.threads.get_mut(&tid).expect("stepping thread");
        t.regs = None;
        match status {
            Some(StopReason::Signal(crate::signal_numbers::SIGTRAP)) if user_step => {
                let reason = t.step.take().unwrap_or(Step::User);
                let rip = self.regs_of(pid, tid)?.rip;
                // A plan goes on with the others running, as they were; a user step reports with them stopped.
                if !others_running.is_empty() && reason == Step::Plan {
                    self.resume_all_but(pid, tid)?;
                }
                return self.on_step_complete(pid, tid, rip, reason);
            }
            Some(StopReason::Signal(crate::signal_numbers::SIGTRAP)) => {}
            Some(other) => {
                // Something else happened first: handle it later; the hit was counted.
                t.uncounted_rehit = Some(address);
                self.held.push_back((tid, other));
                if !others_running.is_empty() {
                    self.resume_all(pid)?;
                }
                return Ok(());
            }
            None => return Err(Error::ProcessGone(pid)),
        }
        self.restart(pid, tid, 0, false)?;
        if !others_running.is_empty() {
            self.resume_all(pid)?;
        }
        Ok(())
    }

    /// Applies a continue status to the event it continues, then lets the
    /// process run when no other event of it is waiting.
    pub(crate) fn apply_continue(&mut self, event: Event, status: ContinueStatus) -> Result<()> {
        let pid = event.pid;
        match (&event.kind, status) {
            (EventKind::ProcessExited { .. }, _) => {
                self.forget_process(pid);
                return Ok(());
            }
            (_, ContinueStatus::TerminateProcess) => {
                return self.kill(pid);
            }
            (_, ContinueStatus::TerminateThread) => self.terminate_thread(pid, event.tid)?,
            (EventKind::Exception { signal, first_chance: true, .. }, ContinueStatus::NotHandled)
                if self.process(pid)?.control()?.signal_would_kill(event.tid, *signal) =>
            {
                // Nobody handles it: this is the last look before the process dies.
                let mut second = event.clone();
                if let EventKind::Exception { first_chance, .. } = &mut second.kind {
                    *first_chance = false;
                }
                self.process_mut(pid)?.queued.push_front(second);
                return Ok(());
            }
            (EventKind::Exception { signal, code, first_chance: true, .. }, ContinueStatus::Handled) => {
                self.note_handled_fault(pid, event.tid, *signal, *code);
            }
            (EventKind::Exception { signal, .. }, ContinueStatus::NotHandled) => {
                if let Some(t) = self.process_mut(pid)?.threads.get_mut(&event.tid) {
                    t.signal_to_deliver = *signal;
                }
            }
            _ => {}
        }
        if self.process(pid)?.queued.is_empty() {
            self.resume_all(pid)?;
        }
        Ok(())
    }

    /// Ends one thread by making it call `exit(0)` from the scratch stub.
    fn terminate_thread(&mut self, pid: i32, tid: i32) -> Result<()> {
        let stub = self.syscall_stub(pid)?;
        let mut regs = self.regs_of(pid, tid)?;
        regs.rax = crate::linux_abi::SYS_EXIT as u64;
        regs.orig_rax = u64::MAX;
        regs.rdi = 0;
        regs.rip = stub;
        self.put_regs(pid, tid, regs)?;
        let t = self.process_mut(pid)?.threads.get_mut(&tid).ok_or(Error::NoSuchThread { pid, tid })?;
        t.over_breakpoint = None;
        t.signal_to_deliver = 0;
        t.step = None;
        Ok(())
    }

    /// Detach: restore every breakpoint byte, move threads out of scratch
    /// memory, unmap it, deliver held signals, let every thread go.
    pub(crate) fn detach_process(&mut self, pid: i32) -> Result<()> {
        if !self.process(pid)?.is_held() {
            self.stop_all(pid)?;
        }
        self.before_vfork_child_runs(pid)?;
        let in_flight = self.process_mut(pid)?.in_flight.take();
        self.process_mut(pid)?.queued.clear();
        // A signal reported and not yet continued is still meant for the target.
        if let Some(Event { tid, kind: EventKind::Exception { signal, .. }, .. }) = in_flight {
            if let Some(t) = self.process_mut(pid)?.threads.get_mut(&tid) {
                t.signal_to_deliver = signal;
            }
        }
        let ids: Vec<u32> = self.breakpoints.iter().filter(|(_, b)| b.info.pid == pid).map(|(&id, _)| id).collect();
        for id in ids {
            self.breakpoints.remove(&id);
        }
        // A fork stop still held below has a child with these bytes in it.
        let originals = self.site_originals(pid)?;
        self.remove_all_sites(pid)?;
        self.clear_debug_registers(pid);
        let page_watches: Vec<(u32, Vec<(u64, u64)>)> = self
            .watchpoints
            .iter()
            .filter(|(_, w)| w.info.pid == pid && w.info.page)
            .map(|(&id, w)| (id, w.pages.clone()))
            .collect();
        for (id, pages) in page_watches {
            let _ = self.restore_pages(pid, &pages);
            self.watchpoints.remove(&id);
        }
        self.release_scratch(pid);
        // Held statuses: deliver their signals at detach; a held breakpoint
        // trap is rewound (its byte is gone now).
        let tids: Vec<i32> = self.process(pid)?.threads.keys().copied().collect();
        let mut held_here = Vec::new();
        self.held.retain(|(tid, status)| {
            if tids.contains(tid) {
                held_here.push((*tid, *status));
                false
            } else {
                true
            }
        });
        for (tid, status) in held_here {
            match status {
                StopReason::Signal(crate::signal_numbers::SIGTRAP) => {
                    let target = &self.process(pid)?.target;
                    if let Ok(pc) = target.pc(tid) {
                        let was_breakpoint = self.removed_site(pid, pc.wrapping_sub(1));
                        if was_breakpoint {
                            if let Some(writer) = target.write_access() {
                                // Best effort: the thread may be gone already.
                                let _ = writer.set_pc(tid, pc - 1);
                            }
                        } else if let Some(t) = self.process_mut(pid)?.threads.get_mut(&tid) {
                            t.signal_to_deliver = crate::signal_numbers::SIGTRAP;
                        }
                    }
                }
                StopReason::Signal(sig) => {
                    if let Some(t) = self.process_mut(pid)?.threads.get_mut(&tid) {
                        t.signal_to_deliver = sig;
                    }
                }
                // The new thread or child was auto-attached: let it go too,
                // a fork child without its copy of the breakpoint bytes.
                StopReason::NewThread { child } | StopReason::Forked { child, vfork: true } => {
                    self.release_new_task(pid, child, &[])
                }
                StopReason::Forked { child, vfork: false } => self.release_new_task(pid, child, &originals),
                _ => {}
            }
        }
        let p = self.process(pid)?;
        if let Some(control) = p.target.run_control() {
            for (&tid, t) in p.threads.iter() {
                if t.stopped {
                    let mut signal = if t.group_stopped { 0 } else { t.signal_to_deliver };
                    // A stop that is no signal's drops one given as it ends
                    // (see `restart`): it is sent instead.
                    if signal != 0 && !t.signal_stop && control.queue_signal(tid, signal).is_ok() {
                        signal = 0;
                    }
                    // A thread that died meanwhile needs no detaching.
                    let _ = control.detach_thread(tid, signal);
                }
            }
        }
        self.forget_process(pid);
        Ok(())
    }

    /// The first status of an auto-attached task (new thread or child): kept
    /// as an orphan if it came before its creator's event, else waited for.
    pub(crate) fn first_stop(&mut self, pid: i32, tid: i32) -> Result<Option<StopReason>> {
        match self.orphans.remove(&tid) {
            Some(s) => Ok(Some(s)),
            None => self.process(pid)?.control()?.wait_thread(tid),
        }
    }

    /// Waits for the first stop of a task auto-attached by `pid` and
    /// detaches it, first writing `originals` (address, byte) into it.
    pub(crate) fn release_new_task(&mut self, pid: i32, tid: i32, originals: &[(u64, u8)]) {
        let status = self.first_stop(pid, tid).ok().flatten();
        if status.is_some_and(|s| !s.is_death()) {
            // Best effort, as the detach below.
            let _ = self.restore_originals_in_child(pid, tid, originals);
            if let Ok(control) = self.process(pid).and_then(|p| p.control()) {
                // Best effort: a task that died meanwhile is already free.
                let _ = control.detach_thread(tid, 0);
            }
        }
    }

    pub(crate) fn forget_process(&mut self, pid: i32) {
        if let Some(p) = self.processes.remove(&pid) {
            for tid in p.threads.keys() {
                self.owner.remove(tid);
            }
        }
        self.owner.remove(&pid);
        self.breakpoints.retain(|_, b| b.info.pid != pid);
        self.watchpoints.retain(|_, w| w.info.pid != pid);
        self.syscall_catches.retain(|_, c| c.info.pid != pid);
        self.pipes.remove(&pid);
        self.remotes.remove(&pid);
        if self.last_reported == Some(pid) {
            self.last_reported = None;
        }
    }

    /// Kills a process and reaps every thread, so no zombie is left behind.
    pub(crate) fn kill_and_reap(&mut self, pid: i32) {
        let Some(p) = self.processes.get(&pid) else { return };
        if let Some(control) = p.target.run_control() {
            // Best effort: the session is going away; a process that is gone already is fine.
            let _ = control.kill();
            match p.source {
                // Every thread dies, known or not (one being created has no clone event yet):
                // take deaths from the source until the leader's, which comes last.
                Some(source) => {
                    while let Ok(Some((tid, reason))) = self.sources[source].wait_any(WaitMode::Block) {
                        if tid == pid && reason.is_death() {
                            break;
                        }
                        if self.owner.get(&tid) != Some(&pid) {
                            // Another process's (or a new task's) status: kept for it.
                            self.hold(tid, reason);
                        }
                    }
                }
                None => {
                    let p = &self.processes[&pid];
                    for tid in p.threads.keys().copied().filter(|&t| t != pid).chain([pid]) {
                        while let Ok(Some(s)) = control.wait_thread(tid) {
                            if s.is_death() {
                                break;
                            }
                        }
                    }
                }
            }
        }
        self.forget_process(pid);
    }
}
