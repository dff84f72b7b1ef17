//! `.gdb_index`, the name index gdb defines and gold, lld and
//! `gdb-add-index` write: which compilation units define each global name.
//! With it a name is found by parsing only the units that define it, instead
//! of indexing every unit of the module first (see `units::NameIndex`).
//!
//! Layout (versions 7 to 9; gdb's "Index Section Format"): a header of
//! little-endian 32-bit offsets, the CU list (pairs of 64-bit `.debug_info`
//! offset and length), the types-unit list, the address area, the symbol
//! table (an open-addressed hash table of pairs of 32-bit offsets into the
//! constant pool: name, CU vector), version 9's shortcut table, and the
//! constant pool (names, NUL-terminated; CU vectors, a 32-bit count then
//! 32-bit entries: the unit's number in bits 0-23, the symbol's kind in bits
//! 28-30). Names are qualified and without parameters (`geometry::twice<int>`).

use super::units::NameKind;
use crate::symbols::mapped::SectionBytes;

/// What a symbol of the index is (bits 28-30 of a CU vector entry).
const KIND_NONE: u32 = 0;
const KIND_TYPE: u32 = 1;
const KIND_VARIABLE: u32 = 2;
const KIND_FUNCTION: u32 = 3;
const KIND_OTHER: u32 = 4;

/// A module's `.gdb_index`, checked when read.
pub(crate) struct GdbIndex {
    bytes: SectionBytes,
    /// `.debug_info` offset of each compilation unit, by number.
    units: Vec<usize>,
    /// Where the symbol table's slots and the constant pool are in `bytes`.
    symbols: std::ops::Range<usize>,
    pool: usize,
}

impl std::fmt::Debug for GdbIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GdbIndex").field("units", &self.units.len()).finish()
    }
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at.checked_add(4)?)?.try_into().ok()?))
}

fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(bytes.get(at..at.checked_add(8)?)?.try_into().ok()?))
}

impl GdbIndex {
    /// The index, or `None` when the section is of a version this reader
    /// does not know (before 7: no symbol kinds) or is damaged.
    pub(crate) fn parse(bytes: SectionBytes) -> Option<GdbIndex> {
        let data: &[u8] = &bytes;
        let version = u32_at(data, 0)?;
        if !(7..=9).contains(&version) {
            return None;
        }
        let offset = |word: usize| u32_at(data, 4 + 4 * word).map(|o| o as usize);
        let (cu_list, types_list, symbol_table) = (offset(0)?, offset(1)?, offset(3)?);
        // Version 9 puts the shortcut table's offset before the pool's.
        let pool = if version >= 9 { offset(5)? } else { offset(4)? };
        if !(cu_list <= types_list && types_list <= data.len() && symbol_table <= pool && pool <= data.len()) {
            return None;
        }
        let slots = (pool - symbol_table) / 8;
        if slots != 0 && !slots.is_power_of_two() {
            return None;
        }
        let count = (types_list - cu_list) / 16;
        let mut units = Vec::with_capacity(count);
        for i in 0..count {
            units.push(usize::try_from(u64_at(data, cu_list + 16 * i)?).ok()?);
        }
        Some(GdbIndex { units, symbols: symbol_table..symbol_table + slots * 8, pool, bytes })
    }

    /// The name at an offset of the constant pool.
    fn name(&self, offset: u32) -> Option<&str> {
        let data: &[u8] = &self.bytes;
        let start = self.pool.checked_add(offset as usize)?;
        let rest = data.get(start..)?;
        let end = rest.iter().position(|&b| b == 0)?;
        std::str::from_utf8(&rest[..end]).ok()
    }

