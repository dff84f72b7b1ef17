//! `dbgkit trace`: the debugger in five minutes, as a command.

use crate::format::{event_address, event_line, place};
use crate::interrupt;
use anyhow::{bail, Context, Result};
use dbgkit::{parse_signal, BreakpointOptions, EventKind, Session, SpawnOptions, WatchSpec};
use std::collections::HashSet;
use std::io::Write;

#[derive(clap::Args)]
pub struct TraceArgs {
    /// Attach to this running process instead of launching one.
    #[arg(short = 'p', long = "pid", conflicts_with = "program")]
    pid: Option<i32>,
    /// Trace a program behind a GDB remote stub at HOST:PORT (gdbserver, or
    /// dbgkit-winstub running a Windows program under Wine); the program
    /// argument is its file here, for symbols.
    #[arg(long = "remote", value_name = "HOST:PORT", conflicts_with = "pid")]
    remote: Option<String>,
    /// Suppress this signal (continue its exceptions as handled); repeatable.
    #[arg(long = "handle", value_name = "SIGNAL")]
    handle: Vec<String>,
    /// Plant a breakpoint on an expression: `main`, `libc.so.6!socket`, `crash.c:7`, `0x401000`,
    /// `libc.so.6+0x2a0c0`; pending until its module loads; repeatable.
    #[arg(long = "break", value_name = "EXPR")]
    breaks: Vec<String>,
    /// A hardware watchpoint, WinDbg's `ba` syntax: an access letter (`w` write,
    /// `r` read/write, `e` execute) and a size, then an expression:
    /// `--watch "w8 counter"`; repeatable.
    #[arg(long = "watch", value_name = "ACCESS+SIZE EXPR")]
    watches: Vec<String>,
    /// Follow children (strace's `-f`, WinDbg's `.childdbg 1`): every process
    /// the program starts is traced too, with the same `--break`s and `--watch`es.
    #[arg(short = 'f', long = "follow-forks")]
    follow_forks: bool,
    /// Print the stack of the thread at every exception and breakpoint.
    #[arg(long)]
    stack: bool,
    /// Keep address-space randomisation on (it is turned off by default, as gdb does).
    #[arg(long)]
    aslr: bool,
    /// The program and its arguments.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    program: Vec<String>,
}

pub fn run(args: TraceArgs) -> Result<i32> {
    let handled: HashSet<i32> = args
        .handle
        .iter()
        .map(|s| parse_signal(s).with_context(|| format!("unknown signal {s:?} for --handle")))
        .collect::<Result<_>>()?;
    let mut session = Session::new();
    session.set_follow_children(args.follow_forks);
    let (root, attached) = if let Some(address) = &args.remote {
        let symbols = args.program.first().map(std::path::Path::new);
        let pid = session.connect(address, symbols).with_context(|| format!("cannot connect to {address}"))?;
        plant_breaks(&mut session, pid, &args.breaks, args.follow_forks)?;
        set_watches(&mut session, pid, &args.watches)?;
        // Ctrl-C leaves it as an attach does: detached, running on.
        (pid, true)
    } else if let Some(pid) = args.pid {
        session.attach(pid).with_context(|| format!("cannot attach to process {pid}"))?;
        plant_breaks(&mut session, pid, &args.breaks, args.follow_forks)?;
        set_watches(&mut session, pid, &args.watches)?;
        (pid, true)
    } else {
        if args.program.is_empty() {
            bail!("nothing to trace: give a program, or -p PID");
        }
        let options = SpawnOptions::new(&args.program).disable_aslr(!args.aslr);
        let pid = session.spawn(&options).with_context(|| format!("cannot launch {}", args.program[0]))?;
        plant_breaks(&mut session, pid, &args.breaks, args.follow_forks)?;
        set_watches(&mut session, pid, &args.watches)?;
        (pid, false)
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
        let place = event_address(&event).and_then(|a| place(&mut session, event.pid, a));
        writeln!(stdout.lock(), "{}", event_line(&event, place.as_deref()))?;
        if args.stack
            && matches!(
                event.kind,
                EventKind::Exception { .. } | EventKind::Breakpoint { .. } | EventKind::Watchpoint { .. }
            )
        {
            print_stack(&mut session, event.pid, event.tid, &mut stdout.lock())?;
        }
        if matches!(event.kind, EventKind::ProcessCreated { .. }) && event.pid != root {
            // A followed child: its breakpoints are the engine's copies; watchpoints are set here.
            set_watches(&mut session, event.pid, &args.watches)?;
        }
        // The exit status is the traced program's, as strace's is, not its children's.
        if let Some(code) = event.kind.exit_status().filter(|_| event.pid == root) {
            exit_code = code;
        }
        session.continue_event(event.kind.default_status_with(|signal| !handled.contains(&signal)))?;
    }
    Ok(exit_code)
}

/// Sets every `--break` on the traced process (pending ones wait for their
/// module); with `-f`, for its children too.
fn plant_breaks(session: &mut Session, pid: i32, breaks: &[String], all_processes: bool) -> Result<()> {
    for expression in breaks {
        session
            .add_breakpoint_at(pid, expression, BreakpointOptions::default().all_processes(all_processes))
            .with_context(|| format!("bad --break {expression:?}"))?;
    }
    Ok(())
}

/// Sets every `--watch` (`w8 counter`: access letter, size, expression).
fn set_watches(session: &mut Session, pid: i32, watches: &[String]) -> Result<()> {
    for spec in watches {
        let watch = WatchSpec::parse(spec).context("bad --watch")?;
        let address = session.resolve(pid, &watch.expression).with_context(|| format!("bad --watch {spec:?}"))?;
        session
            .add_watchpoint(pid, address, watch.size, watch.access)
            .with_context(|| format!("cannot set --watch {spec:?}"))?;
    }
    Ok(())
}

/// The stack of a thread, one frame a line, as in the classic example.
fn print_stack(session: &mut Session, pid: i32, tid: i32, out: &mut impl Write) -> Result<()> {
    match session.stack(pid, tid) {
        Ok(stack) => {
            for frame in &stack.frames {
                let name = frame.symbol.as_ref().map(|s| s.with_location()).unwrap_or_default();
                writeln!(out, "  #{} {:016x} {}", frame.number, frame.pc, name)?;
            }
            if let Some(reason) = &stack.stopped {
                writeln!(out, "  ({reason})")?;
            }
        }
        Err(e) => writeln!(out, "  (no stack: {e})")?,
    }
    Ok(())
}
