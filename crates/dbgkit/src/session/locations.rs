//! Where a breakpoint goes, the way gdb decides it:
//!
//! - a function by name: after its prologue (the first `prologue_end` row
//!   of the line table; else, for a function that sets up a frame pointer,
//!   the end of its first line), at every function of that name in every
//!   module (aliases at one address count once), and at every inlined copy;
//! - `FILE:LINE`: every place the line's code starts (one per function or
//!   inlined copy); a line without code slides to the next line that has
//!   some; a line past the file's last line with code is an error;
//! - `*ADDR` or any other expression: exactly there.

use super::Session;
use crate::debuginfo::lines::LineRow;
use crate::debuginfo::units::{function_name, strip_parameters, ModuleDebugInfo, NameKind};
use crate::error::{Error, Result};
use crate::module::Module;
use crate::symbols::{elf::SymbolEntry, module_matches, SourceLocation};
use std::rc::Rc;

/// One place a breakpoint plants a byte.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BreakpointLocation {
    pub address: u64,
    /// The module (`libc.so.6`).
    pub module: Option<String>,
    /// The function (for an inlined copy, the inlined function).
    pub function: Option<String>,
    /// The source line of the address.
    pub location: Option<SourceLocation>,
    /// An inlined copy of the function.
    pub inlined: bool,
}

/// The code of one source line (gdb's `info line`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineRange {
    /// The file (full path) and line.
    pub location: SourceLocation,
    /// The file's name as the line table writes it (`types.c`).
    pub file_as_written: String,
    /// The first address of the line's code that holds the address asked about.
    pub start: u64,
    /// One past its last byte.
    pub end: u64,
}

/// A compilation unit, as gdb's `info source` describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceInfo {
    /// The unit's name (`types.c`).
    pub name: String,
    pub comp_dir: Option<String>,
    /// The full path of the unit's file.
    pub path: String,
    /// `c`, `c++` or `rust`.
    pub language: String,
    /// The compiler that made it.
    pub producer: Option<String>,
    pub dwarf_version: u16,
}

/// What a breakpoint specification names.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Spec<'a> {
    /// An expression: `*0x401000`, `main+0x10`, `rip`.
    Address(&'a str),
    /// `FILE:LINE`, optionally in one module.
    Line { module: Option<&'a str>, file: &'a str, line: u32 },
    /// A function by name, optionally in one module.
    Function { module: Option<&'a str>, name: &'a str },
}

/// Whether text is a module name: a file name, with `.`, `-` and `+` allowed
/// (`libstdc++.so.6`, `ld-linux-x86-64.so.2`), or a module's path.
pub(crate) fn looks_like_module(text: &str) -> bool {
    !text.is_empty()
        && text.chars().all(|c| c.is_alphanumeric() || "._-+/".contains(c))
        && !text.ends_with("operator")
        && !text.starts_with(['-', '+', '.'])
}

/// Splits `module!name` (the module quoted or not: `"lib-x.so"!f`).
pub(crate) fn split_module(text: &str) -> (Option<&str>, &str) {
    if let Some(rest) = text.strip_prefix('"') {
        if let Some((module, after)) = rest.split_once('"') {
            if let Some(name) = after.strip_prefix('!') {
                return (Some(module), name);
            }
        }
    }
    if let Some(i) = text.find('!') {
        let (module, name) = (&text[..i], &text[i + 1..]);
        if looks_like_module(module) && !name.is_empty() && !name.starts_with('=') {
            return (Some(module), name);
        }
    }
    (None, text)
}

