//! C's `printf` for debuggers: the formatting behind a `printf` command
//! (gdb's, WinDbg's `.printf`) and a remote stub's target-side `dprintf`,
//! with integer arguments (registers, memory, addresses) and strings read
//! from the target, and the C escapes of their format strings.

use crate::error::{Error, Result};

fn invalid(why: String) -> Error {
    Error::InvalidArgument(why)
}

/// One `%` directive: flags, width, precision, length and conversion.
#[derive(Debug, Default, PartialEq)]
struct Directive {
    left: bool,
    zero: bool,
    plus: bool,
    space: bool,
    alternate: bool,
    width: Option<usize>,
    precision: Option<usize>,
    /// Bits of an integer argument: 8 (`hh`), 16 (`h`), 32 (none), 64 (`l`, `ll`, `z`, `j`, `t`).
    bits: u32,
    conversion: char,
}

fn parse_directive(chars: &mut std::iter::Peekable<std::str::Chars>) -> Result<Directive> {
    let mut d = Directive { bits: 32, ..Default::default() };
    while let Some(&c) = chars.peek() {
        match c {
            '-' => d.left = true,
            '0' => d.zero = true,
            '+' => d.plus = true,
            ' ' => d.space = true,
            '#' => d.alternate = true,
            _ => break,
        }
        chars.next();
    }
    let number = |chars: &mut std::iter::Peekable<std::str::Chars>| -> Result<Option<usize>> {
        let mut digits = String::new();
        while let Some(&c) = chars.peek().filter(|c| c.is_ascii_digit()) {
            digits.push(c);
            chars.next();
        }
        if digits.is_empty() {
            return Ok(None);
        }
        let n: usize = digits.parse().map_err(|_| invalid(format!("width {digits} is too large")))?;
        if n > 4096 {
            return Err(invalid(format!("width or precision {n} is too large (at most 4096)")));
        }
        Ok(Some(n))
    };
    d.width = number(chars)?;
    if chars.peek() == Some(&'.') {
        chars.next();
        d.precision = Some(number(chars)?.unwrap_or(0));
    }
    loop {
        match chars.peek() {
            Some('h') => {
                chars.next();
                d.bits = if d.bits == 16 { 8 } else { 16 };
            }
            Some('l' | 'z' | 'j' | 't' | 'q') => {
                chars.next();
                d.bits = 64;
            }
            _ => break,
        }
    }
    d.conversion = chars.next().ok_or_else(|| invalid("the format ends inside a % directive".into()))?;
    Ok(d)
}

fn pad(d: &Directive, sign: &str, body: String, numeric: bool) -> String {
    let width = d.width.unwrap_or(0);
    let len = sign.len() + body.chars().count();
    if len >= width {
        return format!("{sign}{body}");
    }
    let fill = width - len;
    if d.left {
        format!("{sign}{body}{}", " ".repeat(fill))
    } else if d.zero && numeric && d.precision.is_none() {
        format!("{sign}{}{body}", "0".repeat(fill))
    } else {
        format!("{}{sign}{body}", " ".repeat(fill))
    }
}

/// The text of one directive for an integer argument (`%s` reads memory through `read_string`).
fn format_one(d: &Directive, value: u64, read_string: &mut dyn FnMut(u64) -> Result<String>) -> Result<String> {
    let mask = if d.bits == 64 { u64::MAX } else { (1u64 << d.bits) - 1 };
    let unsigned = value & mask;
    let signed = if d.bits == 64 { value as i64 } else { ((unsigned << (64 - d.bits)) as i64) >> (64 - d.bits) };
    let with_precision = |digits: String| match d.precision {
        Some(p) if digits.len() < p => format!("{}{digits}", "0".repeat(p - digits.len())),
        Some(0) if digits == "0" => String::new(),
        _ => digits,
    };
    Ok(match d.conversion {
        'd' | 'i' => {
            let sign = if signed < 0 {
                "-"
            } else if d.plus {
                "+"
            } else if d.space {
                " "
            } else {
                ""
            };
            pad(d, sign, with_precision(signed.unsigned_abs().to_string()), true)
        }
        'u' => pad(d, "", with_precision(unsigned.to_string()), true),
        'x' | 'X' => {
            let digits =
                with_precision(if d.conversion == 'x' { format!("{unsigned:x}") } else { format!("{unsigned:X}") });
            let prefix = if d.alternate && unsigned != 0 {
                if d.conversion == 'x' {
                    "0x"
                } else {
                    "0X"
                }
            } else {
                ""
            };
            pad(d, prefix, digits, true)
        }
        'o' => {
            let digits = with_precision(format!("{unsigned:o}"));
            let digits = if d.alternate && !digits.starts_with('0') { format!("0{digits}") } else { digits };
            pad(d, "", digits, true)
        }
        'c' => pad(d, "", ((value & 0xff) as u8 as char).to_string(), false),
        'p' => pad(d, "", format!("{value:#x}"), false),
        's' => {
            let text = read_string(value)?;
            let text = match d.precision {
                Some(p) => text.chars().take(p).collect(),
                None => text,
            };
            pad(d, "", text, false)
        }
        'f' | 'F' | 'e' | 'E' | 'g' | 'G' | 'a' | 'A' => {
            return Err(invalid(format!(
                "%{} is not supported: the arguments are integers (registers, memory, addresses)",
                d.conversion
            )))
        }
        other => return Err(invalid(format!("unknown conversion %{other} in the format"))),
    })
}

