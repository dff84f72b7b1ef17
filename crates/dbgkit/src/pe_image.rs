//! Windows PE images: where a module's image lies, from the headers of its
//! file (or of its copy in the target's memory).
//!
//! Only the few fields the engine places modules with are read here;
//! symbols and DWARF come through the `object` crate like an ELF file's.

use crate::module::{read_head, short_name, Module};
use std::path::PathBuf;

/// The optional header's magic of a 64-bit image (`PE32+`).
const PE32_PLUS: u16 = 0x20b;

/// The fields of a PE image's headers the engine uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PeHeader {
    /// The address the image was linked for (`ImageBase`).
    pub image_base: u64,
    /// Bytes from the image base to the end of its last section, mapped.
    pub size_of_image: u64,
    /// The entry point, relative to the image base (0 for a DLL without one).
    pub entry_rva: u64,
}

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
}

/// Whether `bytes` start like a PE file (the DOS header's `MZ`).
pub(crate) fn is_pe(bytes: &[u8]) -> bool {
    bytes.starts_with(b"MZ")
}

/// Reads the headers of a 64-bit PE image from its first bytes; `None`
/// when they are not those of one.
pub(crate) fn parse_header(bytes: &[u8]) -> Option<PeHeader> {
    if !is_pe(bytes) {
        return None;
    }
    let nt = u32_at(bytes, 0x3c)? as usize;
    if bytes.get(nt..nt + 4)? != b"PE\0\0" {
        return None;
    }
    // The COFF file header (20 bytes) comes first, then the optional header.
    let optional = nt + 4 + 20;
    if u16_at(bytes, optional)? != PE32_PLUS {
        return None;
    }
    Some(PeHeader {
        entry_rva: u32_at(bytes, optional + 16)? as u64,
        image_base: u64_at(bytes, optional + 24)?,
        size_of_image: u32_at(bytes, optional + 56)? as u64,
    })
}

/// One section of a PE image, as its header describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PeSection {
    pub name: String,
    /// Where it starts, relative to the image base.
    pub rva: u64,
    /// Its size in memory.
    pub size: u64,
    pub readable: bool,
    pub writable: bool,
    pub executable: bool,
}

const SCN_MEM_EXECUTE: u32 = 0x2000_0000;
const SCN_MEM_READ: u32 = 0x4000_0000;
const SCN_MEM_WRITE: u32 = 0x8000_0000;

/// The section table of a PE image from its first bytes (the headers a
/// loaded image keeps in its first page); empty when they are not a PE's.
pub(crate) fn sections(bytes: &[u8]) -> Vec<PeSection> {
    let read = || -> Option<Vec<PeSection>> {
        parse_header(bytes)?;
        let nt = u32_at(bytes, 0x3c)? as usize;
        let count = u16_at(bytes, nt + 6)? as usize;
        let optional_size = u16_at(bytes, nt + 20)? as usize;
        let table = nt + 24 + optional_size;
        let mut out = Vec::with_capacity(count);
        for i in 0..count {
            let at = table + i * 40;
            let raw_name = bytes.get(at..at + 8)?;
            let name = String::from_utf8_lossy(raw_name.split(|&b| b == 0).next().unwrap_or_default()).into_owned();
            let virtual_size = u32_at(bytes, at + 8)? as u64;
            let rva = u32_at(bytes, at + 12)? as u64;
            let raw_size = u32_at(bytes, at + 16)? as u64;
            let flags = u32_at(bytes, at + 36)?;
            out.push(PeSection {
                name,
                rva,
                size: if virtual_size != 0 { virtual_size } else { raw_size },
                readable: flags & SCN_MEM_READ != 0,
                writable: flags & SCN_MEM_WRITE != 0,
                executable: flags & SCN_MEM_EXECUTE != 0,
            });
        }
        Some(out)
    };
    read().unwrap_or_default()
}

