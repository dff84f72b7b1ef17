//! Command files and the commands that span lines: gdb's `source FILE`
//! and WinDbg's `$$>< FILE`; `define NAME ... end` user commands with
//! `$arg0`.. and `$argc`, `document NAME ... end`; breakpoint command lists
//! (`commands N ... end`). A file stops at its first failing command, as
//! gdb's `source` and `-batch -x` do.

use super::commands::Call;
use super::debugger::{say, Debugger};
use anyhow::{anyhow, bail, Context, Result};
use std::path::Path;

/// How deep command files and user commands may call each other (a file
/// that sources itself ends with an error, not a stack overflow).
pub const MAX_DEPTH: usize = 32;

/// A command defined with `define`.
#[derive(Clone, Debug, Default)]
pub struct UserCommand {
    pub lines: Vec<String>,
    /// Its `document` text, for `help NAME`.
    pub doc: Option<String>,
}

/// What the lines up to `end` are for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlockKind {
    Define(String),
    Document(String),
    /// The command list of these breakpoint numbers.
    Commands(Vec<u32>),
}

impl std::fmt::Display for BlockKind {
    /// The command that opened the block, as typed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BlockKind::Define(name) => write!(f, "define {name}"),
            BlockKind::Document(name) => write!(f, "document {name}"),
            BlockKind::Commands(numbers) => {
                let numbers: Vec<String> = numbers.iter().map(u32::to_string).collect();
                write!(f, "commands {}", numbers.join(" "))
            }
        }
    }
}

/// A block being read: the lines so far, and how many inner blocks are open.
#[derive(Clone, Debug)]
pub struct Block {
    pub kind: BlockKind,
    pub lines: Vec<String>,
    nested: usize,
}

impl Block {
    pub fn new(kind: BlockKind) -> Block {
        Block { kind, lines: Vec::new(), nested: 0 }
    }
}

/// Whether a line opens a block of its own inside another (`end` closes it).
fn opens_block(line: &str) -> bool {
    let word = line.split_whitespace().next().unwrap_or("");
    matches!(word, "define" | "document" | "commands" | "while" | "if" | "python")
}

/// Whether a command is a comment: gdb's `#` and WinDbg's `*` (the whole
/// line) and `$$` (up to the next `;`; not `$$<` and `$$><`, which run files).
pub fn is_comment(command: &str) -> bool {
    let c = command.trim_start();
    c.starts_with('#')
        || c.starts_with('*')
        || (c.starts_with("$$") && !c[2..].starts_with('<') && !c[2..].starts_with('>'))
}

impl Debugger {
    /// Takes a line while a block is open; returns false when none is.
    pub fn feed_block(&mut self, line: &str) -> Result<bool> {
        let Some(block) = self.block.as_mut() else { return Ok(false) };
        let text = line.trim();
        if text == "end" && block.nested == 0 {
            let block = self.block.take().expect("open");
            self.close_block(block)?;
            return Ok(true);
        }
        if text == "end" {
            block.nested -= 1;
        } else if opens_block(text) {
            block.nested += 1;
        }
        block.lines.push(text.to_string());
        Ok(true)
    }

    fn close_block(&mut self, block: Block) -> Result<()> {
        match block.kind {
            BlockKind::Define(name) => {
                let doc = self.user_commands.get(&name).and_then(|c| c.doc.clone());
                self.user_commands.insert(name, UserCommand { lines: block.lines, doc });
            }
            BlockKind::Document(name) => {
                let command = self
                    .user_commands
                    .get_mut(&name)
                    .ok_or_else(|| anyhow!("undefined command {name:?}: define it before documenting it"))?;
                command.doc = Some(block.lines.join("\n"));
            }
            BlockKind::Commands(numbers) => {
                for number in numbers {
                    if let Some(b) = self.breakpoints.iter_mut().find(|b| b.number == number) {
                        b.commands = block.lines.clone();
                    }
                }
            }
        }
        Ok(())
    }

    /// Runs the commands of a file, line by line; the first failure ends it
    /// with an error naming the file and line.
    pub fn run_script(&mut self, path: &Path) -> Result<()> {
        if super::script_commands::is_python_file(path) {
            return super::script_commands::run_python(self, path);
        }
        if self.depth >= MAX_DEPTH {
            bail!("command files nested more than {MAX_DEPTH} deep (does {} source itself?)", path.display());
        }
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        self.depth += 1;
        let result = self.run_script_text(&text, &path.display().to_string());
        self.depth -= 1;
        result
    }

    fn run_script_text(&mut self, text: &str, name: &str) -> Result<()> {
        let opened_here = self.block.is_none();
        for (i, line) in text.lines().enumerate() {
            if self.quit {
                break;
            }
            let echo = self.echo;
            self.run_commands(line, echo).map_err(|e| e.context(format!("{name}:{}", i + 1)))?;
        }
        if opened_here {
            if let Some(block) = self.block.take() {
                bail!("{name}: `{}` is not closed with `end`", block.kind);
            }
        }
        Ok(())
    }

