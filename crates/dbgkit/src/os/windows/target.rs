//! The engine's Windows target: a process under the Win32 debug loop
//! ([`Debuggee`]) behind the [`Target`] boundary.
//!
//! The system stops every thread of the process at each debug event and
//! `ContinueDebugEvent` lets them all go; the engine drives threads one at
//! a time. The all-stop state machine of remote targets
//! (`target/remote/all_stop.rs`) reconciles the two: the engine's resumes
//! are gathered into one [`ResumePlan`] (a continue of the pending event,
//! with trap flags for steps and the threads the engine keeps stopped
//! suspended), and a break-in (`DebugBreakProcess`) answers an interrupt
//! of running threads.
//!
//! Breakpoints are the loop's own ([`TargetBreakpoints`]): it runs the
//! instruction under each out of line, in scratch memory it allocates near
//! the code (`VirtualAllocEx`), so a hit is one debug event. Debug
//! registers are each thread's own, through its context.

use super::context::{
    fp_registers_of, registers_of, store_fp_registers, store_registers, CONTEXT_CONTROL, CONTEXT_DEBUG_REGISTERS,
    CONTEXT_REGISTERS,
};
use super::debuggee::{Debuggee, ResumePlan, Stop, ThreadAction};
use super::environment::environment_block;
use super::{LaunchOptions, Reporting, WindowsError};
use crate::arch::registers::{FpRegisters, Registers};
use crate::error::{Error, Result};
use crate::nt_status as status;
use crate::signal_numbers::{SIGKILL, SIGTRAP};
use crate::target::remote::all_stop::{self, AllStop, AllStopDriver, InterruptNeed};
use crate::target::{
    not_supported, Auxv, DebugRegisters, EventSource, Image, MemoryProtection, MemoryRegion, PageRights, Resume,
    RunControl, SignalInfo, StopReason, Target, TargetBreakpoints, WaitMode, WriteAccess, TRAP_BY_INT3,
};
use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::rc::Rc;
use windows_sys::Win32::System::Memory::{
    VirtualQueryEx, MEMORY_BASIC_INFORMATION, MEM_COMMIT, MEM_IMAGE, PAGE_EXECUTE, PAGE_EXECUTE_READ,
    PAGE_EXECUTE_READWRITE, PAGE_EXECUTE_WRITECOPY, PAGE_GUARD, PAGE_NOACCESS, PAGE_READWRITE, PAGE_WRITECOPY,
};
use windows_sys::Win32::System::Threading::INFINITE;

/// How long an interruptible wait blocks before it returns empty.
const INTERRUPTIBLE_SLICE_MS: u32 = 100;
/// `si_code` of a single step's trap.
const TRAP_TRACE: i32 = 2;
/// `si_code` of a debug-register trap.
const TRAP_HWBKPT: i32 = 4;

/// What the engine hears of: every exception's first chance (it decides,
/// with the program's handlers next), DLLs as they come and go, threads as
/// they start and end.
const REPORTING: Reporting = Reporting { library_events: true, first_chance: true, thread_events: true };

/// A Windows process debugged by this thread.
#[derive(Clone)]
pub struct WindowsTarget(Rc<RefCell<Win>>);

struct Win {
    debuggee: Debuggee,
    pid: i32,
    state: AllStop,
    /// What each thread's last stop was.
    stops: HashMap<i32, ThreadStop>,
    /// Threads the engine is not told of: the ones the system starts in the
    /// process to break into it.
    hidden: BTreeSet<i32>,
    /// Why the process is gone ("exited", "killed", "detached").
    finished: Option<&'static str>,
    /// Where the system's break-in threads start (`ntdll!DbgUiRemoteBreakin`),
    /// once looked up (`Some(None)`: it could not be found).
    break_in_start: Option<Option<u64>>,
}

/// One thread's last stop.
#[derive(Clone, Copy, Debug, Default)]
struct ThreadStop {
    info: SignalInfo,
    second_chance: Option<bool>,
}

