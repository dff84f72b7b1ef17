//! Writing the current process as an ELF core: WinDbg's `.dump [/o] FILE`
//! and gdb's `gcore [FILE]`. The process stays stopped where it was.

use super::commands::Call;
use super::debugger::{say, Debugger};
use anyhow::{bail, Context, Result};
use std::path::Path;

/// `.dump [/o] FILE`: `/o` replaces an existing file; without it, an
/// existing file is an error. WinDbg's `/f` and `/ma` (a full dump) are
/// accepted: the core always holds all the memory.
pub fn dot_dump(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let mut overwrite = false;
    let mut file = None;
    for word in call.args.split_whitespace() {
        match word {
            "/o" => overwrite = true,
            "/f" | "/ma" => {}
            // An option is a slash and a few letters; `/tmp/x.core` is a path.
            option
                if option.starts_with('/')
                    && option.len() <= 4
                    && option[1..].chars().all(|c| c.is_ascii_alphabetic()) =>
            {
                bail!("unknown .dump option {option}: /o replaces an existing file")
            }
            name if file.is_none() => file = Some(name),
            extra => bail!(".dump takes one file name (extra {extra:?}); quote nothing, spaces are not allowed"),
        }
    }
    let Some(file) = file else { bail!(".dump takes a file name: .dump [/o] FILE") };
    if Path::new(file).exists() && !overwrite {
        bail!("{file} exists: `.dump /o {file}` replaces it");
    }
    let pid = dbg.stopped()?.pid;
    say!("Creating {file} - full user dump (ELF core)");
    let written = write(dbg, pid, file)?;
    say!("Dump successfully written: {written}");
    Ok(())
}

/// `gcore [FILE]`: gdb's name, writing `core.PID` by default (replacing it).
pub fn gcore(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let pid = dbg.stopped()?.pid;
    let file = match call.args.trim() {
        "" => format!("core.{pid}"),
        name => name.to_string(),
    };
    let written = write(dbg, pid, &file)?;
    say!("Saved corefile {file} ({written})");
    Ok(())
}

/// Writes the core; a short account of what went in.
fn write(dbg: &mut Debugger, pid: i32, file: &str) -> Result<String> {
    let threads = dbg.session.threads(pid)?.len();
    let written = dbg.session.write_core(pid, file).with_context(|| format!("writing {file}"))?;
    let mib = written.memory_bytes as f64 / (1 << 20) as f64;
    let mut account = format!("{threads} threads, {mib:.1} MiB of memory");
    if written.unreadable_bytes > 0 {
        account += &format!(", {} unreadable bytes left as zeros", written.unreadable_bytes);
    }
    Ok(account)
}
