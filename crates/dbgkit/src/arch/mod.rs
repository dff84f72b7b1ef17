//! Processor architectures.

pub mod registers;
pub(crate) mod x86_64;
pub(crate) mod xsave;
