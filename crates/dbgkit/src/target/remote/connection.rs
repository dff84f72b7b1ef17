//! One conversation with a stub: packets out and in, acknowledgements and
//! retransmission (until no-ack mode is agreed), console output, the
//! interrupt byte, and a connection that drops becoming one clear error
//! that every later call repeats.

use super::error::RemoteError;
use super::packet::{encode, from_hex, Decoder, Frame};
use super::transport::{Address, Received, Transport};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How long a request may wait for its answer. Stubs answer requests at
/// once; only resumes wait for the target, and they use [`Wait`].
const REPLY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a packet waits for its `+` before it is sent again, and how often.
const ACK_TIMEOUT: Duration = Duration::from_secs(2);
const MAX_SENDS: usize = 5;
/// How long a new connection listens for what a stub says unasked.
const ARRIVAL_QUIET: Duration = Duration::from_millis(150);

/// How long to wait for a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// Only what is already there.
    Poll,
    /// Until a packet comes.
    Block,
    /// Until a packet comes or a signal to the debugger (Ctrl-C) arrives.
    Interruptible,
    /// At most this long.
    For(Duration),
}

/// Counters of the conversation, for benchmarks and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Traffic {
    pub packets_sent: u64,
    pub packets_received: u64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    /// Packets sent again after a `-` or a missing `+`.
    pub retransmissions: u64,
    /// Damaged packets received (answered with `-` in ack mode).
    pub bad_checksums: u64,
}

/// A connection to a stub.
pub struct Connection {
    transport: Transport,
    decoder: Decoder,
    frames: VecDeque<Frame>,
    address: String,
    ack_mode: bool,
    /// Console output (`O` packets) not taken yet.
    console: Vec<u8>,
    /// Why the connection is gone, once it is.
    lost: Option<String>,
    traffic: Traffic,
    /// `DBGKIT_RSP_LOG` set: every packet is written to standard error (as gdb's `set debug remote 1`).
    log: bool,
}

fn show(data: &[u8]) -> String {
    let text = String::from_utf8_lossy(&data[..data.len().min(300)]).into_owned();
    if data.len() > 300 {
        format!("{text}... ({} bytes)", data.len())
    } else {
        text
    }
}

impl Connection {
    /// Opens a connection; a stub still starting gets `timeout` to accept it.
    pub fn open(address: &Address, timeout: Duration) -> Result<Connection, RemoteError> {
        let transport = Transport::open(address, timeout)?;
        let mut c = Connection {
            transport,
            decoder: Decoder::new(),
            frames: VecDeque::new(),
            address: address.to_string(),
            ack_mode: true,
            console: Vec::new(),
            lost: None,
            traffic: Traffic::default(),
            log: std::env::var_os("DBGKIT_RSP_LOG").is_some(),
        };
        // gdb begins with a `+`: a stub that sent something before we came takes it as read.
        c.write(b"+")?;
        // QEMU stops a running machine when a debugger arrives and says so at
        // once (a stop reply nobody asked for): it must not pass for the answer
        // to the first request. `?` asks for the stop state afterwards anyway.
        while c.receive(Wait::For(ARRIVAL_QUIET))?.is_some() {}
        Ok(c)
    }

    /// The address as the user gave it.
    pub fn address(&self) -> &str {
        &self.address
    }

    pub fn traffic(&self) -> Traffic {
        self.traffic
    }

    /// Whether the connection is gone.
    pub fn is_lost(&self) -> bool {
        self.lost.is_some()
    }

    /// Stops acknowledging packets (after the stub agreed to `QStartNoAckMode`).
    pub fn set_no_ack(&mut self) {
        self.ack_mode = false;
    }

