//! Where the debugger's words go: standard output, and a copy in a log file
//! while logging is on (gdb's `set logging`, WinDbg's `.logopen`); colour
//! on a terminal unless `NO_COLOR` is set; and the commands that only print
//! (`echo`, `.echo`, `output`; `printf` is in `printf.rs`).

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

/// gdb's `echo TEXT`: the text with C escapes, no newline unless it says `\n`.
pub fn echo(_dbg: &mut Debugger, call: &Call) -> Result<()> {
    emit(&dbgkit::c_format::unescape(call.args));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_come_off_for_the_log() {
        set_colour(true);
        let red = paint("Exception", Style::Alarm);
        set_colour(false);
        assert_eq!(red, "\x1b[1;31mException\x1b[0m");
        assert_eq!(plain(&format!("a {red} b")), "a Exception b");
        assert_eq!(paint("x", Style::Stop), "x");
    }
}
