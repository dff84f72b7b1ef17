"""Stepping from Python through the engine's thread plans: over a call,
out of a function (the return value in rax), to an address, by source
line; the other threads kept stopped on request."""

from conftest import run_to, run_to_exit


def line_of(session, thread):
    return session.symbolize(thread.regs.rip).line


def test_step_over_out_run_to_and_lines(session, fixtures):
    p = session.spawn([fixtures["stepper"]], stdout="null")
    session.add_breakpoint("stepper!middle")
    event = run_to(session, "breakpoint")
    thread = event.thread
    session.breakpoints[0].remove()

    thread.run_to("stepper!leaf")
    done = session.wait_event(10)
    assert done.kind == "step-complete" and session.symbolize(thread.regs.rip).symbol == "leaf"
    thread.step_out()
    done = session.wait_event(10)
    assert done.kind == "step-complete" and session.symbolize(thread.regs.rip).symbol == "middle"
    assert thread.regs.rax == 3, "leaf(1) returned 3"

    line = line_of(session, thread)
    thread.step_line(over_calls=True)
    assert session.wait_event(10).kind == "step-complete"
    assert line_of(session, thread) == line + 1, "next: the following line"
    thread.step_line()
    assert session.wait_event(10).kind == "step-complete"
    assert session.symbolize(thread.regs.rip).symbol == "leaf", "step: into leaf"

    before = thread.regs.rip
    thread.step_over()
    assert session.wait_event(10).kind == "step-complete"
    assert thread.regs.rip != before
    session.continue_event()
    run_to_exit(session)


def test_lock_other_threads_keeps_them_still(session, fixtures):
    p = session.spawn([fixtures["threads"], "3", "50"], stdout="null")
    session.add_breakpoint("threads!hit")
    event = run_to(session, "breakpoint")
    session.breakpoints[0].remove()
    others = [t for t in p.threads if t.tid != event.thread.tid]
    before = {t.tid: t.regs.rip for t in others}
    for _ in range(10):
        event.thread.step_over(lock_other_threads=True)
        done = session.wait_event(10)
        # A thread that had ended, or been created, before the stop is
        # reported meanwhile; the step goes on after it, the others still stopped.
        while done.kind in ("thread-exited", "thread-created") and done.thread.tid != event.thread.tid:
            session.continue_event()
            done = session.wait_event(10)
        assert done.kind == "step-complete" and done.thread.tid == event.thread.tid
    alive = {t.tid for t in p.threads}
    assert all(t.regs.rip == before[t.tid] for t in others if t.tid in alive)
    p.kill()


def test_a_signal_that_does_not_stop_lets_a_step_go_on(session, fixtures):
    session.set_signal_stops("SIGUSR1", False)
    session.spawn([fixtures["signals"]], stdout="null")
    session.add_breakpoint("signals!main")
    thread = run_to(session, "breakpoint").thread
    session.breakpoints[0].remove()
    # To the line that raises SIGUSR1 (signals.c:12), then over it.
    while line_of(session, thread) < 12:
        thread.step_line(over_calls=True)
        assert session.wait_event(10).kind == "step-complete"
    thread.step_line(over_calls=True)
    kinds = []
    while True:
        event = session.wait_event(10)
        kinds.append(event.kind)
        if event.kind != "exception":
            break
        session.continue_event()  # passes SIGUSR1 to its handler
    assert kinds == ["exception", "step-complete"], kinds
    assert line_of(session, thread) == 13
    session.continue_event()
    run_to_exit(session)
