"""vtrace's API over dbgkit: ``import dbgkit.vtrace as vtrace`` and a vtrace
script runs on dbgkit's engine.

    import dbgkit.vtrace as vtrace

    trace = vtrace.getTrace()
    trace.execute("/usr/bin/python3 -c 'import sys; sys.exit(33)'")
    bpid = trace.addBreakByExpr("libc.malloc")      # deferred: libc is not loaded yet
    trace.setBreakpointCode(bpid, "trace.setMeta('mallocs', (trace.getMeta('mallocs') or 0) + 1)")
    trace.setMode("RunForever", True)
    trace.run()
    print(trace.getMeta("ExitCode"), trace.getMeta("mallocs"))
    trace.release()

Semantics follow vtrace's documentation; what differs on Linux amd64:

* each trace owns a thread that makes every ptrace call (vtrace's
  ThreadProxy mode, always on); notifiers and breakpoint code run there;
* ``NonBlocking`` mode: ``run()`` returns at once and that thread handles
  the events meanwhile; ``sendBreak()`` stops the process and returns once
  it is stopped;
* breakpoints stay planted while the process runs (the engine steps over
  them), hardware watchpoints (``Watchpoint``), page watchpoints
  (``PageWatchpoint``) and ``allocateMemory`` work on amd64, and a thread
  that runs while another execs does not lose the trace;
* ``setCurrentSignal`` can suppress the pending signal or keep it, not
  deliver another one.
"""

from . import const
from ._expression import FileSymbol, Symbol, VtraceExpressionLocals, normalize_library_name
from ._trace import AccessViolation, PlatformException, Trace
from .breakpoints import (
    Breakpoint,
    NiceBreakpoint,
    OneTimeBreak,
    StopAndRemoveBreak,
    StopRunForeverBreak,
    TrackerBreak,
)
from .const import *  # noqa: F401,F403 (NOTIFY_*, MM_*, ...)
from .group import TraceGroup
from .notifiers import Notifier, VerboseNotifier
from .watchpoints import PageWatchpoint, Watchpoint

verbose = False


def getTrace(target=None, **kwargs):
    """A new trace for this machine (Linux, amd64). Release it with
    ``trace.release()`` when done. Remote targets are not supported."""
    if target is not None:
        raise PlatformException("vtrace target %r is not supported by dbgkit (only this machine's processes)" % target)
    return Trace()
