"""PyDbgEng's names on top of dbgkit, so that PyDbgEng scripts run on Linux.

PyDbgEng wraps Microsoft's DbgEng: a ``DebugClient`` with ``Control``,
``Symbols``, ``DataSpaces`` and ``Registers``, and ``EventCallbacks`` whose
return value decides whether ``Control.WaitForEvent`` returns. This module
keeps those names and field names; only what is Windows-specific changes:

* module names are Linux ones (``libc.so.6!socket`` instead of ``WS2_32!socket``);
* ``ExceptionArgs.Code`` is the signal number (``SIGSEGV`` is 11), not an NTSTATUS;
* the initial breakpoint DbgEng reports when a launched process starts is
  the engine's stop at the executable's entry point (``spawn(...,
  stop_at_entry=True)``, after the initial libraries load), reported
  to ``EventCallbacks.Exception`` as a first-chance ``SIGTRAP`` with
  ``IsInitialBreak`` set (``AttachProcess`` breaks in instead). Turn it off
  with ``DebugClient(initialBreak=False)`` or
  ``Control.RemoveEngineOption(EngineOption.INITIAL_BREAK)``.

The classic example, ported::

    from dbgkit.pydbgeng import *

    c = DebugClient()

    def onLoadModule(args):
        print("ModLoad: %08x-%08x %s\\t%s" % (args.BaseOffset, args.BaseOffset + args.ModuleSize,
                                             args.ModuleName, args.ImageName))
        if args.ModuleName == "libc.so.6":
            bp = c.Control.AddBreakpoint(flags=[BreakpointFlag.ENABLED],
                                         offset=c.Symbols.GetOffsetByName("libc.so.6!socket"))

    c.EventCallbacks.LoadModule = onLoadModule
    c.EventCallbacks.Attach()
    c.CreateProcess("/usr/bin/python3 -c 'import socket; socket.socket()'")
    while c.Control.WaitForEvent():
        c.Control.ExecutionStatus = ExecutionStatus.GO_HANDLED

What each callback returning nothing (``None`` or ``NO_CHANGE``) means is
DbgEng's default: breakpoints, the initial breakpoint, break-ins, completed
steps, second-chance exceptions and first-chance faults (``SIGSEGV``,
``SIGBUS``, ``SIGILL``, ``SIGFPE``, ``SIGTRAP``, ``SIGABRT``) break, so
``WaitForEvent`` returns ``True``; everything else goes on. ``BREAK`` makes
any event break; ``GO``, ``GO_HANDLED``, ``GO_NOT_HANDLED`` and
``IGNORE_EVENT`` make it go on.
"""

from __future__ import annotations

import enum
import shlex
import signal as _signal
from typing import Any, Callable, Dict, Iterable, List, Optional, Set, Tuple, Union

from . import _dbgkit as _dk

__all__ = [
    "INFINITE",
    "AccessType",
    "AttachUserFlags",
    "BreakpointFlag",
    "BreakpointType",
    "CreateFlags",
    "EngineOption",
    "EngineState",
    "ExecutionStatus",
    "ProcessorType",
    "SessionStatus",
    "DebugClient",
    "EventCallbacks",
    "DebugControl",
    "DebugSymbols",
    "DebugDataSpaces",
    "DebugRegisters",
    "DebugSystemObjects",
    "DebugBreakpoint",
    "DebugStackFrame",
    "DebugSymbol",
    "DebugModule",
    "DebugRegister",
    "CreateProcessArgs",
    "ExitProcessArgs",
    "CreateThreadArgs",
    "ExitThreadArgs",
    "LoadModuleArgs",
    "UnloadModuleArgs",
    "BreakpointArgs",
    "ExceptionArgs",
    "SessionStatusArgs",
    "ChangeEngineStateArgs",
]

#: ``WaitForEvent``'s "no time limit".
INFINITE = 0xFFFFFFFF


class _Enum(enum.IntEnum):
    """An int enum that prints its name, as PyDbgEng's (Boost.Python) enums do."""

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"{type(self).__name__}.{self.name}"


def _with_values(cls):
    # Boost.Python enums have `values`: {int: member}.
    type.__setattr__(cls, "values", {m.value: m for m in cls})
    type.__setattr__(cls, "names", {m.name: m for m in cls})
    return cls


@_with_values
class ExecutionStatus(_Enum):
    """What the engine does next (DbgEng's ``DEBUG_STATUS_*``)."""

    NO_CHANGE = 0
    GO = 1
    GO_HANDLED = 2
    GO_NOT_HANDLED = 3
    STEP_OVER = 4
    STEP_INTO = 5
    BREAK = 6
    NO_DEBUGGEE = 7
    STEP_BRANCH = 8
    IGNORE_EVENT = 9
    RESTART_REQUESTED = 10


@_with_values
class BreakpointType(_Enum):
    """What a breakpoint reacts to: code (an address executed) or data (a watchpoint)."""

    CODE = 0
    DATA = 1
    TIME = 2


@_with_values
class BreakpointFlag(_Enum):
    """Breakpoint flags: ``ENABLED`` plants it, ``ONE_SHOT`` removes it after a hit, ``DEFERRED`` says it waits for its module."""

    GO_ONLY = 0x1
    DEFERRED = 0x2
    ENABLED = 0x4
    ADDER_ONLY = 0x8
    ONE_SHOT = 0x10


