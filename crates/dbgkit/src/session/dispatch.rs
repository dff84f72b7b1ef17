//! Turning raw wait statuses into events. Every status goes through
//! `dispatch`; fast breakpoints and the loader's hooks are handled here
//! without an event; everything else becomes an event, and the process is
//! stopped (all-stop) before it is reported.

use super::{HitContext, HitInProgress, Session};
use crate::breakpoints::{Condition, HitAction, Internal};
use crate::error::Result;
use crate::event::EventKind;
use crate::process::{Step, ThreadState};
use crate::target::{StopReason, TRAP_BY_INT3};

impl Session {
    /// Handles one status of thread `tid`.
    pub(crate) fn dispatch(&mut self, tid: i32, status: StopReason) -> Result<()> {
        let Some(&pid) = self.owner.get(&tid) else {
            // A new thread or child whose creator's event has not come yet.
            if !status.is_death() {
                self.orphans.insert(tid, status);
            }
            return Ok(());
        };
        let Some(p) = self.processes.get_mut(&pid) else {
            return Ok(());
        };
        if p.is_held() {
            self.held.push_back((tid, status));
            return Ok(());
        }
        if let Some(t) = p.threads.get_mut(&tid) {
            t.stopped = !status.is_death();
            t.regs = None;
            t.signal_stop = matches!(status, StopReason::Signal(_));
        }
        match status {
            StopReason::Exited(code) => self.on_death(pid, tid, Some(code), None),
            StopReason::Killed { signal } => self.on_death(pid, tid, None, Some(signal)),
            StopReason::Signal(crate::signal_numbers::SIGTRAP) => self.on_trap(pid, tid),
            StopReason::Signal(signal) => self.on_signal(pid, tid, signal),
            StopReason::GroupStop(_) => {
                if let Some(t) = self.thread_mut(pid, tid) {
                    t.group_stopped = true;
                }
                self.resume_thread(pid, tid)
            }
            StopReason::Interrupted => {
                // SIGCONT ends a group-stop by re-trapping listening threads with SIGTRAP.
                if let Some(t) = self.thread_mut(pid, tid) {
                    t.group_stopped = false;
                }
                // Our interrupt, after the stop it was for was handled otherwise: go on.
                self.resume_thread(pid, tid)
            }
            StopReason::Syscall => self.on_syscall_stop(pid, tid),
            StopReason::Other => self.resume_thread(pid, tid),
            StopReason::ModulesChanged => {
                self.sync_modules(pid, tid)?;
                if self.process(pid)?.queued.is_empty() {
                    self.resume_thread(pid, tid)
                } else {
                    // Reported before any code of a new module runs.
                    self.stop_all(pid)
                }
            }
            StopReason::NewThread { child } => {
                self.on_new_thread(pid, child)?;
                // The creator stays stopped with the rest while ThreadCreated is reported.
                if self.process(pid)?.is_held() {
                    return Ok(());
                }
                self.resume_thread(pid, tid)
            }
            StopReason::Forked { child, vfork } => {
                self.on_fork(pid, tid, child, vfork)?;
                self.report(pid, tid, EventKind::Fork { child, vfork })
            }
            StopReason::VforkDone => {
                let waiting = self.on_vfork_done(pid, tid)?;
                let held = self.process(pid)?.is_held();
                match self.thread_mut(pid, tid) {
                    // Run only up to here (see `waits_for_vfork`): it stays stopped.
                    Some(t) if t.parked || held => t.stopped = true,
                    _ => self.resume_thread(pid, tid)?,
                }
                self.resume_waiting_for_vfork(pid, waiting)
            }
            StopReason::Exec => {
                self.adopt_exec(pid)?;
                self.finish_exec_syscall(pid, tid)?;
                self.stop_all(pid)
            }
        }
    }

    pub(crate) fn thread_mut(&mut self, pid: i32, tid: i32) -> Option<&mut ThreadState> {
        self.processes.get_mut(&pid)?.threads.get_mut(&tid)
    }

