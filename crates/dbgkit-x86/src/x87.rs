//! The x87 tag word in its two forms: the full one (`fsave`, and gdb's
//! `ftag` register: two bits per physical register) and the abridged one
//! of `fxsave` (one bit: not empty).

/// The full tag word (valid, zero, special, empty per physical register)
/// from the abridged one, as the CPU's `fsave` would store it; `st` holds
/// `st(0)`..`st(7)`, each 80-bit value in the low bytes.
pub fn full_tag_word(fsw: u16, abridged: u16, st: &[u128; 8]) -> u16 {
    let top = ((fsw >> 11) & 7) as usize;
    let mut full = 0u16;
    for physical in 0..8 {
        let tag = if abridged & (1 << physical) == 0 {
            3
        } else {
            // st(i) is physical register (top + i) mod 8.
            let value = st[(physical + 8 - top) % 8];
            let exponent = ((value >> 64) & 0x7fff) as u16;
            let fraction = value as u64;
            match exponent {
                0x7fff => 2,
                0 if fraction == 0 => 1,
                0 => 2,
                _ if fraction >> 63 == 0 => 2,
                _ => 0,
            }
        };
        full |= tag << (2 * physical);
    }
    full
}

/// `fxsave`'s abridged tag word from the full one.
pub fn abridged_tag_word(full: u16) -> u16 {
    (0..8).filter(|i| (full >> (2 * i)) & 3 != 3).fold(0, |acc, i| acc | 1 << i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_ways() {
        assert_eq!(full_tag_word(0, 0, &[0; 8]), 0xffff);
        // One value pushed: top = 7, st0 is physical register 7, 1.0 (a normal number).
        let mut st = [0u128; 8];
        st[0] = 0x3fff_8000_0000_0000_0000;
        let full = full_tag_word(7 << 11, 0x80, &st);
        assert_eq!(full, 0x3fff);
        assert_eq!(abridged_tag_word(full), 0x80);
    }
}
