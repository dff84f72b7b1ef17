//! Sleeping until something happens: a debugged thread stops (the kernel
//! sends the tracer `SIGCHLD` for every ptrace stop, read here through a
//! signalfd) or the client sends bytes (a break-in). Polling both instead of
//! the engine's timed wait wakes the server the moment a breakpoint is hit.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

/// What woke the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wakeup {
    /// A debugged thread changed state (or may have).
    Target,
    /// The client sent bytes.
    Client,
    /// Nothing within the time limit.
    Timeout,
}

/// `SIGCHLD` as a descriptor. `SIGCHLD` is blocked in the calling thread
/// (programs the engine launches start with an empty mask).
pub struct StopNotifier {
    fd: OwnedFd,
}

impl StopNotifier {
    pub fn new() -> io::Result<StopNotifier> {
        // SAFETY: plain signal-set manipulation and a new descriptor we own.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGCHLD);
            if libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) != 0 {
                return Err(io::Error::last_os_error());
            }
            let fd = libc::signalfd(-1, &set, libc::SFD_NONBLOCK | libc::SFD_CLOEXEC);
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(StopNotifier { fd: OwnedFd::from_raw_fd(fd) })
        }
    }

    /// Forgets the notifications received so far (the caller then looks
    /// for stops itself before sleeping again).
    pub fn drain(&self) {
        let mut info = [0u8; std::mem::size_of::<libc::signalfd_siginfo>() * 16];
        loop {
            // SAFETY: reading into a buffer we own from a non-blocking descriptor.
            let n = unsafe { libc::read(self.fd.as_raw_fd(), info.as_mut_ptr().cast(), info.len()) };
            if n <= 0 {
                return;
            }
        }
    }

    /// Sleeps until a thread stops, the client's descriptor is readable, or `limit` passes.
    pub fn sleep(&self, client: RawFd, limit: Duration) -> io::Result<Wakeup> {
        let mut fds = [
            libc::pollfd { fd: self.fd.as_raw_fd(), events: libc::POLLIN, revents: 0 },
            libc::pollfd { fd: client, events: libc::POLLIN, revents: 0 },
        ];
        let millis = limit.as_millis().min(i32::MAX as u128) as i32;
        // SAFETY: two pollfds we own.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, millis) };
        if n < 0 {
            let err = io::Error::last_os_error();
            return if err.raw_os_error() == Some(libc::EINTR) { Ok(Wakeup::Timeout) } else { Err(err) };
        }
        Ok(if fds[1].revents != 0 {
            Wakeup::Client
        } else if fds[0].revents != 0 {
            Wakeup::Target
        } else {
            Wakeup::Timeout
        })
    }
}
