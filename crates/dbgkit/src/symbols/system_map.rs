//! A kernel's `System.map` (`ffffffff81000000 T _text`, one symbol a line,
//! as `nm` prints them) as a symbol table, for kernels debugged without
//! their `vmlinux`.

use super::elf::{ElfSymbols, SymbolEntry};

/// Reads a `System.map`; `None` when the text is not one (no line parses).
pub fn parse(text: &[u8]) -> Option<ElfSymbols> {
    let text = std::str::from_utf8(text).ok()?;
    let mut entries: Vec<SymbolEntry> = Vec::new();
    for line in text.lines() {
        let mut fields = line.split_whitespace();
        let (Some(address), Some(kind), Some(name)) = (fields.next(), fields.next(), fields.next()) else {
            continue;
        };
        let Ok(address) = u64::from_str_radix(address, 16) else { continue };
        let kind = kind.chars().next().unwrap_or('?');
        // Absolute symbols (per-CPU offsets, build constants) are not places in the image.
        if matches!(kind, 'a' | 'A' | 'U' | 'w' | 'W') || fields.next().is_some() {
            continue;
        }
        entries.push(SymbolEntry {
            address,
            size: 0,
            raw: name.into(),
            name: name.into(),
            is_function: matches!(kind, 't' | 'T'),
            is_global: kind.is_ascii_uppercase(),
            is_ifunc: false,
        });
    }
    if entries.is_empty() {
        return None;
    }
    entries.sort_by(|a, b| a.address.cmp(&b.address).then_with(|| b.is_global.cmp(&a.is_global)));
    // No sizes in a System.map: each symbol ends where the next one starts.
    for i in 0..entries.len() {
        let next = entries[i + 1..].iter().find(|e| e.address > entries[i].address).map(|e| e.address);
        if let Some(next) = next {
            entries[i].size = next - entries[i].address;
        }
    }
    Some(ElfSymbols { entries })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_system_map_becomes_a_symbol_table() {
        let map = b"0000000000000000 D __per_cpu_start\n\
                    ffffffff81000000 T _text\n\
                    ffffffff81000000 T startup_64\n\
                    ffffffff810be350 T __x64_sys_getpid\n\
                    ffffffff810be380 t do_something_local\n\
                    0000000000000400 A some_absolute\n\
                    ffffffff82000360 D sys_call_table\n";
        let symbols = parse(map).unwrap();
        let getpid = symbols.named("__x64_sys_getpid").next().unwrap();
        assert_eq!((getpid.address, getpid.size, getpid.is_function), (0xffff_ffff_810b_e350, 0x30, true));
        assert_eq!(symbols.covering(0xffff_ffff_810b_e360).unwrap().name.as_ref(), "__x64_sys_getpid");
        assert!(symbols.named("some_absolute").next().is_none());
        assert!(!symbols.named("do_something_local").next().unwrap().is_global);
        assert!(parse(b"\x7fELF\x02\x01").is_none());
        assert!(parse(b"not a map at all").is_none());
    }
}
