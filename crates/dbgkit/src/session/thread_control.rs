//! Running one thread of a stopped process: a single step while the other
//! threads stay stopped (a debugger stepping over a breakpoint it removed,
//! or a user with the scheduler locked), or while they run.

use super::Session;
use crate::error::{Error, Result};
use crate::event::{ContinueStatus, EventKind};
use crate::process::Step;

/// What the other threads of the process do while one thread steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OtherThreads {
    /// They run, as with [`Session::step_into`].
    Run,
    /// They stay stopped until the step completes.
    Stay,
}

impl Session {
    /// Single-steps thread `tid` of a process held at an event, continuing
    /// the event with `status` (`NotHandled` delivers an exception's signal
    /// to its thread, which then steps into the handler). A `StepComplete`
    /// event follows, or another event of the process that came first.
    ///
    /// With [`OtherThreads::Stay`] only `tid` runs: what the other threads
    /// did while the process was being stopped (statuses taken from the
    /// kernel and held) waits until the process is resumed as a whole, as a
    /// debugger stepping one thread over a breakpoint expects. Events
    /// already decided and queued still come first.
    pub fn step_thread(&mut self, pid: i32, tid: i32, status: ContinueStatus, others: OtherThreads) -> Result<()> {
        self.refuse_inside_callback("step")?;
        let p = self.process(pid)?;
        let Some(event) = p.in_flight.as_ref() else {
            return Err(if p.is_held() { Error::NoEventInFlight(pid) } else { Error::ProcessRunning(pid) });
        };
        if !status.fits(&event.kind) {
            return Err(Error::StatusDoesNotFit { status: status.name(), event: event.kind.name() });
        }
        if matches!(status, ContinueStatus::TerminateThread | ContinueStatus::TerminateProcess) {
            return Err(Error::InvalidArgument(format!(
                "cannot step while ending a thread or process ({})",
                status.name()
            )));
        }
        if !p.threads.contains_key(&tid) {
            return Err(Error::NoSuchThread { pid, tid });
        }
        let p = self.process_mut(pid)?;
        if others == OtherThreads::Run {
            p.threads.get_mut(&tid).expect("checked above").step = Some(Step::User);
            let result = self.continue_process(pid, status);
            if result.is_err() {
                if let Some(t) = self.processes.get_mut(&pid).and_then(|p| p.threads.get_mut(&tid)) {
                    t.step = None;
                }
            }
            return result;
        }
        let event = p.in_flight.take().expect("checked above");
        if let (EventKind::Exception { signal, .. }, ContinueStatus::NotHandled) = (&event.kind, status) {
            if let Some(t) = p.threads.get_mut(&event.tid) {
                t.signal_to_deliver = *signal;
            }
        }
        for (&other, t) in p.threads.iter_mut() {
            t.parked = other != tid;
        }
        let t = p.threads.get_mut(&tid).expect("checked above");
        t.step = Some(Step::User);
        match self.resume_thread(pid, tid) {
            Err(e) if e.is_gone() => Ok(()),
            other => other,
        }
    }
}

impl Session {
    /// Continues the event of a held process with `status`, resuming only
    /// `threads`; the others stay stopped (parked, as with
    /// [`OtherThreads::Stay`]) until the process is resumed as a whole. This
    /// is a debugger's scheduler locking: `continue` in one thread while the
    /// rest wait.
    pub fn resume_threads(&mut self, pid: i32, threads: &[i32], status: ContinueStatus) -> Result<()> {
        if threads.is_empty() {
            return Err(Error::InvalidArgument("no thread to resume".into()));
        }
        self.resume_threads_stepping(pid, threads, &[], status)
    }

