"""Breakpoints: deferred by name, by address, conditions, callbacks (counting,
stopping, reading and writing the target, raising), one-shot, enable, remove."""

import pytest

import dbgkit
from conftest import PATIENCE, run_to, run_to_exit, run_to_module


def counter_output(calls: int, value: int = 1) -> str:
    return f"sum={calls * (calls - 1) // 2 + calls * value} value={value}"


def test_deferred_until_the_module_loads(session, fixtures):
    session.spawn([fixtures["socket"]], stdout="null")
    bp = session.add_breakpoint("libc.so.6!socket")
    assert bp.pending and bp.address is None and "libc.so.6" in bp.unresolved
    assert bp.expression == "libc.so.6!socket" and bp.enabled and not bp.has_callback
    hits = [e for e in session.events(timeout=PATIENCE) if e.kind == "breakpoint"]
    assert len(hits) == 1
    # The handle still answers while the process lives: checked at the hit.


def test_deferred_breakpoint_hit(session, fixtures):
    session.spawn([fixtures["socket"]], stdout="null")
    bp = session.add_breakpoint("libc.so.6!socket")
    event = run_to(session, "breakpoint")
    assert event.breakpoint == bp and not bp.pending and bp.hits == 1
    assert event.address == bp.address == session.lookup("libc.so.6!socket") == event.thread.pc
    assert str(event.thread.symbolize()) == "libc.so.6!socket"
    frames = [f.function for f in event.thread.stack()]
    assert frames[:2] == ["socket", "main"]
    session.continue_event()
    assert run_to(session, "process-exited").exit_code == 0


def test_deferred_in_a_dlopened_library_comes_back_pending(session, fixtures):
    session.spawn([fixtures["dlopener"], fixtures["libfixture.so"]], stdout="null")
    bp = session.add_breakpoint("libfixture.so!fixture_function")
    event = run_to(session, "breakpoint")
    assert event.breakpoint == bp and event.thread.regs.rdi == 1
    session.continue_event()
    run_to(session, "module-unloaded")
    assert bp.pending
    session.continue_event()
    run_to_exit(session)


def test_by_address_with_condition(session, fixtures):
    session.spawn([fixtures["counter"], "100"], stdout="null")
    run_to_module(session, "libc.so.6")
    bump = session.lookup("bump")
    bp = session.add_breakpoint(bump, condition="rdi == 42")
    assert bp.address == bump and bp.condition == "rdi == 42" and bp.expression is None
    hits = [e.thread.regs.rdi for e in session.events(timeout=PATIENCE) if e.kind == "breakpoint"]
    assert hits == [42]


def test_condition_changes_and_bad_conditions(session, fixtures):
    session.spawn([fixtures["counter"], "50"], stdout="null")
    run_to_module(session, "libc.so.6")
    with pytest.raises(dbgkit.ExpressionError):
        session.add_breakpoint("bump", condition="rdi ==")
    bp = session.add_breakpoint("bump", condition="rdi == 3")
    session.continue_event()
    assert run_to(session, "breakpoint").thread.regs.rdi == 3
    bp.condition = "rdi >= 0n48"
    session.continue_event()
    assert run_to(session, "breakpoint").thread.regs.rdi == 48
    bp.condition = None
    session.continue_event()
    assert run_to(session, "breakpoint").thread.regs.rdi == 49
    bp.remove()
    assert not bp.alive
    with pytest.raises(dbgkit.BreakpointError):
        bp.hits
    session.continue_event()
    run_to_exit(session)


def test_callback_counts_and_goes_on(session, fixtures):
    p = session.spawn([fixtures["counter"], "1000"], stdout="pipe")
    _, out, _ = p.take_pipes()
    seen = []

    def count(event):
        assert event.kind == "breakpoint" and event.hits == len(seen) + 1
        seen.append(event.thread.regs.rdi)
        return False

    bp = session.add_breakpoint("bump", callback=count)
    assert bp.has_callback
    assert "breakpoint" not in [e.kind for e in run_to_exit(session)]
    assert seen == list(range(1000))
    assert out.read().decode().strip() == counter_output(1000)


def test_callback_true_stops(session, fixtures):
    session.spawn([fixtures["counter"], "100"], stdout="null")
    bp = session.add_breakpoint("bump", callback=lambda ev: ev.thread.regs.rdi in (10, 20))
    stops = [(e.thread.regs.rdi, bp.hits) for e in session.events(timeout=PATIENCE) if e.kind == "breakpoint"]
    assert stops == [(10, 11), (20, 21)]


