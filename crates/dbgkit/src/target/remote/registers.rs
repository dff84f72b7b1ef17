//! Register layouts from target descriptions (`target.xml` and the files
//! it includes): where each register sits in a `g` packet and how wide it
//! is, for gdbserver's x86_64 Linux description (`orig_rax`, `fs_base`)
//! and QEMU's system one (segment bases, `cr0`-`cr8`, `efer`). The engine's
//! [`Registers`] and [`FpRegisters`] are read from and written into the
//! packet through the layout; registers they have no field for are the
//! target's "system registers", shown by name.

use super::error::RemoteError;
use super::xml;
use crate::arch::registers::{FpRegisters, Registers};

/// One register of a layout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegisterInfo {
    pub name: String,
    /// Its number in `p`/`P` packets and stop replies.
    pub regnum: usize,
    pub bits: usize,
    /// Byte offset in the `g` packet (registers follow each other by number).
    pub offset: usize,
}

impl RegisterInfo {
    pub fn bytes(&self) -> usize {
        self.bits.div_ceil(8)
    }
}

/// The registers of one architecture description.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegisterLayout {
    registers: Vec<RegisterInfo>,
}

/// Names the engine's general registers have in target descriptions.
const GENERAL: &[&str] = &[
    "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
    "rip", "eflags", "cs", "ss", "ds", "es", "fs", "gs", "fs_base", "gs_base", "orig_rax",
];

/// Registers of the x87/SSE/AVX state (shown through [`FpRegisters`] or not at all).
fn is_vector_or_fp(name: &str) -> bool {
    const FP: &[&str] = &["fctrl", "fstat", "ftag", "fiseg", "fioff", "foseg", "fooff", "fop", "mxcsr"];
    FP.contains(&name)
        || name.starts_with("st")
        || name.starts_with("xmm")
        || name.starts_with("ymm")
        || name.starts_with("zmm")
        || name.starts_with('k') && name.len() == 2
        || name.starts_with("bnd")
        || name == "pkru"
}

/// How deep `xi:include` may nest before the description is refused.
const MAX_INCLUDE_DEPTH: usize = 8;

impl RegisterLayout {
    /// The layout of a description; `fetch` reads one annex (`target.xml`,
    /// then what it includes).
    pub fn from_description(
        fetch: &mut dyn FnMut(&str) -> Result<String, RemoteError>,
    ) -> Result<RegisterLayout, RemoteError> {
        let mut regs: Vec<(String, Option<usize>, usize)> = Vec::new();
        collect("target.xml", fetch, &mut regs, 0)?;
        let mut registers = Vec::new();
        let mut next = 0usize;
        for (name, regnum, bits) in regs {
            let regnum = regnum.unwrap_or(next);
            next = regnum + 1;
            registers.push(RegisterInfo { name, regnum, bits, offset: 0 });
        }
        Ok(RegisterLayout::with_offsets(registers))
    }

    /// gdb's layout for x86_64 when a stub gives no description.
    pub fn amd64_default() -> RegisterLayout {
        let mut registers = Vec::new();
        let mut add = |name: &str, bits: usize| {
            let regnum = registers.len();
            registers.push(RegisterInfo { name: name.into(), regnum, bits, offset: 0 });
        };
        for r in ["rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp"] {
            add(r, 64);
        }
        for i in 8..16 {
            add(&format!("r{i}"), 64);
        }
        add("rip", 64);
        add("eflags", 32);
        for s in ["cs", "ss", "ds", "es", "fs", "gs"] {
            add(s, 32);
        }
        for i in 0..8 {
            add(&format!("st{i}"), 80);
        }
        for f in ["fctrl", "fstat", "ftag", "fiseg", "fioff", "foseg", "fooff", "fop"] {
            add(f, 32);
        }
        for i in 0..16 {
            add(&format!("xmm{i}"), 128);
        }
        add("mxcsr", 32);
        RegisterLayout::with_offsets(registers)
    }

    fn with_offsets(mut registers: Vec<RegisterInfo>) -> RegisterLayout {
        registers.sort_by_key(|r| r.regnum);
        registers.dedup_by_key(|r| r.regnum);
        let mut offset = 0;
        for r in &mut registers {
            r.offset = offset;
            offset += r.bytes();
        }
        RegisterLayout { registers }
    }

    /// The register of a name.
    pub fn find(&self, name: &str) -> Option<&RegisterInfo> {
        self.registers.iter().find(|r| r.name == name)
    }

    /// Every register, by number.
    pub fn registers(&self) -> &[RegisterInfo] {
        &self.registers
    }