@_with_values
class AccessType(_Enum):
    """The accesses a data breakpoint watches."""

    READ = 0x1
    WRITE = 0x2
    READ_WRITE = 0x3
    EXECUTE = 0x4
    IO = 0x8


@_with_values
class CreateFlags(_Enum):
    """``CreateProcess`` flags; on Linux they are accepted and have no effect
    (a launched process is always debugged alone, on the debugger's console)."""

    ATTACH_PROCESS = 0x1
    ATTACH_ONLY_THIS_PROCESS = 0x2
    CREATE_SUSPENDED = 0x4
    NEW_CONSOLE = 0x10


@_with_values
class AttachUserFlags(_Enum):
    """``AttachProcess`` flags; ``INVASIVE_NO_INITIAL_BREAK`` skips the break-in after attaching."""

    NONINVASIVE = 0x1
    EXISTING = 0x2
    NONINVASIVE_NO_SUSPEND = 0x4
    INVASIVE_NO_INITIAL_BREAK = 0x8
    INVASIVE_RESUME_PROCESS = 0x10


@_with_values
class EngineOption(_Enum):
    """Engine options; ``INITIAL_BREAK`` (on by default) reports the initial breakpoint."""

    INITIAL_BREAK = 0x20
    FINAL_BREAK = 0x80


@_with_values
class EngineState(_Enum):
    """What a ``ChangeEngineState`` callback reports (``args.State``)."""

    CURRENT_THREAD = 0x1
    EFFECTIVE_PROCESSOR = 0x2
    BREAKPOINTS = 0x4
    CODE_LEVEL = 0x8
    EXECUTION_STATUS = 0x10
    ENGINE_OPTIONS = 0x20
    LOG_FILE = 0x40
    RADIX = 0x80
    EVENT_FILTERS = 0x100
    PROCESS_OPTIONS = 0x200
    EXTENSIONS = 0x400
    SYSTEMS = 0x800


@_with_values
class SessionStatus(_Enum):
    """What a ``SessionStatus`` callback reports (``args.Status``)."""

    ACTIVE = 0
    END_SESSION_ACTIVE_TERMINATE = 1
    END_SESSION_ACTIVE_DETACH = 2
    END_SESSION_PASSIVE = 3
    END = 4
    REBOOT = 5
    HIBERNATE = 6
    FAILURE = 7


@_with_values
class ProcessorType(_Enum):
    """The processor of a breakpoint's ``Type`` (always ``AMD64`` here)."""

    I386 = 0x14C
    AMD64 = 0x8664


# ---- callback arguments ---------------------------------------------------------


class _Args:
    """Arguments of one event callback, with PyDbgEng's field names.
    ``Event`` is the dbgkit event behind them."""

    _fields: Tuple[str, ...] = ()

    def __init__(self, event: Optional[_dk.Event] = None, **fields: Any) -> None:
        self.Event = event
        for name in self._fields:
            setattr(self, name, fields.pop(name, None))
        for name, value in fields.items():
            setattr(self, name, value)

    def __repr__(self) -> str:
        body = ", ".join(f"{n}={getattr(self, n)!r}" for n in self._fields)
        return f"{type(self).__name__}({body})"


class CreateProcessArgs(_Args):
    """``Handle`` is the pid, ``InitialThreadHandle`` the main thread's id,
    ``StartOffset`` the entry point; ``ModuleName`` the file name,
    ``ImageName`` the full path."""

    _fields = (
        "ImageFileHandle",
        "Handle",
        "BaseOffset",
        "ModuleSize",
        "ModuleName",
        "ImageName",
        "CheckSum",
        "TimeDateStamp",
        "InitialThreadHandle",
        "ThreadDataOffset",
        "StartOffset",
    )


class ExitProcessArgs(_Args):
    """``ExitCode``: the exit status, or 128 + the signal that killed it (``Signal``)."""

    _fields = ("ExitCode", "Signal")


class CreateThreadArgs(_Args):
    """``Handle`` is the thread id, ``DataOffset`` its TLS base (``fs_base``), ``StartOffset`` its first instruction."""

    _fields = ("Handle", "DataOffset", "StartOffset")


class ExitThreadArgs(_Args):
    """``ExitCode`` of the thread."""

    _fields = ("ExitCode",)


class LoadModuleArgs(_Args):
    """``ModuleName`` is the short name (``libc.so.6``), ``ImageName`` the path."""

    _fields = ("ImageFileHandle", "BaseOffset", "ModuleSize", "ModuleName", "ImageName", "CheckSum", "TimeDateStamp")


class UnloadModuleArgs(_Args):
    """``ImageBaseName`` (the module's name) and ``BaseOffset``."""

    _fields = ("ImageBaseName", "BaseOffset")


class BreakpointArgs(_Args):
    """``Breakpoint`` is the ``DebugBreakpoint`` hit."""

    _fields = ("Breakpoint",)


class ExceptionArgs(_Args):
    """``Code`` is the signal number (``SignalName`` its name), ``Address`` the
    instruction, ``FaultAddress`` the data address of a memory fault."""

    _fields = ("Code", "Address", "IsFirstChance", "Flags", "SignalName", "FaultAddress", "IsInitialBreak")


