//! Non-stop mode on a connection: `QNonStop`, `vCont` that answers `OK`
//! at once, `%Stop` notifications acknowledged by `vStopped`, `?` listing
//! every stopped thread, `vCtrlC`, and every other packet served with the
//! threads briefly stopped (see `crate::non_stop`).

use super::Connection;
use crate::non_stop::{action_for, parse_actions, Action, Notify};
use crate::stop_reply;
use crate::target::{Origin, ServerError};
use dbgkit::{ContinueStatus, Event, EventKind};
use gdbstub::common::Signal;
use gdbstub::stub::MultiThreadStopReason;
use std::time::Duration;

/// How long one look for the stop that a break-in causes may take.
const STOP_WAIT: Duration = Duration::from_secs(5);

impl Connection<'_> {
    /// Answers a packet whose meaning non-stop mode changes; `None` lets
    /// the usual path answer it.
    pub(super) fn non_stop_packet(&mut self, body: &[u8]) -> Result<Option<Vec<u8>>, ServerError> {
        let Ok(text) = std::str::from_utf8(body) else { return Ok(None) };
        let reply = match text {
            "QNonStop:1" => {
                self.enter_non_stop()?;
                "OK".to_string()
            }
            "QNonStop:0" => {
                self.leave_non_stop()?;
                "OK".to_string()
            }
            // `t` stops one thread: gdb asks for it before it uses non-stop.
            "vCont?" => "vCont;c;C;s;S;t;r".to_string(),
            _ if !self.target.non_stop.enabled => return Ok(None),
            "vStopped" => self.target.non_stop.acknowledge(),
            "?" => self.target.non_stop.status(),
            "vCtrlC" => {
                self.interrupt_non_stop()?;
                "OK".to_string()
            }
            _ => match text.strip_prefix("vCont") {
                Some(actions) => self.resume_non_stop(actions)?,
                None => return Ok(None),
            },
        };
        Ok(Some(reply.into_bytes()))
    }

    /// `QNonStop:1`: every thread of the process is stopped, as gdb then believes.
    fn enter_non_stop(&mut self) -> Result<(), ServerError> {
        if self.target.non_stop.enabled {
            return Ok(());
        }
        self.quiesce()?;
        self.target.non_stop.reset();
        self.target.non_stop.enabled = true;
        self.adopt_stopped_process();
        self.unquiesce()
    }

    /// `QNonStop:0`: back to all-stop, with the process held.
    fn leave_non_stop(&mut self) -> Result<(), ServerError> {
        if !self.target.non_stop.enabled {
            return Ok(());
        }
        self.quiesce()?;
        self.target.non_stop.reset();
        self.target.non_stop.enabled = false;
        Ok(())
    }

    /// Records every thread of a process that just stopped as a whole
    /// (launched, attached, or at connection) as stopped for gdb.
    fn adopt_stopped_process(&mut self) {
        let Some(inferior) = self.target.inferior.clone() else { return };
        let pid = inferior.pid;
        let threads = self.target.live_threads(pid);
        let first = self.target.stop_event.as_ref().map(|e| e.tid).unwrap_or(pid);
        for tid in threads {
            let regs = self.target.expedited(tid);
            let reply = if tid == first && inferior.origin == Origin::Launched {
                let reason = MultiThreadStopReason::SignalWithThread {
                    tid: crate::target::to_tid(tid),
                    signal: Signal::SIGTRAP,
                };
                stop_reply::for_reason(&reason, &self.negotiated, pid, &regs)
            } else {
                stop_reply::stopped_by_request(&self.negotiated, pid, tid, &regs)
            };
            self.target.non_stop.stopped.insert(tid, reply);
        }
    }

    /// A packet the usual path answers, served with every thread stopped
    /// meanwhile. A process started by `vRun` is stopped for gdb; one
    /// attached by `vAttach` runs until gdb stops its threads (`vCont;t`),
    /// and the attach is answered `OK`, as non-stop mode wants.
    pub(super) fn with_threads_stopped<T>(
        &mut self,
        body: &[u8],
        serve: impl FnOnce(&mut Self) -> Result<T, ServerError>,
    ) -> Result<T, ServerError> {
        self.quiesce()?;
        let attach = body.starts_with(b"vAttach;");
        if attach {
            self.link.0.borrow_mut().replace_next_packet(b"OK".to_vec());
        }
        let before = self.target.inferior.as_ref().map(|i| i.pid);
        let known: Vec<i32> = before
            .into_iter()
            .chain(self.target.parked_pids())
            .chain(self.target.kept_children.keys().copied())
            .collect();
        let result = serve(self);
        let after = self.target.inferior.as_ref().map(|i| i.pid);
        // gdb turning to another process it keeps changes nothing it sees.
        if before != after && !after.is_some_and(|pid| known.contains(&pid)) {
            let live = self.target.threads_of_every_process();
            self.target.non_stop.keep_only(&live);
            if !attach {
                self.adopt_stopped_process();
            }
        }
        self.unquiesce()?;
        result
    }

    /// `vCont` in non-stop mode: stopped threads named run or step, running
    /// threads named with `t` stop (each reported with signal 0).
    fn resume_non_stop(&mut self, actions: &str) -> Result<String, ServerError> {
        crate::debug_log!(self.target, "non-stop: vCont{actions}");
        let Some(actions) = parse_actions(actions) else { return Ok("E01".into()) };
        // Only threads gdb knew stopped when it asked are resumed: one that
        // stops while every thread is being stopped is told to gdb instead.
        let known_stopped: Vec<i32> = self.target.non_stop.stopped.keys().copied().collect();
        self.quiesce()?;
        // A fork child told of stays the one a detach of the parent concerns
        // until gdb decides about it: other threads stop and run meanwhile.
        let mut requested_stops = Vec::new();
        // A process that ended meanwhile: gdb hears of it by notification.
        let current = self.target.inferior.as_ref().map(|i| i.pid);
        let threads: Vec<(i32, i32)> = current
            .into_iter()
            .chain(self.target.parked_pids())
            .flat_map(|pid| self.target.live_threads(pid).into_iter().map(move |tid| (pid, tid)))
            .collect();
        for (pid, tid) in threads {
            let Some(action) = action_for(&actions, pid, tid) else { continue };
            let stopped_now = self.target.non_stop.stopped.contains_key(&tid);
            let (signal, step) = match action {
                // A step that already ended, or another stop not told yet,
                // answers gdb's request (as with gdbserver); a stepping
                // thread's stop is never swallowed.
                Action::Stop
                    if !stopped_now
                        && self.target.non_stop.steppers.contains_key(&tid)
                        && self.target.session.has_pending_stop(pid, tid) =>
                {
                    continue;
                }
                Action::Stop if !stopped_now => {
                    requested_stops.push((pid, tid));
                    continue;
                }
                _ if !stopped_now || !known_stopped.contains(&tid) => continue,
                // gdb may not know yet that it stopped (see `stop_unacknowledged`).
                _ if self.target.non_stop.stop_unacknowledged(tid) => continue,
                Action::Stop => continue,
                Action::Continue(signal) => (signal, None),
                Action::Step(signal) => (signal, Some(None)),
                Action::RangeStep(start, end) => (0, Some(Some((start, end)))),
            };
            // No signal leaves alone one the engine holds for the thread.
            let signal = crate::signals::from_gdb(signal).unwrap_or(0);
            if signal != 0 {
                if let Err(e) = self.target.session.set_thread_signal(pid, tid, signal) {
                    crate::debug_log!(self.target, "signal {signal} for thread {tid} not set: {e}");
                }
            }
            self.target.non_stop.resume(tid, step);
        }
        self.target.retire_breakpoints_taken_out(false);
        self.target.resumes += 1;
        for (pid, tid) in requested_stops {
            let regs = self.target.expedited_in(pid, tid);
            let reply = stop_reply::stopped_by_request(&self.negotiated, pid, tid, &regs);
            crate::debug_log!(self.target, "non-stop: tell {reply}");
            let notify = self.target.non_stop.stop(tid, reply);
            self.notify(notify);
        }
        self.unquiesce()?;
        Ok("OK".into())
    }

    /// `vCtrlC`: one running thread stops with `SIGINT`.
    pub(super) fn interrupt_non_stop(&mut self) -> Result<(), ServerError> {
        self.quiesce()?;
        let Some(pid) = self.target.inferior.as_ref().map(|i| i.pid) else { return Ok(()) };
        let threads = self.target.live_threads(pid);
        let held = self.target.stop_event.as_ref().map(|e| e.tid);
        let running = |t: &i32| threads.contains(t) && !self.target.non_stop.stopped.contains_key(t);
        let chosen = held.filter(running).or_else(|| threads.iter().copied().find(running));
        if let Some(tid) = chosen {
            let reason =
                MultiThreadStopReason::SignalWithThread { tid: crate::target::to_tid(tid), signal: Signal::SIGINT };
            self.report(pid, tid, &reason);
        }
        self.unquiesce()
    }

    /// Stops every thread (the engine holds the process at an event) so a
    /// packet can be served; stops that happen meanwhile are reported.
    pub(super) fn quiesce(&mut self) -> Result<(), ServerError> {
        while self.target.stop_event.is_none() {
            let Some(pid) = self.target.inferior.as_ref().map(|i| i.pid) else { break };
            if !self.target.session.is_stopped(pid)? {
                self.target.session.break_in(pid)?;
            }
            match self.target.session.wait_event(Some(STOP_WAIT)) {
                Ok(Some(event)) => self.on_non_stop_event(event, true)?,
                Ok(None) => crate::debug_log!(self.target, "no stop yet after a break-in of {pid}"),
                Err(dbgkit::Error::NoProcesses) => return Ok(()),
                Err(e) => return Err(e.into()),
            }
        }
        // The other processes gdb keeps stop too.
        self.target.stop_running_processes()
    }

    /// Lets the threads gdb believes running go on after `quiesce`.
    pub(super) fn unquiesce(&mut self) -> Result<(), ServerError> {
        // A process detached or killed meanwhile has nothing left to continue.
        if self.target.stop_event.take().is_some() && self.target.inferior.is_some() {
            self.target.continue_stop(ContinueStatus::Handled)?;
        }
        if !self.target.non_stop.enabled {
            return Ok(());
        }
        // A process that came to a stop of its own as it was held: gdb hears
        // of it now (which goes on with the rest).
        if let Some(pid) = self.target.resume_parked_as_gdb_sees()? {
            if let Some(event) = self.target.take_unreported_stop_of(pid)? {
                self.on_non_stop_event(event, false)?;
            }
            return self.unquiesce();
        }
        Ok(())
    }

    /// One engine event in non-stop mode: a stop gdb must hear of is
    /// recorded and notified, and the threads gdb believes running go on.
    /// While `quiescing`, the break-in that stops everything is kept held.
    pub(super) fn on_non_stop_event(&mut self, event: Event, quiescing: bool) -> Result<(), ServerError> {
        let (pid, tid) = (event.pid, event.tid);
        if self.target.inferior.as_ref().map(|i| i.pid) != Some(pid) {
            // Another process gdb keeps, which ran as gdb sees its threads.
            self.target.take_running_process_in(pid);
        }
        if self.target.inferior.as_ref().is_some_and(|i| i.pid != pid) {
            return self.target.on_other_process_event(event);
        }
        if matches!(event.kind, EventKind::BreakIn) {
            self.target.stale_break_ins.remove(&pid);
        }
        self.target.stepping = None;
        self.target.scheduler_locked = false;
        let stepper = self.target.non_stop.steppers.get(&tid).copied();
        crate::debug_log!(self.target, "non-stop: {} of thread {tid} (stepping: {stepper:?})", event.kind.name());
        let trap = MultiThreadStopReason::SignalWithThread { tid: crate::target::to_tid(tid), signal: Signal::SIGTRAP };
        let reason = match (&event.kind, stepper) {
            (EventKind::BreakIn, _) if quiescing => {
                self.target.stop_event = Some(event);
                return Ok(());
            }
            (EventKind::BreakIn, _) => {
                // A break-in asked for earlier and overtaken by another stop.
                self.target.continue_stop(ContinueStatus::Handled)?;
                return Ok(());
            }
            (EventKind::StepComplete { address }, Some(range)) => {
                if range.is_some_and(|(start, end)| (start..end).contains(address)) {
                    // Still inside the range: step again without telling gdb.
                    self.target.continue_stop(ContinueStatus::Handled)?;
                    return Ok(());
                }
                self.target.stop_event = Some(event);
                trap
            }
            (EventKind::Breakpoint { id, .. }, Some(_)) if !self.target.is_taken_out(*id) => {
                // A step that landed on a breakpoint: a plain trap, as gdbserver says it.
                self.target.stop_event = Some(event);
                trap
            }
            (EventKind::ThreadExited { .. }, _) => {
                self.target.non_stop.forget(tid);
                self.target.continue_stop(ContinueStatus::Handled)?;
                return Ok(());
            }
            _ => match self.target.on_event(event)? {
                Some(reason) => reason,
                None => return Ok(()),
            },
        };
        if matches!(reason, MultiThreadStopReason::Exited(_) | MultiThreadStopReason::Terminated(_)) {
            self.announce_ending();
            let reply = stop_reply::for_reason(&reason, &self.negotiated, pid, &Default::default());
            // The other processes' threads stay as gdb sees them.
            let live = self.target.threads_of_every_process();
            self.target.non_stop.keep_only(&live);
            let notify = self.target.non_stop.push(reply);
            self.notify(notify);
            return Ok(());
        }
        // The threads of the other processes gdb keeps are not forgotten.
        let live = self.target.threads_of_every_process();
        self.target.non_stop.keep_only(&live);
        let reported = super::stop_thread(&reason).unwrap_or(tid);
        self.report(pid, reported, &reason);
        // While quiescing, the break-in still to come keeps the process held.
        self.unquiesce()
    }

    /// A vfork parent gdb resumed stays parked until its child lets go of
    /// the shared memory (it exec'd or ended); then gdb hears `vforkdone`
    /// and may put its breakpoints back. True when that was told now.
    pub(super) fn vfork_released(&mut self) -> Result<bool, ServerError> {
        let stopped = &self.target.non_stop.stopped;
        let released =
            self.target.pending_vfork_done.iter().find(|p| !stopped.contains_key(&p.tid) && p.child_let_go()).copied();
        let Some(pending) = released else { return Ok(false) };
        self.quiesce()?;
        self.target.pending_vfork_done.retain(|p| p.tid != pending.tid);
        if let Some(pid) = self.target.inferior.as_ref().map(|i| i.pid) {
            let regs = self.target.expedited(pending.tid);
            let done = crate::target::SpecialStop::VForkDone { tid: pending.tid };
            let reply = stop_reply::special(&done, &self.negotiated, pid, &regs);
            crate::debug_log!(self.target, "non-stop: tell {reply}");
            let notify = self.target.non_stop.stop(pending.tid, reply);
            self.notify(notify);
        }
        self.unquiesce()?;
        Ok(true)
    }

    /// Tells gdb that thread `tid` stopped for `reason`.
    fn report(&mut self, pid: i32, tid: i32, reason: &MultiThreadStopReason<u64>) {
        let regs = self.target.expedited(tid);
        let reply = match self.target.pending_special.take() {
            Some(special) => stop_reply::special(&special, &self.negotiated, pid, &regs),
            None => stop_reply::for_reason(reason, &self.negotiated, pid, &regs),
        };
        if self.target.non_stop.stopped.contains_key(&tid) {
            crate::debug_log!(self.target, "non-stop: thread {tid} stops again before gdb resumed it");
        }
        crate::debug_log!(self.target, "non-stop: tell {reply}");
        let notify = self.target.non_stop.stop(tid, reply);
        self.notify(notify);
    }

    /// Sends a stop notification after the reply being written, if any.
    fn notify(&mut self, notify: Notify) {
        if let Notify::Now(reply) = notify {
            self.notifications.push(reply);
        }
    }

    /// Sends the stop notifications that wait.
    pub(super) fn flush_notifications(&mut self) -> Result<(), ServerError> {
        for reply in std::mem::take(&mut self.notifications) {
            let framed = crate::framing::notification(b"Stop", reply.as_bytes());
            self.link.0.borrow_mut().send_raw(&framed)?;
        }
        Ok(())
    }
}
