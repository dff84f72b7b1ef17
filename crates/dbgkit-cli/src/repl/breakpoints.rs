//! Breakpoints: bp, bu, tbreak, bl, bc, bd, be, condition, ignore. Their
//! numbers are the engine's (shared with watchpoints, hardware breakpoints
//! and what Python scripts set) and stay the same across `.restart`.

use super::args;
use super::commands::{find, Call};
use super::debugger::{say, Debugger, UserBreakpoint};
use super::eval::gdb_registers;
use crate::format::place;
use anyhow::{anyhow, bail, Result};
use dbgkit::BreakpointKind;

/// What a `bp` line asks for.
#[derive(Debug, Default, PartialEq)]
struct Spec {
    place: String,
    condition: Option<String>,
    one_shot: bool,
    /// WinDbg's command string: `bp ADDR "k; g"`.
    commands: Vec<String>,
}

/// Whether a quoted text after `bp ADDR` is WinDbg's command string rather
/// than a condition: it starts with a command name followed by nothing, `;`
/// or a word (`k`, `r rdi; g`), not by an operator (`p == 3` is a condition).
fn is_command_string(text: &str) -> bool {
    let text = text.trim();
    let end = text.find(|c: char| c.is_whitespace() || c == ';').unwrap_or(text.len());
    let (word, rest) = text.split_at(end);
    if word.is_empty() || find(word).is_err() {
        return false;
    }
    let rest = rest.trim_start();
    match rest.chars().next() {
        None | Some(';') => true,
        Some(c) => c.is_alphanumeric() || c == '@' || c == '$' || c == '"' || c == '-' || c == '/',
    }
}

/// `[/1] [/w "COND"] EXPR ["COND" | "COMMANDS"]` or gdb's `[*]EXPR [if COND]`.
fn parse_spec(text: &str) -> Result<Spec> {
    let mut text = text.trim();
    let mut one_shot = false;
    let mut explicit_condition = None;
    loop {
        if let Some(rest) = text.strip_prefix("/1") {
            one_shot = true;
            text = rest.trim();
        } else if let Some(rest) = text.strip_prefix("/w") {
            let rest = rest.trim_start();
            let quoted = rest
                .strip_prefix('"')
                .ok_or_else(|| anyhow!("/w takes a quoted condition: bp /w \"rdi == 3\" main"))?;
            let close = quoted.find('"').ok_or_else(|| anyhow!("unterminated condition after /w"))?;
            explicit_condition = Some(quoted[..close].to_string());
            text = quoted[close + 1..].trim();
        } else {
            break;
        }
    }
    let (spec, quoted_condition) = match text.find(" if ") {
        Some(i) => (text[..i].trim().to_string(), Some(text[i + 4..].trim().to_string())),
        None => args::trailing_quoted(text)?,
    };
    let (condition, commands) = match quoted_condition {
        Some(q) if !text.contains(" if ") && is_command_string(&q) => (explicit_condition, args::split_commands(&q)),
        Some(_) if explicit_condition.is_some() => bail!("two conditions: /w \"...\" and a quoted one"),
        other => (other.or(explicit_condition), Vec::new()),
    };
    // `*ADDR` stays in the spec: it asks for exactly that address (no prologue skipping).
    let spec = spec.trim().to_string();
    if spec.trim_start_matches('*').trim().is_empty() {
        bail!("give a place: bp main, bp counter.c:12, bp 0x401000");
    }
    if condition.as_deref().is_some_and(|c| c.trim().is_empty()) {
        bail!("empty condition");
    }
    Ok(Spec { place: spec, condition, one_shot, commands })
}

