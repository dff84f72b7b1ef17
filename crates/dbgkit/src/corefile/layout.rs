//! The byte layout of an x86_64 Linux ELF core: the ELF structures and the
//! kernel's note payloads (`struct elf_prstatus`, `struct elf_prpsinfo`,
//! `siginfo_t`, `NT_FILE`), shared by the reader and the writer so the two
//! cannot drift apart.

/// `ET_CORE`.
pub(crate) const ET_CORE: u16 = 4;
/// `EM_X86_64`.
pub(crate) const EM_X86_64: u16 = 62;
/// Size of `Elf64_Ehdr`.
pub(crate) const EHDR_SIZE: usize = 64;
/// Size of `Elf64_Phdr`.
pub(crate) const PHDR_SIZE: usize = 56;
/// Size of `Elf64_Shdr`.
pub(crate) const SHDR_SIZE: usize = 64;
/// `e_phnum` value saying the real count is in section header 0's `sh_info`.
pub(crate) const PN_XNUM: u16 = 0xffff;
pub(crate) const PT_LOAD: u32 = 1;
pub(crate) const PT_NOTE: u32 = 4;
pub(crate) const PF_X: u32 = 1;
pub(crate) const PF_W: u32 = 2;
pub(crate) const PF_R: u32 = 4;

/// Note types (`include/uapi/linux/elf.h`).
pub(crate) const NT_PRSTATUS: u32 = 1;
pub(crate) const NT_PRFPREG: u32 = 2;
pub(crate) const NT_PRPSINFO: u32 = 3;
pub(crate) const NT_AUXV: u32 = 6;
pub(crate) const NT_SIGINFO: u32 = 0x5349_4749;
pub(crate) const NT_FILE: u32 = 0x4649_4c45;
pub(crate) const NT_X86_XSTATE: u32 = 0x202;

/// Owner names: the kernel's own notes are "CORE", the extended register sets "LINUX".
pub(crate) const OWNER_CORE: &[u8] = b"CORE";
pub(crate) const OWNER_LINUX: &[u8] = b"LINUX";

/// `struct elf_prstatus` on x86_64.
pub(crate) mod prstatus {
    pub const SIZE: usize = 336;
    pub const SIGNO: usize = 0;
    pub const CURSIG: usize = 12;
    pub const SIGPEND: usize = 16;
    pub const SIGHOLD: usize = 24;
    pub const PID: usize = 32;
    pub const PPID: usize = 36;
    pub const PGRP: usize = 40;
    pub const SID: usize = 44;
    /// `elf_gregset_t`: the 27 words of `user_regs_struct`.
    pub const REGS: usize = 112;
    pub const REGS_SIZE: usize = 27 * 8;
    pub const FPVALID: usize = 328;
}

/// `struct elf_prpsinfo` on x86_64.
pub(crate) mod prpsinfo {
    pub const SIZE: usize = 136;
    pub const STATE: usize = 0;
    pub const SNAME: usize = 1;
    pub const ZOMB: usize = 2;
    pub const NICE: usize = 3;
    pub const FLAG: usize = 8;
    pub const UID: usize = 16;
    pub const GID: usize = 20;
    pub const PID: usize = 24;
    pub const PPID: usize = 28;
    pub const PGRP: usize = 32;
    pub const SID: usize = 36;
    pub const FNAME: usize = 40;
    pub const FNAME_SIZE: usize = 16;
    pub const PSARGS: usize = 56;
    pub const PSARGS_SIZE: usize = 80;
}

/// `siginfo_t`.
pub(crate) mod siginfo {
    pub const SIZE: usize = 128;
    pub const SIGNO: usize = 0;
    pub const ERRNO: usize = 4;
    pub const CODE: usize = 8;
    /// `si_addr` of the fault signals (`SIGSEGV`, `SIGBUS`, `SIGILL`, `SIGFPE`, `SIGTRAP`).
    pub const ADDR: usize = 16;
}

/// The fxsave area of `NT_PRFPREG`.
pub(crate) const FPREGSET_SIZE: usize = 512;

/// `NT_FILE`: two words of header (count, page size), three per entry.
pub(crate) const FILE_HEADER_WORDS: usize = 2;
pub(crate) const FILE_ENTRY_WORDS: usize = 3;

/// Auxiliary vector keys the engine uses.
pub(crate) const AT_NULL: u64 = 0;
pub(crate) const AT_PHDR: u64 = 3;
pub(crate) const AT_PHNUM: u64 = 5;
pub(crate) const AT_BASE: u64 = 7;
pub(crate) const AT_ENTRY: u64 = 9;
pub(crate) const AT_SYSINFO_EHDR: u64 = 33;
pub(crate) const AT_EXECFN: u64 = 31;

/// Rounds `n` up to a multiple of `align` (a power of two).
pub(crate) fn align_up(n: u64, align: u64) -> u64 {
    (n + align - 1) & !(align - 1)
}

/// Little-endian field readers over a slice already checked to be long enough.
pub(crate) fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes(b[at..at + 2].try_into().expect("two bytes"))
}
pub(crate) fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("four bytes"))
}
pub(crate) fn i32_at(b: &[u8], at: usize) -> i32 {
    u32_at(b, at) as i32
}
pub(crate) fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("eight bytes"))
}

/// Little-endian field writers.
pub(crate) fn put_u16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}
pub(crate) fn put_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}
pub(crate) fn put_u64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

/// A C string from a fixed-size field (up to its first NUL).
pub(crate) fn c_string(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}