    /// Whether the layout has what the engine cannot work without.
    pub fn check(&self) -> Result<(), String> {
        for needed in ["rip", "rsp", "rbp", "rax"] {
            match self.find(needed) {
                Some(r) if r.bits == 64 => {}
                Some(r) => return Err(format!("register {needed} is {} bits, not 64: not an x86_64 target", r.bits)),
                None => return Err(format!("no register {needed}: not an x86_64 target")),
            }
        }
        Ok(())
    }

    /// Whether the description has the system registers of a machine (QEMU), not a process's.
    pub fn is_system(&self) -> bool {
        self.find("cr3").is_some()
    }

    /// A register's value from `g` packet bytes (up to 64 bits; little-endian).
    pub fn read(&self, packet: &[u8], name: &str) -> Option<u64> {
        let r = self.find(name)?;
        let bytes = packet.get(r.offset..r.offset + r.bytes().min(8))?;
        Some(bytes.iter().rev().fold(0u64, |acc, &b| (acc << 8) | b as u64))
    }

    /// A register of up to 128 bits.
    fn read_wide(&self, packet: &[u8], name: &str) -> Option<u128> {
        let r = self.find(name)?;
        let bytes = packet.get(r.offset..r.offset + r.bytes().min(16))?;
        Some(bytes.iter().rev().fold(0u128, |acc, &b| (acc << 8) | b as u128))
    }

    /// Writes a register into `g` packet bytes; false when it is not there.
    pub fn write(&self, packet: &mut [u8], name: &str, value: u128) -> bool {
        let Some(r) = self.find(name) else { return false };
        let Some(bytes) = packet.get_mut(r.offset..r.offset + r.bytes()) else { return false };
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = if i < 16 { (value >> (8 * i)) as u8 } else { 0 };
        }
        true
    }

    /// The engine's general registers from a `g` packet (missing ones are 0).
    pub fn general(&self, packet: &[u8]) -> Registers {
        let mut regs = Registers::default();
        for &name in GENERAL {
            if let Some(v) = self.read(packet, name) {
                regs.set(name, v);
            }
        }
        regs
    }

    /// Writes the engine's general registers into a `g` packet; returns the
    /// names of those that changed.
    pub fn store_general(&self, packet: &mut [u8], regs: &Registers) -> Vec<&'static str> {
        let mut changed = Vec::new();
        for &name in GENERAL {
            let Some(value) = regs.get(name) else { continue };
            let Some(r) = self.find(name) else { continue };
            let mask = if r.bits >= 64 { u64::MAX } else { (1u64 << r.bits) - 1 };
            if self.read(packet, name) != Some(value & mask) && self.write(packet, name, (value & mask) as u128) {
                changed.push(name);
            }
        }
        changed
    }

    /// The x87 and SSE registers from a `g` packet.
    pub fn fp(&self, packet: &[u8]) -> FpRegisters {
        let get = |n: &str| self.read(packet, n).unwrap_or(0);
        let mut fp = FpRegisters {
            fcw: get("fctrl") as u16,
            fsw: get("fstat") as u16,
            ftw: dbgkit_x86::x87::abridged_tag_word(get("ftag") as u16),
            fop: get("fop") as u16,
            rip: get("fioff") | (get("fiseg") << 32),
            rdp: get("fooff") | (get("foseg") << 32),
            mxcsr: get("mxcsr") as u32,
            mxcsr_mask: 0xffff,
            ..Default::default()
        };
        for i in 0..8 {
            fp.st[i] = self.read_wide(packet, &format!("st{i}")).unwrap_or(0);
        }
        for i in 0..16 {
            fp.xmm[i] = self.read_wide(packet, &format!("xmm{i}")).unwrap_or(0);
        }
        fp
    }

    /// Writes the x87 and SSE registers into a `g` packet; returns the names that changed.
    pub fn store_fp(&self, packet: &mut [u8], fp: &FpRegisters) -> Vec<String> {
        let mut values: Vec<(String, u128)> = vec![
            ("fctrl".into(), fp.fcw as u128),
            ("fstat".into(), fp.fsw as u128),
            ("ftag".into(), full_tag(fp.ftw) as u128),
            ("fop".into(), fp.fop as u128),
            ("fioff".into(), (fp.rip & 0xffff_ffff) as u128),
            ("fiseg".into(), (fp.rip >> 32) as u128),
            ("fooff".into(), (fp.rdp & 0xffff_ffff) as u128),
            ("foseg".into(), (fp.rdp >> 32) as u128),
            ("mxcsr".into(), fp.mxcsr as u128),
        ];
        values.extend((0..8).map(|i| (format!("st{i}"), fp.st[i] & ((1u128 << 80) - 1))));
        values.extend((0..16).map(|i| (format!("xmm{i}"), fp.xmm[i])));
        let mut changed = Vec::new();
        for (name, value) in values {
            if self.find(&name).is_some() && self.read_wide(packet, &name) != Some(value) {
                self.write(packet, &name, value);
                changed.push(name);
            }
        }
        changed
    }

    /// Registers that are neither general nor x87/SSE/AVX: QEMU's segment
    /// bases, control registers and `efer`, by name, in layout order.
    pub fn system(&self, packet: &[u8]) -> Vec<(String, u64)> {
        self.registers
            .iter()
            .filter(|r| !GENERAL.contains(&r.name.as_str()) && !is_vector_or_fp(&r.name) && r.bits <= 64)
            .filter_map(|r| Some((r.name.clone(), self.read(packet, &r.name)?)))
            .collect()
    }

    /// Bytes of a whole `g` packet.
    pub fn packet_len(&self) -> usize {
        self.registers.last().map(|r| r.offset + r.bytes()).unwrap_or(0)
    }
}

