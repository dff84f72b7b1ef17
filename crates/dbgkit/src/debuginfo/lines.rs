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
    /// 0 when the row has no column (a wider column is kept as 65535).
    pub column: u16,
    pub is_stmt: bool,
    pub prologue_end: bool,
    /// Which block of the line the code is in (0: the only one; a larger
    /// one than 65535 is kept as 65535). 16 bits, so that a row takes 24
    /// bytes: a big program's line tables have millions of rows.
    pub discriminator: u16,
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
    /// The code of each row with a line, sorted by address, made on the
    /// first address lookup.
    by_address: std::cell::OnceCell<Vec<RowSpan>>,
}

/// The code a row covers: from its address to the next row at a higher
/// address (found again when needed: one span per row is kept, so it stays small).
#[derive(Clone, Copy, Debug)]
struct RowSpan {
    start: u64,
    row: u32,
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
    let name = module.dwarf().attr_string(&unit.unit, file.path_name()).ok()?;
    let name = gimli::Reader::to_string_lossy(&name).ok()?.into_owned();
    // Directory 0 is the compilation directory (DWARF 5; in earlier versions it means "none").
    let in_comp_dir = file.directory_index() == 0;
    if name.starts_with('/') || in_comp_dir {
        return Some(name);
    }
    let dir = module.dwarf().attr_string(&unit.unit, file.directory(header)?).ok()?;
    let dir = gimli::Reader::to_string_lossy(&dir).ok()?.into_owned();
    Some(format!("{}/{name}", dir.trim_end_matches('/')))
}

/// The full path of file `index` of a unit's line table (a `DW_AT_call_file`).
pub(crate) fn unit_file(module: &ModuleDebugInfo, unit: &UnitData, index: u64) -> Option<String> {
    let program = unit.unit.line_program.as_ref()?;
    file_path(module.dwarf(), &unit.unit, program.header(), index)
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
                let path = file_path(module.dwarf(), &unit.unit, header, index).unwrap_or_else(|| "??".into());
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
            column: match row.column() {
                gimli::ColumnType::Column(c) => u16::try_from(c.get()).unwrap_or(u16::MAX),
                gimli::ColumnType::LeftEdge => 0,
            },
            is_stmt: row.is_stmt(),
            prologue_end: row.prologue_end(),
            discriminator: u16::try_from(row.discriminator()).unwrap_or(u16::MAX),
            end_sequence: row.end_sequence(),
        });
        if lines.rows.len() > 50_000_000 {
            break;
        }
    }
    lines
}

type Slice<'a> = gimli::EndianSlice<'a, gimli::RunTimeEndian>;

/// The sections a line program's header refers to, read alone.
pub(crate) struct LineSections<'a> {
    pub line: gimli::DebugLine<Slice<'a>>,
    pub line_str: gimli::DebugLineStr<Slice<'a>>,
    pub str: gimli::DebugStr<Slice<'a>>,
}

/// A string of a line-program header (inline, or in `.debug_line_str` /
/// `.debug_str`), read without its unit.
fn header_string(sections: &LineSections<'_>, value: gimli::AttributeValue<Slice<'_>>) -> Option<String> {
    let raw = match value {
        gimli::AttributeValue::String(s) => s,
        gimli::AttributeValue::DebugLineStrRef(offset) => sections.line_str.get_str(offset).ok()?,
        gimli::AttributeValue::DebugStrRef(offset) => sections.str.get_str(offset).ok()?,
        _ => return None,
    };
    Some(String::from_utf8_lossy(raw.slice()).into_owned())
}

/// The path of file `index` of a line program, from the header alone
/// (relative to the compilation directory when the header is).
fn header_file_path(
    sections: &LineSections<'_>,
    header: &gimli::LineProgramHeader<Slice<'_>>,
    index: u64,
) -> Option<String> {
    let file = header.file(index)?;
    let name = header_string(sections, file.path_name())?;
    if name.starts_with('/') {
        return Some(name);
    }
    match file.directory(header).and_then(|d| header_string(sections, d)) {
        Some(dir) if !dir.is_empty() => Some(format!("{}/{name}", dir.trim_end_matches('/'))),
        _ => Some(name),
    }
}

/// The statement rows of files matching `file`, found by reading the line
/// programs directly (no compilation unit is parsed, and no other section
/// than `.debug_line` and its strings is read); and whether any program
/// names the file at all. A row that goes on with the previous row's line
/// is left out: it adds no place of its own.
pub(crate) fn scan_line_programs(module: &ModuleDebugInfo, file: &str) -> (Vec<LineRow>, bool) {
    let sections = module.line_sections();
    let section_len = gimli::Section::reader(&sections.line).len();
    let mut rows = Vec::new();
    let mut named = false;
    let mut offset = 0usize;
    while offset < section_len {
        let Ok(program) = sections.line.program(gimli::DebugLineOffset(offset), 8, None, None) else { break };
        let header = program.header();
        let length = header.unit_length() + if header.format() == gimli::Format::Dwarf64 { 12 } else { 4 };
        let first = if header.version() >= 5 { 0 } else { 1 };
        let count = header.file_names().len() as u64;
        let matching: Vec<u64> = (first..first + count)
            .filter(|&i| header_file_path(&sections, header, i).is_some_and(|p| file_matches(&p, file)))
            .collect();
        if !matching.is_empty() {
            named = true;
            let mut program_rows = program.rows();
            let mut previous: Option<(u64, u64)> = None;
            while let Ok(Some((_, row))) = program_rows.next_row() {
                let this = (row.file_index(), row.line().map(|l| l.get()).unwrap_or(0));
                if row.end_sequence() {
                    previous = None;
                    continue;
                }
                if !row.is_stmt() {
                    continue;
                }
                let continues = previous == Some(this);
                previous = Some(this);
                if continues || !matching.contains(&row.file_index()) {
                    continue;
                }
                let Some(line) = row.line() else { continue };
                rows.push(LineRow {
                    address: row.address(),
                    file: 0,
                    line: line.get() as u32,
                    column: 0,
                    is_stmt: true,
                    prologue_end: row.prologue_end(),
                    discriminator: 0,
                    end_sequence: false,
                });
            }
        }
        if length == 0 {
            break;
        }
        offset += length;
    }
    (rows, named)
}

