//! Launching a program under the debugger.
//!
//! The child blocks on a pipe until the parent has seized it, so the very
//! first instruction of the new image runs traced: the parent then sees the
//! `PTRACE_EVENT_EXEC` stop. Everything the child does between `fork` and
//! `execve` is async-signal-safe; all strings are prepared before `fork`.

use super::ptrace;
use crate::error::{Error, Result};
use crate::launch::{SpawnOptions, SpawnedPipes, Stdio};
use std::ffi::{CString, OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

/// Finds the program file the way a shell would.
fn resolve_program(program: &OsStr) -> Result<PathBuf> {
    let as_path = Path::new(program);
    let candidates: Vec<PathBuf> = if program.as_bytes().contains(&b'/') {
        vec![as_path.to_path_buf()]
    } else {
        let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
        std::env::split_paths(&path).map(|dir| dir.join(program)).collect()
    };
    for candidate in &candidates {
        if let Ok(meta) = std::fs::metadata(candidate) {
            use std::os::unix::fs::PermissionsExt;
            if meta.is_dir() {
                return Err(Error::CannotExecute { path: candidate.clone(), reason: "is a directory".into() });
            }
            if meta.permissions().mode() & 0o111 == 0 {
                return Err(Error::CannotExecute { path: candidate.clone(), reason: "permission denied".into() });
            }
            return Ok(candidate.clone());
        }
    }
    Err(Error::ProgramNotFound(as_path.to_path_buf()))
}

fn cstring(bytes: Vec<u8>, what: &str) -> Result<CString> {
    CString::new(bytes)
        .map_err(|_| Error::CannotExecute { path: what.into(), reason: "argument contains a NUL byte".into() })
}

struct Pipe {
    read: i32,
    write: i32,
}

fn pipe() -> Result<Pipe> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two descriptors into `fds`.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(Error::last_os("pipe2", 0));
    }
    Ok(Pipe { read: fds[0], write: fds[1] })
}

fn close(fd: i32) {
    // SAFETY: closing a descriptor we own.
    unsafe { libc::close(fd) };
}

