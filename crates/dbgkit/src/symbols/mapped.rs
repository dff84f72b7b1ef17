//! Module files mapped into memory rather than read: a debug build of a
//! large program is tens of megabytes of DWARF, of which a debugger looks at
//! a few pages. Mapped, only the pages touched are read (and count in the
//! debugger's resident memory); sections are used in place, without a copy,
//! unless they are compressed.

use std::ops::Deref;
use std::path::Path;
use std::rc::Rc;

/// A file mapped read-only; unmapped when the last section using it goes.
/// (Where `mmap` is not at hand, the file is read whole instead.)
pub struct Mapping {
    #[cfg(unix)]
    ptr: *const u8,
    len: usize,
    #[cfg(not(unix))]
    read: Box<[u8]>,
}

impl std::fmt::Debug for Mapping {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Mapping({} bytes)", self.len)
    }
}

impl Mapping {
    /// Maps a whole file read-only (`None` for an empty or unreadable one).
    #[cfg(not(unix))]
    pub fn of_file(path: &Path) -> Option<Mapping> {
        let read: Box<[u8]> = std::fs::read(path).ok()?.into_boxed_slice();
        (!read.is_empty()).then_some(Mapping { len: read.len(), read })
    }

    /// Maps a whole file read-only (`None` for an empty or unreadable one).
    #[cfg(unix)]
    pub fn of_file(path: &Path) -> Option<Mapping> {
        use std::os::fd::AsRawFd;
        let file = std::fs::File::open(path).ok()?;
        let len = usize::try_from(file.metadata().ok()?.len()).ok()?;
        if len == 0 {
            return None;
        }
        // SAFETY: a fresh private read-only mapping of a file we opened; the
        // descriptor may close afterwards (the mapping keeps the file).
        let ptr =
            unsafe { libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ, libc::MAP_PRIVATE, file.as_raw_fd(), 0) };
        if ptr == libc::MAP_FAILED {
            return None;
        }
        Some(Mapping { ptr: ptr as *const u8, len })
    }

    /// The mapped bytes.
    pub fn bytes(&self) -> &[u8] {
        #[cfg(not(unix))]
        return &self.read;
        // SAFETY: `ptr` maps `len` readable bytes until `drop`.
        #[cfg(unix)]
        unsafe {
            std::slice::from_raw_parts(self.ptr, self.len)
        }
    }
}

#[cfg(unix)]
impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: unmapping our own mapping, once.
        unsafe { libc::munmap(self.ptr as *mut libc::c_void, self.len) };
    }
}

/// A compressed section of a mapped file, decompressed the first time its
/// bytes are looked at.
pub struct Compressed {
    file: Rc<Mapping>,
    start: usize,
    len: usize,
    format: object::CompressionFormat,
    size: u64,
    bytes: std::cell::OnceCell<Box<[u8]>>,
}

impl Compressed {
    fn bytes(&self) -> &[u8] {
        self.bytes.get_or_init(|| {
            let compressed = object::read::CompressedData {
                format: self.format,
                data: &self.file.bytes()[self.start..self.start + self.len],
                uncompressed_size: self.size,
            };
            // A section that does not decompress is as good as absent.
            compressed.decompress().map(|d| Box::from(&*d)).unwrap_or_default()
        })
    }
}

/// The bytes of one section: a range of a mapped file, a compressed range
/// decompressed on first use, or owned bytes (an image read from target memory).
#[derive(Clone)]
pub enum SectionBytes {
    Mapped { file: Rc<Mapping>, start: usize, len: usize },
    Compressed(Rc<Compressed>),
    Owned(Rc<[u8]>),
}

impl std::fmt::Debug for SectionBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SectionBytes({} bytes)", self.len())
    }
}

impl SectionBytes {
    /// No bytes (a section the file does not have).
    pub fn empty() -> SectionBytes {
        SectionBytes::Owned(Rc::from(&[][..]))
    }

    /// A section of a mapped file as it is stored: in place, or compressed
    /// and decompressed on first use. `None` for a section not in `file`.
    pub fn stored(compressed: object::read::CompressedData<'_>, file: &Rc<Mapping>) -> Option<SectionBytes> {
        let base = file.bytes().as_ptr() as usize;
        let start = compressed.data.as_ptr() as usize;
        if start < base || start + compressed.data.len() > base + file.len {
            return None;
        }
        let (start, len) = (start - base, compressed.data.len());
        Some(match compressed.format {
            object::CompressionFormat::None => SectionBytes::Mapped { file: file.clone(), start, len },
            format => SectionBytes::Compressed(Rc::new(Compressed {
                file: file.clone(),
                start,
                len,
                format,
                size: compressed.uncompressed_size,
                bytes: std::cell::OnceCell::new(),
            })),
        })
    }

    /// The section that `data` is: in place when it lies inside `file`, else a copy.
    pub fn of(data: std::borrow::Cow<'_, [u8]>, file: Option<&Rc<Mapping>>) -> SectionBytes {
        if let (std::borrow::Cow::Borrowed(slice), Some(map)) = (&data, file) {
            let base = map.bytes().as_ptr() as usize;
            let start = slice.as_ptr() as usize;
            if start >= base && start + slice.len() <= base + map.len {
                return SectionBytes::Mapped { file: map.clone(), start: start - base, len: slice.len() };
            }
        }
        SectionBytes::Owned(Rc::from(&*data))
    }
}

impl Deref for SectionBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            SectionBytes::Mapped { file, start, len } => &file.bytes()[*start..*start + *len],
            SectionBytes::Compressed(section) => section.bytes(),
            SectionBytes::Owned(bytes) => bytes,
        }
    }
}

// SAFETY: the bytes never move while any clone lives: a mapping stays at
// its address until its last `Rc` is dropped; a decompressed section is
// made once and kept in its `Rc` (a `Box` that is never replaced); an
// `Rc<[u8]>`'s buffer does not move either.
unsafe impl gimli::StableDeref for SectionBytes {}
// SAFETY: a clone shares the same bytes at the same address.
unsafe impl gimli::CloneStableDeref for SectionBytes {}

/// The DWARF reader over section bytes.
pub type Reader = gimli::EndianReader<gimli::RunTimeEndian, SectionBytes>;
