//! What gdb's non-stop mode (`QNonStop:1`) needs kept: which threads gdb
//! sees stopped (each runs or stops on its own), the stop notifications
//! not yet acknowledged, and the `vCont` actions that name threads one by
//! one.
//!
//! The engine under it stops every thread at each event; the server makes
//! that invisible: the thread that reported stays stopped, gdb hears of it
//! in a `%Stop` notification, and the threads gdb believes running are
//! resumed at once (`Session::resume_threads_stepping`). Anything gdb asks
//! while threads run (memory, registers, breakpoints) is done with every
//! thread briefly stopped, as gdbserver does for memory access.

use std::collections::{BTreeMap, VecDeque};

/// Non-stop bookkeeping of one connection.
#[derive(Debug, Default)]
pub struct NonStop {
    /// gdb asked for non-stop mode.
    pub enabled: bool,
    /// Threads gdb sees stopped, with the stop reply that told it so
    /// (sent again for `?`).
    pub stopped: BTreeMap<i32, String>,
    /// Threads stepping, with their range when range stepping.
    pub steppers: BTreeMap<i32, Option<(u64, u64)>>,
    /// Stop replies gdb has not acknowledged with `vStopped`, with the
    /// thread each tells of (none for a process's end); the first was sent
    /// (as a notification or a reply), the rest wait for it.
    queue: VecDeque<(Option<i32>, String)>,
}

/// What to send gdb after a stop was queued.
#[derive(Debug, PartialEq, Eq)]
pub enum Notify {
    /// Send this as a `%Stop` notification.
    Now(String),
    /// gdb is still acknowledging earlier stops; it gets this one through `vStopped`.
    Later,
}

impl NonStop {
    /// Records that `tid` stopped with `reply`, to be told to gdb.
    pub fn stop(&mut self, tid: i32, reply: String) -> Notify {
        self.steppers.remove(&tid);
        self.stopped.insert(tid, reply.clone());
        self.queue_reply(Some(tid), reply)
    }

    /// Queues a stop reply that is not a thread's (a process's exit).
    pub fn push(&mut self, reply: String) -> Notify {
        self.queue_reply(None, reply)
    }

    fn queue_reply(&mut self, tid: Option<i32>, reply: String) -> Notify {
        self.queue.push_back((tid, reply.clone()));
        if self.queue.len() == 1 {
            Notify::Now(reply)
        } else {
            Notify::Later
        }
    }

    /// The reply to `vStopped`: the next stop gdb has not heard of, or `OK`.
    pub fn acknowledge(&mut self) -> String {
        self.queue.pop_front();
        self.first_queued()
    }

    fn first_queued(&self) -> String {
        self.queue.front().map(|(_, reply)| reply.clone()).unwrap_or_else(|| "OK".into())
    }

    /// True while gdb has not acknowledged the stop of `tid`: gdb may still
    /// count it running, so an action for every thread (`vCont;c`) leaves
    /// it stopped, as gdbserver does; gdb resumes it by name once it knows.
    pub fn stop_unacknowledged(&self, tid: i32) -> bool {
        self.queue.iter().any(|(queued, _)| *queued == Some(tid))
    }

    /// The reply to `?`: every stopped thread is reported again, the first
    /// now and the rest through `vStopped`; `OK` when none is stopped.
    pub fn status(&mut self) -> String {
        self.queue = self.stopped.iter().map(|(tid, reply)| (Some(*tid), reply.clone())).collect();
        self.first_queued()
    }

    /// gdb resumes `tid`: it runs, or steps when `step` is given.
    pub fn resume(&mut self, tid: i32, step: Option<Option<(u64, u64)>>) {
        self.stopped.remove(&tid);
        match step {
            Some(range) => self.steppers.insert(tid, range),
            None => self.steppers.remove(&tid),
        };
    }

    /// A thread is gone.
    pub fn forget(&mut self, tid: i32) {
        self.stopped.remove(&tid);
        self.steppers.remove(&tid);
    }

    /// Back to all-stop (or a new connection): nothing is remembered.
    pub fn reset(&mut self) {
        self.forget_threads();
        self.queue.clear();
    }

    /// The process ended or another took its place: its threads are
    /// forgotten, the stops gdb has not acknowledged are still told.
    pub fn forget_threads(&mut self) {
        self.stopped.clear();
        self.steppers.clear();
    }

    /// Forgets the threads that are gone (an `exec` ends all but one).
    pub fn keep_only(&mut self, live: &[i32]) {
        self.stopped.retain(|tid, _| live.contains(tid));
        self.steppers.retain(|tid, _| live.contains(tid));
    }
}

/// One `vCont` action in non-stop mode (signals in gdb's numbering).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Continue(u8),
    Step(u8),
    RangeStep(u64, u64),
    Stop,
}

