//! ELF core files of x86_64 Linux processes: a reader ([`CoreFile`]) and a
//! writer ([`writer`]).
//!
//! The reader is pure: it needs no process and no ptrace. It opens cores
//! written by the Linux kernel, by gdb's `gcore` and by dbgkit's own writer,
//! and answers what a post-mortem target needs: threads with their
//! registers, memory (partial reads, as a live process answers), the memory
//! map, the auxiliary vector, the executable, and the signal of each thread.
//!
//! ```no_run
//! let core = dbgkit::corefile::CoreFile::open("core")?;
//! let first = &core.threads()[0];
//! println!("thread {} stopped by signal {} at {:#x}", first.tid, first.signal, first.registers.rip);
//! let mut word = [0u8; 8];
//! let n = core.read_memory(first.registers.rsp, &mut word);
//! # Ok::<(), dbgkit::Error>(())
//! ```
//!
//! Damaged, truncated or foreign files are refused with
//! [`Error::BadCoreFile`] naming what is wrong; nothing in a file can make
//! the reader panic.

mod elf;
mod layout;
mod memory;
mod notes;
pub mod writer;

use crate::arch::registers::{FpRegisters, Registers};
use crate::error::{Error, Result};
use crate::target::MemoryRegion;
use elf::{Bytes, Segment};
use layout::*;
use memory::CoreMemory;
use std::path::{Path, PathBuf};

/// One thread of a core, in the order of the core's notes (the thread that
/// took the signal comes first in the kernel's and gdb's cores).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CoreThread {
    /// Thread id (`pr_pid` of `NT_PRSTATUS`).
    pub tid: i32,
    /// General-purpose registers (`NT_PRSTATUS`).
    pub registers: Registers,
    /// x87 and SSE registers (`NT_PRFPREG`, the fxsave area), when the core has them.
    pub fp_registers: Option<FpRegisters>,
    /// The raw XSAVE area (`NT_X86_XSTATE`), when the core has it.
    pub xstate: Option<Vec<u8>>,
    /// The signal the thread was stopped or killed by (`pr_cursig`), 0 for none.
    pub signal: i32,
    /// Signals pending for the thread (`pr_sigpend`, bit `n - 1` for signal `n`).
    pub pending_signals: u64,
    /// Signals the thread blocked (`pr_sighold`).
    pub blocked_signals: u64,
    /// The thread's `NT_SIGINFO`, when the core has one for it.
    pub siginfo: Option<SigInfo>,
}

/// A `siginfo_t`: which signal, why, and for faults, the address.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SigInfo {
    pub signal: i32,
    /// `si_code` (e.g. `SEGV_MAPERR`, `SI_KERNEL`, `SI_USER`).
    pub code: i32,
    pub errno: i32,
    /// `si_addr`: the faulting address of `SIGSEGV`, `SIGBUS`, `SIGILL`, `SIGFPE` and `SIGTRAP`.
    pub fault_address: u64,
    /// The whole `siginfo_t` (128 bytes) as stored; empty when only the fields are known.
    pub raw: Vec<u8>,
}

/// What `NT_PRPSINFO` says about the process.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProcessInfo {
    pub pid: i32,
    pub ppid: i32,
    pub pgrp: i32,
    pub sid: i32,
    pub uid: u32,
    pub gid: u32,
    /// The state letter (`R`, `S`, `t`...), as `/proc/PID/stat` shows it.
    pub state: u8,
    pub nice: i8,
    /// The kernel's task flags.
    pub flags: u64,
    /// The command name (`comm`, at most 15 bytes).
    pub name: String,
    /// The start of the command line, arguments separated by spaces (at most 79 bytes).
    pub arguments: String,
}

/// The auxiliary vector (`NT_AUXV`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Auxv {
    /// Every (key, value) pair before `AT_NULL`.
    pub pairs: Vec<(u64, u64)>,
    /// `AT_PHDR`: where the executable's program headers are.
    pub phdr: u64,
    /// `AT_PHNUM`.
    pub phnum: u64,
    /// `AT_BASE`: the dynamic loader's load address (0 for a static executable).
    pub base: u64,
    /// `AT_ENTRY`: the executable's entry point.
    pub entry: u64,
    /// `AT_SYSINFO_EHDR`: the vDSO.
    pub sysinfo_ehdr: u64,
    /// `AT_EXECFN`: the address of the path the program was run as.
    pub execfn: u64,
}

impl Auxv {
    /// The value of an entry, by `AT_*` key.
    pub fn get(&self, key: u64) -> Option<u64> {
        self.pairs.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }

    /// The raw bytes: every pair, then `AT_NULL`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(16 * (self.pairs.len() + 1));
        for (k, v) in self.pairs.iter().chain(std::iter::once(&(AT_NULL, 0))) {
            b.extend_from_slice(&k.to_le_bytes());
            b.extend_from_slice(&v.to_le_bytes());
        }
        b
    }
}

