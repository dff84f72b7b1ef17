//! The debugged process as the Win32 debug API shows it: one debug event
//! at a time, every thread frozen until it is continued. This file turns
//! the nine kinds of debug event into stops (the rest are recorded and
//! continued on the spot), and holds what the debugger changed in the
//! process: breakpoint bytes, trap flags, debug
//! registers, threads it suspended. `run_control.rs` resumes, kills and
//! detaches; `memory.rs` reads and writes memory and plants int3s;
//! `registers.rs` reads and writes thread contexts.

mod memory;
mod out_of_line;
mod registers;
mod run_control;

use super::debug_slots::{DebugSlots, Slot, SlotKind};
use super::error::WindowsError;
use super::exception_record::ExceptionRecord;
use super::launch::{launch, LaunchOptions};
use super::library::{size_of_image, Library};
use super::Reporting;
use crate::nt_status as status;
use std::collections::{BTreeMap, BTreeSet};
use windows_sys::Win32::Foundation::{CloseHandle, GetLastError, DBG_CONTINUE, DBG_EXCEPTION_NOT_HANDLED, HANDLE};
use windows_sys::Win32::Storage::FileSystem::GetFinalPathNameByHandleW;
use windows_sys::Win32::System::Diagnostics::Debug::{
    ContinueDebugEvent, DebugActiveProcess, DebugSetProcessKillOnExit, WaitForDebugEvent, CREATE_PROCESS_DEBUG_EVENT,
    CREATE_THREAD_DEBUG_EVENT, DEBUG_EVENT, EXCEPTION_DEBUG_EVENT, EXIT_PROCESS_DEBUG_EVENT, EXIT_THREAD_DEBUG_EVENT,
    LOAD_DLL_DEBUG_EVENT, OUTPUT_DEBUG_STRING_EVENT, RIP_EVENT, UNLOAD_DLL_DEBUG_EVENT,
};
use windows_sys::Win32::System::Threading::INFINITE;

/// `GetLastError()` after a `WaitForDebugEvent` that timed out.
const ERROR_SEM_TIMEOUT: u32 = 121;
/// The x86 breakpoint instruction.
const INT3: u8 = 0xCC;
const PAGE: u64 = 0x1000;

/// Why the program stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// The loader's initial breakpoint (`0x80000003`), the first stop of a
    /// launch; or, for an attach, the break-in the system does.
    InitialBreakpoint { tid: u32 },
    /// The break-in [`Debuggee::interrupt`] asked for (its thread is the
    /// one the system started to break in).
    BreakIn { tid: u32 },
    /// An exception that stops ([`status::stops_at_first_chance`], every
    /// second chance, or every first chance with
    /// [`Reporting::first_chance`]); [`Debuggee::last_exception`] has it.
    Exception { tid: u32, code: u32, first_chance: bool },
    /// One of the caller's breakpoints; the thread's pc is at it.
    Breakpoint { tid: u32 },
    /// A single step the caller asked for ended.
    Stepped { tid: u32 },
    /// A hardware breakpoint (debug register, execute); the pc is at it.
    HardwareBreakpoint { tid: u32 },
    /// A watched address was written (or read or written); the pc is after
    /// the access.
    Watchpoint { tid: u32, slot: Slot },
    /// A DLL was loaded or unloaded (only when asked for).
    Library { tid: u32 },
    /// A thread was created (only when asked for); it is stopped at its start.
    ThreadCreated { tid: u32 },
    /// A thread ended with this code (only when asked for).
    ThreadExited { tid: u32, code: u32 },
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
    /// Continue it handled, without a word to the caller.
    Resume,
}

