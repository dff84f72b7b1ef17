//! What to launch and how: the program, its arguments, environment,
//! working directory and standard streams. The target that launches it
//! (today the Linux ptrace backend) reads these options.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

/// How the program's standard streams are connected.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Stdio {
    /// The debugger's own streams.
    #[default]
    Inherit,
    /// `/dev/null`.
    Null,
    /// A pipe the caller reads or writes (see [`crate::SpawnedPipes`]).
    Piped,
    /// This open descriptor of the debugger (a file for `< in.txt`, `> out.txt`);
    /// the caller keeps it open until `spawn` returns.
    #[cfg(unix)]
    Fd(std::os::fd::RawFd),
}

/// What to launch and how. Build with [`SpawnOptions::new`] and the setters.
///
/// ```no_run
/// let opts = dbgkit::SpawnOptions::new(["/bin/echo", "hello"])
///     .env("GREETING", "1")
///     .disable_aslr(true);
/// ```
#[derive(Clone, Debug)]
// Read by the target that launches (only the Linux one so far).
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub struct SpawnOptions {
    pub(crate) argv: Vec<OsString>,
    pub(crate) env: Option<Vec<(OsString, OsString)>>,
    pub(crate) extra_env: Vec<(OsString, OsString)>,
    pub(crate) cwd: Option<PathBuf>,
    pub(crate) stdin: Stdio,
    pub(crate) stdout: Stdio,
    pub(crate) stderr: Stdio,
    pub(crate) disable_aslr: bool,
    pub(crate) stop_at_entry: bool,
    pub(crate) own_process_group: bool,
}

impl SpawnOptions {
    /// A program and its arguments; `argv[0]` is searched in `PATH` when it has no `/`.
    pub fn new<I, S>(argv: I) -> SpawnOptions
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        SpawnOptions {
            argv: argv.into_iter().map(|s| s.as_ref().to_os_string()).collect(),
            env: None,
            extra_env: Vec::new(),
            cwd: None,
            stdin: Stdio::Inherit,
            stdout: Stdio::Inherit,
            stderr: Stdio::Inherit,
            disable_aslr: false,
            stop_at_entry: false,
            own_process_group: false,
        }
    }
    /// Adds or replaces one environment variable.
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.extra_env.push((key.as_ref().into(), value.as_ref().into()));
        self
    }
    /// Replaces the whole environment (variables set with [`env`](Self::env) still apply).
    pub fn env_clear(mut self) -> Self {
        self.env = Some(Vec::new());
        self
    }
    /// The working directory of the program.
    pub fn cwd(mut self, dir: impl AsRef<Path>) -> Self {
        self.cwd = Some(dir.as_ref().to_path_buf());
        self
    }
    pub fn stdin(mut self, s: Stdio) -> Self {
        self.stdin = s;
        self
    }
    pub fn stdout(mut self, s: Stdio) -> Self {
        self.stdout = s;
        self
    }
    pub fn stderr(mut self, s: Stdio) -> Self {
        self.stderr = s;
        self
    }
    /// Turns off address-space randomisation for the program (as gdb does by default).
    pub fn disable_aslr(mut self, on: bool) -> Self {
        self.disable_aslr = on;
        self
    }
    /// Stops the program at its entry point (the executable's first
    /// instruction, after the dynamic loader has mapped the libraries and
    /// before any constructor runs), reported as `BreakIn`: WinDbg's
    /// initial break, gdb's `start`. The events before it (the process,
    /// its first modules) come first as always.
    ///
    /// ```no_run
    /// let mut session = dbgkit::Session::new();
    /// session.spawn(&dbgkit::SpawnOptions::new(["/bin/true"]).stop_at_entry(true))?;
    /// # Ok::<(), dbgkit::Error>(())
    /// ```
    pub fn stop_at_entry(mut self, on: bool) -> Self {
        self.stop_at_entry = on;
        self
    }
    /// Puts the program in a process group of its own (`setpgid`), as gdb
    /// and gdbserver do: a front end can then make it the terminal's
    /// foreground group, so that `^C` typed there reaches the program and
    /// not the debugger.
    pub fn own_process_group(mut self, on: bool) -> Self {
        self.own_process_group = on;
        self
    }
}

/// The parent's ends of the pipes asked for with [`Stdio::Piped`].
#[derive(Debug, Default)]
pub struct SpawnedPipes {
    pub stdin: Option<std::fs::File>,
    pub stdout: Option<std::fs::File>,
    pub stderr: Option<std::fs::File>,
}