/// `format` filled in as C's `printf` fills it, one integer argument per
/// `%` directive: `d i u x X o c p s` with flags, width, precision and
/// length (`hh h l ll z j t`). `%s` takes an address and reads the string
/// through `read_string`. Floating point is refused (the arguments are
/// registers, memory and addresses). The format's escapes are taken as they
/// are: see [`unescape`].
///
/// ```
/// let mut no_memory = |_| Err(dbgkit::Error::InvalidArgument("no memory".into()));
/// let text = dbgkit::c_format::printf("%d|%5x|%-3c|", &[u64::MAX, 255, 0x41], &mut no_memory).unwrap();
/// assert_eq!(text, "-1|   ff|A  |");
/// ```
pub fn printf(format: &str, arguments: &[u64], read_string: &mut dyn FnMut(u64) -> Result<String>) -> Result<String> {
    let argc = arguments.len();
    let mut out = String::new();
    let mut used = 0;
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'%') {
            chars.next();
            out.push('%');
            continue;
        }
        let d = parse_directive(&mut chars)?;
        if used >= argc {
            return Err(invalid(format!("the format has more % directives than arguments ({argc})")));
        }
        let value = arguments[used];
        used += 1;
        out.push_str(&format_one(&d, value, read_string)?);
    }
    if used < argc {
        return Err(invalid(format!("{argc} argument(s) but only {used} % directive(s) in the format")));
    }
    Ok(out)
}

/// C escapes as gdb's `echo` and `printf` read them.
pub fn unescape(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('a') => out.push('\x07'),
            Some('e') => out.push('\x1b'),
            Some('0') => out.push('\0'),
            Some('"') => out.push('"'),
            Some('\\') => out.push('\\'),
            Some(other) => out.push(other),
            // A backslash at the end of gdb's echo continues the line: nothing to print.
            None => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(format: &str, values: &[u64]) -> String {
        let mut no_memory = |_| Ok("str".to_string());
        printf(format, values, &mut no_memory).unwrap()
    }

    #[test]
    fn printf_formats_as_c_does() {
        assert_eq!(c("%d|%5d|%-5d|%05d", &[u64::MAX, 42, 42, 42]), "-1|   42|42   |00042");
        assert_eq!(c("%ld %lu", &[u64::MAX, u64::MAX]), "-1 18446744073709551615");
        assert_eq!(c("%x %#x %08lx %X", &[255, 255, 0xabc, 0xff]), "ff 0xff 00000abc FF");
        assert_eq!(c("%c%c %s %.2s %%", &[0x41, 0x42, 0, 0]), "AB str st %");
        assert_eq!(c("%hhd %hd", &[0xff, 0xffff]), "-1 -1");
        assert_eq!(c("%+d % d %.3d", &[5, 5, 5]), "+5  5 005");
        assert_eq!(c("%o %#o %u", &[8, 8, u32::MAX as u64]), "10 010 4294967295");
    }

    #[test]
    fn printf_refuses_what_it_cannot_do() {
        let mut no_memory = |_| Ok(String::new());
        assert!(printf("%d %d", &[1], &mut no_memory).is_err());
        assert!(printf("%d", &[1, 2], &mut no_memory).is_err());
        assert!(printf("%f", &[1], &mut no_memory).is_err());
        assert!(printf("%", &[1], &mut no_memory).is_err());
        assert!(printf("%99999d", &[1], &mut no_memory).is_err());
    }

    #[test]
    fn escapes_become_characters() {
        assert_eq!(unescape(r#"a\tb\n\"c\"\\"#), "a\tb\n\"c\"\\");
    }
}
