"""dbgkit.pydbgeng: PyDbgEng's names, and the classic five-minute example."""

import re
import subprocess
import sys
import time

import pytest

import dbgkit
from dbgkit.pydbgeng import (
    INFINITE,
    AccessType,
    AttachUserFlags,
    BreakpointFlag,
    BreakpointType,
    CreateFlags,
    DebugClient,
    EngineOption,
    EngineState,
    EventCallbacks,
    ExecutionStatus,
    SessionStatus,
)
from conftest import ROOT

EXAMPLE = ROOT / "examples" / "five_minute_debugger.py"


def test_the_five_minute_example_on_a_program_that_opens_a_socket(fixtures):
    result = subprocess.run(
        [sys.executable, str(EXAMPLE), fixtures["socket"]], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    hexa = "[0-9a-f]{8,}"

    def index(pattern):
        for i, line in enumerate(lines):
            if re.fullmatch(pattern, line):
                return i
        raise AssertionError(f"no line matches {pattern!r} in:\n{result.stdout}")

    created = index(rf"CreateProc: {hexa}-{hexa} socket\t{re.escape(fixtures['socket'])}")
    libc = index(rf"ModLoad: {hexa}-{hexa} libc\.so\.6\t/.*libc\.so\.6")
    added = index(rf"Add Breakpoint: CODE 0 @ {hexa} libc\.so\.6!socket:0")
    exception = index(rf"Exception: 00000005 {hexa} socket!_start:0 first")
    frame = index(rf" 0000 {hexa} socket!_start:0")
    hit = index(rf"Hit Breakpoint: CODE 0 @ {hexa} libc\.so\.6!socket:0")
    output = index("socket opened")
    exited = index("ExitProcess 0")
    assert created < libc < added < exception < frame < hit < output < exited
    assert lines[frame + 1] == "[(Breakpoint 0 CODE @ " + lines[added].split("@ ")[1].split()[0].rjust(16, "0") + " ENABLED)]"
    assert "Change engine state to GO_HANDLED" in lines
    assert "SessionStatus: ACTIVE" in lines and lines[-1] == "SessionStatus: END"
    assert "EngineState: EXECUTION_STATUS NO_DEBUGGEE" in lines


def test_the_example_on_a_crash_shows_both_chances(fixtures):
    result = subprocess.run(
        [sys.executable, str(EXAMPLE), fixtures["crash"]], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert re.search(r"Exception: 0000000b [0-9a-f]+ crash!deref:\d+ first\n 0000 [0-9a-f]+ crash!deref", out)
    assert re.search(r"Exception: 0000000b [0-9a-f]+ crash!deref:\d+ second", out)
    assert re.search(r" 0001 [0-9a-f]+ crash!main:\d+", out)
    assert "ExitProcess 139" in out


def test_callbacks_and_their_fields(fixtures):
    c = DebugClient()
    seen = []
    cb = c.EventCallbacks
    assert isinstance(cb, EventCallbacks)
    cb.CreateProcess = lambda a: seen.append(("CreateProcess", a.Handle, a.BaseOffset, a.ModuleSize, a.ModuleName, a.ImageName, a.StartOffset, a.InitialThreadHandle))
    cb.CreateThread = lambda a: seen.append(("CreateThread", a.Handle, a.DataOffset, a.StartOffset))
    cb.ExitThread = lambda a: seen.append(("ExitThread", a.ExitCode))
    cb.LoadModule = lambda a: seen.append(("LoadModule", a.ModuleName, a.ImageName, a.BaseOffset, a.ModuleSize))
    cb.UnloadModule = lambda a: seen.append(("UnloadModule", a.ImageBaseName, a.BaseOffset))
    cb.ExitProcess = lambda a: seen.append(("ExitProcess", a.ExitCode))
    cb.SessionStatus = lambda a: seen.append(("SessionStatus", a.Status))
    states = []
    cb.ChangeEngineState = lambda a: states.append((a.State, a.Argument))
    cb.Attach()
    pid = c.CreateProcess(f"{fixtures['threads']} 2 1", createFlags=[CreateFlags.ATTACH_ONLY_THIS_PROCESS])
    assert c.Control.ExecutionStatus == ExecutionStatus.GO
    breaks = 0
    while c.Control.WaitForEvent(INFINITE):
        breaks += 1
        assert c.Control.ExecutionStatus == ExecutionStatus.BREAK
        c.Control.ExecutionStatus = ExecutionStatus.GO_HANDLED
    assert breaks == 1  # the initial breakpoint
    assert c.Control.ExecutionStatus == ExecutionStatus.NO_DEBUGGEE
    kinds = [s[0] for s in seen]
    assert kinds[0] == "SessionStatus" and seen[0][1] == SessionStatus.ACTIVE
    created = seen[1]
    assert created[0] == "CreateProcess" and created[1] == pid == created[7] and created[4] == "threads"
    assert created[2] <= created[6] < created[2] + created[3]
    assert kinds.count("CreateThread") == 2 and kinds.count("ExitThread") == 2
    assert all(s[2] and s[3] for s in seen if s[0] == "CreateThread")
    assert ("ExitProcess", 0) in seen and seen[-1] == ("SessionStatus", SessionStatus.END)
    assert any(s[1] == "libc.so.6" for s in seen if s[0] == "LoadModule")
    assert (EngineState.EXECUTION_STATUS, int(ExecutionStatus.BREAK)) in states
    assert str(ExecutionStatus.GO_HANDLED) == "GO_HANDLED" and ExecutionStatus.values[2] == ExecutionStatus.GO_HANDLED
    assert c.Control.WaitForEvent() is False


def test_control_symbols_dataspaces_registers(fixtures):
    c = DebugClient(initialBreak=False)
    hits = []

    def onLoadModule(args):
        if args.ModuleName == "libc.so.6":
            bp = c.Control.AddBreakpoint(flags=[BreakpointFlag.ENABLED], offset=c.Symbols.GetOffsetByName("libc.so.6!socket"))
            assert bp.Type == (BreakpointType.CODE, bp.Type[1]) and bp.Flags == [BreakpointFlag.ENABLED]
            later = c.Control.AddBreakpoint()
            later.SetOffsetExpression("socket!main")
            assert later.Flags == [] and later.Offset is None
            later.Flags = [BreakpointFlag.ENABLED]
            assert later.Offset == c.Symbols.GetOffsetByName("main")
        return None

    def onBreakpoint(args):
        hits.append(args.Breakpoint)
        return ExecutionStatus.BREAK

    c.EventCallbacks.LoadModule = onLoadModule
    c.EventCallbacks.Breakpoint = onBreakpoint
    c.CreateProcess([fixtures["socket"]])
    assert c.Control.WaitForEvent()
    assert [bp.Id for bp in hits] == [1]  # main
    assert c.Control.WaitForEvent()
    bp = hits[-1]
    assert bp.Id == 0 and bp.HitCount == 1 and bp in c.Control.Breakpoints
    name, displacement = c.Symbols.GetNameByOffset(bp.Offset)
    assert (name, displacement) == ("libc.so.6!socket", 0)
    assert c.Symbols.GetNameByOffset(bp.Offset + 3) == ("libc.so.6!socket", 3)
    assert c.Symbols.GetNameByOffset(0x10) == ("0x10", 0)
    symbols = c.Symbols.GetSymbols("libc.so.6!sock*")
    assert symbols["socket"][0].Offset == bp.Offset and symbols["socket"][1] == 0
    assert repr(symbols["socket"][0]) == "(Symbol libc.so.6!socket)"
    assert list(c.Symbols.GetSymbols(bp.Offset + 1)) == ["socket"]
    modules = c.Symbols.LoadedModules
    assert modules["libc.so.6"].Base <= bp.Offset < modules["libc.so.6"].Base + modules["libc.so.6"].Size
    assert c.Symbols.GetModuleByOffset(bp.Offset).Name == "libc.so.6"
    with pytest.raises(dbgkit.SymbolNotFound):
        c.Symbols.GetOffsetByName("libc.so.6!no_such_function")
    # Registers and stack of the current thread.
    regs = c.Registers
    assert regs["rip"] == regs.InstructionOffset == bp.Offset and regs["rdi"] == 2
    assert regs.Registers["rsp"].Value == regs.StackOffset
    frames = c.Control.GetStackFrames()
    assert [f.FrameNumber for f in frames[:2]] == [0, 1]
    assert frames[0].InstructionOffset == bp.Offset and frames[0].ReturnOffset == frames[1].InstructionOffset
    assert frames[0].StackOffset == regs.StackOffset
    assert c.Symbols.GetNameByOffset(frames[1].InstructionOffset)[0] == "socket!main"
    assert c.Control.Evaluate("rdi + 1") == 3
    # Memory.
    virtual = c.DataSpaces.Virtual
    ret = virtual.ReadPointers(regs.StackOffset, 1)[0]
    assert ret == frames[1].InstructionOffset
    main = c.Symbols.GetOffsetByName("main")
    head = virtual.Read(main, 4)
    assert len(head) == 4 and virtual.Search(main - 64, 128, head) == main
    assert virtual.Search(main, 4, b"\xde\xad\xbe\xef\xde\xad") is None
    scratch = regs.StackOffset - 4096
    assert virtual.Write(scratch, b"pydbgeng\0") == 9
    assert virtual.ReadMultiByteString(scratch) == "pydbgeng"
    virtual.WritePointers(scratch, [0x1234, 0x5678])
    assert virtual.ReadPointers(scratch, 2) == [0x1234, 0x5678]
    regs["rdi"] = 2
    assert c.SystemObjects.CurrentProcessId == c.SystemObjects.CurrentThreadId
    c.Control.RemoveBreakpoint(bp)
    assert bp not in c.Control.Breakpoints
    c.Control.ExecutionStatus = ExecutionStatus.GO
    assert not c.Control.WaitForEvent()


def test_callback_answers_decide_whether_wait_returns(fixtures):
    c = DebugClient(initialBreak=False)
    answers = iter([ExecutionStatus.GO, None, ExecutionStatus.BREAK, ExecutionStatus.GO_HANDLED, ExecutionStatus.NO_CHANGE])
    hits = []

    def onBreakpoint(args):
        hits.append(c.Registers["rdi"])
        return next(answers)

    c.EventCallbacks.Breakpoint = onBreakpoint
    c.CreateProcess(f"{fixtures['counter']} 5")
    bp = c.Control.AddBreakpoint(flags=[BreakpointFlag.ENABLED], expression="bump")
    assert bp.OffsetExpression == "bump"
    assert c.Control.WaitForEvent() and hits == [0, 1]  # GO went on; None broke (the default)
    assert c.Control.WaitForEvent() and hits == [0, 1, 2]  # BREAK
    assert c.Control.WaitForEvent() and hits == [0, 1, 2, 3, 4]  # GO_HANDLED went on
    assert bp.HitCount == 5
    assert not c.Control.WaitForEvent()


def test_exceptions_and_stepping(fixtures):
    c = DebugClient()
    got = []

    def onException(args):
        got.append((args.Code, args.IsFirstChance, args.IsInitialBreak))

    c.EventCallbacks.Exception = onException
    c.CreateProcess(fixtures["crash"])
    assert c.Control.WaitForEvent() and got == [(5, True, True)]
    c.Control.ExecutionStatus = ExecutionStatus.STEP_INTO
    start = c.Registers["rip"]
    assert c.Control.WaitForEvent() and c.Registers["rip"] != start  # the step broke
    c.Control.ExecutionStatus = ExecutionStatus.GO
    assert c.Control.WaitForEvent() and got[-1] == (11, True, False)  # first-chance SIGSEGV breaks
    c.Control.ExecutionStatus = ExecutionStatus.GO_NOT_HANDLED
    assert c.Control.WaitForEvent() and got[-1] == (11, False, False)
    c.TerminateProcesses()
    assert not c.Control.WaitForEvent()


def test_attach_and_detach(fixtures):
    worker = subprocess.Popen([fixtures["worker"], "1", "1"], stdout=subprocess.PIPE, text=True)
    try:
        assert worker.stdout.readline().strip() == "started 1"
        c = DebugClient()
        threads = []
        c.EventCallbacks.CreateThread = lambda a: threads.append(a.Handle)
        got = []
        c.EventCallbacks.Exception = lambda a: got.append(a.Code)
        c.AttachProcess(worker.pid, flags=[])
        assert c.Control.WaitForEvent()  # the break-in after the replayed present
        assert len(threads) == 1 and got == [5]
        assert c.SystemObjects.Processes == [worker.pid] and len(c.SystemObjects.Threads) == 2
        c.DetachProcesses()
        assert c.Control.ExecutionStatus == ExecutionStatus.NO_DEBUGGEE
        out, _ = worker.communicate(timeout=30)
        assert out.strip() == "finished 1 worked" and worker.returncode == 0
        c.EndSession()
        assert c.Session.closed
    finally:
        if worker.poll() is None:
            worker.kill()


def test_enums_print_their_names():
    assert str(BreakpointType.CODE) == "CODE" and BreakpointFlag.ENABLED == 4
    assert AccessType.READ_WRITE == AccessType.READ | AccessType.WRITE
    assert AttachUserFlags.INVASIVE_NO_INITIAL_BREAK == 8 and EngineOption.INITIAL_BREAK == 0x20
    assert ExecutionStatus.names["BREAK"] == ExecutionStatus.BREAK and INFINITE == 0xFFFFFFFF
    assert repr(ExecutionStatus.GO) == "ExecutionStatus.GO"
    assert time is not None