/// How to resume: an action per thread, and whether the exception its
/// thread stopped at goes to the program's own handlers (passed, not
/// handled); the other threads run unless locked.
#[derive(Clone, Debug)]
pub struct ResumePlan {
    pub actions: BTreeMap<u32, (ThreadAction, bool)>,
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

/// A thread stepping off one of the debugger's breakpoints: the original
/// instruction is back for one step, every other thread is suspended.
#[derive(Clone, Copy, Debug)]
struct StepOver {
    tid: u32,
    address: u64,
    /// The caller asked for a step (report it) rather than a continue.
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
    /// Threads the caller single-steps.
    stepping: BTreeSet<u32>,
    /// Threads suspended while one steps off a breakpoint.
    held: Vec<u32>,
    /// Threads a resume left out (kept stopped), suspended until the next stop.
    locked: Vec<u32>,
    /// Threads whose step was overtaken by another event: a single-step
    /// they still bring is continued silently.
    abandoned_steps: BTreeSet<u32>,
    /// Breakpoints taken away, with their original byte: a hit already
    /// queued in another thread still arrives.
    removed_breakpoints: BTreeMap<u64, u8>,
    initial_breakpoint_seen: bool,
    interrupt_requested: bool,
    exit_code: Option<u32>,
    image_base: u64,
    /// The program's file, as Windows names it.
    executable: String,
    /// Which events stop beyond gdb's: DLL loads and unloads (after the
    /// initial breakpoint), every exception's first chance.
    reporting: Reporting,
    /// `OutputDebugString` text not yet given to the caller.
    debug_strings: Vec<String>,
    /// The hardware breakpoints and watchpoints, set in every thread.
    debug_registers: DebugSlots,
    /// Where the loop's notes go (a stub's log); nowhere by default.
    log: fn(&str),
    /// Where each thread created after the start began (its creation
    /// event's start address).
    thread_starts: BTreeMap<u32, u64>,
    /// The thread contexts read at this stop (`registers.rs`).
    contexts: std::cell::RefCell<BTreeMap<u32, registers::CachedContext>>,
    /// Attached to rather than started.
    attached: bool,
    /// The process handle is `CreateProcessW`'s, ours to close (an
    /// attached process's comes with its first debug event, the system's).
    owns_process_handle: bool,
    /// The exception the last exception stop reported (`monitor exception`).
    last_exception: Option<ExceptionRecord>,
    /// Where the copies of the instructions under breakpoints go.
    scratch: out_of_line::Scratch,
    /// Breakpoint address -> the copy of its instruction.
    out_of_line: BTreeMap<u64, out_of_line::Copy>,
}

impl Debuggee {
    /// Starts the program and runs it to the loader's initial breakpoint,
    /// its first stop.
    pub fn start(
        command: &[String],
        options: &LaunchOptions,
        reporting: Reporting,
    ) -> Result<(Debuggee, Stop), WindowsError> {
        let launched = launch(command, options)?;
        let mut debuggee = Debuggee::new(launched.process, launched.pid, reporting);
        debuggee.owns_process_handle = true;
        debuggee.first_stop()
    }

    /// Attaches to the running process `pid`: the system replays its
    /// present as events (process, threads, DLLs), then breaks into it
    /// with a thread of its own, the first stop. The process outlives the
    /// debugger: detached, not killed, when it ends.
    pub fn attach(pid: u32, reporting: Reporting) -> Result<(Debuggee, Stop), WindowsError> {
        // SAFETY: plain calls; this thread becomes the process's debugger.
        if unsafe { DebugActiveProcess(pid) } == 0 {
            return Err(WindowsError::Attach { pid, code: unsafe { GetLastError() } });
        }
        unsafe { DebugSetProcessKillOnExit(0) };
        let mut debuggee = Debuggee::new(std::ptr::null_mut(), pid, reporting);
        debuggee.attached = true;
        debuggee.first_stop()
    }

    /// The start address a thread was created with (threads that existed
    /// before the debugger came have none).
    pub fn thread_start(&self, tid: u32) -> Option<u64> {
        self.thread_starts.get(&tid).copied()
    }

    /// Whether a break-in was asked for and has not stopped yet (a thread
    /// created meanwhile may be the one the system starts to break in).
    pub fn interrupt_pending(&self) -> bool {
        self.interrupt_requested
    }

    /// Whether the debugger attached to the process (rather than started it).
    pub fn attached(&self) -> bool {
        self.attached
    }

    fn first_stop(mut self) -> Result<(Debuggee, Stop), WindowsError> {
        loop {
            if let Some(stop) = self.wait(INFINITE)? {
                return Ok((self, stop));
            }
        }
    }

    fn new(process: HANDLE, pid: u32, reporting: Reporting) -> Debuggee {
        Debuggee {
            attached: false,
            owns_process_handle: false,
            last_exception: None,
            scratch: Default::default(),
            out_of_line: BTreeMap::new(),
            process,
            pid,
            threads: BTreeMap::new(),
            libraries: Vec::new(),
            breakpoints: BTreeMap::new(),
            pending: None,
            step_over: None,
            stepping: BTreeSet::new(),
            held: Vec::new(),
            locked: Vec::new(),
            abandoned_steps: BTreeSet::new(),
            removed_breakpoints: BTreeMap::new(),
            initial_breakpoint_seen: false,
            interrupt_requested: false,
            exit_code: None,
            image_base: 0,
            executable: String::new(),
            reporting,
            debug_strings: Vec::new(),
            debug_registers: DebugSlots::default(),
            log: |_| {},
            contexts: Default::default(),
            thread_starts: BTreeMap::new(),
        }
    }

    /// Sends the loop's notes (events continued on the spot, exceptions,
    /// debug strings) to `log`.
    pub fn set_log(&mut self, log: fn(&str)) {
        self.log = log;
    }

