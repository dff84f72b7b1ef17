"""Type stubs of dbgkit's native module (re-exported by ``dbgkit``)."""

import os
from typing import IO, Any, Callable, ClassVar, Dict, final, Iterator, List, Literal, Mapping, Optional, Sequence, Tuple, Union, overload

__version__: str


_Status = Union["ContinueStatus", Literal["handled", "not_handled", "terminate_thread", "terminate_process"]]
_ProcessArg = Union["Process", int, None]
_ThreadArg = Union["Thread", int, None]
_Stdio = Union[Literal["inherit", "null", "pipe"], int, None]
_Bytes = Union[bytes, bytearray, memoryview]
_CallArg = Union[int, str, bytes, bytearray]
_EventKind = Literal[
    "process-created",
    "process-exited",
    "thread-created",
    "thread-exited",
    "module-loaded",
    "module-unloaded",
    "exception",
    "breakpoint",
    "syscall-entry",
    "syscall-exit",
    "watchpoint",
    "step-complete",
    "break-in",
    "exec",
    "fork",
]

# ---- errors -------------------------------------------------------------------

class DebugError(Exception):
    """Base class of every error dbgkit raises."""

class ProcessGone(DebugError):
    """The process or thread behind a handle has exited, or is not debugged by this session."""

class MemoryError(DebugError):
    """Target memory that is not mapped or cannot be read or written (not Python's MemoryError)."""

class ExpressionError(DebugError):
    """An expression or pattern that does not parse or evaluate."""

class SymbolNotFound(DebugError):
    """No symbol, module or source line by that name."""

class AmbiguousSymbol(SymbolNotFound):
    """A bare name found in several modules: say which with MODULE!NAME."""

class ProcessRunning(DebugError):
    """The call needs the process stopped: wait for an event or break in first."""

class StateError(DebugError):
    """The session cannot do that now: nothing to continue, no process left, closed, or busy in a callback."""

class BreakpointError(DebugError):
    """No such breakpoint, or a breakpoint that cannot be planted."""

class InjectionError(DebugError):
    """Running code in the target (call, syscall, dlopen) failed."""

class LaunchError(DebugError):
    """A program that cannot be launched, or a process that cannot be attached."""

class WrongThreadError(DebugError):
    """A session (or a handle of one) used from a thread other than the one that created it (ptrace's rule)."""

class NotSupported(DebugError):
    """The target cannot do that (a core file cannot run or be written)."""

class InvalidArgument(DebugError):
    """An argument the engine refuses."""

class WaitTimeout(DebugError):
    """No event came within the timeout given to events()."""

class RemoteError(DebugError):
    """Talking to a GDB remote stub failed: it cannot be reached, its
    connection was lost, or it refused a request."""

# ---- functions ------------------------------------------------------------------

def current_session() -> Session:
    """The dbgkit debugger's own session, for scripts it runs (`.py`, `py`,
    `python`, `source`, `-x FILE.py`, extension commands); raises
    `StateError` anywhere else."""
    ...

def signal_name(signal: int) -> str:
    """The name of a signal (``"SIGSEGV"``), or ``"SIG<n>"`` when it has none."""

def parse_signal(text: str) -> Optional[int]:
    """A signal number from ``"SIGSEGV"``, ``"segv"`` or ``"11"``; ``None`` when it is not one."""

def wildcard_regex(pattern: str) -> str:
    """The anchored regular expression for a WinDbg wildcard pattern (``*`` any text, ``?`` one character)."""

# ---- continue status ----------------------------------------------------------------

@final
class ContinueStatus:
    """How to continue an event (the Win32 debug loop's continue status).
    Wherever a status is taken, its lower-case name works too
    (``"handled"``, ``"not_handled"``, ``"terminate_thread"``, ``"terminate_process"``)."""

    HANDLED: ClassVar["ContinueStatus"]
    """Go on; the signal of an exception is suppressed."""
    NOT_HANDLED: ClassVar["ContinueStatus"]
    """Go on and deliver the exception's signal to the program."""
    TERMINATE_THREAD: ClassVar["ContinueStatus"]
    """End the event's thread (it exits with code 0); the others go on."""
    TERMINATE_PROCESS: ClassVar["ContinueStatus"]
    """Kill the whole process."""
    def __int__(self) -> int: ...

# ---- the session ----------------------------------------------------------------------

