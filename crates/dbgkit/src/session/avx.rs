//! The AVX upper halves (bits 128..255 of `ymm0`..`ymm15`) of a stopped
//! thread, from its `XSAVE` area (`arch/xsave.rs`, through the thread's
//! target): the part of the vector registers the `fxsave` area
//! (`FpRegisters`) lacks.

use super::Session;
use crate::error::{Error, Result};

fn no_avx(tid: i32, bytes: usize) -> Error {
    Error::InvalidArgument(format!("thread {tid} has no AVX state (XSAVE area of {bytes} bytes)"))
}

impl Session {
    /// The upper 128 bits of `ymm0`..`ymm15` of a stopped thread (zeros
    /// while the AVX state is in its initial state).
    pub fn avx_upper_halves(&mut self, pid: i32, tid: i32) -> Result<[u128; 16]> {
        let area = self.xsave_area(pid, tid)?;
        let mut out = [0u128; 16];
        for (i, slot) in out.iter_mut().enumerate() {
            *slot = area.lanes(i, 2).ok_or_else(|| no_avx(tid, area.bytes.len()))?[1];
        }
        Ok(out)
    }

    /// Sets the upper 128 bits of `ymm0`..`ymm15` of a stopped thread.
    pub fn set_avx_upper_halves(&mut self, pid: i32, tid: i32, values: &[u128; 16]) -> Result<()> {
        let mut area = self.xsave_area(pid, tid)?;
        for (i, value) in values.iter().enumerate() {
            let low = area.lanes(i, 1).ok_or_else(|| no_avx(tid, area.bytes.len()))?[0];
            area.set_lanes(i, &[low, *value]).ok_or_else(|| no_avx(tid, area.bytes.len()))?;
        }
        self.set_xsave_area(pid, tid, &area)
    }
}
