//! Thread contexts: the registers gdb reads and writes, the pc and trap
//! flag the stub changes, and the debug registers of hardware breakpoints
//! and watchpoints, the same in every thread.

use super::Debuggee;
use crate::arch::GdbRegisters;
use crate::debug_registers::Slot;
use crate::error::StubError;
use crate::windows::context::{
    registers_of, store_registers, AlignedContext, CONTEXT_CONTROL, CONTEXT_DEBUG_REGISTERS, CONTEXT_REGISTERS,
    TRAP_FLAG,
};
use windows_sys::Win32::Foundation::{GetLastError, HANDLE};
use windows_sys::Win32::System::Diagnostics::Debug::{GetThreadContext, SetThreadContext};

impl Debuggee {
    /// Takes a debug register for `slot` in every thread; false when none
    /// is free or the hardware cannot watch it.
    pub fn add_debug_slot(&mut self, slot: Slot) -> Result<bool, StubError> {
        let before = self.debug_registers.clone();
        if self.debug_registers.add(slot).is_none() {
            return Ok(false);
        }
        if let Err(e) = self.apply_debug_registers_everywhere() {
            self.debug_registers = before;
            let _ = self.apply_debug_registers_everywhere();
            return Err(e);
        }
        Ok(true)
    }

    /// Frees the debug register of `slot` in every thread.
    pub fn remove_debug_slot(&mut self, slot: Slot) -> Result<bool, StubError> {
        if !self.debug_registers.remove(slot) {
            return Ok(false);
        }
        self.apply_debug_registers_everywhere()?;
        Ok(true)
    }

    /// Writes the slots into the debug registers of every thread.
    pub(super) fn apply_debug_registers_everywhere(&self) -> Result<(), StubError> {
        for &tid in self.threads.keys() {
            self.apply_debug_registers(tid)?;
        }
        Ok(())
    }

    /// Writes the slots into the debug registers of thread `tid`.
    pub(super) fn apply_debug_registers(&self, tid: u32) -> Result<(), StubError> {
        let mut context = self.context(tid, CONTEXT_DEBUG_REGISTERS)?;
        let c = &mut context.0;
        [c.Dr0, c.Dr1, c.Dr2, c.Dr3] = self.debug_registers.addresses();
        c.Dr7 = self.debug_registers.dr7();
        c.Dr6 = 0;
        self.set_context(tid, &context)
    }

    /// The slot whose hit made this single-step exception, DR6 cleared
    /// for the next one.
    pub(super) fn fired_slot(&self, tid: u32) -> Result<Option<Slot>, StubError> {
        let mut context = self.context(tid, CONTEXT_DEBUG_REGISTERS)?;
        let slot = self.debug_registers.fired(context.0.Dr6);
        if context.0.Dr6 != 0 {
            context.0.Dr6 = 0;
            self.set_context(tid, &context)?;
        }
        Ok(slot)
    }

    /// The handle of thread `tid`, from its creation event.
    pub(super) fn thread(&self, tid: u32) -> Result<HANDLE, StubError> {
        self.threads.get(&tid).copied().ok_or(StubError::UnknownThread(tid))
    }

    /// The parts of thread `tid`'s context that `flags` names.
    pub(super) fn context(&self, tid: u32, flags: u32) -> Result<AlignedContext, StubError> {
        let handle = self.thread(tid)?;
        let mut context = AlignedContext::default();
        context.0.ContextFlags = flags;
        // SAFETY: an aligned CONTEXT and a thread handle with THREAD_GET_CONTEXT.
        if unsafe { GetThreadContext(handle, &mut context.0) } == 0 {
            return Err(StubError::Win32 { call: "GetThreadContext", code: unsafe { GetLastError() } });
        }
        Ok(context)
    }

    /// Writes the parts of a context its flags name into thread `tid`.
    pub(super) fn set_context(&self, tid: u32, context: &AlignedContext) -> Result<(), StubError> {
        let handle = self.thread(tid)?;
        // SAFETY: as in context().
        if unsafe { SetThreadContext(handle, &context.0) } == 0 {
            return Err(StubError::Win32 { call: "SetThreadContext", code: unsafe { GetLastError() } });
        }
        Ok(())
    }

    /// Thread `tid`'s rip.
    pub(super) fn pc(&self, tid: u32) -> Result<u64, StubError> {
        Ok(self.context(tid, CONTEXT_CONTROL)?.0.Rip)
    }

    /// Sets thread `tid`'s rip.
    pub(super) fn set_pc(&self, tid: u32, pc: u64) -> Result<(), StubError> {
        let mut context = self.context(tid, CONTEXT_CONTROL)?;
        context.0.Rip = pc;
        self.set_context(tid, &context)
    }

    /// Sets or clears thread `tid`'s trap flag (a single step on resume).
    pub(super) fn set_trap_flag(&self, tid: u32, on: bool) -> Result<(), StubError> {
        let mut context = self.context(tid, CONTEXT_CONTROL)?;
        if on {
            context.0.EFlags |= TRAP_FLAG;
        } else {
            context.0.EFlags &= !TRAP_FLAG;
        }
        self.set_context(tid, &context)
    }

    /// The registers of thread `tid`.
    pub fn registers(&self, tid: u32) -> Result<GdbRegisters, StubError> {
        Ok(registers_of(&self.context(tid, CONTEXT_REGISTERS)?.0))
    }

    /// Sets the registers of thread `tid`.
    pub fn set_registers(&self, tid: u32, regs: &GdbRegisters) -> Result<(), StubError> {
        let mut context = self.context(tid, CONTEXT_REGISTERS)?;
        store_registers(regs, &mut context.0);
        self.set_context(tid, &context)
    }
}
