//! The debugged process as the Win32 debug API shows it: one debug event
//! at a time, every thread frozen until it is continued. This file turns
//! the nine kinds of debug event into the stops a client is told about
//! (the rest are recorded and continued on the spot), and holds what the
//! stub changed in the process: breakpoint bytes, trap flags, threads it
//! suspended.

use super::context::{
    registers_of, store_registers, AlignedContext, CONTEXT_CONTROL, CONTEXT_DEBUG_REGISTERS, CONTEXT_REGISTERS,
    TRAP_FLAG,
};
use super::launch::launch;
use crate::arch::GdbRegisters;
use crate::debug_registers::{DebugRegisters, Slot, SlotKind};
use crate::error::StubError;
use crate::exception_signal::{exception_name, status, stop_signal};
use crate::library_list::Library;
use gdbstub::common::Signal;
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::c_void;
use windows_sys::Win32::Foundation::{CloseHandle, GetLastError, DBG_CONTINUE, DBG_EXCEPTION_NOT_HANDLED, HANDLE};
use windows_sys::Win32::Storage::FileSystem::GetFinalPathNameByHandleW;
use windows_sys::Win32::System::Diagnostics::Debug::{
    ContinueDebugEvent, DebugActiveProcess, DebugActiveProcessStop, DebugBreakProcess, DebugSetProcessKillOnExit,
    FlushInstructionCache, GetThreadContext, ReadProcessMemory, SetThreadContext, WaitForDebugEvent,
    WriteProcessMemory, CREATE_PROCESS_DEBUG_EVENT, CREATE_THREAD_DEBUG_EVENT, DEBUG_EVENT, EXCEPTION_DEBUG_EVENT,
    EXIT_PROCESS_DEBUG_EVENT, EXIT_THREAD_DEBUG_EVENT, LOAD_DLL_DEBUG_EVENT, OUTPUT_DEBUG_STRING_EVENT, RIP_EVENT,
    UNLOAD_DLL_DEBUG_EVENT,
};
use windows_sys::Win32::System::Threading::{ResumeThread, SuspendThread, TerminateProcess, INFINITE};

/// `GetLastError()` after a `WaitForDebugEvent` that timed out.
const ERROR_SEM_TIMEOUT: u32 = 121;
/// The x86 breakpoint instruction.
const INT3: u8 = 0xCC;
const PAGE: u64 = 0x1000;

/// Why the program stopped, as the client is told.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// An exception gdb knows as a signal, or the stub's break-in.
    Signal { tid: u32, signal: Signal },
    /// One of the client's breakpoints; the thread's pc is at it.
    Breakpoint { tid: u32 },
    /// A single step the client asked for ended.
    Stepped { tid: u32 },
    /// A hardware breakpoint (debug register, execute); the pc is at it.
    HardwareBreakpoint { tid: u32 },
    /// A watched address was written (or read or written); the pc is after
    /// the access.
    Watchpoint { tid: u32, slot: Slot },
    /// A DLL was loaded or unloaded (only when asked for).
    Library { tid: u32 },
    /// The process ended with this exit code.
    Exited(u32),
}

/// What one thread does when the program is resumed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThreadAction {
    Continue,
    Step,
}

/// What becomes of an exception.
enum Outcome {
    Stop(Stop),
    /// Continue it unhandled: the program's own handlers see it.
    Pass,
    /// Continue it handled, without a word to the client.
    Resume,
}

/// How to resume: an action per thread; the others run unless locked.
#[derive(Clone, Debug)]
pub struct ResumePlan {
    pub actions: BTreeMap<u32, (ThreadAction, Option<Signal>)>,
    pub others_run: bool,
}

impl Default for ResumePlan {
    fn default() -> Self {
        ResumePlan { actions: BTreeMap::new(), others_run: true }
    }
}

/// The debug event being reported, which the next resume continues.
#[derive(Clone, Copy, Debug)]
struct PendingEvent {
    tid: u32,
    /// The NTSTATUS when the event is an exception.
    exception: Option<u32>,
}

