//! Processor architectures.

pub mod registers;
pub(crate) mod x86_64;
