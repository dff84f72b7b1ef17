//! Catchpoints (gdb's `catch` and `tcatch`): stops at events rather than
//! at places. System calls are the engine's syscall catchpoints; C++
//! exceptions are breakpoints on the C++ runtime's entry points; forks,
//! execs, library loads and signals are events the engine reports anyway,
//! which a catchpoint turns into stops. They share the breakpoints'
//! numbering and list (`bl`), and `bc`, `bd`, `be` take them.

use super::commands::Call;
use super::debugger::{say, Debugger};
use anyhow::{anyhow, bail, Context, Result};
use dbgkit::{BreakpointOptions, Event, EventKind};
use regex::Regex;

/// What a catchpoint stops at.
#[derive(Clone, Debug)]
pub enum Trigger {
    /// Entries to and exits from these system calls (every one when empty).
    Syscall(Vec<u64>),
    Throw,
    Catch,
    Rethrow,
    Fork,
    Vfork,
    Exec,
    /// Libraries loaded (or unloaded) whose name or path matches.
    Load(Option<Regex>),
    Unload(Option<Regex>),
    /// These signals (every one but SIGTRAP and SIGINT, the debugger's own, when empty).
    Signal(Vec<i32>),
}

impl Trigger {
    /// The C++ runtime function a catchpoint breaks on.
    fn runtime_function(&self) -> Option<&'static str> {
        match self {
            Trigger::Throw => Some("__cxa_throw"),
            Trigger::Catch => Some("__cxa_begin_catch"),
            Trigger::Rethrow => Some("__cxa_rethrow"),
            _ => None,
        }
    }

    /// Whether a `catch signal` stops at `signal`.
    fn catches_signal(&self, signal: i32) -> bool {
        match self {
            Trigger::Signal(signals) if signals.is_empty() => {
                ![dbgkit::signal_numbers::SIGTRAP, dbgkit::signal_numbers::SIGINT].contains(&signal)
            }
            Trigger::Signal(signals) => signals.contains(&signal),
            _ => false,
        }
    }

    fn needs_engine(&self) -> bool {
        matches!(self, Trigger::Syscall(_)) || self.runtime_function().is_some()
    }
}

/// One catchpoint.
#[derive(Clone, Debug)]
pub struct Catchpoint {
    pub number: u32,
    pub what: Trigger,
    /// What the user typed after `catch`, for `bl`.
    pub text: String,
    pub enabled: bool,
    /// `tcatch`: deleted after its first stop.
    pub one_shot: bool,
    pub hits: u64,
    /// The engine's catchpoint or breakpoint, in its process.
    pub engine: Option<(i32, u32)>,
}

/// `catch KIND [ARGS]`.
pub fn catch(dbg: &mut Debugger, call: &Call) -> Result<()> {
    add(dbg, call.args, false)
}

/// `tcatch KIND [ARGS]`: deleted after it stops once.
pub fn tcatch(dbg: &mut Debugger, call: &Call) -> Result<()> {
    add(dbg, call.args, true)
}

fn parse(text: &str) -> Result<Trigger> {
    let mut words = text.split_whitespace();
    let kind = words.next().ok_or_else(|| {
        anyhow!("catch what? syscall, throw, catch, rethrow, fork, vfork, exec, load, unload or signal")
    })?;
    let rest: Vec<&str> = words.collect();
    let no_arguments = |what: Trigger| -> Result<Trigger> {
        match rest.as_slice() {
            [] => Ok(what),
            _ => bail!("catch {kind} takes no argument"),
        }
    };
    let regex = |rest: &[&str]| -> Result<Option<Regex>> {
        match rest {
            [] => Ok(None),
            [one] => Regex::new(one).map(Some).with_context(|| format!("bad regular expression {one:?}")),
            _ => bail!("catch {kind} takes one regular expression"),
        }
    };
    Ok(match kind {
        "syscall" => Trigger::Syscall(
            rest.iter()
                .map(|s| dbgkit::syscall_number(s).ok_or_else(|| anyhow!("unknown system call {s:?}")))
                .collect::<Result<_>>()?,
        ),
        "throw" => no_arguments(Trigger::Throw)?,
        "catch" => no_arguments(Trigger::Catch)?,
        "rethrow" => no_arguments(Trigger::Rethrow)?,
        "fork" => no_arguments(Trigger::Fork)?,
        "vfork" => no_arguments(Trigger::Vfork)?,
        "exec" => no_arguments(Trigger::Exec)?,
        "load" => Trigger::Load(regex(&rest)?),
        "unload" => Trigger::Unload(regex(&rest)?),
        "signal" => Trigger::Signal(
            rest.iter()
                .map(|s| dbgkit::parse_signal(s).ok_or_else(|| anyhow!("unknown signal {s:?}")))
                .collect::<Result<_>>()?,
        ),
        other => {
            bail!("cannot catch {other:?}: syscall, throw, catch, rethrow, fork, vfork, exec, load, unload or signal")
        }
    })
}

