#!/usr/bin/env python3
"""A small HTTP server for healthd's tests whose behaviour a test switches at run time.

    modehttp.py ADDR PORT MODEFILE

Before every answer it reads MODEFILE (missing = "ok"):
    ok            200 "ok\n" at once
    slow SECONDS  200 "ok\n" after SECONDS
    fail          503
    flap          200 and 503 in turn, request by request
    garbage       200 with a body that is not JSON
    hang          accepts and reads the request, never answers (at most 120 s)
    file PATH     200 with the contents of PATH (application/json)
Listens on ADDR:PORT only (loopback in the tests); one thread per connection. Prints
"client ADDRESS AUTHORIZATION" for every request.
"""
import http.server
import socketserver
import sys
import threading
import time


class Handler(http.server.BaseHTTPRequestHandler):
    def mode(self):
        try:
            with open(self.server.modefile) as f:
                words = f.read().split(None, 1)
        except OSError:
            words = []
        return (words[0], words[1].strip() if len(words) > 1 else "") if words else ("ok", "")

    def answer(self, code, body, ctype="text/plain"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        # Who asked, for tests of the source address: "client ADDR AUTHORIZATION".
        sys.stdout.write("client %s %s\n" % (self.client_address[0],
                                              self.headers.get("Authorization", "-")))
        sys.stdout.flush()
        mode, arg = self.mode()
        if mode == "slow":
            time.sleep(float(arg))
        if mode == "hang":
            time.sleep(120)
            return
        if mode == "flap":
            with self.server.lock:
                self.server.count += 1
                mode = "fail" if self.server.count % 2 == 0 else "ok"
        if mode == "fail":
            self.answer(503, b"unavailable\n")
        elif mode == "garbage":
            self.answer(200, b"\x00\xffnot json{{{\n" * 8, "application/json")
        elif mode == "file":
            with open(arg, "rb") as f:
                self.answer(200, f.read(), "application/json")
        else:
            self.answer(200, b"ok\n")

    def log_message(self, fmt, *args):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    addr, port, modefile = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    srv = Server((addr, port), Handler)
    srv.modefile = modefile
    srv.lock = threading.Lock()
    srv.count = 0
    srv.serve_forever()


if __name__ == "__main__":
    main()
