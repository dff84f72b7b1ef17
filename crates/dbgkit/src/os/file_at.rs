//! Reading a file at an offset (`pread`), on every system the engine
//! builds for: core files and debug information are read this way, a piece
//! at a time. (On Windows the read moves the file's cursor; nothing here
//! uses the cursor.)

use std::fs::File;
use std::io;

/// Reads at most `buf.len()` bytes at `offset`; the count read (0 at the end).
pub(crate) fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    #[cfg(unix)]
    return std::os::unix::fs::FileExt::read_at(file, buf, offset);
    #[cfg(windows)]
    return std::os::windows::fs::FileExt::seek_read(file, buf, offset);
}

/// Reads all of `buf` at `offset`, or fails (`UnexpectedEof` past the end).
pub(crate) fn read_exact_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
    while !buf.is_empty() {
        match read_at(file, buf, offset) {
            Ok(0) => return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the file ends first")),
            Ok(n) => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_where_asked_and_says_when_the_file_ends() {
        let path = std::env::temp_dir().join(format!("dbgkit-file-at-{}", std::process::id()));
        std::fs::write(&path, b"0123456789").unwrap();
        let file = std::fs::File::open(&path).unwrap();
        let mut buf = [0u8; 4];
        super::read_exact_at(&file, &mut buf, 3).unwrap();
        assert_eq!(&buf, b"3456");
        assert_eq!(super::read_at(&file, &mut buf, 8).unwrap(), 2);
        let end = super::read_exact_at(&file, &mut buf, 8).unwrap_err();
        assert_eq!(end.kind(), std::io::ErrorKind::UnexpectedEof);
        std::fs::remove_file(&path).unwrap();
    }
}
