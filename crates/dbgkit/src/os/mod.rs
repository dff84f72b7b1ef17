//! Operating-system backends: the ptrace target (Linux), and the Win32
//! debug loop (Windows) that both the engine's Windows target and
//! `dbgkit-winstub` stand on; `local.rs` picks one for the session, and
//! `file_at.rs` is the host's positioned file read.

pub(crate) mod file_at;
#[cfg(target_os = "linux")]
pub(crate) mod linux;
pub(crate) mod local;
pub mod windows;
