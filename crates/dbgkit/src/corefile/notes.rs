//! Decoding and encoding the notes of a core: one function per note type,
//! each checking the payload's size before it reads a field.

use super::layout::{self, *};
use super::{Auxv, MappedFile, ProcessInfo, SigInfo};
use crate::arch::registers::{FpRegisters, Registers};

/// One note: owner name, type and payload.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Note<'a> {
    pub owner: &'a [u8],
    pub kind: u32,
    pub desc: &'a [u8],
}

/// Splits a `PT_NOTE` segment into notes; an error names the offset of the
/// first note that does not fit.
pub(crate) fn parse_notes(segment: &[u8]) -> Result<Vec<Note<'_>>, String> {
    let mut notes = Vec::new();
    let mut at = 0usize;
    while at < segment.len() {
        if segment.len() - at < 12 {
            // The kernel pads nothing after the last note; a short tail is damage.
            return Err(format!("note at offset {at} is cut short ({} bytes left)", segment.len() - at));
        }
        let namesz = u32_at(segment, at) as usize;
        let descsz = u32_at(segment, at + 4) as usize;
        let kind = u32_at(segment, at + 8);
        let name_start = at + 12;
        let desc_start = name_start.checked_add(align4(namesz)).filter(|&e| e <= segment.len());
        let desc_end = desc_start.and_then(|s| s.checked_add(descsz)).filter(|&e| e <= segment.len());
        let (Some(desc_start), Some(desc_end)) = (desc_start, desc_end) else {
            return Err(format!(
                "note at offset {at} (type {kind:#x}) claims {namesz} name and {descsz} payload bytes, past the end of the note segment"
            ));
        };
        let mut owner = &segment[name_start..name_start + namesz];
        if let Some(nul) = owner.iter().position(|&c| c == 0) {
            owner = &owner[..nul];
        }
        notes.push(Note { owner, kind, desc: &segment[desc_start..desc_end] });
        at = desc_start + align4(descsz);
        at = at.min(segment.len());
    }
    Ok(notes)
}

fn align4(n: usize) -> usize {
    n.saturating_add(3) & !3
}

fn need(desc: &[u8], size: usize, what: &str) -> Result<(), String> {
    if desc.len() < size {
        return Err(format!("{what} note has {} bytes, expected at least {size}", desc.len()));
    }
    Ok(())
}

/// What `NT_PRSTATUS` says about one thread.
pub(crate) struct Prstatus {
    pub tid: i32,
    pub signal: i32,
    pub pending_signals: u64,
    pub blocked_signals: u64,
    pub registers: Registers,
}

pub(crate) fn decode_prstatus(desc: &[u8]) -> Result<Prstatus, String> {
    need(desc, prstatus::REGS + prstatus::REGS_SIZE, "NT_PRSTATUS")?;
    let mut registers = Registers::default();
    for (i, name) in Registers::NAMES.iter().enumerate() {
        registers.set(name, u64_at(desc, prstatus::REGS + 8 * i));
    }
    Ok(Prstatus {
        tid: i32_at(desc, prstatus::PID),
        signal: u16_at(desc, prstatus::CURSIG) as i16 as i32,
        pending_signals: u64_at(desc, prstatus::SIGPEND),
        blocked_signals: u64_at(desc, prstatus::SIGHOLD),
        registers,
    })
}

/// Encodes `NT_PRSTATUS` the way the kernel fills it.
pub(crate) fn encode_prstatus(
    tid: i32,
    signal: i32,
    pending: u64,
    blocked: u64,
    process: &ProcessInfo,
    registers: &Registers,
) -> Vec<u8> {
    let mut b = vec![0u8; prstatus::SIZE];
    put_u32(&mut b, prstatus::SIGNO, signal as u32);
    put_u16(&mut b, prstatus::CURSIG, signal as u16);
    put_u64(&mut b, prstatus::SIGPEND, pending);
    put_u64(&mut b, prstatus::SIGHOLD, blocked);
    put_u32(&mut b, prstatus::PID, tid as u32);
    put_u32(&mut b, prstatus::PPID, process.ppid as u32);
    put_u32(&mut b, prstatus::PGRP, process.pgrp as u32);
    put_u32(&mut b, prstatus::SID, process.sid as u32);
    for (i, name) in Registers::NAMES.iter().enumerate() {
        put_u64(&mut b, prstatus::REGS + 8 * i, registers.get(name).unwrap_or(0));
    }
    // The FP registers follow in their own note.
    put_u32(&mut b, prstatus::FPVALID, 1);
    b
}