    /// The exception the last exception stop reported.
    pub fn last_exception(&self) -> Option<&ExceptionRecord> {
        self.last_exception.as_ref()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The process handle (all access).
    pub fn process_handle(&self) -> HANDLE {
        self.process
    }

    /// Where the program's image is mapped, and its file as Windows names it.
    pub fn executable(&self) -> (u64, &str) {
        (self.image_base, &self.executable)
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
    /// passed to the program). `None` when the time ran out, even while
    /// such events keep coming (a program writing debug strings without
    /// end must not keep the caller from its client).
    pub fn wait(&mut self, timeout_ms: u32) -> Result<Option<Stop>, WindowsError> {
        let started = std::time::Instant::now();
        loop {
            // What is left of the time (0 is a poll: it still looks once).
            let remaining = match timeout_ms {
                INFINITE => INFINITE,
                ms => ms.saturating_sub(started.elapsed().as_millis().min(u128::from(u32::MAX)) as u32),
            };
            let mut event: DEBUG_EVENT = unsafe { std::mem::zeroed() };
            // SAFETY: `event` is a valid DEBUG_EVENT to fill.
            if unsafe { WaitForDebugEvent(&mut event, remaining) } == 0 {
                let code = unsafe { GetLastError() };
                if code == ERROR_SEM_TIMEOUT {
                    return Ok(None);
                }
                return Err(WindowsError::Win32 { call: "WaitForDebugEvent", code });
            }
            let tid = event.dwThreadId;
            match self.classify(&event)? {
                Some((stop, exception)) => {
                    self.pending = Some(PendingEvent { tid, exception });
                    self.release_held();
                    self.release_locked();
                    return Ok(Some(stop));
                }
                None if remaining == 0 => return Ok(None),
                None => continue,
            }
        }
    }

    /// Records one debug event; the stop it is, with the exception code, or
    /// `None` once it has been continued.
    fn classify(&mut self, event: &DEBUG_EVENT) -> Result<Option<(Stop, Option<u32>)>, WindowsError> {
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
                self.executable = name.clone();
                (self.log)(&format!("process {} ({name}) image at {:#x}", self.pid, self.image_base));
            }
            CREATE_THREAD_DEBUG_EVENT => {
                // SAFETY: as above.
                let info = unsafe { event.u.CreateThread };
                self.threads.insert(tid, info.hThread);
                let start = info.lpStartAddress.map_or(0, |f| f as usize as u64);
                self.thread_starts.insert(tid, start);
                if self.debug_registers.any() {
                    if let Err(e) = self.apply_debug_registers(tid) {
                        (self.log)(&format!("thread {tid} gets no hardware breakpoints: {e}"));
                    }
                }
                if self.reporting.thread_events && self.initial_breakpoint_seen {
                    return Ok(Some((Stop::ThreadCreated { tid }, None)));
                }
            }
            EXIT_THREAD_DEBUG_EVENT => {
                self.threads.remove(&tid);
                self.thread_starts.remove(&tid);
                self.contexts.get_mut().remove(&tid);
                self.stepping.remove(&tid);
                if self.reporting.thread_events && self.initial_breakpoint_seen {
                    // SAFETY: as above.
                    let code = unsafe { event.u.ExitThread }.dwExitCode;
                    return Ok(Some((Stop::ThreadExited { tid, code }, None)));
                }
            }
            LOAD_DLL_DEBUG_EVENT => {
                // SAFETY: as above.
                let info = unsafe { event.u.LoadDll };
                let base = info.lpBaseOfDll as u64;
                let name = file_name(info.hFile)
                    .or_else(|| self.image_name(info.lpImageName as u64, info.fUnicode != 0))
                    .unwrap_or_else(|| format!("dll@{base:#x}"));
                close(info.hFile);
                let mut headers = [0u8; 1024];
                let n = self.read_raw(base, &mut headers);
                let size = size_of_image(&headers[..n]).unwrap_or(0);
                self.libraries.push(Library { name, base, size });
                if self.reporting.library_events && self.initial_breakpoint_seen {
                    return Ok(Some((Stop::Library { tid }, None)));
                }
            }
            UNLOAD_DLL_DEBUG_EVENT => {
                // SAFETY: as above.
                let base = unsafe { event.u.UnloadDll }.lpBaseOfDll as u64;
                let size = self.libraries.iter().find(|l| l.base == base).map_or(0, |l| l.size);
                self.libraries.retain(|l| l.base != base);
                // Its breakpoints went with it: the same address may hold another image's code next.
                self.forget_breakpoints_in(base..base.saturating_add(size));
                if self.reporting.library_events && self.initial_breakpoint_seen {
                    return Ok(Some((Stop::Library { tid }, None)));
                }
            }
            OUTPUT_DEBUG_STRING_EVENT => {
                // SAFETY: as above.
                let info = unsafe { event.u.DebugString };
                let text =
                    self.debug_string(info.lpDebugStringData as u64, info.nDebugStringLength, info.fUnicode != 0);
                let text = text.trim_end_matches(['\0', '\n']).to_string();
                (self.log)(&format!("debug string: {text}"));
                self.debug_strings.push(text);
            }
            RIP_EVENT => {
                // SAFETY: as above.
                let info = unsafe { event.u.RipInfo };
                (self.log)(&format!("system debugging error {} (type {})", info.dwError, info.dwType));
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
                if !self.out_of_line.is_empty() {
                    self.pc_out_of_slot(tid)?;
                }
                match self.classify_exception(tid, code, address, first_chance)? {
                    Outcome::Stop(stop) => {
                        if matches!(
                            stop,
                            Stop::Exception { .. } | Stop::InitialBreakpoint { .. } | Stop::BreakIn { .. }
                        ) {
                            let count = (info.ExceptionRecord.NumberParameters as usize).min(15);
                            let parameters =
                                info.ExceptionRecord.ExceptionInformation[..count].iter().map(|&p| p as u64).collect();
                            self.last_exception =
                                Some(ExceptionRecord { tid, code, first_chance, address, parameters });
                        }
                        return Ok(Some((stop, Some(code))));
                    }
                    Outcome::Pass => {
                        self.continue_event(tid, DBG_EXCEPTION_NOT_HANDLED)?;
                        return Ok(None);
                    }
                    Outcome::Resume => {}
                }
            }
            other => (self.log)(&format!("unknown debug event {other}")),
        }
        self.continue_event(tid, DBG_CONTINUE)?;
        Ok(None)
    }

