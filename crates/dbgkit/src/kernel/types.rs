//! The structure layouts the debugger reads the kernel's lists with
//! (`task_struct`, `module`), from `vmlinux`'s DWARF with gimli. Compile
//! units are read one at a time from the file (its `.debug_info` is
//! hundreds of megabytes) until both structures are found; anonymous
//! members are looked into, as C lets code name their fields directly.

use gimli::{constants, AttributeValue, EndianSlice, LittleEndian, UnitOffset};
use object::{Object, ObjectSection};
use std::path::Path;

type Reader<'a> = EndianSlice<'a, LittleEndian>;
/// An entry borrowed from a unit (`'u`) of data read from the file (`'a`).
type Entry<'u, 'a> = gimli::DebuggingInformationEntry<'u, 'u, Reader<'a>>;

/// One compile unit, read on its own: its entries and the string tables
/// its names point into (no line table is needed, so none is read).
struct Cu<'a> {
    header: gimli::UnitHeader<Reader<'a>>,
    abbreviations: gimli::Abbreviations,
    strings: gimli::DebugStr<Reader<'a>>,
    line_strings: gimli::DebugLineStr<Reader<'a>>,
}

impl<'a> Cu<'a> {
    fn entry(&self, offset: UnitOffset) -> Option<Entry<'_, 'a>> {
        self.header.entry(&self.abbreviations, offset).ok()
    }

    fn tree(&self, offset: Option<UnitOffset>) -> Option<gimli::EntriesTree<'_, '_, Reader<'a>>> {
        self.header.entries_tree(&self.abbreviations, offset).ok()
    }

    fn name(&self, e: &Entry<'_, 'a>) -> Option<String> {
        let text = match e.attr_value(constants::DW_AT_name).ok()?? {
            AttributeValue::String(s) => s,
            AttributeValue::DebugStrRef(o) => self.strings.get_str(o).ok()?,
            AttributeValue::DebugLineStrRef(o) => self.line_strings.get_str(o).ok()?,
            _ => return None,
        };
        Some(text.to_string_lossy().into_owned())
    }
}

/// Where `task_struct`'s fields are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaskOffsets {
    /// `tasks`: the `list_head` linking every process (thread-group leader).
    pub tasks: u64,
    pub pid: u64,
    pub tgid: u64,
    pub comm: u64,
    pub comm_len: u64,
    /// `real_parent`: a pointer to the parent's `task_struct`.
    pub real_parent: Option<u64>,
    /// `mm`: the address space (0 for kernel threads).
    pub mm: Option<u64>,
}

/// Where `module`'s fields are (6.1's `core_layout`, or 6.4's `mem[0]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModuleOffsets {
    pub list: u64,
    pub name: u64,
    pub name_len: u64,
    /// The module's core text: its base address and size.
    pub base: u64,
    pub size: u64,
}

/// The layouts the debugger needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KernelTypes {
    pub task: TaskOffsets,
    pub module: Option<ModuleOffsets>,
}

/// How many compile units are read at most before giving up.
const MAX_UNITS: usize = 4000;

