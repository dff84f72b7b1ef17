//! 64-bit Windows as gdb sees it through gdbserver for Windows: the general
//! registers, x87 and SSE in the order of gdb's `amd64` description (no
//! `orig_rax`, no segment bases, no AVX: the thread context of the
//! debug API carries none of them).

use gdbstub::arch::{Arch, RegId};
use std::num::NonZeroUsize;

/// The architecture for gdbstub.
pub enum X86_64Windows {}

impl Arch for X86_64Windows {
    type Usize = u64;
    type Registers = GdbRegisters;
    type BreakpointKind = usize;
    type RegId = GdbRegId;

    fn target_description_xml() -> Option<&'static str> {
        Some(TARGET_XML)
    }
}

/// Register numbers of the description below.
pub mod regnum {
    /// One past the last register.
    pub const COUNT: usize = 57;
}

/// The size in bytes of register `n`, or `None` past the last one.
pub fn register_size(n: usize) -> Option<usize> {
    Some(match n {
        0..=16 => 8,
        17..=23 => 4,
        24..=31 => 10,
        32..=39 => 4,
        40..=55 => 16,
        56 => 4,
        _ => return None,
    })
}

/// One register by its number in the target description.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GdbRegId(pub usize);

impl RegId for GdbRegId {
    fn from_raw_id(id: usize) -> Option<(Self, Option<NonZeroUsize>)> {
        register_size(id).map(|size| (GdbRegId(id), NonZeroUsize::new(size)))
    }

    fn to_raw_id(&self) -> Option<usize> {
        Some(self.0)
    }
}

/// Every register of one thread, as the protocol carries them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GdbRegisters {
    /// `rax rbx rcx rdx rsi rdi rbp rsp r8`..`r15`, gdb's order.
    pub gpr: [u64; 16],
    pub rip: u64,
    pub eflags: u32,
    /// `cs ss ds es fs gs`.
    pub segments: [u32; 6],
    /// `st0`..`st7`, 80 bits each.
    pub st: [[u8; 10]; 8],
    /// `fctrl fstat ftag fiseg fioff foseg fooff fop`; `ftag` is the full
    /// two-bit-per-register tag word, as gdb expects it.
    pub x87_control: [u32; 8],
    pub xmm: [u128; 16],
    pub mxcsr: u32,
}

impl GdbRegisters {
    /// The value of register `n`, little-endian, in its protocol size.
    pub fn register_bytes(&self, n: usize) -> Option<Vec<u8>> {
        let bytes = match n {
            0..=15 => self.gpr[n].to_le_bytes().to_vec(),
            16 => self.rip.to_le_bytes().to_vec(),
            17 => self.eflags.to_le_bytes().to_vec(),
            18..=23 => self.segments[n - 18].to_le_bytes().to_vec(),
            24..=31 => self.st[n - 24].to_vec(),
            32..=39 => self.x87_control[n - 32].to_le_bytes().to_vec(),
            40..=55 => self.xmm[n - 40].to_le_bytes().to_vec(),
            56 => self.mxcsr.to_le_bytes().to_vec(),
            _ => return None,
        };
        Some(bytes)
    }

    /// Sets register `n` from little-endian bytes of its protocol size;
    /// false for an unknown register or a value of the wrong size.
    pub fn set_register_bytes(&mut self, n: usize, bytes: &[u8]) -> bool {
        if register_size(n) != Some(bytes.len()) {
            return false;
        }
        let u64_of = |b: &[u8]| u64::from_le_bytes(b.try_into().expect("size checked"));
        let u32_of = |b: &[u8]| u32::from_le_bytes(b.try_into().expect("size checked"));
        match n {
            0..=15 => self.gpr[n] = u64_of(bytes),
            16 => self.rip = u64_of(bytes),
            17 => self.eflags = u32_of(bytes),
            18..=23 => self.segments[n - 18] = u32_of(bytes),
            24..=31 => self.st[n - 24].copy_from_slice(bytes),
            32..=39 => self.x87_control[n - 32] = u32_of(bytes),
            40..=55 => self.xmm[n - 40] = u128::from_le_bytes(bytes.try_into().expect("size checked")),
            56 => self.mxcsr = u32_of(bytes),
            _ => return false,
        }
        true
    }
}

/// The full x87 tag word from `fxsave`'s abridged one, for the 80-bit
/// values as a `CONTEXT` holds them (`dbgkit_x86::x87` does the work).
pub fn full_tag_word(fsw: u16, abridged: u16, st: &[[u8; 10]; 8]) -> u16 {
    let values = st.map(|v| {
        let mut wide = [0u8; 16];
        wide[..10].copy_from_slice(&v);
        u128::from_le_bytes(wide)
    });
    dbgkit_x86::x87::full_tag_word(fsw, abridged, &values)
}

