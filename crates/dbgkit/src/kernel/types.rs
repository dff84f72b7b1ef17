//! The structure layouts the debugger reads the kernel's lists with
//! (`task_struct`, `module`), from `vmlinux`'s DWARF with gimli. Compile
//! units are read one at a time from the file (its `.debug_info` is
//! hundreds of megabytes) until both structures are found; anonymous
//! members are looked into, as C lets code name their fields directly.

use gimli::{constants, AttributeValue, EndianSlice, LittleEndian, UnitOffset};
use object::{Object, ObjectSection};
use std::os::unix::fs::FileExt;
use std::path::Path;

type Reader<'a> = EndianSlice<'a, LittleEndian>;
type Unit<'a> = gimli::Unit<Reader<'a>>;

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
    let string_offsets = section(".debug_str_offsets");
    let mut task = None;
    let mut module = None;
    let mut at = 0u64;
    for _ in 0..MAX_UNITS {
        if at >= info_size || (task.is_some() && module.is_some()) {
            break;
        }
        let mut length = [0u8; 12];
        file.read_exact_at(&mut length[..4], info_start + at).map_err(|e| e.to_string())?;
        let short = u32::from_le_bytes(length[..4].try_into().expect("4 bytes")) as u64;
        let total = if short == 0xffff_ffff {
            file.read_exact_at(&mut length[4..], info_start + at + 4).map_err(|e| e.to_string())?;
            12 + u64::from_le_bytes(length[4..].try_into().expect("8 bytes"))
        } else {
            4 + short
        };
        if total > info_size - at {
            return Err(format!("a compile unit at {at:#x} runs past .debug_info"));
        }
        let mut unit_bytes = vec![0u8; total as usize];
        file.read_exact_at(&mut unit_bytes, info_start + at).map_err(|e| e.to_string())?;
        at += total;
        let dwarf = gimli::Dwarf::load(|id| -> Result<Reader<'_>, gimli::Error> {
            let data: &[u8] = match id {
                gimli::SectionId::DebugInfo => &unit_bytes,
                gimli::SectionId::DebugAbbrev => &abbrev,
                gimli::SectionId::DebugStr => &strings,
                gimli::SectionId::DebugLineStr => &line_strings,
                gimli::SectionId::DebugStrOffsets => &string_offsets,
                _ => &[],
            };
            Ok(EndianSlice::new(data, LittleEndian))
        })
        .map_err(|e| e.to_string())?;
        let Some(header) = dwarf.units().next().map_err(|e| e.to_string())? else { continue };
        let Ok(unit) = dwarf.unit(header) else { continue };
        for (name, offset) in structures(&dwarf, &unit, &["task_struct", "module"]) {
            match name {
                "task_struct" if task.is_none() => task = task_offsets(&dwarf, &unit, offset),
                "module" if module.is_none() => module = module_offsets(&dwarf, &unit, offset),
                _ => {}
            }
        }
    }
    let task = task.ok_or("no definition of struct task_struct (with tasks, pid, tgid, comm) in the DWARF")?;
    Ok(KernelTypes { task, module })
}

