//! The debugger's own surroundings: shell commands (gdb's `shell CMD` and
//! `!CMD`, WinDbg's `.shell CMD`) and the working directory (`cd`, `pwd`).

use super::commands::Call;
use super::debugger::{say, Debugger};
use anyhow::{anyhow, bail, Context, Result};
use std::io::Write;
use std::path::Path;

/// Runs `CMD` with `/bin/sh -c`; its output goes where the debugger's goes.
pub fn shell(_dbg: &mut Debugger, call: &Call) -> Result<()> {
    let command = call.args.trim();
    let _ = std::io::stdout().flush();
    let status = if command.is_empty() {
        let shell = std::env::var("SHELL").unwrap_or_else(|_| "/bin/sh".into());
        std::process::Command::new(shell).status()
    } else {
        std::process::Command::new("/bin/sh").arg("-c").arg(command).status()
    }
    .context("cannot run /bin/sh")?;
    if call.name == ".shell" {
        say!(".shell: Process exited");
    }
    // As in gdb, a command that fails is not an error of the debugger: its status is its own.
    let _ = status;
    Ok(())
}

/// `cd [DIR]` (home without DIR). The program named by a path relative
/// to the old directory stays the same file.
pub fn cd(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let text = call.args.trim();
    let dir = if text.is_empty() || text == "~" {
        std::env::var("HOME").map_err(|_| anyhow!("cd: HOME is not set; give a directory"))?
    } else if let Some(rest) = text.strip_prefix("~/") {
        format!("{}/{rest}", std::env::var("HOME").unwrap_or_default())
    } else {
        text.to_string()
    };
    let program = dbg.program.as_mut().and_then(|argv| argv.first_mut());
    if let Some(path) = program.filter(|p| Path::new(p.as_str()).is_relative() && Path::new(p.as_str()).exists()) {
        if let Ok(absolute) = std::path::absolute(path.as_str()) {
            *path = absolute.to_string_lossy().into_owned();
        }
    }
    if let Err(e) = std::env::set_current_dir(&dir) {
        bail!("{dir}: {}.", io_reason(&e));
    }
    pwd(dbg, call)
}

/// `pwd`: the debugger's working directory (a launched program starts there).
pub fn pwd(_dbg: &mut Debugger, call: &Call) -> Result<()> {
    if call.name == "pwd" && !call.args.trim().is_empty() {
        bail!("pwd takes no arguments");
    }
    let dir = std::env::current_dir().context("the working directory is gone")?;
    say!("Working directory {}.", dir.display());
    Ok(())
}

/// The reason of an I/O error without Rust's "(os error N)".
fn io_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}
