//! `QCatchSyscalls` (gdb's `catch syscall`): the engine's syscall
//! catchpoint, set in the debugged process (and in the next one, when gdb
//! asked before a process exists); its events become `syscall_entry` /
//! `syscall_return` stop replies.

use crate::target::ServerTarget;
use gdbstub::target::ext::catch_syscalls::{CatchSyscalls, SyscallNumbers};
use gdbstub::target::TargetResult;

impl ServerTarget {
    /// Sets what gdb asked to catch in the debugged process (after a
    /// launch or an attach, and whenever gdb changes it).
    pub(crate) fn apply_syscall_catch(&mut self) -> dbgkit::Result<()> {
        if let Some(id) = self.syscall_catch_id.take() {
            // Gone with its process, or removed now: either way not there any more.
            let _ = self.session.remove_breakpoint(id);
        }
        let (Some(numbers), Some(inferior)) = (&self.syscalls_to_catch, &self.inferior) else { return Ok(()) };
        let (pid, numbers) = (inferior.pid, numbers.clone());
        self.syscall_catch_id = Some(self.session.add_syscall_catchpoint(pid, &numbers)?);
        Ok(())
    }
}

impl CatchSyscalls for ServerTarget {
    fn enable_catch_syscalls(&mut self, filter: Option<SyscallNumbers<'_, u64>>) -> TargetResult<(), Self> {
        // No filter: every system call (the engine's empty list).
        self.syscalls_to_catch = Some(filter.map(|numbers| numbers.collect()).unwrap_or_default());
        let applied = self.apply_syscall_catch();
        self.soft("catch syscalls", applied)
    }

    fn disable_catch_syscalls(&mut self) -> TargetResult<(), Self> {
        self.syscalls_to_catch = None;
        let applied = self.apply_syscall_catch();
        self.soft("stop catching syscalls", applied)
    }
}
