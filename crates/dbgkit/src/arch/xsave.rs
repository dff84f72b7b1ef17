//! The extended processor state (`XSAVE` area) of an x86_64 thread: the
//! upper halves of the AVX (`ymm`) and AVX-512 (`zmm`) registers, which
//! the x87/SSE area does not carry. Targets hand the area over as bytes
//! (Linux: `PTRACE_GETREGSET` with `NT_X86_XSTATE`; a core file: its
//! `NT_X86_XSTATE` note); this reads and changes registers in it.
//!
//! The area is in the standard (non-compacted) format; where each
//! component lives is what `CPUID` leaf 0xD says for this processor.

/// Bytes of the legacy `FXSAVE` region, then the 64-byte `XSAVE` header.
const LEGACY_BYTES: usize = 512;
const XSTATE_BV: usize = LEGACY_BYTES;
/// The legacy region keeps `xmm0`..`xmm15` here.
const XMM_OFFSET: usize = 160;

/// `XSAVE` state components the engine reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Component {
    /// Bits 128..255 of `ymm0`..`ymm15`.
    YmmHigh = 2,
    /// Bits 256..511 of `zmm0`..`zmm15`.
    ZmmHigh = 6,
    /// All 512 bits of `zmm16`..`zmm31`.
    Zmm16To31 = 7,
}

/// Where a component lives in the standard-format area, if the processor
/// and the operating system have it: (offset, size).
pub(crate) fn layout(component: Component) -> Option<(usize, usize)> {
    // CPUID is available on every x86_64 processor.
    let enabled = std::arch::x86_64::__cpuid_count(0xd, 0);
    let supported = (enabled.eax as u64) | ((enabled.edx as u64) << 32);
    if supported & (1 << component as u32) == 0 {
        return None;
    }
    // Sub-leaf i of leaf 0xD describes component i.
    let leaf = std::arch::x86_64::__cpuid_count(0xd, component as u32);
    Some((leaf.ebx as usize, leaf.eax as usize))
}

/// A thread's `XSAVE` area, as a target gives it.
pub(crate) struct XSaveArea {
    pub bytes: Vec<u8>,
}

impl XSaveArea {
    fn u128_at(&self, offset: usize) -> u128 {
        self.bytes.get(offset..offset + 16).map(|b| u128::from_le_bytes(b.try_into().expect("16 bytes"))).unwrap_or(0)
    }

    fn set_u128_at(&mut self, offset: usize, value: u128) {
        if let Some(b) = self.bytes.get_mut(offset..offset + 16) {
            b.copy_from_slice(&value.to_le_bytes());
        }
    }

    /// Whether the area holds `component` (a component in its initial
    /// state is left out by the processor and reads as zeros).
    fn holds(&self, component: Component) -> Option<usize> {
        let (offset, size) = layout(component)?;
        (offset + size <= self.bytes.len()).then_some(offset)
    }

    fn in_use(&self, component: Component) -> bool {
        self.bytes.get(XSTATE_BV).is_some_and(|_| {
            let bv = u64::from_le_bytes(self.bytes[XSTATE_BV..XSTATE_BV + 8].try_into().expect("8 bytes"));
            bv & (1 << component as u32) != 0
        })
    }

    /// The 128-bit lanes (low first) of vector register `index`, `lanes` of them (1, 2 or 4).
    pub(crate) fn lanes(&self, index: usize, lanes: usize) -> Option<Vec<u128>> {
        let mut out = vec![0u128; lanes];
        if index < 16 {
            out[0] = self.u128_at(XMM_OFFSET + 16 * index);
            if lanes >= 2 {
                let at = self.holds(Component::YmmHigh)?;
                if self.in_use(Component::YmmHigh) {
                    out[1] = self.u128_at(at + 16 * index);
                }
            }
            if lanes == 4 {
                let at = self.holds(Component::ZmmHigh)?;
                if self.in_use(Component::ZmmHigh) {
                    out[2] = self.u128_at(at + 32 * index);
                    out[3] = self.u128_at(at + 32 * index + 16);
                }
            }
        } else if index < 32 {
            let at = self.holds(Component::Zmm16To31)?;
            if self.in_use(Component::Zmm16To31) {
                for (lane, v) in out.iter_mut().enumerate() {
                    *v = self.u128_at(at + 64 * (index - 16) + 16 * lane);
                }
            }
        } else {
            return None;
        }
        Some(out)
    }

    /// Sets the lanes of register `index` (the first `values.len()` lanes).
    pub(crate) fn set_lanes(&mut self, index: usize, values: &[u128]) -> Option<()> {
        let mark = |state: &mut XSaveArea, component: Component| {
            let mut bv = u64::from_le_bytes(state.bytes[XSTATE_BV..XSTATE_BV + 8].try_into().expect("8 bytes"));
            bv |= 1 << component as u32;
            state.bytes[XSTATE_BV..XSTATE_BV + 8].copy_from_slice(&bv.to_le_bytes());
        };
        if index < 16 {
            self.set_u128_at(XMM_OFFSET + 16 * index, values[0]);
            if values.len() >= 2 {
                let at = self.holds(Component::YmmHigh)?;
                if !self.in_use(Component::YmmHigh) {
                    // The component comes into use: its other registers were zeros.
                    self.bytes[at..at + 256].fill(0);
                    mark(self, Component::YmmHigh);
                }
                self.set_u128_at(at + 16 * index, values[1]);
            }
            if values.len() == 4 {
                let at = self.holds(Component::ZmmHigh)?;
                if !self.in_use(Component::ZmmHigh) {
                    self.bytes[at..at + 512].fill(0);
                    mark(self, Component::ZmmHigh);
                }
                self.set_u128_at(at + 32 * index, values[2]);
                self.set_u128_at(at + 32 * index + 16, values[3]);
            }
            // The low 128 bits belong to the SSE component (bit 1): in use from now on.
            let mut bv = u64::from_le_bytes(self.bytes[XSTATE_BV..XSTATE_BV + 8].try_into().expect("8 bytes"));
            bv |= 1 << 1;
            self.bytes[XSTATE_BV..XSTATE_BV + 8].copy_from_slice(&bv.to_le_bytes());
        } else if index < 32 {
            let at = self.holds(Component::Zmm16To31)?;
            if !self.in_use(Component::Zmm16To31) {
                self.bytes[at..at + 1024].fill(0);
                mark(self, Component::Zmm16To31);
            }
            for (lane, v) in values.iter().enumerate() {
                self.set_u128_at(at + 64 * (index - 16) + 16 * lane, *v);
            }
        } else {
            return None;
        }
        Some(())
    }
}
