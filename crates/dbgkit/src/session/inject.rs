//! Running code in the target: system calls, memory allocation and
//! protection, function calls, loading a library. Every register (general,
//! x87/SSE) and every byte of stack used is put back exactly afterwards.

use super::Session;
use crate::error::{Error, Result};
use crate::event::EventKind;
use crate::target::{Resume, StopReason};

/// Access rights for [`Session::allocate_memory`] and [`Session::protect_memory`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Protection {
    pub read: bool,
    pub write: bool,
    pub execute: bool,
}

impl Protection {
    /// From `"rwx"`-style text (`-` or absence for a missing right): `"rw-"`, `"rx"`, `"r"`.
    pub fn parse(text: &str) -> Result<Protection> {
        let mut p = Protection::default();
        for c in text.chars() {
            match c {
                'r' => p.read = true,
                'w' => p.write = true,
                'x' => p.execute = true,
                '-' => {}
                _ => return Err(Error::InvalidArgument(format!("bad protection {text:?}: use letters r, w, x"))),
            }
        }
        Ok(p)
    }

    fn bits(self) -> u64 {
        (if self.read { crate::linux_abi::PROT_READ } else { 0 }
            | if self.write { crate::linux_abi::PROT_WRITE } else { 0 }
            | if self.execute { crate::linux_abi::PROT_EXEC } else { 0 }) as u64
    }
}

/// An argument of [`Session::call`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallArg {
    /// An integer or pointer, passed as is.
    Int(u64),
    /// Bytes copied into the target for the call; the function gets their address.
    Bytes(Vec<u8>),
    /// A string copied into the target with a terminating NUL; the function gets its address.
    Str(String),
}

/// What a called function returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallResult {
    pub rax: u64,
    /// The low 128 bits of `xmm0` (a floating-point return value).
    pub xmm0: u128,
}

const RTLD_NOW: u64 = 2;
const PAGE: u64 = 4096;
/// How much stack below the call's frame is saved and restored.
const SAVED_STACK_BELOW: u64 = 256 * 1024;

impl Session {
    /// The thread injected code runs on: `tid` if given, else a stopped thread.
    fn injection_thread(&self, pid: i32, tid: Option<i32>) -> Result<i32> {
        let p = self.process(pid)?;
        match tid {
            Some(t) if p.threads.get(&t).is_some_and(|s| s.stopped) => Ok(t),
            Some(t) if p.threads.contains_key(&t) => Err(Error::ProcessRunning(pid)),
            Some(t) => Err(Error::NoSuchThread { pid, tid: t }),
            None => p.any_stopped_thread().ok_or(Error::ProcessRunning(pid)),
        }
    }

    /// Runs system call `number` in a stopped thread of `pid` (any, when
    /// `tid` is `None`); returns its raw result (`-errno` on failure).
    pub fn syscall(&mut self, pid: i32, tid: Option<i32>, number: u64, args: &[u64]) -> Result<i64> {
        self.refuse_inside_callback("run a system call in the target")?;
        if args.len() > 6 {
            return Err(Error::InvalidArgument("a system call takes at most 6 arguments".into()));
        }
        let tid = self.injection_thread(pid, tid)?;
        let mut all = [0u64; 6];
        all[..args.len()].copy_from_slice(args);
        let outcome = self.process(pid)?.injector()?.syscall(tid, number, all)?;
        self.defer_signals(pid, tid, outcome.deferred_signals);
        if let Some(t) = self.process_mut(pid)?.threads.get_mut(&tid) {
            t.regs = None;
        }
        Ok(outcome.result)
    }