    /// The `.debug_info` offsets of the units that define a name of `kind`
    /// that is `name`, or ends with `::name` (`Square::area` finds
    /// `geometry::Square::area`, as the module's own name index does).
    /// Every slot is read, not only `name`'s hash: a trailing part of a name
    /// has no hash of its own in the table.
    pub(crate) fn units_defining(&self, name: &str, kind: NameKind) -> Vec<usize> {
        let data: &[u8] = &self.bytes;
        let wanted = match kind {
            NameKind::Function | NameKind::Inline => KIND_FUNCTION,
            NameKind::Variable => KIND_VARIABLE,
            NameKind::Type => KIND_TYPE,
        };
        let suffix = format!("::{name}");
        let mut out = Vec::new();
        for slot in self.symbols.clone().step_by(8) {
            let (Some(name_offset), Some(vector)) = (u32_at(data, slot), u32_at(data, slot + 4)) else { break };
            if name_offset == 0 && vector == 0 {
                continue;
            }
            let Some(symbol) = self.name(name_offset) else { continue };
            if symbol != name && !symbol.ends_with(&suffix) {
                continue;
            }
            let Some(at) = self.pool.checked_add(vector as usize) else { continue };
            let Some(count) = u32_at(data, at) else { continue };
            for i in 0..count.min(1 << 24) as usize {
                let Some(entry) = u32_at(data, at + 4 + 4 * i) else { break };
                let symbol_kind = (entry >> 28) & 7;
                if ![wanted, KIND_NONE, KIND_OTHER].contains(&symbol_kind) {
                    continue;
                }
                // Numbers past the CU list are type units, which hold no code or variables.
                if let Some(&unit) = self.units.get((entry & 0x00ff_ffff) as usize) {
                    if !out.contains(&unit) {
                        out.push(unit);
                    }
                }
            }
        }
        out.sort_unstable();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A version 8 index: two units, the symbols `ns::f` (a function of
    /// unit 1) and `counter` (a variable of unit 0), in a 4-slot table.
    fn sample() -> Vec<u8> {
        let header = 4 + 4 * 5;
        let cu_list = header;
        let types_list = cu_list + 2 * 16;
        let symbol_table = types_list;
        let pool = symbol_table + 4 * 8;
        let mut data = Vec::new();
        for word in [8, cu_list, types_list, types_list, symbol_table, pool] {
            data.extend_from_slice(&(word as u32).to_le_bytes());
        }
        for (offset, length) in [(0u64, 0x40u64), (0x40, 0x80)] {
            data.extend_from_slice(&offset.to_le_bytes());
            data.extend_from_slice(&length.to_le_bytes());
        }
        // Pool: "ns::f\0" at 0, "counter\0" at 6, vectors at 16 and 24.
        let slots: [(u32, u32); 4] = [(0, 16), (0, 0), (6, 24), (0, 0)];
        for (name, vector) in slots {
            data.extend_from_slice(&name.to_le_bytes());
            data.extend_from_slice(&vector.to_le_bytes());
        }
        data.extend_from_slice(b"ns::f\0counter\0\0\0");
        for entry in [1u32, (KIND_FUNCTION << 28) | 1, 1, (KIND_VARIABLE << 28) | 0x8000_0000] {
            data.extend_from_slice(&entry.to_le_bytes());
        }
        data
    }

    fn index(data: Vec<u8>) -> Option<GdbIndex> {
        GdbIndex::parse(SectionBytes::of(std::borrow::Cow::Owned(data), None))
    }

    #[test]
    fn names_lead_to_their_units() {
        let index = index(sample()).unwrap();
        assert_eq!(index.units_defining("ns::f", NameKind::Function), vec![0x40]);
        assert_eq!(index.units_defining("f", NameKind::Function), vec![0x40]);
        assert_eq!(index.units_defining("f", NameKind::Variable), Vec::<usize>::new());
        assert_eq!(index.units_defining("counter", NameKind::Variable), vec![0]);
        assert_eq!(index.units_defining("ter", NameKind::Variable), Vec::<usize>::new());
    }

    /// The fixture linked by gold with a `.gdb_index`: every lookup gives
    /// what the module's own name index gives, without making it.
    #[test]
    fn lookups_through_the_index_find_what_a_full_scan_finds() {
        use crate::debuginfo::units::NameKind::{Function, Type, Variable};
        let path = dbgkit_fixtures::path("classes_gdb_index");
        let data = std::fs::read(&path).unwrap();
        let file = object::File::parse(&*data).unwrap();
        let dwarf = crate::symbols::dwarf::DwarfInfo::load(&file, None).unwrap();
        let debug = &dwarf.debug;
        let lookups = [
            ("geometry::Square::area", Function),
            ("area", Function),
            ("Square::area", Function),
            ("geometry::twice<int>", Function),
            ("main", Function),
            ("geometry::Shape::next_id", Variable),
            ("geometry::Square", Type),
            ("Square", Type),
            ("Inventory", Type),
            ("no_such_name", Function),
        ];
        let sorted = |mut v: Vec<(String, usize, usize)>| {
            v.sort();
            v
        };
        let through_index: Vec<_> = lookups.iter().map(|&(name, kind)| sorted(debug.find_names(name, kind))).collect();
        assert!(!debug.name_index_made(), "the index alone answered");
        for (i, &(name, kind)) in lookups.iter().enumerate() {
            let scanned = sorted(debug.names().find(name, kind));
            assert_eq!(through_index[i], scanned, "{name} ({kind:?})");
        }
        assert!(!through_index[0].is_empty() && through_index[0] == through_index[1]);
        assert!(!through_index[5].is_empty() && !through_index[6].is_empty());
        assert!(through_index[9].is_empty());
    }

    #[test]
    fn damaged_indexes_are_refused() {
        let mut old = sample();
        old[0] = 6;
        assert!(index(old).is_none());
        let mut bad = sample();
        // The pool's offset past the end.
        bad[20] = 0xff;
        assert!(index(bad).is_none());
        assert!(index(vec![8, 0, 0]).is_none());
        // Cut short: the CU vectors are gone; names lead nowhere, nothing panics.
        let mut short = sample();
        short.truncate(short.len() - 12);
        if let Some(index) = index(short) {
            assert!(index.units_defining("counter", NameKind::Variable).is_empty());
        }
    }
}
