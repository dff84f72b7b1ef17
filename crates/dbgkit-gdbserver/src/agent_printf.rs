//! The C `printf` of the agent's `printf` opcode (a `dprintf` with
//! `set dprintf-style agent`): integer, character, pointer and string
//! directives, as gdbserver's agent prints them. Floating point is refused
//! as gdbserver refuses it.

use crate::agent_expr::{AgentContext, AgentError};

/// A `%s` longer than this is cut: the program's memory may hold no NUL.
const STRING_LIMIT: usize = 4096;

/// `format` filled in with `arguments`, `%s` strings read through `context`.
pub fn format(format: &[u8], arguments: &[u64], context: &mut impl AgentContext) -> Result<Vec<u8>, AgentError> {
    let format = unescape(format)?;
    let mut out = Vec::new();
    let mut arguments = arguments.iter().copied();
    let mut rest = &format[..];
    while let Some(percent) = rest.iter().position(|&b| b == b'%') {
        out.extend_from_slice(&rest[..percent]);
        let (spec, after) = Spec::parse(&rest[percent + 1..])?;
        rest = after;
        if spec.conversion == b'%' {
            out.push(b'%');
            continue;
        }
        let value = arguments.next().ok_or_else(|| AgentError::BadFormat("fewer arguments than directives".into()))?;
        spec.write(value, context, &mut out)?;
    }
    out.extend_from_slice(rest);
    if arguments.next().is_some() {
        return Err(AgentError::BadFormat("more arguments than directives".into()));
    }
    Ok(out)
}

/// The format with its C escapes (`\\n`, `\\t`, ...) made characters: gdb
/// sends the string as the user wrote it.
fn unescape(format: &[u8]) -> Result<Vec<u8>, AgentError> {
    let mut out = Vec::with_capacity(format.len());
    let mut bytes = format.iter().copied();
    while let Some(byte) = bytes.next() {
        if byte != b'\\' {
            out.push(byte);
            continue;
        }
        out.push(match bytes.next() {
            Some(b'\\') => b'\\',
            Some(b'a') => 0x07,
            Some(b'b') => 0x08,
            Some(b'e') => 0x1b,
            Some(b'f') => 0x0c,
            Some(b'n') => b'\n',
            Some(b'r') => b'\r',
            Some(b't') => b'\t',
            Some(b'v') => 0x0b,
            Some(quote @ (b'"' | b'\'')) => quote,
            Some(other) => {
                return Err(AgentError::BadFormat(format!("unrecognized escape \\{} in format", other as char)))
            }
            None => return Err(AgentError::BadFormat("format ends with a backslash".into())),
        });
    }
    Ok(out)
}

/// One `%` directive.
struct Spec {
    left: bool,
    zero: bool,
    plus: bool,
    space: bool,
    alternate: bool,
    width: usize,
    precision: Option<usize>,
    /// Bits of the argument: 8 (`hh`), 16 (`h`), 32 (none), 64 (`l`, `ll`, `z`, `j`, `t`).
    bits: u32,
    conversion: u8,
}

impl Spec {
    /// The directive at the front of `text` (just after its `%`), and the rest.
    fn parse(text: &[u8]) -> Result<(Spec, &[u8]), AgentError> {
        let mut spec = Spec {
            left: false,
            zero: false,
            plus: false,
            space: false,
            alternate: false,
            width: 0,
            precision: None,
            bits: 32,
            conversion: 0,
        };
        let mut i = 0;
        while let Some(&flag) = text.get(i) {
            match flag {
                b'-' => spec.left = true,
                b'0' => spec.zero = true,
                b'+' => spec.plus = true,
                b' ' => spec.space = true,
                b'#' => spec.alternate = true,
                _ => break,
            }
            i += 1;
        }
        let number = |i: &mut usize| {
            let start = *i;
            while text.get(*i).is_some_and(u8::is_ascii_digit) {
                *i += 1;
            }
            std::str::from_utf8(&text[start..*i]).ok().and_then(|s| s.parse::<usize>().ok()).unwrap_or(0).min(4096)
        };
        spec.width = number(&mut i);
        if text.get(i) == Some(&b'.') {
            i += 1;
            spec.precision = Some(number(&mut i));
        }
        loop {
            match text.get(i) {
                Some(b'h') if spec.bits == 16 => spec.bits = 8,
                Some(b'h') => spec.bits = 16,
                Some(b'l' | b'z' | b'j' | b't') => spec.bits = 64,
                _ => break,
            }
            i += 1;
        }
        let conversion = *text.get(i).ok_or_else(|| AgentError::BadFormat("format ends inside a directive".into()))?;
        if !b"diouxXcsp%".contains(&conversion) {
            return Err(AgentError::BadFormat(format!("directive %{} is not supported", conversion as char)));
        }
        spec.conversion = conversion;
        Ok((spec, &text[i + 1..]))
    }

