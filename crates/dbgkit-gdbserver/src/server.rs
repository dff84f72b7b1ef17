//! One connection: bytes from the client go through the packet decoder;
//! the packets gdbstub 0.7 does not know are answered here
//! (`extensions`), the rest go to gdbstub's state machine. A packet
//! gdbstub cannot parse does not end the connection: the error is logged,
//! the client gets an `E` reply, and a fresh protocol engine takes over
//! with the negotiated state replayed into it.

use crate::connection::{Link, LinkError};
use crate::framing::{frame, Incoming, PacketDecoder};
use crate::processes::Release;
use crate::target::{ServerError, ServerTarget, SpecialStop};
use crate::{debug_log, extensions};
use gdbstub::stub::state_machine::GdbStubStateMachine;
use gdbstub::stub::{DisconnectReason, GdbStub, MultiThreadStopReason};
use std::collections::VecDeque;
use std::time::Duration;

mod non_stop_packets;

/// The packet size advertised to the client (`PacketSize`): big memory
/// transfers in few round trips.
pub const PACKET_SIZE: usize = 0x4000;
/// gdbstub's packet buffer to start with; it grows to the longest packet
/// received. gdbstub looks for a packet's end through the whole buffer,
/// so a short buffer keeps every packet cheap (a full-size one cost the
/// server about 40 µs a breakpoint hit).
const FIRST_PACKET_BUFFER: usize = 0x400;
/// How long a wait for the target lasts before the client is checked for a break-in.
const CLIENT_CHECK: Duration = Duration::from_millis(20);
/// The longest sleep between two looks at the target (a safety net: every
/// stop also wakes the server through `SIGCHLD`).
const LONGEST_SLEEP: Duration = Duration::from_millis(500);

type Machine = GdbStubStateMachine<'static, ServerTarget, Link>;
type StubError = gdbstub::stub::GdbStubError<ServerError, LinkError>;

/// How a connection ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectionEnd {
    /// The client closed the connection (or it broke).
    ClientGone,
    /// The client detached from the process (`D`) and, not in extended mode, left.
    Detached,
    /// The client killed the process (`k`), not in extended mode.
    Killed,
    /// The process ended, not in extended mode.
    TargetEnded,
}

/// What was negotiated on this connection, replayed into a new gdbstub.
#[derive(Clone, Debug, Default)]
pub struct Negotiated {
    pub no_ack: bool,
    pub multiprocess: bool,
    pub thread_selection: Vec<Vec<u8>>,
    /// The process of the general thread (`Hg`) when it is not the one
    /// debugged (a forked child gdb cleans up before detaching it).
    pub foreign_process: Option<i32>,
    /// The process of the general thread (`Hg`), current or not: another
    /// process that stops becomes current while gdb's choice stays.
    pub selected_process: Option<i32>,
}

impl Negotiated {
    /// The thread of the last `Hg` that named one.
    pub fn general_thread(&self) -> Option<i32> {
        let body = self.thread_selection.iter().find(|b| b.starts_with(b"Hg"))?;
        let text = std::str::from_utf8(&body[2..]).ok()?;
        let tid = text.rsplit('.').next()?;
        i32::from_str_radix(tid, 16).ok().filter(|&t| t > 0)
    }
}

/// Serves one client.
pub struct Connection<'t> {
    pub target: &'t mut ServerTarget,
    link: Link,
    decoder: PacketDecoder,
    pending: VecDeque<Incoming>,
    pub negotiated: Negotiated,
    /// Wakes the server when a thread stops; without it, waits poll.
    notifier: Option<crate::wakeup::StopNotifier>,
    /// Non-stop stop notifications to send once the current reply is out.
    notifications: Vec<String>,
}

