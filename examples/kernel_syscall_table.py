#!/usr/bin/env python3
"""The end of PyDbgEng's tour, on Linux: attach to a kernel and print the
system-call table with a symbol name for every entry.

    python3 examples/kernel_syscall_table.py HOST:PORT VMLINUX [COUNT]

HOST:PORT is a GDB stub in front of a running kernel: QEMU started with
`-gdb tcp:127.0.0.1:1234` (see README.md, "A kernel in QEMU"). VMLINUX is
the kernel's image with symbols (Debian's linux-image-*-dbg package; a
System.map works too). With DbgEng the same script attaches with
`AttachKernel(..., "net:port=...")`; here the connection string names the
stub. KASLR is no obstacle: dbgkit finds where the kernel was put.

Needs the dbgkit module: `scripts/setup` installs it.
"""
import sys

from dbgkit.pydbgeng import *

if len(sys.argv) < 3:
    sys.exit("usage: kernel_syscall_table.py HOST:PORT VMLINUX [COUNT]")
address, vmlinux = sys.argv[1], sys.argv[2]
count = int(sys.argv[3]) if len(sys.argv) > 3 else 10

c = DebugClient()
c.AttachKernel(0, "gdb:%s,vmlinux=%s" % (address, vmlinux))
# The replayed present (CPUs, vmlinux, loaded modules) goes by; the break-in stops.
c.Control.WaitForEvent()

slide, how = c.Session.kernel_placement()
print("kernel slide %#x (%s)" % (slide or 0, how))

table = c.Symbols.GetOffsetByName("vmlinux!sys_call_table")
for i, entry in enumerate(c.DataSpaces.Virtual.ReadPointers(table, count)):
    name, displacement = c.Symbols.GetNameByOffset(entry)
    if displacement:
        name += "+%#x" % displacement
    print("[%3d] %016x %s" % (i, entry, name))

# Leave the machine running, as a kernel debugger does when it detaches.
c.DetachProcesses()