fn set(dbg: &mut Debugger, text: &str, deferred: bool, one_shot: bool) -> Result<()> {
    let parsed = parse_spec(text)?;
    let mut b = UserBreakpoint {
        number: 0,
        pid: None,
        engine: None,
        spec: parsed.place,
        deferred,
        condition: parsed.condition,
        one_shot: one_shot || parsed.one_shot,
        enabled: true,
        ignore: 0,
        commands: parsed.commands,
    };
    match dbg.current {
        Some(c) => {
            // The engine numbers it: one numbering with watchpoints, Python and scripts.
            let (id, pending) = dbg.plant(c.pid, &b)?;
            b.number = id;
            b.engine = Some(id);
            b.pid = Some(c.pid);
            match pending {
                Some(why) => say!("Breakpoint {} pending: {} ({why})", b.number, b.spec),
                None => {
                    let address = dbg.session.breakpoint(id).map(|i| i.address).unwrap_or(0);
                    let name = place(&mut dbg.session, c.pid, address).unwrap_or_default();
                    let more = dbg.session.breakpoint(id).map_or(0, |i| i.locations.len().saturating_sub(1));
                    let others = match more {
                        0 => String::new(),
                        n => format!(" (and {n} more location{}: bl lists them)", if n == 1 { "" } else { "s" }),
                    };
                    say!("Breakpoint {} at {address:016x} {name}{others}", b.number);
                }
            }
        }
        None => {
            // Kept for the engine to give when the program starts.
            b.number = dbg.session.reserve_breakpoint_id();
            say!("Breakpoint {} pending: {} (no process yet)", b.number, b.spec);
        }
    }
    dbg.breakpoints.push(b);
    Ok(())
}

pub fn bp(dbg: &mut Debugger, call: &Call) -> Result<()> {
    set(dbg, call.args, false, false)
}

pub fn bu(dbg: &mut Debugger, call: &Call) -> Result<()> {
    set(dbg, call.args, true, false)
}

pub fn tbreak(dbg: &mut Debugger, call: &Call) -> Result<()> {
    set(dbg, call.args, false, true)
}

/// A breakpoint of the engine the user's list does not hold: a hardware
/// breakpoint or a watchpoint (they live in the target's process only).
fn engine_only(dbg: &Debugger) -> Vec<dbgkit::BreakpointInfo> {
    let known: Vec<u32> = dbg
        .breakpoints
        .iter()
        .filter_map(|b| b.engine)
        .chain(dbg.catchpoints.iter().filter_map(|c| c.engine.map(|(_, id)| id)))
        .collect();
    dbg.session
        .breakpoints()
        .into_iter()
        .filter(|i| i.kind != BreakpointKind::Software && !known.contains(&i.id) && !dbg.is_internal(i.pid, i.id))
        .collect()
}

/// `bl`: one line per breakpoint and watchpoint, by number; a breakpoint
/// with several locations (a name defined in several modules, an inlined
/// function) lists them under it as gdb does (1.1, 1.2).
pub fn bl(dbg: &mut Debugger, _call: &Call) -> Result<()> {
    let mut lines: Vec<(u32, Vec<String>)> = Vec::new();
    for i in 0..dbg.breakpoints.len() {
        let b = dbg.breakpoints[i].clone();
        lines.push((b.number, breakpoint_lines(dbg, &b)));
    }
    for info in engine_only(dbg) {
        lines.push((info.id, vec![watch_line(dbg, &info)]));
    }
    for c in &dbg.catchpoints {
        lines.push((c.number, vec![super::catchpoints::list_line(c)]));
    }
    if lines.is_empty() {
        say!("No breakpoints.");
        return Ok(());
    }
    lines.sort_by_key(|(number, _)| *number);
    for line in lines.into_iter().flat_map(|(_, l)| l) {
        say!("{line}");
    }
    Ok(())
}

fn breakpoint_lines(dbg: &mut Debugger, b: &UserBreakpoint) -> Vec<String> {
    let info = b.engine.and_then(|id| dbg.session.breakpoint(id));
    let state = if b.enabled { "e" } else { "d" };
    let (address, hits, pending) = match &info {
        Some(i) if i.unresolved.is_none() => (format!("{:016x}", i.address), i.hits, None),
        Some(i) => ("pending".to_string(), i.hits, i.unresolved.clone()),
        None => ("pending".to_string(), 0, Some("no process".to_string())),
    };
    let many = info.as_ref().is_some_and(|i| i.locations.len() > 1);
    let address = if many { "<multiple>".to_string() } else { address };
    let mut line = format!("{:>3} {state} {address:<16} hits={hits} {}", b.number, b.spec);
    if let (Some(i), Some(pid), false) = (&info, b.pid, many) {
        if i.unresolved.is_none() {
            if let Some(name) = place(&mut dbg.session, pid, i.address) {
                line.push_str(&format!(" = {name}"));
            }
        }
    }
    if let Some(c) = &b.condition {
        line.push_str(&format!(" if \"{c}\""));
    }
    if let Some(i) = &info {
        if i.ignore_count > i.hits {
            line.push_str(&format!(" ignore={}", i.ignore_count - i.hits));
        }
    }
    if b.one_shot {
        line.push_str(" once");
    }
    if b.deferred {
        line.push_str(" deferred");
    }
    if !b.commands.is_empty() {
        line.push_str(&format!(" commands \"{}\"", b.commands.join("; ")));
    }
    if let Some(why) = pending {
        line.push_str(&format!(" ({why})"));
    }
    let mut lines = vec![line];
    if let (Some(i), Some(pid), true) = (&info, b.pid, many) {
        for (n, &at) in i.locations.iter().enumerate() {
            let name = place(&mut dbg.session, pid, at).unwrap_or_default();
            lines.push(format!("{:>5} {state} {at:016x} {name}", format!("{}.{}", b.number, n + 1)));
        }
    }
    lines
}

