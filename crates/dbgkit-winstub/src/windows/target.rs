//! The debuggee as gdbstub's `Target`: registers, memory, threads,
//! resume actions, software breakpoints and the DLL list.

use super::context::{read_registers, write_registers};
use crate::arch::{GdbRegId, GdbRegisters, X86_64Windows};
use crate::error::StubError;
use crate::library_list::{copy_window, library_list_xml};
use crate::monitor_exception::{monitor_line, NO_EXCEPTION};
use dbgkit::os::windows::debug_slots::{Slot, SlotKind};
use dbgkit::os::windows::{Debuggee, ResumePlan, ThreadAction};
use gdbstub::common::{Pid, Signal, Tid};
use gdbstub::target::ext::base::multithread::{
    MultiThreadBase, MultiThreadResume, MultiThreadResumeOps, MultiThreadSchedulerLocking,
    MultiThreadSchedulerLockingOps, MultiThreadSingleStep, MultiThreadSingleStepOps,
};
use gdbstub::target::ext::base::single_register_access::{SingleRegisterAccess, SingleRegisterAccessOps};
use gdbstub::target::ext::base::BaseOps;
use gdbstub::target::ext::breakpoints::{
    Breakpoints, BreakpointsOps, HwBreakpoint, HwBreakpointOps, HwWatchpoint, HwWatchpointOps, SwBreakpoint,
    SwBreakpointOps, WatchKind,
};
use gdbstub::target::ext::extended_mode::{
    Args, AttachKind, CurrentActivePid, CurrentActivePidOps, ExtendedMode, ExtendedModeOps, ShouldTerminate,
};
use gdbstub::target::ext::libraries::{Libraries, LibrariesOps};
use gdbstub::target::ext::monitor_cmd::{ConsoleOutput, MonitorCmd, MonitorCmdOps};
use gdbstub::target::{Target, TargetError, TargetResult};

/// The program being served, and the resume actions the client is giving.
pub struct WinTarget {
    pub debuggee: Debuggee,
    plan: ResumePlan,
}

impl WinTarget {
    pub fn new(debuggee: Debuggee) -> WinTarget {
        WinTarget { debuggee, plan: ResumePlan::default() }
    }
}

fn thread_of(tid: Tid) -> u32 {
    tid.get() as u32
}

/// A failure the client is told about with an `E` reply, the stub going on.
fn non_fatal<T, E: Into<StubError>>(result: Result<T, E>) -> TargetResult<T, WinTarget> {
    result.map_err(|e| {
        let e: StubError = e.into();
        eprintln!("dbgkit-winstub: {e}");
        TargetError::NonFatal
    })
}

impl Target for WinTarget {
    type Arch = X86_64Windows;
    type Error = StubError;

    fn base_ops(&mut self) -> BaseOps<'_, Self::Arch, Self::Error> {
        BaseOps::MultiThread(self)
    }

    fn support_breakpoints(&mut self) -> Option<BreakpointsOps<'_, Self>> {
        Some(self)
    }

    fn support_libraries(&mut self) -> Option<LibrariesOps<'_, Self>> {
        Some(self)
    }

    fn support_monitor_cmd(&mut self) -> Option<MonitorCmdOps<'_, Self>> {
        Some(self)
    }

    // Only for what extended mode adds to a plain session: the process id
    // in thread ids and messages, and `qAttached` answered truthfully (gdb
    // kills a program the stub started when it quits, and detaches from
    // one the stub attached to, as with gdbserver). Starting or attaching
    // to another program from gdb is refused.
    fn support_extended_mode(&mut self) -> Option<ExtendedModeOps<'_, Self>> {
        Some(self)
    }
}

/// Extended mode's requests for another program, which this stub does not serve.
fn one_program_only<T>(request: &str) -> TargetResult<T, WinTarget> {
    eprintln!("dbgkit-winstub: {request} refused: the stub serves the one program of its command line");
    Err(TargetError::NonFatal)
}

impl ExtendedMode for WinTarget {
    fn run(&mut self, _filename: Option<&[u8]>, _args: Args<'_, '_>) -> TargetResult<Pid, Self> {
        one_program_only("run")
    }

    fn attach(&mut self, _pid: Pid) -> TargetResult<(), Self> {
        one_program_only("attach")
    }

    fn query_if_attached(&mut self, _pid: Pid) -> TargetResult<AttachKind, Self> {
        Ok(if self.debuggee.attached() { AttachKind::Attach } else { AttachKind::Run })
    }

    fn kill(&mut self, _pid: Option<Pid>) -> TargetResult<ShouldTerminate, Self> {
        non_fatal(self.debuggee.kill())?;
        Ok(ShouldTerminate::Yes)
    }

