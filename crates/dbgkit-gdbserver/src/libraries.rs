//! What gdb reads about the process image: the shared library list in the
//! SVR4 form (`qXfer:libraries-svr4:read`, walked from the loader's
//! `r_debug` as gdbserver does), the auxiliary vector and the executable's
//! path.

use crate::target::ServerTarget;
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
/// Libraries listed at most (a corrupt `link_map` chain must not loop forever).
const MAX_LIBRARIES: usize = 65536;
/// Namespaces listed at most (glibc has 16; a corrupt `r_next` chain must not loop forever).
const MAX_NAMESPACES: usize = 256;
/// Offsets in `r_debug_extended`: the first `link_map`, the next namespace's `r_debug`.
const R_MAP: u64 = 8;
const R_NEXT: u64 = 40;

/// One entry of the loader's `link_map` chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkMapEntry {
    pub lm: u64,
    pub name: String,
    pub l_addr: u64,
    pub l_ld: u64,
}

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

/// The libraries of one link-map namespace: the address of its `r_debug`
/// (gdb's `lmid`) and its `link_map` entries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Namespace {
    pub lmid: u64,
    pub entries: Vec<LinkMapEntry>,
}

/// The library list document: `main-lm` (when given) and every
/// namespace's entries, each tagged with its `lmid`, as gdbserver writes it.
pub fn svr4_document(main_lm: Option<u64>, namespaces: &[Namespace]) -> String {
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
                entry.l_addr,
                entry.l_ld,
                namespace.lmid
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

    fn read_c_string(&self, pid: i32, address: u64) -> String {
        let mut buf = vec![0u8; 4096];
        let n = self.session.read_memory_partial(pid, address, &mut buf).unwrap_or(0);
        buf.truncate(n);
        let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        String::from_utf8_lossy(&buf[..end]).into_owned()
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

    /// `link_map` entries from `lm` on (`prev` must be the first one's
    /// `l_prev`: a list that does not link up is cut there).
    fn walk_link_map(&self, pid: i32, mut lm: u64, mut prev: u64) -> Vec<LinkMapEntry> {
        let mut chain = Vec::new();
        while lm != 0 && chain.len() < MAX_LIBRARIES {
            let (Some(l_addr), Some(name), Some(l_ld), Some(next), Some(l_prev)) = (
                self.read_u64(pid, lm),
                self.read_u64(pid, lm + 8),
                self.read_u64(pid, lm + 16),
                self.read_u64(pid, lm + 24),
                self.read_u64(pid, lm + 32),
            ) else {
                break;
            };
            if l_prev != prev {
                break;
            }
            let name = if name == 0 { String::new() } else { self.read_c_string(pid, name) };
            chain.push(LinkMapEntry { lm, name, l_addr, l_ld });
            prev = lm;
            lm = next;
        }
        chain
    }

    /// Every link-map namespace, the default one first: `dlmopen` makes
    /// more, chained from `r_debug` through `r_debug_extended.r_next`
    /// (glibc 2.35 on, `r_version` 2). The main executable's entry is left
    /// out of the default namespace and returned apart.
    fn namespaces(&self, pid: i32) -> (Option<u64>, Vec<Namespace>) {
        let mut r_debug = self.r_debug(pid);
        let mut main_lm = None;
        let mut namespaces = Vec::new();
        while r_debug != 0 && namespaces.len() < MAX_NAMESPACES {
            let Some(version) = self.read_u64(pid, r_debug).map(|word| word as u32) else { break };
            let Some(first) = self.read_u64(pid, r_debug + R_MAP) else { break };
            let mut entries = self.walk_link_map(pid, first, 0);
            if namespaces.is_empty() && !entries.is_empty() {
                main_lm = Some(entries.remove(0).lm);
            }
            namespaces.push(Namespace { lmid: r_debug, entries });
            if version < 2 {
                break;
            }
            r_debug = self.read_u64(pid, r_debug + R_NEXT).unwrap_or(0);
        }
        (main_lm, namespaces)
    }

    /// The reply document to a `qXfer:libraries-svr4:read` request.
    pub fn svr4_reply(&self, pid: i32, request: Svr4Request) -> String {
        if request.start != 0 {
            let lmid = if request.lmid != 0 { request.lmid } else { self.r_debug(pid) };
            let entries = self.walk_link_map(pid, request.start, request.prev);
            return svr4_document(None, &[Namespace { lmid, entries }]);
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

    #[test]
    fn the_document_names_main_lm_and_escapes_names() {
        let entries = vec![
            LinkMapEntry { lm: 0x2000, name: "linux-vdso.so.1".into(), l_addr: 0x7fff0000, l_ld: 0x7fff03a0 },
            LinkMapEntry { lm: 0x2800, name: String::new(), l_addr: 0, l_ld: 0 },
            LinkMapEntry { lm: 0x3000, name: "/tmp/a&b.so".into(), l_addr: 0x7f00, l_ld: 0x7f10 },
        ];
        let other = vec![LinkMapEntry { lm: 0x5000, name: "/lib/b.so".into(), l_addr: 0x8000, l_ld: 0x8010 }];
        let namespaces = [Namespace { lmid: 0x4000, entries }, Namespace { lmid: 0x6000, entries: other }];
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
