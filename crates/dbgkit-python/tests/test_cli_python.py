"""Python inside the dbgkit debugger, end to end: the real `dbgkit` binary
(with its Python plugin, both built here by cargo) running scripts against
its own session on fixture programs."""

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import dbgkit

from conftest import ROOT

TIMEOUT = 120


@pytest.fixture(scope="session")
def dbgkit_bin():
    """target/debug/dbgkit with libdbgkit_cli_python.so beside it."""
    result = subprocess.run(
        ["cargo", "build", "-q", "-p", "dbgkit-cli", "-p", "dbgkit-cli-python"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, f"building dbgkit and its Python plugin failed:\n{result.stderr}"
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    binary = target / "debug" / "dbgkit"
    assert (binary.parent / "libdbgkit_cli_python.so").is_file()
    return str(binary)


def run(dbgkit_bin, program, *commands, script_files=(), env=None):
    """`dbgkit --batch --echo -c CMD... [-x FILE...] PROGRAM...`; returns (status, stdout, stderr)."""
    args = [dbgkit_bin, "--batch", "--echo"]
    for c in commands:
        args += ["-c", c]
    for f in script_files:
        args += ["-x", str(f)]
    args += list(program)
    full_env = dict(os.environ)
    full_env.update(env or {})
    out = subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL, env=full_env)
    return out.returncode, out.stdout, out.stderr


def piped(dbgkit_bin, program, *commands, env=None):
    """`dbgkit --echo PROGRAM...` with the commands on its standard input:
    unlike -c and -x, a command that fails does not end the others."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    out = subprocess.run(
        [dbgkit_bin, "--echo", *program],
        input="".join(c + "\n" for c in commands),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=full_env,
    )
    return out.returncode, out.stdout, out.stderr


def output_of(out, command):
    """The lines a command printed (after its echoed prompt line, up to the next prompt)."""
    lines = out.splitlines()
    for i, line in enumerate(lines):
        if re.match(r"^(\d+:\d+:\d+|dbgkit)> ", line) and line.endswith("> " + command):
            rest = []
            for after in lines[i + 1 :]:
                if re.match(r"^(\d+:\d+:\d+|dbgkit)> ", after):
                    break
                rest.append(after)
            return rest
    raise AssertionError(f"command {command!r} not in the output:\n{out}")


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_py_file_sees_the_session_and_its_breakpoints_show_in_bl(dbgkit_bin, fixtures, tmp_path):
    script = write(
        tmp_path,
        "setbp.py",
        """
        import sys, dbgkit
        s = dbgkit.current_session()
        print("argv", sys.argv[1:])
        print("same process", s.process().pid == s.processes[0].pid, s.process().image.endswith("counter"))
        bp = s.add_breakpoint("counter!bump", condition="rdi == 1")
        print("python breakpoint at", hex(bp.address))
        """,
    )
    status, out, err = run(dbgkit_bin, [fixtures["counter"], "3"], f".py {script} one two", "bl", "g", "r rdi")
    assert status == 0, err
    said = output_of(out, f".py {script} one two")
    assert said[0] == "argv ['one', 'two']" and said[1] == "same process True True"
    address = int(said[2].split()[-1], 16)
    listed = output_of(out, "bl")
    assert len(listed) == 1 and f"{address:016x}" in listed[0] and 'if "rdi == 1"' in listed[0]
    stop = output_of(out, "g")[0]
    assert stop.startswith("Breakpoint: id=1 at") and "counter!bump" in stop
    assert output_of(out, "r rdi") == ["rdi=0000000000000001"]


def test_cli_breakpoints_are_python_breakpoints(dbgkit_bin, fixtures):
    status, out, err = run(
        dbgkit_bin,
        [fixtures["counter"], "3"],
        "bp counter!bump",
        "py [(hex(b.address), b.hits) for b in dbgkit.current_session().breakpoints]",
        "g",
        "py [(hex(b.address), b.hits) for b in dbgkit.current_session().breakpoints]",
        "py dbgkit.current_session().breakpoints[0].remove()",
        "bl",
    )
    assert status == 0, err
    address = output_of(out, "bp counter!bump")[0].split()[3]
    first, second = [l for l in out.splitlines() if l.startswith("[('0x")]
    assert first == f"[('0x{int(address, 16):x}', 0)]"
    assert second == f"[('0x{int(address, 16):x}', 1)]"
    assert output_of(out, "bl") == ["No breakpoints."]


def test_extension_commands_listed_by_help(dbgkit_bin, fixtures, tmp_path):
    script = write(
        tmp_path,
        "ext.py",
        """
        import dbgkit

        @dbgkit.command("regsum")
        def regsum(args):
            \"\"\"Adds two registers of the current thread.

            More text that help does not show.\"\"\"
            t = dbgkit.current_session().process().thread()
            a, b = args.split()
            print("sum", hex(t.regs[a] + t.regs[b]))

        @dbgkit.command("bl")
        def clash(args):
            \"\"\"Clashes with bl: only !bl reaches it.\"\"\"
            print("python bl")
        """,
    )
    status, out, err = run(
        dbgkit_bin,
        [fixtures["counter"]],
        f"source {script}",
        "help",
        "help regsum",
        "!regsum rsp rsp",
        "regsum rsp rsp",
        "r rsp",
        "bl",
        "!bl",
    )
    assert status == 0, err
    help_lines = output_of(out, "help")
    assert "Extension commands (Python):" in help_lines
    assert any(re.match(r"\s+!regsum\s+Adds two registers of the current thread\.$", l) for l in help_lines)
    assert output_of(out, "help regsum")[1].strip() == "Adds two registers of the current thread."
    rsp = int(output_of(out, "r rsp")[0].split("=")[1], 16)
    assert output_of(out, "!regsum rsp rsp") == [f"sum {hex(2 * rsp)}"]
    assert output_of(out, "regsum rsp rsp") == [f"sum {hex(2 * rsp)}"]
    assert output_of(out, "bl") == ["No breakpoints."]  # the built-in wins
    assert output_of(out, "!bl") == ["python bl"]


def test_python_callbacks_run_from_g(dbgkit_bin, fixtures):
    block = [
        "python",
        "s = dbgkit.current_session()",
        "seen = []",
        "def on_bump(event):",
        "    seen.append(event.thread.regs.rdi)",
        "    return event.thread.regs.rdi == 2   # stop at the third call only",
        "bp = s.add_breakpoint('counter!bump', callback=on_bump)",
        "end",
    ]
    script = "\n".join(block) + "\ng\nr rdi\npy print('seen', seen)\ng\npy print('seen', seen)\n"
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"callbacks-{os.getpid()}.txt"
    path.write_text(script)
    try:
        status, out, err = run(dbgkit_bin, [fixtures["counter"], "4"], script_files=[path])
    finally:
        path.unlink()
    assert status == 0, err
    assert output_of(out, "r rdi") == ["rdi=0000000000000002"]
    seen = [l for l in out.splitlines() if l.startswith("seen")]
    assert seen == ["seen [0, 1, 2]", "seen [0, 1, 2, 3]"]
    assert "sum=10 value=1" in out and "ExitProcess" in out


def test_callback_exception_stops_with_its_traceback(dbgkit_bin, fixtures):
    status, out, err = run(
        dbgkit_bin,
        [fixtures["counter"], "3"],
        "py dbgkit.current_session().add_breakpoint('counter!bump', callback=lambda e: 1 / 0)",
        "g",
        "r rdi",
    )
    assert status == 0, err
    assert "ZeroDivisionError" in err and "Traceback" in err
    assert "callback raised an exception" in out
    assert output_of(out, "r rdi") == ["rdi=0000000000000000"]


def test_x_python_file_and_block_indentation(dbgkit_bin, fixtures, tmp_path):
    script = write(
        tmp_path,
        "startup.py",
        """
        import dbgkit
        s = dbgkit.current_session()
        names = sorted(m.name for m in s.modules)
        print("modules:", ",".join(names))
        """,
    )
    commands = write(
        tmp_path,
        "cmds.txt",
        """
        python
        total = 0
        for i in range(4):
            if i % 2:
                total += i
        print("total", total)
        end
        py print("after", total)
        """,
    )
    status, out, err = run(dbgkit_bin, [fixtures["counter"]], script_files=[script, commands])
    assert status == 0, err
    assert "modules: counter,ld-linux-x86-64.so.2,libc.so.6,linux-vdso.so.1" in out
    assert "total 4" in out and "after 4" in out


def test_script_runs_the_target_and_the_debugger_goes_on(dbgkit_bin, fixtures, tmp_path):
    script = write(
        tmp_path,
        "runto.py",
        """
        import dbgkit
        s = dbgkit.current_session()
        s.add_breakpoint("counter!bump", condition="rdi == 2")
        s.continue_event()
        while True:
            ev = s.wait_event(30)
            if ev.kind == "breakpoint":
                break
            s.continue_event()
        print("script stopped at", ev.thread.symbolize())
        """,
    )
    status, out, err = run(dbgkit_bin, [fixtures["counter"], "4"], f".py {script}", "r rdi", "k 1", "g")
    assert status == 0, err
    said = output_of(out, f".py {script}")
    # A breakpoint on a function is placed after its prologue, as gdb places it.
    assert said[0].startswith("script stopped at counter!bump+0x"), said[0]
    assert said[1].startswith("Breakpoint: id=1 at")  # the debugger shows where the script left it
    assert output_of(out, "r rdi") == ["rdi=0000000000000002"]
    assert "ExitProcess" in "\n".join(output_of(out, "g"))


def test_script_runs_the_program_to_its_end(dbgkit_bin, fixtures):
    status, out, err = run(
        dbgkit_bin,
        [fixtures["counter"], "2"],
        "py print('kinds', sorted({ev.kind for ev in dbgkit.current_session().events()}))",
        "g",
    )
    assert "kinds ['module-loaded', 'process-exited']" in out or "'process-exited'" in out, out
    assert "no process" in err  # g after the program ended


def test_the_debuggers_session_cannot_be_closed(dbgkit_bin, fixtures):
    status, out, err = piped(dbgkit_bin, [fixtures["counter"]], "py dbgkit.current_session().close()", "r rip")
    assert status == 0, "the last command succeeded"
    assert "StateError" in err and "debugger's own session" in err
    assert output_of(out, "r rip")[0].startswith("rip=")


def test_syntax_error_and_system_exit(dbgkit_bin, fixtures, tmp_path):
    quits = write(tmp_path, "quits.py", "import sys\nprint('bye')\nsys.exit(0)\n")
    fails = write(tmp_path, "fails.py", "import sys\nsys.exit(3)\n")
    status, out, err = piped(dbgkit_bin, [fixtures["counter"]], "py 1 +", f".py {quits}", f".py {fails}")
    assert "SyntaxError" in err
    assert output_of(out, f".py {quits}") == ["bye"]
    assert "exited with status 3" in err
    assert status == 1


def test_without_python_the_debugger_works_and_says_how(dbgkit_bin, fixtures):
    status, out, err = piped(dbgkit_bin, [fixtures["counter"], "2"], "py 1", "g", env={"DBGKIT_PYTHON": "none"})
    assert "Python support is not available" in err and "libpython3" in err
    assert "sum=" in out and "ExitProcess" in out
    status, out, err = run(
        dbgkit_bin, [fixtures["counter"], "2"], "py 1", env={"DBGKIT_PYTHON": "/nonexistent/python3"}
    )
    assert "cannot run /nonexistent/python3" in err


def test_current_session_outside_the_debugger():
    with pytest.raises(dbgkit.StateError, match="dbgkit debugger"):
        dbgkit.current_session()


@pytest.mark.skipif(shutil.which("gdb") is None, reason="gdb is installed by scripts/setup")
def test_python_line_agrees_with_gdbs(dbgkit_bin, fixtures):
    """The same Python line in gdb and in dbgkit: the address of `bump` and
    the program's `value` read from memory."""
    gdb_line = 'python print(hex(int(gdb.parse_and_eval("(long)&bump"))), int(gdb.parse_and_eval("value")))'
    gdb = subprocess.run(
        ["gdb", "-nx", "-batch", "-ex", "starti", "-ex", gdb_line, "--args", fixtures["counter"]],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    expected = gdb.stdout.strip().splitlines()[-1]
    line = (
        "py s = dbgkit.current_session(); "
        "print(hex(s.lookup('counter!bump')), int.from_bytes(s.read_memory(s.lookup('counter!value'), 4), 'little'))"
    )
    status, out, err = run(dbgkit_bin, [fixtures["counter"]], line)
    assert status == 0, err
    assert output_of(out, line) == [expected]
