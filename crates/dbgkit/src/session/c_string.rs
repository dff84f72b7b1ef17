//! Reading a zero-terminated string from a target's memory.

use super::Session;
use crate::error::{Error, Result};

/// The bytes at `address` up to (not including) the first zero byte, at
/// most `max` of them, read through `read` (which reads what it can at an
/// address and says how much). Stops early at the end of readable memory;
/// `None` when not even the first byte can be read. Front ends that read
/// memory their own way (inside a breakpoint callback) share this.
pub fn read_c_string_with<E>(
    address: u64,
    max: usize,
    mut read: impl FnMut(u64, &mut [u8]) -> std::result::Result<usize, E>,
) -> std::result::Result<Option<Vec<u8>>, E> {
    let mut out = Vec::new();
    let mut buf = [0u8; 256];
    while out.len() < max {
        let want = buf.len().min(max - out.len());
        let Some(at) = address.checked_add(out.len() as u64) else { break };
        let got = read(at, &mut buf[..want])?;
        if let Some(nul) = buf[..got].iter().position(|&b| b == 0) {
            out.extend_from_slice(&buf[..nul]);
            return Ok(Some(out));
        }
        out.extend_from_slice(&buf[..got]);
        if got < want {
            if out.is_empty() {
                return Ok(None);
            }
            break;
        }
    }
    Ok(Some(out))
}

impl Session {
    /// The bytes at `address` up to (not including) the first zero byte,
    /// at most `max` of them. Stops early at the end of readable memory;
    /// fails only if not even the first byte can be read.
    ///
    /// ```no_run
    /// # let session = dbgkit::Session::new(); let (pid, argv0) = (1, 0);
    /// let name = session.read_c_string(pid, argv0, 4096)?;
    /// # Ok::<(), dbgkit::Error>(())
    /// ```
    pub fn read_c_string(&self, pid: i32, address: u64, max: usize) -> Result<Vec<u8>> {
        read_c_string_with(address, max, |at, buf| self.read_memory_partial(pid, at, buf))?
            .ok_or(Error::UnmappedMemory { pid, address, len: 1 })
    }
}
