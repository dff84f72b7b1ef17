//! The ELF container of a core: header, program headers, and where the
//! bytes come from (a file read in place, or bytes already in memory).

use super::layout::*;
use std::fs::File;

/// Where a core's bytes are: read in place from the file, or given whole.
pub(crate) enum Bytes {
    File { file: File, len: u64 },
    Memory(Vec<u8>),
}

impl Bytes {
    pub(crate) fn len(&self) -> u64 {
        match self {
            Bytes::File { len, .. } => *len,
            Bytes::Memory(v) => v.len() as u64,
        }
    }

    /// Fills `buf` from `offset`; the caller has checked the range lies in the file.
    pub(crate) fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
        match self {
            Bytes::File { file, .. } => crate::os::file_at::read_exact_at(file, buf, offset),
            Bytes::Memory(v) => {
                let start = usize::try_from(offset).ok().filter(|&s| s <= v.len());
                let end = start.and_then(|s| s.checked_add(buf.len())).filter(|&e| e <= v.len());
                match (start, end) {
                    (Some(s), Some(e)) => {
                        buf.copy_from_slice(&v[s..e]);
                        Ok(())
                    }
                    _ => Err(std::io::ErrorKind::UnexpectedEof.into()),
                }
            }
        }
    }
}

/// One program header of a core.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Segment {
    pub kind: u32,
    pub flags: u32,
    pub offset: u64,
    pub vaddr: u64,
    pub filesz: u64,
    pub memsz: u64,
}

impl Segment {
    pub(crate) fn end(&self) -> u64 {
        self.vaddr.saturating_add(self.memsz)
    }
}

/// Reads `len` bytes at `offset` or says what was cut.
fn read_range(bytes: &Bytes, offset: u64, len: usize, what: &str) -> Result<Vec<u8>, String> {
    offset.checked_add(len as u64).filter(|&e| e <= bytes.len()).ok_or_else(|| {
        format!(
            "truncated: the {what} ({len} bytes at offset {offset}) run past the end of the file ({} bytes)",
            bytes.len()
        )
    })?;
    let mut buf = vec![0u8; len];
    bytes.read_exact_at(&mut buf, offset).map_err(|e| format!("reading the {what}: {e}"))?;
    Ok(buf)
}

/// Parses and checks the ELF header and program headers of an x86_64 core.
pub(crate) fn read_segments(bytes: &Bytes) -> Result<Vec<Segment>, String> {
    if bytes.len() < EHDR_SIZE as u64 {
        return Err(format!("not an ELF file: only {} bytes", bytes.len()));
    }
    let ehdr = read_range(bytes, 0, EHDR_SIZE, "ELF header")?;
    if &ehdr[..4] != b"\x7fELF" {
        return Err("not an ELF file (no ELF magic)".into());
    }
    if ehdr[4] != 2 || ehdr[5] != 1 {
        return Err("not a 64-bit little-endian ELF file".into());
    }
    let e_type = u16_at(&ehdr, 16);
    if e_type != ET_CORE {
        return Err(format!("not a core file: the ELF type is {e_type}, a core's is {ET_CORE}"));
    }
    let machine = u16_at(&ehdr, 18);
    if machine != EM_X86_64 {
        return Err(format!("a core of machine {machine}, not x86_64 ({EM_X86_64})"));
    }
    let phoff = u64_at(&ehdr, 32);
    let shoff = u64_at(&ehdr, 40);
    let phentsize = u16_at(&ehdr, 54) as usize;
    let mut phnum = u16_at(&ehdr, 56) as u64;
    if phentsize != PHDR_SIZE {
        return Err(format!("program header size is {phentsize}, expected {PHDR_SIZE}"));
    }
    if phnum == PN_XNUM as u64 {
        // More headers than e_phnum holds: section header 0 carries the count.
        let shdr = read_range(bytes, shoff, SHDR_SIZE, "section header 0 (holding the program header count)")?;
        phnum = u32_at(&shdr, 44) as u64;
    }
    let table_len = phnum
        .checked_mul(PHDR_SIZE as u64)
        .filter(|&n| n <= bytes.len())
        .ok_or_else(|| format!("truncated: {phnum} program headers do not fit in the file"))?;
    let table = read_range(bytes, phoff, table_len as usize, "program headers")?;
    let mut segments = Vec::with_capacity(phnum as usize);
    for (i, ph) in table.chunks_exact(PHDR_SIZE).enumerate() {
        let s = Segment {
            kind: u32_at(ph, 0),
            flags: u32_at(ph, 4),
            offset: u64_at(ph, 8),
            vaddr: u64_at(ph, 16),
            filesz: u64_at(ph, 32),
            memsz: u64_at(ph, 40),
        };
        if s.kind == PT_LOAD || s.kind == PT_NOTE {
            let end = s.offset.checked_add(s.filesz);
            if end.is_none_or(|e| e > bytes.len()) {
                return Err(format!(
                    "truncated: segment {i} (at {:#x}) needs file bytes {}..{}, the file has {}",
                    s.vaddr,
                    s.offset,
                    s.offset as u128 + s.filesz as u128,
                    bytes.len()
                ));
            }
        }
        if s.kind == PT_LOAD && (s.filesz > s.memsz || s.vaddr.checked_add(s.memsz).is_none()) {
            return Err(format!(
                "segment {i} is malformed: {:#x} bytes in the file for {:#x} bytes of memory at {:#x}",
                s.filesz, s.memsz, s.vaddr
            ));
        }
        segments.push(s);
    }
    Ok(segments)
}

/// The bytes of every `PT_NOTE` segment, one after the other.
pub(crate) fn read_note_segments(bytes: &Bytes, segments: &[Segment]) -> Result<Vec<Vec<u8>>, String> {
    /// Far more than any real core's notes (thousands of threads with AVX-512 state).
    const MAX_NOTES: u64 = 512 << 20;
    let mut out = Vec::new();
    for s in segments.iter().filter(|s| s.kind == PT_NOTE) {
        if s.filesz > MAX_NOTES {
            return Err(format!("a note segment of {} bytes is not believable", s.filesz));
        }
        out.push(read_range(bytes, s.offset, s.filesz as usize, "note segment")?);
    }
    if out.is_empty() {
        return Err("no PT_NOTE segment: not a process core".into());
    }
    Ok(out)
}