    /// Queues an event and stops the whole process. An event that stops
    /// the program for a reason of its own (a breakpoint, a signal, a
    /// watchpoint, an exec) ends any step in progress: the user sees why it
    /// did not finish. Events that only inform (threads and modules coming
    /// and going, signals the client said do not stop) let a step go on once
    /// they are continued; the end of the stepping thread ends its step.
    pub(crate) fn report(&mut self, pid: i32, tid: i32, kind: EventKind) -> Result<()> {
        match &kind {
            EventKind::ThreadCreated { .. } | EventKind::ModuleLoaded(_) | EventKind::ModuleUnloaded(_) => {}
            EventKind::Exception { signal, first_chance: true, .. } if self.passing_signals.contains(signal) => {}
            EventKind::ThreadExited { .. } => self.end_plan(pid, tid),
            _ => self.end_plans(pid),
        }
        self.queue_event(pid, tid, kind);
        self.stop_all(pid)
    }

    fn on_death(&mut self, pid: i32, tid: i32, code: Option<i32>, signal: Option<i32>) -> Result<()> {
        self.owner.remove(&tid);
        let p = self.process_mut(pid)?;
        p.threads.remove(&tid);
        // A vfork parent that died no longer keeps the others waiting.
        p.vfork_parents.remove(&tid);
        if tid == pid {
            p.exited = true;
            // Threads not reaped yet die with the process: reap them first.
            let rest: Vec<i32> = p.threads.keys().copied().collect();
            for other in rest {
                self.owner.remove(&other);
                self.process_mut(pid)?.threads.remove(&other);
                self.queue_event(pid, other, EventKind::ThreadExited { code: code.unwrap_or(0) });
            }
            self.held.retain(|(t, _)| *t != pid);
            self.queue_event(pid, tid, EventKind::ProcessExited { code, signal });
            return Ok(());
        }
        let code = code.unwrap_or_else(|| 128 + signal.unwrap_or(0));
        if self.process(pid)?.exited {
            return Ok(());
        }
        self.report(pid, tid, EventKind::ThreadExited { code })
    }

    /// `SIGTRAP`: a breakpoint hit, a completed step, or a genuine trap of the program.
    fn on_trap(&mut self, pid: i32, tid: i32) -> Result<()> {
        if self.on_debug_register_trap(pid, tid)? {
            return Ok(());
        }
        let rip = self.rip_of(pid, tid)?;
        let stepping = self.thread_mut(pid, tid).and_then(|t| t.step);
        let p = self.process(pid)?;
        // An int3 the engine wrote leaves rip one byte on; a target that plants
        // its own breakpoints reports the breakpoint's address.
        let owned = p.target.target_breakpoints().is_some();
        let at = if owned { rip } else { rip.wrapping_sub(1) };
        if p.sites.contains_key(&at) {
            // Confirm it was our int3 (not a step that landed one byte after a site).
            let from_int3 = stepping.is_none() || self.trapped_by_int3(pid, tid);
            if from_int3 {
                return self.on_breakpoint_at(pid, tid, at, !owned);
            }
        }
        if self.trap_of_removed_site(pid, at) && self.trapped_by_int3(pid, tid) {
            // A hit taken before its breakpoint was removed: run (or step)
            // the restored instruction.
            self.set_rip_of(pid, tid, at)?;
            return self.resume_thread(pid, tid);
        }
        if let Some(reason) = stepping {
            return self.on_step_complete(pid, tid, rip, reason);
        }
        self.on_signal(pid, tid, crate::signal_numbers::SIGTRAP)
    }

    pub(crate) fn on_step_complete(&mut self, pid: i32, tid: i32, rip: u64, reason: Step) -> Result<()> {
        if let Some(t) = self.thread_mut(pid, tid) {
            t.step = None;
        }
        // A step of a relocated copy ends in scratch memory: map it back.
        let p = self.process(pid)?;
        let mapped =
            if p.scratch.contains(rip) { p.sites.iter().find_map(|(&a, s)| s.original_pc(a, rip)) } else { None };
        let mut rip = rip;
        if let Some(pc) = mapped {
            self.set_rip_of(pid, tid, pc)?;
            rip = pc;
        }
        // Landing on a breakpoint counts as hitting it.
        if self.process(pid)?.sites.contains_key(&rip) {
            return self.on_breakpoint_at_after_step(pid, tid, rip, reason);
        }
        self.step_done(pid, tid, rip, reason)
    }

