"""After `go`, prints the address of a 32-byte buffer, waits for a line,
prints what the buffer holds then, exits with 33."""
import ctypes
import sys

from waiter import wait_for_go

wait_for_go()
buf = ctypes.create_string_buffer(32)
sys.stdout.write("0x%x\n" % ctypes.addressof(buf))
sys.stdout.flush()
sys.stdin.readline()
sys.stdout.write("%s\n" % buf.value.decode("ascii", "replace"))
sys.stdout.flush()
sys.exit(33)
