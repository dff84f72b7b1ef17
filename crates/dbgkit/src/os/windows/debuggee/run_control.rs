//! Running the program again: continuing the pending debug event as the
//! client's resume actions say, stepping off the debugger's own breakpoints,
//! holding threads, breaking in, killing and detaching.

use super::{Debuggee, ResumePlan, StepOver, ThreadAction, INT3};
use crate::os::windows::debug_slots::DebugSlots;
use crate::os::windows::error::WindowsError;
use windows_sys::Win32::Foundation::{GetLastError, DBG_CONTINUE, DBG_EXCEPTION_NOT_HANDLED};
use windows_sys::Win32::System::Diagnostics::Debug::{
    DebugActiveProcessStop, DebugBreakProcess, DebugSetProcessKillOnExit,
};
use windows_sys::Win32::System::Threading::{ResumeThread, SuspendThread, TerminateProcess, INFINITE};

impl Debuggee {
    /// Resumes the program as `plan` says, continuing the pending event:
    /// an exception is passed to the program (`DBG_EXCEPTION_NOT_HANDLED`)
    /// when the plan says so for its thread, and handled (`DBG_CONTINUE`)
    /// otherwise.
    pub fn resume(&mut self, plan: &ResumePlan) -> Result<(), WindowsError> {
        // Still pending until continued: after an error the program is
        // still stopped, and the caller may try again or leave.
        let pending = self.pending.ok_or(WindowsError::NotStopped)?;
        // What `monitor exception` says belongs to this stop only.
        self.last_exception = None;
        if self.has_exited() {
            self.continue_event(pending.tid, DBG_CONTINUE)?;
            self.pending = None;
            return Ok(());
        }
        // A step another event overtook: its trap flag goes, and a
        // single-step it may still bring is nobody's (`abandoned_steps`).
        for tid in std::mem::take(&mut self.stepping) {
            if plan.actions.get(&tid).is_none_or(|&(action, _)| action != ThreadAction::Step) {
                if self.threads.contains_key(&tid) {
                    self.set_trap_flag(tid, false)?;
                }
                self.abandoned_steps.insert(tid);
            }
        }
        for (&tid, &(action, _)) in &plan.actions {
            if action == ThreadAction::Step {
                self.set_trap_flag(tid, true)?;
                self.stepping.insert(tid);
                self.abandoned_steps.remove(&tid);
            }
        }
        let event_action = match plan.actions.get(&pending.tid) {
            Some(&(action, _)) => Some(action),
            None if plan.others_run => Some(ThreadAction::Continue),
            None => None,
        };
        // A client that resumes a thread sitting on one of the debugger's
        // breakpoints (gdb removes its own first; others may not) gets the
        // original instruction executed, alone, then the int3 back.
        let pass = plan.actions.get(&pending.tid).is_some_and(|&(_, pass)| pass);
        if let Some(action) = event_action {
            let pc = self.pc(pending.tid)?;
            let out_of_line = action == ThreadAction::Continue
                && !pass
                && self.breakpoints.contains_key(&pc)
                && self.run_out_of_line(pending.tid, pc)?;
            if let Some(&original) = self.breakpoints.get(&pc).filter(|_| !out_of_line) {
                self.write_raw(pc, &[original])?;
                self.set_trap_flag(pending.tid, true)?;
                self.stepping.remove(&pending.tid);
                self.step_over =
                    Some(StepOver { tid: pending.tid, address: pc, report_step: action == ThreadAction::Step });
                let others: Vec<u32> = self.threads.keys().copied().filter(|t| *t != pending.tid).collect();
                self.hold(&others);
            }
        }
        if !plan.others_run {
            // Kept stopped until the next stop, whatever a step-off releases meanwhile.
            let unlisted: Vec<u32> = self.threads.keys().copied().filter(|t| !plan.actions.contains_key(t)).collect();
            self.lock(&unlisted);
        }
        let status = match (pending.exception, pass) {
            (Some(_), true) => DBG_EXCEPTION_NOT_HANDLED,
            _ => DBG_CONTINUE,
        };
        self.continue_event(pending.tid, status)?;
        self.pending = None;
        Ok(())
    }

    /// Breaks into the running program: the system starts a thread in it
    /// that executes an int3, reported as SIGINT.
    pub fn interrupt(&mut self) -> Result<(), WindowsError> {
        self.interrupt_requested = true;
        // SAFETY: a process handle with all access.
        if unsafe { DebugBreakProcess(self.process) } == 0 {
            return Err(WindowsError::Win32 { call: "DebugBreakProcess", code: unsafe { GetLastError() } });
        }
        Ok(())
    }