/// A thread stepping off one of the stub's breakpoints: the original
/// instruction is back for one step, every other thread is suspended.
#[derive(Clone, Copy, Debug)]
struct StepOver {
    tid: u32,
    address: u64,
    /// The client asked for a step (report it) rather than a continue.
    report_step: bool,
}

/// The debugged process.
pub struct Debuggee {
    process: HANDLE,
    pid: u32,
    threads: BTreeMap<u32, HANDLE>,
    libraries: Vec<Library>,
    /// Address -> the byte the int3 replaced.
    breakpoints: BTreeMap<u64, u8>,
    pending: Option<PendingEvent>,
    step_over: Option<StepOver>,
    /// Threads the client single-steps.
    stepping: BTreeSet<u32>,
    /// Threads suspended until the next stop.
    held: Vec<u32>,
    initial_breakpoint_seen: bool,
    interrupt_requested: bool,
    exit_code: Option<u32>,
    image_base: u64,
    /// Stop for DLL loads and unloads after the initial breakpoint.
    library_events: bool,
    /// `OutputDebugString` text not yet given to the client.
    debug_strings: Vec<String>,
    /// The hardware breakpoints and watchpoints, set in every thread.
    debug_registers: DebugRegisters,
    /// Attached to rather than started.
    attached: bool,
}

impl Debuggee {
    /// Starts the program and runs it to the loader's initial breakpoint,
    /// its first stop.
    pub fn start(command: &[String], library_events: bool) -> Result<(Debuggee, Stop), StubError> {
        let launched = launch(command)?;
        Debuggee::new(launched.process, launched.pid, library_events).first_stop()
    }

    /// Attaches to the running process `pid`: the system replays its
    /// present as events (process, threads, DLLs), then breaks into it
    /// with a thread of its own, the first stop. The process outlives the
    /// stub: detached, not killed, when the stub ends.
    pub fn attach(pid: u32, library_events: bool) -> Result<(Debuggee, Stop), StubError> {
        // SAFETY: plain calls; this thread becomes the process's debugger.
        if unsafe { DebugActiveProcess(pid) } == 0 {
            return Err(StubError::Attach { pid, code: unsafe { GetLastError() } });
        }
        unsafe { DebugSetProcessKillOnExit(0) };
        let mut debuggee = Debuggee::new(std::ptr::null_mut(), pid, library_events);
        debuggee.attached = true;
        debuggee.first_stop()
    }

    /// Whether the stub attached to the process (rather than started it).
    pub fn attached(&self) -> bool {
        self.attached
    }

    fn first_stop(mut self) -> Result<(Debuggee, Stop), StubError> {
        loop {
            if let Some(stop) = self.wait(INFINITE)? {
                return Ok((self, stop));
            }
        }
    }

    fn new(process: HANDLE, pid: u32, library_events: bool) -> Debuggee {
        Debuggee {
            attached: false,
            process,
            pid,
            threads: BTreeMap::new(),
            libraries: Vec::new(),
            breakpoints: BTreeMap::new(),
            pending: None,
            step_over: None,
            stepping: BTreeSet::new(),
            held: Vec::new(),
            initial_breakpoint_seen: false,
            interrupt_requested: false,
            exit_code: None,
            image_base: 0,
            library_events,
            debug_strings: Vec::new(),
            debug_registers: DebugRegisters::default(),
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The DLLs loaded now, in load order.
    pub fn libraries(&self) -> &[Library] {
        &self.libraries
    }

    /// The thread ids, the one that stopped first.
    pub fn thread_ids(&self) -> Vec<u32> {
        let first = self.pending.map(|p| p.tid).filter(|t| self.threads.contains_key(t));
        first.into_iter().chain(self.threads.keys().copied().filter(|t| Some(*t) != first)).collect()
    }

    /// The `OutputDebugString` texts since the last call.
    pub fn take_debug_strings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.debug_strings)
    }

    /// Whether the process has ended.
    pub fn has_exited(&self) -> bool {
        self.exit_code.is_some()
    }

