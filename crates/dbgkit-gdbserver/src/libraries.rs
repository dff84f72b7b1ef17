//! What gdb reads about the process image: the shared library list in the
//! SVR4 form (`qXfer:libraries-svr4:read`, walked from the loader's
//! `r_debug` as gdbserver does), the auxiliary vector and the executable's
//! path.

use crate::target::ServerTarget;
use dbgkit::LinkMapNamespace;
use gdbstub::common::Pid;
use gdbstub::target::ext::auxv::Auxv;
use gdbstub::target::ext::exec_file::ExecFile;
use gdbstub::target::ext::libraries::LibrariesSvr4;
use gdbstub::target::{TargetError, TargetResult};

const DT_NULL: u64 = 0;
const AT_PHDR: u64 = 3;
const AT_PHNUM: u64 = 5;
const PT_DYNAMIC: u32 = 2;
const PT_PHDR: u32 = 6;
const PHDR_SIZE: usize = 56;
const DT_DEBUG: u64 = 21;
/// Dynamic entries read at most (a corrupt section must not loop forever).
const MAX_DYNAMIC_ENTRIES: usize = 4096;

/// Which part of the list gdb asks for (`qXfer:libraries-svr4:read:ANNEX`):
/// everything, or (gdb's incremental reads at the loader's probes) the
/// entries from `start` on, `prev` being the one before it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Svr4Request {
    pub start: u64,
    pub prev: u64,
    pub lmid: u64,
}

impl Svr4Request {
    /// Parses `start=ADDR;prev=ADDR;lmid=ADDR` (any order, any subset, hex).
    pub fn parse(annex: &str) -> Option<Svr4Request> {
        let mut request = Svr4Request::default();
        for item in annex.split(';').filter(|s| !s.is_empty()) {
            let (name, value) = item.split_once('=')?;
            let value = u64::from_str_radix(value, 16).ok()?;
            match name {
                "start" => request.start = value,
                "prev" => request.prev = value,
                "lmid" => request.lmid = value,
                _ => {}
            }
        }
        Some(request)
    }
}

/// Copies the part `offset..offset+length` of `document` into `buf`.
pub fn serve_part(document: &[u8], offset: u64, length: usize, buf: &mut [u8]) -> usize {
    let start = (offset as usize).min(document.len());
    let n = length.min(buf.len()).min(document.len() - start);
    buf[..n].copy_from_slice(&document[start..start + n]);
    n
}

