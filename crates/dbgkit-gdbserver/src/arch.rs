//! Linux x86_64 as gdb and lldb see it: the register file in the order of
//! gdbserver's `amd64-linux` description (core, x87, SSE, `orig_rax`, the
//! segment bases), its target description, and conversion from and to the
//! engine's `Registers` and `FpRegisters`.

use dbgkit::{FpRegisters, Registers};
use gdbstub::arch::{Arch, RegId};
use std::num::NonZeroUsize;

/// The architecture for gdbstub.
pub enum X86_64Linux {}

impl Arch for X86_64Linux {
    type Usize = u64;
    type Registers = GdbRegisters;
    type BreakpointKind = usize;
    type RegId = GdbRegId;

    fn target_description_xml() -> Option<&'static str> {
        Some(TARGET_XML)
    }
}

/// General registers in gdb's order (`rax rbx rcx rdx rsi rdi rbp rsp r8`..`r15`).
pub const GPR_NAMES: [&str; 16] =
    ["rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"];
/// Segment registers in gdb's order.
pub const SEGMENT_NAMES: [&str; 6] = ["cs", "ss", "ds", "es", "fs", "gs"];

/// Register numbers of the description below.
pub mod regnum {
    pub const RBP: usize = 6;
    pub const RSP: usize = 7;
    pub const RIP: usize = 16;
    pub const EFLAGS: usize = 17;
    pub const CS: usize = 18;
    pub const ST0: usize = 24;
    pub const FCTRL: usize = 32;
    pub const XMM0: usize = 40;
    pub const MXCSR: usize = 56;
    pub const ORIG_RAX: usize = 57;
    pub const FS_BASE: usize = 58;
    pub const GS_BASE: usize = 59;
    pub const YMM0H: usize = 60;
    /// One past the last register.
    pub const COUNT: usize = 76;
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
        57..=59 => 8,
        60..=75 => 16,
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
    pub gpr: [u64; 16],
    pub rip: u64,
    pub eflags: u32,
    pub segments: [u32; 6],
    /// `st0`..`st7`, 80 bits each.
    pub st: [[u8; 10]; 8],
    /// `fctrl fstat ftag fiseg fioff foseg fooff fop`; `ftag` is the full
    /// two-bit-per-register tag word, as gdb expects it.
    pub x87_control: [u32; 8],
    pub xmm: [u128; 16],
    pub mxcsr: u32,
    pub orig_rax: u64,
    pub fs_base: u64,
    pub gs_base: u64,
    /// Bits 128..255 of `ymm0`..`ymm15`.
    pub ymmh: [u128; 16],
    /// The x87, SSE and AVX registers of a thread that has ended (a killed
    /// process not reaped yet) cannot be read any more: they go as `x`, as
    /// gdbserver sends them. The general ones are those of its stop, so gdb
    /// has a pc, resumes it and hears of the end.
    pub vectors_unavailable: bool,
}

impl GdbRegisters {
    /// Whether register `n` has a value.
    pub fn is_available(&self, n: usize) -> bool {
        !(self.vectors_unavailable && matches!(n, regnum::ST0..=regnum::MXCSR | regnum::YMM0H..))
    }

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
            57 => self.orig_rax.to_le_bytes().to_vec(),
            58 => self.fs_base.to_le_bytes().to_vec(),
            59 => self.gs_base.to_le_bytes().to_vec(),
            60..=75 => self.ymmh[n - 60].to_le_bytes().to_vec(),
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
            57 => self.orig_rax = u64_of(bytes),
            58 => self.fs_base = u64_of(bytes),
            59 => self.gs_base = u64_of(bytes),
            60..=75 => self.ymmh[n - 60] = u128::from_le_bytes(bytes.try_into().expect("size checked")),
            _ => return false,
        }
        true
    }

    /// The registers of a thread as the engine reads them.
    pub fn from_engine(regs: &Registers, fp: &FpRegisters) -> GdbRegisters {
        let mut out = GdbRegisters::default();
        for (slot, name) in out.gpr.iter_mut().zip(GPR_NAMES) {
            *slot = regs.get(name).unwrap_or(0);
        }
        out.rip = regs.rip;
        out.eflags = regs.eflags as u32;
        for (slot, name) in out.segments.iter_mut().zip(SEGMENT_NAMES) {
            *slot = regs.get(name).unwrap_or(0) as u32;
        }
        for (slot, value) in out.st.iter_mut().zip(fp.st) {
            slot.copy_from_slice(&value.to_le_bytes()[..10]);
        }
        out.x87_control = [
            fp.fcw as u32,
            fp.fsw as u32,
            full_tag_word(fp.fsw, fp.ftw, &fp.st) as u32,
            (fp.rip >> 32) as u32,
            fp.rip as u32,
            (fp.rdp >> 32) as u32,
            fp.rdp as u32,
            fp.fop as u32,
        ];
        out.xmm = fp.xmm;
        out.mxcsr = fp.mxcsr;
        out.orig_rax = regs.orig_rax;
        out.fs_base = regs.fs_base;
        out.gs_base = regs.gs_base;
        out
    }

    /// Writes these values into the engine's register sets (the fields the
    /// protocol does not carry keep their values).
    pub fn to_engine(&self, regs: &mut Registers, fp: &mut FpRegisters) {
        for (value, name) in self.gpr.iter().zip(GPR_NAMES) {
            regs.set(name, *value);
        }
        regs.rip = self.rip;
        regs.eflags = self.eflags as u64;
        for (value, name) in self.segments.iter().zip(SEGMENT_NAMES) {
            regs.set(name, *value as u64);
        }
        regs.orig_rax = self.orig_rax;
        regs.fs_base = self.fs_base;
        regs.gs_base = self.gs_base;
        for (slot, bytes) in fp.st.iter_mut().zip(&self.st) {
            let mut wide = [0u8; 16];
            wide[..10].copy_from_slice(bytes);
            *slot = u128::from_le_bytes(wide);
        }
        let c = &self.x87_control;
        fp.fcw = c[0] as u16;
        fp.fsw = c[1] as u16;
        fp.ftw = abridged_tag_word(c[2] as u16);
        fp.rip = (c[3] as u64) << 32 | c[4] as u64;
        fp.rdp = (c[5] as u64) << 32 | c[6] as u64;
        fp.fop = c[7] as u16;
        fp.xmm = self.xmm;
        fp.mxcsr = self.mxcsr;
    }
}

