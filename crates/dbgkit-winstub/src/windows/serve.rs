//! Serving one client: listen, start the program, hand the connection to
//! gdbstub, and between packets wait for debug events while watching the
//! socket for a break-in (`\x03`).

use super::target::WinTarget;
use crate::args::{DebuggeeSpec, StubArgs};
use crate::console_output::console_output_packet;
use crate::error::StubError;
use crate::exception_signal::{exit_signal, stop_signal};
use crate::packet_link::PacketLink;
use dbgkit::os::windows::debug_slots::SlotKind;
use dbgkit::os::windows::{Debuggee, Stop};
use gdbstub::common::{Signal, Tid};
use gdbstub::conn::{Connection, ConnectionExt};
use gdbstub::stub::run_blocking::{BlockingEventLoop, Event, WaitForStopReasonError};
use gdbstub::stub::{DisconnectReason, GdbStub, MultiThreadStopReason};
use gdbstub::target::ext::breakpoints::WatchKind;
use std::io::Write;
use std::net::{TcpListener, TcpStream};

/// How long one wait for a debug event lasts before the socket is looked at.
const EVENT_POLL_MS: u32 = 10;

/// Starts the program, serves one client, and leaves the program as the
/// client asked (killed, detached, or ended).
pub fn serve(args: &StubArgs) -> Result<(), StubError> {
    let listener =
        TcpListener::bind(&args.listen).map_err(|source| StubError::Listen { address: args.listen.clone(), source })?;
    let (mut debuggee, first_stop) = match &args.debuggee {
        DebuggeeSpec::Launch(command) => {
            let started = Debuggee::start(command, &Default::default(), args.reporting)?;
            eprintln!("Process {} created; pid = {}", command[0], started.0.pid());
            started
        }
        DebuggeeSpec::Attach(pid) => {
            let attached = Debuggee::attach(*pid, args.reporting)?;
            eprintln!("Attached; pid = {pid}");
            attached
        }
    };
    debuggee.set_log(|text| eprintln!("dbgkit-winstub: {text}"));
    if let Stop::Exited(code) = first_stop {
        eprintln!("dbgkit-winstub: the program ended before its first instruction (exit code {code:#x})");
    }
    eprintln!("Listening on port {}", listener.local_addr()?.port());
    let (stream, peer) = listener.accept()?;
    eprintln!("Remote debugging from host {}, port {}", peer.ip(), peer.port());
    stream.set_nodelay(true)?;
    drop(listener);

    let mut target = WinTarget::new(debuggee);
    let stub = GdbStub::new(PacketLink::new(stream));
    let outcome = stub.run_blocking::<WinEventLoop>(&mut target);
    let debuggee = &mut target.debuggee;
    let left = match outcome {
        Ok(DisconnectReason::TargetExited(_)) | Ok(DisconnectReason::TargetTerminated(_)) => debuggee.finish(),
        Ok(DisconnectReason::Disconnect) => {
            eprintln!("Detaching from process {}", debuggee.pid());
            debuggee.detach(false)
        }
        Ok(DisconnectReason::Kill) => {
            eprintln!("Killing process {}", debuggee.pid());
            debuggee.kill()
        }
        Err(e) => {
            // The client is gone (or spoke nonsense): a program the stub
            // started does not outlive it, one it attached to does, as
            // with gdbserver.
            eprintln!("dbgkit-winstub: connection ended: {e}");
            match debuggee.attached() {
                true => debuggee.detach(false),
                false => debuggee.kill(),
            }
        }
    };
    Ok(left?)
}