/// A failure of the debug loop as the engine's error: the ones it has a
/// name for by that name, the others with the Win32 call and its error.
fn windows(e: WindowsError) -> Error {
    match e {
        WindowsError::Launch { program, code: 2 | 3 } => Error::ProgramNotFound(program.into()),
        WindowsError::Launch { ref program, .. } => {
            Error::CannotExecute { path: program.into(), reason: e.to_string() }
        }
        // ERROR_ACCESS_DENIED; ERROR_INVALID_PARAMETER names no process.
        WindowsError::Attach { pid, code: 5 } => Error::PermissionDenied(pid as i32),
        WindowsError::Attach { pid, code: 87 } => Error::NoSuchProcess(pid as i32),
        other => Error::Io(std::io::Error::other(other)),
    }
}

impl WindowsTarget {
    /// Starts `command[0]` with the rest as its arguments, under this
    /// thread's debug loop, and runs it to the loader's initial
    /// breakpoint; returns the target and the thread stopped there.
    pub fn launch(command: &[String], options: &LaunchOptions) -> Result<(WindowsTarget, i32)> {
        let (debuggee, first) = Debuggee::start(command, options, REPORTING).map_err(windows)?;
        WindowsTarget::adopt(debuggee, first)
    }

    /// Starts the program `options` names, with its environment and
    /// working directory, as [`launch`](Self::launch) does.
    pub fn spawn(options: &crate::launch::SpawnOptions) -> Result<(WindowsTarget, i32)> {
        let text = |(name, value): &(std::ffi::OsString, std::ffi::OsString)| {
            (name.to_string_lossy().into_owned(), value.to_string_lossy().into_owned())
        };
        let command: Vec<String> = options.argv.iter().map(|a| a.to_string_lossy().into_owned()).collect();
        let changes: Vec<(String, String)> = options.extra_env.iter().map(text).collect();
        let environment = match &options.env {
            Some(base) => Some(environment_block(&base.iter().map(text).collect::<Vec<_>>(), &changes)),
            None if !changes.is_empty() => {
                let inherited: Vec<(String, String)> = std::env::vars_os().map(|v| text(&v)).collect();
                Some(environment_block(&inherited, &changes))
            }
            None => None,
        };
        WindowsTarget::launch(&command, &LaunchOptions { environment, directory: options.cwd.clone() })
    }

    /// Attaches to process `pid`; the system replays its threads and DLLs,
    /// then breaks into it. Returns the target and the thread to report.
    pub fn attach(pid: u32) -> Result<(WindowsTarget, i32)> {
        let (debuggee, first) = Debuggee::attach(pid, REPORTING).map_err(windows)?;
        WindowsTarget::adopt(debuggee, first)
    }

    fn adopt(debuggee: Debuggee, first: Stop) -> Result<(WindowsTarget, i32)> {
        let pid = debuggee.pid() as i32;
        let tid = match first {
            Stop::InitialBreakpoint { tid } => tid as i32,
            Stop::Exited(code) => {
                return Err(Error::BadTargetData {
                    what: format!("process {pid}"),
                    reason: format!("it ended before its first instruction (exit code {code:#x})"),
                })
            }
            other => {
                return Err(Error::BadTargetData {
                    what: format!("process {pid}"),
                    reason: format!("its first stop was {other:?}, not the loader's breakpoint"),
                })
            }
        };
        let mut hidden = BTreeSet::new();
        let mut reported = tid;
        if debuggee.attached() {
            // The initial breakpoint of an attach is the system's break-in
            // thread's: the program's first thread is reported instead.
            hidden.insert(tid);
            reported = debuggee.thread_ids().into_iter().map(|t| t as i32).find(|t| *t != tid).unwrap_or(tid);
        }
        let tids = debuggee.thread_ids().into_iter().map(|t| t as i32).filter(|t| !hidden.contains(t));
        let mut win = Win {
            state: AllStop::new(tids),
            debuggee,
            pid,
            stops: HashMap::new(),
            hidden,
            finished: None,
            break_in_start: None,
        };
        let info = win.exception_info(tid as u32, status::BREAKPOINT);
        win.stops.insert(reported, ThreadStop { info, second_chance: Some(false) });
        Ok((WindowsTarget(Rc::new(RefCell::new(win))), reported))
    }

