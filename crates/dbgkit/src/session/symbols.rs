//! Names for addresses and addresses for names.

use super::Session;
use crate::error::{Error, Result};
use crate::module::Module;
use crate::symbols::{module_matches, ModuleSymbols, Symbol, Symbolized};
use std::path::Path;
use std::rc::Rc;

/// A symbol name, split into its module and name parts, or a source line.
enum NameQuery<'a> {
    Qualified { module: &'a str, name: &'a str },
    ModuleLine { module: &'a str, file: &'a str, line: u32 },
    Bare(&'a str),
    Line { file: &'a str, line: u32 },
}

fn parse_query(text: &str) -> NameQuery<'_> {
    // `module!name`, the module quoted or not (`"lib-x.so"!f`, `libstdc++.so.6!__cxa_throw`);
    // a `!` of a C++ operator (`operator!=`) splits nothing.
    if let (Some(module), name) = super::locations::split_module(text) {
        if let Some((file, line)) = name.rsplit_once(':') {
            if let Ok(line) = line.parse::<u32>() {
                if file.contains('.') && !file.contains("::") {
                    return NameQuery::ModuleLine { module, file, line };
                }
            }
        }
        return NameQuery::Qualified { module, name };
    }
    if let Some((file, line)) = text.rsplit_once(':') {
        if let Ok(line) = line.parse::<u32>() {
            if file.contains('.') && !file.contains("::") {
                return NameQuery::Line { file, line };
            }
        }
    }
    NameQuery::Bare(text)
}

/// Whether a name can be a function's or variable's (not a module name or
/// an address): worth matching against qualified and demangled names.
fn looks_like_code_name(name: &str) -> bool {
    super::locations::looks_like_function(name)
}

impl Session {
    /// Adds a directory searched for separate debug files (by build-id in
    /// `DIR/.build-id/xx/yyyy.debug`, and by debug link), before the standard ones.
    pub fn add_symbol_path(&mut self, dir: impl Into<std::path::PathBuf>) {
        self.symbols.search.add(dir);
    }

    /// The symbols of a module, loaded on first use.
    pub(crate) fn module_symbols(&mut self, pid: i32, module: &Module) -> Rc<ModuleSymbols> {
        if let Some(s) = self.symbols.get(module) {
            return s;
        }
        let image = if module.path == Path::new("[vdso]") {
            let mut bytes = vec![0u8; module.size as usize];
            let n = self.read_memory_partial(pid, module.base, &mut bytes).unwrap_or(0);
            bytes.truncate(n);
            Some(bytes)
        } else {
            None
        };
        let loaded = ModuleSymbols::load(&module.path, image.as_deref(), &self.symbols.search);
        self.symbols.insert(module, loaded)
    }

    /// Names an address: module, symbol and offset, source line and inline chain.
    ///
    /// ```no_run
    /// # let mut session = dbgkit::Session::new(); let (pid, rip) = (1, 0);
    /// let place = session.symbolize(pid, rip)?;
    /// println!("{}", place.with_location()); // libc.so.6!malloc+0x1f (malloc.c:3287)
    /// # Ok::<(), dbgkit::Error>(())
    /// ```
    pub fn symbolize(&mut self, pid: i32, address: u64) -> Result<Symbolized> {
        let address = self.original_address(pid, address)?;
        let module = self.process(pid)?.modules.iter().find(|m| m.contains(address)).cloned();
        let Some(module) = module else {
            return Ok(Symbolized {
                address,
                module: None,
                module_offset: 0,
                symbol: None,
                raw_symbol: None,
                offset: 0,
                location: None,
                inlined: Vec::new(),
            });
        };
        let symbols = self.module_symbols(pid, &module);
        let file_address = address.wrapping_sub(module.bias);
        let entry = symbols.elf.covering(file_address);
        let inlined = symbols.frames_at(file_address);
        Ok(Symbolized {
            address,
            module: Some(module.name.clone()),
            module_offset: address - module.base,
            symbol: entry.map(|e| e.name.to_string()),
            raw_symbol: entry.map(|e| e.raw.to_string()),
            offset: entry.map(|e| file_address - e.address).unwrap_or(0),
            location: inlined.first().and_then(|f| f.location.clone()),
            inlined,
        })
    }

    /// An address in scratch memory stands for the original instruction it copies.
    pub(crate) fn original_address(&self, pid: i32, address: u64) -> Result<u64> {
        let p = self.process(pid)?;
        if !p.scratch.contains(address) {
            return Ok(address);
        }
        Ok(p.sites.iter().find_map(|(&a, s)| s.original_pc(a, address)).unwrap_or(address))
    }

