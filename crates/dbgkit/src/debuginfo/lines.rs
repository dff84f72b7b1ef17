//! Line tables, read one compilation unit at a time: where each source
//! line's code is, where a function's prologue ends (gdb's rule), which
//! lines of a file have code.

use super::units::{ModuleDebugInfo, Reader, UnitData};
use std::collections::HashMap;

/// One row of a line table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LineRow {
    /// A file address.
    pub address: u64,
    /// Index into [`UnitLines::files`].
    pub file: u32,
    /// 0 when the row has no line.
    pub line: u32,
    pub is_stmt: bool,
    pub prologue_end: bool,
    /// The row ends a sequence: its address is one past the sequence's code.
    pub end_sequence: bool,
}

/// A unit's line table, in program order (sequences one after another).
#[derive(Debug, Default)]
pub(crate) struct UnitLines {
    pub rows: Vec<LineRow>,
    /// Full paths of the files the rows name.
    pub files: Vec<String>,
    /// The same files as the line table writes them (`types.c`, `../x/y.h`).
    pub written: Vec<String>,
}

/// Whether a file of a line table is the one a user named: the same path,
/// or a path ending with `/` and the name (`types.c`, `fixtures/types.c`).
pub(crate) fn file_matches(path: &str, wanted: &str) -> bool {
    path == wanted
        || (path.len() > wanted.len() && path.ends_with(wanted) && path[..path.len() - wanted.len()].ends_with('/'))
}

/// The full path of file `index` of a line program.
pub(crate) fn file_path<R: gimli::Reader>(
    dwarf: &gimli::Dwarf<R>,
    unit: &gimli::Unit<R>,
    header: &gimli::LineProgramHeader<R>,
    index: u64,
) -> Option<String> {
    let file = header.file(index)?;
    let name = dwarf.attr_string(unit, file.path_name()).ok()?.to_string_lossy().ok()?.into_owned();
    if name.starts_with('/') {
        return Some(name);
    }
    let mut path = String::new();
    if let Some(dir) = file.directory(header) {
        if let Ok(dir) = dwarf.attr_string(unit, dir) {
            path = dir.to_string_lossy().ok()?.into_owned();
        }
    }
    if !path.starts_with('/') {
        // A relative directory is relative to the compilation directory.
        if let Some(comp_dir) = &unit.comp_dir {
            let comp_dir = comp_dir.to_string_lossy().ok()?.into_owned();
            path = if path.is_empty() { comp_dir } else { format!("{comp_dir}/{path}") };
        }
    }
    if path.is_empty() {
        Some(name)
    } else {
        Some(format!("{}/{name}", path.trim_end_matches('/')))
    }
}

/// A file's name as gdb writes it: the name itself when it is absolute or
/// in the compilation directory (directory 0), else its directory and name.
fn written_name(
    module: &ModuleDebugInfo,
    unit: &UnitData,
    header: &gimli::LineProgramHeader<Reader>,
    index: u64,
) -> Option<String> {
    let file = header.file(index)?;
    let name = module.dwarf.attr_string(&unit.unit, file.path_name()).ok()?;
    let name = gimli::Reader::to_string_lossy(&name).ok()?.into_owned();
    // Directory 0 is the compilation directory (DWARF 5; in earlier versions it means "none").
    let in_comp_dir = file.directory_index() == 0;
    if name.starts_with('/') || in_comp_dir {
        return Some(name);
    }
    let dir = module.dwarf.attr_string(&unit.unit, file.directory(header)?).ok()?;
    let dir = gimli::Reader::to_string_lossy(&dir).ok()?.into_owned();
    Some(format!("{}/{name}", dir.trim_end_matches('/')))
}

