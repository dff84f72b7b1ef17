//! Extended mode (`--multi`, `target extended-remote`): gdb runs, attaches,
//! kills and restarts programs over the connection, and the server outlives them.

use crate::target::{Origin, ServerError, ServerTarget};
use gdbstub::common::Pid;
use gdbstub::target::ext::extended_mode::{
    Args, AttachKind, ConfigureAslr, ConfigureAslrOps, ConfigureEnv, ConfigureEnvOps, ConfigureWorkingDir,
    ConfigureWorkingDirOps, CurrentActivePid, CurrentActivePidOps, ExtendedMode, ShouldTerminate,
};
use gdbstub::target::{TargetError, TargetResult};
use std::num::NonZeroUsize;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

impl ExtendedMode for ServerTarget {
    fn run(&mut self, filename: Option<&[u8]>, args: Args<'_, '_>) -> TargetResult<Pid, Self> {
        let mut argv: Vec<String> = args.map(text).collect();
        match filename.map(text) {
            Some(program) => argv.insert(0, program),
            None => {
                // No program named: the one given on the command line or run last.
                let last = self.last_argv.clone().unwrap_or_default();
                if last.is_empty() {
                    eprintln!("No program to run.");
                    return Err(TargetError::Errno(libc::ENOENT as u8));
                }
                argv = last;
            }
        }
        if self.inferior.is_some() {
            if self.multiprocess {
                // A new inferior of gdb's: the process it has stays, parked.
                self.park_for_a_new_process();
            } else {
                self.kill_inferior().map_err(TargetError::Fatal)?;
            }
        }
        match self.launch(&argv) {
            Ok(pid) => {
                eprintln!("Process {} created; pid = {pid}", argv[0]);
                self.last_argv = Some(argv);
                Ok(NonZeroUsize::new(pid as usize).expect("positive pid"))
            }
            Err(e) => {
                eprintln!("Cannot run {}: {e}", argv[0]);
                Err(TargetError::Errno(libc::ENOENT as u8))
            }
        }
    }

    fn attach(&mut self, pid: Pid) -> TargetResult<(), Self> {
        if self.inferior.is_some() {
            if !self.multiprocess {
                // One process at a time, as gdbserver without multi-process support.
                return Err(TargetError::Errno(libc::EBUSY as u8));
            }
            self.park_for_a_new_process();
        }
        match ServerTarget::attach(self, pid.get() as i32) {
            Ok(()) => {
                eprintln!("Attached; pid = {pid}");
                Ok(())
            }
            Err(e) => {
                eprintln!("Cannot attach to process {pid}: {e}");
                Err(TargetError::Errno(libc::EPERM as u8))
            }
        }
    }

    fn query_if_attached(&mut self, _pid: Pid) -> TargetResult<AttachKind, Self> {
        Ok(match self.inferior.as_ref().map(|i| i.origin) {
            Some(Origin::Attached) => AttachKind::Attach,
            _ => AttachKind::Run,
        })
    }

    fn kill(&mut self, pid: Option<Pid>) -> TargetResult<ShouldTerminate, Self> {
        // gdb kills a forked child it has not let go before its parent.
        if let Some(pid) = pid.map(|p| p.get() as i32) {
            if self.kill_child(pid).map_err(TargetError::Fatal)? || self.kill_parked(pid).map_err(TargetError::Fatal)? {
                return Ok(ShouldTerminate::No);
            }
        }
        self.kill_inferior().map_err(TargetError::Fatal)?;
        Ok(if self.extended || !self.parked.is_empty() { ShouldTerminate::No } else { ShouldTerminate::Yes })
    }

    fn restart(&mut self) -> Result<(), ServerError> {
        let Some(argv) = self.inferior.as_ref().map(|i| i.argv.clone()).or_else(|| self.last_argv.clone()) else {
            return Ok(());
        };
        if self.inferior.is_some() {
            self.kill_inferior()?;
        }
        let pid = self.launch(&argv)?;
        eprintln!("Process {} created; pid = {pid}", argv[0]);
        Ok(())
    }

    fn support_configure_aslr(&mut self) -> Option<ConfigureAslrOps<'_, Self>> {
        Some(self)
    }

    fn support_configure_env(&mut self) -> Option<ConfigureEnvOps<'_, Self>> {
        Some(self)
    }

    fn support_configure_working_dir(&mut self) -> Option<ConfigureWorkingDirOps<'_, Self>> {
        Some(self)
    }

    fn support_current_active_pid(&mut self) -> Option<CurrentActivePidOps<'_, Self>> {
        Some(self)
    }
}

impl ConfigureAslr for ServerTarget {
    fn cfg_aslr(&mut self, enabled: bool) -> TargetResult<(), Self> {
        self.launch.disable_aslr = !enabled;
        Ok(())
    }
}

impl ConfigureEnv for ServerTarget {
    fn set_env(&mut self, key: &[u8], val: Option<&[u8]>) -> TargetResult<(), Self> {
        self.launch.env.push((text(key), Some(val.map(text).unwrap_or_default())));
        Ok(())
    }

    fn remove_env(&mut self, key: &[u8]) -> TargetResult<(), Self> {
        self.launch.env.push((text(key), None));
        Ok(())
    }

    fn reset_env(&mut self) -> TargetResult<(), Self> {
        self.launch.env.clear();
        self.launch.env_reset = true;
        Ok(())
    }
}

impl ConfigureWorkingDir for ServerTarget {
    fn cfg_working_dir(&mut self, dir: Option<&[u8]>) -> TargetResult<(), Self> {
        self.launch.cwd = dir.map(|d| std::path::PathBuf::from(text(d)));
        Ok(())
    }
}

impl CurrentActivePid for ServerTarget {
    fn current_active_pid(&mut self) -> Result<Pid, ServerError> {
        // With no process, gdbstub still needs a pid for thread ids.
        let pid = self.inferior.as_ref().map(|i| i.pid).unwrap_or(1);
        Ok(NonZeroUsize::new(pid as usize).expect("positive pid"))
    }
}