    /// Every symbol a name stands for, in module load order: `module!name`,
    /// a bare `name`, or `file.c:42` (one per place the line's code starts).
    pub fn lookup_all(&mut self, pid: i32, name: &str) -> Result<Vec<Symbol>> {
        let modules = self.process(pid)?.modules.clone();
        let query = parse_query(name.trim());
        let mut found = Vec::new();
        match query {
            NameQuery::Qualified { module: wanted, name } => {
                let module = modules
                    .iter()
                    .find(|m| module_matches(m, wanted))
                    .ok_or_else(|| Error::NoSuchModule(wanted.into()))?;
                self.collect_named(pid, module, name, &mut found);
            }
            NameQuery::Bare(name) => {
                for module in &modules {
                    self.collect_named(pid, module, name, &mut found);
                }
                // As in WinDbg, a module's name stands for its base (`libc.so.6+0x1234`).
                if found.is_empty() {
                    if let Some(m) = modules.iter().find(|m| m.name == name || module_matches(m, name)) {
                        found.push(Symbol {
                            module: m.name.clone(),
                            name: m.name.clone(),
                            raw_name: m.name.clone(),
                            address: m.base,
                            size: m.size,
                        });
                    }
                }
            }
            NameQuery::Line { file, line } => return self.line_symbols(pid, &modules, file, line),
            NameQuery::ModuleLine { module: wanted, file, line } => {
                let selected: Vec<Module> = modules.iter().filter(|m| module_matches(m, wanted)).cloned().collect();
                if selected.is_empty() {
                    return Err(Error::NoSuchModule(wanted.into()));
                }
                return self.line_symbols(pid, &selected, file, line);
            }
        }
        if found.is_empty() {
            return Err(Error::SymbolNotFound(name.into()));
        }
        Ok(found)
    }

    /// `file.c:42` in some modules: one symbol per place the line's code starts.
    fn line_symbols(&mut self, pid: i32, modules: &[Module], file: &str, line: u32) -> Result<Vec<Symbol>> {
        let mut found = Vec::new();
        for module in modules {
            let symbols = self.module_symbols(pid, module);
            let Some(dwarf) = &symbols.dwarf else { continue };
            for file_address in dwarf.addresses_for_line(file, line) {
                found.push(Symbol {
                    module: module.name.clone(),
                    name: format!("{file}:{line}"),
                    raw_name: format!("{file}:{line}"),
                    address: module.bias.wrapping_add(file_address),
                    size: 0,
                });
            }
        }
        if found.is_empty() {
            return Err(Error::NoCodeForLine { file: file.into(), line });
        }
        Ok(found)
    }

    /// The symbols of one module a name stands for: its symbol table
    /// entries (C++ and Rust names matched without their parameters, or
    /// with them; a trailing part of a qualified name matches, as gdb's
    /// names do), functions only the DWARF knows, and inlined copies.
    fn collect_named(&mut self, pid: i32, module: &Module, name: &str, found: &mut Vec<Symbol>) {
        let symbols = self.module_symbols(pid, module);
        let exact: Vec<&crate::symbols::elf::SymbolEntry> = symbols.elf.named(name).collect();
        // An exact name wins over a trailing match (`main` is not `std::rt::main`).
        let matching: Vec<&crate::symbols::elf::SymbolEntry> = if exact.is_empty() && looks_like_code_name(name) {
            symbols.elf.entries.iter().filter(|e| e.is_function && super::locations::symbol_matches(e, name)).collect()
        } else {
            exact
        };
        for e in matching {
            let address = module.bias.wrapping_add(e.address);
            if !found.iter().any(|s: &Symbol| s.address == address) {
                found.push(Symbol {
                    module: module.name.clone(),
                    name: e.name.to_string(),
                    raw_name: e.raw.to_string(),
                    address,
                    size: e.size,
                });
            }
        }
        let Some(debug) = symbols.debug_info().cloned() else { return };
        if !looks_like_code_name(name) {
            return;
        }
        let mut dwarf_places: Vec<(String, u64, u64)> = Vec::new();
        for (qualified, unit, die) in debug.find_names(name, crate::debuginfo::units::NameKind::Function) {
            if let Some(u) = debug.unit(unit) {
                for f in u.index(&debug).functions.iter().filter(|f| f.die == die) {
                    dwarf_places.push((qualified.clone(), f.low, f.high - f.low));
                }
            }
        }
        for (qualified, unit, die) in debug.find_names(name, crate::debuginfo::units::NameKind::Inline) {
            if let Some(u) = debug.unit(unit) {
                let low = u.index(&debug).inlines.iter().filter(|i| i.die == die).map(|i| i.low).min();
                if let Some(low) = low {
                    dwarf_places.push((qualified.clone(), low, 0));
                }
            }
        }
        for (qualified, low, size) in dwarf_places {
            let address = module.bias.wrapping_add(low);
            if !found.iter().any(|s: &Symbol| s.address == address) {
                found.push(Symbol {
                    module: module.name.clone(),
                    name: qualified.clone(),
                    raw_name: qualified,
                    address,
                    size,
                });
            }
        }
    }

