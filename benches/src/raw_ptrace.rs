//! Baselines written directly against ptrace(2), with nothing between the
//! benchmark and the kernel: the floor any engine's overhead is measured from.

use crate::run::{Run, Watchdog};
use anyhow::{bail, Context, Result};
use std::ffi::CString;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::FromRawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::{Duration, Instant};

/// A child stopped at its exec stop, traced with PTRACE_TRACEME.
struct Child {
    pid: i32,
    stdout: File,
}

fn errno() -> i32 {
    io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// ptrace(2) with errno checked, since PEEKDATA may legitimately return -1.
fn ptrace(request: libc::c_uint, pid: i32, addr: u64, data: u64) -> io::Result<libc::c_long> {
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

fn waitpid(pid: i32) -> io::Result<i32> {
    let mut status = 0;
    loop {
        // SAFETY: waiting for our own child into a local.
        if unsafe { libc::waitpid(pid, &mut status, 0) } == pid {
            return Ok(status);
        }
        if errno() != libc::EINTR {
            return Err(io::Error::last_os_error());
        }
    }
}

fn describe(status: i32) -> String {
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

/// fork + PTRACE_TRACEME + execv, the way every classic debugger starts a
/// program; stdout goes to a pipe so the program's output can be checked
/// without mixing it into the report.
fn spawn_traced(program: &Path, args: &[String]) -> Result<Child> {
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

    // SAFETY: the child only calls ptrace, dup2, signal, execv and _exit on data prepared above.
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
            libc::execv(c_path.as_ptr(), argv.as_ptr());
            libc::_exit(127);
        }
    }
    // SAFETY: closing our copy of the child's end; taking sole ownership of ours.
    let stdout = unsafe {
        libc::close(write_end);
        File::from_raw_fd(read_end)
    };
    let status = waitpid(pid).context("waiting for the exec stop")?;
    if !(libc::WIFSTOPPED(status) && libc::WSTOPSIG(status) == libc::SIGTRAP) {
        bail!("{} did not reach its exec stop: {}", program.display(), describe(status));
    }
    // The child must not outlive the benchmark with int3 bytes planted in it.
    ptrace(libc::PTRACE_SETOPTIONS, pid, 0, libc::PTRACE_O_EXITKILL as u64).context("PTRACE_SETOPTIONS")?;
    Ok(Child { pid, stdout })
}

/// The textbook breakpoint loop: on each hit, rewind rip, put the original
/// byte back, single-step over it, re-plant the int3, continue. Two stops
/// and six ptrace calls per hit; this is what "raw classic" means in the report.
pub fn breakpoint_loop(program: &Path, args: &[String], address: u64, limit: Duration) -> Result<Run> {
    let start = Instant::now();
    let child = spawn_traced(program, args)?;
    let pid = child.pid;
    let watchdog = Watchdog::start(pid, limit, "raw classic loop".into());
    // Once the child has been reaped its pid may be reused: never kill it then.
    let mut reaped = false;
    let run = (|| -> Result<(u64, i32)> {
        let original = ptrace(libc::PTRACE_PEEKDATA, pid, address, 0).context("PTRACE_PEEKDATA")? as u64;
        let trapped = (original & !0xff) | 0xcc;
        ptrace(libc::PTRACE_POKEDATA, pid, address, trapped).context("PTRACE_POKEDATA (plant)")?;
        let mut hits = 0u64;
        let mut signal = 0u64;
        loop {
            ptrace(libc::PTRACE_CONT, pid, 0, signal).context("PTRACE_CONT")?;
            signal = 0;
            let status = waitpid(pid)?;
            reaped = !libc::WIFSTOPPED(status);
            if libc::WIFEXITED(status) {
                return Ok((hits, libc::WEXITSTATUS(status)));
            }
            if !libc::WIFSTOPPED(status) {
                bail!("the program {}", describe(status));
            }
            if libc::WSTOPSIG(status) != libc::SIGTRAP {
                // Not ours: hand the signal to the program, as a debugger would.
                signal = libc::WSTOPSIG(status) as u64;
                continue;
            }
            // SAFETY: user_regs_struct is plain data; GETREGS fills it.
            let mut regs: libc::user_regs_struct = unsafe { std::mem::zeroed() };
            let regs_ptr = &mut regs as *mut libc::user_regs_struct as u64;
            ptrace(libc::PTRACE_GETREGS, pid, 0, regs_ptr).context("PTRACE_GETREGS")?;
            if regs.rip != address + 1 {
                bail!("SIGTRAP at {:#x}, not at the breakpoint {address:#x}", regs.rip);
            }
            regs.rip = address;
            ptrace(libc::PTRACE_SETREGS, pid, 0, regs_ptr).context("PTRACE_SETREGS")?;
            ptrace(libc::PTRACE_POKEDATA, pid, address, original).context("PTRACE_POKEDATA (restore)")?;
            ptrace(libc::PTRACE_SINGLESTEP, pid, 0, 0).context("PTRACE_SINGLESTEP")?;
            let status = waitpid(pid)?;
            reaped = !libc::WIFSTOPPED(status);
            if !(libc::WIFSTOPPED(status) && libc::WSTOPSIG(status) == libc::SIGTRAP) {
                bail!("single-step over the breakpoint: the program {}", describe(status));
            }
            ptrace(libc::PTRACE_POKEDATA, pid, address, trapped).context("PTRACE_POKEDATA (re-plant)")?;
            hits += 1;
        }
    })();
    let elapsed = start.elapsed();
    let timed_out = watchdog.fired();
    drop(watchdog);
    let (hits, exit_code) = match run {
        Ok(r) => r,
        Err(e) => {
            if !reaped {
                // SAFETY: killing and reaping our own child, not yet reaped.
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                    libc::waitpid(pid, std::ptr::null_mut(), 0);
                }
            }
            return Err(if timed_out { e.context(format!("timed out after {limit:?}")) } else { e });
        }
    };
    let mut stdout = String::new();
    let mut pipe = child.stdout;
    // The program has exited, so the pipe is at its end; its output is a line.
    pipe.read_to_string(&mut stdout).context("reading the program's output")?;
    Ok(Run { hits, elapsed, stdout, exit_code })
}
