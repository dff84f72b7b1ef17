//! A tracer in a few lines: runs a program, counts the hits of one
//! breakpoint without stopping for them (a fast breakpoint: its callback
//! counts and the engine resumes), and prints how many there were and how
//! long they took, from the first hit to the program's exit.
//!
//! ```text
//! count_hits FUNCTION-OR-ADDRESS PROGRAM [ARGS...]
//! hits=5000 seconds=0.812345 exit=0
//! ```
//!
//! The same source runs on Linux and, built for `x86_64-pc-windows-gnu`,
//! on Windows (or under Wine), where the breakpoint benchmark uses it.

use dbgkit::{ContinueStatus, EventKind, HitAction, Session, SpawnOptions};
use std::cell::Cell;
use std::rc::Rc;
use std::time::Instant;

fn main() {
    if let Err(e) = run() {
        eprintln!("count_hits: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [target, program @ ..] = args.as_slice() else {
        return Err("usage: count_hits FUNCTION-OR-ADDRESS PROGRAM [ARGS...]".into());
    };
    if program.is_empty() {
        return Err("no program to run".into());
    }
    let mut session = Session::new();
    let pid = session.spawn(&SpawnOptions::new(program))?;
    let address = match target.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16)?,
        None => session.lookup(pid, target)?,
    };
    let hits = Rc::new(Cell::new(0u64));
    let first_hit = Rc::new(Cell::new(None::<Instant>));
    let (counter, first) = (hits.clone(), first_hit.clone());
    session.add_fast_breakpoint(pid, address, move |_| {
        if first.get().is_none() {
            first.set(Some(Instant::now()));
        }
        counter.set(counter.get() + 1);
        HitAction::Continue
    })?;
    loop {
        let Some(event) = session.wait_event(None)? else { continue };
        if let EventKind::ProcessExited { code, .. } = event.kind {
            let seconds = first_hit.get().map_or(0.0, |t| t.elapsed().as_secs_f64());
            session.continue_event(ContinueStatus::Handled)?;
            println!("hits={} seconds={seconds:.6} exit={}", hits.get(), code.unwrap_or(-1));
            return Ok(());
        }
        session.continue_event(ContinueStatus::Handled)?;
    }
}
