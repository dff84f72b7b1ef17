//! The DWARF of one module file, for source-level work: compilation units
//! parsed when first needed and kept, and for each a small index made in
//! one walk of its DIEs (functions and inlined copies by address, globals
//! and types by qualified name, the namespaces and classes that qualify
//! names).
//!
//! Nothing is read up front: finding the unit of an address reads
//! `.debug_aranges` once (units it does not cover are asked for their
//! ranges); a name the current unit does not know is looked up in the
//! units the module's `.gdb_index` names, or without one in the module's
//! name index, made on first use by indexing every unit, in parallel
//! threads over borrowed section bytes.

use super::types::Language;
use gimli::{AttributeValue, DwTag, RunTimeEndian};
use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The reader the engine's DWARF is read through (mapped file sections).
pub(crate) type Reader = crate::symbols::mapped::Reader;
use crate::symbols::mapped::SectionBytes;
type Slice<'a> = gimli::EndianSlice<'a, RunTimeEndian>;

static NEXT_MODULE_ID: AtomicUsize = AtomicUsize::new(1);

/// One function's code range (a function with several ranges has one entry per range).
#[derive(Clone, Debug)]
pub(crate) struct FunctionEntry {
    pub low: u64,
    pub high: u64,
    /// The subprogram DIE, as an offset in `.debug_info`.
    pub die: usize,
    /// Qualified name (`geometry::Square::area`, `rusty::scoring::bonus`).
    pub name: String,
    /// The mangled name, when the DWARF gives one.
    pub linkage: Option<String>,
}

/// One inlined copy of a function: a `DW_TAG_inlined_subroutine`.
#[derive(Clone, Debug)]
pub(crate) struct InlineEntry {
    pub low: u64,
    pub high: u64,
    pub die: usize,
    /// Qualified name of the inlined function.
    pub name: String,
}

/// A namespace, class, struct, union or enum: names inside are qualified with its name.
#[derive(Clone, Debug)]
pub(crate) struct ScopeSpan {
    /// The scope's DIE and one past the last DIE inside it (offsets in `.debug_info`).
    pub start: usize,
    pub end: usize,
    pub name: String,
    /// The enclosing scope (an index into the same list).
    pub parent: Option<u32>,
}

/// A named global variable or type of a unit.
#[derive(Clone, Debug)]
pub(crate) struct NamedDie {
    pub name: String,
    pub die: usize,
}

/// What one walk of a unit's DIEs finds.
#[derive(Debug, Default)]
pub(crate) struct UnitIndex {
    /// Sorted by `low`.
    pub functions: Vec<FunctionEntry>,
    pub inlines: Vec<InlineEntry>,
    /// Sorted by `start`.
    pub scopes: Vec<ScopeSpan>,
    pub globals: Vec<NamedDie>,
    pub types: Vec<NamedDie>,
}

impl UnitIndex {
    /// The qualified prefix of the DIE at `offset` (`geometry::Shape::`), empty at unit level.
    pub fn prefix_of(&self, offset: usize) -> String {
        let mut names = Vec::new();
        // The innermost scope that starts before the DIE and contains it.
        let after = self.scopes.partition_point(|s| s.start < offset);
        let mut candidate = after.checked_sub(1);
        while let Some(i) = candidate {
            let span = &self.scopes[i];
            if span.end > offset {
                names.push(span.name.as_str());
                candidate = span.parent.map(|p| p as usize);
            } else {
                // A sibling scope that ended before the DIE: try its parent.
                candidate = span.parent.map(|p| p as usize);
            }
        }
        let mut out = String::new();
        for name in names.iter().rev() {
            out.push_str(name);
            out.push_str("::");
        }
        out
    }

    /// The function whose code holds `address` (file address): the
    /// smallest range, so that a nested function wins over its parent.
    pub fn function_at(&self, address: u64) -> Option<&FunctionEntry> {
        let end = self.functions.partition_point(|f| f.low <= address);
        self.functions[..end].iter().rev().take(64).filter(|f| address < f.high).min_by_key(|f| f.high - f.low)
    }
}

/// One compilation unit, parsed.
pub(crate) struct UnitData {
    /// Offset of the unit in `.debug_info`.
    pub offset: usize,
    pub unit: gimli::Unit<Reader>,
    pub language: Language,
    index: OnceCell<UnitIndex>,
    code: OnceCell<Vec<CodeRange>>,
    /// The inlined copies inside each function asked about, by subprogram DIE.
    inlined: RefCell<HashMap<usize, Rc<Vec<InlinedCopy>>>>,
    lines: OnceCell<super::lines::UnitLines>,
}

/// One `DW_TAG_inlined_subroutine` inside a function (see [`UnitData::inlined_copies`]).
#[derive(Clone, Debug)]
pub(crate) struct InlinedCopy {
    pub die: usize,
    pub ranges: Vec<(u64, u64)>,
    /// The inlined copy this one is inside (an index into the same list),
    /// none when it is directly in the function (lexical blocks between do not count).
    pub parent: Option<u32>,
}

