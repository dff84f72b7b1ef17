//! The library list gdb reads with `qXfer:libraries:read`, in the form
//! gdbserver for Windows writes it: each DLL by its Windows path, at the
//! address of its first section (the image base + 0x1000), from which gdb
//! relocates the DLL's symbols itself.

/// Where gdbserver for Windows says a DLL is: its first section, which in
/// every PE image the linkers write starts one page after the headers.
pub const FIRST_SECTION_OFFSET: u64 = 0x1000;

pub use dbgkit::os::windows::library::Library;

/// The `<library-list>` document for `libraries`.
pub fn library_list_xml(libraries: &[Library]) -> String {
    let mut xml = String::from("<library-list version=\"1.0\">\n");
    for library in libraries {
        xml.push_str(&format!(
            "<library name=\"{}\"><segment address=\"{:#x}\"/></library>\n",
            escape_xml(&library.name),
            library.base + FIRST_SECTION_OFFSET
        ));
    }
    xml.push_str("</library-list>\n");
    xml
}

fn escape_xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
    out
}

/// Copies the part of `document` starting at `offset` into `buf`, as a
/// `qXfer` read returns it; the number of bytes copied (0 past the end).
pub fn copy_window(document: &[u8], offset: u64, buf: &mut [u8]) -> usize {
    let start = usize::try_from(offset).unwrap_or(usize::MAX).min(document.len());
    let count = buf.len().min(document.len() - start);
    buf[..count].copy_from_slice(&document[start..start + count]);
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_each_dll_at_its_first_section() {
        let xml = library_list_xml(&[
            Library { name: "C:\\windows\\system32\\kernel32.dll".into(), base: 0x7b600000, size: 0x195000 },
            Library { name: "Z:\\tmp\\a&b.dll".into(), base: 0x6a000000, size: 0 },
        ]);
        assert!(xml.contains(
            "<library name=\"C:\\windows\\system32\\kernel32.dll\"><segment address=\"0x7b601000\"/></library>"
        ));
        assert!(xml.contains("name=\"Z:\\tmp\\a&amp;b.dll\""));
        assert!(xml.starts_with("<library-list") && xml.trim_end().ends_with("</library-list>"));
    }

    #[test]
    fn windows_of_the_document_are_copied() {
        let doc = b"0123456789";
        let mut buf = [0u8; 4];
        assert_eq!(copy_window(doc, 8, &mut buf), 2);
        assert_eq!(&buf[..2], b"89");
        assert_eq!(copy_window(doc, 10, &mut buf), 0);
        assert_eq!(copy_window(doc, u64::MAX, &mut buf), 0);
    }
}