    /// The console output received so far (`O` packets), taken.
    pub fn take_console(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.console)
    }

    /// Puts console output taken earlier back, before whatever came since.
    pub fn restore_console(&mut self, mut earlier: Vec<u8>) {
        earlier.append(&mut self.console);
        self.console = earlier;
    }

    /// The error every call gives once the connection is gone.
    pub fn lost_error(&self) -> RemoteError {
        RemoteError::ConnectionLost {
            address: self.address.clone(),
            reason: self.lost.clone().unwrap_or_else(|| "closed".into()),
        }
    }

    fn lose(&mut self, reason: String) -> RemoteError {
        if self.lost.is_none() {
            self.lost = Some(reason);
        }
        self.lost_error()
    }

    fn check(&self) -> Result<(), RemoteError> {
        match self.lost {
            Some(_) => Err(self.lost_error()),
            None => Ok(()),
        }
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), RemoteError> {
        self.check()?;
        if let Err(e) = self.transport.write_all(bytes) {
            return Err(self.lose(e.to_string()));
        }
        self.traffic.bytes_sent += bytes.len() as u64;
        Ok(())
    }

    /// Reads from the stream into the frame queue. Returns false when the
    /// wait ended with nothing (timeout, interrupted by a signal).
    fn fill(&mut self, wait: Wait) -> Result<bool, RemoteError> {
        self.check()?;
        let (timeout, interruptible) = match wait {
            Wait::Poll => (Some(Duration::ZERO), false),
            Wait::Block => (None, false),
            Wait::Interruptible => (None, true),
            Wait::For(t) => (Some(t), false),
        };
        let mut buf = [0u8; 64 * 1024];
        match self.transport.read(&mut buf, timeout, interruptible) {
            Ok(Received::Bytes(n)) => {
                self.traffic.bytes_received += n as u64;
                let mut out = Vec::new();
                self.decoder.feed(&buf[..n], &mut out);
                self.frames.extend(out);
                Ok(true)
            }
            Ok(Received::Nothing) | Ok(Received::Interrupted) => Ok(false),
            Ok(Received::Closed) => Err(self.lose("the stub closed the connection".into())),
            Err(e) => Err(self.lose(e.to_string())),
        }
    }

    /// Sends one packet; in ack mode, until the stub acknowledges it.
    pub fn send(&mut self, data: &[u8]) -> Result<(), RemoteError> {
        let frame = encode(data);
        self.traffic.packets_sent += 1;
        if self.log {
            eprintln!("[rsp] -> {}", show(data));
        }
        self.write(&frame)?;
        if !self.ack_mode {
            return Ok(());
        }
        let mut sends = 1;
        let mut deadline = Instant::now() + ACK_TIMEOUT;
        loop {
            // A packet may come before the `+` when an ack was lost: it stays queued.
            let position = self.frames.iter().position(|f| matches!(f, Frame::Ack | Frame::Nack));
            match position.and_then(|i| self.frames.remove(i)) {
                Some(Frame::Ack) => return Ok(()),
                Some(_) => deadline = Instant::now(),
                None => {}
            }
            let now = Instant::now();
            if now >= deadline {
                if sends >= MAX_SENDS {
                    return Err(self.lose(format!("no acknowledgement after {sends} sends of a packet")));
                }
                sends += 1;
                self.traffic.retransmissions += 1;
                self.write(&frame)?;
                deadline = Instant::now() + ACK_TIMEOUT;
                continue;
            }
            self.fill(Wait::For(deadline - now))?;
        }
    }

    /// The next packet from the stub (console output is kept aside);
    /// `None` when the wait ended first.
    pub fn receive(&mut self, wait: Wait) -> Result<Option<Vec<u8>>, RemoteError> {
        let deadline = match wait {
            Wait::For(t) => Some(Instant::now() + t),
            _ => None,
        };
        loop {
            while let Some(frame) = self.frames.pop_front() {
                match frame {
                    Frame::Packet(body) => {
                        self.traffic.packets_received += 1;
                        if self.log {
                            eprintln!("[rsp] <- {}", show(&body));
                        }
                        if self.ack_mode {
                            self.write(b"+")?;
                        }
                        if is_console_output(&body) {
                            self.console.extend(from_hex(&body[1..]).unwrap_or_default());
                            continue;
                        }
                        return Ok(Some(body));
                    }
                    Frame::BadChecksum { expected, computed } => {
                        self.traffic.bad_checksums += 1;
                        if !self.ack_mode {
                            return Err(self.lose(format!(
                                "a damaged packet (checksum {expected:02x}, computed {computed:02x}) in no-ack mode"
                            )));
                        }
                        // The stub sends it again.
                        self.write(b"-")?;
                    }
                    Frame::TooLong => {
                        return Err(self.lose(format!("a packet longer than {} bytes", super::packet::MAX_PACKET)))
                    }
                    // Late acknowledgements, and notifications we never asked for (non-stop mode is not used).
                    Frame::Ack | Frame::Nack | Frame::Notification(_) => {}
                }
            }
            let wait = match (wait, deadline) {
                (Wait::For(_), Some(d)) => {
                    let now = Instant::now();
                    if now >= d {
                        return Ok(None);
                    }
                    Wait::For(d - now)
                }
                (w, _) => w,
            };
            if !self.fill(wait)? && wait != Wait::Block {
                return Ok(None);
            }
        }
    }

    /// Sends a request and returns its answer (an `Enn` answer is returned
    /// as is: callers decide what an error means for their request).
    pub fn request(&mut self, data: &[u8]) -> Result<Vec<u8>, RemoteError> {
        self.send(data)?;
        match self.receive(Wait::For(REPLY_TIMEOUT))? {
            Some(reply) => Ok(reply),
            None => Err(self.lose(format!(
                "no answer to {} within {} s",
                String::from_utf8_lossy(&data[..data.len().min(40)]),
                REPLY_TIMEOUT.as_secs()
            ))),
        }
    }

    /// Sends the interrupt byte (`\x03`): the stub stops the target and sends a stop reply.
    pub fn send_interrupt(&mut self) -> Result<(), RemoteError> {
        if self.log {
            eprintln!("[rsp] -> \\x03");
        }
        self.write(&[0x03])
    }

    /// Closes the connection (after `D` or `k`, or when the target ended):
    /// the stub sees it close; later calls say it is gone.
    pub fn close(&mut self, why: &str) {
        self.lost.get_or_insert_with(|| why.to_string());
        self.transport.shutdown();
    }
}

