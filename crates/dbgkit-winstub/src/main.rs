//! `dbgkit-winstub HOST:PORT PROG ARGS...`: runs a Windows program under the
//! Win32 debug API and serves it to one GDB remote protocol client, as
//! gdbserver does. Built for `x86_64-pc-windows-gnu` and run under Wine (or
//! Windows); the Linux build only says so. See docs/windows.md.

// On Linux only the platform-independent parts are built, for their tests.
#![cfg_attr(not(windows), allow(dead_code))]

mod arch;
mod args;
mod console_output;
mod error;
mod exception_signal;
mod library_list;
mod monitor_exception;
mod packet_link;
#[cfg(windows)]
mod windows;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args = match args::parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(e) => {
            eprintln!("dbgkit-winstub: {e}");
            return ExitCode::from(2);
        }
    };
    run(args)
}

#[cfg(windows)]
fn run(args: args::StubArgs) -> ExitCode {
    match windows::serve::serve(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dbgkit-winstub: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(not(windows))]
fn run(_args: args::StubArgs) -> ExitCode {
    eprintln!(
        "dbgkit-winstub runs on Windows (or under Wine): build it with \
         `cargo build --target x86_64-pc-windows-gnu -p dbgkit-winstub`; see docs/windows.md"
    );
    ExitCode::from(2)
}
