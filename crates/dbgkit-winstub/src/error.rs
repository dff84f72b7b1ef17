//! The stub's errors.

use dbgkit::os::windows::WindowsError;
use thiserror::Error;

/// What can go wrong while serving a Windows program.
#[derive(Debug, Error)]
pub enum StubError {
    /// The debug loop failed (a Win32 call, a start, an attach).
    #[error(transparent)]
    Windows(#[from] WindowsError),
    /// The socket could not be opened.
    #[error("cannot listen on {address}: {}", listen_reason(.source))]
    Listen { address: String, source: std::io::Error },
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
