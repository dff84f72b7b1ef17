//! Memory the engine itself mapped inside a target (scratch pages for
//! out-of-line instructions and system calls), so front ends can label or
//! hide it in the memory map they show.

use super::Session;
use crate::breakpoints::scratch::PAGE_BYTES;
use crate::error::Result;
use std::ops::Range;

impl Session {
    /// The address ranges of process `pid` that the debugger mapped (they
    /// go away on detach).
    pub fn debugger_regions(&self, pid: i32) -> Result<Vec<Range<u64>>> {
        Ok(self.process(pid)?.scratch.pages.iter().map(|p| p.base..p.base + PAGE_BYTES).collect())
    }
}
