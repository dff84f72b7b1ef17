//! The `dbgkit` command.

mod format;
mod interrupt;
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
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Trace(args) => trace::run(args),
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("dbgkit: {e:#}");
            std::process::exit(2);
        }
    }
}
