//! The full vector registers of a thread: `xmm` (128 bits), `ymm` (256,
//! with AVX) and `zmm` (512, with AVX-512). `xmm0`..`xmm15` come from the
//! x87/SSE registers every target reads; the rest from the thread's `XSAVE`
//! area (`arch/xsave.rs`), which a target gives where it has one (a live
//! Linux process, a core file) and refuses clearly where not.

use super::Session;
use crate::arch::xsave::{layout, Component, XSaveArea};
use crate::error::{Error, Result};

/// How wide a vector register is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VectorWidth {
    Xmm = 1,
    Ymm = 2,
    Zmm = 4,
}

impl VectorWidth {
    /// `xmm3` → (Xmm, 3), `zmm31` → (Zmm, 31); `None` for other names.
    pub fn parse(name: &str) -> Option<(VectorWidth, usize)> {
        let (width, digits) = if let Some(d) = name.strip_prefix("xmm") {
            (VectorWidth::Xmm, d)
        } else if let Some(d) = name.strip_prefix("ymm") {
            (VectorWidth::Ymm, d)
        } else if let Some(d) = name.strip_prefix("zmm") {
            (VectorWidth::Zmm, d)
        } else {
            return None;
        };
        if digits.is_empty() || (digits.len() > 1 && digits.starts_with('0')) {
            return None;
        }
        let index: usize = digits.parse().ok()?;
        (index < 32).then_some((width, index))
    }

    /// Whether this processor (and its system) has registers of this
    /// width, and how many.
    pub fn count(self) -> usize {
        match self {
            VectorWidth::Xmm if layout(Component::Zmm16To31).is_some() => 32,
            VectorWidth::Xmm => 16,
            VectorWidth::Ymm if layout(Component::YmmHigh).is_none() => 0,
            VectorWidth::Ymm if layout(Component::Zmm16To31).is_some() => 32,
            VectorWidth::Ymm => 16,
            VectorWidth::Zmm if layout(Component::ZmmHigh).is_none() => 0,
            VectorWidth::Zmm => 32,
        }
    }
}

/// Whether a register lives in the x87/SSE area alone.
fn in_sse_area(width: VectorWidth, index: usize) -> bool {
    width == VectorWidth::Xmm && index < 16
}

fn unavailable(width: VectorWidth, index: usize) -> Error {
    let name = match width {
        VectorWidth::Xmm => "xmm",
        VectorWidth::Ymm => "ymm",
        VectorWidth::Zmm => "zmm",
    };
    Error::InvalidArgument(format!("{name}{index} is not a register of this processor ({} of them)", width.count()))
}

impl Session {
    /// The 128-bit lanes (low first) of a vector register of a stopped
    /// thread: one for `xmm`, two for `ymm`, four for `zmm`.
    pub fn vector_register(&mut self, pid: i32, tid: i32, width: VectorWidth, index: usize) -> Result<Vec<u128>> {
        if index >= width.count() {
            return Err(unavailable(width, index));
        }
        if in_sse_area(width, index) {
            return Ok(vec![self.fp_registers(pid, tid)?.xmm[index]]);
        }
        self.xsave_area(pid, tid)?.lanes(index, width as usize).ok_or_else(|| unavailable(width, index))
    }

    /// Sets a vector register of a stopped thread from its lanes (low first;
    /// as many as the width has).
    pub fn set_vector_register(
        &mut self,
        pid: i32,
        tid: i32,
        width: VectorWidth,
        index: usize,
        lanes: &[u128],
    ) -> Result<()> {
        if index >= width.count() {
            return Err(unavailable(width, index));
        }
        if lanes.len() != width as usize {
            return Err(Error::InvalidArgument(format!(
                "{} lanes of 128 bits for this register, not {}",
                width as usize,
                lanes.len()
            )));
        }
        if in_sse_area(width, index) {
            let mut regs = self.fp_registers(pid, tid)?;
            regs.xmm[index] = lanes[0];
            return self.set_fp_registers(pid, tid, &regs);
        }
        let mut area = self.xsave_area(pid, tid)?;
        area.set_lanes(index, lanes).ok_or_else(|| unavailable(width, index))?;
        self.set_xsave_area(pid, tid, &area)
    }

    /// The `XSAVE` area of a stopped thread, from its target.
    pub(crate) fn xsave_area(&mut self, pid: i32, tid: i32) -> Result<XSaveArea> {
        Ok(XSaveArea { bytes: self.xstate(pid, tid)? })
    }

    /// Writes a stopped thread's `XSAVE` area back through its target.
    pub(crate) fn set_xsave_area(&mut self, pid: i32, tid: i32, area: &XSaveArea) -> Result<()> {
        self.stopped_thread(pid, tid)?;
        self.process(pid)?.writer()?.set_xstate(tid, &area.bytes)
    }
}
