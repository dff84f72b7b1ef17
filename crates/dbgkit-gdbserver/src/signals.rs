//! Signal numbers: the protocol carries gdb's own numbering (`GDB_SIGNAL_*`,
//! the same on every host), not Linux's. SIGBUS is 7 on Linux and 10 for
//! gdb, SIGUSR1 10 and 30, SIGCHLD 17 and 20, and so on.

/// `(linux, gdb)` for every signal with a fixed number on both sides.
const TABLE: &[(i32, u8)] = &[
    (libc::SIGHUP, 1),
    (libc::SIGINT, 2),
    (libc::SIGQUIT, 3),
    (libc::SIGILL, 4),
    (libc::SIGTRAP, 5),
    (libc::SIGABRT, 6),
    (libc::SIGFPE, 8),
    (libc::SIGKILL, 9),
    (libc::SIGBUS, 10),
    (libc::SIGSEGV, 11),
    (libc::SIGSYS, 12),
    (libc::SIGPIPE, 13),
    (libc::SIGALRM, 14),
    (libc::SIGTERM, 15),
    (libc::SIGURG, 16),
    (libc::SIGSTOP, 17),
    (libc::SIGTSTP, 18),
    (libc::SIGCONT, 19),
    (libc::SIGCHLD, 20),
    (libc::SIGTTIN, 21),
    (libc::SIGTTOU, 22),
    (libc::SIGIO, 23),
    (libc::SIGXCPU, 24),
    (libc::SIGXFSZ, 25),
    (libc::SIGVTALRM, 26),
    (libc::SIGPROF, 27),
    (libc::SIGWINCH, 28),
    (libc::SIGUSR1, 30),
    (libc::SIGUSR2, 31),
    (libc::SIGPWR, 32),
];

/// gdb's number for "a signal gdb has no name for".
const GDB_SIGNAL_UNKNOWN: u8 = 143;
/// Linux's first real-time signal as the kernel numbers it (glibc keeps 32 and 33).
const LINUX_RT_FIRST: i32 = 32;
const LINUX_RT_LAST: i32 = 64;

/// The gdb number of a Linux signal.
pub fn to_gdb(linux: i32) -> u8 {
    if linux == 0 {
        return 0;
    }
    if let Some(&(_, gdb)) = TABLE.iter().find(|(l, _)| *l == linux) {
        return gdb;
    }
    match linux {
        // GDB_SIGNAL_REALTIME_32 and _64 were added after 33..63.
        32 => 77,
        33..=63 => 45 + (linux - 33) as u8,
        64 => 78,
        _ => GDB_SIGNAL_UNKNOWN,
    }
}

/// The Linux number of a gdb signal, `None` when Linux has no such signal.
pub fn from_gdb(gdb: u8) -> Option<i32> {
    if gdb == 0 {
        return Some(0);
    }
    if let Some(&(linux, _)) = TABLE.iter().find(|(_, g)| *g == gdb) {
        return Some(linux);
    }
    let linux = match gdb {
        77 => 32,
        45..=75 => 33 + (gdb as i32 - 45),
        78 => 64,
        _ => return None,
    };
    (LINUX_RT_FIRST..=LINUX_RT_LAST).contains(&linux).then_some(linux)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_linux_signal_goes_there_and_back() {
        for linux in 1..=64 {
            if linux == libc::SIGSTKFLT {
                assert_eq!(to_gdb(linux), GDB_SIGNAL_UNKNOWN);
                continue;
            }
            assert_eq!(from_gdb(to_gdb(linux)), Some(linux), "signal {linux}");
        }
    }

    #[test]
    fn numbers_that_differ_between_linux_and_gdb() {
        assert_eq!(to_gdb(libc::SIGBUS), 10);
        assert_eq!(to_gdb(libc::SIGUSR1), 30);
        assert_eq!(to_gdb(libc::SIGCHLD), 20);
        assert_eq!(to_gdb(34), 46); // glibc's SIGRTMIN is gdb's SIG34
        assert_eq!(from_gdb(200), None);
    }
}