    /// A step (the user's or a plan's) ended at `pc` with nothing else to report there.
    fn step_done(&mut self, pid: i32, tid: i32, pc: u64, reason: Step) -> Result<()> {
        match reason {
            Step::Plan => self.plan_after_step(pid, tid, pc),
            Step::User => self.report(pid, tid, EventKind::StepComplete { address: pc }),
        }
    }

    /// A step landed on a breakpoint: it counts as a hit; when the hit
    /// stops nothing, the step still ends (it must not run on unseen).
    fn on_breakpoint_at_after_step(&mut self, pid: i32, tid: i32, address: u64, reason: Step) -> Result<()> {
        if self.hit_breakpoints(pid, tid, address, false)? {
            return Ok(());
        }
        // Nothing stopped there: the step ends where it landed, over the site when it goes on.
        if let Some(t) = self.thread_mut(pid, tid) {
            t.over_breakpoint = Some(address);
        }
        self.step_done(pid, tid, address, reason)
    }

    /// A hit at `address`: count it for every enabled breakpoint there, run
    /// callbacks, and either report it or run the instruction out of line.
    fn on_breakpoint_at(&mut self, pid: i32, tid: i32, address: u64, executed_int3: bool) -> Result<()> {
        if self.hit_breakpoints(pid, tid, address, executed_int3)? {
            return Ok(());
        }
        self.rewind_and_resume(pid, tid, address, executed_int3)
    }

    /// Counts a hit at `address` for every enabled breakpoint there and
    /// runs their callbacks; reports it when one says stop. True when the
    /// thread is taken care of (reported, or moved on by its step's plan);
    /// false when the hit is silent and the thread should go on over it.
    fn hit_breakpoints(&mut self, pid: i32, tid: i32, address: u64, executed_int3: bool) -> Result<bool> {
        if let Some(t) = self.thread_mut(pid, tid) {
            t.step = None;
            if t.uncounted_rehit.take() == Some(address) {
                t.over_breakpoint = Some(address);
                return Ok(false);
            }
        }
        let mut plan_hit = None;
        let mut stop_id = None;
        let mut one_shots = Vec::new();
        // By index, not by a copy of the list: no allocation on the hot path;
        // a callback may change the site's list, so it is looked up each time.
        let mut index = 0;
        let raw_rip = if executed_int3 { address + 1 } else { address };
        let hit = HitInProgress { pid, tid, raw_rip, address };
        while let Some(&id) = self.process(pid)?.sites.get(&address).and_then(|s| s.ids.get(index)) {
            index += 1;
            let Some(bp) = self.breakpoints.get_mut(&id) else { continue };
            if !bp.info.enabled {
                continue;
            }
            if let Some(condition) = bp.condition.take() {
                self.hit_in_progress = Some(hit);
                let holds = self.condition_holds(pid, tid, address, &condition);
                self.hit_in_progress = None;
                let Some(bp) = self.breakpoints.get_mut(&id) else { continue };
                bp.condition = Some(condition);
                if !holds {
                    continue;
                }
            }
            let Some(bp) = self.breakpoints.get_mut(&id) else { continue };
            bp.info.hits += 1;
            let hits = bp.info.hits;
            if hits <= bp.info.ignore_count {
                continue;
            }
            if bp.info.one_shot {
                one_shots.push(id);
            }
            if let Some(why) = bp.internal {
                match why {
                    Internal::Plan { tid: owner } => {
                        if owner == tid {
                            plan_hit = plan_hit.or(Some(id));
                        }
                    }
                    _ => self.on_loader_breakpoint(pid, tid, id, why)?,
                }
                continue;
            }
            let action = match bp.callback.clone() {
                Some(callback) => {
                    self.hit_in_progress = Some(hit);
                    let mut ctx = HitContext { session: self, pid, tid, id, address, hits };
                    // Not borrowed twice: nothing that could hit again runs inside a callback.
                    let action = (callback.borrow_mut())(&mut ctx);
                    self.hit_in_progress = None;
                    action
                }
                None => HitAction::Stop,
            };
            if action == HitAction::Stop && stop_id.is_none() {
                stop_id = Some(id);
            }
        }
        for id in one_shots {
            if self.breakpoints.remove(&id).is_some() {
                self.detach_from_site(pid, address, id)?;
            }
        }
        let queued_by_loader = !self.process(pid)?.queued.is_empty();
        let still_planted = self.process(pid)?.sites.contains_key(&address);
        if let Some(t) = self.thread_mut(pid, tid) {
            t.over_breakpoint = still_planted.then_some(address);
        }
        if let Some(id) = stop_id {
            self.set_rip(pid, tid, address, executed_int3)?;
            self.report(pid, tid, EventKind::Breakpoint { id, address })?;
            return Ok(true);
        }
        if let Some(id) = plan_hit {
            // The thread is at the site, to run over it if its step goes on.
            self.set_rip(pid, tid, address, executed_int3)?;
            if self.plan_at_breakpoint(pid, tid, id, address)? {
                return Ok(true);
            }
            // Not this step's moment (a deeper frame, a recursion): the hit goes on unseen.
        }
        if queued_by_loader {
            self.set_rip(pid, tid, address, executed_int3)?;
            self.stop_all(pid)?;
            return Ok(true);
        }
        Ok(false)
    }

