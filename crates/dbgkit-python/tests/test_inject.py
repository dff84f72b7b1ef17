"""Running code in the target: calls, system calls, memory, libraries."""

import ctypes
import os

import pytest

import dbgkit
from conftest import run_to, run_to_exit


def at_ready(session, fixtures):
    p = session.spawn([fixtures["calls"]], stdout="pipe")
    _, out, _ = p.take_pipes()
    session.add_breakpoint("ready")
    return p, out, run_to(session, "breakpoint")


def test_call_functions(session, fixtures):
    p, out, event = at_ready(session, fixtures)
    before = dict(event.thread.regs)
    result = p.call("sum8", 1, 2, 3, 4, 5, 6, 7, 8)
    assert int(result) == result.rax == sum(i * i for i in range(1, 9)) and result.value == 204
    assert event.thread.call("sum8", -1, 0, 0, 0, 0, 0, 0, 0).value == -1
    assert session.call("libc.so.6!strlen", "hello").rax == 5
    # memcmp returns an int: the low 32 bits of rax.
    assert ctypes.c_int32(p.call(p.lookup("libc.so.6!memcmp"), b"abc", b"abd", 3).rax).value < 0
    # Every register put back.
    assert dict(event.thread.regs) == before
    with pytest.raises(dbgkit.InjectionError, match="SIGSEGV"):
        p.call("crash_fn")
    assert dict(event.thread.regs) == before


def test_syscall_and_memory(session, fixtures):
    p, out, event = at_ready(session, fixtures)
    assert p.syscall(39) == p.pid  # getpid
    assert event.thread.syscall(39) == p.pid
    address = p.allocate_memory(8192, "rw")
    assert any(r.start <= address < r.end and r.permissions.startswith("rw") for r in p.memory_map())
    p.write_memory(address, b"written")
    assert p.read_memory(address, 7) == b"written"
    p.protect_memory(address, 8192, "r")
    assert any(r.start <= address < r.end and r.permissions.startswith("r-") for r in p.memory_map())
    p.free_memory(address, 8192)
    with pytest.raises(dbgkit.MemoryError):
        p.read_memory(address, 1)
    assert session.allocate_memory(4096) > 0
    with pytest.raises(dbgkit.InvalidArgument):
        p.allocate_memory(4096, "rwq")


def test_inject_library(session, fixtures):
    p, out, event = at_ready(session, fixtures)
    with pytest.raises(dbgkit.InjectionError, match="dlopen"):
        p.inject_library(os.devnull)
    handle = session.inject_library(fixtures["libinject.so"])
    assert handle
    # Its module-loaded event follows the breakpoint's.
    session.continue_event()
    loaded = run_to(session, "module-loaded")
    assert loaded.module.path == fixtures["libinject.so"]
    session.continue_event()
    run_to_exit(session)
    # Its constructor ran: the program prints the mark it left.
    assert out.read().decode().strip() == "marker 4660"
