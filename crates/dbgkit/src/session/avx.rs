//! The AVX upper halves (bits 128..255 of `ymm0`..`ymm15`) of a stopped
//! thread, from its XSAVE area (`PTRACE_GETREGSET`, `NT_X86_XSTATE`): the
//! part of the vector registers the `fxsave` area (`FpRegisters`) lacks.

use super::Session;
use crate::error::{Error, Result};

const NT_X86_XSTATE: usize = 0x202;
/// Offset of the AVX component in the standard XSAVE layout (after the
/// 512-byte legacy area and the 64-byte header).
const AVX_OFFSET: usize = 576;
/// Offset of `XSTATE_BV` in the XSAVE header: which components hold state.
const XSTATE_BV_OFFSET: usize = 512;
const AVX_BIT: u64 = 1 << 2;
/// Large enough for every XSAVE layout the kernel hands out: AVX-512, and
/// AMX's 8 KiB of tile data. The kernel takes a write only of exactly its
/// own size, which a read into a buffer this large returns.
const XSAVE_MAX: usize = 16 * 1024;

fn xstate_request(op: &'static str, request: libc::c_uint, tid: i32, buf: &mut [u8]) -> Result<usize> {
    let mut iov = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() };
    // SAFETY: the iovec points at a buffer we own for the call's duration.
    let r = unsafe { libc::ptrace(request, tid, NT_X86_XSTATE as *mut libc::c_void, &mut iov as *mut libc::iovec) };
    if r == -1 {
        return Err(Error::Os { op, target: tid, source: std::io::Error::last_os_error() });
    }
    Ok(iov.iov_len)
}

impl Session {
    fn xstate_of(&mut self, pid: i32, tid: i32) -> Result<(Vec<u8>, usize)> {
        let p = self.process(pid)?;
        let t = p.threads.get(&tid).ok_or(Error::NoSuchThread { pid, tid })?;
        if !t.stopped {
            return Err(Error::ProcessRunning(pid));
        }
        let mut area = vec![0u8; XSAVE_MAX];
        let len = xstate_request("PTRACE_GETREGSET", libc::PTRACE_GETREGSET, tid, &mut area)?;
        if len < AVX_OFFSET + 256 {
            return Err(Error::InvalidArgument(format!("thread {tid} has no AVX state (XSAVE area of {len} bytes)")));
        }
        Ok((area, len))
    }

    /// The upper 128 bits of `ymm0`..`ymm15` of a stopped thread (zeros
    /// while the AVX state is in its initial state).
    pub fn avx_upper_halves(&mut self, pid: i32, tid: i32) -> Result<[u128; 16]> {
        let (area, _) = self.xstate_of(pid, tid)?;
        let in_use = u64::from_le_bytes(area[XSTATE_BV_OFFSET..XSTATE_BV_OFFSET + 8].try_into().expect("8 bytes"));
        let mut out = [0u128; 16];
        if in_use & AVX_BIT == 0 {
            return Ok(out);
        }
        for (i, slot) in out.iter_mut().enumerate() {
            let at = AVX_OFFSET + 16 * i;
            *slot = u128::from_le_bytes(area[at..at + 16].try_into().expect("16 bytes"));
        }
        Ok(out)
    }

    /// Sets the upper 128 bits of `ymm0`..`ymm15` of a stopped thread.
    pub fn set_avx_upper_halves(&mut self, pid: i32, tid: i32, values: &[u128; 16]) -> Result<()> {
        let (mut area, len) = self.xstate_of(pid, tid)?;
        for (i, value) in values.iter().enumerate() {
            let at = AVX_OFFSET + 16 * i;
            area[at..at + 16].copy_from_slice(&value.to_le_bytes());
        }
        let bv = u64::from_le_bytes(area[XSTATE_BV_OFFSET..XSTATE_BV_OFFSET + 8].try_into().expect("8 bytes"));
        area[XSTATE_BV_OFFSET..XSTATE_BV_OFFSET + 8].copy_from_slice(&(bv | AVX_BIT).to_le_bytes());
        xstate_request("PTRACE_SETREGSET", libc::PTRACE_SETREGSET, tid, &mut area[..len])?;
        Ok(())
    }
}
