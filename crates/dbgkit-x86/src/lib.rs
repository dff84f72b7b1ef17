//! x86-64 instruction work that every dbgkit target shares, whatever system
//! it runs on (the engine on Linux, `dbgkit-winstub` on Windows): how to
//! run the instruction under a breakpoint without lifting the breakpoint,
//! the debug control register's layout and the x87 tag word.

pub mod dr7;
pub mod out_of_line;
pub mod x87;