    /// The stops of this process.
    pub fn events(&self) -> Box<dyn EventSource> {
        Box::new(WindowsEvents(self.0.clone()))
    }

    /// Whether the process was attached to (rather than started).
    pub fn attached(&self) -> bool {
        self.0.borrow().debuggee.attached()
    }
}

impl Win {
    fn alive(&self) -> Result<()> {
        match self.finished {
            Some(_) => Err(Error::ProcessGone(self.pid)),
            None => Ok(()),
        }
    }

    fn known(&self, tid: i32) -> Result<u32> {
        self.alive()?;
        match self.state.knows(tid) {
            true => Ok(tid as u32),
            false => Err(Error::ProcessGone(tid)),
        }
    }

    /// The signal information of an exception stop, from the last exception record.
    fn exception_info(&self, tid: u32, code: u32) -> SignalInfo {
        let info = SignalInfo { signal: status::signal_of(code), ..Default::default() };
        match self.debuggee.last_exception().filter(|r| r.tid == tid && r.code == code) {
            Some(record) => SignalInfo { address: record.address, ..info }.with_exception(code, &record.parameters),
            None => info.with_exception(code, &[]),
        }
    }

    /// Lets the threads the engine resumed go, with one continue of the
    /// pending event, once no stop waits to be reported.
    fn flush(&mut self) -> Result<()> {
        loop {
            if self.state.has_pending() {
                return Ok(());
            }
            if self.state.needs_break_to_resume() {
                self.debuggee.interrupt().map_err(windows)?;
                self.state.break_sent_for_resume();
                while self.state.stub_running() && !self.state.has_pending() {
                    if let Some(stop) = self.debuggee.wait(INFINITE).map_err(windows)? {
                        if let Some((tid, reason)) = self.on_stop(stop) {
                            self.state.queue(tid, reason);
                        }
                    }
                }
                continue;
            }
            if self.state.stub_running() {
                return Ok(());
            }
            let Some(actions) = self.state.take_actions() else { return Ok(()) };
            let mut plan = ResumePlan { others_run: false, ..Default::default() };
            for a in actions {
                let how = if a.how == Resume::Step { ThreadAction::Step } else { ThreadAction::Continue };
                plan.actions.insert(a.tid as u32, (how, a.signal != 0));
            }
            // The system's break-in threads run on to their end.
            for &tid in &self.hidden {
                plan.actions.entry(tid as u32).or_insert((ThreadAction::Continue, false));
            }
            for tid in plan.actions.keys() {
                self.stops.remove(&(*tid as i32));
            }
            if let Err(e) = self.debuggee.resume(&plan) {
                // Still stopped at its event: the resumes wait to be sent again.
                self.state.park();
                return Err(windows(e));
            }
            return Ok(());
        }
    }

