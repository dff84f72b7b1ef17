//! The x86 debug registers: DR0-DR3 hold addresses, DR7 says what each one
//! watches, DR6 says which one fired. Small pure functions over enums.

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

    /// The DR7 R/W field.
    fn rw_bits(self) -> u64 {
        match self {
            WatchAccess::Execute => 0b00,
            WatchAccess::Write => 0b01,
            WatchAccess::ReadWrite | WatchAccess::Read => 0b11,
        }
    }
}

/// The DR7 LEN field for a length of 1, 2, 4 or 8 bytes.
fn len_bits(len: u64) -> Option<u64> {
    match len {
        1 => Some(0b00),
        2 => Some(0b01),
        4 => Some(0b11),
        8 => Some(0b10),
        _ => None,
    }
}

/// Byte offset of `u_debugreg[n]` in the kernel's `struct user` (x86_64).
#[cfg(target_os = "linux")]
pub(crate) fn debugreg_offset(n: usize) -> usize {
    std::mem::offset_of!(libc::user, u_debugreg) + 8 * n
}

/// DR7 with slot `slot` set to watch `len` bytes for `access` (locally enabled).
pub(crate) fn dr7_with(dr7: u64, slot: usize, access: WatchAccess, len: u64) -> Option<u64> {
    let len = if access == WatchAccess::Execute { 0 } else { len_bits(len)? };
    let control_shift = 16 + 4 * slot;
    let cleared = dr7_without(dr7, slot);
    Some(cleared | (1 << (2 * slot)) | ((access.rw_bits() | (len << 2)) << control_shift))
}

/// DR7 with slot `slot` disabled and its fields cleared.
pub(crate) fn dr7_without(dr7: u64, slot: usize) -> u64 {
    dr7 & !(0b11 << (2 * slot)) & !(0b1111 << (16 + 4 * slot))
}

/// What DR7 has slot `slot` watch: the access and the length in bytes;
/// `None` when the slot is disabled or set for I/O ports. The inverse of [`dr7_with`].
pub(crate) fn dr7_slot(dr7: u64, slot: usize) -> Option<(WatchAccess, u64)> {
    if dr7 & (0b11 << (2 * slot)) == 0 {
        return None;
    }
    let control = (dr7 >> (16 + 4 * slot)) & 0b1111;
    let access = match control & 0b11 {
        0b00 => WatchAccess::Execute,
        0b01 => WatchAccess::Write,
        0b11 => WatchAccess::ReadWrite,
        _ => return None,
    };
    let len = match control >> 2 {
        0b00 => 1,
        0b01 => 2,
        0b11 => 4,
        _ => 8,
    };
    Some((access, if access == WatchAccess::Execute { 1 } else { len }))
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
        assert_eq!(dr7_without(both, 0), dr7_with(0, 2, WatchAccess::Write, 1).unwrap());
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
