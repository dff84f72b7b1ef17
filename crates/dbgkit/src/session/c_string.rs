//! Reading a zero-terminated string from a target's memory.

use super::Session;
use crate::error::{Error, Result};

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
        let mut out = Vec::new();
        let mut buf = [0u8; 256];
        while out.len() < max {
            let want = buf.len().min(max - out.len());
            let Some(at) = address.checked_add(out.len() as u64) else { break };
            let got = self.read_memory_partial(pid, at, &mut buf[..want])?;
            if let Some(nul) = buf[..got].iter().position(|&b| b == 0) {
                out.extend_from_slice(&buf[..nul]);
                return Ok(out);
            }
            out.extend_from_slice(&buf[..got]);
            if got < want {
                if out.is_empty() {
                    return Err(Error::UnmappedMemory { pid, address, len: 1 });
                }
                break;
            }
        }
        Ok(out)
    }
}
