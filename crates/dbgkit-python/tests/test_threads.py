"""Threads of the target, the session's thread affinity, and Ctrl-C."""

import signal
import threading

import pytest

import dbgkit
from conftest import PATIENCE, run_to, run_to_exit, run_to_module


def test_breakpoint_hits_from_every_thread(session, fixtures):
    p = session.spawn([fixtures["threads"], "3", "50"], stdout="pipe")
    _, out, _ = p.take_pipes()
    tids = {}
    hits = []

    def count(event):
        tids[event.tid] = tids.get(event.tid, 0) + 1
        hits.append(event.hits)
        assert event.thread.regs.rdi < 50

    bp = session.add_breakpoint("hit", callback=count)
    created = [e.tid for e in run_to_exit(session) if e.kind == "thread-created"]
    assert sorted(tids) == sorted(created) and set(tids.values()) == {50}
    assert sorted(hits) == list(range(1, 151))
    # The process is gone, and so is its breakpoint.
    assert not bp.alive
    assert out.read().decode().strip() == "total=150"


def test_threads_of_a_stopped_process(session, fixtures):
    p = session.spawn([fixtures["threads"], "2", "3"], stdout="null")
    session.add_breakpoint("hit")
    event = run_to(session, "breakpoint")
    threads = p.threads
    assert event.thread in threads and len(threads) == 3
    assert p.thread(event.tid) == event.thread and p.thread() == event.thread
    for t in threads:
        assert t.alive and t.process == p and t.regs.rip and t.stack()
    with pytest.raises(dbgkit.ProcessGone):
        p.thread(1)
    session.breakpoints[0].remove()
    session.continue_event()
    run_to_exit(session)
    assert not event.thread.alive


def test_wrong_thread_raises_a_debug_error(session, fixtures):
    p = session.spawn([fixtures["socket"]], stdout="null")
    event = session.wait_event(PATIENCE)
    bp = session.add_breakpoint("main")
    loop = session.events()
    errors = []

    def other():
        for call in (
            lambda: session.processes,
            lambda: session.wait_event(0),
            lambda: p.read_memory(event.base, 4),
            lambda: event.thread.regs.rip,
            lambda: session.events(),
            lambda: next(loop),
            lambda: session.closed,
            lambda: event.waiting,
            lambda: event.continue_event(),
            lambda: bp.address,
            lambda: p.alive,
            lambda: session.close(),
        ):
            try:
                call()
                errors.append(None)
            except Exception as e:  # noqa: BLE001
                errors.append(e)

    t = threading.Thread(target=other)
    t.start()
    t.join()
    assert all(isinstance(e, dbgkit.WrongThreadError) for e in errors), errors
    assert all(isinstance(e, dbgkit.DebugError) for e in errors)
    assert str(session.owner_thread) in str(errors[0]) and "ptrace" in str(errors[0])
    # Still fine on its own thread.
    assert session.owner_thread == threading.get_ident()
    assert p.read_memory(event.base, 4) == b"\x7fELF"
    session.continue_event()
    run_to_exit(session)


def test_a_session_per_thread(fixtures):
    results = {}

    def debug(name):
        with dbgkit.Session() as s:
            s.spawn([fixtures["counter"], "20"], stdout="null")
            n = []
            s.add_breakpoint("bump", callback=lambda ev: n.append(1))
            run_to_exit(s)
            results[name] = len(n)

    workers = [threading.Thread(target=debug, args=(i,)) for i in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert results == {0: 20, 1: 20}


def test_ctrl_c_breaks_out_leaving_the_target_stopped(session, fixtures):
    p = session.spawn([fixtures["spin"]])
    run_to_module(session, "libc.so.6")
    main = threading.get_ident()
    timer = threading.Timer(0.3, signal.pthread_kill, (main, signal.SIGINT))
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        for event in session.events():  # no timeout: the blocking wait
            pass
    timer.join()
    assert p.stopped
    # The break-in it made waits, and the program goes on afterwards.
    event = session.wait_event(PATIENCE)
    assert event.kind == "break-in" and event.thread.symbolize().symbol == "main"
    session.continue_event()
    assert session.wait_event(0.1) is None
    p.kill()
    assert run_to(session, "process-exited").signal == signal.SIGKILL


def test_ctrl_c_in_a_timed_wait(session, fixtures):
    p = session.spawn([fixtures["spin"]])
    run_to_module(session, "libc.so.6")
    session.continue_event()
    timer = threading.Timer(0.2, signal.pthread_kill, (threading.get_ident(), signal.SIGINT))
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        session.wait_event(PATIENCE)
    timer.join()
    assert p.stopped
    assert session.wait_event(PATIENCE).kind == "break-in"


def test_ctrl_c_in_a_callback(session, fixtures):
    p = session.spawn([fixtures["counter"], "100000"], stdout="null")

    def interrupt(event):
        if event.hits == 10:
            signal.raise_signal(signal.SIGINT)
        return False

    bp = session.add_breakpoint("bump", callback=interrupt)
    with pytest.raises(KeyboardInterrupt):
        run_to_exit(session)
    assert p.stopped and bp.hits == 10 and p.thread().pc == bp.address
