//! One line per event, in the words of the classic DbgEng example.

use dbgkit::event::{access_violation_kind, nt_status_name, ExceptionCode};
use dbgkit::{signal_name, Event, EventKind, Module, Session};

/// The address an event is about, if any.
pub fn event_address(event: &Event) -> Option<u64> {
    match event.kind {
        EventKind::Exception { address, .. }
        | EventKind::Breakpoint { address, .. }
        | EventKind::StepComplete { address } => Some(address),
        // The code that made the access (for data watchpoints, the instruction after it).
        EventKind::Watchpoint { pc, .. } => Some(pc),
        _ => None,
    }
}

/// Bytes as the little-endian number they hold (hex), or as hex bytes when longer than 8.
fn hex_value(bytes: &[u8]) -> String {
    if bytes.len() <= 8 {
        let mut word = [0u8; 8];
        word[..bytes.len()].copy_from_slice(bytes);
        format!("{:#x}", u64::from_le_bytes(word))
    } else {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// `module!symbol+off (file.c:7)` for an address, or nothing when it is in no module.
pub fn place(session: &mut Session, pid: i32, address: u64) -> Option<String> {
    let s = session.symbolize(pid, address).ok()?;
    s.module.is_some().then(|| s.with_location())
}

fn module_line(m: &Module) -> String {
    format!("{:016x}-{:016x} {} {}", m.base, m.end(), m.name, m.path.display())
}

/// The line printed for an event; `place` names the event's address
/// (`crash!deref+0x10 (crash.c:7)`) when it has one.
pub fn event_line(event: &Event, place: Option<&str>) -> String {
    let place = place.map(|p| format!(" {p}")).unwrap_or_default();
    match &event.kind {
        EventKind::ProcessCreated { image, base, size, .. } => {
            format!("CreateProcess: pid={} {:016x}-{:016x} {}", event.pid, base, base + size, image.display())
        }
        EventKind::ProcessExited { code: Some(code), .. } => {
            format!("ExitProcess: pid={} code={}", event.pid, exit_code(*code))
        }
        EventKind::ProcessExited { signal, .. } => {
            format!("ExitProcess: pid={} signal={}", event.pid, signal.map(signal_name).unwrap_or_default())
        }
        EventKind::ThreadCreated { start } => {
            format!("CreateThread: tid={} start={start:016x}", event.tid)
        }
        EventKind::ThreadExited { code } => format!("ExitThread: tid={} code={}", event.tid, exit_code(*code)),
        EventKind::ModuleLoaded(m) => format!("ModLoad: {}", module_line(m)),
        EventKind::ModuleUnloaded(m) => format!("ModUnload: {:016x} {}", m.base, m.name),
        EventKind::Exception {
            os_code: ExceptionCode::NtStatus(status),
            code,
            address,
            fault_address,
            first_chance,
            ..
        } => {
            // WinDbg's words: the NTSTATUS and its name, an access violation's kind.
            let fault = fault_address.map(|f| format!(" fault={f:016x}")).unwrap_or_default();
            let chance = if *first_chance { "first-chance" } else { "second-chance" };
            let name = nt_status_name(*status).unwrap_or("exception");
            let kind =
                if *status == 0xC000_0005 { format!(" ({})", access_violation_kind(*code)) } else { String::new() };
            format!("Exception: {status:#010X} {name}{kind} at {address:016x}{place}{fault} {chance} tid={}", event.tid)
        }
        EventKind::Exception { signal, code, address, fault_address, first_chance, .. } => {
            let fault = fault_address.map(|f| format!(" fault={f:016x}")).unwrap_or_default();
            let chance = if *first_chance { "first-chance" } else { "second-chance" };
            format!(
                "Exception: {} code={code} at {address:016x}{place}{fault} {chance} tid={}",
                signal_name(*signal),
                event.tid
            )
        }
        EventKind::Breakpoint { id, address } => {
            format!("Breakpoint: id={id} at {address:016x}{place} tid={}", event.tid)
        }
        EventKind::Watchpoint { id, access, address, pc, old, new } => {
            let value = |bytes: &Option<Vec<u8>>| bytes.as_ref().map(|b| hex_value(b)).unwrap_or_else(|| "?".into());
            let values = if old.is_some() { format!(" old={} new={}", value(old), value(new)) } else { String::new() };
            format!(
                "Watchpoint: id={id} {} at {address:016x}{values} pc={pc:016x}{place} tid={}",
                access.name(),
                event.tid
            )
        }
        EventKind::StepComplete { address } => format!("Step: at {address:016x}{place} tid={}", event.tid),
        EventKind::BreakIn => format!("Break: pid={} tid={}", event.pid, event.tid),
        EventKind::Exec { image } => format!("Exec: pid={} {}", event.pid, image.display()),
        EventKind::Fork { child, vfork } => {
            format!("{}: pid={} child={child}", if *vfork { "VFork" } else { "Fork" }, event.pid)
        }
        EventKind::DebugOutput { text } => format!("DebugOutput: {text:?} tid={}", event.tid),
        other => format!("Event: {} pid={} tid={}", other.name(), event.pid, event.tid),
    }
}

/// An exit code as its system writes it: a Windows process that died of an
/// exception exits with the NTSTATUS (`0xC0000005`), shown in hex as WinDbg
/// does; ordinary codes in decimal.
fn exit_code(code: i32) -> String {
    match code {
        0..=0xFFFF => code.to_string(),
        _ => format!("{:#010X}", code as u32).replacen("0X", "0x", 1),
    }
}