    /// Waits up to `timeout_ms` for the next stop, continuing the events
    /// that are not stops (thread and DLL events, debug strings, exceptions
    /// passed to the program). `None` when the time ran out.
    pub fn wait(&mut self, timeout_ms: u32) -> Result<Option<Stop>, StubError> {
        loop {
            let mut event: DEBUG_EVENT = unsafe { std::mem::zeroed() };
            // SAFETY: `event` is a valid DEBUG_EVENT to fill.
            if unsafe { WaitForDebugEvent(&mut event, timeout_ms) } == 0 {
                let code = unsafe { GetLastError() };
                if code == ERROR_SEM_TIMEOUT {
                    return Ok(None);
                }
                return Err(StubError::Win32 { call: "WaitForDebugEvent", code });
            }
            let tid = event.dwThreadId;
            match self.classify(&event)? {
                Some((stop, exception)) => {
                    self.pending = Some(PendingEvent { tid, exception });
                    self.release_held();
                    return Ok(Some(stop));
                }
                None => continue,
            }
        }
    }

    /// Records one debug event; the stop it is, with the exception code, or
    /// `None` once it has been continued.
    fn classify(&mut self, event: &DEBUG_EVENT) -> Result<Option<(Stop, Option<u32>)>, StubError> {
        let tid = event.dwThreadId;
        match event.dwDebugEventCode {
            CREATE_PROCESS_DEBUG_EVENT => {
                // SAFETY: the union member matches the event code.
                let info = unsafe { event.u.CreateProcessInfo };
                self.threads.insert(tid, info.hThread);
                if self.process.is_null() {
                    // Attached: this event is the first handle on the process.
                    self.process = info.hProcess;
                }
                self.image_base = info.lpBaseOfImage as u64;
                let name = file_name(info.hFile).unwrap_or_default();
                close(info.hFile);
                eprintln!("dbgkit-winstub: process {} ({name}) image at {:#x}", self.pid, self.image_base);
            }
            CREATE_THREAD_DEBUG_EVENT => {
                // SAFETY: as above.
                let info = unsafe { event.u.CreateThread };
                self.threads.insert(tid, info.hThread);
                if self.debug_registers.any() {
                    if let Err(e) = self.apply_debug_registers(tid) {
                        eprintln!("dbgkit-winstub: thread {tid} gets no hardware breakpoints: {e}");
                    }
                }
            }
            EXIT_THREAD_DEBUG_EVENT => {
                self.threads.remove(&tid);
                self.stepping.remove(&tid);
            }
            LOAD_DLL_DEBUG_EVENT => {
                // SAFETY: as above.
                let info = unsafe { event.u.LoadDll };
                let base = info.lpBaseOfDll as u64;
                let name = file_name(info.hFile)
                    .or_else(|| self.image_name(info.lpImageName as u64, info.fUnicode != 0))
                    .unwrap_or_else(|| format!("dll@{base:#x}"));
                close(info.hFile);
                self.libraries.push(Library { name, base });
                if self.library_events && self.initial_breakpoint_seen {
                    return Ok(Some((Stop::Library { tid }, None)));
                }
            }
            UNLOAD_DLL_DEBUG_EVENT => {
                // SAFETY: as above.
                let base = unsafe { event.u.UnloadDll }.lpBaseOfDll as u64;
                self.libraries.retain(|l| l.base != base);
                if self.library_events && self.initial_breakpoint_seen {
                    return Ok(Some((Stop::Library { tid }, None)));
                }
            }
            OUTPUT_DEBUG_STRING_EVENT => {
                // SAFETY: as above.
                let info = unsafe { event.u.DebugString };
                let text =
                    self.debug_string(info.lpDebugStringData as u64, info.nDebugStringLength, info.fUnicode != 0);
                let text = text.trim_end_matches(['\0', '\n']).to_string();
                eprintln!("dbgkit-winstub: debug string: {text}");
                self.debug_strings.push(text);
            }
            RIP_EVENT => {
                // SAFETY: as above.
                let info = unsafe { event.u.RipInfo };
                eprintln!("dbgkit-winstub: system debugging error {} (type {})", info.dwError, info.dwType);
            }
            EXIT_PROCESS_DEBUG_EVENT => {
                // SAFETY: as above.
                let code = unsafe { event.u.ExitProcess }.dwExitCode;
                self.exit_code = Some(code);
                self.finish_step_over();
                return Ok(Some((Stop::Exited(code), None)));
            }
            EXCEPTION_DEBUG_EVENT => {
                // SAFETY: as above.
                let info = unsafe { event.u.Exception };
                let code = info.ExceptionRecord.ExceptionCode as u32;
                let address = info.ExceptionRecord.ExceptionAddress as u64;
                let first_chance = info.dwFirstChance != 0;
                match self.classify_exception(tid, code, address, first_chance)? {
                    Outcome::Stop(stop) => return Ok(Some((stop, Some(code)))),
                    Outcome::Pass => {
                        self.continue_event(tid, DBG_EXCEPTION_NOT_HANDLED)?;
                        return Ok(None);
                    }
                    Outcome::Resume => {}
                }
            }
            other => eprintln!("dbgkit-winstub: unknown debug event {other}"),
        }
        self.continue_event(tid, DBG_CONTINUE)?;
        Ok(None)
    }

