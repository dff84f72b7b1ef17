//! Memory: dumps (db dw dd dq dps da du, gdb's x/FMT), writes (eb ew ed eq
//! ea eza, gdb's set), and search (s).

use super::args;
use super::commands::Call;
use super::debugger::{say, Debugger};
use super::inspect;
use anyhow::{anyhow, bail, Result};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Radix {
    Hex,
    Signed,
    Unsigned,
    Octal,
    Binary,
}

/// The most bytes one string command (`da`, `du`, `x/s`) reads.
const MAX_STRING: usize = 1 << 20;

/// Reads what is readable; fails only if nothing is.
fn read(dbg: &mut Debugger, address: u64, len: usize) -> Result<Vec<u8>> {
    let pid = dbg.process()?;
    let len = len.min(usize::try_from(u64::MAX - address).unwrap_or(usize::MAX).saturating_add(1));
    let mut buf = vec![0u8; len];
    let n = dbg.session.read_memory_partial(pid, address, &mut buf)?;
    if n == 0 && len > 0 {
        bail!("Memory access error at {address:016x}");
    }
    buf.truncate(n);
    Ok(buf)
}

fn item(bytes: &[u8], size: usize, radix: Radix) -> String {
    let mut raw = [0u8; 8];
    raw[..size].copy_from_slice(bytes);
    let v = u64::from_le_bytes(raw);
    let signed = {
        let shift = 64 - 8 * size as u32;
        ((v << shift) as i64) >> shift
    };
    match radix {
        Radix::Hex => format!("{v:0width$x}", width = size * 2),
        Radix::Unsigned => format!("{v:>width$}", width = [3, 5, 0, 10, 0, 0, 0, 20][size - 1]),
        Radix::Signed => format!("{signed:>width$}", width = [4, 6, 0, 11, 0, 0, 0, 20][size - 1]),
        Radix::Octal => format!("{v:0width$o}", width = [3, 6, 0, 11, 0, 0, 0, 22][size - 1]),
        Radix::Binary => format!("{v:0width$b}", width = size * 8),
    }
}

/// Lines of 16 bytes: the address, the items, and for bytes their characters.
/// Memory is read a block at a time; the dump stops at the first byte that
/// cannot be read (the rest of its line shows `??`) with "Memory access
/// error at ADDR". Returns the address after the last item shown.
fn grid(dbg: &mut Debugger, address: u64, size: usize, count: u64, radix: Radix) -> Result<u64> {
    const BLOCK_LINES: u64 = 4096;
    let pid = dbg.process()?;
    let per_line = (16 / size) as u64;
    count.checked_mul(size as u64).filter(|&bytes| address.checked_add(bytes - 1).is_some()).ok_or_else(|| {
        anyhow!("{count} items of {size} bytes from {address:#x} run past the end of the address space")
    })?;
    let unreadable = "?".repeat(item(&[0; 8][..size], size, radix).len());
    let lines = count.div_ceil(per_line);
    let mut line = 0;
    while line < lines {
        let block_lines = BLOCK_LINES.min(lines - line);
        let block_start = address + line * per_line * size as u64;
        let block_items = (block_lines * per_line).min(count - line * per_line);
        let mut bytes = vec![0u8; (block_items as usize) * size];
        let n = dbg.session.read_memory_partial(pid, block_start, &mut bytes)?;
        bytes.truncate(n);
        for l in 0..block_lines {
            let first = l * per_line;
            let n_items = per_line.min(block_items - first);
            let line_address = block_start + first * size as u64;
            let mut text = format!("{line_address:016x} ");
            let mut chars = String::new();
            let mut short = false;
            for i in 0..n_items {
                let at = ((first + i) as usize) * size;
                let sep = if size == 1 && i == 8 { '-' } else { ' ' };
                text.push(sep);
                match bytes.get(at..at + size) {
                    Some(b) => {
                        text.push_str(&item(b, size, radix));
                        if size == 1 {
                            chars.push(if (0x20..0x7f).contains(&b[0]) { b[0] as char } else { '.' });
                        }
                    }
                    None => {
                        text.push_str(&unreadable);
                        chars.push('?');
                        short = true;
                    }
                }
            }
            if short && (first as usize) * size >= bytes.len() {
                // Not one item of this line could be read.
                bail!("Memory access error at {line_address:016x}");
            }
            if size == 1 && radix == Radix::Hex {
                let pad = (per_line - n_items) as usize * 3;
                text.push_str(&" ".repeat(pad + 2));
                text.push_str(&chars);
            }
            say!("{}", text.trim_end());
            if short {
                bail!("Memory access error at {:016x}", block_start + bytes.len() as u64);
            }
        }
        line += block_lines;
    }
    Ok(address.wrapping_add(count * size as u64))
}

