//! The x86 debug registers: DR0-DR3 hold addresses, DR7 says what each one
//! watches, DR6 says which one fired. Small pure functions over enums; the
//! DR7 layout itself is `dbgkit_x86::dr7`, shared with the Windows stub.

use dbgkit_x86::dr7::{self, Condition};

/// What a hardware watchpoint reacts to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WatchAccess {
    /// Executing the instruction at the address (a hardware breakpoint).
    Execute,
    /// Writing.
    Write,
    /// Reading or writing.
    ReadWrite,
    /// Reading: only in reports of page watchpoints (the debug registers cannot watch reads alone).
    Read,
}

impl WatchAccess {
    pub fn name(self) -> &'static str {
        match self {
            WatchAccess::Execute => "execute",
            WatchAccess::Write => "write",
            WatchAccess::ReadWrite => "read/write",
            WatchAccess::Read => "read",
        }
    }

    /// What a debug register watches for it (reads alone cannot be watched).
    fn condition(self) -> Condition {
        match self {
            WatchAccess::Execute => Condition::Execute,
            WatchAccess::Write => Condition::Write,
            WatchAccess::ReadWrite | WatchAccess::Read => Condition::ReadWrite,
        }
    }
}

/// Byte offset of `u_debugreg[n]` in the kernel's `struct user` (x86_64).
#[cfg(target_os = "linux")]
pub(crate) fn debugreg_offset(n: usize) -> usize {
    std::mem::offset_of!(libc::user, u_debugreg) + 8 * n
}

/// DR7 with slot `slot` set to watch `len` bytes for `access` (locally enabled).
pub(crate) fn dr7_with(dr7: u64, slot: usize, access: WatchAccess, len: u64) -> Option<u64> {
    dr7::dr7_with(dr7, slot, access.condition(), len)
}

/// What DR7 has slot `slot` watch: the access and the length in bytes;
/// `None` when the slot is disabled or set for I/O ports. The inverse of [`dr7_with`].
pub(crate) fn dr7_slot(dr7: u64, slot: usize) -> Option<(WatchAccess, u64)> {
    let (condition, len) = dr7::dr7_slot(dr7, slot)?;
    let access = match condition {
        Condition::Execute => WatchAccess::Execute,
        Condition::Write => WatchAccess::Write,
        Condition::ReadWrite => WatchAccess::ReadWrite,
    };
    Some((access, len))
}

/// The slots DR6 says fired.
pub(crate) fn fired_slots(dr6: u64) -> impl Iterator<Item = usize> {
    (0..4).filter(move |i| dr6 & (1 << i) != 0)
}

/// Splits `[address, address + len)` into naturally aligned pieces of 1, 2,
/// 4 or 8 bytes (what one debug register can watch), largest first.
pub(crate) fn split_range(address: u64, len: u64) -> Vec<(u64, u64)> {
    let mut pieces = Vec::new();
    let mut at = address;
    let end = address + len;
    while at < end {
        let size = [8u64, 4, 2, 1].into_iter().find(|&s| at.is_multiple_of(s) && at + s <= end).expect("1 always fits");
        pieces.push((at, size));
        at += size;
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dr7_fields_per_slot() {
        // Slot 1, write, 4 bytes: L1 (bit 2), R/W1 = 01 at bits 20-21, LEN1 = 11 at bits 22-23.
        assert_eq!(dr7_with(0, 1, WatchAccess::Write, 4), Some((1 << 2) | (0b01 << 20) | (0b11 << 22)));
        // Execute breakpoints always have LEN 00.
        assert_eq!(dr7_with(0, 0, WatchAccess::Execute, 1), Some(1));
        // 8 bytes is LEN 10.
        assert_eq!(dr7_with(0, 3, WatchAccess::ReadWrite, 8), Some((1 << 6) | (0b11 << 28) | (0b10 << 30)));
        assert_eq!(dr7_with(0, 0, WatchAccess::Write, 3), None);
        let both = dr7_with(dr7_with(0, 0, WatchAccess::Write, 8).unwrap(), 2, WatchAccess::Write, 1).unwrap();
        assert_eq!(dr7::dr7_without(both, 0), dr7_with(0, 2, WatchAccess::Write, 1).unwrap());
        assert_eq!(fired_slots(0b1010).collect::<Vec<_>>(), vec![1, 3]);
    }

    #[test]
    fn dr7_decodes_what_it_encodes() {
        for slot in 0..4 {
            for (access, len) in [
                (WatchAccess::Write, 1),
                (WatchAccess::Write, 2),
                (WatchAccess::ReadWrite, 4),
                (WatchAccess::ReadWrite, 8),
                (WatchAccess::Execute, 1),
            ] {
                let dr7 = dr7_with(0, slot, access, len).unwrap();
                assert_eq!(dr7_slot(dr7, slot), Some((access, len)));
                assert_eq!(dr7_slot(dr7, (slot + 1) % 4), None);
            }
        }
        // I/O breakpoints (R/W 10) are not ours to decode.
        assert_eq!(dr7_slot(1 | (0b10 << 16), 0), None);
    }

    #[test]
    fn ranges_split_into_aligned_pieces() {
        assert_eq!(split_range(0x1000, 8), vec![(0x1000, 8)]);
        assert_eq!(split_range(0x1001, 3), vec![(0x1001, 1), (0x1002, 2)]);
        assert_eq!(split_range(0x1000, 16), vec![(0x1000, 8), (0x1008, 8)]);
        assert_eq!(split_range(0x1003, 6), vec![(0x1003, 1), (0x1004, 4), (0x1008, 1)]);
    }
}