/// `O` followed by hex is console output; `OK` is an answer.
fn is_console_output(body: &[u8]) -> bool {
    body.len() > 1 && body[0] == b'O' && body != b"OK" && body[1..].iter().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    /// A scripted stub on a local socket: for each request it reads one
    /// frame and writes the given raw bytes.
    fn stub(script: Vec<&'static [u8]>) -> (Address, std::thread::JoinHandle<Vec<Vec<u8>>>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let handle = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut seen = Vec::new();
            let mut decoder = Decoder::new();
            for answer in script {
                // Read until one whole packet came.
                loop {
                    let mut buf = [0u8; 4096];
                    let n = s.read(&mut buf).unwrap();
                    if n == 0 {
                        return seen;
                    }
                    let mut out = Vec::new();
                    decoder.feed(&buf[..n], &mut out);
                    let packets: Vec<Vec<u8>> = out
                        .into_iter()
                        .filter_map(|f| match f {
                            Frame::Packet(p) => Some(p),
                            _ => None,
                        })
                        .collect();
                    if !packets.is_empty() {
                        seen.extend(packets);
                        break;
                    }
                }
                s.write_all(answer).unwrap();
            }
            // Stay until the client hangs up: it may still acknowledge.
            let mut buf = [0u8; 256];
            while matches!(s.read(&mut buf), Ok(n) if n > 0) {}
            seen
        });
        (Address::Tcp { host: "127.0.0.1".into(), port }, handle)
    }

    #[test]
    fn a_damaged_reply_is_asked_again_and_a_nack_resends() {
        let (address, handle) = stub(vec![
            // A `-` for our first packet (we send it again), then a reply with a bad checksum, then the good one.
            b"-",
            b"+$OK#00$OK#9a",
        ]);
        let mut c = Connection::open(&address, Duration::from_secs(5)).unwrap();
        let reply = c.request(b"QStartNoAckMode").unwrap();
        assert_eq!(reply, b"OK");
        let t = c.traffic();
        assert_eq!((t.retransmissions, t.bad_checksums), (1, 1), "{t:?}");
        drop(c);
        let seen = handle.join().unwrap();
        assert_eq!(seen, vec![b"QStartNoAckMode".to_vec(), b"QStartNoAckMode".to_vec()]);
    }

    #[test]
    fn console_output_is_kept_aside() {
        let (address, _handle) = stub(vec![b"+$O6869#2c$OK#9a"]);
        let mut c = Connection::open(&address, Duration::from_secs(5)).unwrap();
        assert_eq!(c.request(b"qRcmd,68656c70").unwrap(), b"OK");
        assert_eq!(c.take_console(), b"hi");
    }

    #[test]
    fn a_closed_connection_is_one_clear_error_repeated() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = Address::Tcp { host: "127.0.0.1".into(), port: listener.local_addr().unwrap().port() };
        // The stub hangs up after the client's arrival (past its quiet time), before any answer.
        let handle = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            std::thread::sleep(ARRIVAL_QUIET * 3);
            drop(stream);
        });
        let mut c = Connection::open(&address, Duration::from_secs(5)).unwrap();
        let e = c.request(b"g").unwrap_err();
        assert!(matches!(e, RemoteError::ConnectionLost { .. }), "{e}");
        assert!(e.to_string().contains(&address.to_string()), "{e}");
        assert!(c.is_lost());
        handle.join().unwrap();
        let again = c.request(b"g").unwrap_err();
        assert_eq!(again.to_string(), e.to_string());
    }

    #[test]
    fn output_packets_are_told_from_ok() {
        assert!(is_console_output(b"O4142"));
        assert!(!is_console_output(b"OK"));
        assert!(!is_console_output(b"O"));
    }
}