/// The defining entries of the named structures among a unit's top-level entries.
fn structures(
    dwarf: &gimli::Dwarf<Reader<'_>>,
    unit: &Unit<'_>,
    names: &[&'static str],
) -> Vec<(&'static str, UnitOffset)> {
    let mut out = Vec::new();
    let Ok(mut tree) = unit.entries_tree(None) else { return out };
    let Ok(root) = tree.root() else { return out };
    let mut children = root.children();
    while let Ok(Some(child)) = children.next() {
        let e = child.entry();
        if e.tag() != constants::DW_TAG_structure_type || e.attr(constants::DW_AT_declaration).ok().flatten().is_some()
        {
            continue;
        }
        let Some(name) = name_of(dwarf, unit, e) else { continue };
        if let Some(&wanted) = names.iter().find(|&&n| n == name) {
            if e.has_children() {
                out.push((wanted, e.offset()));
            }
        }
    }
    out
}

fn name_of(
    dwarf: &gimli::Dwarf<Reader<'_>>,
    unit: &Unit<'_>,
    e: &gimli::DebuggingInformationEntry<Reader<'_>>,
) -> Option<String> {
    let value = e.attr_value(constants::DW_AT_name).ok()??;
    let s = dwarf.attr_string(unit, value).ok()?;
    Some(s.to_string_lossy().into_owned())
}

fn type_of(e: &gimli::DebuggingInformationEntry<Reader<'_>>) -> Option<UnitOffset> {
    match e.attr_value(constants::DW_AT_type).ok()?? {
        AttributeValue::UnitRef(offset) => Some(offset),
        _ => None,
    }
}

/// Follows typedefs and qualifiers to the type they name.
fn strip(unit: &Unit<'_>, mut offset: UnitOffset) -> Option<UnitOffset> {
    for _ in 0..16 {
        let e = unit.entry(offset).ok()?;
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
fn member(
    dwarf: &gimli::Dwarf<Reader<'_>>,
    unit: &Unit<'_>,
    structure: UnitOffset,
    name: &str,
) -> Option<(u64, Option<UnitOffset>)> {
    let mut tree = unit.entries_tree(Some(structure)).ok()?;
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
        match name_of(dwarf, unit, e) {
            Some(n) if n == name => return Some((offset, ty)),
            None => {
                let inner = ty.and_then(|t| strip(unit, t));
                if let Some((o, t)) = inner.and_then(|inner| member(dwarf, unit, inner, name)) {
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
fn path(
    dwarf: &gimli::Dwarf<Reader<'_>>,
    unit: &Unit<'_>,
    structure: UnitOffset,
    dotted: &str,
) -> Option<(u64, Option<UnitOffset>)> {
    let mut current = structure;
    let mut total = 0;
    let mut ty = None;
    for (i, part) in dotted.split('.').enumerate() {
        if i > 0 {
            let mut t = strip(unit, ty?)?;
            if unit.entry(t).ok()?.tag() == constants::DW_TAG_array_type {
                t = strip(unit, type_of(&unit.entry(t).ok()?)?)?;
            }
            current = t;
        }
        let (offset, next) = member(dwarf, unit, current, part)?;
        total += offset;
        ty = next;
    }
    Some((total, ty))
}

/// The element count of an array type.
fn array_len(unit: &Unit<'_>, ty: Option<UnitOffset>) -> Option<u64> {
    let t = strip(unit, ty?)?;
    let mut tree = unit.entries_tree(Some(t)).ok()?;
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

fn task_offsets(dwarf: &gimli::Dwarf<Reader<'_>>, unit: &Unit<'_>, s: UnitOffset) -> Option<TaskOffsets> {
    let (comm, comm_type) = path(dwarf, unit, s, "comm")?;
    Some(TaskOffsets {
        tasks: path(dwarf, unit, s, "tasks")?.0,
        pid: path(dwarf, unit, s, "pid")?.0,
        tgid: path(dwarf, unit, s, "tgid")?.0,
        comm,
        comm_len: array_len(unit, comm_type).unwrap_or(16),
        real_parent: path(dwarf, unit, s, "real_parent").map(|p| p.0),
        mm: path(dwarf, unit, s, "mm").map(|p| p.0),
    })
}

fn module_offsets(dwarf: &gimli::Dwarf<Reader<'_>>, unit: &Unit<'_>, s: UnitOffset) -> Option<ModuleOffsets> {
    let (name, name_type) = path(dwarf, unit, s, "name")?;
    let (base, size) = match (path(dwarf, unit, s, "core_layout.base"), path(dwarf, unit, s, "core_layout.size")) {
        (Some(b), Some(z)) => (b.0, z.0),
        // Linux 6.4 and later: mem[MOD_TEXT] (the first) holds the text.
        _ => (path(dwarf, unit, s, "mem.base")?.0, path(dwarf, unit, s, "mem.size")?.0),
    };
    Some(ModuleOffsets {
        list: path(dwarf, unit, s, "list")?.0,
        name,
        name_len: array_len(unit, name_type).unwrap_or(56),
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
