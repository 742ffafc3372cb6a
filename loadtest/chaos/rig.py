"""The processes of one chaos scenario, each on free loopback ports, with its
log in the scenario's temp dir: redis-server (AOF, fsync always) or a
Sentinel set of them (sentinel.py), the sidecar, relays and the load
generator, plus a small RESP client.

Every child runs under `setpriv --pdeathsig KILL`, in a session of its own:
it dies with this process even when this process is killed outright, and a
Ctrl-C reaches only this process, whose `Rig.stop_all` (always called, from
a `finally`) stops them all. Start children from the main thread only: the
parent-death signal follows the thread that forked.
"""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request


STOP_DEADLINE_S = 25  # the default drain timeout (15 s) and then some


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def poll_until(predicate, timeout_s, interval_s=0.02):
    """Calls `predicate` until it returns something true or `timeout_s` has
    passed; returns its last value."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval_s)


class RedisError(Exception):
    pass


class Redis:
    """A blocking RESP2 client for the few commands the scenarios need."""

    def __init__(self, port, timeout_s=2.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout_s)
        self.file = self.sock.makefile("rb")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.file.close()
        self.sock.close()

    def call(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.sock.sendall(b"".join(out))
        return self._read()

    def _read(self):
        line = self.file.readline()
        if not line.endswith(b"\r\n"):
            raise ConnectionError("redis closed the connection")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RedisError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.file.read(n + 2)
            return data[:-2].decode(errors="replace")
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._read() for _ in range(n)]
        raise RedisError(f"unexpected reply {line!r}")


def pairs(flat):
    """["k1", v1, "k2", v2] -> {"k1": v1, "k2": v2}"""
    return dict(zip(flat[::2], flat[1::2]))


class Proc:
    """One child process, started (and restarted) with the same command line."""

    def __init__(self, name, argv, env, workdir):
        self.name = name
        self.argv = argv
        self.env = env
        self.workdir = workdir
        self.log_path = os.path.join(workdir, f"{name}.log")
        self.popen = None
        self.starts = 0

    def start(self):
        self.starts += 1
        env = dict(os.environ)
        env.update(self.env)
        with open(self.log_path, "ab") as log:
            log.write(f"=== start {self.starts} ===\n".encode())
            log.flush()
            self.popen = subprocess.Popen(
                ["setpriv", "--pdeathsig", "KILL", "--"] + self.argv, stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.workdir,
                start_new_session=True)

    @property
    def pid(self):
        return self.popen.pid

    def running(self):
        return self.popen is not None and self.popen.poll() is None

    def signal(self, sig):
        if self.running():
            self.popen.send_signal(sig)

    def wait(self, timeout_s):
        """The exit status (negative: killed by that signal), or None on timeout."""
        try:
            return self.popen.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, timeout_s=STOP_DEADLINE_S):
        """SIGTERM, then SIGKILL after `timeout_s`; returns the exit status."""
        if self.popen is None:
            return None
        if self.running():
            self.popen.send_signal(signal.SIGCONT)  # a stopped process cannot act on SIGTERM
            self.popen.send_signal(signal.SIGTERM)
            if self.wait(timeout_s) is None:
                self.kill()
                return f"still running {timeout_s} s after SIGTERM (killed)"
        return self.popen.returncode

    def kill(self):
        if self.running():
            self.popen.kill()
        if self.popen is not None:
            self.popen.wait()

    def log_tail(self, lines=15):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""


def http_get(port, path, timeout_s=2.0):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout_s) as r:
            return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")
    except OSError:
        return None, ""


def metric(port, series):
    """A sample from /metrics on `port` (None when absent or unreachable)."""
    status, text = http_get(port, "/metrics")
    if status != 200:
        return None
    for line in text.splitlines():
        if line.startswith(series + " "):
            try:
                return float(line.rsplit(" ", 1)[1])
            except ValueError:
                return None
    return None


class RedisNode:
    """redis-server with AOF and `appendfsync always`, so every write it
    acknowledged survives a SIGKILL; restarts on the same port and dir,
    optionally as a replica of another node (`follow`)."""

    def __init__(self, rig, name="redis", extra_args=()):
        self.port = free_port()
        self.dir = os.path.join(rig.dir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.argv = self.command(extra_args)
        self.proc = rig.add(Proc(name, list(self.argv), {}, rig.dir))

    def command(self, extra_args):
        """The command line (a Sentinel has another)."""
        return ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", self.dir, "--save", "", "--appendonly", "yes",
                "--appendfsync", "always", "--daemonize", "no", "--loglevel", "notice",
                *extra_args]

    def follow(self, primary_port):
        """From the next start on, a replica of the node on `primary_port`."""
        self.proc.argv = self.argv + ["--replicaof", "127.0.0.1", str(primary_port)]

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def ping(self):
        try:
            with Redis(self.port, timeout_s=1.0) as r:
                return r.call("PING") == "PONG"
        except (OSError, RedisError):
            return False  # refused, or LOADING the AOF

    def start(self, timeout_s=30):
        self.proc.start()
        if not poll_until(lambda: self.ping() or not self.proc.running(), timeout_s) or \
                not self.proc.running():
            raise RuntimeError(f"{self.proc.name} did not start:\n{self.proc.log_tail()}")

    def call(self, *args):
        with Redis(self.port) as r:
            return r.call(*args)


class Sidecar:
    """The sidecar (one worker), on the same ports across restarts."""

    def __init__(self, rig, upstream_port, env):
        self.port = free_port()
        self.admin_port = free_port()
        full = {
            "STREAMSHIFT_LISTEN": f"127.0.0.1:{self.port}",
            "STREAMSHIFT_ADMIN_LISTEN": f"127.0.0.1:{self.admin_port}",
            "STREAMSHIFT_UPSTREAM_URL": f"http://127.0.0.1:{upstream_port}",
            "STREAMSHIFT_WORKERS": "1",
            "LOG_LEVEL": "info",
        }
        full.update(env)
        self.uses_redis = full.get("EVENT_TRANSPORT_USE_REDIS_STREAMS") == "true"
        self.proc = rig.add(Proc("sidecar", [rig.binary("streamshift"), "proxy"], full, rig.dir))

    def ready(self):
        if http_get(self.admin_port, "/readyz")[0] != 200:
            return False
        return not self.uses_redis or (metric(self.admin_port,
                                              "streamshift_redis_connections_ready") or 0) >= 1

    def start(self, timeout_s=30):
        self.proc.start()
        if not poll_until(lambda: self.ready() or not self.proc.running(), timeout_s, 0.05) or \
                not self.proc.running():
            raise RuntimeError(f"the sidecar did not become ready:\n{self.proc.log_tail()}")


class Relay:
    """`streamshift relay` with a fixed consumer name, so a restart picks up
    its own pending entries."""

    def __init__(self, rig, name, redis_url, target_port, env):
        self.name = name
        self.admin_port = free_port()
        full = {
            "STREAMSHIFT_RELAY_TARGET_URL": f"http://127.0.0.1:{target_port}",
            "STREAMSHIFT_ADMIN_LISTEN": f"127.0.0.1:{self.admin_port}",
            "REDIS_URL": redis_url,
            "STREAMSHIFT_CONSUMER_NAME": name,
            "LOG_LEVEL": "info",
        }
        full.update(env)
        self.proc = rig.add(Proc(name, [rig.binary("streamshift"), "relay"], full, rig.dir))

    def metric(self, series):
        return metric(self.admin_port, series)

    def start(self, timeout_s=30):
        self.proc.start()
        if not poll_until(lambda: http_get(self.admin_port, "/readyz")[0] == 200 or
                          not self.proc.running(), timeout_s, 0.05) or not self.proc.running():
            raise RuntimeError(f"{self.name} did not become ready:\n{self.proc.log_tail()}")


class Load:
    """streamshift-load in an open loop, every request's outcome recorded."""

    def __init__(self, rig, target_port, rate, duration_s, connections):
        self.record = os.path.join(rig.dir, "outcomes.txt")
        argv = [rig.binary("streamshift-load"), "--target", f"127.0.0.1:{target_port}",
                "--rate", str(rate), "--duration-ms", str(int(duration_s * 1000)),
                "--warmup-ms", "0", "--connections", str(connections), "--workload", "mixed",
                "--users", "200", "--record", self.record]
        self.proc = rig.add(Proc("load", argv, {}, rig.dir))

    def start(self):
        self.proc.start()

    def wait(self, timeout_s):
        """The generator's JSON report (raises when it failed or hung)."""
        code = self.proc.wait(timeout_s)
        if code is None:
            raise RuntimeError("streamshift-load did not finish in time")
        with open(self.proc.log_path, errors="replace") as f:
            text = f.read()
        reports = [line for line in text.splitlines() if line.startswith("{")]
        if code != 0 or not reports:
            raise RuntimeError(f"streamshift-load failed ({code}):\n{text[-2000:]}")
        return json.loads(reports[-1])


