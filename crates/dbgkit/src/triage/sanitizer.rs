//! Sanitizer reports on standard error: AddressSanitizer, UndefinedBehavior-
//! Sanitizer and MemorySanitizer, in the format of the compiler-rt runtimes
//! that gcc and clang share.

use super::class::Access;

/// One frame of a sanitizer's stack (`#1 0x4011f6 in parse /src/p.c:12:5`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SanitizerFrame {
    pub address: u64,
    pub function: Option<String>,
    /// `file:line[:column]`, or `(module+0xoffset)` when not symbolized.
    pub location: Option<String>,
    /// The module, when the frame names one (`(libasan.so.8+0x4a3b2)`).
    pub module: Option<String>,
}

/// A sanitizer's report.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SanitizerReport {
    /// `AddressSanitizer`, `UndefinedBehaviorSanitizer`, `MemorySanitizer`.
    pub tool: String,
    /// `heap-buffer-overflow`, `SEGV`, `signed-integer-overflow`,
    /// `use-of-uninitialized-value`.
    pub kind: String,
    /// The report's first line, as printed (without the `==PID==` prefix).
    pub headline: String,
    /// `READ`/`WRITE` of an AddressSanitizer report.
    pub access: Option<Access>,
    /// The size of that access.
    pub access_size: Option<u64>,
    /// The bad address, when the report names one.
    pub address: Option<u64>,
    /// Where the error happened.
    pub stack: Vec<SanitizerFrame>,
    /// Where the memory was allocated (`allocated by thread T0 here:`).
    pub allocation_stack: Vec<SanitizerFrame>,
    /// Where it was freed (`freed by thread T0 here:`).
    pub free_stack: Vec<SanitizerFrame>,
    /// The line that says where the address lies (`... is located 0 bytes after 10-byte region ...`).
    pub location_note: Option<String>,
}

/// Which stack the following frames belong to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    Error,
    Allocated,
    Freed,
    Other,
}

/// Finds the first sanitizer report in a text (standard error).
pub fn parse_report(text: &str) -> Option<SanitizerReport> {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.iter().position(|l| headline(l).is_some())?;
    let (tool, kind, head) = headline(lines[start])?;
    let mut report = SanitizerReport { tool, kind, headline: head.to_string(), ..Default::default() };
    report.address = address_after(head, " on address ").or_else(|| address_after(head, " on unknown address "));
    if report.tool == "UndefinedBehaviorSanitizer" && report.kind.is_empty() {
        report.kind = ubsan_kind(head).to_string();
    }
    let mut section = Section::Error;
    for line in &lines[start + 1..] {
        let t = without_pid(line.trim());
        if t.starts_with("SUMMARY: ") {
            break;
        }
        if let Some(frame) = parse_frame(t) {
            match section {
                Section::Error => report.stack.push(frame),
                Section::Allocated => report.allocation_stack.push(frame),
                Section::Freed => report.free_stack.push(frame),
                Section::Other => {}
            }
            continue;
        }
        if let Some((access, size)) = access_line(t) {
            report.access = Some(access);
            report.access_size = Some(size);
        } else if t.starts_with("The signal is caused by a ") {
            report.access = match t.split_whitespace().nth(6) {
                Some("READ") => Some(Access::Read),
                Some("WRITE") => Some(Access::Write),
                _ => None,
            };
        } else if t.contains(" is located ") && report.location_note.is_none() {
            report.location_note = Some(t.to_string());
        }
        if t.starts_with("allocated by thread") || t.starts_with("previously allocated by thread") {
            section = Section::Allocated;
        } else if t.starts_with("freed by thread") {
            section = Section::Freed;
        } else if !t.is_empty() && !t.starts_with('#') && section == Section::Error && !report.stack.is_empty() {
            // Anything else after the error's stack (shadow bytes, notes) ends it.
            section = Section::Other;
        }
    }
    Some(report)
}

/// `==123==ERROR: AddressSanitizer: heap-buffer-overflow on address ...`,
/// `==123==WARNING: MemorySanitizer: use-of-uninitialized-value`, or
/// `p.c:7:9: runtime error: signed integer overflow: ...`: the tool, the
/// kind, and the line without its `==PID==` prefix.
fn headline(line: &str) -> Option<(String, String, &str)> {
    let body = without_pid(line.trim());
    for marker in ["ERROR: ", "WARNING: "] {
        if let Some(rest) = body.strip_prefix(marker) {
            let (tool, what) = rest.split_once(": ")?;
            if !tool.ends_with("Sanitizer") {
                return None;
            }
            let kind = what.split_whitespace().next().unwrap_or("").trim_end_matches(':');
            let kind = match kind {
                "attempting" if what.contains("double-free") => "double-free",
                "attempting" => "bad-free",
                k => k,
            };
            return Some((tool.to_string(), kind.to_string(), body));
        }
    }
    if line.contains(": runtime error: ") {
        return Some(("UndefinedBehaviorSanitizer".into(), String::new(), line.trim()));
    }
    None
}

