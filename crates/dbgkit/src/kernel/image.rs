//! The kernel's image: its symbol file (`vmlinux`, or `System.map` when
//! there is no `vmlinux`) and the link-time addresses of the symbols the
//! debugger uses to place it and to read its lists.

use crate::error::{Error, Result};
use object::{Object, ObjectSymbol};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Symbols the debugger reads by itself.
const NEEDED: &[&str] = &[
    "_text",
    "_etext",
    "_end",
    "startup_64",
    "linux_banner",
    "asm_exc_divide_error",
    "init_task",
    "modules",
    "sys_call_table",
];

/// Where a kernel's symbols come from.
#[derive(Clone, Debug)]
pub struct KernelImage {
    /// The file the `vmlinux` module's symbols are read from.
    pub symbol_file: PathBuf,
    /// `vmlinux` itself, when given: DWARF types and call-frame information.
    pub vmlinux: Option<PathBuf>,
    addresses: HashMap<&'static str, u64>,
}

impl KernelImage {
    /// Opens `vmlinux` and/or a `System.map` (either may come alone; a
    /// `System.map` given as `symbols` is recognised as one).
    pub fn open(symbols: Option<&Path>, system_map: Option<&Path>) -> Result<KernelImage> {
        let (mut vmlinux, mut map) = (None, system_map.map(Path::to_path_buf));
        if let Some(path) = symbols {
            if is_elf(path)? {
                vmlinux = Some(path.to_path_buf());
            } else {
                map = Some(path.to_path_buf());
            }
        }
        let mut addresses = HashMap::new();
        if let Some(path) = &vmlinux {
            elf_addresses(path, &mut addresses)?;
        } else if let Some(path) = &map {
            map_addresses(path, &mut addresses)?;
        } else {
            return Err(Error::InvalidArgument("a kernel needs vmlinux or a System.map for its symbols".into()));
        }
        let symbol_file = vmlinux.clone().or(map).expect("one of them");
        for needed in ["_text", "_end"] {
            if !addresses.contains_key(needed) {
                return Err(Error::BadTargetData {
                    what: format!("kernel symbols {}", symbol_file.display()),
                    reason: format!("no symbol {needed}: not a Linux kernel's"),
                });
            }
        }
        Ok(KernelImage { symbol_file, vmlinux, addresses })
    }

    /// The link-time address of one of the symbols the debugger uses.
    pub fn address(&self, name: &str) -> Option<u64> {
        self.addresses.get(name).copied()
    }

    /// The image's extent at link time: `_text` to `_end`.
    pub fn extent(&self) -> (u64, u64) {
        (self.addresses["_text"], self.addresses["_end"])
    }
}

fn is_elf(path: &Path) -> Result<bool> {
    use std::io::Read;
    let mut magic = [0u8; 4];
    let mut file = std::fs::File::open(path).map_err(|_| Error::ProgramNotFound(path.to_path_buf()))?;
    Ok(file.read_exact(&mut magic).is_ok() && &magic == b"\x7fELF")
}

fn elf_addresses(path: &Path, out: &mut HashMap<&'static str, u64>) -> Result<()> {
    let bad = |reason: String| Error::BadTargetData { what: format!("kernel image {}", path.display()), reason };
    let file = std::fs::File::open(path)?;
    // Read in place: vmlinux is hundreds of megabytes, its symbol table a few.
    let cache = object::ReadCache::new(file);
    let elf = object::File::parse(&cache).map_err(|e| bad(e.to_string()))?;
    for symbol in elf.symbols() {
        let Ok(name) = symbol.name() else { continue };
        if let Some(&wanted) = NEEDED.iter().find(|&&n| n == name) {
            out.entry(wanted).or_insert(symbol.address());
        }
    }
    Ok(())
}

fn map_addresses(path: &Path, out: &mut HashMap<&'static str, u64>) -> Result<()> {
    let text = std::fs::read_to_string(path)?;
    for line in text.lines() {
        let mut fields = line.split_whitespace();
        let (Some(address), Some(_kind), Some(name)) = (fields.next(), fields.next(), fields.next()) else { continue };
        if let Some(&wanted) = NEEDED.iter().find(|&&n| n == name) {
            if let Ok(a) = u64::from_str_radix(address, 16) {
                out.entry(wanted).or_insert(a);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_system_map_alone_places_the_kernel() {
        let dir = std::env::temp_dir().join(format!("dbgkit-kimage-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let map = dir.join("System.map");
        std::fs::write(&map, "ffffffff81000000 T _text\nffffffff82161900 D linux_banner\nffffffff84430000 B _end\n")
            .unwrap();
        let image = KernelImage::open(Some(&map), None).unwrap();
        assert_eq!(image.extent(), (0xffff_ffff_8100_0000, 0xffff_ffff_8443_0000));
        assert_eq!(image.address("linux_banner"), Some(0xffff_ffff_8216_1900));
        assert!(image.vmlinux.is_none());
        std::fs::write(&map, "ffffffff81000000 T something_else\n").unwrap();
        let e = KernelImage::open(None, Some(&map)).unwrap_err().to_string();
        assert!(e.contains("not a Linux kernel"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