    /// Maps `size` bytes of fresh memory in the target (`mmap`), near `hint` if given.
    pub fn allocate_memory(&mut self, pid: i32, size: u64, protection: Protection, hint: Option<u64>) -> Result<u64> {
        if size == 0 || size > (1 << 46) {
            return Err(Error::InvalidArgument(format!(
                "cannot allocate {size} bytes: the size must be positive and sane"
            )));
        }
        let flags = (crate::linux_abi::MAP_PRIVATE | crate::linux_abi::MAP_ANONYMOUS) as u64;
        let r = self.with_stopped(pid, |s| {
            s.syscall(
                pid,
                None,
                crate::linux_abi::SYS_MMAP as u64,
                &[hint.unwrap_or(0), size, protection.bits(), flags, u64::MAX, 0],
            )
        })?;
        if r < 0 {
            return Err(Error::InjectionFailed { pid, reason: format!("mmap failed: {}", errno_text(r)) });
        }
        Ok(r as u64)
    }

    /// Unmaps memory of the target (`munmap`).
    pub fn free_memory(&mut self, pid: i32, address: u64, size: u64) -> Result<()> {
        if size == 0 || !address.is_multiple_of(PAGE) {
            return Err(Error::InvalidArgument(format!(
                "cannot free {size} bytes at {address:#x}: need a page-aligned address and a positive size"
            )));
        }
        let r =
            self.with_stopped(pid, |s| s.syscall(pid, None, crate::linux_abi::SYS_MUNMAP as u64, &[address, size]))?;
        if r < 0 {
            return Err(Error::InjectionFailed { pid, reason: format!("munmap failed: {}", errno_text(r)) });
        }
        Ok(())
    }

    /// Changes the protection of target memory (`mprotect`).
    pub fn protect_memory(&mut self, pid: i32, address: u64, size: u64, protection: Protection) -> Result<()> {
        if size == 0 || !address.is_multiple_of(PAGE) {
            return Err(Error::InvalidArgument(format!(
                "cannot protect {size} bytes at {address:#x}: need a page-aligned address and a positive size"
            )));
        }
        let r = self.with_stopped(pid, |s| {
            s.syscall(pid, None, crate::linux_abi::SYS_MPROTECT as u64, &[address, size, protection.bits()])
        })?;
        if r < 0 {
            return Err(Error::InjectionFailed { pid, reason: format!("mprotect failed: {}", errno_text(r)) });
        }
        Ok(())
    }

    /// Calls `function` in thread `tid` (stopped) with the System V x86_64
    /// convention: up to 6 arguments in registers, more on the stack, the
    /// stack aligned; strings and bytes are copied onto the target's stack
    /// for the call. Only that thread runs meanwhile. A call that crashes
    /// or hits a breakpoint is an error saying so, and the thread is put back
    /// as it was.
    ///
    /// ```no_run
    /// # let mut session = dbgkit::Session::new(); let (pid, tid) = (1, 1);
    /// use dbgkit::CallArg;
    /// let strlen = session.lookup(pid, "libc.so.6!strlen")?;
    /// let n = session.call(pid, tid, strlen, &[CallArg::Str("hello".into())])?.rax;
    /// assert_eq!(n, 5);
    /// # Ok::<(), dbgkit::Error>(())
    /// ```
    pub fn call(&mut self, pid: i32, tid: i32, function: u64, args: &[CallArg]) -> Result<CallResult> {
        let tid = self.injection_thread(pid, Some(tid))?;
        let function = self.resolve_ifunc(pid, tid, function)?;
        self.call_plain(pid, tid, function, args)
    }