/// A line without the `==PID==` prefix the runtimes put on their own lines.
fn without_pid(line: &str) -> &str {
    match line.strip_prefix("==") {
        Some(rest) => rest.split_once("==").map(|(_, b)| b).unwrap_or(rest),
        None => line,
    }
}

/// UBSan's check from its message (the names of `-fsanitize=` options).
fn ubsan_kind(line: &str) -> &'static str {
    let message = line.split_once("runtime error: ").map(|(_, m)| m).unwrap_or(line);
    let table: &[(&str, &str)] = &[
        ("signed integer overflow", "signed-integer-overflow"),
        ("negation of", "signed-integer-overflow"),
        ("division by zero", "integer-divide-by-zero"),
        ("shift exponent", "shift"),
        ("left shift of", "shift"),
        ("out of bounds for type", "index-out-of-bounds"),
        ("null pointer", "null"),
        ("misaligned address", "alignment"),
        ("not a valid value for type", "invalid-value"),
        ("is outside the range of representable values", "float-cast-overflow"),
        ("pointer overflow", "pointer-overflow"),
        ("execution reached an unreachable program point", "unreachable"),
        ("execution reached the end of a value-returning function", "missing-return"),
        ("variable length array bound", "vla-bound"),
        ("load of value", "invalid-value"),
    ];
    table.iter().find(|(needle, _)| message.contains(needle)).map(|(_, kind)| *kind).unwrap_or("undefined-behavior")
}

/// `READ of size 4 at 0x... thread T0`
fn access_line(line: &str) -> Option<(Access, u64)> {
    let (word, rest) = line.split_once(" of size ")?;
    let access = match word {
        "READ" => Access::Read,
        "WRITE" => Access::Write,
        _ => return None,
    };
    let size = rest.split_whitespace().next()?.parse().ok()?;
    Some((access, size))
}

fn address_after(text: &str, marker: &str) -> Option<u64> {
    let rest = &text[text.find(marker)? + marker.len()..];
    let hex = rest.split(|c: char| c.is_whitespace() || c == ')').next()?;
    u64::from_str_radix(hex.trim_start_matches("0x"), 16).ok()
}

