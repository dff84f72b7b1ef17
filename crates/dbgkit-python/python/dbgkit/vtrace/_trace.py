"""``vtrace.Trace`` over a dbgkit session.

The trace keeps vtrace's state (modes, metadata, notifiers, breakpoint
objects, the current thread) and its event loop (``run``, ``wait``,
``shouldRunAgain``, ``runAgain``); the engine does the debugging. Every
method that touches the process runs on the trace's tracer thread
(``_host.TracerHost``)."""

import functools
import logging
import os
import platform
import re
import shlex
import struct
import traceback

from .. import _dbgkit as _dk
from . import const as c
from ._expression import FileSymbol, Symbol, VtraceExpressionLocals, normalize_library_name
from .breakpoints import Breakpoint, StopAndRemoveBreak
from .notifiers import LibraryNotifier, Notifier
from .watchpoints import Watchpoint

logger = logging.getLogger("dbgkit.vtrace")


class PlatformException(Exception):
    """A failure of the debugger underneath (vtrace's name for it)."""


class AccessViolation(Exception):
    """A bad memory access."""

    def __init__(self, va, perm=0):
        self.va = va
        self.perm = perm
        Exception.__init__(self, "AccessViolation at 0x%.8x (%d)" % (va, perm))


def _on_tracer_thread(method):
    """Runs the method on the trace's tracer thread."""

    @functools.wraps(method)
    def proxy(self, *args, **kwargs):
        return self._host.call(method, self, *args, **kwargs)

    return proxy


