//! Symbols per module: ELF symbol tables, separate debug files, DWARF
//! lines and inline chains, demangled names. Loaded lazily, the first time
//! an address or a name of a module is asked for, and cached per file.

pub mod debug_file;
pub mod demangle;
pub mod dwarf;
pub mod elf;
pub mod mapped;
pub mod system_map;

pub use debug_file::DebugSearchPath;
pub use dwarf::{InlineFrame, SourceLocation};

use crate::module::Module;
use dwarf::DwarfInfo;
use elf::ElfSymbols;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// A named symbol of a module, at its runtime address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Symbol {
    /// Short module name (`libc.so.6`).
    pub module: String,
    /// Demangled name.
    pub name: String,
    /// The name as stored in the file.
    pub raw_name: String,
    pub address: u64,
    pub size: u64,
}

impl std::fmt::Display for Symbol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}!{}", self.module, self.name)
    }
}

/// Everything known about an address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Symbolized {
    pub address: u64,
    /// The module containing the address, if any.
    pub module: Option<String>,
    /// Offset from the module's base.
    pub module_offset: u64,
    /// The covering symbol (demangled) and the offset into it.
    pub symbol: Option<String>,
    pub raw_symbol: Option<String>,
    pub offset: u64,
    /// The innermost source position.
    pub location: Option<SourceLocation>,
    /// The inline chain, innermost first (one entry when nothing is inlined).
    pub inlined: Vec<InlineFrame>,
}

impl std::fmt::Display for Symbolized {
    /// WinDbg style: `libc.so.6!malloc+0x1f`, `module+0x1234`, or the bare address.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.module, &self.symbol) {
            (Some(m), Some(s)) if self.offset == 0 => write!(f, "{m}!{s}"),
            (Some(m), Some(s)) => write!(f, "{m}!{s}+{:#x}", self.offset),
            (Some(m), None) => write!(f, "{m}+{:#x}", self.module_offset),
            _ => write!(f, "{:#x}", self.address),
        }
    }
}

impl Symbolized {
    /// `name+off (file.c:12)`, the way trace lines and stack frames show it.
    pub fn with_location(&self) -> String {
        match &self.location {
            Some(l) => {
                let file =
                    Path::new(&l.file).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or(l.file.clone());
                format!("{self} ({file}:{})", l.line)
            }
            None => self.to_string(),
        }
    }
}

/// The symbols of one file.
#[derive(Debug, Default)]
pub struct ModuleSymbols {
    pub elf: ElfSymbols,
    pub dwarf: Option<DwarfInfo>,
    /// The separate debug file used, if any.
    pub debug_file: Option<PathBuf>,
}

impl ModuleSymbols {
    /// Reads a module's symbols from its file (or from `image` for the vDSO),
    /// plus its separate debug file when there is one. Bad files give empty tables.
    pub fn load(path: &Path, image: Option<&[u8]>, search: &DebugSearchPath) -> ModuleSymbols {
        // The parsers are third-party code fed with untrusted files: a bug
        // in them must cost this module's symbols, not the debugger.
        std::panic::catch_unwind(|| ModuleSymbols::load_unguarded(path, image, search)).unwrap_or_default()
    }

    fn load_unguarded(path: &Path, image: Option<&[u8]>, search: &DebugSearchPath) -> ModuleSymbols {
        // A file is mapped, not read: only the pages looked at are read.
        let mapping = match image {
            Some(_) => None,
            None => match mapped::Mapping::of_file(path) {
                Some(m) => Some(std::rc::Rc::new(m)),
                None => return ModuleSymbols::default(),
            },
        };
        let data: &[u8] = match (image, &mapping) {
            (Some(bytes), _) => bytes,
            (None, Some(m)) => m.bytes(),
            (None, None) => return ModuleSymbols::default(),
        };
        let Ok(file) = object::File::parse(data) else {
            // Not ELF: a kernel's System.map is a symbol table too.
            let elf = system_map::parse(data).unwrap_or_default();
            return ModuleSymbols { elf, dwarf: None, debug_file: None };
        };
        let mut symbols = ModuleSymbols {
            elf: ElfSymbols::read(&file),
            dwarf: DwarfInfo::load(&file, mapping.as_ref()),
            debug_file: None,
        };
        if image.is_none() {
            if let Some(debug_path) = debug_file::find_debug_file(path, &file, search) {
                if let Some(debug_mapping) = mapped::Mapping::of_file(&debug_path).map(std::rc::Rc::new) {
                    if let Ok(debug) = object::File::parse(debug_mapping.bytes()) {
                        let extra = ElfSymbols::read(&debug);
                        if extra.entries.len() > symbols.elf.entries.len() {
                            symbols.elf = extra;
                        }
                        if symbols.dwarf.is_none() {
                            symbols.dwarf = DwarfInfo::load(&debug, Some(&debug_mapping));
                        }
                        symbols.debug_file = Some(debug_path);
                    }
                }
            }
        }
        symbols
    }
}

impl ModuleSymbols {
    /// The module's DWARF for source-level work, when it has some.
    pub fn debug_info(&self) -> Option<&Rc<crate::debuginfo::ModuleDebugInfo>> {
        self.dwarf.as_ref().map(|d| &d.debug)
    }

    /// The inline chain at a file address, innermost first; where DWARF
    /// says nothing, the covering symbol of the symbol table alone.
    pub fn frames_at(&self, file_address: u64) -> Vec<InlineFrame> {
        let dwarf_frames = || self.dwarf.as_ref().map(|d| d.frames(file_address)).unwrap_or_default();
        let frames = std::panic::catch_unwind(std::panic::AssertUnwindSafe(dwarf_frames)).unwrap_or_default();
        if frames.iter().any(|f| f.function.is_some() || f.location.is_some()) {
            return frames.into_iter().filter(|f| f.function.is_some() || f.location.is_some()).collect();
        }
        self.elf
            .covering(file_address)
            .map(|e| vec![InlineFrame { function: Some(e.name.to_string()), location: None }])
            .unwrap_or_default()
    }
}

/// Symbols of every file seen, by path.
#[derive(Debug)]
pub(crate) struct SymbolCache {
    files: HashMap<PathBuf, Rc<ModuleSymbols>>,
    pub search: DebugSearchPath,
    /// Every type looked at, from any module (see `debuginfo::types`).
    pub types: crate::debuginfo::TypeTable,
    /// Pretty printers for values of every module.
    pub printers: crate::debuginfo::PrettyPrinters,
}

impl Default for SymbolCache {
    fn default() -> Self {
        SymbolCache {
            files: HashMap::new(),
            search: DebugSearchPath::default(),
            types: crate::debuginfo::TypeTable::new(),
            printers: Default::default(),
        }
    }
}

impl SymbolCache {
    pub(crate) fn get(&self, module: &Module) -> Option<Rc<ModuleSymbols>> {
        self.files.get(&module.path).cloned()
    }

    pub(crate) fn insert(&mut self, module: &Module, symbols: ModuleSymbols) -> Rc<ModuleSymbols> {
        let rc = Rc::new(symbols);
        self.files.insert(module.path.clone(), rc.clone());
        rc
    }
}

/// Whether `wanted` names `module`: its full name (`libc.so.6`), its name
/// without the `.so...` suffix (`libc`) or without any extension.
pub fn module_matches(module: &Module, wanted: &str) -> bool {
    let name = module.name.as_str();
    name == wanted
        || name.split(".so").next() == Some(wanted)
        || name.split('.').next() == Some(wanted)
        || module.path.to_str() == Some(wanted)
}
