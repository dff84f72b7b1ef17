"""Process.checkpoint() and Session.restore(): back to a saved moment,
twice; memory, registers and the program's file offsets come back."""

import pytest

import dbgkit
from conftest import run_to, run_to_exit


def counter(session, process):
    return int.from_bytes(process.read_memory(session.eval("checkpoint!counter"), 8), "little")


def test_restore_goes_back_to_the_moment(session, fixtures, tmp_path):
    log = tmp_path / "log.txt"
    p = session.spawn([fixtures["checkpoint"], str(log), "8"], stdout="null")
    bp = session.add_breakpoint("checkpoint!tick", condition="rdi == 3")
    event = run_to(session, "breakpoint")
    cp = p.checkpoint()
    assert cp.pc == event.thread.regs.rip
    bp.condition = "rdi == 6"
    session.continue_event()
    run_to(session, "breakpoint")
    assert counter(session, p) == 15
    for _ in range(2):
        p = session.restore(cp)
        event = session.wait_event(5)
        assert event.kind == "break-in" and event.process.pid == p.pid
        assert counter(session, p) == 3
        assert event.thread.regs.rdi == 3
        session.continue_event()
        event = run_to(session, "breakpoint")
        assert event.thread.regs.rdi == 6 and counter(session, p) == 15
    session.delete_checkpoint(cp)
    bp.remove()
    session.continue_event()
    run_to_exit(session)
    assert log.read_text() == "".join(f"line {i}\n" for i in range(1, 9))
    with pytest.raises(dbgkit.InvalidArgument):
        session.restore(cp)
