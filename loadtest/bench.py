#!/usr/bin/env python3
"""The bench: streamshift against what its users would run otherwise, side by
side in one run on this machine, with streamshift-load as the load generator
and its sink as the target.

  1. HTTP path: sink direct vs through streamshift vs HAProxy vs nginx
     (one worker each, keep-alive to the sink): maximum throughput, and
     latency at fixed rates.
  2. Redis path: streamshift (HTTP in, XADD, ack) vs Webdis doing the same
     XADD: maximum throughput, ack latency at fixed rates.
  3. End to end: streamshift -> Redis -> relay -> sink, delivery latency at
     fixed rates (200 and 500 users); the HTTP bridge at the same rates.
  4. Typing: a typing-heavy workload, coalescing off and on.
  5. Resources: CPU seconds per 1000 requests and peak RSS of the sidecar
     and the relay; idle RSS.

Not in the report's run (--only): durable (EVENT_TRANSPORT_MIN_REPLICAS 0
vs 1), cluster (Redis Cluster, 1 primary vs 3, 12 stream shards: the
sidecar's maximum XADD throughput, the relay's drain rate to the sink, CPU
per event of every process; docs/scaling.md) and ordering (a sink that
answers after 50 ms, 500 events/s over 60 rooms: delivery latency through
the HTTP bridge and through the relay with STREAMSHIFT_RELAY_ORDERING room
and none).

Writes BENCHMARKS.md, results.json and PNG plots (gnuplot) into --out
(docs/ for the real run). --smoke runs every scenario for a fraction of a
second at low rates (the test suite runs it so this script keeps working).
"""

import argparse
import contextlib
import datetime
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NEEDED = {
    "redis-server": "redis-server",
    "redis-cli": "redis-tools",
    "haproxy": "haproxy",
    "nginx": "nginx-light",
    "webdis": "webdis",
    "gnuplot": "gnuplot-nox",
    "openssl": "openssl",
}


def die(message):
    print(f"bench: {message}", file=sys.stderr)
    sys.exit(1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc=None, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.02)
    return False


def wait_http_ok(port, path, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=1) as r:
                if r.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.05)
    return False


def first_line(argv):
    """The first line a command prints (its version, say), "?" when it fails."""
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "?"


def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "?"


def proc_cpu_seconds(pid):
    """CPU time of every thread of `pid`, in seconds, to the nanosecond
    (schedstat's time on CPU; /proc/PID/stat counts 10 ms ticks)."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total / 1e9


def resp_command(port, *args):
    """One command on a fresh connection to 127.0.0.1:port; the raw reply."""
    with socket.create_connection(("127.0.0.1", port)) as s:
        cmd = f"*{len(args)}\r\n" + "".join(f"${len(a)}\r\n{a}\r\n" for a in args)
        s.sendall(cmd.encode())
        return s.recv(65536).decode(errors="replace")


def cluster_keys(port, pattern="events:chat:*"):
    """KEYS `pattern` on one node."""
    lines = resp_command(port, "KEYS", pattern).split("\r\n")
    return [k for k in lines[1:] if k and k[0] != "$"]


def metric_value(port, series):
    """One sample of 127.0.0.1:port/metrics ("name{labels}" as exposed), 0 when absent."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(series + " "):
                return float(line.split()[-1])
    return 0.0


