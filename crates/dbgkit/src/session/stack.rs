//! `Session::stack`: the call stack of a stopped thread.

use super::Session;
use crate::error::Result;
use crate::unwind::{Stack, Unwinder};
use std::cell::RefCell;

thread_local! {
    /// The parsed call-frame information of every module seen, keyed by
    /// path and load bias. It lives here for now; the session will own it
    /// later. A session is used from one thread only (ptrace's rule), so a
    /// thread-local cache is the session's cache in practice.
    static UNWINDER: RefCell<Unwinder> = RefCell::new(Unwinder::new());
}

impl Session {
    /// The call stack of a stopped thread, innermost frame first, walked
    /// with the modules' call-frame information (the frame-pointer chain
    /// where there is none). `Stack::stopped` says why the walk ended early,
    /// if it did.
    pub fn stack(&mut self, pid: i32, tid: i32) -> Result<Stack> {
        let regs = self.registers(pid, tid)?;
        let modules = self.modules(pid)?;
        // The mapping that holds the stack: a frame pointer outside it is garbage.
        let bounds = self
            .memory_map(pid)
            .ok()
            .and_then(|map| map.into_iter().find(|r| r.start <= regs.rsp && regs.rsp < r.end))
            .map(|r| r.start..r.end);
        // A thread about to run a relocated copy in scratch memory is, for
        // the user, at the original instruction: unwind from there.
        let mut regs = regs;
        regs.rip = self.original_address(pid, regs.rip)?;
        let mut read = |address: u64, buf: &mut [u8]| self.read_memory(pid, address, buf).is_ok();
        let mut stack = UNWINDER.with(|u| u.borrow_mut().unwind_in(&regs, &modules, bounds, &mut read));
        for frame in &mut stack.frames {
            let mut place = self.symbolize(pid, frame.lookup_pc()).ok();
            if let Some(p) = place.as_mut() {
                // Name the frame's own pc (a return address), found through the call before it.
                if frame.after_call {
                    p.address = frame.pc;
                    p.offset += 1;
                    p.module_offset += 1;
                }
            }
            frame.symbol = place;
        }
        Ok(stack)
    }
}
