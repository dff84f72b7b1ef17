//! `dbgkit trace`: the debugger in five minutes, as a command.

use crate::{format::event_line, interrupt};
use anyhow::{bail, Context, Result};
use dbgkit::{parse_signal, ContinueStatus, EventKind, Session, SpawnOptions};
use std::collections::HashSet;
use std::io::Write;

#[derive(clap::Args)]
pub struct TraceArgs {
    /// Attach to this running process instead of launching one.
    #[arg(short = 'p', long = "pid", conflicts_with = "program")]
    pid: Option<i32>,
    /// Suppress this signal (continue its exceptions as handled); repeatable.
    #[arg(long = "handle", value_name = "SIGNAL")]
    handle: Vec<String>,
    /// Plant a breakpoint: an address (`0x401000`) or `MODULE+OFFSET` (`libc.so.6+0x2a0c0`); repeatable.
    #[arg(long = "break", value_name = "ADDRESS")]
    breaks: Vec<String>,
    /// Keep address-space randomisation on (it is turned off by default, as gdb does).
    #[arg(long)]
    aslr: bool,
    /// The program and its arguments.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    program: Vec<String>,
}

/// Where a `--break` goes.
enum BreakSpec {
    Address(u64),
    ModuleOffset { module: String, offset: u64 },
}

fn parse_number(text: &str) -> Option<u64> {
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok().or_else(|| u64::from_str_radix(text, 16).ok()),
    }
}

fn parse_break(text: &str) -> Result<BreakSpec> {
    if let Some(address) = parse_number(text) {
        return Ok(BreakSpec::Address(address));
    }
    if let Some((module, offset)) = text.rsplit_once('+') {
        if let Some(offset) = parse_number(offset) {
            return Ok(BreakSpec::ModuleOffset { module: module.to_string(), offset });
        }
    }
    bail!("bad --break {text:?}: expected an address such as 0x401000 or MODULE+OFFSET such as libc.so.6+0x2a0c0")
}

pub fn run(args: TraceArgs) -> Result<i32> {
    let handled: HashSet<i32> = args
        .handle
        .iter()
        .map(|s| parse_signal(s).with_context(|| format!("unknown signal {s:?} for --handle")))
        .collect::<Result<_>>()?;
    let mut breaks: Vec<(BreakSpec, bool)> =
        args.breaks.iter().map(|b| parse_break(b).map(|s| (s, false))).collect::<Result<_>>()?;
    let mut session = Session::new();
    let attached = if let Some(pid) = args.pid {
        session.attach(pid).with_context(|| format!("cannot attach to process {pid}"))?;
        true
    } else {
        if args.program.is_empty() {
            bail!("nothing to trace: give a program, or -p PID");
        }
        let options = SpawnOptions::new(&args.program).disable_aslr(!args.aslr);
        session.spawn(&options).with_context(|| format!("cannot launch {}", args.program[0]))?;
        false
    };
    interrupt::install();
    let stdout = std::io::stdout();
    let mut exit_code = 0;
    loop {
        if interrupt::take() && attached {
            for pid in session.processes() {
                session.detach(pid).with_context(|| format!("cannot detach from process {pid}"))?;
                writeln!(stdout.lock(), "Detach: pid={pid}")?;
            }
            return Ok(0);
        }
        let event = match session.wait_event(None) {
            Ok(Some(event)) => event,
            Ok(None) => continue,
            Err(dbgkit::Error::NoProcesses) => break,
            Err(e) => return Err(e.into()),
        };
        writeln!(stdout.lock(), "{}", event_line(&event))?;
        plant_pending_breaks(&mut session, event.pid, &mut breaks);
        let status = match &event.kind {
            EventKind::Exception { signal, .. } if handled.contains(signal) => ContinueStatus::Handled,
            EventKind::Exception { .. } => ContinueStatus::NotHandled,
            EventKind::ProcessExited { code, signal } => {
                exit_code = code.unwrap_or_else(|| 128 + signal.unwrap_or(0));
                ContinueStatus::Handled
            }
            _ => ContinueStatus::Handled,
        };
        session.continue_event(status)?;
    }
    Ok(exit_code)
}

/// Plants each `--break` as soon as its address exists in the process.
fn plant_pending_breaks(session: &mut Session, pid: i32, breaks: &mut [(BreakSpec, bool)]) {
    let Ok(modules) = session.modules(pid) else {
        return;
    };
    for (spec, planted) in breaks.iter_mut().filter(|(_, planted)| !*planted) {
        let address = match spec {
            BreakSpec::Address(a) => modules.iter().any(|m| m.contains(*a)).then_some(*a),
            BreakSpec::ModuleOffset { module, offset } => modules
                .iter()
                .find(|m| &m.name == module || m.name.starts_with(&format!("{module}.")))
                .map(|m| m.base + *offset),
        };
        if let Some(address) = address {
            match session.add_breakpoint(pid, address) {
                Ok(_) => *planted = true,
                Err(e) => {
                    eprintln!("dbgkit: {e}");
                    *planted = true;
                }
            }
        }
    }
}
