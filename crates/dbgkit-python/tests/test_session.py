"""Launch, attach, detach, kill, and every event kind, on real programs."""

import os
import signal
import subprocess
import time

import pytest

import dbgkit
from conftest import PATIENCE, run_to, run_to_exit, run_to_module


def test_spawn_reports_the_start_and_the_exit(session, fixtures):
    p = session.spawn([fixtures["socket"]], stdout="pipe")
    assert isinstance(p, dbgkit.Process) and p.alive and p.stopped
    _, out, _ = p.take_pipes()
    events = run_to_exit(session)
    kinds = [e.kind for e in events]
    assert kinds[0] == "process-created" and kinds[-1] == "process-exited"
    created = events[0]
    assert created.image == fixtures["socket"] and created.pid == p.pid == created.tid
    assert created.base <= created.entry < created.base + created.size
    assert created.process == p
    loaded = [e.module.name for e in events if e.kind == "module-loaded"]
    assert "libc.so.6" in loaded and any(n.startswith("ld-linux") for n in loaded)
    assert events[-1].exit_code == 0 and events[-1].signal is None
    assert out.read() == b"socket opened\n"
    # The handle says the process is gone.
    assert not p.alive
    with pytest.raises(dbgkit.ProcessGone):
        p.threads
    assert session.processes == []


def test_spawn_options(session, fixtures, tmp_path):
    p = session.spawn(["sh", "-c", 'echo "$GREETING" $(pwd)'], env={"GREETING": "hi"}, cwd=tmp_path, stdout="pipe")
    _, out, _ = p.take_pipes()
    run_to_exit(session)
    assert out.read().decode().split() == ["hi", str(tmp_path)]


def test_spawn_errors_are_launch_errors(session):
    with pytest.raises(dbgkit.LaunchError, match="not found"):
        session.spawn(["/nonexistent/program"])
    with pytest.raises(dbgkit.StateError, match="spawn or attach"):
        session.read_memory(0x1000, 1)


def test_wait_event_timeout_and_continue(session, fixtures):
    p = session.spawn([fixtures["spin"]])
    event = session.wait_event(PATIENCE)
    assert event.kind == "process-created" and event.waiting
    with pytest.raises(dbgkit.StateError):
        session.continue_event("not_handled")  # does not fit a process-created event
    assert event.waiting
    session.continue_event(dbgkit.ContinueStatus.HANDLED)
    assert not event.waiting
    run_to_module(session, "libc.so.6")
    session.continue_event()
    # Running, no event: the wait times out.
    started = time.monotonic()
    assert session.wait_event(0.2) is None
    assert time.monotonic() - started >= 0.2
    p.kill()
    exited = run_to(session, "process-exited")
    assert exited.signal == signal.SIGKILL and exited.signal_name == "SIGKILL" and exited.exit_code is None
    session.continue_event()
    with pytest.raises(dbgkit.StateError):
        session.wait_event(1)


def test_events_loop_ends_when_no_process_is_left(session, fixtures):
    session.spawn([fixtures["socket"]], stdout="null")
    session.spawn([fixtures["socket"]], stdout="null")
    exits = [e.pid for e in session.events(timeout=PATIENCE) if e.kind == "process-exited"]
    assert len(exits) == 2 and session.processes == []


def test_events_timeout_raises(session, fixtures):
    session.spawn([fixtures["spin"]])
    with pytest.raises(dbgkit.WaitTimeout):
        for event in session.events(timeout=0.3):
            pass


def test_attach_replays_the_present_and_detach_leaves_it_running(session, fixtures):
    worker = subprocess.Popen([fixtures["worker"], "2", "1.5"], stdout=subprocess.PIPE, text=True)
    try:
        assert worker.stdout.readline().strip() == "started 2"
        p = session.attach(worker.pid)
        assert p.pid == worker.pid and p.stopped
        synthetic = []
        while True:
            event = session.wait_event(PATIENCE)
            synthetic.append(event)
            session.continue_event()
            if not p.stopped:
                break
        kinds = [e.kind for e in synthetic]
        assert kinds[0] == "process-created"
        assert kinds.count("thread-created") == 2
        assert "module-loaded" in kinds and len(p.threads) == 3
        # A breakpoint on the workers' function: counted inside the engine.
        calls = []
        bp = p.add_breakpoint("work", callback=lambda ev: calls.append(ev.tid))
        deadline = time.monotonic() + PATIENCE
        while len(calls) < 4 and time.monotonic() < deadline:
            assert session.wait_event(0.05) is None
        assert len(set(calls)) == 2 and bp.hits >= 4
        p.break_in()
        assert run_to(session, "break-in").pid == worker.pid
        p.detach()
        assert not p.alive and not bp.alive and session.processes == []
        # It runs on, undisturbed, to its normal end.
        out, _ = worker.communicate(timeout=PATIENCE)
        assert out.strip() == "finished 2 worked" and worker.returncode == 0
    finally:
        if worker.poll() is None:
            worker.kill()


