//! What the runtime says before it aborts: glibc's assertion and heap
//! messages (from `__abort_msg` in the target, or from standard error), the
//! stack protector, the C++ runtime's `terminate called after throwing`,
//! and Rust's panic message.

/// A message that names the reason of an abort.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AbortReason {
    /// `prog: file.c:12: check: Assertion `x > 0' failed.`
    Assertion { expression: String, file: String, line: u32, function: String },
    /// glibc's allocator: `free(): invalid pointer`, `double free or corruption (out)`.
    Heap(String),
    /// `*** stack smashing detected ***` or `*** buffer overflow detected ***`.
    StackSmashing(String),
    /// `terminate called after throwing an instance of 'std::runtime_error'`
    /// with its `what()`, when printed.
    UncaughtException { type_name: String, what: Option<String> },
    /// `thread 'main' panicked at src/main.rs:4:5:` and the message.
    RustPanic { message: String, location: Option<String> },
}

impl AbortReason {
    /// The message in one line, as reports show it.
    pub fn summary(&self) -> String {
        match self {
            AbortReason::Assertion { expression, file, line, function } => {
                format!("{file}:{line}: {function}: Assertion `{expression}' failed.")
            }
            AbortReason::Heap(m) | AbortReason::StackSmashing(m) => m.clone(),
            AbortReason::UncaughtException { type_name, what: Some(what) } => format!("{type_name}: {what}"),
            AbortReason::UncaughtException { type_name, what: None } => type_name.clone(),
            AbortReason::RustPanic { message, location: Some(at) } => format!("{message} (at {at})"),
            AbortReason::RustPanic { message, location: None } => message.clone(),
        }
    }
}

/// Heap checks of glibc's malloc start with one of these.
const HEAP_PREFIXES: &[&str] = &[
    "malloc(): ",
    "free(): ",
    "realloc(): ",
    "calloc(): ",
    "malloc_consolidate(): ",
    "munmap_chunk(): ",
    "double free or corruption",
    "corrupted size vs. prev_size",
    "corrupted double-linked list",
    "_int_malloc(): ",
    "_int_free(): ",
    "tcache_thread_shutdown(): ",
    "malloc_check_get_size: ",
    "free(): invalid pointer",
];

/// Finds the reason of an abort in a text: glibc's abort message read from
/// the target, or the program's standard error. The first line that says
/// something wins, except that a Rust panic's message spans two lines.
pub fn find_abort_reason(text: &str) -> Option<AbortReason> {
    let lines: Vec<&str> = text.lines().collect();
    for (i, raw) in lines.iter().enumerate() {
        let line = raw.trim_end();
        if let Some(reason) = assertion(line) {
            return Some(reason);
        }
        let trimmed = line.trim_start();
        if HEAP_PREFIXES.iter().any(|p| trimmed.starts_with(p)) {
            return Some(AbortReason::Heap(trimmed.to_string()));
        }
        if trimmed.starts_with("*** ") && trimmed.contains(" detected ***") {
            let end = trimmed.find(" ***:").map(|e| e + 4).unwrap_or(trimmed.len());
            return Some(AbortReason::StackSmashing(trimmed[..end].to_string()));
        }
        if let Some(rest) = trimmed.strip_prefix("terminate called after throwing an instance of '") {
            let type_name = rest.trim_end_matches('\'').to_string();
            let what = lines
                .get(i + 1)
                .and_then(|next| next.trim_start().strip_prefix("what():"))
                .map(|w| w.trim().to_string());
            return Some(AbortReason::UncaughtException { type_name, what });
        }
        if let Some(panic) = rust_panic(line, lines.get(i + 1).copied()) {
            return Some(panic);
        }
    }
    None
}

/// `prog: file.c:12: function: Assertion `expr' failed.` (glibc's format).
fn assertion(line: &str) -> Option<AbortReason> {
    let start = line.find(": Assertion `")?;
    let expression = line[start + ": Assertion `".len()..].strip_suffix("' failed.")?.to_string();
    // Before it: `prog: file:line: function` (the program name may be absent).
    let head = &line[..start];
    let (place, function) = head.rsplit_once(": ")?;
    let (file_part, line_number) = place.rsplit_once(':')?;
    let file = file_part.rsplit_once(": ").map(|(_, f)| f).unwrap_or(file_part);
    Some(AbortReason::Assertion {
        expression,
        file: file.to_string(),
        line: line_number.trim().parse().ok()?,
        function: function.to_string(),
    })
}

