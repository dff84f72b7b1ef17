//! ELF symbol tables (`.symtab`, `.dynsym`) and names for PLT entries.

use super::demangle::demangle;
use iced_x86::{Decoder, DecoderOptions, Mnemonic, OpKind, Register};
use object::{Object, ObjectSection, ObjectSymbol, ObjectSymbolTable, RelocationTarget, SymbolKind};
use std::collections::HashMap;

/// One symbol, at its file (link-time) address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SymbolEntry {
    pub address: u64,
    pub size: u64,
    /// The name as stored in the file.
    pub raw: Box<str>,
    /// Demangled (equal to `raw` for C names).
    pub name: Box<str>,
    pub is_function: bool,
    pub is_global: bool,
    /// An indirect function (`STT_GNU_IFUNC`): the address is a resolver
    /// that returns the implementation chosen for this CPU.
    pub is_ifunc: bool,
}

/// Every symbol of one file, sorted by address, the preferred name first at
/// each address.
#[derive(Debug, Default)]
pub struct ElfSymbols {
    pub entries: Vec<SymbolEntry>,
}

impl ElfSymbols {
    /// Reads `.symtab`, `.dynsym` and the PLT of an ELF file.
    pub fn read(file: &object::File<'_>) -> ElfSymbols {
        let mut entries: Vec<SymbolEntry> = Vec::new();
        for sym in file.symbols().chain(file.dynamic_symbols()) {
            if sym.is_undefined() || sym.address() == 0 {
                continue;
            }
            // Untyped labels in code are places too: the kernel's entry code
            // (`entry_SYSCALL_64_after_hwframe`) has no other name.
            let untyped_code = sym.kind() == SymbolKind::Unknown
                && sym
                    .section_index()
                    .and_then(|i| file.section_by_index(i).ok())
                    .is_some_and(|s| s.kind() == object::SectionKind::Text);
            let is_function = sym.kind() == SymbolKind::Text || untyped_code;
            if !is_function && sym.kind() != SymbolKind::Data {
                continue;
            }
            let Ok(raw) = sym.name() else { continue };
            if raw.is_empty() {
                continue;
            }
            entries.push(SymbolEntry {
                address: sym.address(),
                size: sym.size(),
                name: demangle(without_version(raw)).into(),
                raw: raw.into(),
                is_function,
                is_global: sym.is_global(),
                is_ifunc: matches!(sym.flags(), object::SymbolFlags::Elf { st_info, .. } if st_info & 0xf == object::elf::STT_GNU_IFUNC),
            });
        }
        entries.extend(plt_entries(file));
        entries.sort_by(|a, b| a.address.cmp(&b.address).then_with(|| preference(a).cmp(&preference(b))));
        entries.dedup_by(|later, earlier| later.address == earlier.address && later.raw == earlier.raw);
        ElfSymbols { entries }
    }

    /// The symbol covering `address` (file address): a sized symbol that
    /// contains it, else the nearest label (size 0) before it.
    pub fn covering(&self, address: u64) -> Option<&SymbolEntry> {
        let end = self.entries.partition_point(|e| e.address <= address);
        let mut nearest_label = None;
        for e in self.entries[..end].iter().rev().take(64) {
            if e.size > 0 && address < e.address + e.size {
                // The preferred name at that address comes first in the sort.
                let first = self.entries[..end].partition_point(|x| x.address < e.address);
                return self.entries[first..end].iter().find(|x| x.size > 0 && address < x.address + x.size);
            }
            if e.size == 0 && nearest_label.is_none() {
                nearest_label = Some(e);
            }
            if e.size > 0 && nearest_label.is_some() {
                break;
            }
        }
        nearest_label.filter(|label| {
            // A label counts only if no sized symbol ends between it and the address.
            !self.entries[..end]
                .iter()
                .any(|e| e.size > 0 && e.address > label.address && e.address + e.size <= address)
        })
    }

    /// Symbols with this raw or demangled name.
    pub fn named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a SymbolEntry> + 'a {
        self.entries.iter().filter(move |e| &*e.raw == name || &*e.name == name)
    }
}

/// `__libc_start_main@@GLIBC_2.34` -> `__libc_start_main` (symbol versions
/// appear in the names of some `.symtab`s).
fn without_version(raw: &str) -> &str {
    match raw.find('@') {
        Some(at) if at > 0 => &raw[..at],
        _ => raw,
    }
}

/// Lower sorts first: global before local, functions before data, no
/// leading underscore, then shorter names.
fn preference(e: &SymbolEntry) -> (bool, bool, bool, usize) {
    (!e.is_global, !e.is_function, e.raw.starts_with('_'), e.raw.len())
}

/// `name@plt` for each PLT entry: every `jmp [rip+x]` in `.plt`, `.plt.sec`
/// and `.plt.got` jumps through a GOT slot whose dynamic relocation names
/// the function.
fn plt_entries(file: &object::File<'_>) -> Vec<SymbolEntry> {
    let mut slot_names: HashMap<u64, String> = HashMap::new();
    if let (Some(relocations), Some(table)) = (file.dynamic_relocations(), file.dynamic_symbol_table()) {
        for (slot, relocation) in relocations {
            if let RelocationTarget::Symbol(index) = relocation.target() {
                if let Ok(name) = table.symbol_by_index(index).and_then(|s| s.name().map(str::to_string)) {
                    if !name.is_empty() {
                        slot_names.insert(slot, name);
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    for (section_name, entry_size) in [(".plt", 16u64), (".plt.sec", 16), (".plt.got", 8)] {
        let Some(section) = file.section_by_name(section_name) else { continue };
        let Ok(data) = section.data() else { continue };
        let mut decoder = Decoder::with_ip(64, data, section.address(), DecoderOptions::NONE);
        while decoder.can_decode() {
            let instruction = decoder.decode();
            let is_got_jump = instruction.mnemonic() == Mnemonic::Jmp
                && instruction.op0_kind() == OpKind::Memory
                && instruction.memory_base() == Register::RIP;
            if !is_got_jump {
                continue;
            }
            let Some(name) = slot_names.get(&instruction.memory_displacement64()) else { continue };
            let start = instruction.ip() - (instruction.ip() - section.address()) % entry_size;
            let raw = format!("{name}@plt");
            out.push(SymbolEntry {
                address: start,
                size: entry_size,
                name: format!("{}@plt", demangle(name)).into(),
                raw: raw.into(),
                is_function: true,
                is_global: false,
                is_ifunc: false,
            });
        }
    }
    out
}