fn escape(c: char) -> String {
    match c {
        '\n' => "\\n".into(),
        '\t' => "\\t".into(),
        '\r' => "\\r".into(),
        '"' => "\\\"".into(),
        '\\' => "\\\\".into(),
        c if (' '..='~').contains(&c) => c.to_string(),
        c if (c as u32) < 0x100 => format!("\\x{:02x}", c as u32),
        c => c.to_string(),
    }
}

/// `da`: a string up to its zero (at most `max` characters).
fn ascii(dbg: &mut Debugger, address: u64, max: usize) -> Result<u64> {
    let pid = dbg.process()?;
    let bytes = dbg
        .session
        .read_c_string(pid, address, max.min(MAX_STRING))
        .map_err(|_| anyhow!("Memory access error at {address:016x}"))?;
    let text: String = bytes.iter().map(|&b| escape(b as char)).collect();
    say!("{address:016x}  \"{text}\"");
    Ok(address.wrapping_add(bytes.len() as u64 + 1))
}

/// `du`: a UTF-16 string up to its zero.
fn utf16(dbg: &mut Debugger, address: u64, max: usize) -> Result<u64> {
    let bytes = read(dbg, address, (max.min(MAX_STRING) + 1) * 2)?;
    let units: Vec<u16> = bytes.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
    let end = units.iter().position(|&u| u == 0).unwrap_or(units.len().min(max));
    let text: String = char::decode_utf16(units[..end].iter().copied())
        .map(|c| c.map(escape).unwrap_or_else(|_| "\u{fffd}".into()))
        .collect();
    say!("{address:016x}  u\"{text}\"");
    Ok(address.wrapping_add((end as u64 + 1) * 2))
}

/// `dps`: pointers and what they point to.
fn pointers(dbg: &mut Debugger, address: u64, count: u64) -> Result<u64> {
    let pid = dbg.process()?;
    for i in 0..count {
        let at = i
            .checked_mul(8)
            .and_then(|o| address.checked_add(o))
            .ok_or_else(|| anyhow!("past the end of the address space"))?;
        let mut word = [0u8; 8];
        if dbg.session.read_memory(pid, at, &mut word).is_err() {
            bail!("Memory access error at {at:016x}");
        }
        let value = u64::from_le_bytes(word);
        let place = crate::format::place(&mut dbg.session, pid, value).unwrap_or_default();
        let line = format!("{at:016x}  {value:016x} {place}");
        say!("{}", line.trim_end());
    }
    Ok(address.wrapping_add(count.wrapping_mul(8)))
}

/// `db`, `dw`, `dd`, `dq`, `dps`, `da`, `du ADDR [L COUNT]`.
pub fn dump(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let (address_text, count_text) = args::split_length(call.args);
    let address = if !address_text.is_empty() {
        dbg.eval(&address_text)?
    } else {
        dbg.next_dump.ok_or_else(|| anyhow!("give an address: {} rsp", call.name))?
    };
    let count = count_text.map(|t| args::number(&t)).transpose()?;
    if count == Some(0) {
        bail!("the count must be at least 1");
    }
    let next = match call.name {
        "db" => grid(dbg, address, 1, count.unwrap_or(128), Radix::Hex)?,
        "dw" => grid(dbg, address, 2, count.unwrap_or(64), Radix::Hex)?,
        "dd" => grid(dbg, address, 4, count.unwrap_or(32), Radix::Hex)?,
        "dq" => grid(dbg, address, 8, count.unwrap_or(16), Radix::Hex)?,
        "dps" => pointers(dbg, address, count.unwrap_or(16))?,
        "da" => ascii(dbg, address, string_length(count, 256)?)?,
        "du" => utf16(dbg, address, string_length(count, 256)?)?,
        other => bail!("unknown dump command {other}"),
    };
    dbg.next_dump = Some(next);
    Ok(())
}

/// The length limit of `da`/`du`: at most [`MAX_STRING`].
fn string_length(count: Option<u64>, default: usize) -> Result<usize> {
    match count {
        None => Ok(default),
        Some(c) if c <= MAX_STRING as u64 => Ok(c as usize),
        Some(c) => bail!("a string of at most {MAX_STRING} characters, not {c}"),
    }
}