    /// A breakpoint condition at a hit; an expression that fails to
    /// evaluate counts as true, so the user sees the stop rather than losing it.
    fn condition_holds(&mut self, pid: i32, tid: i32, address: u64, condition: &Condition) -> bool {
        match condition {
            Condition::Engine(expr) => {
                let Ok(mut regs) = self.registers(pid, tid) else { return true };
                regs.rip = address;
                self.evaluate(pid, Some(regs), expr).map(|v| v != 0).unwrap_or(true)
            }
            Condition::Source(source) => self.source_condition_holds(pid, tid, source).unwrap_or(true),
        }
    }

    fn set_rip(&mut self, pid: i32, tid: i32, address: u64, needed: bool) -> Result<()> {
        if !needed {
            return Ok(());
        }
        self.set_rip_of(pid, tid, address)
    }

    /// Goes on after a silent hit: straight to the out-of-line copy.
    fn rewind_and_resume(&mut self, pid: i32, tid: i32, address: u64, executed_int3: bool) -> Result<()> {
        if self.process(pid)?.sites.contains_key(&address) {
            if let Some(t) = self.thread_mut(pid, tid) {
                t.over_breakpoint = None;
            }
            // run_over_site sets rip itself (the int3 left it one byte on).
            return self.run_over_site(pid, tid, address, 0, false);
        }
        self.set_rip(pid, tid, address, executed_int3)?;
        self.resume_thread(pid, tid)
    }

    fn on_signal(&mut self, pid: i32, tid: i32, signal: i32) -> Result<()> {
        let sent_by_us =
            self.thread_mut(pid, tid).is_some_and(|t| t.signal_sent.take_if(|&mut s| s == signal).is_some());
        if sent_by_us || self.quiet_signals.contains(&signal) {
            if let Some(t) = self.thread_mut(pid, tid) {
                t.signal_to_deliver = signal;
            }
            return self.resume_thread(pid, tid);
        }
        let info = self.process(pid)?.target.signal_info(tid)?;
        if signal == crate::signal_numbers::SIGSEGV && self.on_page_fault(pid, tid, &info)? {
            return Ok(());
        }
        let rip = self.regs_of(pid, tid)?.rip;
        let fault_address = info.fault_address();
        // An instruction faulting in its out-of-line copy reports the original address.
        let address =
            self.process(pid)?.sites.iter().find_map(|(&a, s)| (s.slot == Some(rip)).then_some(a)).unwrap_or(rip);
        // The same fault again and again at one pc, the program making no progress: its last chance.
        let first_chance = match self.process(pid)?.control()?.is_second_chance(tid) {
            Some(second) => !second,
            None => !self.fault_repeats(pid, tid, signal),
        };
        self.report(
            pid,
            tid,
            EventKind::Exception {
                signal,
                code: info.code,
                address,
                fault_address,
                first_chance,
                os_code: info.os_code(),
            },
        )
    }