/// Whether text names a function (C, C++ with or without parameters,
/// Rust paths, operators, destructors) rather than an expression.
pub(crate) fn looks_like_function(name: &str) -> bool {
    let name = name.trim();
    let Some(first) = name.chars().next() else { return false };
    if !(first.is_alphabetic() || first == '_' || first == '~' || name.starts_with("::")) {
        return false;
    }
    if name.contains("operator") {
        return true;
    }
    let body = strip_parameters(name);
    let mut depth = 0i32;
    for c in body.chars() {
        match c {
            '<' => depth += 1,
            '>' => depth -= 1,
            c if c.is_alphanumeric() || "_:~$.@".contains(c) => {}
            // Inside template arguments: types, with pointers and spaces.
            c if depth > 0 && " ,*&()[]".contains(c) => {}
            _ => return false,
        }
    }
    depth == 0
}

/// Classifies a breakpoint specification.
pub(crate) fn classify(spec: &str) -> Spec<'_> {
    let spec = spec.trim();
    if let Some(rest) = spec.strip_prefix('*') {
        return Spec::Address(rest.trim());
    }
    let (module, rest) = split_module(spec);
    if let Some((file, line)) = rest.rsplit_once(':') {
        if let Ok(line) = line.trim().parse::<u32>() {
            if file.contains('.') && !file.contains("::") {
                return Spec::Line { module, file: file.trim(), line };
            }
        }
    }
    if looks_like_function(rest) {
        return Spec::Function { module, name: rest.trim() };
    }
    Spec::Address(spec)
}

