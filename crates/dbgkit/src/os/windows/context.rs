//! A thread's `CONTEXT` (what `GetThreadContext` fills) and the engine's
//! registers: the general registers, and the x87/SSE area (`FltSave`, the
//! `fxsave` layout).

use crate::arch::registers::{FpRegisters, Registers};
use windows_sys::Win32::System::Diagnostics::Debug::{CONTEXT, M128A};

/// `CONTEXT_AMD64`: the architecture bit every flag below carries.
const CONTEXT_AMD64: u32 = 0x0010_0000;
/// Control, integer, segment and floating-point registers.
pub const CONTEXT_REGISTERS: u32 = CONTEXT_AMD64 | 0x1 | 0x2 | 0x4 | 0x8;
/// DR0-DR3, DR6, DR7.
pub const CONTEXT_DEBUG_REGISTERS: u32 = CONTEXT_AMD64 | 0x10;
/// Only `rip`, `rsp`, `eflags` and the segments `cs`/`ss`.
pub const CONTEXT_CONTROL: u32 = CONTEXT_AMD64 | 0x1;
/// The trap flag: one instruction, then `EXCEPTION_SINGLE_STEP`.
pub const TRAP_FLAG: u32 = 0x100;

/// `CONTEXT` must be 16-byte aligned for `GetThreadContext`, and
/// windows-sys declares it without the alignment.
#[repr(C, align(16))]
#[derive(Clone, Copy, Default)]
pub struct AlignedContext(pub CONTEXT);

/// The 128 bits of an `M128A`.
pub fn m128_bytes(value: &M128A) -> u128 {
    (value.Low as u128) | ((value.High as u64 as u128) << 64)
}

/// An `M128A` holding `value`.
pub fn m128_of(value: u128) -> M128A {
    M128A { Low: value as u64, High: (value >> 64) as u64 as i64 }
}

/// The general registers of a context read with [`CONTEXT_REGISTERS`].
/// Windows keeps no `fs_base`/`gs_base` in a context (`gs` addresses the
/// thread's TEB through the segment itself); they read as 0.
pub fn registers_of(c: &CONTEXT) -> Registers {
    Registers {
        r15: c.R15,
        r14: c.R14,
        r13: c.R13,
        r12: c.R12,
        rbp: c.Rbp,
        rbx: c.Rbx,
        r11: c.R11,
        r10: c.R10,
        r9: c.R9,
        r8: c.R8,
        rax: c.Rax,
        rcx: c.Rcx,
        rdx: c.Rdx,
        rsi: c.Rsi,
        rdi: c.Rdi,
        orig_rax: u64::MAX,
        rip: c.Rip,
        cs: c.SegCs.into(),
        eflags: c.EFlags.into(),
        rsp: c.Rsp,
        ss: c.SegSs.into(),
        fs_base: 0,
        gs_base: 0,
        ds: c.SegDs.into(),
        es: c.SegEs.into(),
        fs: c.SegFs.into(),
        gs: c.SegGs.into(),
    }
}

/// Writes the general registers into a context read before.
pub fn store_registers(r: &Registers, c: &mut CONTEXT) {
    [c.Rax, c.Rbx, c.Rcx, c.Rdx, c.Rsi, c.Rdi, c.Rbp, c.Rsp] = [r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rbp, r.rsp];
    [c.R8, c.R9, c.R10, c.R11, c.R12, c.R13, c.R14, c.R15] = [r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15];
    c.Rip = r.rip;
    c.EFlags = r.eflags as u32;
    [c.SegCs, c.SegSs, c.SegDs, c.SegEs, c.SegFs, c.SegGs] = [r.cs, r.ss, r.ds, r.es, r.fs, r.gs].map(|s| s as u16);
}

/// The x87 and SSE registers of a context read with [`CONTEXT_REGISTERS`].
pub fn fp_registers_of(c: &CONTEXT) -> FpRegisters {
    // SAFETY: FltSave is the view of the union the debug API fills with
    // CONTEXT_FLOATING_POINT; both views are plain data.
    let fx = unsafe { c.Anonymous.FltSave };
    let mut out = FpRegisters {
        fcw: fx.ControlWord,
        fsw: fx.StatusWord,
        ftw: fx.TagWord.into(),
        fop: fx.ErrorOpcode,
        rip: u64::from(fx.ErrorOffset) | u64::from(fx.ErrorSelector) << 32,
        rdp: u64::from(fx.DataOffset) | u64::from(fx.DataSelector) << 32,
        mxcsr: fx.MxCsr,
        mxcsr_mask: fx.MxCsr_Mask,
        ..Default::default()
    };
    for (slot, value) in out.st.iter_mut().zip(fx.FloatRegisters.iter()) {
        *slot = m128_bytes(value);
    }
    for (slot, value) in out.xmm.iter_mut().zip(fx.XmmRegisters.iter()) {
        *slot = m128_bytes(value);
    }
    out
}

/// Writes the x87 and SSE registers into a context read before.
pub fn store_fp_registers(f: &FpRegisters, c: &mut CONTEXT) {
    c.MxCsr = f.mxcsr;
    // SAFETY: as in fp_registers_of; the union is plain data.
    let fx = unsafe { &mut c.Anonymous.FltSave };
    fx.ControlWord = f.fcw;
    fx.StatusWord = f.fsw;
    fx.TagWord = f.ftw as u8;
    fx.ErrorOpcode = f.fop;
    fx.ErrorOffset = f.rip as u32;
    fx.ErrorSelector = (f.rip >> 32) as u16;
    fx.DataOffset = f.rdp as u32;
    fx.DataSelector = (f.rdp >> 32) as u16;
    fx.MxCsr = f.mxcsr;
    for (slot, value) in fx.FloatRegisters.iter_mut().zip(f.st.iter()) {
        *slot = m128_of(*value);
    }
    for (slot, value) in fx.XmmRegisters.iter_mut().zip(f.xmm.iter()) {
        *slot = m128_of(*value);
    }
}
