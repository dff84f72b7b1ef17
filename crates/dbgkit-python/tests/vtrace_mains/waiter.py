"""A program for vtrace-style tests to attach to: says `ready`, waits for a
line `go` on standard input, then exits with 33."""
import sys


def wait_for_go():
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while sys.stdin.readline().strip() != "go":
        pass


if __name__ == "__main__":
    wait_for_go()
    sys.exit(33)
