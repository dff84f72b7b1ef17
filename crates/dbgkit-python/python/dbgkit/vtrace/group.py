"""``TraceGroup``: several traces run together, their notifications sent to
the group's notifiers. The group's traces share one dbgkit session (one
event queue, one tracer thread). A process the session reports that no
trace speaks for (a child, when children are followed) becomes a
trace of the group, announced by NOTIFY_ATTACH."""

import time

from . import const as c
from ._host import TracerHost
from ._trace import Trace
from .notifiers import Notifier


class TraceGroup(Notifier):
    """Traces run together; ``run()`` never blocks."""

    def __init__(self, followChildren=False):
        Notifier.__init__(self)
        self._host = TracerHost()
        self._host.group = self
        self.traces = {}
        self.modes = {}
        self.metadata = {}
        self.notifiers = {}
        self.go = True
        self.registerNotifier(c.NOTIFY_ALL, self)
        self.setMode("NonBlocking", True)
        if followChildren:
            self.setFollowChildren(True)

    # ---- what every trace of the group gets ----------------------------------

    def setFollowChildren(self, on=True):
        """Children the processes start become traces of the group (the
        engine's following of children, ``Session.follow_children``)."""

        def apply():
            self._host.session.follow_children = bool(on)

        self._host.call(apply)

    def registerNotifier(self, event, notifier):
        self.notifiers.setdefault(event, []).append(notifier)
        for trace in self.getTraces():
            trace.registerNotifier(event, notifier)

    def deregisterNotifier(self, event, notifier):
        nlist = self.notifiers.get(event, [])
        if notifier in nlist:
            nlist.remove(notifier)
        for trace in self.getTraces():
            trace.deregisterNotifier(event, notifier)

    def setMode(self, name, value):
        self.modes[name] = bool(value)
        for trace in self.getTraces():
            trace.setMode(name, value)

    def getMode(self, name, default=False):
        return self.modes.get(name, default)

    def setMeta(self, name, value):
        """Metadata given to every trace, now and when it joins."""
        self.metadata[name] = value
        for trace in self.getTraces():
            trace.setMeta(name, value)

    def getMeta(self, name, default=None):
        return self.metadata.get(name, default)

    def manageTrace(self, trace):
        for name, value in self.modes.items():
            trace.setMode(name, value)
        for name, value in self.metadata.items():
            trace.setMeta(name, value)
        for event, nlist in self.notifiers.items():
            for notifier in nlist:
                if notifier not in trace.getNotifiers(event):
                    trace.registerNotifier(event, notifier)

    def unManageTrace(self, trace):
        if trace is None:
            return
        for event, nlist in self.notifiers.items():
            for notifier in nlist:
                trace.deregisterNotifier(event, notifier)

    # ---- traces ---------------------------------------------------------------

    def _newTrace(self):
        trace = Trace(host=self._host)
        self.manageTrace(trace)
        return trace

    def execTrace(self, cmdline):
        """Starts a program as a trace of the group; returns the trace (stopped)."""
        trace = self._newTrace()
        trace.execute(cmdline)
        self.traces[trace.getPid()] = trace
        return trace

    def addTrace(self, proc):
        """Attaches to pid ``proc`` (or adds a trace of this group's) and returns the trace."""
        if isinstance(proc, int):
            trace = self._newTrace()
            self.traces[proc] = trace
            try:
                trace.attach(proc)
            except Exception:
                self.delTrace(proc)
                raise
            return trace
        if getattr(proc, "_host", None) is not self._host:
            raise Exception("a trace joins a group only if the group made it (tg.getTrace(), execTrace, addTrace(pid))")
        self.manageTrace(proc)
        if proc.getPid():
            self.traces[proc.getPid()] = proc
        return proc

    def getTrace(self):
        """A new trace of the group, not attached yet."""
        return self._newTrace()

    def _adoptProcess(self, pid):
        """A process the session reports that no trace speaks for: a new trace (on the tracer thread)."""
        trace = self._newTrace()
        trace._justAttached(pid)
        trace._background = True
        self.traces[pid] = trace
        return trace

    def delTrace(self, pid):
        trace = self.traces.pop(pid, None)
        self.unManageTrace(trace)

    def getTraces(self):
        return list(self.traces.values())

    def getTraceByPid(self, pid):
        return self.traces.get(pid)

    # ---- running -------------------------------------------------------------

    def run(self):
        """Lets every stopped trace run; never blocks (events are handled on
        the group's tracer thread). Exited traces leave the group."""
        if not self.traces:
            raise Exception("ERROR - can't run() with no traces!")
        for trace in list(self.traces.values()):
            if trace.exited:
                self.traces.pop(trace.pid, None)
                continue
            if not trace.isRunning():
                trace.setMode("NonBlocking", True)
                trace.run()

    def waitAll(self, timeout=None):
        """Waits until no trace of the group is running (all stopped or
        exited); returns False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while any(t.isRunning() for t in self.getTraces()):
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(0.01)
        return True

    def detachAll(self):
        for trace in list(self.traces.values()):
            try:
                if trace.isRunning():
                    trace.sendBreak()
                trace.detach()
            except Exception:
                pass

    def release(self):
        """Detaches every trace and ends the group's tracer thread."""
        self.detachAll()
        self._host.stop()

    def notify(self, event, trace):
        if event == c.NOTIFY_EXIT:
            self.delTrace(trace.getPid())