    /// Whether the trap of a stopped thread came from an `int3` (not a step).
    fn trapped_by_int3(&self, pid: i32, tid: i32) -> bool {
        self.process(pid).and_then(|p| p.target.signal_info(tid)).is_ok_and(|i| i.code == TRAP_BY_INT3)
    }

    /// A new thread: wait for its first stop, then report it.
    fn on_new_thread(&mut self, pid: i32, child: i32) -> Result<()> {
        let Some(start) = self.adopt_new_thread(pid, child)? else { return Ok(()) };
        self.report(pid, child, EventKind::ThreadCreated { start })
    }

    /// Takes a new thread of `pid` under control, stopped; its start
    /// address, or `None` when it died first. The caller reports it.
    pub(crate) fn adopt_new_thread(&mut self, pid: i32, child: i32) -> Result<Option<u64>> {
        let status = self.first_stop(pid, child)?;
        let Some(status) = status else { return Ok(None) };
        if status.is_death() {
            return Ok(None);
        }
        self.owner.insert(child, pid);
        self.process_mut(pid)?.threads.insert(child, ThreadState::new_stopped());
        // Debug registers are not inherited by new threads.
        if self.process(pid)?.debug_slots.iter().any(Option::is_some) {
            self.apply_debug_registers(pid, child)?;
        }
        if !matches!(status, StopReason::Interrupted) {
            self.held.push_back((child, status));
        }
        if let Some(start) = self.process(pid)?.target.thread_start(child) {
            return Ok(Some(start));
        }
        Ok(Some(self.regs_of(pid, child).map(|r| r.rip).unwrap_or(0)))
    }

    /// A forked child: take every breakpoint out of it, then follow it (see
    /// `set_follow_children`) or let it go. After `vfork` the child shares
    /// the parent's memory, so the bytes come out of both once the child
    /// runs (at once when it is let go), until it execs or exits
    /// (`VFORK_DONE` in `tid`); only `tid` runs meanwhile.
    pub(crate) fn on_fork(&mut self, pid: i32, tid: i32, child: i32, shares_memory: bool) -> Result<()> {
        let status = self.first_stop(pid, child)?;
        if status.is_some_and(|s| s.is_death()) {
            return Ok(());
        }
        if shares_memory {
            self.process_mut(pid)?.vfork_parents.insert(tid, child);
            if self.follow_children {
                // Held by the debugger, it runs nothing yet: the bytes stay.
                return self.adopt_child(pid, child, shares_memory);
            }
            // Let go, it runs at once: the others must not run meanwhile.
            self.lend_bytes_to_vfork_child(pid)?;
            let _ = self.process(pid)?.control()?.detach_thread(child, 0);
            return Ok(());
        }
        let originals = self.site_originals(pid)?;
        self.restore_originals_in_child(pid, child, &originals)?;
        if self.follow_children {
            return self.adopt_child(pid, child, shares_memory);
        }
        let _ = self.process(pid)?.control()?.detach_thread(child, 0);
        Ok(())
    }

    /// The original byte under each of `pid`'s breakpoint sites.
    pub(crate) fn site_originals(&self, pid: i32) -> Result<Vec<(u64, u8)>> {
        Ok(self.process(pid)?.sites.iter().map(|(&a, s)| (a, s.original[0])).collect())
    }

