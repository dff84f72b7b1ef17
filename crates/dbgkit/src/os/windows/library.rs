//! The DLLs of a Windows process, as its debug events announce them.

/// One loaded DLL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Library {
    /// The DLL's path as Windows names it (`C:\windows\system32\kernel32.dll`).
    pub name: String,
    /// Where the image is mapped.
    pub base: u64,
    /// Its size in memory (`SizeOfImage`; 0 when its headers could not be read).
    pub size: u64,
}

/// The address of the function `name` that the PE file at `path`, mapped
/// at `base`, exports (`ntdll!DbgUiRemoteBreakin`); `None` when it cannot
/// be read or has no such export.
pub fn export_address(path: &std::path::Path, base: u64, name: &str) -> Option<u64> {
    use object::read::pe::PeFile64;
    let data = std::fs::read(path).ok()?;
    let file = PeFile64::parse(&*data).ok()?;
    let table = file.export_table().ok()??;
    let (_, index) =
        table.name_iter().find(|&(pointer, _)| table.name_from_pointer(pointer).ok() == Some(name.as_bytes()))?;
    let rva = table.address_by_index(u32::from(index)).ok()?;
    Some(base + u64::from(rva))
}

/// `SizeOfImage` from the first bytes of a mapped PE image (the optional
/// header's field, 56 bytes in).
pub fn size_of_image(headers: &[u8]) -> Option<u64> {
    let at = |offset: usize, len: usize| headers.get(offset..offset + len);
    let nt = u32::from_le_bytes(at(0x3c, 4)?.try_into().ok()?) as usize;
    (at(0, 2)? == b"MZ" && at(nt, 4)? == b"PE\0\0").then_some(())?;
    Some(u32::from_le_bytes(at(nt + 24 + 56, 4)?.try_into().ok()?) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exports_are_found_by_name_in_a_pe_file() {
        // Wine's ntdll, where Wine is installed (the Windows tests install it).
        let ntdll = std::path::Path::new("/usr/lib/x86_64-linux-gnu/wine/x86_64-windows/ntdll.dll");
        if !ntdll.exists() {
            return;
        }
        let at = export_address(ntdll, 0x1_7000_0000, "DbgUiRemoteBreakin").expect("ntdll exports it");
        assert!(at > 0x1_7000_0000);
        assert_eq!(export_address(ntdll, 0x1_7000_0000, "NoSuchExportAnywhere"), None);
        assert_eq!(export_address(std::path::Path::new("/nonexistent"), 0, "x"), None);
    }

    #[test]
    fn size_of_image_from_the_headers() {
        let mut headers = vec![0u8; 0x200];
        headers[..2].copy_from_slice(b"MZ");
        headers[0x3c..0x40].copy_from_slice(&0x80u32.to_le_bytes());
        headers[0x80..0x84].copy_from_slice(b"PE\0\0");
        headers[0x80 + 24 + 56..0x80 + 24 + 60].copy_from_slice(&0x195000u32.to_le_bytes());
        assert_eq!(size_of_image(&headers), Some(0x195000));
        assert_eq!(size_of_image(&headers[..0x90]), None);
        headers[0x3c..0x40].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(size_of_image(&headers), None);
        assert_eq!(size_of_image(b"\x7fELF"), None);
    }
}
