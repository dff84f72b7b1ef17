//! Packet framing of the GDB remote serial protocol: `$data#cs` with a
//! modulo-256 checksum, `}` escapes for binary data, run-length encoding in
//! replies, `+`/`-` acknowledgements and `%` notifications.
//!
//! [`Decoder`] takes bytes as they arrive (in any split) and yields whole
//! frames; it never panics and never grows without bound, whatever the
//! input (it is fuzzed: `fuzz/fuzz_targets/rsp_decoder.rs`).

/// The largest packet accepted from a stub. QEMU offers 4 KiB and gdbserver
/// 18 KiB; anything far beyond is a garbled stream, not a packet.
pub const MAX_PACKET: usize = 1 << 20;

/// One thing read from the stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// A packet whose checksum was right, run-length encoding expanded.
    Packet(Vec<u8>),
    /// An asynchronous notification (`%Stop:...#cs`, non-stop mode).
    Notification(Vec<u8>),
    /// A packet whose checksum was wrong (`expected` from its trailer, `computed` from its bytes).
    BadChecksum { expected: u8, computed: u8 },
    /// A packet longer than [`MAX_PACKET`]; its bytes were dropped.
    TooLong,
    /// `+`: the last packet sent arrived intact.
    Ack,
    /// `-`: the last packet sent arrived damaged; send it again.
    Nack,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Between frames: only `$`, `%`, `+` and `-` mean something.
    Idle,
    /// Inside `$...` or `%...`, before `#`.
    Body,
    /// After `#`: the first checksum digit.
    Check1,
    /// The second checksum digit (the first is kept).
    Check2(u8),
}

/// Turns a byte stream into frames.
#[derive(Debug)]
pub struct Decoder {
    state: State,
    notification: bool,
    /// The raw body: what the checksum covers.
    raw: Vec<u8>,
    sum: u8,
    too_long: bool,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new()
    }
}

impl Decoder {
    pub fn new() -> Decoder {
        Decoder { state: State::Idle, notification: false, raw: Vec::new(), sum: 0, too_long: false }
    }

    /// Feeds bytes; every frame they complete is pushed to `out`.
    pub fn feed(&mut self, bytes: &[u8], out: &mut Vec<Frame>) {
        for &b in bytes {
            if let Some(frame) = self.step(b) {
                out.push(frame);
            }
        }
    }

    /// Whether the decoder is in the middle of a frame.
    pub fn in_frame(&self) -> bool {
        self.state != State::Idle
    }

    fn step(&mut self, b: u8) -> Option<Frame> {
        match self.state {
            State::Idle => match b {
                b'$' | b'%' => {
                    self.start(b == b'%');
                    None
                }
                b'+' => Some(Frame::Ack),
                b'-' => Some(Frame::Nack),
                // Noise between frames (a stub's stray output, line noise): skipped.
                _ => None,
            },
            State::Body => {
                match b {
                    b'#' => self.state = State::Check1,
                    // A new start inside a body: the earlier frame was cut; begin again.
                    b'$' => self.start(false),
                    _ => {
                        self.sum = self.sum.wrapping_add(b);
                        if self.raw.len() < MAX_PACKET {
                            self.raw.push(b);
                        } else {
                            self.too_long = true;
                        }
                    }
                }
                None
            }
            State::Check1 => match hex_value(b) {
                Some(high) => {
                    self.state = State::Check2(high);
                    None
                }
                None => Some(self.finish(None)),
            },
            State::Check2(high) => Some(self.finish(hex_value(b).map(|low| (high << 4) | low))),
        }
    }

    fn start(&mut self, notification: bool) {
        self.state = State::Body;
        self.notification = notification;
        self.raw.clear();
        self.sum = 0;
        self.too_long = false;
    }

