#!/usr/bin/env python3
"""PyDbgEng's classic "debugger in five minutes", on Linux with dbgkit.

    python3 examples/five_minute_debugger.py PROGRAM [ARGS...]
    python3 examples/five_minute_debugger.py --remote HOST:PORT PROGRAM

It launches PROGRAM and prints every event: the process and its threads
starting and ending, each module loading (on libc.so.6 it sets a breakpoint
on socket()), breakpoint hits, and exceptions with a stack dump. The code is
the example from PyDbgEng's author's blog, section by section, with Python 3
syntax and Linux module names (libc.so.6!socket for WS2_32!socket); the
initial breakpoint DbgEng reports when a program starts is the first
"Exception:" (a SIGTRAP at the program's entry point).

With --remote, the program runs behind a GDB remote stub instead, such as
dbgkit-winstub running a Windows program under Wine (docs/windows.md):
the same code then prints Windows events (ModLoad: ... kernel32.dll), and
sets its breakpoint on ws2_32.dll!socket.

Needs the dbgkit module: `scripts/setup` installs it (or
`pip install ./crates/dbgkit-python`).
"""
import shlex
import sys

from dbgkit.pydbgeng import *

if len(sys.argv) < 2 or (sys.argv[1] == "--remote" and len(sys.argv) != 4):
    sys.exit("usage: five_minute_debugger.py PROGRAM [ARGS...]\n       five_minute_debugger.py --remote HOST:PORT PROGRAM")
remote = sys.argv[2] if sys.argv[1] == "--remote" else None

# The program writes to the same terminal or pipe: keep our lines in order with its own.
sys.stdout.reconfigure(line_buffering=True)

c = DebugClient()

### for handling different debugger events


def onCreateProcess(args):
    print("CreateProc: %08x-%08x %s\t%s" % (args.BaseOffset, args.BaseOffset + args.ModuleSize, args.ModuleName, args.ImageName))


def onExitProcess(args):
    print("ExitProcess %d" % args.ExitCode)


def onCreateThread(args):
    print("CreateThread %x %08x %08x" % (args.Handle, args.DataOffset, args.StartOffset))


def onExitThread(args):
    print("ExitThread %d" % args.ExitCode)


### for displaying debugger state


def onSessionStatus(args):
    print("SessionStatus: %s" % (str(args.Status)))


def onChangeEngineState(args):
    sys.stdout.write("EngineState: %s " % str(args.State))

    if EngineState.EXECUTION_STATUS == args.State:
        print(ExecutionStatus.values[args.Argument & 0xF])
    else:
        print("%x" % args.Argument)


### breakpoints


def onLoadModule(args):
    print("ModLoad: %08x-%08x %s\t%s" % (args.BaseOffset, args.BaseOffset + args.ModuleSize, args.ModuleName, args.ImageName))

    if args.ModuleName in ("libc.so.6", "ws2_32.dll"):
        socket = args.ModuleName + "!socket"
        bp = c.Control.AddBreakpoint(flags=[BreakpointFlag.ENABLED], offset=c.Symbols.GetOffsetByName(socket))

        symbol = c.Symbols.GetNameByOffset(bp.Offset)
        print("Add Breakpoint: %s %d @ %08x %s:%d" % (str(bp.Type[0]), bp.Id, bp.Offset, symbol[0], symbol[1]))


def onBreakpoint(args):
    bp = args.Breakpoint

    symbol = c.Symbols.GetNameByOffset(bp.Offset)
    print("Hit Breakpoint: %s %d @ %08x %s:%d" % (str(bp.Type[0]), bp.Id, bp.Offset, symbol[0], symbol[1]))

    return ExecutionStatus.BREAK


### exceptions

last = {"fault": False}


def onException(args):
    symbol = c.Symbols.GetNameByOffset(args.Address)
    sys.stdout.write("Exception: %08x %08x %s:%d" % (args.Code, args.Address, symbol[0], symbol[1]))

    if args.IsFirstChance:
        print(" first")
    else:
        print(" second")

    for frame in c.Control.GetStackFrames():
        symbol = c.Symbols.GetNameByOffset(frame.InstructionOffset)
        print(" %04d %08x %s:%d" % (frame.FrameNumber, frame.InstructionOffset, symbol[0], symbol[1]))

    print(c.Control.Breakpoints)
    # Not in the original: remember whether this is a real fault (see the loop below).
    last["fault"] = not args.IsInitialBreak and args.SignalName != "SIGTRAP"


c.EventCallbacks.CreateProcess = onCreateProcess
c.EventCallbacks.ExitProcess = onExitProcess
c.EventCallbacks.CreateThread = onCreateThread
c.EventCallbacks.ExitThread = onExitThread
c.EventCallbacks.LoadModule = onLoadModule
c.EventCallbacks.SessionStatus = onSessionStatus
c.EventCallbacks.ChangeEngineState = onChangeEngineState
c.EventCallbacks.Breakpoint = onBreakpoint
c.EventCallbacks.Exception = onException
c.EventCallbacks.Attach()

if remote:
    c.ConnectProcess("gdb:" + remote, sys.argv[3])
else:
    c.CreateProcess(shlex.join(sys.argv[1:]), createFlags=[CreateFlags.ATTACH_ONLY_THIS_PROCESS, CreateFlags.NEW_CONSOLE])

### stability
try:
    while c.Control.WaitForEvent():
        # The original goes on with GO_HANDLED after every break. A real fault
        # (SIGSEGV...) "handled" would run the faulting instruction again
        # forever, so a fault goes back to the program instead.
        if last["fault"]:
            c.Control.ExecutionStatus = ExecutionStatus.GO_NOT_HANDLED
            last["fault"] = False
        else:
            c.Control.ExecutionStatus = ExecutionStatus.GO_HANDLED
        print("Change engine state to %s" % c.Control.ExecutionStatus)
except:  # noqa: E722 (as in the original)
    if ExecutionStatus.NO_DEBUGGEE != c.Control.ExecutionStatus:
        print("Unexpected error:", sys.exc_info()[0])
        raise
