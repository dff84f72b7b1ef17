//! One mapping of a target's address space.

/// One mapping of a process's address space.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoryRegion {
    /// First address of the mapping.
    pub start: u64,
    /// One past the last address.
    pub end: u64,
    pub readable: bool,
    pub writable: bool,
    pub executable: bool,
    pub shared: bool,
    /// Offset of the mapping in its file.
    pub offset: u64,
    /// The file, or a pseudo-name such as `[heap]`, `[stack]`, `[vdso]`; empty for anonymous memory.
    pub path: String,
}

impl MemoryRegion {
    /// Size in bytes.
    pub fn size(&self) -> u64 {
        self.end - self.start
    }

    /// `rwxp`-style permission string, as `/proc/PID/maps` shows it.
    pub fn permissions(&self) -> String {
        let flag = |on: bool, c: char| if on { c } else { '-' };
        [
            flag(self.readable, 'r'),
            flag(self.writable, 'w'),
            flag(self.executable, 'x'),
            if self.shared { 's' } else { 'p' },
        ]
        .iter()
        .collect()
    }
}
