//! Python inside the debugger: `.py FILE [ARGS]`, `py CODE`, `python CODE`,
//! a `python` ... `end` block, `source FILE.py`, `-x FILE.py`, extension
//! commands (`!name`), and what the debugger does around them: it lends its
//! session and its held events to the script, takes back the events the
//! script left held (showing a new stop), and numbers the breakpoints the
//! script set so that `bl` lists them.

use super::commands::Call;
use super::debugger::{report_error, say, Current, Debugger, Stop, UserBreakpoint};
use crate::scripting::{Lend, ScriptWork};
use anyhow::{bail, Result};
use std::collections::HashSet;
use std::path::Path;

/// Whether a path names a Python script.
pub fn is_python_file(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "py")
}

/// Whether a command line is one Python line, `;` included.
pub fn takes_whole_line(line: &str) -> bool {
    let word = line.split_whitespace().next().unwrap_or("");
    matches!(word, "py" | "python" | "python-interactive" | "pi" | ".py") && line.trim() != word
}

/// Runs `work` in the script host with the debugger's session, then takes
/// back what the script left: held events, breakpoints.
fn run_work(dbg: &mut Debugger, work: ScriptWork<'_>) -> Result<()> {
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    let before: Vec<(i32, String)> = dbg.held.iter().map(|(p, e)| (*p, format!("{e:?}"))).collect();
    let held: Vec<dbgkit::Event> = dbg.held.values().cloned().collect();
    let current = dbg.current.map(|c| c.pid);
    let host = dbg.scripting.host()?;
    let (result, returned) = host.run(Lend { session: &mut dbg.session, held, current }, work);
    dbg.held = returned.held.into_iter().map(|e| (e.pid, e)).collect();
    adopt_breakpoints(dbg);
    settle_current(dbg, returned.current, &before);
    result
}

/// After a script: the current process is still there, and a stop the
/// script left (an event it waited for and did not continue) is shown.
fn settle_current(dbg: &mut Debugger, reported: Option<i32>, before: &[(i32, String)]) {
    let processes = dbg.session.processes();
    if dbg.current.is_some_and(|c| !processes.contains(&c.pid)) {
        dbg.current = None;
    }
    let new_stop = dbg
        .held
        .iter()
        .find(|(pid, e)| !before.iter().any(|(p, text)| p == *pid && *text == format!("{e:?}")))
        .map(|(_, e)| e.clone());
    if let Some(event) = new_stop {
        let pid = reported.filter(|p| dbg.held.contains_key(p)).unwrap_or(event.pid);
        let event = dbg.held.get(&pid).cloned().unwrap_or(event);
        dbg.current = Some(Current { pid: event.pid, tid: event.tid, frame: 0 });
        // A breakpoint is shown by the number `bl` gives it.
        let shown = match event.kind {
            dbgkit::EventKind::Breakpoint { id, address } => {
                match dbg.breakpoints.iter().find(|b| b.pid == Some(event.pid) && b.engine == Some(id)) {
                    Some(b) => dbgkit::Event::new(
                        event.pid,
                        event.tid,
                        dbgkit::EventKind::Breakpoint { id: b.number, address },
                    ),
                    None => event.clone(),
                }
            }
            _ => event.clone(),
        };
        dbg.show_stop(&Stop { shown, event, title: None });
    } else if dbg.current.is_none() {
        if let Some(&pid) = processes.first() {
            let tid = dbg.held.get(&pid).map(|e| e.tid).unwrap_or(pid);
            dbg.current = Some(Current { pid, tid, frame: 0 });
        }
    }
}

/// Breakpoints the script set join the user's list under their engine
/// numbers (so `bl`, `bc`, `bd` know them); those it removed leave the list.
fn adopt_breakpoints(dbg: &mut Debugger) {
    let processes = dbg.session.processes();
    let session = &dbg.session;
    dbg.breakpoints.retain(|b| match (b.engine, b.pid) {
        (Some(id), Some(pid)) if processes.contains(&pid) => session.breakpoint(id).is_some(),
        _ => true,
    });
    let known: HashSet<u32> = dbg.breakpoints.iter().filter_map(|b| b.engine).collect();
    for info in dbg.session.breakpoints() {
        // Watchpoints and hardware breakpoints are listed from the engine itself.
        let software = info.kind == dbgkit::BreakpointKind::Software;
        if !software || known.contains(&info.id) || dbg.is_internal(info.pid, info.id) {
            continue;
        }
        dbg.breakpoints.push(UserBreakpoint {
            number: info.id,
            pid: Some(info.pid),
            engine: Some(info.id),
            spec: info.expression.clone().unwrap_or_else(|| format!("{:#x}", info.address)),
            deferred: info.expression.is_some(),
            condition: info.condition.clone(),
            one_shot: info.one_shot,
            enabled: info.enabled,
            ignore: info.ignore_count,
            commands: Vec::new(),
        });
    }
}

