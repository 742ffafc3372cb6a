"""The SignalR stand-in of the chaos scenarios: one HTTP/1.1 server (asyncio,
on a thread of its own) that is both the sidecar's upstream (the HTTP bridge
and the fallback) and the relay's target, with a switchable behaviour, and
that records every event it accepted, by id, with its arrival time and path.

  - keep-alive; each answer leaves in one write;
  - the event id comes from X-Event-Id, else from the body's "event_id";
  - a request carrying `X-Event-Transport: redis_streams` came through the
    relay ("relay"), any other through the sidecar's HTTP bridge ("http");
  - an event counts as delivered when the answer chosen for it is 2xx: at
    its arrival, before any delay (SignalR acted on it, whether or not the
    caller waits for the answer).
"""

import asyncio
import dataclasses
import re
import socket
import struct
import threading
import time

EVENT_ID_IN_BODY = re.compile(rb'"event_id"\s*:\s*"([^"]*)"')


@dataclasses.dataclass(frozen=True)
class Behaviour:
    """How the target answers. `via` limits the behaviour to one path
    ("http" or "relay"); requests over the other path get 200 at once."""

    status: int = 200
    delay_s: float = 0.0
    reset: bool = False  # read the request, then reset the connection (RST)
    via: str | None = None

    def describe(self):
        what = "reset" if self.reset else str(self.status)
        if self.delay_s:
            what += f" after {self.delay_s:g} s"
        return what + (f" ({self.via} only)" if self.via else "")


HEALTHY = Behaviour()


class Target:
    def __init__(self, behaviour=HEALTHY):
        self._behaviour = behaviour
        self._lock = threading.Lock()
        self._deliveries = {}  # event id -> [(arrival ns, via)]
        self._counts = {"requests": 0, "resets": 0, "non_2xx": 0, "foreign": 0}
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(1024)
        self.port = self._sock.getsockname()[1]
        self._loop = None
        self._thread = None

    # ------------------------------------------------------------ control

    def start(self):
        started = threading.Event()

        def run():
            self._loop = asyncio.new_event_loop()
            server = self._loop.run_until_complete(
                asyncio.start_server(self._serve, sock=self._sock, backlog=1024))
            started.set()
            try:
                self._loop.run_forever()
            finally:
                server.close()
                self._loop.run_until_complete(server.wait_closed())
                for task in asyncio.all_tasks(self._loop):
                    task.cancel()
                self._loop.run_until_complete(asyncio.sleep(0))
                self._loop.close()

        self._thread = threading.Thread(target=run, name="chaos-target", daemon=True)
        self._thread.start()
        if not started.wait(10):
            raise RuntimeError("the target did not start")

    def stop(self):
        if self._loop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def set(self, behaviour):
        """Switches behaviour; returns the previous one."""
        with self._lock:
            before, self._behaviour = self._behaviour, behaviour
            return before

    # ------------------------------------------------------------ records

    def deliveries(self):
        """A copy: event id -> [(arrival ns, via)]."""
        with self._lock:
            return {k: list(v) for k, v in self._deliveries.items()}

    def missing(self, event_ids):
        """The ids in `event_ids` not delivered yet."""
        with self._lock:
            return [i for i in event_ids if i not in self._deliveries]

    def delivered_count(self):
        with self._lock:
            return len(self._deliveries)

    def counts(self):
        with self._lock:
            return dict(self._counts)

    # ------------------------------------------------------------ serving

    async def _serve(self, reader, writer):
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                    return
                lines = head[:-4].split(b"\r\n")
                headers = {}
                for line in lines[1:]:
                    name, _, value = line.partition(b":")
                    headers[name.strip().lower()] = value.strip()
                length = int(headers.get(b"content-length", b"0") or 0)
                body = await reader.readexactly(length) if length else b""
                keep_alive = headers.get(b"connection", b"").lower() != b"close"
                status = await self._answer(headers, body, writer)
                if status is None:  # reset
                    return
                reason = b"OK" if status < 300 else b"Error"
                payload = b"ok" if status < 300 else b'{"error":"chaos"}'
                writer.write(b"HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n%s\r\n%s"
                             % (status, reason, len(payload),
                                b"" if keep_alive else b"Connection: close\r\n", payload))
                await writer.drain()
                if not keep_alive:
                    return
        except (ConnectionError, asyncio.IncompleteReadError, OSError):
            return
        finally:
            writer.close()

    async def _answer(self, headers, body, writer):
        """Records the request and returns the status to answer, None after a reset."""
        now = time.monotonic_ns()
        via = "relay" if headers.get(b"x-event-transport") == b"redis_streams" else "http"
        event_id = headers.get(b"x-event-id")
        if not event_id:
            m = EVENT_ID_IN_BODY.search(body)
            event_id = m.group(1) if m else None
        with self._lock:
            b = self._behaviour
            if b.via is not None and b.via != via:
                b = HEALTHY
            self._counts["requests"] += 1
            if event_id is None:
                self._counts["foreign"] += 1
            if b.reset:
                self._counts["resets"] += 1
            elif 200 <= b.status < 300:
                if event_id is not None:
                    self._deliveries.setdefault(event_id.decode(), []).append((now, via))
            else:
                self._counts["non_2xx"] += 1
        if b.reset:
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return None
        if b.delay_s:
            await asyncio.sleep(b.delay_s)
        return b.status
