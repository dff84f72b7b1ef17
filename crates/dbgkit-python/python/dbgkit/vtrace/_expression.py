"""Symbols and expressions the vtrace way: ``libc.exit``, ``libc.exit + 5``,
``rsp + 8``, ``poi(rsp)``, evaluated as Python with names resolved by the
trace (registers, variables, libraries by their normalized names)."""

import os


def normalize_library_name(path):
    """vtrace's normalized library name: the file name up to its first dot
    and its first dash, lower case (``libc.so.6`` -> ``libc``,
    ``ld-linux-x86-64.so.2`` -> ``ld``)."""
    base = os.path.basename(path)
    return base.split(".")[0].split("-")[0].lower()


class Symbol(int):
    """A named address: an int (its value) with ``name``, ``value``, ``size``
    and ``fname`` (the library's normalized name). ``str()`` is
    ``fname.name``, the form expressions use."""

    def __new__(cls, name, value, size=0, fname=None):
        obj = int.__new__(cls, value)
        obj.name = name
        obj.value = int(value)
        obj.size = size
        obj.fname = fname
        return obj

    def __str__(self):
        if self.fname and self.fname != self.name:
            return "%s.%s" % (self.fname, self.name)
        return self.name

    def __repr__(self):
        return "Symbol(%s at 0x%x)" % (self, self.value)


class FileSymbol(Symbol):
    """A library as a symbol: its value is its base; its symbols are its
    attributes (``libc.malloc``)."""

    def __new__(cls, name, base, size, trace, path):
        obj = Symbol.__new__(cls, name, base, size, name)
        obj._trace = trace
        obj.path = path
        return obj

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        value = self._trace._lookupInLibrary(self.path, name)
        if value is None:
            raise AttributeError("%s has no symbol %s" % (self.name, name))
        return Symbol(name, value, 0, self.name)

    def getSymByName(self, name):
        try:
            return getattr(self, name)
        except AttributeError:
            return None

    def getSymList(self):
        """Every symbol of the library."""
        return self._trace._symbolsOfLibrary(self.name)

    def __repr__(self):
        return "FileSymbol(%s at 0x%x)" % (self.name, self.value)


class VtraceExpressionLocals(dict):
    """The namespace of an expression or of breakpoint code: registers of
    the current thread, the trace's variables, libraries by normalized name,
    symbols by bare name, and vtrace's helpers (``poi``, ``frame``, ``bp``,
    ``meta``, ``go``, ``trace``, ``vtrace``)."""

    def __init__(self, trace):
        dict.__init__(self)
        from .. import vtrace as vtrace_module

        self.trace = trace
        self.update(
            {
                "trace": trace,
                "vtrace": vtrace_module,
                "frame": self.frame,
                "bp": self.bp,
                "meta": self.meta,
                "go": self.go,
                "poi": self.poi,
                "mem": self.mem,
            }
        )

    def __getitem__(self, name):
        if dict.__contains__(self, name):
            return dict.__getitem__(self, name)
        trace = self.trace
        if trace.isAttached() and not trace.isRunning():
            value = trace._registerOrNone(name)
            if value is not None:
                return value
        variables = trace.getVariables()
        if name in variables:
            return variables[name]
        sym = trace.getSymByName(name)
        if sym is not None:
            return sym
        raise NameError("unknown name %r in the expression" % name)

    def poi(self, address):
        """The pointer at ``address``."""
        return self.trace.readMemoryFormat(address, "<Q")[0]

    def mem(self, address, size):
        """``size`` bytes at ``address``."""
        return self.trace.readMemory(address, size)

    def go(self):
        """In breakpoint code: go on after the event."""
        self.trace.runAgain()

    def frame(self, index):
        """The frame pointer of stack frame ``index``."""
        return self.trace.getStackTrace()[index][1]

    def bp(self, bpid):
        """The address of breakpoint ``bpid``."""
        bp = self.trace.getBreakpoint(bpid)
        if bp is None:
            raise Exception("Unknown Breakpoint ID: %d" % bpid)
        return bp.resolveAddress(self.trace)

    def meta(self, name):
        return self.trace.getMeta(name)