def test_kill_on_exit_false_lets_the_program_outlive_the_session(fixtures):
    s = dbgkit.Session()
    p = s.spawn([fixtures["spin"]], kill_on_exit=False)
    pid = p.pid
    run_to_module(s, "libc.so.6")
    s.close()
    assert s.closed
    with pytest.raises(dbgkit.StateError, match="closed"):
        s.processes
    try:
        time.sleep(0.1)
        os.kill(pid, 0)  # still there, running
        with open(f"/proc/{pid}/status") as f:
            assert "TracerPid:\t0" in f.read()
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


def test_threads_come_and_go(session, fixtures):
    p = session.spawn([fixtures["threads"], "3", "2"], stdout="null")
    events = run_to_exit(session)
    created = [e for e in events if e.kind == "thread-created"]
    exited = [e for e in events if e.kind == "thread-exited"]
    assert len(created) == 3 and all(e.start for e in created)
    assert {e.tid for e in created} == {e.tid for e in exited}
    assert all(e.exit_code == 0 for e in exited)
    assert all(e.pid == p.pid != e.tid for e in created)


def test_modules_load_and_unload(session, fixtures):
    p = session.spawn([fixtures["dlopener"], fixtures["libfixture.so"]], stdout="null")
    events = []
    for event in session.events(timeout=PATIENCE):
        events.append(event)
        if event.kind == "module-loaded" and event.module.name == "libfixture.so":
            module = event.module
            assert module.alive and module.path == fixtures["libfixture.so"]
            assert module.contains(module.lookup("fixture_function"))
            assert [s.name for s in module.symbols("^fixture_")] != []
            assert module in p.modules
    unloaded = [e.module for e in events if e.kind == "module-unloaded"]
    assert [m.name for m in unloaded] == ["libfixture.so"]


def test_exceptions_first_and_second_chance(session, fixtures):
    session.spawn([fixtures["crash"]], stdout="null")
    first = run_to(session, "exception")
    assert first.signal == signal.SIGSEGV and first.first_chance and first.fault_address == 0
    assert first.default_status == dbgkit.ContinueStatus.NOT_HANDLED
    assert first.thread.symbolize(first.address).symbol == "deref"
    session.continue_event()  # not handled: the signal would kill it, so a second chance comes
    second = run_to(session, "exception")
    assert not second.first_chance and second.address == first.address
    session.continue_event()
    exited = run_to(session, "process-exited")
    assert exited.signal == signal.SIGSEGV


@pytest.mark.parametrize("status, output", [(None, "handler ran"), ("handled", "handler did not run")])
def test_exception_status_decides_delivery(session, fixtures, status, output):
    p = session.spawn([fixtures["signals"]], stdout="pipe")
    _, out, _ = p.take_pipes()
    for event in session.events(timeout=PATIENCE):
        if event.kind == "exception":
            assert event.signal_name == "SIGUSR1" and event.code is not None
            event.status = status
            assert event.status == (dbgkit.ContinueStatus.HANDLED if status else dbgkit.ContinueStatus.NOT_HANDLED)
    assert out.read().decode().strip() == output


def test_quiet_signals_make_no_event(session, fixtures):
    session.set_signal_quiet("SIGUSR1")
    session.spawn([fixtures["signals"]], stdout="null")
    assert "exception" not in [e.kind for e in run_to_exit(session)]


