//! The stub's side of the socket, between gdbstub and the client. gdbstub
//! reads and writes one byte at a time, and under Wine every socket call
//! costs about a quarter of a millisecond: the link reads what has arrived
//! in one call and hands it out byte by byte, and writes each packet in
//! one call. It also says one thing gdbstub cannot: a Windows exit code
//! does not fit in the byte gdbstub's `W` stop reply carries, so the stub
//! gives the whole code and the link rewrites that reply.

use std::io::{self, Read, Write};

/// The most read from the socket at once.
const READ_CHUNK: usize = 4096;

/// A writer that frames gdbstub's output into whole packets.
pub struct PacketLink<S> {
    pub stream: S,
    /// The packet being written, from its `$`.
    packet: Vec<u8>,
    /// Checksum characters still to come after the `#`.
    checksum_left: Option<usize>,
    /// The exit code the next `W` reply must carry.
    exit_code: Option<u32>,
    /// Bytes read from the socket and not yet handed out, from `read_at`.
    received: Vec<u8>,
    read_at: usize,
}

impl<S: Read> PacketLink<S> {
    /// The next byte from the client, waiting for it.
    pub fn read_byte(&mut self) -> io::Result<u8> {
        if self.read_at == self.received.len() {
            self.received.resize(READ_CHUNK, 0);
            let count = self.stream.read(&mut self.received)?;
            self.received.truncate(count);
            self.read_at = 0;
            if count == 0 {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the client closed the connection"));
            }
        }
        self.read_at += 1;
        Ok(self.received[self.read_at - 1])
    }

    /// The next byte from the client if one was already read.
    pub fn buffered_byte(&self) -> Option<u8> {
        self.received.get(self.read_at).copied()
    }
}

impl<S: Write> PacketLink<S> {
    pub fn new(stream: S) -> PacketLink<S> {
        PacketLink {
            stream,
            packet: Vec::new(),
            checksum_left: None,
            exit_code: None,
            received: Vec::with_capacity(READ_CHUNK),
            read_at: 0,
        }
    }

    /// Makes the next `W` reply carry `code` whole.
    pub fn set_exit_code(&mut self, code: u32) {
        self.exit_code = Some(code);
    }

    /// One byte from gdbstub: bytes outside a packet (acknowledgements) go
    /// out at once, a packet when its checksum is complete.
    pub fn write_byte(&mut self, byte: u8) -> io::Result<()> {
        if self.packet.is_empty() && byte != b'$' {
            return self.stream.write_all(&[byte]);
        }
        self.packet.push(byte);
        self.checksum_left = match self.checksum_left {
            None if byte == b'#' => Some(2),
            None => None,
            Some(left) => Some(left - 1),
        };
        if self.checksum_left == Some(0) {
            self.checksum_left = None;
            let packet = std::mem::take(&mut self.packet);
            let packet = self.rewrite(packet);
            self.stream.write_all(&packet)?;
        }
        Ok(())
    }

    /// The packet with its exit code replaced, when it is a `W` reply and a
    /// code is waiting.
    fn rewrite(&mut self, packet: Vec<u8>) -> Vec<u8> {
        let Some(body) = packet.get(1..packet.len().saturating_sub(3)) else {
            return packet;
        };
        if body.first() != Some(&b'W') || self.exit_code.is_none() {
            return packet;
        }
        let code = self.exit_code.take().expect("checked");
        // Keep what follows the status (`;process:PID`).
        let rest_at = body.iter().skip(1).position(|b| !b.is_ascii_hexdigit()).map_or(body.len(), |p| p + 1);
        let mut new_body = format!("W{code:x}").into_bytes();
        new_body.extend_from_slice(&body[rest_at..]);
        frame(&new_body)
    }
}

/// `$body#checksum`.
pub fn frame(body: &[u8]) -> Vec<u8> {
    let checksum = body.iter().fold(0u8, |sum, b| sum.wrapping_add(*b));
    let mut packet = Vec::with_capacity(body.len() + 4);
    packet.push(b'$');
    packet.extend_from_slice(body);
    packet.extend_from_slice(format!("#{checksum:02x}").as_bytes());
    packet
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(link: &mut PacketLink<Vec<u8>>, bytes: &[u8]) -> Vec<u8> {
        for &b in bytes {
            link.write_byte(b).unwrap();
        }
        std::mem::take(&mut link.stream)
    }

    #[test]
    fn packets_and_acks_pass_unchanged() {
        let mut link = PacketLink::new(Vec::new());
        assert_eq!(written(&mut link, b"+"), b"+");
        assert_eq!(written(&mut link, b"$OK#9a"), b"$OK#9a");
        // A packet is held until its checksum is complete.
        assert_eq!(written(&mut link, b"$T05thread:1c;#8"), b"");
        assert_eq!(written(&mut link, b"4"), b"$T05thread:1c;#84");
    }

    #[test]
    fn bytes_read_together_are_handed_out_one_by_one() {
        let mut link = PacketLink::new(io::Cursor::new(b"$g#67+".to_vec()));
        assert_eq!(link.buffered_byte(), None);
        assert_eq!(link.read_byte().unwrap(), b'$');
        assert_eq!(link.buffered_byte(), Some(b'g'));
        let rest: Vec<u8> = (0..5).map(|_| link.read_byte().unwrap()).collect();
        assert_eq!(rest, b"g#67+");
        assert_eq!(link.buffered_byte(), None);
        assert_eq!(link.read_byte().unwrap_err().kind(), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn an_exit_reply_gets_the_whole_code() {
        let mut link = PacketLink::new(Vec::new());
        link.set_exit_code(0xffff_ffff);
        // Other packets are left alone until the W reply comes.
        assert_eq!(written(&mut link, b"$OK#9a"), b"$OK#9a");
        assert_eq!(written(&mut link, &frame(b"Wff")), frame(b"Wffffffff"));
        // Only once.
        assert_eq!(written(&mut link, &frame(b"Wff")), frame(b"Wff"));
        link.set_exit_code(1000);
        assert_eq!(written(&mut link, &frame(b"We8;process:1")), frame(b"W3e8;process:1"));
    }
}
