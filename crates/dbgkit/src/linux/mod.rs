//! What the engine knows of Linux as a target's system, whatever system
//! the debugger runs on: the text of `/proc` files (read here, or through a
//! remote stub's file access) and the dynamic loader's structures in the
//! target's memory. The ptrace backend, which only runs on Linux, is
//! `os/linux`.

pub(crate) mod maps;
pub(crate) mod proc_status;
pub(crate) mod rdebug;