/// Reads the layouts from `vmlinux`.
pub fn read(vmlinux: &Path) -> Result<KernelTypes, String> {
    let file = std::fs::File::open(vmlinux).map_err(|e| e.to_string())?;
    let cache = object::ReadCache::new(std::fs::File::open(vmlinux).map_err(|e| e.to_string())?);
    let elf = object::File::parse(&cache).map_err(|e| e.to_string())?;
    let section = |name: &str| -> Vec<u8> {
        elf.section_by_name(name).and_then(|s| s.uncompressed_data().ok()).map(|d| d.into_owned()).unwrap_or_default()
    };
    let info = elf.section_by_name(".debug_info").ok_or("no .debug_info: vmlinux without DWARF")?;
    let (info_start, info_size) = info.file_range().ok_or("a compressed or empty .debug_info")?;
    let abbrev = section(".debug_abbrev");
    let strings = section(".debug_str");
    let line_strings = section(".debug_line_str");
    let mut task = None;
    let mut module = None;
    let mut at = 0u64;
    for _ in 0..MAX_UNITS {
        if at >= info_size || (task.is_some() && module.is_some()) {
            break;
        }
        let mut length = [0u8; 12];
        crate::os::file_at::read_exact_at(&file, &mut length[..4], info_start + at).map_err(|e| e.to_string())?;
        let short = u32::from_le_bytes(length[..4].try_into().expect("4 bytes")) as u64;
        let total = if short == 0xffff_ffff {
            crate::os::file_at::read_exact_at(&file, &mut length[4..], info_start + at + 4)
                .map_err(|e| e.to_string())?;
            12 + u64::from_le_bytes(length[4..].try_into().expect("8 bytes"))
        } else {
            4 + short
        };
        if total > info_size - at {
            return Err(format!("a compile unit at {at:#x} runs past .debug_info"));
        }
        let mut unit_bytes = vec![0u8; total as usize];
        crate::os::file_at::read_exact_at(&file, &mut unit_bytes, info_start + at).map_err(|e| e.to_string())?;
        at += total;
        let Ok(Some(header)) = gimli::DebugInfo::new(&unit_bytes, LittleEndian).units().next() else { continue };
        let Ok(abbreviations) = header.abbreviations(&gimli::DebugAbbrev::new(&abbrev, LittleEndian)) else { continue };
        let cu = Cu {
            header,
            abbreviations,
            strings: gimli::DebugStr::new(&strings, LittleEndian),
            line_strings: gimli::DebugLineStr::from(EndianSlice::new(&line_strings, LittleEndian)),
        };
        for (name, offset) in structures(&cu, &["task_struct", "module"]) {
            match name {
                "task_struct" if task.is_none() => task = task_offsets(&cu, offset),
                "module" if module.is_none() => module = module_offsets(&cu, offset),
                _ => {}
            }
        }
    }
    let task = task.ok_or("no definition of struct task_struct (with tasks, pid, tgid, comm) in the DWARF")?;
    Ok(KernelTypes { task, module })
}

/// The defining entries of the named structures among a unit's top-level entries.
fn structures(cu: &Cu<'_>, names: &[&'static str]) -> Vec<(&'static str, UnitOffset)> {
    let mut out = Vec::new();
    let Some(mut tree) = cu.tree(None) else { return out };
    let Ok(root) = tree.root() else { return out };
    let mut children = root.children();
    while let Ok(Some(child)) = children.next() {
        let e = child.entry();
        if e.tag() != constants::DW_TAG_structure_type || e.attr(constants::DW_AT_declaration).ok().flatten().is_some()
        {
            continue;
        }
        let Some(name) = cu.name(e) else { continue };
        if let Some(&wanted) = names.iter().find(|&&n| n == name) {
            if e.has_children() {
                out.push((wanted, e.offset()));
            }
        }
    }
    out
}

fn type_of(e: &Entry<'_, '_>) -> Option<UnitOffset> {
    match e.attr_value(constants::DW_AT_type).ok()?? {
        AttributeValue::UnitRef(offset) => Some(offset),
        _ => None,
    }
}

/// Follows typedefs and qualifiers to the type they name.
fn strip(cu: &Cu<'_>, mut offset: UnitOffset) -> Option<UnitOffset> {
    for _ in 0..16 {
        let e = cu.entry(offset)?;
        match e.tag() {
            constants::DW_TAG_typedef
            | constants::DW_TAG_const_type
            | constants::DW_TAG_volatile_type
            | constants::DW_TAG_restrict_type
            | constants::DW_TAG_atomic_type => offset = type_of(&e)?,
            _ => return Some(offset),
        }
    }
    None
}

/// A member of a structure (looking into anonymous members): its offset and type.
fn member(cu: &Cu<'_>, structure: UnitOffset, name: &str) -> Option<(u64, Option<UnitOffset>)> {
    let mut tree = cu.tree(Some(structure))?;
    let root = tree.root().ok()?;
    let mut children = root.children();
    while let Ok(Some(child)) = children.next() {
        let e = child.entry();
        if e.tag() != constants::DW_TAG_member {
            continue;
        }
        let offset =
            e.attr(constants::DW_AT_data_member_location).ok().flatten().and_then(|a| a.udata_value()).unwrap_or(0);
        let ty = type_of(e);
        match cu.name(e) {
            Some(n) if n == name => return Some((offset, ty)),
            None => {
                let inner = ty.and_then(|t| strip(cu, t));
                if let Some((o, t)) = inner.and_then(|inner| member(cu, inner, name)) {
                    return Some((offset + o, t));
                }
            }
            Some(_) => {}
        }
    }
    None
}