def test_break_in_step_and_terminate(session, fixtures):
    p = session.spawn([fixtures["spin"]])
    run_to_module(session, "libc.so.6")
    session.continue_event()
    assert session.wait_event(0.1) is None
    session.break_in()
    event = run_to(session, "break-in")
    pc = event.thread.pc
    event.thread.step_into()
    step = run_to(session, "step-complete")
    assert step.address == step.thread.pc != pc and step.tid == p.pid
    session.continue_event("terminate_process")
    assert run_to(session, "process-exited").signal == signal.SIGKILL


def test_exec_and_fork(session, fixtures):
    session.spawn([fixtures["execer"], fixtures["forker"]], stdout="null")
    kinds = {}
    for event in session.events(timeout=PATIENCE):
        kinds.setdefault(event.kind, event)
    assert kinds["exec"].image == fixtures["forker"]
    assert kinds["fork"].child > 0
    assert kinds["process-exited"].exit_code == 0


def test_watchpoint_events(session, fixtures):
    p = session.spawn([fixtures["watch"], "2", "3"], stdout="pipe")
    _, out, _ = p.take_pipes()
    run_to_module(session, "libc.so.6")
    counter = session.lookup("counter")
    wp = session.add_watchpoint(counter, 8, "write")
    assert wp.access == "write" and wp.size == 8 and not wp.page and wp in session.watchpoints
    session.continue_event()
    writes = []
    for event in session.events(timeout=PATIENCE):
        if event.kind == "watchpoint":
            assert event.watchpoint == wp and event.address == counter and event.access == "write"
            writes.append(int.from_bytes(event.new, "little"))
    assert writes == list(range(1, 7))
    assert out.read().decode().strip() == "counter 6 sum 35"


def test_followed_children_are_processes_with_their_own_events(session, fixtures):
    assert session.follow_children is False
    parent = session.spawn([fixtures["spawner"]], stdout="pipe", follow_children=True)
    assert session.follow_children is True
    _, out, _ = parent.take_pipes()
    events = run_to_exit(session)
    created = [e.pid for e in events if e.kind == "process-created"]
    forked = [e.child for e in events if e.kind == "fork"]
    assert created[0] == parent.pid and created[1:] == forked and len(forked) == 4
    exits = {e.pid: e.exit_status for e in events if e.kind == "process-exited"}
    assert [exits[c] for c in forked] == [2, 3, 4, 6]
    assert out.read() == b"posix_spawn 2\nvfork 3\nsystem 4\nclone 6\n"


def test_catch_syscall_reports_entries_and_exits(session, fixtures):
    p = session.spawn([fixtures["watch"], "2", "10"], stdout="pipe")
    _, out, _ = p.take_pipes()
    catch = session.catch_syscall("getpid")
    assert catch.kind == "syscall" and catch.expression == "getpid"
    assert [b.id for b in session.breakpoints] == [catch.id]
    events = [e for e in run_to_exit(session) if e.kind.startswith("syscall-")]
    assert [(e.kind, e.syscall) for e in events] == [("syscall-entry", "getpid"), ("syscall-exit", "getpid")] * 3
    assert all(e.result == p.pid for e in events if e.kind == "syscall-exit")
    assert all(e.breakpoint.id == catch.id for e in events)
    assert out.read() == b"counter 20 sum 35\n"
    with pytest.raises(dbgkit.InvalidArgument, match="unknown system call"):
        session.catch_syscall("no_such_call")


def test_a_vfork_is_told_from_a_fork(session, fixtures):
    session.spawn([fixtures["spawner"]], stdout="null")
    forks = [e.vfork for e in run_to_exit(session) if e.kind == "fork"]
    # posix_spawn and vfork borrow the memory; system() is a posix_spawn too; clone copies it.
    assert forks == [True, True, True, False]


def test_a_breakpoint_for_all_processes_follows_into_children(session, fixtures):
    parent = session.spawn([fixtures["forker"]], stdout="null", follow_children=True)
    bp = session.add_breakpoint("hit", all_processes=True)
    assert bp.all_processes
    hits = [(e.pid, e.breakpoint.id) for e in run_to_exit(session) if e.kind == "breakpoint"]
    child_hits = [h for h in hits if h[0] != parent.pid]
    assert [h for h in hits if h[0] == parent.pid] == [(parent.pid, bp.id)] * 2
    assert len(child_hits) == 1 and child_hits[0][1] != bp.id
