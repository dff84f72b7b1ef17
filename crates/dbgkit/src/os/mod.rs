//! Operating-system backends: the ptrace target (Linux), and the Win32
//! debug loop (Windows) that both the engine's Windows target and
//! `dbgkit-winstub` stand on.

#[cfg(target_os = "linux")]
pub(crate) mod linux;
pub(crate) mod local;
pub mod windows;