// Used by the Windows build (windows/context.rs).
#[cfg_attr(not(windows), allow(unused_imports))]
pub use dbgkit_x86::x87::abridged_tag_word;

impl gdbstub::arch::Registers for GdbRegisters {
    type ProgramCounter = u64;

    fn pc(&self) -> u64 {
        self.rip
    }

    fn gdb_serialize(&self, mut write_byte: impl FnMut(Option<u8>)) {
        for n in 0..regnum::COUNT {
            for byte in self.register_bytes(n).unwrap_or_default() {
                write_byte(Some(byte));
            }
        }
    }

    fn gdb_deserialize(&mut self, bytes: &[u8]) -> Result<(), ()> {
        let mut offset = 0;
        for n in 0..regnum::COUNT {
            let size = register_size(n).ok_or(())?;
            // gdb may send a shorter `G` (the registers it knows); stop there.
            let Some(chunk) = bytes.get(offset..offset + size) else {
                return if offset == bytes.len() { Ok(()) } else { Err(()) };
            };
            if !self.set_register_bytes(n, chunk) {
                return Err(());
            }
            offset += size;
        }
        Ok(())
    }
}

/// gdb's `amd64` description (core and SSE), as gdbserver for Windows
/// sends it; no `osabi`, so a gdb built for Linux only (which has no
/// Windows OS ABI) does not take the program for a Linux one.
pub const TARGET_XML: &str = r#"<?xml version="1.0"?>
<!DOCTYPE target SYSTEM "gdb-target.dtd">
<target version="1.0">
<architecture>i386:x86-64</architecture>
<feature name="org.gnu.gdb.i386.core">
<flags id="i386_eflags" size="4">
<field name="CF" start="0" end="0"/><field name="" start="1" end="1"/><field name="PF" start="2" end="2"/>
<field name="AF" start="4" end="4"/><field name="ZF" start="6" end="6"/><field name="SF" start="7" end="7"/>
<field name="TF" start="8" end="8"/><field name="IF" start="9" end="9"/><field name="DF" start="10" end="10"/>
<field name="OF" start="11" end="11"/><field name="NT" start="14" end="14"/><field name="RF" start="16" end="16"/>
<field name="VM" start="17" end="17"/><field name="AC" start="18" end="18"/><field name="VIF" start="19" end="19"/>
<field name="VIP" start="20" end="20"/><field name="ID" start="21" end="21"/>
</flags>
<reg name="rax" bitsize="64" type="int64" regnum="0"/>
<reg name="rbx" bitsize="64" type="int64"/>
<reg name="rcx" bitsize="64" type="int64" generic="arg4"/>
<reg name="rdx" bitsize="64" type="int64" generic="arg3"/>
<reg name="rsi" bitsize="64" type="int64" generic="arg2"/>
<reg name="rdi" bitsize="64" type="int64" generic="arg1"/>
<reg name="rbp" bitsize="64" type="data_ptr" generic="fp"/>
<reg name="rsp" bitsize="64" type="data_ptr" generic="sp"/>
<reg name="r8" bitsize="64" type="int64" generic="arg5"/>
<reg name="r9" bitsize="64" type="int64" generic="arg6"/>
<reg name="r10" bitsize="64" type="int64"/>
<reg name="r11" bitsize="64" type="int64"/>
<reg name="r12" bitsize="64" type="int64"/>
<reg name="r13" bitsize="64" type="int64"/>
<reg name="r14" bitsize="64" type="int64"/>
<reg name="r15" bitsize="64" type="int64"/>
<reg name="rip" bitsize="64" type="code_ptr" generic="pc"/>
<reg name="eflags" bitsize="32" type="i386_eflags" generic="flags"/>
<reg name="cs" bitsize="32" type="int32"/>
<reg name="ss" bitsize="32" type="int32"/>
<reg name="ds" bitsize="32" type="int32"/>
<reg name="es" bitsize="32" type="int32"/>
<reg name="fs" bitsize="32" type="int32"/>
<reg name="gs" bitsize="32" type="int32"/>
<reg name="st0" bitsize="80" type="i387_ext"/>
<reg name="st1" bitsize="80" type="i387_ext"/>
<reg name="st2" bitsize="80" type="i387_ext"/>
<reg name="st3" bitsize="80" type="i387_ext"/>
<reg name="st4" bitsize="80" type="i387_ext"/>
<reg name="st5" bitsize="80" type="i387_ext"/>
<reg name="st6" bitsize="80" type="i387_ext"/>
<reg name="st7" bitsize="80" type="i387_ext"/>
<reg name="fctrl" bitsize="32" type="int" group="float"/>
<reg name="fstat" bitsize="32" type="int" group="float"/>
<reg name="ftag" bitsize="32" type="int" group="float"/>
<reg name="fiseg" bitsize="32" type="int" group="float"/>
<reg name="fioff" bitsize="32" type="int" group="float"/>
<reg name="foseg" bitsize="32" type="int" group="float"/>
<reg name="fooff" bitsize="32" type="int" group="float"/>
<reg name="fop" bitsize="32" type="int" group="float"/>
</feature>
<feature name="org.gnu.gdb.i386.sse">
<vector id="v8bf16" type="bfloat16" count="8"/>
<vector id="v4f" type="ieee_single" count="4"/>
<vector id="v2d" type="ieee_double" count="2"/>
<vector id="v16i8" type="int8" count="16"/>
<vector id="v8i16" type="int16" count="8"/>
<vector id="v4i32" type="int32" count="4"/>
<vector id="v2i64" type="int64" count="2"/>
<union id="vec128">
<field name="v8_bfloat16" type="v8bf16"/><field name="v4_float" type="v4f"/><field name="v2_double" type="v2d"/>
<field name="v16_int8" type="v16i8"/><field name="v8_int16" type="v8i16"/><field name="v4_int32" type="v4i32"/>
<field name="v2_int64" type="v2i64"/><field name="uint128" type="uint128"/>
</union>
<flags id="i386_mxcsr" size="4">
<field name="IE" start="0" end="0"/><field name="DE" start="1" end="1"/><field name="ZE" start="2" end="2"/>
<field name="OE" start="3" end="3"/><field name="UE" start="4" end="4"/><field name="PE" start="5" end="5"/>
<field name="DAZ" start="6" end="6"/><field name="IM" start="7" end="7"/><field name="DM" start="8" end="8"/>
<field name="ZM" start="9" end="9"/><field name="OM" start="10" end="10"/><field name="UM" start="11" end="11"/>
<field name="PM" start="12" end="12"/><field name="FZ" start="15" end="15"/>
</flags>
<reg name="xmm0" bitsize="128" type="vec128" regnum="40"/>
<reg name="xmm1" bitsize="128" type="vec128"/>
<reg name="xmm2" bitsize="128" type="vec128"/>
<reg name="xmm3" bitsize="128" type="vec128"/>
<reg name="xmm4" bitsize="128" type="vec128"/>
<reg name="xmm5" bitsize="128" type="vec128"/>
<reg name="xmm6" bitsize="128" type="vec128"/>
<reg name="xmm7" bitsize="128" type="vec128"/>
<reg name="xmm8" bitsize="128" type="vec128"/>
<reg name="xmm9" bitsize="128" type="vec128"/>
<reg name="xmm10" bitsize="128" type="vec128"/>
<reg name="xmm11" bitsize="128" type="vec128"/>
<reg name="xmm12" bitsize="128" type="vec128"/>
<reg name="xmm13" bitsize="128" type="vec128"/>
<reg name="xmm14" bitsize="128" type="vec128"/>
<reg name="xmm15" bitsize="128" type="vec128"/>
<reg name="mxcsr" bitsize="32" type="i386_mxcsr" group="vector"/>
</feature>
</target>
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use gdbstub::arch::Registers as _;

    #[test]
    fn serialized_registers_have_the_described_sizes_and_come_back() {
        let mut regs = GdbRegisters { rip: 0x140001000, eflags: 0x246, ..Default::default() };
        regs.gpr[7] = 0x22_fe00;
        regs.xmm[15] = 0x1122_3344_5566_7788_99aa_bbcc_ddee_ff00;
        regs.st[1] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        regs.mxcsr = 0x1f80;
        let mut bytes = Vec::new();
        regs.gdb_serialize(|b| bytes.push(b.expect("every register is known")));
        let total: usize = (0..regnum::COUNT).map(|n| register_size(n).unwrap()).sum();
        assert_eq!(bytes.len(), total);
        let mut back = GdbRegisters::default();
        back.gdb_deserialize(&bytes).unwrap();
        assert_eq!(back, regs);
        assert!(back.gdb_deserialize(&bytes[..bytes.len() - 3]).is_err());
    }

    #[test]
    fn description_numbers_match_the_layout() {
        assert_eq!(TARGET_XML.matches("<reg ").count(), regnum::COUNT);
        assert!(TARGET_XML.contains("regnum=\"40\"") && !TARGET_XML.contains("osabi"));
        assert_eq!(register_size(56), Some(4)); // mxcsr
        assert_eq!(register_size(regnum::COUNT), None);
    }

    #[test]
    fn tag_words_convert_both_ways() {
        assert_eq!(full_tag_word(0, 0, &[[0; 10]; 8]), 0xffff);
        // One value pushed: top = 7, st0 is physical register 7, a normal number (1.0).
        let mut st = [[0u8; 10]; 8];
        st[0] = [0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f];
        let full = full_tag_word(7 << 11, 0x80, &st);
        assert_eq!(full, 0x3fff);
        assert_eq!(abridged_tag_word(full), 0x80);
    }
}
