"""Memory and registers, read and written, with visible effects on the target."""

import pytest

import dbgkit
from conftest import run_to, run_to_exit, run_to_module


def stop_in_bump(session, fixtures, calls="10"):
    p = session.spawn([fixtures["counter"], calls], stdout="pipe")
    _, out, _ = p.take_pipes()
    # At bump's first instruction (a name alone breaks after the prologue): rdi is still the argument.
    session.add_breakpoint("*bump")
    event = run_to(session, "breakpoint")
    return p, out, event


def test_memory_read_and_written(session, fixtures):
    p, out, event = stop_in_bump(session, fixtures)
    value = p.lookup("value")
    assert p.read_memory(value, 8) == (1).to_bytes(8, "little")
    assert session.read_pointers(value) == [1]
    p.write_memory(value, (7).to_bytes(8, "little"))
    assert p.read_pointers(value, 1) == [7]
    session.write_memory(value, bytearray((3).to_bytes(8, "little")))
    assert session.read_memory(value, 8)[0] == 3
    # Breakpoint bytes never show: the first byte of bump is the original one.
    assert p.read_memory(event.address, 1) != b"\xcc"
    session.breakpoints[0].remove()
    run_to_exit(session)
    # bump(i) returned i + 3 from the first call on.
    assert out.read().decode().strip() == f"sum={sum(range(10)) + 30} value=3"


def test_strings_pointers_and_search(session, fixtures):
    p = session.spawn([fixtures["counter"], "10"], stdout="null")
    session.add_breakpoint("main")
    event = run_to(session, "breakpoint")
    regs = event.thread.regs
    argv = p.read_pointers(regs.rsi, regs.rdi)
    assert len(argv) == 2
    assert p.read_cstring(argv[0]) == fixtures["counter"]
    assert p.read_cstring(argv[1], encoding=None) == b"10"
    assert session.read_cstring(argv[0], 4) == fixtures["counter"][:4]
    found = p.search_memory(b"sum=%ld")
    assert found and all(p.read_memory(a, 7) == b"sum=%ld" for a in found)
    exe = p.modules[0]
    assert p.search_memory("sum=%ld", exe.base, exe.end) == [a for a in found if exe.contains(a)]
    regions = p.memory_map()
    assert any(r.path == "[stack]" and regs.rsp in r for r in regions)
    assert any(r.executable and r.path == fixtures["counter"] for r in regions)
    with pytest.raises(dbgkit.MemoryError):
        p.read_memory(0, 8)
    with pytest.raises(dbgkit.MemoryError):
        p.read_cstring(8)
    with pytest.raises(TypeError):
        p.write_memory(0x1000, "text")


def test_registers_as_attributes_and_dict(session, fixtures):
    p, out, event = stop_in_bump(session, fixtures)
    regs = event.thread.regs
    assert regs.rip == regs["rip"] == event.thread.pc == event.address
    assert regs.rdi == 0 and regs.edi == 0 and regs.RDI == 0
    snapshot = dict(regs)
    assert list(snapshot) == regs.keys() and snapshot["rsp"] == event.thread.sp
    assert regs.as_dict() == snapshot and len(regs) == len(snapshot)
    assert "rax" in regs and "al" in regs and "xmm0" in regs and "nosuch" not in regs
    assert regs.get("nosuch", -1) == -1
    with pytest.raises(AttributeError):
        regs.nosuch
    with pytest.raises(KeyError):
        regs["nosuch"]
    with pytest.raises(AttributeError):
        regs.nosuch = 1
    # Written into the thread: bump(i) returns rdi + value, so the first call returns 1000 + 1.
    regs.rdi = 1000
    assert event.thread.regs.rdi == 1000
    regs["rsi"] = -1
    assert regs.rsi == 2**64 - 1
    regs.update(rbx=5)
    assert regs.rbx == 5
    regs.xmm1 = 0x1122334455667788_99AABBCCDDEEFF00
    assert regs.xmm1 == 0x1122334455667788_99AABBCCDDEEFF00
    session.breakpoints[0].remove()
    run_to_exit(session)
    assert out.read().decode().strip() == f"sum={sum(range(10)) + 10 + 1000} value=1"


def test_pc_written_skips_code(session, fixtures):
    p = session.spawn([fixtures["crash"]], stdout="null")
    bp = session.add_breakpoint("*deref")  # the first instruction: the return address on top
    event = run_to(session, "breakpoint")
    # Return from deref at once with 0 instead of dereferencing NULL: the program exits 0.
    thread = event.thread
    return_address = p.read_pointers(thread.sp)[0]
    thread.regs.rax = 0
    thread.sp = thread.sp + 8
    thread.pc = return_address
    assert thread.symbolize().symbol == "main"
    bp.remove()
    session.continue_event()
    exited = run_to(session, "process-exited")
    assert exited.exit_code == 0


def test_registers_need_a_stopped_thread(session, fixtures):
    p = session.spawn([fixtures["spin"]])
    run_to_module(session, "libc.so.6")
    session.continue_event()
    with pytest.raises(dbgkit.ProcessRunning):
        p.thread().regs.rip
    p.break_in()
    run_to(session, "break-in")
    assert p.thread().regs.rip
    p.kill()


def test_negative_and_absurd_sizes_are_clear_errors():
    import dbgkit

    s = dbgkit.Session()
    s.spawn(["/bin/sleep", "5"])
    s.wait_event()
    for call in (lambda: s.allocate_memory(-5), lambda: s.read_memory(0x1000, -1), lambda: s.read_pointers(0x1000, -2)):
        try:
            call()
        except dbgkit.InvalidArgument as e:
            assert "must not be negative" in str(e)
        else:
            raise AssertionError("a negative size was accepted")
    try:
        s.read_memory(0x1000, 1 << 60)
    except dbgkit.InvalidArgument as e:
        assert "more than an address space holds" in str(e)
    else:
        raise AssertionError("an absurd size was accepted")
    s.kill()