@final
class Session:
    """The debug object: owns every debugged process and one queue of events.

    A session belongs to the thread that created it (ptrace's rule): using
    it, or a handle of it, from another thread raises ``WrongThreadError``.
    Launched processes die with the session (``close()``, ``with``, or
    garbage collection); attached ones are detached.

    Process-level calls taken here (``read_memory``, ``lookup``,
    ``add_breakpoint``...) work on the default process: the one spawned or
    attached last while it lives, else the only one; ``process=`` names another.
    """

    def __init__(self) -> None: ...
    @property
    def owner_thread(self) -> int:
        """``threading.get_ident()`` of the thread the session belongs to."""
    @property
    def closed(self) -> bool:
        """True once ``close()`` was called."""
    @property
    def follow_children(self) -> bool:
        """Whether children of debugged processes are debugged too (WinDbg's
        ``.childdbg 1``, strace's ``-f``): a child (fork, vfork, posix_spawn,
        system, clone without CLONE_THREAD) is reported with
        ``process-created`` and ``module-loaded`` after its parent's ``fork``
        event, then has its own events; it has no breakpoint until one is
        set in it."""
    @follow_children.setter
    def follow_children(self, on: bool) -> None: ...
    def close(self) -> None:
        """Ends the session: launched processes are killed, attached ones detached."""
    def __enter__(self) -> "Session": ...
    def __exit__(self, *args: object) -> bool: ...

    # processes
    def spawn(
        self,
        argv: Union[Sequence[Union[str, bytes, os.PathLike[str]]], str, bytes, os.PathLike[str]],
        *,
        env: Optional[Mapping[str, str]] = None,
        cwd: Optional[Union[str, os.PathLike[str]]] = None,
        stdin: _Stdio = None,
        stdout: _Stdio = None,
        stderr: _Stdio = None,
        clear_env: bool = False,
        aslr: bool = False,
        kill_on_exit: bool = True,
        stop_at_entry: bool = False,
        follow_children: Optional[bool] = None,
    ) -> "Process":
        """Launches a program under the debugger, stopped before its first
        instruction; its first events (``process-created``, ``module-loaded``
        for the loader and the vDSO) wait in the queue.

        ``argv``: a list (program first; searched in ``PATH`` without a
        ``/``) or a program alone. ``env`` adds variables (``clear_env``
        starts from none). ``stdin``/``stdout``/``stderr``: ``"inherit"``,
        ``"null"`` or ``"pipe"`` (see ``Process.take_pipes``; subprocess.PIPE
        and DEVNULL work too). Address-space randomisation is off unless
        ``aslr=True``. ``kill_on_exit=False`` lets it outlive the session.
        ``stop_at_entry=True``: a ``break-in`` event at the program's entry
        point follows the initial libraries' ``module-loaded`` events.
        ``follow_children`` sets ``Session.follow_children`` first."""
    def attach(self, pid: int) -> "Process":
        """Attaches to a running process: every thread is stopped and the
        present is replayed as events (``process-created``, ``thread-created``
        for each other thread, ``module-loaded`` for each module)."""
    def open_core(self, path: Union[str, "os.PathLike[str]"], executable: Optional[Union[str, "os.PathLike[str]"]] = None) -> "Process":
        """Opens an ELF core file for post-mortem debugging: threads,
        registers, memory, modules, symbols and stacks read as for a live
        process; what would run or change it raises ``NotSupported``."""
    def connect(self, address: str, symbols: Optional[Union[str, "os.PathLike[str]"]] = None, system_map: Optional[Union[str, "os.PathLike[str]"]] = None, extended: bool = False) -> "Process":
        """Connects to a GDB remote stub (``"HOST:PORT"`` or ``"| COMMAND"``):
        a process under gdbserver, or a machine behind QEMU's stub (its CPUs
        are threads; ``vmlinux`` and the kernel's modules are modules).
        ``symbols`` is the program, or the kernel's ``vmlinux`` or
        ``System.map``; ``system_map`` adds a ``System.map``. The present is
        replayed as events, then a ``break-in``."""
    def monitor(self, command: str, process: Optional[Union["Process", int]] = None) -> str:
        """Runs a command of the remote stub (QEMU: ``"info registers"``); returns its output."""
    def kernel_placement(self, process: Optional[Union["Process", int]] = None) -> Tuple[Optional[int], str]:
        """``(slide, how)``: where KASLR put the kernel (``None`` before it runs)."""
    def kernel_processes(self, process: Optional[Union["Process", int]] = None) -> List[Dict[str, Any]]:
        """The kernel's processes: dicts with ``address``, ``pid``, ``parent_pid``, ``comm``, ``user``."""
    def reload_kernel(self, process: Optional[Union["Process", int]] = None) -> Tuple[List[str], List[str]]:
        """Finds the kernel and its modules again; ``(loaded, unloaded)`` module names."""
    def restore(self, checkpoint: Union["Checkpoint", int]) -> "Process":
        """Goes back to a checkpoint: its process is replaced by a copy of that
        moment (a new process id), stopped with a ``break-in`` event waiting;
        breakpoints stay; the checkpoint stays for another restore."""
    def delete_checkpoint(self, checkpoint: Union["Checkpoint", int]) -> None:
        """Drops a checkpoint (its stopped copy is killed)."""
    def detach(self, process: _ProcessArg = None) -> None:
        """Detaches from a process, leaving it running as if never debugged."""
    def kill(self, process: _ProcessArg = None) -> None:
        """Kills a process; its ``process-exited`` event follows."""
    @property
    def processes(self) -> list["Process"]:
        """Every debugged process."""
    def process(self, pid: Optional[int] = None) -> "Process":
        """A process by pid; without one, the default process."""
    @property
    def threads(self) -> list["Thread"]:
        """The threads of the default process."""
    @property
    def modules(self) -> list["Module"]:
        """The modules of the default process."""
    def set_signal_quiet(self, signal: Union[int, str], quiet: bool = True) -> None:
        """Signals passed to the program at once, without an ``exception`` event."""
    def set_signal_stops(self, signal: Union[int, str], stops: bool = False) -> None:
        """Whether a signal's ``exception`` stops the program or only informs (a step goes on after it)."""
    def add_symbol_path(self, path: Union[str, os.PathLike[str]]) -> None:
        """Adds a directory searched for separate debug files (before the standard ones)."""

    # events
    def wait_event(self, timeout: Optional[float] = None) -> Optional["Event"]:
        """Waits for the next event, at most ``timeout`` seconds (``None``:
        until one comes); ``None`` on timeout. The event's process stays
        stopped until ``continue_event``. The GIL is released while waiting.

        Ctrl-C during the wait raises ``KeyboardInterrupt`` with every running
        process stopped (their ``break-in`` events wait in the queue). An
        exception a breakpoint callback raised is raised here, with the
        breakpoint's event in flight."""
    def continue_event(self, status: Optional[_Status] = None, process: _ProcessArg = None) -> None:
        """Continues the waiting event (default: the last one reported) with
        ``status`` (default: ``NOT_HANDLED`` for exceptions, ``HANDLED`` otherwise)."""
    def events(self, timeout: Optional[float] = None) -> "EventIterator":
        """The everyday loop: waits, yields each event, and continues it when
        the loop body ends (with ``event.status``). Ends when no process is
        left; a wait of ``timeout`` seconds without an event raises ``WaitTimeout``."""
    def break_in(self, process: _ProcessArg = None) -> None:
        """Stops a running process; a ``break-in`` event follows."""
    def break_in_all(self) -> List[int]:
        """Stops every running process (each reports a ``break-in`` event); returns their pids."""
    def step_into(self, thread: _ThreadArg = None) -> None:
        """Single-steps a thread (default: the thread of the waiting event),
        continuing the waiting event; a ``step-complete`` event follows."""

    # breakpoints
    def add_breakpoint(
        self,
        location: Union[int, str],
        *,
        process: _ProcessArg = None,
        condition: Optional[str] = None,
        callback: Optional[Callable[["Event"], object]] = None,
        one_shot: bool = False,
        enabled: bool = True,
        ignore_count: int = 0,
        all_processes: bool = False,
    ) -> "Breakpoint":
        """Sets a breakpoint on an address or an expression (``"libc.so.6!socket"``,
        ``"main"``, ``"file.c:12"``, ``"bump+4"``); a name whose module is not
        loaded yet is pending until it loads. A function by name breaks after
        its prologue and ``file.c:12`` on the next line with code, as gdb does;
        ``"*bump"`` (or an address) breaks exactly at the first instruction.

        ``condition``: an engine expression evaluated at each hit
        (``"rdi == 5"``). ``callback(event)`` runs inside the engine on every
        hit: a false return (``False``, ``None``) goes on without an event,
        a true one stops with a ``breakpoint`` event. Inside it the hitting
        thread's registers and the process's memory can be read (and the
        memory written), and everything else that only reads works too:
        symbolize, stacks, frames, ``eval``; continuing or stepping raises
        ``StateError``. An exception it raises stops the process and is
        raised by ``wait_event``/``events()``."""
    def catch_syscall(self, *syscalls: Union[str, int], process: _ProcessArg = None) -> "Breakpoint":
        """A syscall catchpoint (gdb's ``catch syscall``): each entry to and
        exit from the named system calls (``"openat"`` or a number; every
        system call when none is named) comes as a ``syscall-entry`` /
        ``syscall-exit`` event (``syscall``, ``args``, ``result``). Listed
        with the breakpoints (kind ``"syscall"``), removed like them. A
        program without one is not slowed."""
    def add_hardware_breakpoint(self, address: int, *, process: _ProcessArg = None) -> "Watchpoint":
        """A hardware breakpoint (debug registers; the code is not touched)."""
    def add_watchpoint(
        self,
        address: int,
        size: int = 8,
        access: Literal["write", "read_write", "execute"] = "write",
        *,
        page: bool = False,
        process: _ProcessArg = None,
    ) -> "Watchpoint":
        """Watches ``size`` bytes at ``address`` (debug registers: up to 32
        bytes; ``page=True``: page protection, any size)."""
    @property
    def breakpoints(self) -> list["Breakpoint"]:
        """Every breakpoint of every process."""
    @property
    def watchpoints(self) -> list["Watchpoint"]:
        """Every watchpoint of every process."""
    def remove_breakpoint(self, breakpoint: Union["Breakpoint", "Watchpoint", int]) -> None:
        """Removes a breakpoint or a watchpoint."""

    # memory, symbols, expressions (default process)
    def read_memory(self, address: int, size: int, *, process: _ProcessArg = None) -> bytes:
        """Reads ``size`` bytes at ``address``."""
    def write_memory(self, address: int, data: _Bytes, *, process: _ProcessArg = None) -> None:
        """Writes ``data`` at ``address``."""
    def read_pointers(self, address: int, count: int = 1, *, process: _ProcessArg = None) -> list[int]:
        """Reads ``count`` 64-bit pointers at ``address``."""
    @overload
    def read_cstring(
        self, address: int, max_length: int = 4096, encoding: str = "utf-8", errors: str = "replace", *, process: _ProcessArg = None
    ) -> str: ...
    @overload
    def read_cstring(
        self, address: int, max_length: int, encoding: None, errors: str = "replace", *, process: _ProcessArg = None
    ) -> bytes: ...
    def symbolize(self, address: int, *, process: _ProcessArg = None) -> "Symbolized":
        """Names an address (module, symbol+offset, source line)."""
    def lookup(self, name: str, *, process: _ProcessArg = None) -> int:
        """The address of ``module!name``, ``name``, ``file.c:42`` or a module (its base)."""
    def search_symbols(self, pattern: str, module: Optional[str] = None, *, process: _ProcessArg = None) -> list["Symbol"]:
        """Symbols whose name matches a regular expression."""
    def eval(self, expression: str, *, thread: _ThreadArg = None) -> int:
        """Evaluates a WinDbg-style expression with the registers of ``thread``
        (default: the thread of the waiting event)."""
    def stack(self, thread: _ThreadArg = None) -> "Stack":
        """The call stack of ``thread`` (default: the thread of the waiting event)."""

    # pretty printers
    def add_pretty_printer(self, name: str, pattern: str, printer: Callable[["Value"], Union[str, Tuple[str, Sequence[Union["Value", Tuple[str, "Value"]]]]]]) -> None:
        """Prints values whose type name (typedefs and qualifiers off) matches the regular
        expression ``pattern`` with ``printer(value)``: a string, or ``(summary, children)``
        (children are ``Value``s or ``(name, Value)`` pairs). Asked before the built-in printers
        (C++ ``std::string``/``std::vector``, Rust ``String``/``Vec``/``&str``/slices)."""
    def remove_pretty_printer(self, name: str) -> int:
        """Removes the printers named ``name``; returns how many there were."""
    def pretty_printers(self) -> list[str]:
        """The printers' names, the first asked first."""

    # running code in the target
    def call(self, function: Union[int, str], *args: _CallArg, thread: _ThreadArg = None) -> "CallResult":
        """Calls a function in the target (see ``Process.call``)."""
    def allocate_memory(
        self, size: int, protection: str = "rw", address: Optional[int] = None, *, process: _ProcessArg = None
    ) -> int:
        """Maps new memory in a process; returns its address."""
    def inject_library(self, path: Union[str, os.PathLike[str]], *, thread: _ThreadArg = None) -> int:
        """Loads a shared object into the target (``dlopen``); returns its handle."""

