//! The floor of writing a core: copying the same memory into a file by
//! hand, `process_vm_readv` into a buffer and `write` out, nothing else.

use anyhow::{Context, Result};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

/// The same chunk size as dbgkit's writer.
const CHUNK: usize = dbgkit::corefile::writer::CHUNK;

/// Copies every `(start, end)` range of process `pid` into `file`, back to
/// back; returns the time and the bytes copied (what could not be read is skipped).
pub fn copy_ranges(pid: i32, ranges: &[(u64, u64)], file: &Path) -> Result<(Duration, u64)> {
    let mut buf = vec![0u8; CHUNK];
    let start = Instant::now();
    let mut out = std::fs::File::create(file).with_context(|| format!("creating {}", file.display()))?;
    let mut copied = 0u64;
    for &(from, to) in ranges {
        let mut at = from;
        while at < to {
            let want = ((to - at) as usize).min(CHUNK);
            let local = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: want };
            let remote = libc::iovec { iov_base: at as *mut libc::c_void, iov_len: want };
            // SAFETY: `local` describes our buffer; the kernel checks `remote`.
            let n = unsafe { libc::process_vm_readv(pid, &local, 1, &remote, 1, 0) };
            if n <= 0 {
                at = (at / 4096 + 1) * 4096;
                continue;
            }
            out.write_all(&buf[..n as usize]).context("writing the copy")?;
            copied += n as u64;
            at += n as u64;
        }
    }
    drop(out);
    Ok((start.elapsed(), copied))
}
