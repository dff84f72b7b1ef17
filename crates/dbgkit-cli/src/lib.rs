//! The `dbgkit` command as a library: the binary (`src/main.rs`) runs it,
//! and so does the Python plugin (`crates/dbgkit-cli-python`), which runs
//! the same command line with Python inside it; the tests and the fuzz
//! target (`fuzz/`) use the same implementation.

pub mod format;
pub mod interrupt;
#[cfg_attr(not(unix), path = "python_plugin_unavailable.rs")]
pub mod python_plugin;
pub mod repl;
pub mod scripting;
pub mod symbolize;
pub mod trace;
pub mod triage;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "dbgkit",
    version,
    about = "A programmable debugger: debug, trace and symbolize programs",
    long_about = "A programmable debugger: debug, trace and symbolize programs.\n\n\
                  With a PROGRAM (or -p PID) and no subcommand, dbgkit is an interactive debugger that \
                  speaks WinDbg's commands and answers to gdb's names for them.",
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    after_help = repl::help_overview(),
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    debug: repl::DebugArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Print one line per debug event of a program (launched or attached).
    Trace(trace::TraceArgs),
    /// Name addresses of an ELF file offline (the output of `addr2line -f -i -C`).
    Symbolize(symbolize::SymbolizeArgs),
    /// Run a program on many inputs; rank and deduplicate the crashes (`@@` stands for the input's path).
    Triage(triage::TriageArgs),
}

/// Runs the command line of this process; returns the exit status.
/// `scripting` is what the interactive debugger runs scripts with.
pub fn run(scripting: scripting::Scripting) -> i32 {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Trace(args)) => trace::run(args),
        Some(Command::Symbolize(args)) => symbolize::run(args),
        Some(Command::Triage(args)) => triage::run(args),
        None => repl::run(cli.debug, scripting),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("dbgkit: {e:#}");
            2
        }
    }
}