pub(crate) fn decode_prpsinfo(desc: &[u8]) -> Result<ProcessInfo, String> {
    need(desc, prpsinfo::SIZE, "NT_PRPSINFO")?;
    let fname = &desc[prpsinfo::FNAME..prpsinfo::FNAME + prpsinfo::FNAME_SIZE];
    let psargs = &desc[prpsinfo::PSARGS..prpsinfo::PSARGS + prpsinfo::PSARGS_SIZE];
    Ok(ProcessInfo {
        pid: i32_at(desc, prpsinfo::PID),
        ppid: i32_at(desc, prpsinfo::PPID),
        pgrp: i32_at(desc, prpsinfo::PGRP),
        sid: i32_at(desc, prpsinfo::SID),
        uid: u32_at(desc, prpsinfo::UID),
        gid: u32_at(desc, prpsinfo::GID),
        state: desc[prpsinfo::SNAME],
        nice: desc[prpsinfo::NICE] as i8,
        flags: u64_at(desc, prpsinfo::FLAG),
        name: c_string(fname),
        arguments: c_string(psargs).trim_end().to_string(),
    })
}

/// The state number the kernel stores beside the state letter (`pr_state`).
fn state_number(letter: u8) -> u8 {
    match letter {
        b'R' => 0,
        b'S' => 1,
        b'D' => 2,
        b'T' => 3,
        b't' => 4,
        b'Z' => 5,
        b'X' => 6,
        _ => 0,
    }
}

pub(crate) fn encode_prpsinfo(p: &ProcessInfo) -> Vec<u8> {
    let mut b = vec![0u8; prpsinfo::SIZE];
    b[prpsinfo::STATE] = state_number(p.state);
    b[prpsinfo::SNAME] = if p.state == 0 { b'R' } else { p.state };
    b[prpsinfo::ZOMB] = (p.state == b'Z') as u8;
    b[prpsinfo::NICE] = p.nice as u8;
    put_u64(&mut b, prpsinfo::FLAG, p.flags);
    put_u32(&mut b, prpsinfo::UID, p.uid);
    put_u32(&mut b, prpsinfo::GID, p.gid);
    put_u32(&mut b, prpsinfo::PID, p.pid as u32);
    put_u32(&mut b, prpsinfo::PPID, p.ppid as u32);
    put_u32(&mut b, prpsinfo::PGRP, p.pgrp as u32);
    put_u32(&mut b, prpsinfo::SID, p.sid as u32);
    // Both fields are NUL-terminated when they fit, cut like the kernel's when not.
    let name = p.name.as_bytes();
    let n = name.len().min(prpsinfo::FNAME_SIZE - 1);
    b[prpsinfo::FNAME..prpsinfo::FNAME + n].copy_from_slice(&name[..n]);
    let args = p.arguments.as_bytes();
    let n = args.len().min(prpsinfo::PSARGS_SIZE - 1);
    b[prpsinfo::PSARGS..prpsinfo::PSARGS + n].copy_from_slice(&args[..n]);
    b
}

pub(crate) fn decode_siginfo(desc: &[u8]) -> Result<SigInfo, String> {
    need(desc, siginfo::ADDR + 8, "NT_SIGINFO")?;
    Ok(SigInfo {
        signal: i32_at(desc, siginfo::SIGNO),
        errno: i32_at(desc, siginfo::ERRNO),
        code: i32_at(desc, siginfo::CODE),
        fault_address: u64_at(desc, siginfo::ADDR),
        raw: desc.to_vec(),
    })
}

