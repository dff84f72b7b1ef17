//! The engine drives threads one at a time (resume this one, interrupt
//! that one, wait for the next stop), the way ptrace works; a stub in
//! all-stop mode runs and stops them all together. This state machine
//! reconciles the two, with no I/O so it can be tested alone:
//!
//! - a resume is recorded, and sent with the others as one `vCont` when
//!   the engine next waits;
//! - when the stub reports a stop, every thread it stopped with it is
//!   "parked": the engine still thinks it runs, and it goes on with the
//!   next `vCont` unless the engine interrupts it first, which then costs
//!   nothing on the wire (its `Interrupted` stop is made up at once);
//! - an interrupt of a thread that really runs sends `\x03` once; the stop
//!   the stub answers with is the interrupt's, or, when a real event came
//!   first, that event (and the threads waiting for the interrupt get
//!   theirs made up).

use crate::error::Result;
use crate::target::{Resume, StopReason, WaitMode};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Where one thread stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Run {
    /// Stopped, and the engine knows it.
    Held,
    /// The engine let it go this way; `sent` once a `vCont` carried it to
    /// the stub (cleared again when the stub stops everything).
    Released { how: Resume, signal: i32, sent: bool },
}

/// What an interrupt needs on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InterruptNeed {
    /// Nothing: the thread was not running in the stub.
    Nothing,
    /// Send `\x03`: the stub is running the thread.
    Break,
}

/// One resume of a `vCont`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Action {
    pub tid: i32,
    pub how: Resume,
    /// Linux signal to deliver (0: none).
    pub signal: i32,
}

/// The threads of one all-stop stub.
#[derive(Debug, Default)]
pub struct AllStop {
    threads: BTreeMap<i32, Run>,
    /// A `vCont` is out and its stop has not come.
    stub_running: bool,
    /// `\x03` was sent for the current run.
    break_sent: bool,
    /// Threads the engine asked to stop while the stub ran them.
    interrupt_wanted: BTreeSet<i32>,
    /// A `\x03` sent when a real stop came first: its `SIGINT` may still come.
    stray_break: bool,
    /// Stops decided and not yet handed to the engine.
    pending: VecDeque<(i32, StopReason)>,
}

impl AllStop {
    /// Threads all stopped and held (as after a connection).
    pub fn new(tids: impl IntoIterator<Item = i32>) -> AllStop {
        AllStop { threads: tids.into_iter().map(|t| (t, Run::Held)).collect(), ..Default::default() }
    }

    pub fn knows(&self, tid: i32) -> bool {
        self.threads.contains_key(&tid)
    }

    pub fn thread_ids(&self) -> Vec<i32> {
        self.threads.keys().copied().collect()
    }

    /// A new thread, stopped (the stub stops it with everything else).
    pub fn add_thread(&mut self, tid: i32) {
        self.threads.insert(tid, Run::Held);
    }

    pub fn remove_thread(&mut self, tid: i32) {
        self.threads.remove(&tid);
        self.interrupt_wanted.remove(&tid);
    }

    pub fn is_held(&self, tid: i32) -> bool {
        self.threads.get(&tid) == Some(&Run::Held)
    }

    /// Whether a `vCont` is out.
    pub fn stub_running(&self) -> bool {
        self.stub_running
    }

    /// The engine lets a held thread go. False when it was not held.
    pub fn resume(&mut self, tid: i32, how: Resume, signal: i32) -> bool {
        match self.threads.get_mut(&tid) {
            Some(run @ Run::Held) => {
                *run = Run::Released { how, signal, sent: false };
                true
            }
            _ => false,
        }
    }

    /// The engine asks a thread to stop.
    pub fn interrupt(&mut self, tid: i32) -> InterruptNeed {
        match self.threads.get(&tid).copied() {
            Some(Run::Released { sent: false, .. }) => {
                // Never sent, or parked by the stub's last stop: it is stopped already.
                self.threads.insert(tid, Run::Held);
                self.pending.push_back((tid, StopReason::Interrupted));
                InterruptNeed::Nothing
            }
            Some(Run::Released { sent: true, .. }) => {
                self.interrupt_wanted.insert(tid);
                if self.break_sent {
                    InterruptNeed::Nothing
                } else {
                    self.break_sent = true;
                    InterruptNeed::Break
                }
            }
            Some(Run::Held) | None => InterruptNeed::Nothing,
        }
    }

    /// Whether the stub must be stopped before a thread released meanwhile can go.
    pub fn needs_break_to_resume(&self) -> bool {
        self.stub_running
            && !self.break_sent
            && self.threads.values().any(|r| matches!(r, Run::Released { sent: false, .. }))
    }

