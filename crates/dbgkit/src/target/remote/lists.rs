//! The lists a stub sends as XML: loaded libraries
//! (`qXfer:libraries-svr4:read`, the dynamic loader's `link_map` as the
//! stub reads it) and threads (`qXfer:threads:read`), and the older
//! `qfThreadInfo` thread list.

use super::stop_reply::Ptid;
use super::xml;

/// One entry of the loader's list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Library {
    pub name: String,
    /// The `link_map` entry's address.
    pub lm: u64,
    /// Load bias (`l_addr`).
    pub bias: u64,
    /// Address of the dynamic section (`l_ld`).
    pub dynamic: u64,
}

/// Reads a `library-list-svr4` document; also returns `main-lm`, the
/// executable's own `link_map` entry (0 when absent).
pub fn libraries(doc: &str) -> (Vec<Library>, u64) {
    let mut main_lm = 0;
    let mut out = Vec::new();
    for e in xml::elements(doc) {
        match e.name.as_str() {
            "library-list-svr4" => main_lm = e.number("main-lm").unwrap_or(0),
            "library" => {
                let Some(name) = e.get("name") else { continue };
                out.push(Library {
                    name: name.to_string(),
                    lm: e.number("lm").unwrap_or(0),
                    bias: e.number("l_addr").unwrap_or(0),
                    dynamic: e.number("l_ld").unwrap_or(0),
                });
            }
            _ => {}
        }
    }
    (out, main_lm)
}

/// One DLL (or other image) of a Windows-style `library-list` document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowsLibrary {
    /// The name as the stub gives it (`Z:\usr\lib\...\ntdll.dll`).
    pub name: String,
    /// The address of its first section (by the convention of gdb's
    /// Windows support, the image base + 0x1000).
    pub segment: u64,
}

/// Reads a `library-list` document (`qXfer:libraries:read`).
pub fn windows_libraries(doc: &str) -> Vec<WindowsLibrary> {
    let mut out: Vec<WindowsLibrary> = Vec::new();
    let mut name = None;
    for e in xml::elements(doc) {
        match e.name.as_str() {
            "library" => name = e.get("name").map(str::to_string),
            "segment" | "section" => {
                if let (Some(name), Some(segment)) = (name.take(), e.number("address")) {
                    out.push(WindowsLibrary { name, segment });
                }
            }
            _ => {}
        }
    }
    out
}

/// One thread of a `threads` document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThreadEntry {
    pub id: Ptid,
    pub name: Option<String>,
    pub core: Option<u32>,
}

/// Reads a `threads` document.
pub fn threads(doc: &str) -> Vec<ThreadEntry> {
    xml::elements(doc)
        .into_iter()
        .filter(|e| e.name == "thread")
        .filter_map(|e| {
            Some(ThreadEntry {
                id: Ptid::parse(e.get("id")?.as_bytes())?,
                name: e.get("name").map(str::to_string),
                core: e.number("core").map(|c| c as u32),
            })
        })
        .collect()
}

/// Reads one `qfThreadInfo`/`qsThreadInfo` answer: `m` and ids, or `l` at the end.
/// Returns the ids and whether more may follow.
pub fn thread_info(reply: &[u8]) -> Option<(Vec<Ptid>, bool)> {
    match reply.split_first()? {
        (b'l', _) => Some((Vec::new(), false)),
        (b'm', rest) => {
            let ids: Option<Vec<Ptid>> = rest.split(|&b| b == b',').map(Ptid::parse).collect();
            Some((ids?, true))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gdbserver_library_list() {
        let doc = r#"<library-list-svr4 version="1.0" main-lm="0x7ffff7ffe2e0"><library name="/lib64/ld-linux-x86-64.so.2" lm="0x7ffff7ffdad0" l_addr="0x7ffff7fca000" l_ld="0x7ffff7ffce40" lmid="0x7ffff7ffe118"/><library name="linux-vdso.so.1" lm="0x7ffff7ffe8b0" l_addr="0x7ffff7fc8000" l_ld="0x7ffff7fc8440" lmid="0x7ffff7ffe118"/></library-list-svr4>"#;
        let (libs, main_lm) = libraries(doc);
        assert_eq!(main_lm, 0x7fff_f7ff_e2e0);
        assert_eq!(libs.len(), 2);
        assert_eq!(libs[0].name, "/lib64/ld-linux-x86-64.so.2");
        assert_eq!((libs[0].bias, libs[0].dynamic), (0x7fff_f7fc_a000, 0x7fff_f7ff_ce40));
        // Before the loader ran: an empty list.
        assert_eq!(libraries(r#"<library-list-svr4 version="1.0"></library-list-svr4>"#), (vec![], 0));
    }

    #[test]
    fn windows_library_list() {
        let doc = "<library-list version=\"1.0\">\n<library name=\"Z:\\usr\\lib\\wine\\ntdll.dll\"><segment address=\"0x170001000\"/></library>\n<library name=\"C:\\windows\\system32\\kernel32.dll\"><segment address=\"0x7b601000\"/></library>\n<library name=\"no-segment.dll\"></library></library-list>";
        let libs = windows_libraries(doc);
        assert_eq!(libs.len(), 2);
        assert_eq!(libs[0], WindowsLibrary { name: "Z:\\usr\\lib\\wine\\ntdll.dll".into(), segment: 0x1_7000_1000 });
        assert_eq!(libs[1].segment, 0x7b60_1000);
        assert!(windows_libraries("<library-list version=\"1.0\"></library-list>").is_empty());
    }

    #[test]
    fn thread_lists() {
        let t = threads("<threads>\n<thread id=\"p4472.4472\" core=\"1\" name=\"t\"/>\n<thread id=\"p4472.4473\" core=\"0\" name=\"t\"></thread></threads>");
        assert_eq!(t.len(), 2);
        assert_eq!(t[1].id, Ptid { pid: Some(0x4472), tid: 0x4473 });
        assert_eq!((t[0].name.as_deref(), t[0].core), (Some("t"), Some(1)));
        assert_eq!(
            thread_info(b"mp01.01,p01.02"),
            Some((vec![Ptid { pid: Some(1), tid: 1 }, Ptid { pid: Some(1), tid: 2 }], true))
        );
        assert_eq!(thread_info(b"l"), Some((vec![], false)));
        assert_eq!(thread_info(b"E01"), None);
        assert_eq!(thread_info(b"mzz"), None);
    }
}