    /// The one address a name stands for. A bare name found in several
    /// modules is an error listing them, unless one is the executable (it
    /// wins, as the program's own names do in gdb).
    pub fn lookup(&mut self, pid: i32, name: &str) -> Result<u64> {
        let found = self.lookup_all(pid, name)?;
        let addresses: std::collections::BTreeSet<u64> = found.iter().map(|s| s.address).collect();
        if addresses.len() == 1 || !matches!(parse_query(name.trim()), NameQuery::Bare(_)) {
            return Ok(found[0].address);
        }
        let executable = self.process(pid)?.modules.first().map(|m| m.name.clone());
        let in_executable: Vec<&Symbol> = found.iter().filter(|s| Some(&s.module) == executable.as_ref()).collect();
        if in_executable.len() == 1 {
            return Ok(in_executable[0].address);
        }
        let modules: std::collections::BTreeSet<&str> = found.iter().map(|s| s.module.as_str()).collect();
        if modules.len() == 1 {
            return Ok(found[0].address);
        }
        // A global definition (of the default version) among a module's
        // private copies: the loader's own `openat` does not hide libc's.
        let preferred: Vec<&Symbol> = found.iter().filter(|s| self.is_preferred_definition(pid, s)).collect();
        if preferred.len() == 1 {
            return Ok(preferred[0].address);
        }
        Err(Error::AmbiguousSymbol { name: name.into(), candidates: found.iter().map(|s| s.to_string()).collect() })
    }

    /// Whether a symbol is its module's exported definition of the name: a
    /// global symbol, not an older version (`memcpy@GLIBC_2.2.5`).
    fn is_preferred_definition(&mut self, pid: i32, symbol: &Symbol) -> bool {
        let Some(module) =
            self.process(pid).ok().and_then(|p| p.modules.iter().find(|m| m.name == symbol.module).cloned())
        else {
            return false;
        };
        let symbols = self.module_symbols(pid, &module);
        let file_address = symbol.address.wrapping_sub(module.bias);
        symbols
            .elf
            .entries
            .iter()
            .any(|e| e.address == file_address && e.is_global && (!e.raw.contains('@') || e.raw.contains("@@")))
    }

    /// Symbols whose name matches a regular expression, optionally only in
    /// modules matching `module` (same rules as `module!name`).
    pub fn search_symbols(&mut self, pid: i32, pattern: &str, module: Option<&str>) -> Result<Vec<Symbol>> {
        let regex = regex::Regex::new(pattern)
            .map_err(|e| Error::BadPattern { pattern: pattern.into(), reason: e.to_string() })?;
        let modules: Vec<Module> = self
            .process(pid)?
            .modules
            .iter()
            .filter(|m| module.is_none_or(|w| module_matches(m, w)))
            .cloned()
            .collect();
        if let (Some(wanted), true) = (module, modules.is_empty()) {
            return Err(Error::NoSuchModule(wanted.into()));
        }
        let mut out = Vec::new();
        for m in &modules {
            let symbols = self.module_symbols(pid, m);
            for e in &symbols.elf.entries {
                // Wildcards match the demangled name without its parameters too (`x *!geometry::*area`).
                let plain = crate::debuginfo::units::function_name(&e.name);
                if regex.is_match(&e.name) || regex.is_match(&e.raw) || (plain != &*e.name && regex.is_match(plain)) {
                    out.push(Symbol {
                        module: m.name.clone(),
                        name: e.name.to_string(),
                        raw_name: e.raw.to_string(),
                        address: m.bias.wrapping_add(e.address),
                        size: e.size,
                    });
                }
            }
        }
        Ok(out)
    }
}
