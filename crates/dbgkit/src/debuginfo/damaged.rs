//! Damaged DWARF: every reading path of the source level on copies of real
//! programs whose debug sections were overwritten in places. Answers may go
//! missing; nothing may panic.

use super::typenames::{ptype, type_name};
use super::types::TypeTable;
use super::units::NameKind;
use crate::symbols::dwarf::DwarfInfo;
use object::{Object, ObjectSection};
use std::ops::Range;

/// xorshift64: the same damage on every run.
struct Damage(u64);

impl Damage {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// What the reading paths found in a file (to check that the undamaged
/// files exercise them at all).
#[derive(Default, Debug)]
struct Found {
    frames: usize,
    rows: usize,
    names: usize,
    types: usize,
}

fn exercise(bytes: &[u8], source: &str) -> Found {
    let mut found = Found::default();
    let Ok(file) = object::File::parse(bytes) else { return found };
    let Some(text) = file.section_by_name(".text") else { return found };
    let Some(dwarf) = DwarfInfo::load(&file, None) else { return found };
    let debug = dwarf.debug.clone();
    let start = text.address();
    for address in (start..start + text.size()).step_by(13) {
        found.frames += dwarf.frames(address).iter().filter(|f| f.function.is_some()).count();
        found.rows += dwarf.rows(address, address + 8).len();
        let _ = dwarf.discriminator(address);
    }
    for name in ["main", "inner", "node", "shape", "counter", "area", "Square", "twice<int>", "no_such_name"] {
        for kind in [NameKind::Function, NameKind::Inline, NameKind::Variable, NameKind::Type] {
            found.names += debug.find_names(name, kind).len();
        }
    }
    for line in (1..120).step_by(9) {
        let _ = dwarf.addresses_for_line(source, line);
    }
    let table = TypeTable::new();
    for offset in debug.unit_offsets() {
        let Some(unit) = debug.unit(offset) else { continue };
        let index = unit.index(&debug);
        for named in &index.types {
            let id = table.for_die(&debug, offset, named.die);
            let _ = (type_name(&table, id), ptype(&table, id));
            found.types += 1;
        }
        let _ = unit.lines(&debug).covering(start);
    }
    found
}

/// The file ranges of a file's debug sections.
fn debug_sections(bytes: &[u8]) -> Vec<Range<usize>> {
    let file = object::File::parse(bytes).unwrap();
    let names = [
        ".debug_info",
        ".debug_abbrev",
        ".debug_line",
        ".debug_str",
        ".debug_line_str",
        ".debug_rnglists",
        ".debug_loclists",
        ".debug_aranges",
    ];
    names
        .iter()
        .filter_map(|name| file.section_by_name(name)?.file_range())
        .filter(|&(_, size)| size > 0)
        .map(|(offset, size)| offset as usize..(offset + size) as usize)
        .collect()
}

fn damage_and_read(fixture: &str, source: &str) {
    let original = std::fs::read(dbgkit_fixtures::path(fixture)).unwrap();
    let whole = exercise(&original, source);
    assert!(whole.frames > 0 && whole.rows > 0 && whole.names > 0 && whole.types > 0, "{fixture}: {whole:?}");
    let sections = debug_sections(&original);
    let mut damage = Damage(0x9e37_79b9_7f4a_7c15);
    for round in 0..48 {
        let mut bytes = original.clone();
        let section = sections[round % sections.len()].clone();
        if round % 8 == 7 {
            // A section cut short: its second half zeroed.
            let middle = section.start + section.len() / 2;
            bytes[middle..section.end].fill(0);
        } else {
            for _ in 0..1 + damage.next() % 24 {
                let at = section.start + (damage.next() as usize) % section.len();
                bytes[at] = damage.next() as u8;
            }
        }
        let read = std::panic::catch_unwind(|| exercise(&bytes, source));
        assert!(read.is_ok(), "{fixture}: round {round} (section at {section:?}) panicked");
    }
}

#[test]
fn damaged_c_debug_info_never_panics() {
    damage_and_read("types", "types.c");
}

#[test]
fn damaged_cpp_debug_info_never_panics() {
    damage_and_read("classes", "classes.cpp");
}
