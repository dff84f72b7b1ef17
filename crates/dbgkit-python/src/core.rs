//! The heart of the binding: one engine session, the thread that owns it,
//! and what the binding remembers between calls (events in flight, the
//! exception a callback raised).
//!
//! # Threads
//!
//! ptrace has thread affinity: the thread that attached must make every
//! call, so `dbgkit::Session` is not `Send`. PyO3's `#[pyclass(unsendable)]`
//! would panic (or raise a `RuntimeError`) on another thread; we want a
//! `dbgkit.WrongThreadError`, a `DebugError`. So [`Core`] records its owner
//! thread and every access goes through [`Core::check_thread`] first; only
//! then is the `RefCell` touched. That is what makes the `unsafe impl Send +
//! Sync` below sound: the non-`Sync` parts are only ever used on the owner
//! thread. Dropped on another thread (the last handle released there), the
//! engine session is leaked rather than dropped (its ptrace calls would fail
//! there); the kernel detaches or kills its tracees when the owner thread ends.
//!
//! # The GIL while waiting
//!
//! `wait_event` releases the GIL (`Python::detach`) around the engine's wait.
//! PyO3 asks the closure to be `Send` because it cannot know the closure
//! stays on this thread; it does (`detach` runs it right here), so the
//! `&mut Session` goes in through [`AssertSend`]. Nothing in the engine
//! touches Python without attaching first: the breakpoint callbacks we give
//! it call `Python::attach`, and `Py` values dropped meanwhile are queued by
//! PyO3 until the GIL is back.
//!
//! # Fast breakpoint callbacks
//!
//! The engine calls a breakpoint's callback from inside `wait_event`, with a
//! `HitContext` (registers and memory of the hitting thread) while the
//! session itself is borrowed. The callback stores a pointer to the context
//! in [`Core::hit`] for the duration of the Python call, so that handles used
//! inside the callback (`event.thread.regs.rdi`, `process.read_memory`,
//! `thread.stack()`, `session.symbolize`) reach the context, and through it
//! the session, instead of the busy borrow ([`Core::engine`]). The engine
//! refuses there what would resume a thread (`Error::InsideCallback`). An exception raised by the
//! callback is kept in [`State::pending_error`], the callback answers
//! `HitAction::Stop` (the process stops at a `Breakpoint` event) and
//! `wait_event` raises the exception with that event in flight.
//!
//! # The debugger's own session
//!
//! Inside the `dbgkit` command line, `dbgkit.current_session()` is a
//! `Session` over the debugger's engine session, which the debugger owns.
//! Its core holds no session of its own ([`Engine::Lent`]): the debugger
//! lends its `&mut dbgkit::Session` for the time Python runs
//! ([`Core::lend`]), and takes it back before it touches the session again.
//! Outside a lend (while the debugger itself runs the target, for instance)
//! the only way in is a breakpoint callback's context, as for any session.

use crate::errors::{self, IntoPyResult, ProcessRunning, StateError, WrongThreadError};
use crate::event::Event;
use dbgkit::{ContinueStatus, EventKind, HitContext};
use pyo3::prelude::*;
use std::cell::{Cell, RefCell, RefMut};
use std::collections::HashMap;
use std::ptr::NonNull;
use std::sync::Arc;
use std::thread::ThreadId;
use std::time::{Duration, Instant};

/// The longest single wait when a timeout is given: signals (Ctrl-C) are
/// checked between slices, since the engine's timed wait sleeps through them.
const SLICE: Duration = Duration::from_millis(100);

/// An event reported and not yet continued.
#[derive(Clone, Copy, Debug)]
pub struct InFlight {
    pub serial: u64,
    pub tid: i32,
    pub default_status: ContinueStatus,
}

#[derive(Default)]
pub struct State {
    /// What a breakpoint callback raised, to be raised by `wait_event`.
    pub pending_error: Option<PyErr>,
    /// Per process, the event reported and not yet continued.
    pub in_flight: HashMap<i32, InFlight>,
    /// The same events (with their serials), for an `events()` loop that
    /// starts while one waits. Engine values, not Python objects: an `Event`
    /// holds the core, and the core must not hold it back.
    pub waiting: HashMap<i32, (dbgkit::Event, u64)>,
    /// The process of the last reported event.
    pub last_reported: Option<i32>,
    /// The process spawned or attached last: the default process.
    pub last_added: Option<i32>,
    pub next_serial: u64,
}