/// One file-backed mapping (`NT_FILE`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MappedFile {
    pub start: u64,
    pub end: u64,
    /// Byte offset of `start` in the file.
    pub offset: u64,
    pub path: String,
}

/// An opened core file.
pub struct CoreFile {
    path: PathBuf,
    bytes: Bytes,
    threads: Vec<CoreThread>,
    process: Option<ProcessInfo>,
    auxv: Auxv,
    files: Vec<MappedFile>,
    memory: CoreMemory,
    executable: Option<PathBuf>,
}

impl std::fmt::Debug for CoreFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CoreFile")
            .field("path", &self.path)
            .field("threads", &self.threads.len())
            .field("segments", &self.memory.loads().len())
            .field("executable", &self.executable)
            .finish()
    }
}

impl CoreFile {
    /// Opens a core file; its memory is read from the file when asked for.
    pub fn open(path: impl AsRef<Path>) -> Result<CoreFile> {
        let path = path.as_ref();
        let file = std::fs::File::open(path)?;
        let len = file.metadata()?.len();
        CoreFile::from_bytes(path.to_path_buf(), Bytes::File { file, len })
    }

    /// Reads a core already in memory (for instance received over a wire).
    pub fn parse(data: Vec<u8>) -> Result<CoreFile> {
        CoreFile::from_bytes(PathBuf::from("<memory>"), Bytes::Memory(data))
    }

    fn from_bytes(path: PathBuf, bytes: Bytes) -> Result<CoreFile> {
        let bad = |reason: String| Error::BadCoreFile { path: path.clone(), reason };
        let segments = elf::read_segments(&bytes).map_err(bad)?;
        let note_segments = elf::read_note_segments(&bytes, &segments).map_err(bad)?;
        let mut contents = NoteContents::default();
        for segment in &note_segments {
            let notes = notes::parse_notes(segment).map_err(bad)?;
            contents.take(&notes).map_err(bad)?;
        }
        if contents.threads.is_empty() {
            return Err(bad("no NT_PRSTATUS note: the core names no thread".into()));
        }
        let loads: Vec<Segment> = segments.into_iter().filter(|s| s.kind == PT_LOAD).collect();
        let memory = CoreMemory::new(loads, &contents.files);
        let mut core = CoreFile {
            path,
            bytes,
            threads: contents.threads,
            process: contents.process,
            auxv: contents.auxv.unwrap_or_default(),
            files: contents.files,
            memory,
            executable: None,
        };
        core.executable = core.find_executable();
        Ok(core)
    }

    /// The file this core was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every thread, in note order.
    pub fn threads(&self) -> &[CoreThread] {
        &self.threads
    }

    /// One thread by id.
    pub fn thread(&self, tid: i32) -> Option<&CoreThread> {
        self.threads.iter().find(|t| t.tid == tid)
    }

    /// The thread that took the signal: the first one with a signal, else the first.
    pub fn signalled_thread(&self) -> &CoreThread {
        self.threads.iter().find(|t| t.signal != 0).unwrap_or(&self.threads[0])
    }

    /// What `NT_PRPSINFO` says of the process, when the core has it.
    pub fn process(&self) -> Option<&ProcessInfo> {
        self.process.as_ref()
    }

    /// The process id: from `NT_PRPSINFO`, else the first thread's.
    pub fn pid(&self) -> i32 {
        self.process.as_ref().map(|p| p.pid).filter(|&p| p != 0).unwrap_or(self.threads[0].tid)
    }

    /// The auxiliary vector (empty when the core has no `NT_AUXV`).
    pub fn auxv(&self) -> &Auxv {
        &self.auxv
    }

    /// The file-backed mappings (`NT_FILE`), in note order.
    pub fn mapped_files(&self) -> &[MappedFile] {
        &self.files
    }

    /// Reads what is readable from `address` on; returns how many bytes were
    /// read. Pages the core left out come from the mapped file, or are zeros
    /// for anonymous memory; a file that cannot be read ends the read there.
    pub fn read_memory(&self, address: u64, buf: &mut [u8]) -> usize {
        self.memory.read(&self.bytes, address, buf)
    }

    /// Reads exactly `buf.len()` bytes or fails naming the range.
    pub fn read_memory_exact(&self, address: u64, buf: &mut [u8]) -> Result<()> {
        if self.read_memory(address, buf) == buf.len() {
            Ok(())
        } else {
            Err(Error::UnmappedMemory { pid: self.pid(), address, len: buf.len() })
        }
    }