    /// Turns a stop of the loop into the stop the engine sees, through the
    /// all-stop state (`None`: nothing to report now).
    fn on_stop(&mut self, stop: Stop) -> Option<(i32, StopReason)> {
        let plain = |signal: i32, code: i32| ThreadStop {
            info: SignalInfo { signal, code, ..Default::default() },
            second_chance: None,
        };
        match stop {
            Stop::Exited(code) => {
                self.state.clear();
                self.stops.clear();
                self.finished = Some("exited");
                // Nothing is left to look at: the system may let the process go.
                // (A failure leaves nothing to do: the process is gone either way.)
                let _ = self.debuggee.finish();
                Some((self.pid, StopReason::Exited(code as i32)))
            }
            Stop::ThreadCreated { tid } => {
                if self.is_break_in_thread(tid) {
                    // The system's break-in thread: its int3 comes next.
                    self.hidden.insert(tid as i32);
                    self.state.park();
                    return None;
                }
                let tid = tid as i32;
                self.state.add_thread(tid);
                self.state.queue(tid, StopReason::Interrupted);
                let creator = self.state.thread_ids().into_iter().find(|&t| t != tid && !self.state.is_held(t));
                match creator {
                    Some(creator) => self.state.on_stop(creator, StopReason::NewThread { child: tid }, false),
                    None => {
                        self.state.park();
                        None
                    }
                }
            }
            Stop::ThreadExited { tid, code } => {
                let tid = tid as i32;
                if self.hidden.remove(&tid) || !self.state.knows(tid) {
                    self.state.park();
                    return None;
                }
                let report = self.state.on_stop(tid, StopReason::Exited(code as i32), false);
                self.state.remove_thread(tid);
                self.stops.remove(&tid);
                report
            }
            Stop::BreakIn { tid } => {
                self.hidden.insert(tid as i32);
                // The interrupt is answered for the engine's first thread;
                // the others waiting for theirs are answered with it.
                let first = self.state.thread_ids().first().copied().unwrap_or(self.pid);
                let report = self.state.on_stop(first, StopReason::Signal(crate::signal_numbers::SIGINT), true);
                if report.is_some_and(|(t, _)| t == first) {
                    self.stops.insert(first, plain(crate::signal_numbers::SIGINT, 0));
                }
                report
            }
            Stop::Library { tid } => self.report(tid as i32, plain(0, 0), StopReason::ModulesChanged),
            Stop::Breakpoint { tid } => {
                self.report(tid as i32, plain(SIGTRAP, TRAP_BY_INT3), StopReason::Signal(SIGTRAP))
            }
            Stop::Stepped { tid } => self.report(tid as i32, plain(SIGTRAP, TRAP_TRACE), StopReason::Signal(SIGTRAP)),
            Stop::HardwareBreakpoint { tid } | Stop::Watchpoint { tid, .. } => {
                self.report(tid as i32, plain(SIGTRAP, TRAP_HWBKPT), StopReason::Signal(SIGTRAP))
            }
            Stop::InitialBreakpoint { tid } => {
                let info = self.exception_info(tid, status::BREAKPOINT);
                self.report(tid as i32, ThreadStop { info, second_chance: Some(false) }, StopReason::Signal(SIGTRAP))
            }
            Stop::Exception { tid, code, first_chance } => {
                let info = self.exception_info(tid, code);
                // A step that ends in a debug-register trap is still the step's.
                let trap = if code == status::SINGLE_STEP { TRAP_HWBKPT } else { info.code };
                let info = SignalInfo { code: trap, ..info };
                let signal = info.signal;
                self.report(
                    tid as i32,
                    ThreadStop { info, second_chance: Some(!first_chance) },
                    StopReason::Signal(signal),
                )
            }
        }
    }

    /// Whether a new thread is the one `DebugBreakProcess` starts: it
    /// begins at `ntdll!DbgUiRemoteBreakin`. Where that address cannot be
    /// found, a thread created while a break-in is pending is taken for it.
    fn is_break_in_thread(&mut self, tid: u32) -> bool {
        if self.break_in_start.is_none() {
            let ntdll =
                self.debuggee.libraries().iter().find(|l| {
                    l.name.rsplit(['\\', '/']).next().is_some_and(|file| file.eq_ignore_ascii_case("ntdll.dll"))
                });
            self.break_in_start = Some(ntdll.and_then(|l| {
                super::library::export_address(std::path::Path::new(&l.name), l.base, "DbgUiRemoteBreakin")
            }));
        }
        match (self.break_in_start.flatten(), self.debuggee.thread_start(tid)) {
            (Some(breakin), Some(start)) => start == breakin,
            _ => self.debuggee.interrupt_pending(),
        }
    }

    fn report(&mut self, tid: i32, stop: ThreadStop, reason: StopReason) -> Option<(i32, StopReason)> {
        if !self.state.knows(tid) {
            // A thread the engine was never told of (a break-in thread's
            // exception): the process just goes on.
            self.state.park();
            return None;
        }
        self.stops.insert(tid, stop);
        self.state.on_stop(tid, reason, false)
    }

