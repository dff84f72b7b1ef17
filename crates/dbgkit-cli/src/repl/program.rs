//! How the program is launched: its arguments (`set args`, `run ARGS`,
//! `.restart ARGS`), its environment (`set environment`, `unset
//! environment`) and its standard streams (`run < in.txt > out.txt`, as
//! gdb's shell would do it).

use super::args;
use super::commands::Call;
use super::debugger::{say, Debugger};
#[cfg(unix)]
use anyhow::Context;
use anyhow::{anyhow, bail, Result};
use dbgkit::SpawnOptions;
#[cfg(unix)]
use dbgkit::Stdio;
use std::ffi::OsString;
use std::fs::File;
#[cfg(unix)]
use std::os::fd::AsRawFd;
use std::path::PathBuf;

/// Where a standard stream of the program goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redirect {
    pub fd: i32,
    pub path: PathBuf,
    pub append: bool,
}

/// The launch settings that outlive one run of the program.
#[derive(Clone, Debug, Default)]
pub struct Launch {
    /// Environment changes in order: `Some(value)` sets, `None` unsets.
    pub env: Vec<(String, Option<String>)>,
    /// `unset environment` with no name: start from an empty environment.
    pub env_cleared: bool,
    pub redirects: Vec<Redirect>,
}

/// Splits `ARGS < in > out 2> err` into the arguments and the redirections.
pub fn parse_run_args(text: &str) -> Result<(Vec<String>, Vec<Redirect>)> {
    let mut words = Vec::new();
    let mut redirects = Vec::new();
    let mut pending: Option<(i32, bool)> = None;
    for word in args::words(text)? {
        if let Some((fd, append)) = pending.take() {
            redirects.push(Redirect { fd, path: PathBuf::from(word), append });
            continue;
        }
        let (fd, append, rest) = if let Some(r) = word.strip_prefix("2>>") {
            (2, true, r)
        } else if let Some(r) = word.strip_prefix("2>") {
            (2, false, r)
        } else if let Some(r) = word.strip_prefix(">>") {
            (1, true, r)
        } else if let Some(r) = word.strip_prefix('>') {
            (1, false, r)
        } else if let Some(r) = word.strip_prefix('<') {
            (0, false, r)
        } else {
            words.push(word);
            continue;
        };
        if rest.is_empty() {
            pending = Some((fd, append));
        } else {
            redirects.push(Redirect { fd, path: PathBuf::from(rest), append });
        }
    }
    if pending.is_some() {
        bail!("a redirection needs a file name: run < in.txt > out.txt");
    }
    Ok((words, redirects))
}

impl Launch {
    /// The spawn options for `argv`, with the files of the redirections
    /// opened (kept in `open` until the program is launched).
    pub fn options(&self, argv: &[String], aslr: bool, open: &mut Vec<File>) -> Result<SpawnOptions> {
        let mut options = SpawnOptions::new(argv).disable_aslr(!aslr);
        if self.env_cleared {
            options = options.env_clear();
        }
        let mut unset = Vec::new();
        for (name, value) in &self.env {
            match value {
                Some(v) => options = options.env(name, v),
                None => unset.push(name.clone()),
            }
        }
        if !unset.is_empty() {
            // Start from the debugger's environment without them, then the changes.
            let mut env: Vec<(OsString, OsString)> =
                if self.env_cleared { Vec::new() } else { std::env::vars_os().collect() };
            env.retain(|(k, _)| !unset.iter().any(|u| k == u.as_str()));
            options = options.env_clear();
            for (k, v) in env {
                options = options.env(k, v);
            }
            for (name, value) in &self.env {
                if let Some(v) = value {
                    options = options.env(name, v);
                }
            }
        }
        #[cfg(not(unix))]
        if !self.redirects.is_empty() {
            let _ = open;
            anyhow::bail!("redirecting a program's input or output is not supported on this system yet");
        }
        #[cfg(unix)]
        for r in &self.redirects {
            let file = if r.fd == 0 {
                File::open(&r.path)
                    .with_context(|| format!("cannot open {} for the program's input", r.path.display()))?
            } else {
                std::fs::OpenOptions::new()
                    .create(true)
                    .write(true)
                    .append(r.append)
                    .truncate(!r.append)
                    .open(&r.path)
                    .with_context(|| format!("cannot open {} for the program's output", r.path.display()))?
            };
            let stdio = Stdio::Fd(file.as_raw_fd());
            options = match r.fd {
                0 => options.stdin(stdio),
                1 => options.stdout(stdio),
                _ => options.stderr(stdio),
            };
            open.push(file);
        }
        Ok(options)
    }
}

/// Replaces the program's arguments (keeping the program) and the redirections.
fn take_run_args(dbg: &mut Debugger, text: &str) -> Result<()> {
    let (words, redirects) = parse_run_args(text)?;
    let program = dbg.program.as_mut().ok_or_else(|| anyhow!("no program: dbgkit was attached to a process"))?;
    program.truncate(1);
    program.extend(words);
    dbg.launch_settings.redirects = redirects;
    Ok(())
}

