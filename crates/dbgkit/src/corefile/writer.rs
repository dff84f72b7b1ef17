//! Writing an ELF core from an abstract description of a process: its
//! threads' registers, its regions and a source that reads their memory.
//!
//! The notes come in the order the kernel writes them (`fs/binfmt_elf.c`,
//! `write_note_info`): for the first thread `NT_PRSTATUS`, then the
//! process's `NT_PRPSINFO`, `NT_SIGINFO`, `NT_AUXV` and `NT_FILE`, then the
//! thread's `NT_PRFPREG` and `NT_X86_XSTATE`; every other thread follows with
//! `NT_PRSTATUS`, `NT_PRFPREG`, `NT_X86_XSTATE`. gdb, elfutils and
//! [`CoreFile`](super::CoreFile) all read that layout.
//!
//! Memory is streamed: each region is read in chunks of [`CHUNK`] bytes and
//! written at once, so the writer never holds more than one chunk. A page
//! that cannot be read is left as a hole in the file (it reads as zeros).

use super::layout::*;
use super::notes::{self, push_note};
use super::{CoreThread, MappedFile, ProcessInfo, SigInfo};
use crate::error::Result;
use std::fs::File;
use std::io::{Seek, SeekFrom, Write};

/// How much memory is read and written at a time.
pub const CHUNK: usize = 4 << 20;
const PAGE: u64 = 4096;

/// A region of the address space, with its protection and whether its
/// bytes go into the core.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DumpRegion {
    pub start: u64,
    pub end: u64,
    pub readable: bool,
    pub writable: bool,
    pub executable: bool,
    /// Whether the bytes are written; a region without them is described
    /// (`p_filesz` 0), as the kernel does for guard pages and `[vvar]`.
    pub contents: bool,
}

/// Everything a core says about a process except its memory's bytes.
#[derive(Clone, Debug, Default)]
pub struct CoreDescription {
    pub process: ProcessInfo,
    /// Threads, the one that took the current event first. Each thread's
    /// `siginfo` is written when present; the first thread always gets an
    /// `NT_SIGINFO` (from its `signal` when it has none).
    pub threads: Vec<CoreThread>,
    /// The raw auxiliary vector (pairs of words, ending with `AT_NULL`).
    pub auxv: Vec<u8>,
    /// File-backed mappings (`NT_FILE`).
    pub files: Vec<MappedFile>,
    /// Regions in address order.
    pub regions: Vec<DumpRegion>,
}

/// Reads the memory of the process being written.
pub trait MemorySource {
    /// Reads what is readable from `address` on into `buf`; returns how many bytes.
    fn read(&mut self, address: u64, buf: &mut [u8]) -> usize;
}

impl<F: FnMut(u64, &mut [u8]) -> usize> MemorySource for F {
    fn read(&mut self, address: u64, buf: &mut [u8]) -> usize {
        self(address, buf)
    }
}

/// What writing a core did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WrittenCore {
    /// Size of the file.
    pub file_size: u64,
    /// Bytes of memory read and written.
    pub memory_bytes: u64,
    /// Bytes of regions with contents that could not be read (holes in the file).
    pub unreadable_bytes: u64,
}

/// The notes segment, in the kernel's order.
fn build_notes(d: &CoreDescription) -> Vec<u8> {
    let mut out = Vec::new();
    for (index, t) in d.threads.iter().enumerate() {
        let status =
            notes::encode_prstatus(t.tid, t.signal, t.pending_signals, t.blocked_signals, &d.process, &t.registers);
        push_note(&mut out, OWNER_CORE, NT_PRSTATUS, &status);
        if index == 0 {
            push_note(&mut out, OWNER_CORE, NT_PRPSINFO, &notes::encode_prpsinfo(&d.process));
            let info = t.siginfo.clone().unwrap_or(SigInfo { signal: t.signal, ..Default::default() });
            push_note(&mut out, OWNER_CORE, NT_SIGINFO, &notes::encode_siginfo(&info));
            push_note(&mut out, OWNER_CORE, NT_AUXV, &d.auxv);
            if !d.files.is_empty() {
                push_note(&mut out, OWNER_CORE, NT_FILE, &notes::encode_files(&d.files));
            }
        }
        if let Some(fp) = &t.fp_registers {
            push_note(&mut out, OWNER_CORE, NT_PRFPREG, &notes::encode_fpregset(fp));
        }
        if let Some(xstate) = &t.xstate {
            push_note(&mut out, OWNER_LINUX, NT_X86_XSTATE, xstate);
        }
        if index > 0 {
            if let Some(info) = &t.siginfo {
                push_note(&mut out, OWNER_CORE, NT_SIGINFO, &notes::encode_siginfo(info));
            }
        }
    }
    out
}