    /// What to do with an exception: stop, pass it to the program, or
    /// resume silently (the end of a step off a breakpoint that the client
    /// asked to continue).
    fn classify_exception(
        &mut self,
        tid: u32,
        code: u32,
        address: u64,
        first_chance: bool,
    ) -> Result<Outcome, StubError> {
        if code == status::SINGLE_STEP && self.debug_registers.any() {
            if let Some(slot) = self.fired_slot(tid)? {
                self.finish_step_over();
                self.stepping.remove(&tid);
                return Ok(Outcome::Stop(match slot.kind {
                    SlotKind::Execute => Stop::HardwareBreakpoint { tid },
                    _ => Stop::Watchpoint { tid, slot },
                }));
            }
        }
        if code == status::SINGLE_STEP {
            if let Some(step_over) = self.step_over.filter(|s| s.tid == tid) {
                self.finish_step_over();
                if step_over.report_step {
                    self.stepping.remove(&tid);
                    return Ok(Outcome::Stop(Stop::Stepped { tid }));
                }
                self.release_held();
                return Ok(Outcome::Resume);
            }
            if self.stepping.remove(&tid) {
                return Ok(Outcome::Stop(Stop::Stepped { tid }));
            }
        }
        self.finish_step_over();
        let chance = if first_chance { "first" } else { "second" };
        eprintln!(
            "dbgkit-winstub: exception {code:#010x} ({}), {chance} chance, at {address:#x} in thread {tid}",
            exception_name(code)
        );
        if code == status::BREAKPOINT {
            if self.breakpoints.contains_key(&address) {
                // Rewind to the int3, where gdb's breakpoint is (swbreak).
                self.set_pc(tid, address)?;
                return Ok(Outcome::Stop(Stop::Breakpoint { tid }));
            }
            if !self.initial_breakpoint_seen {
                self.initial_breakpoint_seen = true;
                return Ok(Outcome::Stop(Stop::Signal { tid, signal: Signal::SIGTRAP }));
            }
            if std::mem::take(&mut self.interrupt_requested) {
                return Ok(Outcome::Stop(Stop::Signal { tid, signal: Signal::SIGINT }));
            }
        }
        Ok(match stop_signal(code, first_chance) {
            Some(signal) => Outcome::Stop(Stop::Signal { tid, signal }),
            None => Outcome::Pass,
        })
    }

