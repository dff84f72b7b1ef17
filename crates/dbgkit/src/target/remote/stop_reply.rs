//! Stop replies (`S`, `T`, `W`, `X`, `w`, `N`) and thread ids, read into
//! plain values: the one place where the wire's account of a stop is
//! decoded (signal numbers converted to Linux's), as `os/linux/wait.rs` is
//! for `waitpid` statuses.

use super::packet::{from_hex, hex_value, parse_hex_u64};
use super::signals;

/// A thread id on the wire: `pPID.TID`, `pPID`, `TID`; `-1` is "all", `0` "any".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ptid {
    pub pid: Option<i64>,
    pub tid: i64,
}

impl Ptid {
    /// Reads a thread id (hex numbers, `-1` allowed).
    pub fn parse(text: &[u8]) -> Option<Ptid> {
        let number = |t: &[u8]| -> Option<i64> {
            if t == b"-1" {
                Some(-1)
            } else {
                i64::try_from(parse_hex_u64(t)?).ok()
            }
        };
        match text.strip_prefix(b"p") {
            Some(rest) => match rest.iter().position(|&b| b == b'.') {
                Some(dot) => Some(Ptid { pid: Some(number(&rest[..dot])?), tid: number(&rest[dot + 1..])? }),
                None => Some(Ptid { pid: Some(number(rest)?), tid: -1 }),
            },
            None => Some(Ptid { pid: None, tid: number(text)? }),
        }
    }
}

/// Writes a thread id as the stub expects it.
pub fn format_ptid(multiprocess: bool, pid: i32, tid: i32) -> String {
    if multiprocess {
        format!("p{pid:x}.{tid:x}")
    } else {
        format!("{tid:x}")
    }
}

/// What kind of access a watchpoint saw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WatchKind {
    Write,
    Read,
    Access,
}

/// Why a thread stopped, beyond its signal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StopCause {
    /// A data watchpoint fired on an access at this address.
    Watch { kind: WatchKind, address: u64 },
    /// A software breakpoint (`Z0`) stopped the thread.
    SoftwareBreakpoint,
    /// A hardware breakpoint (`Z1`) stopped the thread.
    HardwareBreakpoint,
    /// The thread is new (`QThreadEvents`).
    Created,
    /// The library list changed.
    Library,
    /// Something else the engine does not use (`fork`, `exec`, `syscall_entry`...).
    Other(String),
}

/// A decoded stop reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StopReply {
    /// The thread stopped with a signal (Linux number; `SIGTRAP` for breakpoints and steps).
    Signal {
        signal: i32,
        thread: Option<Ptid>,
        cause: Option<StopCause>,
        /// Registers sent along (register number, little-endian bytes).
        registers: Vec<(usize, Vec<u8>)>,
        core: Option<u32>,
    },
    /// The process exited with this code.
    Exited { code: i32, pid: Option<i64> },
    /// The process was ended by a signal (Linux number).
    Terminated { signal: i32, pid: Option<i64> },
    /// One thread exited (`QThreadEvents`).
    ThreadExited { code: i32, thread: Option<Ptid> },
    /// Nothing is left running.
    NoResumed,
}

/// Why a reply could not be read as a stop reply.
pub type BadReply = String;

impl StopReply {
    /// Reads a stop reply.
    pub fn parse(reply: &[u8]) -> Result<StopReply, BadReply> {
        let bad = |why: &str| format!("{why}: {:?}", String::from_utf8_lossy(&reply[..reply.len().min(80)]));
        let (&kind, rest) = reply.split_first().ok_or_else(|| bad("an empty stop reply"))?;
        match kind {
            b'S' | b'T' => {
                let signal = rest.get(..2).and_then(parse_hex_u64).ok_or_else(|| bad("no signal number"))? as u8;
                let mut reply = StopReply::Signal {
                    signal: signals::to_linux(signal),
                    thread: None,
                    cause: None,
                    registers: Vec::new(),
                    core: None,
                };
                if kind == b'T' {
                    parse_pairs(&rest[2..], &mut reply).map_err(|why| bad(&why))?;
                }
                Ok(reply)
            }
            b'W' | b'X' => {
                let (number, extra) = split_once(rest, b';');
                let value = parse_hex_u64(number).ok_or_else(|| bad("no exit code or signal"))?;
                let pid = extra.and_then(|e| e.strip_prefix(b"process:")).and_then(parse_hex_u64).map(|p| p as i64);
                Ok(if kind == b'W' {
                    StopReply::Exited { code: (value & 0xff) as i32, pid }
                } else {
                    StopReply::Terminated { signal: signals::to_linux(value as u8), pid }
                })
            }
            b'w' => {
                let (number, thread) = split_once(rest, b';');
                let code = parse_hex_u64(number).ok_or_else(|| bad("no exit code"))?;
                Ok(StopReply::ThreadExited { code: (code & 0xff) as i32, thread: thread.and_then(Ptid::parse) })
            }
            b'N' => Ok(StopReply::NoResumed),
            _ => Err(bad("not a stop reply")),
        }
    }
}

fn split_once(text: &[u8], sep: u8) -> (&[u8], Option<&[u8]>) {
    match text.iter().position(|&b| b == sep) {
        Some(i) => (&text[..i], Some(&text[i + 1..])),
        None => (text, None),
    }
}

