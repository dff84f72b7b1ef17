//! Linux kernels seen through a machine's stub (QEMU's gdbstub): the
//! kernel's image and the few symbols the debugger itself needs (from
//! `vmlinux` or a `System.map`), where KASLR put it (the slide), and the
//! kernel's own lists (processes, loaded modules) read through the
//! structure layouts of `vmlinux`'s DWARF, with no script to load.

pub mod image;
pub mod lists;
pub mod slide;
pub mod types;

pub use image::KernelImage;
pub use lists::{ModuleEntry, TaskEntry};
pub use types::{KernelTypes, ModuleOffsets, TaskOffsets};
