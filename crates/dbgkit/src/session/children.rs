//! Following children: a forked (or vforked, or `clone`d without
//! `CLONE_THREAD`) child becomes a process of the session, as WinDbg's
//! `.childdbg 1` and strace's `-f` do, instead of being let go.

use super::image::new_process;
use super::Session;
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
        // and stay the debugger's: listed, reused, unmapped on detach.
        process.scratch = p.scratch.clone();
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
        Ok(())
    }
}