    fn restart(&mut self) -> Result<(), Self::Error> {
        eprintln!("dbgkit-winstub: restart refused: the stub serves the one program of its command line");
        Ok(())
    }

    fn support_current_active_pid(&mut self) -> Option<CurrentActivePidOps<'_, Self>> {
        Some(self)
    }
}

impl CurrentActivePid for WinTarget {
    fn current_active_pid(&mut self) -> Result<Pid, Self::Error> {
        Ok(Pid::new(self.debuggee.pid() as usize).expect("Windows process ids are not zero"))
    }
}

impl MultiThreadBase for WinTarget {
    fn read_registers(&mut self, regs: &mut GdbRegisters, tid: Tid) -> TargetResult<(), Self> {
        *regs = non_fatal(read_registers(&self.debuggee, thread_of(tid)))?;
        Ok(())
    }

    fn write_registers(&mut self, regs: &GdbRegisters, tid: Tid) -> TargetResult<(), Self> {
        non_fatal(write_registers(&self.debuggee, thread_of(tid), regs))
    }

    fn support_single_register_access(&mut self) -> Option<SingleRegisterAccessOps<'_, Tid, Self>> {
        Some(self)
    }

    fn read_addrs(&mut self, start_addr: u64, data: &mut [u8], _tid: Tid) -> TargetResult<usize, Self> {
        match self.debuggee.read_memory(start_addr, data) {
            0 if !data.is_empty() => Err(TargetError::NonFatal),
            count => Ok(count),
        }
    }

    fn write_addrs(&mut self, start_addr: u64, data: &[u8], _tid: Tid) -> TargetResult<(), Self> {
        non_fatal(self.debuggee.write_memory(start_addr, data))
    }

    fn list_active_threads(&mut self, thread_is_active: &mut dyn FnMut(Tid)) -> Result<(), Self::Error> {
        for tid in self.debuggee.thread_ids() {
            if let Some(tid) = Tid::new(tid as usize) {
                thread_is_active(tid);
            }
        }
        Ok(())
    }

    fn support_resume(&mut self) -> Option<MultiThreadResumeOps<'_, Self>> {
        Some(self)
    }
}

impl SingleRegisterAccess<Tid> for WinTarget {
    fn read_register(&mut self, tid: Tid, reg_id: GdbRegId, buf: &mut [u8]) -> TargetResult<usize, Self> {
        let regs = non_fatal(read_registers(&self.debuggee, thread_of(tid)))?;
        let bytes = regs.register_bytes(reg_id.0).ok_or(TargetError::NonFatal)?;
        let count = bytes.len().min(buf.len());
        buf[..count].copy_from_slice(&bytes[..count]);
        Ok(count)
    }

    fn write_register(&mut self, tid: Tid, reg_id: GdbRegId, val: &[u8]) -> TargetResult<(), Self> {
        let mut regs = non_fatal(read_registers(&self.debuggee, thread_of(tid)))?;
        if !regs.set_register_bytes(reg_id.0, val) {
            return Err(TargetError::NonFatal);
        }
        non_fatal(write_registers(&self.debuggee, thread_of(tid), &regs))
    }
}

impl WinTarget {
    /// The thread an action is for. A `c` or `s` packet with no `Hc`
    /// before it reaches here naming gdbstub's placeholder thread (1),
    /// which no Windows process has: it means the thread that stopped.
    fn action_thread(&self, tid: Tid) -> u32 {
        let ids = self.debuggee.thread_ids();
        match ids.contains(&thread_of(tid)) {
            true => thread_of(tid),
            false => ids.first().copied().unwrap_or(thread_of(tid)),
        }
    }
}

impl MultiThreadResume for WinTarget {
    fn resume(&mut self) -> Result<(), Self::Error> {
        let mut plan = std::mem::take(&mut self.plan);
        // gdbstub turns a plain `c` into a continue of one thread with the
        // others locked; in the protocol (and in the Win32 model, where
        // ContinueDebugEvent resumes the process) a continue resumes every
        // thread. Locking holds the others only while a thread steps.
        if !plan.actions.values().any(|(action, _)| *action == ThreadAction::Step) {
            plan.others_run = true;
        }
        Ok(self.debuggee.resume(&plan)?)
    }

    fn clear_resume_actions(&mut self) -> Result<(), Self::Error> {
        self.plan = ResumePlan::default();
        Ok(())
    }

    fn set_resume_action_continue(&mut self, tid: Tid, signal: Option<Signal>) -> Result<(), Self::Error> {
        let thread = self.action_thread(tid);
        self.plan.actions.insert(thread, (ThreadAction::Continue, signal.is_some()));
        Ok(())
    }

