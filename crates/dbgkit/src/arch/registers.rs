//! The x86_64 register file as the engine shows it.

macro_rules! general_registers {
    ($($name:ident),* $(,)?) => {
        /// The general-purpose registers of one thread, with flags, segment
        /// registers and the `fs`/`gs` base addresses.
        ///
        /// ```
        /// let mut regs = dbgkit::Registers::default();
        /// regs.rax = 0x10;
        /// assert_eq!(regs.get("rax"), Some(0x10));
        /// assert_eq!(regs.get("eax"), Some(0x10));
        /// ```
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        pub struct Registers {
            $(pub $name: u64,)*
        }

        // The kernel's layout, for the ptrace backend.
        #[cfg(target_os = "linux")]
        impl From<libc::user_regs_struct> for Registers {
            fn from(r: libc::user_regs_struct) -> Registers {
                Registers { $($name: r.$name,)* }
            }
        }

        #[cfg(target_os = "linux")]
        impl From<Registers> for libc::user_regs_struct {
            fn from(r: Registers) -> libc::user_regs_struct {
                libc::user_regs_struct { $($name: r.$name,)* }
            }
        }

        impl Registers {
            /// The names of every full-width register, in display order.
            pub const NAMES: &'static [&'static str] = &[$(stringify!($name),)*];

            fn full(&self, name: &str) -> Option<u64> {
                match name { $(stringify!($name) => Some(self.$name),)* _ => None }
            }

            fn full_mut(&mut self, name: &str) -> Option<&mut u64> {
                match name { $(stringify!($name) => Some(&mut self.$name),)* _ => None }
            }
        }
    };
}

general_registers!(
    r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8, rax, rcx, rdx, rsi, rdi, orig_rax, rip, cs, eflags, rsp, ss,
    fs_base, gs_base, ds, es, fs, gs,
);

/// A sub-register: which full register, the bit shift and the width in bits.
fn sub_register(name: &str) -> Option<(&'static str, u32, u32)> {
    const LEGACY: [(&str, &str, &str, &str, &str); 4] = [
        ("rax", "eax", "ax", "al", "ah"),
        ("rbx", "ebx", "bx", "bl", "bh"),
        ("rcx", "ecx", "cx", "cl", "ch"),
        ("rdx", "edx", "dx", "dl", "dh"),
    ];
    for (full, e, x, l, h) in LEGACY {
        match name {
            n if n == e => return Some((full, 0, 32)),
            n if n == x => return Some((full, 0, 16)),
            n if n == l => return Some((full, 0, 8)),
            n if n == h => return Some((full, 8, 8)),
            _ => {}
        }
    }
    const INDEX: [(&str, &str, &str, &str); 4] = [
        ("rsi", "esi", "si", "sil"),
        ("rdi", "edi", "di", "dil"),
        ("rbp", "ebp", "bp", "bpl"),
        ("rsp", "esp", "sp", "spl"),
    ];
    for (full, e, x, l) in INDEX {
        match name {
            n if n == e => return Some((full, 0, 32)),
            n if n == x => return Some((full, 0, 16)),
            n if n == l => return Some((full, 0, 8)),
            _ => {}
        }
    }
    const NUMBERED: [&str; 8] = ["r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"];
    for full in NUMBERED {
        if let Some(suffix) = name.strip_prefix(full) {
            match suffix {
                "d" => return Some((full, 0, 32)),
                "w" => return Some((full, 0, 16)),
                "b" => return Some((full, 0, 8)),
                _ => {}
            }
        }
    }
    match name {
        "eip" => Some(("rip", 0, 32)),
        "efl" | "rflags" => Some(("eflags", 0, 64)),
        _ => None,
    }
}

impl Registers {
    /// Reads a register by name: full (`rax`), partial (`eax`, `ax`, `al`, `ah`, `r8d`) or alias (`efl`).
    pub fn get(&self, name: &str) -> Option<u64> {
        let name = name.to_ascii_lowercase();
        if let Some(v) = self.full(&name) {
            return Some(v);
        }
        let (full, shift, bits) = sub_register(&name)?;
        let v = self.full(full)? >> shift;
        Some(if bits == 64 { v } else { v & ((1u64 << bits) - 1) })
    }