class Trace(Notifier):
    """A traced process, with vtrace's API. Make one with ``vtrace.getTrace()``."""

    def __init__(self, host=None):
        from ._host import TracerHost

        Notifier.__init__(self)
        self._host = host if host is not None else TracerHost()
        self._owns_host = host is None
        self._released = False
        self.modes = {}
        self.modedocs = {}
        self.notifiers = {}
        self.metadata = {}
        self.localvars = {}
        self.initMode("RunForever", False, "Run until RunForever = False")
        self.initMode("NonBlocking", False, "run() returns at once; events are handled on the tracer thread")
        self.initMode("ThreadProxy", True, "Every request runs on the trace's own thread (always on)")
        self.initMode("SingleStep", False, "run() steps; with RunForever it steps until the process ends")
        self.initMode("FastStep", False, "stepi() fires no NOTIFY_STEP")
        self.initMode("FastBreak", False, "Every breakpoint is a fastbreak: notify() runs and the trace goes on")
        self.auto_continue = [
            c.NOTIFY_LOAD_LIBRARY,
            c.NOTIFY_CREATE_THREAD,
            c.NOTIFY_UNLOAD_LIBRARY,
            c.NOTIFY_EXIT_THREAD,
            c.NOTIFY_DEBUG_PRINT,
        ]
        self.registerNotifier(c.NOTIFY_LOAD_LIBRARY, LibraryNotifier())
        self._resetState()
        self.setMeta("Architecture", "amd64")
        self.setMeta("Platform", platform.system().lower())
        self.setMeta("Release", platform.release().lower())

    def _resetState(self):
        self.pid = 0
        self.attached = False
        self.running = False
        self.exited = False
        self.runagain = False
        self._background = False
        self.breakpoints = {}  # address -> Breakpoint
        self.bpbyid = {}
        self.bpid = 0
        self.deferred = []
        self.curbp = None
        self._event = None  # the dbgkit event the process is stopped at
        self._by_handle = {}  # engine breakpoint/watchpoint id -> Breakpoint
        self._libraries = {}  # normalized name -> (path, base, size)
        self._join_thread = None
        self.setMeta("PendingSignal", None)
        self.setMeta("SignalInfo", None)
        self.setMeta("IgnoredSignals", [])
        self.setMeta("LibraryBases", {})
        self.setMeta("LibraryPaths", {})
        self.setMeta("ThreadId", 0)
        self.setMeta("ShouldBreak", False)

    # ---- modes, metadata, variables, notifiers (plain state) ------------------

    def initMode(self, name, value, descr):
        self.modes[name] = bool(value)
        self.modedocs[name] = descr

    def getMode(self, name, default=False):
        return self.modes.get(name, default)

    def setMode(self, name, value):
        """Sets a mode: RunForever, NonBlocking, SingleStep, FastStep, FastBreak."""
        if name not in self.modes:
            raise Exception("Mode %s not supported on this platform" % name)
        self.modes[name] = bool(value)

    def getModeNames(self):
        return list(self.modes.keys())

    def setMeta(self, name, value):
        self.metadata[name] = value

    def getMeta(self, name, default=None):
        """Metadata (ExitCode, ThreadId, PendingSignal, ExeName, LibraryBases, ...);
        a default given for a missing key is stored."""
        if default is not None and name not in self.metadata:
            self.metadata[name] = default
        return self.metadata.get(name, None)

    def hasMeta(self, name):
        return name in self.metadata

    def setVariable(self, name, value):
        self.localvars[name] = value

    def getVariable(self, name):
        return self.localvars.get(name)

    def getVariables(self):
        return dict(self.localvars)

    def registerNotifier(self, event, notifier):
        self.notifiers.setdefault(event, []).append(notifier)

    def deregisterNotifier(self, event, notifier):
        nlist = self.notifiers.get(event, [])
        if notifier in nlist:
            nlist.remove(notifier)

    def getNotifiers(self, event):
        return self.notifiers.get(event, [])

    def enableAutoContinue(self, event):
        if event not in self.auto_continue:
            self.auto_continue.append(event)

    def disableAutoContinue(self, event):
        if event in self.auto_continue:
            self.auto_continue.remove(event)

    def getAutoContinueList(self):
        return list(self.auto_continue)

    def setBreakOnLibraryLoad(self, setting=True):
        self.setMeta("BreakOnLibraryLoad", setting)

    def addIgnoreSignal(self, code, address=0):
        """Signals reported without stopping (they are still delivered)."""
        self.getMeta("IgnoredSignals").append(code)

    def delIgnoreSignal(self, code, address=0):
        self.getMeta("IgnoredSignals").remove(code)

    def runAgain(self, val=True):
        """From a notifier or breakpoint: go on once the event is handled."""
        self.runagain = val

    def shouldRunAgain(self):
        if not self.attached or self.exited:
            return False
        return bool(self.getMode("RunForever") or self.runagain)

    # ---- state checks ---------------------------------------------------------

    def getPid(self):
        return self.pid

    def isAttached(self):
        return self.attached

    def isRunning(self):
        return self.running

    def hasExited(self):
        return self.exited

    def isRemote(self):
        return False

    def requireAttached(self):
        if not self.attached:
            raise Exception("ERROR - attach to a process first")

    def requireNotRunning(self):
        self.requireAttached()
        if self.isRunning():
            raise Exception('ERROR - trace is running; use "break" before running the specified command')

    def requireNotExited(self):
        if self.exited:
            raise Exception("ERROR - Request invalid for trace which exited")

    def _process(self):
        return self._host.session.process(self.pid)

    def _thread(self, tid=None):
        tid = self.getMeta("ThreadId") if tid is None else tid
        return self._process().thread(tid)

    # ---- starting and ending ------------------------------------------------

    @_on_tracer_thread
    def execute(self, cmdline):
        """Starts a program (a command line, split like a shell's) under the
        trace; returns with it stopped before its first instruction."""
        if self.isAttached():
            raise Exception("ERROR - Tracer must first be detached before you can execute()")
        argv = shlex.split(cmdline) if isinstance(cmdline, str) else list(cmdline)
        try:
            proc = self._host.session.spawn(argv)
        except _dk.DebugError as e:
            raise PlatformException(str(e)) from e
        self._justAttached(proc.pid)
        self.setMeta("ExecCommand", cmdline)
        self._waitForStop()

    @_on_tracer_thread
    def attach(self, pid):
        """Attaches to a running process; returns with it stopped."""
        if self.isAttached():
            self.detach()
        try:
            self._host.session.attach(pid)
        except _dk.DebugError as e:
            raise PlatformException(str(e)) from e
        self._justAttached(pid)
        self._waitForStop()

    def _justAttached(self, pid):
        self._resetState()
        self.pid = pid
        self.attached = True
        self.running = True  # until its first event is handled
        self.setMeta("ExitCode", 0)
        self._host.traces[pid] = self

    def _waitForStop(self):
        self._host.wait_until_stopped(self)

    @_on_tracer_thread
    def detach(self):
        """Detaches: the breakpoints go and the process runs on undebugged."""
        self.requireNotRunning()
        self.fireNotifiers(c.NOTIFY_DETACH)
        try:
            self._host.session.detach(self.pid)
        except _dk.ProcessGone:
            pass
        self._host.traces.pop(self.pid, None)
        self.attached = False
        self.pid = 0
        self._event = None

    @_on_tracer_thread
    def kill(self):
        """Kills the process; NOTIFY_EXIT follows."""
        self.requireAttached()
        self.requireNotExited()
        self._host.session.kill(self.pid)
        self._event = None
        self.running = True
        self.setMode("RunForever", False)
        self.runagain = False
        self._host.wait_until_stopped(self)

    def release(self):
        """Done with the trace: detaches if attached and ends its tracer thread."""
        if self._released:
            return
        self._released = True
        if self.attached and not self.exited:
            try:
                if self.running:
                    self.sendBreak()
                self.detach()
            except Exception as e:  # the process may be gone meanwhile
                logger.debug("release: %s", e)
        if self._owns_host:
            self._host.stop()

    def buildNewTrace(self):
        return self.__class__()

    def _lost(self):
        """The process vanished without an exit event (the session has none left)."""
        if self.attached and not self.exited:
            self.exited = True
            self.attached = False
        self.running = False
        self._background = False

    # ---- running ---------------------------------------------------------------

    @_on_tracer_thread
    def run(self, until=None):
        """Lets the process run until an event stops it (with RunForever:
        until it exits or a notifier turns RunForever off). In NonBlocking
        mode it returns at once and events are handled on the tracer
        thread. ``until``: run to that address (a one-time breakpoint)."""
        self.requireAttached()
        self.requireNotRunning()
        self.requireNotExited()
        if self.getMode("SingleStep", False):
            self._steploop()
            return
        if until is not None:
            self.setMode("RunForever", True)
            self.addBreakpoint(StopAndRemoveBreak(until))
        self._doRun()
        self.wait()

    def wait(self):
        """Waits for the running process to stop (NonBlocking mode: returns
        at once, events are handled on the tracer thread)."""
        if self.getMode("NonBlocking"):
            self._background = True
            return
        self._host.call(self._waitForStop)

    def _doRun(self):
        fastbreak = self.curbp.fastbreak if self.curbp is not None else False
        if not fastbreak:
            self.fireNotifiers(c.NOTIFY_CONTINUE)
        self.curbp = None
        self._resolveDeferred()
        self.runagain = False
        event, self._event = self._event, None
        if event is not None and event.waiting:
            status = "handled"
            if event.kind == "exception" and self.getMeta("PendingSignal") is not None:
                status = "not_handled"
            event.continue_event(status)
        self.running = True
        self.setMeta("PendingSignal", None)

    def _steploop(self):
        while True:
            self.stepi()
            if not self.shouldRunAgain():
                break

    @_on_tracer_thread
    def stepi(self):
        """Steps the current thread one instruction (NOTIFY_STEP unless FastStep)."""
        self.requireNotRunning()
        self.curbp = None
        self._event = None
        self._thread().step_into()
        self.running = True
        self._host.wait_until_stopped(self)

    @_on_tracer_thread
    def sendBreak(self):
        """Stops the running process (NOTIFY_BREAK); RunForever is turned off."""
        self.requireAttached()
        self.setMode("RunForever", False)
        self.runagain = False
        if not self.running:
            return
        self.setMeta("ShouldBreak", True)
        try:
            self._host.session.break_in(self.pid)
        except _dk.ProcessGone:
            pass
        self._background = False
        self._host.wait_until_stopped(self)

    def joinThread(self, threadid):
        """Runs until thread ``threadid`` exits."""
        self.setMode("RunForever", True)
        self._join_thread = threadid
        nonblocking = self.getMode("NonBlocking")
        self.setMode("NonBlocking", False)
        try:
            self.run()
        finally:
            self.setMode("NonBlocking", nonblocking)

    # ---- events ----------------------------------------------------------------

    def fireNotifiers(self, event):
        """Tells the trace itself, then the NOTIFY_ALL notifiers, then the
        event's own. A notifier that raises is logged, not fatal."""
        if event == c.NOTIFY_SIGNAL:
            if self.getCurrentSignal() in self.getMeta("IgnoredSignals", []):
                self.runAgain()
                return
        self.notify(event, self)
        for notifier in list(self.getNotifiers(c.NOTIFY_ALL)) + list(self.getNotifiers(event)):
            try:
                notifier.handleEvent(event, self)
            except Exception:
                logger.error("Notifier exception for %r", notifier)
                logger.error(traceback.format_exc())

    def notify(self, event, trace):
        """The trace's own bookkeeping at each event."""
        if event in self.auto_continue:
            self.runAgain()
        if event == c.NOTIFY_EXIT_THREAD:
            if self.getMeta("ExitThread") == self._join_thread and self._join_thread is not None:
                self._join_thread = None
                self.setMode("RunForever", False)
                self.runAgain(False)
        elif event == c.NOTIFY_EXIT:
            self.setMode("RunForever", False)
            self.exited = True
            self.attached = False

    def _handleEvent(self, event):
        """Turns a dbgkit event into vtrace's metadata and notifications."""
        self.running = False
        self._event = event
        kind = event.kind
        if kind not in ("process-exited", "thread-exited"):
            self.setMeta("ThreadId", event.tid)
        if kind == "process-created":
            self.setMeta("ExeName", event.image)
            self.fireNotifiers(c.NOTIFY_ATTACH)
        elif kind == "process-exited":
            code = event.exit_code
            if code is None and event.signal is not None:
                code = 128 + event.signal
            self.setMeta("ExitCode", code)
            self.setMeta("ExitSignal", event.signal)
            self._event = None
            event.continue_event()
            self.fireNotifiers(c.NOTIFY_EXIT)
            self.exited = True
            self.attached = False
        elif kind == "thread-created":
            self.fireNotifiers(c.NOTIFY_CREATE_THREAD)
        elif kind == "thread-exited":
            self.setMeta("ExitThread", event.tid)
            self.setMeta("ExitCode", event.exit_code)
            self.setMeta("ThreadId", self.pid)
            self.fireNotifiers(c.NOTIFY_EXIT_THREAD)
        elif kind == "module-loaded":
            norm = self._addLibrary(event.module.path, event.module.base, event.module.size)
            self.setMeta("LatestLibrary", event.module.path)
            self.setMeta("LatestLibraryNorm", norm)
            self.fireNotifiers(c.NOTIFY_LOAD_LIBRARY)
        elif kind == "module-unloaded":
            self._dropLibrary(event.module.path)
            self.fireNotifiers(c.NOTIFY_UNLOAD_LIBRARY)
        elif kind == "exception":
            self.setMeta("PendingSignal", event.signal)
            self.setMeta("SignalInfo", (event.signal, event.code, event.fault_address))
            self.fireNotifiers(c.NOTIFY_SIGNAL)
        elif kind in ("breakpoint", "watchpoint"):
            handle = event.breakpoint if kind == "breakpoint" else event.watchpoint
            bp = self._by_handle.get(handle.id)
            if bp is None:
                self.runAgain()  # not one of ours
            else:
                self._fireBreakpoint(bp)
        elif kind == "break-in":
            self.setMeta("ShouldBreak", False)
            self.fireNotifiers(c.NOTIFY_BREAK)
        elif kind == "step-complete":
            if not self.getMode("FastStep", False):
                self.fireNotifiers(c.NOTIFY_STEP)
        elif kind == "exec":
            self.setMeta("ExeName", event.image)
            self._libraries.clear()
            self.getMeta("LibraryBases").clear()
            self.getMeta("LibraryPaths").clear()
            self.runAgain()
        else:  # fork and whatever else: nothing vtrace reports
            self.runAgain()

    def _fireBreakpoint(self, bp):
        self.curbp = bp
        try:
            bp.notify(c.NOTIFY_BREAK, self)
        except Exception as e:
            logger.error("Breakpoint Exception 0x%.8x : %s", bp.address or 0, e)
            logger.error(traceback.format_exc())
        if bp.stealthbreak:
            return
        fast = bp.fastbreak or self.getMode("FastBreak", False)
        if not fast:
            self.fireNotifiers(c.NOTIFY_BREAK)
        else:
            self.runagain = True

    # ---- breakpoints --------------------------------------------------------------

    def nextBpId(self):
        bpid = self.bpid
        self.bpid += 1
        return bpid

    @_on_tracer_thread
    def addBreakpoint(self, breakpoint):
        """Adds a Breakpoint (or Watchpoint) object; returns its id. One
        whose expression cannot be resolved yet is deferred until it can
        (a library loads)."""
        breakpoint.inittrace(self)
        breakpoint.id = self.nextBpId()
        addr = breakpoint.resolveAddress(self) if self.attached else breakpoint.address
        if addr is None:
            self.bpbyid[breakpoint.id] = breakpoint
            self.deferred.append(breakpoint)
            return breakpoint.id
        if addr in self.breakpoints:
            raise Exception("ERROR: Duplicate break for address 0x%.8x" % addr)
        self.bpbyid[breakpoint.id] = breakpoint
        self.breakpoints[addr] = breakpoint
        if self.attached and breakpoint.isEnabled():
            breakpoint.activate(self)
        return breakpoint.id

    def addBreakByAddr(self, va, fastbreak=False):
        """A breakpoint at an address; returns its id."""
        bp = Breakpoint(va)
        bp.fastbreak = fastbreak
        return self.addBreakpoint(bp)

    def addBreakByExpr(self, symname, fastbreak=False):
        """A breakpoint at an expression (``"libc.malloc"``); deferred until
        it resolves. Returns its id."""
        bp = Breakpoint(None, expression=symname)
        bp.fastbreak = fastbreak
        return self.addBreakpoint(bp)

    def addWatchpoint(self, address, size=4, perms="rw"):
        """A hardware watchpoint; returns its id."""
        return self.addBreakpoint(Watchpoint(address, size=size, perms=perms))

    @_on_tracer_thread
    def removeBreakpoint(self, id):
        self.requireAttached()
        bp = self.bpbyid.pop(id, None)
        if bp is not None:
            bp.deactivate(self)
            if bp in self.deferred:
                self.deferred.remove(bp)
            else:
                self.breakpoints.pop(bp.address, None)
            if self.curbp is bp:
                self.curbp = None
        Breakpoint.bpcodeobj.pop(id, None)

    def getBreakpoint(self, id):
        return self.bpbyid.get(id)

    def getBreakpoints(self):
        return list(self.bpbyid.values())

    def getBreakpointByAddr(self, va):
        return self.breakpoints.get(va)

    def getCurrentBreakpoint(self):
        return self.curbp

    def _breakpoint(self, bpid):
        bp = self.getBreakpoint(bpid)
        if bp is None:
            raise Exception("Breakpoint %d Not Found" % bpid)
        return bp

    def getBreakpointEnabled(self, bpid):
        return self._breakpoint(bpid).isEnabled()

    @_on_tracer_thread
    def setBreakpointEnabled(self, bpid, enabled=True):
        bp = self._breakpoint(bpid)
        bp.setEnabled(enabled)
        if enabled and self.attached and bp.address is not None and not bp.active:
            bp.activate(self)

    def setBreakpointCode(self, bpid, pystr):
        """Python code run at each hit of breakpoint ``bpid`` (``trace``,
        ``bp``, ``vtrace`` and registers in its namespace)."""
        self._breakpoint(bpid).setBreakpointCode(pystr)

    def getBreakpointCode(self, bpid):
        bp = self.getBreakpoint(bpid)
        return bp.getBreakpointCode() if bp is not None else None

    def _resolveDeferred(self):
        for bp in list(self.deferred):
            addr = bp.resolveAddress(self)
            if addr is None:
                continue
            self.deferred.remove(bp)
            if addr in self.breakpoints:
                logger.warning("deferred breakpoint %r resolves where another one is", bp)
                continue
            self.breakpoints[addr] = bp
            if bp.isEnabled():
                bp.activate(self)

    def _plantBreakpoint(self, bp):
        proc = self._process()
        if isinstance(bp, Watchpoint):
            handle = bp._plant(proc)
        else:
            handle = proc.add_breakpoint(bp.address, enabled=bool(bp.enabled))
        bp._handle = handle
        self._by_handle[handle.id] = bp

    def _unplantBreakpoint(self, bp):
        handle, bp._handle = bp._handle, None
        if handle is None:
            return
        self._by_handle.pop(handle.id, None)
        try:
            handle.remove()
        except _dk.DebugError as e:  # the process may be gone
            logger.debug("removing %r: %s", bp, e)

    # ---- signals ---------------------------------------------------------------------

    def getCurrentSignal(self):
        """The signal the process stopped with (delivered on the next run), or None."""
        return self.getMeta("PendingSignal")

    def setCurrentSignal(self, sig=None):
        """Changes the signal delivered on the next run (None: none).
        dbgkit delivers the signal the process stopped with or nothing;
        another number is refused."""
        if sig is not None and self._event is not None and self._event.kind == "exception":
            if sig != self._event.signal:
                raise PlatformException("only the pending signal (%d) can be delivered" % self._event.signal)
        self.setMeta("PendingSignal", sig)

    def getMemoryFault(self):
        """``(address, perm)`` of the last memory fault, else ``(None, None)``."""
        info = self.getMeta("SignalInfo")
        if info and info[2] is not None:
            return info[2], c.MM_READ
        return None, None

    # ---- registers -----------------------------------------------------------------

    @_on_tracer_thread
    def getRegisters(self):
        """The current thread's general registers as a dict."""
        self.requireNotRunning()
        return dict(self._thread().regs.as_dict())

    @_on_tracer_thread
    def setRegisters(self, regs):
        """Writes the registers of a dict (names that are not registers are ignored)."""
        self.requireNotRunning()
        t = self._thread()
        known = {k: v for k, v in regs.items() if k in t.regs}
        t.regs.update(known)

    @_on_tracer_thread
    def getRegisterByName(self, name):
        self.requireNotRunning()
        try:
            return self._thread().regs[name]
        except KeyError:
            raise Exception("Unknown register: %s" % name) from None

    @_on_tracer_thread
    def setRegisterByName(self, name, value):
        self.requireNotRunning()
        self._thread().regs[name] = value

    def _registerOrNone(self, name):
        if not isinstance(name, str) or name not in self._thread().regs:
            return None
        return self._thread().regs[name]

    def getRegisterNames(self):
        return self._host.call(lambda: list(self._thread().regs.keys()))

    def getProgramCounter(self):
        return self.getRegisterByName("rip")

    def setProgramCounter(self, va):
        self.setRegisterByName("rip", va)

    def getStackCounter(self):
        return self.getRegisterByName("rsp")

    def setStackCounter(self, va):
        self.setRegisterByName("rsp", va)

    def getRegisterContext(self, threadid=None):
        """A thread's registers as a dict."""
        tid = self.getMeta("ThreadId") if threadid is None else threadid
        return self._host.call(lambda: dict(self._thread(tid).regs.as_dict()))

    # ---- threads -------------------------------------------------------------------

    @_on_tracer_thread
    def getThreads(self):
        """``{tid: tid}`` for every thread (vtrace's Linux tinfo is the id)."""
        self.requireAttached()
        return {t.tid: t.tid for t in self._process().threads}

    def getCurrentThread(self):
        return self.getMeta("ThreadId")

    def selectThread(self, threadid):
        """Makes ``threadid`` the thread whose registers and stack are meant."""
        if threadid not in self.getThreads():
            raise Exception("ERROR: Invalid threadid chosen: %d" % threadid)
        self.requireNotRunning()
        self.setMeta("ThreadId", threadid)

    @_on_tracer_thread
    def getStackTrace(self):
        """``[(pc, frame pointer), ...]`` of the current thread, innermost first."""
        self.requireNotRunning()
        frames = []
        for frame in self._thread().stack():
            regs = dict(frame.registers)
            frames.append((frame.pc, regs.get("rbp", frame.sp)))
        return frames

    # ---- memory --------------------------------------------------------------------

    @_on_tracer_thread
    def readMemory(self, address, size):
        """Bytes at ``address``; unmapped parts read as zeros (vtrace's rule)."""
        self.requireNotRunning()
        proc = self._process()
        try:
            return proc.read_memory(int(address), int(size))
        except _dk.MemoryError:
            out = bytearray()
            va, end = int(address), int(address) + int(size)
            while va < end:
                n = min(end, (va | 0xFFF) + 1) - va
                try:
                    out += proc.read_memory(va, n)
                except _dk.MemoryError:
                    out += b"\0" * n
                va += n
            return bytes(out)

    @_on_tracer_thread
    def writeMemory(self, address, bytez):
        self.requireNotRunning()
        if isinstance(bytez, str):
            bytez = bytez.encode("latin-1")
        self._process().write_memory(int(address), bytes(bytez))

    def readMemoryFormat(self, va, fmt):
        """``struct.unpack(fmt, memory)``: a tuple."""
        return struct.unpack(fmt, self.readMemory(va, struct.calcsize(fmt)))

    def writeMemoryFormat(self, va, fmt, *args):
        self.writeMemory(va, struct.pack(fmt, *args))

    def readMemValue(self, va, size):
        return int.from_bytes(self.readMemory(va, size), "little")

    def writeMemValue(self, va, value, size):
        self.writeMemory(va, (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little"))

    def readMemoryPtr(self, va):
        return self.readMemValue(va, 8)

    def getPointerSize(self):
        return 8

    @_on_tracer_thread
    def getMemoryMaps(self):
        """``[(va, size, perms, filename), ...]`` with ``MM_*`` permissions."""
        self.requireNotRunning()
        maps = []
        for r in self._process().memory_map():
            perms = (
                (c.MM_READ if r.readable else 0)
                | (c.MM_WRITE if r.writable else 0)
                | (c.MM_EXEC if r.executable else 0)
                | (c.MM_SHARED if r.shared else 0)
            )
            maps.append((r.start, r.size, perms, r.path))
        return maps

    def getMemoryMap(self, va):
        """The map holding ``va``, or None."""
        for m in self.getMemoryMaps():
            if m[0] <= va < m[0] + m[1]:
                return m
        return None

    def isValidPointer(self, va):
        return self.getMemoryMap(va) is not None

    def probeMemory(self, va, size, perm):
        m = self.getMemoryMap(va)
        return m is not None and va + size <= m[0] + m[1] and (m[2] & perm) == perm

    @_on_tracer_thread
    def searchMemory(self, needle, regex=False):
        """Every address where ``needle`` occurs (a regular expression over
        bytes with ``regex=True``)."""
        self.requireNotRunning()
        if isinstance(needle, str):
            needle = needle.encode("latin-1")
        if not regex:
            found = self._process().search_memory(needle)
        else:
            found = []
            for va, size, perms, _ in self.getMemoryMaps():
                if perms & c.MM_READ:
                    found.extend(self._searchRange(needle, va, size))
        self.setMeta("search", found)
        self.setVariable("search", found)
        return found

    def _searchRange(self, needle, va, size):
        data = self.readMemory(va, size)
        return [va + m.start() for m in re.finditer(needle, data, re.DOTALL)]

    @_on_tracer_thread
    def searchMemoryRange(self, needle, address, size, regex=False):
        self.requireNotRunning()
        if isinstance(needle, str):
            needle = needle.encode("latin-1")
        if regex:
            found = self._searchRange(needle, address, size)
        else:
            found = self._process().search_memory(needle, address, address + size)
        self.setMeta("search", found)
        self.setVariable("search", found)
        return found

    @_on_tracer_thread
    def allocateMemory(self, size, perms=c.MM_RWX, suggestaddr=0):
        """Maps new memory in the process (``MM_*`` perms; the address is a
        suggestion); returns its address."""
        self.requireNotRunning()
        return self._process().allocate_memory(size, c.perms_string(perms) or "-", suggestaddr or None)

    @_on_tracer_thread
    def protectMemory(self, va, size, perms):
        """Changes the protection of memory (``MM_*`` perms)."""
        self.requireNotRunning()
        self._process().protect_memory(va, size, c.perms_string(perms) or "-")

    # ---- symbols and expressions ------------------------------------------------------

    def _addLibrary(self, path, base, size):
        norm = normalize_library_name(path)
        for known, (kpath, kbase, _) in self._libraries.items():
            if kpath == path and kbase == base:
                return known
        if norm in self._libraries:
            norm = "%s_%.8x" % (norm, base)
        self._libraries[norm] = (path, base, size)
        self.getMeta("LibraryBases")[norm] = base
        self.getMeta("LibraryPaths")[base] = path
        return norm

    def _dropLibrary(self, path):
        for norm, (kpath, base, _) in list(self._libraries.items()):
            if kpath == path:
                del self._libraries[norm]
                self.getMeta("LibraryBases").pop(norm, None)
                self.getMeta("LibraryPaths").pop(base, None)

    def _syncLibraries(self):
        """Names the modules the engine knows and no event announced yet
        (those of a process stopped at its first event)."""
        for m in self._process().modules:
            self._addLibrary(m.path, m.base, m.size)

    def _lookupInLibrary(self, path, name):
        try:
            return self._host.call(lambda: self._process().lookup("%s!%s" % (path, name)))
        except _dk.DebugError:
            return None

    def _symbolsOfLibrary(self, norm):
        def collect():
            entry = self._libraries.get(norm)
            if entry is None:
                return None
            return [
                Symbol(s.name, s.address, s.size, norm) for s in self._process().search_symbols("", entry[0])
            ]

        syms = self._host.call(collect)
        if syms is None:
            raise Exception("Invalid Library Name: %s" % norm)
        return syms

    @_on_tracer_thread
    def getNormalizedLibNames(self):
        """The normalized names of the loaded libraries (``libc``, ``ld``, ...)."""
        if self.attached:
            self._syncLibraries()
        return list(self._libraries.keys())

    def getSymsForFile(self, libname):
        return self._symbolsOfLibrary(libname)

    @_on_tracer_thread
    def getSymByName(self, name):
        """A symbol: ``libc`` (the library), ``libc.malloc``, or a bare name
        (the executable first); None when there is none."""
        if not self.attached:
            return None
        self._syncLibraries()
        entry = self._libraries.get(name)
        if entry is not None:
            return FileSymbol(name, entry[1], entry[2], self, entry[0])
        lib, dot, sym = name.partition(".")
        if dot and lib in self._libraries:
            value = self._lookupInLibrary(self._libraries[lib][0], sym)
            return None if value is None else Symbol(sym, value, 0, lib)
        try:
            value = self._process().lookup(name)
        except _dk.DebugError:
            return None
        found = self._process().symbolize(value)
        fname = normalize_library_name(found.module) if found.module else None
        return Symbol(name, value, 0, fname)

    @_on_tracer_thread
    def getSymByAddr(self, addr, exact=True):
        """The symbol at ``addr`` (``exact=False``: the nearest before it), or None."""
        if not self.attached:
            return None
        try:
            found = self._process().symbolize(addr)
        except _dk.DebugError:
            return None
        if found.symbol is None or (exact and found.offset != 0):
            return None
        fname = normalize_library_name(found.module) if found.module else None
        return Symbol(found.symbol, addr - found.offset, 0, fname)

    def getSymList(self):
        """The libraries as symbols (each lists its own with ``getSymList()``)."""
        return [self.getSymByName(n) for n in self.getNormalizedLibNames()]

    def searchSymbols(self, regex, libname=None):
        """Symbols whose ``lib.name`` matches ``regex`` (from its start)."""
        reobj = re.compile(regex)
        libs = [libname] if libname is not None else self.getNormalizedLibNames()
        return [s for lib in libs for s in self.getSymsForFile(lib) if reobj.match(str(s))]

    @_on_tracer_thread
    def parseExpression(self, expression):
        """Evaluates a vtrace expression: Python with registers (``rsp``),
        libraries (``libc.exit + 5``), symbols, variables and ``poi()``."""
        return int(eval(expression, {}, VtraceExpressionLocals(self)))

    def hex(self, value):
        return "0x%.16x" % value

    # ---- the process ---------------------------------------------------------------

    @_on_tracer_thread
    def getExe(self):
        """The executable's path."""
        exe = self.getMeta("ExeName")
        if exe is None and self.attached:
            exe = self._process().image
            self.setMeta("ExeName", exe)
        return exe

    @_on_tracer_thread
    def call(self, address, args, convention=None):
        """Calls a function of the process (int, str and bytes arguments);
        returns ``{"rax": result}``."""
        self.requireNotRunning()
        result = self._thread().call(address, *args)
        return {"rax": result.rax}

    @_on_tracer_thread
    def injectso(self, filename):
        """Loads a shared object into the process (its dlopen)."""
        self.requireNotRunning()
        return self._thread().process.inject_library(filename, thread=self._thread())

    def ps(self):
        """``[(pid, name), ...]`` of the machine's processes."""
        out = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open("/proc/%s/comm" % entry) as f:
                        out.append((int(entry), f.read().strip()))
                except OSError:
                    pass
        return out

    def __repr__(self):
        state = "running" if self.running else "exited" if self.exited else "stopped"
        return "[%d]\t- %s <%s>" % (self.pid, self.getMeta("ExeName"), state)