/// `#0 0x4011f6 in parse /src/p.c:12:5`, `#1 0x7f.. in __libc_start_main (/lib/libc.so.6+0x271ca)`,
/// `#2 0x401095  (/tmp/p+0x401095)`.
pub fn parse_frame(line: &str) -> Option<SanitizerFrame> {
    let rest = line.strip_prefix('#')?;
    let (number, rest) = rest.split_once(' ')?;
    number.parse::<u32>().ok()?;
    let rest = rest.trim_start();
    let (address, rest) = rest.split_once(' ').unwrap_or((rest, ""));
    let address = u64::from_str_radix(address.strip_prefix("0x")?, 16).ok()?;
    let rest = rest.trim();
    let (function, place) = match rest.strip_prefix("in ") {
        Some(named) => {
            // The function may contain spaces (C++); the place is the last word,
            // or a parenthesised module.
            if let Some(open) = named.rfind(" (") {
                (Some(named[..open].to_string()), Some(named[open + 1..].to_string()))
            } else if let Some((f, p)) = named.rsplit_once(' ') {
                (Some(f.to_string()), Some(p.to_string()))
            } else {
                (Some(named.to_string()), None)
            }
        }
        None => (None, (!rest.is_empty()).then(|| rest.to_string())),
    };
    let module = place.as_deref().and_then(|p| p.strip_prefix('(')).and_then(|p| p.split('+').next()).map(|path| {
        std::path::Path::new(path).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or(path.to_string())
    });
    Some(SanitizerFrame { address, function, location: place, module })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ASAN: &str = "\
=================================================================
==4242==ERROR: AddressSanitizer: heap-use-after-free on address 0x602000000010 at pc 0x5555555551e4 bp 0x7fffffffe3f0 sp 0x7fffffffe3e8
WRITE of size 4 at 0x602000000010 thread T0
    #0 0x5555555551e3 in store /src/uaf.c:9
    #1 0x55555555524b in main /src/uaf.c:20
    #2 0x7ffff742824a in __libc_start_call_main ../sysdeps/nptl/libc_start_call_main.h:58
    #3 0x5555555550e4 in _start (/tmp/uaf+0x10e4)

0x602000000010 is located 0 bytes inside of 4-byte region [0x602000000010,0x602000000014)
freed by thread T0 here:
    #0 0x7ffff76b76a8 in __interceptor_free ../../../../src/libsanitizer/asan/asan_malloc_linux.cpp:52
    #1 0x555555555234 in main /src/uaf.c:19

previously allocated by thread T0 here:
    #0 0x7ffff76b89cf in __interceptor_malloc ../../../../src/libsanitizer/asan/asan_malloc_linux.cpp:69
    #1 0x555555555224 in main /src/uaf.c:18

SUMMARY: AddressSanitizer: heap-use-after-free /src/uaf.c:9 in store
Shadow bytes around the buggy address:
";

    #[test]
    fn asan_reports_with_their_three_stacks() {
        let r = parse_report(&format!("program output\n{ASAN}")).unwrap();
        assert_eq!(r.tool, "AddressSanitizer");
        assert_eq!(r.kind, "heap-use-after-free");
        assert_eq!((r.access, r.access_size, r.address), (Some(Access::Write), Some(4), Some(0x602000000010)));
        assert_eq!(r.stack.len(), 4);
        assert_eq!(r.stack[0].function.as_deref(), Some("store"));
        assert_eq!(r.stack[0].location.as_deref(), Some("/src/uaf.c:9"));
        assert_eq!(r.stack[3].module.as_deref(), Some("uaf"));
        assert_eq!(r.free_stack.len(), 2);
        assert_eq!(r.free_stack[0].function.as_deref(), Some("__interceptor_free"));
        assert_eq!(r.allocation_stack[1].function.as_deref(), Some("main"));
        assert!(r.location_note.unwrap().contains("4-byte region"));
        assert!(r.headline.starts_with("ERROR: AddressSanitizer: heap-use-after-free"));
    }

    #[test]
    fn asan_segv_double_free_and_msan() {
        let segv = "==1==ERROR: AddressSanitizer: SEGV on unknown address 0x000000000000 (pc 0x55 bp 0x1 sp 0x2 T0)\n\
                    ==1==The signal is caused by a WRITE memory access.\n    #0 0x55 in f /a.c:3\n";
        let r = parse_report(segv).unwrap();
        assert_eq!((r.kind.as_str(), r.access, r.address), ("SEGV", Some(Access::Write), Some(0)));
        let double = "==9==ERROR: AddressSanitizer: attempting double-free on 0x602000000010 in thread T0:\n";
        assert_eq!(parse_report(double).unwrap().kind, "double-free");
        let msan = "==7==WARNING: MemorySanitizer: use-of-uninitialized-value\n    #0 0x4 in main /m.c:5:7\n";
        let r = parse_report(msan).unwrap();
        assert_eq!(
            (r.tool.as_str(), r.kind.as_str(), r.stack.len()),
            ("MemorySanitizer", "use-of-uninitialized-value", 1)
        );
    }

    #[test]
    fn ubsan_runtime_errors() {
        let text = "/src/ub.c:7:14: runtime error: signed integer overflow: 2147483647 + 1 cannot be represented in type 'int'\n    #0 0x401136 in add /src/ub.c:7\n    #1 0x401160 in main /src/ub.c:12\n\nSUMMARY: UndefinedBehaviorSanitizer: undefined-behavior /src/ub.c:7:14 in \n";
        let r = parse_report(text).unwrap();
        assert_eq!((r.tool.as_str(), r.kind.as_str()), ("UndefinedBehaviorSanitizer", "signed-integer-overflow"));
        assert_eq!(r.stack.len(), 2);
        let oob = "x.c:3:10: runtime error: index 10 out of bounds for type 'int [4]'\n";
        assert_eq!(parse_report(oob).unwrap().kind, "index-out-of-bounds");
        assert!(parse_report("no report here\n").is_none());
    }

    #[test]
    fn frames_of_every_shape() {
        let f = parse_frame("#2 0x401095  (/tmp/p+0x401095)").unwrap();
        assert_eq!((f.function, f.module.as_deref()), (None, Some("p")));
        let f =
            parse_frame("#1 0x7f00 in std::vector<int>::at(unsigned long) /usr/include/c++/12/bits/stl_vector.h:1126")
                .unwrap();
        assert_eq!(f.function.as_deref(), Some("std::vector<int>::at(unsigned long)"));
        assert!(parse_frame("#x nothing").is_none());
    }
}
