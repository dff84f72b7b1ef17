//! Thread contexts: the registers a debugger reads and writes, the pc and
//! trap flag the loop changes, and the debug registers of hardware breakpoints
//! and watchpoints, the same in every thread.

use super::Debuggee;
use crate::os::windows::context::{
    AlignedContext, CONTEXT_CONTROL, CONTEXT_DEBUG_REGISTERS, CONTEXT_REGISTERS, TRAP_FLAG,
};
use crate::os::windows::debug_slots::Slot;
use crate::os::windows::error::WindowsError;
use windows_sys::Win32::Foundation::{GetLastError, HANDLE};
use windows_sys::Win32::System::Diagnostics::Debug::{GetThreadContext, SetThreadContext};

/// Everything a debugger reads of a thread.
const CONTEXT_ALL_USED: u32 = CONTEXT_REGISTERS | CONTEXT_DEBUG_REGISTERS;

/// A thread's context read at this stop, and the parts changed since.
#[derive(Clone, Copy)]
pub(super) struct CachedContext {
    context: AlignedContext,
    dirty: u32,
}

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

    /// Whether thread `tid`'s single-step exception came from a debug
    /// register (DR6's B0-B3), whoever set them.
    pub(super) fn debug_register_hit(&self, tid: u32) -> Result<bool, WindowsError> {
        Ok(self.context(tid, CONTEXT_DEBUG_REGISTERS)?.0.Dr6 & 0xF != 0)
    }

    /// The handle of thread `tid`, from its creation event.
    pub(super) fn thread(&self, tid: u32) -> Result<HANDLE, WindowsError> {
        self.threads.get(&tid).copied().ok_or(WindowsError::UnknownThread(tid))
    }

    /// Thread `tid`'s context, with `flags` naming the parts the caller
    /// uses. The whole context is read once per stop and kept: a hit of
    /// a breakpoint reads and moves the pc several times, and each
    /// `GetThreadContext` is a round trip to the system (to wineserver
    /// under Wine).
    pub fn context(&self, tid: u32, flags: u32) -> Result<AlignedContext, WindowsError> {
        if let Some(cached) = self.contexts.borrow().get(&tid) {
            let mut context = cached.context;
            context.0.ContextFlags = flags;
            return Ok(context);
        }
        let handle = self.thread(tid)?;
        let mut context = AlignedContext::default();
        context.0.ContextFlags = CONTEXT_ALL_USED;
        // SAFETY: an aligned CONTEXT and a thread handle with THREAD_GET_CONTEXT.
        if unsafe { GetThreadContext(handle, &mut context.0) } == 0 {
            return Err(WindowsError::Win32 { call: "GetThreadContext", code: unsafe { GetLastError() } });
        }
        self.contexts.borrow_mut().insert(tid, CachedContext { context, dirty: 0 });
        context.0.ContextFlags = flags;
        Ok(context)
    }

    /// Changes the parts of thread `tid`'s context that its flags name
    /// (a context from [`context`](Self::context), changed within them).
    /// The change reaches the thread before it runs again
    /// ([`write_back_contexts`](Self::write_back_contexts)).
    pub fn set_context(&self, tid: u32, context: &AlignedContext) -> Result<(), WindowsError> {
        self.thread(tid)?;
        let mut contexts = self.contexts.borrow_mut();
        let cached = contexts.entry(tid).or_insert(CachedContext { context: *context, dirty: 0 });
        cached.dirty |= context.0.ContextFlags;
        cached.context = *context;
        Ok(())
    }

    /// Writes every changed context into its thread and forgets them all:
    /// the threads are about to run.
    pub(super) fn write_back_contexts(&self) {
        for (tid, cached) in std::mem::take(&mut *self.contexts.borrow_mut()) {
            if cached.dirty == 0 {
                continue;
            }
            let mut context = cached.context;
            context.0.ContextFlags = cached.dirty;
            let written = self.thread(tid).is_ok_and(|handle| {
                // SAFETY: as in context().
                unsafe { SetThreadContext(handle, &context.0) != 0 }
            });
            if !written {
                (self.log)(&format!("thread {tid}: SetThreadContext failed (Windows error {})", unsafe {
                    GetLastError()
                }));
            }
        }
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
