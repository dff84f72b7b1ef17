"""Exits with 33: the program vtrace-style exec tests launch."""
import sys

sys.exit(33)