class SessionStatusArgs(_Args):
    """``Status``: a ``SessionStatus`` (``ACTIVE`` when the first process starts, ``END`` when none is left)."""

    _fields = ("Status",)


class ChangeEngineStateArgs(_Args):
    """``State`` (an ``EngineState``) and ``Argument`` (for ``EXECUTION_STATUS``, the new ``ExecutionStatus``; for ``BREAKPOINTS``, the breakpoint's id)."""

    _fields = ("State", "Argument")


_Callback = Optional[Callable[[Any], Any]]


class EventCallbacks:
    """The event callbacks of a client. Assign a function taking one argument
    object to any of them; its return value (an ``ExecutionStatus``, or
    ``None`` for the default) decides whether ``WaitForEvent`` returns."""

    def __init__(self) -> None:
        self.CreateProcess: _Callback = None
        self.ExitProcess: _Callback = None
        self.CreateThread: _Callback = None
        self.ExitThread: _Callback = None
        self.LoadModule: _Callback = None
        self.UnloadModule: _Callback = None
        self.Breakpoint: _Callback = None
        self.Exception: _Callback = None
        self.SessionStatus: _Callback = None
        self.ChangeEngineState: _Callback = None
        self.Attached = False

    def Attach(self) -> None:
        """Registers the callbacks with the engine (they are live either way)."""
        self.Attached = True

    def Detach(self) -> None:
        """Stops the callbacks."""
        self.Attached = False


# ---- values -----------------------------------------------------------------------


class DebugModule:
    """A loaded module: ``Name`` (``libc.so.6``), ``ImageName`` (its path), ``Base``, ``Size``."""

    def __init__(self, module: _dk.Module) -> None:
        self._module = module
        self.Name = module.name
        self.ModuleName = module.name
        self.ImageName = module.path
        self.Base = module.base
        self.BaseOffset = module.base
        self.Size = module.size

    def __repr__(self) -> str:
        return f"(Module {self.Name} @ {self.Base:016x})"


class DebugSymbol:
    """A symbol: ``Module``, ``Name``, ``Offset`` (its address), ``Size``."""

    def __init__(self, module: str, name: str, offset: int, size: int = 0) -> None:
        self.Module = module
        self.Name = name
        self.Offset = offset
        self.Size = size

    def __repr__(self) -> str:
        return f"(Symbol {self.Module}!{self.Name})"


class DebugStackFrame:
    """One stack frame, with DbgEng's ``DEBUG_STACK_FRAME`` fields."""

    def __init__(self, frame: _dk.StackFrame, return_offset: int) -> None:
        regs = dict(frame.registers)
        self.Frame = frame
        self.FrameNumber = frame.number
        self.InstructionOffset = frame.pc
        self.ReturnOffset = return_offset
        self.StackOffset = frame.sp
        self.FrameOffset = regs.get("rbp", frame.cfa)
        self.FuncTableEntry = 0
        self.Params = ()
        self.Virtual = False

    def __repr__(self) -> str:
        return f"(Frame #{self.FrameNumber} {self.InstructionOffset:016x})"


class DebugRegister:
    """One register of the current thread; ``Value`` reads and writes it."""

    def __init__(self, registers: "DebugRegisters", index: int, name: str) -> None:
        self._registers = registers
        self.Index = index
        self.Name = name

    @property
    def Value(self) -> int:
        return self._registers[self.Name]

    @Value.setter
    def Value(self, value: int) -> None:
        self._registers[self.Name] = value

    def __int__(self) -> int:
        return self.Value

    def __repr__(self) -> str:
        return f"(Register {self.Name} = {self.Value:#x})"


# ---- the client and its parts ------------------------------------------------------------


