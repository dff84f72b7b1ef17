//! Following children: a forked (or vforked, or `clone`d without
//! `CLONE_THREAD`) child becomes a process of the session, as WinDbg's
//! `.childdbg 1` and strace's `-f` do, instead of being let go.

use super::image::new_process;
use super::Session;
use crate::breakpoints::Breakpoint;
use crate::error::Result;
use crate::event::EventKind;
use crate::process::ThreadState;
use std::collections::BTreeMap;

impl Session {
    /// Whether children of debugged processes are debugged too (default:
    /// no; a child runs undebugged, with no breakpoint in it). When they
    /// are, a child is reported with `ProcessCreated` and a `ModuleLoaded`
    /// for each module it inherited, after its parent's `Fork`; it starts
    /// with no breakpoint (breakpoints belong to the process they were set
    /// in), its `dlopen`s, `exec` and exit are reported as any process's,
    /// and it is killed with the session when its parent would be.
    ///
    /// ```no_run
    /// let mut session = dbgkit::Session::new();
    /// session.set_follow_children(true);
    /// let pid = session.spawn(&dbgkit::SpawnOptions::new(["sh", "-c", "true; true"]))?;
    /// # Ok::<(), dbgkit::Error>(())
    /// ```
    pub fn set_follow_children(&mut self, on: bool) {
        self.follow_children = on;
    }

    /// Whether children are followed (see [`set_follow_children`](Self::set_follow_children)).
    pub fn follows_children(&self) -> bool {
        self.follow_children
    }

    /// Takes a new child of `parent`, stopped at its first stop and with
    /// the parent's breakpoint bytes already taken out, into the session.
    /// A vfork child borrows its parent's memory: nothing is planted in it
    /// (its `exec` gives it its own image, hooks and all).
    pub(crate) fn adopt_child(&mut self, parent: i32, child: i32, shares_memory: bool) -> Result<()> {
        let p = self.process(parent)?;
        let target = p.control()?.open_child(child)?;
        let mut threads = BTreeMap::new();
        threads.insert(child, ThreadState::new_stopped());
        let mut process = new_process(child, p.image.clone(), p.launched, threads, target, p.source, p.auxv);
        process.kill_on_exit = p.kill_on_exit;
        process.modules = p.modules.clone();
        process.loader.r_debug = p.loader.r_debug;
        // The child's copies of the scratch pages stay mapped (a thread may
        // have forked from an out-of-line copy and has to jump back from it),
        // and stay the debugger's: listed, reused, unmapped on detach. A
        // vfork child has no copies: the pages are its parent's, which the
        // child's detach must not unmap.
        if shares_memory {
            process.borrows_memory_of = Some(parent);
        } else {
            process.scratch = p.scratch.clone();
        }
        let entry = p.auxv.entry;
        let modules = process.modules.clone();
        self.processes.insert(child, process);
        self.owner.insert(child, child);
        let Some(exe) = modules.first() else { return Ok(()) };
        self.queue_event(
            child,
            child,
            EventKind::ProcessCreated { image: exe.path.clone(), base: exe.base, size: exe.size, entry },
        );
        for module in modules.iter().skip(1) {
            self.queue_event(child, child, EventKind::ModuleLoaded(module.clone()));
        }
        if !shares_memory {
            self.plant_loader_changed(child)?;
        }
        self.copy_breakpoints_into_child(parent, child, shares_memory)
    }

    /// Gives a new child a copy of each of its parent's breakpoints set
    /// for all processes. In a vfork child, which borrows its parent's
    /// memory, a breakpoint set by name waits for the exec that gives the
    /// child its own image; one set on an address is not copied (the
    /// address means nothing after the exec).
    fn copy_breakpoints_into_child(&mut self, parent: i32, child: i32, shares_memory: bool) -> Result<()> {
        let inherited: Vec<u32> = self
            .breakpoints
            .iter()
            .filter(|(_, b)| b.info.pid == parent && b.info.all_processes && b.internal.is_none())
            .map(|(&id, _)| id)
            .collect();
        for id in inherited {
            let b = &self.breakpoints[&id];
            let (mut info, callback, hidden) = (b.info.clone(), b.callback.clone(), b.hidden);
            if shares_memory && info.expression.is_none() {
                continue;
            }
            let pending = shares_memory || info.unresolved.is_some();
            let condition = match &info.condition {
                Some(text) => {
                    let at = (!pending).then_some(info.address);
                    match self.parse_condition_at(child, at, text) {
                        Ok(c) => Some(c),
                        // It named something the parent had in scope: the child has the same code.
                        Err(_) => continue,
                    }
                }
                None => None,
            };
            let new_id = self.next_free_id(hidden);
            info.id = new_id;
            info.pid = child;
            info.hits = 0;
            if shares_memory {
                info.locations.clear();
                info.address = 0;
                info.unresolved = Some("set when the vfork child executes its own program".into());
            }
            if info.enabled && !pending {
                for &address in &info.locations {
                    self.attach_to_site(child, address, new_id)?;
                }
            }
            self.take_id(new_id, hidden);
            self.breakpoints.insert(new_id, Breakpoint { info, condition, callback, internal: None, hidden });
        }
        Ok(())
    }
}
