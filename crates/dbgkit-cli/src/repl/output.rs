//! Where the debugger's words go: standard output, and a copy in a log file
//! while logging is on (gdb's `set logging`, WinDbg's `.logopen`); colour
//! on a terminal unless `NO_COLOR` is set; and the commands that only print
//! (`printf`, `echo`, `output`).

use super::args;
use super::commands::Call;
use super::debugger::Debugger;
use anyhow::{anyhow, bail, Context, Result};
use std::cell::RefCell;
use std::fs::File;
use std::io::Write;
use std::path::PathBuf;

/// The log file, and whether the terminal is left out (`set logging redirect on`).
struct Log {
    file: File,
    path: PathBuf,
    redirect: bool,
}

thread_local! {
    /// Output dropped (the fuzz target runs millions of commands).
    static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    static LOG: RefCell<Option<Log>> = const { RefCell::new(None) };
    /// gdb's `set logging file` and `set logging redirect` before logging starts.
    static LOG_SETTINGS: RefCell<(Option<PathBuf>, bool, bool)> = const { RefCell::new((None, false, false)) };
}

/// Drops all output from now on (or no longer).
pub fn set_quiet(quiet: bool) {
    QUIET.with(|q| q.set(quiet));
}

/// Writes text to standard output (and the log); a closed pipe is not an error worth dying for.
pub fn emit(text: &str) {
    if QUIET.with(|q| q.get()) {
        return;
    }
    let redirect = LOG.with(|log| {
        let mut log = log.borrow_mut();
        match log.as_mut() {
            Some(l) => {
                let _ = l.file.write_all(plain(text).as_bytes());
                l.redirect
            }
            None => false,
        }
    });
    if !redirect {
        let _ = std::io::stdout().lock().write_all(text.as_bytes());
    }
}

/// Writes one line (see [`emit`]).
pub fn emit_line(args: std::fmt::Arguments) {
    let mut text = std::fmt::format(args);
    text.push('\n');
    emit(&text);
}

/// A copy of an error message for the log (errors themselves go to standard error).
pub fn log_error(text: &str) {
    LOG.with(|log| {
        if let Some(l) = log.borrow_mut().as_mut() {
            let _ = writeln!(l.file, "{text}");
        }
    });
}

