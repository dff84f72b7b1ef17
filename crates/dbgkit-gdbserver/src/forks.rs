//! Forked children gdb decides about. While gdb asks for fork events, the
//! engine keeps each new child stopped at its first event (as gdbserver
//! does) until gdb either detaches it (`D;PID`: gdb follows the parent),
//! kills it (`vKill;PID`), or detaches the parent and goes on with the
//! child (`follow-fork-mode child`), which then becomes the process
//! debugged once gdb selects one of its threads. Children still kept when the process debugged is killed die
//! with it; when it is detached or ends they are let go.

use crate::debug_log;
use crate::target::{Inferior, ServerError, ServerTarget};
use dbgkit::target::remote::packet;
use dbgkit::{ContinueStatus, Event, EventKind};
use std::time::{Duration, Instant};

/// How long a new child may take to report its first event.
const FIRST_EVENT_WAIT: Duration = Duration::from_secs(10);

impl ServerTarget {
    /// The engine keeps forked children while gdb wants to hear of forks.
    pub(crate) fn follow_forks_if_asked(&mut self) {
        self.session.set_follow_children(self.fork_events || self.vfork_events);
    }

    /// A child gdb hears of in a fork stop: kept until gdb decides, and the
    /// one a detach of the parent follows until gdb resumes.
    pub(crate) fn keep_child(&mut self, child: i32) {
        if self.session.follows_children() {
            // Its first event may have come first (the engine reports processes by pid).
            self.kept_children.entry(child).or_insert(None);
            self.reported_fork_child = Some(child);
        }
    }

    /// A child gdb will not hear of: it goes at once.
    pub(crate) fn let_child_go(&mut self, child: i32) {
        self.kept_children.remove(&child);
        if self.session.follows_children() {
            if let Err(e) = self.session.detach(child) {
                debug_log!(self, "letting forked child {child} go: {e}");
            }
        }
    }

    /// An event of a process other than the one debugged: a kept (or just
    /// adopted) child stays stopped at its first event; anything else goes on.
    pub(crate) fn on_other_process_event(&mut self, event: Event) -> Result<(), ServerError> {
        let pid = event.pid;
        let exited = matches!(event.kind, EventKind::ProcessExited { .. });
        let first_of_new_child = self.session.follows_children()
            && !self.kept_children.contains_key(&pid)
            && matches!(event.kind, EventKind::ProcessCreated { .. });
        let first_of_kept = self.kept_children.get(&pid).is_some_and(Option::is_none);
        if (first_of_kept || first_of_new_child) && !exited {
            debug_log!(self, "forked child {pid} waits for gdb at its {}", event.kind.name());
            self.kept_children.insert(pid, Some(event));
            return Ok(());
        }
        if exited {
            self.kept_children.remove(&pid);
        }
        match self.session.continue_process(pid, ContinueStatus::Handled) {
            Err(e) if e.is_gone() => Ok(()),
            other => Ok(other?),
        }
    }

    /// `D;PID` of a child: it goes, free of breakpoints, also one waiting to
    /// be followed after its parent's detach. False when `pid` is no child
    /// kept here.
    pub(crate) fn detach_child(&mut self, pid: i32) -> bool {
        if self.child_to_follow.as_ref().is_some_and(|(child, ..)| child.pid == pid) {
            // gdb detached the parent first, then the child (a plain `detach`).
            self.let_unfollowed_child_go();
            return true;
        }
        if self.kept_children.remove(&pid).is_none() {
            return false;
        }
        self.let_process_go(pid);
        true
    }

    /// `vKill;PID` of a child: it dies, and its end is taken here. False
    /// when `pid` is no child kept here.
    pub(crate) fn kill_child(&mut self, pid: i32) -> Result<bool, ServerError> {
        if self.kept_children.remove(&pid).is_none() {
            return Ok(false);
        }
        self.kill_and_reap(pid)?;
        Ok(true)
    }

    /// The children still kept go with the process debugged: killed with
    /// it (`kill`), let go when it is detached or ends.
    pub(crate) fn release_kept_children(&mut self, kill: bool) {
        self.reported_fork_child = None;
        for child in std::mem::take(&mut self.kept_children).into_keys() {
            let result = if kill { self.session.kill(child) } else { self.session.detach(child) };
            if let Err(e) = result {
                debug_log!(self, "releasing forked child {child}: {e}");
            }
        }
    }

    /// `D;PID` of the process debugged right after a fork stop, with the
    /// child kept: the parent goes. gdb either follows the child next
    /// (`follow-fork-mode child`: it selects a thread of the child, see
    /// [`ServerTarget::adopt_followed_child`]) or leaves (a plain `detach`),
    /// and the child is let go with the connection. False when no child
    /// waits to be followed.
    pub(crate) fn detach_parent_of_child(&mut self) -> Result<bool, ServerError> {
        let Some(child) = self.reported_fork_child.filter(|c| self.kept_children.contains_key(c)) else {
            return Ok(false);
        };
        let Some(parent) = self.inferior.clone() else { return Ok(false) };
        let held = self.kept_children.remove(&child).flatten();
        let inherited = self.debug_register_use();
        eprintln!("Detaching from process {}", parent.pid);
        self.detach_inferior_keeping(Some(child))?;
        self.pending_vfork_done.clear();
        self.child_to_follow =
            Some((Inferior { pid: child, origin: parent.origin, argv: parent.argv }, held, inherited));
        Ok(true)
    }