/// Where a core's engine session is.
enum Engine {
    /// A session this core made and owns (boxed: the other variants are a pointer or nothing).
    Owned(Box<dbgkit::Session>),
    /// The debugger's session: reachable only while the debugger lends it.
    Lent(Option<NonNull<dbgkit::Session>>),
    /// Closed by `Session.close()`.
    Closed,
}

pub struct Core {
    owner: ThreadId,
    /// `threading.get_ident()` of the owner thread (its `pthread_self`), for messages.
    owner_ident: u64,
    engine: RefCell<Engine>,
    /// The context of the breakpoint callback running now, if any.
    hit: Cell<Option<NonNull<HitContext<'static>>>>,
    pub state: RefCell<State>,
}

// SAFETY: every access to `engine`, `hit` and `state` is preceded by
// `check_thread`, so these non-`Sync` cells are only used on the owner
// thread; `Drop` leaks the engine session on any other thread.
unsafe impl Send for Core {}
unsafe impl Sync for Core {}

impl Drop for Core {
    fn drop(&mut self) {
        let engine = std::mem::replace(self.engine.get_mut(), Engine::Closed);
        if std::thread::current().id() != self.owner {
            // ptrace calls from here would fail: leave the targets to the kernel.
            std::mem::forget(engine);
        } else {
            let blocked = SignalsBlocked::new();
            drop(engine);
            drop(blocked);
        }
    }
}

/// Takes the lent session back when [`Core::lend`] ends, however it ends.
struct LendScope<'a>(&'a Core);

impl Drop for LendScope<'_> {
    fn drop(&mut self) {
        *self.0.engine.borrow_mut() = Engine::Lent(None);
    }
}

/// A value that crosses into `Python::detach`, which runs its closure on
/// the current thread; see the module documentation.
pub struct AssertSend<T>(T);
// SAFETY: `Python::detach` runs the closure on the calling thread.
unsafe impl<T> Send for AssertSend<T> {}
impl<T> AssertSend<T> {
    /// Taking the value through a method makes the closure capture the whole wrapper.
    fn into_inner(self) -> T {
        self.0
    }
}

/// Blocks asynchronous signals on this thread while an engine call other
/// than the top-level wait runs, and restores the mask after.
///
/// Python installs its handlers (SIGINT's among them) without `SA_RESTART`,
/// so a Ctrl-C would make a blocking system call inside the engine fail
/// with `EINTR`. Only the wait for the next event is meant to be cut short
/// that way; the engine's inner waits for one thread (a single step, an
/// injected call, killing and reaping on close) are not. Blocked, the
/// signal stays pending and its handler runs when the call returns (Python
/// raises `KeyboardInterrupt` at its next check). Faults stay unblocked;
/// launched programs start with an empty mask (the engine resets it).
pub struct SignalsBlocked(libc::sigset_t);

impl SignalsBlocked {
    pub fn new() -> SignalsBlocked {
        // SAFETY: plain signal-mask manipulation of the calling thread.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigfillset(&mut set);
            for sync in
                [libc::SIGSEGV, libc::SIGBUS, libc::SIGFPE, libc::SIGILL, libc::SIGTRAP, libc::SIGSYS, libc::SIGABRT]
            {
                libc::sigdelset(&mut set, sync);
            }
            let mut old: libc::sigset_t = std::mem::zeroed();
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut old);
            SignalsBlocked(old)
        }
    }
}

impl Drop for SignalsBlocked {
    fn drop(&mut self) {
        // SAFETY: restores the mask saved by `new`.
        unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &self.0, std::ptr::null_mut()) };
    }
}

