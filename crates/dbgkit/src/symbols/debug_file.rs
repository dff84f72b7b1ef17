//! Finding a module's separate debug file: by build-id, then by
//! `.gnu_debuglink` (with its CRC checked), in the standard places and in
//! the directories the user adds.

use object::{Object, ObjectSection};
use std::path::{Path, PathBuf};

/// The directories searched, in order: the user's first, then `/usr/lib/debug`.
#[derive(Clone, Debug)]
pub struct DebugSearchPath {
    pub roots: Vec<PathBuf>,
}

impl Default for DebugSearchPath {
    fn default() -> Self {
        DebugSearchPath { roots: vec![PathBuf::from("/usr/lib/debug")] }
    }
}

impl DebugSearchPath {
    /// Adds a directory searched before the others (it may hold a `.build-id` tree).
    pub fn add(&mut self, dir: impl Into<PathBuf>) {
        self.roots.insert(0, dir.into());
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The separate debug file of `path` (whose bytes are `file`), if one is found.
pub fn find_debug_file(path: &Path, file: &object::File<'_>, search: &DebugSearchPath) -> Option<PathBuf> {
    if let Ok(Some(id)) = file.build_id() {
        if id.len() >= 2 {
            let (first, rest) = id.split_at(1);
            for root in &search.roots {
                let candidate = root.join(".build-id").join(hex(first)).join(format!("{}.debug", hex(rest)));
                if candidate.is_file() {
                    return Some(candidate);
                }
            }
        }
    }
    let (name, crc) = debuglink(file)?;
    let dir = path.parent().unwrap_or(Path::new("/"));
    let mut candidates = vec![dir.join(&name), dir.join(".debug").join(&name)];
    for root in &search.roots {
        candidates.push(root.join(dir.strip_prefix("/").unwrap_or(dir)).join(&name));
        candidates.push(root.join(&name));
    }
    candidates.into_iter().find(|c| c.is_file() && c != path && file_crc(c) == Some(crc))
}

/// The `.gnu_debuglink` section: a file name and the CRC-32 of that file.
fn debuglink(file: &object::File<'_>) -> Option<(String, u32)> {
    let data = file.section_by_name(".gnu_debuglink")?.data().ok()?;
    let end = data.iter().position(|&b| b == 0)?;
    let name = std::str::from_utf8(&data[..end]).ok()?.to_string();
    let crc_at = (end + 4) & !3;
    let crc = u32::from_le_bytes(data.get(crc_at..crc_at + 4)?.try_into().ok()?);
    Some((name, crc))
}

fn file_crc(path: &Path) -> Option<u32> {
    let data = std::fs::read(path).ok()?;
    Some(crc32fast::hash(&data))
}
