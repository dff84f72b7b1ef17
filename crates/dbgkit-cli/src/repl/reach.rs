//! Reaching into the target: hardware breakpoints and watchpoints, calls
//! of its functions, loading a library into it.

use super::commands::Call;
use super::debugger::{say, Debugger};
use anyhow::{anyhow, bail, Result};
use dbgkit::{CallArg, WatchAccess, WatchSpec};

/// The most bytes the four debug registers watch (four aligned 8-byte slots).
const MAX_HARDWARE_WATCH: u64 = 32;

/// `ba w8 EXPR`, `ba r4 EXPR`, `ba e1 EXPR`: access letter and size, then the address.
pub fn ba(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let spec = WatchSpec::parse(call.args)?;
    set_watch(dbg, &spec.expression, spec.size, spec.access)
}

/// gdb's `watch`, `rwatch`, `awatch` (`EXPR [SIZE]`, 8 bytes by default;
/// more than 32 bytes make a page watchpoint) and `hbreak EXPR`.
pub fn watch(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let access = match call.name {
        "hbreak" | "hb" => WatchAccess::Execute,
        // The debug registers cannot watch reads alone: rwatch watches reads and writes.
        "rwatch" | "awatch" => WatchAccess::ReadWrite,
        _ => WatchAccess::Write,
    };
    let text = call.args.trim();
    if text.is_empty() {
        bail!("{} takes an expression (the address to watch)", call.name);
    }
    if access == WatchAccess::Execute {
        // One instruction: its address is all there is.
        return set_watch(dbg, text, 1, access);
    }
    let (expression, size) = match text.rsplit_once(char::is_whitespace) {
        Some((e, s)) if s.parse::<u64>().is_ok() => (e.trim(), s.parse()?),
        _ => (text, 8),
    };
    set_watch(dbg, expression, size, access)
}

fn set_watch(dbg: &mut Debugger, expression: &str, size: u64, access: WatchAccess) -> Result<()> {
    let pid = dbg.process()?;
    let address = dbg.eval(expression.trim_start_matches('*'))?;
    let place = |dbg: &mut Debugger| {
        crate::format::place(&mut dbg.session, pid, address).map(|p| format!(" {p}")).unwrap_or_default()
    };
    if access == WatchAccess::Execute && size == 1 {
        let id = dbg.session.add_hardware_breakpoint(pid, address)?;
        say!("Hardware breakpoint {id} at {address:016x}{}", place(dbg));
        return Ok(());
    }
    if size > MAX_HARDWARE_WATCH && matches!(access, WatchAccess::Write | WatchAccess::ReadWrite) {
        // More than the debug registers cover: the pages lose their rights
        // instead, and each access to them faults (vtrace's page watchpoint).
        let id = dbg.session.add_page_watchpoint(pid, address, size, access)?;
        say!("Page watchpoint {id}: {} {size} bytes at {address:016x}{}", access.name(), place(dbg));
        return Ok(());
    }
    let id = dbg.session.add_watchpoint(pid, address, size, access)?;
    say!("Watchpoint {id}: {} {size} bytes at {address:016x}{}", access.name(), place(dbg));
    Ok(())
}

/// `wl`: the watchpoints (and hardware breakpoints), as `bl` shows them.
pub fn list(dbg: &mut Debugger, _call: &Call) -> Result<()> {
    for w in dbg.session.watchpoints() {
        let kind = if w.page { "page" } else { "hardware" };
        let state = if w.enabled { "e" } else { "d" };
        say!("{:3} {state} {kind} {} {} bytes at {:016x} hits={}", w.id, w.access.name(), w.len, w.address, w.hits);
    }
    Ok(())
}

/// `wc ID` or `wc *`: remove watchpoints.
pub fn clear(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let ids: Vec<u32> = match call.args.trim() {
        "*" => dbg.session.watchpoints().iter().map(|w| w.id).collect(),
        text => vec![text.parse().map_err(|_| anyhow!("wc takes a watchpoint id (see wl) or *"))?],
    };
    for id in ids {
        dbg.session.remove_watchpoint(id)?;
    }
    Ok(())
}

/// Splits `.call` arguments: `"text"` is a string copied into the target, anything else an expression.
fn call_words(text: &str) -> Result<Vec<(bool, String)>> {
    let mut out = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        if let Some(quoted) = rest.strip_prefix('"') {
            let end = quoted.find('"').ok_or_else(|| anyhow!("unclosed string in {text:?}"))?;
            out.push((true, quoted[..end].to_string()));
            rest = quoted[end + 1..].trim_start();
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            out.push((false, rest[..end].to_string()));
            rest = rest[end..].trim_start();
        }
    }
    Ok(out)
}

