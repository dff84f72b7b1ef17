//! Packets answered before gdbstub sees them: the ones gdbstub 0.7 does not
//! implement (`QPassSignals`, `qXfer:threads:read`, `jThreadsInfo`, ...),
//! and a few whose answer depends on this server's state (`qAttached`, `!`).

use crate::server::Negotiated;
use crate::target::{Origin, ServerTarget};

/// Features added to gdbstub's `qSupported` reply.
pub const EXTRA_FEATURES: &[u8] =
    b";QPassSignals+;ConditionalBreakpoints+;BreakpointCommands+;QProgramSignals+;QNonStop+;qXfer:threads:read+;qXfer:siginfo:read+;qXfer:siginfo:write+;qXfer:osdata:read+;exec-events+;fork-events+;vfork-events+";

/// gdbstub's `qSupported` reply as sent: the packet size this server takes
/// (gdbstub says the size of its first buffer, which grows as needed) and
/// the features answered here.
pub fn qsupported_reply(gdbstub_reply: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(gdbstub_reply);
    let mut features: Vec<String> = text
        .split(';')
        .map(|f| {
            if f.starts_with("PacketSize=") {
                format!("PacketSize={:x}", crate::server::PACKET_SIZE)
            } else {
                f.to_string()
            }
        })
        .collect();
    features.retain(|f| !f.is_empty());
    let mut reply = features.join(";").into_bytes();
    reply.extend_from_slice(EXTRA_FEATURES);
    reply
}

