//! Stop replies the server writes itself: the ones gdbstub cannot write
//! (`exec`, `fork` naming the child's own pid, `N`), and every stop in
//! non-stop mode, where stops go out as `%Stop` notifications that gdbstub
//! knows nothing of.

use crate::arch::GdbRegId;
use crate::extensions::thread_id;
use crate::server::Negotiated;
use crate::target::{tid_of, SpecialStop};
use dbgkit::target::remote::packet::to_hex as hex;
use gdbstub::stub::MultiThreadStopReason;
use gdbstub::target::ext::breakpoints::WatchKind;
use gdbstub::target::ext::catch_syscalls::CatchSyscallPosition;

/// What a stop reply carries besides its reason, so gdb needs no more
/// round trips to know where the thread is: `rbp`, `rsp`, `rip` by gdb
/// number (gdbserver's choice), and the processor it last ran on.
#[derive(Clone, Debug, Default)]
pub struct Expedited {
    pub registers: Vec<(GdbRegId, Vec<u8>)>,
    pub core: Option<u32>,
}

/// The body of a stop reply for a stop the server writes itself.
pub fn special(special: &SpecialStop, negotiated: &Negotiated, pid: i32, regs: &Expedited) -> String {
    let thread = |tid| thread_id(negotiated, pid, tid);
    let mut body = match special {
        SpecialStop::Exec { tid, image } => {
            format!("T05thread:{};exec:{};", thread(*tid), hex(image.to_string_lossy().as_bytes()))
        }
        SpecialStop::Fork { tid, child } => {
            format!("T05thread:{};fork:{};", thread(*tid), thread_id(negotiated, *child, *child))
        }
        SpecialStop::VFork { tid, child } => {
            format!("T05thread:{};vfork:{};", thread(*tid), thread_id(negotiated, *child, *child))
        }
        SpecialStop::VForkDone { tid } => format!("T05thread:{};vforkdone:;", thread(*tid)),
        SpecialStop::NoResumed => return "N".into(),
    };
    push_expedited(&mut body, regs);
    body
}

/// The body of a stop reply for `reason` (gdb's signal numbers), as
/// gdbstub would write it, with the process named on exits.
pub fn for_reason(reason: &MultiThreadStopReason<u64>, negotiated: &Negotiated, pid: i32, regs: &Expedited) -> String {
    use MultiThreadStopReason as R;
    let process = if negotiated.multiprocess { format!(";process:{pid:x}") } else { String::new() };
    let thread = |tid| thread_id(negotiated, pid, tid_of(tid));
    let mut body = match reason {
        R::Exited(code) => return format!("W{code:02x}{process}"),
        R::Terminated(signal) => return format!("X{:02x}{process}", signal.0),
        R::SignalWithThread { tid, signal } => format!("T{:02x}thread:{};", signal.0, thread(*tid)),
        R::SwBreak(tid) => format!("T05thread:{};swbreak:;", thread(*tid)),
        R::HwBreak(tid) => format!("T05thread:{};hwbreak:;", thread(*tid)),
        R::Watch { tid, kind, addr } => {
            let name = match kind {
                WatchKind::Write => "watch",
                WatchKind::Read => "rwatch",
                WatchKind::ReadWrite => "awatch",
            };
            format!("T05thread:{};{name}:{addr:x};", thread(*tid))
        }
        R::CatchSyscall { tid: Some(tid), number, position } => {
            let name = match position {
                CatchSyscallPosition::Entry => "syscall_entry",
                CatchSyscallPosition::Return => "syscall_return",
            };
            format!("T05thread:{};{name}:{number:x};", thread(*tid))
        }
        R::Library(tid) => format!("T05thread:{};library:;", thread(*tid)),
        R::Signal(signal) => format!("S{:02x}", signal.0),
        _ => "S05".into(),
    };
    push_expedited(&mut body, regs);
    body
}

/// A thread stopped by gdb's request (`vCont;t`, or found stopped): signal 0.
pub fn stopped_by_request(negotiated: &Negotiated, pid: i32, tid: i32, regs: &Expedited) -> String {
    let mut body = format!("T00thread:{};", thread_id(negotiated, pid, tid));
    push_expedited(&mut body, regs);
    body
}

fn push_expedited(body: &mut String, expedited: &Expedited) {
    if !body.starts_with('T') {
        return;
    }
    for (id, bytes) in &expedited.registers {
        body.push_str(&format!("{:x}:{};", id.0, hex(bytes)));
    }
    if let Some(core) = expedited.core {
        body.push_str(&format!("core:{core:x};"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gdbstub::common::Signal;

    fn multiprocess() -> Negotiated {
        Negotiated { multiprocess: true, ..Default::default() }
    }

    #[test]
    fn a_breakpoint_names_its_thread_and_kind() {
        let reason = MultiThreadStopReason::SwBreak(crate::target::to_tid(0x1235));
        let regs = Expedited {
            registers: vec![(GdbRegId(crate::arch::regnum::RIP), 0x401000u64.to_le_bytes().to_vec())],
            core: Some(11),
        };
        assert_eq!(
            for_reason(&reason, &multiprocess(), 0x1234, &regs),
            "T05thread:p1234.1235;swbreak:;10:0010400000000000;core:b;"
        );
    }

    #[test]
    fn an_exit_names_the_process_and_has_no_registers() {
        let regs = Expedited { registers: vec![(GdbRegId(crate::arch::regnum::RIP), vec![0; 8])], core: Some(1) };
        assert_eq!(for_reason(&MultiThreadStopReason::Exited(3), &multiprocess(), 0x99, &regs), "W03;process:99");
        let killed = MultiThreadStopReason::Terminated(Signal::SIGKILL);
        assert_eq!(for_reason(&killed, &Negotiated::default(), 0x99, &Expedited::default()), "X09");
    }

    #[test]
    fn a_watchpoint_reports_the_address() {
        let reason =
            MultiThreadStopReason::Watch { tid: crate::target::to_tid(7), kind: WatchKind::Read, addr: 0x601040 };
        assert_eq!(for_reason(&reason, &Negotiated::default(), 7, &Expedited::default()), "T05thread:7;rwatch:601040;");
    }

    #[test]
    fn a_requested_stop_is_signal_zero() {
        assert_eq!(stopped_by_request(&multiprocess(), 0x10, 0x11, &Expedited::default()), "T00thread:p10.11;");
    }
}
