//! The x86 debug registers of the Windows debug loop's hardware
//! breakpoints and watchpoints: four slots (DR0-DR3 hold addresses), DR7
//! says what each watches, DR6 which one fired. The DR7 layout is `dbgkit_x86::dr7`, the engine's too.

use dbgkit_x86::dr7::{dr7_with, len_bits};

/// What a slot reacts to: executing, writing, or reading or writing (x86
/// cannot watch reads alone).
pub use dbgkit_x86::dr7::Condition as SlotKind;

/// One debug register in use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot {
    pub address: u64,
    pub kind: SlotKind,
    /// 1, 2, 4 or 8 bytes (1 for `Execute`).
    pub len: u64,
}

/// The four slots, the same in every thread of the program.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DebugSlots {
    slots: [Option<Slot>; 4],
}

impl DebugSlots {
    /// Takes a free slot for `slot`; `None` when all four are taken or the
    /// length or alignment is one the hardware cannot watch.
    pub fn add(&mut self, slot: Slot) -> Option<usize> {
        let len = if slot.kind == SlotKind::Execute { 1 } else { slot.len };
        len_bits(len)?;
        if !slot.address.is_multiple_of(len) {
            return None;
        }
        let slot = Slot { len, ..slot };
        if let Some(existing) = self.slots.iter().position(|s| *s == Some(slot)) {
            return Some(existing);
        }
        let free = self.slots.iter().position(Option::is_none)?;
        self.slots[free] = Some(slot);
        Some(free)
    }

    /// Frees the slot holding `slot`; false when none did.
    pub fn remove(&mut self, slot: Slot) -> bool {
        let len = if slot.kind == SlotKind::Execute { 1 } else { slot.len };
        let slot = Slot { len, ..slot };
        match self.slots.iter().position(|s| *s == Some(slot)) {
            Some(index) => {
                self.slots[index] = None;
                true
            }
            None => false,
        }
    }

    /// DR0-DR3.
    pub fn addresses(&self) -> [u64; 4] {
        self.slots.map(|s| s.map_or(0, |s| s.address))
    }

    /// DR7: each slot in use locally enabled with its kind and length.
    pub fn dr7(&self) -> u64 {
        self.slots.iter().enumerate().fold(0, |dr7, (index, slot)| match slot {
            Some(slot) => dr7_with(dr7, index, slot.kind, slot.len).expect("checked on add"),
            None => dr7,
        })
    }

    /// The slot in use whose DR6 bit is set.
    pub fn fired(&self, dr6: u64) -> Option<Slot> {
        (0..4).filter(|i| dr6 & (1 << i) != 0).find_map(|i| self.slots[i])
    }

    /// Whether any slot is in use.
    pub fn any(&self) -> bool {
        self.slots.iter().any(Option::is_some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// DR6's bit for a single step by the trap flag (BS).
    const DR6_SINGLE_STEP: u64 = 1 << 14;

    fn slot(address: u64, kind: SlotKind, len: u64) -> Slot {
        Slot { address, kind, len }
    }

    #[test]
    fn dr7_enables_each_slot_with_its_kind_and_length() {
        let mut regs = DebugSlots::default();
        assert_eq!(regs.add(slot(0x1000, SlotKind::Execute, 1)), Some(0));
        assert_eq!(regs.dr7(), 0b01);
        assert_eq!(regs.add(slot(0x2000, SlotKind::Write, 4)), Some(1));
        // Slot 1: L1 (bit 2), R/W 01 and LEN 11 at bits 20-23.
        assert_eq!(regs.dr7(), 0b101 | (0b1101 << 20));
        assert_eq!(regs.add(slot(0x3000, SlotKind::ReadWrite, 8)), Some(2));
        assert_eq!(regs.dr7() >> 24 & 0xf, 0b1011);
        assert_eq!(regs.addresses(), [0x1000, 0x2000, 0x3000, 0]);
    }

    #[test]
    fn slots_run_out_and_come_back() {
        let mut regs = DebugSlots::default();
        for i in 0..4 {
            assert_eq!(regs.add(slot(0x1000 + 8 * i, SlotKind::Write, 8)), Some(i as usize));
        }
        assert_eq!(regs.add(slot(0x5000, SlotKind::Write, 8)), None);
        // The same watch again takes no new slot.
        assert_eq!(regs.add(slot(0x1008, SlotKind::Write, 8)), Some(1));
        assert!(regs.remove(slot(0x1008, SlotKind::Write, 8)));
        assert!(!regs.remove(slot(0x1008, SlotKind::Write, 8)));
        assert_eq!(regs.add(slot(0x5000, SlotKind::Write, 8)), Some(1));
    }

    #[test]
    fn lengths_and_alignment_the_hardware_cannot_watch_are_refused() {
        let mut regs = DebugSlots::default();
        assert_eq!(regs.add(slot(0x1000, SlotKind::Write, 3)), None);
        assert_eq!(regs.add(slot(0x1002, SlotKind::Write, 4)), None);
        assert!(!regs.any());
        // An execute slot watches one byte, whatever length is asked.
        assert_eq!(regs.add(slot(0x1001, SlotKind::Execute, 7)), Some(0));
        assert_eq!(regs.dr7(), 1);
    }

    #[test]
    fn dr6_names_the_slot_that_fired() {
        let mut regs = DebugSlots::default();
        regs.add(slot(0x1000, SlotKind::Execute, 1));
        regs.add(slot(0x2000, SlotKind::Write, 4));
        assert_eq!(regs.fired(0b10 | DR6_SINGLE_STEP), Some(slot(0x2000, SlotKind::Write, 4)));
        assert_eq!(regs.fired(DR6_SINGLE_STEP), None);
        // A bit of a slot not in use is not a hit.
        assert_eq!(regs.fired(0b1000), None);
    }
}
