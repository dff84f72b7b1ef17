//! Tab completion at the prompt: command names first on a line (or after
//! `;`), then register names (`rip`, `@rip`, `$rip`), module names and
//! symbols (`counter!bu` -> `counter!bump`), found by a prefix search of the
//! session's symbol tables.

use super::args::regex_escape;
use super::commands::{all_names, find};
use super::debugger::Debugger;
use dbgkit::Registers;
use rustyline::completion::{Completer, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::Context;
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;

/// At most this many symbols are offered.
const MAX_CANDIDATES: usize = 500;

pub struct Helper {
    dbg: Rc<RefCell<Debugger>>,
}

impl Helper {
    pub fn new(dbg: Rc<RefCell<Debugger>>) -> Helper {
        Helper { dbg }
    }
}

/// Characters that end a word being completed.
fn is_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, ';' | '(' | ')' | '+' | '-' | '*' | '/' | ',' | '=' | '<' | '>' | '&' | '|' | '"')
}

/// The candidates for a word; `first` when it is the command name,
/// `registers_only` for the arguments of `r`.
pub fn candidates(dbg: &mut Debugger, word: &str, first: bool, registers_only: bool) -> Vec<String> {
    let mut out = BTreeSet::new();
    if first {
        for name in all_names() {
            let name = if name == "x/" { "x" } else { name };
            if name.starts_with(word) && !name.contains(' ') {
                out.insert(name.to_string());
            }
        }
        // gdb's two-word names complete from their first word.
        if let Some(prefix) = word.strip_suffix(' ') {
            for name in all_names().filter(|n| n.starts_with(prefix) && n.contains(' ')) {
                out.insert(name.to_string());
            }
        }
        return out.into_iter().collect();
    }
    let (sigil, bare) = match word.chars().next() {
        Some(c @ ('@' | '$')) => (Some(c), &word[1..]),
        _ => (None, word),
    };
    let lower = bare.to_ascii_lowercase();
    for name in Registers::NAMES.iter().copied().chain(["eax", "efl", "pc"].iter().copied()) {
        if name.starts_with(&lower) && (name != "pc" || sigil == Some('$')) {
            out.insert(format!("{}{name}", sigil.map(String::from).unwrap_or_default()));
        }
    }
    if sigil.is_none() && !registers_only {
        symbol_candidates(dbg, word, &mut out);
    }
    out.into_iter().collect()
}

fn symbol_candidates(dbg: &mut Debugger, word: &str, out: &mut BTreeSet<String>) {
    let Some(pid) = dbg.current.map(|c| c.pid) else { return };
    let Ok(modules) = dbg.session.modules(pid) else { return };
    match word.split_once('!') {
        Some((module, prefix)) => {
            let pattern = format!("^{}", regex_escape(prefix));
            let Ok(found) = dbg.session.search_symbols(pid, &pattern, Some(module)) else { return };
            for s in found.into_iter().filter(|s| s.name.starts_with(prefix)).take(MAX_CANDIDATES) {
                out.insert(format!("{module}!{}", s.name));
            }
        }
        None => {
            for m in &modules {
                if m.name.starts_with(word) {
                    out.insert(format!("{}!", m.name));
                }
            }
            if word.is_empty() {
                return;
            }
            let pattern = format!("^{}", regex_escape(word));
            let Ok(found) = dbg.session.search_symbols(pid, &pattern, None) else { return };
            for s in found.into_iter().filter(|s| s.name.starts_with(word)).take(MAX_CANDIDATES) {
                out.insert(s.name);
            }
        }
    }
}

impl Completer for Helper {
    type Candidate = Pair;

    fn complete(&self, line: &str, pos: usize, _ctx: &Context<'_>) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = &line[..pos];
        let command_start = before.rfind(';').map(|i| i + 1).unwrap_or(0);
        let segment = &before[command_start..];
        let trimmed = segment.trim_start();
        let segment_start = command_start + (segment.len() - trimmed.len());
        let word_start = before.rfind(is_separator).map(|i| i + 1).unwrap_or(0).max(segment_start);
        let word = &before[word_start..];
        let first = word_start == segment_start;
        // `info r<TAB>`: complete gdb's two-word names as a whole.
        let (start, word, first) = if !first && !trimmed[..trimmed.len() - word.len()].trim().contains(' ') {
            let head = trimmed[..trimmed.len() - word.len()].trim();
            if all_names().any(|n| n.starts_with(&format!("{head} "))) {
                (segment_start, trimmed, true)
            } else {
                (word_start, word, first)
            }
        } else {
            (word_start, word, first)
        };
        let Ok(mut dbg) = self.dbg.try_borrow_mut() else { return Ok((start, Vec::new())) };
        let found = if first && word.contains(' ') {
            all_names().filter(|n| n.starts_with(word)).map(str::to_string).collect()
        } else {
            let registers_only = !first && find(trimmed).is_ok_and(|(c, _)| c.name == "r");
            candidates(&mut dbg, word, first, registers_only)
        };
        let pairs = found
            .into_iter()
            .map(|c| {
                let replacement = if first && !c.ends_with('!') { format!("{c} ") } else { c.clone() };
                Pair { display: c, replacement }
            })
            .collect();
        Ok((start, pairs))
    }
}

impl Hinter for Helper {
    type Hint = String;
}

impl Highlighter for Helper {}

impl Validator for Helper {}

impl rustyline::Helper for Helper {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_and_registers_complete_without_a_process() {
        let mut dbg = Debugger::new(false, false);
        let found = candidates(&mut dbg, ".det", true, false);
        assert_eq!(found, [".detach"]);
        let found = candidates(&mut dbg, "ri", false, true);
        assert_eq!(found, ["rip"]);
        let found = candidates(&mut dbg, "$rs", false, false);
        assert_eq!(found, ["$rsi", "$rsp"]);
        assert!(candidates(&mut dbg, "b", true, false).contains(&"bp".to_string()));
    }
}