    /// Resumes the program as `plan` says, continuing the pending event:
    /// an exception is passed to the program (`DBG_EXCEPTION_NOT_HANDLED`)
    /// when the client resumes its thread with a signal, and handled
    /// (`DBG_CONTINUE`) when without, as gdbserver for Windows does.
    pub fn resume(&mut self, plan: &ResumePlan) -> Result<(), StubError> {
        let pending = self.pending.take().ok_or(StubError::NotStopped)?;
        if self.has_exited() {
            return self.continue_event(pending.tid, DBG_CONTINUE);
        }
        self.stepping.clear();
        for (&tid, &(action, _)) in &plan.actions {
            if action == ThreadAction::Step {
                self.set_trap_flag(tid, true)?;
                self.stepping.insert(tid);
            }
        }
        let event_action = match plan.actions.get(&pending.tid) {
            Some(&(action, _)) => Some(action),
            None if plan.others_run => Some(ThreadAction::Continue),
            None => None,
        };
        // A client that resumes a thread sitting on one of the stub's
        // breakpoints (gdb removes its own first; others may not) gets the
        // original instruction executed, alone, then the int3 back.
        if let Some(action) = event_action {
            let pc = self.pc(pending.tid)?;
            if let Some(&original) = self.breakpoints.get(&pc) {
                self.write_raw(pc, &[original])?;
                self.set_trap_flag(pending.tid, true)?;
                self.stepping.remove(&pending.tid);
                self.step_over =
                    Some(StepOver { tid: pending.tid, address: pc, report_step: action == ThreadAction::Step });
                let others: Vec<u32> = self.threads.keys().copied().filter(|t| *t != pending.tid).collect();
                self.hold(&others);
            }
        }
        if !plan.others_run && self.step_over.is_none() {
            let unlisted: Vec<u32> = self.threads.keys().copied().filter(|t| !plan.actions.contains_key(t)).collect();
            self.hold(&unlisted);
        }
        let signal = plan.actions.get(&pending.tid).and_then(|&(_, signal)| signal);
        let status = match (pending.exception, signal) {
            (Some(_), Some(_)) => DBG_EXCEPTION_NOT_HANDLED,
            _ => DBG_CONTINUE,
        };
        self.continue_event(pending.tid, status)
    }

    /// Takes a debug register for `slot` in every thread; false when none
    /// is free or the hardware cannot watch it.
    pub fn add_debug_slot(&mut self, slot: Slot) -> Result<bool, StubError> {
        let before = self.debug_registers.clone();
        if self.debug_registers.add(slot).is_none() {
            return Ok(false);
        }
        if let Err(e) = self.apply_debug_registers_everywhere() {
            self.debug_registers = before;
            let _ = self.apply_debug_registers_everywhere();
            return Err(e);
        }
        Ok(true)
    }

    /// Frees the debug register of `slot` in every thread.
    pub fn remove_debug_slot(&mut self, slot: Slot) -> Result<bool, StubError> {
        if !self.debug_registers.remove(slot) {
            return Ok(false);
        }
        self.apply_debug_registers_everywhere()?;
        Ok(true)
    }

    fn apply_debug_registers_everywhere(&self) -> Result<(), StubError> {
        for &tid in self.threads.keys() {
            self.apply_debug_registers(tid)?;
        }
        Ok(())
    }

    fn apply_debug_registers(&self, tid: u32) -> Result<(), StubError> {
        let mut context = self.context(tid, CONTEXT_DEBUG_REGISTERS)?;
        let c = &mut context.0;
        [c.Dr0, c.Dr1, c.Dr2, c.Dr3] = self.debug_registers.addresses();
        c.Dr7 = self.debug_registers.dr7();
        c.Dr6 = 0;
        self.set_context(tid, &context)
    }

    /// The slot whose hit made this single-step exception, DR6 cleared
    /// for the next one.
    fn fired_slot(&self, tid: u32) -> Result<Option<Slot>, StubError> {
        let mut context = self.context(tid, CONTEXT_DEBUG_REGISTERS)?;
        let slot = self.debug_registers.fired(context.0.Dr6);
        if context.0.Dr6 != 0 {
            context.0.Dr6 = 0;
            self.set_context(tid, &context)?;
        }
        Ok(slot)
    }

    /// Breaks into the running program: the system starts a thread in it
    /// that executes an int3, reported as SIGINT.
    pub fn interrupt(&mut self) -> Result<(), StubError> {
        self.interrupt_requested = true;
        // SAFETY: a process handle with all access.
        if unsafe { DebugBreakProcess(self.process) } == 0 {
            return Err(StubError::Win32 { call: "DebugBreakProcess", code: unsafe { GetLastError() } });
        }
        Ok(())
    }

