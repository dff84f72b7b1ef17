//! Signal numbers on the wire are GDB's own (`include/gdb/signals.def`),
//! not Linux's: `SIGBUS` is 10 on the wire and 7 on Linux, `SIGUSR1` 30 and
//! 10, the real-time signals start at 45. Every number crossing the
//! connection goes through these two functions.

/// (GDB number, Linux number) for every signal Linux has.
const TABLE: &[(u8, i32)] = &[
    (1, libc::SIGHUP),
    (2, libc::SIGINT),
    (3, libc::SIGQUIT),
    (4, libc::SIGILL),
    (5, libc::SIGTRAP),
    (6, libc::SIGABRT),
    (8, libc::SIGFPE),
    (9, libc::SIGKILL),
    (10, libc::SIGBUS),
    (11, libc::SIGSEGV),
    (12, libc::SIGSYS),
    (13, libc::SIGPIPE),
    (14, libc::SIGALRM),
    (15, libc::SIGTERM),
    (16, libc::SIGURG),
    (17, libc::SIGSTOP),
    (18, libc::SIGTSTP),
    (19, libc::SIGCONT),
    (20, libc::SIGCHLD),
    (21, libc::SIGTTIN),
    (22, libc::SIGTTOU),
    (23, libc::SIGIO),
    (24, libc::SIGXCPU),
    (25, libc::SIGXFSZ),
    (26, libc::SIGVTALRM),
    (27, libc::SIGPROF),
    (28, libc::SIGWINCH),
    (30, libc::SIGUSR1),
    (31, libc::SIGUSR2),
    (32, libc::SIGPWR),
    // SIGSTKFLT has no GDB number of its own; gdbserver sends it as "unknown".
    (143, libc::SIGSTKFLT),
];

/// GDB's number for Linux's real-time signal 32 and 64 (33..=63 are 45..=75).
const GDB_REALTIME_32: u8 = 77;
const GDB_REALTIME_64: u8 = 78;

/// The Linux signal for a GDB signal number (0 stays 0: no signal).
pub fn to_linux(gdb: u8) -> i32 {
    if gdb == 0 {
        return 0;
    }
    if let Some(&(_, linux)) = TABLE.iter().find(|(g, _)| *g == gdb) {
        return linux;
    }
    match gdb {
        45..=75 => gdb as i32 - 45 + 33,
        GDB_REALTIME_32 => 32,
        GDB_REALTIME_64 => 64,
        // Unknown: keep the number, so it is at least reported.
        other => other as i32,
    }
}

/// The GDB number for a Linux signal (0 stays 0).
pub fn to_gdb(linux: i32) -> u8 {
    if linux == 0 {
        return 0;
    }
    if let Some(&(gdb, _)) = TABLE.iter().find(|(_, l)| *l == linux) {
        return gdb;
    }
    match linux {
        33..=63 => (linux - 33 + 45) as u8,
        32 => GDB_REALTIME_32,
        64 => GDB_REALTIME_64,
        _ => 143,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_linux_signal_round_trips() {
        for linux in 1..=64 {
            assert_eq!(to_linux(to_gdb(linux)), linux, "signal {linux} (wire {})", to_gdb(linux));
        }
    }

    #[test]
    fn numbers_that_differ_between_gdb_and_linux() {
        assert_eq!(to_linux(5), libc::SIGTRAP);
        assert_eq!(to_linux(10), libc::SIGBUS);
        assert_eq!(to_linux(11), libc::SIGSEGV);
        assert_eq!(to_linux(30), libc::SIGUSR1);
        assert_eq!(to_linux(20), libc::SIGCHLD);
        assert_eq!(to_gdb(32), GDB_REALTIME_32);
        assert_eq!(to_gdb(34), 46);
        assert_eq!(to_linux(0), 0);
    }
}