/// Reads a unit's whole line table.
pub(crate) fn read_lines(module: &ModuleDebugInfo, unit: &UnitData) -> UnitLines {
    let mut lines = UnitLines::default();
    let Some(program) = unit.unit.line_program.clone() else { return lines };
    let mut file_slots: HashMap<u64, u32> = HashMap::new();
    let mut rows = program.rows();
    while let Ok(Some((header, row))) = rows.next_row() {
        let index = row.file_index();
        let slot = match file_slots.get(&index) {
            Some(&s) => s,
            None => {
                let path = file_path(&module.dwarf, &unit.unit, header, index).unwrap_or_else(|| "??".into());
                let written = written_name(module, unit, header, index).unwrap_or_else(|| path.clone());
                lines.files.push(path);
                lines.written.push(written);
                let s = lines.files.len() as u32 - 1;
                file_slots.insert(index, s);
                s
            }
        };
        lines.rows.push(LineRow {
            address: row.address(),
            file: slot,
            line: row.line().map(|l| l.get() as u32).unwrap_or(0),
            is_stmt: row.is_stmt(),
            prologue_end: row.prologue_end(),
            end_sequence: row.end_sequence(),
        });
        if lines.rows.len() > 50_000_000 {
            break;
        }
    }
    lines
}

/// Whether a unit's line table names a file matching `wanted`, from its header alone.
pub(crate) fn header_names_file(module: &ModuleDebugInfo, unit: &gimli::Unit<Reader>, wanted: &str) -> bool {
    let Some(program) = &unit.line_program else { return false };
    let header = program.header();
    let count = header.file_names().len() as u64;
    // DWARF 5 numbers files from 0, earlier versions from 1.
    let first = if header.version() >= 5 { 0 } else { 1 };
    (first..first + count).any(|i| file_path(&module.dwarf, unit, header, i).is_some_and(|p| file_matches(&p, wanted)))
}

impl UnitLines {
    /// The row whose code holds a file address, and where that code ends
    /// (the next row at a higher address).
    pub fn row_at(&self, address: u64) -> Option<(&LineRow, u64)> {
        let mut best: Option<(&LineRow, u64)> = None;
        for (i, row) in self.rows.iter().enumerate() {
            if row.end_sequence || row.address > address || row.line == 0 {
                continue;
            }
            let end = self.rows[i + 1..].iter().find(|r| r.address > row.address).map(|r| r.address);
            if let Some(end) = end.filter(|&e| address < e) {
                // Of several rows at one address, the last one gives the line.
                best = Some((row, end));
            }
        }
        best
    }

    /// The lines of `file` that have code.
    pub fn lines_with_code(&self, file: &str) -> impl Iterator<Item = &LineRow> {
        let slots: Vec<u32> =
            self.files.iter().enumerate().filter(|(_, p)| file_matches(p, file)).map(|(i, _)| i as u32).collect();
        self.rows.iter().filter(move |r| !r.end_sequence && r.is_stmt && r.line != 0 && slots.contains(&r.file))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(address: u64, line: u32) -> LineRow {
        LineRow { address, file: 0, line, is_stmt: true, prologue_end: false, end_sequence: false }
    }

    #[test]
    fn rows_cover_addresses_up_to_the_next_row() {
        let lines = UnitLines {
            rows: vec![row(0x100, 10), row(0x108, 12), row(0x110, 13), LineRow { end_sequence: true, ..row(0x120, 0) }],
            files: vec!["/src/a.c".into()],
            written: vec!["a.c".into()],
        };
        assert_eq!(lines.row_at(0x10a).map(|(r, end)| (r.line, end)), Some((12, 0x110)));
        assert_eq!(lines.row_at(0x11f).map(|(r, end)| (r.line, end)), Some((13, 0x120)));
        assert_eq!(lines.row_at(0x120), None);
        assert_eq!(lines.lines_with_code("a.c").count(), 3);
    }

    #[test]
    fn file_names_match_whole_components() {
        assert!(file_matches("/work/tests/fixtures/types.c", "types.c"));
        assert!(file_matches("/work/tests/fixtures/types.c", "fixtures/types.c"));
        assert!(!file_matches("/work/tests/fixtures/mytypes.c", "types.c"));
        assert!(file_matches("types.c", "types.c"));
    }
}
