//! The dynamic linker's rendezvous structure (`r_debug`) and its list of
//! loaded objects (`link_map`), read from the target's memory.

use crate::error::Result;
use crate::target::Target;
use object::{Object, ObjectSymbol};
use std::path::{Path, PathBuf};

/// `r_debug.r_state` values.
pub(crate) const RT_CONSISTENT: u32 = 0;

/// Offsets in `struct r_debug` (x86_64); `r_next` is in `r_debug_extended`
/// (glibc 2.35 on, `r_version` 2): the next link-map namespace's `r_debug`.
const R_MAP: u64 = 8;
const R_BRK: u64 = 16;
const R_STATE: u64 = 24;
const R_NEXT: u64 = 40;
/// Bounds, so a corrupt list cannot loop forever (glibc has 16 namespaces).
const MAX_ENTRIES: usize = 4096;
const MAX_NAMESPACES: usize = 256;

/// One entry of the `link_map` list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LinkMapEntry {
    pub bias: u64,
    pub name: String,
    pub dynamic: u64,
}

/// Address of the `_r_debug` symbol in a loader file, relative to its load bias.
pub(crate) fn r_debug_offset(loader: &Path) -> Option<u64> {
    let data = crate::symbols::mapped::Mapping::of_file(loader)?;
    let file = object::File::parse(data.bytes()).ok()?;
    let found = file.dynamic_symbols().chain(file.symbols()).find(|s| s.name() == Ok("_r_debug")).map(|s| s.address());
    found
}

/// The program interpreter (`PT_INTERP`) named by an executable, if any.
pub(crate) fn interpreter_of(executable: &Path) -> Option<PathBuf> {
    // Mapped, not read: a large executable's debug sections are never looked at here.
    let data = crate::symbols::mapped::Mapping::of_file(executable)?;
    let file = object::File::parse(data.bytes()).ok()?;
    let section = file.section_by_name(".interp");
    use object::ObjectSection;
    let bytes = section?.data().ok()?;
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    Some(PathBuf::from(String::from_utf8_lossy(&bytes[..end]).into_owned()))
}

pub(crate) fn r_brk(target: &dyn Target, r_debug: u64) -> Result<u64> {
    target.read_u64(r_debug + R_BRK)
}

pub(crate) fn r_state(target: &dyn Target, r_debug: u64) -> Result<u32> {
    Ok(target.read_u64(r_debug + R_STATE)? as u32)
}

/// Walks the `link_map` list of every namespace: the default one first,
/// then those `dlmopen` made, chained through `r_next`. A namespace that
/// cannot be read ends the walk; the default one must be readable.
pub(crate) fn link_map(target: &dyn Target, r_debug: u64) -> Result<Vec<LinkMapEntry>> {
    let mut entries = Vec::new();
    walk_namespace(target, r_debug, &mut entries)?;
    let mut namespace = r_debug;
    for _ in 1..MAX_NAMESPACES {
        let version = target.read_u64(namespace).map(|word| word as u32).unwrap_or(0);
        namespace = if version >= 2 { target.read_u64(namespace + R_NEXT).unwrap_or(0) } else { 0 };
        if namespace == 0 || walk_namespace(target, namespace, &mut entries).is_err() {
            break;
        }
    }
    Ok(entries)
}

/// Appends one namespace's `link_map` entries.
fn walk_namespace(target: &dyn Target, r_debug: u64, entries: &mut Vec<LinkMapEntry>) -> Result<()> {
    let mut node = target.read_u64(r_debug + R_MAP)?;
    while node != 0 && entries.len() < MAX_ENTRIES {
        let mut raw = [0u8; 40];
        target.read_exact(node, &mut raw)?;
        let word = |i: usize| u64::from_le_bytes(raw[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
        let name = target.read_c_string(word(1), 4096);
        entries.push(LinkMapEntry { bias: word(0), name, dynamic: word(2) });
        node = word(3);
    }
    Ok(())
}
