//! The stub's errors.

use thiserror::Error;

/// What can go wrong while serving a Windows program.
#[derive(Debug, Error)]
pub enum StubError {
    /// A Win32 call failed; `code` is `GetLastError()`.
    #[error("{call} failed (Windows error {code})")]
    Win32 { call: &'static str, code: u32 },
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