@final
class EventIterator(Iterator["Event"]):
    """What ``Session.events()`` returns."""

    def __iter__(self) -> "EventIterator": ...
    def __next__(self) -> "Event": ...

# ---- events ---------------------------------------------------------------------------------

@final
class Event:
    """One debug event. Its process stays stopped (every thread) until the
    event is continued. Attributes that do not apply to the kind are ``None``."""

    @property
    def kind(self) -> _EventKind:
        """What happened."""
    @property
    def pid(self) -> int: ...
    @property
    def tid(self) -> int: ...
    @property
    def process(self) -> "Process": ...
    @property
    def thread(self) -> "Thread":
        """The thread the event happened on."""
    @property
    def image(self) -> Optional[str]:
        """The executable (``process-created``, ``exec``)."""
    @property
    def nt_status(self) -> Optional[int]:
        """The Windows exception code (``0xC0000005``) of an ``exception`` of a Windows program."""
    @property
    def text(self) -> Optional[str]:
        """The line a Windows program wrote with ``OutputDebugString`` (``debug-output``)."""
    @property
    def base(self) -> Optional[int]:
        """The image's or the module's base (``process-created``, ``module-*``)."""
    @property
    def size(self) -> Optional[int]:
        """The image's or the module's size."""
    @property
    def entry(self) -> Optional[int]:
        """The executable's entry point (``process-created``)."""
    @property
    def exit_code(self) -> Optional[int]:
        """The exit status (``process-exited``, ``thread-exited``); ``None`` when a signal killed the process."""
    @property
    def exit_status(self) -> Optional[int]:
        """What a shell sees of a finished process (``process-exited``): the exit code, or 128 + the signal."""
    @property
    def signal(self) -> Optional[int]:
        """The signal (``exception``; ``process-exited`` when one killed it)."""
    @property
    def signal_name(self) -> Optional[str]: ...
    @property
    def code(self) -> Optional[int]:
        """The signal's ``si_code`` (``exception``)."""
    @property
    def address(self) -> Optional[int]:
        """The instruction (``exception``, ``breakpoint``, ``step-complete``) or the watched address (``watchpoint``)."""
    @property
    def fault_address(self) -> Optional[int]:
        """The data address of a memory fault (``exception``)."""
    @property
    def first_chance(self) -> Optional[bool]:
        """First chance, or the second chance before the signal kills the process (``exception``)."""
    @property
    def module(self) -> Optional["Module"]:
        """The module (``module-loaded``, ``module-unloaded``)."""
    @property
    def breakpoint(self) -> Optional["Breakpoint"]:
        """The breakpoint hit (``breakpoint``)."""
    @property
    def watchpoint(self) -> Optional["Watchpoint"]:
        """The watchpoint that fired (``watchpoint``)."""
    @property
    def access(self) -> Optional[str]:
        """``"read"``, ``"write"``, ``"read/write"`` or ``"execute"`` (``watchpoint``)."""
    @property
    def pc(self) -> Optional[int]:
        """``rip`` after the access (``watchpoint``) or at the breakpoint (``breakpoint``)."""
    @property
    def old(self) -> Optional[bytes]:
        """The watched bytes before a write (``watchpoint``), when known."""
    @property
    def new(self) -> Optional[bytes]:
        """The watched bytes after a write (``watchpoint``), when known."""
    @property
    def start(self) -> Optional[int]:
        """The new thread's first instruction (``thread-created``)."""
    @property
    def child(self) -> Optional[int]:
        """The child's pid (``fork``; it runs undebugged unless ``Session.follow_children``)."""
    @property
    def vfork(self) -> Optional[bool]:
        """``fork``: whether it was a vfork (the child borrows its parent's memory until it execs or exits)."""
    @property
    def syscall(self) -> Optional[str]:
        """``syscall-entry``/``syscall-exit``: the system call's name (``"openat"``)."""
    @property
    def syscall_number(self) -> Optional[int]:
        """``syscall-entry``/``syscall-exit``: the system call's number."""
    @property
    def args(self) -> Optional[List[int]]:
        """``syscall-entry``: the six argument registers."""
    @property
    def result(self) -> Optional[int]:
        """``syscall-exit``: what the call returned (a negative errno on failure)."""
    @property
    def hits(self) -> Optional[int]:
        """The breakpoint's hits so far, this one included (in a breakpoint callback)."""
    @property
    def default_status(self) -> ContinueStatus:
        """``NOT_HANDLED`` for exceptions, ``HANDLED`` otherwise."""
    status: ContinueStatus
    """The status the ``events()`` loop continues this event with (assign a
    ``ContinueStatus``, its name, or ``None`` for the default)."""
    @property
    def waiting(self) -> bool:
        """True while the event waits to be continued."""
    def continue_event(self, status: Optional[_Status] = None) -> None:
        """Continues this event now (with ``status``, else ``self.status``)."""

