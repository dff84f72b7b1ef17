//! What can go wrong in the Win32 debug loop.

use thiserror::Error;

/// A Win32 debug API failure, named by the call and the program or process it concerned.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum WindowsError {
    /// A Win32 call failed; `code` is `GetLastError()`.
    #[error("{call} failed (Windows error {code})")]
    Win32 { call: &'static str, code: u32 },
    /// `CreateProcessW` could not start the program.
    #[error("cannot start {program} (Windows error {code}{})", launch_hint(*code))]
    Launch { program: String, code: u32 },
    /// `DebugActiveProcess` refused the process.
    #[error("cannot attach to process {pid} (Windows error {code})")]
    Attach { pid: u32, code: u32 },
    /// A thread id the process does not have.
    #[error("thread {0} is not a thread of the program")]
    UnknownThread(u32),
    /// Something only a program stopped at a debug event can do.
    #[error("the program is not stopped at a debug event")]
    NotStopped,
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
        let e = WindowsError::Launch { program: "Z:\\tmp\\nope.exe".into(), code: 2 };
        assert_eq!(e.to_string(), "cannot start Z:\\tmp\\nope.exe (Windows error 2: no such file)");
        let e = WindowsError::Launch { program: "p.exe".into(), code: 1234 };
        assert_eq!(e.to_string(), "cannot start p.exe (Windows error 1234)");
    }
}