    /// Writes a register by name; partial registers change only their bits
    /// (as the CPU does for 8- and 16-bit writes; a 32-bit write zero-extends).
    pub fn set(&mut self, name: &str, value: u64) -> bool {
        let name = name.to_ascii_lowercase();
        if let Some(slot) = self.full_mut(&name) {
            *slot = value;
            return true;
        }
        let Some((full, shift, bits)) = sub_register(&name) else {
            return false;
        };
        let slot = self.full_mut(full).expect("sub-register of a known register");
        if bits == 32 && shift == 0 {
            *slot = value & 0xffff_ffff;
        } else if bits == 64 {
            *slot = value;
        } else {
            let mask = ((1u64 << bits) - 1) << shift;
            *slot = (*slot & !mask) | ((value << shift) & mask);
        }
        true
    }
}

/// The x87 and SSE state of one thread (the `fxsave` area).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FpRegisters {
    /// x87 control word.
    pub fcw: u16,
    /// x87 status word.
    pub fsw: u16,
    /// Abridged x87 tag word.
    pub ftw: u16,
    pub fop: u16,
    pub rip: u64,
    pub rdp: u64,
    pub mxcsr: u32,
    pub mxcsr_mask: u32,
    /// `st0`..`st7` (80-bit values, each in the low 10 bytes of 16).
    pub st: [u128; 8],
    /// `xmm0`..`xmm15`.
    pub xmm: [u128; 16],
}

#[cfg(target_os = "linux")]
fn words_to_u128(w: &[u32]) -> u128 {
    w.iter().enumerate().fold(0u128, |acc, (i, &x)| acc | (x as u128) << (32 * i))
}

#[cfg(target_os = "linux")]
fn u128_to_words(v: u128, out: &mut [u32]) {
    for (i, w) in out.iter_mut().enumerate() {
        *w = (v >> (32 * i)) as u32;
    }
}

#[cfg(target_os = "linux")]
impl From<libc::user_fpregs_struct> for FpRegisters {
    fn from(f: libc::user_fpregs_struct) -> FpRegisters {
        let mut out = FpRegisters {
            fcw: f.cwd,
            fsw: f.swd,
            ftw: f.ftw,
            fop: f.fop,
            rip: f.rip,
            rdp: f.rdp,
            mxcsr: f.mxcsr,
            mxcsr_mask: f.mxcr_mask,
            ..Default::default()
        };
        for i in 0..8 {
            out.st[i] = words_to_u128(&f.st_space[i * 4..i * 4 + 4]);
        }
        for i in 0..16 {
            out.xmm[i] = words_to_u128(&f.xmm_space[i * 4..i * 4 + 4]);
        }
        out
    }
}

impl FpRegisters {
    /// Writes these values into a kernel `user_fpregs_struct`, keeping its reserved bytes.
    #[cfg(target_os = "linux")]
    pub(crate) fn store(&self, f: &mut libc::user_fpregs_struct) {
        f.cwd = self.fcw;
        f.swd = self.fsw;
        f.ftw = self.ftw;
        f.fop = self.fop;
        f.rip = self.rip;
        f.rdp = self.rdp;
        f.mxcsr = self.mxcsr;
        for i in 0..8 {
            u128_to_words(self.st[i], &mut f.st_space[i * 4..i * 4 + 4]);
        }
        for i in 0..16 {
            u128_to_words(self.xmm[i], &mut f.xmm_space[i * 4..i * 4 + 4]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_registers_read_and_write_their_bits() {
        let mut r = Registers { rax: 0x1122_3344_5566_7788, ..Default::default() };
        assert_eq!(r.get("eax"), Some(0x5566_7788));
        assert_eq!(r.get("ax"), Some(0x7788));
        assert_eq!(r.get("al"), Some(0x88));
        assert_eq!(r.get("ah"), Some(0x77));
        r.set("ah", 0xff);
        assert_eq!(r.rax, 0x1122_3344_5566_ff88);
        r.set("eax", 1);
        assert_eq!(r.rax, 1);
        r.set("r9b", 0x42);
        assert_eq!(r.get("r9"), Some(0x42));
        assert!(!r.set("nosuch", 1));
    }
}