    /// The memory map: one region per `PT_LOAD`, rights from its flags, the
    /// path and offset from `NT_FILE` (`[vdso]` and `[stack]` where the
    /// auxiliary vector and the leader's stack pointer say so).
    pub fn memory_map(&self) -> Vec<MemoryRegion> {
        let leader_sp = self.thread(self.pid()).unwrap_or(&self.threads[0]).registers.rsp;
        self.memory
            .loads()
            .iter()
            .map(|s| {
                let (offset, path) = match self.memory.file_at(s.vaddr) {
                    Some(i) => {
                        let f = self.memory.file(i);
                        (f.offset + (s.vaddr - f.start), f.path.clone())
                    }
                    None if s.vaddr == self.auxv.sysinfo_ehdr && s.vaddr != 0 => (0, "[vdso]".to_string()),
                    None if (s.vaddr..s.end()).contains(&leader_sp) => (0, "[stack]".to_string()),
                    None => (0, String::new()),
                };
                MemoryRegion {
                    start: s.vaddr,
                    end: s.end(),
                    readable: s.flags & PF_R != 0,
                    writable: s.flags & PF_W != 0,
                    executable: s.flags & PF_X != 0,
                    shared: false,
                    offset,
                    path,
                }
            })
            .collect()
    }

    /// The executable: set by [`set_executable`](Self::set_executable), else
    /// the file mapped where `AT_PHDR` points, else the path at `AT_EXECFN`.
    pub fn executable(&self) -> Option<&Path> {
        self.executable.as_deref()
    }

    /// Names the executable (a copy, or the file moved since the crash); its
    /// mappings are then read from this file.
    pub fn set_executable(&mut self, path: impl Into<PathBuf>) {
        let path = path.into();
        if let Some(old) = self.find_executable() {
            self.memory.redirect(&old.to_string_lossy(), path.clone());
        }
        self.executable = Some(path);
    }

    fn find_executable(&self) -> Option<PathBuf> {
        if self.auxv.phdr != 0 {
            if let Some(i) = self.memory.file_at(self.auxv.phdr) {
                return Some(PathBuf::from(&self.memory.file(i).path));
            }
        }
        if self.auxv.execfn != 0 {
            let mut buf = [0u8; 4096];
            let n = self.read_memory(self.auxv.execfn, &mut buf);
            let end = buf[..n].iter().position(|&c| c == 0)?;
            if end > 0 {
                return Some(PathBuf::from(String::from_utf8_lossy(&buf[..end]).into_owned()));
            }
        }
        None
    }
}

/// What the notes say, gathered in note order.
#[derive(Default)]
struct NoteContents {
    threads: Vec<CoreThread>,
    process: Option<ProcessInfo>,
    auxv: Option<Auxv>,
    files: Vec<MappedFile>,
    /// A `NT_SIGINFO` seen before any thread (belongs to the first).
    early_siginfo: Option<SigInfo>,
}

impl NoteContents {
    /// Takes the notes of one segment. Per-thread notes belong to the
    /// thread of the last `NT_PRSTATUS` before them.
    fn take(&mut self, notes: &[notes::Note<'_>]) -> std::result::Result<(), String> {
        for note in notes {
            match (note.owner, note.kind) {
                (OWNER_CORE, NT_PRSTATUS) => {
                    let s = notes::decode_prstatus(note.desc)?;
                    self.threads.push(CoreThread {
                        tid: s.tid,
                        registers: s.registers,
                        signal: s.signal,
                        pending_signals: s.pending_signals,
                        blocked_signals: s.blocked_signals,
                        siginfo: if self.threads.is_empty() { self.early_siginfo.take() } else { None },
                        ..Default::default()
                    });
                }
                (OWNER_CORE, NT_PRFPREG) => {
                    let fp = notes::decode_fpregset(note.desc)?;
                    self.current("NT_PRFPREG")?.fp_registers = Some(fp);
                }
                (OWNER_LINUX, NT_X86_XSTATE) => {
                    self.current("NT_X86_XSTATE")?.xstate = Some(note.desc.to_vec());
                }
                (OWNER_CORE, NT_SIGINFO) => {
                    let info = notes::decode_siginfo(note.desc)?;
                    match self.threads.last_mut() {
                        Some(t) => t.siginfo = Some(info),
                        None => self.early_siginfo = Some(info),
                    }
                }
                (OWNER_CORE, NT_PRPSINFO) if self.process.is_none() => {
                    self.process = Some(notes::decode_prpsinfo(note.desc)?);
                }
                (OWNER_CORE, NT_AUXV) if self.auxv.is_none() => self.auxv = Some(notes::decode_auxv(note.desc)),
                (OWNER_CORE, NT_FILE) if self.files.is_empty() => self.files = notes::decode_files(note.desc)?,
                _ => {}
            }
        }
        Ok(())
    }

    fn current(&mut self, what: &str) -> std::result::Result<&mut CoreThread, String> {
        self.threads.last_mut().ok_or_else(|| format!("a {what} note comes before any NT_PRSTATUS"))
    }
}
