//! Everything that calls the Win32 debug API.

pub mod context;
pub mod debuggee;
pub mod launch;
pub mod serve;
pub mod target;
