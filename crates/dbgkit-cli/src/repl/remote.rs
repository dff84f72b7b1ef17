//! Targets behind a GDB remote stub: `dbgkit --remote HOST:PORT [FILE]`,
//! gdb's `target remote` / `target extended-remote`, `monitor`, and for a
//! kernel in QEMU: `.reload` (find the kernel and its modules again) and
//! `!process 0 0` (the kernel's process list).

use super::commands::Call;
use super::debugger::{say, Current, Debugger};
use anyhow::{bail, Context, Result};
use dbgkit::ConnectOptions;
use std::path::PathBuf;

/// Connects, shows the replayed events and stops at the target's current place.
pub fn connect(dbg: &mut Debugger, address: &str, options: &ConnectOptions) -> Result<()> {
    let pid = dbg.session.connect_with(address, options).with_context(|| format!("cannot connect to {address}"))?;
    dbg.current = Some(Current { pid, tid: pid, frame: 0 });
    if let Ok(placement) = dbg.session.kernel_placement(pid) {
        match placement.slide {
            Some(slide) => say!("Kernel: KASLR slide {slide:#x} ({})", placement.how),
            None => say!("Kernel: {}", placement.how),
        }
    }
    if let Some(stop) = dbg.wait_stop()? {
        dbg.show_stop(&stop);
    }
    Ok(())
}

/// `target remote ADDRESS [FILE]`, `target extended-remote ADDRESS [FILE]`.
pub fn target(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let mut words = call.args.split_whitespace();
    let Some(address) = words.next() else {
        bail!("{} takes HOST:PORT (or `| COMMAND`), then optionally the program or vmlinux", call.name);
    };
    // `| COMMAND ARGS...` is the whole rest of the line.
    let (address, file) = if address.starts_with('|') {
        (call.args.trim().to_string(), None)
    } else {
        (address.to_string(), words.next().map(PathBuf::from))
    };
    if let Some(extra) = words.next() {
        bail!("unexpected {extra:?}: {} takes an address and at most one file", call.name);
    }
    let options = ConnectOptions { symbols: file, extended: call.name.contains("extended"), ..Default::default() };
    connect(dbg, &address, &options)
}

/// `monitor COMMAND`: a command of the stub itself (QEMU's monitor, gdbserver's).
pub fn monitor(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let pid = dbg.process()?;
    let command = call.args.trim();
    if command.is_empty() {
        bail!("monitor takes the stub's command: monitor info registers (QEMU), monitor help");
    }
    let output = dbg.session.monitor(pid, command)?;
    print!("{output}");
    if !output.is_empty() && !output.ends_with('\n') {
        say!("");
    }
    Ok(())
}

/// `.reload`: where the kernel is now, and its modules.
pub fn reload(dbg: &mut Debugger, _call: &Call) -> Result<()> {
    let pid = dbg.process()?;
    let changes = dbg.session.reload_kernel(pid)?;
    match changes.placement {
        Some(p) => match p.slide {
            Some(slide) => say!("Kernel: KASLR slide {slide:#x} ({})", p.how),
            None => say!("Kernel: {}", p.how),
        },
        None => say!("Kernel: where it was"),
    }
    for m in &changes.unloaded {
        say!("ModUnload: {:016x}-{:016x} {}", m.base, m.end(), m.name);
    }
    for m in &changes.loaded {
        say!("ModLoad: {:016x}-{:016x} {}", m.base, m.end(), m.name);
    }
    Ok(())
}

/// `!process 0 0`: every process of the kernel, as WinDbg lists them.
pub fn process_list(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let pid = dbg.process()?;
    let args: Vec<&str> = call.args.split_whitespace().collect();
    if !(args.is_empty() || args == ["0", "0"]) {
        bail!("only `!process 0 0` (every process, briefly) is known");
    }
    let list = dbg.session.kernel_processes(pid)?;
    say!("**** ACTIVE PROCESS DUMP ****");
    for p in &list {
        say!("PROCESS {:016x}", p.address);
        say!(
            "    Pid: {:<6} ParentPid: {:<6} Image: {}{}",
            p.pid,
            p.parent_pid,
            p.comm,
            if p.user { "" } else { "  (kernel thread)" }
        );
        say!("");
    }
    Ok(())
}
