//! The auxiliary vector of a process (`/proc/PID/auxv`).

use crate::error::{Error, Result};
pub(crate) use crate::target::Auxv;

/// The raw (key, value) pairs of the auxiliary vector.
pub(crate) fn read_raw_auxv(pid: i32) -> Result<Vec<u8>> {
    std::fs::read(format!("/proc/{pid}/auxv")).map_err(|source| Error::Os {
        op: "read /proc/PID/auxv",
        target: pid,
        source,
    })
}

pub(crate) fn read_auxv(pid: i32) -> Result<Auxv> {
    Ok(Auxv::parse(&read_raw_auxv(pid)?))
}
