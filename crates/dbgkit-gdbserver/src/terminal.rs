//! The terminal the server runs in, handed to the program it launches, as
//! gdbserver does: the program leads a process group of its own and is
//! made the terminal's foreground group, so `^C` typed there reaches the
//! program (which gdb then sees stop with `SIGINT`) and the program may
//! read the terminal. The server's own group gets the terminal back when
//! it ends.

use std::sync::atomic::{AtomicI32, Ordering};

/// The terminal's foreground group before the first launch (0: none taken).
static PREVIOUS_FOREGROUND: AtomicI32 = AtomicI32::new(0);

/// Makes `pid`'s process group the foreground one of the terminal on
/// standard error, if that is a terminal.
pub fn give_to(pid: i32) {
    // SAFETY: isatty, signal, tcgetpgrp and tcsetpgrp take plain values.
    unsafe {
        if libc::isatty(libc::STDERR_FILENO) == 0 {
            return;
        }
        // A background group touching the terminal would be stopped by these.
        libc::signal(libc::SIGTTOU, libc::SIG_IGN);
        libc::signal(libc::SIGTTIN, libc::SIG_IGN);
        let previous = libc::tcgetpgrp(libc::STDERR_FILENO);
        if previous > 0 {
            let _ = PREVIOUS_FOREGROUND.compare_exchange(0, previous, Ordering::SeqCst, Ordering::SeqCst);
        }
        libc::tcsetpgrp(libc::STDERR_FILENO, pid);
    }
}

/// Gives the terminal back to the group that had it before the first launch.
pub fn take_back() {
    let previous = PREVIOUS_FOREGROUND.swap(0, Ordering::SeqCst);
    if previous > 0 {
        // SAFETY: tcsetpgrp takes plain values; a group gone is an error ignored.
        unsafe {
            libc::tcsetpgrp(libc::STDERR_FILENO, previous);
        }
    }
}