def test_callback_reads_and_writes_memory(session, fixtures):
    p = session.spawn([fixtures["counter"], "100"], stdout="pipe")
    _, out, _ = p.take_pipes()
    run_to_module(session, "libc.so.6")
    value = session.lookup("value")
    seen = []

    def poke(event):
        proc = event.process
        seen.append(int.from_bytes(proc.read_memory(value, 8), "little"))
        if event.thread.regs.rdi == 49:
            proc.write_memory(value, (2).to_bytes(8, "little"))

    session.add_breakpoint("bump", callback=poke)
    session.continue_event()
    run_to_exit(session)
    assert seen == [1] * 50 + [2] * 50
    # Written at the hit for i = 49, before bump(49) read it: i + 1 for i < 49, i + 2 from there.
    assert out.read().decode().strip() == f"sum={sum(range(100)) + 49 * 1 + 51 * 2} value=2"


def test_callback_exception_stops_the_loop_with_the_target_stopped(session, fixtures):
    p = session.spawn([fixtures["counter"], "100"], stdout="pipe")
    _, out, _ = p.take_pipes()

    def fail(event):
        if event.hits == 5:
            raise ValueError(f"stop at {event.thread.regs.rdi}")
        return False

    bp = session.add_breakpoint("bump", callback=fail)
    with pytest.raises(ValueError, match="stop at 4"):
        for event in session.events(timeout=PATIENCE):
            pass
    # Stopped and consistent: at the breakpoint, the event waiting.
    assert p.stopped and bp.hits == 5
    thread = p.thread()
    assert thread.pc == bp.address and thread.regs.rdi == 4
    assert [f.function for f in thread.stack()][:2] == ["bump", "main"]
    bp.remove()
    session.continue_event()
    run_to_exit(session)
    assert out.read().decode().strip() == counter_output(100)


def test_a_callback_reads_everything_but_cannot_resume(session, fixtures):
    session.spawn([fixtures["counter"], "10"], stdout="null")
    seen = []

    def inspect(event):
        thread = event.thread
        seen.append(
            (
                thread.symbolize().symbol,
                [f.function for f in thread.stack()][:2],
                session.eval("@rdi", thread=thread),
                session.symbolize(thread.pc).symbol,
            )
        )

    session.add_breakpoint("bump", callback=inspect)
    run_to_exit(session)
    assert seen == [("bump", ["bump", "main"], i, "bump") for i in range(10)]


def test_callback_cannot_resume_the_target(session, fixtures):
    session.spawn([fixtures["counter"], "10"], stdout="null")

    def resume(event):
        session.continue_event()

    session.add_breakpoint("bump", callback=resume)
    with pytest.raises(dbgkit.StateError, match="inside a breakpoint callback"):
        run_to_exit(session)

    def write_register(event):
        event.thread.regs.rax = 1

    session.breakpoints[0].remove()
    session.add_breakpoint("bump", callback=write_register)
    session.continue_event()
    with pytest.raises(dbgkit.StateError, match="cannot be written inside a breakpoint callback"):
        run_to_exit(session)


def test_callback_must_be_callable(session, fixtures):
    session.spawn([fixtures["counter"], "10"], stdout="null")
    with pytest.raises(TypeError):
        session.add_breakpoint("bump", callback=42)


def test_one_shot_ignore_count_and_enable(session, fixtures):
    session.spawn([fixtures["counter"], "20"], stdout="null")
    run_to_module(session, "libc.so.6")
    once = session.add_breakpoint("bump", one_shot=True)
    counted = session.add_breakpoint("bump", ignore_count=15)
    later = session.add_breakpoint("main", enabled=False)
    assert once.one_shot and counted.ignore_count == 15 and not later.enabled
    session.continue_event()
    first = run_to(session, "breakpoint")
    assert first.breakpoint == once and first.thread.regs.rdi == 0
    session.continue_event()
    assert not once.alive
    event = run_to(session, "breakpoint")
    assert event.breakpoint == counted and event.thread.regs.rdi == 15 and counted.hits == 16
    counted.enabled = False
    assert not counted.enabled
    later.enabled = True
    session.continue_event()
    assert "breakpoint" not in [e.kind for e in run_to_exit(session)]


def test_breakpoint_errors(session, fixtures):
    session.spawn([fixtures["counter"], "10"], stdout="null")
    with pytest.raises(dbgkit.ExpressionError):
        session.add_breakpoint("bump +")
    with pytest.raises(TypeError):
        session.add_breakpoint(3.5)
    with pytest.raises(dbgkit.BreakpointError):
        session.remove_breakpoint(999)