# ---- handles ------------------------------------------------------------------------------------

@final
class Process:
    """A debugged process: a session and a pid. Calls on a process that is
    gone raise ``ProcessGone``; ``alive`` says whether it is still debugged."""

    @property
    def pid(self) -> int: ...
    @property
    def alive(self) -> bool:
        """True while this session debugs the process."""
    @property
    def stopped(self) -> bool:
        """True while the process is held at an event (every thread stopped)."""
    @property
    def image(self) -> str:
        """The executable's path."""
    @property
    def threads(self) -> list["Thread"]: ...
    def thread(self, tid: Optional[int] = None) -> "Thread":
        """A thread by id; without one, the thread of the waiting event (else the main thread)."""
    @property
    def modules(self) -> list["Module"]:
        """The modules in load order, the executable first."""
    def module(self, name: str) -> "Module":
        """A module by name (``libc.so.6``, ``libc``, or its path)."""
    def memory_map(self) -> list["MemoryRegion"]:
        """The memory map (``/proc/PID/maps``)."""
    def read_memory(self, address: int, size: int) -> bytes:
        """Reads memory (breakpoint bytes show as the original bytes)."""
    def write_memory(self, address: int, data: _Bytes) -> None:
        """Writes memory (read-only code included)."""
    def read_pointers(self, address: int, count: int = 1) -> list[int]:
        """Reads ``count`` 64-bit pointers."""
    @overload
    def read_cstring(self, address: int, max_length: int = 4096, encoding: str = "utf-8", errors: str = "replace") -> str: ...
    @overload
    def read_cstring(self, address: int, max_length: int, encoding: None, errors: str = "replace") -> bytes: ...
    def search_memory(
        self, pattern: Union[bytes, str], start: Optional[int] = None, end: Optional[int] = None, alignment: int = 1
    ) -> list[int]:
        """Every address where ``pattern`` occurs, in [start, end) or in every readable mapping."""
    def find_type(self, name: str) -> "Type":
        """A type by name: ``int``, ``struct node``, ``geometry::Point``, ``rusty::Player``."""
    def eval_typed(self, expression: str) -> "Value":
        """Evaluates an expression in the program's language with no frame (globals, types, literals)."""
    def symbolize(self, address: int) -> "Symbolized":
        """Names an address."""
    def lookup(self, name: str) -> int:
        """The address of a name."""
    def lookup_all(self, name: str) -> list["Symbol"]:
        """Every symbol a name stands for."""
    def search_symbols(self, pattern: str, module: Optional[str] = None) -> list["Symbol"]:
        """Symbols whose name matches a regular expression."""
    def eval(self, expression: str, thread: _ThreadArg = None) -> int:
        """Evaluates an expression with the registers of ``thread`` (default: the event's thread)."""
    def break_in(self) -> None:
        """Stops the running process; a ``break-in`` event follows."""
    def continue_event(self, status: Optional[_Status] = None) -> None:
        """Continues the event this process waits at."""
    def detach(self) -> None:
        """Detaches: breakpoints removed, the process left running as if never debugged."""
    def kill(self) -> None:
        """Kills the process; its ``process-exited`` event follows."""
    def set_kill_on_exit(self, on: bool) -> None:
        """Whether the process dies with the session."""
    def add_breakpoint(
        self,
        location: Union[int, str],
        *,
        condition: Optional[str] = None,
        callback: Optional[Callable[["Event"], object]] = None,
        one_shot: bool = False,
        enabled: bool = True,
        ignore_count: int = 0,
        all_processes: bool = False,
    ) -> "Breakpoint":
        """Sets a breakpoint in this process (see ``Session.add_breakpoint``)."""
    def add_hardware_breakpoint(self, address: int) -> "Watchpoint": ...
    def add_watchpoint(
        self, address: int, size: int = 8, access: Literal["write", "read_write", "execute"] = "write", *, page: bool = False
    ) -> "Watchpoint": ...
    @property
    def breakpoints(self) -> list["Breakpoint"]: ...
    @property
    def watchpoints(self) -> list["Watchpoint"]: ...
    def call(self, function: Union[int, str], *args: _CallArg, thread: _ThreadArg = None) -> "CallResult":
        """Calls a function (address or name) in the target with int, str or
        bytes arguments (strings and bytes are copied in; the function gets
        their address). Every register and the stack are restored afterwards."""
    def syscall(self, number: int, *args: int, thread: _ThreadArg = None) -> int:
        """Runs a system call in a stopped thread; its raw result (-errno on failure)."""
    def allocate_memory(self, size: int, protection: str = "rw", address: Optional[int] = None) -> int:
        """Maps new memory (``"rw"``, ``"rwx"``...); returns its address."""
    def free_memory(self, address: int, size: int) -> None: ...
    def protect_memory(self, address: int, size: int, protection: str) -> None: ...
    def inject_library(self, path: Union[str, os.PathLike[str]], thread: _ThreadArg = None) -> int:
        """Loads a shared object (``dlopen``); returns its handle."""
    def checkpoint(self) -> "Checkpoint":
        """Saves the moment of this stopped single-threaded process (memory,
        registers, file offsets); ``Session.restore`` goes back to it."""
    def write_core(self, path: Union[str, os.PathLike[str]]) -> Dict[str, int]:
        """Writes the stopped process as an ELF core file (replacing ``path``):
        every thread's registers, the current event's signal, the mapped files
        and all readable memory, breakpoints hidden. gdb, elfutils and dbgkit
        read it; the process stays as it was. Returns ``file_size``,
        ``memory_bytes`` and ``unreadable_bytes``."""
    def take_pipes(self) -> Tuple[Optional[IO[bytes]], Optional[IO[bytes]], Optional[IO[bytes]]]:
        """``(stdin, stdout, stderr)`` of a process spawned with ``"pipe"`` streams (once)."""

