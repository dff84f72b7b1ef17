//! `vFile`: the client reads files on the server's machine (the program,
//! its libraries, their debug files), as with gdbserver's `target:` sysroot.

use crate::target::ServerTarget;
use gdbstub::target::ext::host_io::{
    FsKind, HostIo, HostIoClose, HostIoCloseOps, HostIoErrno, HostIoError, HostIoFstat, HostIoFstatOps, HostIoOpen,
    HostIoOpenFlags, HostIoOpenMode, HostIoOpenOps, HostIoPread, HostIoPreadOps, HostIoReadlink, HostIoReadlinkOps,
    HostIoResult, HostIoSetfs, HostIoSetfsOps, HostIoStat,
};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};

/// Files one client may hold open at once.
const MAX_OPEN_FILES: usize = 256;

fn errno_of(e: std::io::Error) -> HostIoError<crate::target::ServerError> {
    let errno = match e.raw_os_error() {
        Some(libc::EPERM) => HostIoErrno::EPERM,
        Some(libc::ENOENT) => HostIoErrno::ENOENT,
        Some(libc::EACCES) => HostIoErrno::EACCES,
        Some(libc::EEXIST) => HostIoErrno::EEXIST,
        Some(libc::EISDIR) => HostIoErrno::EISDIR,
        Some(libc::ENOTDIR) => HostIoErrno::ENOTDIR,
        Some(libc::EINVAL) => HostIoErrno::EINVAL,
        Some(libc::ENAMETOOLONG) => HostIoErrno::ENAMETOOLONG,
        Some(libc::EMFILE) => HostIoErrno::EMFILE,
        Some(libc::EROFS) => HostIoErrno::EROFS,
        _ => HostIoErrno::EIO,
    };
    HostIoError::Errno(errno)
}

impl HostIo for ServerTarget {
    fn support_open(&mut self) -> Option<HostIoOpenOps<'_, Self>> {
        Some(self)
    }
    fn support_close(&mut self) -> Option<HostIoCloseOps<'_, Self>> {
        Some(self)
    }
    fn support_pread(&mut self) -> Option<HostIoPreadOps<'_, Self>> {
        Some(self)
    }
    fn support_fstat(&mut self) -> Option<HostIoFstatOps<'_, Self>> {
        Some(self)
    }
    fn support_readlink(&mut self) -> Option<HostIoReadlinkOps<'_, Self>> {
        Some(self)
    }
    fn support_setfs(&mut self) -> Option<HostIoSetfsOps<'_, Self>> {
        Some(self)
    }
}

impl HostIoOpen for ServerTarget {
    fn open(&mut self, filename: &[u8], flags: HostIoOpenFlags, mode: HostIoOpenMode) -> HostIoResult<u32, Self> {
        if self.files.len() >= MAX_OPEN_FILES {
            return Err(HostIoError::Errno(HostIoErrno::EMFILE));
        }
        let access = flags.bits() & 3;
        let mut options = std::fs::OpenOptions::new();
        options
            .read(access == 0 || access == 2)
            .write(access == 1 || access == 2)
            .append(flags.contains(HostIoOpenFlags::O_APPEND))
            .truncate(flags.contains(HostIoOpenFlags::O_TRUNC))
            .mode(mode.bits() & 0o777);
        if flags.contains(HostIoOpenFlags::O_CREAT) {
            if flags.contains(HostIoOpenFlags::O_EXCL) {
                options.create_new(true);
            } else {
                options.create(true);
            }
        }
        let file = options.open(OsStr::from_bytes(filename)).map_err(errno_of)?;
        let fd = (0..).find(|fd| !self.files.contains_key(fd)).expect("fewer than u32::MAX files");
        self.files.insert(fd, file);
        Ok(fd)
    }
}

impl HostIoClose for ServerTarget {
    fn close(&mut self, fd: u32) -> HostIoResult<(), Self> {
        self.files.remove(&fd).map(|_| ()).ok_or(HostIoError::Errno(HostIoErrno::EBADF))
    }
}

impl HostIoPread for ServerTarget {
    fn pread(&mut self, fd: u32, count: usize, offset: u64, buf: &mut [u8]) -> HostIoResult<usize, Self> {
        let file = self.files.get(&fd).ok_or(HostIoError::Errno(HostIoErrno::EBADF))?;
        let n = count.min(buf.len());
        file.read_at(&mut buf[..n], offset).map_err(errno_of)
    }
}

impl HostIoFstat for ServerTarget {
    fn fstat(&mut self, fd: u32) -> HostIoResult<HostIoStat, Self> {
        let file = self.files.get(&fd).ok_or(HostIoError::Errno(HostIoErrno::EBADF))?;
        let m = file.metadata().map_err(errno_of)?;
        Ok(HostIoStat {
            st_dev: m.dev() as u32,
            st_ino: m.ino() as u32,
            st_mode: HostIoOpenMode::from_bits_truncate(m.mode()),
            st_nlink: m.nlink() as u32,
            st_uid: m.uid(),
            st_gid: m.gid(),
            st_rdev: m.rdev() as u32,
            st_size: m.size(),
            st_blksize: m.blksize(),
            st_blocks: m.blocks(),
            st_atime: m.atime() as u32,
            st_mtime: m.mtime() as u32,
            st_ctime: m.ctime() as u32,
        })
    }
}

impl HostIoReadlink for ServerTarget {
    fn readlink(&mut self, filename: &[u8], buf: &mut [u8]) -> HostIoResult<usize, Self> {
        let target = std::fs::read_link(OsStr::from_bytes(filename)).map_err(errno_of)?;
        let bytes = target.as_os_str().as_bytes();
        let n = bytes.len().min(buf.len());
        buf[..n].copy_from_slice(&bytes[..n]);
        Ok(n)
    }
}

impl HostIoSetfs for ServerTarget {
    /// The debugged processes share the server's file system view.
    fn setfs(&mut self, _fs: FsKind) -> HostIoResult<(), Self> {
        Ok(())
    }
}
