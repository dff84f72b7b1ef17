//! Scratch memory in the target for out-of-line instructions.
//!
//! Pages are mapped inside the target (read and execute, anonymous, private)
//! within ±1 GiB of the code they serve, so relocated RIP-relative operands
//! and jumps back stay in reach. Slot 0 of the first page holds a `syscall`
//! instruction the engine uses to end a single thread.

use crate::arch::x86_64::SLOT_SIZE;
use crate::target::MemoryRegion;

/// Size of one scratch mapping.
pub(crate) const PAGE_BYTES: u64 = 64 * 1024;
/// How far from the code a scratch page may be.
const REACH: u64 = 1 << 30;

#[derive(Clone, Debug, Default)]
pub(crate) struct Scratch {
    pub pages: Vec<ScratchPage>,
}

#[derive(Clone, Debug)]
pub(crate) struct ScratchPage {
    pub base: u64,
    next: u64,
    free: Vec<u64>,
}

impl Scratch {
    /// A free slot within reach of `near`, if a page has one.
    pub(crate) fn take_slot(&mut self, near: u64) -> Option<u64> {
        let page = self
            .pages
            .iter_mut()
            .find(|p| p.base.abs_diff(near) < REACH && (p.next < PAGE_BYTES || !p.free.is_empty()))?;
        if let Some(slot) = page.free.pop() {
            return Some(slot);
        }
        let slot = page.base + page.next;
        page.next += SLOT_SIZE as u64;
        Some(slot)
    }

    pub(crate) fn release_slot(&mut self, slot: u64) {
        if let Some(page) = self.pages.iter_mut().find(|p| (p.base..p.base + PAGE_BYTES).contains(&slot)) {
            page.free.push(slot);
        }
    }

    /// Registers a newly mapped page; the first page keeps slot 0 for the syscall stub.
    pub(crate) fn add_page(&mut self, base: u64) {
        let first = self.pages.is_empty();
        self.pages.push(ScratchPage { base, next: if first { SLOT_SIZE as u64 } else { 0 }, free: Vec::new() });
    }

    /// Whether `address` is in scratch memory.
    pub(crate) fn contains(&self, address: u64) -> bool {
        self.pages.iter().any(|p| (p.base..p.base + PAGE_BYTES).contains(&address))
    }

    /// Address of the `syscall` stub, once a page exists.
    pub(crate) fn syscall_stub(&self) -> Option<u64> {
        self.pages.first().map(|p| p.base)
    }
}

/// A free, page-aligned gap of `PAGE_BYTES` within reach of `near`, closest first.
pub(crate) fn free_gap_near(maps: &[MemoryRegion], near: u64) -> Option<u64> {
    let mut best: Option<u64> = None;
    let mut consider = |candidate: u64| {
        let in_reach =
            candidate.abs_diff(near) < REACH - PAGE_BYTES && (0x10000..0x7fff_ffff_0000).contains(&candidate);
        // Below the code first: above an executable is where its heap grows.
        let rank = |c: u64| (c > near, c.abs_diff(near));
        if in_reach && best.is_none_or(|b| rank(candidate) < rank(b)) {
            best = Some(candidate);
        }
    };
    for pair in maps.windows(2) {
        let (gap_start, gap_end) = (pair[0].end, pair[1].start);
        if gap_end.saturating_sub(gap_start) >= PAGE_BYTES + 2 * 4096 {
            // Leave a guard page on each side.
            consider(gap_start + 4096);
            consider(gap_end - 4096 - PAGE_BYTES);
        }
    }
    if let Some(first) = maps.first() {
        if first.start >= PAGE_BYTES + 0x20000 {
            consider(first.start - 4096 - PAGE_BYTES);
        }
    }
    best
}
