//! A thread's `CONTEXT` (what `GetThreadContext` fills) to and from the
//! registers gdb reads.

use crate::arch::{abridged_tag_word, full_tag_word, GdbRegisters};
use dbgkit::os::windows::context::{m128_bytes, m128_of, CONTEXT_REGISTERS};
use dbgkit::os::windows::{Debuggee, WindowsError};
use windows_sys::Win32::System::Diagnostics::Debug::CONTEXT;

/// The registers of a full context.
pub fn registers_of(context: &CONTEXT) -> GdbRegisters {
    let c = context;
    // SAFETY: FltSave is the view of the union the debug API fills with
    // CONTEXT_FLOATING_POINT; both views are plain data.
    let fx = unsafe { c.Anonymous.FltSave };
    let mut st = [[0u8; 10]; 8];
    for (slot, value) in st.iter_mut().zip(fx.FloatRegisters.iter()) {
        slot.copy_from_slice(&m128_bytes(value).to_le_bytes()[..10]);
    }
    let mut xmm = [0u128; 16];
    for (slot, value) in xmm.iter_mut().zip(fx.XmmRegisters.iter()) {
        *slot = m128_bytes(value);
    }
    GdbRegisters {
        gpr: [
            c.Rax, c.Rbx, c.Rcx, c.Rdx, c.Rsi, c.Rdi, c.Rbp, c.Rsp, c.R8, c.R9, c.R10, c.R11, c.R12, c.R13, c.R14,
            c.R15,
        ],
        rip: c.Rip,
        eflags: c.EFlags,
        segments: [c.SegCs, c.SegSs, c.SegDs, c.SegEs, c.SegFs, c.SegGs].map(u32::from),
        x87_control: [
            fx.ControlWord as u32,
            fx.StatusWord as u32,
            full_tag_word(fx.StatusWord, fx.TagWord as u16, &st) as u32,
            fx.ErrorSelector as u32,
            fx.ErrorOffset,
            fx.DataSelector as u32,
            fx.DataOffset,
            fx.ErrorOpcode as u32,
        ],
        st,
        xmm,
        mxcsr: c.MxCsr,
    }
}

/// Writes `regs` into `context` (a full context read before, so the fields
/// gdb does not carry keep their values).
pub fn store_registers(regs: &GdbRegisters, context: &mut CONTEXT) {
    let g = &regs.gpr;
    let c = context;
    [c.Rax, c.Rbx, c.Rcx, c.Rdx, c.Rsi, c.Rdi, c.Rbp, c.Rsp] = [g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7]];
    [c.R8, c.R9, c.R10, c.R11, c.R12, c.R13, c.R14, c.R15] = [g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15]];
    c.Rip = regs.rip;
    c.EFlags = regs.eflags;
    let s = regs.segments.map(|v| v as u16);
    [c.SegCs, c.SegSs, c.SegDs, c.SegEs, c.SegFs, c.SegGs] = s;
    c.MxCsr = regs.mxcsr;
    // SAFETY: as in registers_of; the union is plain data.
    let fx = unsafe { &mut c.Anonymous.FltSave };
    for (slot, bytes) in fx.FloatRegisters.iter_mut().zip(regs.st.iter()) {
        let mut wide = [0u8; 16];
        wide[..10].copy_from_slice(bytes);
        *slot = m128_of(u128::from_le_bytes(wide));
    }
    for (slot, value) in fx.XmmRegisters.iter_mut().zip(regs.xmm.iter()) {
        *slot = m128_of(*value);
    }
    let x = &regs.x87_control;
    fx.ControlWord = x[0] as u16;
    fx.StatusWord = x[1] as u16;
    fx.TagWord = abridged_tag_word(x[2] as u16) as u8;
    fx.ErrorSelector = x[3] as u16;
    fx.ErrorOffset = x[4];
    fx.DataSelector = x[5] as u16;
    fx.DataOffset = x[6];
    fx.ErrorOpcode = x[7] as u16;
    fx.MxCsr = regs.mxcsr;
}

/// The registers of thread `tid`.
pub fn read_registers(debuggee: &Debuggee, tid: u32) -> Result<GdbRegisters, WindowsError> {
    Ok(registers_of(&debuggee.context(tid, CONTEXT_REGISTERS)?.0))
}

/// Sets the registers of thread `tid`.
pub fn write_registers(debuggee: &Debuggee, tid: u32, regs: &GdbRegisters) -> Result<(), WindowsError> {
    let mut context = debuggee.context(tid, CONTEXT_REGISTERS)?;
    store_registers(regs, &mut context.0);
    debuggee.set_context(tid, &context)
}