/// One range of a function's code and its DIE, without a name: what
/// naming the function at an address needs first (see [`UnitData::function_die_at`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct CodeRange {
    pub low: u64,
    pub high: u64,
    pub die: usize,
}

impl UnitData {
    /// The unit's line table, read on first use.
    pub fn lines(&self, module: &ModuleDebugInfo) -> &super::lines::UnitLines {
        self.lines.get_or_init(|| super::lines::read_lines(module, self))
    }

    /// The unit's index, made on first use.
    pub fn index(&self, module: &ModuleDebugInfo) -> &UnitIndex {
        self.index.get_or_init(|| index_unit(module.dwarf(), &self.unit, self.language).unwrap_or_default())
    }

    /// The subprogram DIE whose code holds a file address (the smallest
    /// range, so that a nested function wins over its parent). Cheaper than
    /// [`UnitData::index`] on first use: no name is read, which is what
    /// naming thousands of addresses across a whole program wants.
    pub fn function_die_at(&self, module: &ModuleDebugInfo, address: u64) -> Option<usize> {
        let code = self.code.get_or_init(|| code_ranges(module.dwarf(), &self.unit));
        let end = code.partition_point(|c| c.low <= address);
        code[..end].iter().rev().take(64).filter(|c| address < c.high).min_by_key(|c| c.high - c.low).map(|c| c.die)
    }

    /// Every inlined copy inside the function whose subprogram DIE is
    /// `function`, outer ones before those inside them; read once per function.
    pub fn inlined_copies(&self, module: &ModuleDebugInfo, function: usize) -> Rc<Vec<InlinedCopy>> {
        if let Some(copies) = self.inlined.borrow().get(&function) {
            return copies.clone();
        }
        let copies = Rc::new(self.read_inlined_copies(module, function).unwrap_or_default());
        self.inlined.borrow_mut().insert(function, copies.clone());
        copies
    }

    fn read_inlined_copies(&self, module: &ModuleDebugInfo, function: usize) -> Option<Vec<InlinedCopy>> {
        let mut out: Vec<InlinedCopy> = Vec::new();
        let mut entries = self.unit.entries_raw(Some(self.unit_offset(function)?)).ok()?;
        // The function's own entry.
        let abbreviation = entries.read_abbreviation().ok()??;
        entries.skip_attributes(abbreviation.attributes()).ok()?;
        // The inlined copies open around the current DIE: (depth, index in `out`).
        let mut open: Vec<(isize, u32)> = Vec::new();
        // Inside a nested function, whose copies are its own: the depth it starts at.
        let mut nested: Option<isize> = None;
        while !entries.is_empty() {
            let depth = entries.next_depth();
            if depth <= 0 {
                break;
            }
            let offset = entries.next_offset();
            let abbreviation = entries.read_abbreviation().ok()?;
            let Some(abbreviation) = abbreviation else { continue };
            while open.last().is_some_and(|&(d, _)| d >= depth) {
                open.pop();
            }
            if nested.is_some_and(|d| d >= depth) {
                nested = None;
            }
            let tag = abbreviation.tag();
            if nested.is_some() || tag != gimli::DW_TAG_inlined_subroutine {
                if tag == gimli::DW_TAG_subprogram && nested.is_none() {
                    nested = Some(depth);
                }
                entries.skip_attributes(abbreviation.attributes()).ok()?;
                continue;
            }
            let ranges = raw_ranges(module.dwarf(), &self.unit, &mut entries, abbreviation)?;
            let Some(die) = offset.to_debug_info_offset(&self.unit.header) else { continue };
            let parent = open.last().map(|&(_, i)| i);
            out.push(InlinedCopy { die: die.0, ranges, parent });
            open.push((depth, out.len() as u32 - 1));
        }
        Some(out)
    }

    /// A unit-relative offset for a `.debug_info` offset inside this unit.
    pub fn unit_offset(&self, die: usize) -> Option<gimli::UnitOffset> {
        gimli::DebugInfoOffset(die).to_unit_offset(&self.unit.header)
    }

    /// The DIE at a `.debug_info` offset of this unit.
    pub fn entry(&self, die: usize) -> Option<gimli::DebuggingInformationEntry<'_, '_, Reader>> {
        self.unit.entry(self.unit_offset(die)?).ok()
    }
}

/// Where a name was found in the module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NameKind {
    Function,
    /// An inlined copy of a function.
    Inline,
    Variable,
    Type,
}

/// Every global name of a module: qualified name to (kind, unit, DIE).
#[derive(Default)]
pub(crate) struct NameIndex {
    by_name: HashMap<String, Vec<(NameKind, usize, usize)>>,
    /// The last component of each qualified name, to the qualified names.
    by_last: HashMap<String, Vec<String>>,
}