    /// Runs a user command: its lines with `$argc` and `$arg0`.. replaced.
    pub fn run_user_command(&mut self, name: &str, args: &str) -> Result<()> {
        let command = self.user_commands.get(name).cloned().ok_or_else(|| anyhow!("no command {name:?}"))?;
        if self.depth >= MAX_DEPTH {
            bail!("user commands nested more than {MAX_DEPTH} deep (does {name} call itself?)");
        }
        let words = super::args::words(args)?;
        self.depth += 1;
        let mut result = Ok(());
        for line in &command.lines {
            let mut text = line.replace("$argc", &words.len().to_string());
            // The highest numbers first: $arg10 before $arg1.
            for (i, w) in words.iter().enumerate().rev() {
                text = text.replace(&format!("$arg{i}"), w);
            }
            if let Some(missing) = text.find("$arg") {
                result =
                    Err(anyhow!("{name}: {} is not given", &text[missing..].split_whitespace().next().unwrap_or("")));
                break;
            }
            if let Err(e) = self.run_commands(&text, false) {
                result = Err(e.context(format!("in user command {name}")));
                break;
            }
            if self.quit {
                break;
            }
        }
        self.depth -= 1;
        result
    }
}

/// gdb's `source [-v] FILE`.
pub fn source(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let words = super::args::words(call.args)?;
    let mut echo = false;
    let mut file = None;
    for w in &words {
        match w.as_str() {
            "-v" => echo = true,
            "-s" => {}
            other if other.starts_with('-') && file.is_none() => bail!("unknown option {other} of source: -v"),
            other => file = Some(other.to_string()),
        }
    }
    let file = file.ok_or_else(|| anyhow!("source takes a file of commands: source cmds.gdb"))?;
    let saved = dbg.echo;
    dbg.echo |= echo;
    let result = dbg.run_script(Path::new(&file));
    dbg.echo = saved;
    result
}

/// WinDbg's `$$< FILE`, `$$>< FILE` and `$$>a< FILE` (arguments after the file are not used).
pub fn windbg_script(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let words = super::args::words(call.args)?;
    let file = words.first().ok_or_else(|| anyhow!("{} takes a script file: $$>< cmds.txt", call.name))?;
    if call.name != "$$>a<" && words.len() > 1 {
        bail!("{} takes one file; $$>a< FILE ARGS passes arguments", call.name);
    }
    dbg.run_script(Path::new(file))
}

fn command_name(text: &str) -> Result<String> {
    let name = text.trim();
    if name.is_empty() || name.split_whitespace().count() > 1 {
        bail!("give one command name: define NAME");
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.') {
        bail!("bad command name {name:?}: letters, digits, _ - and . only");
    }
    Ok(name.to_string())
}

/// gdb's `define NAME`: the lines up to `end` become a command.
pub fn define(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let name = command_name(call.args)?;
    if super::commands::find(&name).is_ok_and(|(c, _)| c.name != "x/") && !dbg.user_commands.contains_key(&name) {
        bail!("{name} is a command of the debugger: choose another name");
    }
    if dbg.tty && dbg.depth == 0 {
        say!("Type commands for definition of \"{name}\".\nEnd with a line saying just \"end\".");
    }
    dbg.block = Some(Block::new(BlockKind::Define(name)));
    Ok(())
}

/// gdb's `document NAME`: the lines up to `end` are its help.
pub fn document(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let name = command_name(call.args)?;
    if !dbg.user_commands.contains_key(&name) {
        bail!("undefined command {name:?}: only commands made with define can be documented");
    }
    dbg.block = Some(Block::new(BlockKind::Document(name)));
    Ok(())
}

/// gdb's `commands [N...]`: the lines up to `end` run when those
/// breakpoints (the last one set, without N) stop the program.
pub fn commands(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let numbers: Vec<u32> = match super::args::id_list(call.args) {
        _ if call.args.trim().is_empty() => {
            vec![dbg
                .breakpoints
                .last()
                .map(|b| b.number)
                .ok_or_else(|| anyhow!("no breakpoint to give commands to"))?]
        }
        Ok(Some(ids)) => ids,
        Ok(None) => dbg.breakpoints.iter().map(|b| b.number).collect(),
        Err(e) => return Err(e),
    };
    for n in &numbers {
        if !dbg.breakpoints.iter().any(|b| b.number == *n) {
            bail!("no breakpoint {n}: bl lists them");
        }
    }
    if dbg.tty && dbg.depth == 0 {
        say!(
            "Type commands for breakpoint(s) {}, one per line.\nEnd with a line saying just \"end\".",
            numbers.iter().map(u32::to_string).collect::<Vec<_>>().join(" ")
        );
    }
    dbg.block = Some(Block::new(BlockKind::Commands(numbers)));
    Ok(())
}

/// `end` outside a block.
pub fn end(_dbg: &mut Debugger, _call: &Call) -> Result<()> {
    bail!("end closes define, document or commands, and none is open")
}

/// gdb's `silent` outside a command list.
pub fn silent(_dbg: &mut Debugger, _call: &Call) -> Result<()> {
    bail!("silent belongs first in a breakpoint's command list (commands N ... end)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_of_both_debuggers() {
        assert!(is_comment("# gdb"));
        assert!(is_comment("$$ windbg"));
        assert!(is_comment("* windbg"));
        assert!(!is_comment("$$>< file.txt"));
        assert!(!is_comment("$$< file.txt"));
        assert!(!is_comment("bp main"));
    }
}