    /// `call` without looking at what the address is.
    fn call_plain(&mut self, pid: i32, tid: i32, function: u64, args: &[CallArg]) -> Result<CallResult> {
        self.refuse_inside_callback("call a function in the target")?;
        let fail = |reason: String| Error::CallFailed { pid, address: function, reason };
        let executable = self.memory_map(pid)?.iter().any(|r| r.executable && (r.start..r.end).contains(&function));
        if !executable {
            return Err(fail("the address is not code (not in executable memory)".into()));
        }
        let return_trap = self.syscall_stub(pid)? + 2;
        // A thread stopped inside a system call (at a fork or clone event)
        // would finish it on its way into the call, and the result be lost
        // when the registers are put back: finish it first (an injected
        // system call keeps the result).
        let now = self.regs_of(pid, tid)?;
        if now.orig_rax != u64::MAX && now.rax as i64 == -crate::linux_abi::ENOSYS {
            self.syscall(pid, Some(tid), crate::linux_abi::SYS_GETPID as u64, &[])?;
        }
        let saved = self.regs_of(pid, tid)?;
        let saved_fp = self.process(pid)?.target.fp_registers(tid)?;
        // The call's stops replace the signal information of the thread's
        // stop: a signal it is resumed with must still carry its sender.
        let saved_siginfo = self.process(pid)?.target.raw_siginfo(tid).ok();

        // Lay out the stack below the red zone: copied blobs, stack arguments, return address.
        let mut sp = saved.rsp - 128;
        let mut values = Vec::with_capacity(args.len());
        let mut blobs: Vec<(u64, Vec<u8>)> = Vec::new();
        for arg in args {
            match arg {
                CallArg::Int(v) => values.push(*v),
                other => {
                    let mut bytes = match other {
                        CallArg::Bytes(b) => b.clone(),
                        CallArg::Str(s) => s.as_bytes().to_vec(),
                        CallArg::Int(_) => unreachable!(),
                    };
                    if let CallArg::Str(_) = other {
                        bytes.push(0);
                    }
                    sp = (sp - bytes.len() as u64) & !15;
                    values.push(sp);
                    blobs.push((sp, bytes));
                }
            }
        }
        let on_stack: Vec<u64> = values.iter().skip(6).copied().collect();
        sp = (sp - 8 * on_stack.len() as u64) & !15;
        let arguments_at = sp;
        sp -= 8;
        let stack_bottom = sp;
        // Save the stack below rsp that the call may use (its own frames
        // included), so that even unused memory is as it was afterwards.
        let mapping_start = self
            .memory_map(pid)?
            .into_iter()
            .find(|r| (r.start..r.end).contains(&saved.rsp))
            .map(|r| r.start)
            .unwrap_or(stack_bottom);
        let save_from = mapping_start.max(stack_bottom.saturating_sub(SAVED_STACK_BELOW)).min(stack_bottom);
        let mut saved_stack = vec![0u8; (saved.rsp - save_from) as usize];
        let got = self.process(pid)?.target.read_memory(save_from, &mut saved_stack);
        saved_stack.truncate(got);
        let memory = self.process(pid)?.writer()?;
        for (at, bytes) in &blobs {
            memory.write_memory(*at, bytes)?;
        }
        for (i, v) in on_stack.iter().enumerate() {
            memory.write_memory(arguments_at + 8 * i as u64, &v.to_le_bytes())?;
        }
        memory.write_memory(stack_bottom, &return_trap.to_le_bytes())?;

        let mut regs = saved;
        let slots = [&mut regs.rdi, &mut regs.rsi, &mut regs.rdx, &mut regs.rcx, &mut regs.r8, &mut regs.r9];
        for (slot, v) in slots.into_iter().zip(values.iter()) {
            *slot = *v;
        }
        regs.rax = 0; // no vector registers used by a variadic callee
        regs.rsp = stack_bottom;
        regs.rip = function;
        regs.orig_rax = u64::MAX;
        regs.eflags &= !(1 << 10); // the ABI wants the direction flag clear
        let outcome = self.run_call(pid, tid, &regs, return_trap);

        // Put everything back, whatever happened; a failure to do so is the error.
        let writer = self.process(pid)?.writer()?;
        let restored = writer
            .write_memory(save_from, &saved_stack)
            .and_then(|()| writer.set_fp_registers(tid, &saved_fp))
            .and_then(|()| writer.set_registers(tid, &saved))
            .and_then(|()| saved_siginfo.map_or(Ok(()), |info| writer.set_raw_siginfo(tid, &info)));
        if let Some(t) = self.process_mut(pid)?.threads.get_mut(&tid) {
            // However the call went, the thread is back in its stop.
            t.regs = Some(saved);
            t.stopped = true;
        }
        let (rax, xmm0) = outcome.map_err(fail)?;
        restored.map_err(|e| fail(format!("the call returned but the thread could not be put back: {e}")))?;
        Ok(CallResult { rax, xmm0 })
    }

