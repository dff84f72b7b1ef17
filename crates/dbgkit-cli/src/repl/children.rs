//! What happens to the children the program starts: WinDbg's `.childdbg`
//! (debug them too) and gdb's `follow-fork-mode` / `detach-on-fork`
//! (follow the parent or the child, keep the other or let it go).

use super::commands::Call;
use super::debugger::{say, Debugger};
use anyhow::{bail, Result};

/// The settings that decide which processes stay debugged after a fork.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ForkSettings {
    /// `.childdbg 1`: children are debugged as processes of their own.
    pub debug_children: bool,
    /// gdb's `follow-fork-mode child`: the debugger moves to the child.
    pub follow_child: bool,
    /// gdb's `detach-on-fork` (on by default): the process not followed runs free.
    pub detach_on_fork: bool,
}

impl Default for ForkSettings {
    fn default() -> Self {
        ForkSettings { debug_children: false, follow_child: false, detach_on_fork: true }
    }
}

impl ForkSettings {
    /// Whether the engine has to take children at all.
    pub fn engine_follows(self) -> bool {
        self.debug_children || self.follow_child || !self.detach_on_fork
    }

    /// Whether, at a child's creation, the debugger moves to it and lets its parent go.
    pub fn moves_to_child(self) -> bool {
        self.follow_child && self.detach_on_fork && !self.debug_children
    }
}

fn apply(dbg: &mut Debugger, settings: ForkSettings) {
    dbg.fork_settings = settings;
    dbg.session.set_follow_children(settings.engine_follows());
}

/// WinDbg's `.childdbg [0|1]`.
pub fn childdbg(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let mut settings = dbg.fork_settings;
    match call.args.trim() {
        "" => {}
        "1" => settings.debug_children = true,
        "0" => settings.debug_children = false,
        other => bail!(".childdbg takes 0 or 1, not {other:?}"),
    }
    apply(dbg, settings);
    let will = if settings.engine_follows() { "will" } else { "will not" };
    say!("Processes created by the current process {will} be debugged");
    Ok(())
}

/// gdb's `set follow-fork-mode parent|child`.
pub fn set_follow_fork_mode(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let mut settings = dbg.fork_settings;
    settings.follow_child = match call.args.trim() {
        "parent" => false,
        "child" => true,
        other => bail!("follow-fork-mode is parent or child, not {other:?}"),
    };
    apply(dbg, settings);
    Ok(())
}

/// gdb's `show follow-fork-mode`.
pub fn show_follow_fork_mode(dbg: &mut Debugger, _call: &Call) -> Result<()> {
    let mode = if dbg.fork_settings.follow_child { "child" } else { "parent" };
    say!("Debugger response to a program call of fork or vfork is \"{mode}\".");
    Ok(())
}

/// gdb's `set detach-on-fork on|off`.
pub fn set_detach_on_fork(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let mut settings = dbg.fork_settings;
    settings.detach_on_fork = match call.args.trim() {
        "on" | "1" | "yes" => true,
        "off" | "0" | "no" => false,
        other => bail!("detach-on-fork is on or off, not {other:?}"),
    };
    apply(dbg, settings);
    Ok(())
}

/// gdb's `show detach-on-fork`.
pub fn show_detach_on_fork(dbg: &mut Debugger, _call: &Call) -> Result<()> {
    let on = if dbg.fork_settings.detach_on_fork { "on" } else { "off" };
    say!("Whether gdb will detach the child of a fork is {on}.");
    Ok(())
}

impl Debugger {
    /// A followed child was created: with `follow-fork-mode child` (and
    /// `detach-on-fork on`) the debugger moves to it, its parent is let go
    /// and the breakpoints move with the debugger, keeping their numbers.
    pub fn on_child_created(&mut self, parent: i32, child: i32) -> Result<()> {
        if !self.fork_settings.moves_to_child() || !self.session.processes().contains(&parent) {
            return Ok(());
        }
        say!("[Attaching after process {parent} fork to child process {child}]");
        self.session.detach(parent)?;
        self.forget(parent);
        say!("[Detaching after fork from parent process {parent}]");
        self.current = Some(super::debugger::Current { pid: child, tid: child, frame: 0 });
        for b in self.breakpoints.iter_mut().filter(|b| b.pid == Some(parent)) {
            b.pid = Some(child);
        }
        self.restore_breakpoints(child);
        self.restore_catchpoints(child);
        Ok(())
    }
}
