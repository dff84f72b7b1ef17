//! Everything that calls the Win32 debug API.

pub mod context;
pub mod serve;
pub mod target;
