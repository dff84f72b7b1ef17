//! The stack hash: what makes two crashes the same bug.
//!
//! The first N frames that belong to the program (not to the C library, a
//! sanitizer's runtime, the C++ runtime, or the machinery of abort, assert
//! and panics), each as `module!function`: no addresses and no offsets, so
//! the hash survives address randomisation and rebuilds that move code.

/// How many frames make the hash by default.
pub const DEFAULT_HASH_FRAMES: usize = 5;

/// Modules that are runtime, never the bug's place (matched on their name
/// up to `.so`).
const RUNTIME_MODULES: &[&str] = &[
    "libc",
    "ld-linux-x86-64",
    "libm",
    "libpthread",
    "libdl",
    "libgcc_s",
    "libstdc++",
    "libc++",
    "libc++abi",
    "libasan",
    "libubsan",
    "libmsan",
    "libtsan",
    "liblsan",
    "libhwasan",
    "linux-vdso",
];

/// Functions that are runtime wherever they are linked (static binaries,
/// Rust's standard library inside the executable, sanitizers linked in).
const RUNTIME_PREFIXES: &[&str] = &[
    "__asan",
    "__ubsan",
    "__msan",
    "__tsan",
    "__lsan",
    "__sanitizer",
    "__interceptor_",
    "___interceptor_",
    "__cxa_",
    "__cxxabiv1::",
    "__gnu_cxx::__verbose_terminate_handler",
    "std::terminate",
    "_Unwind_",
    "std::panicking::",
    "core::panicking::",
    "std::panic::",
    "std::rt::",
    "std::sys::",
    "std::process::abort",
    "std::alloc::",
    "core::result::unwrap_failed",
    "core::option::unwrap_failed",
    "core::option::expect_failed",
    "core::result::Result<T,E>::unwrap",
    "core::result::Result<T,E>::expect",
    "core::option::Option<T>::unwrap",
    "core::option::Option<T>::expect",
    "rust_begin_unwind",
    "rust_panic",
    "__rust_",
    "__rustc::",
    "__assert",
    "__stack_chk_fail",
    "__fortify_fail",
    "__chk_fail",
    "__libc_",
    "__GI_",
    "__pthread_kill",
];

const RUNTIME_NAMES: &[&str] = &[
    "abort",
    "raise",
    "gsignal",
    "pthread_kill",
    "malloc_printerr",
    "_start",
    "__restore_rt",
    "__memcpy_chk",
    "__strcpy_chk",
];

/// Whether a frame belongs to the runtime rather than to the program.
pub fn is_runtime_frame(module: Option<&str>, function: Option<&str>) -> bool {
    if let Some(module) = module {
        let stem = module.split(".so").next().unwrap_or(module);
        if RUNTIME_MODULES.contains(&stem) {
            return true;
        }
    }
    let Some(function) = function else { return false };
    RUNTIME_NAMES.contains(&function)
        || RUNTIME_PREFIXES.iter().any(|p| function.starts_with(p))
        // Sanitizer and Rust runtime namespaces.
        || ["__asan::", "__sanitizer::", "__ubsan::", "__msan::"].iter().any(|ns| function.contains(ns))
}

/// The frames that make the hash, as `module!function`: the first `count`
/// frames outside the runtime that are in a module. A frame without a
/// function name is `module!?`.
pub fn hash_frames<'a>(
    frames: impl IntoIterator<Item = (Option<&'a str>, Option<&'a str>)>,
    count: usize,
) -> Vec<String> {
    frames
        .into_iter()
        .filter(|(module, function)| module.is_some() && !is_runtime_frame(*module, *function))
        .take(count)
        .map(|(module, function)| format!("{}!{}", module.unwrap_or("?"), function.map(bare_function).unwrap_or("?")))
        .collect()
}

/// A C++ name without its parameter list (`f(int)` is `f`): a changed
/// signature is still the same place. Operators keep their parentheses.
fn bare_function(name: &str) -> &str {
    if name.contains("operator") {
        return name;
    }
    // The parameter list is the last top-level parenthesis group.
    let mut depth = 0usize;
    let mut start = None;
    for (i, c) in name.char_indices() {
        match c {
            '<' => depth += 1,
            '>' => depth = depth.saturating_sub(1),
            '(' if depth == 0 && start.is_none() => start = Some(i),
            _ => {}
        }
    }
    match start {
        Some(i) if i > 0 => &name[..i],
        _ => name,
    }
}

/// The hash of some frames: 64-bit FNV-1a of the frames joined by newlines,
/// as 16 hexadecimal digits. No frames (a stack entirely in the runtime, or
/// none at all) give the hash of the empty string.
pub fn stack_hash(frames: &[String]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, frame) in frames.iter().enumerate() {
        if i > 0 {
            hash = fnv_step(hash, b'\n');
        }
        for &b in frame.as_bytes() {
            hash = fnv_step(hash, b);
        }
    }
    format!("{hash:016x}")
}

fn fnv_step(hash: u64, byte: u8) -> u64 {
    (hash ^ byte as u64).wrapping_mul(0x0000_0100_0000_01b3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_frames_are_skipped() {
        let frames = [
            (Some("libc.so.6"), Some("__pthread_kill_implementation")),
            (Some("libc.so.6"), Some("raise")),
            (Some("libc.so.6"), Some("abort")),
            (Some("libc.so.6"), Some("__assert_fail")),
            (Some("prog"), Some("check(int)")),
            (Some("prog"), Some("parse")),
            (None, None),
            (Some("prog"), Some("main")),
            (Some("libc.so.6"), Some("__libc_start_call_main")),
            (Some("prog"), Some("_start")),
        ];
        assert_eq!(hash_frames(frames, 5), ["prog!check", "prog!parse", "prog!main"]);
        assert_eq!(hash_frames(frames, 2), ["prog!check", "prog!parse"]);
        assert!(is_runtime_frame(Some("prog"), Some("__asan_report_load4")));
        assert!(is_runtime_frame(Some("prog"), Some("std::panicking::begin_panic_handler")));
        assert!(is_runtime_frame(Some("libasan.so.8"), Some("anything")));
        assert!(!is_runtime_frame(Some("libfoo.so"), Some("parse_header")));
    }

    #[test]
    fn hashes_are_stable_and_distinct() {
        let a = stack_hash(&["p!f".into(), "p!main".into()]);
        assert_eq!(a, stack_hash(&["p!f".into(), "p!main".into()]));
        assert_ne!(a, stack_hash(&["p!g".into(), "p!main".into()]));
        assert_ne!(stack_hash(&["ab".into()]), stack_hash(&["a".into(), "b".into()]));
        assert_eq!(stack_hash(&[]), "cbf29ce484222325");
        assert_eq!(a.len(), 16);
    }

    #[test]
    fn parameter_lists_are_dropped() {
        assert_eq!(bare_function("ns::f(int, char const*)"), "ns::f");
        assert_eq!(bare_function("std::vector<int>::push_back(int const&)"), "std::vector<int>::push_back");
        assert_eq!(bare_function("plain"), "plain");
        assert_eq!(bare_function("S::operator()(int)"), "S::operator()(int)");
    }
}