/// Forks, seizes and execs. Returns the pid stopped at its exec event
/// (already reaped from `waitpid`), the resolved path, and the pipes.
pub(crate) fn spawn(opts: &SpawnOptions, kill_on_exit: bool) -> Result<(i32, PathBuf, SpawnedPipes)> {
    let program = opts.argv.first().ok_or_else(|| Error::ProgramNotFound(PathBuf::new()))?;
    let path = resolve_program(program)?;
    if let Some(cwd) = &opts.cwd {
        if !cwd.is_dir() {
            return Err(Error::CannotExecute {
                path: path.clone(),
                reason: format!("working directory {} does not exist", cwd.display()),
            });
        }
    }
    let c_path = cstring(path.clone().into_os_string().into_vec(), "program")?;
    let c_argv: Vec<CString> =
        opts.argv.iter().map(|a| cstring(a.as_bytes().to_vec(), "argument")).collect::<Result<_>>()?;
    let mut env: Vec<(OsString, OsString)> = opts.env.clone().unwrap_or_else(|| std::env::vars_os().collect());
    for (k, v) in &opts.extra_env {
        env.retain(|(key, _)| key != k);
        env.push((k.clone(), v.clone()));
    }
    let c_env: Vec<CString> = env
        .iter()
        .map(|(k, v)| {
            let mut b = k.as_bytes().to_vec();
            b.push(b'=');
            b.extend_from_slice(v.as_bytes());
            cstring(b, "environment")
        })
        .collect::<Result<_>>()?;
    let c_cwd = opts.cwd.as_ref().map(|d| cstring(d.as_os_str().as_bytes().to_vec(), "directory")).transpose()?;
    let mut argv_ptrs: Vec<*const libc::c_char> = c_argv.iter().map(|c| c.as_ptr()).collect();
    argv_ptrs.push(std::ptr::null());
    let mut env_ptrs: Vec<*const libc::c_char> = c_env.iter().map(|c| c.as_ptr()).collect();
    env_ptrs.push(std::ptr::null());

    let go = pipe()?;
    let exec_error = pipe()?;
    let mut stdio_pipes: [Option<Pipe>; 3] = [None, None, None];
    for (i, s) in [opts.stdin, opts.stdout, opts.stderr].into_iter().enumerate() {
        if s == Stdio::Piped {
            stdio_pipes[i] = Some(pipe()?);
        }
    }
    let devnull = c"/dev/null";
    let stdio_modes = [opts.stdin, opts.stdout, opts.stderr];

    // SAFETY: fork; the child only calls async-signal-safe functions on data prepared above.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(Error::last_os("fork", 0));
    }
    if pid == 0 {
        // Child.
        unsafe {
            close(go.write);
            close(exec_error.read);
            let mut byte = 0u8;
            while libc::read(go.read, (&mut byte as *mut u8).cast(), 1) < 0 {}
            close(go.read);
            for (fd, mode) in stdio_modes.iter().enumerate() {
                match mode {
                    Stdio::Inherit => {}
                    Stdio::Null => {
                        let null = libc::open(devnull.as_ptr(), libc::O_RDWR);
                        if null >= 0 {
                            libc::dup2(null, fd as i32);
                            libc::close(null);
                        }
                    }
                    Stdio::Piped => {
                        let p = stdio_pipes[fd].as_ref().unwrap();
                        let child_end = if fd == 0 { p.read } else { p.write };
                        libc::dup2(child_end, fd as i32);
                    }
                    // dup2 clears close-on-exec on the copy, so the program keeps it;
                    // a descriptor that already is `fd` has the flag cleared by hand.
                    Stdio::Fd(source) if *source == fd as i32 => {
                        libc::fcntl(fd as i32, libc::F_SETFD, 0);
                    }
                    Stdio::Fd(source) => {
                        libc::dup2(*source, fd as i32);
                    }
                }
            }
            if let Some(dir) = &c_cwd {
                if libc::chdir(dir.as_ptr()) != 0 {
                    let e = *libc::__errno_location();
                    libc::write(exec_error.write, (&e as *const i32).cast(), 4);
                    libc::_exit(127);
                }
            }
            if opts.own_process_group {
                libc::setpgid(0, 0);
            }
            if opts.disable_aslr {
                let current = libc::personality(0xffff_ffff);
                libc::personality((current as libc::c_ulong) | libc::ADDR_NO_RANDOMIZE as libc::c_ulong);
            }
            // The debugger ignores SIGPIPE; the program must start with defaults.
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
            let mut empty: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut empty);
            libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
            libc::execve(c_path.as_ptr(), argv_ptrs.as_ptr(), env_ptrs.as_ptr());
            let e = *libc::__errno_location();
            libc::write(exec_error.write, (&e as *const i32).cast(), 4);
            libc::_exit(127);
        }
    }
    // Parent.
    close(go.read);
    close(exec_error.write);
    let mut pipes = SpawnedPipes::default();
    for (i, p) in stdio_pipes.into_iter().enumerate() {
        if let Some(p) = p {
            use std::os::fd::FromRawFd;
            let (ours, theirs) = if i == 0 { (p.write, p.read) } else { (p.read, p.write) };
            close(theirs);
            // SAFETY: we own `ours` and hand it to exactly one File.
            let file = unsafe { std::fs::File::from_raw_fd(ours) };
            match i {
                0 => pipes.stdin = Some(file),
                1 => pipes.stdout = Some(file),
                _ => pipes.stderr = Some(file),
            }
        }
    }
    let seized = ptrace::seize(pid, ptrace::options(kill_on_exit));
    // Let the child go (or die, if seizing failed: it then execs untraced, so kill it).
    // SAFETY: writing one byte to our pipe end.
    unsafe { libc::write(go.write, b"g".as_ptr().cast(), 1) };
    close(go.write);
    if let Err(e) = seized {
        // SAFETY: killing and reaping our own child.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
            libc::waitpid(pid, std::ptr::null_mut(), 0);
        }
        close(exec_error.read);
        return Err(e);
    }
    let mut errno = 0i32;
    // SAFETY: reading at most 4 bytes into `errno`.
    let n = unsafe { libc::read(exec_error.read, (&mut errno as *mut i32).cast(), 4) };
    close(exec_error.read);
    if n == 4 {
        // The child failed before or in execve and has exited: reap it.
        let mut status = 0;
        // SAFETY: reaping our own child.
        unsafe { libc::waitpid(pid, &mut status, libc::__WALL) };
        return Err(Error::CannotExecute { path, reason: std::io::Error::from_raw_os_error(errno).to_string() });
    }
    // execve succeeded: the child stops at PTRACE_EVENT_EXEC.
    loop {
        match super::wait::wait(Some(pid), super::wait::Block::Yes)? {
            Some((_, super::wait::WaitStatus::Event(libc::PTRACE_EVENT_EXEC))) => break,
            Some((_, s)) if s.is_death() => {
                return Err(Error::CannotExecute { path, reason: "the program died before it started".into() })
            }
            Some((_, super::wait::WaitStatus::Signal(sig))) => {
                // A signal before exec completed (e.g. from a terminal): keep it for the program.
                ptrace::cont(pid, sig)?;
            }
            _ => ptrace::cont(pid, 0)?,
        }
    }
    Ok((pid, path, pipes))
}
