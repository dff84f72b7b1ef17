"""What every front end asks the engine rather than working out itself:
the exit status of a finished process, breaking into every running
process, wildcard patterns (used by dbgkit.pydbgeng too)."""

import time

import dbgkit
from conftest import PATIENCE, run_to, run_to_exit


def test_exit_status_is_the_code_or_128_plus_the_signal(session, fixtures):
    session.spawn([fixtures["counter"], "2"], stdout="null")
    assert run_to_exit(session)[-1].exit_status == 0
    session.spawn([fixtures["crash"]], stdout="null")
    last = run_to_exit(session)[-1]
    assert last.exit_code is None and last.signal == 11 and last.exit_status == 128 + 11


def test_break_in_all_stops_every_running_process(session, fixtures):
    first = session.spawn([fixtures["spin"]])
    second = session.spawn([fixtures["spin"]])
    # Let both run until their start-up events are all seen, then stop them at once.
    deadline = time.time() + PATIENCE
    while time.time() < deadline:
        event = session.wait_event(0.5)
        if event is None:
            break
        session.continue_event()
    stopped = session.break_in_all()
    assert sorted(stopped) == sorted([first.pid, second.pid])
    seen = set()
    while len(seen) < 2:
        event = run_to(session, "break-in")
        seen.add(event.pid)
        session.continue_event()
    assert seen == {first.pid, second.pid}
    for p in (first, second):
        p.kill()


def test_wildcards_are_the_engines():
    assert dbgkit.wildcard_regex("b*p?") == "^b.*p.$"
    assert dbgkit.wildcard_regex("std::vec*") == "^std\\:\\:vec.*$"
