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
``dbgkit.pydbgeng``, PyDbgEng's names on top of it, and ``dbgkit.vtrace``,
vivisect's vtrace API (``import dbgkit.vtrace as vtrace``).
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
    RemoteError,
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
    current_session,
    parse_signal,
    signal_name,
    wildcard_regex,
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
    "RemoteError",
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
    "command",
    "commands",
    "current_session",
    "parse_signal",
    "signal_name",
    "wildcard_regex",
    "pydbgeng",
    "vtrace",
]


# Extension commands of the dbgkit debugger, by name: see `command`.
_commands = {}


def command(name):
    """Registers an extension command of the ``dbgkit`` debugger (WinDbg's
    ``!name``, also plain ``name`` when no built-in command has it)::

        @dbgkit.command("heapsum")
        def heapsum(args):
            \"\"\"Sums the sizes of the heap's chunks.\"\"\"
            s = dbgkit.current_session()
            ...

    The function gets the rest of the command line as one string; its
    docstring's first line is what ``help`` shows. Registering a name again
    replaces the command. Outside the debugger the registration is kept and
    harmless."""
    if not isinstance(name, str) or not name or name.startswith("!") or any(c.isspace() for c in name):
        raise ValueError("a command name is one word without '!': @dbgkit.command(\"heapsum\"), not %r" % (name,))

    def register(function):
        if not callable(function):
            raise TypeError("@dbgkit.command(%r) decorates a function" % name)
        _commands[name] = function
        return function

    return register


def commands():
    """The registered extension commands: ``{name: function}``."""
    return dict(_commands)


def __getattr__(name: str) -> object:
    # `dbgkit.pydbgeng` without an explicit import of the submodule.
    if name in ("pydbgeng", "vtrace"):
        import importlib

        return importlib.import_module(".pydbgeng", __name__)
    raise AttributeError(f"module 'dbgkit' has no attribute {name!r}")