    /// Records a `\x03` sent to make room for a resume.
    pub fn break_sent_for_resume(&mut self) {
        self.break_sent = true;
    }

    /// The actions of the next `vCont`, when the stub is stopped and some
    /// thread was released; they count as sent from now on.
    pub fn take_actions(&mut self) -> Option<Vec<Action>> {
        if self.stub_running || !self.pending.is_empty() {
            return None;
        }
        let mut actions = Vec::new();
        for (&tid, run) in self.threads.iter_mut() {
            if let Run::Released { how, signal, sent } = run {
                *sent = true;
                actions.push(Action { tid, how: *how, signal: *signal });
            }
        }
        if actions.is_empty() {
            return None;
        }
        self.stub_running = true;
        Some(actions)
    }

    /// The stub stopped everything and reports `tid` with `reason`;
    /// `is_break_answer`: the stop is the `SIGINT` a `\x03` produces.
    /// Returns the stop to report now, if any (others are queued).
    pub fn on_stop(&mut self, tid: i32, reason: StopReason, is_break_answer: bool) -> Option<(i32, StopReason)> {
        let broke = std::mem::take(&mut self.break_sent);
        // Every thread that ran is stopped now, its signal delivered.
        self.park();
        let mut report = None;
        if broke && is_break_answer {
            if self.interrupt_wanted.remove(&tid) {
                self.hold(tid);
                report = Some((tid, StopReason::Interrupted));
            }
            // Else a break sent to make room for a resume: the thread just parks.
        } else if is_break_answer && std::mem::take(&mut self.stray_break) {
            // The late answer to an earlier break: nobody waits for it.
        } else {
            if broke {
                self.stray_break = true;
            }
            self.interrupt_wanted.remove(&tid);
            if self.threads.contains_key(&tid) {
                self.hold(tid);
            }
            report = Some((tid, reason));
        }
        for waiting in std::mem::take(&mut self.interrupt_wanted) {
            if matches!(self.threads.get(&waiting), Some(Run::Released { .. })) {
                self.hold(waiting);
                self.pending.push_back((waiting, StopReason::Interrupted));
            }
        }
        report
    }

    /// The stub stopped everything without a stop worth reporting: every
    /// running thread parks.
    pub fn park(&mut self) {
        self.stub_running = false;
        for run in self.threads.values_mut() {
            if let Run::Released { signal, sent, .. } = run {
                *signal = 0;
                *sent = false;
            }
        }
    }