/// The reply to `body`, or `None` to let gdbstub answer.
pub fn answer(target: &mut ServerTarget, negotiated: &mut Negotiated, body: &[u8]) -> Option<Vec<u8>> {
    // The process gdb selected stays its choice when another one that
    // stopped became current (several processes running at once).
    let current = target.inferior.as_ref().map(|i| i.pid);
    // (An `Hg` makes a new choice: the old one is not taken in for it.)
    let selects = body.starts_with(b"Hg");
    if !selects && negotiated.selected_process.is_some_and(|p| Some(p) != current && target.is_parked(p)) {
        negotiated.foreign_process = negotiated.selected_process;
    }
    // A packet for another process gdb keeps (registers, breakpoints, or
    // anything for a parked one) makes it the current process.
    if let Some(pid) = negotiated.foreign_process {
        let wants_it = target.is_parked(pid) || crate::processes::needs_current_process(body);
        if wants_it {
            // In non-stop mode every process is held while a packet is served.
            let adopting = target.non_stop.enabled && target.kept_children.contains_key(&pid);
            match target.make_current(pid) {
                Ok(true) => {
                    negotiated.foreign_process = None;
                    if adopting {
                        target.record_stopped_for_gdb(negotiated, pid);
                    }
                }
                Ok(false) => {}
                Err(e) => {
                    crate::debug_log!(target, "taking process {pid} in: {e}");
                    return Some(b"E01".to_vec());
                }
            }
        }
    }
    // Memory packets aimed at a forked child (binary `X` included, which is
    // no text) never reach the process debugged.
    if let Some(pid) = negotiated.foreign_process {
        if let Some(reply) = target.child_memory_packet(pid, body) {
            return Some(reply);
        }
    }
    if let Some(rest) = body.strip_prefix(b"qXfer:siginfo:write::") {
        // Binary data: not text.
        return Some(write_siginfo(target, negotiated, rest).unwrap_or_else(|| b"E01".to_vec()));
    }
    let text = std::str::from_utf8(body).ok()?;
    if let Some(thread) = text.strip_prefix("Hg") {
        let pid = thread.strip_prefix('p').and_then(|t| i32::from_str_radix(t.split('.').next()?, 16).ok());
        if let Some(pid) = pid {
            // gdb goes on with a child whose parent it detached.
            if let Err(e) = target.adopt_followed_child(pid) {
                crate::debug_log!(target, "following the forked child: {e}");
                return Some(b"E01".to_vec());
            }
        }
        let ours = target.inferior.as_ref().map(|i| i.pid);
        negotiated.selected_process = pid.filter(|&p| p > 0);
        negotiated.foreign_process = pid.filter(|&p| p > 0 && Some(p) != ours);
        // gdbstub keeps the thread even of a process that is not current:
        // when a later packet takes that process in, `g` and `m` go to the
        // thread gdb named, not to the one gdbstub had before.
        let names_one_thread = crate::non_stop::parse_thread(thread).is_some_and(|s| s.tid.is_some_and(|t| t > 0));
        if negotiated.foreign_process.is_some() && !names_one_thread {
            return Some(b"OK".to_vec());
        }
        return None;
    }
    if negotiated.foreign_process.is_some() {
        // A forked child: the engine took every breakpoint out of it and let
        // it go, so removing (or adding) one there has nothing to do.
        if text.starts_with('z') || text.starts_with('Z') {
            return Some(b"OK".to_vec());
        }
        if text.starts_with('g') {
            return Some(format!("E{:02x}", libc::ESRCH).into_bytes());
        }
    }
    if text == "?" && !target.non_stop.enabled {
        // A client that connects again to a process held at a signal
        // hears that signal, for the thread that got it (gdbstub would say
        // SIGTRAP for the first thread).
        if let Some(reply) = target.held_signal_stop_reply(negotiated) {
            return Some(reply.into_bytes());
        }
    }
    if text == "!" {
        target.extended = true;
        return Some(b"OK".to_vec());
    }
    if let Some(list) = text.strip_prefix("QPassSignals:") {
        target.pass_signals = parse_signal_list(list)?;
        return Some(b"OK".to_vec());
    }
    if text.starts_with("QProgramSignals:") {
        // The engine delivers every signal gdb passes back; nothing to filter.
        return Some(b"OK".to_vec());
    }
    if text == "qAttached" || text.starts_with("qAttached:") {
        let attached = target.inferior.as_ref().is_some_and(|i| i.origin == Origin::Attached);
        return Some(if attached { b"1".to_vec() } else { b"0".to_vec() });
    }
    if let Some(pid) = text.strip_prefix("D;") {
        let pid = i32::from_str_radix(pid, 16).ok()?;
        if target.detach_parked(pid) {
            return Some(b"OK".to_vec());
        }
        if !target.parked.is_empty() && target.inferior.as_ref().is_some_and(|i| i.pid == pid) {
            // One process of several: the others stay (and the connection).
            eprintln!("Detaching from process {pid}");
            if let Err(e) = target.detach_inferior() {
                crate::debug_log!(target, "detaching process {pid}: {e}");
                return Some(b"E01".to_vec());
            }
            return Some(b"OK".to_vec());
        }
        if target.inferior.as_ref().map(|i| i.pid) != Some(pid) {
            // A forked child gdb lets go (or one that already went).
            target.detach_child(pid);
            return Some(b"OK".to_vec());
        }
        // The parent, right after a fork stop: gdb may follow the child next.
        match target.detach_parent_of_child() {
            Ok(true) => {
                negotiated.foreign_process = None;
                return Some(b"OK".to_vec());
            }
            Ok(false) => {}
            Err(e) => {
                crate::debug_log!(target, "following the forked child: {e}");
                return Some(b"E01".to_vec());
            }
        }
    }
    if let Some(actions) = text.strip_prefix("vCont") {
        // A malformed resume must not resume anything: refuse it here
        // (gdbstub reads some garbage after `vCont?` as actions).
        if actions != "?" && !valid_vcont_actions(actions) {
            return Some(b"E01".to_vec());
        }
        // gdb resumes one process of several (`c:pPID.-1`): it is current
        // then; or every process (`schedule-multiple`).
        target.resume_every_process = !target.non_stop.enabled
            && target.has_other_processes()
            && crate::schedule_multiple::names_every_process(actions);
        let named = crate::processes::process_named_by_vcont(actions);
        if let Some(pid) = named.filter(|&pid| !target.non_stop.enabled && target.is_parked(pid)) {
            if let Err(e) = target.make_current(pid) {
                crate::debug_log!(target, "taking process {pid} in: {e}");
                return Some(b"E01".to_vec());
            }
            negotiated.foreign_process = None;
        }
    }
    if let Some(args) = text.strip_prefix("qGetTLSAddr:") {
        let mut parts = args.split(',');
        let (Some(thread), Some(offset), Some(lm)) = (parts.next(), parts.next(), parts.next()) else {
            return Some(b"E01".to_vec());
        };
        let named = crate::non_stop::parse_thread(thread);
        let offset = u64::from_str_radix(offset, 16).ok();
        let lm = u64::from_str_radix(lm, 16).ok();
        let (Some(named), Some(offset), Some(lm)) = (named, offset, lm) else {
            return Some(b"E01".to_vec());
        };
        let Some(tid) = named.tid else { return Some(b"E01".to_vec()) };
        // The thread may be of a parked process: the variable is read there.
        let Some(pid) = named.pid.or(target.inferior.as_ref().map(|i| i.pid)) else {
            return Some(b"E01".to_vec());
        };
        return Some(match target.tls_address(pid, tid, offset, lm) {
            Ok(address) => format!("{address:x}").into_bytes(),
            Err(why) => {
                crate::debug_log!(target, "qGetTLSAddr: {why}");
                b"E01".to_vec()
            }
        });
    }
    if text == "qShlibInfoAddr" {
        let pid = target.inferior.as_ref()?.pid;
        return Some(match target.debug_pointer_location(pid) {
            Some(address) => format!("{address:x}").into_bytes(),
            None => b"E01".to_vec(),
        });
    }
    if text == "qProcessInfo" {
        // lldb reads the pid in hex (gdbstub 0.7 writes it in decimal).
        let pid = target.inferior.as_ref()?.pid;
        return Some(
            format!("pid:{pid:x};triple:{};endian:little;ptrsize:8;ostype:linux;", hex_text("x86_64-pc-linux-gnu"))
                .into_bytes(),
        );
    }
    if text.starts_with("Z3,") || text.starts_with("z3,") {
        // Read-only watchpoints: the debug registers cannot; gdbserver says
        // "unsupported" the same way (an empty reply), and gdb copes.
        return Some(Vec::new());
    }
    if let Some(rest) = text.strip_prefix("qXfer:libraries-svr4:read:") {
        // Here rather than in gdbstub, which takes no annex (gdb's
        // incremental `start=...;prev=...` reads at the loader's probes).
        let (annex, range) = rest.rsplit_once(':')?;
        let (offset, length) = parse_offset_length(range)?;
        let Some(request) = crate::libraries::Svr4Request::parse(annex) else {
            return Some(b"E01".to_vec());
        };
        let Some(pid) = target.inferior.as_ref().map(|i| i.pid) else {
            return Some(b"E01".to_vec());
        };
        return Some(xfer_reply(target.svr4_reply(pid, request).as_bytes(), offset, length));
    }
    if let Some(rest) = text.strip_prefix("qXfer:osdata:read:") {
        // `info os TYPE`; a type there is none of gets an empty document.
        let (annex, range) = rest.rsplit_once(':')?;
        let (offset, length) = parse_offset_length(range)?;
        // gdb reads a long document in parts: each part comes from the one
        // made at the first (processes come and go in between).
        let cached = target.osdata.as_ref().is_some_and(|(kind, _)| kind == annex);
        if offset == 0 || !cached {
            target.osdata = Some((annex.to_string(), crate::osdata::document(annex).unwrap_or_default()));
        }
        let document = target.osdata.as_ref().map(|(_, document)| document.as_bytes()).unwrap_or_default();
        return Some(xfer_reply(document, offset, length));
    }
    if let Some(range) = text.strip_prefix("qXfer:siginfo:read::") {
        let (offset, length) = parse_offset_length(range)?;
        let (pid, tid) = siginfo_thread(target, negotiated)?;
        return Some(match target.session.signal_info(pid, tid) {
            Ok(info) => xfer_reply(&info, offset, length),
            Err(_) => b"E01".to_vec(),
        });
    }
    if text == "jThreadsInfo" {
        let mut reply = Vec::new();
        crate::framing::escape_binary(crate::lldb::threads_info(target).as_bytes(), &mut reply);
        return Some(reply);
    }
    if let Some(annex) = text.strip_prefix("qXfer:threads:read::") {
        let (offset, length) = parse_offset_length(annex)?;
        return Some(xfer_reply(threads_document(target, negotiated).as_bytes(), offset, length));
    }
    None
}