def proc_status_kb(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


class Services:
    """Every server of the bench, each on a free port, in one temp dir."""

    def __init__(self, build, workdir):
        self.build = build
        self.dir = workdir
        self.procs = []
        self.sink_port = free_port()

    def start(self, name, argv, env=None, port=None, ready=None):
        full_env = dict(os.environ)
        full_env.update(env or {})
        with open(os.path.join(self.dir, f"{name}.log"), "w") as log:
            p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=full_env,
                                 cwd=self.dir, start_new_session=True)
        self.procs.append((name, p))
        if port is not None and not wait_port(port, p):
            die(f"{name} did not start (see {log.name}):\n" + open(log.name).read()[-2000:])
        if ready is not None and not ready():
            die(f"{name} is not ready (see {log.name}):\n" + open(log.name).read()[-2000:])
        return p

    def stop(self, proc, sig=signal.SIGTERM):
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def stop_all(self):
        for _, p in reversed(self.procs):
            self.stop(p)

    def tls_certs(self):
        """A CA and a server certificate for 127.0.0.1, for Redis' TLS port."""
        d = self.dir
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        steps = [
            ["openssl", "req", "-x509", *ec, "-keyout", f"{d}/ca.key", "-out", f"{d}/ca.crt",
             "-days", "2", "-subj", "/CN=streamshift-bench-ca"],
            ["openssl", "req", *ec, "-keyout", f"{d}/redis.key", "-out", f"{d}/redis.csr",
             "-subj", "/CN=localhost"],
            ["openssl", "x509", "-req", "-in", f"{d}/redis.csr", "-CA", f"{d}/ca.crt",
             "-CAkey", f"{d}/ca.key", "-CAcreateserial", "-out", f"{d}/redis.crt", "-days", "2",
             "-extfile", f"{d}/san.cnf"],
        ]
        with open(f"{d}/san.cnf", "w") as f:
            f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
        for argv in steps:
            out = subprocess.run(argv, capture_output=True, text=True)
            if out.returncode != 0:
                die(f"openssl failed ({' '.join(argv[:3])}): {out.stderr}")

    def redis(self):
        """One redis-server, plaintext and TLS ports (TLS: rediss:// peers)."""
        self.redis_port = free_port()
        self.redis_tls_port = free_port()
        self.tls_certs()
        d = self.dir
        self.redis_proc = self.start("redis", [
                             "redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1",
                             "--tls-port", str(self.redis_tls_port),
                             "--tls-cert-file", f"{d}/redis.crt", "--tls-key-file", f"{d}/redis.key",
                             "--tls-ca-cert-file", f"{d}/ca.crt", "--tls-auth-clients", "no",
                             "--save", "", "--appendonly", "no", "--dir", self.dir,
                             "--repl-diskless-sync-delay", "0"],
                   port=self.redis_port)

    def replica(self):
        """A replica of the bench's redis-server, started and waited for until
        it acknowledges every write (a replica that has just synced answers
        WAIT only after its first acknowledgement)."""
        port = free_port()
        self.replica_proc = self.start("redis-replica", [
            "redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", self.dir, "--dbfilename", "replica.rdb",
            "--replicaof", "127.0.0.1", str(self.redis_port)], port=port)
        self.redis_cli("SET", "streamshift:bench:replication-probe", "1")
        deadline = time.time() + 30
        while time.time() < deadline:
            info = self.redis_cli("INFO", "replication")
            primary = re.search(r"master_repl_offset:(\d+)", info)
            acked = re.search(r"slave0:.*state=online,offset=(\d+)", info)
            if primary and acked and int(primary.group(1)) > 0 and acked.group(1) == primary.group(1):
                return
            time.sleep(0.05)
        die("the replica never acknowledged the primary's writes")

    def redis_cli(self, *args):
        return resp_command(self.redis_port, *args)

    def redis_cluster(self, primaries):
        """A Redis Cluster of `primaries` primaries, no replicas, the slots
        split evenly (redis-cli --cluster create; it wants three at least,
        so one primary adds every slot itself). Returns [(port, proc)]."""
        nodes = []
        for i in range(primaries):
            port, bus = free_port(), free_port()
            proc = self.start(f"redis-cluster{primaries}-{i}", [
                "redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", self.dir, "--cluster-enabled", "yes",
                "--cluster-config-file", f"nodes-{port}.conf", "--cluster-port", str(bus)],
                port=port)
            nodes.append((port, proc))
        if primaries == 1:
            resp_command(nodes[0][0], "CLUSTER", "ADDSLOTSRANGE", "0", "16383")
        else:
            out = subprocess.run(["redis-cli", "--cluster", "create",
                                  *[f"127.0.0.1:{port}" for port, _ in nodes], "--cluster-yes"],
                                 capture_output=True, text=True, timeout=60)
            if out.returncode != 0:
                die(f"redis-cli --cluster create failed: {out.stdout}{out.stderr}")
        deadline = time.time() + 30
        while time.time() < deadline:
            if all("cluster_state:ok" in resp_command(port, "CLUSTER", "INFO") for port, _ in nodes):
                return nodes
            time.sleep(0.05)
        die(f"the {primaries}-primary cluster never said cluster_state:ok")

    def sidecar(self, name, extra_env, binary=None):
        port, admin = free_port(), free_port()
        env = {
            "STREAMSHIFT_LISTEN": f"127.0.0.1:{port}",
            "STREAMSHIFT_ADMIN_LISTEN": f"127.0.0.1:{admin}",
            "STREAMSHIFT_UPSTREAM_URL": f"http://127.0.0.1:{self.sink_port}",
            "STREAMSHIFT_WORKERS": "1",
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "EVENT_TRANSPORT_PUBLISH_TIMEOUT_MS": "1000",
            "EVENT_COALESCING_ENABLED": "false",
            "LOG_LEVEL": "warn",
        }
        env.update(extra_env)
        binary = binary or os.path.join(self.build, "streamshift")
        p = self.start(name, [binary, "proxy"], env, port=port)
        if not wait_http_ok(admin, "/readyz"):
            die(f"{name} never became ready")
        p.admin_port = admin
        return port, p

    def relay(self, name="relay", extra_env=None):
        admin = free_port()
        env = {
            "STREAMSHIFT_RELAY_TARGET_URL": f"http://127.0.0.1:{self.sink_port}",
            "STREAMSHIFT_ADMIN_LISTEN": f"127.0.0.1:{admin}",
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "STREAMSHIFT_CONSUMER_NAME": "bench-relay",
            "STREAMSHIFT_RELAY_GROUP_START": "$",
            "LOG_LEVEL": "warn",
        }
        env.update(extra_env or {})
        p = self.start(name, [os.path.join(self.build, "streamshift"), "relay"], env,
                       port=admin, ready=lambda: wait_http_ok(admin, "/readyz"))
        p.admin_port = admin
        return p

    def haproxy(self):
        port = free_port()
        cfg = os.path.join(self.dir, "haproxy.cfg")
        with open(cfg, "w") as f:
            f.write(f"""global
  nbthread 1
  maxconn 4000
defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  option http-keep-alive
  http-reuse always
frontend bench
  bind 127.0.0.1:{port}
  default_backend sink
backend sink
  server sink 127.0.0.1:{self.sink_port} maxconn 1000
""")
        return port, self.start("haproxy", ["haproxy", "-db", "-f", cfg], port=port)

    def nginx(self):
        port = free_port()
        conf = os.path.join(self.dir, "nginx.conf")
        tmp = os.path.join(self.dir, "nginx-tmp")
        os.makedirs(tmp, exist_ok=True)
        with open(conf, "w") as f:
            f.write(f"""daemon off;
master_process off;
worker_processes 1;
pid {self.dir}/nginx.pid;
error_log {self.dir}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/body;
  proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fastcgi;
  uwsgi_temp_path {tmp}/uwsgi;
  scgi_temp_path {tmp}/scgi;
  upstream sink {{ server 127.0.0.1:{self.sink_port}; keepalive 64; }}
  server {{
    listen 127.0.0.1:{port};
    keepalive_requests 1000000;
    location / {{
      proxy_pass http://sink;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }}
  }}
}}
""")
        return port, self.start("nginx", ["nginx", "-p", self.dir, "-c", conf], port=port)

    def webdis(self):
        port = free_port()
        cfg = os.path.join(self.dir, "webdis.json")
        with open(cfg, "w") as f:
            json.dump({"redis_host": "127.0.0.1", "redis_port": self.redis_port,
                       "http_host": "127.0.0.1", "http_port": port, "threads": 1,
                       "daemonize": False, "database": 0, "verbosity": 0,
                       "logfile": os.path.join(self.dir, "webdis-own.log")}, f)
        return port, self.start("webdis", ["webdis", cfg], port=port)


