//! The remote protocol's decoding on arbitrary bytes from a stub: framing
//! (in any split), run lengths, escapes, stop replies, thread lists, target
//! descriptions and `qSupported` answers must answer or refuse, never panic
//! or grow without bound.
#![no_main]

use dbgkit::target::remote::packet::{self, Decoder, Frame, MAX_PACKET};
use dbgkit::target::remote::{features::Features, lists, registers, stop_reply::StopReply};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte picks where the stream is cut in two.
    let split = data.first().map(|&b| b as usize % (data.len() + 1)).unwrap_or(0);
    let mut decoder = Decoder::new();
    let mut frames = Vec::new();
    decoder.feed(&data[..split], &mut frames);
    decoder.feed(&data[split..], &mut frames);
    for frame in frames {
        if let Frame::Packet(body) | Frame::Notification(body) = frame {
            assert!(body.len() <= MAX_PACKET);
            let _ = StopReply::parse(&body);
            let _ = Features::parse(&body);
            let _ = lists::thread_info(&body);
            let _ = registers::decode_packet(&body);
            let text = String::from_utf8_lossy(&packet::unescape(&body)).into_owned();
            let _ = lists::libraries(&text);
            let _ = lists::threads(&text);
            let _ = registers::RegisterLayout::from_description(&mut |_| Ok(text.clone()));
        }
    }
    // The same bytes as a whole reply body, unframed.
    let _ = StopReply::parse(data);
    let _ = packet::from_hex(data);
    let _ = packet::parse_hex_u64(data);
});