impl NameIndex {
    /// Adds every global name of one unit.
    fn add_unit(&mut self, offset: usize, index: &UnitIndex) {
        for f in &index.functions {
            self.add(&f.name, NameKind::Function, offset, f.die);
            if let Some(linkage) = &f.linkage {
                let plain = super::super::symbols::demangle::demangle(linkage);
                let plain = function_name(&plain);
                if plain != f.name {
                    self.add(plain, NameKind::Function, offset, f.die);
                }
            }
        }
        for i in &index.inlines {
            self.add(&i.name, NameKind::Inline, offset, i.die);
        }
        for g in &index.globals {
            self.add(&g.name, NameKind::Variable, offset, g.die);
        }
        for t in &index.types {
            self.add(&t.name, NameKind::Type, offset, t.die);
        }
    }

    fn add(&mut self, name: &str, kind: NameKind, unit: usize, die: usize) {
        let entry = self.by_name.entry(name.to_string()).or_default();
        if entry.is_empty() {
            let last = last_component(name).to_string();
            if last != name {
                self.by_last.entry(last).or_default().push(name.to_string());
            }
        }
        entry.push((kind, unit, die));
    }

    /// Entries with this exact qualified name, or whose qualified name ends
    /// with `::name` (`Square::area` finds `geometry::Square::area`).
    pub fn find(&self, name: &str, kind: NameKind) -> Vec<(String, usize, usize)> {
        let mut out = Vec::new();
        let mut take = |qualified: &str| {
            if let Some(list) = self.by_name.get(qualified) {
                for &(k, unit, die) in list {
                    if k == kind {
                        out.push((qualified.to_string(), unit, die));
                    }
                }
            }
        };
        take(name);
        if let Some(qualified) = self.by_last.get(last_component(name)) {
            for q in qualified {
                if q != name && q.ends_with(name) && q[..q.len() - name.len()].ends_with("::") {
                    take(q);
                }
            }
        }
        out
    }

    /// Every name of a kind, for pattern searches.
    #[allow(dead_code)] // for `info functions` over DWARF names
    pub fn names(&self, kind: NameKind) -> impl Iterator<Item = (&str, usize, usize)> {
        self.by_name.iter().flat_map(move |(name, list)| {
            list.iter().filter(move |e| e.0 == kind).map(move |e| (name.as_str(), e.1, e.2))
        })
    }
}

/// The last `::` component of a qualified name, template arguments left whole
/// (`std::vector<std::string>::size` -> `size`).
pub(crate) fn last_component(name: &str) -> &str {
    let mut depth = 0i32;
    let bytes = name.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'<' | b'(' => depth += 1,
            b'>' | b')' => depth -= 1,
            b':' if depth == 0 && bytes.get(i + 1) == Some(&b':') => {
                start = i + 2;
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    &name[start..]
}

/// The DWARF of one file, with its caches.
pub struct ModuleDebugInfo {
    pub(crate) id: usize,
    sections: gimli::DwarfSections<SectionBytes>,
    /// Made on first use: making it reads (and decompresses) every section.
    dwarf: OnceCell<gimli::Dwarf<Reader>>,
    endian: RunTimeEndian,
    address_ranges: OnceCell<Vec<(u64, u64, usize)>>,
    units: RefCell<HashMap<usize, Rc<UnitData>>>,
    names: OnceCell<NameIndex>,
    /// The module's `.gdb_index`, when it has a readable one.
    gdb_index: Option<super::gdb_index::GdbIndex>,
}

impl std::fmt::Debug for ModuleDebugInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModuleDebugInfo").field("id", &self.id).finish()
    }
}

impl ModuleDebugInfo {
    /// The DWARF of a file from its sections (already uncompressed).
    pub(crate) fn new(sections: gimli::DwarfSections<SectionBytes>, endian: RunTimeEndian) -> ModuleDebugInfo {
        ModuleDebugInfo {
            id: NEXT_MODULE_ID.fetch_add(1, Ordering::Relaxed),
            sections,
            dwarf: OnceCell::new(),
            endian,
            address_ranges: OnceCell::new(),
            units: RefCell::new(HashMap::new()),
            names: OnceCell::new(),
            gdb_index: None,
        }
    }

    /// The DWARF sections, read on first use.
    pub(crate) fn dwarf(&self) -> &gimli::Dwarf<Reader> {
        self.dwarf.get_or_init(|| self.sections.borrow(|data| Reader::new(data.clone(), self.endian)))
    }

