#!/usr/bin/env python3
"""scripts/demo_upstream.py, the stand-in for SignalR that run-local.sh
starts: it answers keep-alive requests one after another without waiting
for the client's delayed ACK (head and body leave in one write)."""

import json
import os
import socket
import statistics
import subprocess
import sys
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "scripts", "demo_upstream.py")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_response(f):
    """Status line, headers (lower-case names) and body of one answer."""
    status = f.readline()
    headers = {}
    while True:
        line = f.readline()
        if line in (b"\r\n", b""):
            break
        name, value = line.decode().split(":", 1)
        headers[name.strip().lower()] = value.strip()
    body = f.read(int(headers.get("content-length", "0")))
    return status, headers, body


class DemoUpstream(unittest.TestCase):
    def setUp(self):
        self.port = free_port()
        self.proc = subprocess.Popen([sys.executable, SCRIPT, str(self.port)])
        deadline = time.monotonic() + 20
        while True:
            try:
                self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
                break
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.fail("demo_upstream.py never listened")
                time.sleep(0.02)
        # As the relay's and the sidecar's clients: no Nagle on our side, so
        # any wait is the server's.
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reader = self.sock.makefile("rb")

    def tearDown(self):
        self.reader.close()
        self.sock.close()
        self.proc.terminate()
        self.proc.wait(timeout=10)

    def test_sequential_keep_alive_posts_do_not_wait_for_delayed_acks(self):
        # Written apart, every answer after the first few waits ~40 ms
        # (Linux's minimum delayed ACK) for its body: 10 events to one room
        # took 0.9 s through the relay. Written at once, a few ms on a
        # loaded machine. The median keeps one slow request from deciding.
        body = b'{"event_type":"chat_message","room_id":"room-1","text":"hello"}'
        request = (b"POST /internal/broadcast/chat HTTP/1.1\r\nHost: signalr\r\n"
                   b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                   % (len(body), body))
        times = []
        for _ in range(20):
            started = time.monotonic()
            self.sock.sendall(request)
            status, headers, answer = read_response(self.reader)
            times.append(time.monotonic() - started)
            self.assertEqual(status, b"HTTP/1.1 200 OK\r\n")
            self.assertEqual(headers["content-type"], "application/json")
            echo = json.loads(answer)
            self.assertEqual(echo["path"], "/internal/broadcast/chat")
            self.assertEqual(echo["body"], body.decode())
        self.assertLess(statistics.median(times), 0.025,
                        "per request (ms): " + ", ".join(f"{t * 1000:.1f}" for t in times))

    def test_head_gets_the_length_without_a_body(self):
        self.sock.sendall(b"HEAD /internal/health HTTP/1.1\r\nHost: signalr\r\n\r\n")
        status = self.reader.readline()
        headers = {}
        while (line := self.reader.readline()) != b"\r\n":
            name, value = line.decode().split(":", 1)
            headers[name.strip().lower()] = value.strip()
        self.assertEqual(status, b"HTTP/1.1 200 OK\r\n")
        self.assertGreater(int(headers["content-length"]), 0)
        # The connection is still usable, so no body was sent after the head.
        self.sock.sendall(b"GET /next HTTP/1.1\r\nHost: signalr\r\n\r\n")
        status, _, answer = read_response(self.reader)
        self.assertEqual(status, b"HTTP/1.1 200 OK\r\n")
        self.assertEqual(json.loads(answer)["path"], "/next")


if __name__ == "__main__":
    unittest.main()
