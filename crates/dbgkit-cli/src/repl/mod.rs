//! The interactive debugger: `dbgkit PROGRAM`, `dbgkit -p PID`, command
//! scripts (`-c`, `-x`) and batch runs (`--batch`).
//!
//! Every command is declared once in [`commands::COMMANDS`]; that table
//! parses command lines and writes `help`, `help CMD` and the command list
//! of `dbgkit --help`.

mod args;
mod breakpoints;
mod catchpoints;
mod checkpoints;
mod children;
mod commands;
mod complete;
mod control;
mod debugger;
mod display;
mod dump;
mod eval;
mod fp_registers;
pub mod fuzzing;
mod inspect;
mod memory;
pub mod output;
mod printf;
mod program;
mod reach;
mod remote;
mod script;
mod script_commands;
mod shell;
mod signals;
mod source;

use crate::interrupt;
use crate::scripting::Scripting;
use anyhow::{Context, Result};
use clap::Parser;
use debugger::Debugger;
use std::cell::RefCell;
use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::rc::Rc;

pub use commands::help_overview;

#[derive(clap::Args)]
pub struct DebugArgs {
    /// Attach to this running process.
    #[arg(short = 'p', long = "pid", conflicts_with = "program")]
    pid: Option<i32>,
    /// Open a core file (post-mortem debugging); PROGRAM, if given, is its program.
    #[arg(short = 'z', long = "core", value_name = "CORE", conflicts_with = "pid")]
    core: Option<PathBuf>,
    /// Debug through a GDB remote stub: HOST:PORT (gdbserver, QEMU's -gdb) or
    /// "| COMMAND"; PROGRAM, if given, is the program or the kernel's vmlinux (symbols).
    #[arg(long = "remote", value_name = "ADDRESS", conflicts_with_all = ["pid", "core"])]
    remote: Option<String>,
    /// With --remote, a kernel's System.map: symbols without vmlinux, or beside it.
    #[arg(long = "symbols", value_name = "SYSTEM_MAP", requires = "remote")]
    symbols: Option<PathBuf>,
    /// Run these commands (separated by `;`) once the program is stopped, then go on interactively;
    /// the first that fails ends them.
    #[arg(short = 'c', long = "command", value_name = "COMMANDS")]
    commands: Vec<String>,
    /// Run the commands of FILE (one or more a line) once the program is stopped; the first
    /// that fails ends the file (`#`, `*` and `$$` start comments); a FILE.py is run as Python.
    #[arg(short = 'x', long = "script", value_name = "FILE")]
    scripts: Vec<PathBuf>,
    /// Exit after the -c and -x commands; the exit status is 1 if one failed (they stop there).
    #[arg(long)]
    batch: bool,
    /// Print each command of a script before running it, after the prompt.
    #[arg(long)]
    echo: bool,
    /// Keep address-space randomisation on (it is turned off by default, as gdb does).
    #[arg(long)]
    aslr: bool,
    /// The program to debug and its arguments.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "PROGRAM [ARGS]")]
    program: Vec<String>,
}

/// Where command history is kept: `$DBGKIT_HISTORY`, else `~/.dbgkit_history`.
/// The options that may follow a core file's program on the command line.
#[derive(clap::Parser)]
struct OptionsAfterProgram {
    #[command(flatten)]
    args: DebugArgs,
}

fn history_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("DBGKIT_HISTORY") {
        return (!p.is_empty()).then(|| PathBuf::from(p));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".dbgkit_history"))
}