    /// The line-program sections alone, without reading (or
    /// decompressing) the others: `.debug_line`, `.debug_line_str`, `.debug_str`.
    pub(crate) fn line_sections(&self) -> super::lines::LineSections<'_> {
        let endian = self.endian;
        super::lines::LineSections {
            line: self.sections.debug_line.borrow(|t| Slice::new(t, endian)),
            line_str: self.sections.debug_line_str.borrow(|t| Slice::new(t, endian)),
            str: self.sections.debug_str.borrow(|t| Slice::new(t, endian)),
        }
    }

    /// The compilation unit at an offset of `.debug_info`, parsed once.
    pub(crate) fn unit(&self, offset: usize) -> Option<Rc<UnitData>> {
        if let Some(u) = self.units.borrow().get(&offset) {
            return Some(u.clone());
        }
        let header = self.dwarf().debug_info.header_from_offset(gimli::DebugInfoOffset(offset)).ok()?;
        let unit = self.dwarf().unit(header).ok()?;
        let language = unit_language(&unit);
        let data = Rc::new(UnitData {
            offset,
            unit,
            language,
            index: OnceCell::new(),
            code: OnceCell::new(),
            inlined: RefCell::new(HashMap::new()),
            lines: OnceCell::new(),
        });
        self.units.borrow_mut().insert(offset, data.clone());
        Some(data)
    }

    /// The unit holding the DIE at a `.debug_info` offset.
    pub(crate) fn unit_of_die(&self, die: usize) -> Option<Rc<UnitData>> {
        if let Some(u) = self.units.borrow().values().find(|u| {
            let start = u.offset;
            let end = start + u.unit.header.length_including_self();
            (start..end).contains(&die)
        }) {
            return Some(u.clone());
        }
        let mut headers = self.dwarf().units();
        while let Ok(Some(header)) = headers.next() {
            let start = header.offset().as_debug_info_offset()?.0;
            if (start..start + header.length_including_self()).contains(&die) {
                return self.unit(start);
            }
        }
        None
    }

    /// The unit whose code holds a file address.
    pub(crate) fn unit_at(&self, address: u64) -> Option<Rc<UnitData>> {
        let ranges = self.address_ranges.get_or_init(|| self.read_address_ranges());
        let end = ranges.partition_point(|r| r.0 <= address);
        let offset = ranges[..end].iter().rev().take(32).find(|r| address < r.1)?.2;
        self.unit(offset)
    }

    /// Every unit's code ranges, sorted: `.debug_aranges`, and the ranges of
    /// the units it leaves out.
    fn read_address_ranges(&self) -> Vec<(u64, u64, usize)> {
        let mut out = Vec::new();
        let mut covered = std::collections::HashSet::new();
        let mut headers = self.dwarf().debug_aranges.headers();
        while let Ok(Some(header)) = headers.next() {
            let unit = header.debug_info_offset().0;
            let mut entries = header.entries();
            let mut any = false;
            while let Ok(Some(entry)) = entries.next() {
                let range = entry.range();
                if range.end > range.begin {
                    out.push((range.begin, range.end, unit));
                    any = true;
                }
            }
            if any {
                covered.insert(unit);
            }
        }
        let mut headers = self.dwarf().units();
        while let Ok(Some(header)) = headers.next() {
            let Some(offset) = header.offset().as_debug_info_offset().map(|o| o.0) else { continue };
            if covered.contains(&offset) {
                continue;
            }
            let Ok(unit) = self.dwarf().unit(header) else { continue };
            let Ok(mut ranges) = self.dwarf().unit_ranges(&unit) else { continue };
            while let Ok(Some(range)) = ranges.next() {
                if range.end > range.begin {
                    out.push((range.begin, range.end, offset));
                }
            }
        }
        out.sort_unstable();
        out
    }

    /// Offsets of every compilation unit.
    pub(crate) fn unit_offsets(&self) -> Vec<usize> {
        let mut out = Vec::new();
        let mut headers = self.dwarf().units();
        while let Ok(Some(header)) = headers.next() {
            if let Some(o) = header.offset().as_debug_info_offset() {
                out.push(o.0);
            }
        }
        out
    }

    /// The function whose code holds a file address, and its unit.
    pub(crate) fn function_at(&self, address: u64) -> Option<(Rc<UnitData>, FunctionEntry)> {
        let unit = self.unit_at(address)?;
        let function = unit.index(self).function_at(address)?.clone();
        Some((unit, function))
    }

    /// The module's name index: every unit indexed (in parallel), once.
    pub(crate) fn names(&self) -> &NameIndex {
        self.names.get_or_init(|| self.build_name_index())
    }

    fn build_name_index(&self) -> NameIndex {
        let offsets = self.unit_offsets();
        let endian = self.endian;
        let borrowed: gimli::Dwarf<Slice<'_>> = self.sections.borrow(|data| Slice::new(data, endian));
        let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).clamp(1, 8);
        let chunk = offsets.len().div_ceil(workers).max(1);
        let results: Vec<Vec<(usize, UnitIndex)>> = std::thread::scope(|scope| {
            let handles: Vec<_> = offsets
                .chunks(chunk)
                .map(|part| {
                    let dwarf = &borrowed;
                    scope.spawn(move || {
                        let mut out = Vec::new();
                        for &offset in part {
                            let Ok(header) = dwarf.debug_info.header_from_offset(gimli::DebugInfoOffset(offset)) else {
                                continue;
                            };
                            let Ok(unit) = dwarf.unit(header) else { continue };
                            let language = unit_language(&unit);
                            if let Ok(index) = index_unit(dwarf, &unit, language) {
                                out.push((offset, index));
                            }
                        }
                        out
                    })
                })
                .collect();
            // A worker that panicked on damaged data costs its units' names, not the debugger.
            handles.into_iter().filter_map(|h| h.join().ok()).collect()
        });
        let mut names = NameIndex::default();
        for (offset, index) in results.into_iter().flatten() {
            names.add_unit(offset, &index);
        }
        names
    }

    /// Sets the module's `.gdb_index`, used by [`ModuleDebugInfo::find_names`]
    /// when it is readable.
    pub(crate) fn set_gdb_index(&mut self, bytes: SectionBytes) {
        self.gdb_index = super::gdb_index::GdbIndex::parse(bytes);
    }

    /// Global names of a kind that are `name` or end with `::name`: (the
    /// qualified name, its unit, its DIE). With a `.gdb_index` only the units
    /// it says define the name are parsed; without, the module's name index
    /// is made first (every unit, in parallel).
    pub(crate) fn find_names(&self, name: &str, kind: NameKind) -> Vec<(String, usize, usize)> {
        let Some(index) = &self.gdb_index else { return self.names().find(name, kind) };
        let mut out = Vec::new();
        for offset in index.units_defining(name, kind) {
            let Some(unit) = self.unit(offset) else { continue };
            let mut names = NameIndex::default();
            names.add_unit(offset, unit.index(self));
            out.extend(names.find(name, kind));
        }
        out
    }

    /// Whether the module's name index was made (for tests of the `.gdb_index` path).
    #[cfg(test)]
    pub(crate) fn name_index_made(&self) -> bool {
        self.names.get().is_some()
    }
}

