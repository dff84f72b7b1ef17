"""After `go`, starts a thread that sleeps briefly, joins it, exits with 33."""
import sys
import threading
import time

from waiter import wait_for_go

wait_for_go()
worker = threading.Thread(target=time.sleep, args=(0.1,))
worker.start()
worker.join()
sys.exit(33)