/// gdb's `x/FMT ADDR`: `[COUNT][FORMAT][SIZE]`.
pub fn examine(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let fmt = call.fmt.unwrap_or("");
    let digits: String = fmt.chars().take_while(|c| c.is_ascii_digit()).collect();
    let count: u64 = if digits.is_empty() {
        1
    } else {
        digits.parse().map_err(|_| anyhow!("count {digits} in x/{fmt} is too large"))?
    };
    let (mut format, mut size) = ('x', None);
    for c in fmt[digits.len()..].chars() {
        match c {
            'b' => size = Some(1),
            'h' => size = Some(2),
            'w' => size = Some(4),
            'g' => size = Some(8),
            'x' | 'z' | 'd' | 'u' | 'o' | 't' | 'a' | 'c' | 's' | 'i' => format = c,
            // gdb's raw modifier (x/3ir): instructions always show their bytes here.
            'r' => {}
            other => {
                bail!("bad format letter {other:?} in x/{fmt}: count, then x d u o t a c s i (r: raw), then b h w g")
            }
        }
    }
    let address_text = call.args.trim();
    let address = if address_text.is_empty() {
        dbg.next_dump.ok_or_else(|| anyhow!("give an address: x/{fmt} $rsp"))?
    } else {
        dbg.eval(address_text)?
    };
    if count == 0 {
        bail!("the count must be at least 1");
    }
    let next = match format {
        's' => {
            let mut at = address;
            for _ in 0..count {
                at = ascii(dbg, at, MAX_STRING)?;
            }
            at
        }
        'i' => inspect::disassemble_lines(dbg, address, usize::try_from(count)?)?,
        'a' => pointers(dbg, address, count)?,
        'c' => grid(dbg, address, 1, count, Radix::Hex)?,
        f => {
            let radix = match f {
                'd' => Radix::Signed,
                'u' => Radix::Unsigned,
                'o' => Radix::Octal,
                't' => Radix::Binary,
                _ => Radix::Hex,
            };
            grid(dbg, address, size.unwrap_or(4), count, radix)?
        }
    };
    dbg.next_dump = Some(next);
    Ok(())
}

/// A value for a write: an expression, or a character in single quotes.
fn value(dbg: &mut Debugger, text: &str) -> Result<u64> {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() == 3 && chars[0] == '\'' && chars[2] == '\'' {
        return Ok(chars[1] as u64);
    }
    Ok(dbg.eval(text)?)
}

fn fit(v: u64, size: usize) -> Result<Vec<u8>> {
    let bits = size * 8;
    // Negative values written as -1 fit too.
    if bits < 64 && v >> bits != 0 && (v as i64) >> (bits - 1) != -1 {
        bail!("value {v:#x} does not fit in {size} byte(s)");
    }
    Ok(v.to_le_bytes()[..size].to_vec())
}

/// `eb ew ed eq ADDR VALUE...`, `ea eza ADDR "TEXT"`.
pub fn edit(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let pid = dbg.process()?;
    let words = args::words(call.args)?;
    let Some((address_text, values)) = words.split_first() else {
        bail!("give an address and values: {} ADDR VALUE...", call.name);
    };
    if values.is_empty() {
        bail!("give values to write: {} {address_text} ...", call.name);
    }
    let address = dbg.eval(address_text)?;
    let mut data = Vec::new();
    match call.name {
        "ea" | "eza" => {
            data.extend_from_slice(values.join(" ").as_bytes());
            if call.name == "eza" {
                data.push(0);
            }
        }
        name => {
            let size = match name {
                "eb" => 1,
                "ew" => 2,
                "ed" => 4,
                _ => 8,
            };
            for v in values {
                let v = value(dbg, v)?;
                data.extend(fit(v, size)?);
            }
        }
    }
    dbg.session.write_memory(pid, address, &data)?;
    Ok(())
}

