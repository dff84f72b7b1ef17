//! The `dbgkit` command.

mod format;
mod interrupt;
mod repl;
mod symbolize;
mod trace;
mod triage;

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

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Trace(args)) => trace::run(args),
        Some(Command::Symbolize(args)) => symbolize::run(args),
        Some(Command::Triage(args)) => triage::run(args),
        None => repl::run(cli.debug),
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("dbgkit: {e:#}");
            std::process::exit(2);
        }
    }
}