    fn memory_map(&self) -> Vec<MemoryRegion> {
        let process = self.debuggee.process_handle();
        let mut names: Vec<(u64, u64, String)> =
            self.debuggee.libraries().iter().map(|l| (l.base, l.base + l.size, l.name.clone())).collect();
        let (base, exe) = self.debuggee.executable();
        if let Some(size) = crate::module::read_head(std::path::Path::new(exe))
            .and_then(|h| crate::pe_image::parse_header(&h))
            .map(|h| h.size_of_image)
        {
            names.push((base, base + size, exe.to_string()));
        }
        let mut regions = Vec::new();
        let mut address = 0u64;
        loop {
            let mut info: MEMORY_BASIC_INFORMATION = unsafe { std::mem::zeroed() };
            // SAFETY: `info` is writable for its size.
            let n = unsafe {
                VirtualQueryEx(process, address as *const _, &mut info, std::mem::size_of::<MEMORY_BASIC_INFORMATION>())
            };
            if n == 0 {
                break;
            }
            let start = info.BaseAddress as u64;
            let end = start.saturating_add(info.RegionSize as u64);
            if info.State == MEM_COMMIT && info.Protect & (PAGE_NOACCESS | PAGE_GUARD) == 0 {
                let p = info.Protect & 0xff;
                let path = if info.Type == MEM_IMAGE {
                    names
                        .iter()
                        .find(|(b, e, _)| (*b..*e).contains(&start))
                        .map(|(_, _, n)| n.clone())
                        .unwrap_or_default()
                } else {
                    String::new()
                };
                regions.push(MemoryRegion {
                    start,
                    end,
                    readable: true,
                    writable: matches!(
                        p,
                        PAGE_READWRITE | PAGE_WRITECOPY | PAGE_EXECUTE_READWRITE | PAGE_EXECUTE_WRITECOPY
                    ),
                    executable: matches!(
                        p,
                        PAGE_EXECUTE | PAGE_EXECUTE_READ | PAGE_EXECUTE_READWRITE | PAGE_EXECUTE_WRITECOPY
                    ),
                    shared: false,
                    offset: 0,
                    path,
                });
            }
            if end <= address {
                break;
            }
            address = end;
        }
        regions
    }
}

impl Target for WindowsTarget {
    fn kind(&self) -> &'static str {
        "Windows process"
    }

    fn pid(&self) -> i32 {
        self.0.borrow().pid
    }

    fn thread_ids(&self) -> Result<Vec<i32>> {
        let w = self.0.borrow();
        w.alive()?;
        Ok(w.state.thread_ids())
    }

    fn read_memory(&self, address: u64, buf: &mut [u8]) -> usize {
        self.0.borrow().debuggee.read_memory(address, buf)
    }

    fn memory_map(&self) -> Result<Vec<MemoryRegion>> {
        let w = self.0.borrow();
        w.alive()?;
        Ok(w.memory_map())
    }

    fn registers(&self, tid: i32) -> Result<Registers> {
        let w = self.0.borrow();
        let tid = w.known(tid)?;
        Ok(registers_of(&w.debuggee.context(tid, CONTEXT_REGISTERS).map_err(windows)?.0))
    }

    fn pc(&self, tid: i32) -> Result<u64> {
        let w = self.0.borrow();
        let tid = w.known(tid)?;
        w.debuggee.pc(tid).map_err(windows)
    }

    fn fp_registers(&self, tid: i32) -> Result<FpRegisters> {
        let w = self.0.borrow();
        let tid = w.known(tid)?;
        Ok(fp_registers_of(&w.debuggee.context(tid, CONTEXT_REGISTERS).map_err(windows)?.0))
    }

    fn signal_info(&self, tid: i32) -> Result<SignalInfo> {
        let w = self.0.borrow();
        w.known(tid)?;
        Ok(w.stops.get(&tid).map(|s| s.info).unwrap_or_default())
    }

    fn image(&self) -> Result<Image> {
        let w = self.0.borrow();
        let (base, exe) = w.debuggee.executable();
        if exe.is_empty() {
            return Err(Error::BadTargetData {
                what: format!("Windows process {}", w.pid),
                reason: "the system did not name its program".into(),
            });
        }
        Ok(Image { executable: PathBuf::from(exe), auxv: Auxv::default(), raw_auxv: Vec::new(), pe_base: Some(base) })
    }

    fn thread_start(&self, tid: i32) -> Option<u64> {
        self.0.borrow().debuggee.thread_start(tid as u32).filter(|&start| start != 0)
    }

    fn listed_modules(&self) -> Result<Option<Vec<(PathBuf, u64)>>> {
        let w = self.0.borrow();
        w.alive()?;
        Ok(Some(w.debuggee.libraries().iter().map(|l| (PathBuf::from(&l.name), l.base)).collect()))
    }

    fn write_access(&self) -> Option<&dyn WriteAccess> {
        Some(self)
    }

    fn run_control(&self) -> Option<&dyn RunControl> {
        Some(self)
    }

    fn debug_registers(&self) -> Option<&dyn DebugRegisters> {
        Some(self)
    }

    fn target_breakpoints(&self) -> Option<&dyn TargetBreakpoints> {
        Some(self)
    }

    fn memory_protection(&self) -> Option<&dyn MemoryProtection> {
        Some(self)
    }
}

