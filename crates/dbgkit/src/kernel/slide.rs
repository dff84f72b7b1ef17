//! Where KASLR put the kernel: the slide is what is added to every
//! link-time address. Found from the interrupt descriptor table (its base
//! from the stub's monitor, QEMU's `info registers`; entry 0 points at
//! `asm_exc_divide_error`), confirmed by reading `linux_banner` there; or,
//! without a monitor, by looking for the banner at each slide KASLR can choose.

/// The text `linux_banner` starts with.
pub const BANNER: &[u8] = b"Linux version ";

/// KASLR moves the kernel in steps of 2 MiB (`CONFIG_PHYSICAL_ALIGN` at
/// least) within 1 GiB (`KERNEL_IMAGE_SIZE`).
pub const STEP: u64 = 0x20_0000;
pub const RANGE: u64 = 0x4000_0000;

/// The IDT base in QEMU's `info registers` output (`IDT=     fffffe0000000000 00000fff`).
pub fn idt_base(monitor_output: &str) -> Option<u64> {
    let line = monitor_output.lines().find(|l| l.trim_start().starts_with("IDT="))?;
    let mut fields = line.trim_start()["IDT=".len()..].split_whitespace();
    u64::from_str_radix(fields.next()?, 16).ok()
}

/// The handler address of a 64-bit interrupt gate (16 bytes).
pub fn gate_handler(entry: &[u8; 16]) -> u64 {
    let low = u16::from_le_bytes([entry[0], entry[1]]) as u64;
    let middle = u16::from_le_bytes([entry[6], entry[7]]) as u64;
    let high = u32::from_le_bytes([entry[8], entry[9], entry[10], entry[11]]) as u64;
    low | (middle << 16) | (high << 32)
}

/// Whether `slide` is one KASLR could have chosen.
pub fn plausible(slide: u64) -> bool {
    slide < RANGE && slide.is_multiple_of(STEP)
}

/// Every slide KASLR can choose, smallest first.
pub fn candidates() -> impl Iterator<Item = u64> {
    (0..RANGE / STEP).map(|i| i * STEP)
}

/// The slide a handler address implies, if plausible.
pub fn from_handler(handler: u64, link_address: u64) -> Option<u64> {
    handler.checked_sub(link_address).filter(|&s| plausible(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qemu_monitor_and_gates() {
        let text = "RAX=0000000000000000 RBX=0000000000000000\r\nGDT=     fffffe0000001000 0000007f\r\nIDT=     fffffe0000000000 00000fff\r\nCR0=80050033\r\n";
        assert_eq!(idt_base(text), Some(0xffff_fe00_0000_0000));
        assert_eq!(idt_base("nothing"), None);
        // A gate for 0xffffffff81c00990 (asm_exc_divide_error at link time), selector 0x10, type 0x8e.
        let gate: [u8; 16] = [0x90, 0x09, 0x10, 0x00, 0x00, 0x8e, 0xc0, 0x81, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0];
        assert_eq!(gate_handler(&gate), 0xffff_ffff_81c0_0990);
        assert_eq!(from_handler(0xffff_ffff_81c0_0990 + 0x1e00_0000, 0xffff_ffff_81c0_0990), Some(0x1e00_0000));
        assert_eq!(from_handler(0xffff_ffff_81c0_0991, 0xffff_ffff_81c0_0990), None, "not a 2 MiB step");
        assert_eq!(from_handler(0x1000, 0xffff_ffff_81c0_0990), None, "the reset vector is no kernel handler");
        assert_eq!(candidates().count(), 512);
    }
}
