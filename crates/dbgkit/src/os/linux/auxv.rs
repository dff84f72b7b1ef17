//! The auxiliary vector of a process (`/proc/PID/auxv`).

use crate::error::{Error, Result};

/// The entries of the auxiliary vector the engine uses.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Auxv {
    /// `AT_PHDR`: address of the main executable's program headers.
    pub phdr: u64,
    /// `AT_PHNUM`.
    pub phnum: u64,
    /// `AT_BASE`: load address of the dynamic loader (0 for static executables).
    pub interpreter_base: u64,
    /// `AT_ENTRY`: entry point of the main executable.
    pub entry: u64,
    /// `AT_SYSINFO_EHDR`: address of the vDSO.
    pub vdso: u64,
}

pub(crate) fn read_auxv(pid: i32) -> Result<Auxv> {
    let bytes = std::fs::read(format!("/proc/{pid}/auxv")).map_err(|source| Error::Os {
        op: "read /proc/PID/auxv",
        target: pid,
        source,
    })?;
    let mut auxv = Auxv::default();
    for pair in bytes.chunks_exact(16) {
        let key = u64::from_le_bytes(pair[..8].try_into().unwrap());
        let value = u64::from_le_bytes(pair[8..].try_into().unwrap());
        match key {
            libc::AT_PHDR => auxv.phdr = value,
            libc::AT_PHNUM => auxv.phnum = value,
            libc::AT_BASE => auxv.interpreter_base = value,
            libc::AT_ENTRY => auxv.entry = value,
            libc::AT_SYSINFO_EHDR => auxv.vdso = value,
            _ => {}
        }
    }
    Ok(auxv)
}