impl MemoryProtection for WindowsTarget {
    fn protect(&self, address: u64, len: u64, rights: PageRights) -> Result<()> {
        let w = self.0.borrow();
        w.alive()?;
        w.debuggee.protect(address, len, rights.read, rights.write, rights.execute).map_err(windows)
    }
}

impl WriteAccess for WindowsTarget {
    fn write_memory(&self, address: u64, data: &[u8]) -> Result<()> {
        let mut w = self.0.borrow_mut();
        w.alive()?;
        w.debuggee.write_memory(address, data).map_err(windows)
    }

    fn set_registers(&self, tid: i32, regs: &Registers) -> Result<()> {
        let w = self.0.borrow();
        let tid = w.known(tid)?;
        let mut context = w.debuggee.context(tid, CONTEXT_REGISTERS).map_err(windows)?;
        store_registers(regs, &mut context.0);
        w.debuggee.set_context(tid, &context).map_err(windows)
    }

    fn set_pc(&self, tid: i32, pc: u64) -> Result<()> {
        let w = self.0.borrow();
        let tid = w.known(tid)?;
        let mut context = w.debuggee.context(tid, CONTEXT_CONTROL).map_err(windows)?;
        context.0.Rip = pc;
        w.debuggee.set_context(tid, &context).map_err(windows)
    }

    fn set_fp_registers(&self, tid: i32, regs: &FpRegisters) -> Result<()> {
        let w = self.0.borrow();
        let tid = w.known(tid)?;
        let mut context = w.debuggee.context(tid, CONTEXT_REGISTERS).map_err(windows)?;
        store_fp_registers(regs, &mut context.0);
        w.debuggee.set_context(tid, &context).map_err(windows)
    }
}

impl RunControl for WindowsTarget {
    fn resume(&self, tid: i32, how: Resume, signal: i32) -> Result<()> {
        let mut w = self.0.borrow_mut();
        w.known(tid)?;
        if matches!(how, Resume::Listen | Resume::ToSyscall) {
            return Err(not_supported("stopping at system calls", "a Windows process"));
        }
        w.state.resume(tid, how, signal);
        Ok(())
    }

    fn interrupt(&self, tid: i32) -> Result<()> {
        let mut w = self.0.borrow_mut();
        w.known(tid)?;
        if w.state.interrupt(tid) == InterruptNeed::Break {
            w.debuggee.interrupt().map_err(windows)?;
        }
        Ok(())
    }

    fn wait_thread(&self, tid: i32) -> Result<Option<StopReason>> {
        all_stop::wait_thread(&mut *self.0.borrow_mut(), tid)
    }

    fn detach_thread(&self, _tid: i32, signal: i32) -> Result<()> {
        let mut w = self.0.borrow_mut();
        if w.finished.is_some() {
            return Ok(());
        }
        // An exception the engine passes on goes to the program's handlers.
        w.debuggee.detach(signal != 0).map_err(windows)?;
        w.state.clear();
        w.finished = Some("detached");
        Ok(())
    }

    fn kill(&self) -> Result<()> {
        let mut w = self.0.borrow_mut();
        w.alive()?;
        w.debuggee.kill().map_err(windows)?;
        let pid = w.pid;
        w.state.clear();
        w.stops.clear();
        w.finished = Some("killed");
        w.state.queue_exit(pid, StopReason::Killed { signal: SIGKILL });
        Ok(())
    }

