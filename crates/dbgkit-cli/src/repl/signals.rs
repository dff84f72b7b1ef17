//! What the debugger does with each signal the target receives: stop at
//! the prompt, print a line, and pass it to the program or not. WinDbg's
//! `sxe`/`sxd`/`sxn`/`sxi` and gdb's `handle` edit the same table.
//!
//! A second-chance exception (the signal is about to kill the program)
//! always stops. Signals that neither stop nor print and are passed are
//! made quiet in the engine: they produce no event at all. Signals that do
//! not stop are told to the engine too, so that a step goes on after them.

use super::commands::Call;
use super::debugger::{say, Debugger};
use anyhow::{anyhow, bail, Result};
use dbgkit::{parse_signal, signal_name};
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    pub stop: bool,
    pub print: bool,
    pub pass: bool,
}

impl Policy {
    /// Passed to the program with no event at all (the engine need not stop for it).
    pub fn quiet(self) -> bool {
        !self.stop && !self.print && self.pass
    }
}

/// The per-signal table, with gdb's defaults.
#[derive(Default)]
pub struct Signals {
    changed: BTreeMap<i32, Policy>,
}

fn default_policy(signal: i32) -> Policy {
    let quiet = Policy { stop: false, print: false, pass: true };
    match signal {
        dbgkit::signal_numbers::SIGALRM
        | dbgkit::signal_numbers::SIGURG
        | dbgkit::signal_numbers::SIGCHLD
        | dbgkit::signal_numbers::SIGWINCH
        | dbgkit::signal_numbers::SIGIO
        | dbgkit::signal_numbers::SIGVTALRM
        | dbgkit::signal_numbers::SIGPROF
        | dbgkit::signal_numbers::SIGPWR => quiet,
        // Ctrl-C breaks in by itself; the terminal's copy of it is not the program's business.
        dbgkit::signal_numbers::SIGINT => Policy { stop: false, print: false, pass: false },
        dbgkit::signal_numbers::SIGTRAP => Policy { stop: true, print: true, pass: false },
        // glibc's own signals (thread cancellation, set*id across threads).
        s if s == dbgkit::signal_numbers::SIGRTMIN || s == dbgkit::signal_numbers::SIGRTMIN + 1 => quiet,
        _ => Policy { stop: true, print: true, pass: true },
    }
}

impl Signals {
    pub fn get(&self, signal: i32) -> Policy {
        self.changed.get(&signal).copied().unwrap_or_else(|| default_policy(signal))
    }

    /// Changes a signal's policy; whether the engine reports it at all is
    /// set by `Debugger::refresh_signal_reporting`, which also knows the
    /// catchpoints.
    fn set(&mut self, dbg_session: &mut dbgkit::Session, signal: i32, policy: Policy) {
        self.changed.insert(signal, policy);
        dbg_session.set_signal_stops(signal, policy.stop);
    }

    /// Tells the engine which signals need no event and which do not
    /// stop (at start-up).
    pub fn apply_defaults(session: &mut dbgkit::Session) {
        for signal in 1..=64 {
            let p = default_policy(signal);
            session.set_signal_quiet(signal, p.quiet());
            session.set_signal_stops(signal, p.stop);
        }
    }
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "Yes"
    } else {
        "No"
    }
}

fn row(signal: i32, p: Policy) -> String {
    format!("{:<12} {:<6} {:<6} {}", signal_name(signal), yes_no(p.stop), yes_no(p.print), yes_no(p.pass))
}

const HEADER: &str = "Signal       Stop   Print  Pass";

fn parse(text: &str) -> Result<i32> {
    parse_signal(text.trim()).ok_or_else(|| anyhow!("unknown signal {:?}: try SIGSEGV, segv or 11", text.trim()))
}

/// `sxe`, `sxd`, `sxn`, `sxi SIGNAL`; `sx` alone lists the table.
pub fn sx(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let signal_text = call.args.trim();
    if call.name == "sx" || signal_text.is_empty() {
        if call.name != "sx" {
            bail!("{} needs a signal: {} SIGSEGV", call.name, call.name);
        }
        return list(dbg, call);
    }
    // WinDbg's module events: `sxe ld:libfoo.so` breaks when it loads, `ud:` when it unloads.
    for (prefix, kind) in [("ld", "load"), ("ud", "unload")] {
        if let Some(module) =
            signal_text.strip_prefix(prefix).and_then(|r| r.strip_prefix(':').or(r.is_empty().then_some("")))
        {
            return super::catchpoints::module_event_filter(dbg, call.name, kind, module.trim());
        }
    }
    let signal = parse(signal_text)?;
    let old = dbg.signals.get(signal);
    let policy = match call.name {
        // Break at the first chance.
        "sxe" => Policy { stop: true, print: true, ..old },
        // Break only at the second chance; say so at the first.
        "sxd" | "sxn" => Policy { stop: false, print: true, ..old },
        // Neither break nor say (second chances still stop).
        "sxi" => Policy { stop: false, print: false, ..old },
        other => bail!("unknown signal command {other}"),
    };
    dbg.signals.set(&mut dbg.session, signal, policy);
    dbg.refresh_signal_reporting();
    say!("{HEADER}");
    say!("{}", row(signal, policy));
    Ok(())
}

/// gdb's `handle SIGNAL [stop|nostop|print|noprint|pass|nopass|ignore|noignore]...`.
pub fn handle(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let mut words = call.args.split_whitespace();
    let Some(signal_text) = words.next() else {
        return list(dbg, call);
    };
    let signal = parse(signal_text)?;
    let mut p = dbg.signals.get(signal);
    for word in words {
        match word.to_ascii_lowercase().as_str() {
            "stop" => {
                p.stop = true;
                p.print = true;
            }
            "nostop" => p.stop = false,
            "print" => p.print = true,
            "noprint" => {
                p.print = false;
                p.stop = false;
            }
            "pass" | "noignore" => p.pass = true,
            "nopass" | "ignore" => p.pass = false,
            other => bail!("bad keyword {other:?}: expected stop, nostop, print, noprint, pass or nopass"),
        }
    }
    dbg.signals.set(&mut dbg.session, signal, p);
    dbg.refresh_signal_reporting();
    say!("{HEADER}");
    say!("{}", row(signal, p));
    Ok(())
}

/// The table, for the usual signals (or the row of one: `info signals SIGINT`).
pub fn list(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let one = call.args.split_whitespace().next();
    if let Some(text) = one.filter(|_| call.name != "handle") {
        let signal = parse(text)?;
        say!("{HEADER}");
        say!("{}", row(signal, dbg.signals.get(signal)));
        return Ok(());
    }
    say!("{HEADER}");
    for signal in 1..=31 {
        if signal == dbgkit::signal_numbers::SIGKILL || signal == dbgkit::signal_numbers::SIGSTOP {
            continue;
        }
        say!("{}", row(signal, dbg.signals.get(signal)));
    }
    Ok(())
}