/// The `n:r;` pairs of a `T` reply.
fn parse_pairs(text: &[u8], reply: &mut StopReply) -> Result<(), String> {
    let StopReply::Signal { thread, cause, registers, core, .. } = reply else { return Ok(()) };
    for pair in text.split(|&b| b == b';').filter(|p| !p.is_empty()) {
        let (key, value) = split_once(pair, b':');
        let value = value.unwrap_or_default();
        if key.iter().all(|&b| hex_value(b).is_some()) {
            let regnum = parse_hex_u64(key).ok_or("a register number too large")? as usize;
            let bytes = from_hex(value).ok_or("a register value that is not hex")?;
            registers.push((regnum, bytes));
            continue;
        }
        let address = || parse_hex_u64(value).ok_or_else(|| "a watchpoint address that is not hex".to_string());
        match key {
            b"thread" => *thread = Some(Ptid::parse(value).ok_or("a bad thread id")?),
            b"core" => *core = parse_hex_u64(value).map(|c| c as u32),
            b"watch" => *cause = Some(StopCause::Watch { kind: WatchKind::Write, address: address()? }),
            b"rwatch" => *cause = Some(StopCause::Watch { kind: WatchKind::Read, address: address()? }),
            b"awatch" => *cause = Some(StopCause::Watch { kind: WatchKind::Access, address: address()? }),
            b"swbreak" => *cause = Some(StopCause::SoftwareBreakpoint),
            b"hwbreak" => *cause = Some(StopCause::HardwareBreakpoint),
            b"create" => *cause = Some(StopCause::Created),
            // A library change may ride along with another cause: keep that one.
            b"library" => {
                cause.get_or_insert(StopCause::Library);
            }
            other => *cause = Some(StopCause::Other(String::from_utf8_lossy(other).into_owned())),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gdbserver_breakpoint_stop() {
        let r = StopReply::parse(
            b"T05swbreak:;06:20e7ffffff7f0000;07:68e4ffffff7f0000;10:60c0fcf7ff7f0000;thread:p4472.4472;core:1;",
        )
        .unwrap();
        let StopReply::Signal { signal, thread, cause, registers, core } = r else { panic!() };
        assert_eq!(signal, crate::signal_numbers::SIGTRAP);
        assert_eq!(thread, Some(Ptid { pid: Some(0x4472), tid: 0x4472 }));
        assert_eq!(cause, Some(StopCause::SoftwareBreakpoint));
        assert_eq!(core, Some(1));
        assert_eq!(registers.len(), 3);
        assert_eq!(registers[2], (0x10, vec![0x60, 0xc0, 0xfc, 0xf7, 0xff, 0x7f, 0, 0]));
    }

    #[test]
    fn qemu_and_other_replies() {
        assert_eq!(
            StopReply::parse(b"T05thread:p01.02;").unwrap(),
            StopReply::Signal {
                signal: crate::signal_numbers::SIGTRAP,
                thread: Some(Ptid { pid: Some(1), tid: 2 }),
                cause: None,
                registers: vec![],
                core: None
            }
        );
        assert!(matches!(
            StopReply::parse(b"S0b").unwrap(),
            StopReply::Signal { signal: crate::signal_numbers::SIGSEGV, thread: None, .. }
        ));
        assert_eq!(StopReply::parse(b"W03;process:1a2b").unwrap(), StopReply::Exited { code: 3, pid: Some(0x1a2b) });
        assert_eq!(StopReply::parse(b"W00").unwrap(), StopReply::Exited { code: 0, pid: None });
        assert_eq!(
            StopReply::parse(b"X09").unwrap(),
            StopReply::Terminated { signal: crate::signal_numbers::SIGKILL, pid: None }
        );
        assert_eq!(
            StopReply::parse(b"w0;p10.11").unwrap(),
            StopReply::ThreadExited { code: 0, thread: Some(Ptid { pid: Some(0x10), tid: 0x11 }) }
        );
        let w = StopReply::parse(b"T05watch:0000555555558034;thread:p2.2;").unwrap();
        assert!(matches!(
            w,
            StopReply::Signal {
                cause: Some(StopCause::Watch { kind: WatchKind::Write, address: 0x5555_5555_8034 }),
                ..
            }
        ));
        let c = StopReply::parse(b"T05create:;thread:p2.3;").unwrap();
        assert!(matches!(c, StopReply::Signal { cause: Some(StopCause::Created), .. }));
        assert_eq!(StopReply::parse(b"N").unwrap(), StopReply::NoResumed);
    }

    #[test]
    fn malformed_replies_are_errors_not_panics() {
        for bad in
            [&b""[..], b"T", b"Tzz", b"W", b"Wq", b"T05thread:pzz.1;", b"T0506:abc;", b"OK", b"E01", b"T05watch:xyz;"]
        {
            assert!(StopReply::parse(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        assert_eq!(Ptid::parse(b"-1"), Some(Ptid { pid: None, tid: -1 }));
        assert_eq!(Ptid::parse(b"p1.-1"), Some(Ptid { pid: Some(1), tid: -1 }));
        assert_eq!(Ptid::parse(b"p5"), Some(Ptid { pid: Some(5), tid: -1 }));
        assert_eq!(format_ptid(true, 0x4472, 0x4473), "p4472.4473");
        assert_eq!(format_ptid(false, 1, 2), "2");
    }
}