/// `ns::f(int) const` -> `ns::f`: a demangled C++ name without its
/// parameter list (template arguments and `operator()` kept).
pub(crate) fn strip_parameters(name: &str) -> &str {
    let bytes = name.as_bytes();
    let mut depth = 0i32;
    let mut i = 0;
    while i < bytes.len() {
        // An operator's own symbol (`operator<<`, `operator()`) is not a bracket.
        // Bytes, not `str` slices: a damaged name may hold any character.
        if bytes[i..].starts_with(b"operator") && (i == 0 || bytes[i - 1] == b':') {
            i += "operator".len();
            if bytes[i..].starts_with(b"()") {
                i += 2;
            }
            while i < bytes.len() && !matches!(bytes[i], b'(' | b' ') && !bytes[i].is_ascii_alphanumeric() {
                i += 1;
            }
            continue;
        }
        match bytes[i] {
            b'<' => depth += 1,
            b'>' => depth -= 1,
            b'(' if depth == 0 => return &name[..i],
            _ => {}
        }
        i += 1;
    }
    name
}

/// A function's name as gdb shows it, from a demangled name: no
/// parameter list and no return type (`int ns::twice<int>(int)` gives
/// `ns::twice<int>`).
pub(crate) fn function_name(demangled: &str) -> &str {
    let name = strip_parameters(demangled);
    &name[name_start(name)..]
}

/// Where the name starts in a demangled name that may begin with a return
/// type (`int ns::twice<int>(int)`): after the last space outside brackets.
pub(crate) fn name_start(demangled: &str) -> usize {
    // Special names (`transaction clone for f`, `non-virtual thunk to f`) are
    // not a function's own name: nothing is taken off them.
    const SPECIAL: [&str; 8] = [
        "transaction clone for ",
        "non-transaction clone for ",
        "non-virtual thunk to ",
        "virtual thunk to ",
        "covariant return thunk to ",
        "guard variable for ",
        "vtable for ",
        "typeinfo for ",
    ];
    if SPECIAL.iter().any(|p| demangled.starts_with(p)) {
        return 0;
    }
    let bytes = demangled.as_bytes();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'<' | b'(' | b'[' => depth += 1,
            b'>' | b')' | b']' => depth -= 1,
            b' ' if depth == 0 && !demangled[..i].ends_with("operator") && !demangled[i + 1..].starts_with("const") => {
                start = i + 1
            }
            _ => {}
        }
        // The parameter list starts: no return type after this.
        if b == b'(' && depth == 1 && i > 0 && !demangled[..i].ends_with("operator") {
            break;
        }
    }
    start
}

fn unit_language<R: gimli::Reader>(unit: &gimli::Unit<R>) -> Language {
    let mut entries = unit.entries();
    if let Ok(Some((_, root))) = entries.next_dfs() {
        if let Ok(Some(AttributeValue::Language(lang))) = root.attr_value(gimli::DW_AT_language) {
            return Language::from_dwarf(lang);
        }
    }
    Language::C
}

/// A DIE's name through `DW_AT_name` (no origin followed).
pub(crate) fn die_name<R: gimli::Reader>(
    dwarf: &gimli::Dwarf<R>,
    unit: &gimli::Unit<R>,
    entry: &gimli::DebuggingInformationEntry<'_, '_, R>,
) -> Option<String> {
    let value = entry.attr_value(gimli::DW_AT_name).ok()??;
    let raw = dwarf.attr_string(unit, value).ok()?;
    Some(raw.to_string_lossy().ok()?.into_owned())
}

