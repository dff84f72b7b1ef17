//! The GDB remote serial protocol client: a target behind a stub, such as
//! Debian's `gdbserver` (a user process, on this machine or another) or
//! QEMU's gdbstub (a whole machine, each vCPU a thread: kernel debugging)
//! or `dbgkit-winstub` (a Windows process under Wine).
//! Written for dbgkit from the protocol's documentation; no client crate.
//!
//! | file            | idea |
//! | --------------- | ---- |
//! | `packet.rs`     | framing, checksums, escapes, run lengths (fuzzed) |
//! | `transport.rs`  | TCP, or a pipe to a command (`| gdbserver - prog`) |
//! | `connection.rs` | acknowledgements and retransmission, no-ack mode, console output, the interrupt byte, a dropped connection |
//! | `features.rs`   | `qSupported` |
//! | `xml.rs`        | the little XML of target descriptions and lists |
//! | `registers.rs`  | register layouts from `target.xml` |
//! | `stop_reply.rs` | stop replies and thread ids |
//! | `signals.rs`    | GDB's signal numbers and Linux's |
//! | `lists.rs`      | `qXfer:libraries-svr4`, `qXfer:libraries` (Windows), `qXfer:threads`, `qfThreadInfo` |
//! | `windows_exception.rs` | the NTSTATUS behind a Windows stop (`monitor exception`) |
//! | `wine_paths.rs` | a Windows program's file names (`Z:\...`, `C:\...`) as files here |
//! | `client.rs`     | the requests as typed calls |
//! | `all_stop.rs`   | one-thread-at-a-time run control over an all-stop stub |
//! | `debug_slots.rs`| debug registers as `Z1`-`Z4` points |
//! | `memory_cache.rs` | memory read at a stop, kept until the target runs |
//! | `target.rs`     | the [`crate::target::Target`] and its event source |

pub(crate) mod all_stop;
pub mod client;
pub mod connection;
mod debug_slots;
mod error;
pub mod features;
pub mod lists;
mod memory_cache;
pub mod packet;
pub mod registers;
pub mod signals;
pub mod stop_reply;
mod target;
pub mod transport;
pub mod windows_exception;
pub mod wine_paths;
mod xml;

pub use connection::Traffic;
pub use error::RemoteError;
pub use target::{Connected, RemoteKind, RemoteTarget};
