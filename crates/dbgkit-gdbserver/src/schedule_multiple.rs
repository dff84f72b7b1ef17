//! Several processes running at once in all-stop mode: gdb's `set
//! schedule-multiple on` with `detach-on-fork off`, which is also how a
//! vfork child gdb keeps can run while its parent waits for it.
//!
//! A `vCont` that names no process (`vCont;c`, `c:p-1.-1`) resumes every
//! process gdb has: the current one as usual, then each parked one, and
//! each forked child still kept, taken in first. The first process to
//! stop becomes the current one and is reported; every other one is
//! stopped before gdb hears of it, as gdbserver stops every thread of every
//! process. A process that stopped for a reason of its own while it was
//! being stopped (a breakpoint, a signal, its end) keeps that stop
//! unreported, and the next resume tells it instead of running anything:
//! no hit and no signal is lost, and the break-in it did not need is
//! dropped when it comes.
//!
//! In non-stop mode every process runs as gdb sees its threads: a packet
//! is served with every process held, parked ones included, and each goes
//! on afterwards; a process that stops becomes the current one to be
//! reported.

use crate::debug_log;
use crate::server::Negotiated;
use crate::target::{ServerError, ServerTarget};
use dbgkit::{ContinueStatus, EventKind};
use std::time::{Duration, Instant};

/// How long a running process may take to stop when another reports.
const STOP_WAIT: Duration = Duration::from_secs(10);

/// Whether `vCont` actions resume every process: one of them names no
/// thread, or every thread of every process (`-1`, `p-1.-1`).
pub(crate) fn names_every_process(actions: &str) -> bool {
    actions.split(';').filter(|action| !action.is_empty() && *action != "?").any(|action| {
        match action.split_once(':') {
            None => true,
            Some((_, thread)) => thread == "-1" || thread.starts_with("p-1"),
        }
    })
}

impl ServerTarget {
    /// Whether other processes than the current one would run on a resume
    /// of every process.
    pub(crate) fn has_other_processes(&self) -> bool {
        !self.parked.is_empty() || !self.kept_children.is_empty()
    }

    /// Readies a resume: a stop gdb has not heard of is told now instead
    /// (true: `immediate_stop` holds it). For a resume of every process, the
    /// forked children kept for gdb are taken in as processes, and with the
    /// current process ended, a parked one becomes current.
    pub(crate) fn prepare_resume(&mut self, every_process: bool) -> Result<bool, ServerError> {
        if every_process {
            let current = self.inferior.as_ref().map(|i| i.pid);
            for child in self.kept_children.keys().copied().collect::<Vec<_>>() {
                self.make_current(child)?;
            }
            if let Some(pid) = current {
                self.make_current(pid)?;
            }
        }
        loop {
            if !self.stop_unreported {
                let unreported = self.parked.iter().find(|(_, p)| p.unreported).map(|(&pid, _)| pid);
                match unreported.filter(|_| every_process) {
                    Some(pid) => self.make_current_leaving_it_running(pid)?,
                    None => break,
                }
            }
            self.stop_unreported = false;
            let Some(event) = self.stop_event.take() else { continue };
            debug_log!(self, "telling the {} process {} had before it was stopped", event.kind.name(), event.pid);
            if let Some(reason) = self.on_event(event)? {
                self.immediate_stop = Some(reason);
                return Ok(true);
            }
        }
        if every_process && self.inferior.is_none() {
            if let Some(&pid) = self.parked.keys().next() {
                self.make_current(pid)?;
            }
        }
        Ok(false)
    }

    /// Makes parked `pid` current; the current process, which a stop told
    /// just now may have let run, is parked as running if so.
    pub(crate) fn make_current_leaving_it_running(&mut self, pid: i32) -> Result<(), ServerError> {
        let runs = self.stop_event.is_none();
        self.make_current_parking_as(pid, runs)
    }

    /// Makes parked `pid` current, the current process parked as running or not.
    fn make_current_parking_as(&mut self, pid: i32, outgoing_runs: bool) -> Result<(), ServerError> {
        let outgoing = self.inferior.as_ref().map(|i| i.pid);
        self.make_current(pid)?;
        if let Some(parked) = outgoing.and_then(|o| self.parked.get_mut(&o)) {
            parked.running = outgoing_runs;
        }
        Ok(())
    }

    /// After the current process was resumed: every parked one runs too. A
    /// vfork parent stays held until its child lets go of the memory.
    pub(crate) fn resume_parked(&mut self) -> Result<(), ServerError> {
        for pid in self.parked_pids() {
            let Some(parked) = self.parked.get_mut(&pid) else { continue };
            if parked.running {
                continue;
            }
            parked.running = true;
            if !parked.pending_vfork_done.is_empty() || parked.stop_event.take().is_none() {
                continue;
            }
            debug_log!(self, "process {pid} runs too");
            match self.session.continue_process(pid, ContinueStatus::Handled) {
                Err(e) if e.is_gone() => {}
                other => other?,
            }
        }
        Ok(())
    }

    /// An event of `pid`, a parked process that runs: it becomes the
    /// current process (the current one is parked, running). False when
    /// `pid` is no such process.
    pub(crate) fn take_running_process_in(&mut self, pid: i32) -> bool {
        if !self.parked.get(&pid).is_some_and(|p| p.running) {
            return false;
        }
        debug_log!(self, "process {pid}, running beside the current one, stopped: it is current now");
        // The current process runs too (or waits, held, for its vfork child).
        self.make_current_parking_as(pid, true).is_ok()
    }

