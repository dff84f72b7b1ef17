//! Reading and writing another process's memory.
//!
//! Reads go through `process_vm_readv` (one system call for any size, no stop
//! needed) and fall back to `/proc/PID/mem` page by page for what it cannot
//! read (for instance pages without read permission). Writes go through
//! `/proc/PID/mem`, which as the tracer may write read-only code pages.

use crate::error::{Error, Result};
use std::fs::File;
use std::os::unix::fs::FileExt;

const PAGE: u64 = 4096;

/// An open handle on one process's address space.
#[derive(Debug)]
pub(crate) struct Memory {
    pid: i32,
    file: File,
}

impl Memory {
    /// Opens the address space of `pid`. Reopen after `execve`: the file
    /// stays bound to the address space it was opened on.
    pub(crate) fn open(pid: i32) -> Result<Memory> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(format!("/proc/{pid}/mem"))
            .map_err(|source| Error::Os { op: "open /proc/PID/mem", target: pid, source })?;
        Ok(Memory { pid, file })
    }

    /// Reads as many bytes as are readable from `address` on; returns the count.
    pub(crate) fn read_partial(&self, address: u64, buf: &mut [u8]) -> usize {
        let done = vm_readv(self.pid, address, buf);
        if done == buf.len() {
            return done;
        }
        // Slow path: page by page through /proc/PID/mem, which also reads
        // pages that are mapped without read permission.
        let mut done = done;
        while done < buf.len() {
            // Nothing is mapped past the top of the address space; no sum may wrap there.
            let Some(at) = address.checked_add(done as u64) else { break };
            let page_end = (at / PAGE + 1).saturating_mul(PAGE);
            let want = (page_end.saturating_sub(at).max(1) as usize).min(buf.len() - done);
            match self.file.read_at(&mut buf[done..done + want], at) {
                Ok(n) if n > 0 => done += n,
                _ => break,
            }
        }
        done
    }

    /// Reads exactly `buf.len()` bytes or fails naming the unmapped range.
    pub(crate) fn read(&self, address: u64, buf: &mut [u8]) -> Result<()> {
        if self.read_partial(address, buf) == buf.len() {
            Ok(())
        } else {
            Err(Error::UnmappedMemory { pid: self.pid, address, len: buf.len() })
        }
    }

    /// Writes all of `data` at `address`, read-only pages included.
    pub(crate) fn write(&self, address: u64, data: &[u8]) -> Result<()> {
        let mut done = 0;
        while done < data.len() {
            let Some(at) = address.checked_add(done as u64) else {
                return Err(Error::UnmappedMemory { pid: self.pid, address, len: data.len() });
            };
            match self.file.write_at(&data[done..], at) {
                Ok(n) if n > 0 => done += n,
                _ => return Err(Error::UnmappedMemory { pid: self.pid, address, len: data.len() }),
            }
        }
        Ok(())
    }
}

/// One `process_vm_readv`; returns how many bytes it read (0 on failure).
fn vm_readv(pid: i32, address: u64, buf: &mut [u8]) -> usize {
    if buf.is_empty() {
        return 0;
    }
    let local = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() };
    let remote = libc::iovec { iov_base: address as *mut libc::c_void, iov_len: buf.len() };
    // SAFETY: `local` describes `buf`, which we own mutably; the kernel checks `remote`.
    let n = unsafe { libc::process_vm_readv(pid, &local, 1, &remote, 1, 0) };
    if n < 0 {
        0
    } else {
        n as usize
    }
}