    /// Ends the program and waits until it is gone.
    pub fn kill(&mut self) -> Result<(), WindowsError> {
        if self.has_exited() {
            return self.finish();
        }
        // SAFETY: a process handle with all access.
        if unsafe { TerminateProcess(self.process, 1) } == 0 {
            return Err(WindowsError::Win32 { call: "TerminateProcess", code: unsafe { GetLastError() } });
        }
        if let Some(pending) = self.pending.take() {
            self.continue_event(pending.tid, DBG_CONTINUE)?;
        }
        self.release_held();
        while !self.has_exited() {
            if self.wait(INFINITE)?.is_some() {
                if let Some(pending) = self.pending.take().filter(|_| !self.has_exited()) {
                    self.continue_event(pending.tid, DBG_CONTINUE)?;
                }
            }
        }
        self.finish()
    }

    /// Leaves the program running as if it had never been debugged: every
    /// int3, debug register and trap flag of the debugger removed, held threads
    /// released.
    pub fn detach(&mut self, pass_exception: bool) -> Result<(), WindowsError> {
        if self.debug_registers.any() {
            self.debug_registers = DebugSlots::default();
            self.apply_debug_registers_everywhere()?;
        }
        let addresses: Vec<u64> = self.breakpoints.keys().copied().collect();
        for address in addresses {
            self.remove_breakpoint(address)?;
        }
        self.finish_step_over();
        for tid in std::mem::take(&mut self.stepping) {
            self.set_trap_flag(tid, false)?;
        }
        self.release_held();
        self.release_locked();
        if let Some(pending) = self.pending.take() {
            // An exception the program is to see goes to its handlers.
            let status = match pending.exception {
                Some(_) if pass_exception => DBG_EXCEPTION_NOT_HANDLED,
                _ => DBG_CONTINUE,
            };
            self.continue_event(pending.tid, status)?;
        }
        // SAFETY: plain calls on this thread's debuggee.
        unsafe { DebugSetProcessKillOnExit(0) };
        if unsafe { DebugActiveProcessStop(self.pid) } == 0 {
            return Err(WindowsError::Win32 { call: "DebugActiveProcessStop", code: unsafe { GetLastError() } });
        }
        Ok(())
    }

    /// Lets an ended process go (continues its exit event).
    pub fn finish(&mut self) -> Result<(), WindowsError> {
        match self.pending.take() {
            Some(pending) => self.continue_event(pending.tid, DBG_CONTINUE),
            None => Ok(()),
        }
    }

    /// Suspends `tids` until the next stop.
    pub(super) fn hold(&mut self, tids: &[u32]) {
        let suspended = self.suspend_threads(tids);
        self.held.extend(suspended);
    }

    /// Resumes the threads `hold` suspended (for a step off a breakpoint).
    pub(super) fn release_held(&mut self) {
        let held = std::mem::take(&mut self.held);
        self.resume_threads(held);
    }

    /// Suspends `tids`, the threads a resume left out, until the next stop.
    pub(super) fn lock(&mut self, tids: &[u32]) {
        let suspended = self.suspend_threads(tids);
        self.locked.extend(suspended);
    }

    /// Resumes the threads `lock` suspended.
    pub(super) fn release_locked(&mut self) {
        let locked = std::mem::take(&mut self.locked);
        self.resume_threads(locked);
    }

    /// Suspends each of `tids` it knows; returns those it suspended.
    fn suspend_threads(&self, tids: &[u32]) -> Vec<u32> {
        tids.iter()
            .copied()
            .filter(|tid| {
                // SAFETY: a thread handle from a debug event.
                self.threads.get(tid).is_some_and(|&handle| unsafe { SuspendThread(handle) } != u32::MAX)
            })
            .collect()
    }

    fn resume_threads(&self, tids: Vec<u32>) {
        for tid in tids {
            if let Some(&handle) = self.threads.get(&tid) {
                // SAFETY: a thread handle from a debug event, suspended by us.
                unsafe { ResumeThread(handle) };
            }
        }
    }

    /// Puts the int3 back after a step off it, whatever ended the step.
    pub(super) fn finish_step_over(&mut self) {
        if let Some(step_over) = self.step_over.take() {
            if self.breakpoints.contains_key(&step_over.address) && self.write_raw(step_over.address, &[INT3]).is_err()
            {
                (self.log)(&format!("cannot put the breakpoint at {:#x} back", step_over.address));
            }
            if self.exit_code.is_none() {
                let _ = self.set_trap_flag(step_over.tid, false);
            }
        }
    }
}
