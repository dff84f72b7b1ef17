"""Notifiers: objects told about a trace's events (vtrace's ``Notifier``)."""

import logging
import sys

from .const import EVENT_NAMES, NOTIFY_EXIT, NOTIFY_LOAD_LIBRARY, NOTIFY_SIGNAL

logger = logging.getLogger(__name__)


class Notifier:
    """Subclass and override ``notify(event, trace)``; register with
    ``trace.registerNotifier(vtrace.NOTIFY_..., notifier)``. Notifiers run on
    the trace's own thread (every call into the debugger is made there)."""

    def __init__(self):
        pass

    def handleEvent(self, event, trace):
        """Called by the trace; calls ``notify``."""
        self.notify(event, trace)

    def notify(self, event, trace):
        pass


class VerboseNotifier(Notifier):
    """Prints a line for every event (a debugging aid, as in vtrace)."""

    def __init__(self, out=None):
        Notifier.__init__(self)
        self.out = out

    def notify(self, event, trace):
        out = self.out or sys.stdout
        name = EVENT_NAMES.get(event, str(event))
        line = "%s pid=%d tid=%s" % (name, trace.getPid(), trace.getMeta("ThreadId"))
        if event == NOTIFY_SIGNAL:
            line += " signal=%s" % trace.getMeta("PendingSignal")
        elif event == NOTIFY_EXIT:
            line += " code=%s" % trace.getMeta("ExitCode")
        elif event == NOTIFY_LOAD_LIBRARY:
            line += " library=%s" % trace.getMeta("LatestLibrary")
        print(line, file=out)


class LibraryNotifier(Notifier):
    """Stops the trace at a library load when meta ``BreakOnLibraryLoad`` is set."""

    def notify(self, event, trace):
        if event == NOTIFY_LOAD_LIBRARY and trace.getMeta("BreakOnLibraryLoad"):
            trace.runAgain(False)