/// A watchpoint's or hardware breakpoint's line of `bl`.
fn watch_line(dbg: &mut Debugger, info: &dbgkit::BreakpointInfo) -> String {
    let state = if info.enabled { "e" } else { "d" };
    let what = match &info.kind {
        BreakpointKind::Watch { access, len } => format!("hardware watch {} {len} bytes", access.name()),
        BreakpointKind::PageWatch { access, len } => format!("page watch {} {len} bytes", access.name()),
        _ => "hardware breakpoint".to_string(),
    };
    let name = place(&mut dbg.session, info.pid, info.address).map(|n| format!(" = {n}")).unwrap_or_default();
    format!("{:>3} {state} {:016x} hits={} {what}{name}", info.id, info.address, info.hits)
}

/// What an id of `bc`/`bd`/`be` names: a breakpoint of the user's list
/// (its index) or one of the engine only (a watchpoint, by number).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Selected {
    Listed(usize),
    Engine(u32),
    Catch(usize),
}

/// The breakpoints and watchpoints named by an id list (every one for
/// `*`), all checked first.
fn selected(dbg: &Debugger, call: &Call) -> Result<Vec<Selected>> {
    let text = call.args.trim();
    let gdb_all = text.is_empty() && matches!(call.name, "delete" | "d" | "disable" | "enable");
    let ids = if gdb_all { None } else { args::id_list(text)? };
    let engine_only = engine_only(dbg);
    match ids {
        None => Ok((0..dbg.breakpoints.len())
            .map(Selected::Listed)
            .chain(engine_only.iter().map(|i| Selected::Engine(i.id)))
            .chain((0..dbg.catchpoints.len()).map(Selected::Catch))
            .collect()),
        Some(ids) => ids
            .iter()
            .map(|id| {
                if let Some(i) = dbg.breakpoints.iter().position(|b| b.number == *id) {
                    return Ok(Selected::Listed(i));
                }
                if let Some(i) = dbg.catchpoints.iter().position(|c| c.number == *id) {
                    return Ok(Selected::Catch(i));
                }
                engine_only
                    .iter()
                    .find(|i| i.id == *id)
                    .map(|i| Selected::Engine(i.id))
                    .ok_or_else(|| anyhow!("no breakpoint {id}: bl lists them"))
            })
            .collect(),
    }
}