@final
class Thread:
    """A thread of a debugged process. Registers, stack and expressions need
    it stopped (at an event, or as the hitting thread inside a callback)."""

    @property
    def tid(self) -> int: ...
    @property
    def pid(self) -> int: ...
    @property
    def process(self) -> Process: ...
    @property
    def alive(self) -> bool: ...
    @property
    def regs(self) -> "Registers":
        """The registers, live: ``t.regs.rax``, ``t.regs["rip"] = x``, ``dict(t.regs)``."""
    pc: int
    """The instruction pointer (settable)."""
    sp: int
    """The stack pointer (settable)."""
    def stack(self) -> "Stack":
        """The call stack, innermost frame first."""
    def frames(self) -> list["Frame"]:
        """The frames as a source-level debugger numbers them (inlined functions are frames of
        their own), innermost first, each with its variables and ``eval``."""
    def frame(self, number: int = 0) -> "Frame":
        """Source frame ``number`` (0: the innermost)."""
    def symbolize(self, address: Optional[int] = None) -> "Symbolized":
        """Names an address (default: this thread's ``pc``)."""
    def eval(self, expression: str) -> int:
        """Evaluates an expression with this thread's registers."""
    def step_into(self) -> None:
        """Single-steps this thread (continuing the waiting event); a ``step-complete`` event follows."""
    def step_over(self, *, lock_other_threads: bool = False) -> None:
        """Steps over one instruction (a call runs to its return: WinDbg ``p``,
        gdb ``nexti``); ``step-complete`` follows, or whatever stopped it first."""
    def step_out(self, *, lock_other_threads: bool = False) -> None:
        """Runs until the current function returns (WinDbg ``gu``, gdb
        ``finish``); ``step-complete`` follows with the return value in ``rax``."""
    def run_to(self, address: Union[int, str], *, lock_other_threads: bool = False) -> None:
        """Runs until this thread reaches ``address`` (an address or an
        expression), or the current function returns first (gdb ``advance``)."""
    def step_line(self, *, over_calls: bool = False, lock_other_threads: bool = False) -> None:
        """Steps one source line: into functions with line information
        (gdb ``step``), or over calls with ``over_calls`` (gdb ``next``)."""
    def call(self, function: Union[int, str], *args: _CallArg) -> "CallResult": ...
    def syscall(self, number: int, *args: int) -> int: ...