    fn support_single_step(&mut self) -> Option<MultiThreadSingleStepOps<'_, Self>> {
        Some(self)
    }

    fn support_scheduler_locking(&mut self) -> Option<MultiThreadSchedulerLockingOps<'_, Self>> {
        Some(self)
    }
}

impl MultiThreadSingleStep for WinTarget {
    fn set_resume_action_step(&mut self, tid: Tid, signal: Option<Signal>) -> Result<(), Self::Error> {
        let thread = self.action_thread(tid);
        self.plan.actions.insert(thread, (ThreadAction::Step, signal.is_some()));
        Ok(())
    }
}

impl MultiThreadSchedulerLocking for WinTarget {
    fn set_resume_action_scheduler_lock(&mut self) -> Result<(), Self::Error> {
        self.plan.others_run = false;
        Ok(())
    }
}

impl Breakpoints for WinTarget {
    fn support_sw_breakpoint(&mut self) -> Option<SwBreakpointOps<'_, Self>> {
        Some(self)
    }

    fn support_hw_breakpoint(&mut self) -> Option<HwBreakpointOps<'_, Self>> {
        Some(self)
    }

    fn support_hw_watchpoint(&mut self) -> Option<HwWatchpointOps<'_, Self>> {
        Some(self)
    }
}

impl HwBreakpoint for WinTarget {
    fn add_hw_breakpoint(&mut self, addr: u64, _kind: usize) -> TargetResult<bool, Self> {
        non_fatal(self.debuggee.add_debug_slot(Slot { address: addr, kind: SlotKind::Execute, len: 1 }))
    }

    fn remove_hw_breakpoint(&mut self, addr: u64, _kind: usize) -> TargetResult<bool, Self> {
        non_fatal(self.debuggee.remove_debug_slot(Slot { address: addr, kind: SlotKind::Execute, len: 1 }))
    }
}

/// The slot for a watchpoint; `None` for a read watchpoint, which x86
/// debug registers cannot make (gdb then asks for an access one).
fn watch_slot(address: u64, len: u64, kind: WatchKind) -> Option<Slot> {
    let kind = match kind {
        WatchKind::Write => SlotKind::Write,
        WatchKind::ReadWrite => SlotKind::ReadWrite,
        WatchKind::Read => return None,
    };
    Some(Slot { address, kind, len })
}

impl HwWatchpoint for WinTarget {
    fn add_hw_watchpoint(&mut self, addr: u64, len: u64, kind: WatchKind) -> TargetResult<bool, Self> {
        match watch_slot(addr, len, kind) {
            Some(slot) => non_fatal(self.debuggee.add_debug_slot(slot)),
            None => Ok(false),
        }
    }

    fn remove_hw_watchpoint(&mut self, addr: u64, len: u64, kind: WatchKind) -> TargetResult<bool, Self> {
        match watch_slot(addr, len, kind) {
            Some(slot) => non_fatal(self.debuggee.remove_debug_slot(slot)),
            None => Ok(false),
        }
    }
}

impl SwBreakpoint for WinTarget {
    fn add_sw_breakpoint(&mut self, addr: u64, _kind: usize) -> TargetResult<bool, Self> {
        Ok(non_fatal(self.debuggee.insert_breakpoint(addr)).is_ok())
    }

    fn remove_sw_breakpoint(&mut self, addr: u64, _kind: usize) -> TargetResult<bool, Self> {
        non_fatal(self.debuggee.remove_breakpoint(addr))
    }
}

impl Libraries for WinTarget {
    fn get_libraries(&self, offset: u64, _length: usize, buf: &mut [u8]) -> TargetResult<usize, Self> {
        let xml = library_list_xml(self.debuggee.libraries());
        Ok(copy_window(xml.as_bytes(), offset, buf))
    }
}

/// `monitor exception`: the NTSTATUS and parameters behind the signal of the
/// last exception stop (dbgkit's client asks; gdb users may too).
impl MonitorCmd for WinTarget {
    fn handle_monitor_cmd(&mut self, cmd: &[u8], mut out: ConsoleOutput<'_>) -> Result<(), Self::Error> {
        match cmd.trim_ascii() {
            b"breakpoints" => out.write_raw(self.debuggee.breakpoint_lines().as_bytes()),
            b"exception" => match self.debuggee.last_exception() {
                Some(record) => out.write_raw(monitor_line(record).as_bytes()),
                None => out.write_raw(NO_EXCEPTION.as_bytes()),
            },
            other => out.write_raw(
                format!(
                    "unknown monitor command {:?}: the stub knows \"exception\" and \"breakpoints\"\n",
                    String::from_utf8_lossy(other)
                )
                .as_bytes(),
            ),
        }
        Ok(())
    }
}
