//! The breakpoint table: breakpoints by address and by expression
//! (pending until their module loads), conditions and ignore counts.

use super::{HitContext, Session};
use crate::breakpoints::{Breakpoint, BreakpointInfo, BreakpointKind, BreakpointOptions, Condition, HitAction};
use crate::error::{Error, Result};

/// Errors that mean "not loaded yet" rather than "wrong".
fn is_not_yet_loaded(e: &Error) -> bool {
    matches!(e, Error::SymbolNotFound(_) | Error::NoSuchModule(_) | Error::NoCodeForLine { .. })
}

impl Session {
    /// Plants a software breakpoint at `address`; a hit reports a `Breakpoint` event.
    pub fn add_breakpoint(&mut self, pid: i32, address: u64) -> Result<u32> {
        self.add_breakpoint_with(pid, address, BreakpointOptions::default())
    }

    /// Plants a fast breakpoint: `callback` runs on every hit inside the
    /// engine and the target goes on, unless it returns [`HitAction::Stop`].
    ///
    /// ```no_run
    /// # let mut session = dbgkit::Session::new();
    /// # let (pid, address) = (1, 0x401000);
    /// let id = session.add_fast_breakpoint(pid, address, |hit| {
    ///     if hit.hits % 1000 == 0 { println!("{} hits", hit.hits) }
    ///     dbgkit::HitAction::Continue
    /// })?;
    /// # Ok::<(), dbgkit::Error>(())
    /// ```
    pub fn add_fast_breakpoint(
        &mut self,
        pid: i32,
        address: u64,
        callback: impl FnMut(&mut HitContext<'_>) -> HitAction + 'static,
    ) -> Result<u32> {
        self.add_breakpoint_with(pid, address, BreakpointOptions::default().callback(callback))
    }

    /// Plants a breakpoint with options (one-shot, disabled, callback, condition, ignore count).
    pub fn add_breakpoint_with(&mut self, pid: i32, address: u64, options: BreakpointOptions) -> Result<u32> {
        self.process(pid)?;
        self.new_breakpoint(pid, vec![address], None, options)
    }

    /// Sets a breakpoint on an expression: `libc.so.6!socket`, `main`,
    /// `crash.c:12`, `main+0x10`. When its module is not loaded yet (or the
    /// name is not known yet) the breakpoint is pending: it is planted the
    /// moment a module that resolves it is loaded, before any of the
    /// module's code runs, and again each time the module comes back.
    ///
    /// ```no_run
    /// # let mut session = dbgkit::Session::new(); let pid = 1;
    /// let id = session.add_breakpoint_at(pid, "libc.so.6!socket", Default::default())?;
    /// if let Some(why) = session.breakpoint(id).unwrap().unresolved {
    ///     println!("pending: {why}");
    /// }
    /// # Ok::<(), dbgkit::Error>(())
    /// ```
    pub fn add_breakpoint_at(&mut self, pid: i32, expression: &str, options: BreakpointOptions) -> Result<u32> {
        self.process(pid)?;
        if let super::locations::Spec::Address(text) = super::locations::classify(expression) {
            crate::expr::parse(text).map_err(|e| Error::BadExpression { text: text.into(), error: e })?;
        }
        let (locations, pending) = match self.resolve_breakpoint_all(pid, expression) {
            Ok(locations) => (locations, None),
            Err(e) if is_not_yet_loaded(&e) => (Vec::new(), Some(e.to_string())),
            Err(e) => return Err(e),
        };
        let id = self.new_breakpoint(pid, locations, Some(expression.to_string()), options)?;
        if let Some(reason) = pending {
            self.breakpoints.get_mut(&id).expect("just added").info.unresolved = Some(reason);
        }
        Ok(id)
    }

    /// Every place a breakpoint expression stands for: one for an address;
    /// for a name or a source line, each module's definition and each
    /// inlined copy (a multi-location breakpoint, as gdb makes).
    pub(crate) fn resolve_breakpoint_all(&mut self, pid: i32, expression: &str) -> Result<Vec<u64>> {
        if matches!(super::locations::classify(expression), super::locations::Spec::Address(_)) {
            return Ok(vec![self.resolve_breakpoint(pid, expression)?]);
        }
        let mut addresses: Vec<u64> = self.breakpoint_locations(pid, expression)?.iter().map(|l| l.address).collect();
        addresses.dedup();
        if addresses.is_empty() {
            return Err(Error::SymbolNotFound(expression.to_string()));
        }
        Ok(addresses)
    }

    /// Parses a condition where the breakpoint is, and refuses one that
    /// names something unknown (it would never be true, or always: both
    /// silently wrong). The engine's language first (registers, symbols,
    /// `poi`), then the program's (its variables in scope at `address`).
    pub(super) fn parse_condition_at(&mut self, pid: i32, address: Option<u64>, text: &str) -> Result<Condition> {
        let engine = crate::expr::parse(text).map_err(|e| Error::BadExpression { text: text.into(), error: e });
        let engine_error = match engine {
            Ok(expr) => match self.check_names(pid, &expr) {
                Ok(()) => return Ok(Condition::Engine(expr)),
                Err(e) => e,
            },
            Err(e) => e,
        };
        let Some(address) = address else {
            // Pending: only the engine's language can be checked before the code is there.
            return Err(engine_error);
        };
        match self.parse_condition(pid, address, text) {
            Ok(source) => Ok(Condition::Source(source)),
            // Not even well formed: the engine's error points at the place.
            Err(_) if matches!(engine_error, Error::BadExpression { .. }) => Err(engine_error),
            Err(source_error) => Err(Error::InvalidArgument(format!(
                "condition {text:?}: {source_error} (and as a register or symbol expression: {engine_error})"
            ))),
        }
    }

    fn new_breakpoint(
        &mut self,
        pid: i32,
        locations: Vec<u64>,
        expression: Option<String>,
        options: BreakpointOptions,
    ) -> Result<u32> {
        let condition = match &options.condition {
            Some(text) => Some(self.parse_condition_at(pid, locations.first().copied(), text)?),
            None => None,
        };
        let id = match options.id {
            None => self.next_free_id(options.hidden),
            Some(_) if options.hidden => {
                return Err(Error::InvalidArgument("a hidden breakpoint takes no number of the user's".into()))
            }
            Some(id) if id == 0 || id >= u32::MAX / 2 => {
                return Err(Error::InvalidArgument(format!("breakpoint number {id} is out of range")))
            }
            Some(id) if self.breakpoints.contains_key(&id) || self.watchpoints.contains_key(&id) => {
                return Err(Error::InvalidArgument(format!("breakpoint number {id} is in use")))
            }
            Some(id) => id,
        };
        let info = BreakpointInfo {
            id,
            pid,
            kind: BreakpointKind::Software,
            address: locations.first().copied().unwrap_or(0),
            locations: locations.clone(),
            enabled: !options.disabled,
            one_shot: options.one_shot,
            hits: 0,
            fast: options.callback.is_some(),
            expression,
            unresolved: None,
            condition: options.condition.clone(),
            ignore_count: options.ignore_count,
            all_processes: options.all_processes,
        };
        if info.enabled && !locations.is_empty() {
            self.with_stopped(pid, |s| {
                for (planted, &address) in locations.iter().enumerate() {
                    if let Err(e) = s.attach_to_site(pid, address, id) {
                        // All or nothing: the locations planted so far come out again.
                        for &done in &locations[..planted] {
                            let _ = s.detach_from_site(pid, done, id);
                        }
                        return Err(e);
                    }
                }
                Ok(())
            })?;
        }
        self.take_id(id, options.hidden);
        let hidden = options.hidden;
        let callback = options.callback.map(|c| std::rc::Rc::new(std::cell::RefCell::new(c)));
        self.breakpoints.insert(id, Breakpoint { info, condition, callback, internal: None, hidden });
        Ok(id)
    }

    /// Plants one of the engine's own breakpoints (the loader's hooks, a
    /// step's stop). Their ids come from their own space, counting down from
    /// `u32::MAX` and never reused, so they can never be taken for, or
    /// overwrite, a user's breakpoint or another process's hook.
    pub(crate) fn add_internal_breakpoint(
        &mut self,
        pid: i32,
        address: u64,
        why: crate::breakpoints::Internal,
        out_of_line: bool,
    ) -> Result<u32> {
        let id = self.next_free_id(true);
        self.attach_to_site_with(pid, address, id, out_of_line)?;
        self.take_id(id, true);
        let info = BreakpointInfo {
            id,
            pid,
            kind: BreakpointKind::Software,
            address,
            locations: vec![address],
            enabled: true,
            one_shot: false,
            hits: 0,
            fast: true,
            expression: None,
            unresolved: None,
            condition: None,
            ignore_count: 0,
            all_processes: false,
        };
        self.breakpoints
            .insert(id, Breakpoint { info, condition: None, callback: None, internal: Some(why), hidden: true });
        Ok(id)
    }

    /// Removes one of the engine's own breakpoints (best effort: a process
    /// that is gone has no byte left to restore).
    pub(crate) fn remove_internal_breakpoint(&mut self, pid: i32, id: u32) {
        if let Some(b) = self.breakpoints.remove(&id) {
            if self.processes.contains_key(&pid) {
                // As for a one-shot breakpoint: a thread that already took the trap is rewound later.
                let _ = self.detach_from_site(pid, b.info.address, id);
            }
        }
    }

    /// Changes the condition of a breakpoint (`None` removes it); a
    /// condition that names something unknown is refused.
    pub fn set_breakpoint_condition(&mut self, id: u32, condition: Option<&str>) -> Result<()> {
        let bp = self.breakpoints.get(&id).filter(|b| b.internal.is_none());
        let Some(bp) = bp else {
            if self.watchpoints.contains_key(&id) {
                return Err(Error::InvalidArgument(format!("breakpoint {id} is a watchpoint: it takes no condition")));
            }
            return Err(Error::NoSuchBreakpoint(id));
        };
        let (pid, address) = (bp.info.pid, bp.info.locations.first().copied());
        let parsed = condition.map(|text| self.parse_condition_at(pid, address, text)).transpose()?;
        let bp = self.breakpoints.get_mut(&id).expect("checked above");
        bp.condition = parsed;
        bp.info.condition = condition.map(str::to_string);
        Ok(())
    }

    /// Lets the next `count` hits of a breakpoint pass.
    pub fn set_breakpoint_ignore_count(&mut self, id: u32, count: u64) -> Result<()> {
        let bp = self.breakpoints.get_mut(&id).filter(|b| b.internal.is_none()).ok_or(Error::NoSuchBreakpoint(id))?;
        bp.info.ignore_count = bp.info.hits + count;
        Ok(())
    }

    /// Removes a breakpoint or a watchpoint (a breakpoint's byte goes when
    /// no other breakpoint shares the address).
    pub fn remove_breakpoint(&mut self, id: u32) -> Result<()> {
        if self.watchpoints.contains_key(&id) {
            return self.remove_watchpoint(id);
        }
        if self.syscall_catches.contains_key(&id) {
            return self.remove_syscall_catchpoint(id);
        }
        let bp = self.breakpoints.get(&id).filter(|b| b.internal.is_none()).ok_or(Error::NoSuchBreakpoint(id))?;
        let (pid, enabled) = (bp.info.pid, bp.info.enabled && bp.info.unresolved.is_none());
        let locations = bp.info.locations.clone();
        if enabled && self.processes.contains_key(&pid) {
            self.with_stopped(pid, |s| {
                for address in locations {
                    s.detach_from_site(pid, address, id)?;
                }
                Ok(())
            })?;
        }
        self.breakpoints.remove(&id);
        Ok(())
    }

    /// Enables or disables a breakpoint or a watchpoint.
    pub fn enable_breakpoint(&mut self, id: u32, enabled: bool) -> Result<()> {
        if self.watchpoints.contains_key(&id) {
            return self.enable_watchpoint(id, enabled);
        }
        if self.syscall_catches.contains_key(&id) {
            return self.enable_syscall_catchpoint(id, enabled);
        }
        let bp = self.breakpoints.get(&id).filter(|b| b.internal.is_none()).ok_or(Error::NoSuchBreakpoint(id))?;
        if bp.info.enabled == enabled {
            return Ok(());
        }
        let (pid, locations) = (bp.info.pid, bp.info.locations.clone());
        self.with_stopped(pid, |s| {
            for address in locations {
                if enabled {
                    s.attach_to_site(pid, address, id)?;
                } else {
                    s.detach_from_site(pid, address, id)?;
                }
            }
            Ok(())
        })?;
        self.breakpoints.get_mut(&id).expect("checked above").info.enabled = enabled;
        Ok(())
    }

    /// One breakpoint or watchpoint.
    pub fn breakpoint(&self, id: u32) -> Option<BreakpointInfo> {
        if let Some(w) = self.watchpoints.get(&id) {
            return Some(w.as_breakpoint());
        }
        if let Some(c) = self.syscall_catches.get(&id) {
            return Some(c.info.clone());
        }
        self.breakpoints.get(&id).filter(|b| b.internal.is_none()).map(|b| b.info.clone())
    }

    /// The number the next breakpoint or watchpoint will get.
    pub fn next_breakpoint_id(&self) -> u32 {
        self.next_breakpoint_id
    }

    /// The id a breakpoint gets when none is asked for: the next of the
    /// user's numbers, or for a hidden one the next of the engine's own
    /// (counting down from the top).
    pub(super) fn next_free_id(&self, hidden: bool) -> u32 {
        if hidden {
            self.next_internal_id
        } else {
            self.next_breakpoint_id
        }
    }

    /// Marks `id` as given (from [`next_free_id`](Self::next_free_id), or asked for).
    pub(super) fn take_id(&mut self, id: u32, hidden: bool) {
        if hidden {
            self.next_internal_id -= 1;
        } else {
            self.next_breakpoint_id = self.next_breakpoint_id.max(id + 1);
        }
    }

    /// Takes the next breakpoint number for a breakpoint set later (one
    /// that waits for a process to start): nothing else gets it, and
    /// [`BreakpointOptions::id`] gives it to the breakpoint when it is set,
    /// so a front end's numbers are the engine's.
    ///
    /// ```
    /// let mut session = dbgkit::Session::new();
    /// let first = session.reserve_breakpoint_id();
    /// assert_eq!(session.next_breakpoint_id(), first + 1);
    /// ```
    pub fn reserve_breakpoint_id(&mut self) -> u32 {
        let id = self.next_free_id(false);
        self.take_id(id, false);
        id
    }

    /// Every breakpoint and watchpoint the user set, by id: one numbering, one list.
    pub fn breakpoints(&self) -> Vec<BreakpointInfo> {
        let mut all: Vec<BreakpointInfo> =
            self.breakpoints.values().filter(|b| !b.hidden).map(|b| b.info.clone()).collect();
        all.extend(self.watchpoints.values().map(|w| w.as_breakpoint()));
        all.extend(self.syscall_catches.values().map(|c| c.info.clone()));
        all.sort_by_key(|b| b.id);
        all
    }
}
