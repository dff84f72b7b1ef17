//! The `dbgkit` command as a library: the interactive debugger, `trace`
//! and `symbolize`, so that the binary, its tests and the fuzz target
//! (`fuzz/`) share one implementation.

pub mod format;
pub mod interrupt;
pub mod repl;
pub mod symbolize;
pub mod trace;
pub mod triage;