class Rig:
    """Owns a scenario's processes; `stop_all` stops every one still running
    and returns their exit statuses."""

    def __init__(self, build, workdir):
        self.build = build
        self.dir = workdir
        self.procs = []
        self.sentinels = None  # a SentinelSet, when the scenario runs one
        self._redis = None
        self.sidecar = None
        self.relays = []
        self.target = None

    @property
    def redis(self):
        """The node holding the streams: with Sentinel, the current primary."""
        return self.sentinels.primary if self.sentinels else self._redis

    @redis.setter
    def redis(self, node):
        self._redis = node

    @property
    def redis_url(self):
        """REDIS_URL for the sidecar and the relays."""
        return self.sentinels.url if self.sentinels else self._redis.url

    def binary(self, name):
        return os.path.join(self.build, name)

    def add(self, proc):
        self.procs.append(proc)
        return proc

    def stop_all(self, graceful=True):
        """Graceful: everything stopped by the fault resumed first, then each
        process SIGTERMed, newest first; returns the exit statuses of those
        that were running. Otherwise (an interrupted run) SIGKILL at once."""
        statuses = {}
        running = [p for p in reversed(self.procs) if p.running()]
        for proc in running:
            if graceful:
                proc.signal(signal.SIGCONT)
            else:
                proc.kill()
        if graceful:
            for proc in running:
                statuses[proc.name] = proc.stop()
        if self.target is not None:
            self.target.stop()
        return statuses