/// The module of a PE file mapped at `base`: its link-time addresses (which
/// its symbols and DWARF use) are moved by `base - ImageBase`.
pub(crate) fn module_from_pe(path: PathBuf, base: u64) -> Option<Module> {
    let header = parse_header(&read_head(&path)?)?;
    base.checked_add(header.size_of_image)?;
    Some(Module {
        name: short_name(&path),
        base,
        size: header.size_of_image,
        bias: base.wrapping_sub(header.image_base),
        dynamic: 0,
        path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The headers of a PE32+ image, as a linker lays them out.
    fn headers(image_base: u64, size: u32, entry: u32) -> Vec<u8> {
        let mut b = vec![0u8; 0x200];
        b[..2].copy_from_slice(b"MZ");
        b[0x3c..0x40].copy_from_slice(&0x80u32.to_le_bytes());
        b[0x80..0x84].copy_from_slice(b"PE\0\0");
        let optional = 0x80 + 24;
        b[optional..optional + 2].copy_from_slice(&PE32_PLUS.to_le_bytes());
        b[optional + 16..optional + 20].copy_from_slice(&entry.to_le_bytes());
        b[optional + 24..optional + 32].copy_from_slice(&image_base.to_le_bytes());
        b[optional + 56..optional + 60].copy_from_slice(&size.to_le_bytes());
        b
    }

    #[test]
    fn reads_a_pe32_plus_header() {
        let h = parse_header(&headers(0x1_4000_0000, 0x2_0000, 0x14e0)).unwrap();
        assert_eq!(h, PeHeader { image_base: 0x1_4000_0000, size_of_image: 0x2_0000, entry_rva: 0x14e0 });
    }

    #[test]
    fn reads_the_section_table() {
        let mut b = headers(0x1_4000_0000, 0x3000, 0x1000);
        let nt = 0x80;
        b[nt + 6..nt + 8].copy_from_slice(&2u16.to_le_bytes());
        b[nt + 20..nt + 22].copy_from_slice(&0xf0u16.to_le_bytes());
        let table = nt + 24 + 0xf0;
        let mut section = |i: usize, name: &[u8], rva: u32, size: u32, flags: u32| {
            let at = table + i * 40;
            b[at..at + name.len()].copy_from_slice(name);
            b[at + 8..at + 12].copy_from_slice(&size.to_le_bytes());
            b[at + 12..at + 16].copy_from_slice(&rva.to_le_bytes());
            b[at + 36..at + 40].copy_from_slice(&flags.to_le_bytes());
        };
        section(0, b".text", 0x1000, 0x7118, SCN_MEM_READ | SCN_MEM_EXECUTE);
        section(1, b".data", 0x9000, 0xe0, SCN_MEM_READ | SCN_MEM_WRITE);
        let found = sections(&b);
        assert_eq!(found.len(), 2);
        assert_eq!((found[0].name.as_str(), found[0].rva, found[0].size), (".text", 0x1000, 0x7118));
        assert!(found[0].executable && !found[0].writable);
        assert!(found[1].writable && !found[1].executable);
        // A table that runs past the bytes read: nothing rather than half.
        b[nt + 6..nt + 8].copy_from_slice(&100u16.to_le_bytes());
        assert!(sections(&b).is_empty());
    }

    #[test]
    fn refuses_what_is_not_one() {
        assert_eq!(parse_header(b"\x7fELF"), None);
        assert_eq!(parse_header(b"MZ"), None);
        let mut wrong_signature = headers(0x1000, 0x1000, 0);
        wrong_signature[0x80] = b'X';
        assert_eq!(parse_header(&wrong_signature), None);
        let mut pe32 = headers(0x1000, 0x1000, 0);
        pe32[0x80 + 24] = 0x0b;
        pe32[0x80 + 25] = 0x01;
        assert_eq!(parse_header(&pe32), None);
        let mut far_offset = headers(0x1000, 0x1000, 0);
        far_offset[0x3c..0x40].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(parse_header(&far_offset), None);
    }
}
