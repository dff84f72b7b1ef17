//! Loaded modules: the executable, the dynamic loader, shared libraries, the vDSO.

use std::path::PathBuf;

/// One module mapped in a process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Module {
    /// Short name (`libc.so.6`).
    pub name: String,
    /// Full path of the file (`[vdso]` for the vDSO).
    pub path: PathBuf,
    /// Lowest address of the module's mapped image.
    pub base: u64,
    /// Size of the mapped image (from its lowest to its highest loaded segment).
    pub size: u64,
    /// Load bias: what is added to the file's virtual addresses (`l_addr`).
    pub bias: u64,
    /// Address of the module's dynamic section (`l_ld`), 0 when it has none.
    pub dynamic: u64,
}

impl Module {
    /// One past the last address of the image.
    pub fn end(&self) -> u64 {
        self.base + self.size
    }

    /// Whether `address` lies in the module's image.
    pub fn contains(&self, address: u64) -> bool {
        (self.base..self.end()).contains(&address)
    }
}

/// The file name of a path, for display.
pub(crate) fn short_name(path: &std::path::Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string())
}

/// Extent of an ELF image's loadable segments: (lowest page-aligned vaddr, end vaddr).
pub(crate) fn load_extent(header: &[u8]) -> Option<(u64, u64)> {
    use object::elf::FileHeader64;
    use object::read::elf::{FileHeader, ProgramHeader};
    use object::LittleEndian;
    let elf = FileHeader64::<LittleEndian>::parse(header).ok()?;
    let endian = elf.endian().ok()?;
    let mut low = u64::MAX;
    let mut high = 0u64;
    for ph in elf.program_headers(endian, header).ok()? {
        if ph.p_type(endian) == object::elf::PT_LOAD {
            let vaddr = ph.p_vaddr(endian);
            low = low.min(vaddr & !0xfff);
            high = high.max(vaddr + ph.p_memsz(endian));
        }
    }
    // Mappings are whole pages: the image ends where its last page ends.
    (low < high).then_some((low, (high + 0xfff) & !0xfff))
}

/// Builds a module from a file on disk, given its load bias.
pub(crate) fn module_from_file(path: PathBuf, bias: u64, dynamic: u64) -> Option<Module> {
    let header = read_head(&path)?;
    let (low, high) = load_extent(&header)?;
    Some(Module { name: short_name(&path), base: bias.wrapping_add(low), size: high - low, bias, dynamic, path })
}

/// The first bytes of a file: enough for the ELF header and program headers.
pub(crate) fn read_head(path: &std::path::Path) -> Option<Vec<u8>> {
    use std::io::Read;
    // The ELF header and program headers sit at the start of every ordinary file.
    let mut buf = vec![0u8; 8 * 1024];
    // A name from a target may be anything: a FIFO or a terminal would block the read.
    if !std::fs::metadata(path).ok()?.is_file() {
        return None;
    }
    let mut file = std::fs::File::open(path).ok()?;
    let mut len = 0;
    while len < buf.len() {
        match file.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(_) => return None,
        }
    }
    buf.truncate(len);
    Some(buf)
}

/// Virtual address of the program headers in an ELF image (`PT_PHDR`, or
/// where the first loaded segment maps `e_phoff`).
pub(crate) fn phdr_vaddr(header: &[u8]) -> Option<u64> {
    use object::elf::FileHeader64;
    use object::read::elf::{FileHeader, ProgramHeader};
    use object::LittleEndian;
    let elf = FileHeader64::<LittleEndian>::parse(header).ok()?;
    let endian = elf.endian().ok()?;
    let phoff = elf.e_phoff(endian);
    let headers = elf.program_headers(endian, header).ok()?;
    if let Some(ph) = headers.iter().find(|ph| ph.p_type(endian) == object::elf::PT_PHDR) {
        return Some(ph.p_vaddr(endian));
    }
    headers
        .iter()
        .find(|ph| {
            ph.p_type(endian) == object::elf::PT_LOAD
                && ph.p_offset(endian) <= phoff
                && phoff < ph.p_offset(endian) + ph.p_filesz(endian)
        })
        .map(|ph| ph.p_vaddr(endian) + phoff - ph.p_offset(endian))
}

/// The entry point recorded in an ELF header.
pub(crate) fn elf_entry(header: &[u8]) -> Option<u64> {
    use object::elf::FileHeader64;
    use object::read::elf::FileHeader;
    use object::LittleEndian;
    let elf = FileHeader64::<LittleEndian>::parse(header).ok()?;
    Some(elf.e_entry(elf.endian().ok()?))
}