/// Escapes text for an XML attribute.
pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// The library list document: `main-lm` (when given) and every
/// namespace's entries, each tagged with its `lmid` (the address of the
/// namespace's `r_debug`), as gdbserver writes it.
pub fn svr4_document(main_lm: Option<u64>, namespaces: &[LinkMapNamespace]) -> String {
    let mut doc = String::from(r#"<library-list-svr4 version="1.0""#);
    match main_lm {
        Some(lm) => doc.push_str(&format!(r#" main-lm="{lm:#x}">"#)),
        None => doc.push('>'),
    }
    for namespace in namespaces {
        for entry in namespace.entries.iter().filter(|e| !e.name.is_empty()) {
            doc.push_str(&format!(
                r#"<library name="{}" lm="{:#x}" l_addr="{:#x}" l_ld="{:#x}" lmid="{:#x}"/>"#,
                xml_escape(&entry.name),
                entry.lm,
                entry.bias,
                entry.dynamic,
                namespace.r_debug
            ));
        }
    }
    doc.push_str("</library-list-svr4>");
    doc
}

impl ServerTarget {
    fn read_u64(&self, pid: i32, address: u64) -> Option<u64> {
        let mut word = [0u8; 8];
        self.session.read_memory(pid, address, &mut word).ok()?;
        Some(u64::from_le_bytes(word))
    }

    /// The runtime address of the executable's dynamic section, from its
    /// program headers in memory (`AT_PHDR`, `AT_PHNUM`), as gdbserver finds it.
    fn executable_dynamic(&self, pid: i32) -> Option<u64> {
        let auxv = std::fs::read(format!("/proc/{pid}/auxv")).ok()?;
        let entry = |key: u64| {
            auxv.chunks_exact(16).find_map(|pair| {
                let k = u64::from_le_bytes(pair[..8].try_into().ok()?);
                (k == key).then(|| u64::from_le_bytes(pair[8..].try_into().expect("16-byte pair")))
            })
        };
        let (phdr, phnum) = (entry(AT_PHDR)?, entry(AT_PHNUM)?);
        let mut headers = vec![0u8; PHDR_SIZE * phnum.min(256) as usize];
        self.session.read_memory(pid, phdr, &mut headers).ok()?;
        let field = |h: &[u8], at: usize| u64::from_le_bytes(h[at..at + 8].try_into().expect("in a header"));
        let of_type = |wanted: u32| {
            headers
                .chunks_exact(PHDR_SIZE)
                .find(|h| u32::from_le_bytes(h[..4].try_into().expect("in a header")) == wanted)
        };
        // The load bias: where the headers are minus where the file says they are.
        let bias = match of_type(PT_PHDR) {
            Some(h) => phdr.wrapping_sub(field(h, 16)),
            None => self.session.modules(pid).ok()?.first()?.bias,
        };
        of_type(PT_DYNAMIC).map(|h| field(h, 16).wrapping_add(bias))
    }

    /// Where the loader stores the address of `r_debug`: the value of the
    /// executable's `DT_DEBUG` entry (lldb's `qShlibInfoAddr`).
    pub fn debug_pointer_location(&self, pid: i32) -> Option<u64> {
        let dynamic = self.executable_dynamic(pid)?;
        for i in 0..MAX_DYNAMIC_ENTRIES as u64 {
            let entry = dynamic + i * 16;
            match self.read_u64(pid, entry)? {
                DT_NULL => return None,
                DT_DEBUG => return Some(entry + 8),
                _ => {}
            }
        }
        None
    }

    /// The address of `r_debug` (0 before the loader has filled it in).
    pub fn r_debug(&self, pid: i32) -> u64 {
        self.debug_pointer_location(pid).and_then(|at| self.read_u64(pid, at)).unwrap_or(0)
    }

    /// Every link-map namespace, the default one first. The main
    /// executable's entry is left out of the default namespace and
    /// returned apart (gdb's `main-lm`).
    fn namespaces(&self, pid: i32) -> (Option<u64>, Vec<LinkMapNamespace>) {
        let r_debug = self.r_debug(pid);
        if r_debug == 0 {
            return (None, Vec::new());
        }
        let mut namespaces = self.session.link_map_namespaces(pid, r_debug).unwrap_or_default();
        let main_lm = match namespaces.first_mut() {
            Some(default) if !default.entries.is_empty() => Some(default.entries.remove(0).lm),
            _ => None,
        };
        (main_lm, namespaces)
    }

    /// The reply document to a `qXfer:libraries-svr4:read` request.
    pub fn svr4_reply(&self, pid: i32, request: Svr4Request) -> String {
        if request.start != 0 {
            let lmid = if request.lmid != 0 { request.lmid } else { self.r_debug(pid) };
            let entries = self.session.link_map_from(pid, request.start, request.prev).unwrap_or_default();
            return svr4_document(None, &[LinkMapNamespace { r_debug: lmid, entries }]);
        }
        let (main_lm, namespaces) = self.namespaces(pid);
        svr4_document(main_lm, &namespaces)
    }
}

impl LibrariesSvr4 for ServerTarget {
    fn get_libraries_svr4(&self, offset: u64, length: usize, buf: &mut [u8]) -> TargetResult<usize, Self> {
        let pid = self.inferior.as_ref().map(|i| i.pid).ok_or(TargetError::Errno(3))?;
        let doc = self.svr4_reply(pid, Svr4Request::default());
        Ok(serve_part(doc.as_bytes(), offset, length, buf))
    }
}

impl Auxv for ServerTarget {
    fn get_auxv(&self, offset: u64, length: usize, buf: &mut [u8]) -> TargetResult<usize, Self> {
        let pid = self.inferior.as_ref().map(|i| i.pid).ok_or(TargetError::Errno(3))?;
        let auxv = std::fs::read(format!("/proc/{pid}/auxv")).map_err(|_| TargetError::Errno(libc::EIO as u8))?;
        Ok(serve_part(&auxv, offset, length, buf))
    }
}

impl ExecFile for ServerTarget {
    fn get_exec_file(&self, pid: Option<Pid>, offset: u64, length: usize, buf: &mut [u8]) -> TargetResult<usize, Self> {
        let pid = match pid {
            Some(pid) => pid.get() as i32,
            None => self.inferior.as_ref().map(|i| i.pid).ok_or(TargetError::Errno(3))?,
        };
        let path = match self.session.image(pid) {
            Ok(path) => path,
            Err(_) => std::fs::read_link(format!("/proc/{pid}/exe")).map_err(|_| TargetError::Errno(3))?,
        };
        Ok(serve_part(path.to_string_lossy().as_bytes(), offset, length, buf))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dbgkit::LinkMapEntry;

    #[test]
    fn the_document_names_main_lm_and_escapes_names() {
        let entries = vec![
            LinkMapEntry { lm: 0x2000, name: "linux-vdso.so.1".into(), bias: 0x7fff0000, dynamic: 0x7fff03a0 },
            LinkMapEntry { lm: 0x2800, name: String::new(), bias: 0, dynamic: 0 },
            LinkMapEntry { lm: 0x3000, name: "/tmp/a&b.so".into(), bias: 0x7f00, dynamic: 0x7f10 },
        ];
        let other = vec![LinkMapEntry { lm: 0x5000, name: "/lib/b.so".into(), bias: 0x8000, dynamic: 0x8010 }];
        let namespaces =
            [LinkMapNamespace { r_debug: 0x4000, entries }, LinkMapNamespace { r_debug: 0x6000, entries: other }];
        assert_eq!(
            svr4_document(Some(0x1000), &namespaces),
            "<library-list-svr4 version=\"1.0\" main-lm=\"0x1000\">\
             <library name=\"linux-vdso.so.1\" lm=\"0x2000\" l_addr=\"0x7fff0000\" l_ld=\"0x7fff03a0\" lmid=\"0x4000\"/>\
             <library name=\"/tmp/a&amp;b.so\" lm=\"0x3000\" l_addr=\"0x7f00\" l_ld=\"0x7f10\" lmid=\"0x4000\"/>\
             <library name=\"/lib/b.so\" lm=\"0x5000\" l_addr=\"0x8000\" l_ld=\"0x8010\" lmid=\"0x6000\"/>\
             </library-list-svr4>"
        );
        assert_eq!(svr4_document(None, &[]), "<library-list-svr4 version=\"1.0\"></library-list-svr4>");
    }

    #[test]
    fn incremental_requests_parse() {
        assert_eq!(
            Svr4Request::parse("start=7ffff7fc1000;prev=7ffff7ffe2e0;lmid=7ffff7ffd118"),
            Some(Svr4Request { start: 0x7ffff7fc1000, prev: 0x7ffff7ffe2e0, lmid: 0x7ffff7ffd118 })
        );
        assert_eq!(Svr4Request::parse(""), Some(Svr4Request::default()));
        assert_eq!(Svr4Request::parse("start=zz"), None);
    }

    #[test]
    fn parts_of_a_document_are_served_by_offset() {
        let mut buf = [0u8; 4];
        assert_eq!(serve_part(b"abcdef", 2, 10, &mut buf), 4);
        assert_eq!(&buf, b"cdef");
        assert_eq!(serve_part(b"abcdef", 6, 10, &mut buf), 0);
        assert_eq!(serve_part(b"abcdef", 99, 10, &mut buf), 0);
    }
}