    /// Ends a frame: `expected` is its checksum, `None` when the trailer was not hex.
    fn finish(&mut self, expected: Option<u8>) -> Frame {
        self.state = State::Idle;
        let raw = std::mem::take(&mut self.raw);
        if self.too_long {
            return Frame::TooLong;
        }
        match expected {
            Some(e) if e == self.sum => {
                let body = expand_run_lengths(&raw);
                if self.notification {
                    Frame::Notification(body)
                } else {
                    Frame::Packet(body)
                }
            }
            other => Frame::BadChecksum { expected: other.unwrap_or(0), computed: self.sum },
        }
    }
}

/// The value of one hex digit.
pub fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Expands `X*n` (the previous byte repeated `n - 29` more times), as gdb's
/// `read_frame` does: the count is a printable byte, so at most 97 repeats.
fn expand_run_lengths(raw: &[u8]) -> Vec<u8> {
    if !raw.contains(&b'*') {
        return raw.to_vec();
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        if b == b'*' && i + 1 < raw.len() {
            if let Some(&previous) = out.last() {
                let count = raw[i + 1].saturating_sub(29) as usize;
                if out.len() + count <= MAX_PACKET {
                    out.extend(std::iter::repeat_n(previous, count));
                }
                i += 2;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    out
}

/// Frames `data` as `$data#cs`, escaping the bytes the protocol reserves.
pub fn encode(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 4);
    out.push(b'$');
    let mut sum = 0u8;
    for &b in data {
        if matches!(b, b'$' | b'#' | b'}' | b'*') {
            out.push(b'}');
            out.push(b ^ 0x20);
            sum = sum.wrapping_add(b'}').wrapping_add(b ^ 0x20);
        } else {
            out.push(b);
            sum = sum.wrapping_add(b);
        }
    }
    out.push(b'#');
    out.extend_from_slice(format!("{sum:02x}").as_bytes());
    out
}

/// Undoes the `}` escapes of binary data in a reply (`qXfer`, `vFile`).
pub fn unescape(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut bytes = data.iter();
    while let Some(&b) = bytes.next() {
        if b == b'}' {
            if let Some(&next) = bytes.next() {
                out.push(next ^ 0x20);
            }
        } else {
            out.push(b);
        }
    }
    out
}

/// Bytes as lowercase hex.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 0xf) as usize] as char);
    }
    s
}

/// Hex text as bytes; `None` for an odd length or a non-hex digit.
pub fn from_hex(text: &[u8]) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    text.chunks_exact(2).map(|pair| Some((hex_value(pair[0])? << 4) | hex_value(pair[1])?)).collect()
}

