//! Reading another process's memory by hand: process_vm_readv(2).

use anyhow::{bail, Result};
use std::io;
use std::time::{Duration, Instant};

/// Reads `buf.len()` bytes at `address` of process `pid` with
/// process_vm_readv: one call for the whole range, repeated only for what a
/// short read leaves. Returns the time of the calls.
pub fn read(pid: i32, address: u64, buf: &mut [u8]) -> Result<Duration> {
    let start = Instant::now();
    let mut done = 0;
    while done < buf.len() {
        let rest = &mut buf[done..];
        let local = libc::iovec { iov_base: rest.as_mut_ptr().cast(), iov_len: rest.len() };
        let remote = libc::iovec { iov_base: (address + done as u64) as *mut libc::c_void, iov_len: rest.len() };
        // SAFETY: `local` describes memory we own mutably; the kernel checks `remote`.
        let n = unsafe { libc::process_vm_readv(pid, &local, 1, &remote, 1, 0) };
        if n <= 0 {
            let err = if n < 0 { io::Error::last_os_error().to_string() } else { "nothing read".into() };
            bail!("process_vm_readv at {:#x} (after {done} bytes): {err}", address + done as u64);
        }
        done += n as usize;
    }
    Ok(start.elapsed())
}
