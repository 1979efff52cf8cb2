#!/usr/bin/env python3
"""A misbehaving server for healthd's fault tests, switched between modes at run time.

    faultserver.py stream ADDR PORT MODEFILE     # TCP: a line protocol and HTTP/1.1
    faultserver.py dns ADDR PORT MODEFILE        # DNS over UDP and TCP on one port

MODEFILE is read again for every connection or query (missing or empty = "good"), so a
test switches a running server with one write. Listens on ADDR:PORT only (loopback in
the tests); one thread per TCP connection; a connection lives at most LIFE seconds.

stream modes:
    good            "PING" line -> "PONG\\r\\n"; an HTTP request -> 200 "healthy\\n"
    hang            accepts, reads, never answers
    slow SECONDS    answers as good, SECONDS after the request
    reset           accepts, then closes with SO_LINGER 0: the peer gets a RST
    endless         HTTP 200 whose body never ends (no Content-Length, written as fast
                    as the peer takes it)
    slowheaders     HTTP 200 whose head is sent one byte a second
    bigcl           HTTP 200 with "Content-Length: 1000000000", 1 KiB of body, then silence
    redirect        HTTP 302 to the very URL asked (a redirect loop)

dns modes (answers a query for any name; the good answer is A 192.0.2.1, AA):
    good            NOERROR, AA, A 192.0.2.1
    servfail        SERVFAIL, no answer
    refused         REFUSED, no answer
    empty           NOERROR, AA, no answer
    big             over UDP: TC set, no answer; over TCP: a 65,535-byte NOERROR answer of
                    about 4,000 A records in 198.51.100.0/24 (none is 192.0.2.1)
    random          random bytes (never starting with the query's id)
    short           the first 6 bytes of the good answer (a truncated header)
    wrongid         the good answer under another id
"""
import os
import socket
import struct
import sys
import threading
import time

LIFE = 60  # seconds a connection may live, whatever the mode


def mode(path):
    try:
        with open(path) as f:
            words = f.read().split()
    except OSError:
        words = []
    return (words[0], words[1:]) if words else ("good", [])


# ------------------------------------------------------------------ stream
def read_request(c, deadline):
    """Bytes up to the end of an HTTP head or of a first line; b"" on EOF."""
    data = b""
    while time.monotonic() < deadline:
        c.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            chunk = c.recv(4096)
        except socket.timeout:
            break
        if not chunk:
            break
        data += chunk
        if data[:4] in (b"GET ", b"HEAD"):
            if b"\r\n\r\n" in data:
                break
        elif b"\n" in data:
            break
        if len(data) > 65536:
            break
    return data


def drain(c, deadline):
    """Read and drop until the peer closes or the deadline."""
    while time.monotonic() < deadline:
        c.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            if not c.recv(65536):
                return
        except socket.timeout:
            continue


def http_head(code, reason, headers):
    lines = ["HTTP/1.1 %d %s" % (code, reason)] + headers + ["", ""]
    return "\r\n".join(lines).encode()


def good_answer(req):
    if req[:4] in (b"GET ", b"HEAD"):
        body = b"healthy\n"
        head = http_head(200, "OK", ["Content-Type: text/plain",
                                     "Content-Length: %d" % len(body), "Connection: close"])
        return head + (b"" if req.startswith(b"HEAD") else body)
    return b"PONG\r\n"


def serve_stream(c, modefile):
    deadline = time.monotonic() + LIFE
    m, args = mode(modefile)
    if m == "reset":
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        return
    if m == "hang":
        drain(c, deadline)
        return
    req = read_request(c, deadline)
    if not req:
        return
    c.settimeout(LIFE)
    if m == "slow":
        time.sleep(float(args[0]) if args else 1.0)
        c.sendall(good_answer(req))
    elif m == "endless":
        c.sendall(http_head(200, "OK", ["Content-Type: text/plain", "Connection: close"]))
        chunk = b"x" * 16384
        while time.monotonic() < deadline:
            c.sendall(chunk)
    elif m == "slowheaders":
        head = http_head(200, "OK", ["Content-Type: text/plain", "Content-Length: 8"])
        for i in range(len(head)):
            if time.monotonic() >= deadline:
                return
            c.sendall(head[i:i + 1])
            time.sleep(1)
        c.sendall(b"healthy\n")
    elif m == "bigcl":
        c.sendall(http_head(200, "OK", ["Content-Type: text/plain",
                                        "Content-Length: 1000000000"]) + b"x" * 1024)
        drain(c, deadline)
    elif m == "redirect":
        path = req.split(b" ", 2)[1] if req.count(b" ") >= 2 else b"/"
        c.sendall(http_head(302, "Found", ["Location: " + path.decode("latin-1"),
                                           "Content-Length: 0"]))
        drain(c, deadline)
    else:
        c.sendall(good_answer(req))


