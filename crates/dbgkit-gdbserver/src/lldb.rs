//! lldb's `jThreadsInfo`: every thread with its name and the registers it
//! needs to show a stop without asking again (pc, sp, fp), and the signal of
//! the thread that stopped, as JSON.

use crate::arch::regnum;
use crate::target::ServerTarget;

fn json_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn hex_le(value: u64) -> String {
    dbgkit::target::remote::packet::to_hex(&value.to_le_bytes())
}

/// The `jThreadsInfo` reply (JSON; the caller escapes it for the wire).
pub fn threads_info(target: &mut ServerTarget) -> String {
    let Some(pid) = target.inferior.as_ref().map(|i| i.pid) else { return "[]".into() };
    let stopped = target.stop_event.as_ref().map(|e| e.tid);
    let signal = match target.stop_event.as_ref().map(|e| &e.kind) {
        Some(dbgkit::EventKind::Exception { signal, .. }) => crate::signals::to_gdb(*signal),
        Some(dbgkit::EventKind::BreakIn) => crate::signals::to_gdb(libc::SIGINT),
        Some(_) => crate::signals::to_gdb(libc::SIGTRAP),
        None => 0,
    };
    let mut entries = Vec::new();
    for tid in target.live_threads(pid) {
        let name = crate::info::thread_name(pid, tid);
        let mut entry = format!("{{\"tid\":{tid},\"name\":{}", json_string(&name));
        if Some(tid) == stopped {
            entry.push_str(&format!(",\"signal\":{signal}"));
        }
        if let Ok(regs) = target.session.registers(pid, tid) {
            entry.push_str(&format!(
                ",\"registers\":{{\"{}\":\"{}\",\"{}\":\"{}\",\"{}\":\"{}\"}}",
                regnum::RBP,
                hex_le(regs.rbp),
                regnum::RSP,
                hex_le(regs.rsp),
                regnum::RIP,
                hex_le(regs.rip)
            ));
        }
        entry.push('}');
        entries.push(entry);
    }
    format!("[{}]", entries.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_escaped_for_json() {
        assert_eq!(json_string("a\"b\\c\n"), "\"a\\\"b\\\\c\\u000a\"");
        assert_eq!(hex_le(0x401136), "3611400000000000");
    }
}