/// gdb's `set $REG = EXPR` and `set {TYPE}ADDR = EXPR`.
pub fn set(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let text = call.args.trim();
    let (target, value_text) =
        text.split_once('=').ok_or_else(|| anyhow!("set $REG = EXPR, or set {{char|short|int|long}}ADDR = EXPR"))?;
    let (target, value_text) = (target.trim(), value_text.trim());
    if let Some(register) = target.strip_prefix('$') {
        let c = dbg.stopped()?;
        let mut regs = dbg.session.registers(c.pid, c.tid)?;
        let name = match register.to_ascii_lowercase().as_str() {
            "pc" => "rip".to_string(),
            "sp" => "rsp".to_string(),
            "fp" => "rbp".to_string(),
            other => other.to_string(),
        };
        if regs.get(&name).is_none() {
            bail!("unknown register ${register}");
        }
        let v = value(dbg, value_text)?;
        regs.set(&name, v);
        dbg.session.set_registers(c.pid, c.tid, &regs)?;
        return Ok(());
    }
    let Some(rest) = target.strip_prefix('{') else {
        bail!("say the size of what to write: set {{char}}ADDR = EXPR (char, short, int, long)");
    };
    let (type_name, address_text) = rest.split_once('}').ok_or_else(|| anyhow!("missing }} in {target:?}"))?;
    let size = match type_name.trim() {
        "char" | "signed char" | "unsigned char" | "int8_t" | "uint8_t" | "bool" => 1,
        "short" | "unsigned short" | "int16_t" | "uint16_t" => 2,
        "int" | "unsigned" | "unsigned int" | "int32_t" | "uint32_t" | "float" => 4,
        "long" | "unsigned long" | "long long" | "int64_t" | "uint64_t" | "size_t" | "void *" | "void*" => 8,
        other => bail!("unknown type {other:?}: char, short, int or long"),
    };
    let pid = dbg.process()?;
    let address = dbg.eval(address_text.trim())?;
    let v = value(dbg, value_text)?;
    let data = fit(v, size)?;
    dbg.session.write_memory(pid, address, &data)?;
    Ok(())
}

/// `s -b START L LEN BYTES`, `s -a START END "text"`, `s -q START L LEN VALUE`.
pub fn search(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let pid = dbg.process()?;
    let words = args::words(call.args)?;
    if words.is_empty() {
        bail!("s searches memory: s -b START L LEN 68 65 (to step into a call, use t or si)");
    }
    let flag = words[0].as_str();
    let size = match flag {
        "-b" => 1,
        "-w" => 2,
        "-d" => 4,
        "-q" => 8,
        "-a" | "-u" => 0,
        other => bail!("bad search kind {other:?}: -b, -w, -d, -q, -a or -u"),
    };
    let start_text = words.get(1).ok_or_else(|| anyhow!("give a range: s {flag} START L LENGTH PATTERN"))?;
    let start = dbg.eval(start_text)?;
    let mut i = 2;
    let range_word = words.get(i).ok_or_else(|| anyhow!("give a range: s {flag} START L LENGTH PATTERN"))?;
    let end = if let Some(rest) = range_word.strip_prefix(['L', 'l']) {
        let rest = rest.strip_prefix('?').unwrap_or(rest);
        let length_text = if rest.is_empty() {
            i += 1;
            words.get(i).ok_or_else(|| anyhow!("give a length after L"))?.clone()
        } else {
            rest.to_string()
        };
        i += 1;
        start.saturating_add(dbg.eval(&length_text)?)
    } else {
        i += 1;
        dbg.eval(range_word)?
    };
    if end <= start {
        bail!("empty range {start:#x}..{end:#x}");
    }
    let pattern_words = &words[i..];
    if pattern_words.is_empty() {
        bail!("give what to search for");
    }
    let pattern: Vec<u8> = match flag {
        "-a" => pattern_words.join(" ").into_bytes(),
        "-u" => pattern_words.join(" ").encode_utf16().flat_map(|u| u.to_le_bytes()).collect(),
        "-b" => pattern_words
            .iter()
            .map(|w| {
                let chars: Vec<char> = w.chars().collect();
                if chars.len() == 3 && chars[0] == '\'' && chars[2] == '\'' {
                    return Ok(chars[1] as u8);
                }
                let hex = w.strip_prefix("0x").unwrap_or(w);
                u8::from_str_radix(hex, 16).map_err(|_| anyhow!("bad byte {w:?}: bytes are hexadecimal, like 4a"))
            })
            .collect::<Result<_>>()?,
        _ => {
            let mut bytes = Vec::new();
            for w in pattern_words {
                let v = value(dbg, w)?;
                bytes.extend(fit(v, size)?);
            }
            bytes
        }
    };
    if pattern.is_empty() {
        bail!("the pattern is empty: give bytes, a value or a non-empty string");
    }
    const MAX_HITS: usize = 1000;
    let mut hits = dbg.session.search_memory(pid, &pattern, Some(start..end), 1)?;
    hits.dedup();
    let more = hits.len() > MAX_HITS;
    for &hit in hits.iter().take(MAX_HITS) {
        grid(dbg, hit, 1, 16, Radix::Hex)?;
    }
    if more {
        say!("(more than {MAX_HITS} matches; the rest are not shown)");
    }
    Ok(())
}
