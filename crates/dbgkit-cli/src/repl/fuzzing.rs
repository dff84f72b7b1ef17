//! What the fuzz target (`crates/dbgkit-cli/fuzz`, run by `scripts/fuzz-cli`)
//! drives: command lines and expressions as a user types them, parsed and
//! run against a real stopped program. Commands that reach outside the
//! debugger (shell, files, other processes) or end the session are left
//! out: random input must not delete files or quit.

use super::commands;
use super::debugger::Debugger;
use super::output;

/// Commands random input may not run: they touch the file system, run
/// programs, attach elsewhere or end the session.
const OUTSIDE: &[&str] = &[
    "shell",
    ".shell",
    "cd",
    "source",
    "$$><",
    "set logging",
    ".logopen",
    ".logclose",
    ".restart",
    "set args",
    ".inject",
    ".attach",
    "q",
    ".detach",
    ".kill",
    "define",
    "document",
    "commands",
];

/// A debugger on a stopped program, fed one input at a time.
pub struct FuzzTarget {
    dbg: Debugger,
    program: Vec<String>,
}

impl FuzzTarget {
    /// Launches `program` (stopped at its entry) with the debugger's output silenced.
    pub fn new(program: Vec<String>) -> FuzzTarget {
        output::set_quiet(true);
        let mut dbg = Debugger::new(false, false);
        dbg.program = Some(program.clone());
        dbg.launch().expect("the fuzz target's program starts");
        FuzzTarget { dbg, program }
    }

    /// Runs `text` as a command line (each allowed command of it), then as an expression.
    pub fn run(&mut self, text: &str) {
        if self.dbg.current.is_none() || self.dbg.stopped().is_err() {
            self.restart();
        }
        // What inputs leave behind (displays shown at every stop, breakpoints) would slow
        // every later input: past a few, they go.
        if self.dbg.displays.len() > 8 {
            self.dbg.displays.clear();
        }
        if self.dbg.breakpoints.len() > 32 {
            let _ = self.dbg.execute("bc *");
        }
        for command in super::args::split_commands(text) {
            let allowed = match commands::find(&command) {
                Ok((c, _)) => !OUTSIDE.contains(&c.name),
                // An unknown name is refused by the parser: worth running for its error path.
                Err(_) => true,
            };
            let starts_a_block = command.trim_start().starts_with("define")
                || command.trim_start().starts_with("commands")
                || command.trim_start().starts_with("document");
            if allowed && !starts_a_block && !command.trim_start().starts_with('!') {
                let _ = self.dbg.execute(&command);
            }
            if self.dbg.current.is_none() || self.dbg.stopped().is_err() {
                self.restart();
            }
        }
        let _ = self.dbg.eval(text);
    }

    /// The program ended (or runs): start it again.
    fn restart(&mut self) {
        for pid in self.dbg.session.processes() {
            let _ = self.dbg.kill(pid);
        }
        self.dbg.program = Some(self.program.clone());
        self.dbg.quit = false;
        self.dbg.launch().expect("the fuzz target's program starts again");
    }
}