    /// An indirect function (`strlen` in glibc) is a resolver: call it to
    /// learn the implementation, as the dynamic linker does.
    fn resolve_ifunc(&mut self, pid: i32, tid: i32, address: u64) -> Result<u64> {
        let Some(module) = self.process(pid)?.modules.iter().find(|m| m.contains(address)).cloned() else {
            return Ok(address);
        };
        let symbols = self.module_symbols(pid, &module);
        let file_address = address.wrapping_sub(module.bias);
        let is_ifunc = symbols.elf.entries.iter().any(|e| e.address == file_address && e.is_ifunc);
        if !is_ifunc {
            return Ok(address);
        }
        let implementation = self.call_plain(pid, tid, address, &[])?.rax;
        Ok(implementation)
    }

    /// Runs the prepared call until it returns to the trap; only `tid` runs.
    /// Returns rax and xmm0, or what went wrong.
    fn run_call(
        &mut self,
        pid: i32,
        tid: i32,
        regs: &crate::arch::registers::Registers,
        return_trap: u64,
    ) -> std::result::Result<(u64, u128), String> {
        let text = |e: Error| e.to_string();
        self.process(pid).and_then(|p| p.writer()?.set_registers(tid, regs)).map_err(text)?;
        if let Some(t) = self.process_mut(pid).map_err(text)?.threads.get_mut(&tid) {
            t.regs = None;
        }
        let go = |s: &Session| s.process(pid).and_then(|p| p.control()?.resume(tid, Resume::Continue, 0));
        go(self).map_err(text)?;
        loop {
            let status = match self.process(pid).and_then(|p| p.control()?.wait_thread(tid)) {
                Ok(Some(s)) => s,
                Ok(None) => return Err("interrupted while waiting for the call".into()),
                Err(e) => return Err(e.to_string()),
            };
            let target = &self.process(pid).map_err(text)?.target;
            match status {
                StopReason::Signal(crate::signal_numbers::SIGTRAP) => {
                    let now = target.registers(tid).map_err(text)?;
                    if now.rip == return_trap + 1 {
                        let xmm0 = target.fp_registers(tid).map_err(text)?.xmm[0];
                        return Ok((now.rax, xmm0));
                    }
                    let at = now.rip.wrapping_sub(1);
                    let Some(site) = self.process(pid).map_err(|e| e.to_string())?.sites.get(&at) else {
                        return Err(format!("the function raised SIGTRAP at {:#x}", now.rip));
                    };
                    let internal_only =
                        site.ids.iter().all(|id| self.breakpoints.get(id).is_some_and(|b| b.internal.is_some()));
                    if !internal_only {
                        let id = site
                            .ids
                            .iter()
                            .find(|id| self.breakpoints.get(id).is_some_and(|b| b.internal.is_none()))
                            .copied()
                            .unwrap_or(0);
                        return Err(format!("the function hit breakpoint {id} at {at:#x}"));
                    }
                    // The loader's own hook (a library loaded by the call): note the
                    // modules, then go on over it.
                    let ids = site.ids.clone();
                    for id in ids {
                        if let Some(why) = self.breakpoints.get(&id).and_then(|b| b.internal) {
                            self.on_loader_breakpoint(pid, tid, id, why).map_err(|e| e.to_string())?;
                        }
                    }
                    if let Some(t) = self.process_mut(pid).map_err(|e| e.to_string())?.threads.get_mut(&tid) {
                        t.regs = None;
                        t.stopped = true;
                    }
                    self.set_rip_of(pid, tid, at).map_err(text)?;
                    if self.process(pid).map_err(text)?.sites.contains_key(&at) {
                        self.run_over_site(pid, tid, at, 0, false).map_err(text)?;
                    } else {
                        go(self).map_err(text)?;
                    }
                }
                StopReason::Signal(signal) if is_fault(signal) => {
                    let rip = target.pc(tid).unwrap_or(0);
                    return Err(format!("the function received {} at {rip:#x}", crate::event::signal_name(signal)));
                }
                StopReason::Signal(signal) => {
                    // Sent from outside (a timer, another process): still the
                    // program's, delivered once the call is over.
                    self.defer_signals(pid, tid, vec![signal]);
                    go(self).map_err(text)?;
                }
                // What the function started is the program's like anything
                // else: reported once the event in flight is continued.
                StopReason::NewThread { child } => {
                    if let Some(start) = self.adopt_new_thread(pid, child).map_err(text)? {
                        self.queue_event(pid, child, EventKind::ThreadCreated { start });
                    }
                    go(self).map_err(text)?;
                }
                StopReason::Forked { child, vfork } => {
                    self.on_fork(pid, tid, child, vfork).map_err(text)?;
                    self.queue_event(pid, tid, EventKind::Fork { child, vfork });
                    go(self).map_err(text)?;
                }
                StopReason::VforkDone => {
                    // The process is held at an event: nothing waits to resume.
                    self.on_vfork_done(pid, tid).map_err(text)?;
                    go(self).map_err(text)?;
                }
                StopReason::Exec => return Err("the function ran another program (exec)".into()),
                s if s.is_death() => return Err("the process died during the call".into()),
                _ => go(self).map_err(text)?,
            }
        }
    }

