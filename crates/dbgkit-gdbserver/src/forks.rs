//! Forked children gdb decides about. While gdb asks for fork events, the
//! engine keeps each new child stopped at its first event (as gdbserver
//! does) until gdb either detaches it (`D;PID`: gdb follows the parent) or
//! detaches the parent and goes on with the child (`follow-fork-mode
//! child`), which then becomes the process debugged.

use crate::debug_log;
use crate::target::{Inferior, ServerError, ServerTarget};
use dbgkit::{ContinueStatus, Event, EventKind};

impl ServerTarget {
    /// The engine keeps forked children while gdb wants to hear of forks.
    pub(crate) fn follow_forks_if_asked(&mut self) {
        self.session.set_follow_children(self.fork_events || self.vfork_events);
    }

    /// A child gdb will hear of in a fork stop: kept until gdb decides.
    pub(crate) fn keep_child(&mut self, child: i32) {
        if self.session.follows_children() {
            self.kept_children.insert(child, None);
        }
    }

    /// A child gdb will not hear of: it goes at once.
    pub(crate) fn let_child_go(&mut self, child: i32) {
        if self.session.follows_children() {
            if let Err(e) = self.session.detach(child) {
                debug_log!(self, "letting forked child {child} go: {e}");
            }
        }
    }

    /// An event of a process other than the one debugged: a kept child
    /// stays stopped at its first event; anything else goes on.
    pub(crate) fn on_other_process_event(&mut self, event: Event) -> Result<(), ServerError> {
        let pid = event.pid;
        let first_event_of_kept = self.kept_children.get(&pid).is_some_and(Option::is_none);
        if first_event_of_kept && !matches!(event.kind, EventKind::ProcessExited { .. }) {
            debug_log!(self, "forked child {pid} waits for gdb at its {}", event.kind.name());
            self.kept_children.insert(pid, Some(event));
            return Ok(());
        }
        if matches!(event.kind, EventKind::ProcessExited { .. }) {
            self.kept_children.remove(&pid);
        }
        match self.session.continue_process(pid, ContinueStatus::Handled) {
            Err(e) if e.is_gone() => Ok(()),
            other => Ok(other?),
        }
    }

    /// `D;PID` of a child: it goes, free of breakpoints. False when `pid`
    /// is no child kept here.
    pub(crate) fn detach_child(&mut self, pid: i32) -> bool {
        if self.kept_children.remove(&pid).is_none() {
            return false;
        }
        eprintln!("Detaching from process {pid}");
        if let Err(e) = self.session.detach(pid) {
            debug_log!(self, "detaching forked child {pid}: {e}");
        }
        true
    }

    /// `D;PID` of the process debugged while a child is kept: gdb follows
    /// the child. The parent goes; the child, held at its first event,
    /// becomes the process debugged. False when no child is kept.
    pub(crate) fn follow_child(&mut self) -> Result<bool, ServerError> {
        let Some((&child, _)) = self.kept_children.iter().next_back() else { return Ok(false) };
        let held = self.kept_children.remove(&child).flatten();
        let Some(parent) = self.inferior.clone() else { return Ok(false) };
        eprintln!("Detaching from process {}", parent.pid);
        self.detach_inferior()?;
        for other in std::mem::take(&mut self.kept_children).into_keys() {
            let _ = self.session.detach(other);
        }
        self.pending_vfork_done = None;
        self.inferior = Some(Inferior { pid: child, origin: parent.origin, argv: parent.argv });
        self.stop_event = match held {
            Some(event) => Some(event),
            None => Some(self.first_event_of(child)?),
        };
        debug_log!(self, "following forked child {child}; parent {} detached", parent.pid);
        Ok(true)
    }

    /// Waits for the first event of a new child, continuing any other.
    fn first_event_of(&mut self, child: i32) -> Result<Event, ServerError> {
        loop {
            let Some(event) = self.session.wait_event(Some(std::time::Duration::from_secs(5)))? else { continue };
            if event.pid == child {
                return Ok(event);
            }
            self.session.continue_process(event.pid, ContinueStatus::Handled)?;
        }
    }
}
