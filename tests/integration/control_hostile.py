"""Hostile clients of healthd's control endpoint, all at once, for test_control.sh:
idle connections that never send a byte, a request dribbled one byte a second, a 10 MB
header, garbage bytes. Prints one line per finding ("idle 1000 opened", "dribble closed
after 10.0s", "bigheader ...", "garbage ...") and exits 0.

    python3 control_hostile.py HOST PORT NIDLE SECONDS
"""
import resource
import socket
import sys
import threading
import time

host, port, nidle, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, nidle + 256)), hard))
out = []
lock = threading.Lock()


def say(line):
    with lock:
        out.append(line)


def idle():
    socks = []
    for _ in range(nidle):
        try:
            socks.append(socket.create_connection((host, port), timeout=2))
        except OSError:
            break
    say("idle %d opened" % len(socks))
    time.sleep(seconds)
    closed = 0
    for s in socks:
        s.setblocking(False)
        try:
            if s.recv(1) == b"":
                closed += 1
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
        s.close()
    say("idle %d closed by healthd" % closed)


def dribble():
    s = socket.create_connection((host, port), timeout=2)
    t0 = time.monotonic()
    req = b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 40 + b"\r\n\r\n"
    for b in req:
        try:
            s.send(bytes([b]))
        except OSError:
            break
        time.sleep(1)
        s.setblocking(False)
        try:
            if s.recv(1) == b"":
                break
        except BlockingIOError:
            pass
        except OSError:
            break
        s.setblocking(True)
        if time.monotonic() - t0 > seconds + 5:
            break
    say("dribble closed after %.1fs" % (time.monotonic() - t0))
    s.close()


def bigheader():
    s = socket.create_connection((host, port), timeout=5)
    sent = 0
    chunk = b"X-Big: " + b"b" * 65536
    try:
        s.sendall(b"GET /metrics HTTP/1.1\r\n")
        while sent < 10 * 1024 * 1024:
            s.sendall(chunk)
            sent += len(chunk)
    except OSError:
        pass
    reply = b""
    try:
        reply = s.recv(200)
    except OSError:
        pass
    say("bigheader sent %d of %d bytes; reply %r" % (sent, 10 * 1024 * 1024, reply[:12]))
    s.close()


def garbage():
    s = socket.create_connection((host, port), timeout=5)
    s.sendall(bytes(range(256)) * 4 + b"\r\n\r\n")
    reply = b""
    try:
        reply = s.recv(200)
    except OSError:
        pass
    say("garbage reply %r" % reply[:12])
    s.close()


threads = [threading.Thread(target=f) for f in (idle, dribble, bigheader, garbage)]
for t in threads:
    t.start()
for t in threads:
    t.join()
for line in out:
    print(line)
