"""Watchpoints: breakpoints on data. ``Watchpoint`` uses the debug
registers (1, 2, 4 or 8 aligned bytes per register, four registers; a
longer range is split), ``PageWatchpoint`` takes rights away from pages
(any size). Both are added with ``trace.addBreakpoint`` and reported like
breakpoints (``notify``, ``NOTIFY_BREAK``)."""

from .breakpoints import Breakpoint


def _access(perms):
    perms = (perms or "w").lower()
    if perms in ("w", "write"):
        return "write"
    if "r" in perms:
        return "read_write"
    if perms in ("x", "e", "execute"):
        return "execute"
    raise ValueError("watchpoint perms are 'w', 'rw' or 'x', not %r" % perms)


class Watchpoint(Breakpoint):
    """A hardware watchpoint on ``size`` bytes at ``address`` for
    ``perms`` ``"w"`` (writes) or ``"rw"`` (reads and writes)."""

    def __init__(self, address, expression=None, size=4, perms="rw"):
        Breakpoint.__init__(self, address, expression=expression)
        self.wpsize = size
        self.wpperms = perms

    def getName(self):
        base = Breakpoint.getName(self)
        return "%s (%s %d bytes)" % (base, self.wpperms, self.wpsize)

    def _plant(self, process):
        return process.add_watchpoint(self.address, self.wpsize, _access(self.wpperms))


class PageWatchpoint(Watchpoint):
    """Watches the pages holding ``size`` bytes at ``address`` by
    protection; only accesses inside the range are reported."""

    def __init__(self, address, expression=None, size=4, watchread=False):
        Watchpoint.__init__(self, address, expression=expression, size=size, perms="rw" if watchread else "w")

    def _plant(self, process):
        return process.add_watchpoint(self.address, self.wpsize, _access(self.wpperms), page=True)