impl<'t> Connection<'t> {
    pub fn new(target: &'t mut ServerTarget, link: Link) -> Connection<'t> {
        // Every connection starts in all-stop mode, whatever the last one used.
        target.non_stop.reset();
        target.non_stop.enabled = false;
        Connection {
            target,
            link,
            decoder: PacketDecoder::new(PACKET_SIZE - 4),
            pending: VecDeque::new(),
            negotiated: Negotiated::default(),
            notifier: crate::wakeup::StopNotifier::new().ok(),
            notifications: Vec::new(),
        }
    }

    fn new_machine(&mut self) -> Result<Machine, ServerError> {
        let stub = GdbStub::builder(self.link.clone())
            .packet_buffer_size(FIRST_PACKET_BUFFER)
            .build()
            .map_err(|e| ServerError::Usage(format!("cannot set up the protocol: {e}")))?;
        stub.run_state_machine(self.target).map_err(|e| ServerError::Usage(format!("cannot start the protocol: {e}")))
    }

    /// Serves until the client leaves or the session ends.
    pub fn serve(&mut self) -> Result<ConnectionEnd, ServerError> {
        let mut machine = self.new_machine()?;
        loop {
            machine = match machine {
                GdbStubStateMachine::Disconnected(gdb) => {
                    let reason = gdb.get_reason();
                    if let Some(end) = self.on_disconnect(reason)? {
                        return Ok(end);
                    }
                    gdb.return_to_idle()
                }
                GdbStubStateMachine::CtrlCInterrupt(gdb) => {
                    self.target.interrupt()?;
                    match gdb.interrupt_handled(self.target, None::<MultiThreadStopReason<u64>>) {
                        Ok(next) => next,
                        Err(e) => self.recover(e, b"\x03")?,
                    }
                }
                state => match self.step(state) {
                    Ok(next) => next,
                    Err(ServerError::Link(LinkError::ClientGone)) => return Ok(ConnectionEnd::ClientGone),
                    Err(e) => return Err(e),
                },
            };
        }
    }

    /// One move of an idle or running state machine: an item from the
    /// client, or (running) a stop of the target.
    fn step(&mut self, machine: Machine) -> Result<Machine, ServerError> {
        if let Some(item) = self.pending.pop_front() {
            return self.dispatch(machine, item);
        }
        match machine {
            GdbStubStateMachine::Running(gdb) => {
                if self.link.0.borrow().has_input()? {
                    self.receive(None)?;
                    return Ok(GdbStubStateMachine::Running(gdb));
                }
                let Some(reason) = self.wait_for_stop()? else {
                    return Ok(GdbStubStateMachine::Running(gdb));
                };
                let tid = stop_thread(&reason);
                let expedited = tid.map(|t| self.target.expedited(t)).unwrap_or_default();
                // The reply is the server's own (gdbstub writes no `core`,
                // no `exec`, and numbers a fork child wrongly); gdbstub
                // still sees the stop, to keep its state.
                let ended = matches!(reason, MultiThreadStopReason::Exited(_) | MultiThreadStopReason::Terminated(_));
                let current = self.target.inferior.as_ref().map(|i| i.pid);
                let pid = if ended { self.target.ended_pid.or(current) } else { current }.unwrap_or(0);
                // gdb takes the thread of an all-stop reply as the one
                // selected (`Hg`), and after an end, none.
                self.negotiated.selected_process = if ended { None } else { current };
                self.negotiated.foreign_process = None;
                let body = match self.target.pending_special.take() {
                    Some(special) => crate::stop_reply::special(&special, &self.negotiated, pid, &expedited),
                    None => crate::stop_reply::for_reason(&reason, &self.negotiated, pid, &expedited),
                };
                self.link.0.borrow_mut().replace_next_packet(body.into_bytes());
                let mut iter = expedited.registers.iter().map(|(id, bytes)| (*id, bytes.as_slice()));
                match gdb.report_stop_with_regs(self.target, reason, &mut iter) {
                    Ok(next) => Ok(next),
                    Err(e) => self.recover(e, b"stop reply"),
                }
            }
            idle if self.target.non_stop.enabled
                && (self.target.inferior.is_some() || self.target.parked_running().is_some()) =>
            {
                // Non-stop: threads may run while gdb is idle; their stops
                // go out as notifications.
                if self.link.0.borrow().has_input()? {
                    self.receive(None)?;
                } else if self.vfork_released()? {
                    self.flush_notifications()?;
                } else if !self.target.pending_vfork_done.is_empty() {
                    // Look at the vfork child again shortly, listening to the target meanwhile.
                    match self.target.session.wait_event(Some(Duration::from_millis(5))) {
                        Ok(Some(event)) => {
                            self.on_non_stop_event(event, false)?;
                            self.flush_notifications()?;
                        }
                        Ok(None) | Err(dbgkit::Error::NoProcesses) => {}
                        Err(e) => return Err(e.into()),
                    }
                } else if let Some(event) = self.next_engine_event()? {
                    self.on_non_stop_event(event, false)?;
                    self.flush_notifications()?;
                }
                Ok(idle)
            }
            other => {
                self.receive(None)?;
                Ok(other)
            }
        }
    }

    /// Reads what the client sent into the queue of items.
    fn receive(&mut self, timeout: Option<Duration>) -> Result<(), ServerError> {
        let bytes = self.link.0.borrow_mut().receive(timeout)?;
        for byte in bytes {
            if let Some(item) = self.decoder.push(byte) {
                self.pending.push_back(item);
            }
        }
        Ok(())
    }

    /// Waits a short while for the target to stop; every process that runs
    /// is stopped before the stop is reported.
    fn wait_for_stop(&mut self) -> Result<Option<MultiThreadStopReason<u64>>, ServerError> {
        let reason = self.wait_for_any_stop()?;
        if reason.is_some() {
            self.target.stop_running_processes()?;
        }
        Ok(reason)
    }

    fn wait_for_any_stop(&mut self) -> Result<Option<MultiThreadStopReason<u64>>, ServerError> {
        self.target.take_released_vfork_parent_in();
        if self.target.inferior.is_none() {
            // Nothing can stop: wait for the client instead.
            self.receive(Some(CLIENT_CHECK))?;
            return Ok(None);
        }
        if let Some(reason) = self.target.immediate_stop.take() {
            return Ok(Some(reason));
        }
        if let Some(&pending) = self.target.pending_vfork_done.first() {
            if self.target.stop_event.is_some() && pending.child_let_go() {
                self.target.pending_vfork_done.clear();
                self.target.pending_special = Some(SpecialStop::VForkDone { tid: pending.tid });
                return Ok(Some(MultiThreadStopReason::SignalWithThread {
                    tid: crate::target::to_tid(pending.tid),
                    signal: gdbstub::common::Signal::SIGTRAP,
                }));
            }
            if self.target.parked_running().is_none() {
                // Still shared: look again shortly, listening to the client meanwhile.
                self.receive(Some(Duration::from_millis(5)))?;
                return Ok(None);
            }
            // The child runs beside its parent: its exit or exec, which
            // lets go of the memory, comes as an event below.
        }
        if self.target.locked_leader_gone() && self.target.stop_event.is_none() {
            // Nothing reports a leader's exit while other threads live: stop
            // the process, and its break-in is told as the end of the lock.
            self.target.interrupt()?;
        }
        match self.next_engine_event()? {
            Some(event) => self.target.on_event(event),
            None => Ok(None),
        }
    }

    /// The next event of the target, or `None` after a short sleep that
    /// input from the client or a stop ends early.
    fn next_engine_event(&mut self) -> Result<Option<dbgkit::Event>, ServerError> {
        let Some(notifier) = &self.notifier else {
            return match self.target.session.wait_event(Some(CLIENT_CHECK)) {
                Ok(Some(event)) => Ok(Some(event)),
                Ok(None) | Err(dbgkit::Error::NoProcesses) => Ok(None),
                Err(e) => Err(e.into()),
            };
        };
        // Forget old notifications, look, then sleep: a stop after the look
        // leaves a notification that ends the sleep at once.
        notifier.drain();
        match self.target.session.wait_event(Some(Duration::ZERO)) {
            Ok(Some(event)) => return Ok(Some(event)),
            Ok(None) | Err(dbgkit::Error::NoProcesses) => {}
            Err(e) => return Err(e.into()),
        }
        let client = self.link.0.borrow().input_fd();
        notifier.sleep(client, LONGEST_SLEEP).map_err(|e| ServerError::Link(e.into()))?;
        Ok(None)
    }

    fn dispatch(&mut self, machine: Machine, item: Incoming) -> Result<Machine, ServerError> {
        let ack = !self.negotiated.no_ack;
        match item {
            Incoming::Ack => Ok(machine),
            Incoming::Nack => {
                self.link.0.borrow_mut().resend_last()?;
                Ok(machine)
            }
            Incoming::Interrupt if self.target.non_stop.enabled => {
                self.interrupt_non_stop()?;
                self.flush_notifications()?;
                Ok(machine)
            }
            Incoming::Interrupt => self.feed(machine, &[0x03]),
            Incoming::Noise(byte) => {
                debug_log!(self.target, "ignoring byte {byte:#04x} outside any packet");
                Ok(machine)
            }
            Incoming::CutShort { body } => {
                debug_log!(self.target, "dropping packet cut short: {}", String::from_utf8_lossy(&body));
                Ok(machine)
            }
            Incoming::BadChecksum { body, sent } => {
                debug_log!(
                    self.target,
                    "bad checksum {} for packet {}: asking again",
                    String::from_utf8_lossy(&sent),
                    String::from_utf8_lossy(&body)
                );
                if ack {
                    self.link.0.borrow_mut().send_raw(b"-")?;
                }
                Ok(machine)
            }
            Incoming::TooLong { len } => {
                debug_log!(self.target, "packet of {len} bytes is over the packet size {PACKET_SIZE}");
                self.link.0.borrow_mut().send_packet(ack, b"E01")?;
                Ok(machine)
            }
            Incoming::Packet { body } => {
                if let Some(reply) = self.non_stop_packet(&body)? {
                    self.link.0.borrow_mut().send_packet(ack, &reply)?;
                    self.flush_notifications()?;
                    return Ok(machine);
                }
                if self.target.non_stop.enabled {
                    let packet = body.clone();
                    let machine = self.with_threads_stopped(&packet, |c| c.serve_packet(machine, body))?;
                    self.flush_notifications()?;
                    return Ok(machine);
                }
                self.serve_packet(machine, body)
            }
        }
    }

    /// A packet answered by the extensions or by gdbstub.
    fn serve_packet(&mut self, machine: Machine, body: Vec<u8>) -> Result<Machine, ServerError> {
        let ack = !self.negotiated.no_ack;
        let body = self.legacy_continue_as_vcont(body);
        // gdbstub reads a breakpoint packet without the conditions and
        // commands gdb may append; the server keeps those itself.
        let (body, breakpoint_options) = match crate::breakpoint_options::split(&body) {
            Some((plain, address, options)) => (plain, Some((address, options))),
            None => (body, None),
        };
        if let Some(reply) = extensions::answer(self.target, &mut self.negotiated, &body) {
            self.link.0.borrow_mut().send_packet(ack, &reply)?;
            return Ok(machine);
        }
        if let Some((address, options)) = breakpoint_options {
            self.target.set_breakpoint_options(address, options);
        }
        if body.starts_with(b"qSupported") {
            self.negotiated.multiprocess = body.windows(13).any(|w| w == b"multiprocess+");
            self.target.exec_events = body.windows(12).any(|w| w == b"exec-events+");
            self.target.multiprocess = self.negotiated.multiprocess;
            self.target.fork_events =
                body.windows(13).any(|w| w == b";fork-events+") || body.windows(13).any(|w| w == b":fork-events+");
            self.target.vfork_events = body.windows(13).any(|w| w == b"vfork-events+");
            self.target.no_resumed = body.windows(11).any(|w| w == b"no-resumed+");
            self.target.follow_forks_if_asked();
            self.link.0.borrow_mut().rewrite_next_packet(extensions::qsupported_reply);
        }
        if body == b"k" {
            // lldb waits for the exit status after `k`; gdb reads no reply to it.
            self.link.0.borrow_mut().replace_next_packet(b"X09".to_vec());
        }
        let machine = self.feed(machine, &frame(&body))?;
        if self.target.exit_requested {
            // `monitor exit`: the reply went out; the server ends now, as gdbserver does.
            return Err(ServerError::Link(LinkError::ClientGone));
        }
        if body == b"QStartNoAckMode" {
            self.negotiated.no_ack = true;
        }
        if body.starts_with(b"vRun") || body.starts_with(b"vAttach") {
            // Its stop reply selects the new process, as any all-stop reply
            // does; the one gdb had selected is parked now.
            self.negotiated.selected_process = self.target.inferior.as_ref().map(|i| i.pid);
            self.negotiated.foreign_process = None;
        }
        if body.starts_with(b"Hg") || body.starts_with(b"Hc") {
            self.negotiated.thread_selection.retain(|b| b[..2] != body[..2]);
            self.negotiated.thread_selection.push(body);
        }
        Ok(machine)
    }

    /// `c` and `Cxx` continue every thread (lldb sends them); gdbstub 0.7
    /// would continue the selected thread alone. Rewritten as the `vCont`
    /// gdb would send.
    fn legacy_continue_as_vcont(&self, body: Vec<u8>) -> Vec<u8> {
        if body == b"c" {
            return b"vCont;c".to_vec();
        }
        let is_signal = body.len() == 3 && body[0] == b'C' && body[1..].iter().all(u8::is_ascii_hexdigit);
        match (is_signal, self.target.stop_event.as_ref(), self.target.inferior.as_ref()) {
            (true, Some(event), Some(inferior)) => {
                let thread = extensions::thread_id(&self.negotiated, inferior.pid, event.tid);
                format!("vCont;{}:{thread};c", String::from_utf8_lossy(&body)).into_bytes()
            }
            _ => body,
        }
    }

    /// Passes raw bytes to gdbstub's state machine.
    fn feed(&mut self, mut machine: Machine, bytes: &[u8]) -> Result<Machine, ServerError> {
        for &byte in bytes {
            let result = match machine {
                GdbStubStateMachine::Idle(gdb) => gdb.incoming_data(self.target, byte),
                GdbStubStateMachine::Running(gdb) => gdb.incoming_data(self.target, byte),
                other => {
                    // A disconnect or break-in in the middle of a packet: handle it first.
                    debug_log!(self.target, "dropping the rest of a packet after a state change");
                    return Ok(other);
                }
            };
            machine = match result {
                Ok(next) => next,
                Err(e) => return self.recover(e, bytes),
            };
        }
        Ok(machine)
    }

    /// After gdbstub failed on a packet: log it, answer `E01`, and go on
    /// with a new state machine that has this connection's settings.
    fn recover(&mut self, error: StubError, packet: &[u8]) -> Result<Machine, ServerError> {
        if error.is_connection_error() {
            return Err(ServerError::Link(LinkError::ClientGone));
        }
        let text = error.to_string();
        if error.is_target_error() {
            if let Some(ServerError::Link(LinkError::ClientGone)) = error.into_target_error() {
                return Err(ServerError::Link(LinkError::ClientGone));
            }
        }
        debug_log!(self.target, "packet {} failed: {text}", String::from_utf8_lossy(packet).escape_debug());
        self.link.0.borrow_mut().discard_pending();
        let mut machine = self.new_machine()?;
        self.link.0.borrow_mut().set_muted(true);
        let mut replay: Vec<Vec<u8>> = Vec::new();
        if self.negotiated.multiprocess {
            replay.push(b"qSupported:multiprocess+".to_vec());
        }
        if self.negotiated.no_ack {
            replay.push(b"QStartNoAckMode".to_vec());
        }
        replay.extend(self.negotiated.thread_selection.iter().cloned());
        for byte in replay.iter().flat_map(|body| frame(body)) {
            machine = match machine {
                GdbStubStateMachine::Idle(gdb) => match gdb.incoming_data(self.target, byte) {
                    Ok(next) => next,
                    // Settings that cannot be replayed are lost, not fatal.
                    Err(_) => self.new_machine()?,
                },
                other => other,
            };
        }
        self.link.0.borrow_mut().set_muted(false);
        self.link.0.borrow_mut().send_packet(!self.negotiated.no_ack, b"E01")?;
        Ok(machine)
    }

    /// Says how the process ended, as gdbserver does.
    fn announce_ending(&mut self) {
        match self.target.ending.take() {
            Some(crate::target::Ending::Exited(code)) => eprintln!("\nChild exited with status {code}"),
            Some(crate::target::Ending::Killed(signal)) => {
                eprintln!("\nChild terminated with signal = {signal:#x} ({})", dbgkit::signal_name(signal))
            }
            None => {}
        }
    }

    /// The session's end or its next turn after gdbstub disconnected.
    fn on_disconnect(&mut self, reason: DisconnectReason) -> Result<Option<ConnectionEnd>, ServerError> {
        let extended = self.target.extended;
        match reason {
            DisconnectReason::TargetExited(_) | DisconnectReason::TargetTerminated(_) => {
                self.announce_ending();
                // Processes gdb keeps beside it go on.
                let others = !self.target.parked.is_empty();
                Ok((!extended && !others).then_some(ConnectionEnd::TargetEnded))
            }
            DisconnectReason::Disconnect => {
                if let Some(pid) = self.target.inferior.as_ref().map(|i| i.pid) {
                    eprintln!("Detaching from process {pid}");
                    self.target.detach_inferior()?;
                }
                self.target.release_parked(Release::Detach)?;
                Ok((!extended).then_some(ConnectionEnd::Detached))
            }
            DisconnectReason::Kill => {
                self.target.kill_inferior()?;
                self.target.release_parked(Release::Kill)?;
                Ok((!extended).then_some(ConnectionEnd::Killed))
            }
        }
    }
}

fn stop_thread(reason: &MultiThreadStopReason<u64>) -> Option<i32> {
    use MultiThreadStopReason as R;
    let tid = match reason {
        R::SignalWithThread { tid, .. } | R::SwBreak(tid) | R::HwBreak(tid) | R::Watch { tid, .. } => *tid,
        _ => return None,
    };
    Some(crate::target::tid_of(tid))
}