/// The thread `$_siginfo` is about: gdb's general thread, else the one that stopped.
fn siginfo_thread(target: &ServerTarget, negotiated: &Negotiated) -> Option<(i32, i32)> {
    let pid = target.inferior.as_ref()?.pid;
    Some((pid, negotiated.general_thread().unwrap_or_else(|| target.stop_event.as_ref().map_or(pid, |e| e.tid))))
}

/// `qXfer:siginfo:write::OFFSET:DATA`: gdb puts `$_siginfo` back after
/// calling a function in a thread stopped by a signal (the call's own
/// stops replaced it), so the signal is delivered with its sender.
fn write_siginfo(target: &mut ServerTarget, negotiated: &Negotiated, rest: &[u8]) -> Option<Vec<u8>> {
    let colon = rest.iter().position(|&b| b == b':')?;
    let offset = usize::from_str_radix(std::str::from_utf8(&rest[..colon]).ok()?, 16).ok()?;
    let data = dbgkit::target::remote::packet::unescape(&rest[colon + 1..]);
    let end = offset.checked_add(data.len()).filter(|&end| end <= dbgkit::session::SIGINFO_SIZE)?;
    let (pid, tid) = siginfo_thread(target, negotiated)?;
    let mut info = target.session.signal_info(pid, tid).ok()?;
    info[offset..end].copy_from_slice(&data);
    target.session.set_signal_info(pid, tid, &info).ok()?;
    Some(format!("{:x}", data.len()).into_bytes())
}