/// Reads one annex and what it includes, in document order.
fn collect(
    annex: &str,
    fetch: &mut dyn FnMut(&str) -> Result<String, RemoteError>,
    out: &mut Vec<(String, Option<usize>, usize)>,
    depth: usize,
) -> Result<(), RemoteError> {
    if depth > MAX_INCLUDE_DEPTH {
        return Err(RemoteError::Protocol {
            address: String::new(),
            request: format!("qXfer:features:read:{annex}"),
            reason: "target descriptions include each other too deeply".into(),
        });
    }
    let text = fetch(annex)?;
    for e in xml::elements(&text) {
        match e.name.as_str() {
            "xi:include" => {
                if let Some(href) = e.get("href") {
                    collect(href, fetch, out, depth + 1)?;
                }
            }
            "reg" => {
                let (Some(name), Some(bits)) = (e.get("name"), e.number("bitsize")) else { continue };
                if bits == 0 || bits > 4096 {
                    continue;
                }
                out.push((name.to_string(), e.number("regnum").map(|n| n as usize), bits as usize));
            }
            _ => {}
        }
    }
    Ok(())
}

/// The full tag word from the abridged one: a used register is called valid.
fn full_tag(abridged: u16) -> u16 {
    (0..8).fold(0, |acc, i| if abridged & (1 << i) == 0 { acc | (3 << (2 * i)) } else { acc })
}