impl UnitLines {
    /// The row whose code holds a file address, and where that code ends
    /// (the next row at a higher address), when the row has a line. Of
    /// several rows at one address, the last one gives the line.
    pub fn row_at(&self, address: u64) -> Option<(&LineRow, u64)> {
        self.covering(address).filter(|(row, _)| row.line != 0)
    }

    /// The row whose code holds a file address, line 0 included.
    pub fn covering(&self, address: u64) -> Option<(&LineRow, u64)> {
        let spans = self.spans();
        let after = spans.partition_point(|s| s.start <= address);
        // Spans overlap only where sequences do (code discarded at link
        // time, all at address 0): look back a little for one that holds it.
        spans[..after]
            .iter()
            .rev()
            .take(64)
            .map(|s| (&self.rows[s.row as usize], self.span_end(s)))
            .find(|&(_, end)| address < end)
    }

    /// The rows whose code overlaps `[start, end)`, in address order, each
    /// with where its code ends; of several rows at one address, the last.
    pub fn rows_between(&self, start: u64, end: u64) -> Vec<(&LineRow, u64)> {
        let spans = self.spans();
        let mut first = spans.partition_point(|s| s.start <= start);
        // The rows holding `start` begin at or before it.
        while first > 0 && self.span_end(&spans[first - 1]) > start {
            first -= 1;
        }
        let mut out: Vec<(&LineRow, u64)> = Vec::new();
        for span in spans[first..].iter().take_while(|s| s.start < end) {
            let span_end = self.span_end(span);
            if span_end <= start {
                continue;
            }
            let row = &self.rows[span.row as usize];
            match out.last_mut() {
                Some(last) if last.0.address == row.address => *last = (row, span_end),
                _ => out.push((row, span_end)),
            }
        }
        out
    }

    fn spans(&self) -> &[RowSpan] {
        self.by_address.get_or_init(|| self.row_spans())
    }

    /// Where a span's code ends: the next row of its sequence at a higher address.
    fn span_end(&self, span: &RowSpan) -> u64 {
        let after = &self.rows[span.row as usize + 1..];
        after.iter().find(|r| r.address > span.start).map_or(span.start, |r| r.address)
    }

    fn row_spans(&self) -> Vec<RowSpan> {
        let mut spans = Vec::new();
        for (i, row) in self.rows.iter().enumerate() {
            // A row is only kept when code follows it in its sequence.
            let ends = self.rows[i + 1..].iter().any(|r| r.address > row.address);
            if !row.end_sequence && ends {
                spans.push(RowSpan { start: row.address, row: i as u32 });
            }
        }
        // Rows at one address keep their order, so the last of them is found first.
        spans.sort_unstable_by_key(|s| (s.start, s.row));
        spans
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(address: u64, line: u32) -> LineRow {
        LineRow {
            address,
            file: 0,
            line,
            column: 0,
            is_stmt: true,
            prologue_end: false,
            discriminator: 0,
            end_sequence: false,
        }
    }

    #[test]
    fn rows_cover_addresses_up_to_the_next_row() {
        let lines = UnitLines {
            rows: vec![row(0x100, 10), row(0x108, 12), row(0x110, 13), LineRow { end_sequence: true, ..row(0x120, 0) }],
            files: vec!["/src/a.c".into()],
            written: vec!["a.c".into()],
            ..Default::default()
        };
        assert_eq!(lines.row_at(0x10a).map(|(r, end)| (r.line, end)), Some((12, 0x110)));
        assert_eq!(lines.row_at(0x11f).map(|(r, end)| (r.line, end)), Some((13, 0x120)));
        assert_eq!(lines.row_at(0x120), None);
        let between: Vec<(u32, u64)> = lines.rows_between(0x104, 0x111).iter().map(|(r, end)| (r.line, *end)).collect();
        assert_eq!(between, vec![(10, 0x108), (12, 0x110), (13, 0x120)]);
    }

    #[test]
    fn file_names_match_whole_components() {
        assert!(file_matches("/work/tests/fixtures/types.c", "types.c"));
        assert!(file_matches("/work/tests/fixtures/types.c", "fixtures/types.c"));
        assert!(!file_matches("/work/tests/fixtures/mytypes.c", "types.c"));
        assert!(file_matches("types.c", "types.c"));
    }
}
