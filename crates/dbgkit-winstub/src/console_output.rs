//! Text for the client's console: the `O` packet, which a stub may send
//! while the program runs, before its stop reply.

/// `$O<hex of text and a line end>#<checksum>`.
pub fn console_output_packet(text: &str) -> Vec<u8> {
    let mut body = String::from("O");
    let line_end = if text.ends_with('\n') { "" } else { "\n" };
    for byte in text.bytes().chain(line_end.bytes()) {
        body.push_str(&format!("{byte:02x}"));
    }
    crate::packet_link::frame(body.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_hex_encoded_with_a_line_end_and_checksummed() {
        // "hi\n" is 68 69 0a; the checksum is the sum of "O68690a" modulo 256.
        let expected_sum = "O68690a".bytes().fold(0u8, |s, b| s.wrapping_add(b));
        assert_eq!(console_output_packet("hi"), format!("$O68690a#{expected_sum:02x}").into_bytes());
        assert_eq!(console_output_packet("hi\n"), console_output_packet("hi"));
    }
}