/// The kernel's 128-byte `siginfo_t`: the raw bytes when they are whole, else built from the fields.
pub(crate) fn encode_siginfo(info: &SigInfo) -> Vec<u8> {
    if info.raw.len() == siginfo::SIZE {
        return info.raw.clone();
    }
    let mut b = vec![0u8; siginfo::SIZE];
    put_u32(&mut b, siginfo::SIGNO, info.signal as u32);
    put_u32(&mut b, siginfo::ERRNO, info.errno as u32);
    put_u32(&mut b, siginfo::CODE, info.code as u32);
    put_u64(&mut b, siginfo::ADDR, info.fault_address);
    b
}

pub(crate) fn decode_fpregset(desc: &[u8]) -> Result<FpRegisters, String> {
    need(desc, FPREGSET_SIZE, "NT_PRFPREG")?;
    let mut f = FpRegisters {
        fcw: u16_at(desc, 0),
        fsw: u16_at(desc, 2),
        ftw: u16_at(desc, 4),
        fop: u16_at(desc, 6),
        rip: u64_at(desc, 8),
        rdp: u64_at(desc, 16),
        mxcsr: u32_at(desc, 24),
        mxcsr_mask: u32_at(desc, 28),
        ..Default::default()
    };
    for (i, st) in f.st.iter_mut().enumerate() {
        *st = u128::from_le_bytes(desc[32 + 16 * i..48 + 16 * i].try_into().expect("16 bytes"));
    }
    for (i, xmm) in f.xmm.iter_mut().enumerate() {
        *xmm = u128::from_le_bytes(desc[160 + 16 * i..176 + 16 * i].try_into().expect("16 bytes"));
    }
    Ok(f)
}

pub(crate) fn encode_fpregset(f: &FpRegisters) -> Vec<u8> {
    let mut b = vec![0u8; FPREGSET_SIZE];
    put_u16(&mut b, 0, f.fcw);
    put_u16(&mut b, 2, f.fsw);
    put_u16(&mut b, 4, f.ftw);
    put_u16(&mut b, 6, f.fop);
    put_u64(&mut b, 8, f.rip);
    put_u64(&mut b, 16, f.rdp);
    put_u32(&mut b, 24, f.mxcsr);
    put_u32(&mut b, 28, f.mxcsr_mask);
    for (i, st) in f.st.iter().enumerate() {
        b[32 + 16 * i..48 + 16 * i].copy_from_slice(&st.to_le_bytes());
    }
    for (i, xmm) in f.xmm.iter().enumerate() {
        b[160 + 16 * i..176 + 16 * i].copy_from_slice(&xmm.to_le_bytes());
    }
    b
}

/// The auxiliary vector: every pair up to `AT_NULL`, and the entries the engine uses.
pub(crate) fn decode_auxv(desc: &[u8]) -> Auxv {
    let mut auxv = Auxv::default();
    for pair in desc.chunks_exact(16) {
        let (key, value) = (u64_at(pair, 0), u64_at(pair, 8));
        if key == AT_NULL {
            break;
        }
        auxv.pairs.push((key, value));
        match key {
            AT_PHDR => auxv.phdr = value,
            AT_PHNUM => auxv.phnum = value,
            AT_BASE => auxv.base = value,
            AT_ENTRY => auxv.entry = value,
            AT_SYSINFO_EHDR => auxv.sysinfo_ehdr = value,
            AT_EXECFN => auxv.execfn = value,
            _ => {}
        }
    }
    auxv
}