class DebugBreakpoint:
    """A breakpoint made by ``Control.AddBreakpoint``. Nothing is planted
    until it has an ``Offset`` (or an ``OffsetExpression``) and the
    ``ENABLED`` flag, as in DbgEng."""

    def __init__(self, control: "DebugControl", type: BreakpointType, id: int) -> None:
        self._control = control
        self._type = BreakpointType(type)
        self._id = id
        self._flags: set = set()
        self._offset: Optional[int] = None
        self._expression: Optional[str] = None
        self._native: Any = None
        self._pass_count = 0
        self.DataSize = 1
        self.DataAccessType = AccessType.WRITE
        self.Command = ""

    # -- planting
    def _unplant(self) -> None:
        if self._native is not None:
            try:
                if self._native.alive:
                    self._native.remove()
            except _dk.DebugError:
                pass
            self._control._by_native.pop(self._native.id, None)
            self._native = None

    def _plant(self) -> None:
        self._unplant()
        if BreakpointFlag.ENABLED not in self._flags:
            return
        process = self._control._client._process()
        location: Union[int, str, None] = self._offset if self._offset is not None else self._expression
        if location is None:
            return
        if self._type == BreakpointType.DATA:
            self._native = process.add_watchpoint(int(location), self.DataSize, _access_name(self.DataAccessType))
        else:
            # DbgEng breaks exactly at an expression's address (a function's
            # first instruction), not after the prologue as a bare name does.
            if isinstance(location, str) and not location.lstrip().startswith("*"):
                location = "*" + location
            self._native = process.add_breakpoint(
                location, one_shot=BreakpointFlag.ONE_SHOT in self._flags, ignore_count=self._pass_count
            )
        self._control._by_native[self._native.id] = self

    # -- DbgEng's properties
    @property
    def Id(self) -> int:
        return self._id

    @property
    def Type(self) -> Tuple[BreakpointType, ProcessorType]:
        return (self._type, ProcessorType.AMD64)

    @property
    def Offset(self) -> Optional[int]:
        if self._native is not None:
            try:
                address = self._native.address
                if address is not None:
                    return address
            except _dk.DebugError:
                pass
        return self._offset

    @Offset.setter
    def Offset(self, offset: int) -> None:
        self._offset = int(offset)
        self._expression = None
        self._plant()

    @property
    def OffsetExpression(self) -> Optional[str]:
        return self._expression

    @OffsetExpression.setter
    def OffsetExpression(self, expression: str) -> None:
        self.SetOffsetExpression(expression)

    def SetOffsetExpression(self, expression: str) -> None:
        """Sets the breakpoint on a name; pending until its module loads (``DEFERRED`` meanwhile)."""
        self._expression = expression
        self._offset = None
        self._plant()

    @property
    def Flags(self) -> List[BreakpointFlag]:
        flags = set(self._flags)
        try:
            if self._native is not None and getattr(self._native, "pending", False):
                flags.add(BreakpointFlag.DEFERRED)
        except _dk.DebugError:
            pass
        return sorted(flags)

    @Flags.setter
    def Flags(self, flags: Iterable[BreakpointFlag]) -> None:
        self._flags = {BreakpointFlag(f) for f in flags}
        self._plant()

    def AddFlags(self, flags: Iterable[BreakpointFlag]) -> None:
        self.Flags = self._flags | {BreakpointFlag(f) for f in flags}

    def RemoveFlags(self, flags: Iterable[BreakpointFlag]) -> None:
        self.Flags = self._flags - {BreakpointFlag(f) for f in flags}

    @property
    def Enabled(self) -> bool:
        return BreakpointFlag.ENABLED in self._flags

    @property
    def PassCount(self) -> int:
        return self._pass_count

    @PassCount.setter
    def PassCount(self, count: int) -> None:
        self._pass_count = int(count)
        if self._native is not None and self._type == BreakpointType.CODE:
            self._native.ignore_count = self._pass_count

    @property
    def HitCount(self) -> int:
        try:
            return self._native.hits if self._native is not None else 0
        except _dk.DebugError:
            return 0

    def SetDataParameters(self, size: int, access: AccessType) -> None:
        self.DataSize = int(size)
        self.DataAccessType = AccessType(access)
        self._plant()

    def Remove(self) -> None:
        self._control.RemoveBreakpoint(self)

    def __repr__(self) -> str:
        offset = self.Offset
        where = f"{offset:016x}" if offset is not None else (self._expression or "?")
        flags = "|".join(str(f) for f in self.Flags) or "DISABLED"
        return f"(Breakpoint {self._id} {self._type} @ {where} {flags})"


def _access_name(access: AccessType) -> str:
    if access in (AccessType.READ, AccessType.READ_WRITE):
        return "read_write"
    if access == AccessType.EXECUTE:
        return "execute"
    return "write"


def _to_timeout(timeout: int) -> Optional[float]:
    if timeout is None or timeout < 0 or timeout >= INFINITE:
        return None
    return timeout / 1000.0


# STATUS_BREAKPOINT: how Windows reports a program's first stop (its loader's int3).
_NT_BREAKPOINT = 0x80000003
# Signals whose first chance breaks by default (DbgEng breaks on first-chance access violations).
_BREAK_FIRST_CHANCE = {
    _signal.SIGSEGV,
    _signal.SIGBUS,
    _signal.SIGILL,
    _signal.SIGFPE,
    _signal.SIGTRAP,
    _signal.SIGABRT,
}