    /// Whether stops wait to be handed to the engine.
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Whether no thread is held (a resume may then name "every other thread",
    /// which takes in threads the stub has not reported yet).
    pub fn none_held(&self) -> bool {
        !self.threads.values().any(|r| *r == Run::Held)
    }

    /// The signal a released thread is to receive.
    pub fn signal_of(&self, tid: i32) -> i32 {
        match self.threads.get(&tid) {
            Some(Run::Released { signal, .. }) => *signal,
            _ => 0,
        }
    }

    /// A released thread's signal went with a step of its own: not again.
    pub fn delivered(&mut self, tid: i32) {
        if let Some(Run::Released { signal, .. }) = self.threads.get_mut(&tid) {
            *signal = 0;
        }
    }

    fn hold(&mut self, tid: i32) {
        if let Some(run) = self.threads.get_mut(&tid) {
            *run = Run::Held;
        }
    }

    /// Queues a stop for later (the thread counts as stopped from now on).
    pub fn queue(&mut self, tid: i32, reason: StopReason) {
        self.hold(tid);
        self.pending.push_back((tid, reason));
    }

    /// Queues the exit of a thread already forgotten.
    pub fn queue_exit(&mut self, tid: i32, reason: StopReason) {
        self.pending.push_back((tid, reason));
    }

    /// The oldest queued stop.
    pub fn pop_pending(&mut self) -> Option<(i32, StopReason)> {
        self.pending.pop_front()
    }

    /// The oldest queued stop of one thread.
    pub fn pop_pending_of(&mut self, tid: i32) -> Option<StopReason> {
        let i = self.pending.iter().position(|(t, _)| *t == tid)?;
        self.pending.remove(i).map(|(_, r)| r)
    }

    /// Whether the thread is released and parked (stopped in the stub, not reported).
    #[cfg(test)]
    pub fn is_parked(&self, tid: i32) -> bool {
        !self.stub_running && matches!(self.threads.get(&tid), Some(Run::Released { sent: false, .. }))
    }

    /// The process is gone: nothing runs, nothing is waited for.
    pub fn clear(&mut self) {
        self.threads.clear();
        self.stub_running = false;
        self.break_sent = false;
        self.interrupt_wanted.clear();
    }

    /// The resume a released thread asked for.
    pub fn released_how(&self, tid: i32) -> Option<Resume> {
        match self.threads.get(&tid) {
            Some(Run::Released { how, .. }) => Some(*how),
            _ => None,
        }
    }
}

/// A target run through [`AllStop`] (a remote stub, the Windows debug
/// loop): what it does itself, for the two waiting loops every such target
/// shares ([`wait_any`], [`wait_thread`]).
pub(crate) trait AllStopDriver {
    fn all_stop(&mut self) -> &mut AllStop;
    /// Whether the process is gone (exited, killed, detached).
    fn finished(&self) -> bool;
    /// Lets the threads the engine resumed go, once no stop waits.
    fn flush(&mut self) -> Result<()>;
    /// Waits for the target's next stop, as long as `mode` says: `None`
    /// when none came; else the stop as the engine sees it, if any (an
    /// answer nobody waits for is none).
    fn next_stop(&mut self, mode: WaitMode) -> Result<Option<Option<(i32, StopReason)>>>;
}

/// The next stop of any thread ([`crate::target::EventSource::wait_any`]).
pub(crate) fn wait_any(d: &mut impl AllStopDriver, mode: WaitMode) -> Result<Option<(i32, StopReason)>> {
    loop {
        if let Some(stop) = d.all_stop().pop_pending() {
            return Ok(Some(stop));
        }
        if d.finished() {
            return Ok(None);
        }
        d.flush()?;
        if d.all_stop().has_pending() {
            continue;
        }
        if !d.all_stop().stub_running() {
            return Ok(None);
        }
        match d.next_stop(mode)? {
            None => return Ok(None),
            Some(Some(stop)) => return Ok(Some(stop)),
            Some(None) => {}
        }
    }
}

/// The next stop of one thread ([`crate::target::RunControl::wait_thread`]);
/// other threads' stops meanwhile are queued for later.
pub(crate) fn wait_thread(d: &mut impl AllStopDriver, tid: i32) -> Result<Option<StopReason>> {
    loop {
        if let Some(reason) = d.all_stop().pop_pending_of(tid) {
            return Ok(Some(reason));
        }
        if d.finished() || !d.all_stop().knows(tid) || d.all_stop().is_held(tid) {
            return Ok(None);
        }
        d.flush()?;
        if d.all_stop().stub_running() {
            if let Some(Some((t, reason))) = d.next_stop(WaitMode::Block)? {
                if t == tid {
                    return Ok(Some(reason));
                }
                d.all_stop().queue(t, reason);
            }
            continue;
        }
        // Another thread's stop is waiting, and the target stopped this one
        // with it: it is stopped now, as an interrupt would have left it.
        d.all_stop().interrupt(tid);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn action(tid: i32, how: Resume, signal: i32) -> Action {
        Action { tid, how, signal }
    }

    #[test]
    fn resumes_go_out_together_and_a_stop_parks_the_others() {
        let mut s = AllStop::new([10, 11, 12]);
        assert!(s.take_actions().is_none(), "nothing released");
        assert!(s.resume(10, Resume::Continue, 0));
        assert!(s.resume(11, Resume::Step, crate::signal_numbers::SIGUSR1));
        assert!(!s.resume(11, Resume::Continue, 0), "not held any more");
        assert_eq!(
            s.take_actions().unwrap(),
            vec![action(10, Resume::Continue, 0), action(11, Resume::Step, crate::signal_numbers::SIGUSR1)]
        );
        assert!(s.stub_running() && s.take_actions().is_none());
        // 11 finishes its step: reported; 10 is parked, its resume kept.
        assert_eq!(
            s.on_stop(11, StopReason::Signal(crate::signal_numbers::SIGTRAP), false),
            Some((11, StopReason::Signal(crate::signal_numbers::SIGTRAP)))
        );
        assert!(s.is_held(11) && s.is_parked(10) && s.is_held(12));
        // The engine resumes 11 again: both go, 10 without its (delivered) signal.
        s.resume(11, Resume::Continue, 0);
        assert_eq!(s.take_actions().unwrap(), vec![action(10, Resume::Continue, 0), action(11, Resume::Continue, 0)]);
    }

    #[test]
    fn interrupting_a_parked_thread_costs_nothing() {
        let mut s = AllStop::new([1, 2]);
        s.resume(1, Resume::Continue, 0);
        s.resume(2, Resume::Continue, 0);
        s.take_actions().unwrap();
        s.on_stop(1, StopReason::Signal(crate::signal_numbers::SIGTRAP), false);
        // All-stop: the engine stops the others.
        assert_eq!(s.interrupt(2), InterruptNeed::Nothing);
        assert_eq!(s.pop_pending(), Some((2, StopReason::Interrupted)));
        assert!(s.is_held(2));
        // A resume never sent is taken back the same way.
        s.resume(2, Resume::Continue, 0);
        assert_eq!(s.interrupt(2), InterruptNeed::Nothing);
        assert_eq!(s.pop_pending(), Some((2, StopReason::Interrupted)));
        assert!(s.take_actions().is_none());
    }

    #[test]
    fn a_break_answers_every_interrupt_once() {
        let mut s = AllStop::new([1, 2, 3]);
        for t in [1, 2, 3] {
            s.resume(t, Resume::Continue, 0);
        }
        s.take_actions().unwrap();
        assert_eq!(s.interrupt(1), InterruptNeed::Break);
        assert_eq!(s.interrupt(2), InterruptNeed::Nothing, "one \\x03 is enough");
        assert_eq!(s.interrupt(3), InterruptNeed::Nothing);
        // The stub answers with SIGINT for thread 2.
        assert_eq!(
            s.on_stop(2, StopReason::Signal(crate::signal_numbers::SIGINT), true),
            Some((2, StopReason::Interrupted))
        );
        assert_eq!(s.pop_pending(), Some((1, StopReason::Interrupted)));
        assert_eq!(s.pop_pending(), Some((3, StopReason::Interrupted)));
        assert_eq!(s.pop_pending(), None);
    }

    #[test]
    fn a_real_stop_that_beats_the_break_is_reported_and_its_late_answer_dropped() {
        let mut s = AllStop::new([1, 2]);
        s.resume(1, Resume::Continue, 0);
        s.resume(2, Resume::Continue, 0);
        s.take_actions().unwrap();
        assert_eq!(s.interrupt(1), InterruptNeed::Break);
        s.interrupt(2);
        // Thread 2 hit a breakpoint before the break arrived.
        assert_eq!(
            s.on_stop(2, StopReason::Signal(crate::signal_numbers::SIGTRAP), false),
            Some((2, StopReason::Signal(crate::signal_numbers::SIGTRAP)))
        );
        assert_eq!(s.pop_pending(), Some((1, StopReason::Interrupted)));
        // Later, the break's SIGINT arrives: it is nobody's.
        s.resume(1, Resume::Continue, 0);
        s.resume(2, Resume::Continue, 0);
        s.take_actions().unwrap();
        assert_eq!(s.on_stop(1, StopReason::Signal(crate::signal_numbers::SIGINT), true), None);
        assert!(s.is_parked(1) && s.is_parked(2));
        // A real SIGINT after that is the program's.
        s.take_actions().unwrap();
        assert_eq!(
            s.on_stop(1, StopReason::Signal(crate::signal_numbers::SIGINT), true),
            Some((1, StopReason::Signal(crate::signal_numbers::SIGINT)))
        );
    }

    #[test]
    fn a_resume_while_the_stub_runs_needs_a_break_first() {
        let mut s = AllStop::new([1, 2]);
        s.resume(1, Resume::Continue, 0);
        s.take_actions().unwrap();
        s.resume(2, Resume::Continue, 0);
        assert!(s.needs_break_to_resume());
        s.break_sent_for_resume();
        assert!(!s.needs_break_to_resume());
        // The break's answer parks thread 1 silently; both go together next.
        assert_eq!(s.on_stop(1, StopReason::Signal(crate::signal_numbers::SIGINT), true), None);
        assert_eq!(s.take_actions().unwrap(), vec![action(1, Resume::Continue, 0), action(2, Resume::Continue, 0)]);
    }

    #[test]
    fn queued_stops_hold_their_threads_and_block_resumes() {
        let mut s = AllStop::new([1, 2]);
        s.resume(1, Resume::Continue, 0);
        s.resume(2, Resume::Continue, 0);
        s.take_actions().unwrap();
        s.on_stop(1, StopReason::Signal(crate::signal_numbers::SIGTRAP), false);
        s.queue(2, StopReason::Signal(crate::signal_numbers::SIGSEGV));
        s.resume(1, Resume::Continue, 0);
        assert!(s.take_actions().is_none(), "not while a stop waits to be reported");
        assert_eq!(s.pop_pending_of(2), Some(StopReason::Signal(crate::signal_numbers::SIGSEGV)));
        assert_eq!(s.take_actions().unwrap(), vec![action(1, Resume::Continue, 0)]);
    }
}