pub(crate) fn decode_files(desc: &[u8]) -> Result<Vec<MappedFile>, String> {
    need(desc, 8 * FILE_HEADER_WORDS, "NT_FILE")?;
    let count = u64_at(desc, 0);
    let page_size = u64_at(desc, 8);
    let table_end = (count as u128) * (8 * FILE_ENTRY_WORDS) as u128 + (8 * FILE_HEADER_WORDS) as u128;
    if table_end > desc.len() as u128 {
        return Err(format!("NT_FILE note claims {count} mappings, more than its {} bytes hold", desc.len()));
    }
    let table_end = table_end as usize;
    let mut names = desc[table_end..].split(|&c| c == 0);
    let mut files = Vec::with_capacity(count as usize);
    for i in 0..count as usize {
        let at = 8 * FILE_HEADER_WORDS + 8 * FILE_ENTRY_WORDS * i;
        let (start, end, page_offset) = (u64_at(desc, at), u64_at(desc, at + 8), u64_at(desc, at + 16));
        let name = names.next().ok_or_else(|| format!("NT_FILE note has no name for mapping {i}"))?;
        if end < start {
            return Err(format!("NT_FILE mapping {i} ends at {end:#x} before its start {start:#x}"));
        }
        files.push(MappedFile {
            start,
            end,
            offset: page_offset.wrapping_mul(page_size),
            path: String::from_utf8_lossy(name).into_owned(),
        });
    }
    Ok(files)
}

pub(crate) fn encode_files(files: &[MappedFile]) -> Vec<u8> {
    const PAGE: u64 = 4096;
    let mut b = Vec::new();
    b.extend_from_slice(&(files.len() as u64).to_le_bytes());
    b.extend_from_slice(&PAGE.to_le_bytes());
    for f in files {
        b.extend_from_slice(&f.start.to_le_bytes());
        b.extend_from_slice(&f.end.to_le_bytes());
        b.extend_from_slice(&(f.offset / PAGE).to_le_bytes());
    }
    for f in files {
        b.extend_from_slice(f.path.as_bytes());
        b.push(0);
    }
    b
}

/// Appends one note (name and payload padded to four bytes) to `out`.
pub(crate) fn push_note(out: &mut Vec<u8>, owner: &[u8], kind: u32, desc: &[u8]) {
    let namesz = owner.len() + 1;
    out.extend_from_slice(&(namesz as u32).to_le_bytes());
    out.extend_from_slice(&(desc.len() as u32).to_le_bytes());
    out.extend_from_slice(&kind.to_le_bytes());
    out.extend_from_slice(owner);
    out.push(0);
    out.resize(layout::align_up(out.len() as u64, 4) as usize, 0);
    out.extend_from_slice(desc);
    out.resize(layout::align_up(out.len() as u64, 4) as usize, 0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_round_trip_and_overlong_ones_are_refused() {
        let mut seg = Vec::new();
        push_note(&mut seg, OWNER_CORE, NT_AUXV, &[1, 2, 3]);
        push_note(&mut seg, OWNER_LINUX, NT_X86_XSTATE, &[9; 8]);
        let notes = parse_notes(&seg).unwrap();
        assert_eq!(notes.len(), 2);
        assert_eq!((notes[0].owner, notes[0].kind, notes[0].desc), (OWNER_CORE, NT_AUXV, &[1u8, 2, 3][..]));
        assert_eq!(notes[1].owner, OWNER_LINUX);
        seg[4] = 0xff; // descsz of the first note far past the end
        assert!(parse_notes(&seg).unwrap_err().contains("past the end"));
    }

    #[test]
    fn registers_and_files_round_trip() {
        let regs = Registers { rip: 0x401000, rsp: 0x7ffe_0000, fs_base: 0x1234, gs: 7, ..Default::default() };
        let info = ProcessInfo { ppid: 1, ..Default::default() };
        let status = decode_prstatus(&encode_prstatus(42, 11, 1, 2, &info, &regs)).unwrap();
        assert_eq!((status.tid, status.signal, status.registers), (42, 11, regs));
        let fp = FpRegisters { fcw: 0x37f, mxcsr: 0x1f80, xmm: [7; 16], st: [3; 8], ..Default::default() };
        assert_eq!(decode_fpregset(&encode_fpregset(&fp)).unwrap(), fp);
        let files = vec![
            MappedFile { start: 0x1000, end: 0x3000, offset: 0x2000, path: "/bin/a".into() },
            MappedFile { start: 0x5000, end: 0x6000, offset: 0, path: "/lib/b c".into() },
        ];
        assert_eq!(decode_files(&encode_files(&files)).unwrap(), files);
        let mut bad = encode_files(&files);
        bad[0] = 0xff;
        assert!(decode_files(&bad).is_err());
    }
}
