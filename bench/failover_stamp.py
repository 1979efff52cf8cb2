#!/usr/bin/python3
"""bench/failover_stamp.py FIFO OUT: healthd's log, stamped on arrival.

Reads the FIFO healthd's stderr is redirected to and writes every line to OUT as
"READ_RETURNED<TAB>WAITED<TAB>FIRST<TAB>LINE": when the read() that got it returned
(epoch seconds, CLOCK_REALTIME, the clock of strace -ttt), how long that read() had
waited for data (0 when the line was already in the FIFO: then its stamp is late), and
1 for the first line of that read. bench/failover.sh runs it SCHED_FIFO when it may, so
that it wakes the moment healthd writes.

After each read it sleeps 5 ms, keeping what it read in memory: healthd's next lines
(the state change, the speaker command) then go into the FIFO without waking it, so that
a woken reader does not delay healthd on its way to the speaker; it writes OUT after
that sleep. Runs until the last writer closes the FIFO.
"""
import os
import sys
import time


def main():
    fd = os.open(sys.argv[1], os.O_RDONLY)
    reads = []
    rest = b""
    with open(sys.argv[2], "a", encoding="utf-8", errors="replace") as out:

        def flush():
            nonlocal rest
            for t, waited, chunk in reads:
                lines = (rest + chunk).split(b"\n")
                rest = lines.pop()
                for i, line in enumerate(lines):
                    out.write("%.6f\t%.6f\t%d\t%s\n" % (t, waited, i == 0, line.decode("utf-8", "replace")))
            reads.clear()
            out.flush()

        while True:
            t0 = time.time()
            chunk = os.read(fd, 65536)
            t1 = time.time()
            if not chunk:
                break
            reads.append((t1, t1 - t0, chunk))
            time.sleep(0.005)
            flush()
        flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
