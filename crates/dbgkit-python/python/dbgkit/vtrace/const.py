"""vtrace's constants, with vtrace's values: notification events, memory
permissions (``envi.memory``'s ``MM_*``), symbol types."""

# Notification events. A notifier registered for NOTIFY_ALL gets every one.
NOTIFY_ALL = 0
NOTIFY_SIGNAL = 1  # a signal (exception) reached the process
NOTIFY_BREAK = 2  # a breakpoint, or a break asked for with sendBreak()
NOTIFY_STEP = 3  # a single step completed
NOTIFY_SYSCALL = 4  # never fired: system call stops are not reported
NOTIFY_CONTINUE = 5  # the trace is about to run
NOTIFY_EXIT = 6  # the process exited (meta ExitCode)
NOTIFY_ATTACH = 7  # attached (or a launched process started)
NOTIFY_DETACH = 8  # about to detach
NOTIFY_LOAD_LIBRARY = 9  # a library was mapped (meta LatestLibrary)
NOTIFY_UNLOAD_LIBRARY = 10
NOTIFY_CREATE_THREAD = 11  # meta ThreadId is the new thread
NOTIFY_EXIT_THREAD = 12  # meta ExitThread and ExitCode
NOTIFY_DEBUG_PRINT = 13  # Windows only: never fired here
NOTIFY_MAX = 20

# Memory map permissions, as envi.memory numbers them.
MM_NONE = 0x0
MM_READ = 0x4
MM_WRITE = 0x2
MM_EXEC = 0x1
MM_SHARED = 0x08
MM_READ_WRITE = MM_READ | MM_WRITE
MM_READ_EXEC = MM_READ | MM_EXEC
MM_RWX = MM_READ | MM_WRITE | MM_EXEC

# File descriptor types (getFds is not provided; the names are kept for scripts).
FD_UNKNOWN = 0
FD_FILE = 1
FD_SOCKET = 2
FD_PIPE = 3
FD_LOCK = 4
FD_EVENT = 5
FD_THREAD = 6
FD_REGKEY = 7

# Symbol types.
SYM_MISC = -1
SYM_GLOBAL = 0
SYM_LOCAL = 1
SYM_FUNCTION = 2
SYM_SECTION = 3
SYM_META = 4

# Offsets in a symbol tuple.
VSYM_NAME = 0
VSYM_ADDR = 1
VSYM_SIZE = 2
VSYM_TYPE = 3
VSYM_FILE = 4

#: The names of the events, for messages.
EVENT_NAMES = {
    NOTIFY_ALL: "NOTIFY_ALL",
    NOTIFY_SIGNAL: "NOTIFY_SIGNAL",
    NOTIFY_BREAK: "NOTIFY_BREAK",
    NOTIFY_STEP: "NOTIFY_STEP",
    NOTIFY_SYSCALL: "NOTIFY_SYSCALL",
    NOTIFY_CONTINUE: "NOTIFY_CONTINUE",
    NOTIFY_EXIT: "NOTIFY_EXIT",
    NOTIFY_ATTACH: "NOTIFY_ATTACH",
    NOTIFY_DETACH: "NOTIFY_DETACH",
    NOTIFY_LOAD_LIBRARY: "NOTIFY_LOAD_LIBRARY",
    NOTIFY_UNLOAD_LIBRARY: "NOTIFY_UNLOAD_LIBRARY",
    NOTIFY_CREATE_THREAD: "NOTIFY_CREATE_THREAD",
    NOTIFY_EXIT_THREAD: "NOTIFY_EXIT_THREAD",
    NOTIFY_DEBUG_PRINT: "NOTIFY_DEBUG_PRINT",
}


def perms_string(perms: int) -> str:
    """``MM_*`` bits as dbgkit's protection string (``"rwx"``, ``"r"``, ``""``)."""
    return "".join(c for bit, c in ((MM_READ, "r"), (MM_WRITE, "w"), (MM_EXEC, "x")) if perms & bit)


def repr_perms(perms: int) -> str:
    """``MM_*`` bits as ``rwx`` with dashes, as envi shows them."""
    return "".join(c if perms & bit else "-" for bit, c in ((MM_READ, "r"), (MM_WRITE, "w"), (MM_EXEC, "x")))
