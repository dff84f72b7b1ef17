//! The breakpoint table: breakpoints by address and by expression
//! (pending until their module loads), conditions and ignore counts.

use super::{HitContext, Session};
use crate::breakpoints::{Breakpoint, BreakpointInfo, BreakpointOptions, HitAction};
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
        self.new_breakpoint(pid, Some(address), None, options)
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
        let address = match self.resolve_breakpoint(pid, expression) {
            Ok(address) => Some(address),
            Err(e) if is_not_yet_loaded(&e) => None,
            Err(e) => return Err(e),
        };
        let id = self.new_breakpoint(pid, address, Some(expression.to_string()), options)?;
        if address.is_none() {
            let reason = self.resolve_breakpoint(pid, expression).err().map(|e| e.to_string());
            self.breakpoints.get_mut(&id).expect("just added").info.unresolved = reason;
        }
        Ok(id)
    }

    fn new_breakpoint(
        &mut self,
        pid: i32,
        address: Option<u64>,
        expression: Option<String>,
        options: BreakpointOptions,
    ) -> Result<u32> {
        let condition = match &options.condition {
            Some(text) => {
                Some(crate::expr::parse(text).map_err(|e| Error::BadExpression { text: text.clone(), error: e })?)
            }
            None => None,
        };
        let id = self.next_breakpoint_id;
        let info = BreakpointInfo {
            id,
            pid,
            address: address.unwrap_or(0),
            enabled: !options.disabled,
            one_shot: options.one_shot,
            hits: 0,
            fast: options.callback.is_some(),
            expression,
            unresolved: None,
            condition: options.condition.clone(),
            ignore_count: options.ignore_count,
        };
        if let (true, Some(address)) = (info.enabled, address) {
            self.with_stopped(pid, |s| s.attach_to_site(pid, address, id))?;
        }
        self.next_breakpoint_id += 1;
        self.breakpoints.insert(id, Breakpoint { info, condition, callback: options.callback, internal: None });
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
        let id = self.next_internal_id;
        self.attach_to_site_with(pid, address, id, out_of_line)?;
        self.next_internal_id -= 1;
        let info = BreakpointInfo {
            id,
            pid,
            address,
            enabled: true,
            one_shot: false,
            hits: 0,
            fast: true,
            expression: None,
            unresolved: None,
            condition: None,
            ignore_count: 0,
        };
        self.breakpoints.insert(id, Breakpoint { info, condition: None, callback: None, internal: Some(why) });
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

    /// Changes the condition of a breakpoint (`None` removes it).
    pub fn set_breakpoint_condition(&mut self, id: u32, condition: Option<&str>) -> Result<()> {
        let parsed = condition
            .map(|text| crate::expr::parse(text).map_err(|e| Error::BadExpression { text: text.into(), error: e }))
            .transpose()?;
        let bp = self.breakpoints.get_mut(&id).filter(|b| b.internal.is_none()).ok_or(Error::NoSuchBreakpoint(id))?;
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

    /// Removes a breakpoint (its byte goes when no other breakpoint shares the address).
    pub fn remove_breakpoint(&mut self, id: u32) -> Result<()> {
        let bp = self.breakpoints.get(&id).filter(|b| b.internal.is_none()).ok_or(Error::NoSuchBreakpoint(id))?;
        let (pid, address, enabled) = (bp.info.pid, bp.info.address, bp.info.enabled && bp.info.unresolved.is_none());
        if enabled && self.processes.contains_key(&pid) {
            self.with_stopped(pid, |s| s.detach_from_site(pid, address, id))?;
        }
        self.breakpoints.remove(&id);
        Ok(())
    }

    /// Enables or disables a breakpoint.
    pub fn enable_breakpoint(&mut self, id: u32, enabled: bool) -> Result<()> {
        let bp = self.breakpoints.get(&id).filter(|b| b.internal.is_none()).ok_or(Error::NoSuchBreakpoint(id))?;
        if bp.info.enabled == enabled {
            return Ok(());
        }
        let (pid, address) = (bp.info.pid, bp.info.address);
        self.with_stopped(pid, |s| {
            if enabled {
                s.attach_to_site(pid, address, id)
            } else {
                s.detach_from_site(pid, address, id)
            }
        })?;
        self.breakpoints.get_mut(&id).expect("checked above").info.enabled = enabled;
        Ok(())
    }

    /// One breakpoint.
    pub fn breakpoint(&self, id: u32) -> Option<BreakpointInfo> {
        self.breakpoints.get(&id).filter(|b| b.internal.is_none()).map(|b| b.info.clone())
    }

    /// Every user breakpoint, by id.
    pub fn breakpoints(&self) -> Vec<BreakpointInfo> {
        self.breakpoints.values().filter(|b| b.internal.is_none()).map(|b| b.info.clone()).collect()
    }
}