/// A DIE's mangled name.
fn linkage_name<R: gimli::Reader>(
    dwarf: &gimli::Dwarf<R>,
    unit: &gimli::Unit<R>,
    entry: &gimli::DebuggingInformationEntry<'_, '_, R>,
) -> Option<String> {
    let value = entry
        .attr_value(gimli::DW_AT_linkage_name)
        .ok()
        .flatten()
        .or_else(|| entry.attr_value(gimli::DW_AT_MIPS_linkage_name).ok().flatten())?;
    let raw = dwarf.attr_string(unit, value).ok()?;
    Some(raw.to_string_lossy().ok()?.into_owned())
}

/// A reference attribute as an offset in `.debug_info` (same-unit and cross-unit forms).
pub(crate) fn reference<R: gimli::Reader<Offset = usize>>(
    unit: &gimli::Unit<R>,
    value: AttributeValue<R>,
) -> Option<usize> {
    match value {
        AttributeValue::UnitRef(offset) => offset.to_debug_info_offset(&unit.header).map(|o| o.0),
        AttributeValue::DebugInfoRef(offset) => Some(offset.0),
        _ => None,
    }
}

fn is_scope_tag(tag: DwTag) -> bool {
    matches!(
        tag,
        gimli::DW_TAG_namespace
            | gimli::DW_TAG_structure_type
            | gimli::DW_TAG_class_type
            | gimli::DW_TAG_union_type
            | gimli::DW_TAG_enumeration_type
    )
}

fn is_type_tag(tag: DwTag) -> bool {
    matches!(
        tag,
        gimli::DW_TAG_structure_type
            | gimli::DW_TAG_class_type
            | gimli::DW_TAG_union_type
            | gimli::DW_TAG_enumeration_type
            | gimli::DW_TAG_typedef
            | gimli::DW_TAG_base_type
    )
}

/// The code ranges of a DIE (`DW_AT_low_pc`/`high_pc` or `DW_AT_ranges`).
pub(crate) fn die_ranges<R: gimli::Reader>(
    dwarf: &gimli::Dwarf<R>,
    unit: &gimli::Unit<R>,
    entry: &gimli::DebuggingInformationEntry<'_, '_, R>,
) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    if let Ok(mut ranges) = dwarf.die_ranges(unit, entry) {
        while let Ok(Some(r)) = ranges.next() {
            if r.end > r.begin && r.begin != 0 {
                out.push((r.begin, r.end));
            }
            if out.len() > 4096 {
                break;
            }
        }
    }
    out
}

/// Every subprogram's code ranges in a unit, sorted by start. The DIEs are
/// read raw: only a subprogram's attributes are decoded, the others'
/// skipped by their sizes, which makes this walk several times cheaper than
/// one that reads every entry.
fn code_ranges(dwarf: &gimli::Dwarf<Reader>, unit: &gimli::Unit<Reader>) -> Vec<CodeRange> {
    let mut out = Vec::new();
    if let Ok(mut entries) = unit.entries_raw(None) {
        while !entries.is_empty() {
            let offset = entries.next_offset();
            let Ok(abbreviation) = entries.read_abbreviation() else { break };
            let Some(abbreviation) = abbreviation else { continue };
            if abbreviation.tag() != gimli::DW_TAG_subprogram {
                if entries.skip_attributes(abbreviation.attributes()).is_err() {
                    break;
                }
                continue;
            }
            let Some(ranges) = raw_ranges(dwarf, unit, &mut entries, abbreviation) else { break };
            let Some(die) = offset.to_debug_info_offset(&unit.header) else { continue };
            out.extend(ranges.into_iter().map(|(low, high)| CodeRange { low, high, die: die.0 }));
        }
    }
    out.sort_unstable_by_key(|c| (c.low, c.high));
    out
}