    /// Ends the program and waits until it is gone.
    pub fn kill(&mut self) -> Result<(), StubError> {
        if self.has_exited() {
            return self.finish();
        }
        // SAFETY: a process handle with all access.
        if unsafe { TerminateProcess(self.process, 1) } == 0 {
            return Err(StubError::Win32 { call: "TerminateProcess", code: unsafe { GetLastError() } });
        }
        if let Some(pending) = self.pending.take() {
            self.continue_event(pending.tid, DBG_CONTINUE)?;
        }
        self.release_held();
        while !self.has_exited() {
            if self.wait(INFINITE)?.is_some() {
                if let Some(pending) = self.pending.take().filter(|_| !self.has_exited()) {
                    self.continue_event(pending.tid, DBG_CONTINUE)?;
                }
            }
        }
        self.finish()
    }

    /// Leaves the program running as if it had never been debugged: every
    /// int3, debug register and trap flag of the stub removed, held threads
    /// released.
    pub fn detach(&mut self) -> Result<(), StubError> {
        if self.debug_registers.any() {
            self.debug_registers = DebugRegisters::default();
            self.apply_debug_registers_everywhere()?;
        }
        let addresses: Vec<u64> = self.breakpoints.keys().copied().collect();
        for address in addresses {
            self.remove_breakpoint(address)?;
        }
        self.finish_step_over();
        for tid in std::mem::take(&mut self.stepping) {
            self.set_trap_flag(tid, false)?;
        }
        self.release_held();
        if let Some(pending) = self.pending.take() {
            self.continue_event(pending.tid, DBG_CONTINUE)?;
        }
        // SAFETY: plain calls on this thread's debuggee.
        unsafe { DebugSetProcessKillOnExit(0) };
        if unsafe { DebugActiveProcessStop(self.pid) } == 0 {
            return Err(StubError::Win32 { call: "DebugActiveProcessStop", code: unsafe { GetLastError() } });
        }
        Ok(())
    }

    /// Lets an ended process go (continues its exit event).
    pub fn finish(&mut self) -> Result<(), StubError> {
        match self.pending.take() {
            Some(pending) => self.continue_event(pending.tid, DBG_CONTINUE),
            None => Ok(()),
        }
    }

    fn continue_event(&mut self, tid: u32, status: i32) -> Result<(), StubError> {
        // SAFETY: plain call; the event (pid, tid) is the one last waited for.
        if unsafe { ContinueDebugEvent(self.pid, tid, status) } == 0 {
            return Err(StubError::Win32 { call: "ContinueDebugEvent", code: unsafe { GetLastError() } });
        }
        Ok(())
    }

    /// Suspends `tids` until the next stop.
    fn hold(&mut self, tids: &[u32]) {
        for tid in tids {
            if let Some(&handle) = self.threads.get(tid) {
                // SAFETY: a thread handle from a debug event.
                if unsafe { SuspendThread(handle) } != u32::MAX {
                    self.held.push(*tid);
                }
            }
        }
    }

    fn release_held(&mut self) {
        for tid in std::mem::take(&mut self.held) {
            if let Some(&handle) = self.threads.get(&tid) {
                // SAFETY: as in hold().
                unsafe { ResumeThread(handle) };
            }
        }
    }

    /// Puts the int3 back after a step off it, whatever ended the step.
    fn finish_step_over(&mut self) {
        if let Some(step_over) = self.step_over.take() {
            if self.breakpoints.contains_key(&step_over.address) && self.write_raw(step_over.address, &[INT3]).is_err()
            {
                eprintln!("dbgkit-winstub: cannot put the breakpoint at {:#x} back", step_over.address);
            }
            if self.exit_code.is_none() {
                let _ = self.set_trap_flag(step_over.tid, false);
            }
        }
    }

