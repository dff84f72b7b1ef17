#!/usr/bin/env python3
"""Python breakpoint callbacks: dbgkit next to gdb's Python API, in one run.

    python3 benches/python_breakpoints.py [--calls N] [--gdb-calls N] [--runs R] [--cpu N | --no-pin] [--no-gdb]

The fixture is tests/fixtures/counter.c built with gcc -O0 -no-pie (the
flags of the Rust benchmarks): `counter N` calls bump() N times. Each
contender counts the hits in Python and lets the program go on:

* dbgkit: `session.add_breakpoint("bump", callback=count)`, where `count(event)`
  adds one and returns False (the engine calls it on each hit and goes on);
* gdb: a `gdb.Breakpoint` subclass on `bump` whose `stop()` adds one and
  returns False, run with `gdb -batch -nx -x script.py`.

Both are timed inside their own Python from the launch of the program to its
exit (gdb's start-up and symbol loading stay out), and every run is checked:
hits == N and the program's output (the sum of what bump returned). The
report gives hits per second (the median of R runs each) and the ratio; the
goal is dbgkit >= 3x gdb.

Like dbgkit-bench, it pins itself (and so gdb and the programs, which
inherit the CPU set) to one CPU by default: a ptrace stop that wakes the
other side on another CPU costs several times one on the same CPU, and the
scheduler's choice changes from run to run.

Exit status: 0 when every run was correct (a missed goal is a measurement,
not a failure), 1 when a run was wrong or failed, 2 for bad arguments.
Needs the dbgkit module (scripts/setup installs it), gcc, and gdb for its row.
"""

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "tests" / "fixtures" / "counter.c"
CFLAGS = ["-O0", "-g", "-no-pie", "-fno-omit-frame-pointer", "-fcf-protection=none"]
GOAL = 3.0

GDB_SCRIPT = r'''
import gdb, time

class Counter(gdb.Breakpoint):
    def __init__(self):
        super().__init__("bump")
        self.count = 0

    def stop(self):
        self.count += 1
        return False

gdb.execute("set pagination off")
gdb.execute("set confirm off")
counter = Counter()
t0 = time.perf_counter()
gdb.execute("run {calls} > {output}")
elapsed = time.perf_counter() - t0
print("BENCH hits=%d seconds=%.9f" % (counter.count, elapsed))
'''


class Failed(Exception):
    pass


def expected_output(calls: int) -> str:
    # bump(i) returns i + 1.
    return f"sum={calls * (calls + 1) // 2} value=1"


def build(work: Path) -> Path:
    exe = work / "counter"
    result = subprocess.run(["gcc", *CFLAGS, "-o", str(exe), str(SOURCE)], capture_output=True, text=True)
    if result.returncode != 0:
        raise Failed(f"gcc failed:\n{result.stderr}")
    return exe


def run_dbgkit(exe: Path, calls: int, timeout: float) -> float:
    import dbgkit

    hits = 0

    def count(event):
        nonlocal hits
        hits += 1
        return False

    with dbgkit.Session() as session:
        start = time.perf_counter()
        process = session.spawn([str(exe), str(calls)], stdout="pipe")
        _, stdout, _ = process.take_pipes()
        session.add_breakpoint("bump", callback=count)
        # The blocking wait (no timeout: the engine's timed wait polls); a
        # watchdog kills the program if it takes too long, which fails the run.
        watchdog = threading.Timer(timeout, os.kill, (process.pid, signal.SIGKILL))
        watchdog.start()
        exit_code = None
        try:
            for event in session.events():
                if event.kind == "process-exited":
                    exit_code = event.exit_code
                elif event.kind in ("exception", "breakpoint"):
                    raise Failed(f"dbgkit: unexpected {event!r}")
        finally:
            watchdog.cancel()
        elapsed = time.perf_counter() - start
        output = stdout.read().decode().strip()
    if exit_code != 0 or hits != calls or output != expected_output(calls):
        raise Failed(f"dbgkit: exit {exit_code}, {hits} hits (want {calls}), output {output!r}")
    return elapsed


