#!/usr/bin/env python3
"""Capture the seed corpus of fuzz_dns_reply from a real DNS server.

    python3 tests/fuzz/capture_corpus.py 127.0.0.1 PORT SOURCE OUTDIR

The server must serve the zone of tests/integration/lib_dns.sh (dns_zone example.test)
with identity and NSID set, and allow AXFR from SOURCE only. Each file is one seed:
the selector byte of fuzz_dns_reply.c's case table, then one reply as received (id
0x4242). Python standard library only; not run by the tests (the corpus is checked in).
"""
import os
import socket
import struct
import sys

ID = 0x4242
IN, CH = 1, 3
A, SOA, MX, TXT, AXFR = 1, 6, 15, 16, 252


def query(name, qtype, qclass, nsid=False):
    q = struct.pack(">HHHHHH", ID, 0, 1, 0, 0, 1 if nsid else 0)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack(">HH", qtype, qclass)
    if nsid:
        # OPT: root, type 41, size 1232, TTL 0, one empty NSID option
        q += b"\0" + struct.pack(">HHIH", 41, 1232, 0, 4) + struct.pack(">HH", 3, 0)
    return q


def udp(server, port, source, q):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((source, 0))
    s.settimeout(2)
    s.sendto(q, (server, port))
    r = s.recv(65535)
    s.close()
    return [r]


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        chunk = s.recv(n - len(b))
        if not chunk:
            raise EOFError
        b += chunk
    return b


def tcp(server, port, source, q, stream=False):
    s = socket.create_connection((server, port), timeout=2, source_address=(source, 0))
    s.sendall(struct.pack(">H", len(q)) + q)
    out = []
    while True:
        try:
            n = struct.unpack(">H", recv_exact(s, 2))[0]
        except EOFError:
            break
        out.append(recv_exact(s, n))
        if not stream or out[-1][7] == 0 or len(out) >= 8:
            break
        # AXFR: stop after the message that ends with the closing SOA (2nd SOA seen)
        if sum(m.count(b"\x00\x06\x00\x01") for m in out) >= 2:
            break
    s.close()
    return out


def main():
    server, port, source, outdir = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    os.makedirs(outdir, exist_ok=True)
    seeds = [
        ("soa", 0, udp, query("example.test", SOA, IN)),
        ("a-nsid", 1, udp, query("www.example.test", A, IN, nsid=True)),
        ("txt-truncated", 2, udp, query("big.example.test", TXT, IN)),
        ("txt-tcp", 2, tcp, query("big.example.test", TXT, IN)),
        ("chaos-hostname", 3, udp, query("hostname.bind", TXT, CH)),
        ("mx-nodata", 5, udp, query("www.example.test", MX, IN)),
        ("axfr", 4, "axfr", query("example.test", AXFR, IN)),
        ("axfr-refused", 4, "axfr-refused", query("example.test", AXFR, IN)),
    ]
    for name, sel, how, q in seeds:
        if how == "axfr":
            replies = tcp(server, port, source, q, stream=True)
        elif how == "axfr-refused":
            replies = tcp(server, port, server, q, stream=True)
        else:
            replies = how(server, port, source, q)
        for i, r in enumerate(replies):
            flag = 0x80 if i > 0 else 0
            with open(os.path.join(outdir, "%s-%d" % (name, i)), "wb") as f:
                f.write(bytes([sel | flag]) + r)
            print("%s-%d: %d bytes" % (name, i, len(r)))


if __name__ == "__main__":
    main()
