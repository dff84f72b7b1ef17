//! Breakpoints: the user's view (ids, hit counts, callbacks) and the sites
//! in target memory where an int3 byte is planted.
//!
//! Several breakpoints may share one site (a user breakpoint on the same
//! address as the engine's own loader breakpoint, or two user breakpoints).
//! The byte is planted once per site and never removed while the site lives:
//! the instruction under it is run out of line (see `arch::x86_64`).

pub mod hardware;
pub(crate) mod scratch;

use crate::arch::x86_64::{OutOfLine, MAX_INSTRUCTION_LEN};
use crate::session::HitContext;

/// What a fast breakpoint's callback asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HitAction {
    /// Go on without reporting an event.
    Continue,
    /// Report a `Breakpoint` event (the process stops).
    Stop,
}

/// A callback run by the engine on every hit of a fast breakpoint.
pub type HitCallback = Box<dyn FnMut(&mut HitContext<'_>) -> HitAction>;

/// A callback as the table keeps it: shared by a breakpoint's copies in
/// the children of its process (see [`BreakpointOptions::all_processes`]).
pub(crate) type SharedCallback = std::rc::Rc<std::cell::RefCell<HitCallback>>;

/// How to create a breakpoint.
///
/// ```
/// let opts = dbgkit::BreakpointOptions::default().one_shot(true);
/// ```
#[derive(Default)]
pub struct BreakpointOptions {
    pub(crate) one_shot: bool,
    pub(crate) condition: Option<String>,
    pub(crate) ignore_count: u64,
    pub(crate) callback: Option<HitCallback>,
    pub(crate) disabled: bool,
    pub(crate) id: Option<u32>,
    pub(crate) hidden: bool,
    pub(crate) all_processes: bool,
}

impl BreakpointOptions {
    /// Remove the breakpoint after its first hit.
    pub fn one_shot(mut self, on: bool) -> Self {
        self.one_shot = on;
        self
    }
    /// Give the breakpoint this number (it must be free): a front end that
    /// sets its breakpoints again in a new process (a restart) keeps their
    /// numbers. Numbers otherwise come from the engine, one counter for
    /// breakpoints and watchpoints alike.
    pub fn id(mut self, id: u32) -> Self {
        self.id = Some(id);
        self
    }
    /// A front end's own breakpoint rather than its user's (the stop of
    /// WinDbg's `g ADDR`, a remote debugger's breakpoint): numbered apart,
    /// from the top of the number space down, so it takes no number from
    /// the user's list, and left out of [`crate::Session::breakpoints`].
    /// It works as any other (hits reported as `Breakpoint` with its id,
    /// conditions, one-shot, removal).
    pub fn hidden(mut self, on: bool) -> Self {
        self.hidden = on;
        self
    }
    /// Set the breakpoint in every process the one it is set in starts
    /// from now on, when children are followed
    /// ([`crate::Session::set_follow_children`]): each child gets a copy
    /// (its own id, the same place, condition, ignore count and callback),
    /// and so do its children. Without it a breakpoint stays in its own
    /// process. A vfork child gets the copy of a breakpoint set by name
    /// once it execs (it borrows its parent's memory until then).
    pub fn all_processes(mut self, on: bool) -> Self {
        self.all_processes = on;
        self
    }
    /// Create the breakpoint disabled.
    pub fn disabled(mut self, on: bool) -> Self {
        self.disabled = on;
        self
    }
    /// Report (or call back) only when `expression` is not zero at the hit, e.g. `rdi == 0x10`.
    pub fn condition(mut self, expression: impl Into<String>) -> Self {
        self.condition = Some(expression.into());
        self
    }
    /// Let the first `count` hits pass (they are still counted).
    pub fn ignore_count(mut self, count: u64) -> Self {
        self.ignore_count = count;
        self
    }
    /// Run `callback` on each hit; the event is reported only when it returns [`HitAction::Stop`].
    pub fn callback(mut self, callback: impl FnMut(&mut HitContext<'_>) -> HitAction + 'static) -> Self {
        self.callback = Some(Box::new(callback));
        self
    }
}

/// What a breakpoint watches for. Breakpoints and watchpoints share one
/// numbering and one list ([`crate::Session::breakpoints`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BreakpointKind {
    /// An `int3` at each location (or the target's own software breakpoint).
    Software,
    /// A debug-register breakpoint on one instruction (nothing written to the code).
    Hardware,
    /// A debug-register watchpoint on `len` bytes.
    Watch { access: hardware::WatchAccess, len: u64 },
    /// A page watchpoint on `len` bytes (access rights taken from their pages).
    PageWatch { access: hardware::WatchAccess, len: u64 },
    /// A syscall catchpoint: entries to and exits from system calls
    /// (the calls it watches are named in `expression`).
    Syscall,
}

/// A breakpoint as the user sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BreakpointInfo {
    pub id: u32,
    pub pid: i32,
    pub kind: BreakpointKind,
    /// The first location (0 while pending); the watched address for a watchpoint.
    pub address: u64,
    /// Every place it is planted: one breakpoint on `openat` or on an
    /// inlined function has a location in each module or copy (gdb's 1.1,
    /// 1.2...). Empty while pending.
    pub locations: Vec<u64>,
    pub enabled: bool,
    pub one_shot: bool,
    /// Hits counted so far (every hit, by every thread, counted once).
    pub hits: u64,
    /// True for fast breakpoints (with a callback).
    pub fast: bool,
    /// The expression it was set on (`libc.so.6!socket`), when set by name.
    pub expression: Option<String>,
    /// Why it is not planted yet (the module is not loaded, the name is
    /// unknown...); `None` once planted.
    pub unresolved: Option<String>,
    /// Stop only when this expression is not zero (evaluated at each hit, in the engine).
    pub condition: Option<String>,
    /// Hits to let pass before reporting (those hits are counted).
    pub ignore_count: u64,
    /// Copied into every child of its process ([`BreakpointOptions::all_processes`]).
    pub all_processes: bool,
}