/// The threads one action applies to: `None` is every one (`-1` or no id).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Selection {
    pub pid: Option<i32>,
    pub tid: Option<i32>,
}

impl Selection {
    fn matches(&self, pid: i32, tid: i32) -> bool {
        self.pid.is_none_or(|p| p == pid) && self.tid.is_none_or(|t| t == tid)
    }
}

/// Parses the actions after `vCont` (`;s:p1.2;c`); `None` if malformed.
pub fn parse_actions(text: &str) -> Option<Vec<(Action, Selection)>> {
    let list = text.strip_prefix(';')?;
    list.split(';')
        .map(|item| {
            let (action, thread) = match item.split_once(':') {
                Some((a, t)) => (a, Some(t)),
                None => (item, None),
            };
            let signal = |s: &str| u8::from_str_radix(s, 16).ok().filter(|_| s.len() == 2);
            let action = match action.as_bytes().first()? {
                b'c' if action.len() == 1 => Action::Continue(0),
                b's' if action.len() == 1 => Action::Step(0),
                b't' if action.len() == 1 => Action::Stop,
                b'C' => Action::Continue(signal(&action[1..])?),
                b'S' => Action::Step(signal(&action[1..])?),
                b'r' => {
                    let (start, end) = action[1..].split_once(',')?;
                    Action::RangeStep(u64::from_str_radix(start, 16).ok()?, u64::from_str_radix(end, 16).ok()?)
                }
                _ => return None,
            };
            let selection = match thread {
                None => Selection { pid: None, tid: None },
                Some(thread) => parse_thread(thread)?,
            };
            Some((action, selection))
        })
        .collect()
}

/// A thread id as gdb writes it (`pPID.TID`, `pPID`, `TID`; `-1` and `0` name none).
pub(crate) fn parse_thread(text: &str) -> Option<Selection> {
    let id = |s: &str| -> Option<Option<i32>> {
        if s == "-1" || s == "0" {
            return Some(None);
        }
        i32::from_str_radix(s, 16).ok().map(Some)
    };
    match text.strip_prefix('p') {
        Some(rest) => match rest.split_once('.') {
            Some((pid, tid)) => Some(Selection { pid: id(pid)?, tid: id(tid)? }),
            None => Some(Selection { pid: id(rest)?, tid: None }),
        },
        None => Some(Selection { pid: None, tid: id(text)? }),
    }
}

/// The action `vCont` gives thread `tid` of `pid`: the first that names it.
pub fn action_for(actions: &[(Action, Selection)], pid: i32, tid: i32) -> Option<Action> {
    actions.iter().find(|(_, selection)| selection.matches(pid, tid)).map(|(action, _)| *action)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_action_naming_a_thread_wins() {
        let actions = parse_actions(";s:p10.11;c:p10.-1;t").unwrap();
        assert_eq!(action_for(&actions, 0x10, 0x11), Some(Action::Step(0)));
        assert_eq!(action_for(&actions, 0x10, 0x12), Some(Action::Continue(0)));
        assert_eq!(action_for(&actions, 0x20, 0x21), Some(Action::Stop));
        let ranged = parse_actions(";r401000,401010:7;C1e").unwrap();
        assert_eq!(action_for(&ranged, 7, 7), Some(Action::RangeStep(0x401000, 0x401010)));
        assert_eq!(action_for(&ranged, 7, 8), Some(Action::Continue(0x1e)));
    }

    #[test]
    fn malformed_actions_are_refused() {
        for bad in ["", ";", ";x", ";C1", ";c:pz", ";r1", ";S123"] {
            assert!(parse_actions(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn stops_are_told_one_at_a_time() {
        let mut ns = NonStop::default();
        assert_eq!(ns.stop(1, "T05thread:1;".into()), Notify::Now("T05thread:1;".into()));
        assert_eq!(ns.stop(2, "T00thread:2;".into()), Notify::Later);
        assert!(ns.stop_unacknowledged(1) && ns.stop_unacknowledged(2));
        assert_eq!(ns.acknowledge(), "T00thread:2;");
        assert!(!ns.stop_unacknowledged(1) && ns.stop_unacknowledged(2));
        assert_eq!(ns.acknowledge(), "OK");
        assert_eq!(ns.stop(3, "T02thread:3;".into()), Notify::Now("T02thread:3;".into()));
        // `?` starts over with every stopped thread.
        assert_eq!(ns.status(), "T05thread:1;");
        assert_eq!(ns.acknowledge(), "T00thread:2;");
        ns.resume(2, None);
        assert_eq!(ns.acknowledge(), "T02thread:3;");
        assert_eq!(ns.acknowledge(), "OK");
        assert_eq!(ns.status(), "T05thread:1;");
    }
}
