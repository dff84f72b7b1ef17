"""Breakpoints as vtrace has them: objects with an address or an expression
(resolved when it can be: deferred until its library loads), whose
``notify(event, trace)`` runs at each hit, and optional Python code
(``trace.setBreakpointCode``)."""

import logging

logger = logging.getLogger(__name__)


class Breakpoint:
    """A code breakpoint. ``address`` is an int, or ``None`` with an
    ``expression`` (``"libc.malloc"``, ``"libc.exit + 5"``) resolved by
    ``trace.parseExpression`` when its names exist.

    ``fastbreak``: the hit runs ``notify`` and goes on, with no
    ``NOTIFY_BREAK`` and no ``NOTIFY_CONTINUE``. ``stealthbreak``: no
    ``NOTIFY_BREAK`` (the trace stops unless told to run again)."""

    bpcodeobj = {}  # compiled breakpoint code, by breakpoint id

    def __init__(self, address, expression=None):
        self.resonce = False
        self.address = address
        self.enabled = True
        self.active = False
        self.fastbreak = False
        self.stealthbreak = False
        self.id = -1
        self.vte = expression or None
        self.bpcode = None
        self._handle = None  # the engine's breakpoint while planted

    def getAddress(self):
        """The address, or ``None`` while the breakpoint is deferred."""
        return self.address

    def getId(self):
        return self.id

    def getName(self):
        if self.vte:
            return str(self.vte)
        return "0x%.8x" % self.address

    def __repr__(self):
        addr = "unresolved" if self.address is None else "0x%.8x" % self.address
        return "[%d] %s %s: %s" % (self.id, addr, self.__class__.__name__, self.getName())

    def inittrace(self, trace):
        """Called when the breakpoint is added to a trace."""

    def activate(self, trace):
        """Plants the breakpoint in the process (the engine keeps it planted
        across continues and steps over it itself)."""
        if not self.active:
            trace._plantBreakpoint(self)
            self.active = True

    def deactivate(self, trace):
        """Removes the breakpoint from the process."""
        if self.active:
            trace._unplantBreakpoint(self)
            self.active = False

    def resolvedaddr(self, trace, addr):
        """Called once, when the address is first known."""

    def resolveAddress(self, trace):
        """The address: given, or the expression's value once it can be
        evaluated (``None`` until then)."""
        if self.address is None and self.vte:
            try:
                self.address = trace.parseExpression(self.vte)
            except Exception:
                self.address = None
        if self.address is not None and not self.resonce:
            self.resonce = True
            self.resolvedaddr(trace, self.address)
        return self.address

    def isEnabled(self):
        return self.enabled

    def setEnabled(self, enabled=True):
        self.enabled = enabled
        if self._handle is not None:
            self._handle.enabled = bool(enabled)

    def setBreakpointCode(self, pystr):
        """Python code run at each hit, with ``trace``, ``vtrace``, ``bp``
        and the expression names (registers, libraries) in its namespace."""
        self.bpcode = pystr
        Breakpoint.bpcodeobj.pop(self.id, None)

    def getBreakpointCode(self):
        return self.bpcode

    def notify(self, event, trace):
        """Runs at each hit. An override that wants the breakpoint code to
        run too calls this."""
        if self.bpcode is not None:
            cobj = Breakpoint.bpcodeobj.get(self.id)
            if cobj is None:
                fname = "BP:%d (0x%.8x)" % (self.id, self.address or 0)
                cobj = compile(self.bpcode, fname, "exec")
                Breakpoint.bpcodeobj[self.id] = cobj
            from ._expression import VtraceExpressionLocals

            names = VtraceExpressionLocals(trace)
            names["bp"] = self
            exec(cobj, None, names)


class TrackerBreak(Breakpoint):
    """Counts its hits by address in meta ``TrackerBreak``."""

    def notify(self, event, trace):
        tb = trace.getMeta("TrackerBreak", None)
        if tb is None:
            tb = {}
        trace.setMeta("TrackerBreak", tb)
        tb[self.address] = tb.get(self.address, 0) + 1
        Breakpoint.notify(self, event, trace)


class OneTimeBreak(Breakpoint):
    """Removes itself at its first hit."""

    def notify(self, event, trace):
        trace.removeBreakpoint(self.id)
        Breakpoint.notify(self, event, trace)


class StopRunForeverBreak(Breakpoint):
    """Turns RunForever off when hit: the trace stops here."""

    def notify(self, event, trace):
        trace.setMode("RunForever", False)
        Breakpoint.notify(self, event, trace)


class StopAndRemoveBreak(Breakpoint):
    """Turns RunForever off and removes itself (``run(until=...)``)."""

    def notify(self, event, trace):
        trace.setMode("RunForever", False)
        trace.removeBreakpoint(self.id)
        Breakpoint.notify(self, event, trace)


class NiceBreakpoint(Breakpoint):
    """A breakpoint on an int (an address) or a str (an expression)."""

    def __init__(self, expr, *args, **kwargs):
        if isinstance(expr, int):
            Breakpoint.__init__(self, expr, *args, **kwargs)
        else:
            Breakpoint.__init__(self, None, *args, expression=expr, **kwargs)