fn elf_header(phnum: usize, shoff: u64) -> [u8; EHDR_SIZE] {
    let mut h = [0u8; EHDR_SIZE];
    h[..4].copy_from_slice(b"\x7fELF");
    h[4] = 2; // ELFCLASS64
    h[5] = 1; // ELFDATA2LSB
    h[6] = 1; // EV_CURRENT
    put_u16(&mut h, 16, ET_CORE);
    put_u16(&mut h, 18, EM_X86_64);
    put_u32(&mut h, 20, 1);
    put_u64(&mut h, 32, EHDR_SIZE as u64);
    put_u16(&mut h, 52, EHDR_SIZE as u16);
    put_u16(&mut h, 54, PHDR_SIZE as u16);
    if phnum >= PN_XNUM as usize {
        put_u64(&mut h, 40, shoff);
        put_u16(&mut h, 56, PN_XNUM);
        put_u16(&mut h, 58, SHDR_SIZE as u16);
        put_u16(&mut h, 60, 1);
    } else {
        put_u16(&mut h, 56, phnum as u16);
    }
    h
}

#[allow(clippy::too_many_arguments)]
fn program_header(
    out: &mut Vec<u8>,
    kind: u32,
    flags: u32,
    offset: u64,
    vaddr: u64,
    filesz: u64,
    memsz: u64,
    align: u64,
) {
    let mut p = [0u8; PHDR_SIZE];
    put_u32(&mut p, 0, kind);
    put_u32(&mut p, 4, flags);
    put_u64(&mut p, 8, offset);
    put_u64(&mut p, 16, vaddr);
    put_u64(&mut p, 32, filesz);
    put_u64(&mut p, 40, memsz);
    put_u64(&mut p, 48, align);
    out.extend_from_slice(&p);
}

/// Writes the core of `description` into `out` (from its start), reading
/// memory through `memory`.
pub fn write_core(out: &mut File, description: &CoreDescription, memory: &mut dyn MemorySource) -> Result<WrittenCore> {
    let notes = build_notes(description);
    let phnum = 1 + description.regions.len();
    let notes_offset = (EHDR_SIZE + PHDR_SIZE * phnum) as u64;
    let notes_end = notes_offset + notes.len() as u64;
    // With more headers than e_phnum holds, section header 0 carries the count.
    let extended = phnum >= PN_XNUM as usize;
    let shoff = align_up(notes_end, 8);
    let headers_end = if extended { shoff + SHDR_SIZE as u64 } else { notes_end };
    let data_offset = align_up(headers_end, PAGE);

    out.seek(SeekFrom::Start(notes_offset))?;
    out.write_all(&notes)?;
    if extended {
        let mut shdr = [0u8; SHDR_SIZE];
        put_u32(&mut shdr, 44, phnum as u32);
        out.seek(SeekFrom::Start(shoff))?;
        out.write_all(&shdr)?;
    }

    let mut written = WrittenCore::default();
    let mut buf = vec![0u8; CHUNK];
    let mut offset = data_offset;
    let mut headers = Vec::with_capacity(PHDR_SIZE * phnum);
    program_header(&mut headers, PT_NOTE, 0, notes_offset, 0, notes.len() as u64, 0, 4);
    for region in &description.regions {
        let size = region.end.saturating_sub(region.start);
        let mut flags = 0;
        if region.readable {
            flags |= PF_R;
        }
        if region.writable {
            flags |= PF_W;
        }
        if region.executable {
            flags |= PF_X;
        }
        let filesz = if region.contents {
            let read = stream_region(out, offset, region, memory, &mut buf, &mut written)?;
            // Nothing readable at all: described without bytes, like the kernel's [vvar].
            if read == 0 {
                0
            } else {
                size
            }
        } else {
            0
        };
        program_header(&mut headers, PT_LOAD, flags, offset, region.start, filesz, size, PAGE);
        offset += filesz;
    }
    out.seek(SeekFrom::Start(0))?;
    out.write_all(&elf_header(phnum, shoff))?;
    out.write_all(&headers)?;
    // Trailing holes count in the file's size.
    out.set_len(offset.max(data_offset))?;
    written.file_size = offset.max(data_offset);
    Ok(written)
}

