//! Crash triage: what a crash is, how bad, and which other crashes are the
//! same bug.
//!
//! The analysis works on "a stopped thread of a process in a [`Session`]"
//! (pid, tid): [`capture`] reads everything it needs through the session's
//! public calls (registers, memory, memory map, stack, symbols), so a core
//! file opened in a session is analysed by the same code as a live process.
//! [`conclude`] then combines that snapshot with what the program printed
//! (sanitizer reports, glibc's and the C++ and Rust runtimes' messages) into
//! an [`Analysis`]: class, severity, explanation and stack hash.
//!
//! [`run_input`] runs a program on one input under a session and returns its
//! [`Record`]; [`run_inputs`] does it for many inputs on several threads (a
//! session per thread); [`cluster`] groups records by stack hash and ranks
//! the groups. The `dbgkit triage` command and the Python module
//! `dbgkit.triage` are both built on these.
//!
//! [`Session`]: crate::Session

mod class;
mod cluster;
mod conclude;
mod cores;
mod fault;
mod json;
mod messages;
mod run;
mod sanitizer;
mod snapshot;
mod stack_hash;

pub use class::{Access, CrashClass, Severity};
pub use cluster::{cluster, Cluster};
pub use conclude::{conclude, Analysis};
pub use cores::{analyse_core, analyse_cores};
pub use fault::{address_from_input, classify_fault, signal_code_name, FaultFacts, FaultFinding, FaultingInstruction};
pub use json::{records_to_json, triage_to_json};
pub use messages::{find_abort_reason, type_name_from_type_info, AbortReason};
pub use run::{run_input, run_inputs, Outcome, Record, RunOptions, INPUT_PLACEHOLDER};
pub use sanitizer::{parse_report, SanitizerFrame, SanitizerReport};
pub use snapshot::{capture, Frame, Snapshot, Trigger};
pub use stack_hash::{hash_frames, is_runtime_frame, stack_hash, DEFAULT_HASH_FRAMES};