/// Shows what a Python breakpoint callback raised while the target ran.
pub fn report_callback_error(dbg: &mut Debugger) {
    if let Some(host) = dbg.scripting.available() {
        if let Some(text) = host.take_callback_error() {
            eprintln!("{}", text.trim_end());
            say!("A Python breakpoint callback raised an exception: the target stopped at its breakpoint.");
        }
    }
}

/// Runs a Python file (for `-x FILE.py`); prints a failure, returns success.
impl Debugger {
    pub fn run_python_file(&mut self, path: &Path) -> bool {
        if self.echo {
            say!("{}.py {}", self.prompt(), path.display());
        }
        match run_work(self, ScriptWork::File { path, args: &[] }) {
            Ok(()) => true,
            Err(e) => {
                report_error(&e, self.tty);
                false
            }
        }
    }

    /// Whether a `python` block is being typed.
    pub fn collecting_block(&self) -> bool {
        self.python_block.is_some()
    }

    /// One line of a `python` block (kept as typed); `end` runs the block.
    /// Returns false when the block ran and failed.
    pub fn feed_block_line(&mut self, raw: &str, echo: bool) -> bool {
        if echo {
            say!(">{raw}");
        }
        if raw.trim() != "end" {
            self.python_block.get_or_insert_with(Vec::new).push(raw.to_string());
            return true;
        }
        let lines = self.python_block.take().unwrap_or_default();
        let text = lines.join("\n") + "\n";
        match run_work(self, ScriptWork::Source { text: &text, interactive: false }) {
            Ok(()) => true,
            Err(e) => {
                report_error(&e, self.tty);
                false
            }
        }
    }
}

/// `.py FILE [ARGS...]`.
pub fn dot_py(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let words = super::args::words(call.args)?;
    let Some((file, args)) = words.split_first() else {
        bail!("give a script: .py script.py [ARGS...]");
    };
    let path = Path::new(file);
    if !path.is_file() {
        bail!("no script {file}: not a file");
    }
    run_work(dbg, ScriptWork::File { path, args })
}

/// `py CODE`.
pub fn py(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let code = call.args.trim();
    if code.is_empty() {
        bail!("give Python code: py print(dbgkit.current_session().processes); for several lines use python ... end");
    }
    run_work(dbg, ScriptWork::Source { text: code, interactive: true })
}

/// `python [CODE]`: one line, or the lines up to `end`.
pub fn python(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let code = call.args.trim();
    if code.is_empty() {
        dbg.scripting.host()?;
        dbg.python_block = Some(Vec::new());
        return Ok(());
    }
    run_work(dbg, ScriptWork::Source { text: code, interactive: true })
}

/// Runs a Python file (`source FILE.py`, `-x FILE.py`).
pub fn run_python(dbg: &mut Debugger, path: &Path) -> Result<()> {
    run_work(dbg, ScriptWork::File { path, args: &[] })
}

/// Runs an extension command when `line` names one (`!name` or `name`):
/// `None` when it does not.
pub fn run_extension(dbg: &mut Debugger, line: &str) -> Option<Result<()>> {
    let line = line.trim();
    let (word, args) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let name = word.strip_prefix('!').unwrap_or(word);
    let host = dbg.scripting.available()?;
    if !host.commands().iter().any(|c| c.name == name) {
        return None;
    }
    let name = name.to_string();
    Some(run_work(dbg, ScriptWork::Command { name: &name, args: args.trim() }))
}

/// The extension commands, after `help`'s list.
pub fn help_extensions(dbg: &mut Debugger) {
    let Some(host) = dbg.scripting.available() else { return };
    let commands = host.commands();
    if commands.is_empty() {
        return;
    }
    say!("\nExtension commands (Python):");
    for c in commands {
        say!("  {:<34} {}", format!("!{}", c.name), c.help);
    }
}

/// `help NAME` for an extension command; false when there is none by that name.
pub fn help_extension(dbg: &mut Debugger, topic: &str) -> bool {
    let name = topic.strip_prefix('!').unwrap_or(topic);
    let Some(host) = dbg.scripting.available() else { return false };
    match host.commands().into_iter().find(|c| c.name == name) {
        Some(c) => {
            say!("!{} [ARGS]  (a Python extension command)", c.name);
            say!("  {}", c.help);
            true
        }
        None => false,
    }
}