class DebugControl:
    """Execution control: ``WaitForEvent``, ``ExecutionStatus``, breakpoints, stacks."""

    def __init__(self, client: "DebugClient") -> None:
        self._client = client
        self._status = ExecutionStatus.NO_DEBUGGEE
        self._requested: Optional[ExecutionStatus] = None
        self._held: Optional[_dk.Event] = None
        self._breakpoints: Dict[int, DebugBreakpoint] = {}
        self._by_native: Dict[int, DebugBreakpoint] = {}
        self._next_id = 0
        self._options = {EngineOption.INITIAL_BREAK}

    # -- engine options
    @property
    def EngineOptions(self) -> List[EngineOption]:
        return sorted(self._options)

    def AddEngineOption(self, option: EngineOption) -> None:
        self._options.add(EngineOption(option))

    def RemoveEngineOption(self, option: EngineOption) -> None:
        self._options.discard(EngineOption(option))

    # -- execution status
    @property
    def ExecutionStatus(self) -> ExecutionStatus:
        """``BREAK`` while stopped at an event, ``NO_DEBUGGEE`` when no process
        is left; set it to say how ``WaitForEvent`` goes on (``GO``,
        ``GO_HANDLED``, ``GO_NOT_HANDLED``, ``STEP_INTO``)."""
        return self._status

    @ExecutionStatus.setter
    def ExecutionStatus(self, status: ExecutionStatus) -> None:
        status = ExecutionStatus(status)
        self._requested = status
        self._set_status(status)

    def _set_status(self, status: ExecutionStatus) -> None:
        if status != self._status:
            self._status = status
            self._client._notify_engine_state(EngineState.EXECUTION_STATUS, int(status))

    # -- breakpoints
    @property
    def Breakpoints(self) -> List[DebugBreakpoint]:
        """The breakpoints made with ``AddBreakpoint``."""
        return list(self._breakpoints.values())

    def GetBreakpointById(self, id: int) -> DebugBreakpoint:
        return self._breakpoints[id]

    def AddBreakpoint(
        self,
        type: BreakpointType = BreakpointType.CODE,
        id: Optional[int] = None,
        flags: Iterable[BreakpointFlag] = (),
        offset: Optional[int] = None,
        expression: Optional[str] = None,
    ) -> DebugBreakpoint:
        """Creates a breakpoint; it is planted once it has an offset (or an
        expression) and ``BreakpointFlag.ENABLED``."""
        if id is None or id < 0 or id == 0xFFFFFFFF:
            id = self._next_id
        if id in self._breakpoints:
            raise _dk.BreakpointError(f"breakpoint id {id} is taken")
        self._next_id = max(self._next_id, id + 1)
        bp = DebugBreakpoint(self, type, id)
        bp._flags = {BreakpointFlag(f) for f in flags}
        bp._offset = None if offset is None else int(offset)
        bp._expression = expression if offset is None else None
        self._breakpoints[id] = bp
        bp._plant()
        self._client._notify_engine_state(EngineState.BREAKPOINTS, id)
        return bp

    def RemoveBreakpoint(self, bp: Union[DebugBreakpoint, int]) -> None:
        if not isinstance(bp, DebugBreakpoint):
            bp = self._breakpoints[int(bp)]
        bp._unplant()
        self._breakpoints.pop(bp.Id, None)
        self._client._notify_engine_state(EngineState.BREAKPOINTS, bp.Id)

    # -- stacks
    def GetStackFrames(self, frameOffset: int = 0, stackOffset: int = 0, instructionOffset: int = 0,
                       frameCount: Optional[int] = None) -> List[DebugStackFrame]:
        """The frames of the current thread's stack, innermost first."""
        frames = list(self._client._thread().stack())
        out = []
        for i, frame in enumerate(frames):
            ret = frames[i + 1].pc if i + 1 < len(frames) else 0
            out.append(DebugStackFrame(frame, ret))
        return out[:frameCount] if frameCount is not None else out

    def Evaluate(self, expression: str) -> int:
        """Evaluates a WinDbg-style expression with the current thread's registers."""
        return self._client._thread().eval(expression)

    def SetInterrupt(self) -> None:
        """Breaks into every running process."""
        self._client.Session.break_in_all()

    # -- the loop
    def WaitForEvent(self, timeout: int = INFINITE) -> bool:
        """Goes on from the event it last stopped at (as ``ExecutionStatus``
        says), runs the event callbacks of every event that follows, and
        returns ``True`` at the first event that breaks (the process stopped
        there), ``False`` when no process is left or the ``timeout`` (ms)
        passed. An exception a callback raises is raised here, its event
        waiting."""
        client = self._client
        session = client.Session
        self._resume_held()
        wait = _to_timeout(timeout)
        while True:
            if not session.processes:
                self._no_debuggee()
                return False
            event = session.wait_event(wait)
            if event is None:
                return False
            if self._dispatch(event):
                self._held = event
                self._requested = None
                self._set_status(ExecutionStatus.BREAK)
                return True

    def _resume_held(self) -> None:
        event, self._held = self._held, None
        requested, self._requested = self._requested, None
        if event is None or not event.waiting:
            return
        if requested == ExecutionStatus.STEP_INTO:
            event.thread.step_into()
            return
        self._continue(event, requested)

    def _continue(self, event: _dk.Event, status: Optional[ExecutionStatus]) -> None:
        self._set_status(ExecutionStatus.GO)
        if event.kind != "exception":
            event.continue_event("handled")
        elif status == ExecutionStatus.GO_HANDLED:
            event.continue_event("handled")
        elif status == ExecutionStatus.GO_NOT_HANDLED:
            event.continue_event("not_handled")
        else:
            event.continue_event()

    def _no_debuggee(self) -> None:
        if self._status != ExecutionStatus.NO_DEBUGGEE:
            self._set_status(ExecutionStatus.NO_DEBUGGEE)
            self._client._notify_session(SessionStatus.END)

    def _dispatch(self, event: _dk.Event) -> bool:
        """Runs the callback of one event; True when the event breaks."""
        client = self._client
        client._event = event
        callbacks = client.EventCallbacks
        kind = event.kind
        default_break = False
        if kind == "process-created":
            client._notify_session(SessionStatus.ACTIVE)
            args: _Args = CreateProcessArgs(
                event,
                ImageFileHandle=0,
                Handle=event.pid,
                BaseOffset=event.base,
                ModuleSize=event.size,
                ModuleName=event.image.rsplit("/", 1)[-1],
                ImageName=event.image,
                CheckSum=0,
                TimeDateStamp=0,
                InitialThreadHandle=event.tid,
                ThreadDataOffset=0,
                StartOffset=event.entry,
            )
            callback = callbacks.CreateProcess
        elif kind == "process-exited":
            code = event.exit_status
            args = ExitProcessArgs(event, ExitCode=code, Signal=event.signal)
            callback = callbacks.ExitProcess
        elif kind == "thread-created":
            try:
                tls = event.thread.regs.fs_base
            except _dk.DebugError:
                tls = 0
            args = CreateThreadArgs(event, Handle=event.tid, DataOffset=tls, StartOffset=event.start)
            callback = callbacks.CreateThread
        elif kind == "thread-exited":
            args = ExitThreadArgs(event, ExitCode=event.exit_code)
            callback = callbacks.ExitThread
        elif kind == "module-loaded":
            m = event.module
            args = LoadModuleArgs(
                event,
                ImageFileHandle=0,
                BaseOffset=m.base,
                ModuleSize=m.size,
                ModuleName=m.name,
                ImageName=m.path,
                CheckSum=0,
                TimeDateStamp=0,
            )
            callback = callbacks.LoadModule
        elif kind == "module-unloaded":
            m = event.module
            args = UnloadModuleArgs(event, ImageBaseName=m.name, BaseOffset=m.base)
            callback = callbacks.UnloadModule
        elif event.pid in client._initial_breaks and (
            kind == "break-in" or (kind == "exception" and event.nt_status == _NT_BREAKPOINT)
        ):
            # The initial break; a Windows program's comes as the system's breakpoint exception.
            client._initial_breaks.discard(event.pid)
            args = self._exception_args(event, initial=True)
            callback = callbacks.Exception
            default_break = True
        elif kind in ("breakpoint", "watchpoint"):
            native = event.breakpoint if kind == "breakpoint" else event.watchpoint
            bp = self._by_native.get(native.id)
            if bp is None:
                # Set through the dbgkit session directly: shown all the same.
                bp = DebugBreakpoint(self, BreakpointType.CODE if kind == "breakpoint" else BreakpointType.DATA, -1)
                bp._native, bp._flags = native, {BreakpointFlag.ENABLED}
            args = BreakpointArgs(event, Breakpoint=bp)
            callback = callbacks.Breakpoint
            default_break = True
        elif kind in ("exception", "break-in"):
            args = self._exception_args(event, initial=False)
            callback = callbacks.Exception
            default_break = kind == "break-in" or not event.first_chance or event.signal in _BREAK_FIRST_CHANCE
        elif kind == "step-complete":
            args, callback, default_break = None, None, True
        else:  # exec, fork
            args, callback = None, None
        answer = callback(args) if callback is not None and args is not None else None
        if answer is None or answer == ExecutionStatus.NO_CHANGE:
            if default_break:
                return True
            self._continue(event, None)
            return False
        answer = ExecutionStatus(answer)
        if answer == ExecutionStatus.BREAK:
            return True
        if answer == ExecutionStatus.STEP_INTO:
            event.thread.step_into()
            return False
        self._continue(event, ExecutionStatus.GO_HANDLED if answer == ExecutionStatus.IGNORE_EVENT else answer)
        if kind == "process-exited" and not client.Session.processes:
            self._no_debuggee()
        return False

    @staticmethod
    def _exception_args(event: _dk.Event, initial: bool) -> ExceptionArgs:
        if event.kind == "exception":
            return ExceptionArgs(
                event,
                # DbgEng's code: the NTSTATUS for a Windows program, the signal on Linux.
                Code=event.nt_status if event.nt_status is not None else event.signal,
                Address=event.address,
                IsFirstChance=event.first_chance,
                Flags=0,
                SignalName=event.signal_name,
                FaultAddress=event.fault_address,
                IsInitialBreak=initial,
            )
        # The initial breakpoint, or a break-in: a breakpoint exception, as in DbgEng.
        try:
            address = event.thread.pc
        except _dk.DebugError:
            address = event.address or 0
        return ExceptionArgs(
            event,
            Code=int(_signal.SIGTRAP),
            Address=address,
            IsFirstChance=True,
            Flags=0,
            SignalName="SIGTRAP",
            FaultAddress=None,
            IsInitialBreak=initial,
        )


