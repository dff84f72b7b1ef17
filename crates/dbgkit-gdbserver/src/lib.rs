//! dbgkit-gdbserver: the GDB remote serial protocol on the dbgkit engine,
//! started like gdbserver, so gdb, lldb and the tools built on them can
//! drive dbgkit.
//!
//! The protocol engine is gdbstub; this crate supplies the target (the
//! engine's `Session` behind gdbstub's traits), the transport, a packet
//! decoder that keeps bad input away from gdbstub, and the packets gdbstub
//! does not implement.

pub mod agent_expr;
pub mod arch;
pub mod args;
pub mod breakpoint_options;
pub mod connection;
pub mod extended;
pub mod extensions;
pub mod forks;
pub mod framing;
pub mod host_io;
pub mod info;
pub mod libraries;
pub mod lldb;
pub mod monitor;
pub mod non_stop;
pub mod osdata;
pub mod processes;
pub mod run_control;
pub mod schedule_multiple;
pub mod server;
pub mod signals;
pub mod stop_reply;
pub mod syscalls;
pub mod target;
pub mod terminal;
pub mod tls;
pub mod wakeup;
