#!/usr/bin/python3
"""The services of bench/soak.sh: TCP listeners, one HTTP server and one DNS server
on loopback, whose health the soak switches with files.

    soak_fake.py SPEC STATE_DIR ADDR HTTP_PORT DNS_PORT

SPEC has one line per service: "NAME KIND PORT MODE" (KIND tcp, http, dns or exec;
PORT for tcp; MODE fail or hang). A service is down while STATE_DIR/NAME.down exists:
  tcp   its listener is closed (connect refused), polled every 100 ms;
  http  GET /NAME answers 503 (fail) or never answers (hang); up: 200 "ok";
  dns   a query for NAME.soak. gets SERVFAIL (fail) or no reply (hang); up: one A
        record, authoritative.
exec services are shell tests of the same file (bench/soak.sh); nothing here.
Loopback only; stops on SIGTERM.
"""

import asyncio
import os
import signal
import struct
import sys

HANG_S = 5.0  # longer than any check's timeout in the soak


def down(state_dir, name):
    return os.path.exists(os.path.join(state_dir, name + ".down"))


async def tcp_closer(reader, writer):
    writer.close()


async def tcp_switch(state_dir, addr, services):
    """Open the listener of every tcp service that is up, close it when down."""
    servers = {}
    while True:
        for name, port in services:
            want = not down(state_dir, name)
            have = name in servers
            if want and not have:
                try:
                    servers[name] = await asyncio.start_server(
                        tcp_closer, addr, port, reuse_address=True, backlog=64)
                except OSError as e:
                    print(f"soak_fake: {name}: listen {addr}:{port}: {e}", file=sys.stderr)
            elif not want and have:
                servers.pop(name).close()
        await asyncio.sleep(0.1)


def http_handler(state_dir, modes):
    async def handle(reader, writer):
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            parts = head.split(b" ", 2)
            name = parts[1].decode("ascii", "replace").lstrip("/") if len(parts) > 1 else ""
            if name in modes and down(state_dir, name):
                if modes[name] == "hang":
                    await asyncio.sleep(HANG_S)
                    return
                status, body = b"503 Service Unavailable", b"down\n"
            elif name in modes:
                status, body = b"200 OK", b"ok\n"
            else:
                status, body = b"404 Not Found", b"no such service\n"
            writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Type: text/plain\r\n"
                         b"Content-Length: " + str(len(body)).encode() +
                         b"\r\nConnection: close\r\n\r\n" + body)
            await writer.drain()
        except (asyncio.TimeoutError, asyncio.IncompleteReadError, ConnectionError,
                asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()
    return handle


class Dns(asyncio.DatagramProtocol):
    """Just enough DNS: one question, class IN; NAME.soak. -> A 192.0.2.1."""

    def __init__(self, state_dir, modes):
        self.state_dir = state_dir
        self.modes = modes
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, peer):
        if len(data) < 12:
            return
        qid, flags, qd = struct.unpack("!HHH", data[:6])
        if qd != 1 or flags & 0x8000:
            return
        labels, i = [], 12
        while i < len(data) and data[i] != 0 and len(labels) < 16:
            n = data[i]
            if n & 0xC0 or i + 1 + n > len(data):
                return
            labels.append(data[i + 1:i + 1 + n].decode("ascii", "replace").lower())
            i += 1 + n
        if i + 5 > len(data):
            return
        question = data[12:i + 5]
        name = labels[0] if labels else ""
        rd = flags & 0x0100
        if name not in self.modes:
            rcode, answers = 3, b""  # NXDOMAIN
        elif down(self.state_dir, name):
            if self.modes[name] == "hang":
                return
            rcode, answers = 2, b""  # SERVFAIL
        else:
            rcode = 0
            answers = struct.pack("!HHHIH", 0xC00C, 1, 1, 60, 4) + bytes([192, 0, 2, 1])
        out_flags = 0x8000 | 0x0400 | rd | rcode  # QR, AA
        hdr = struct.pack("!HHHHHH", qid, out_flags, 1, 1 if answers else 0, 0, 0)
        self.transport.sendto(hdr + question + answers, peer)


async def main():
    spec, state_dir, addr, http_port, dns_port = sys.argv[1:6]
    tcp, modes = [], {}
    with open(spec) as f:
        for line in f:
            name, kind, port, mode = line.split()
            if kind == "tcp":
                tcp.append((name, int(port)))
            elif kind in ("http", "dns"):
                modes[name] = mode
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM, stop.set_result, None)
    http = await asyncio.start_server(http_handler(state_dir, modes), addr, int(http_port),
                                      reuse_address=True, backlog=256)
    await loop.create_datagram_endpoint(lambda: Dns(state_dir, modes),
                                        local_addr=(addr, int(dns_port)))
    switch = asyncio.create_task(tcp_switch(state_dir, addr, tcp))
    await stop
    switch.cancel()
    http.close()


if __name__ == "__main__":
    asyncio.run(main())