def run_gdb(gdb: str, exe: Path, calls: int, work: Path, timeout: float) -> float:
    output = work / "gdb-program-output.txt"
    script = work / "count.py"
    script.write_text(GDB_SCRIPT.format(calls=calls, output=output))
    env = {k: v for k, v in os.environ.items() if k != "DEBUGINFOD_URLS"}
    try:
        result = subprocess.run(
            [gdb, "-batch", "-nx", "-x", str(script), "--args", str(exe), str(calls)],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        raise Failed(f"gdb timed out after {timeout} s")
    log = result.stdout + result.stderr
    line = next((l for l in log.splitlines() if l.startswith("BENCH ")), None)
    if line is None:
        raise Failed(f"gdb did not finish; its output:\n{log}")
    fields = dict(f.split("=") for f in line.split()[1:])
    hits, seconds = int(fields["hits"]), float(fields["seconds"])
    program = output.read_text().strip() if output.exists() else ""
    if hits != calls or program != expected_output(calls) or "exited normally" not in log:
        raise Failed(f"gdb: {hits} hits (want {calls}), output {program!r}; its log:\n{log}")
    return seconds


def pin(cpu):
    allowed = sorted(os.sched_getaffinity(0))
    if cpu is None:
        cpu = allowed[-1]
    if cpu not in allowed:
        raise SystemExit(f"--cpu {cpu}: not among the CPUs allowed ({allowed})")
    os.sched_setaffinity(0, {cpu})
    return cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=200_000, help="calls of bump(), hence hits, per dbgkit run")
    parser.add_argument("--gdb-calls", type=int, default=None, help="the same for gdb runs (default: --calls)")
    parser.add_argument("--runs", type=int, default=3, help="runs per contender; the median is reported")
    parser.add_argument("--timeout", type=float, default=300, help="limit of one run, in seconds")
    parser.add_argument("--cpu", type=int, default=None, help="the CPU to pin everything to (default: the last allowed)")
    parser.add_argument("--no-pin", action="store_true", help="leave placement to the scheduler")
    parser.add_argument("--no-gdb", action="store_true", help="leave gdb out")
    args = parser.parse_args()
    if args.calls < 1 or args.runs < 1 or (args.gdb_calls is not None and args.gdb_calls < 1):
        parser.error("--calls, --gdb-calls and --runs must be at least 1")
    gdb_calls = args.gdb_calls or args.calls
    # Progress goes to stderr: keep the report's lines in order with it.
    sys.stdout.reconfigure(line_buffering=True)

    try:
        import dbgkit
    except ImportError:
        print("python_breakpoints: the dbgkit module is not installed (scripts/setup installs it)", file=sys.stderr)
        return 1
    gdb = None if args.no_gdb else shutil.which("gdb")

    where = "not pinned" if args.no_pin else f"pinned to CPU {pin(args.cpu)}"
    print(f"python_breakpoints: a Python callback counting hits of bump() and returning False ({where})")
    print(f"fixture: {SOURCE.relative_to(ROOT)} built with gcc {' '.join(CFLAGS)}")
    print(f"python: {sys.version.split()[0]}, dbgkit {dbgkit.__version__}")
    if gdb:
        version = subprocess.run([gdb, "--version"], capture_output=True, text=True).stdout.splitlines()[0]
        print(f"gdb: {gdb}: {version}")

    rates = {}
    with tempfile.TemporaryDirectory(prefix="dbgkit-pybench-") as tmp:
        work = Path(tmp)
        try:
            exe = build(work)
            contenders = [("dbgkit (Python callback)", args.calls, lambda: run_dbgkit(exe, args.calls, args.timeout))]
            if gdb:
                contenders.append(
                    ("gdb (Breakpoint.stop)", gdb_calls, lambda: run_gdb(gdb, exe, gdb_calls, work, args.timeout))
                )
            for name, calls, run in contenders:
                times = []
                for i in range(args.runs):
                    seconds = run()
                    times.append(seconds)
                    print(f"  {name} run {i + 1}: {calls} hits in {seconds:.3f} s", file=sys.stderr)
                median = statistics.median(times)
                rates[name] = (calls, median, calls / median)
        except Failed as e:
            print(f"python_breakpoints: FAILED: {e}", file=sys.stderr)
            return 1

    print()
    print(f"{'contender':<28} {'hits':>8} {'seconds':>9} {'hits/s':>10}")
    for name, (calls, seconds, rate) in rates.items():
        print(f"{name:<28} {calls:>8} {seconds:>9.3f} {rate:>10.0f}")
    if len(rates) == 2:
        (_, _, ours), (_, _, theirs) = rates.values()
        ratio = ours / theirs
        verdict = "met" if ratio >= GOAL else "missed"
        print(f"ratio: dbgkit / gdb = {ratio:.1f}x (goal >= {GOAL:.0f}x: {verdict})")
    else:
        print("gdb: skipped" + (" (not found on PATH)" if not args.no_gdb else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