/// Why the engine itself keeps a breakpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Internal {
    /// The dynamic loader's `_dl_start_user`: the initial libraries are mapped.
    LoaderReady,
    /// `r_debug.r_brk`: the loader changed its list of objects.
    LoaderChanged,
    /// Where a step of thread `tid` waits (a return address, a function's body).
    Plan { tid: i32 },
    /// A launched program's entry point, when it is to stop there (reported as `BreakIn`).
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    Entry,
}

/// A condition, parsed when it is set: the engine's expression language
/// (registers, symbols, `poi`), or the program's own (locals in scope).
pub(crate) enum Condition {
    Engine(crate::expr::Expr),
    Source(crate::session::SourceCondition),
}

pub(crate) struct Breakpoint {
    pub info: BreakpointInfo,
    /// The parsed condition.
    pub condition: Option<Condition>,
    pub callback: Option<SharedCallback>,
    pub internal: Option<Internal>,
    /// A front end's own ([`BreakpointOptions::hidden`]): not in the user's list.
    pub hidden: bool,
}

/// One planted int3 byte.
pub(crate) struct Site {
    /// The original bytes at the address (only the first is replaced).
    pub original: [u8; MAX_INSTRUCTION_LEN],
    /// How the original instruction runs while the byte stays planted.
    pub plan: OutOfLine,
    /// Where the relocated copy lives, for `OutOfLine::Relocated`.
    pub slot: Option<u64>,
    /// The breakpoints at this address.
    pub ids: Vec<u32>,
}

impl Site {
    /// Where a thread that ran the slot's relocated instruction is, if `rip`
    /// is in this site's slot: `Some(original address)` at the slot's start
    /// (the instruction has not run yet) or the next original instruction at
    /// the jump back.
    pub(crate) fn original_pc(&self, address: u64, rip: u64) -> Option<u64> {
        let slot = self.slot?;
        if rip == slot {
            return Some(address);
        }
        let len = crate::arch::x86_64::decode(address, &self.original).map(|i| i.len() as u64)?;
        let OutOfLine::Relocated { code } = &self.plan else {
            return None;
        };
        let jump_back = crate::arch::x86_64::decode(slot, code).map(|i| slot + i.len() as u64)?;
        (rip == jump_back).then_some(address + len)
    }
}