/// Removes spaces, for comparing C++ names written with or without them.
fn squeeze(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Whether a qualified name ends with `wanted` on a `::` boundary (gdb's
/// wild matching: `area` and `Square::area` both find `geometry::Square::area`).
fn qualified_match(qualified: &str, wanted: &str) -> bool {
    qualified == wanted
        || (qualified.len() > wanted.len()
            && qualified.ends_with(wanted)
            && qualified[..qualified.len() - wanted.len()].ends_with("::"))
}

/// Whether a symbol table entry is the function `wanted` names.
pub(crate) fn symbol_matches(entry: &SymbolEntry, wanted: &str) -> bool {
    if &*entry.raw == wanted || &*entry.name == wanted {
        return true;
    }
    if wanted.contains('(') {
        // With parameters: compare the whole demangled names, spaces aside.
        let full = squeeze(&entry.name[crate::debuginfo::units::name_start(&entry.name)..]);
        let w = squeeze(wanted);
        return full == w || (full.ends_with(&w) && full[..full.len() - w.len()].ends_with("::"));
    }
    qualified_match(function_name(&entry.name), wanted)
}

impl Session {
    /// Whether a breakpoint specification names a source place (a function
    /// or `FILE:LINE`), whose address follows gdb's rules (after the
    /// prologue, slid to a line with code), rather than an expression.
    pub fn is_source_location(spec: &str) -> bool {
        !matches!(classify(spec), Spec::Address(_))
    }

    /// Every place a breakpoint on `spec` plants a byte: a function's
    /// definitions in every module (after their prologues) and its inlined
    /// copies, every start of a source line's code, or exactly an
    /// expression's address (`*ADDR`). The breakpoint table makes one
    /// breakpoint with these locations.
    ///
    /// ```no_run
    /// # let mut session = dbgkit::Session::new(); let pid = 1;
    /// for location in session.breakpoint_locations(pid, "helper")? {
    ///     println!("{:#x} {:?} inlined={}", location.address, location.location, location.inlined);
    /// }
    /// # Ok::<(), dbgkit::Error>(())
    /// ```
    pub fn breakpoint_locations(&mut self, pid: i32, spec: &str) -> Result<Vec<BreakpointLocation>> {
        self.process(pid)?;
        let mut found = match classify(spec) {
            Spec::Address(text) => {
                let address = self.resolve_location(pid, text)?;
                vec![self.describe_location(pid, address, false)]
            }
            Spec::Line { module, file, line } => self.line_locations(pid, module, file, line)?,
            Spec::Function { module, name } => match self.function_locations(pid, module, name)? {
                found if !found.is_empty() => found,
                // Not a function: maybe a data symbol or a module, as an expression.
                _ => {
                    let address = self.resolve_location(pid, spec)?;
                    vec![self.describe_location(pid, address, false)]
                }
            },
        };
        found.sort_by_key(|l| l.address);
        found.dedup_by_key(|l| l.address);
        Ok(found)
    }

    /// The source line whose code holds `address`, and that code's range.
    pub fn line_range(&mut self, pid: i32, address: u64) -> Result<Option<LineRange>> {
        let Some(module) = self.process(pid)?.modules.iter().find(|m| m.contains(address)).cloned() else {
            return Ok(None);
        };
        let symbols = self.module_symbols(pid, &module);
        let Some(debug) = symbols.debug_info().cloned() else { return Ok(None) };
        let file_address = address.wrapping_sub(module.bias);
        let Some(unit) = debug.unit_at(file_address) else { return Ok(None) };
        let lines = unit.lines(&debug);
        let Some((row, end)) = lines.row_at(file_address) else { return Ok(None) };
        let file = lines.files.get(row.file as usize).cloned().unwrap_or_default();
        let file_as_written = lines.written.get(row.file as usize).cloned().unwrap_or_else(|| file.clone());
        Ok(Some(LineRange {
            location: SourceLocation { file, line: row.line, column: None },
            file_as_written,
            start: module.bias.wrapping_add(row.address),
            end: module.bias.wrapping_add(end),
        }))
    }

    /// What gdb's `info source` tells of the compilation unit holding `address`.
    pub fn source_info(&mut self, pid: i32, address: u64) -> Result<Option<SourceInfo>> {
        let Some(module) = self.process(pid)?.modules.iter().find(|m| m.contains(address)).cloned() else {
            return Ok(None);
        };
        let symbols = self.module_symbols(pid, &module);
        let Some(debug) = symbols.debug_info().cloned() else { return Ok(None) };
        let Some(unit) = debug.unit_at(address.wrapping_sub(module.bias)) else { return Ok(None) };
        let text = |value: Option<gimli::AttributeValue<crate::debuginfo::units::Reader>>| -> Option<String> {
            let raw = debug.dwarf().attr_string(&unit.unit, value?).ok()?;
            Some(gimli::Reader::to_string_lossy(&raw).ok()?.into_owned())
        };
        let mut entries = unit.unit.entries();
        let Ok(Some((_, root))) = entries.next_dfs() else { return Ok(None) };
        let name = text(root.attr_value(gimli::DW_AT_name).ok().flatten()).unwrap_or_default();
        let comp_dir = text(root.attr_value(gimli::DW_AT_comp_dir).ok().flatten());
        let producer = text(root.attr_value(gimli::DW_AT_producer).ok().flatten());
        let path = match &comp_dir {
            Some(dir) if !name.starts_with('/') => format!("{}/{name}", dir.trim_end_matches('/')),
            _ => name.clone(),
        };
        let language = match unit.language {
            crate::debuginfo::types::Language::C => "c",
            crate::debuginfo::types::Language::Cpp => "c++",
            crate::debuginfo::types::Language::Rust => "rust",
        };
        Ok(Some(SourceInfo {
            name,
            comp_dir,
            path,
            language: language.to_string(),
            producer,
            dwarf_version: unit.unit.header.version(),
        }))
    }

    /// The one address a breakpoint expression stands for, for a table
    /// with one address per breakpoint: several locations are an error
    /// listing them.
    pub(crate) fn resolve_breakpoint(&mut self, pid: i32, expression: &str) -> Result<u64> {
        if matches!(classify(expression), Spec::Address(_)) {
            let text = expression.trim().strip_prefix('*').unwrap_or(expression);
            return self.resolve_location(pid, text);
        }
        let locations = self.breakpoint_locations(pid, expression)?;
        match locations.as_slice() {
            [only] => Ok(only.address),
            [] => Err(Error::SymbolNotFound(expression.to_string())),
            many => {
                // The program's own definition, or the one global definition, wins.
                if let Some(address) = self.preferred_location(pid, expression, many) {
                    return Ok(address);
                }
                Err(Error::AmbiguousSymbol {
                    name: expression.to_string(),
                    candidates: many.iter().map(describe_candidate).collect(),
                })
            }
        }
    }

    fn preferred_location(&mut self, pid: i32, expression: &str, many: &[BreakpointLocation]) -> Option<u64> {
        if many.iter().any(|l| l.inlined) {
            return None;
        }
        let executable = self.process(pid).ok()?.modules.first().map(|m| m.name.clone());
        let own: Vec<&BreakpointLocation> = many.iter().filter(|l| l.module == executable).collect();
        if own.len() == 1 {
            return Some(own[0].address);
        }
        // One global, default-version definition among local copies (ld.so's own `openat`).
        let (_, name) = split_module(expression.trim());
        let preferred = self.lookup(pid, name).ok()?;
        let symbols_at = |l: &BreakpointLocation| l.address;
        many.iter().map(symbols_at).find(|&a| {
            let module = self.process(pid).ok().and_then(|p| p.modules.iter().find(|m| m.contains(a)).cloned());
            module.is_some_and(|m| m.contains(preferred))
        })
    }

    /// Module, function and line of an address.
    fn describe_location(&mut self, pid: i32, address: u64, inlined: bool) -> BreakpointLocation {
        let place = self.symbolize(pid, address).ok();
        let function = place
            .as_ref()
            .and_then(|p| p.inlined.first().and_then(|f| f.function.clone()).or_else(|| p.symbol.clone()));
        BreakpointLocation {
            address,
            module: place.as_ref().and_then(|p| p.module.clone()),
            function: function.map(|f| function_name(&f).to_string()),
            location: place.and_then(|p| p.location),
            inlined,
        }
    }

    /// The modules a specification's module part selects (all without one).
    fn modules_named(&self, pid: i32, module: Option<&str>) -> Result<Vec<Module>> {
        let modules: Vec<Module> = self.process(pid)?.modules.clone();
        match module {
            None => Ok(modules),
            Some(wanted) => {
                let selected: Vec<Module> = modules.into_iter().filter(|m| module_matches(m, wanted)).collect();
                if selected.is_empty() {
                    return Err(Error::NoSuchModule(wanted.to_string()));
                }
                Ok(selected)
            }
        }
    }

    fn function_locations(&mut self, pid: i32, module: Option<&str>, name: &str) -> Result<Vec<BreakpointLocation>> {
        let modules = self.modules_named(pid, module)?;
        let mut out: Vec<BreakpointLocation> = Vec::new();
        for m in &modules {
            let symbols = self.module_symbols(pid, m);
            let mut entries: Vec<u64> = symbols
                .elf
                .entries
                .iter()
                .filter(|e| e.is_function && !e.raw.ends_with("@plt") && symbol_matches(e, name))
                .map(|e| m.bias.wrapping_add(e.address))
                .collect();
            let debug = symbols.debug_info().cloned();
            let mut inlined: Vec<u64> = Vec::new();
            if let Some(debug) = &debug {
                // Functions only the DWARF names (a static function without a symbol).
                for (_, unit, die) in debug.find_names(name, NameKind::Function) {
                    if let Some(u) = debug.unit(unit) {
                        if let Some(f) = u.index(debug).functions.iter().find(|f| f.die == die) {
                            entries.push(m.bias.wrapping_add(f.low));
                        }
                    }
                }
                for (_, unit, die) in debug.find_names(name, NameKind::Inline) {
                    if let Some(address) = self.inline_breakpoint_address(debug, unit, die) {
                        inlined.push(m.bias.wrapping_add(address));
                    }
                }
            }
            entries.sort_unstable();
            entries.dedup();
            for entry in entries {
                let address = self.skip_prologue(pid, m, entry);
                out.push(self.describe_location(pid, address, false));
            }
            inlined.sort_unstable();
            inlined.dedup();
            for address in inlined {
                out.push(self.describe_location(pid, address, true));
            }
        }
        Ok(out)
    }

    /// Where a breakpoint on an inlined copy goes: its entry, moved past
    /// line-table rows that still belong to the caller's line (gdb stops
    /// at the first row of the inlined body).
    fn inline_breakpoint_address(
        &mut self,
        debug: &Rc<ModuleDebugInfo>,
        unit_offset: usize,
        die: usize,
    ) -> Option<u64> {
        let unit = debug.unit(unit_offset)?;
        let entry = unit.entry(die)?;
        let ranges = crate::debuginfo::units::die_ranges(debug.dwarf(), &unit.unit, &entry);
        let low = ranges.iter().map(|r| r.0).min()?;
        let entry_pc = match entry.attr_value(gimli::DW_AT_entry_pc).ok().flatten() {
            Some(gimli::AttributeValue::Addr(a)) => a,
            _ => low,
        };
        let call_line = entry
            .attr_value(gimli::DW_AT_call_line)
            .ok()
            .flatten()
            .as_ref()
            .and_then(crate::debuginfo::type_reader::udata)
            .unwrap_or(0) as u32;
        let lines = unit.lines(debug);
        // The line of an address is its last row; skip addresses whose line is the call's.
        let mut addresses: Vec<u64> = lines
            .rows
            .iter()
            .filter(|r| !r.end_sequence && ranges.iter().any(|&(lo, hi)| lo <= r.address && r.address < hi))
            .map(|r| r.address)
            .filter(|&a| a >= entry_pc)
            .collect();
        addresses.sort_unstable();
        addresses.dedup();
        for address in addresses {
            let last = lines.rows.iter().rfind(|r| r.address == address && !r.end_sequence)?;
            if last.line != call_line && last.line != 0 {
                return Some(address);
            }
        }
        Some(entry_pc)
    }

    /// gdb's prologue rule for the function starting at `address`: the
    /// first `prologue_end` row; else, when the function sets up a frame
    /// pointer (`push rbp; mov rbp, rsp`), the end of the line those are
    /// in; else the function's first instruction.
    pub fn skip_prologue(&mut self, pid: i32, module: &Module, address: u64) -> u64 {
        let symbols = self.module_symbols(pid, module);
        let file_address = address.wrapping_sub(module.bias);
        let function = symbols.debug_info().and_then(|d| d.function_at(file_address).map(|f| (d.clone(), f)));
        if let Some((debug, (unit, f))) = &function {
            if f.low == file_address {
                let lines = unit.lines(debug);
                let marked = lines
                    .rows
                    .iter()
                    .find(|r| r.prologue_end && !r.end_sequence && r.address > f.low && r.address < f.high);
                if let Some(row) = marked {
                    return module.bias.wrapping_add(row.address);
                }
            }
        }
        // The frame set-up gdb's x86-64 prologue analyser recognises.
        let mut code = [0u8; 12];
        if self.read_memory(pid, address, &mut code).is_err() {
            return address;
        }
        let mut at = 0usize;
        if code.starts_with(&[0xf3, 0x0f, 0x1e, 0xfa]) {
            at = 4; // endbr64
        }
        let push = code[at] == 0x55;
        let mov = code[at + 1..at + 4] == [0x48, 0x89, 0xe5] || code[at + 1..at + 4] == [0x48, 0x8b, 0xec];
        if !(push && mov) {
            return address;
        }
        let after_frame_setup = file_address + at as u64 + 4;
        let Some((debug, (unit, f))) = function else { return module.bias.wrapping_add(after_frame_setup) };
        if f.low != file_address {
            return module.bias.wrapping_add(after_frame_setup);
        }
        // Mid-line: go on to the start of the next line of the function.
        let lines = unit.lines(&debug);
        let next = lines
            .rows
            .iter()
            .filter(|r| !r.end_sequence && r.address > file_address && r.address < f.high)
            .map(|r| r.address)
            .filter(|&a| a >= after_frame_setup)
            .min();
        let at_row_start = lines.rows.iter().any(|r| r.address == after_frame_setup && !r.end_sequence);
        if at_row_start {
            return module.bias.wrapping_add(after_frame_setup);
        }
        module.bias.wrapping_add(next.unwrap_or(after_frame_setup))
    }

    fn line_locations(
        &mut self,
        pid: i32,
        module: Option<&str>,
        file: &str,
        line: u32,
    ) -> Result<Vec<BreakpointLocation>> {
        let modules = self.modules_named(pid, module)?;
        // Every line with code in the file, in every module: (module, unit, row).
        let mut rows: Vec<(Module, Rc<crate::debuginfo::units::UnitData>, LineRow)> = Vec::new();
        let mut file_seen = false;
        for m in &modules {
            let symbols = self.module_symbols(pid, m);
            let Some(debug) = symbols.debug_info().cloned() else { continue };
            // The line programs are read directly; only the units holding
            // rows of the file are parsed.
            let (file_rows, named) = crate::debuginfo::lines::scan_line_programs(&debug, file);
            file_seen |= named;
            for row in file_rows {
                if let Some(unit) = debug.unit_at(row.address) {
                    rows.push((m.clone(), unit, row));
                }
            }
        }
        if !file_seen {
            return Err(Error::NoCodeForLine { file: file.to_string(), line });
        }
        // The line itself, or the next line with code (gdb's rule).
        let chosen = rows.iter().map(|(_, _, r)| r.line).filter(|&l| l >= line).min();
        let Some(chosen) = chosen else {
            return Err(Error::LineOutOfRange { file: file.to_string(), line });
        };
        let mut out = Vec::new();
        let mut seen_blocks: Vec<(u64, usize, usize)> = Vec::new();
        let mut candidates: Vec<(Module, Rc<crate::debuginfo::units::UnitData>, u64)> =
            rows.into_iter().filter(|(_, _, r)| r.line == chosen).map(|(m, u, r)| (m, u, r.address)).collect();
        candidates.sort_by_key(|(m, _, a)| m.bias.wrapping_add(*a));
        for (m, unit, file_address) in candidates {
            // One location per function (or inlined copy): its lowest address for the line.
            let symbols = self.module_symbols(pid, &m);
            let Some(debug) = symbols.debug_info().cloned() else { continue };
            let function = unit.index(&debug).function_at(file_address).cloned();
            let block = innermost_inline(&debug, &unit, file_address, chosen);
            let key = (m.bias, function.as_ref().map(|f| f.die).unwrap_or(0), block.unwrap_or(0));
            if seen_blocks.contains(&key) {
                continue;
            }
            seen_blocks.push(key);
            let mut address = m.bias.wrapping_add(file_address);
            if function.as_ref().is_some_and(|f| f.low == file_address) {
                address = self.skip_prologue(pid, &m, address);
            }
            out.push(self.describe_location(pid, address, block.is_some()));
        }
        Ok(out)
    }
}

/// The innermost inlined copy holding a file address whose code the line
/// belongs to: a copy called from that very line is the caller's code there.
fn innermost_inline(
    debug: &ModuleDebugInfo,
    unit: &crate::debuginfo::units::UnitData,
    address: u64,
    line: u32,
) -> Option<usize> {
    let mut holding: Vec<&crate::debuginfo::units::InlineEntry> =
        unit.index(debug).inlines.iter().filter(|i| i.low <= address && address < i.high).collect();
    holding.sort_by_key(|i| i.high - i.low);
    holding
        .into_iter()
        .find(|i| {
            let call_line = unit
                .entry(i.die)
                .and_then(|e| e.attr_value(gimli::DW_AT_call_line).ok().flatten())
                .as_ref()
                .and_then(crate::debuginfo::type_reader::udata);
            call_line != Some(u64::from(line))
        })
        .map(|i| i.die)
}

fn describe_candidate(l: &BreakpointLocation) -> String {
    let module = l.module.clone().unwrap_or_default();
    let function = l.function.clone().unwrap_or_else(|| format!("{:#x}", l.address));
    let place = l.location.as_ref().map(|s| {
        let file =
            std::path::Path::new(&s.file).file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
        format!(" ({file}:{})", s.line)
    });
    let inlined = if l.inlined { " (inlined)" } else { "" };
    format!("{module}!{function}{inlined}{} at {:#x}", place.unwrap_or_default(), l.address)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specifications_are_told_apart() {
        assert_eq!(classify("*0x401000"), Spec::Address("0x401000"));
        assert_eq!(classify("main+0x10"), Spec::Address("main+0x10"));
        assert_eq!(classify("types.c:91"), Spec::Line { module: None, file: "types.c", line: 91 });
        assert_eq!(classify("types!types.c:91"), Spec::Line { module: Some("types"), file: "types.c", line: 91 });
        assert_eq!(classify("geometry::twice<int>"), Spec::Function { module: None, name: "geometry::twice<int>" });
        assert_eq!(
            classify("ns::f(int, char const*)"),
            Spec::Function { module: None, name: "ns::f(int, char const*)" }
        );
        assert_eq!(classify("Klass::~Klass"), Spec::Function { module: None, name: "Klass::~Klass" });
        assert_eq!(
            classify("geometry::Point::operator+"),
            Spec::Function { module: None, name: "geometry::Point::operator+" }
        );
        assert_eq!(
            classify("libstdc++.so.6!__cxa_throw"),
            Spec::Function { module: Some("libstdc++.so.6"), name: "__cxa_throw" }
        );
        assert_eq!(classify("\"libmy-plugin.so\"!fn"), Spec::Function { module: Some("libmy-plugin.so"), name: "fn" });
        assert_eq!(
            classify("ld-linux-x86-64.so.2!_dl_map_object"),
            Spec::Function { module: Some("ld-linux-x86-64.so.2"), name: "_dl_map_object" }
        );
        assert_eq!(classify("rusty::scoring::bonus"), Spec::Function { module: None, name: "rusty::scoring::bonus" });
        assert_eq!(classify("rax != 0"), Spec::Address("rax != 0"));
    }

    fn entry(raw: &str, name: &str) -> SymbolEntry {
        SymbolEntry {
            address: 0x1000,
            size: 16,
            raw: raw.into(),
            name: name.into(),
            is_function: true,
            is_global: true,
            is_ifunc: false,
        }
    }

    #[test]
    fn names_match_as_people_type_them() {
        let area = entry("_ZNK8geometry6Square4areaEv", "geometry::Square::area() const");
        assert!(symbol_matches(&area, "geometry::Square::area"));
        assert!(symbol_matches(&area, "Square::area"));
        assert!(symbol_matches(&area, "area"));
        assert!(symbol_matches(&area, "geometry::Square::area() const"));
        assert!(symbol_matches(&area, "Square::area()const"));
        assert!(!symbol_matches(&area, "quare::area"));
        let twice = entry("_ZN8geometry5twiceIiEET_S1_", "int geometry::twice<int>(int)");
        assert!(symbol_matches(&entry("x", "geometry::twice<int>(int)"), "geometry::twice<int>"));
        let _ = twice;
        let dtor = entry("_ZN8geometry6SquareD2Ev", "geometry::Square::~Square()");
        assert!(symbol_matches(&dtor, "Square::~Square"));
        assert!(symbol_matches(&entry("x", "rusty::scoring::bonus"), "scoring::bonus"));
    }
}
