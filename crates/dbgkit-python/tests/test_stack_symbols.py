"""Stacks, symbols, expressions, modules."""

import pytest

import dbgkit
from conftest import run_to


def at_socket(session, fixtures):
    p = session.spawn([fixtures["socket"]], stdout="null")
    session.add_breakpoint("libc.so.6!socket")
    return p, run_to(session, "breakpoint")


def test_stack_of_a_hit(session, fixtures):
    p, event = at_socket(session, fixtures)
    stack = event.thread.stack()
    assert len(stack) >= 3 and stack.stopped is None
    assert [f.function for f in stack][:2] == ["socket", "main"]
    top, caller = stack[0], stack[1]
    assert top.number == 0 and top.pc == event.address and top.found_by == "registers" and not top.after_call
    assert caller.after_call and caller.found_by in ("cfi", "frame-pointer") and caller.lookup_pc == caller.pc - 1
    assert str(top).startswith(f"#0 {top.pc:016x} libc.so.6!socket")
    assert "socket!main+0x" in str(caller) and "socket.c:6" in str(caller)
    assert caller.symbol.file.endswith("socket.c") and caller.symbol.line == 6
    assert dict(top.registers)["rsp"] == event.thread.sp
    assert [str(f) for f in stack[-2:]] == [str(f) for f in list(stack)[-2:]]
    assert str(session.stack()) == str(stack)


def test_symbolize_lookup_search(session, fixtures):
    p, event = at_socket(session, fixtures)
    socket = p.lookup("libc.so.6!socket")
    place = p.symbolize(socket + 4)
    assert str(place) == "libc.so.6!socket+0x4" and place.module == "libc.so.6" and place.offset == 4
    assert place.symbol == "socket" and place.address == socket + 4
    main = session.lookup("main")
    where = session.symbolize(main)
    assert where.with_location().startswith("socket!main (") and where.line is not None and where.inlined
    assert session.lookup("socket.c:6") > main
    assert session.lookup("libc") == p.module("libc.so.6").base
    assert [str(s) for s in p.lookup_all("main")][0] == "socket!main"
    found = session.search_symbols("^socket$", "libc.so.6")
    assert [(s.module, s.name, s.address) for s in found] == [("libc.so.6", "socket", socket)]
    assert found[0].size > 0 and found[0].raw_name == "socket"
    with pytest.raises(dbgkit.SymbolNotFound):
        session.lookup("no_such_symbol_anywhere")
    with pytest.raises(dbgkit.SymbolNotFound):
        session.lookup("nosuchmodule!main")
    with pytest.raises(dbgkit.ExpressionError):
        session.search_symbols("(")


def test_eval(session, fixtures):
    p, event = at_socket(session, fixtures)
    thread = event.thread
    assert thread.eval("rdi") == 2  # AF_INET
    assert thread.eval("rsi + 1") == 2  # SOCK_STREAM + 1
    assert session.eval("poi(rsp)") == p.read_pointers(thread.sp)[0]
    assert p.eval("main+0x10") == p.lookup("main") + 0x10
    assert session.eval("0n10 * 2", thread=thread) == 20
    with pytest.raises(dbgkit.ExpressionError):
        thread.eval("1 +")
    with pytest.raises(dbgkit.SymbolNotFound):
        thread.eval("nosuch + 1")


def test_modules(session, fixtures):
    p, event = at_socket(session, fixtures)
    names = [m.name for m in session.modules]
    assert names[0] == "socket" and "libc.so.6" in names
    libc = p.module("libc")
    assert libc.name == "libc.so.6" and libc.end == libc.base + libc.size and libc.alive
    assert event.address in libc and libc.contains(event.address)
    assert libc.lookup("socket") == event.address
    assert libc.process == p and libc.bias <= libc.base
    with pytest.raises(dbgkit.SymbolNotFound):
        p.module("libnosuch")
