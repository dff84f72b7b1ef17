//! gdb's automatic displays: `display[/FMT] EXPR` shows EXPR at every
//! stop, `undisplay [N...]` removes them, `info display` lists them.

use super::args;
use super::commands::Call;
use super::debugger::{say, Debugger};
use anyhow::{bail, Result};

/// One expression shown at every stop.
#[derive(Clone, Debug)]
pub struct Display {
    pub number: u32,
    pub expression: String,
    /// gdb's format letters: `x`, `d`, `u`, `o`, `t`, `c`, or `i`/`s` (with a count) for memory.
    pub format: Option<String>,
}

fn check_format(format: &str) -> Result<()> {
    let letters = format.trim_start_matches(|c: char| c.is_ascii_digit());
    if letters.is_empty() || !letters.chars().all(|c| "xduotcisabhwg".contains(c)) {
        bail!("bad display format /{format}: x d u o t c, or i and s for memory (display/i $pc)");
    }
    Ok(())
}

/// Whether a format examines memory (`display/i $pc`, `display/2s ptr`).
fn examines_memory(format: &str) -> bool {
    format.contains('i') || format.contains('s')
}

impl Debugger {
    /// Shows every display (at a stop, or after `display EXPR`).
    pub fn show_displays(&mut self) {
        for d in self.displays.clone() {
            self.show_display(&d);
        }
    }

    fn show_display(&mut self, d: &Display) {
        match d.format.as_deref() {
            Some(f) if examines_memory(f) => {
                say!("{}: x/{f} {}", d.number, d.expression);
                let line = format!("x/{f} {}", d.expression);
                if let Err(e) = self.execute(&line) {
                    say!("<error: {e:#}>");
                }
            }
            format => {
                let shown = match self.eval(&d.expression) {
                    Ok(v) => match format {
                        Some(f) if f.ends_with('x') => format!("{v:#x}"),
                        Some(f) if f.ends_with('o') => format!("{v:#o}"),
                        Some(f) if f.ends_with('t') => format!("{v:b}"),
                        Some(f) if f.ends_with('u') => v.to_string(),
                        Some(f) if f.ends_with('c') => format!("{} '{}'", v as u8 as i8, (v as u8).escape_ascii()),
                        _ => (v as i64).to_string(),
                    },
                    Err(e) => format!("<error: {e}>"),
                };
                let fmt = format.map(|f| format!("/{f} ")).unwrap_or_default();
                say!("{}: {fmt}{} = {shown}", d.number, d.expression);
            }
        }
    }
}

/// `display[/FMT] EXPR`; `display` alone shows them all now.
pub fn display(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let expression = call.args.trim();
    if expression.is_empty() {
        if call.fmt.is_some() {
            bail!("display/FMT takes an expression: display/x $rax");
        }
        dbg.show_displays();
        return Ok(());
    }
    if let Some(f) = call.fmt {
        check_format(f)?;
    }
    // A bad expression is refused now rather than at every stop.
    dbgkit::expr::parse(&super::eval::gdb_registers(expression))
        .map_err(|error| dbgkit::Error::BadExpression { text: expression.to_string(), error })?;
    let d =
        Display { number: dbg.next_display, expression: expression.to_string(), format: call.fmt.map(str::to_string) };
    dbg.next_display += 1;
    dbg.displays.push(d.clone());
    if dbg.stopped().is_ok() {
        dbg.show_display(&d);
    }
    Ok(())
}

/// `undisplay [N...]` (every display without N), also `delete display`.
pub fn undisplay(dbg: &mut Debugger, call: &Call) -> Result<()> {
    match args::id_list(call.args) {
        _ if call.args.trim().is_empty() => dbg.displays.clear(),
        Ok(None) => dbg.displays.clear(),
        Ok(Some(ids)) => {
            for id in &ids {
                if !dbg.displays.iter().any(|d| d.number == *id) {
                    bail!("no display number {id}: info display lists them");
                }
            }
            dbg.displays.retain(|d| !ids.contains(&d.number));
        }
        Err(e) => return Err(e),
    }
    Ok(())
}

/// `info display`.
pub fn info_display(dbg: &mut Debugger, _call: &Call) -> Result<()> {
    if dbg.displays.is_empty() {
        say!("There are no auto-display expressions now.");
        return Ok(());
    }
    say!("Auto-display expressions now in effect:\nNum Enb Expression");
    for d in &dbg.displays {
        let fmt = d.format.as_ref().map(|f| format!("/{f} ")).unwrap_or_default();
        say!("{}:   y  {fmt}{}", d.number, d.expression);
    }
    Ok(())
}