pub use dbgkit_x86::x87::{abridged_tag_word, full_tag_word};

impl gdbstub::arch::Registers for GdbRegisters {
    type ProgramCounter = u64;

    fn pc(&self) -> u64 {
        self.rip
    }

    fn gdb_serialize(&self, mut write_byte: impl FnMut(Option<u8>)) {
        for n in 0..regnum::COUNT {
            let available = self.is_available(n);
            for byte in self.register_bytes(n).unwrap_or_default() {
                write_byte(available.then_some(byte));
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

/// gdbserver's `amd64-avx-linux` description: general, x87, SSE, `orig_rax`
/// (so gdb restarts interrupted system calls correctly), the `fs`/`gs`
/// bases and the AVX upper halves. `generic` attributes name pc, sp, fp and
/// flags for lldb.
pub const TARGET_XML: &str = r#"<?xml version="1.0"?>
<!DOCTYPE target SYSTEM "gdb-target.dtd">
<target version="1.0">
<architecture>i386:x86-64</architecture>
<osabi>GNU/Linux</osabi>
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
<feature name="org.gnu.gdb.i386.linux">
<reg name="orig_rax" bitsize="64" type="int" regnum="57"/>
</feature>
<feature name="org.gnu.gdb.i386.segments">
<reg name="fs_base" bitsize="64" type="int"/>
<reg name="gs_base" bitsize="64" type="int"/>
</feature>
<feature name="org.gnu.gdb.i386.avx">
<reg name="ymm0h" bitsize="128" type="uint128" regnum="60"/>
<reg name="ymm1h" bitsize="128" type="uint128"/>
<reg name="ymm2h" bitsize="128" type="uint128"/>
<reg name="ymm3h" bitsize="128" type="uint128"/>
<reg name="ymm4h" bitsize="128" type="uint128"/>
<reg name="ymm5h" bitsize="128" type="uint128"/>
<reg name="ymm6h" bitsize="128" type="uint128"/>
<reg name="ymm7h" bitsize="128" type="uint128"/>
<reg name="ymm8h" bitsize="128" type="uint128"/>
<reg name="ymm9h" bitsize="128" type="uint128"/>
<reg name="ymm10h" bitsize="128" type="uint128"/>
<reg name="ymm11h" bitsize="128" type="uint128"/>
<reg name="ymm12h" bitsize="128" type="uint128"/>
<reg name="ymm13h" bitsize="128" type="uint128"/>
<reg name="ymm14h" bitsize="128" type="uint128"/>
<reg name="ymm15h" bitsize="128" type="uint128"/>
</feature>
</target>
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use gdbstub::arch::Registers as _;

    #[test]
    fn serialized_registers_have_the_described_sizes_and_come_back() {
        let mut regs = GdbRegisters { rip: 0x401000, eflags: 0x246, fs_base: 0x7fff_0000, ..Default::default() };
        regs.gpr[7] = 0x7ffe_0000;
        regs.xmm[3] = 0x1122_3344_5566_7788_99aa_bbcc_ddee_ff00;
        regs.ymmh[15] = 0xfeed;
        regs.st[1] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
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
    fn tag_words_convert_both_ways() {
        // Empty stack: every register empty.
        assert_eq!(full_tag_word(0, 0, &[0; 8]), 0xffff);
        // One value pushed: top = 7, st0 is physical register 7, a normal number.
        let mut st = [0u128; 8];
        st[0] = (0x3fffu128 << 64) | (1u128 << 63);
        let full = full_tag_word(7 << 11, 0x80, &st);
        assert_eq!(full, 0x3fff);
        assert_eq!(abridged_tag_word(full), 0x80);
        // A zero is tagged "zero".
        assert_eq!(full_tag_word(7 << 11, 0x80, &[0; 8]), 0x7fff);
    }

    #[test]
    fn description_numbers_match_the_layout() {
        let regs = TARGET_XML.matches("<reg ").count();
        assert_eq!(regs, regnum::COUNT);
        assert_eq!(register_size(regnum::GS_BASE), Some(8));
        assert_eq!(register_size(regnum::COUNT), None);
    }
}
