//! `/proc/PID/maps` of a process on this machine.

use crate::error::{Error, Result};
use crate::linux::maps::parse_maps;
use crate::target::MemoryRegion;

/// Reads and parses `/proc/PID/maps`.
pub(crate) fn read_maps(pid: i32) -> Result<Vec<MemoryRegion>> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/maps")).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::ProcessGone(pid)
        } else {
            Error::Os { op: "read /proc/PID/maps", target: pid, source: e }
        }
    })?;
    Ok(parse_maps(&text))
}