/// The stop reply for a stop.
fn stop_reason(stop: Stop) -> MultiThreadStopReason<u64> {
    let tid = |t: u32| Tid::new(t as usize).expect("Windows thread ids are not zero");
    match stop {
        Stop::InitialBreakpoint { tid: t } => {
            MultiThreadStopReason::SignalWithThread { tid: tid(t), signal: Signal::SIGTRAP }
        }
        Stop::BreakIn { tid: t } => MultiThreadStopReason::SignalWithThread { tid: tid(t), signal: Signal::SIGINT },
        // An exception gdb has no signal for stops only at its second
        // chance, or at its first with --first-chance: a SIGTRAP either
        // way (`monitor exception` says what it is).
        Stop::Exception { tid: t, code, first_chance } => MultiThreadStopReason::SignalWithThread {
            tid: tid(t),
            signal: stop_signal(code, first_chance).unwrap_or(Signal::SIGTRAP),
        },
        Stop::Breakpoint { tid: t } => MultiThreadStopReason::SwBreak(tid(t)),
        Stop::Library { tid: t } => MultiThreadStopReason::Library(tid(t)),
        // Never asked for (the stub's reporting has no thread events): gdb
        // learns of threads from the thread list at each stop.
        Stop::ThreadCreated { tid: t } | Stop::ThreadExited { tid: t, .. } => {
            MultiThreadStopReason::SignalWithThread { tid: tid(t), signal: Signal::SIGTRAP }
        }
        Stop::HardwareBreakpoint { tid: t } => MultiThreadStopReason::HwBreak(tid(t)),
        Stop::Watchpoint { tid: t, slot } => MultiThreadStopReason::Watch {
            tid: tid(t),
            kind: match slot.kind {
                SlotKind::Write => WatchKind::Write,
                _ => WatchKind::ReadWrite,
            },
            addr: slot.address,
        },
        Stop::Stepped { tid: t } => MultiThreadStopReason::SignalWithThread { tid: tid(t), signal: Signal::SIGTRAP },
        Stop::Exited(code) => {
            eprintln!("Child exited with status {code}");
            match exit_signal(code) {
                Some(signal) => MultiThreadStopReason::Terminated(signal),
                // The link puts the whole code in the reply.
                None => MultiThreadStopReason::Exited(code as u8),
            }
        }
    }
}

/// Sends `text`, and a line end, as an `O` packet: gdb prints it on its console.
fn send_console_output(conn: &mut Link, text: &str) -> std::io::Result<()> {
    Write::write_all(&mut conn.stream, &console_output_packet(text))
}

/// The connection to the client.
type Link = PacketLink<TcpStream>;

impl Connection for Link {
    type Error = std::io::Error;

    fn write(&mut self, byte: u8) -> std::io::Result<()> {
        self.write_byte(byte)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Write::flush(&mut self.stream)
    }

    fn on_session_start(&mut self) -> std::io::Result<()> {
        self.stream.set_nodelay(true)
    }
}

impl ConnectionExt for Link {
    fn read(&mut self) -> std::io::Result<u8> {
        if self.buffered_byte().is_none() {
            // `peek` leaves the socket non-blocking.
            self.stream.set_nonblocking(false)?;
        }
        self.read_byte()
    }

    fn peek(&mut self) -> std::io::Result<Option<u8>> {
        match self.buffered_byte() {
            Some(byte) => Ok(Some(byte)),
            None => ConnectionExt::peek(&mut self.stream),
        }
    }
}

enum WinEventLoop {}

impl BlockingEventLoop for WinEventLoop {
    type Target = WinTarget;
    type Connection = Link;
    type StopReason = MultiThreadStopReason<u64>;

    fn wait_for_stop_reason(
        target: &mut WinTarget,
        conn: &mut Link,
    ) -> Result<Event<Self::StopReason>, WaitForStopReasonError<StubError, std::io::Error>> {
        loop {
            if conn.peek().map_err(WaitForStopReasonError::Connection)?.is_some() {
                let byte = conn.read().map_err(WaitForStopReasonError::Connection)?;
                return Ok(Event::IncomingData(byte));
            }
            let stop = target.debuggee.wait(EVENT_POLL_MS).map_err(|e| WaitForStopReasonError::Target(e.into()))?;
            // Before the stop reply, while the client waits for it, as
            // gdbserver for Windows sends them.
            for text in target.debuggee.take_debug_strings() {
                send_console_output(conn, &text).map_err(WaitForStopReasonError::Connection)?;
            }
            if let Some(stop) = stop {
                if let Stop::Exited(code) = stop {
                    conn.set_exit_code(code);
                }
                return Ok(Event::TargetStopped(stop_reason(stop)));
            }
        }
    }

    fn on_interrupt(target: &mut WinTarget) -> Result<Option<Self::StopReason>, StubError> {
        // The stop comes as the break-in thread's breakpoint event.
        target.debuggee.interrupt()?;
        Ok(None)
    }
}
