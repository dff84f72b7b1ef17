//! Signal numbers on the wire are GDB's own (`include/gdb/signals.def`),
//! not Linux's: `SIGBUS` is 10 on the wire and 7 on Linux, `SIGUSR1` 30 and
//! 10, the real-time signals start at 45. Every number crossing the
//! connection goes through these two functions.

/// (GDB number, Linux number) for every signal Linux has.
const TABLE: &[(u8, i32)] = &[
    (1, crate::signal_numbers::SIGHUP),
    (2, crate::signal_numbers::SIGINT),
    (3, crate::signal_numbers::SIGQUIT),
    (4, crate::signal_numbers::SIGILL),
    (5, crate::signal_numbers::SIGTRAP),
    (6, crate::signal_numbers::SIGABRT),
    (8, crate::signal_numbers::SIGFPE),
    (9, crate::signal_numbers::SIGKILL),
    (10, crate::signal_numbers::SIGBUS),
    (11, crate::signal_numbers::SIGSEGV),
    (12, crate::signal_numbers::SIGSYS),
    (13, crate::signal_numbers::SIGPIPE),
    (14, crate::signal_numbers::SIGALRM),
    (15, crate::signal_numbers::SIGTERM),
    (16, crate::signal_numbers::SIGURG),
    (17, crate::signal_numbers::SIGSTOP),
    (18, crate::signal_numbers::SIGTSTP),
    (19, crate::signal_numbers::SIGCONT),
    (20, crate::signal_numbers::SIGCHLD),
    (21, crate::signal_numbers::SIGTTIN),
    (22, crate::signal_numbers::SIGTTOU),
    (23, crate::signal_numbers::SIGIO),
    (24, crate::signal_numbers::SIGXCPU),
    (25, crate::signal_numbers::SIGXFSZ),
    (26, crate::signal_numbers::SIGVTALRM),
    (27, crate::signal_numbers::SIGPROF),
    (28, crate::signal_numbers::SIGWINCH),
    (30, crate::signal_numbers::SIGUSR1),
    (31, crate::signal_numbers::SIGUSR2),
    (32, crate::signal_numbers::SIGPWR),
    // SIGSTKFLT has no GDB number of its own; gdbserver sends it as "unknown".
    (143, crate::signal_numbers::SIGSTKFLT),
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
        assert_eq!(to_linux(5), crate::signal_numbers::SIGTRAP);
        assert_eq!(to_linux(10), crate::signal_numbers::SIGBUS);
        assert_eq!(to_linux(11), crate::signal_numbers::SIGSEGV);
        assert_eq!(to_linux(30), crate::signal_numbers::SIGUSR1);
        assert_eq!(to_linux(20), crate::signal_numbers::SIGCHLD);
        assert_eq!(to_gdb(32), GDB_REALTIME_32);
        assert_eq!(to_gdb(34), 46);
        assert_eq!(to_linux(0), 0);
    }
}