/// WinDbg's `sxe ld:MODULE` / `sxe ud:MODULE` (a catchpoint on that module's
/// load or unload; every module without a name) and `sxd`/`sxn`/`sxi`
/// with the same argument (that catchpoint removed).
pub fn module_event_filter(dbg: &mut Debugger, command: &str, kind: &str, module: &str) -> Result<()> {
    let pattern = if module.is_empty() { String::new() } else { format!(" ^{}$", regex::escape(module)) };
    let text = format!("{kind}{pattern}");
    if command == "sxe" {
        return add(dbg, &text, false);
    }
    let before = dbg.catchpoints.len();
    while let Some(i) = dbg.catchpoints.iter().position(|c| c.text == text) {
        dbg.remove_catchpoint(i)?;
    }
    if dbg.catchpoints.len() == before {
        bail!("no {kind} event filter for {:?} (sxe sets one)", if module.is_empty() { "any module" } else { module });
    }
    Ok(())
}

fn add(dbg: &mut Debugger, text: &str, one_shot: bool) -> Result<()> {
    let what = parse(text)?;
    let mut catchpoint = Catchpoint {
        number: 0,
        what,
        text: text.split_whitespace().collect::<Vec<_>>().join(" "),
        enabled: true,
        one_shot,
        hits: 0,
        engine: None,
    };
    match dbg.current.map(|c| c.pid) {
        Some(pid) if catchpoint.what.needs_engine() => {
            let id = plant(dbg, pid, &catchpoint)?;
            catchpoint.engine = Some((pid, id));
        }
        _ => {}
    }
    catchpoint.number = match (&catchpoint.what, catchpoint.engine) {
        // The engine's syscall catchpoint took its number from the one numbering.
        (Trigger::Syscall(_), Some((_, id))) => id,
        _ => dbg.session.reserve_breakpoint_id(),
    };
    say!("Catchpoint {} ({})", catchpoint.number, describe(&catchpoint));
    dbg.catchpoints.push(catchpoint);
    dbg.refresh_signal_reporting();
    Ok(())
}

/// Sets the engine's part of a catchpoint in `pid`.
fn plant(dbg: &mut Debugger, pid: i32, catchpoint: &Catchpoint) -> Result<u32> {
    if let Trigger::Syscall(numbers) = &catchpoint.what {
        return Ok(dbg.session.add_syscall_catchpoint(pid, numbers)?);
    }
    let function = catchpoint.what.runtime_function().expect("needs_engine said so");
    // At the first instruction, where the arguments are still in their registers.
    let options = BreakpointOptions::default().hidden(true).disabled(!catchpoint.enabled);
    Ok(dbg.session.add_breakpoint_at(pid, &format!("*libstdc++.so.6!{function}"), options)?)
}

fn describe(c: &Catchpoint) -> String {
    match &c.what {
        Trigger::Syscall(numbers) if numbers.is_empty() => "any syscall".into(),
        Trigger::Syscall(numbers) => {
            let names: Vec<String> =
                numbers.iter().map(|&n| format!("'{}' [{n}]", dbgkit::syscall_name(n).unwrap_or("?"))).collect();
            format!("syscall{} {}", if numbers.len() > 1 { "s" } else { "" }, names.join(" "))
        }
        Trigger::Throw => "throw".into(),
        Trigger::Catch => "catch".into(),
        Trigger::Rethrow => "rethrow".into(),
        Trigger::Fork => "fork".into(),
        Trigger::Vfork => "vfork".into(),
        Trigger::Exec => "exec".into(),
        Trigger::Load(r) => format!("load{}", r.as_ref().map(|r| format!(" {r}")).unwrap_or_default()),
        Trigger::Unload(r) => format!("unload{}", r.as_ref().map(|r| format!(" {r}")).unwrap_or_default()),
        Trigger::Signal(signals) if signals.is_empty() => "standard signals".into(),
        Trigger::Signal(signals) => {
            format!("signal {}", signals.iter().map(|&s| dbgkit::signal_name(s)).collect::<Vec<_>>().join(" "))
        }
    }
}

