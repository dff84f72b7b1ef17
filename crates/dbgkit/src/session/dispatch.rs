//! Turning raw wait statuses into events. Every status goes through
//! `dispatch`; fast breakpoints and the loader's hooks are handled here
//! without an event; everything else becomes an event, and the process is
//! stopped (all-stop) before it is reported.

use super::{HitContext, Session};
use crate::breakpoints::HitAction;
use crate::error::Result;
use crate::event::EventKind;
use crate::os::linux::ptrace;
use crate::os::linux::wait::WaitStatus;
use crate::process::{Step, ThreadState};

const SI_KERNEL: i32 = 0x80;

impl Session {
    /// Handles one status of thread `tid`.
    pub(crate) fn dispatch(&mut self, tid: i32, status: WaitStatus) -> Result<()> {
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
        }
        match status {
            WaitStatus::Exited(code) => self.on_death(pid, tid, Some(code), None),
            WaitStatus::Killed { signal, .. } => self.on_death(pid, tid, None, Some(signal)),
            WaitStatus::Signal(libc::SIGTRAP) => self.on_trap(pid, tid),
            WaitStatus::Signal(signal) => self.on_signal(pid, tid, signal),
            WaitStatus::GroupStop(_) => {
                if let Some(t) = self.thread_mut(pid, tid) {
                    t.group_stopped = true;
                }
                self.resume_thread(pid, tid)
            }
            WaitStatus::Interrupted => {
                // SIGCONT ends a group-stop by re-trapping listening threads with SIGTRAP.
                if let Some(t) = self.thread_mut(pid, tid) {
                    t.group_stopped = false;
                }
                // Our interrupt, after the stop it was for was handled otherwise: go on.
                self.resume_thread(pid, tid)
            }
            WaitStatus::Syscall => self.resume_thread(pid, tid),
            WaitStatus::Event(event) => self.on_ptrace_event(pid, tid, event),
        }
    }

    fn thread_mut(&mut self, pid: i32, tid: i32) -> Option<&mut ThreadState> {
        self.processes.get_mut(&pid)?.threads.get_mut(&tid)
    }

    /// Queues an event and stops the whole process.
    fn report(&mut self, pid: i32, tid: i32, kind: EventKind) -> Result<()> {
        self.queue_event(pid, tid, kind);
        self.stop_all(pid)
    }

    fn on_death(&mut self, pid: i32, tid: i32, code: Option<i32>, signal: Option<i32>) -> Result<()> {
        self.owner.remove(&tid);
        let p = self.process_mut(pid)?;
        p.threads.remove(&tid);
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
        let at = rip.wrapping_sub(1);
        let p = self.process(pid)?;
        if p.sites.contains_key(&at) {
            // Confirm it was our int3 (not a step that landed one byte after a site).
            let from_int3 = stepping.is_none() || ptrace::siginfo(tid).map(|i| i.si_code == SI_KERNEL).unwrap_or(false);
            if from_int3 {
                return self.on_breakpoint(pid, tid, at);
            }
        }
        if let Some(Step::User) = stepping {
            return self.on_step_complete(pid, tid, rip);
        }
        let info = ptrace::siginfo(tid).ok();
        if info.is_some_and(|i| i.si_code == SI_KERNEL) && self.removed_site(pid, at) {
            // A hit taken before its breakpoint was removed: run the restored instruction.
            self.set_rip_of(pid, tid, at)?;
            return self.resume_thread(pid, tid);
        }
        self.on_signal(pid, tid, libc::SIGTRAP)
    }

    fn on_step_complete(&mut self, pid: i32, tid: i32, rip: u64) -> Result<()> {
        if let Some(t) = self.thread_mut(pid, tid) {
            t.step = None;
        }
        // A step of a relocated copy ends in scratch memory: map it back.
        let p = self.process(pid)?;
        let mapped =
            if p.scratch.contains(rip) { p.sites.iter().find_map(|(&a, s)| s.original_pc(a, rip)) } else { None };
        let mut rip = rip;
        if let Some(pc) = mapped {
            let mut regs = self.regs_of(pid, tid)?;
            regs.rip = pc;
            ptrace::set_regs(tid, &regs)?;
            if let Some(t) = self.thread_mut(pid, tid) {
                t.regs = Some(regs);
            }
            rip = pc;
        }
        // Landing on a breakpoint counts as hitting it.
        if self.process(pid)?.sites.contains_key(&rip) {
            return self.on_breakpoint_at(pid, tid, rip, false);
        }
        self.report(pid, tid, EventKind::StepComplete { address: rip })
    }

    fn on_breakpoint(&mut self, pid: i32, tid: i32, address: u64) -> Result<()> {
        self.on_breakpoint_at(pid, tid, address, true)
    }

    /// A hit at `address`: count it for every enabled breakpoint there, run
    /// callbacks, and either report it or run the instruction out of line.
    fn on_breakpoint_at(&mut self, pid: i32, tid: i32, address: u64, executed_int3: bool) -> Result<()> {
        if let Some(t) = self.thread_mut(pid, tid) {
            t.step = None;
            if t.uncounted_rehit.take() == Some(address) {
                t.over_breakpoint = Some(address);
                return self.rewind_and_resume(pid, tid, address, executed_int3);
            }
        }
        let mut stop_id = None;
        let mut one_shots = Vec::new();
        // By index, not by a copy of the list: no allocation on the hot path;
        // a callback may change the site's list, so it is looked up each time.
        let mut index = 0;
        while let Some(&id) = self.process(pid)?.sites.get(&address).and_then(|s| s.ids.get(index)) {
            index += 1;
            let Some(bp) = self.breakpoints.get_mut(&id) else { continue };
            if !bp.info.enabled {
                continue;
            }
            if let Some(condition) = bp.condition.take() {
                let holds = self.condition_holds(pid, tid, address, &condition);
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
                self.on_loader_breakpoint(pid, tid, id, why)?;
                continue;
            }
            let action = match bp.callback.take() {
                Some(mut callback) => {
                    let mut ctx = HitContext { session: self, pid, tid, id, address, hits };
                    let action = callback(&mut ctx);
                    if let Some(bp) = self.breakpoints.get_mut(&id) {
                        bp.callback = Some(callback);
                    }
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
            return self.report(pid, tid, EventKind::Breakpoint { id, address });
        }
        if queued_by_loader {
            self.set_rip(pid, tid, address, executed_int3)?;
            return self.stop_all(pid);
        }
        if !executed_int3 {
            // A single step that landed on a breakpoint which does not stop
            // (a false condition, an ignore count, a fast one that went on): the
            // step is still complete here.
            return self.report(pid, tid, EventKind::StepComplete { address });
        }
        self.rewind_and_resume(pid, tid, address, executed_int3)
    }

    /// A breakpoint condition at a hit; an expression that fails to
    /// evaluate counts as true, so the user sees the stop rather than losing it.
    fn condition_holds(&mut self, pid: i32, tid: i32, address: u64, condition: &crate::expr::Expr) -> bool {
        let Ok(mut regs) = self.registers(pid, tid) else { return true };
        regs.rip = address;
        self.evaluate(pid, Some(regs), condition).map(|v| v != 0).unwrap_or(true)
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
        if self.quiet_signals.contains(&signal) {
            if let Some(t) = self.thread_mut(pid, tid) {
                t.signal_to_deliver = signal;
            }
            return self.resume_thread(pid, tid);
        }
        let info = ptrace::siginfo(tid)?;
        if signal == libc::SIGSEGV && self.on_page_fault(pid, tid, &info)? {
            return Ok(());
        }
        let rip = self.regs_of(pid, tid)?.rip;
        let fault_address = matches!(signal, libc::SIGSEGV | libc::SIGBUS | libc::SIGILL | libc::SIGFPE)
            // SAFETY: si_addr is valid for these signals.
            .then(|| unsafe { info.si_addr() } as u64);
        // An instruction faulting in its out-of-line copy reports the original address.
        let address =
            self.process(pid)?.sites.iter().find_map(|(&a, s)| (s.slot == Some(rip)).then_some(a)).unwrap_or(rip);
        self.report(
            pid,
            tid,
            EventKind::Exception { signal, code: info.si_code, address, fault_address, first_chance: true },
        )
    }

    fn on_ptrace_event(&mut self, pid: i32, tid: i32, event: i32) -> Result<()> {
        match event {
            libc::PTRACE_EVENT_CLONE => {
                let child = ptrace::event_message(tid)? as i32;
                self.on_new_thread(pid, child)?;
                self.resume_thread(pid, tid)
            }
            libc::PTRACE_EVENT_FORK | libc::PTRACE_EVENT_VFORK => {
                let child = ptrace::event_message(tid)? as i32;
                self.on_fork(pid, child, event == libc::PTRACE_EVENT_VFORK)?;
                self.report(pid, tid, EventKind::Fork { child })
            }
            libc::PTRACE_EVENT_VFORK_DONE => {
                self.replant_all(pid)?;
                self.resume_thread(pid, tid)
            }
            libc::PTRACE_EVENT_EXEC => {
                self.adopt_exec(pid)?;
                self.stop_all(pid)
            }
            _ => self.resume_thread(pid, tid),
        }
    }

    /// A new thread: wait for its first stop, then report it.
    fn on_new_thread(&mut self, pid: i32, child: i32) -> Result<()> {
        let status = self.first_stop(child)?;
        let Some(status) = status else { return Ok(()) };
        if status.is_death() {
            return Ok(());
        }
        self.owner.insert(child, pid);
        self.process_mut(pid)?.threads.insert(child, ThreadState::new_stopped());
        // Debug registers are not inherited by new threads.
        if self.process(pid)?.debug_slots.iter().any(Option::is_some) {
            self.apply_debug_registers(pid, child)?;
        }
        if !matches!(status, WaitStatus::Interrupted) {
            self.held.push_back((child, status));
        }
        let start = self.regs_of(pid, child).map(|r| r.rip).unwrap_or(0);
        self.report(pid, child, EventKind::ThreadCreated { start })
    }

    /// A forked child: take every breakpoint out of it and let it go.
    /// After `vfork` the child shares the parent's memory, so the bytes come
    /// out of both until the child execs or exits (`VFORK_DONE`).
    fn on_fork(&mut self, pid: i32, child: i32, shares_memory: bool) -> Result<()> {
        let status = self.first_stop(child)?;
        if status.is_some_and(|s| s.is_death()) {
            return Ok(());
        }
        let originals: Vec<(u64, u8)> = self.process(pid)?.sites.iter().map(|(&a, s)| (a, s.original[0])).collect();
        if shares_memory {
            let p = self.process(pid)?;
            for (address, byte) in &originals {
                let _ = p.memory.write(*address, &[*byte]);
            }
        } else if let Ok(child_memory) = crate::os::linux::memory::Memory::open(child) {
            for (address, byte) in &originals {
                let _ = child_memory.write(*address, &[*byte]);
            }
        }
        let _ = ptrace::detach(child, 0);
        Ok(())
    }

    /// Plants every site's byte again (after a vfork child released the shared memory).
    fn replant_all(&mut self, pid: i32) -> Result<()> {
        let p = self.process(pid)?;
        for &address in p.sites.keys() {
            p.memory.write(address, &[crate::arch::x86_64::INT3])?;
        }
        Ok(())
    }
}
