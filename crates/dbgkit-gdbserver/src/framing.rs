//! The incoming side of the wire: bytes from the client become
//! acknowledgements, break-ins and whole packets with their checksum
//! checked, before anything else looks at them. Whatever arrives (noise, a
//! bad checksum, a packet cut short, one too long) is classified, never a
//! panic and never the end of the connection.

/// One thing the client sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Incoming {
    /// `+`: the last reply arrived.
    Ack,
    /// `-`: the last reply arrived damaged; send it again.
    Nack,
    /// `\x03`: stop the running target.
    Interrupt,
    /// `$BODY#CS` with a correct checksum. `body` is as sent (still escaped).
    Packet { body: Vec<u8> },
    /// A packet whose checksum is wrong or not hexadecimal.
    BadChecksum { body: Vec<u8>, sent: [u8; 2] },
    /// A packet longer than the advertised size (its bytes up to `#CS` are dropped).
    TooLong { len: usize },
    /// A new `$` arrived before the `#` of the packet in progress.
    CutShort { body: Vec<u8> },
    /// A byte outside any packet that means nothing.
    Noise(u8),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Between,
    Body,
    Checksum1,
    Checksum2(u8),
}

/// Splits the client's byte stream into [`Incoming`] items.
#[derive(Debug)]
pub struct PacketDecoder {
    state: State,
    body: Vec<u8>,
    limit: usize,
    overflowed: usize,
}

impl PacketDecoder {
    /// A decoder accepting bodies of at most `limit` bytes.
    pub fn new(limit: usize) -> PacketDecoder {
        PacketDecoder { state: State::Between, body: Vec::new(), limit, overflowed: 0 }
    }

    /// Whether a packet is partly received.
    pub fn in_packet(&self) -> bool {
        self.state != State::Between
    }

    /// Takes one byte; returns an item when one is complete.
    pub fn push(&mut self, byte: u8) -> Option<Incoming> {
        match self.state {
            State::Between => match byte {
                b'+' => Some(Incoming::Ack),
                b'-' => Some(Incoming::Nack),
                0x03 => Some(Incoming::Interrupt),
                b'$' => {
                    self.start();
                    None
                }
                other => Some(Incoming::Noise(other)),
            },
            State::Body => match byte {
                b'#' => {
                    self.state = State::Checksum1;
                    None
                }
                b'$' => {
                    let body = std::mem::take(&mut self.body);
                    self.start();
                    Some(Incoming::CutShort { body })
                }
                other => {
                    if self.body.len() < self.limit {
                        self.body.push(other);
                    } else {
                        self.overflowed += 1;
                    }
                    None
                }
            },
            State::Checksum1 => {
                self.state = State::Checksum2(byte);
                None
            }
            State::Checksum2(first) => {
                self.state = State::Between;
                let body = std::mem::take(&mut self.body);
                if self.overflowed > 0 {
                    let len = body.len() + std::mem::take(&mut self.overflowed);
                    return Some(Incoming::TooLong { len });
                }
                let sent = [first, byte];
                let expected = checksum(&body);
                match parse_hex_byte(sent) {
                    Some(value) if value == expected => Some(Incoming::Packet { body }),
                    _ => Some(Incoming::BadChecksum { body, sent }),
                }
            }
        }
    }

    fn start(&mut self) {
        self.state = State::Body;
        self.body.clear();
        self.overflowed = 0;
    }
}

/// The protocol's checksum: the sum of the bytes modulo 256.
pub fn checksum(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |sum, &b| sum.wrapping_add(b))
}

fn parse_hex_byte(digits: [u8; 2]) -> Option<u8> {
    let text = std::str::from_utf8(&digits).ok()?;
    u8::from_str_radix(text, 16).ok()
}

/// Frames a reply body: `$BODY#CS` (the body must already be escaped).
pub fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 4);
    out.push(b'$');
    out.extend_from_slice(body);
    out.extend_from_slice(format!("#{:02x}", checksum(body)).as_bytes());
    out
}