/// The engine session for one call: the core's own (or the debugger's
/// lent one), or, inside a breakpoint callback, the one the callback's
/// context reaches.
enum EngineGuard<'a> {
    Owned(RefMut<'a, dbgkit::Session>),
    InCallback(&'a mut dbgkit::Session),
}

impl std::ops::Deref for EngineGuard<'_> {
    type Target = dbgkit::Session;
    fn deref(&self) -> &dbgkit::Session {
        match self {
            EngineGuard::Owned(session) => session,
            EngineGuard::InCallback(session) => session,
        }
    }
}

impl std::ops::DerefMut for EngineGuard<'_> {
    fn deref_mut(&mut self) -> &mut dbgkit::Session {
        match self {
            EngineGuard::Owned(session) => session,
            EngineGuard::InCallback(session) => session,
        }
    }
}

/// Clears [`Core::hit`] when the callback ends, however it ends.
pub struct HitScope<'a> {
    core: &'a Core,
    previous: Option<NonNull<HitContext<'static>>>,
}

impl Drop for HitScope<'_> {
    fn drop(&mut self) {
        self.core.hit.set(self.previous);
    }
}

/// The continue status an event gets when the user does not choose one (the engine's answer).
pub fn default_status(kind: &EventKind) -> ContinueStatus {
    kind.default_status()
}

impl Core {
    pub fn new() -> Arc<Core> {
        Core::with_engine(Engine::Owned(Box::new(dbgkit::Session::new())))
    }

    /// A core for the debugger's own session, which the debugger lends with [`Core::lend`].
    pub fn for_debugger() -> Arc<Core> {
        Core::with_engine(Engine::Lent(None))
    }

    fn with_engine(engine: Engine) -> Arc<Core> {
        Arc::new(Core {
            owner: std::thread::current().id(),
            // SAFETY: pthread_self has no preconditions.
            owner_ident: unsafe { libc::pthread_self() } as u64,
            engine: RefCell::new(engine),
            hit: Cell::new(None),
            state: RefCell::new(State::default()),
        })
    }

    /// True for the debugger's own session.
    pub fn is_debugger(&self) -> bool {
        matches!(*self.engine.borrow(), Engine::Lent(_))
    }

    /// Makes `session` this core's engine while `f` runs (the debugger's
    /// session, for the time its Python code runs). Panics if called on a
    /// core that owns a session, or inside another lend.
    pub fn lend<R>(&self, session: &mut dbgkit::Session, f: impl FnOnce() -> R) -> R {
        assert!(self.on_owner(), "a session is lent on the thread that owns it");
        {
            let mut engine = self.engine.borrow_mut();
            assert!(
                matches!(*engine, Engine::Lent(None)),
                "only the debugger's core borrows a session, once at a time"
            );
            *engine = Engine::Lent(Some(NonNull::from(session)));
        }
        // SAFETY (of the pointer's uses): `session` is borrowed mutably for
        // this whole call, so nothing else touches it; the scope puts
        // `Lent(None)` back before the borrow ends, even on a panic.
        let _scope = LendScope(self);
        f()
    }

    /// Replaces what the binding knows of events in flight with the
    /// debugger's: the events it holds, `current` the one reported last.
    pub fn adopt_events(&self, events: &[dbgkit::Event], current: Option<i32>) {
        if !self.on_owner() {
            return;
        }
        let mut state = self.state.borrow_mut();
        state.in_flight.clear();
        state.waiting.clear();
        for event in events {
            state.next_serial += 1;
            let serial = state.next_serial;
            state
                .in_flight
                .insert(event.pid, InFlight { serial, tid: event.tid, default_status: default_status(&event.kind) });
            state.waiting.insert(event.pid, (event.clone(), serial));
        }
        state.last_reported = current.filter(|p| state.waiting.contains_key(p));
    }

    /// The events waiting to be continued, and the process of the one reported last.
    pub fn events_in_flight(&self) -> (Vec<dbgkit::Event>, Option<i32>) {
        if !self.on_owner() {
            return (Vec::new(), None);
        }
        let state = self.state.borrow();
        (state.waiting.values().map(|(e, _)| e.clone()).collect(), state.last_reported)
    }

