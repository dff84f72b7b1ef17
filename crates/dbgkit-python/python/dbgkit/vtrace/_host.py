"""The tracer thread: one thread owns one dbgkit session and makes every
call into it (ptrace's rule; vtrace's ThreadProxy mode does the same).

A trace's methods run on this thread; callers on other threads wait for
them. While a trace runs without blocking its caller (``NonBlocking``
mode, a ``TraceGroup``), this thread keeps handling the session's events
between requests, as vtrace's wait thread does: notifiers run here."""

import queue
import threading

from .. import _dbgkit as _dk

# How long the tracer thread waits for an event before it looks at its
# requests again, while traces run in the background.
POLL_SECONDS = 0.02


class _Request:
    __slots__ = ("function", "args", "kwargs", "done", "result", "error")

    def __init__(self, function, args, kwargs):
        self.function = function
        self.args = args
        self.kwargs = kwargs
        self.done = threading.Event()
        self.result = None
        self.error = None


class TracerHost:
    """One session on its own thread, serving one trace or a trace group."""

    def __init__(self):
        self.traces = {}  # pid -> Trace
        self.group = None  # the TraceGroup this host serves, if any
        self.session = None
        self._requests = queue.Queue()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._main, name="dbgkit-vtrace", daemon=True)
        self._thread.start()
        self._started.wait()

    # ---- the thread -----------------------------------------------------

    def _main(self):
        self.session = _dk.Session()
        self._started.set()
        try:
            while True:
                if self._background():
                    try:
                        request = self._requests.get_nowait()
                    except queue.Empty:
                        self.poll(POLL_SECONDS)
                        continue
                else:
                    request = self._requests.get()
                if request is None:
                    break
                try:
                    request.result = request.function(*request.args, **request.kwargs)
                except BaseException as error:  # handed to the caller
                    request.error = error
                request.done.set()
        finally:
            self.session.close()

    def _background(self):
        return any(t.running and t._background for t in list(self.traces.values()))

    def on_thread(self):
        return threading.get_ident() == self._thread.ident

    def call(self, function, *args, **kwargs):
        """Runs ``function`` on the tracer thread and returns its result."""
        if self.on_thread():
            return function(*args, **kwargs)
        if not self._thread.is_alive():
            from . import PlatformException

            raise PlatformException("this trace was released")
        request = _Request(function, args, kwargs)
        self._requests.put(request)
        request.done.wait()
        if request.error is not None:
            raise request.error
        return request.result

    def stop(self):
        """Ends the thread (its session is closed: launched processes die,
        attached ones are detached)."""
        if self._thread.is_alive() and not self.on_thread():
            self._requests.put(None)
            self._thread.join(timeout=10)

    # ---- events (on the thread) -----------------------------------------

    def poll(self, timeout):
        """Handles at most one event, waiting at most ``timeout`` seconds."""
        try:
            event = self.session.wait_event(timeout)
        except _dk.StateError:
            # No process left: whatever still looks running has gone.
            for trace in list(self.traces.values()):
                trace._lost()
            return
        if event is not None:
            self.dispatch(event)

    def wait_until_stopped(self, trace):
        """Handles events (of every trace of the host) until ``trace`` stops."""
        while trace.running:
            self.poll(None)

    def dispatch(self, event):
        """Gives an event to its trace, which either stops at it or goes on."""
        trace = self.traces.get(event.pid)
        if trace is None:
            if event.kind == "process-created" and self.group is not None:
                trace = self.group._adoptProcess(event.pid)
            else:
                # A process no trace speaks for: let it go on.
                event.continue_event()
                return
        trace._handleEvent(event)
        if trace.exited:
            self.traces.pop(trace.pid, None)
        elif trace.shouldRunAgain():
            trace._doRun()
        else:
            trace.running = False
            trace._background = False
