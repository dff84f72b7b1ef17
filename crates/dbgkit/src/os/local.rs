//! The processes of the machine the engine runs on, as the session sees
//! them: launching a program, attaching to a process, the target of each,
//! and the one event source they share. The session goes through here and
//! never names a backend; this file picks it (Linux: ptrace; Windows: the
//! Win32 debug loop, each process with its own event source, whose start
//! `session/windows.rs` replays as events).

use crate::target::StopReason;

/// How a thread of a process just attached to was found.
#[derive(Debug)]
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub(crate) enum AttachedThread {
    /// Stopped by our interrupt; `group_stopped` when it was in a group-stop.
    Stopped { group_stopped: bool },
    /// Stopped with a status of its own that must be handled later.
    Held(StopReason),
}

#[cfg(target_os = "linux")]
pub(crate) use linux::*;

#[cfg(target_os = "linux")]
mod linux {
    use super::AttachedThread;
    use crate::error::Result;
    use crate::launch::{SpawnOptions, SpawnedPipes};
    use crate::os::linux::{attach, spawn, target};
    use crate::target::{EventSource, Target};
    use std::collections::BTreeMap;

    /// Launches a program, stopped before its first instruction: its pid,
    /// and the pipes asked for.
    pub(crate) fn launch(options: &SpawnOptions) -> Result<(i32, SpawnedPipes)> {
        let (pid, _path, pipes) = spawn::spawn(options, true)?;
        Ok((pid, pipes))
    }

    /// Ends a launched program the session could not take in: killed and
    /// reaped, so nothing of it is left stopped.
    pub(crate) fn abandon_launched(pid: i32) {
        // SAFETY: killing and reaping our own child.
        unsafe {
            libc::kill(pid, crate::signal_numbers::SIGKILL);
            libc::waitpid(pid, std::ptr::null_mut(), libc::__WALL);
        }
    }

    /// Stops every thread of running process `pid`; how each was found.
    pub(crate) fn attach(pid: i32) -> Result<BTreeMap<i32, AttachedThread>> {
        attach::seize_all(pid)
    }

    /// The target of a local process, stopped (launched or attached).
    pub(crate) fn open(pid: i32) -> Result<Box<dyn Target>> {
        Ok(Box::new(target::LinuxProcess::open(pid)?))
    }

    /// The event source every local process shares (one `waitpid`).
    pub(crate) fn event_source() -> Box<dyn EventSource> {
        Box::new(target::PtraceEvents)
    }
}

#[cfg(windows)]
pub(crate) use windows::*;

#[cfg(windows)]
mod windows {
    use crate::error::Result;
    use crate::launch::SpawnOptions;
    use crate::os::windows::WindowsTarget;
    use crate::target::{EventSource, Target};

    /// A Windows process just started or attached to: its target, the
    /// event source of its debug loop, and its first thread.
    pub(crate) struct LocalProcess {
        pub(crate) target: Box<dyn Target>,
        /// A second handle on the same process, to end or let it go when
        /// the session cannot take it in.
        pub(crate) spare: Box<dyn Target>,
        pub(crate) events: Box<dyn EventSource>,
        pub(crate) first_thread: i32,
    }

    fn local(target: WindowsTarget, first_thread: i32) -> LocalProcess {
        let events = target.events();
        LocalProcess { spare: Box::new(target.clone()), target: Box::new(target), events, first_thread }
    }

    /// Launches a program under the debug loop.
    pub(crate) fn launch(options: &SpawnOptions) -> Result<LocalProcess> {
        let (target, tid) = WindowsTarget::spawn(options)?;
        Ok(local(target, tid))
    }

    /// Attaches the debug loop to process `pid`.
    pub(crate) fn attach(pid: u32) -> Result<LocalProcess> {
        let (target, tid) = WindowsTarget::attach(pid)?;
        Ok(local(target, tid))
    }
}
