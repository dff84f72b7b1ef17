//! The `dbgkit` command.

mod format;
mod interrupt;
mod symbolize;
mod trace;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "dbgkit", version, about = "A programmable debugger: trace and debug programs")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print one line per debug event of a program (launched or attached).
    Trace(trace::TraceArgs),
    /// Name addresses of an ELF file offline (the output of `addr2line -f -i -C`).
    Symbolize(symbolize::SymbolizeArgs),
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Trace(args) => trace::run(args),
        Command::Symbolize(args) => symbolize::run(args),
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("dbgkit: {e:#}");
            std::process::exit(2);
        }
    }
}