/// Whether to colour output: a terminal, and no `NO_COLOR` (https://no-color.org).
pub fn colour_wanted(tty: bool) -> bool {
    tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

thread_local! {
    static COLOUR: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Turns colour on or off for [`paint`] (the debugger decides once, at start).
pub fn set_colour(on: bool) {
    COLOUR.with(|c| c.set(on));
}

/// How a piece of output stands out on a terminal.
#[derive(Clone, Copy, Debug)]
pub enum Style {
    /// The thread's current instruction (`=>`).
    Current,
    /// What stopped the program: a breakpoint, a step, a break-in.
    Stop,
    /// An exception.
    Alarm,
}

/// `text` in its style's colour when colour is on; as it is otherwise
/// (and in the log file, which gets the plain text as well: see [`emit`]).
pub fn paint(text: &str, style: Style) -> String {
    if !COLOUR.with(|c| c.get()) {
        return text.to_string();
    }
    let code = match style {
        Style::Current => "1;32",
        Style::Stop => "1;33",
        Style::Alarm => "1;31",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

/// `text` without the colour codes [`paint`] adds (for the log file).
fn plain(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains('\x1b') {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("\x1b[") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let end = after.find('m').map(|e| e + 1).unwrap_or(after.len());
        rest = &after[end..];
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

fn open_log(path: PathBuf, append: bool, redirect: bool) -> Result<()> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(append)
        .truncate(!append)
        .open(&path)
        .with_context(|| format!("cannot open log file {}", path.display()))?;
    LOG.with(|log| *log.borrow_mut() = Some(Log { file, path, redirect }));
    Ok(())
}

fn close_log() -> Option<PathBuf> {
    LOG.with(|log| log.borrow_mut().take().map(|l| l.path))
}

/// gdb's `set logging on [FILE]`, `set logging off`, `set logging enabled on|off`,
/// `set logging file FILE`, `set logging overwrite on|off`, `set logging redirect on|off`.
pub fn set_logging(_dbg: &mut Debugger, call: &Call) -> Result<()> {
    let words: Vec<&str> = call.args.split_whitespace().collect();
    let on_off = |w: Option<&&str>| match w.copied() {
        Some("on") | Some("1") | Some("yes") | None => Ok(true),
        Some("off") | Some("0") | Some("no") => Ok(false),
        Some(other) => Err(anyhow!("expected on or off, not {other:?}")),
    };
    let start = |file: Option<&str>| -> Result<()> {
        let (default_file, overwrite, redirect) = LOG_SETTINGS.with(|s| s.borrow().clone());
        let path = file.map(PathBuf::from).or(default_file).unwrap_or_else(|| PathBuf::from("gdb.txt"));
        close_log();
        open_log(path.clone(), !overwrite, redirect)?;
        crate::repl::debugger::say!("Copying output to {}.", path.display());
        Ok(())
    };
    match words.as_slice() {
        ["on"] => start(None),
        ["on", file] => start(Some(file)),
        ["off"] => {
            match close_log() {
                Some(path) => crate::repl::debugger::say!("Done logging to {}.", path.display()),
                None => bail!("logging is not on"),
            }
            Ok(())
        }
        ["enabled", rest @ ..] => {
            if on_off(rest.first())? {
                start(None)
            } else {
                close_log();
                Ok(())
            }
        }
        ["file", file] => {
            LOG_SETTINGS.with(|s| s.borrow_mut().0 = Some(PathBuf::from(file)));
            Ok(())
        }
        ["overwrite", rest @ ..] => {
            let v = on_off(rest.first())?;
            LOG_SETTINGS.with(|s| s.borrow_mut().1 = v);
            Ok(())
        }
        ["redirect", rest @ ..] => {
            let v = on_off(rest.first())?;
            LOG_SETTINGS.with(|s| s.borrow_mut().2 = v);
            Ok(())
        }
        _ => bail!("set logging on [FILE] | off | file FILE | overwrite on|off | redirect on|off"),
    }
}

/// WinDbg's `.logopen [/t] [/u] FILE` (a new file), `.logappend FILE`, `.logclose`.
pub fn logopen(_dbg: &mut Debugger, call: &Call) -> Result<()> {
    let words = args::words(call.args)?;
    // WinDbg's options (/t timestamp, /u Unicode) change nothing here; the rest is the file.
    let file = words
        .iter()
        .find(|w| !matches!(w.as_str(), "/t" | "/u" | "/d"))
        .ok_or_else(|| anyhow!("{} takes a file name", call.name))?;
    close_log();
    let append = call.name == ".logappend";
    open_log(PathBuf::from(file), append, false)?;
    crate::repl::debugger::say!("Opened log file '{file}'");
    Ok(())
}

pub fn logclose(_dbg: &mut Debugger, _call: &Call) -> Result<()> {
    match close_log() {
        Some(path) => crate::repl::debugger::say!("Closing open log file {}", path.display()),
        None => bail!("no log file is open"),
    }
    Ok(())
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

/// gdb's `echo TEXT`: the text with C escapes, no newline unless it says `\n`.
pub fn echo(_dbg: &mut Debugger, call: &Call) -> Result<()> {
    emit(&unescape(call.args));
    Ok(())
}

/// WinDbg's `.echo TEXT`: the text and a newline.
pub fn dot_echo(_dbg: &mut Debugger, call: &Call) -> Result<()> {
    crate::repl::debugger::say!("{}", call.args.trim().trim_matches('"'));
    Ok(())
}

/// gdb's `output EXPR`: the value alone, no newline.
pub fn output(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let text = call.args.trim();
    if text.is_empty() {
        bail!("output takes an expression: output $rax");
    }
    let value = dbg.eval(text)?;
    let shown = match call.fmt {
        Some("x") => format!("{value:#x}"),
        Some("o") => format!("{value:#o}"),
        Some("t") => format!("{value:b}"),
        Some("u") => value.to_string(),
        Some("d") | None => (value as i64).to_string(),
        Some(other) => bail!("bad format /{other} for output: x, o, t, u or d"),
    };
    emit(&shown);
    Ok(())
}

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
    fn colours_come_off_for_the_log() {
        set_colour(true);
        let red = paint("Exception", Style::Alarm);
        set_colour(false);
        assert_eq!(red, "\x1b[1;31mException\x1b[0m");
        assert_eq!(plain(&format!("a {red} b")), "a Exception b");
        assert_eq!(paint("x", Style::Stop), "x");
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
