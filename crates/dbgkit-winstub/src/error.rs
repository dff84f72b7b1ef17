//! The stub's errors.

use thiserror::Error;

/// What can go wrong while serving a Windows program.
#[derive(Debug, Error)]
pub enum StubError {
    /// A Win32 call failed; `code` is `GetLastError()`.
    #[error("{call} failed (Windows error {code})")]
    Win32 { call: &'static str, code: u32 },
    /// The socket could not be opened.
    #[error("cannot listen on {address}: {}", listen_reason(.source))]
    Listen { address: String, source: std::io::Error },
    /// `CreateProcessW` could not start the program.
    #[error("cannot start {program} (Windows error {code}{})", launch_hint(*code))]
    Launch { program: String, code: u32 },
    /// `DebugActiveProcess` refused the process.
    #[error("cannot attach to process {pid} (Windows error {code})")]
    Attach { pid: u32, code: u32 },
    /// The client named a thread the program does not have.
    #[error("thread {0} is not a thread of the program")]
    UnknownThread(u32),
    /// The client asked for something only a stopped program can do.
    #[error("the program is not stopped at a debug event")]
    NotStopped,
    /// The socket or the console failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Why a socket could not be opened, in words (Wine cannot format
/// Winsock's messages).
fn listen_reason(error: &std::io::Error) -> String {
    match error.raw_os_error() {
        Some(10048) => "the port is in use".into(),
        Some(10049) => "not an address of this machine".into(),
        Some(10013) => "permission denied".into(),
        Some(code) => format!("Windows socket error {code}"),
        None => error.to_string(),
    }
}

/// What the commonest `CreateProcessW` errors mean.
fn launch_hint(code: u32) -> &'static str {
    match code {
        2 => ": no such file",
        3 => ": no such directory",
        5 => ": access denied",
        193 | 700 => ": not a program Windows can load here",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_start_names_the_program_and_the_reason() {
        let e = StubError::Launch { program: "Z:\\tmp\\nope.exe".into(), code: 2 };
        assert_eq!(e.to_string(), "cannot start Z:\\tmp\\nope.exe (Windows error 2: no such file)");
        let e = StubError::Launch { program: "p.exe".into(), code: 1234 };
        assert_eq!(e.to_string(), "cannot start p.exe (Windows error 1234)");
    }
}