fn forget_engine(dbg: &mut Debugger, id: u32) -> Result<()> {
    match dbg.session.remove_breakpoint(id) {
        Ok(()) | Err(dbgkit::Error::NoSuchBreakpoint(_)) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// `bc`: clear.
pub fn bc(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let mut chosen = selected(dbg, call)?;
    chosen.sort_unstable();
    for &which in chosen.iter().rev() {
        match which {
            Selected::Listed(i) => {
                if let Some(id) = dbg.breakpoints[i].engine {
                    forget_engine(dbg, id)?;
                }
                dbg.breakpoints.remove(i);
            }
            Selected::Engine(id) => forget_engine(dbg, id)?,
            Selected::Catch(i) => dbg.remove_catchpoint(i)?,
        }
    }
    Ok(())
}

fn enable(dbg: &mut Debugger, call: &Call, on: bool) -> Result<()> {
    for which in selected(dbg, call)? {
        let i = match which {
            Selected::Listed(i) => i,
            Selected::Engine(id) => {
                dbg.session.enable_breakpoint(id, on)?;
                continue;
            }
            Selected::Catch(i) => {
                dbg.enable_catchpoint(i, on)?;
                continue;
            }
        };
        let b = dbg.breakpoints[i].clone();
        if b.enabled == on {
            continue;
        }
        if let (Some(id), Some(pid)) = (b.engine, b.pid) {
            let pending = dbg.session.breakpoint(id).is_none_or(|info| info.unresolved.is_some());
            if pending {
                // A pending breakpoint has no address to plant: set it again in its new state.
                forget_engine(dbg, id)?;
                let mut again = b.clone();
                again.enabled = on;
                let (id, _) = dbg.plant(pid, &again)?;
                dbg.breakpoints[i].engine = Some(id);
            } else {
                dbg.session.enable_breakpoint(id, on)?;
            }
        }
        dbg.breakpoints[i].enabled = on;
    }
    Ok(())
}

pub fn bd(dbg: &mut Debugger, call: &Call) -> Result<()> {
    enable(dbg, call, false)
}

pub fn be(dbg: &mut Debugger, call: &Call) -> Result<()> {
    enable(dbg, call, true)
}

fn one(dbg: &Debugger, text: &str) -> Result<usize> {
    let n: u32 = text.parse().map_err(|_| anyhow!("bad breakpoint id {text:?}: expected a number"))?;
    dbg.breakpoints.iter().position(|b| b.number == n).ok_or_else(|| anyhow!("no breakpoint {n}: bl lists them"))
}

/// `condition N [EXPR]`.
pub fn condition(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let text = call.args.trim();
    let (id_text, expr) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
    if id_text.is_empty() {
        bail!("give a breakpoint id: condition 1 rdi == 3");
    }
    let i = one(dbg, id_text)?;
    let expr = expr.trim().trim_matches('"').trim();
    let condition = (!expr.is_empty()).then(|| expr.to_string());
    if let Some(id) = dbg.breakpoints[i].engine {
        dbg.session.set_breakpoint_condition(id, condition.as_deref().map(gdb_registers).as_deref())?;
    } else if let Some(c) = &condition {
        dbgkit::expr::parse(&gdb_registers(c))
            .map_err(|error| dbgkit::Error::BadExpression { text: gdb_registers(c), error })?;
    }
    let number = dbg.breakpoints[i].number;
    match &condition {
        Some(c) => say!("Breakpoint {number} stops only if \"{c}\""),
        None => say!("Breakpoint {number} now unconditional"),
    }
    dbg.breakpoints[i].condition = condition;
    Ok(())
}

/// `ignore N COUNT`.
pub fn ignore(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let mut words = call.args.split_whitespace();
    let (Some(id_text), Some(count_text), None) = (words.next(), words.next(), words.next()) else {
        bail!("give a breakpoint id and a count: ignore 1 5");
    };
    let i = one(dbg, id_text)?;
    let count = args::number(count_text)?;
    if let Some(id) = dbg.breakpoints[i].engine {
        dbg.session.set_breakpoint_ignore_count(id, count)?;
    }
    dbg.breakpoints[i].ignore = count;
    say!("Breakpoint {} ignores its next {count} hits", dbg.breakpoints[i].number);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windbg_and_gdb_forms() {
        let spec = |place: &str, condition: Option<&str>, one_shot: bool, commands: &[&str]| Spec {
            place: place.into(),
            condition: condition.map(str::to_string),
            one_shot,
            commands: commands.iter().map(|c| c.to_string()).collect(),
        };
        assert_eq!(parse_spec("compute").unwrap(), spec("compute", None, false, &[]));
        assert_eq!(parse_spec("/1 compute \"rdi == 3\"").unwrap(), spec("compute", Some("rdi == 3"), true, &[]));
        assert_eq!(parse_spec("compute if $rdi == 3").unwrap(), spec("compute", Some("$rdi == 3"), false, &[]));
        assert_eq!(parse_spec("*0x401000").unwrap(), spec("*0x401000", None, false, &[]));
        assert_eq!(parse_spec("compute \"r rdi; g\"").unwrap(), spec("compute", None, false, &["r rdi", "g"]));
        assert_eq!(parse_spec("compute \"k\"").unwrap(), spec("compute", None, false, &["k"]));
        assert_eq!(parse_spec("compute \"p == 3\"").unwrap(), spec("compute", Some("p == 3"), false, &[]));
        assert_eq!(
            parse_spec("/w \"rdi == 1\" compute \"k; g\"").unwrap(),
            spec("compute", Some("rdi == 1"), false, &["k", "g"])
        );
        assert!(parse_spec("").is_err());
    }
}