/// Copies one region into the file at `offset`; returns how many bytes were readable.
fn stream_region(
    out: &mut File,
    offset: u64,
    region: &DumpRegion,
    memory: &mut dyn MemorySource,
    buf: &mut [u8],
    written: &mut WrittenCore,
) -> Result<u64> {
    let mut address = region.start;
    let mut readable = 0u64;
    let mut file_position = u64::MAX;
    while address < region.end {
        let want = ((region.end - address) as usize).min(buf.len());
        let n = memory.read(address, &mut buf[..want]);
        if n > 0 {
            let at = offset + (address - region.start);
            if file_position != at {
                out.seek(SeekFrom::Start(at))?;
            }
            out.write_all(&buf[..n])?;
            file_position = at + n as u64;
            readable += n as u64;
            written.memory_bytes += n as u64;
        }
        if n == want {
            address += n as u64;
            continue;
        }
        // The page at `address + n` is unreadable: leave it as a hole.
        let failed = address + n as u64;
        let next = ((failed / PAGE) + 1) * PAGE;
        let next = next.min(region.end);
        written.unreadable_bytes += next - failed;
        address = next;
    }
    Ok(readable)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corefile::CoreFile;

    fn thread(tid: i32) -> CoreThread {
        let mut t = CoreThread { tid, ..Default::default() };
        t.registers.rip = 0x1000 + tid as u64;
        t
    }

    /// More regions than `e_phnum` holds, a hole, and a region with nothing
    /// readable: what the reader sees is what the source gave.
    #[test]
    fn extended_numbering_holes_and_unreadable_regions_round_trip() {
        let mut regions: Vec<DumpRegion> = (0..70_000u64)
            .map(|i| DumpRegion {
                start: 0x10_0000 + i * 0x2000,
                end: 0x10_1000 + i * 0x2000,
                readable: true,
                writable: false,
                executable: false,
                contents: false,
            })
            .collect();
        // Three pages of which the middle one cannot be read; then a region nothing of which can.
        regions.push(DumpRegion {
            start: 0x1_0000_0000,
            end: 0x1_0000_3000,
            readable: true,
            writable: true,
            executable: false,
            contents: true,
        });
        regions.push(DumpRegion {
            start: 0x2_0000_0000,
            end: 0x2_0000_1000,
            readable: true,
            writable: true,
            executable: false,
            contents: true,
        });
        let description = CoreDescription {
            process: ProcessInfo { pid: 7, name: "made-up".into(), ..Default::default() },
            threads: vec![thread(7), thread(8)],
            auxv: vec![0; 16],
            files: Vec::new(),
            regions,
        };
        let mut memory = |address: u64, buf: &mut [u8]| -> usize {
            let readable_end = match address {
                a if (0x1_0000_0000..0x1_0000_1000).contains(&a) => 0x1_0000_1000,
                a if (0x1_0000_2000..0x1_0000_3000).contains(&a) => 0x1_0000_3000,
                _ => return 0,
            };
            let n = ((readable_end - address) as usize).min(buf.len());
            buf[..n].fill(0xab);
            n
        };
        let path = std::env::temp_dir().join(format!("dbgkit-writer-test-{}.core", std::process::id()));
        let mut file = File::create(&path).unwrap();
        let written = write_core(&mut file, &description, &mut memory).unwrap();
        drop(file);
        assert_eq!((written.memory_bytes, written.unreadable_bytes), (0x2000, 0x2000));
        let core = CoreFile::open(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(core.memory_map().len(), 70_002);
        assert_eq!(core.threads().iter().map(|t| t.tid).collect::<Vec<_>>(), [7, 8]);
        assert_eq!(core.process().unwrap().name, "made-up");
        let mut buf = vec![0u8; 0x3000];
        assert_eq!(core.read_memory(0x1_0000_0000, &mut buf), 0x3000);
        assert!(buf[..0x1000].iter().all(|&b| b == 0xab) && buf[0x2000..].iter().all(|&b| b == 0xab));
        assert!(buf[0x1000..0x2000].iter().all(|&b| b == 0), "the unreadable page is a hole of zeros");
        // Anonymous memory without bytes in the core reads as zeros, as the kernel's cores do.
        assert_eq!(core.read_memory(0x2_0000_0000, &mut buf[..16]), 16);
    }
}