    fn thread(&self, tid: u32) -> Result<HANDLE, StubError> {
        self.threads.get(&tid).copied().ok_or(StubError::UnknownThread(tid))
    }

    fn context(&self, tid: u32, flags: u32) -> Result<AlignedContext, StubError> {
        let handle = self.thread(tid)?;
        let mut context = AlignedContext::default();
        context.0.ContextFlags = flags;
        // SAFETY: an aligned CONTEXT and a thread handle with THREAD_GET_CONTEXT.
        if unsafe { GetThreadContext(handle, &mut context.0) } == 0 {
            return Err(StubError::Win32 { call: "GetThreadContext", code: unsafe { GetLastError() } });
        }
        Ok(context)
    }

    fn set_context(&self, tid: u32, context: &AlignedContext) -> Result<(), StubError> {
        let handle = self.thread(tid)?;
        // SAFETY: as in context().
        if unsafe { SetThreadContext(handle, &context.0) } == 0 {
            return Err(StubError::Win32 { call: "SetThreadContext", code: unsafe { GetLastError() } });
        }
        Ok(())
    }

    fn pc(&self, tid: u32) -> Result<u64, StubError> {
        Ok(self.context(tid, CONTEXT_CONTROL)?.0.Rip)
    }

    fn set_pc(&self, tid: u32, pc: u64) -> Result<(), StubError> {
        let mut context = self.context(tid, CONTEXT_CONTROL)?;
        context.0.Rip = pc;
        self.set_context(tid, &context)
    }

    fn set_trap_flag(&self, tid: u32, on: bool) -> Result<(), StubError> {
        let mut context = self.context(tid, CONTEXT_CONTROL)?;
        if on {
            context.0.EFlags |= TRAP_FLAG;
        } else {
            context.0.EFlags &= !TRAP_FLAG;
        }
        self.set_context(tid, &context)
    }

    /// The registers of thread `tid`.
    pub fn registers(&self, tid: u32) -> Result<GdbRegisters, StubError> {
        Ok(registers_of(&self.context(tid, CONTEXT_REGISTERS)?.0))
    }

    /// Sets the registers of thread `tid`.
    pub fn set_registers(&self, tid: u32, regs: &GdbRegisters) -> Result<(), StubError> {
        let mut context = self.context(tid, CONTEXT_REGISTERS)?;
        store_registers(regs, &mut context.0);
        self.set_context(tid, &context)
    }

    /// Reads memory as the program sees it (the stub's int3s hidden); the
    /// count read, short when the range runs into unreadable memory.
    pub fn read_memory(&self, address: u64, buf: &mut [u8]) -> usize {
        let count = self.read_raw(address, buf);
        for (&at, &original) in self.breakpoints.range(address..address.saturating_add(count as u64)) {
            buf[(at - address) as usize] = original;
        }
        count
    }

    /// The count of bytes readable from `address`, read into `buf`.
    fn read_raw(&self, address: u64, buf: &mut [u8]) -> usize {
        if self.read_exact(address, buf) {
            return buf.len();
        }
        // One unreadable page fails the whole call: read page by page.
        let mut done = 0usize;
        while done < buf.len() {
            let at = address + done as u64;
            let chunk = ((PAGE - at % PAGE) as usize).min(buf.len() - done);
            if !self.read_exact(at, &mut buf[done..done + chunk]) {
                break;
            }
            done += chunk;
        }
        done
    }

    fn read_exact(&self, address: u64, buf: &mut [u8]) -> bool {
        let mut got = 0usize;
        // SAFETY: `buf` is writable for its length.
        let ok = unsafe {
            ReadProcessMemory(self.process, address as *const c_void, buf.as_mut_ptr().cast(), buf.len(), &mut got)
        };
        ok != 0 && got == buf.len()
    }

    /// Writes memory; where the stub has an int3, the written byte becomes
    /// the one restored when the breakpoint goes.
    pub fn write_memory(&mut self, address: u64, data: &[u8]) -> Result<(), StubError> {
        let mut bytes = data.to_vec();
        let end = address.saturating_add(data.len() as u64);
        for (&at, original) in self.breakpoints.range_mut(address..end) {
            let index = (at - address) as usize;
            *original = bytes[index];
            bytes[index] = INT3;
        }
        self.write_raw(address, &bytes)
    }

