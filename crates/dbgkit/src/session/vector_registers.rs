//! The full vector registers of a thread: `xmm` (128 bits), `ymm` (256,
//! with AVX) and `zmm` (512, with AVX-512), read and written through the
//! thread's `XSAVE` area on Linux (see `os/linux/xstate.rs`); elsewhere
//! the `xmm` registers of the thread's x87/SSE area, the only ones the
//! targets there read so far.

use super::Session;
use crate::error::{Error, Result};
#[cfg(target_os = "linux")]
use crate::os::linux::xstate::{layout, Component, XState};

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

    /// Whether this processor (and kernel) has registers of this width, and how many.
    #[cfg(target_os = "linux")]
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

    /// How many registers of this width the targets of this system show.
    #[cfg(not(target_os = "linux"))]
    pub fn count(self) -> usize {
        match self {
            VectorWidth::Xmm => 16,
            VectorWidth::Ymm | VectorWidth::Zmm => 0,
        }
    }
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
        self.stopped_thread(pid, tid)?;
        #[cfg(target_os = "linux")]
        {
            let state = XState::read(tid)?;
            state.lanes(index, width as usize).ok_or_else(|| unavailable(width, index))
        }
        #[cfg(not(target_os = "linux"))]
        {
            Ok(vec![self.fp_registers(pid, tid)?.xmm[index]])
        }
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
        self.stopped_thread(pid, tid)?;
        #[cfg(target_os = "linux")]
        {
            let mut state = XState::read(tid)?;
            state.set_lanes(index, lanes).ok_or_else(|| unavailable(width, index))?;
            state.write(tid)
        }
        #[cfg(not(target_os = "linux"))]
        {
            let mut regs = self.fp_registers(pid, tid)?;
            regs.xmm[index] = lanes[0];
            self.set_fp_registers(pid, tid, &regs)
        }
    }
}