class Bench:
    def __init__(self, args):
        self.args = args
        self.build = os.path.join(ROOT, args.build)
        # Another streamshift binary (the previous commit's), run as one more peer.
        self.previous = os.path.abspath(args.previous) if args.previous else None
        self.load_bin = os.path.join(self.build, "streamshift-load")
        s = args.smoke
        self.duration_ms = 300 if s else args.duration_ms
        self.warmup_ms = 100 if s else args.warmup_ms
        self.rates = [200, 500] if s else [1000, 10000]
        self.e2e_rates = [200, 500] if s else [1000, 5000, 10000]
        self.rounds = 1 if s else args.rounds
        self.results = {}

    def load(self, target_port, rate, workload="chat", fmt="events", users=200, sink=True,
             connections=50, measure=(), coalesced=False, extra=()):
        """One streamshift-load run; `measure` lists processes to account CPU and RSS for;
        `extra`: more streamshift-load arguments."""
        argv = [self.load_bin, "--target", f"127.0.0.1:{target_port}", "--rate", str(rate),
                "--duration-ms", str(self.duration_ms), "--warmup-ms", str(self.warmup_ms),
                "--connections", str(connections), "--workload", workload, "--format", fmt,
                "--users", str(users), "--sink-wait-ms", "3000", *extra]
        if sink:
            argv += ["--sink", f"127.0.0.1:{self.svc.sink_port}"]
        before = {name: proc_cpu_seconds(p.pid) for name, p in measure}
        out = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        if out.returncode != 0:
            die(f"streamshift-load failed: {out.stderr}")
        result = json.loads(out.stdout)
        result["resources"] = {}
        for name, p in measure:
            cpu = proc_cpu_seconds(p.pid) - before[name]
            # Every request of the invocation, warm-up included, as the CPU was.
            requests = max(result["completed_all"], 1)
            result["resources"][name] = {
                "cpu_seconds": cpu,
                "cpu_s_per_1000_requests": cpu / (requests / 1000.0),
                "peak_rss_mb": proc_status_kb(p.pid, "VmHWM") / 1024.0,
            }
        self.check_run(result, f"port {target_port} @ {rate}/s", sink and not coalesced)
        return result

    def check_run(self, r, what, all_delivered):
        """A run that lost or failed requests is a broken set-up or a bug, not a number."""
        if r["completed"] == 0:
            die(f"no request completed ({what}): {json.dumps(r)}")
        if r["errors"] or r["non_2xx"]:
            die(f"errors or non-2xx answers ({what}): {json.dumps(r)}")
        if all_delivered and r["sink"]["received"] < r["ok"]:
            die(f"events acknowledged but never delivered ({what}): {json.dumps(r)}")
        if "sink" in r and r["sink"]["last_state_missing"]:
            die(f"typing keys whose last state never arrived ({what}): {json.dumps(r)}")

    def run(self):
        for tool, package in NEEDED.items():
            if shutil.which(tool) is None:
                die(f"{tool} is missing: install Debian's {package} "
                    "(scripts/setup-deps.sh with STREAMSHIFT_BENCH_DEPS=1 installs them)")
        for binary in ("streamshift", "streamshift-load"):
            if not os.path.exists(os.path.join(self.build, binary)):
                die(f"{self.build}/{binary} is missing: build first (cmake --build {self.args.build})")
        workdir = tempfile.mkdtemp(prefix="streamshift-bench-")
        self.svc = Services(self.build, workdir)
        scenarios = {"http": self.http_path, "redis": self.redis_path, "e2e": self.end_to_end,
                     "typing": self.typing, "durable": self.durable, "cluster": self.cluster,
                     "ordering": self.ordering}
        # The report has the first four; durable and cluster run with --only.
        wanted = self.args.only.split(",") if self.args.only else list(scenarios)[:4]
        for name in wanted:
            if name not in scenarios:
                die(f"--only: unknown scenario {name} ({', '.join(scenarios)})")
        try:
            self.svc.redis()
            for name in wanted:
                scenarios[name]()
        finally:
            self.svc.stop_all()
        if self.args.only:
            # A partial run writes no report: print what it measured.
            json.dump(self.results, sys.stdout, indent=1)
            print()
            if "cluster" in self.results:
                print(render_cluster(self.results["cluster"]))
            if "ordering" in self.results:
                print(render_ordering(self.results["ordering"]))
        else:
            self.write_outputs()
        if not self.args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    def series(self, targets, rates, **load_args):
        """Runs every target at every rate ("max" = closed loop), round after
        round, interleaved, so all peers see the same machine; each figure
        is then the median over the rounds."""
        runs = {name: {} for name, _, _, _ in targets}
        for _ in range(self.rounds):
            for name, port, fmt, measure in targets:
                for key, rate in rates:
                    runs[name].setdefault(key, []).append(
                        self.load(port, rate, fmt=fmt, measure=measure, **load_args))
        return {name: {key: aggregate(rs) for key, rs in by_rate.items()}
                for name, by_rate in runs.items()}

    def http_path(self):
        svc = self.svc
        bridge_port, bridge = svc.sidecar("streamshift-bridge", {})
        idle_rss = proc_status_kb(bridge.pid, "VmRSS") / 1024.0
        haproxy_port, haproxy = svc.haproxy()
        nginx_port, nginx = svc.nginx()
        targets = [("direct", svc.sink_port, "events", ()),
                   ("streamshift", bridge_port, "events", (("streamshift", bridge),)),
                   ("haproxy", haproxy_port, "events", (("haproxy", haproxy),)),
                   ("nginx", nginx_port, "events", (("nginx", nginx),))]
        started = [bridge, haproxy, nginx]
        if self.previous:
            prev_port, prev = svc.sidecar("streamshift-previous-bridge", {}, self.previous)
            targets.append(("streamshift-previous", prev_port, "events", (("streamshift", prev),)))
            started.append(prev)
        rates = [("max", 0)] + [(str(x), x) for x in self.rates]
        self.results["http"] = {"idle_rss_mb": {"streamshift": idle_rss},
                                "runs": self.series(targets, rates)}
        for p in started:
            svc.stop(p)

    def redis_path(self):
        svc = self.svc
        port, sidecar = svc.sidecar("streamshift-redis", {
            "EVENT_TRANSPORT_USE_REDIS_STREAMS": "true",
            "EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE": "100"})
        idle_rss = proc_status_kb(sidecar.pid, "VmRSS") / 1024.0
        tls_port, tls_sidecar = svc.sidecar("streamshift-redis-tls", {
            "EVENT_TRANSPORT_USE_REDIS_STREAMS": "true",
            "EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE": "100",
            "REDIS_URL": f"rediss://127.0.0.1:{svc.redis_tls_port}/0",
            "REDIS_TLS_CA_FILE": os.path.join(svc.dir, "ca.crt")})
        webdis_port, webdis = svc.webdis()
        # Redis' CPU too: TLS costs it as much as it costs the sidecar.
        redis = ("redis-server", svc.redis_proc)
        targets = [("streamshift", port, "events", (("streamshift", sidecar), redis)),
                   ("streamshift-tls", tls_port, "events", (("streamshift", tls_sidecar), redis)),
                   ("webdis", webdis_port, "webdis", (("webdis", webdis), redis))]
        started = [sidecar, tls_sidecar, webdis]
        if self.previous:
            prev_port, prev = svc.sidecar("streamshift-previous-redis", {
                "EVENT_TRANSPORT_USE_REDIS_STREAMS": "true",
                "EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE": "100"}, self.previous)
            targets.append(("streamshift-previous", prev_port, "events",
                            (("streamshift", prev), redis)))
            started.append(prev)
        rates = [("max", 0)] + [(str(x), x) for x in self.rates]
        self.results["redis"] = {"idle_rss_mb": {"streamshift": idle_rss},
                                 "runs": self.series(targets, rates, sink=False)}
        for p in started:
            svc.stop(p)

    def durable(self):
        """EVENT_TRANSPORT_MIN_REPLICAS=0 against 1 (XADD, then one WAIT per
        batch), the bench's redis-server with one replica."""
        svc = self.svc
        svc.replica()
        redis = (("redis-server", svc.redis_proc), ("redis-replica", svc.replica_proc))
        targets, started = [], []
        for n in (0, 1):
            port, proc = svc.sidecar(f"streamshift-min-replicas-{n}", {
                "EVENT_TRANSPORT_USE_REDIS_STREAMS": "true",
                "EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE": "100",
                "EVENT_TRANSPORT_MIN_REPLICAS": str(n)})
            targets.append((f"min-replicas-{n}", port, "events", (("streamshift", proc),) + redis))
            started.append(proc)
        rates = [("max", 0)] + [(str(x), x) for x in self.rates]
        self.results["durable"] = {"runs": self.series(targets, rates, sink=False)}
        for p in started:
            svc.stop(p)

    CLUSTER_SHARDS = 12

    def cluster(self):
        """Redis Cluster, 1 primary against 3 (no replicas), 12 stream shards,
        and the bench's standalone redis-server over redis:// with the same
        shards as the baseline, all in the same run. The sidecars' maximum
        XADD throughput (closed loop, every event to Redis), the three
        interleaved round after round, so all see the same machine; then,
        shape after shape, a relay started on what those rounds stored,
        draining it to the sink as fast as it can. CPU per event of the
        sidecar, the relay and each redis-server."""
        svc = self.svc
        res = {"shards": self.CLUSTER_SHARDS, "loadavg_before": os.getloadavg()}
        shards = {"EVENT_TRANSPORT_STREAM_SHARDS": str(self.CLUSTER_SHARDS),
                  # The most the sidecar allows (12 x 100,000 entries: all of
                  # a short run), so what each node holds shows the placement
                  # rather than the cap.
                  "EVENT_TRANSPORT_STREAM_MAX_LEN": "100000"}
        shapes = []
        for primaries in ("standalone", 1, 3):
            if primaries == "standalone":
                nodes = [(svc.redis_port, svc.redis_proc)]
                url = f"redis://127.0.0.1:{svc.redis_port}/0"
            else:
                nodes = svc.redis_cluster(primaries)
                url = "redis-cluster://" + ",".join(f"127.0.0.1:{port}" for port, _ in nodes)
            port, sidecar = svc.sidecar(f"streamshift-cluster-{primaries}", {
                "REDIS_URL": url, **shards,
                "EVENT_TRANSPORT_USE_REDIS_STREAMS": "true",
                "EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE": "100",
                "EVENT_TRANSPORT_FALLBACK_TO_HTTP": "false"})
            redis = tuple((f"redis-{i}", proc) for i, (_, proc) in enumerate(nodes))
            shapes.append((primaries, nodes, url, port, sidecar, redis))
        runs = {primaries: [] for primaries, *_ in shapes}
        for _ in range(self.rounds):
            for primaries, _, _, port, sidecar, redis in shapes:
                runs[primaries].append(self.load(port, 0, users=480, sink=False,
                                                 measure=(("streamshift", sidecar),) + redis))
        for primaries, nodes, url, _, sidecar, redis in shapes:
            svc.stop(sidecar)
            stored = sum(self.cluster_xlen(nodes))
            with self.sink_alone():
                relay = svc.relay(f"relay-cluster-{primaries}", {
                    "REDIS_URL": url, **shards, "STREAMSHIFT_RELAY_GROUP_START": "0",
                    "STREAMSHIFT_STREAMS": "events:chat"})
                drain = self.drain(relay, stored, (("relay", relay),) + redis)
            res[f"{primaries}_primary"] = {
                "xadd": aggregate(runs[primaries]), "relay": drain, "stored": stored,
                "stored_per_node": self.cluster_xlen(nodes),
                "shard_streams_per_node": [len(cluster_keys(port)) for port, _ in nodes]}
            svc.stop(relay)
            if primaries != "standalone":
                for _, proc in nodes:
                    svc.stop(proc)
        res["loadavg_after"] = os.getloadavg()
        self.results["cluster"] = res

    def ordering(self):
        """Delivery latency (send -> sink) with a slow SignalR stand-in: the
        sink answers each call after 50 ms (a loop timer). 500 events/s of
        chat messages over 60 rooms (4 users each) through the HTTP bridge,
        and through Redis and the relay with STREAMSHIFT_RELAY_ORDERING room
        and none, round after round, interleaved. One relay at a time, each
        run with a consumer group of its own created at "$", so no run
        delivers another's entries."""
        svc = self.svc
        rate = 100 if self.args.smoke else 500
        slow_sink = ("--sink-delay-ms", "50", "--rooms", "60")
        bridge_port, bridge = svc.sidecar("streamshift-bridge-ordering", {})
        port, sidecar = svc.sidecar("streamshift-ordering", {
            "EVENT_TRANSPORT_USE_REDIS_STREAMS": "true",
            "EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE": "100"})
        res = {"rate": rate, "sink_delay_ms": 50, "rooms": 60, "relay_concurrency": 32,
               "loadavg_before": os.getloadavg()}
        runs = {"http": [], "relay_room": [], "relay_none": []}
        for round_ in range(self.rounds):
            for name in runs:
                if name == "http":
                    runs[name].append(self.load(bridge_port, rate, users=240, connections=100,
                                                measure=(("streamshift", bridge),),
                                                extra=slow_sink))
                    continue
                ordering = name.split("_")[1]
                relay = svc.relay(f"relay-{ordering}-{round_}", {
                    "STREAMSHIFT_RELAY_ORDERING": ordering,
                    "EVENT_TRANSPORT_CONSUMER_GROUP": f"ordering-{ordering}-{round_}"})
                runs[name].append(self.load(port, rate, users=240, connections=100,
                                            measure=(("streamshift", sidecar), ("relay", relay)),
                                            extra=slow_sink))
                svc.stop(relay)
        res["loadavg_after"] = os.getloadavg()
        res["runs"] = {name: aggregate(rs) for name, rs in runs.items()}
        res["p95_ms_rounds"] = {name: [r["sink"]["latency_us"]["p95"] / 1000.0 for r in rs]
                                for name, rs in runs.items()}
        self.results["ordering"] = res
        for p in (bridge, sidecar):
            svc.stop(p)

    def cluster_xlen(self, nodes):
        """Entries in the shard streams each node holds."""
        return [sum(int(resp_command(port, "XLEN", k)[1:]) for k in cluster_keys(port))
                for port, _ in nodes]

    @contextlib.contextmanager
    def sink_alone(self):
        """The sink (streamshift-load's, behind a trickle of 1 event/s sent to
        itself) listening, for a relay to deliver to without the load."""
        sink_load = subprocess.Popen(
            [self.load_bin, "--target", f"127.0.0.1:{self.svc.sink_port}", "--rate", "1",
             "--duration-ms", "600000", "--warmup-ms", "0", "--connections", "1",
             "--sink", f"127.0.0.1:{self.svc.sink_port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            if not wait_port(self.svc.sink_port, sink_load):
                die("the sink did not start")
            yield
        finally:
            sink_load.kill()
            sink_load.wait()

    def drain(self, relay, backlog, measure):
        """The relay's delivery rate while it works through `backlog` entries,
        from its first delivery to its last (its own counter), and CPU per
        event of `measure` over that time."""
        series = 'streamshift_relay_deliveries_total{outcome="delivered"}'
        deadline = time.time() + 120
        first = None
        while time.time() < deadline:
            done = metric_value(relay.admin_port, series)
            now = time.time()
            if first is None and done > 0:
                first = (now, done, {n: proc_cpu_seconds(p.pid) for n, p in measure})
            if done >= backlog:
                break
            time.sleep(0.02)
        else:
            die(f"the relay delivered {done} of {backlog} entries in 120 s")
        cpu = {n: proc_cpu_seconds(p.pid) - first[2][n] for n, p in measure}
        events = max(done - first[1], 1)
        return {"delivered": done, "events_per_s": events / max(now - first[0], 1e-6),
                "cpu_us_per_event": {n: c / events * 1e6 for n, c in cpu.items()}}

    def end_to_end(self):
        svc = self.svc
        for stream in ("events:chat", "events:ticket", "events:notification", "events:remote"):
            svc.redis_cli("DEL", stream)
        port, sidecar = svc.sidecar("streamshift-e2e", {
            "EVENT_TRANSPORT_USE_REDIS_STREAMS": "true",
            "EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE": "100"})
        relay = svc.relay()
        idle_rss = proc_status_kb(relay.pid, "VmRSS") / 1024.0
        bridge_port, bridge = svc.sidecar("streamshift-bridge-e2e", {})
        targets = [("redis", port, "events", (("streamshift", sidecar), ("relay", relay))),
                   ("http", bridge_port, "events", (("streamshift", bridge),))]
        rates = [(str(x), x) for x in self.e2e_rates]
        res = self.series(targets, rates, workload="mixed")
        top = self.e2e_rates[-1]
        res["redis_500_users"] = self.series(targets[:1], [(str(top), top)], workload="mixed",
                                             users=500)["redis"]
        res["idle_rss_mb"] = {"relay": idle_rss}
        self.results["e2e"] = res
        for p in (sidecar, relay, bridge):
            svc.stop(p)

    def typing(self):
        svc = self.svc
        res = {}
        rate = 500 if self.args.smoke else 5000
        for label, enabled in (("off", "false"), ("on", "true")):
            port, p = svc.sidecar(f"streamshift-typing-{label}",
                                  {"EVENT_COALESCING_ENABLED": enabled})
            saved = self.warmup_ms
            self.warmup_ms = 0  # every typing event counts, from the first
            res[label] = self.load(port, rate, workload="typing", users=500,
                                   measure=(("streamshift", p),), coalesced=enabled == "true")
            self.warmup_ms = saved
            svc.stop(p)
        self.results["typing"] = res

    # ------------------------------------------------------------ outputs

    def versions(self):
        return {
            "streamshift": first_line([os.path.join(self.build, "streamshift"), "--version"]),
            "haproxy": first_line(["haproxy", "-v"]),
            "nginx": first_line(["nginx", "-v"]),
            # Never `webdis --version`: webdis takes any argument for its
            # config file and, finding none, starts serving with its
            # defaults, writing webdis.log into the current directory.
            "webdis": first_line(["dpkg-query", "-W", "-f", "${Version}", "webdis"]),
            "redis": first_line(["redis-server", "--version"]),
            "kernel": platform.release(),
            "cpu": cpu_model(),
            "cores": os.cpu_count(),
        }

    def write_outputs(self):
        out = self.args.out
        os.makedirs(out, exist_ok=True)
        os.makedirs(os.path.join(out, "bench"), exist_ok=True)
        meta = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                "smoke": self.args.smoke, "duration_ms": self.duration_ms,
                "warmup_ms": self.warmup_ms, "rounds": self.rounds, "versions": self.versions()}
        with open(os.path.join(out, "bench", "results.json"), "w") as f:
            json.dump({"meta": meta, "results": self.results}, f, indent=1)
        self.plots(os.path.join(out, "bench"))
        with open(os.path.join(out, "BENCHMARKS.md"), "w") as f:
            f.write(render_markdown(meta, self.results, self.rates, self.e2e_rates))

    def plots(self, out):
        series = []
        r = self.results
        top = str(self.rates[-1])
        for name, runs in r["http"]["runs"].items():
            series.append((f"HTTP path: {name}", runs[top]["latency_us"]))
        for name, runs in r["redis"]["runs"].items():
            series.append((f"Redis path: {name} (ack)", runs[top]["latency_us"]))
        self.plot(os.path.join(out, "latency-at-rate.png"),
                  f"Latency percentiles at {top} requests/s", series)
        series = []
        for rate in self.e2e_rates:
            series.append((f"relay delivery @{rate}/s", r["e2e"]["redis"][str(rate)]["sink"]["latency_us"]))
            series.append((f"HTTP bridge @{rate}/s", r["e2e"]["http"][str(rate)]["sink"]["latency_us"]))
        self.plot(os.path.join(out, "end-to-end.png"), "End-to-end delivery latency (send to sink)",
                  series)

    def plot(self, png, title, series):
        data = os.path.join(os.path.dirname(png), os.path.basename(png) + ".dat")
        keys = ["p50", "p90", "p99", "p999"]
        with open(data, "w") as f:
            f.write("series " + " ".join(keys) + "\n")
            for label, lat in series:
                f.write('"' + label + '" ' + " ".join(f"{lat[k] / 1000.0:.4f}" for k in keys) + "\n")
        cols = len(keys)
        script = f"""set terminal pngcairo size 1100,520 noenhanced
set output '{png}'
set title '{title}'
set ylabel 'milliseconds (log scale)'
set logscale y
set yrange [0.01:*]
set style data histogram
set style histogram cluster gap 1
set style fill solid 0.8 border -1
set xtics rotate by -25
set key top left
set grid ytics
plot for [i=2:{cols + 1}] '{data}' using i:xtic(1) title columnhead(i)
"""
        proc = subprocess.run(["gnuplot"], input=script, capture_output=True, text=True)
        if proc.returncode != 0 or not os.path.exists(png):
            die(f"gnuplot failed: {proc.stderr}")
        os.remove(data)


def median(values):
    v = sorted(values)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def aggregate(runs):
    """The median of every figure over the rounds; counts summed; peak RSS the largest."""
    out = json.loads(json.dumps(runs[0]))
    out["rounds"] = len(runs)
    for key in ("sent", "completed", "completed_all", "ok", "non_2xx", "errors", "late",
                "typing_sent"):
        out[key] = sum(r[key] for r in runs)
    out["throughput_rps"] = median([r["throughput_rps"] for r in runs])
    out["throughput_rps_rounds"] = [r["throughput_rps"] for r in runs]
    out["p99_us_rounds"] = [r["latency_us"]["p99"] for r in runs]
    # Rounds in which requests waited for a free connection: the target (or
    # the machine) stalled for longer than 50 connections' worth of requests.
    out["stalled_rounds"] = sum(1 for r in runs if r["late"] > 0)
    for k in out["latency_us"]:
        out["latency_us"][k] = median([r["latency_us"][k] for r in runs])
    if "sink" in out:
        for key in ("received", "warmup", "foreign", "typing_received", "last_state_missing"):
            out["sink"][key] = sum(r["sink"][key] for r in runs)
        for k in out["sink"]["latency_us"]:
            out["sink"]["latency_us"][k] = median([r["sink"]["latency_us"][k] for r in runs])
    for name in out["resources"]:
        out["resources"][name]["cpu_s_per_1000_requests"] = median(
            [r["resources"][name]["cpu_s_per_1000_requests"] for r in runs])
        out["resources"][name]["peak_rss_mb"] = max(r["resources"][name]["peak_rss_mb"] for r in runs)
    return out


def ms(us):
    return f"{us / 1000.0:.3f}"


def lat_row(lat):
    return f"{ms(lat['p50'])} | {ms(lat['p90'])} | {ms(lat['p99'])} | {ms(lat['p999'])} | {ms(lat['max'])}"


def max_cell(run):
    rounds = run.get("throughput_rps_rounds", [run["throughput_rps"]])
    if len(rounds) == 1:
        return f"{run['throughput_rps']:,.0f}"
    return f"{run['throughput_rps']:,.0f} ({min(rounds):,.0f}-{max(rounds):,.0f})"


def verdict(ok):
    return "met" if ok else "**missed**"


def render_cluster(c):
    """The cluster scenario as the table of docs/BENCHMARKS.md: per shape,
    the sidecar's maximum and the relay's drain rate, and CPU per event in
    microseconds of each process (the redis-servers' summed, and the
    busiest one)."""
    L = [f"load average before / after: {c['loadavg_before'][0]:.2f} / {c['loadavg_after'][0]:.2f}",
         "",
         "| Primaries | sidecar max events/s (rounds) | µs CPU/event: sidecar / Redis (sum; busiest) "
         "| relay drain events/s | µs CPU/event: relay / Redis (sum; busiest) | entries per node |",
         "|---|---|---|---|---|---|"]
    for primaries in ("standalone", 1, 3):
        r = c.get(f"{primaries}_primary")
        if r is None:
            continue
        res = r["xadd"]["resources"]
        redis_x = [v["cpu_s_per_1000_requests"] * 1000 for k, v in res.items() if k.startswith("redis")]
        drain = r["relay"]["cpu_us_per_event"]
        redis_d = [v for k, v in drain.items() if k.startswith("redis")]
        L.append(f"| {primaries} | {max_cell(r['xadd'])} | "
                 f"{res['streamshift']['cpu_s_per_1000_requests'] * 1000:.1f} / "
                 f"{sum(redis_x):.1f}; {max(redis_x):.1f} | {r['relay']['events_per_s']:,.0f} | "
                 f"{drain['relay']:.1f} / {sum(redis_d):.1f}; {max(redis_d):.1f} | "
                 f"{' / '.join(str(n) for n in r['stored_per_node'])} |")
    return "\n".join(L)


def render_ordering(o):
    """The ordering scenario as a Markdown table (medians over the rounds)."""
    L = [f"{o['rate']} events/s over {o['rooms']} rooms, a sink answering after "
         f"{o['sink_delay_ms']} ms, relay concurrency {o['relay_concurrency']}; "
         f"delivery latency send -> sink, ms, median over {o['runs']['http']['rounds']} rounds; "
         f"load average {o['loadavg_before'][0]:.2f} before, {o['loadavg_after'][0]:.2f} after.\n",
         "| path | delivered | p50 | p90 | p95 | p99 | max | p95 per round |",
         "|---|---|---|---|---|---|---|---|"]
    names = {"http": "HTTP bridge (direct)", "relay_room": "relay, ordering=room",
             "relay_none": "relay, ordering=none"}
    for name, run in o["runs"].items():
        lat = run["sink"]["latency_us"]
        rounds = ", ".join(f"{x:.1f}" for x in o["p95_ms_rounds"][name])
        L.append(f"| {names[name]} | {run['sink']['received']} | {ms(lat['p50'])} | "
                 f"{ms(lat['p90'])} | {ms(lat['p95'])} | {ms(lat['p99'])} | {ms(lat['max'])} | "
                 f"{rounds} |")
    return "\n".join(L)


def render_markdown(meta, r, rates, e2e_rates):
    v = meta["versions"]
    top = str(rates[-1])
    L = []
    L.append("# Benchmarks\n")
    L.append("Generated by `loadtest/bench.py` (see the README for the command); do not edit by "
             "hand. Every figure in a table was measured in the same run on the same machine; "
             "absolute numbers drift between runs on these shared machines, so compare peers "
             "within a table, and ratios across runs.\n")
    if meta["smoke"]:
        L.append("**Smoke run**: a fraction of a second per scenario at low rates; "
                 "the numbers mean nothing.\n")
    L.append("## Machine and versions\n")
    L.append(f"- Date: {meta['date']}; {v['cores']} cores ({v['cpu']}), kernel {v['kernel']}; "
             "everything on loopback on this machine: load generator, sink, proxies, Redis, relay.")
    L.append(f"- {v['streamshift']} (RelWithDebInfo, `STREAMSHIFT_WORKERS=1`); {v['haproxy']} "
             f"(`nbthread 1`, `http-reuse always`); {v['nginx']} (1 worker, upstream keepalive 64); "
             f"Webdis {v['webdis']} (1 thread); {v['redis']} (no persistence).")
    L.append(f"- Load: `streamshift-load`, 50 keep-alive connections, {meta['warmup_ms']} ms "
             f"warm-up then {meta['duration_ms']} ms measured per run; {meta['rounds']} round(s), "
             "peers interleaved within each round, every figure the median over the rounds "
             "(maximum throughput also shows the range). Open loop at fixed rates "
             "(latency from each request's intended send time: coordinated omission is charged, "
             "not hidden), closed loop for maximum throughput. Bodies 200-1000 bytes, 200 users "
             "in 50 rooms unless said. Percentiles from a log-linear histogram (0.8% precision). "
             "Latency columns in milliseconds.")
    L.append("- Sink: the load generator's own HTTP target (its own thread), answering 200 at once "
             "and timing each arrival against the event's intended send time.")
    L.append("- This machine stalls now and then for 20-100 ms (a virtual machine; seen with no "
             "proxy at all, the generator talking to its own sink, in about one run in four, with "
             "no scheduling delay visible to `perf sched`). At 10k requests/s one stall delays "
             "about 1000 requests, which moves p99 of a 5 s run. \"Stalled rounds\" counts rounds "
             "where requests had to wait for a free connection; \"best round\" is the lowest p99 "
             "of the rounds. Verdicts use the medians.\n")

    http = r["http"]["runs"]
    L.append("## 1. HTTP path: sink direct vs through streamshift, HAProxy, nginx\n")
    L.append("Chat events (`POST /internal/broadcast/chat`), every event over HTTP "
             "(`EVENT_TRANSPORT_USE_REDIS_STREAMS=false`, coalescing off).\n")
    L.append("| Target | max req/s | " + " | ".join(f"p50 / p99 / p99.9 @ {x}/s" for x in rates) +
             " | added p99 @ " + top + "/s | best round p99 @ " + top + "/s | stalled rounds |")
    L.append("|---|---|" + "---|" * len(rates) + "---|---|---|")
    direct_p99 = http["direct"][top]["latency_us"]["p99"]
    for name, runs in http.items():
        cells = []
        for x in rates:
            lat = runs[str(x)]["latency_us"]
            cells.append(f"{ms(lat['p50'])} / {ms(lat['p99'])} / {ms(lat['p999'])}")
        added = "" if name == "direct" else ms(runs[top]["latency_us"]["p99"] - direct_p99)
        errs = sum(runs[k]["errors"] + runs[k]["non_2xx"] for k in runs)
        L.append(f"| {name}{' (errors: ' + str(errs) + ')' if errs else ''} | "
                 f"{max_cell(runs['max'])} | " + " | ".join(cells) + f" | {added} | "
                 f"{ms(min(runs[top]['p99_us_rounds']))} | {runs[top]['stalled_rounds']} of "
                 f"{runs[top]['rounds']} |")
    L.append("")

    red = r["redis"]["runs"]
    L.append("## 2. Redis path: streamshift (HTTP in, XADD, ack) vs Webdis (the same XADD)\n")
    L.append("streamshift at 100% Redis Streams, to Redis' plaintext port and (streamshift-tls) to "
             "its TLS port (`rediss://`, TLS 1.3, the server certificate verified); Webdis "
             "(plaintext only) receives `PUT /XADD/events:chat/MAXLEN/~/10000/*/"
             "v/1/event_id/.../body` with the event as the body, so all write the same entry. "
             "Latency is the ack (the XADD's reply turned into an HTTP answer).\n")
    L.append("| Target | max req/s | " + " | ".join(f"p50 / p99 / p99.9 @ {x}/s" for x in rates) +
             " | best round p99 @ " + top + "/s | stalled rounds |")
    L.append("|---|---|" + "---|" * len(rates) + "---|---|")
    for name, runs in red.items():
        cells = [f"{ms(runs[str(x)]['latency_us']['p50'])} / {ms(runs[str(x)]['latency_us']['p99'])} / "
                 f"{ms(runs[str(x)]['latency_us']['p999'])}" for x in rates]
        errs = sum(runs[k]["errors"] + runs[k]["non_2xx"] for k in runs)
        L.append(f"| {name}{' (errors: ' + str(errs) + ')' if errs else ''} | "
                 f"{max_cell(runs['max'])} | " + " | ".join(cells) + f" | "
                 f"{ms(min(runs[top]['p99_us_rounds']))} | {runs[top]['stalled_rounds']} of "
                 f"{runs[top]['rounds']} |")
    L.append("")

    e2e = r["e2e"]
    L.append("## 3. End to end: ingress, Redis, relay, sink\n")
    L.append("Mixed workload (50% typing, 40% chat, 10% tickets; coalescing off). Delivery latency: "
             "the event's intended send time to its arrival at the sink, through streamshift "
             "(100% Redis Streams), Redis and `streamshift relay`; the HTTP bridge at the same rates "
             "for comparison (send to arrival through the bridge).\n")
    L.append("| Path | rate/s | users | delivered | p50 | p90 | p99 | p99.9 | max | stalled rounds |")
    L.append("|---|---|---|---|---|---|---|---|---|---|")
    for label, key, users in (("Redis + relay", "redis", 200), ("Redis + relay", "redis_500_users", 500),
                              ("HTTP bridge", "http", 200)):
        for rate, run in e2e[key].items():
            s = run["sink"]
            L.append(f"| {label} | {rate} | {users} | {s['received']:,} of {run['ok']:,} | "
                     + lat_row(s["latency_us"]) + f" | {run['stalled_rounds']} of {run['rounds']} |")
    L.append("")

    ty = r["typing"]
    L.append("## 4. Typing: coalescing off and on\n")
    L.append("Typing bursts only (`typing_start` keystrokes, then `typing_stop`), 500 users, over the "
             "HTTP bridge (`EVENT_COALESCING_WINDOW_MS=100`).\n")
    L.append("| Coalescing | typing events sent | reached the sink | reduction | keys | last state missing |")
    L.append("|---|---|---|---|---|---|")
    for label in ("off", "on"):
        run = ty[label]
        s = run["sink"]
        sent = max(run["typing_sent"], 1)
        L.append(f"| {label} | {run['typing_sent']:,} | {s['typing_received']:,} | "
                 f"{100.0 * (1 - s['typing_received'] / sent):.1f}% | {s['typing_keys']} | "
                 f"{s['last_state_missing']} |")
    L.append("")

    L.append("## 5. Resources\n")
    L.append("CPU time of all the process's threads (from /proc/PID/task/*/schedstat) over a whole "
             "load run, warm-up included, divided by every request of that run: CPU seconds per "
             "1000 requests, which is also cores per 1000 requests/s. Peak RSS is VmHWM.\n")
    L.append("| Process | run | CPU s / 1000 requests (cores per 1000 req/s) | peak RSS MB |")
    L.append("|---|---|---|---|")
    rows = [("streamshift (bridge)", f"HTTP path @ {top}/s", http["streamshift"][top], "streamshift"),
            ("HAProxy", f"HTTP path @ {top}/s", http["haproxy"][top], "haproxy"),
            ("nginx", f"HTTP path @ {top}/s", http["nginx"][top], "nginx"),
            ("streamshift (Redis)", f"Redis path @ {top}/s", red["streamshift"][top], "streamshift"),
            ("Webdis", f"Redis path @ {top}/s", red["webdis"][top], "webdis"),
            ("streamshift (Redis)", f"end to end @ {e2e_rates[-1]}/s", e2e["redis"][str(e2e_rates[-1])],
             "streamshift"),
            ("relay", f"end to end @ {e2e_rates[-1]}/s", e2e["redis"][str(e2e_rates[-1])], "relay")]
    for label, what, run, key in rows:
        res = run["resources"][key]
        L.append(f"| {label} | {what} | {res['cpu_s_per_1000_requests']:.4f} | "
                 f"{res['peak_rss_mb']:.1f} |")
    idle_sidecar = r["http"]["idle_rss_mb"]["streamshift"]
    idle_relay = e2e["idle_rss_mb"]["relay"]
    L.append(f"\nIdle RSS after start: sidecar {idle_sidecar:.1f} MB, relay {idle_relay:.1f} MB.\n")

    # Targets.
    hp = http["streamshift"]["max"]["throughput_rps"] / max(http["haproxy"]["max"]["throughput_rps"], 1)
    added_ss = http["streamshift"][top]["latency_us"]["p99"] - direct_p99
    added_ha = http["haproxy"][top]["latency_us"]["p99"] - direct_p99
    rw = red["streamshift"]["max"]["throughput_rps"] / max(red["webdis"]["max"]["throughput_rps"], 1)
    ack_p99 = red["streamshift"][top]["latency_us"]["p99"]
    e2e_top = e2e["redis"][str(e2e_rates[-1])]["sink"]["latency_us"]["p99"]
    cpu = max(http["streamshift"][top]["resources"]["streamshift"]["cpu_s_per_1000_requests"],
              red["streamshift"][top]["resources"]["streamshift"]["cpu_s_per_1000_requests"])
    coalesce_on = ty["on"]["sink"]
    reduction = 1 - coalesce_on["typing_received"] / max(ty["on"]["typing_sent"], 1)
    L.append("## Targets\n")
    L.append("| Target | Measured | Verdict |")
    L.append("|---|---|---|")
    L.append(f"| HTTP path throughput ≥ HAProxy's | {hp:.2f}x HAProxy | {verdict(hp >= 1.0)} |")
    L.append(f"| HTTP path added p99 ≤ HAProxy's (@ {top}/s) | {ms(added_ss)} ms vs {ms(added_ha)} ms | "
             f"{verdict(added_ss <= added_ha)} |")
    L.append(f"| Redis path throughput ≥ 2x Webdis's | {rw:.2f}x Webdis | {verdict(rw >= 2.0)} |")
    L.append(f"| Redis path ack p99 ≤ 1 ms @ {top}/s | {ms(ack_p99)} ms | {verdict(ack_p99 <= 1000)} |")
    L.append(f"| End to end p99 ≤ 2 ms @ {e2e_rates[-1]}/s | {ms(e2e_top)} ms | {verdict(e2e_top <= 2000)} |")
    L.append(f"| CPU ≤ 0.05 core per 1000 req/s | {cpu:.4f} | {verdict(cpu <= 0.05)} |")
    L.append(f"| RSS ≤ 16 MB idle | sidecar {idle_sidecar:.1f} MB, relay {idle_relay:.1f} MB | "
             f"{verdict(idle_sidecar <= 16 and idle_relay <= 16)} |")
    L.append(f"| Typing traffic ≥ 30% lower with coalescing | {100 * reduction:.1f}% lower, "
             f"{coalesce_on['last_state_missing']} keys missing their last state | "
             f"{verdict(reduction >= 0.30 and coalesce_on['last_state_missing'] == 0)} |")
    L.append("")
    L.append("![latency at rate](bench/latency-at-rate.png)\n")
    L.append("![end to end](bench/end-to-end.png)\n")
    L.append("Raw results: [bench/results.json](bench/results.json). Notes on these numbers, "
             "profiling and earlier hand-run rounds: [bench/NOTES.md](bench/NOTES.md).\n")
    return "\n".join(L)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "docs"),
                    help="where BENCHMARKS.md and bench/ go (default: docs/)")
    ap.add_argument("--build", default="build/bin", help="binaries, relative to the repository")
    ap.add_argument("--smoke", action="store_true", help="seconds-long run that only proves the script works")
    ap.add_argument("--duration-ms", type=int, default=5000)
    ap.add_argument("--warmup-ms", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=5,
                    help="rounds of the HTTP, Redis and end-to-end scenarios, peers interleaved; "
                    "each figure is the median over them (default: %(default)s)")
    ap.add_argument("--previous", metavar="BINARY",
                    help="another streamshift binary (build the previous commit) run beside this "
                    "one in the HTTP and Redis scenarios, interleaved, as 'streamshift-previous'; "
                    "with --only only")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir with every server's log")
    ap.add_argument("--only", help="comma-separated scenarios (http, redis, e2e, typing, durable, "
                    "cluster, ordering): "
                    "print their results as JSON instead of writing the report")
    args = ap.parse_args()
    if args.previous and not args.only:
        ap.error("--previous needs --only: the report has no column for it")
    if args.previous and not os.access(args.previous, os.X_OK):
        ap.error(f"--previous {args.previous}: not an executable")
    Bench(args).run()
    if not args.only:
        print(f"bench: wrote {os.path.join(args.out, 'BENCHMARKS.md')}")


if __name__ == "__main__":
    main()