    /// gdb selected a thread of the child whose parent it detached: the
    /// child, held at its first event, becomes the process debugged.
    pub(crate) fn adopt_followed_child(&mut self, pid: i32) -> Result<bool, ServerError> {
        if self.child_to_follow.as_ref().is_none_or(|(child, ..)| child.pid != pid) {
            return Ok(false);
        }
        let Some((child, held, inherited)) = self.child_to_follow.take() else { return Ok(false) };
        self.stop_event = match held {
            Some(event) => Some(event),
            None => Some(self.first_event_of(pid)?),
        };
        self.inferior = Some(child);
        self.inherit_debug_registers(&inherited);
        debug_log!(self, "following forked child {pid}");
        Ok(true)
    }

    /// A child whose parent was detached and that gdb did not follow goes too.
    pub(crate) fn let_unfollowed_child_go(&mut self) {
        if let Some((child, ..)) = self.child_to_follow.take() {
            self.let_process_go(child.pid);
        }
    }

    /// Waits for the first event of a new child, continuing any other.
    pub(crate) fn first_event_of(&mut self, child: i32) -> Result<Event, ServerError> {
        let deadline = Instant::now() + FIRST_EVENT_WAIT;
        while Instant::now() < deadline {
            let Some(event) = self.session.wait_event(Some(Duration::from_millis(100)))? else { continue };
            if event.pid == child {
                return Ok(event);
            }
            self.session.continue_process(event.pid, ContinueStatus::Handled)?;
        }
        Err(ServerError::Usage(format!("forked child {child} never stopped")))
    }

    /// `m`, `M` or `X` while gdb's general thread is in a forked child (gdb
    /// reads and restores its displaced-stepping buffer there): served on
    /// the child while it is kept, refused once it is gone. `None` for any
    /// other packet.
    pub(crate) fn child_memory_packet(&mut self, pid: i32, body: &[u8]) -> Option<Vec<u8>> {
        let kind = *body.first()?;
        if !matches!(kind, b'm' | b'M' | b'X') {
            return None;
        }
        let gone = format!("E{:02x}", libc::ESRCH).into_bytes();
        if !self.kept_children.contains_key(&pid) {
            return Some(gone);
        }
        // A vfork child borrows its parent's memory: reached through the
        // parent, whose breakpoints stay planted (their bytes hidden).
        let shares_parent_memory = self.pending_vfork_done.iter().any(|p| p.child == pid);
        let pid = match self.inferior.as_ref() {
            Some(parent) if shares_parent_memory => parent.pid,
            _ => pid,
        };
        let Some((address, length, data)) = parse_memory_packet(body) else { return Some(b"E01".to_vec()) };
        if kind == b'm' {
            let mut buffer = vec![0u8; length.min(crate::server::PACKET_SIZE / 2)];
            return Some(match self.session.read_memory_partial(pid, address, &mut buffer) {
                Ok(read) if read > 0 => packet::to_hex(&buffer[..read]).into_bytes(),
                _ => format!("E{:02x}", libc::EIO).into_bytes(),
            });
        }
        let data = if kind == b'X' { packet::unescape(data) } else { packet::from_hex(data)? };
        if data.len() != length {
            return Some(b"E01".to_vec());
        }
        Some(match self.session.write_memory(pid, address, &data) {
            Ok(()) => b"OK".to_vec(),
            Err(_) => format!("E{:02x}", libc::EIO).into_bytes(),
        })
    }
}

/// `m ADDR,LEN` or `M/X ADDR,LEN:DATA`: the address, the length, the data bytes as sent.
fn parse_memory_packet(body: &[u8]) -> Option<(u64, usize, &[u8])> {
    let header_end = body.iter().position(|&b| b == b':').unwrap_or(body.len());
    let header = body.get(1..header_end)?;
    let comma = header.iter().position(|&b| b == b',')?;
    let address = packet::parse_hex_u64(&header[..comma])?;
    let length = usize::try_from(packet::parse_hex_u64(&header[comma + 1..])?).ok()?;
    Some((address, length, body.get(header_end + 1..).unwrap_or(&[])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_packets_parse_with_their_data() {
        assert_eq!(parse_memory_packet(b"m401000,10"), Some((0x401000, 16, &b""[..])));
        let (address, length, data) = parse_memory_packet(b"X5000,3:a}]c").unwrap();
        assert_eq!((address, length), (0x5000, 3));
        assert_eq!(packet::unescape(data), b"a}c");
        assert_eq!(parse_memory_packet(b"Mzz,1:00"), None);
    }
}