    /// Continues the event of a held process with `status`, running
    /// `running` and single-stepping `stepping` (each then reports its own
    /// `StepComplete`); every other thread stays stopped until a later call
    /// names it or the process is resumed as a whole. This is a debugger
    /// that lets each thread run or stop on its own (gdb's non-stop mode):
    /// both lists may be empty, and the event is then consumed with every
    /// thread left stopped.
    ///
    /// A thread whose stop the kernel already reported while the process
    /// was being stopped is not resumed: that stop is its next event. While
    /// other events of the process wait to be reported, nothing runs yet.
    pub fn resume_threads_stepping(
        &mut self,
        pid: i32,
        running: &[i32],
        stepping: &[i32],
        status: ContinueStatus,
    ) -> Result<()> {
        self.refuse_inside_callback("resume threads")?;
        let p = self.process(pid)?;
        let Some(event) = p.in_flight.as_ref() else {
            return Err(if p.is_held() { Error::NoEventInFlight(pid) } else { Error::ProcessRunning(pid) });
        };
        if !status.fits(&event.kind) {
            return Err(Error::StatusDoesNotFit { status: status.name(), event: event.kind.name() });
        }
        if matches!(status, ContinueStatus::TerminateThread | ContinueStatus::TerminateProcess) {
            return Err(Error::InvalidArgument(format!(
                "resume some threads while ending a thread or process ({})",
                status.name()
            )));
        }
        if let Some(&tid) = running.iter().chain(stepping).find(|t| !p.threads.contains_key(t)) {
            return Err(Error::NoSuchThread { pid, tid });
        }
        let p = self.process_mut(pid)?;
        let event = p.in_flight.take().expect("checked above");
        if let (EventKind::Exception { signal, .. }, ContinueStatus::NotHandled) = (&event.kind, status) {
            if let Some(t) = p.threads.get_mut(&event.tid) {
                t.signal_to_deliver = *signal;
            }
        }
        for (tid, t) in p.threads.iter_mut() {
            let steps = stepping.contains(tid);
            t.parked = !steps && !running.contains(tid);
            if steps {
                t.step = Some(Step::User);
            } else if t.step == Some(Step::User) && running.contains(tid) {
                // Named to run, not to step: a step asked for earlier is over.
                t.step = None;
            }
        }
        if !p.queued.is_empty() {
            return Ok(());
        }
        // Accesses to page-watched pages run first, while every thread is still stopped.
        if p.threads.values().any(|t| t.page_step.is_some()) {
            self.replay_page_accesses(pid)?;
        }
        for &tid in running.iter().chain(stepping) {
            let held = self.held.iter().any(|(held, _)| *held == tid);
            let stopped = self.process(pid)?.threads.get(&tid).is_some_and(|t| t.stopped);
            if held || !stopped {
                continue;
            }
            match self.resume_thread(pid, tid) {
                Err(e) if e.is_gone() => {}
                other => other?,
            }
        }
        Ok(())
    }

    /// Makes thread `tid` of a process held at an event receive `signal`
    /// when it next runs (a debugger passing a signal to a thread other
    /// than the one that reported, or a different one). 0 takes back a
    /// signal set this way.
    pub fn set_thread_signal(&mut self, pid: i32, tid: i32, signal: i32) -> Result<()> {
        if !(0..=64).contains(&signal) {
            return Err(Error::InvalidArgument(format!("no signal {signal}")));
        }
        let p = self.process_mut(pid)?;
        if !p.is_held() {
            return Err(Error::ProcessRunning(pid));
        }
        let t = p.threads.get_mut(&tid).ok_or(Error::NoSuchThread { pid, tid })?;
        t.signal_to_deliver = signal;
        Ok(())
    }

    /// Makes thread `tid`, stopped at the address of a breakpoint it
    /// reported, hit that breakpoint again when it next runs instead of
    /// running over it: for a debugger that stepped over it on its own and
    /// wants the thread to trap there now (after a signal handler the
    /// thread is resumed into returns to it, say). Does nothing for a
    /// thread that owes no step over a breakpoint.
    pub fn hit_breakpoint_again(&mut self, pid: i32, tid: i32) -> Result<()> {
        if !self.process(pid)?.is_held() {
            return Err(Error::ProcessRunning(pid));
        }
        self.stopped_thread(pid, tid)?;
        // A step over it that a signal interrupted left the thread at the
        // start of the instruction's out-of-line copy: back to the breakpoint.
        let raw = self.regs_of(pid, tid)?.rip;
        let copy_of = self.process(pid)?.sites.iter().find(|(_, site)| site.slot == Some(raw)).map(|(&at, _)| at);
        if let Some(address) = copy_of {
            self.set_rip_of(pid, tid, address)?;
        }
        self.stopped_thread(pid, tid)?.over_breakpoint = None;
        Ok(())
    }
}

/// The size of the kernel's `siginfo_t` on x86_64.
pub const SIGINFO_SIZE: usize = 128;

impl Session {
    /// The raw `siginfo_t` (128 bytes, the kernel's layout) of the signal
    /// that stopped thread `tid`: what a debugger shows as `$_siginfo`.
    pub fn signal_info(&mut self, pid: i32, tid: i32) -> Result<[u8; SIGINFO_SIZE]> {
        let p = self.process(pid)?;
        let t = p.threads.get(&tid).ok_or(Error::NoSuchThread { pid, tid })?;
        if !t.stopped {
            return Err(Error::ProcessRunning(pid));
        }
        p.target.raw_siginfo(tid)
    }

    /// Replaces the raw `siginfo_t` of the signal that stopped thread `tid`
    /// (gdb writes `$_siginfo` back after calling a function in a thread
    /// stopped by a signal, so the handler still sees who sent it).
    ///
    /// ```no_run
    /// # fn f(s: &mut dbgkit::Session, pid: i32, tid: i32) -> dbgkit::Result<()> {
    /// let info = s.signal_info(pid, tid)?;
    /// // ... run code in the thread ...
    /// s.set_signal_info(pid, tid, &info)?;
    /// # Ok(()) }
    /// ```
    pub fn set_signal_info(&mut self, pid: i32, tid: i32, info: &[u8; SIGINFO_SIZE]) -> Result<()> {
        let p = self.process(pid)?;
        let t = p.threads.get(&tid).ok_or(Error::NoSuchThread { pid, tid })?;
        if !t.stopped {
            return Err(Error::ProcessRunning(pid));
        }
        p.writer()?.set_raw_siginfo(tid, info)
    }
}