/// `.call FUNCTION [ARG...]`: call a function of the target in the current thread.
pub fn dot_call(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let mut words = call_words(call.args)?;
    if words.is_empty() {
        bail!(".call takes a function and its arguments: .call strlen \"abc\"");
    }
    let (_, function) = words.remove(0);
    let result = call_in_target(dbg, &function, words)?;
    say!("rax = {:#x} ({})", result.rax, result.rax as i64);
    Ok(())
}

/// Calls `function` in the current thread with arguments that are strings
/// (copied into the target) or expressions.
fn call_in_target(dbg: &mut Debugger, function: &str, words: Vec<(bool, String)>) -> Result<dbgkit::CallResult> {
    let current = dbg.stopped()?;
    let address = dbg.eval(function)?;
    let mut args = Vec::new();
    for (quoted, word) in words {
        args.push(if quoted { CallArg::Str(word) } else { CallArg::Int(dbg.eval(&word)?) });
    }
    Ok(dbg.session.call(current.pid, current.tid, address, &args)?)
}

/// Splits `f(1, "a,b", g(2))` into the function and its arguments (a
/// quoted argument is a string copied into the target).
fn c_call_parts(text: &str) -> Result<(String, Vec<(bool, String)>)> {
    let text = text.trim();
    let open =
        text.find('(').ok_or_else(|| anyhow!("call takes FUNCTION(ARGS): call strlen(\"abc\"), call bump(41)"))?;
    let function = text[..open].trim().to_string();
    let inner =
        text[open + 1..].strip_suffix(')').ok_or_else(|| anyhow!("the arguments of {function} do not end with `)`"))?;
    if function.is_empty() {
        bail!("call takes a function name before the parenthesis");
    }
    let mut args = Vec::new();
    let mut current = String::new();
    let (mut depth, mut quoted, mut escaped) = (0i32, false, false);
    for c in inner.chars() {
        if quoted {
            match c {
                _ if escaped => {
                    current.push(match c {
                        'n' => '\n',
                        't' => '\t',
                        '0' => '\0',
                        other => other,
                    });
                    escaped = false;
                }
                '\\' => escaped = true,
                '"' => quoted = false,
                c => current.push(c),
            }
            continue;
        }
        match c {
            '"' if current.trim().is_empty() => {
                quoted = true;
                current.clear();
                current.push('"');
            }
            '(' => {
                depth += 1;
                current.push(c);
            }
            ')' => {
                depth -= 1;
                current.push(c);
            }
            ',' if depth == 0 => args.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    if quoted || depth != 0 {
        bail!("unbalanced quotes or parentheses in {text:?}");
    }
    if !current.trim().is_empty() || !args.is_empty() {
        args.push(current);
    }
    let args = args
        .into_iter()
        .map(|a| match a.strip_prefix('"') {
            Some(s) => Ok((true, s.to_string())),
            None if a.trim().is_empty() => Err(anyhow!("an argument of {function} is empty")),
            None => Ok((false, a.trim().to_string())),
        })
        .collect::<Result<_>>()?;
    Ok((function, args))
}

/// gdb's `call FUNCTION(ARGS)`: the value comes back as gdb shows it, `$N = VALUE`.
pub fn c_call(dbg: &mut Debugger, call: &Call) -> Result<()> {
    dbg.stopped()?;
    let (function, words) = c_call_parts(call.args)?;
    let result = call_in_target(dbg, &function, words)?;
    dbg.value_history += 1;
    say!("${} = {}", dbg.value_history, result.rax as i64);
    Ok(())
}

/// `.inject PATH`: load a shared object into the target with its `dlopen`.
pub fn inject(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let current = dbg.stopped()?;
    let path = call.args.trim().trim_matches('"');
    if path.is_empty() {
        bail!(".inject takes the path of a shared object");
    }
    // The target resolves relative paths from its own directory: give it ours, made absolute.
    // A missing file is left to dlopen, whose dlerror() says why.
    let full = std::fs::canonicalize(path).unwrap_or_else(|_| path.into());
    let handle = dbg.session.inject_library(current.pid, current.tid, &full.to_string_lossy())?;
    say!("loaded {} (handle {handle:#x})", full.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_calls_split_into_function_and_arguments() {
        let (f, a) = c_call_parts(r#"strlen("a, (b)\n")"#).unwrap();
        assert_eq!((f.as_str(), a), ("strlen", vec![(true, "a, (b)\n".to_string())]));
        let (f, a) = c_call_parts("add(poi(rsp+8), 2)").unwrap();
        assert_eq!((f.as_str(), a), ("add", vec![(false, "poi(rsp+8)".to_string()), (false, "2".to_string())]));
        assert_eq!(c_call_parts("getpid()").unwrap().1, vec![]);
        for bad in ["strlen", "f(1", "f(\"x)", "(1)", "f(1,)"] {
            assert!(c_call_parts(bad).is_err(), "{bad}");
        }
    }
}
