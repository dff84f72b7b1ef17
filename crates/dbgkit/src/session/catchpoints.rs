//! Syscall catchpoints (gdb's `catch syscall`): a thread entering or
//! leaving a watched system call is reported. The target is asked for
//! system call stops only while a process has a catchpoint, so a program
//! without one runs as fast as ever.

use super::Session;
use crate::breakpoints::{BreakpointInfo, BreakpointKind};
use crate::error::{Error, Result};
use crate::event::EventKind;

/// One syscall catchpoint.
pub(crate) struct SyscallCatch {
    pub info: BreakpointInfo,
    /// The system calls it watches; empty: every one.
    pub numbers: Vec<u64>,
}

impl Session {
    /// Reports every entry to and exit from the system calls `numbers`
    /// (every system call when empty) in `pid`, as `SyscallEntry` and
    /// `SyscallExit` events. It shares the breakpoints' numbering and list
    /// (kind [`BreakpointKind::Syscall`], its calls named in `expression`);
    /// `remove_breakpoint` and `enable_breakpoint` take its id.
    ///
    /// ```no_run
    /// # let mut session = dbgkit::Session::new(); let pid = 1;
    /// let openat = dbgkit::syscall_number("openat").unwrap();
    /// let id = session.add_syscall_catchpoint(pid, &[openat])?;
    /// # Ok::<(), dbgkit::Error>(())
    /// ```
    pub fn add_syscall_catchpoint(&mut self, pid: i32, numbers: &[u64]) -> Result<u32> {
        let p = self.process(pid)?;
        if !p.control()?.stops_at_syscalls() {
            return Err(Error::NotSupported { what: "catching system calls", target: p.target.kind() });
        }
        if let Some(bad) = numbers.iter().find(|&&n| n >= 1024) {
            return Err(Error::InvalidArgument(format!("{bad} is not a system call number")));
        }
        let names: Vec<String> =
            numbers.iter().map(|&n| crate::syscall_name(n).map_or_else(|| n.to_string(), str::to_string)).collect();
        let id = self.reserve_breakpoint_id();
        let info = BreakpointInfo {
            id,
            pid,
            kind: BreakpointKind::Syscall,
            address: 0,
            locations: Vec::new(),
            enabled: true,
            one_shot: false,
            hits: 0,
            fast: false,
            expression: Some(if names.is_empty() { "every system call".into() } else { names.join(", ") }),
            unresolved: None,
            condition: None,
            ignore_count: 0,
            all_processes: false,
        };
        self.syscall_catches.insert(id, SyscallCatch { info, numbers: numbers.to_vec() });
        self.update_syscall_stops(pid)?;
        Ok(id)
    }

    /// Asks the target for system call stops exactly while `pid` has an
    /// enabled syscall catchpoint; running threads take the new mode now.
    fn update_syscall_stops(&mut self, pid: i32) -> Result<()> {
        let wanted = self.syscall_catches.values().any(|c| c.info.pid == pid && c.info.enabled);
        let Some(p) = self.processes.get_mut(&pid) else { return Ok(()) };
        if p.syscall_stops == wanted {
            return Ok(());
        }
        p.syscall_stops = wanted;
        // Stopping and resuming every thread gives each the new resume mode.
        self.with_stopped(pid, |_| Ok(()))
    }

    pub(crate) fn remove_syscall_catchpoint(&mut self, id: u32) -> Result<()> {
        let catch = self.syscall_catches.remove(&id).ok_or(Error::NoSuchBreakpoint(id))?;
        self.update_syscall_stops(catch.info.pid)
    }

    pub(crate) fn enable_syscall_catchpoint(&mut self, id: u32, enabled: bool) -> Result<()> {
        let catch = self.syscall_catches.get_mut(&id).ok_or(Error::NoSuchBreakpoint(id))?;
        catch.info.enabled = enabled;
        let pid = catch.info.pid;
        self.update_syscall_stops(pid)
    }

    /// A thread stopped at a system call: reported when a catchpoint
    /// watches it, otherwise it goes on.
    pub(crate) fn on_syscall_stop(&mut self, pid: i32, tid: i32) -> Result<()> {
        if !self.process(pid)?.syscall_stops {
            return self.resume_thread(pid, tid);
        }
        match self.caught_syscall(pid, tid)? {
            Some(kind) => self.report(pid, tid, kind),
            None => self.resume_thread(pid, tid),
        }
    }

    /// The event a thread's syscall stop is, when a catchpoint watches the
    /// call (its hit counted).
    fn caught_syscall(&mut self, pid: i32, tid: i32) -> Result<Option<EventKind>> {
        let stop = self.process(pid)?.control()?.syscall_stop(tid)?;
        let catch = self.syscall_catches.values_mut().find(|c| {
            c.info.pid == pid && c.info.enabled && (c.numbers.is_empty() || c.numbers.contains(&stop.number))
        });
        let Some(catch) = catch else { return Ok(None) };
        catch.info.hits += 1;
        let id = catch.info.id;
        Ok(Some(if stop.entry {
            EventKind::SyscallEntry { id, number: stop.number, args: stop.args }
        } else {
            EventKind::SyscallExit { id, number: stop.number, result: stop.result }
        }))
    }

    /// At an exec stop the thread is still inside `execve`: while system
    /// calls are caught, it is taken to the call's exit now, and that stop
    /// queued after the `Exec` event when a catchpoint watches `execve`.
    /// Otherwise anything run in the thread before it goes on (a system
    /// call injected to map scratch memory) would step through that exit
    /// unseen.
    pub(crate) fn finish_exec_syscall(&mut self, pid: i32, tid: i32) -> Result<()> {
        if !self.process(pid)?.syscall_stops {
            return Ok(());
        }
        let control = self.process(pid)?.control()?;
        control.resume(tid, crate::target::Resume::ToSyscall, 0)?;
        match control.wait_thread(tid)? {
            Some(crate::target::StopReason::Syscall) => {
                if let Some(t) = self.thread_mut(pid, tid) {
                    t.regs = None;
                }
                if let Some(kind) = self.caught_syscall(pid, tid)? {
                    self.queue_event(pid, tid, kind);
                }
            }
            // Something else came first (a signal, a death): dispatched in its turn.
            Some(other) => self.hold(tid, other),
            None => {}
        }
        Ok(())
    }
}