    fn set_kill_on_exit(&self, _tid: i32, on: bool) -> Result<()> {
        // SAFETY: a plain call about this thread's debuggees.
        unsafe { windows_sys::Win32::System::Diagnostics::Debug::DebugSetProcessKillOnExit(on.into()) };
        Ok(())
    }

    fn open_child(&self, _child: i32) -> Result<Box<dyn Target>> {
        Err(not_supported("child processes", "a Windows process (debugged alone)"))
    }

    fn reopen_after_exec(&self) -> Result<Box<dyn Target>> {
        Ok(Box::new(self.clone()))
    }

    fn signal_would_kill(&self, tid: i32, _signal: i32) -> bool {
        self.is_second_chance(tid).unwrap_or(false)
    }

    fn is_second_chance(&self, tid: i32) -> Option<bool> {
        self.0.borrow().stops.get(&tid).and_then(|s| s.second_chance)
    }
}

impl DebugRegisters for WindowsTarget {
    fn debug_register(&self, tid: i32, index: usize) -> Result<u64> {
        let w = self.0.borrow();
        let tid = w.known(tid)?;
        let c = w.debuggee.context(tid, CONTEXT_DEBUG_REGISTERS).map_err(windows)?.0;
        Ok(match index {
            0 => c.Dr0,
            1 => c.Dr1,
            2 => c.Dr2,
            3 => c.Dr3,
            6 => c.Dr6,
            7 => c.Dr7,
            _ => 0,
        })
    }

    fn set_debug_register(&self, tid: i32, index: usize, value: u64) -> Result<()> {
        let w = self.0.borrow();
        let tid = w.known(tid)?;
        let mut context = w.debuggee.context(tid, CONTEXT_DEBUG_REGISTERS).map_err(windows)?;
        let c = &mut context.0;
        match index {
            0 => c.Dr0 = value,
            1 => c.Dr1 = value,
            2 => c.Dr2 = value,
            3 => c.Dr3 = value,
            6 => c.Dr6 = value,
            7 => c.Dr7 = value,
            _ => return Err(Error::InvalidArgument(format!("there is no debug register DR{index}"))),
        }
        w.debuggee.set_context(tid, &context).map_err(windows)
    }
}

impl TargetBreakpoints for WindowsTarget {
    fn insert_breakpoint(&self, address: u64) -> Result<()> {
        let mut w = self.0.borrow_mut();
        w.alive()?;
        w.debuggee.insert_breakpoint(address).map_err(windows)
    }

    fn remove_breakpoint(&self, address: u64) -> Result<()> {
        let mut w = self.0.borrow_mut();
        w.alive()?;
        w.debuggee.remove_breakpoint(address).map(|_| ()).map_err(windows)
    }

    /// The loop runs the instruction under its breakpoint out of line (or
    /// steps it with the trap flag) when the thread is resumed on it.
    fn steps_over_itself(&self) -> bool {
        true
    }
}

impl AllStopDriver for Win {
    fn all_stop(&mut self) -> &mut AllStop {
        &mut self.state
    }

    fn finished(&self) -> bool {
        self.finished.is_some()
    }

    fn flush(&mut self) -> Result<()> {
        Win::flush(self)
    }

    fn next_stop(&mut self, mode: WaitMode) -> Result<Option<Option<(i32, StopReason)>>> {
        // No signal ends a wait on Windows: an interruptible wait returns
        // every tenth of a second, for the caller to look at its Ctrl-C flag.
        let timeout = match mode {
            WaitMode::Poll => 0,
            WaitMode::Interruptible => INTERRUPTIBLE_SLICE_MS,
            WaitMode::Block => INFINITE,
        };
        match self.debuggee.wait(timeout).map_err(windows)? {
            None => Ok(None),
            Some(stop) => Ok(Some(self.on_stop(stop))),
        }
    }
}

/// The stops of one Windows process.
struct WindowsEvents(Rc<RefCell<Win>>);

impl EventSource for WindowsEvents {
    fn take_debug_output(&self) -> Vec<String> {
        self.0.borrow_mut().debuggee.take_debug_strings()
    }

    fn wait_any(&self, mode: WaitMode) -> Result<Option<(i32, StopReason)>> {
        all_stop::wait_any(&mut *self.0.borrow_mut(), mode)
    }
}