    fn write(&self, value: u64, context: &mut impl AgentContext, out: &mut Vec<u8>) -> Result<(), AgentError> {
        let text = match self.conversion {
            b'p' if value == 0 => Some(b"(nil)".to_vec()),
            b'c' => Some(vec![value as u8]),
            b's' if value == 0 => Some(b"(null)".to_vec()),
            b's' => Some(read_string(context, value, self.precision.unwrap_or(STRING_LIMIT).min(STRING_LIMIT))?),
            _ => None,
        };
        if let Some(text) = text {
            self.pad(&text, out);
            return Ok(());
        }
        let truncated = if self.bits >= 64 { value } else { value & ((1u64 << self.bits) - 1) };
        let (sign, digits, prefix): (&str, Vec<u8>, &str) = match self.conversion {
            b'd' | b'i' => {
                let signed = if self.bits >= 64 {
                    value as i64
                } else {
                    let shift = 64 - self.bits;
                    ((value << shift) as i64) >> shift
                };
                let sign = if signed < 0 {
                    "-"
                } else if self.plus {
                    "+"
                } else if self.space {
                    " "
                } else {
                    ""
                };
                (sign, signed.unsigned_abs().to_string().into_bytes(), "")
            }
            b'u' => ("", truncated.to_string().into_bytes(), ""),
            b'o' => {
                ("", format!("{truncated:o}").into_bytes(), if self.alternate && truncated != 0 { "0" } else { "" })
            }
            b'x' => {
                ("", format!("{truncated:x}").into_bytes(), if self.alternate && truncated != 0 { "0x" } else { "" })
            }
            b'X' => {
                ("", format!("{truncated:X}").into_bytes(), if self.alternate && truncated != 0 { "0X" } else { "" })
            }
            // %p; the others were text.
            _ => ("", format!("{value:x}").into_bytes(), "0x"),
        };
        // A precision is the least number of digits; a zero with precision 0 prints none.
        let mut digits = digits;
        if let Some(precision) = self.precision {
            if precision == 0 && digits == b"0" {
                digits.clear();
            }
            while digits.len() < precision {
                digits.insert(0, b'0');
            }
        }
        let body_length = sign.len() + prefix.len() + digits.len();
        let fill = self.width.saturating_sub(body_length);
        if self.zero && !self.left && self.precision.is_none() {
            out.extend_from_slice(sign.as_bytes());
            out.extend_from_slice(prefix.as_bytes());
            out.extend(std::iter::repeat_n(b'0', fill));
            out.extend_from_slice(&digits);
            return Ok(());
        }
        let mut body = Vec::with_capacity(body_length);
        body.extend_from_slice(sign.as_bytes());
        body.extend_from_slice(prefix.as_bytes());
        body.extend_from_slice(&digits);
        self.pad(&body, out);
        Ok(())
    }

    /// `body` padded with spaces to the width, on the left unless `-`.
    fn pad(&self, body: &[u8], out: &mut Vec<u8>) {
        let fill = self.width.saturating_sub(body.len());
        if !self.left {
            out.extend(std::iter::repeat_n(b' ', fill));
        }
        out.extend_from_slice(body);
        if self.left {
            out.extend(std::iter::repeat_n(b' ', fill));
        }
    }
}

/// The NUL-terminated string at `address`, at most `limit` bytes of it.
fn read_string(context: &mut impl AgentContext, address: u64, limit: usize) -> Result<Vec<u8>, AgentError> {
    let mut text = Vec::new();
    while text.len() < limit {
        let mut byte = [0u8];
        context.read_memory(address.wrapping_add(text.len() as u64), &mut byte)?;
        if byte[0] == 0 {
            break;
        }
        text.push(byte[0]);
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Strings;

    impl AgentContext for Strings {
        fn register(&mut self, number: u16) -> Result<u64, AgentError> {
            Err(AgentError::Register(number))
        }
        fn read_memory(&mut self, address: u64, buf: &mut [u8]) -> Result<(), AgentError> {
            let memory = b"hello\0";
            let at = address.checked_sub(0x1000).ok_or(AgentError::Memory(address))? as usize;
            buf.copy_from_slice(memory.get(at..at + buf.len()).ok_or(AgentError::Memory(address))?);
            Ok(())
        }
        fn print(&mut self, _: &[u8]) {}
    }

    fn printed(format_text: &str, arguments: &[u64]) -> String {
        String::from_utf8(format(format_text.as_bytes(), arguments, &mut Strings).unwrap()).unwrap()
    }

    #[test]
    fn integers_print_as_c_prints_them() {
        assert_eq!(printed("arg=%d, g=%d\n", &[1, 2]), "arg=1, g=2\n");
        assert_eq!(printed("%d", &[u32::MAX as u64]), "-1");
        assert_eq!(printed("%ld", &[u64::MAX]), "-1");
        assert_eq!(printed("%u", &[u64::MAX]), "4294967295");
        assert_eq!(printed("%5d|%-5d|%05d", &[42, 42, 42]), "   42|42   |00042");
        assert_eq!(printed("%+d % d %.3d", &[7, 7, 7]), "+7  7 007");
        assert_eq!(printed("%#x %X %o %#o", &[255, 255, 8, 8]), "0xff FF 10 010");
        assert_eq!(printed("%hhd %hd", &[0x1ff, 0x1ffff]), "-1 -1");
        assert_eq!(printed("%c%c 100%%", &[b'o' as u64, b'k' as u64]), "ok 100%");
        assert_eq!(printed("%p %p", &[0x1234, 0]), "0x1234 (nil)");
    }

    #[test]
    fn escapes_in_the_format_become_characters() {
        assert_eq!(printed(r#"a\tb\n\"c\"\\"#, &[]), "a\tb\n\"c\"\\");
        assert!(format(br"\q", &[], &mut Strings).is_err());
    }

    #[test]
    fn strings_are_read_from_the_program() {
        assert_eq!(
            printed("[%s] [%.3s] [%8s] [%s]", &[0x1000, 0x1000, 0x1000, 0]),
            "[hello] [hel] [   hello] [(null)]"
        );
    }

    #[test]
    fn what_cannot_be_printed_is_an_error() {
        assert!(format(b"%f", &[0], &mut Strings).is_err());
        assert!(format(b"%d %d", &[0], &mut Strings).is_err());
        assert!(format(b"%d", &[0, 1], &mut Strings).is_err());
        assert!(format(b"%", &[], &mut Strings).is_err());
        assert!(format(b"%s", &[0x9000], &mut Strings).is_err());
    }
}