    /// What a breakpoint callback raised and nobody has seen yet.
    pub fn take_pending_error(&self) -> Option<PyErr> {
        if !self.on_owner() {
            return None;
        }
        self.state.borrow_mut().pending_error.take()
    }

    pub fn owner_ident(&self) -> u64 {
        self.owner_ident
    }

    /// True on the thread that created the session: the only one allowed
    /// to touch its cells.
    fn on_owner(&self) -> bool {
        std::thread::current().id() == self.owner
    }

    /// Fails unless called on the thread that created the session.
    pub fn check_thread(&self) -> PyResult<()> {
        if self.on_owner() {
            return Ok(());
        }
        // SAFETY: pthread_self has no preconditions.
        let here = unsafe { libc::pthread_self() } as u64;
        Err(WrongThreadError::new_err(format!(
            "this dbgkit session belongs to thread {} and was used from thread {here}: ptrace requires \
             every call from the thread that started or attached the process; use the session on its \
             own thread (send that thread work through a queue)",
            self.owner_ident
        )))
    }

    fn busy(&self) -> PyErr {
        if self.hit.get().is_some() {
            StateError::new_err(
                "inside a breakpoint callback only reading is allowed (registers, memory, symbols, \
                 stacks, expressions); return True from the callback to stop there and do the rest \
                 at the Breakpoint event",
            )
        } else {
            StateError::new_err("the session is busy (waiting for an event)")
        }
    }