    /// Calls a function named by an expression (`libc.so.6!getpid`, `my_function`).
    pub fn call_named(&mut self, pid: i32, tid: i32, function: &str, args: &[CallArg]) -> Result<CallResult> {
        let address = self.eval(pid, tid, function)?;
        self.call(pid, tid, address, args)
    }

    /// Loads a shared object into the target through its dynamic loader
    /// (`dlopen`); its `ModuleLoaded` event follows as for any library.
    /// Returns the handle `dlopen` gave; a failure carries `dlerror()`'s text.
    pub fn inject_library(&mut self, pid: i32, tid: i32, path: &str) -> Result<u64> {
        let dlopen =
            self.lookup(pid, "libc.so.6!dlopen").or_else(|_| self.lookup(pid, "libdl.so.2!dlopen")).map_err(|_| {
                Error::InjectionFailed { pid, reason: "the process has no dlopen (is libc loaded yet?)".into() }
            })?;
        let handle = self.call(pid, tid, dlopen, &[CallArg::Str(path.into()), CallArg::Int(RTLD_NOW)])?.rax;
        if handle != 0 {
            return Ok(handle);
        }
        let reason = match self.lookup(pid, "libc.so.6!dlerror").or_else(|_| self.lookup(pid, "libdl.so.2!dlerror")) {
            Ok(dlerror) => {
                let text = self.call(pid, tid, dlerror, &[])?.rax;
                self.process(pid)?.target.read_c_string(text, 4096)
            }
            Err(_) => "dlopen returned NULL".into(),
        };
        Err(Error::InjectionFailed { pid, reason: format!("dlopen({path}) failed: {reason}") })
    }
}

/// Signals a called function raises by what it does (not sent from outside).
fn is_fault(signal: i32) -> bool {
    crate::signal_numbers::is_hardware_fault(signal)
        || matches!(
            signal,
            crate::signal_numbers::SIGTRAP | crate::signal_numbers::SIGABRT | crate::signal_numbers::SIGSYS
        )
}

fn errno_text(result: i64) -> String {
    std::io::Error::from_raw_os_error((-result) as i32).to_string()
}
