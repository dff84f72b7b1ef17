"""Session.connect: a program under Debian's gdbserver, debugged from
Python as a local one is; errors of the remote target."""

import re
import socket
import subprocess

import pytest

import dbgkit

from conftest import PATIENCE


@pytest.fixture
def gdbserver(fixtures):
    """Starts `gdbserver --once 127.0.0.1:0 PROGRAM ARGS`; yields its address."""
    servers = []

    def start(program, *args):
        p = subprocess.Popen(
            ["gdbserver", "--once", "127.0.0.1:0", fixtures[program], *args],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        servers.append(p)
        for line in p.stderr:
            m = re.match(r"Listening on port (\d+)", line)
            if m:
                return "127.0.0.1:" + m.group(1)
        raise AssertionError("gdbserver did not say its port")

    yield start
    for p in servers:
        p.kill()
        p.wait()


def test_breakpoint_stack_and_exit_through_gdbserver(session, gdbserver, fixtures):
    address = gdbserver("counter", "3")
    proc = session.connect(address)
    assert proc.pid > 0
    bp = session.add_breakpoint("*counter!bump")
    hits, exited = [], None
    for ev in session.events(timeout=PATIENCE):
        if ev.kind == "breakpoint":
            hits.append(ev.thread.regs["rdi"])
            frames = [str(f) for f in ev.thread.stack()]
            assert "counter!bump" in frames[0] and "counter!main" in frames[1], frames
        elif ev.kind == "process-exited":
            exited = ev.exit_code
            break
    assert hits == [0, 1, 2]
    assert exited == 0
    assert bp.hits == 3


def test_a_closed_port_is_a_remote_error(session):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with pytest.raises(dbgkit.RemoteError, match=f"127.0.0.1:{port}"):
        session.connect(f"127.0.0.1:{port}")
    with pytest.raises(dbgkit.RemoteError, match="bad remote address .*HOST:PORT"):
        session.connect("no-port-here")


def test_kernel_views_refuse_a_process(session, gdbserver):
    proc = session.connect(gdbserver("counter", "1"))
    with pytest.raises(dbgkit.NotSupported):
        session.kernel_processes(proc)