    fn engine(&self) -> PyResult<EngineGuard<'_>> {
        self.check_thread()?;
        let guard = match self.engine.try_borrow_mut() {
            Ok(guard) => guard,
            Err(_) => match self.hit.get() {
                // SAFETY: as in `with_hit`: the context lives for the
                // engine's call of the running callback, on this thread,
                // and the guard is dropped before Python code runs again.
                Some(ptr) => return Ok(EngineGuard::InCallback(unsafe { &mut *ptr.as_ptr() }.session())),
                None => return Err(self.busy()),
            },
        };
        RefMut::filter_map(guard, |e| match e {
            Engine::Owned(session) => Some(&mut **session),
            // SAFETY: see `lend`: the pointer is set only while the debugger's
            // `&mut Session` is lent to this core, on this thread.
            Engine::Lent(Some(session)) => Some(unsafe { session.as_mut() }),
            Engine::Lent(None) | Engine::Closed => None,
        })
        .map_err(|guard| match &*guard {
            Engine::Lent(None) if self.hit.get().is_some() => self.busy(),
            Engine::Lent(None) => StateError::new_err(
                "the debugger's session is in use by the debugger: it can be used from Python code the \
                 debugger runs (.py, py, python, source, -x, extension commands)",
            ),
            _ => StateError::new_err("the session is closed"),
        })
        .map(EngineGuard::Owned)
    }

    /// Runs an engine call on the session.
    pub fn with<R>(&self, f: impl FnOnce(&mut dbgkit::Session) -> dbgkit::Result<R>) -> PyResult<R> {
        let mut engine = self.engine()?;
        let _blocked = SignalsBlocked::new();
        f(&mut engine).py_err()
    }

    pub fn is_closed(&self) -> PyResult<bool> {
        self.check_thread()?;
        Ok(self.engine.try_borrow().map(|e| matches!(*e, Engine::Closed)).unwrap_or(false))
    }

    /// Ends the session: launched processes are killed, attached ones detached.
    pub fn close(&self) -> PyResult<()> {
        self.check_thread()?;
        let session = {
            let mut engine = self.engine.try_borrow_mut().map_err(|_| self.busy())?;
            if matches!(*engine, Engine::Lent(_)) {
                return Err(StateError::new_err(
                    "this is the debugger's own session: end its processes with the debugger's commands \
                     (.kill, .detach, q)",
                ));
            }
            std::mem::replace(&mut *engine, Engine::Closed)
        };
        let blocked = SignalsBlocked::new();
        drop(session);
        drop(blocked);
        let mut state = self.state.borrow_mut();
        state.in_flight.clear();
        state.waiting.clear();
        state.last_reported = None;
        state.last_added = None;
        Ok(())
    }

    // ---- the callback context ------------------------------------------

    /// Makes `ctx` reachable through handles until the scope ends.
    pub fn enter_hit<'a>(&'a self, ctx: &mut HitContext<'_>) -> HitScope<'a> {
        let ptr = NonNull::from(ctx).cast::<HitContext<'static>>();
        HitScope { core: self, previous: self.hit.replace(Some(ptr)) }
    }

    /// Runs `f` on the context of the callback running now, when it is one of `pid`.
    fn with_hit<R>(&self, pid: i32, f: impl FnOnce(&mut HitContext<'static>) -> R) -> Option<R> {
        if !self.on_owner() {
            return None;
        }
        let ptr = self.hit.get()?;
        // SAFETY: `hit` is set only by `enter_hit`, on this thread (callers
        // checked it), for the duration of the engine's call of our callback
        // with this context; the callback does not use its own reference
        // while Python runs, and `f` does not call back into Python.
        let ctx = unsafe { &mut *ptr.as_ptr() };
        (ctx.pid == pid).then(|| f(ctx))
    }

    // ---- memory and registers (through the callback context when in one) --

    /// `count` 64-bit little-endian pointers at `address`.
    pub fn read_pointers(&self, pid: i32, address: u64, count: i64) -> PyResult<Vec<u64>> {
        let len = crate::values::count(count, "count")?.saturating_mul(8) as usize;
        let bytes = self.read_memory(pid, address, len)?;
        Ok(bytes.chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes"))).collect())
    }

    pub fn read_memory(&self, pid: i32, address: u64, len: usize) -> PyResult<Vec<u8>> {
        self.check_thread()?;
        // No process maps more than 128 TiB; a bigger request is a mistake, not an allocation to try.
        if len as u64 > 1 << 47 {
            return Err(crate::errors::InvalidArgument::new_err(format!(
                "cannot read {len} bytes: more than an address space holds"
            )));
        }
        let mut buf = Vec::new();
        buf.try_reserve_exact(len).map_err(|_| {
            pyo3::exceptions::PyMemoryError::new_err(format!("cannot allocate {len} bytes to read into"))
        })?;
        buf.resize(len, 0);
        match self.with_hit(pid, |ctx| ctx.read_memory(address, &mut buf)) {
            Some(result) => result.py_err()?,
            None => self.with(|s| s.read_memory(pid, address, &mut buf))?,
        }
        Ok(buf)
    }

    /// Reads what is readable from `address` on; returns how many bytes were read.
    pub fn read_memory_partial(&self, pid: i32, address: u64, buf: &mut [u8]) -> PyResult<usize> {
        self.check_thread()?;
        let in_hit = self.with_hit(pid, |ctx| {
            // The context reads whole ranges only: go a page at a time.
            let mut done = 0usize;
            while done < buf.len() {
                let at = address.wrapping_add(done as u64);
                let page_left = (0x1000 - (at & 0xfff)) as usize;
                let n = page_left.min(buf.len() - done);
                if ctx.read_memory(at, &mut buf[done..done + n]).is_err() {
                    break;
                }
                done += n;
            }
            done
        });
        match in_hit {
            Some(n) => Ok(n),
            None => self.with(|s| s.read_memory_partial(pid, address, buf)),
        }
    }

    pub fn write_memory(&self, pid: i32, address: u64, data: &[u8]) -> PyResult<()> {
        self.check_thread()?;
        match self.with_hit(pid, |ctx| ctx.write_memory(address, data)) {
            Some(result) => result.py_err(),
            None => self.with(|s| s.write_memory(pid, address, data)),
        }
    }

    pub fn registers(&self, pid: i32, tid: i32) -> PyResult<dbgkit::Registers> {
        self.check_thread()?;
        let in_hit = self.with_hit(pid, |ctx| {
            if ctx.tid == tid {
                ctx.registers().py_err()
            } else {
                Err(ProcessRunning::new_err(format!(
                    "thread {tid} is running: inside a breakpoint callback only the hitting thread \
                     ({}) is stopped",
                    ctx.tid
                )))
            }
        });
        match in_hit {
            Some(result) => result,
            None => self.with(|s| s.registers(pid, tid)),
        }
    }

    /// The process whose breakpoint callback is running, if one is.
    pub fn hit_pid(&self) -> Option<i32> {
        if !self.on_owner() {
            return None;
        }
        // SAFETY: as in `with_hit`.
        self.hit.get().map(|ptr| unsafe { ptr.as_ref() }.pid)
    }

    /// The id and hit count of the breakpoint whose callback is running, for `pid`.
    pub fn hit_breakpoint(&self, pid: i32) -> Option<(u32, u64, u64)> {
        self.with_hit(pid, |ctx| (ctx.id, ctx.address, ctx.hits))
    }

    // ---- processes -------------------------------------------------------

    /// The process meant when none is named: the one spawned or attached
    /// last while it lives, else the only one.
    pub fn default_pid(&self) -> PyResult<i32> {
        self.check_thread()?;
        if let Some(pid) = self.hit_pid() {
            return Ok(pid);
        }
        let last = self.state.borrow().last_added;
        let pids = self.with(|s| Ok(s.processes()))?;
        if let Some(pid) = last.filter(|p| pids.contains(p)) {
            return Ok(pid);
        }
        match pids.as_slice() {
            [only] => Ok(*only),
            [] => Err(StateError::new_err("no process is being debugged: spawn or attach one first")),
            _ => {
                Err(StateError::new_err(format!("several processes are debugged ({pids:?}): say which with process=")))
            }
        }
    }

    /// The thread meant when none is named in `pid`: the thread of the
    /// event in flight, else the main thread, else the first one.
    pub fn default_tid(&self, pid: i32) -> PyResult<i32> {
        self.check_thread()?;
        if let Some(f) = self.state.borrow().in_flight.get(&pid) {
            return Ok(f.tid);
        }
        if let Some(tid) = self.with_hit(pid, |ctx| ctx.tid) {
            return Ok(tid);
        }
        let threads = self.with(|s| s.threads(pid))?;
        if threads.contains(&pid) {
            return Ok(pid);
        }
        threads.first().copied().ok_or_else(|| errors::ProcessGone::new_err(format!("process {pid} has no thread")))
    }

    pub fn added(&self, pid: i32) {
        if !self.on_owner() {
            return;
        }
        self.state.borrow_mut().last_added = Some(pid);
    }

    /// Forgets what the binding knew of the event in flight for `pid`.
    pub fn forget_in_flight(&self, pid: i32) {
        if !self.on_owner() {
            return;
        }
        let mut state = self.state.borrow_mut();
        state.in_flight.remove(&pid);
        state.waiting.remove(&pid);
        if state.last_reported == Some(pid) {
            state.last_reported = None;
        }
    }

    /// The event reported last that still waits (else any waiting one), for a new `events()` loop.
    pub fn waiting_event(self: &Arc<Self>, py: Python<'_>) -> PyResult<Option<Py<Event>>> {
        self.check_thread()?;
        let found = {
            let state = self.state.borrow();
            let pid = state
                .last_reported
                .filter(|p| state.waiting.contains_key(p))
                .or_else(|| state.waiting.keys().next().copied());
            pid.and_then(|pid| state.waiting.get(&pid).cloned())
        };
        found.map(|(event, serial)| Py::new(py, Event::new(self.clone(), event, serial, None))).transpose()
    }

    /// The event in flight for `pid` (`None` off the owner thread: callers check it first).
    pub fn in_flight(&self, pid: i32) -> Option<InFlight> {
        if !self.on_owner() {
            return None;
        }
        self.state.borrow().in_flight.get(&pid).copied()
    }

    // ---- events ----------------------------------------------------------

    /// Waits for the next event with the GIL released; `None` on timeout.
    ///
    /// Ctrl-C (or any signal whose Python handler raises) during the wait
    /// stops every running process with a break-in (so the targets are left
    /// stopped, their `BreakIn` events waiting) and raises the handler's
    /// exception (`KeyboardInterrupt`).
    pub fn wait(self: &Arc<Self>, py: Python<'_>, timeout: Option<Duration>) -> PyResult<Option<Py<Event>>> {
        self.check_thread()?;
        if let Some(err) = self.state.borrow_mut().pending_error.take() {
            return Err(err);
        }
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            let slice = deadline.map(|d| d.saturating_duration_since(Instant::now()).min(SLICE));
            let result = {
                let mut engine = self.engine()?;
                let session = AssertSend(&mut *engine);
                let waited = py.detach(move || AssertSend(session.into_inner().wait_event(slice)));
                waited.into_inner()
            };
            let pending = self.state.borrow_mut().pending_error.take();
            match result {
                Ok(Some(event)) => {
                    let event = self.record(py, event)?;
                    return match pending {
                        // The callback's exception, with its event in flight (the process stopped).
                        Some(err) => Err(err),
                        None => Ok(Some(event)),
                    };
                }
                Ok(None) => {
                    if let Some(err) = pending {
                        return Err(err);
                    }
                    if let Err(err) = py.check_signals() {
                        self.stop_running();
                        return Err(err);
                    }
                    if deadline.is_some_and(|d| Instant::now() >= d) {
                        return Ok(None);
                    }
                }
                Err(e) => return Err(pending.unwrap_or_else(|| errors::to_py(e))),
            }
        }
    }

    /// Breaks into every process that is running (after an interrupted wait).
    fn stop_running(&self) {
        let _ = self.with(|s| Ok(s.break_in_all()));
    }

    /// Notes an event the engine reported (it is in flight) and wraps it.
    fn record(self: &Arc<Self>, py: Python<'_>, event: dbgkit::Event) -> PyResult<Py<Event>> {
        let serial = {
            let mut state = self.state.borrow_mut();
            state.next_serial += 1;
            let serial = state.next_serial;
            state
                .in_flight
                .insert(event.pid, InFlight { serial, tid: event.tid, default_status: default_status(&event.kind) });
            state.last_reported = Some(event.pid);
            serial
        };
        self.state.borrow_mut().waiting.insert(event.pid, (event.clone(), serial));
        Py::new(py, Event::new(self.clone(), event, serial, None))
    }

    /// The process whose event `continue_event` continues when none is named.
    pub fn continuable_pid(&self) -> PyResult<i32> {
        self.check_thread()?;
        if self.hit.get().is_some() {
            // The engine's own refusal, whatever this core knows of events.
            return Err(errors::to_py(dbgkit::Error::InsideCallback { what: "continue" }));
        }
        let state = self.state.borrow();
        if let Some(pid) = state.last_reported.filter(|p| state.in_flight.contains_key(p)) {
            return Ok(pid);
        }
        let mut waiting = state.in_flight.keys();
        match (waiting.next(), waiting.next()) {
            (Some(&pid), None) => Ok(pid),
            (None, _) => Err(StateError::new_err("no event is waiting to be continued")),
            _ => Err(StateError::new_err("several processes wait at an event: say which with process=")),
        }
    }

    /// Continues the event in flight for `pid` (with its default status when `status` is `None`).
    pub fn continue_process(&self, pid: i32, status: Option<ContinueStatus>) -> PyResult<()> {
        let status = match status {
            Some(s) => s,
            None => self.in_flight(pid).map(|f| f.default_status).unwrap_or(ContinueStatus::Handled),
        };
        let mut engine = self.engine()?;
        let blocked = SignalsBlocked::new();
        let result = engine.continue_process(pid, status);
        drop(blocked);
        match result {
            Ok(()) => {
                drop(engine);
                self.forget_in_flight(pid);
                Ok(())
            }
            // Refused: the event stays in flight.
            Err(e @ (dbgkit::Error::StatusDoesNotFit { .. } | dbgkit::Error::InsideCallback { .. })) => {
                Err(errors::to_py(e))
            }
            // The engine has no event for it (any more): neither do we.
            Err(e) => {
                drop(engine);
                self.forget_in_flight(pid);
                Err(errors::to_py(e))
            }
        }
    }

    /// Whether any process is left.
    pub fn has_processes(&self) -> PyResult<bool> {
        self.with(|s| Ok(!s.processes().is_empty()))
    }
}