/// A catchpoint's line of `bl`.
pub fn list_line(c: &Catchpoint) -> String {
    let state = if c.enabled { "e" } else { "d" };
    let once = if c.one_shot { " once" } else { "" };
    format!("{:>3} {state} {:<16} hits={} catch {}{once}", c.number, "catchpoint", c.hits, describe(c))
}

fn matches_name(regex: &Option<Regex>, module: &dbgkit::Module) -> bool {
    regex.as_ref().is_none_or(|r| r.is_match(&module.name) || r.is_match(&module.path.to_string_lossy()))
}

impl Debugger {
    /// The catchpoint an event stops at, if one does: its index and the
    /// line that shows why.
    fn catching(&mut self, event: &Event) -> Option<(usize, String)> {
        let pid = event.pid;
        for i in 0..self.catchpoints.len() {
            let c = self.catchpoints[i].clone();
            if !c.enabled {
                continue;
            }
            let n = c.number;
            let engine_id = c.engine.filter(|(p, _)| *p == pid).map(|(_, id)| id);
            let title = match (&c.what, &event.kind) {
                (Trigger::Syscall(_), EventKind::SyscallEntry { id, number, args }) if Some(*id) == engine_id => {
                    let args: Vec<String> = args.iter().map(|a| format!("{a:#x}")).collect();
                    format!("Catchpoint {n} (call to syscall {}), args ({})", syscall(*number), args.join(", "))
                }
                (Trigger::Syscall(_), EventKind::SyscallExit { id, number, result }) if Some(*id) == engine_id => {
                    format!("Catchpoint {n} (returned from syscall {}), result {result}", syscall(*number))
                }
                (Trigger::Throw | Trigger::Catch | Trigger::Rethrow, EventKind::Breakpoint { id, .. })
                    if Some(*id) == engine_id =>
                {
                    let (verb, what) = match c.what {
                        Trigger::Throw => ("thrown", self.thrown_type(pid, event.tid)),
                        Trigger::Catch => ("caught", self.caught_type(pid, event.tid)),
                        _ => ("rethrown", None),
                    };
                    let what = what.map(|t| format!(", type {t}")).unwrap_or_default();
                    format!("Catchpoint {n} (exception {verb}){what}")
                }
                (Trigger::Fork, EventKind::Fork { child, vfork: false }) => {
                    format!("Catchpoint {n} (forked process {child})")
                }
                (Trigger::Vfork, EventKind::Fork { child, vfork: true }) => {
                    format!("Catchpoint {n} (vforked process {child})")
                }
                (Trigger::Exec, EventKind::Exec { image }) => format!("Catchpoint {n} (exec'd {})", image.display()),
                (Trigger::Load(r), EventKind::ModuleLoaded(m)) if matches_name(r, m) => {
                    format!("Catchpoint {n} (loaded {})", m.path.display())
                }
                (Trigger::Unload(r), EventKind::ModuleUnloaded(m)) if matches_name(r, m) => {
                    format!("Catchpoint {n} (unloaded {})", m.path.display())
                }
                (Trigger::Signal(_), EventKind::Exception { signal, first_chance: true, .. })
                    if c.what.catches_signal(*signal) =>
                {
                    format!("Catchpoint {n} (signal {})", dbgkit::signal_name(*signal))
                }
                _ => continue,
            };
            return Some((i, title));
        }
        None
    }

