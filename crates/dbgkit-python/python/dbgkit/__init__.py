"""dbgkit: a programmable debugger engine (Linux x86_64, ptrace), from Python.

Write a debugger in five minutes::

    import dbgkit

    s = dbgkit.Session()
    p = s.spawn(["/usr/bin/python3", "-c", "import socket; socket.socket()"])
    bp = s.add_breakpoint("libc.so.6!socket")          # pending until libc loads
    for ev in s.events():                               # wait, yield, continue
        if ev.kind == "breakpoint":
            print(ev.thread.symbolize(ev.thread.pc), [str(f) for f in ev.thread.stack()])

The engine is Rust (``dbgkit._dbgkit``); this package re-exports it and adds
``dbgkit.pydbgeng``, PyDbgEng's names on top of it.
"""

from ._dbgkit import (
    AmbiguousSymbol,
    Breakpoint,
    BreakpointError,
    CallResult,
    ContinueStatus,
    DebugError,
    Event,
    EventIterator,
    ExpressionError,
    Field,
    Frame,
    InjectionError,
    InvalidArgument,
    NotSupported,
    LaunchError,
    MemoryError,
    MemoryRegion,
    Module,
    Process,
    ProcessGone,
    ProcessRunning,
    Registers,
    Checkpoint,
    Session,
    Stack,
    StackFrame,
    StateError,
    Symbol,
    Symbolized,
    SymbolNotFound,
    Thread,
    Type,
    Value,
    Variable,
    WaitTimeout,
    Watchpoint,
    WrongThreadError,
    __version__,
    parse_signal,
    signal_name,
)

__all__ = [
    "AmbiguousSymbol",
    "Breakpoint",
    "BreakpointError",
    "CallResult",
    "ContinueStatus",
    "DebugError",
    "Event",
    "EventIterator",
    "ExpressionError",
    "Field",
    "Frame",
    "InjectionError",
    "InvalidArgument",
    "NotSupported",
    "LaunchError",
    "MemoryError",
    "MemoryRegion",
    "Module",
    "Process",
    "ProcessGone",
    "ProcessRunning",
    "Registers",
    "Checkpoint",
    "Session",
    "Stack",
    "StackFrame",
    "StateError",
    "Symbol",
    "Symbolized",
    "SymbolNotFound",
    "Thread",
    "Type",
    "Value",
    "Variable",
    "WaitTimeout",
    "Watchpoint",
    "WrongThreadError",
    "__version__",
    "parse_signal",
    "signal_name",
    "pydbgeng",
]


def __getattr__(name: str) -> object:
    # `dbgkit.pydbgeng` without an explicit import of the submodule.
    if name == "pydbgeng":
        import importlib

        return importlib.import_module(".pydbgeng", __name__)
    raise AttributeError(f"module 'dbgkit' has no attribute {name!r}")
