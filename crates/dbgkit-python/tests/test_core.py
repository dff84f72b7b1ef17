"""Process.write_core: a stopped multi-threaded program written as an ELF
core that gdb and elfutils read, the program then running on."""

import shutil
import subprocess

import pytest

import dbgkit
from conftest import run_to, run_to_exit


def test_write_core_at_a_breakpoint(session, fixtures, tmp_path):
    exe = fixtures["core_threads"]
    p = session.spawn([exe, "break"], stdout="pipe")
    _, out, _ = p.take_pipes()
    session.add_breakpoint("checkpoint")
    event = run_to(session, "breakpoint")
    rip = event.thread.regs.rip
    core = tmp_path / "core"
    written = p.write_core(core)
    assert written["file_size"] == core.stat().st_size
    assert written["memory_bytes"] > 1 << 20 and written["unreadable_bytes"] >= 0
    assert event.thread.regs.rip == rip, "the process is left as it was"

    if shutil.which("eu-readelf"):
        notes = subprocess.run(["eu-readelf", "-n", str(core)], capture_output=True, text=True, check=True).stdout
        assert notes.count("PRSTATUS") == 4 and "SIGINFO" in notes and "X86_XSTATE" in notes
    if shutil.which("gdb"):
        bt = subprocess.run(
            ["gdb", "-batch", "-nx", "-ex", "thread apply all bt", exe, str(core)],
            capture_output=True,
            text=True,
        ).stdout
        assert bt.count("[New LWP") == 4 and "checkpoint" in bt and "blocked" in bt, bt

    with pytest.raises(dbgkit.DebugError):
        p.write_core(tmp_path / "no" / "such" / "core")
    session.continue_event()
    run_to_exit(session)
    assert out.read().decode().strip() == "sum=33"


def test_open_core_reads_like_a_stopped_process(fixtures, tmp_path):
    """A core written at a crash opens again as a read-only process: the
    same stacks, registers and memory; running it raises NotSupported."""
    exe = fixtures["core_threads"]
    core = tmp_path / "crash.core"
    live = dbgkit.Session()
    p = live.spawn([exe, "crash"], stdout="null")
    event = run_to(live, "exception")
    crashed_tid = event.thread.tid
    live_stack = [str(f) for f in event.thread.stack()]
    live_rip = event.thread.regs.rip
    p.write_core(core)
    live.close()

    s = dbgkit.Session()
    try:
        proc = s.open_core(core, executable=exe)
        kinds = []
        while True:
            ev = s.wait_event(5)
            kinds.append(ev.kind)
            if ev.kind == "exception":
                break
            s.continue_event()
        assert kinds[0] == "process-created" and kinds.count("thread-created") == 3
        assert ev.signal == 11 and not ev.first_chance
        assert ev.thread.tid == crashed_tid and ev.thread.regs.rip == live_rip
        assert [str(f) for f in ev.thread.stack()] == live_stack
        assert any(m.name == "libc.so.6" for m in proc.modules)
        assert len(proc.threads) == 4
        assert len(proc.read_memory(live_rip, 2)) == 2
        with pytest.raises(dbgkit.NotSupported):
            s.continue_event()
        with pytest.raises(dbgkit.NotSupported):
            s.add_breakpoint("checkpoint")
    finally:
        s.close()

    with pytest.raises(dbgkit.DebugError):
        dbgkit.Session().open_core(exe)  # a program is no core