    /// Whether an event stops at a catchpoint: counts the hit, deletes a
    /// `tcatch`, and gives the line that shows the stop.
    pub fn caught(&mut self, event: &Event) -> Result<Option<String>> {
        let Some((i, title)) = self.catching(event) else { return Ok(None) };
        self.catchpoints[i].hits += 1;
        if self.catchpoints[i].one_shot {
            self.remove_catchpoint(i)?;
        }
        Ok(Some(title))
    }

    /// Sets the engine's part of every catchpoint in a new process (a
    /// restart, or the child the debugger moved to).
    pub fn restore_catchpoints(&mut self, pid: i32) {
        for i in 0..self.catchpoints.len() {
            let c = self.catchpoints[i].clone();
            if !c.what.needs_engine() || c.engine.is_some_and(|(p, _)| self.session.processes().contains(&p)) {
                continue;
            }
            match plant(self, pid, &c) {
                Ok(id) => self.catchpoints[i].engine = Some((pid, id)),
                Err(e) => say!("catchpoint {} not set again: {e:#}", c.number),
            }
        }
    }

    /// Makes the engine report every signal a `catch signal` waits for,
    /// even one the signal table lets pass silently.
    pub fn refresh_signal_reporting(&mut self) {
        for signal in 1..=64 {
            let caught = self.catchpoints.iter().any(|c| c.enabled && c.what.catches_signal(signal));
            let p = self.signals.get(signal);
            self.session.set_signal_quiet(signal, !caught && p.quiet());
        }
    }

    /// Removes catchpoints (`bc`), by index.
    pub fn remove_catchpoint(&mut self, i: usize) -> Result<()> {
        let c = self.catchpoints.remove(i);
        self.refresh_signal_reporting();
        if let Some((pid, id)) = c.engine {
            if self.session.processes().contains(&pid) {
                match self.session.remove_breakpoint(id) {
                    Ok(()) | Err(dbgkit::Error::NoSuchBreakpoint(_)) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        Ok(())
    }

    /// Enables or disables a catchpoint (`be`, `bd`), by index.
    pub fn enable_catchpoint(&mut self, i: usize, on: bool) -> Result<()> {
        if let Some((pid, id)) = self.catchpoints[i].engine {
            if self.session.processes().contains(&pid) {
                self.session.enable_breakpoint(id, on)?;
            }
        }
        self.catchpoints[i].enabled = on;
        self.refresh_signal_reporting();
        Ok(())
    }

    /// The type of the exception `__cxa_throw(object, type_info, destructor)` throws.
    fn thrown_type(&mut self, pid: i32, tid: i32) -> Option<String> {
        let type_info = self.session.registers(pid, tid).ok()?.rsi;
        self.type_info_name(pid, type_info)
    }

    /// The type of the exception `__cxa_begin_catch(unwind_header)` catches:
    /// the `__cxa_exception` the header ends holds its `type_info` first.
    fn caught_type(&mut self, pid: i32, tid: i32) -> Option<String> {
        // libstdc++'s `__cxa_exception`: eleven words, then the unwind header.
        const HEADER_OFFSET: u64 = 80;
        let header = self.session.registers(pid, tid).ok()?.rdi;
        let mut class = [0u8; 8];
        self.session.read_memory(pid, header, &mut class).ok()?;
        // The class "GNUCC++\0" as a big-endian number, stored little-endian: a
        // primary exception (a dependent one, "GNUCC++\x01", points elsewhere).
        if u64::from_le_bytes(class) != u64::from_be_bytes(*b"GNUCC++\0") {
            return None;
        }
        let mut word = [0u8; 8];
        self.session.read_memory(pid, header.checked_sub(HEADER_OFFSET)?, &mut word).ok()?;
        self.type_info_name(pid, u64::from_le_bytes(word))
    }

    /// `std::type_info::name()`, demangled: the second word of the object.
    fn type_info_name(&mut self, pid: i32, type_info: u64) -> Option<String> {
        let mut word = [0u8; 8];
        self.session.read_memory(pid, type_info.checked_add(8)?, &mut word).ok()?;
        let raw = self.session.read_c_string(pid, u64::from_le_bytes(word), 512).ok()?;
        Some(dbgkit::triage::type_name_from_type_info(&String::from_utf8_lossy(&raw)))
    }
}

fn syscall(number: u64) -> String {
    dbgkit::syscall_name(number).map_or_else(|| number.to_string(), str::to_string)
}