/// The code ranges of the entry whose attributes `entries` is at (read
/// raw); `None` when the attributes cannot be read.
pub(crate) fn raw_ranges(
    dwarf: &gimli::Dwarf<Reader>,
    unit: &gimli::Unit<Reader>,
    entries: &mut gimli::EntriesRaw<'_, '_, Reader>,
    abbreviation: &gimli::Abbreviation,
) -> Option<Vec<(u64, u64)>> {
    let (mut low, mut high, mut size, mut list) = (None, None, None, None);
    for spec in abbreviation.attributes() {
        let attribute = entries.read_attribute(*spec).ok()?;
        match (attribute.name(), attribute.value()) {
            (gimli::DW_AT_low_pc, AttributeValue::Addr(a)) => low = Some(a),
            (gimli::DW_AT_low_pc, AttributeValue::DebugAddrIndex(i)) => low = dwarf.address(unit, i).ok(),
            (gimli::DW_AT_high_pc, AttributeValue::Addr(a)) => high = Some(a),
            (gimli::DW_AT_high_pc, AttributeValue::DebugAddrIndex(i)) => high = dwarf.address(unit, i).ok(),
            (gimli::DW_AT_high_pc, value) => size = value.udata_value(),
            (gimli::DW_AT_ranges, value) => list = dwarf.attr_ranges_offset(unit, value).ok().flatten(),
            _ => {}
        }
    }
    let mut out = Vec::new();
    // Code discarded at link time keeps address 0.
    let mut push = |begin: u64, end: u64| {
        if end > begin && begin != 0 {
            out.push((begin, end));
        }
    };
    if let Some(offset) = list {
        if let Ok(mut ranges) = dwarf.ranges(unit, offset) {
            let mut count = 0;
            while let Ok(Some(range)) = ranges.next() {
                push(range.begin, range.end);
                count += 1;
                if count > 4096 {
                    break;
                }
            }
        }
    } else if let Some(low) = low {
        match (high, size) {
            (Some(high), _) => push(low, high),
            (None, Some(size)) => push(low, low.wrapping_add(size)),
            _ => {}
        }
    }
    Some(out)
}

/// Walks a unit's DIEs once and indexes them.
pub(crate) fn index_unit<R: gimli::Reader<Offset = usize>>(
    dwarf: &gimli::Dwarf<R>,
    unit: &gimli::Unit<R>,
    language: Language,
) -> gimli::Result<UnitIndex> {
    let mut index = UnitIndex::default();
    // Open scopes: (depth, index into index.scopes).
    let mut open: Vec<(isize, u32)> = Vec::new();
    // Depth of the subprogram we are inside, if any (their locals are not globals).
    let mut in_function: Option<isize> = None;
    // Names of subprogram DIEs, for definitions that name them through
    // DW_AT_specification or DW_AT_abstract_origin.
    let mut subprogram_names: HashMap<usize, (String, Option<String>)> = HashMap::new();
    let mut unnamed_functions: Vec<(usize, usize)> = Vec::new(); // (index in functions, target)
    let mut unnamed_inlines: Vec<(usize, usize)> = Vec::new();
    let mut depth: isize = 0;
    let mut entries = unit.entries();
    let unit_end =
        unit.header.offset().as_debug_info_offset().map(|o| o.0).unwrap_or(0) + unit.header.length_including_self();
    while let Some((delta, entry)) = entries.next_dfs()? {
        depth += delta;
        let offset = match entry.offset().to_debug_info_offset(&unit.header) {
            Some(o) => o.0,
            None => continue,
        };
        while let Some(&(d, i)) = open.last() {
            if d >= depth {
                index.scopes[i as usize].end = offset;
                open.pop();
            } else {
                break;
            }
        }
        if in_function.is_some_and(|d| d >= depth) {
            in_function = None;
        }
        let tag = entry.tag();
        let prefix = |index: &UnitIndex, open: &Vec<(isize, u32)>| -> String {
            let mut out = String::new();
            for &(_, i) in open {
                out.push_str(&index.scopes[i as usize].name);
                out.push_str("::");
            }
            out
        };
        match tag {
            gimli::DW_TAG_subprogram => {
                let name = die_name(dwarf, unit, entry);
                let linkage = linkage_name(dwarf, unit, entry);
                let qualified = name.as_ref().map(|n| format!("{}{n}", prefix(&index, &open)));
                if let Some(q) = &qualified {
                    subprogram_names.insert(offset, (q.clone(), linkage.clone()));
                }
                let ranges = die_ranges(dwarf, unit, entry);
                if !ranges.is_empty() {
                    let target = [gimli::DW_AT_specification, gimli::DW_AT_abstract_origin]
                        .iter()
                        .find_map(|&a| entry.attr_value(a).ok().flatten())
                        .and_then(|v| reference(unit, v));
                    for (low, high) in ranges {
                        if qualified.is_none() {
                            if let Some(t) = target {
                                unnamed_functions.push((index.functions.len(), t));
                            }
                        }
                        index.functions.push(FunctionEntry {
                            low,
                            high,
                            die: offset,
                            name: qualified.clone().unwrap_or_default(),
                            linkage: linkage.clone(),
                        });
                    }
                }
                if in_function.is_none() {
                    in_function = Some(depth);
                }
            }
            gimli::DW_TAG_inlined_subroutine => {
                let target =
                    entry.attr_value(gimli::DW_AT_abstract_origin).ok().flatten().and_then(|v| reference(unit, v));
                for (low, high) in die_ranges(dwarf, unit, entry) {
                    if let Some(t) = target {
                        unnamed_inlines.push((index.inlines.len(), t));
                    }
                    index.inlines.push(InlineEntry { low, high, die: offset, name: String::new() });
                }
            }
            gimli::DW_TAG_variable if in_function.is_none() => {
                let defines = entry.attr(gimli::DW_AT_location).ok().flatten().is_some()
                    || entry.attr(gimli::DW_AT_const_value).ok().flatten().is_some();
                if defines {
                    let name = die_name(dwarf, unit, entry).or_else(|| {
                        // A C++ static member's definition names its declaration.
                        let target = entry.attr_value(gimli::DW_AT_specification).ok().flatten()?;
                        let target = reference(unit, target)?;
                        let unit_offset = gimli::DebugInfoOffset(target).to_unit_offset(&unit.header)?;
                        let declaration = unit.entry(unit_offset).ok()?;
                        let name = die_name(dwarf, unit, &declaration)?;
                        Some(format!("{}{name}", index.prefix_of(target)))
                    });
                    if let Some(name) = name {
                        let qualified =
                            if name.contains("::") { name } else { format!("{}{name}", prefix(&index, &open)) };
                        index.globals.push(NamedDie { name: qualified, die: offset });
                    }
                }
            }
            _ => {}
        }
        if in_function.is_none() && (is_scope_tag(tag) || is_type_tag(tag)) {
            let name = die_name(dwarf, unit, entry);
            let declaration =
                matches!(entry.attr_value(gimli::DW_AT_declaration), Ok(Some(AttributeValue::Flag(true))));
            if is_type_tag(tag) && !declaration {
                if let Some(n) = &name {
                    index.types.push(NamedDie { name: format!("{}{n}", prefix(&index, &open)), die: offset });
                }
            }
            if is_scope_tag(tag) && entry.has_children() {
                let name = name.unwrap_or_else(|| match (tag, language) {
                    (gimli::DW_TAG_namespace, _) => "(anonymous namespace)".to_string(),
                    _ => String::new(),
                });
                // Anonymous structs and unions add nothing to names inside them.
                if !name.is_empty() {
                    let parent = open.last().map(|&(_, i)| i);
                    index.scopes.push(ScopeSpan { start: offset, end: unit_end, name, parent });
                    open.push((depth, index.scopes.len() as u32 - 1));
                }
            }
        }
    }
    for (i, target) in unnamed_functions {
        if let Some((name, linkage)) = subprogram_names.get(&target) {
            index.functions[i].name = name.clone();
            if index.functions[i].linkage.is_none() {
                index.functions[i].linkage = linkage.clone();
            }
        } else if let Some(name) = name_of_die_elsewhere(dwarf, unit, target, &index) {
            index.functions[i].name = name;
        }
    }
    for (i, target) in unnamed_inlines {
        if let Some((name, _)) = subprogram_names.get(&target) {
            index.inlines[i].name = name.clone();
        } else if let Some(name) = name_of_die_elsewhere(dwarf, unit, target, &index) {
            index.inlines[i].name = name;
        }
    }
    // A definition without a name of its own whose declaration gave none either.
    index.functions.retain(|f| !f.name.is_empty());
    index.inlines.retain(|f| !f.name.is_empty());
    index.functions.sort_by_key(|f| (f.low, f.high));
    Ok(index)
}

