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
const MAX_ENTRIES: usize = 65536;
const MAX_NAMESPACES: usize = 256;

/// One entry of a `link_map` list: one loaded object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkMapEntry {
    /// The entry's own address (what gdb's remote protocol calls `lm`).
    pub lm: u64,
    /// `l_addr`: the object's load bias.
    pub bias: u64,
    /// `l_name`, empty for the main program.
    pub name: String,
    /// `l_ld`: the address of its dynamic section.
    pub dynamic: u64,
}

/// One link-map namespace: the default one, or one `dlmopen` made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkMapNamespace {
    /// The address of the namespace's `r_debug` (gdb's `lmid`).
    pub r_debug: u64,
    pub entries: Vec<LinkMapEntry>,
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

/// Every namespace's objects, one list: the default namespace first.
pub(crate) fn link_map(target: &dyn Target, r_debug: u64) -> Result<Vec<LinkMapEntry>> {
    Ok(namespaces(target, r_debug)?.into_iter().flat_map(|n| n.entries).collect())
}

/// Every link-map namespace: the default one (at `r_debug`, which must be
/// readable) first, then those `dlmopen` made, chained through
/// `r_debug_extended.r_next` (glibc 2.35 on, `r_version` 2). A namespace
/// that cannot be read ends the walk.
pub(crate) fn namespaces(target: &dyn Target, r_debug: u64) -> Result<Vec<LinkMapNamespace>> {
    let first = target.read_u64(r_debug + R_MAP)?;
    let mut namespaces = vec![LinkMapNamespace { r_debug, entries: entries_from(target, first, 0)? }];
    let mut namespace = r_debug;
    while namespaces.len() < MAX_NAMESPACES {
        let version = target.read_u64(namespace).map(|word| word as u32).unwrap_or(0);
        namespace = if version >= 2 { target.read_u64(namespace + R_NEXT).unwrap_or(0) } else { 0 };
        let Some(first) = (namespace != 0).then(|| target.read_u64(namespace + R_MAP).ok()).flatten() else {
            break;
        };
        let Ok(entries) = entries_from(target, first, 0) else { break };
        namespaces.push(LinkMapNamespace { r_debug: namespace, entries });
    }
    Ok(namespaces)
}

/// The entries from the one at `lm` on; `prev` must be its `l_prev`. The
/// list is cut at an entry that does not link back (a stale `lm`); an
/// entry that cannot be read is an error.
pub(crate) fn entries_from(target: &dyn Target, mut lm: u64, mut prev: u64) -> Result<Vec<LinkMapEntry>> {
    let mut entries = Vec::new();
    while lm != 0 && entries.len() < MAX_ENTRIES {
        let mut raw = [0u8; 40];
        target.read_exact(lm, &mut raw)?;
        let word = |i: usize| u64::from_le_bytes(raw[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
        if word(4) != prev {
            break;
        }
        let name = if word(1) == 0 { String::new() } else { target.read_c_string(word(1), 4096) };
        entries.push(LinkMapEntry { lm, bias: word(0), name, dynamic: word(2) });
        prev = lm;
        lm = word(3);
    }
    Ok(entries)
}
