//! Baselines written directly against ptrace(2) and friends, with nothing
//! between the benchmark and the kernel: the floor any engine's overhead is
//! measured from. This module holds the shared primitives; each benchmark's
//! loop is in its own file.

pub mod attach;
pub mod breakpoints;
pub mod core_copy;
pub mod memory;
pub mod steps;

use anyhow::{bail, Context, Result};
use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::FromRawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

pub fn errno() -> i32 {
    io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// ptrace(2) with errno checked, since PEEKDATA may legitimately return -1.
pub fn ptrace(request: libc::c_uint, pid: i32, addr: u64, data: u64) -> io::Result<libc::c_long> {
    // SAFETY: errno is thread-local; ptrace with integer arguments only
    // touches the tracee, except GETREGS/SETREGS whose callers pass a valid pointer.
    unsafe {
        *libc::__errno_location() = 0;
        let r = libc::ptrace(request, pid, addr as *mut libc::c_void, data as *mut libc::c_void);
        if r == -1 && errno() != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(r)
    }
}

/// waitpid(2) for one pid (or thread, with `__WALL`), retried on `EINTR`.
pub fn waitpid(pid: i32, flags: i32) -> io::Result<i32> {
    let mut status = 0;
    loop {
        // SAFETY: waiting for our own child (or tracee) into a local.
        if unsafe { libc::waitpid(pid, &mut status, flags) } == pid {
            return Ok(status);
        }
        if errno() != libc::EINTR {
            return Err(io::Error::last_os_error());
        }
    }
}

pub fn describe(status: i32) -> String {
    if libc::WIFEXITED(status) {
        format!("exited with code {}", libc::WEXITSTATUS(status))
    } else if libc::WIFSIGNALED(status) {
        format!("killed by signal {}", libc::WTERMSIG(status))
    } else if libc::WIFSTOPPED(status) {
        format!("stopped by signal {}", libc::WSTOPSIG(status))
    } else {
        format!("wait status {status:#x}")
    }
}

/// Whether a launched program's address space is randomised.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Aslr {
    On,
    Off,
}

/// A child traced with PTRACE_TRACEME. It is killed and reaped when dropped
/// unless it has already been reaped, so an error anywhere never leaves a
/// stopped program (with int3 bytes planted in it) behind.
pub struct Tracee {
    pub pid: i32,
    stdout: Option<File>,
    /// Once the child has been reaped its pid may be reused: never kill it then.
    reaped: bool,
}

impl Tracee {
    /// fork + PTRACE_TRACEME + execv, the way every classic debugger starts a
    /// program; stdout goes to a pipe so the program's output can be checked
    /// without mixing it into the report. Returns at the exec stop.
    pub fn spawn(program: &Path, args: &[String], aslr: Aslr) -> Result<Tracee> {
        // Everything the child touches is prepared before fork: between fork and
        // exec only async-signal-safe calls are allowed.
        let c_path = CString::new(program.as_os_str().as_bytes()).context("program path contains NUL")?;
        let c_args: Vec<CString> = std::iter::once(Ok(c_path.clone()))
            .chain(args.iter().map(|a| CString::new(a.as_bytes())))
            .collect::<Result<_, _>>()
            .context("argument contains NUL")?;
        let mut argv: Vec<*const libc::c_char> = c_args.iter().map(|a| a.as_ptr()).collect();
        argv.push(std::ptr::null());

        let mut fds = [0; 2];
        // SAFETY: pipe2 fills two descriptors. CLOEXEC keeps later children from
        // inheriting the read end (and holding the pipe open).
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return Err(io::Error::last_os_error()).context("pipe2");
        }
        let (read_end, write_end) = (fds[0], fds[1]);