    fn write_raw(&self, address: u64, data: &[u8]) -> Result<(), StubError> {
        // gdb probes for the X packet with an empty write, which the API refuses.
        if data.is_empty() {
            return Ok(());
        }
        let mut put = 0usize;
        // SAFETY: `data` is readable for its length.
        let ok = unsafe {
            WriteProcessMemory(self.process, address as *const c_void, data.as_ptr().cast(), data.len(), &mut put)
        };
        if ok == 0 || put != data.len() {
            return Err(StubError::Win32 { call: "WriteProcessMemory", code: unsafe { GetLastError() } });
        }
        // SAFETY: plain call on the process handle.
        unsafe { FlushInstructionCache(self.process, address as *const c_void, data.len()) };
        Ok(())
    }

    /// Plants an int3 at `address`.
    pub fn insert_breakpoint(&mut self, address: u64) -> Result<(), StubError> {
        if self.breakpoints.contains_key(&address) {
            return Ok(());
        }
        let mut original = [0u8];
        if self.read_raw(address, &mut original) != 1 {
            return Err(StubError::Win32 { call: "ReadProcessMemory", code: unsafe { GetLastError() } });
        }
        self.write_raw(address, &[INT3])?;
        self.breakpoints.insert(address, original[0]);
        Ok(())
    }

    /// Takes the int3 at `address` away; false when there was none.
    pub fn remove_breakpoint(&mut self, address: u64) -> Result<bool, StubError> {
        let Some(original) = self.breakpoints.remove(&address) else {
            return Ok(false);
        };
        // While a thread steps off this breakpoint the original is already there.
        if self.step_over.map(|s| s.address) != Some(address) {
            self.write_raw(address, &[original])?;
        }
        Ok(true)
    }

    /// A DLL's name from the pointer to a pointer the debug API gives (which
    /// may be null at either level).
    fn image_name(&self, pointer: u64, unicode: bool) -> Option<String> {
        if pointer == 0 {
            return None;
        }
        let mut target = [0u8; 8];
        if self.read_raw(pointer, &mut target) != 8 {
            return None;
        }
        let name_at = u64::from_le_bytes(target);
        if name_at == 0 {
            return None;
        }
        let text = self.debug_string(name_at, 260, unicode);
        let name = text.split('\0').next().unwrap_or_default().to_string();
        (!name.is_empty()).then_some(name)
    }

    /// `length` characters at `address` in the program, ANSI or UTF-16.
    fn debug_string(&self, address: u64, length: u16, unicode: bool) -> String {
        let width = if unicode { 2 } else { 1 };
        let mut bytes = vec![0u8; length as usize * width];
        let count = self.read_raw(address, &mut bytes);
        bytes.truncate(count);
        if unicode {
            let units: Vec<u16> = bytes.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
            String::from_utf16_lossy(&units)
        } else {
            String::from_utf8_lossy(&bytes).into_owned()
        }
    }
}

/// The path of an open file, as Windows names it (`C:\windows\...`).
fn file_name(file: HANDLE) -> Option<String> {
    if file.is_null() {
        return None;
    }
    let mut buf = vec![0u16; 1024];
    // SAFETY: `buf` is writable for its length.
    let len = unsafe { GetFinalPathNameByHandleW(file, buf.as_mut_ptr(), buf.len() as u32, 0) } as usize;
    if len == 0 || len >= buf.len() {
        return None;
    }
    let path = String::from_utf16_lossy(&buf[..len]);
    // The "\\?\" prefix of a path that skips name parsing, which gdb does not expect.
    Some(path.strip_prefix("\\\\?\\").map(str::to_string).unwrap_or(path))
}

fn close(handle: HANDLE) {
    if !handle.is_null() {
        // SAFETY: a handle the debug API gave the debugger to close.
        unsafe { CloseHandle(handle) };
    }
}
