//! The verdict: a snapshot of the stopped thread, plus what the program
//! printed, plus the exception type the C++ runtime threw, make one
//! [`Analysis`].

use super::class::{Access, CrashClass, Severity};
use super::fault::FaultingInstruction;
use super::messages::{find_abort_reason, AbortReason};
use super::sanitizer::{parse_report, SanitizerReport};
use super::snapshot::{Frame, Snapshot, Trigger};
use super::stack_hash::{hash_frames, stack_hash};
use crate::arch::registers::Registers;

/// What a crash (or hang) is.
#[derive(Clone, Debug)]
pub struct Analysis {
    pub class: CrashClass,
    /// The signal, `si_code` and `si_addr` that stopped the thread, if a signal did.
    pub signal: Option<i32>,
    pub code: Option<i32>,
    pub fault_address: Option<u64>,
    /// The access that faulted and the bad address (computed when the kernel gives none).
    pub access: Option<Access>,
    pub bad_address: Option<u64>,
    pub instruction: Option<FaultingInstruction>,
    pub registers: Option<Registers>,
    /// The stack of the crashing thread; from the sanitizer's report when
    /// the thread could not be seen (the program exited).
    pub frames: Vec<Frame>,
    pub stack_stopped: Option<String>,
    /// The frames that make the hash (`module!function`), and the hash.
    pub hash_frames: Vec<String>,
    pub hash: String,
    /// What the runtime said: the assertion, the heap check, the exception, the panic.
    pub reason: Option<AbortReason>,
    /// The type of the C++ exception last thrown, read from its `type_info`.
    pub exception_type: Option<String>,
    pub sanitizer: Option<SanitizerReport>,
}

impl Analysis {
    pub fn severity(&self) -> Severity {
        self.class.severity()
    }

    /// The explanation of the class, with the runtime's message when there is one.
    pub fn explanation(&self) -> String {
        let mut text = self.class.explanation();
        match (&self.reason, &self.sanitizer) {
            (_, Some(s)) if !s.headline.is_empty() => text.push_str(&format!(": {}", s.headline)),
            (Some(reason), _) => text.push_str(&format!(": {}", reason.summary())),
            _ => {}
        }
        text
    }
}

/// Combines what is known into an analysis. `snapshot` is the stopped
/// thread (none when the program exited by itself, having printed a
/// sanitizer report); `stderr` is what the program printed;
/// `thrown` the mangled type name of the last C++ exception thrown.
/// Returns `None` when nothing says the run crashed.
pub fn conclude(snapshot: Option<&Snapshot>, stderr: &str, thrown: Option<&str>, frames: usize) -> Option<Analysis> {
    let sanitizer = parse_report(stderr);
    let reason = snapshot
        .and_then(|s| s.abort_message.as_deref())
        .and_then(find_abort_reason)
        .or_else(|| find_abort_reason(stderr));
    let exception_type = thrown.map(super::messages::type_name_from_type_info);
    if snapshot.is_none() && sanitizer.is_none() {
        return None;
    }
    let stack: Vec<Frame> = match snapshot {
        Some(s) if !s.frames.is_empty() => s.frames.clone(),
        _ => sanitizer.as_ref().map(|r| frames_from_sanitizer(&r.stack)).unwrap_or_default(),
    };
    let signal = snapshot.and_then(|s| match s.trigger {
        Trigger::Signal { signal, .. } => Some(signal),
        _ => None,
    });
    let finding = snapshot.map(|s| &s.finding);
    let in_terminate = stack.iter().any(|f| {
        f.function.as_deref().is_some_and(|n| n.starts_with("std::terminate") || n.starts_with("__cxa_throw"))
    });
    let class = match snapshot.map(|s| s.trigger) {
        Some(Trigger::Hang) => CrashClass::Hang,
        Some(Trigger::Panic) => CrashClass::RustPanic,
        // A hardware fault is described best by the fault itself; a
        // sanitizer's report of the same fault is kept beside it.
        Some(Trigger::Signal { signal, .. })
            if crate::signal_numbers::is_hardware_fault(signal) || signal == crate::signal_numbers::SIGTRAP =>
        {
            finding.map(|f| f.class.clone()).unwrap_or(CrashClass::Signal(signal))
        }
        trigger => {
            if let Some(report) = &sanitizer {
                CrashClass::Sanitizer { tool: report.tool.clone(), kind: report.kind.clone(), access: report.access }
            } else {
                match &reason {
                    Some(AbortReason::Assertion { .. }) => CrashClass::Assertion,
                    Some(AbortReason::Heap(_)) => CrashClass::HeapCorruption,
                    Some(AbortReason::StackSmashing(_)) => CrashClass::StackSmashing,
                    Some(AbortReason::UncaughtException { .. }) => CrashClass::UncaughtException,
                    Some(AbortReason::RustPanic { .. }) => CrashClass::RustPanic,
                    None if exception_type.is_some() && in_terminate => CrashClass::UncaughtException,
                    None => match trigger {
                        Some(Trigger::Signal { signal: crate::signal_numbers::SIGABRT, .. }) => CrashClass::Abort,
                        Some(Trigger::Signal { signal, .. }) => CrashClass::Signal(signal),
                        _ => CrashClass::Abort,
                    },
                }
            }
        }
    };
    // The runtime's word for an exception nobody caught, or the type read from the target.
    let reason = match (reason, &class, &exception_type) {
        (None, CrashClass::UncaughtException, Some(t)) => {
            Some(AbortReason::UncaughtException { type_name: t.clone(), what: None })
        }
        (reason, _, _) => reason,
    };
    let hashed = hash_frames(stack.iter().map(|f| (f.module.as_deref(), f.function.as_deref())), frames);
    Some(Analysis {
        signal,
        code: snapshot.and_then(|s| match s.trigger {
            Trigger::Signal { code, .. } => Some(code),
            _ => None,
        }),
        fault_address: snapshot.and_then(|s| match s.trigger {
            Trigger::Signal { fault_address, .. } => fault_address,
            _ => None,
        }),
        access: finding.and_then(|f| f.access).or(sanitizer.as_ref().and_then(|s| s.access)),
        bad_address: finding.and_then(|f| f.address).or(sanitizer.as_ref().and_then(|s| s.address)),
        instruction: finding.and_then(|f| f.instruction.clone()),
        registers: snapshot.map(|s| s.registers),
        stack_stopped: snapshot.and_then(|s| s.stack_stopped.clone()),
        hash: stack_hash(&hashed),
        hash_frames: hashed,
        frames: stack,
        class,
        reason,
        exception_type,
        sanitizer,
    })
}

/// A sanitizer's frames as report frames (module from the frame when it
/// names one; the executable's frames name only their source file).
fn frames_from_sanitizer(frames: &[super::sanitizer::SanitizerFrame]) -> Vec<Frame> {
    frames
        .iter()
        .enumerate()
        .map(|(number, f)| {
            let (file, line) = match f.location.as_deref().filter(|l| !l.starts_with('(')) {
                Some(place) => {
                    let mut parts = place.split(':');
                    let file = parts.next().map(str::to_string);
                    (file, parts.next().and_then(|l| l.parse().ok()))
                }
                None => (None, None),
            };
            Frame {
                number,
                pc: f.address,
                module: f.module.clone().or_else(|| Some("?".into())),
                function: f.function.clone(),
                offset: 0,
                file,
                line,
                inlined: false,
            }
        })
        .collect()
}