class DebugSymbols:
    """Names and addresses, in the current process."""

    def __init__(self, client: "DebugClient") -> None:
        self._client = client

    def GetNameByOffset(self, offset: int) -> Tuple[str, int]:
        """``("module!symbol", displacement)``; ``("module", offset in it)``
        without a symbol; ``("0x...", 0)`` outside every module."""
        place = self._client._process().symbolize(offset)
        if place.module is not None and place.symbol is not None:
            return (f"{place.module}!{place.symbol}", place.offset)
        if place.module is not None:
            return (place.module, place.module_offset)
        return (f"{offset:#x}", 0)

    def GetOffsetByName(self, name: str) -> int:
        """The address of ``module!name`` (or a bare name); raises ``dbgkit.SymbolNotFound``."""
        return self._client._process().lookup(name)

    def GetSymbols(self, pattern: Union[str, int]) -> Dict[str, Tuple[DebugSymbol, int]]:
        """Symbols matching a ``module!pattern`` with ``*`` and ``?`` wildcards
        (or a bare pattern), or the symbol at an address: ``{name: (symbol, displacement)}``."""
        process = self._client._process()
        if not isinstance(pattern, str):
            place = process.symbolize(int(pattern))
            if place.symbol is None:
                return {}
            symbol = DebugSymbol(place.module or "", place.symbol, place.address - place.offset)
            return {place.symbol: (symbol, place.offset)}
        module, _, name = pattern.rpartition("!")
        regex = _dk.wildcard_regex(name or "*")
        found: Dict[str, Tuple[DebugSymbol, int]] = {}
        for s in process.search_symbols(regex, module or None):
            found.setdefault(s.name, (DebugSymbol(s.module, s.name, s.address, s.size), 0))
        return found

    @property
    def LoadedModules(self) -> Dict[str, DebugModule]:
        """The modules of the current process, by name."""
        return {m.name: DebugModule(m) for m in self._client._process().modules}

    def GetModuleByName(self, name: str) -> DebugModule:
        return DebugModule(self._client._process().module(name))

    def GetModuleByOffset(self, offset: int) -> DebugModule:
        for m in self._client._process().modules:
            if m.contains(offset):
                return DebugModule(m)
        raise _dk.SymbolNotFound(f"no module at {offset:#x}")

    def AppendSymbolPath(self, path: str) -> None:
        self._client.Session.add_symbol_path(path)


