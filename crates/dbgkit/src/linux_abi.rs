//! The parts of Linux x86-64's ABI the engine uses on a Linux target:
//! system calls it runs inside the target, memory protections and mapping
//! flags they take, auxiliary vector keys. Constants of the target's
//! system, not of the one the debugger is built for (`libc`'s would be
//! missing, or another system's, on a debugger built elsewhere).

/// "No such process": what ptrace answers for a thread that is gone.
pub const ESRCH: i32 = 3;
/// What `rax` holds while a thread is inside a system call not finished yet
/// (stopped at a fork, clone or exec event): `-ENOSYS`.
pub const ENOSYS: i64 = 38;
/// `lseek`'s whence for an absolute offset.
pub const SEEK_SET: u64 = 0;

pub const SYS_LSEEK: i64 = 8;
pub const SYS_MMAP: i64 = 9;
pub const SYS_MPROTECT: i64 = 10;
pub const SYS_MUNMAP: i64 = 11;
pub const SYS_GETPID: i64 = 39;
pub const SYS_FORK: i64 = 57;
pub const SYS_EXIT: i64 = 60;
pub const SYS_RESTART_SYSCALL: i64 = 219;

pub const PROT_NONE: i32 = 0;
pub const PROT_READ: i32 = 1;
pub const PROT_WRITE: i32 = 2;
pub const PROT_EXEC: i32 = 4;

pub const MAP_PRIVATE: i32 = 0x02;
pub const MAP_ANONYMOUS: i32 = 0x20;
pub const MAP_FIXED_NOREPLACE: i32 = 0x10_0000;

/// Auxiliary vector keys.
pub const AT_PHDR: u64 = 3;
pub const AT_PHNUM: u64 = 5;
pub const AT_BASE: u64 = 7;
pub const AT_ENTRY: u64 = 9;
pub const AT_SYSINFO_EHDR: u64 = 33;

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn they_are_the_system_s() {
        assert_eq!((ESRCH, SEEK_SET), (libc::ESRCH, libc::SEEK_SET as u64));
        assert_eq!(
            [SYS_LSEEK, SYS_MMAP, SYS_MPROTECT, SYS_MUNMAP, SYS_FORK, SYS_EXIT, SYS_RESTART_SYSCALL],
            [
                libc::SYS_lseek,
                libc::SYS_mmap,
                libc::SYS_mprotect,
                libc::SYS_munmap,
                libc::SYS_fork,
                libc::SYS_exit,
                libc::SYS_restart_syscall
            ]
        );
        assert_eq!(
            [PROT_NONE, PROT_READ, PROT_WRITE, PROT_EXEC],
            [libc::PROT_NONE, libc::PROT_READ, libc::PROT_WRITE, libc::PROT_EXEC]
        );
        assert_eq!(
            [MAP_PRIVATE, MAP_ANONYMOUS, MAP_FIXED_NOREPLACE],
            [libc::MAP_PRIVATE, libc::MAP_ANONYMOUS, libc::MAP_FIXED_NOREPLACE]
        );
        assert_eq!(
            [AT_PHDR, AT_PHNUM, AT_BASE, AT_ENTRY, AT_SYSINFO_EHDR],
            [libc::AT_PHDR, libc::AT_PHNUM, libc::AT_BASE, libc::AT_ENTRY, libc::AT_SYSINFO_EHDR]
        );
    }
}