@final
class Module:
    """A module mapped in a process, as it was when the handle was made."""

    @property
    def name(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def base(self) -> int: ...
    @property
    def size(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def bias(self) -> int: ...
    @property
    def process(self) -> Process: ...
    @property
    def alive(self) -> bool:
        """True while the module is loaded in a debugged process."""
    def contains(self, address: int) -> bool: ...
    def __contains__(self, address: int, /) -> bool: ...
    def lookup(self, name: str) -> int:
        """The address of a symbol of this module."""
    def symbols(self, pattern: str = "") -> list["Symbol"]:
        """This module's symbols matching a regular expression."""

@final
class Breakpoint:
    """A breakpoint; its state is read from the session each time."""

    @property
    def id(self) -> int: ...
    @property
    def pid(self) -> int: ...
    @property
    def process(self) -> Process: ...
    @property
    def all_processes(self) -> bool:
        """Copied into every child of its process when children are followed."""
    @property
    def kind(self) -> Literal["software", "hardware", "watch", "page-watch", "syscall"]:
        """What it is; a ``"syscall"`` catchpoint names its calls in ``expression``."""
    @property
    def address(self) -> Optional[int]:
        """The address, or ``None`` while pending."""
    @property
    def hits(self) -> int: ...
    enabled: bool
    condition: Optional[str]
    ignore_count: int
    @property
    def one_shot(self) -> bool: ...
    @property
    def has_callback(self) -> bool: ...
    @property
    def expression(self) -> Optional[str]: ...
    @property
    def unresolved(self) -> Optional[str]:
        """Why it is not planted yet, or ``None``."""
    @property
    def pending(self) -> bool: ...
    @property
    def alive(self) -> bool: ...
    def remove(self) -> None: ...

@final
class Watchpoint:
    """A hardware or page watchpoint (or a hardware breakpoint)."""

    @property
    def id(self) -> int: ...
    @property
    def pid(self) -> int: ...
    @property
    def process(self) -> Process: ...
    @property
    def address(self) -> int: ...
    @property
    def size(self) -> int: ...
    @property
    def access(self) -> str: ...
    @property
    def hits(self) -> int: ...
    @property
    def page(self) -> bool: ...
    @property
    def alive(self) -> bool: ...
    def remove(self) -> None: ...

# ---- values ---------------------------------------------------------------------------------------

@final
class Registers(Mapping[str, int]):
    """The registers of a stopped thread, live: reads give the current value,
    assignments write into the thread at once. Names: the general registers
    (``rax``... ``gs``, ``fs_base``), sub-registers (``eax``, ``ax``, ``al``,
    ``ah``, ``r8d``), ``xmm0``-``xmm15``, ``st0``-``st7``, ``mxcsr``,
    ``fcw``, ``fsw``, ``ftw``. Iteration gives the general registers."""

    def __getattr__(self, name: str) -> int: ...
    def __setattr__(self, name: str, value: int, /) -> None: ...
    def __getitem__(self, name: str, /) -> int: ...
    def __setitem__(self, name: str, value: int, /) -> None: ...
    def __contains__(self, name: object, /) -> bool: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[str]: ...
    def get(self, name: str, default: Any = None) -> Any:
        """A register's value, or ``default`` for an unknown name."""
    def keys(self) -> list[str]:  # type: ignore[override]
        """The names of the general registers."""
    def values(self) -> list[int]:  # type: ignore[override]
        """The values of the general registers, in ``keys()`` order."""
    def items(self) -> list[Tuple[str, int]]:  # type: ignore[override]
        """``(name, value)`` for every general register."""
    def as_dict(self) -> dict[str, int]:
        """A snapshot of every general register."""
    def update(self, values: Optional[Mapping[str, int]] = None, **kwargs: int) -> None:
        """Writes several registers at once."""

@final
class Symbolized:
    """What is known about an address; ``str()`` gives ``libc.so.6!malloc+0x1f``."""

    @property
    def address(self) -> int: ...
    @property
    def module(self) -> Optional[str]: ...
    @property
    def module_offset(self) -> int: ...
    @property
    def symbol(self) -> Optional[str]: ...
    @property
    def raw_symbol(self) -> Optional[str]: ...
    @property
    def offset(self) -> int: ...
    @property
    def file(self) -> Optional[str]: ...
    @property
    def line(self) -> Optional[int]: ...
    @property
    def column(self) -> Optional[int]: ...
    @property
    def inlined(self) -> list[Tuple[Optional[str], Optional[str], Optional[int]]]:
        """The inline chain, innermost first: ``(function, file, line)``."""
    def with_location(self) -> str:
        """``libc.so.6!malloc+0x1f (malloc.c:3287)``."""

@final
class Symbol:
    """A named symbol at its runtime address; ``str()`` gives ``module!name``."""

    @property
    def module(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def raw_name(self) -> str: ...
    @property
    def address(self) -> int: ...
    @property
    def size(self) -> int: ...

@final
class StackFrame:
    """One frame; ``str()`` gives ``#N ADDRESS module!function+off (file:line)``."""

    @property
    def number(self) -> int: ...
    @property
    def pc(self) -> int: ...
    @property
    def sp(self) -> int: ...
    @property
    def cfa(self) -> int: ...
    @property
    def found_by(self) -> Literal["registers", "cfi", "frame-pointer", "stack-top"]: ...
    @property
    def after_call(self) -> bool: ...
    @property
    def signal_trampoline(self) -> bool: ...
    @property
    def lookup_pc(self) -> int: ...
    @property
    def symbol(self) -> Optional[Symbolized]: ...
    @property
    def function(self) -> Optional[str]: ...
    @property
    def registers(self) -> list[Tuple[str, int]]:
        """The registers recovered for this frame."""
    def source_frame(self) -> "Frame":
        """The source-level frame of this frame's innermost function (see ``Thread.frames()``)."""
    def locals(self) -> list["Variable"]:
        """The local variables of the frame's function, the innermost block's first (gdb's ``info locals``)."""
    def args(self) -> list["Variable"]:
        """The parameters of the frame's function (gdb's ``info args``)."""
    def variable(self, name: str) -> "Variable":
        """A parameter or local by name; ``KeyError`` when there is none."""
    def eval(self, expression: str) -> "Value":
        """Evaluates an expression in the frame's language (C/C++ rules): ``frame.eval("p->next->x")``."""

@final
class Frame:
    """A frame as a source-level debugger numbers them: inlined functions are
    frames of their own (gdb's ``bt``). ``str()`` gives ``#N function at file:line``."""

    @property
    def number(self) -> int: ...
    @property
    def physical(self) -> int:
        """The index of its physical frame in ``Thread.stack()``."""
    @property
    def pc(self) -> int: ...
    @property
    def function(self) -> Optional[str]:
        """The function's name (C++ without its parameters)."""
    @property
    def file(self) -> Optional[str]: ...
    @property
    def line(self) -> Optional[int]:
        """The source line; for a function others were inlined into, the line of the inlined call."""
    @property
    def inlined(self) -> bool:
        """True when this function was inlined into the next frame."""
    def variables(self) -> list["Variable"]:
        """Parameters, then locals."""
    def locals(self) -> list["Variable"]:
        """The local variables, the innermost block's first (gdb's ``info locals``)."""
    def args(self) -> list["Variable"]:
        """The parameters (gdb's ``info args``)."""
    def variable(self, name: str) -> "Variable":
        """A parameter or local by name; ``KeyError`` when there is none."""
    def eval(self, expression: str) -> "Value":
        """Evaluates an expression in the frame's language: members, ``*p``, ``&x``,
        ``a[i]``, casts, C arithmetic; ``x = 5`` assigns. Unknown names raise ``ExpressionError``."""
    def set(self, target: str, value: str) -> "Value":
        """Assigns ``value`` (an expression) to ``target`` through its type (gdb's ``set var``)."""

@final
class Variable:
    """A parameter or local variable with its value; ``str()`` gives ``name = value`` as gdb prints it."""

    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> Literal["argument", "local"]: ...
    @property
    def type_name(self) -> str: ...
    @property
    def text(self) -> str:
        """The value as gdb's ``info locals`` shows it (``<optimized out>`` when it is)."""
    @property
    def optimized_out(self) -> bool: ...
    @property
    def value(self) -> "Value": ...

@final
class Value:
    """A typed value. ``str()`` prints it as gdb does; ``v["member"]`` and ``v[2]``
    look into it (pointers and references are followed); ``int()``, ``float()``, ``bool()``."""

    @property
    def type_name(self) -> str: ...
    @property
    def type(self) -> "Type": ...
    @property
    def address(self) -> Optional[int]:
        """Where the value is in memory, if it is."""
    @property
    def optimized_out(self) -> bool: ...
    def __getitem__(self, key: Union[str, int], /) -> "Value": ...
    def deref(self) -> "Value":
        """What a pointer or reference points to."""
    def string(self, max_length: int = 4096) -> str:
        """The characters of a ``char *`` or ``char[]`` up to a zero byte."""
    def format(self, format: Optional[str] = None) -> str:
        """The value with a gdb format letter: ``"x"``, ``"d"``, ``"u"``, ``"o"``, ``"t"``, ``"c"``, ``"a"``, ``"z"``."""
    def __int__(self) -> int: ...
    def __index__(self) -> int: ...
    def __float__(self) -> float: ...
    def __bool__(self) -> bool: ...

@final
class Type:
    """A type: ``.name``, ``.size``, ``.fields``; ``str()`` writes it out as gdb's ``ptype`` does."""

    @property
    def name(self) -> str: ...
    @property
    def size(self) -> Optional[int]: ...
    @property
    def fields(self) -> list["Field"]:
        """Members and base classes, in order (typedefs looked through)."""

@final
class Field:
    """One member (or base class) of a type."""

    @property
    def name(self) -> Optional[str]: ...
    @property
    def type(self) -> Type: ...
    @property
    def type_name(self) -> str: ...
    @property
    def offset(self) -> int:
        """Byte offset in the object."""
    @property
    def bitpos(self) -> Optional[int]:
        """For a bit-field, the first bit from ``offset``."""
    @property
    def bitsize(self) -> Optional[int]: ...
    @property
    def is_base_class(self) -> bool: ...
    @property
    def is_static(self) -> bool: ...

@final
class Stack(Sequence[StackFrame]):
    """A walked call stack, innermost frame first."""

    @property
    def frames(self) -> list[StackFrame]: ...
    @property
    def stopped(self) -> Optional[str]:
        """Why the walk ended before the outermost frame, or ``None``."""
    def __len__(self) -> int: ...
    @overload
    def __getitem__(self, index: int, /) -> StackFrame: ...
    @overload
    def __getitem__(self, index: slice, /) -> Sequence[StackFrame]: ...
    def __iter__(self) -> Iterator[StackFrame]: ...

@final
class MemoryRegion:
    """One mapping of a process's address space."""

    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def size(self) -> int: ...
    @property
    def readable(self) -> bool: ...
    @property
    def writable(self) -> bool: ...
    @property
    def executable(self) -> bool: ...
    @property
    def shared(self) -> bool: ...
    @property
    def offset(self) -> int: ...
    @property
    def path(self) -> str: ...
    @property
    def permissions(self) -> str: ...
    def __contains__(self, address: int, /) -> bool: ...

@final
class CallResult:
    """What a called function returned; ``int()`` gives ``rax``."""

    @property
    def rax(self) -> int: ...
    @property
    def value(self) -> int:
        """``rax`` as a signed integer."""
    @property
    def xmm0(self) -> int: ...
    @property
    def double(self) -> float:
        """``xmm0`` as a double."""
    def __int__(self) -> int: ...
    def __index__(self) -> int: ...

def triage_run(argv: list[str], inputs: list[str], jobs: int, timeout: float, frames: int, aslr: bool, follow_children: bool = False) -> str:
    """Runs ``argv`` (``"@@"`` for the input's path) on each input, ``jobs``
    at a time; returns ``{"clusters": [...], "records": [...]}`` as JSON
    text. Use :func:`dbgkit.triage.run`, which wraps it."""
    ...

@final
class Checkpoint:
    """A saved moment of a process (``Process.checkpoint()``)."""
    @property
    def id(self) -> int: ...
    @property
    def pc(self) -> int: ...
