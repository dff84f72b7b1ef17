//! The text of `/proc/PID/maps`: a Linux process's memory map, read on
//! this machine or through a remote stub.

use crate::target::MemoryRegion;

/// Parses the text of a `/proc/PID/maps` file (read here or by a remote stub).
pub(crate) fn parse_maps(text: &str) -> Vec<MemoryRegion> {
    text.lines().filter_map(parse_line).collect()
}

fn parse_line(line: &str) -> Option<MemoryRegion> {
    let mut fields = line.splitn(6, ' ');
    let range = fields.next()?;
    let perms = fields.next()?.as_bytes();
    let offset = u64::from_str_radix(fields.next()?, 16).ok()?;
    let _device = fields.next()?;
    let _inode = fields.next()?;
    let path = fields.next().unwrap_or("").trim_start().to_string();
    let (start, end) = range.split_once('-')?;
    if perms.len() < 4 {
        return None;
    }
    Some(MemoryRegion {
        start: u64::from_str_radix(start, 16).ok()?,
        end: u64::from_str_radix(end, 16).ok()?,
        readable: perms[0] == b'r',
        writable: perms[1] == b'w',
        executable: perms[2] == b'x',
        shared: perms[3] == b's',
        offset,
        path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_file_and_anonymous_lines() {
        let r = parse_line("7f0000000000-7f0000001000 r-xp 00002000 08:01 1234          /usr/lib/libc.so.6").unwrap();
        assert_eq!((r.start, r.end, r.offset), (0x7f0000000000, 0x7f0000001000, 0x2000));
        assert_eq!(r.permissions(), "r-xp");
        assert_eq!(r.path, "/usr/lib/libc.so.6");
        let anon = parse_line("7f0000001000-7f0000002000 rw-p 00000000 00:00 0 ").unwrap();
        assert_eq!(anon.path, "");
        assert!(anon.writable && !anon.executable);
    }
}
