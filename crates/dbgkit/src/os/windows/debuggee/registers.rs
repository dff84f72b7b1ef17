//! Thread contexts: the registers a debugger reads and writes, the pc and
//! trap flag the loop changes, and the debug registers of hardware breakpoints
//! and watchpoints, the same in every thread.

use super::Debuggee;
use crate::os::windows::context::{AlignedContext, CONTEXT_CONTROL, CONTEXT_DEBUG_REGISTERS, TRAP_FLAG};
use crate::os::windows::debug_slots::Slot;
use crate::os::windows::error::WindowsError;
use windows_sys::Win32::Foundation::{GetLastError, HANDLE};
use windows_sys::Win32::System::Diagnostics::Debug::{GetThreadContext, SetThreadContext};

impl Debuggee {
    /// Takes a debug register for `slot` in every thread; false when none
    /// is free or the hardware cannot watch it.
    pub fn add_debug_slot(&mut self, slot: Slot) -> Result<bool, WindowsError> {
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
    pub fn remove_debug_slot(&mut self, slot: Slot) -> Result<bool, WindowsError> {
        if !self.debug_registers.remove(slot) {
            return Ok(false);
        }
        self.apply_debug_registers_everywhere()?;
        Ok(true)
    }

    /// Writes the slots into the debug registers of every thread.
    pub(super) fn apply_debug_registers_everywhere(&self) -> Result<(), WindowsError> {
        for &tid in self.threads.keys() {
            self.apply_debug_registers(tid)?;
        }
        Ok(())
    }

    /// Writes the slots into the debug registers of thread `tid`.
    pub(super) fn apply_debug_registers(&self, tid: u32) -> Result<(), WindowsError> {
        let mut context = self.context(tid, CONTEXT_DEBUG_REGISTERS)?;
        let c = &mut context.0;
        [c.Dr0, c.Dr1, c.Dr2, c.Dr3] = self.debug_registers.addresses();
        c.Dr7 = self.debug_registers.dr7();
        c.Dr6 = 0;
        self.set_context(tid, &context)
    }

    /// The slot whose hit made this single-step exception, DR6 cleared
    /// for the next one.
    pub(super) fn fired_slot(&self, tid: u32) -> Result<Option<Slot>, WindowsError> {
        let mut context = self.context(tid, CONTEXT_DEBUG_REGISTERS)?;
        let slot = self.debug_registers.fired(context.0.Dr6);
        if context.0.Dr6 != 0 {
            context.0.Dr6 = 0;
            self.set_context(tid, &context)?;
        }
        Ok(slot)
    }

    /// The handle of thread `tid`, from its creation event.
    pub(super) fn thread(&self, tid: u32) -> Result<HANDLE, WindowsError> {
        self.threads.get(&tid).copied().ok_or(WindowsError::UnknownThread(tid))
    }

    /// The parts of thread `tid`'s context that `flags` names.
    pub fn context(&self, tid: u32, flags: u32) -> Result<AlignedContext, WindowsError> {
        let handle = self.thread(tid)?;
        let mut context = AlignedContext::default();
        context.0.ContextFlags = flags;
        // SAFETY: an aligned CONTEXT and a thread handle with THREAD_GET_CONTEXT.
        if unsafe { GetThreadContext(handle, &mut context.0) } == 0 {
            return Err(WindowsError::Win32 { call: "GetThreadContext", code: unsafe { GetLastError() } });
        }
        Ok(context)
    }

    /// Writes the parts of a context its flags name into thread `tid`.
    pub fn set_context(&self, tid: u32, context: &AlignedContext) -> Result<(), WindowsError> {
        let handle = self.thread(tid)?;
        // SAFETY: as in context().
        if unsafe { SetThreadContext(handle, &context.0) } == 0 {
            return Err(WindowsError::Win32 { call: "SetThreadContext", code: unsafe { GetLastError() } });
        }
        Ok(())
    }

    /// Thread `tid`'s rip.
    pub fn pc(&self, tid: u32) -> Result<u64, WindowsError> {
        Ok(self.context(tid, CONTEXT_CONTROL)?.0.Rip)
    }

    /// Sets thread `tid`'s rip.
    pub fn set_pc(&self, tid: u32, pc: u64) -> Result<(), WindowsError> {
        let mut context = self.context(tid, CONTEXT_CONTROL)?;
        context.0.Rip = pc;
        self.set_context(tid, &context)
    }

    /// Sets or clears thread `tid`'s trap flag (a single step on resume).
    pub(super) fn set_trap_flag(&self, tid: u32, on: bool) -> Result<(), WindowsError> {
        let mut context = self.context(tid, CONTEXT_CONTROL)?;
        if on {
            context.0.EFlags |= TRAP_FLAG;
        } else {
            context.0.EFlags &= !TRAP_FLAG;
        }
        self.set_context(tid, &context)
    }
}