/// Frames an asynchronous notification (`%Stop:T05...#cs`); the client
/// sends no acknowledgement for it.
pub fn notification(name: &[u8], body: &[u8]) -> Vec<u8> {
    let mut payload = name.to_vec();
    payload.push(b':');
    payload.extend_from_slice(body);
    let mut out = frame(&payload);
    out[0] = b'%';
    out
}

/// Escapes bytes for a binary reply body (`}` then the byte xor 0x20 for
/// `#`, `$`, `}` and `*`).
pub fn escape_binary(data: &[u8], out: &mut Vec<u8>) {
    for &b in data {
        if matches!(b, b'#' | b'$' | b'}' | b'*') {
            out.push(b'}');
            out.push(b ^ 0x20);
        } else {
            out.push(b);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(decoder: &mut PacketDecoder, bytes: &[u8]) -> Vec<Incoming> {
        bytes.iter().filter_map(|&b| decoder.push(b)).collect()
    }

    #[test]
    fn splits_acks_interrupts_and_packets() {
        let mut d = PacketDecoder::new(64);
        let mut input = b"+".to_vec();
        input.extend(frame(b"qSupported:multiprocess+"));
        input.push(0x03);
        input.push(b'-');
        assert_eq!(
            decode_all(&mut d, &input),
            vec![
                Incoming::Ack,
                Incoming::Packet { body: b"qSupported:multiprocess+".to_vec() },
                Incoming::Interrupt,
                Incoming::Nack,
            ]
        );
    }

    #[test]
    fn a_wrong_checksum_is_reported_with_its_body() {
        let mut d = PacketDecoder::new(64);
        assert_eq!(decode_all(&mut d, b"$g#00"), vec![Incoming::BadChecksum { body: b"g".to_vec(), sent: *b"00" }]);
        assert_eq!(decode_all(&mut d, b"$g#zz"), vec![Incoming::BadChecksum { body: b"g".to_vec(), sent: *b"zz" }]);
        // The decoder is ready for the next packet.
        assert_eq!(decode_all(&mut d, b"$g#67"), vec![Incoming::Packet { body: b"g".to_vec() }]);
    }

    #[test]
    fn a_packet_cut_short_by_another_is_dropped() {
        let mut d = PacketDecoder::new(64);
        assert_eq!(
            decode_all(&mut d, b"$m1000,$g#67"),
            vec![Incoming::CutShort { body: b"m1000,".to_vec() }, Incoming::Packet { body: b"g".to_vec() }]
        );
    }

    #[test]
    fn a_packet_over_the_limit_is_refused_whole() {
        let mut d = PacketDecoder::new(4);
        let body = b"X1000,8:abcdefgh";
        assert_eq!(decode_all(&mut d, &frame(body)), vec![Incoming::TooLong { len: body.len() }]);
        assert!(!d.in_packet());
    }

    #[test]
    fn binary_escapes_round_the_special_bytes() {
        let mut out = Vec::new();
        escape_binary(b"a#b$c}d*", &mut out);
        assert_eq!(out, b"a}\x03b}\x04c}]d}\x0a");
    }

    /// Random bytes never panic, never grow the buffer past its limit, and
    /// a good packet right after them is still recognised.
    #[test]
    fn random_input_is_always_classified() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..2_000 {
            let mut d = PacketDecoder::new(32);
            let len = (next() % 200) as usize;
            let noise: Vec<u8> = (0..len)
                .map(|_| {
                    // Weight the bytes that matter to the framing.
                    match next() % 8 {
                        0 => b'$',
                        1 => b'#',
                        2 => b'+',
                        3 => 0x03,
                        _ => next() as u8,
                    }
                })
                .collect();
            for &b in &noise {
                let _ = d.push(b);
                assert!(d.body.len() <= 32);
            }
            // Close whatever was open: a checksum's two bytes at most, then a clean packet.
            let tail: Vec<Incoming> = b"#00$g#67".iter().filter_map(|&b| d.push(b)).collect();
            assert_eq!(tail.last(), Some(&Incoming::Packet { body: b"g".to_vec() }), "round {round}");
        }
    }
}
