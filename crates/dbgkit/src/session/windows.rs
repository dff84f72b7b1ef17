//! Launching and attaching on Windows: the process is the engine's Windows
//! target (the Win32 debug loop, from `os/local.rs`), taken into the session as
//! an attached process is: its present replayed as events, then the
//! loader's initial breakpoint (`Exception 0x80000003`, first chance), as
//! WinDbg reports it.

use super::Session;
use crate::error::{Error, Result};
use crate::launch::SpawnOptions;
use crate::os::local::{self, LocalProcess};

impl Session {
    pub(super) fn spawn_windows(&mut self, options: &SpawnOptions) -> Result<i32> {
        if options.argv.is_empty() {
            return Err(Error::InvalidArgument("no program to launch".into()));
        }
        let process = local::launch(options)?;
        self.adopt_windows(process, true)
    }

    pub(super) fn attach_windows(&mut self, pid: i32) -> Result<()> {
        let pid = u32::try_from(pid).map_err(|_| Error::NoSuchProcess(pid))?;
        let process = local::attach(pid)?;
        self.adopt_windows(process, false).map(|_| ())
    }

    fn adopt_windows(&mut self, process: LocalProcess, launched: bool) -> Result<i32> {
        let LocalProcess { target, spare, events, first_thread: tid } = process;
        let pid = match self.adopt_target(target, Some(events)) {
            Ok(pid) => pid,
            Err(e) => {
                // Not taken in: the program must not be left stopped for good.
                if let Some(control) = spare.run_control() {
                    let _ = if launched { control.kill() } else { control.detach_thread(tid, 0) };
                }
                return Err(e);
            }
        };
        // As WinDbg does: a program it started ends with it, one it attached to runs on.
        self.process_mut(pid)?.kill_on_exit = launched;
        self.resolve_pending_breakpoints(pid);
        self.queue_initial_stop(pid, tid, crate::signal_numbers::SIGTRAP, true)?;
        Ok(pid)
    }
}
