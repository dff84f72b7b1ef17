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
    Bare(&'a str),
    Line { file: &'a str, line: u32 },
}

fn parse_query(text: &str) -> NameQuery<'_> {
    if let Some((module, name)) = text.split_once('!') {
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
            NameQuery::Line { file, line } => {
                for module in &modules {
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
                return Ok(found);
            }
        }
        if found.is_empty() {
            return Err(Error::SymbolNotFound(name.into()));
        }
        Ok(found)
    }

    fn collect_named(&mut self, pid: i32, module: &Module, name: &str, found: &mut Vec<Symbol>) {
        let symbols = self.module_symbols(pid, module);
        for e in symbols.elf.named(name) {
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
    }

    /// The one address a name stands for. A bare name found in several
    /// modules is an error listing them, unless one is the executable (it
    /// wins, as the program's own names do in gdb).
    pub fn lookup(&mut self, pid: i32, name: &str) -> Result<u64> {
        let found = self.lookup_all(pid, name)?;
        if found.len() == 1 || !matches!(parse_query(name.trim()), NameQuery::Bare(_)) {
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
        Err(Error::AmbiguousSymbol { name: name.into(), candidates: found.iter().map(|s| s.to_string()).collect() })
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
                if regex.is_match(&e.name) || regex.is_match(&e.raw) {
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