    /// Writes `originals` into a stopped fork child of `pid`: its memory is
    /// a copy of its parent's, breakpoint bytes and all.
    pub(crate) fn restore_originals_in_child(&self, pid: i32, child: i32, originals: &[(u64, u8)]) -> Result<()> {
        if originals.is_empty() {
            return Ok(());
        }
        let child_target = self.process(pid)?.control()?.open_child(child).ok();
        if let Some(writer) = child_target.as_ref().and_then(|t| t.write_access()) {
            for (address, byte) in originals {
                // Best effort: a child that is already gone has no bytes to restore.
                let _ = writer.write_memory(*address, &[*byte]);
            }
        }
        Ok(())
    }

    /// Thread `tid`'s vfork child let go of the memory. Once no vfork child
    /// borrows it, every site's byte goes back in; the threads left waiting
    /// meanwhile are returned, to resume.
    pub(crate) fn on_vfork_done(&mut self, pid: i32, tid: i32) -> Result<Vec<i32>> {
        let p = self.process_mut(pid)?;
        p.vfork_parents.remove(&tid);
        if !p.vfork_parents.is_empty() {
            return Ok(Vec::new());
        }
        let waiting = std::mem::take(&mut p.waiting_for_vfork).into_iter().collect();
        if std::mem::take(&mut p.bytes_lent) {
            self.replant_all(pid)?;
        }
        Ok(waiting)
    }

    /// Takes every site's byte out of the memory a vfork child is about to
    /// run in (once: the bytes stay out until every vfork child let go).
    pub(crate) fn lend_bytes(&mut self, pid: i32) -> Result<()> {
        let p = self.process_mut(pid)?;
        if std::mem::replace(&mut p.bytes_lent, true) {
            return Ok(());
        }
        let p = self.process(pid)?;
        let writer = p.writer()?;
        for (&address, site) in &p.sites {
            // Best effort: a page gone meanwhile has no byte to restore.
            let _ = writer.write_memory(address, &[site.original[0]]);
        }
        Ok(())
    }

    /// A followed vfork child is about to run (resumed or let go): the
    /// bytes come out of the memory it borrows from its parent, whose
    /// threads other than the vfork parents stop first and wait for them.
    pub(crate) fn before_vfork_child_runs(&mut self, child: i32) -> Result<()> {
        // Every resume passes here: one field says whether there is anything to do.
        let Some(parent) = self.process(child)?.borrows_memory_of else { return Ok(()) };
        let Some(p) = self.processes.get(&parent) else { return Ok(()) };
        if p.bytes_lent || !p.vfork_parents.values().any(|&c| c == child) {
            return Ok(());
        }
        self.lend_bytes_to_vfork_child(parent)
    }

    /// Takes the bytes out of `parent`'s memory for a vfork child about to
    /// run in it, its threads other than the vfork parents stopped first:
    /// they wait for the last `VFORK_DONE` (`waiting_for_vfork`).
    pub(crate) fn lend_bytes_to_vfork_child(&mut self, parent: i32) -> Result<()> {
        let p = self.process(parent)?;
        let spared: Vec<i32> = p.vfork_parents.keys().copied().collect();
        let running: Vec<i32> =
            p.threads.iter().filter(|(tid, t)| !t.stopped && !spared.contains(tid)).map(|(&tid, _)| tid).collect();
        self.stop_all_but(parent, &spared)?;
        self.lend_bytes(parent)?;
        let p = self.process_mut(parent)?;
        let stopped_here = running.into_iter().filter(|tid| p.threads.get(tid).is_some_and(|t| t.stopped));
        p.waiting_for_vfork.extend(stopped_here);
        Ok(())
    }

    /// Plants every site's byte again (after a vfork child released the shared memory).
    fn replant_all(&mut self, pid: i32) -> Result<()> {
        let p = self.process(pid)?;
        let writer = p.writer()?;
        for &address in p.sites.keys() {
            writer.write_memory(address, &[crate::arch::x86_64::INT3])?;
        }
        Ok(())
    }
}
