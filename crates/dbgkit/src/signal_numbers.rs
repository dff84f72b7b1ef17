//! The signal numbers of the engine's vocabulary: Linux x86-64's, whatever
//! the target (a remote stub's numbers are translated to these, and a
//! Windows exception is reported with the nearest of them). Kept here
//! rather than taken from `libc` so that the engine's own logic does not
//! depend on the system it is built for.

pub const SIGHUP: i32 = 1;
pub const SIGINT: i32 = 2;
pub const SIGQUIT: i32 = 3;
pub const SIGILL: i32 = 4;
pub const SIGTRAP: i32 = 5;
pub const SIGABRT: i32 = 6;
pub const SIGBUS: i32 = 7;
pub const SIGFPE: i32 = 8;
pub const SIGKILL: i32 = 9;
pub const SIGUSR1: i32 = 10;
pub const SIGSEGV: i32 = 11;
pub const SIGUSR2: i32 = 12;
pub const SIGPIPE: i32 = 13;
pub const SIGALRM: i32 = 14;
pub const SIGTERM: i32 = 15;
pub const SIGSTKFLT: i32 = 16;
pub const SIGCHLD: i32 = 17;
pub const SIGCONT: i32 = 18;
pub const SIGSTOP: i32 = 19;
pub const SIGTSTP: i32 = 20;
pub const SIGTTIN: i32 = 21;
pub const SIGTTOU: i32 = 22;
pub const SIGURG: i32 = 23;
pub const SIGXCPU: i32 = 24;
pub const SIGXFSZ: i32 = 25;
pub const SIGVTALRM: i32 = 26;
pub const SIGPROF: i32 = 27;
pub const SIGWINCH: i32 = 28;
pub const SIGIO: i32 = 29;
pub const SIGPWR: i32 = 30;
pub const SIGSYS: i32 = 31;
/// The first real-time signal a program may use (glibc keeps 32 and 33 for itself).
pub const SIGRTMIN: i32 = 34;
pub const SIGRTMAX: i32 = 64;

/// Every signal with a name of its own, by number.
const NAMES: [(i32, &str); 31] = [
    (SIGHUP, "SIGHUP"),
    (SIGINT, "SIGINT"),
    (SIGQUIT, "SIGQUIT"),
    (SIGILL, "SIGILL"),
    (SIGTRAP, "SIGTRAP"),
    (SIGABRT, "SIGABRT"),
    (SIGBUS, "SIGBUS"),
    (SIGFPE, "SIGFPE"),
    (SIGKILL, "SIGKILL"),
    (SIGUSR1, "SIGUSR1"),
    (SIGSEGV, "SIGSEGV"),
    (SIGUSR2, "SIGUSR2"),
    (SIGPIPE, "SIGPIPE"),
    (SIGALRM, "SIGALRM"),
    (SIGTERM, "SIGTERM"),
    (SIGSTKFLT, "SIGSTKFLT"),
    (SIGCHLD, "SIGCHLD"),
    (SIGCONT, "SIGCONT"),
    (SIGSTOP, "SIGSTOP"),
    (SIGTSTP, "SIGTSTP"),
    (SIGTTIN, "SIGTTIN"),
    (SIGTTOU, "SIGTTOU"),
    (SIGURG, "SIGURG"),
    (SIGXCPU, "SIGXCPU"),
    (SIGXFSZ, "SIGXFSZ"),
    (SIGVTALRM, "SIGVTALRM"),
    (SIGPROF, "SIGPROF"),
    (SIGWINCH, "SIGWINCH"),
    (SIGIO, "SIGIO"),
    (SIGPWR, "SIGPWR"),
    (SIGSYS, "SIGSYS"),
];

/// Whether the processor raises `signal` on an instruction that cannot go
/// on (a bad access, a bad instruction, an arithmetic fault), rather than
/// something sending it.
pub fn is_hardware_fault(signal: i32) -> bool {
    matches!(signal, SIGSEGV | SIGBUS | SIGILL | SIGFPE)
}

/// The name of a signal that has one (`SIGSEGV`).
pub fn name_of(signal: i32) -> Option<&'static str> {
    NAMES.iter().find(|(n, _)| *n == signal).map(|(_, name)| *name)
}

/// The number of a signal by its full name (`SIGSEGV`).
pub fn number_of(name: &str) -> Option<i32> {
    NAMES.iter().find(|(_, n)| *n == name).map(|(number, _)| *number)
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #[test]
    fn they_are_linux_s() {
        let pairs = [
            (super::SIGHUP, libc::SIGHUP),
            (super::SIGINT, libc::SIGINT),
            (super::SIGQUIT, libc::SIGQUIT),
            (super::SIGILL, libc::SIGILL),
            (super::SIGTRAP, libc::SIGTRAP),
            (super::SIGABRT, libc::SIGABRT),
            (super::SIGBUS, libc::SIGBUS),
            (super::SIGFPE, libc::SIGFPE),
            (super::SIGKILL, libc::SIGKILL),
            (super::SIGUSR1, libc::SIGUSR1),
            (super::SIGSEGV, libc::SIGSEGV),
            (super::SIGUSR2, libc::SIGUSR2),
            (super::SIGPIPE, libc::SIGPIPE),
            (super::SIGALRM, libc::SIGALRM),
            (super::SIGTERM, libc::SIGTERM),
            (super::SIGSTKFLT, libc::SIGSTKFLT),
            (super::SIGCHLD, libc::SIGCHLD),
            (super::SIGCONT, libc::SIGCONT),
            (super::SIGSTOP, libc::SIGSTOP),
            (super::SIGTSTP, libc::SIGTSTP),
            (super::SIGTTIN, libc::SIGTTIN),
            (super::SIGTTOU, libc::SIGTTOU),
            (super::SIGURG, libc::SIGURG),
            (super::SIGXCPU, libc::SIGXCPU),
            (super::SIGXFSZ, libc::SIGXFSZ),
            (super::SIGVTALRM, libc::SIGVTALRM),
            (super::SIGPROF, libc::SIGPROF),
            (super::SIGWINCH, libc::SIGWINCH),
            (super::SIGIO, libc::SIGIO),
            (super::SIGPWR, libc::SIGPWR),
            (super::SIGSYS, libc::SIGSYS),
            (super::SIGRTMIN, libc::SIGRTMIN()),
            (super::SIGRTMAX, libc::SIGRTMAX()),
        ];
        for (ours, system) in pairs {
            assert_eq!(ours, system);
        }
    }

    #[test]
    fn the_names_are_nix_s() {
        for signal in nix::sys::signal::Signal::iterator() {
            assert_eq!(super::name_of(signal as i32), Some(signal.as_str()), "{signal:?}");
            assert_eq!(super::number_of(signal.as_str()), Some(signal as i32));
        }
        assert_eq!(super::name_of(0), None);
        assert_eq!(super::number_of("SIGNOPE"), None);
    }
}