    /// What to do with an exception: stop, pass it to the program, or
    /// resume silently (the end of a step off a breakpoint that the caller
    /// asked to continue).
    fn classify_exception(
        &mut self,
        tid: u32,
        code: u32,
        address: u64,
        first_chance: bool,
    ) -> Result<Outcome, WindowsError> {
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
                if self.debug_register_hit(tid)? {
                    // The stepped instruction hit a debug register the
                    // caller set (a watchpoint): that is the stop.
                    self.finish_step_over();
                    self.release_held();
                    return Ok(Outcome::Stop(Stop::Exception { tid, code, first_chance }));
                }
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
            if self.abandoned_steps.remove(&tid) && !self.debug_register_hit(tid)? {
                // The end of a step nobody waits for any more.
                return Ok(Outcome::Resume);
            }
        }
        self.finish_step_over();
        if code == status::BREAKPOINT && self.breakpoints.contains_key(&address) {
            // Rewind to the int3: the breakpoint's address (gdb's swbreak).
            self.set_pc(tid, address)?;
            return Ok(Outcome::Stop(Stop::Breakpoint { tid }));
        }
        if code == status::BREAKPOINT && self.removed_breakpoints.get(&address).is_some_and(|&b| b != INT3) {
            // A hit queued before its breakpoint went: the program's own
            // instruction is back there; it runs it as if never stopped.
            self.set_pc(tid, address)?;
            return Ok(Outcome::Resume);
        }
        // The caller's own breakpoints, steps and watchpoints go unlogged;
        // every other exception is worth a line.
        let chance = if first_chance { "first" } else { "second" };
        let name = crate::event::nt_status_name(code).unwrap_or("exception");
        (self.log)(&format!("exception {code:#010x} ({name}), {chance} chance, at {address:#x} in thread {tid}"));
        if code == status::BREAKPOINT {
            if !self.initial_breakpoint_seen {
                self.initial_breakpoint_seen = true;
                return Ok(Outcome::Stop(Stop::InitialBreakpoint { tid }));
            }
            if std::mem::take(&mut self.interrupt_requested) {
                return Ok(Outcome::Stop(Stop::BreakIn { tid }));
            }
        }
        let stops = !status::is_note(code)
            && (!first_chance || status::stops_at_first_chance(code) || self.reporting.first_chance);
        Ok(match stops {
            true => Outcome::Stop(Stop::Exception { tid, code, first_chance }),
            false => Outcome::Pass,
        })
    }

    fn continue_event(&mut self, tid: u32, status: i32) -> Result<(), WindowsError> {
        self.write_back_contexts();
        // SAFETY: plain call; the event (pid, tid) is the one last waited for.
        if unsafe { ContinueDebugEvent(self.pid, tid, status) } == 0 {
            return Err(WindowsError::Win32 { call: "ContinueDebugEvent", code: unsafe { GetLastError() } });
        }
        Ok(())
    }
}

impl Drop for Debuggee {
    /// An ended process's exit event is continued (the system then lets it
    /// go), and the handle `CreateProcessW` gave is closed.
    fn drop(&mut self) {
        if self.has_exited() {
            let _ = self.finish();
        }
        if self.owns_process_handle {
            close(self.process);
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