class _VirtualDataSpace:
    """Virtual memory of the current process."""

    def __init__(self, client: "DebugClient") -> None:
        self._client = client

    def Read(self, offset: int, size: int) -> bytes:
        return self._client._process().read_memory(offset, size)

    def Write(self, offset: int, buffer: bytes) -> int:
        self._client._process().write_memory(offset, bytes(buffer))
        return len(buffer)

    def Fill(self, offset: int, size: int, pattern: bytes) -> int:
        pattern = bytes(pattern)
        data = (pattern * (size // len(pattern) + 1))[:size]
        return self.Write(offset, data)

    def ReadPointers(self, offset: int, count: int = 1) -> List[int]:
        return self._client._process().read_pointers(offset, count)

    def WritePointers(self, offset: int, ptrs: Iterable[int]) -> None:
        data = b"".join(int(p).to_bytes(8, "little") for p in ptrs)
        self.Write(offset, data)

    def ReadMultiByteString(self, offset: int, maxBytes: int = 4096) -> str:
        return self._client._process().read_cstring(offset, maxBytes)

    def Search(self, offset: int, length: int, pattern: bytes, flags: int = 0, granularity: int = 1) -> Optional[int]:
        """The first address in [offset, offset+length) where ``pattern`` is, or ``None``."""
        hits = self._client._process().search_memory(bytes(pattern), offset, offset + length, granularity)
        return hits[0] if hits else None


class DebugDataSpaces:
    """Data spaces: ``Virtual`` is the current process's memory."""

    def __init__(self, client: "DebugClient") -> None:
        self.Virtual = _VirtualDataSpace(client)


class DebugRegisters:
    """The registers of the current thread: ``Registers`` (by name), or
    ``c.Registers["rax"]`` directly."""

    def __init__(self, client: "DebugClient") -> None:
        self._client = client

    def _regs(self) -> _dk.Registers:
        return self._client._thread().regs

    @property
    def Registers(self) -> Dict[str, DebugRegister]:
        return {name: DebugRegister(self, i, name) for i, name in enumerate(self._regs().keys())}

    def __getitem__(self, name: str) -> int:
        return self._regs()[name]

    def __setitem__(self, name: str, value: int) -> None:
        self._regs()[name] = value

    @property
    def InstructionOffset(self) -> int:
        return self._regs().rip

    @property
    def StackOffset(self) -> int:
        return self._regs().rsp

    @property
    def FrameOffset(self) -> int:
        return self._regs().rbp


class DebugSystemObjects:
    """Which process and thread are current."""

    def __init__(self, client: "DebugClient") -> None:
        self._client = client

    @property
    def CurrentProcessId(self) -> int:
        return self._client._process().pid

    @property
    def CurrentThreadId(self) -> int:
        return self._client._thread().tid

    @property
    def Processes(self) -> List[int]:
        return [p.pid for p in self._client.Session.processes]

    @property
    def Threads(self) -> List[int]:
        return [t.tid for t in self._client._process().threads]


class DebugClient:
    """A debugger client: launches or attaches, and holds the parts
    (``Control``, ``Symbols``, ``DataSpaces``, ``Registers``,
    ``SystemObjects``) and the ``EventCallbacks``. ``Session`` is the
    dbgkit session underneath."""

    def __init__(self, session: Optional[_dk.Session] = None, initialBreak: bool = True) -> None:
        self.Session = session if session is not None else _dk.Session()
        self.EventCallbacks = EventCallbacks()
        self.Control = DebugControl(self)
        self.Symbols = DebugSymbols(self)
        self.DataSpaces = DebugDataSpaces(self)
        self.Registers = DebugRegisters(self)
        self.SystemObjects = DebugSystemObjects(self)
        if not initialBreak:
            self.Control.RemoveEngineOption(EngineOption.INITIAL_BREAK)
        self._event: Optional[_dk.Event] = None
        # Launched processes whose initial break (the engine's stop at entry) is still to come.
        self._initial_breaks: Set[int] = set()

    # -- current process and thread
    def _process(self) -> _dk.Process:
        if self._event is not None and self._event.process.alive:
            return self._event.process
        return self.Session.process()

    def _thread(self) -> _dk.Thread:
        if self._event is not None and self._event.thread.alive:
            return self._event.thread
        return self._process().thread()

    def _notify_engine_state(self, state: EngineState, argument: int) -> None:
        callback = self.EventCallbacks.ChangeEngineState
        if callback is not None:
            callback(ChangeEngineStateArgs(None, State=state, Argument=argument))

    def _notify_session(self, status: SessionStatus) -> None:
        callback = self.EventCallbacks.SessionStatus
        if callback is not None:
            callback(SessionStatusArgs(None, Status=status))

    # -- processes
    def CreateProcess(self, commandLine: Union[str, List[str]], createFlags: Iterable[CreateFlags] = (),
                      initialDirectory: Optional[str] = None) -> int:
        """Launches a command line (split as a shell would, without running
        one); returns the pid. Its events come with ``WaitForEvent``."""
        argv = shlex.split(commandLine) if isinstance(commandLine, str) else list(commandLine)
        initial_break = EngineOption.INITIAL_BREAK in self.Control._options
        process = self.Session.spawn(argv, cwd=initialDirectory, stop_at_entry=initial_break)
        if initial_break:
            self._initial_breaks.add(process.pid)
        self.Control._set_status(ExecutionStatus.GO)
        return process.pid

    def AttachProcess(self, pid: int, flags: Iterable[AttachUserFlags] = ()) -> int:
        """Attaches to a running process; its present is replayed as events,
        then (unless ``INVASIVE_NO_INITIAL_BREAK``) a break-in follows."""
        process = self.Session.attach(int(pid))
        flags = set(flags)
        if EngineOption.INITIAL_BREAK in self.Control._options and AttachUserFlags.INVASIVE_NO_INITIAL_BREAK not in flags:
            process.break_in()
        self.Control._set_status(ExecutionStatus.GO)
        return process.pid

    def ConnectProcess(self, connectOptions: str, image: Optional[str] = None) -> int:
        """Debugs a process behind a GDB remote stub: ``gdbserver``, or
        ``dbgkit-winstub`` running a Windows program under Wine (DbgEng
        reaches remote processes through a process server the same way).
        ``connectOptions`` is ``"gdb:HOST:PORT"``; ``image`` is the
        program's file here (needed for a Windows program: its ``.exe``).
        Its present is replayed as events, then the stop it is at (the
        loader's initial breakpoint for a program the stub started) comes as
        a break-in. Returns the process id."""
        options = connectOptions.strip()
        if not options.startswith("gdb:"):
            raise _dk.InvalidArgument(
                f"connection {options!r}: dbgkit reaches remote processes through a GDB stub: \"gdb:HOST:PORT\"")
        process = self.Session.connect(options[len("gdb:"):], symbols=image)
        self._initial_breaks.add(process.pid)
        self.Control._set_status(ExecutionStatus.GO)
        return process.pid

    def AttachKernel(self, *args: Union[int, str], symbols: Optional[str] = None,
                     systemMap: Optional[str] = None) -> int:
        """Attaches to a kernel through a GDB remote stub (QEMU's ``-gdb``),
        as DbgEng's ``AttachKernel(Flags, ConnectOptions)`` does over its own
        transports. ``ConnectOptions`` is ``"gdb:HOST:PORT"`` followed by
        ``,vmlinux=PATH`` and/or ``,sysmap=PATH`` (or give them as
        ``symbols=`` / ``systemMap=``). The machine's CPUs are threads,
        ``vmlinux`` and the loaded modules are modules; a break-in follows
        them. Returns the stub's process id."""
        if args and isinstance(args[0], int):
            args = args[1:]
        if len(args) != 1 or not isinstance(args[0], str):
            raise TypeError("AttachKernel([flags,] connectOptions): connectOptions is \"gdb:HOST:PORT[,vmlinux=PATH]\"")
        options = args[0].strip()
        if not options.startswith("gdb:"):
            raise _dk.InvalidArgument(
                f"connection {options!r}: dbgkit reaches kernels through a GDB stub: \"gdb:HOST:PORT[,vmlinux=PATH]\"")
        address, *extras = options[len("gdb:"):].split(",")
        for extra in extras:
            key, _, value = extra.partition("=")
            if key.strip() == "vmlinux":
                symbols = value.strip()
            elif key.strip() in ("sysmap", "System.map"):
                systemMap = value.strip()
            else:
                raise _dk.InvalidArgument(f"unknown connection option {key!r}: vmlinux=PATH or sysmap=PATH")
        process = self.Session.connect(address.strip(), symbols=symbols, system_map=systemMap)
        self.Control._set_status(ExecutionStatus.GO)
        return process.pid

    def DetachProcesses(self) -> None:
        """Detaches from every process, leaving them running."""
        for p in self.Session.processes:
            p.detach()
        self.Control._held = None
        self.Control._no_debuggee()

    def TerminateProcesses(self) -> None:
        """Kills every process (their exit events follow)."""
        self.Control._held = None
        for p in self.Session.processes:
            p.kill()

    def EndSession(self) -> None:
        """Ends the session: launched processes die, attached ones are detached."""
        self.Session.close()
        self.Control._no_debuggee()
