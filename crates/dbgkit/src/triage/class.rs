//! What a crash is: its class, in the spirit of CERT's `exploitable` and
//! CASR, and how bad it is likely to be.

use std::fmt;

/// How likely a crash is to be exploitable, most severe first. The order is
/// the ranking of the summary: an `Unknown` crash is ranked above the ones
/// known to be benign, since nobody has ruled it out yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Exploitable,
    ProbablyExploitable,
    Unknown,
    ProbablyNotExploitable,
}

impl Severity {
    /// The name used in reports and JSON (`probably-exploitable`).
    pub fn name(self) -> &'static str {
        match self {
            Severity::Exploitable => "exploitable",
            Severity::ProbablyExploitable => "probably-exploitable",
            Severity::Unknown => "unknown",
            Severity::ProbablyNotExploitable => "probably-not-exploitable",
        }
    }

    /// Parses [`name`](Self::name)'s output.
    pub fn parse(text: &str) -> Option<Severity> {
        [Severity::Exploitable, Severity::ProbablyExploitable, Severity::Unknown, Severity::ProbablyNotExploitable]
            .into_iter()
            .find(|s| s.name() == text)
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A memory access as the faulting instruction made it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Access {
    Read,
    Write,
    Execute,
}

impl Access {
    pub fn name(self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::Write => "write",
            Access::Execute => "execute",
        }
    }
}

/// The class of a crash. Each has an id (`write-near-null`), a severity and
/// a one-line explanation; [`CrashClass::Sanitizer`] carries the report's kind.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CrashClass {
    /// The program counter points at unmapped memory.
    ExecuteInvalid,
    /// The program counter points into mapped memory that is not executable
    /// (the stack, the heap, data).
    ExecuteNonExecutable,
    /// A `ret` popped an address that is not code: the return address was overwritten.
    ReturnToInvalid,
    /// A `call` or `jmp` went through a bad pointer, or could not read its target.
    BranchInvalid,
    /// A write to an address whose bytes appear in the input.
    WriteInputAddress,
    /// A write to a bad address.
    WriteInvalid,
    /// A write to an address in the first 64 KiB.
    WriteNearNull,
    /// A read from an address whose bytes appear in the input.
    ReadInputAddress,
    /// A read from a bad address.
    ReadInvalid,
    /// A read from an address in the first 64 KiB.
    ReadNearNull,
    /// The fault is on the stack, just past its end: unbounded recursion or a huge frame.
    StackExhaustion,
    /// `__stack_chk_fail` or `__fortify_fail`: a canary or a checked buffer was overrun.
    StackSmashing,
    /// glibc's allocator found its structures damaged (`free(): invalid pointer`).
    HeapCorruption,
    /// Integer division by zero (or overflow of `idiv`).
    DivisionByZero,
    /// An instruction the processor does not know, or a privileged one.
    IllegalInstruction,
    /// A trap the compiler or the program put there (`ud2`, `int3`).
    Trap,
    /// `assert` failed.
    Assertion,
    /// `abort` was called.
    Abort,
    /// A C++ exception nobody caught (`std::terminate`).
    UncaughtException,
    /// A Rust panic.
    RustPanic,
    /// A bus error: misaligned access or a mapped file truncated under the program.
    BusError,
    /// A sanitizer's report: `tool` (`AddressSanitizer`), `kind`
    /// (`heap-buffer-overflow`) and the access it names, if any.
    Sanitizer { tool: String, kind: String, access: Option<Access> },
    /// The run did not end within the time limit.
    Hang,
    /// Killed by another signal.
    Signal(i32),
}