    /// A vfork parent that runs parked, whose child let go of the memory:
    /// it becomes current, for its `vforkdone` to be told.
    pub(crate) fn take_released_vfork_parent_in(&mut self) -> bool {
        let released = self
            .parked
            .iter()
            .find(|(_, p)| p.running && p.pending_vfork_done.first().is_some_and(|pending| pending.child_let_go()));
        match released.map(|(&pid, _)| pid) {
            Some(pid) => self.take_running_process_in(pid),
            None => false,
        }
    }

    /// Non-stop: every parked process held for a packet goes on with the
    /// threads gdb sees running. A process holding a stop gdb has not heard
    /// of is left held and named instead, for the caller to report.
    pub(crate) fn resume_parked_as_gdb_sees(&mut self) -> Result<Option<i32>, ServerError> {
        for pid in self.parked_pids() {
            let Some(parked) = self.parked.get_mut(&pid) else { continue };
            if parked.running {
                continue;
            }
            if parked.unreported {
                return Ok(Some(pid));
            }
            parked.running = true;
            if parked.stop_event.take().is_none() {
                continue;
            }
            let pending = std::mem::take(&mut parked.pending_vfork_done);
            let result = self.resume_threads_as_gdb_sees(pid, &pending, ContinueStatus::Handled);
            if let Some(parked) = self.parked.get_mut(&pid) {
                parked.pending_vfork_done = pending;
            }
            result?;
        }
        Ok(None)
    }

    /// Takes a parked process holding a stop gdb has not heard of in as the
    /// current one, and hands its stop over.
    pub(crate) fn take_unreported_stop_of(&mut self, pid: i32) -> Result<Option<dbgkit::Event>, ServerError> {
        self.make_current_leaving_it_running(pid)?;
        self.stop_unreported = false;
        Ok(self.stop_event.take())
    }

    /// Records the threads of `pid`, which stopped with no stop gdb was
    /// told of (a fork child), as stopped in gdb's eyes (non-stop mode).
    pub(crate) fn record_stopped_for_gdb(&mut self, negotiated: &Negotiated, pid: i32) {
        for tid in self.live_threads(pid) {
            let regs = self.expedited_in(pid, tid);
            let reply = crate::stop_reply::stopped_by_request(negotiated, pid, tid, &regs);
            self.non_stop.stopped.entry(tid).or_insert(reply);
        }
    }

    /// The threads of the current process and of the parked ones.
    pub(crate) fn threads_of_every_process(&self) -> Vec<i32> {
        self.held_pids().into_iter().flat_map(|pid| self.session.threads(pid).unwrap_or_default()).collect()
    }

    /// Whether a parked process runs.
    pub(crate) fn parked_running(&self) -> Option<i32> {
        self.parked.iter().find(|(_, p)| p.running && p.stop_event.is_none()).map(|(&pid, _)| pid)
    }

    /// All-stop: before a stop is reported, every other process that runs
    /// stops too, each held at the stop it came to.
    pub(crate) fn stop_running_processes(&mut self) -> Result<(), ServerError> {
        let mut waiting = Vec::new();
        for pid in self.parked_pids() {
            let Some(parked) = self.parked.get_mut(&pid) else { continue };
            if !parked.running {
                continue;
            }
            if parked.stop_event.is_some() {
                // Held all along (a vfork parent waiting for its child).
                parked.running = false;
                continue;
            }
            match self.session.break_in(pid) {
                Ok(()) => {}
                // Its end is on the way: that is its stop.
                Err(e) if e.is_gone() => {}
                Err(e) => return Err(e.into()),
            }
            waiting.push(pid);
        }
        let deadline = Instant::now() + STOP_WAIT;
        while !waiting.is_empty() && Instant::now() < deadline {
            let Some(event) = self.session.wait_event(Some(Duration::from_millis(100)))? else { continue };
            let pid = event.pid;
            let Some(at) = waiting.iter().position(|&w| w == pid) else {
                self.on_other_process_event(event)?;
                continue;
            };
            waiting.swap_remove(at);
            let Some(parked) = self.parked.get_mut(&pid) else { continue };
            let asked = matches!(event.kind, EventKind::BreakIn);
            if !asked {
                debug_log!(self, "process {pid} came to a {} as it was stopped: told later", event.kind.name());
                parked.unreported = true;
                if !matches!(event.kind, EventKind::ProcessExited { .. }) {
                    self.stale_break_ins.insert(pid);
                }
            }
            parked.stop_event = Some(event);
            parked.running = false;
        }
        for pid in waiting {
            debug_log!(self, "process {pid} did not stop for the stop of another");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::names_every_process;

    #[test]
    fn a_resume_names_every_process_only_with_a_wildcard() {
        assert!(names_every_process(";c"));
        assert!(names_every_process(";s:p10.10;c"));
        assert!(names_every_process(";c:p-1.-1"));
        assert!(names_every_process(";c:-1"));
        assert!(!names_every_process(";c:p10.-1"));
        assert!(!names_every_process(";s:p10.10;c:p10.-1"));
        assert!(!names_every_process(";c:p10.10"));
        assert!(!names_every_process("?"));
    }
}
