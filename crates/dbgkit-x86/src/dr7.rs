//! DR7, the x86 debug control register: which of the four address
//! registers (DR0-DR3) are enabled, and for each what it watches and how
//! many bytes. Shared by the engine and the Windows stub.

/// What a debug register reacts to (DR7's R/W field).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Condition {
    /// Executing the instruction at the address (a hardware breakpoint).
    Execute = 0b00,
    /// Writing.
    Write = 0b01,
    /// Reading or writing (x86 cannot watch reads alone).
    ReadWrite = 0b11,
}

/// The DR7 LEN field for a length of 1, 2, 4 or 8 bytes.
pub fn len_bits(len: u64) -> Option<u64> {
    match len {
        1 => Some(0b00),
        2 => Some(0b01),
        4 => Some(0b11),
        8 => Some(0b10),
        _ => None,
    }
}

/// DR7 with slot `slot` set to watch `len` bytes for `condition` (locally
/// enabled); `None` for a length the hardware cannot watch.
pub fn dr7_with(dr7: u64, slot: usize, condition: Condition, len: u64) -> Option<u64> {
    let len = if condition == Condition::Execute { 0 } else { len_bits(len)? };
    let control_shift = 16 + 4 * slot;
    let cleared = dr7_without(dr7, slot);
    Some(cleared | (1 << (2 * slot)) | ((condition as u64 | (len << 2)) << control_shift))
}

/// DR7 with slot `slot` disabled and its fields cleared.
pub fn dr7_without(dr7: u64, slot: usize) -> u64 {
    dr7 & !(0b11 << (2 * slot)) & !(0b1111 << (16 + 4 * slot))
}

/// What DR7 has slot `slot` watch: the condition and the length in bytes;
/// `None` when the slot is disabled or set for I/O ports. The inverse of [`dr7_with`].
pub fn dr7_slot(dr7: u64, slot: usize) -> Option<(Condition, u64)> {
    if dr7 & (0b11 << (2 * slot)) == 0 {
        return None;
    }
    let control = (dr7 >> (16 + 4 * slot)) & 0b1111;
    let condition = match control & 0b11 {
        0b00 => Condition::Execute,
        0b01 => Condition::Write,
        0b11 => Condition::ReadWrite,
        _ => return None,
    };
    let len = match control >> 2 {
        0b00 => 1,
        0b01 => 2,
        0b11 => 4,
        _ => 8,
    };
    Some((condition, if condition == Condition::Execute { 1 } else { len }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_per_slot_and_back() {
        // Slot 1, write, 4 bytes: L1 (bit 2), R/W1 = 01 at bits 20-21, LEN1 = 11 at bits 22-23.
        assert_eq!(dr7_with(0, 1, Condition::Write, 4), Some((1 << 2) | (0b01 << 20) | (0b11 << 22)));
        assert_eq!(dr7_with(0, 0, Condition::Execute, 1), Some(1));
        assert_eq!(dr7_with(0, 0, Condition::Write, 3), None);
        for slot in 0..4 {
            let dr7 = dr7_with(0, slot, Condition::ReadWrite, 8).unwrap();
            assert_eq!(dr7_slot(dr7, slot), Some((Condition::ReadWrite, 8)));
            assert_eq!(dr7_slot(dr7_without(dr7, slot), slot), None);
        }
    }
}