/// A hex number (as addresses and lengths are written: big-endian digits).
pub fn parse_hex_u64(text: &[u8]) -> Option<u64> {
    if text.is_empty() || text.len() > 16 {
        return None;
    }
    text.iter().try_fold(0u64, |acc, &b| Some((acc << 4) | hex_value(b)? as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(bytes: &[u8]) -> Vec<Frame> {
        let mut d = Decoder::new();
        let mut out = Vec::new();
        d.feed(bytes, &mut out);
        out
    }

    #[test]
    fn frames_round_trip_with_escapes() {
        let data = b"X1000,4:a$b#c}d*e";
        let framed = encode(data);
        // Every reserved byte is escaped: no bare `$`, `#` or `*` inside the frame.
        let inner = &framed[1..framed.len() - 3];
        assert!(!inner.iter().any(|&b| matches!(b, b'$' | b'#' | b'*')));
        let frames = decode_all(&framed);
        let [Frame::Packet(body)] = frames.as_slice() else { panic!("{frames:?}") };
        assert_eq!(unescape(body), data);
    }

    #[test]
    fn known_checksums() {
        // From gdb's own traces: `$qSupported...#77` is not needed; short ones suffice.
        assert_eq!(encode(b"g"), b"$g#67");
        assert_eq!(encode(b"?"), b"$?#3f");
        assert_eq!(encode(b"vCont?"), b"$vCont?#49");
        assert_eq!(decode_all(b"$OK#9a"), vec![Frame::Packet(b"OK".to_vec())]);
    }

    #[test]
    fn any_split_gives_the_same_frames() {
        let mut stream = b"+".to_vec();
        stream.extend(encode(b"T05thread:p1.1;"));
        stream.extend(b"-+%");
        stream.extend(&encode(b"Stop:W00")[1..]);
        stream.extend(encode(b"OK"));
        let whole = decode_all(&stream);
        assert_eq!(whole.len(), 6, "{whole:?}");
        for split in 0..stream.len() {
            let mut d = Decoder::new();
            let mut out = Vec::new();
            d.feed(&stream[..split], &mut out);
            d.feed(&stream[split..], &mut out);
            assert_eq!(out, whole, "split at {split}");
        }
    }

    #[test]
    fn bad_checksums_are_reported_not_delivered() {
        assert_eq!(decode_all(b"$OK#00"), vec![Frame::BadChecksum { expected: 0, computed: 0x9a }]);
        // A trailer that is not hex is a bad checksum too.
        assert!(matches!(decode_all(b"$OK#zz")[0], Frame::BadChecksum { .. }));
        // The decoder goes on with the next frame.
        assert_eq!(decode_all(b"$OK#00$OK#9a").last(), Some(&Frame::Packet(b"OK".to_vec())));
    }

    #[test]
    fn run_lengths_expand() {
        // "0* " is '0' and 3 more (' ' is 32 = 29 + 3), as gdbserver-era stubs send register dumps.
        let body = b"0* ";
        let sum = body.iter().fold(0u8, |a, &b| a.wrapping_add(b));
        let mut frame = b"$".to_vec();
        frame.extend_from_slice(body);
        frame.extend_from_slice(format!("#{sum:02x}").as_bytes());
        assert_eq!(decode_all(&frame), vec![Frame::Packet(b"0000".to_vec())]);
    }

    #[test]
    fn noise_and_restarts_are_survived() {
        assert_eq!(decode_all(b"garbage\r\n$OK#9a"), vec![Frame::Packet(b"OK".to_vec())]);
        // A frame cut by a new `$` is dropped; the new one is read.
        assert_eq!(decode_all(b"$T0$OK#9a"), vec![Frame::Packet(b"OK".to_vec())]);
    }

    #[test]
    fn oversized_packets_are_refused_without_growing() {
        let mut d = Decoder::new();
        let mut out = Vec::new();
        d.feed(b"$", &mut out);
        let chunk = vec![b'a'; 64 * 1024];
        for _ in 0..(MAX_PACKET / chunk.len() + 2) {
            d.feed(&chunk, &mut out);
        }
        assert!(d.raw.len() <= MAX_PACKET);
        d.feed(b"#00", &mut out);
        assert_eq!(out, vec![Frame::TooLong]);
    }

    #[test]
    fn hex_helpers() {
        assert_eq!(to_hex(&[0x00, 0xab, 0x7f]), "00ab7f");
        assert_eq!(from_hex(b"00AB7f"), Some(vec![0, 0xab, 0x7f]));
        assert_eq!(from_hex(b"0"), None);
        assert_eq!(from_hex(b"zz"), None);
        assert_eq!(parse_hex_u64(b"ffffffff81000000"), Some(0xffff_ffff_8100_0000));
        assert_eq!(parse_hex_u64(b"10000000000000000"), None);
        assert_eq!(parse_hex_u64(b""), None);
    }

    #[test]
    fn random_bytes_never_panic() {
        // A small xorshift: deterministic, no dependency.
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut d = Decoder::new();
        let mut out = Vec::new();
        for _ in 0..200 {
            let mut chunk = Vec::new();
            for _ in 0..(x % 512) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // Bias towards the bytes that matter.
                let b = match x % 8 {
                    0 => b'$',
                    1 => b'#',
                    2 => b'*',
                    3 => b'}',
                    _ => (x >> 8) as u8,
                };
                chunk.push(b);
            }
            d.feed(&chunk, &mut out);
            let _ = unescape(&chunk);
            out.clear();
        }
    }
}
