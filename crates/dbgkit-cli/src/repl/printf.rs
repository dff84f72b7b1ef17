//! gdb's `printf "FORMAT", ARGS...`: C's integer, character, pointer and
//! string conversions, the arguments being expressions of the target
//! (`%s` reads a zero-terminated string from its memory).

use super::commands::Call;
use super::debugger::Debugger;
use super::output::{emit, unescape};
use anyhow::{anyhow, bail, Result};

/// Splits `"FORMAT", ARG, ARG` into the format text and the argument
/// expressions (commas inside parentheses, brackets or quotes do not split).
fn split_printf(text: &str) -> Result<(String, Vec<String>)> {
    let text = text.trim();
    let Some(rest) = text.strip_prefix('"') else { bail!("printf takes a quoted format: printf \"%d\\n\", $rax") };
    let mut format = String::new();
    let mut chars = rest.char_indices();
    let mut end = None;
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                format.push('\\');
                if let Some((_, n)) = chars.next() {
                    format.push(n);
                }
            }
            '"' => {
                end = Some(i + 1);
                break;
            }
            c => format.push(c),
        }
    }
    let end = end.ok_or_else(|| anyhow!("unterminated format string: {text}"))?;
    let rest = rest[end..].trim();
    let mut args = Vec::new();
    if !rest.is_empty() {
        let rest = rest.strip_prefix(',').ok_or_else(|| anyhow!("expected a comma after the format, not {rest:?}"))?;
        let mut depth = 0i32;
        let mut quote = None;
        let mut current = String::new();
        for c in rest.chars() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') => quote = Some(c),
                (None, '(' | '[') => depth += 1,
                (None, ')' | ']') => depth -= 1,
                (None, ',') if depth == 0 => {
                    args.push(std::mem::take(&mut current).trim().to_string());
                    continue;
                }
                _ => {}
            }
            current.push(c);
        }
        args.push(current.trim().to_string());
        if args.iter().any(|a| a.is_empty()) {
            bail!("an argument of printf is empty");
        }
    }
    Ok((unescape(&format), args))
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
        let n: usize = digits.parse().map_err(|_| anyhow!("width {digits} is too large"))?;
        if n > 4096 {
            bail!("width or precision {n} is too large (at most 4096)");
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
    d.conversion = chars.next().ok_or_else(|| anyhow!("the format ends inside a % directive"))?;
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
            bail!("%{} is not supported: expressions here are integers (registers, memory, addresses)", d.conversion)
        }
        other => bail!("unknown conversion %{other} in the format"),
    })
}

/// Formats like C's printf, taking each argument through `arg(i)`.
fn format_c(
    format: &str,
    mut arg: impl FnMut(usize) -> Result<u64>,
    read_string: &mut dyn FnMut(u64) -> Result<String>,
    argc: usize,
) -> Result<String> {
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
            bail!("the format has more % directives than arguments ({argc})");
        }
        let value = arg(used)?;
        used += 1;
        out.push_str(&format_one(&d, value, read_string)?);
    }
    if used < argc {
        bail!("{} argument(s) but only {used} % directive(s) in the format", argc);
    }
    Ok(out)
}

/// How many bytes `%s` reads at most.
const MAX_STRING: usize = 64 * 1024;

/// gdb's `printf "FORMAT", ARGS...` (integers, pointers, characters, strings from memory).
pub fn printf(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let (format, exprs) = split_printf(call.args)?;
    let mut values = Vec::with_capacity(exprs.len());
    for e in &exprs {
        values.push(dbg.eval(e)?);
    }
    let pid = dbg.current.map(|c| c.pid);
    let session = &dbg.session;
    let mut read_string = |address: u64| -> Result<String> {
        let pid = pid.ok_or_else(|| anyhow!("%s reads memory: no process"))?;
        let bytes = session.read_c_string(pid, address, MAX_STRING)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    };
    let text = format_c(&format, |i| Ok(values[i]), &mut read_string, values.len())?;
    emit(&text);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(format: &str, values: &[u64]) -> String {
        let mut no_memory = |_| Ok("str".to_string());
        format_c(format, |i| Ok(values[i]), &mut no_memory, values.len()).unwrap()
    }

    #[test]
    fn printf_formats_as_c_does() {
        assert_eq!(c("%d|%5d|%-5d|%05d", &[u64::MAX, 42, 42, 42]), "-1|   42|42   |00042");
        assert_eq!(c("%ld %lu", &[u64::MAX, u64::MAX]), "-1 18446744073709551615");
        assert_eq!(c("%x %#x %08lx %X", &[255, 255, 0xabc, 0xff]), "ff 0xff 00000abc FF");
        assert_eq!(c("%c%c %s %.2s %%", &[0x41, 0x42, 0, 0]), "AB str st %");
        assert_eq!(c("%hhd %hd", &[0xff, 0xffff]), "-1 -1");
        assert_eq!(c("%+d % d %.3d", &[5, 5, 5]), "+5  5 005");
    }

    #[test]
    fn printf_refuses_what_it_cannot_do() {
        let mut no_memory = |_| Ok(String::new());
        assert!(format_c("%d %d", |_| Ok(1), &mut no_memory, 1).is_err());
        assert!(format_c("%d", |_| Ok(1), &mut no_memory, 2).is_err());
        assert!(format_c("%f", |_| Ok(1), &mut no_memory, 1).is_err());
        assert!(format_c("%", |_| Ok(1), &mut no_memory, 1).is_err());
        assert!(format_c("%99999d", |_| Ok(1), &mut no_memory, 1).is_err());
    }

    #[test]
    fn printf_arguments_split_on_top_level_commas() {
        let (f, a) = split_printf(r#""%d, %s\n", poi(rsp+8), by(rdi, 1)"#).unwrap();
        assert_eq!(f, "%d, %s\n");
        assert_eq!(a, ["poi(rsp+8)", "by(rdi, 1)"]);
        assert!(split_printf("%d").is_err());
        assert!(split_printf(r#""%d" 1"#).is_err());
    }
}
