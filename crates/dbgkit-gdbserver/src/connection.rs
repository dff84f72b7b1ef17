//! The transport: a TCP socket or the standard streams. Replies are
//! buffered and sent whole on flush; the last packet is kept for a client
//! that asks for it again (`-`). A client that goes away is an error of its
//! own kind, so the server can leave the target clean.

use std::cell::RefCell;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::rc::Rc;
use std::time::Duration;

/// Why talking to the client failed.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("the client closed the connection")]
    ClientGone,
    #[error("connection error: {0}")]
    Io(#[from] io::Error),
}

/// A new body for a packet gdbstub wrote, made from its own.
pub type Rewrite = fn(&[u8]) -> Vec<u8>;

/// What the wire carries, seen from the server.
pub struct Transport {
    input: OwnedFd,
    output: OwnedFd,
    /// Bytes of the reply being built.
    pending: Vec<u8>,
    /// The last packet sent (for a `-` from the client).
    last_packet: Vec<u8>,
    /// Discard output (replaying state into a fresh protocol engine).
    muted: bool,
    /// Appended to the body of the next packet sent (features gdbstub does
    /// not know about, added to its `qSupported` reply).
    rewrite_next: Option<Rewrite>,
    /// Replaces the body of the next packet sent (stop replies gdbstub
    /// cannot write, such as `exec`).
    replace_next: Option<Vec<u8>>,
    /// Print every packet on stderr (`--remote-debug`).
    trace: bool,
}

impl Transport {
    /// A transport over a connected socket.
    pub fn socket(stream: std::net::TcpStream) -> io::Result<Transport> {
        stream.set_nodelay(true)?;
        let output = OwnedFd::from(stream.try_clone()?);
        Ok(Transport::from_fds(OwnedFd::from(stream), output))
    }

    /// A transport over two descriptors (standard input and output, moved aside).
    pub fn from_fds(input: OwnedFd, output: OwnedFd) -> Transport {
        Transport {
            input,
            output,
            pending: Vec::new(),
            last_packet: Vec::new(),
            muted: false,
            rewrite_next: None,
            replace_next: None,
            trace: false,
        }
    }

    /// Prints every packet on stderr.
    pub fn set_trace(&mut self, on: bool) {
        self.trace = on;
    }

    /// Waits up to `timeout` (`None`: forever) for bytes from the client and
    /// returns what arrived (empty on timeout).
    pub fn receive(&mut self, timeout: Option<Duration>) -> Result<Vec<u8>, LinkError> {
        if !wait_readable(self.input.as_raw_fd(), timeout)? {
            return Ok(Vec::new());
        }
        let mut buf = [0u8; 16 * 1024];
        loop {
            // SAFETY: reading into a buffer we own.
            let n = unsafe { libc::read(self.input.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            if n > 0 {
                let got = buf[..n as usize].to_vec();
                if self.trace {
                    eprintln!("getpkt: {}", String::from_utf8_lossy(&got).escape_debug());
                }
                return Ok(got);
            }
            if n == 0 {
                return Err(LinkError::ClientGone);
            }
            let err = io::Error::last_os_error();
            match err.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::ECONNRESET) => return Err(LinkError::ClientGone),
                _ => return Err(err.into()),
            }
        }
    }

    /// The descriptor the client's bytes arrive on.
    pub fn input_fd(&self) -> RawFd {
        self.input.as_raw_fd()
    }

    /// Whether bytes from the client are waiting.
    pub fn has_input(&self) -> Result<bool, LinkError> {
        Ok(wait_readable(self.input.as_raw_fd(), Some(Duration::ZERO))?)
    }

    /// Queues bytes of a reply.
    pub fn write(&mut self, bytes: &[u8]) {
        self.pending.extend_from_slice(bytes);
    }

    /// Drops a reply that was being built (its handler failed half way).
    pub fn discard_pending(&mut self) {
        self.pending.clear();
    }

    /// Mutes or unmutes the output.
    pub fn set_muted(&mut self, muted: bool) {
        self.muted = muted;
        self.pending.clear();
    }

    /// Sends the next packet with its body rewritten by `rewrite`.
    pub fn rewrite_next_packet(&mut self, rewrite: Rewrite) {
        self.rewrite_next = Some(rewrite);
    }

    /// Sends `body` instead of the next packet's body.
    pub fn replace_next_packet(&mut self, body: Vec<u8>) {
        self.replace_next = Some(body);
    }