        // SAFETY: the child only calls ptrace, dup2, signal, personality, execv
        // and _exit on data prepared above.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return Err(io::Error::last_os_error()).context("fork");
        }
        if pid == 0 {
            unsafe {
                libc::ptrace(
                    libc::PTRACE_TRACEME,
                    0,
                    std::ptr::null_mut::<libc::c_void>(),
                    std::ptr::null_mut::<libc::c_void>(),
                );
                libc::dup2(write_end, 1);
                // dbgkit's Session ignores SIGPIPE, and an ignored signal stays
                // ignored across exec: the program must start as it would undebugged.
                libc::signal(libc::SIGPIPE, libc::SIG_DFL);
                if aslr == Aslr::Off {
                    let current = libc::personality(0xffff_ffff) as libc::c_ulong;
                    libc::personality(current | libc::ADDR_NO_RANDOMIZE as libc::c_ulong);
                }
                libc::execv(c_path.as_ptr(), argv.as_ptr());
                libc::_exit(127);
            }
        }
        // SAFETY: closing our copy of the child's end; taking sole ownership of ours.
        let stdout = unsafe {
            libc::close(write_end);
            File::from_raw_fd(read_end)
        };
        let mut tracee = Tracee { pid, stdout: Some(stdout), reaped: false };
        let status = tracee.wait().context("waiting for the exec stop")?;
        if !(libc::WIFSTOPPED(status) && libc::WSTOPSIG(status) == libc::SIGTRAP) {
            bail!("{} did not reach its exec stop: {}", program.display(), describe(status));
        }
        // The child must not outlive the benchmark with int3 bytes planted in it.
        ptrace(libc::PTRACE_SETOPTIONS, pid, 0, libc::PTRACE_O_EXITKILL as u64).context("PTRACE_SETOPTIONS")?;
        Ok(tracee)
    }

    /// The next status of the child; notes when it is gone.
    #[inline]
    pub fn wait(&mut self) -> io::Result<i32> {
        let status = waitpid(self.pid, 0)?;
        if !libc::WIFSTOPPED(status) {
            self.reaped = true;
        }
        Ok(status)
    }

    /// Waits for a stop by SIGTRAP (a breakpoint or a finished step).
    #[inline]
    pub fn wait_trap(&mut self, what: &str) -> Result<()> {
        let status = self.wait()?;
        if !(libc::WIFSTOPPED(status) && libc::WSTOPSIG(status) == libc::SIGTRAP) {
            bail!("{what}: the program {}", describe(status));
        }
        Ok(())
    }

    /// The read end of the program's standard output.
    pub fn take_stdout(&mut self) -> Option<File> {
        self.stdout.take()
    }

    #[inline]
    pub fn regs(&self) -> Result<libc::user_regs_struct> {
        // SAFETY: user_regs_struct is plain data; GETREGS fills it.
        let mut regs: libc::user_regs_struct = unsafe { std::mem::zeroed() };
        ptrace(libc::PTRACE_GETREGS, self.pid, 0, &mut regs as *mut _ as u64).context("PTRACE_GETREGS")?;
        Ok(regs)
    }

    #[inline]
    pub fn set_regs(&self, regs: &libc::user_regs_struct) -> Result<()> {
        ptrace(libc::PTRACE_SETREGS, self.pid, 0, regs as *const _ as u64).context("PTRACE_SETREGS")?;
        Ok(())
    }

    pub fn peek(&self, address: u64) -> Result<u64> {
        Ok(ptrace(libc::PTRACE_PEEKDATA, self.pid, address, 0)
            .with_context(|| format!("PTRACE_PEEKDATA at {address:#x}"))? as u64)
    }

    pub fn poke(&self, address: u64, word: u64) -> Result<()> {
        ptrace(libc::PTRACE_POKEDATA, self.pid, address, word)
            .with_context(|| format!("PTRACE_POKEDATA at {address:#x}"))?;
        Ok(())
    }

    /// Runs the program from its exec stop to `address` with a temporary
    /// int3, and leaves it stopped there as if the breakpoint never existed.
    pub fn run_to(&mut self, address: u64) -> Result<()> {
        let original = self.peek(address)?;
        self.poke(address, (original & !0xff) | 0xcc)?;
        ptrace(libc::PTRACE_CONT, self.pid, 0, 0).context("PTRACE_CONT")?;
        self.wait_trap(&format!("running to {address:#x}"))?;
        let mut regs = self.regs()?;
        if regs.rip != address + 1 {
            bail!("SIGTRAP at {:#x} while running to {address:#x}", regs.rip);
        }
        self.poke(address, original)?;
        regs.rip = address;
        self.set_regs(&regs)
    }
}

impl Drop for Tracee {
    fn drop(&mut self) {
        if !self.reaped {
            // SAFETY: killing and reaping our own child, not yet reaped.
            unsafe {
                libc::kill(self.pid, libc::SIGKILL);
                libc::waitpid(self.pid, std::ptr::null_mut(), 0);
            }
        }
    }
}