/// `.restart [ARGS]` and gdb's `run [ARGS] [< in] [> out]`: kill and launch
/// again (breakpoints are kept). New arguments replace the old ones; none
/// keeps them.
pub fn restart(dbg: &mut Debugger, call: &Call) -> Result<()> {
    if dbg.program.is_none() {
        bail!("no program to restart: dbgkit was attached to a process (use .detach, then .attach PID)");
    }
    if !call.args.trim().is_empty() {
        take_run_args(dbg, call.args)?;
    }
    for pid in dbg.session.processes() {
        dbg.kill(pid)?;
    }
    dbg.launch()
}

/// gdb's `set args [ARGS]`: the arguments of the next run.
pub fn set_args(dbg: &mut Debugger, call: &Call) -> Result<()> {
    take_run_args(dbg, call.args)
}

/// gdb's `show args`.
pub fn show_args(dbg: &mut Debugger, _call: &Call) -> Result<()> {
    let program = dbg.program.as_ref().ok_or_else(|| anyhow!("no program: dbgkit was attached to a process"))?;
    let mut text = program[1..].join(" ");
    for r in &dbg.launch_settings.redirects {
        let op = match (r.fd, r.append) {
            (0, _) => "<",
            (1, false) => ">",
            (1, true) => ">>",
            (_, false) => "2>",
            (_, true) => "2>>",
        };
        text.push_str(&format!(" {op} {}", r.path.display()));
    }
    say!("Argument list to give program being debugged when it is started is \"{}\".", text.trim());
    Ok(())
}

/// gdb's `set environment VAR [=] VALUE`.
pub fn set_environment(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let text = call.args.trim();
    if text.is_empty() {
        bail!("set environment VAR=VALUE (or VAR VALUE)");
    }
    let (name, value) = match text.split_once('=') {
        Some((n, v)) => (n.trim(), v.trim()),
        None => match text.split_once(char::is_whitespace) {
            Some((n, v)) => (n.trim(), v.trim()),
            None => (text, ""),
        },
    };
    if name.is_empty() || name.contains(char::is_whitespace) || name.contains('\0') {
        bail!("bad environment variable name {name:?}");
    }
    dbg.launch_settings.env.retain(|(n, _)| n != name);
    dbg.launch_settings.env.push((name.to_string(), Some(value.to_string())));
    say!("Environment variable \"{name}\" set to \"{value}\" for the next run.");
    Ok(())
}

/// gdb's `unset environment [VAR]` (without VAR: every variable).
pub fn unset_environment(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let name = call.args.trim();
    if name.is_empty() {
        dbg.launch_settings.env.clear();
        dbg.launch_settings.env_cleared = true;
        say!("The next run starts with an empty environment.");
        return Ok(());
    }
    if name.contains(char::is_whitespace) {
        bail!("unset environment takes one name: unset environment HOME");
    }
    dbg.launch_settings.env.retain(|(n, _)| n != name);
    dbg.launch_settings.env.push((name.to_string(), None));
    Ok(())
}

/// gdb's `show environment [VAR]`: the environment the next run gets.
pub fn show_environment(dbg: &mut Debugger, call: &Call) -> Result<()> {
    // The debugger's own environment may hold bytes that are not UTF-8: shown lossily, never a panic.
    let mut env: Vec<(String, String)> = if dbg.launch_settings.env_cleared {
        Vec::new()
    } else {
        std::env::vars_os().map(|(k, v)| (k.to_string_lossy().into_owned(), v.to_string_lossy().into_owned())).collect()
    };
    for (name, value) in &dbg.launch_settings.env {
        env.retain(|(n, _)| n != name);
        if let Some(v) = value {
            env.push((name.clone(), v.clone()));
        }
    }
    let wanted = call.args.trim();
    if !wanted.is_empty() {
        match env.iter().find(|(n, _)| n == wanted) {
            Some((n, v)) => say!("{n} = {v}"),
            None => say!("Environment variable \"{wanted}\" not defined."),
        }
        return Ok(());
    }
    for (n, v) in env {
        say!("{n}={v}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirections_come_out_of_the_arguments() {
        let (words, redirects) = parse_run_args("a 'b' < in.txt >out.txt 2>> err.txt c").unwrap();
        assert_eq!(words, ["a", "'b'", "c"]);
        assert_eq!(
            redirects,
            [
                Redirect { fd: 0, path: "in.txt".into(), append: false },
                Redirect { fd: 1, path: "out.txt".into(), append: false },
                Redirect { fd: 2, path: "err.txt".into(), append: true },
            ]
        );
        assert!(parse_run_args("a >").is_err());
    }
}
