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