impl CrashClass {
    /// The class's short name (`write-near-null`, `asan-heap-buffer-overflow-write`).
    pub fn id(&self) -> String {
        let fixed = match self {
            CrashClass::ExecuteInvalid => "execute-invalid",
            CrashClass::ExecuteNonExecutable => "execute-non-executable",
            CrashClass::ReturnToInvalid => "return-to-invalid",
            CrashClass::BranchInvalid => "branch-invalid",
            CrashClass::WriteInputAddress => "write-input-address",
            CrashClass::WriteInvalid => "write-invalid",
            CrashClass::WriteNearNull => "write-near-null",
            CrashClass::ReadInputAddress => "read-input-address",
            CrashClass::ReadInvalid => "read-invalid",
            CrashClass::ReadNearNull => "read-near-null",
            CrashClass::StackExhaustion => "stack-exhaustion",
            CrashClass::StackSmashing => "stack-smashing",
            CrashClass::HeapCorruption => "heap-corruption",
            CrashClass::DivisionByZero => "division-by-zero",
            CrashClass::IllegalInstruction => "illegal-instruction",
            CrashClass::Trap => "trap",
            CrashClass::Assertion => "assertion",
            CrashClass::Abort => "abort",
            CrashClass::UncaughtException => "uncaught-exception",
            CrashClass::RustPanic => "rust-panic",
            CrashClass::BusError => "bus-error",
            CrashClass::Hang => "hang",
            CrashClass::Signal(signal) => return format!("signal-{}", crate::signal_name(*signal)),
            CrashClass::Sanitizer { tool, kind, access } => {
                let prefix = match tool.as_str() {
                    "AddressSanitizer" => "asan",
                    "UndefinedBehaviorSanitizer" => "ubsan",
                    "MemorySanitizer" => "msan",
                    "LeakSanitizer" => "lsan",
                    "ThreadSanitizer" => "tsan",
                    _ => "sanitizer",
                };
                return match access {
                    Some(a) => format!("{prefix}-{kind}-{}", a.name()),
                    None => format!("{prefix}-{kind}"),
                };
            }
        };
        fixed.to_string()
    }

    /// How likely the crash is to be exploitable.
    pub fn severity(&self) -> Severity {
        use Severity::*;
        match self {
            CrashClass::ExecuteInvalid
            | CrashClass::ExecuteNonExecutable
            | CrashClass::ReturnToInvalid
            | CrashClass::BranchInvalid
            | CrashClass::WriteInputAddress
            | CrashClass::WriteInvalid
            | CrashClass::StackSmashing
            | CrashClass::HeapCorruption => Exploitable,
            CrashClass::WriteNearNull | CrashClass::ReadInputAddress | CrashClass::IllegalInstruction => {
                ProbablyExploitable
            }
            CrashClass::ReadInvalid | CrashClass::BusError | CrashClass::Signal(_) => Unknown,
            CrashClass::ReadNearNull
            | CrashClass::StackExhaustion
            | CrashClass::DivisionByZero
            | CrashClass::Trap
            | CrashClass::Assertion
            | CrashClass::Abort
            | CrashClass::UncaughtException
            | CrashClass::RustPanic
            | CrashClass::Hang => ProbablyNotExploitable,
            CrashClass::Sanitizer { tool, kind, access } => sanitizer_severity(tool, kind, *access),
        }
    }

    /// One sentence on what the class means and why it has its severity.
    pub fn explanation(&self) -> String {
        let fixed = match self {
            CrashClass::ExecuteInvalid => {
                "the program counter points at unmapped memory: control flow is in the attacker's hands"
            }
            CrashClass::ExecuteNonExecutable => {
                "the program jumped into memory that is not code (stack, heap or data): injected code would run here without NX"
            }
            CrashClass::ReturnToInvalid => {
                "a return went to an address that is not code: the return address on the stack was overwritten"
            }
            CrashClass::BranchInvalid => "a call or jump went through a bad pointer: control flow follows corrupted data",
            CrashClass::WriteInputAddress => {
                "a write to an address made of bytes of the input: the attacker chooses where memory is written"
            }
            CrashClass::WriteInvalid => "a write to a bad address: memory corruption, often exploitable",
            CrashClass::WriteNearNull => {
                "a write near address 0: usually a null pointer, but an offset from it can reach mapped memory"
            }
            CrashClass::ReadInputAddress => {
                "a read from an address made of bytes of the input: the attacker chooses what is read"
            }
            CrashClass::ReadInvalid => "a read from a bad address: an out-of-bounds or dangling pointer",
            CrashClass::ReadNearNull => "a read near address 0: a null-pointer dereference",
            CrashClass::StackExhaustion => "the stack ran into its guard page: unbounded recursion or a huge stack frame",
            CrashClass::StackSmashing => {
                "the stack protector or a fortified function caught a buffer overrun (stack smashing detected)"
            }
            CrashClass::HeapCorruption => "glibc's allocator found its heap structures damaged and aborted",
            CrashClass::DivisionByZero => "an integer division by zero (or an overflowing idiv)",
            CrashClass::IllegalInstruction => {
                "the processor met an invalid or privileged instruction: code was corrupted or control went astray"
            }
            CrashClass::Trap => "a trap instruction placed by the compiler or the program (ud2, int3) was executed",
            CrashClass::Assertion => "an assertion failed: the program checked an invariant and stopped",
            CrashClass::Abort => "the program called abort()",
            CrashClass::UncaughtException => "a C++ exception was thrown and never caught: std::terminate aborted",
            CrashClass::RustPanic => "a Rust panic: the program checked a condition and stopped",
            CrashClass::BusError => "a bus error: a misaligned access, or a mapped file shorter than its mapping",
            CrashClass::Hang => "the run did not finish within the time limit",
            CrashClass::Signal(signal) => return format!("the program was killed by {}", crate::signal_name(*signal)),
            CrashClass::Sanitizer { tool, kind, access } => {
                let access = access.map(|a| format!(" ({})", a.name())).unwrap_or_default();
                return format!("{tool} reported {kind}{access}");
            }
        };
        fixed.to_string()
    }
}