def stream_conn(c, modefile):
    try:
        serve_stream(c, modefile)
    except OSError:
        pass  # the peer gave up (its timeout): expected in most modes
    finally:
        c.close()


# ------------------------------------------------------------------ dns
def question_end(q):
    """Offset just past the question of query q (one question, uncompressed name)."""
    i = 12
    while i < len(q) and q[i] != 0:
        i += q[i] + 1
    return i + 1 + 4


def dns_reply(q, m, tcp):
    if len(q) < 17:
        return None
    qid = q[:2]
    rd = q[2] & 0x01
    qend = question_end(q)
    question = q[12:qend]

    def msg(rcode, aa, answers, tc=0, ident=qid):
        flags = 0x8000 | (0x0400 if aa else 0) | (0x0200 if tc else 0) | (rd << 8) | rcode
        return (ident + struct.pack("!HHHHH", flags, 1, len(answers), 0, 0) + question +
                b"".join(answers))

    def a_rr(addr):
        # the question's name by a compression pointer to offset 12
        return struct.pack("!HHHIH", 0xC00C, 1, 1, 300, 4) + socket.inet_aton(addr)

    good = msg(0, 1, [a_rr("192.0.2.1")])
    if m == "servfail":
        return msg(2, 0, [])
    if m == "refused":
        return msg(5, 0, [])
    if m == "empty":
        return msg(0, 1, [])
    if m == "big":
        if not tcp:
            return msg(0, 1, [], tc=1)
        n = (65535 - 12 - len(question)) // 16
        return msg(0, 1, [a_rr("198.51.100.%d" % (i % 250 + 1)) for i in range(n)])
    if m == "random":
        b = bytearray(os.urandom(12 + int.from_bytes(os.urandom(1), "big")))
        b[0] = q[0] ^ 0xFF  # never the query's id
        return bytes(b)
    if m == "short":
        return good[:6]
    if m == "wrongid":
        return msg(0, 1, [a_rr("192.0.2.1")], ident=bytes([q[0] ^ 0x55, q[1] ^ 0xAA]))
    return good


def dns_udp(s, modefile):
    while True:
        q, peer = s.recvfrom(65535)
        try:
            r = dns_reply(q, mode(modefile)[0], False)
            if r is not None:
                s.sendto(r, peer)
        except (OSError, IndexError):
            pass


def recv_exact(c, n):
    data = b""
    while len(data) < n:
        chunk = c.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def dns_conn(c, modefile):
    try:
        c.settimeout(LIFE)
        while True:
            head = recv_exact(c, 2)
            if head is None:
                return
            q = recv_exact(c, struct.unpack("!H", head)[0])
            if q is None:
                return
            r = dns_reply(q, mode(modefile)[0], True)
            if r is not None:
                c.sendall(struct.pack("!H", len(r)) + r)
    except (OSError, IndexError):
        pass
    finally:
        c.close()


# ------------------------------------------------------------------ main
def main():
    kind, addr, port, modefile = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    if kind not in ("stream", "dns"):
        sys.exit("usage: faultserver.py stream|dns ADDR PORT MODEFILE")
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(128)
    handler = stream_conn
    if kind == "dns":
        us = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        us.bind((addr, port))
        threading.Thread(target=dns_udp, args=(us, modefile), daemon=True).start()
        handler = dns_conn
    while True:
        c, _ = ls.accept()
        threading.Thread(target=handler, args=(c, modefile), daemon=True).start()


if __name__ == "__main__":
    main()