/// A `g` reply as bytes; `xx` (a register the stub cannot read) becomes 0.
pub fn decode_packet(reply: &[u8]) -> Option<Vec<u8>> {
    if !reply.len().is_multiple_of(2) {
        return None;
    }
    reply
        .chunks_exact(2)
        .map(|p| {
            if p == b"xx" {
                Some(0)
            } else {
                Some((super::packet::hex_value(p[0])? << 4) | super::packet::hex_value(p[1])?)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// QEMU 7.2's x86_64 description, abridged to the registers that matter.
    fn qemu_files() -> HashMap<&'static str, &'static str> {
        let mut files = HashMap::new();
        files.insert(
            "target.xml",
            r#"<?xml version="1.0"?><!DOCTYPE target SYSTEM "gdb-target.dtd"><target><architecture>i386:x86-64</architecture><xi:include href="i386-64bit.xml"/></target>"#,
        );
        files.insert(
            "i386-64bit.xml",
            r#"<feature name="org.gnu.gdb.i386.core">
  <reg name="rax" bitsize="64" type="int64" regnum="0"/><reg name="rbx" bitsize="64"/><reg name="rcx" bitsize="64"/>
  <reg name="rdx" bitsize="64"/><reg name="rsi" bitsize="64"/><reg name="rdi" bitsize="64"/>
  <reg name="rbp" bitsize="64"/><reg name="rsp" bitsize="64"/><reg name="r8" bitsize="64"/><reg name="r9" bitsize="64"/>
  <reg name="r10" bitsize="64"/><reg name="r11" bitsize="64"/><reg name="r12" bitsize="64"/><reg name="r13" bitsize="64"/>
  <reg name="r14" bitsize="64"/><reg name="r15" bitsize="64"/><reg name="rip" bitsize="64" type="code_ptr"/>
  <reg name="eflags" bitsize="32"/><reg name="cs" bitsize="32"/><reg name="ss" bitsize="32"/><reg name="ds" bitsize="32"/>
  <reg name="es" bitsize="32"/><reg name="fs" bitsize="32"/><reg name="gs" bitsize="32"/>
  <reg name="fs_base" bitsize="64"/><reg name="gs_base" bitsize="64"/><reg name="k_gs_base" bitsize="64"/>
  <reg name="cr0" bitsize="64"/><reg name="cr2" bitsize="64"/><reg name="cr3" bitsize="64"/><reg name="cr4" bitsize="64"/>
  <reg name="cr8" bitsize="64"/><reg name="efer" bitsize="64"/>
  <reg name="st0" bitsize="80" type="i387_ext"/><reg name="fctrl" bitsize="32" group="float"/>
  <reg name="xmm0" bitsize="128" type="vec128"/><reg name="mxcsr" bitsize="32" group="vector"/></feature>"#,
        );
        files
    }

    fn layout_of(files: HashMap<&'static str, &'static str>) -> Result<RegisterLayout, RemoteError> {
        RegisterLayout::from_description(&mut |annex| {
            files
                .get(annex)
                .map(|s| s.to_string())
                .ok_or_else(|| RemoteError::Unsupported { address: "test".into(), request: annex.into() })
        })
    }

    #[test]
    fn qemu_layout_with_system_registers() {
        let layout = layout_of(qemu_files()).unwrap();
        layout.check().unwrap();
        assert!(layout.is_system());
        let rip = layout.find("rip").unwrap();
        assert_eq!((rip.regnum, rip.offset), (16, 128));
        assert_eq!(layout.find("eflags").unwrap().offset, 136);
        assert_eq!(layout.find("cr3").unwrap().regnum, 29);
        let mut packet = vec![0u8; layout.packet_len()];
        assert!(layout.write(&mut packet, "cr3", 0x1234_5000));
        assert!(layout.write(&mut packet, "rip", 0xffff_ffff_8100_0000));
        assert!(layout.write(&mut packet, "gs_base", 0xffff_8880_1f00_0000));
        let regs = layout.general(&packet);
        assert_eq!((regs.rip, regs.gs_base), (0xffff_ffff_8100_0000, 0xffff_8880_1f00_0000));
        let system = layout.system(&packet);
        let names: Vec<&str> = system.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["k_gs_base", "cr0", "cr2", "cr3", "cr4", "cr8", "efer"]);
        assert_eq!(system[3].1, 0x1234_5000);
    }

    #[test]
    fn general_registers_round_trip_and_report_changes() {
        let layout = RegisterLayout::amd64_default();
        layout.check().unwrap();
        assert!(!layout.is_system());
        let mut packet = vec![0u8; layout.packet_len()];
        let mut regs = Registers { rax: 1, rip: 0x401000, rsp: 0x7ffe_0000, eflags: 0x246, ..Default::default() };
        let changed = layout.store_general(&mut packet, &regs);
        assert_eq!(changed, ["rax", "rsp", "rip", "eflags"]);
        assert_eq!(layout.general(&packet), regs);
        regs.rip += 1;
        assert_eq!(layout.store_general(&mut packet, &regs), ["rip"]);
    }

    #[test]
    fn fp_registers_round_trip() {
        let layout = RegisterLayout::amd64_default();
        let mut packet = vec![0u8; layout.packet_len()];
        let mut fp = FpRegisters { fcw: 0x37f, mxcsr: 0x1f80, ftw: 0b1000_0001, ..Default::default() };
        fp.st[0] = 0x3fff_8000_0000_0000_0000;
        fp.xmm[15] = u128::MAX - 5;
        layout.store_fp(&mut packet, &fp);
        let back = layout.fp(&packet);
        assert_eq!(
            (back.fcw, back.mxcsr, back.ftw, back.st[0], back.xmm[15]),
            (0x37f, 0x1f80, 0b1000_0001, fp.st[0], fp.xmm[15])
        );
        assert_eq!(full_tag(0b1000_0001), 0b0011_1111_1111_1100);
    }

    #[test]
    fn bad_descriptions_are_refused_clearly() {
        let mut files = HashMap::new();
        files.insert("target.xml", r#"<xi:include href="target.xml"/>"#);
        assert!(layout_of(files).is_err(), "an include loop ends");
        let mut files = HashMap::new();
        files.insert("target.xml", r#"<reg name="eax" bitsize="32"/><reg name="eip" bitsize="32"/>"#);
        let e = layout_of(files).unwrap().check().unwrap_err();
        assert!(e.contains("not an x86_64 target"), "{e}");
        assert_eq!(decode_packet(b"01xx"), Some(vec![1, 0]));
        assert_eq!(decode_packet(b"0"), None);
    }
}