pub fn run(mut args: DebugArgs, scripting: Scripting) -> Result<i32> {
    let interactive = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    let mut dbg = Debugger::new(std::io::stdout().is_terminal(), args.aslr);
    dbg.scripting = scripting;
    dbg.echo = args.echo;
    interrupt::install();
    if let Some(pid) = args.pid {
        dbg.attach(pid).with_context(|| format!("cannot attach to process {pid}"))?;
    } else if let Some(core) = args.core.clone() {
        // `dbgkit -z core ./prog -c k --batch`: what follows the program is options, not its arguments.
        if args.program.len() > 1 {
            let rest = args.program.split_off(1);
            let more = OptionsAfterProgram::try_parse_from(std::iter::once("dbgkit".to_string()).chain(rest))
                .map_err(|e| anyhow::anyhow!("after a core file's program only options may follow: {e}"))?
                .args;
            if !more.program.is_empty() || more.pid.is_some() || more.core.is_some() {
                anyhow::bail!("a core file takes at most its program, not arguments: {:?}", more.program);
            }
            args.commands.extend(more.commands);
            args.scripts.extend(more.scripts);
            args.batch |= more.batch;
            dbg.echo |= more.echo;
        }
        let program = args.program.first().map(PathBuf::from);
        dbg.open_core(&core, program.as_deref())
            .with_context(|| format!("cannot open core file {}", core.display()))?;
    } else if let Some(address) = &args.remote {
        if args.program.len() > 1 {
            anyhow::bail!("--remote takes at most one file (the program or vmlinux), not {:?}", &args.program[1..]);
        }
        let options = dbgkit::ConnectOptions {
            symbols: args.program.first().map(PathBuf::from),
            system_map: args.symbols.clone(),
            extended: false,
        };
        remote::connect(&mut dbg, address, &options)?;
    } else if !args.program.is_empty() {
        dbg.program = Some(args.program.clone());
        dbg.launch().with_context(|| format!("cannot launch {}", args.program[0]))?;
    } else if args.batch && args.commands.is_empty() && args.scripts.is_empty() {
        anyhow::bail!("nothing to do: give a program, -p PID, or commands with -c or -x");
    }

    // As gdb's -batch -x: the first command that fails ends the commands
    // and files given, and the exit status says so.
    let mut failed = false;
    for text in &args.commands {
        if dbg.quit || failed {
            break;
        }
        failed = !dbg.run_line(text, dbg.echo);
    }
    for path in &args.scripts {
        if dbg.quit || failed {
            break;
        }
        if let Err(e) = dbg.run_script(path) {
            debugger::report_error(&e, dbg.colour);
            failed = true;
        }
    }
    if let Some(block) = dbg.block.take() {
        debugger::report_error(&anyhow::anyhow!("`{}` is not closed with `end`", block.kind), dbg.colour);
        failed = true;
    }
    if let Some(code) = dbg.exit_code.filter(|_| dbg.quit) {
        return Ok(code);
    }
    if args.batch || dbg.quit {
        return Ok(i32::from(failed));
    }
    if interactive {
        interactive_loop(dbg)
    } else {
        // Commands from a pipe or a file: no prompt, no line editing.
        // The exit status is that of the last command, as gdb's with commands on its input.
        let mut last_ok = !failed;
        let stdin = std::io::stdin();
        let mut line = String::new();
        loop {
            line.clear();
            match stdin.lock().read_line(&mut line) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            }
            if dbg.collecting_block() {
                last_ok = dbg.feed_block_line(line.trim_end_matches(['\n', '\r']), dbg.echo);
                continue;
            }
            let text = line.trim();
            if text.is_empty() && dbg.block.is_none() {
                continue;
            }
            last_ok = dbg.run_line(text, dbg.echo);
            if dbg.quit {
                break;
            }
        }
        if let Some(code) = dbg.exit_code.filter(|_| dbg.quit) {
            return Ok(code);
        }
        Ok(i32::from(!last_ok))
    }
}

/// The prompt with line editing, history and completion.
/// Returns the exit status `quit CODE` asked for (0 without one).
fn interactive_loop(dbg: Debugger) -> Result<i32> {
    use rustyline::error::ReadlineError;
    let dbg = Rc::new(RefCell::new(dbg));
    let config = rustyline::Config::builder()
        .auto_add_history(false)
        .completion_type(rustyline::CompletionType::List)
        .max_history_size(5000)?
        .build();
    let mut editor: rustyline::Editor<complete::Helper, rustyline::history::DefaultHistory> =
        rustyline::Editor::with_config(config)?;
    editor.set_helper(Some(complete::Helper::new(dbg.clone())));
    let history = history_path();
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    let mut last: Option<String> = None;
    loop {
        let prompt = dbg.borrow().prompt();
        interrupt::take();
        match editor.readline(&prompt) {
            Ok(line) if dbg.borrow().collecting_block() => {
                dbg.borrow_mut().feed_block_line(&line, false);
            }
            Ok(line) => {
                let text = line.trim();
                if text.is_empty() {
                    // An empty line repeats a step, a trace or a listing, as in WinDbg and gdb.
                    if let Some(previous) = last.clone().filter(|l| commands::repeats(l)) {
                        dbg.borrow_mut().run_line(&previous, false);
                    }
                } else {
                    if editor.add_history_entry(text).unwrap_or(false) {
                        if let Some(path) = &history {
                            let _ = editor.append_history(path);
                        }
                    }
                    last = Some(text.to_string());
                    dbg.borrow_mut().run_line(text, false);
                }
                if dbg.borrow().quit {
                    break;
                }
            }
            Err(ReadlineError::Interrupted) => {
                // Ctrl-C at the prompt: a fresh line, the debugger stays.
                continue;
            }
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(e.into()),
        }
    }
    let code = dbg.borrow().exit_code.unwrap_or(0);
    Ok(code)
}
