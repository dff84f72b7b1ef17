"""Source-level debugging from Python: frames and their variables, typed
expressions, types, assignment, and pretty printers written in Python.
The values are those the fixtures set (tests/fixtures/types.c,
classes.cpp, optimized.c); the CLI and engine tests compare the same
values with gdb."""

import pytest

import dbgkit
from conftest import run_to


def stopped_at(session, fixtures, program, place):
    p = session.spawn([fixtures[program]], stdout="null")
    session.add_breakpoint(place)
    event = run_to(session, "breakpoint")
    return p, event.thread


def test_locals_args_and_eval_in_a_c_frame(session, fixtures):
    p, thread = stopped_at(session, fixtures, "types", "types.c:91")
    frame = thread.frame(0)
    assert frame.function == "inspect" and frame.line == 91 and not frame.inlined
    args = frame.args()
    assert [a.name for a in args] == ["s", "p", "text", "small", "big"]
    assert str(args[1]) == "p = {x = 7, y = 8}" and args[1].kind == "argument"
    locals_ = frame.locals()
    assert [v.name for v in locals_][:3] == ["deepest", "inner", "copy"]
    assert frame.variable("letter").text == "81 'Q'" and frame.variable("letter").type_name == "char"
    with pytest.raises(KeyError):
        frame.variable("nosuch")
    # Typed expressions: members, pointers, arrays, C arithmetic.
    assert str(frame.eval("s->bits")) == "{low = 5, mid = 17, neg = -3, high = 999999}"
    assert int(frame.eval("p.x + p.y * 2")) == 23
    assert frame.eval("first.next->name").string() == "two"
    assert float(frame.eval("ratio")) == 2.5
    value = frame.eval("*where")
    assert value.type_name == "struct point" and int(value["y"]) == 4
    assert int(frame.eval("local_array")[2]) == 30
    assert int(frame.eval("s")["corners"][1]["x"]) == 3
    assert frame.eval("mask").format("x") == "0xff00"
    assert frame.eval("first")["next"].deref()["value"].__int__() == 2
    # Assignment through the type, and errors as exceptions.
    frame.set("counter", "40 + 2")
    assert int(frame.eval("counter")) == 42
    with pytest.raises(dbgkit.ExpressionError, match='No symbol "nosuch"'):
        frame.eval("nosuch + 1")
    with pytest.raises(dbgkit.ExpressionError, match="column"):
        frame.eval("p.x +")
    # The same through the stack's frames and an outer frame.
    stack = thread.stack()
    assert [v.name for v in stack[0].args()] == ["s", "p", "text", "small", "big"]
    caller = thread.frame(1)
    assert caller.function == "main" and "total" in [v.name for v in caller.locals()]
    assert str(stack[1].eval("p")) == "{x = 7, y = 8}"


def test_types_by_name(session, fixtures):
    p, thread = stopped_at(session, fixtures, "types", "types.c:91")
    node = p.find_type("struct node")
    assert node.name == "struct node" and node.size == 24
    assert [(f.name, f.type_name, f.offset) for f in node.fields] == [
        ("value", "int", 0),
        ("name", "const char *", 8),
        ("next", "struct node *", 16),
    ]
    assert node.fields[2].type.name == "struct node *"
    bits = p.find_type("struct packed_bits")
    assert [(f.name, f.bitpos, f.bitsize) for f in bits.fields][:2] == [("low", 0, 3), ("mid", 3, 5)]
    assert str(p.find_type("binary_op")).startswith("int (*)(int, int)")
    assert thread.frame().eval("copy").type.name == "struct shape"
    with pytest.raises(dbgkit.ExpressionError, match="No struct type named nosuch"):
        p.find_type("struct nosuch")
    assert str(p.eval_typed("first.next->value")) == "2"


def test_cpp_values_and_a_printer_written_in_python(session, fixtures):
    p, thread = stopped_at(session, fixtures, "classes", "report")
    frame = thread.frame()
    assert str(frame.eval("inventory.counts")) == "std::vector of length 3, capacity 3 = {3, 1, 4}"
    assert str(frame.eval("title")) == '"stock"'
    assert int(frame.eval("inventory.counts")[2]) == 4

    def point(value):
        return f"({int(value['x'])}, {int(value['y'])})"

    session.add_pretty_printer("point", r"^geometry::Point$", point)
    assert "point" in session.pretty_printers()
    assert str(frame.eval("inventory.anchor")).endswith("(4, 6)")

    def counts(value):
        start = value["_M_impl"]["_M_start"]
        finish = value["_M_impl"]["_M_finish"]
        n = (int(finish) - int(start)) // 4
        return (f"{n} counts", [(f"[{i}]", start[i]) for i in range(n)])

    session.add_pretty_printer("counts", r"^std::vector<int", counts)
    assert str(frame.eval("inventory.counts")) == "3 counts = {[0] = 3, [1] = 1, [2] = 4}"
    assert session.remove_pretty_printer("counts") == 1
    assert str(frame.eval("inventory.counts")).startswith("std::vector of length 3")

    def broken(value):
        raise RuntimeError("no")

    session.add_pretty_printer("broken", r"^geometry::Point$", broken)
    assert "printer broken" in str(frame.eval("inventory.anchor"))


def test_optimized_out_and_inlined_frames(session, fixtures):
    p, thread = stopped_at(session, fixtures, "optimized", "consume")
    frames = thread.frames()
    assert [f.function for f in frames[:3]] == ["consume", "work", "main"]
    n = frames[1].variable("n")
    assert n.optimized_out and n.text == "<optimized out>"
    with pytest.raises(dbgkit.ExpressionError, match="optimized out"):
        frames[1].eval("n + 1")
    assert int(frames[0].eval("value")) == 29
