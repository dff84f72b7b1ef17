//! Operating-system backends.

pub mod linux;
