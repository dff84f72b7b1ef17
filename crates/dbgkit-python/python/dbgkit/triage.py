"""Crash triage from Python: run a program on many inputs and get back what
each crash is, how bad, and which crashes are the same bug.

    import dbgkit.triage

    records = dbgkit.triage.run(["./parser", "@@"], "crashes/", jobs=2)
    for cluster in records.clusters:
        print(cluster.rank, cluster.severity, cluster.cls, cluster.count, cluster.smallest)
    for r in records:
        if r.crashed:
            print(r.input, r.cls, r.severity, r.hash, r.stack[0]["function"])

``"@@"`` in the arguments stands for the input's path; without it the input
goes to standard input. The work is the engine's (``dbgkit::triage`` in
Rust, the same as ``dbgkit triage``): each worker thread has its own
session, and the GIL is released while they run.
"""

from __future__ import annotations

import json
import os
from typing import Any, Iterable, Optional, Sequence, Union

from . import _dbgkit

__all__ = ["run", "Record", "Cluster", "Records"]

PathLike = Union[str, "os.PathLike[str]"]


class Record:
    """What happened when the program ran on one input.

    ``outcome`` is ``"crash"``, ``"hang"``, ``"no-crash"`` or ``"error"``.
    For a crash or hang: ``cls`` (``"write-near-null"``), ``severity``
    (``"exploitable"``, ``"probably-exploitable"``, ``"unknown"``,
    ``"probably-not-exploitable"``), ``explanation``, ``hash`` and
    ``hash_frames``, ``fault`` (signal, si_code, addresses, access),
    ``instruction``, ``registers``, ``stack`` (dicts with ``module``,
    ``function``, ``file``, ``line``...), ``message`` (assertion, heap check,
    panic), ``exception_type`` (C++) and ``sanitizer`` (the parsed report).
    Addresses are strings of hexadecimal. ``data`` is the whole JSON record.
    """

    def __init__(self, data: dict) -> None:
        self.data = data

    def __getattr__(self, name: str) -> Any:
        key = "class" if name == "cls" else name
        try:
            return self.data[key]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def crashed(self) -> bool:
        """True for a crash (not a hang, not a clean exit, not an error)."""
        return self.data["outcome"] == "crash"

    def __repr__(self) -> str:
        if self.data.get("class"):
            return f"<Record {self.input} {self.outcome} {self.cls} {self.severity} {self.hash}>"
        return f"<Record {self.input} {self.outcome}>"


class Cluster:
    """The inputs that crash the same way (same stack hash), ranked: most
    severe first, then the largest. ``smallest`` and ``representative`` are
    input paths; ``inputs`` lists them all."""

    def __init__(self, data: dict) -> None:
        self.data = data
        self.rank: int = data["rank"]
        self.hash: str = data["hash"]
        self.cls: str = data["class"]
        self.severity: str = data["severity"]
        self.count: int = data["count"]
        self.smallest: str = data["smallest"]
        self.representative: str = data["representative"]
        self.inputs: list = data["inputs"]

    def __repr__(self) -> str:
        return f"<Cluster #{self.rank} {self.severity} {self.cls} x{self.count} {self.hash}>"


class Records(list):
    """The records, in the order of the inputs, with ``clusters`` beside them."""

    clusters: list


def _inputs(inputs: Union[PathLike, Iterable[PathLike]]) -> list:
    if isinstance(inputs, (str, os.PathLike)):
        path = os.fspath(inputs)
        if os.path.isdir(path):
            names = sorted(os.listdir(path))
            return [os.path.join(path, n) for n in names if os.path.isfile(os.path.join(path, n))]
        return [path]
    return [os.fspath(p) for p in inputs]


def run(
    program: Union[PathLike, Sequence[PathLike]],
    inputs: Union[PathLike, Iterable[PathLike]],
    jobs: Optional[int] = None,
    timeout: float = 10.0,
    frames: int = 5,
    aslr: bool = False,
    follow_children: bool = False,
) -> Records:
    """Runs ``program`` (a path, or a list of the program and its arguments,
    ``"@@"`` for the input's path) on every input (a directory, or paths),
    ``jobs`` at a time (default: the CPUs), each within ``timeout`` seconds;
    ``frames`` frames make the stack hash. ``follow_children``: the
    processes the program starts are debugged too, and a child that
    crashes makes the run a crash. Returns the records."""
    argv = [os.fspath(program)] if isinstance(program, (str, os.PathLike)) else [os.fspath(a) for a in program]
    paths = _inputs(inputs)
    if jobs is None:
        jobs = os.cpu_count() or 1
    result = json.loads(_dbgkit.triage_run(argv, paths, jobs, float(timeout), frames, aslr, follow_children))
    records = Records(Record(r) for r in result["records"])
    records.clusters = [Cluster(c) for c in result["clusters"]]
    return records