/// `;ACTION[:THREAD]...` with ACTION one of `c`, `Cxx`, `s`, `Sxx`, `t`,
/// `rSTART,END` and THREAD `-1`, `TID` or `pPID.TID` (hex, `-1` for all).
pub fn valid_vcont_actions(actions: &str) -> bool {
    fn hex(s: &str) -> bool {
        !s.is_empty() && s.len() <= 16 && s.bytes().all(|b| b.is_ascii_hexdigit())
    }
    fn id(s: &str) -> bool {
        s == "-1" || hex(s)
    }
    fn thread(s: &str) -> bool {
        match s.strip_prefix('p') {
            Some(rest) => match rest.split_once('.') {
                Some((pid, tid)) => id(pid) && id(tid),
                None => id(rest),
            },
            None => id(s),
        }
    }
    let Some(list) = actions.strip_prefix(';') else { return false };
    list.split(';').all(|item| {
        let (action, target) = match item.split_once(':') {
            Some((a, t)) => (a, Some(t)),
            None => (item, None),
        };
        let action_ok = match action.as_bytes().first() {
            Some(b'c' | b's' | b't') => action.len() == 1,
            Some(b'C' | b'S') => action.len() == 3 && hex(&action[1..]),
            Some(b'r') => action[1..].split_once(',').is_some_and(|(a, b)| hex(a) && hex(b)),
            _ => false,
        };
        action_ok && target.is_none_or(thread)
    })
}

fn hex_text(text: &str) -> String {
    dbgkit::target::remote::packet::to_hex(text.as_bytes())
}