    /// Sends what was queued.
    pub fn flush(&mut self) -> Result<(), LinkError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let mut out = std::mem::take(&mut self.pending);
        if self.muted {
            return Ok(());
        }
        if let Some(start) = out.iter().position(|&b| b == b'$') {
            if let Some(body) = self.replace_next.take() {
                let mut replaced = out[..start].to_vec();
                replaced.extend(crate::framing::frame(&body));
                out = replaced;
            }
            if let Some(rewrite) = self.rewrite_next.take() {
                out = rewrite_packet(&out, start, rewrite).unwrap_or(out);
            }
            self.last_packet = out[start..].to_vec();
        }
        self.send(&out)
    }

    /// Sends a whole packet built outside gdbstub (with its `+` when acks are on).
    pub fn send_packet(&mut self, ack: bool, body: &[u8]) -> Result<(), LinkError> {
        let mut out = Vec::with_capacity(body.len() + 5);
        if ack {
            out.push(b'+');
        }
        let framed = crate::framing::frame(body);
        out.extend_from_slice(&framed);
        self.last_packet = framed;
        self.send(&out)
    }

    /// Sends raw bytes (an ack or a nack).
    pub fn send_raw(&mut self, bytes: &[u8]) -> Result<(), LinkError> {
        self.send(bytes)
    }

    /// Sends the last packet again.
    pub fn resend_last(&mut self) -> Result<(), LinkError> {
        let last = self.last_packet.clone();
        if last.is_empty() {
            return Ok(());
        }
        self.send(&last)
    }

    fn send(&mut self, mut bytes: &[u8]) -> Result<(), LinkError> {
        if self.trace {
            eprintln!("putpkt: {}", String::from_utf8_lossy(bytes).escape_debug());
        }
        while !bytes.is_empty() {
            // SAFETY: writing from a buffer we own.
            let n = unsafe { libc::write(self.output.as_raw_fd(), bytes.as_ptr().cast(), bytes.len()) };
            if n < 0 {
                let err = io::Error::last_os_error();
                match err.raw_os_error() {
                    Some(libc::EINTR) => continue,
                    Some(libc::EPIPE) | Some(libc::ECONNRESET) => return Err(LinkError::ClientGone),
                    _ => return Err(err.into()),
                }
            }
            bytes = &bytes[n as usize..];
        }
        Ok(())
    }
}

/// Rewrites the body of the packet starting at `start` and recomputes its
/// checksum.
fn rewrite_packet(out: &[u8], start: usize, rewrite: Rewrite) -> Option<Vec<u8>> {
    let hash = start + out[start..].iter().position(|&b| b == b'#')?;
    let body = rewrite(&out[start + 1..hash]);
    let mut amended = out[..start].to_vec();
    amended.extend(crate::framing::frame(&body));
    amended.extend_from_slice(out.get(hash + 3..).unwrap_or_default());
    Some(amended)
}

fn wait_readable(fd: RawFd, timeout: Option<Duration>) -> io::Result<bool> {
    let millis = timeout.map(|t| t.as_millis().min(i32::MAX as u128) as i32).unwrap_or(-1);
    let mut pfd = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
    loop {
        // SAFETY: one pollfd we own.
        let n = unsafe { libc::poll(&mut pfd, 1, millis) };
        if n >= 0 {
            // A hang-up counts as readable: the read that follows sees the end.
            return Ok(n > 0);
        }
        let err = io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EINTR) {
            return Err(err);
        }
        if timeout.is_some() {
            return Ok(false);
        }
    }
}

/// The handle gdbstub writes through (shared with the server loop, which
/// reads and handles the packets gdbstub does not know).
#[derive(Clone)]
pub struct Link(pub Rc<RefCell<Transport>>);

impl gdbstub::conn::Connection for Link {
    type Error = LinkError;

    fn write(&mut self, byte: u8) -> Result<(), LinkError> {
        self.0.borrow_mut().write(&[byte]);
        Ok(())
    }

    fn write_all(&mut self, buf: &[u8]) -> Result<(), LinkError> {
        self.0.borrow_mut().write(buf);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), LinkError> {
        self.0.borrow_mut().flush()
    }
}

/// Moves standard input and output aside for the protocol, and points the
/// process's own descriptors 0 and 1 at `/dev/null` and standard error, so
/// a launched program that inherits them cannot write into the protocol
/// stream (as gdbserver does in stdio mode).
pub fn take_stdio() -> io::Result<(OwnedFd, OwnedFd)> {
    // SAFETY: duplicating and replacing our own standard descriptors.
    unsafe {
        let input = libc::fcntl(0, libc::F_DUPFD_CLOEXEC, 3);
        let output = libc::fcntl(1, libc::F_DUPFD_CLOEXEC, 3);
        if input < 0 || output < 0 {
            return Err(io::Error::last_os_error());
        }
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY);
        if null < 0 || libc::dup2(null, 0) < 0 || libc::dup2(2, 1) < 0 {
            return Err(io::Error::last_os_error());
        }
        libc::close(null);
        Ok((OwnedFd::from_raw_fd(input), OwnedFd::from_raw_fd(output)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewriting_a_packet_keeps_the_ack_and_fixes_the_checksum() {
        let out = b"+$PacketSize=1000#bc".to_vec();
        let amended = rewrite_packet(&out, 1, |body| [body, b";QPassSignals+"].concat()).unwrap();
        assert_eq!(amended, [b"+".to_vec(), crate::framing::frame(b"PacketSize=1000;QPassSignals+")].concat());
    }
}
