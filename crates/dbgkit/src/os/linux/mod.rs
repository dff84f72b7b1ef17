//! The Linux ptrace backend.

pub(crate) mod attach;
pub(crate) mod auxv;
pub(crate) mod inject;
pub(crate) mod maps;
pub(crate) mod memory;
pub(crate) mod process_info;
pub(crate) mod ptrace;
pub(crate) mod signals;
pub mod spawn;
pub(crate) mod target;
pub(crate) mod wait;