/// The name of a subprogram DIE that was not indexed by name (it follows
/// its own origin, or lies in another unit: then only its bare name).
fn name_of_die_elsewhere<R: gimli::Reader<Offset = usize>>(
    dwarf: &gimli::Dwarf<R>,
    unit: &gimli::Unit<R>,
    target: usize,
    index: &UnitIndex,
) -> Option<String> {
    let mut offset = target;
    for _ in 0..4 {
        let unit_offset = gimli::DebugInfoOffset(offset).to_unit_offset(&unit.header)?;
        let entry = unit.entry(unit_offset).ok()?;
        if let Some(name) = die_name(dwarf, unit, &entry) {
            return Some(format!("{}{name}", index.prefix_of(offset)));
        }
        let next = [gimli::DW_AT_specification, gimli::DW_AT_abstract_origin]
            .iter()
            .find_map(|&a| entry.attr_value(a).ok().flatten())
            .and_then(|v| reference(unit, v))?;
        offset = next;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_components_keep_template_arguments() {
        assert_eq!(last_component("std::vector<std::string>::size"), "size");
        assert_eq!(last_component("geometry::twice<int>"), "twice<int>");
        assert_eq!(last_component("main"), "main");
        assert_eq!(last_component("a::b<c::d>"), "b<c::d>");
    }

    #[test]
    fn parameters_are_stripped_but_not_operator_call() {
        assert_eq!(strip_parameters("geometry::Square::area() const"), "geometry::Square::area");
        assert_eq!(strip_parameters("ns::twice<int>(int)"), "ns::twice<int>");
        assert_eq!(strip_parameters("main"), "main");
        assert_eq!(strip_parameters("Klass::operator()(int)"), "Klass::operator()");
        assert_eq!(strip_parameters("operator<<(std::ostream&, Klass const&)"), "operator<<");
        assert_eq!(
            strip_parameters("geometry::Point::operator+(geometry::Point const&) const"),
            "geometry::Point::operator+"
        );
    }
}