/// `QPassSignals` lists gdb signal numbers in hex separated by `;`.
fn parse_signal_list(list: &str) -> Option<std::collections::HashSet<i32>> {
    let mut set = std::collections::HashSet::new();
    for item in list.split(';').filter(|s| !s.is_empty()) {
        let gdb = u8::from_str_radix(item, 16).ok()?;
        if let Some(linux) = crate::signals::from_gdb(gdb) {
            set.insert(linux);
        }
    }
    Some(set)
}

/// `OFFSET,LENGTH` in hex.
pub fn parse_offset_length(annex: &str) -> Option<(usize, usize)> {
    let (offset, length) = annex.split_once(',')?;
    Some((usize::from_str_radix(offset, 16).ok()?, usize::from_str_radix(length, 16).ok()?))
}

/// A `qXfer` reply: `m` and a part when more follows, `l` and the last part.
pub fn xfer_reply(document: &[u8], offset: usize, length: usize) -> Vec<u8> {
    let start = offset.min(document.len());
    let end = start.saturating_add(length).min(document.len());
    let mut reply = vec![if end < document.len() { b'm' } else { b'l' }];
    crate::framing::escape_binary(&document[start..end], &mut reply);
    reply
}

/// A thread id as gdb writes it (`pPID.TID` in hex with multiprocess).
pub fn thread_id(negotiated: &Negotiated, pid: i32, tid: i32) -> String {
    if negotiated.multiprocess {
        format!("p{pid:x}.{tid:x}")
    } else {
        format!("{tid:x}")
    }
}

/// The processor a thread last ran on (field 39 of `/proc/PID/task/TID/stat`).
pub fn thread_core(pid: i32, tid: i32) -> Option<u32> {
    crate::info::core_in_stat(&crate::info::read_proc_file(&format!("/proc/{pid}/task/{tid}/stat"))?)
}

fn threads_document(target: &ServerTarget, negotiated: &Negotiated) -> String {
    let mut doc = String::from("<threads>");
    for pid in target.held_pids() {
        for tid in target.live_threads(pid) {
            let name = crate::info::thread_name(pid, tid);
            doc.push_str(&format!(
                r#"<thread id="{}" core="{}" name="{}"/>"#,
                thread_id(negotiated, pid, tid),
                thread_core(pid, tid).unwrap_or(0),
                crate::libraries::xml_escape(&name)
            ));
        }
    }
    doc.push_str("</threads>");
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xfer_replies_say_whether_more_follows() {
        assert_eq!(xfer_reply(b"abcdef", 0, 4), b"mabcd");
        assert_eq!(xfer_reply(b"abcdef", 4, 4), b"lef");
        assert_eq!(xfer_reply(b"abcdef", 10, 4), b"l");
        assert_eq!(xfer_reply(b"a#", 0, 9), b"la}\x03");
    }

    #[test]
    fn vcont_actions_are_checked_before_anything_resumes() {
        for good in [";c", ";c:-1", ";s:p1f.1f;c", ";C0b:p1f.20;c", ";r401000,401010:p5.5;c:p5.-1", ";t:3"] {
            assert!(valid_vcont_actions(good), "{good}");
        }
        for bad in ["", ";", ",9dd:g::", ";x", ";C0:1", ";s:zz", ";r1:2", "c", ";c:p1.2.3"] {
            assert!(!valid_vcont_actions(bad), "{bad}");
        }
    }

    #[test]
    fn offsets_and_signal_lists_parse_or_refuse() {
        assert_eq!(parse_offset_length("0,fff"), Some((0, 0xfff)));
        assert_eq!(parse_offset_length("zz,1"), None);
        assert_eq!(parse_offset_length("10"), None);
        let set = parse_signal_list("e;14;1e;").unwrap();
        assert!(set.contains(&libc::SIGALRM) && set.contains(&libc::SIGCHLD) && set.contains(&libc::SIGUSR1));
        assert_eq!(parse_signal_list("zz"), None);
    }
}