/// The offset of a dotted member path (`core_layout.base`); arrays are
/// entered at their first element.
fn path(cu: &Cu<'_>, structure: UnitOffset, dotted: &str) -> Option<(u64, Option<UnitOffset>)> {
    let mut current = structure;
    let mut total = 0;
    let mut ty = None;
    for (i, part) in dotted.split('.').enumerate() {
        if i > 0 {
            let mut t = strip(cu, ty?)?;
            if cu.entry(t)?.tag() == constants::DW_TAG_array_type {
                t = strip(cu, type_of(&cu.entry(t)?)?)?;
            }
            current = t;
        }
        let (offset, next) = member(cu, current, part)?;
        total += offset;
        ty = next;
    }
    Some((total, ty))
}

/// The element count of an array type.
fn array_len(cu: &Cu<'_>, ty: Option<UnitOffset>) -> Option<u64> {
    let t = strip(cu, ty?)?;
    let mut tree = cu.tree(Some(t))?;
    let root = tree.root().ok()?;
    let mut children = root.children();
    while let Ok(Some(child)) = children.next() {
        let e = child.entry();
        if e.tag() == constants::DW_TAG_subrange_type {
            if let Some(count) = e.attr(constants::DW_AT_count).ok().flatten().and_then(|a| a.udata_value()) {
                return Some(count);
            }
            return e.attr(constants::DW_AT_upper_bound).ok().flatten().and_then(|a| a.udata_value()).map(|u| u + 1);
        }
    }
    None
}

fn task_offsets(cu: &Cu<'_>, s: UnitOffset) -> Option<TaskOffsets> {
    let (comm, comm_type) = path(cu, s, "comm")?;
    Some(TaskOffsets {
        tasks: path(cu, s, "tasks")?.0,
        pid: path(cu, s, "pid")?.0,
        tgid: path(cu, s, "tgid")?.0,
        comm,
        comm_len: array_len(cu, comm_type).unwrap_or(16),
        real_parent: path(cu, s, "real_parent").map(|p| p.0),
        mm: path(cu, s, "mm").map(|p| p.0),
    })
}

fn module_offsets(cu: &Cu<'_>, s: UnitOffset) -> Option<ModuleOffsets> {
    let (name, name_type) = path(cu, s, "name")?;
    let (base, size) = match (path(cu, s, "core_layout.base"), path(cu, s, "core_layout.size")) {
        (Some(b), Some(z)) => (b.0, z.0),
        // Linux 6.4 and later: mem[MOD_TEXT] (the first) holds the text.
        _ => (path(cu, s, "mem.base")?.0, path(cu, s, "mem.size")?.0),
    };
    Some(ModuleOffsets {
        list: path(cu, s, "list")?.0,
        name,
        name_len: array_len(cu, name_type).unwrap_or(56),
        base,
        size,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The layouts of a program built with structures shaped like the
    /// kernel's, compared with what gcc's `offsetof` says.
    #[test]
    fn layouts_match_offsetof() {
        let dir = std::env::temp_dir().join(format!("dbgkit-ktypes-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let source = dir.join("k.c");
        std::fs::write(
            &source,
            r#"#include <stddef.h>
#include <stdio.h>
struct list_head { struct list_head *next, *prev; };
struct module_layout { void *base; unsigned int size; };
struct task_struct { long state; struct { int x; struct list_head tasks; }; int pid; int tgid;
                     struct task_struct *real_parent; void *mm; char comm[16]; };
struct module { int state; struct list_head list; char name[56]; struct module_layout core_layout; };
struct task_struct t; struct module m;
int main(void) { printf("%zu %zu %zu %zu %zu %zu %zu %zu %zu\n", offsetof(struct task_struct, tasks),
  offsetof(struct task_struct, pid), offsetof(struct task_struct, tgid), offsetof(struct task_struct, comm),
  offsetof(struct task_struct, real_parent), offsetof(struct module, list), offsetof(struct module, name),
  offsetof(struct module, core_layout.base), offsetof(struct module, core_layout.size)); return 0; }
"#,
        )
        .unwrap();
        let exe = dir.join("k");
        let built = std::process::Command::new("gcc").arg("-g").arg("-o").arg(&exe).arg(&source).status().unwrap();
        assert!(built.success());
        let out = std::process::Command::new(&exe).output().unwrap();
        let expected: Vec<u64> =
            String::from_utf8(out.stdout).unwrap().split_whitespace().map(|n| n.parse().unwrap()).collect();
        let types = read(&exe).unwrap();
        let m = types.module.unwrap();
        let got = vec![
            types.task.tasks,
            types.task.pid,
            types.task.tgid,
            types.task.comm,
            types.task.real_parent.unwrap(),
            m.list,
            m.name,
            m.base,
            m.size,
        ];
        assert_eq!(got, expected);
        assert_eq!((types.task.comm_len, m.name_len), (16, 56));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