/// The severity of a sanitizer's finding, as CASR rates them: writes out of
/// bounds and frees of bad pointers are exploitable, reads out of bounds
/// probably, undefined behaviour that is arithmetic mostly not.
fn sanitizer_severity(tool: &str, kind: &str, access: Option<Access>) -> Severity {
    use Severity::*;
    let memory_error = matches!(
        kind,
        "heap-buffer-overflow"
            | "stack-buffer-overflow"
            | "stack-buffer-underflow"
            | "global-buffer-overflow"
            | "dynamic-stack-buffer-overflow"
            | "heap-use-after-free"
            | "stack-use-after-return"
            | "stack-use-after-scope"
            | "container-overflow"
            | "use-after-poison"
            | "intra-object-overflow"
    );
    match (tool, kind) {
        (_, _) if memory_error && access == Some(Access::Write) => Exploitable,
        ("AddressSanitizer", "heap-use-after-free") => Exploitable,
        (_, _) if memory_error => ProbablyExploitable,
        (_, "double-free" | "bad-free" | "alloc-dealloc-mismatch" | "new-delete-type-mismatch") => Exploitable,
        (_, "negative-size-param" | "index-out-of-bounds") => ProbablyExploitable,
        ("AddressSanitizer", "SEGV") => match access {
            Some(Access::Write) | Some(Access::Execute) => Exploitable,
            _ => Unknown,
        },
        (_, "stack-overflow" | "allocation-size-too-big" | "out-of-memory" | "memcpy-param-overlap") => {
            ProbablyNotExploitable
        }
        ("MemorySanitizer", _) => Unknown,
        ("UndefinedBehaviorSanitizer", _) => ProbablyNotExploitable,
        _ => Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_order_the_ranking() {
        assert!(Severity::Exploitable < Severity::ProbablyExploitable);
        assert!(Severity::Unknown < Severity::ProbablyNotExploitable);
        assert_eq!(Severity::parse("probably-exploitable"), Some(Severity::ProbablyExploitable));
        assert_eq!(Severity::parse("bad"), None);
    }

    #[test]
    fn classes_have_ids_and_severities() {
        assert_eq!(CrashClass::WriteNearNull.id(), "write-near-null");
        assert_eq!(CrashClass::WriteNearNull.severity(), Severity::ProbablyExploitable);
        assert_eq!(CrashClass::Signal(crate::signal_numbers::SIGUSR1).id(), "signal-SIGUSR1");
        let overflow = CrashClass::Sanitizer {
            tool: "AddressSanitizer".into(),
            kind: "heap-buffer-overflow".into(),
            access: Some(Access::Write),
        };
        assert_eq!(overflow.id(), "asan-heap-buffer-overflow-write");
        assert_eq!(overflow.severity(), Severity::Exploitable);
        let read = CrashClass::Sanitizer {
            tool: "AddressSanitizer".into(),
            kind: "heap-buffer-overflow".into(),
            access: Some(Access::Read),
        };
        assert_eq!(read.severity(), Severity::ProbablyExploitable);
        let ub = CrashClass::Sanitizer {
            tool: "UndefinedBehaviorSanitizer".into(),
            kind: "signed-integer-overflow".into(),
            access: None,
        };
        assert_eq!(
            (ub.id().as_str(), ub.severity()),
            ("ubsan-signed-integer-overflow", Severity::ProbablyNotExploitable)
        );
        assert!(CrashClass::StackSmashing.explanation().contains("stack smashing"));
    }
}
