//! What code is at an address: the function, the functions inlined there
//! (innermost first), the source line, as `addr2line -f -i` names them.
//!
//! Read lazily: the unit holding the address (from `.debug_aranges`), the
//! code ranges of its functions (no names: only the functions asked about
//! are named), its line table; no other unit is touched.

use super::scopes::origin_of;
use super::units::{die_name, ModuleDebugInfo, Reader, UnitData};
use crate::symbols::dwarf::{InlineFrame, SourceLocation};
use gimli::{AttributeValue, DebuggingInformationEntry};

/// A function's name as addr2line gives it: its mangled name (through
/// `DW_AT_specification` and `DW_AT_abstract_origin`) demangled, else its
/// plain name.
fn function_name(module: &ModuleDebugInfo, unit: &UnitData, die: usize) -> Option<String> {
    let mut offset = die;
    let mut plain = None;
    for _ in 0..8 {
        let entry = unit.entry(offset)?;
        let linkage = entry
            .attr_value(gimli::DW_AT_linkage_name)
            .ok()
            .flatten()
            .or_else(|| entry.attr_value(gimli::DW_AT_MIPS_linkage_name).ok().flatten());
        if let Some(value) = linkage {
            if let Ok(raw) = module.dwarf().attr_string(&unit.unit, value) {
                if let Ok(text) = gimli::Reader::to_string_lossy(&raw) {
                    return Some(crate::symbols::demangle::demangle(&text));
                }
            }
        }
        if plain.is_none() {
            plain = die_name(module.dwarf(), &unit.unit, &entry);
        }
        match origin_of(unit, &entry) {
            Some(next) => offset = next,
            None => break,
        }
    }
    plain
}

/// Where an inlined copy was called from.
struct CallSite {
    name: Option<String>,
    file: Option<String>,
    line: u32,
    column: Option<u32>,
}

fn call_site(
    module: &ModuleDebugInfo,
    unit: &UnitData,
    entry: &DebuggingInformationEntry<'_, '_, Reader>,
    die: usize,
) -> CallSite {
    let number = |attr| entry.attr_value(attr).ok().flatten().as_ref().and_then(super::type_reader::udata);
    let file = match entry.attr_value(gimli::DW_AT_call_file).ok().flatten() {
        Some(AttributeValue::FileIndex(i)) => Some(i),
        Some(v) => super::type_reader::udata(&v),
        None => None,
    };
    let file = file.and_then(|index| super::lines::unit_file(module, unit, index));
    CallSite {
        name: function_name(module, unit, die),
        file,
        line: number(gimli::DW_AT_call_line).unwrap_or(0) as u32,
        column: number(gimli::DW_AT_call_column).map(|c| c as u32).filter(|&c| c != 0),
    }
}

impl ModuleDebugInfo {
    /// The inline chain at a file address, innermost function first, each
    /// with its source position: the pc's line for the innermost, the call's
    /// line for the others.
    pub(crate) fn inline_chain(&self, address: u64) -> Vec<InlineFrame> {
        let Some(unit) = self.unit_at(address) else { return Vec::new() };
        let lines = unit.lines(self);
        let location = lines
            .covering(address)
            // A row of line 0 (code of no line) still names its file: `FILE:?`.
            .map(|(row, _)| SourceLocation {
                file: lines.files.get(row.file as usize).cloned().unwrap_or_default(),
                line: row.line,
                column: (row.column != 0).then_some(u32::from(row.column)),
            })
            // No row: the unit's own file, line unknown (addr2line's `FILE:?`).
            .or_else(|| self.unit_file_name(&unit).map(|file| SourceLocation { file, line: 0, column: None }));
        let Some(function) = unit.function_die_at(self, address) else {
            return location.map(|l| vec![InlineFrame { function: None, location: Some(l) }]).unwrap_or_default();
        };
        // The inlined copies holding the address, outermost first.
        let copies = unit.inlined_copies(self, function);
        let mut sites: Vec<CallSite> = Vec::new();
        let mut inside: Option<u32> = None;
        loop {
            let holding = copies.iter().enumerate().find(|(_, c)| {
                c.parent == inside && c.ranges.iter().any(|&(low, high)| low <= address && address < high)
            });
            let Some((i, copy)) = holding else { break };
            let Some(entry) = unit.entry(copy.die) else { break };
            sites.push(call_site(self, &unit, &entry, copy.die));
            inside = Some(i as u32);
        }
        let mut frames = Vec::new();
        // Innermost first: each frame's place is the pc (innermost) or the call of the frame inside it.
        let mut place = location;
        for site in sites.iter().rev() {
            frames.push(InlineFrame { function: site.name.clone(), location: place.take() });
            place = site.file.clone().map(|file| SourceLocation { file, line: site.line, column: site.column });
        }
        frames.push(InlineFrame { function: function_name(self, &unit, function), location: place });
        frames
    }

    /// The path of a unit's own file (its name, under its compilation directory).
    fn unit_file_name(&self, unit: &UnitData) -> Option<String> {
        let name = gimli::Reader::to_string_lossy(unit.unit.name.as_ref()?).ok()?.into_owned();
        if name.starts_with('/') {
            return Some(name);
        }
        match &unit.unit.comp_dir {
            Some(dir) => Some(format!("{}/{name}", gimli::Reader::to_string_lossy(dir).ok()?.trim_end_matches('/'))),
            None => Some(name),
        }
    }

    /// The line-table rows whose code overlaps `[start, end)` (file
    /// addresses, in one unit: a function's code), in address order, line 0
    /// included: each row's code range and its source position.
    pub(crate) fn rows_between(&self, start: u64, end: u64) -> Vec<(u64, u64, SourceLocation)> {
        let Some(unit) = self.unit_at(start) else { return Vec::new() };
        let lines = unit.lines(self);
        lines
            .rows_between(start, end)
            .into_iter()
            .map(|(row, row_end)| {
                let location = SourceLocation {
                    file: lines.files.get(row.file as usize).cloned().unwrap_or_default(),
                    line: row.line,
                    column: (row.column != 0).then_some(u32::from(row.column)),
                };
                (row.address, row_end, location)
            })
            .collect()
    }

    /// The discriminator of the line-table row holding a file address (which
    /// block of its line the code is in), when it is not 0.
    pub(crate) fn discriminator(&self, address: u64) -> Option<u32> {
        let unit = self.unit_at(address)?;
        let (row, _) = unit.lines(self).covering(address)?;
        (row.discriminator != 0).then_some(u32::from(row.discriminator))
    }

    /// Start addresses of the code of `line` of every file matching `file`:
    /// one per range of consecutive rows (read from the line programs alone).
    pub(crate) fn addresses_for_line(&self, file: &str, line: u32) -> Vec<u64> {
        let (rows, _) = super::lines::scan_line_programs(self, file);
        let mut addresses: Vec<u64> = rows.iter().filter(|r| r.line == line).map(|r| r.address).collect();
        addresses.sort_unstable();
        addresses.dedup();
        addresses
    }
}
