//! Scripts inside the interactive debugger: what the command line needs
//! from a script language, and whether it has one.
//!
//! The command line knows no Python: the Python plugin gives it a
//! [`ScriptHost`]. When the host runs code, the debugger lends it its engine
//! session and the events it holds; the host returns the events still held
//! afterwards (the script may have continued some and waited for others).

use anyhow::Result;
use dbgkit::{Event, Session};
use std::path::Path;

/// What a script host is asked to run.
pub enum ScriptWork<'a> {
    /// Source text. `interactive`: one line typed at the prompt (`py 1+1`
    /// prints its value, as Python's own prompt does).
    Source { text: &'a str, interactive: bool },
    /// A script file, with `sys.argv` = the path and `args`.
    File { path: &'a Path, args: &'a [String] },
    /// An extension command with the rest of its line.
    Command { name: &'a str, args: &'a str },
}

/// The debugger's state lent to a script for the time it runs.
pub struct Lend<'a> {
    pub session: &'a mut Session,
    /// The events the debugger holds (their processes are stopped).
    pub held: Vec<Event>,
    /// The process of the event the debugger reported last.
    pub current: Option<i32>,
}

/// What the debugger holds after a script ran.
pub struct Returned {
    /// The events in flight now.
    pub held: Vec<Event>,
    /// The process of the event reported last, if the script saw one.
    pub current: Option<i32>,
}

/// An extension command a script registered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtensionCommand {
    pub name: String,
    /// The first line of its documentation.
    pub help: String,
}

/// A script language inside the debugger (Python, from the plugin).
pub trait ScriptHost {
    /// Runs `work` with the debugger's session. A script's own failure (an
    /// exception) is printed by the host and returned as an error naming it.
    fn run(&mut self, lend: Lend<'_>, work: ScriptWork<'_>) -> (Result<()>, Returned);
    /// The extension commands registered so far (none before any script ran).
    fn commands(&mut self) -> Vec<ExtensionCommand>;
    /// A breakpoint callback's failure while the debugger ran the target
    /// (its breakpoint then stopped the target), as text to show.
    fn take_callback_error(&mut self) -> Option<String>;
}

/// The debugger's scripting: a host, or why there is none.
pub struct Scripting {
    host: Option<Box<dyn ScriptHost>>,
    unavailable: String,
}

impl Scripting {
    /// Scripting through `host`.
    pub fn with_host(host: Box<dyn ScriptHost>) -> Scripting {
        Scripting { host: Some(host), unavailable: String::new() }
    }

    /// No scripting, for the reason given (shown when a Python command is used).
    pub fn unavailable(why: String) -> Scripting {
        Scripting { host: None, unavailable: why }
    }

    /// The host, or an error saying why there is none and how to get one.
    pub fn host(&mut self) -> Result<&mut (dyn ScriptHost + 'static)> {
        match self.host.as_deref_mut() {
            Some(host) => Ok(host),
            None => Err(anyhow::anyhow!(
                "Python support is not available: {}. dbgkit runs Python through the python3 on PATH \
                 (or $DBGKIT_PYTHON) and its shared library libpython3 (Debian: apt-get install python3 \
                 libpython3-dev), with the plugin libdbgkit_cli_python.so beside the dbgkit binary \
                 (cargo build -p dbgkit-cli-python)",
                self.unavailable
            )),
        }
    }

    /// The host when there is one (without an error).
    pub fn available(&mut self) -> Option<&mut (dyn ScriptHost + 'static)> {
        self.host.as_deref_mut()
    }
}