/// Rust's panic message: `thread 'main' panicked at src/main.rs:4:5:` then
/// the message on the next line (Rust 1.73 and later), or
/// `thread 'main' panicked at 'message', src/main.rs:4:5` (before).
fn rust_panic(line: &str, next: Option<&str>) -> Option<AbortReason> {
    let rest = line.strip_prefix("thread '")?;
    // Newer versions put the thread's id after its name: `thread 'main' (4242) panicked at`.
    let (_, after) = rest.split_once(" panicked at ")?;
    if let Some(old) = after.strip_prefix('\'') {
        let (message, location) = old.rsplit_once("', ")?;
        return Some(AbortReason::RustPanic { message: message.to_string(), location: Some(location.to_string()) });
    }
    let location = after.strip_suffix(':').unwrap_or(after).to_string();
    let message = next.map(|n| n.trim().to_string()).unwrap_or_default();
    Some(AbortReason::RustPanic { message, location: Some(location) })
}

/// A C++ type name from the mangled name a `std::type_info` holds
/// (`St13runtime_error` is `std::runtime_error`).
pub fn type_name_from_type_info(mangled: &str) -> String {
    // A leading `*` marks a type local to its object file.
    let mangled = mangled.strip_prefix('*').unwrap_or(mangled);
    // A type's mangled name is a symbol's name without `_Z`.
    let symbol = format!("_ZTS{mangled}");
    match cpp_demangle::Symbol::new(symbol.as_bytes()).ok().and_then(|s| s.demangle(&Default::default()).ok()) {
        Some(text) => text.strip_prefix("typeinfo name for ").unwrap_or(&text).to_string(),
        None => mangled.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assertions_are_read_whole() {
        let text = "assert_fx: /src/tests/assert.c:12: check: Assertion `value < 100' failed.\n";
        assert_eq!(
            find_abort_reason(text),
            Some(AbortReason::Assertion {
                expression: "value < 100".into(),
                file: "/src/tests/assert.c".into(),
                line: 12,
                function: "check".into()
            })
        );
        let reason = find_abort_reason(text).unwrap();
        assert_eq!(reason.summary(), "/src/tests/assert.c:12: check: Assertion `value < 100' failed.");
    }

    #[test]
    fn heap_and_stack_protector_messages() {
        assert_eq!(
            find_abort_reason("some output\nfree(): double free detected in tcache 2\n"),
            Some(AbortReason::Heap("free(): double free detected in tcache 2".into()))
        );
        assert_eq!(
            find_abort_reason("double free or corruption (out)\n"),
            Some(AbortReason::Heap("double free or corruption (out)".into()))
        );
        assert_eq!(
            find_abort_reason("*** stack smashing detected ***: terminated\n"),
            Some(AbortReason::StackSmashing("*** stack smashing detected ***".into()))
        );
        assert_eq!(find_abort_reason("hello\nworld\n"), None);
    }

    #[test]
    fn exceptions_and_panics() {
        let cxx = "terminate called after throwing an instance of 'std::runtime_error'\n  what():  odd\n";
        assert_eq!(
            find_abort_reason(cxx),
            Some(AbortReason::UncaughtException { type_name: "std::runtime_error".into(), what: Some("odd".into()) })
        );
        let new = "\nthread 'main' panicked at src/main.rs:4:5:\nindex out of bounds: the len is 3 but the index is 7\nnote: run with `RUST_BACKTRACE=1`\n";
        assert_eq!(
            find_abort_reason(new),
            Some(AbortReason::RustPanic {
                message: "index out of bounds: the len is 3 but the index is 7".into(),
                location: Some("src/main.rs:4:5".into())
            })
        );
        let with_id = "thread 'main' (4242) panicked at src/main.rs:4:5:\nboom\n";
        assert_eq!(find_abort_reason(with_id).unwrap().summary(), "boom (at src/main.rs:4:5)");
        let old = "thread 'main' panicked at 'boom', src/main.rs:2:5\n";
        assert_eq!(
            find_abort_reason(old),
            Some(AbortReason::RustPanic { message: "boom".into(), location: Some("src/main.rs:2:5".into()) })
        );
    }

    #[test]
    fn type_info_names_are_demangled() {
        assert_eq!(type_name_from_type_info("St13runtime_error"), "std::runtime_error");
        assert_eq!(type_name_from_type_info("N6parser9BadHeaderE"), "parser::BadHeader");
        assert_eq!(type_name_from_type_info("i"), "int");
    }
}
