#!/usr/bin/env python3
"""A stand-in for the SignalR internal API, for trying the sidecar locally.

Answers every request with 200 and a JSON echo of what it received, over
HTTP/1.1 keep-alive. Usage: demo_upstream.py [port] (default 5000).
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        payload = json.dumps({
            "upstream": "demo SignalR internal API",
            "method": self.command,
            "path": self.path,
            "headers": dict(self.headers.items()),
            "body": body.decode("utf-8", "replace"),
        }, indent=2).encode() + b"\n"
        # Head and body in one write: written apart, the body waits for the
        # client's delayed ACK of the head (Nagle), some 40 ms a request.
        head = (f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(payload)}\r\n\r\n").encode()
        self.wfile.write(head if self.command == "HEAD" else head + payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _answer

    def log_message(self, fmt, *args):
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    ThreadingHTTPServer(("127.0.0.1", port), Echo).serve_forever()
