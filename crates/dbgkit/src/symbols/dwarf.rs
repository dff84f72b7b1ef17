//! DWARF line tables and inline chains of a file, read lazily (one
//! compilation unit at a time, see `debuginfo::places`). Compressed
//! sections (`SHF_COMPRESSED`, `.zdebug_*`) are uncompressed by `object`.

use super::mapped::{Mapping, SectionBytes};
use gimli::RunTimeEndian;
use object::{Object, ObjectSection};
use std::rc::Rc;

/// A source position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceLocation {
    pub file: String,
    /// 0 when the line is not known.
    pub line: u32,
    pub column: Option<u32>,
}

/// One row of a line table: the code from `start` to `end` belongs to one
/// source line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineRow {
    pub start: u64,
    pub end: u64,
    pub location: SourceLocation,
}

/// One function of an inline chain: the innermost first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InlineFrame {
    pub function: Option<String>,
    pub location: Option<SourceLocation>,
}

pub struct DwarfInfo {
    /// The sections, read lazily unit by unit (see `debuginfo::units`).
    pub(crate) debug: Rc<crate::debuginfo::ModuleDebugInfo>,
}

impl std::fmt::Debug for DwarfInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DwarfInfo")
    }
}

impl DwarfInfo {
    /// The DWARF of a file, or `None` when it has none (or it is unreadable).
    /// `mapping` is the mapped file `file` was parsed from, if it was:
    /// its sections are then used in place.
    pub fn load(file: &object::File<'_>, mapping: Option<&Rc<Mapping>>) -> Option<DwarfInfo> {
        file.section_by_name(".debug_info")?;
        let endian = if file.is_little_endian() { RunTimeEndian::Little } else { RunTimeEndian::Big };
        let load = |id: gimli::SectionId| -> Result<SectionBytes, gimli::Error> {
            let Some(section) = file.section_by_name(id.name()) else { return Ok(SectionBytes::empty()) };
            // In a mapped file: used in place, or decompressed when first read.
            if let (Some(mapping), Ok(stored)) = (mapping, section.compressed_data()) {
                if let Some(bytes) = SectionBytes::stored(stored, mapping) {
                    return Ok(bytes);
                }
            }
            Ok(section
                .uncompressed_data()
                .ok()
                .map(|d| SectionBytes::of(d, mapping))
                .unwrap_or_else(SectionBytes::empty))
        };
        let sections = gimli::DwarfSections::load(load).ok()?;
        let mut debug = crate::debuginfo::ModuleDebugInfo::new(sections, endian);
        if let Some(section) = file.section_by_name(".gdb_index") {
            if let Ok(data) = section.uncompressed_data() {
                debug.set_gdb_index(SectionBytes::of(data, mapping));
            }
        }
        let debug = Rc::new(debug);
        Some(DwarfInfo { debug })
    }

    /// The inline chain at a file address, innermost function first.
    pub fn frames(&self, address: u64) -> Vec<InlineFrame> {
        let mut frames = self.debug.inline_chain(address);
        frames.truncate(257);
        frames
    }

    /// The line-table rows overlapping `[start, end)` (in the unit holding
    /// `start`), in address order.
    pub fn rows(&self, start: u64, end: u64) -> Vec<LineRow> {
        let mut rows = self.debug.rows_between(start, end);
        rows.truncate(100_000);
        rows.into_iter().map(|(start, end, location)| LineRow { start, end, location }).collect()
    }

    /// The discriminator of the line-table row covering a file address
    /// (which basic block of a line the code is; what addr2line prints as
    /// `(discriminator N)`), when it is not 0.
    pub fn discriminator(&self, address: u64) -> Option<u32> {
        self.debug.discriminator(address)
    }

    /// The row holding a file address, if the address has line information.
    pub fn row_at(&self, address: u64) -> Option<LineRow> {
        self.rows(address, address.saturating_add(1)).into_iter().find(|r| (r.start..r.end).contains(&address))
    }

    /// Start addresses of the code for `line` of every file whose path ends
    /// with `file` (a whole path component): one per distinct range.
    pub fn addresses_for_line(&self, file: &str, line: u32) -> Vec<u64> {
        self.debug.addresses_for_line(file, line)
    }
}
