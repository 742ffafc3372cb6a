#!/usr/bin/env python3
"""Where the Redis path's ack tail comes from: streamshift and Webdis, each
driven at one fixed rate (10k/s) by streamshift-load with --record, round
after round, and every request's latency taken apart.

For each run it prints, in microseconds:
  ack      done - due: the latency the bench reports (from the intended send
           time, so a late generator is charged);
  gen      sent - due: how late the generator itself wrote the request (its
           own scheduling, or no free connection);
  resp     done - sent: the target's answer time as the generator saw it;
  xadd     (streamshift) the sidecar's own XADD round trip, from its
           event_publish_duration_seconds histogram: the share of events
           above 1 ms against the share of acks above 1 ms;
  bursts   how the slowest 1% of requests fall in time: the number of 1 ms
           windows (of due time) they occupy, and the longest run of
           consecutive slow requests: a few long bursts mean a process that
           was not running, many single ones a per-request cost;
  steal    the machine's stolen time per second (/proc/stat: the hypervisor
           ran something else while our CPUs had work);
  wait     each process's run-queue delay (schedstat: time runnable but not
           running) per second of the run, and its CPU per second.

  python3 loadtest/ack_tail.py [--rounds 5] [--rate 10000] [--variant NAME=VAR=VALUE,...]
        [--pin SPEC] [--binary PATH] [--previous PATH]

--variant adds a streamshift peer with extra environment (e.g.
"conn1=REDIS_MAX_CONNECTIONS=1"). --pin "load=0,redis=1,streamshift=1,webdis=1"
pins processes to CPUs with taskset. Output: a table per peer, medians
over rounds, and the raw numbers as JSON on the last line.
"""

import argparse
import bisect
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (Services: the same servers as the bench)


def pct(sorted_values, p):
    if not sorted_values:
        return 0.0
    i = min(len(sorted_values) - 1, int(p / 100.0 * len(sorted_values)))
    return sorted_values[i]


def read_outcomes(path, warmup_until_ns):
    """(due, sent, done) of every request answered 2xx and due after the
    warm-up, in due order."""
    rows = []
    with open(path) as f:
        for line in f:
            event_id, status, sent, done = line.split()
            if not 200 <= int(status) < 300:
                continue
            due = int(event_id.rsplit("-", 1)[1])
            if due >= warmup_until_ns:
                rows.append((due, int(sent), int(done)))
    rows.sort()
    return rows


def bursts(rows, threshold_ns):
    """Slow requests (ack above threshold) by 1 ms window of due time, and
    the longest run of consecutive slow requests."""
    windows = set()
    longest = run = 0
    for due, _, done in rows:
        if done - due > threshold_ns:
            windows.add(due // 1000000)
            run += 1
            longest = max(longest, run)
        else:
            run = 0
    return len(windows), longest


def schedstat(pid):
    """{thread id: (ns on CPU, ns waiting on a run queue, timeslices)}."""
    out = {}
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                on, wait, slices = (int(x) for x in f.read().split())
            out[task] = (on, wait, slices)
        except (OSError, ValueError):
            pass
    return out


def sched_delta(before, after, seconds):
    on = sum(after[t][0] - before.get(t, (0, 0, 0))[0] for t in after)
    wait = sum(after[t][1] - before.get(t, (0, 0, 0))[1] for t in after)
    slices = sum(after[t][2] - before.get(t, (0, 0, 0))[2] for t in after)
    return {"cpu_ms_per_s": on / 1e6 / seconds, "wait_ms_per_s": wait / 1e6 / seconds,
            "wait_us_per_slice": wait / 1e3 / max(slices, 1)}


def steal_jiffies():
    """The machine's stolen time so far (the hypervisor ran something else
    while our virtual CPUs had work), in clock ticks, all CPUs together."""
    with open("/proc/stat") as f:
        return int(f.readline().split()[8])


def histogram(admin_port, name, label):
    """Cumulative bucket counts {le: count} of one histogram series."""
    with urllib.request.urlopen(f"http://127.0.0.1:{admin_port}/metrics", timeout=5) as r:
        text = r.read().decode()
    buckets = {}
    for line in text.splitlines():
        if line.startswith(name + "_bucket{") and label in line:
            le = line.split('le="', 1)[1].split('"', 1)[0]
            buckets[le] = buckets.get(le, 0) + float(line.rsplit(" ", 1)[1])
    return buckets


def share_above(before, after, le):
    total = after.get("+Inf", 0) - before.get("+Inf", 0)
    below = after.get(le, 0) - before.get(le, 0)
    return (total - below) / total if total else 0.0


TIMEHIST = re.compile(r"^\s*([\d.]+)\s+\[(\d+)\]\s+(.*?)(?:\[(\d+)(?:/(\d+))?\])?"
                      r"\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*$")


def merge(intervals):
    out = []
    for a, b in sorted(intervals):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return out


def overlap(merged, starts, a, b):
    """Nanoseconds of [a, b) inside the merged intervals."""
    total = 0
    i = max(0, bisect.bisect_right(starts, a) - 1)
    while i < len(merged) and merged[i][0] < b:
        total += max(0, min(b, merged[i][1]) - max(a, merged[i][0]))
        i += 1
    return total


def attribute(data, rows, threshold_ns, names):
    """From `perf sched timehist`: while the slowest requests were waiting
    (the union of their [due, done] intervals), which tasks had the two
    CPUs, and how long each process was runnable but not running (its
    scheduling delay), against the same over the whole run."""
    slow = merge([(u, d) for u, _, d in rows if d - u > threshold_ns])
    whole = merge([(rows[0][0], max(d for _, _, d in rows))])
    slow_starts, whole_starts = [a for a, _ in slow], [a for a, _ in whole]
    slow_ns = sum(b - a for a, b in slow) or 1
    whole_ns = sum(b - a for a, b in whole) or 1
    ran = {"slow": {}, "whole": {}}
    delayed = {"slow": {}, "whole": {}}
    out = subprocess.run(["perf", "sched", "timehist", "-i", data], capture_output=True,
                         text=True).stdout
    for line in out.splitlines():
        m = TIMEHIST.match(line)
        if not m:
            continue
        end = int(float(m.group(1)) * 1e9)
        pid = m.group(5) or m.group(4)
        who = names.get(pid) or ("idle" if m.group(3).startswith("<idle>")
                                 else re.sub(r"[/:]?\d+$", "", m.group(3).strip()) or "?")
        run_ns = int(float(m.group(8)) * 1e6)
        delay_ns = int(float(m.group(7)) * 1e6)
        start = end - run_ns
        for key, merged, starts in (("slow", slow, slow_starts), ("whole", whole, whole_starts)):
            ran[key][who] = ran[key].get(who, 0) + overlap(merged, starts, start, end)
            delayed[key][who] = delayed[key].get(who, 0) + overlap(merged, starts,
                                                                   start - delay_ns, start)
    cpus = os.cpu_count()
    return {key: {"cpu_share": {w: round(v / (cpus * span), 3) for w, v in
                                sorted(ran[key].items(), key=lambda kv: -kv[1]) if v},
                  "waiting_share": {w: round(v / span, 3) for w, v in
                                    sorted(delayed[key].items(), key=lambda kv: -kv[1]) if v}}
            for key, span in (("slow", slow_ns), ("whole", whole_ns))}


class Tail:
    def __init__(self, args):
        self.args = args
        self.build = os.path.join(bench.ROOT, args.build)
        self.pins = dict(kv.split("=") for kv in args.pin.split(",")) if args.pin else {}

    def pin(self, name, pid):
        cpu = self.pins.get(name)
        if cpu is not None:
            subprocess.run(["taskset", "-a", "-p", "-c", cpu, str(pid)], check=True,
                           capture_output=True)

    def start(self):
        needed = {"redis-server": "redis-server", "webdis": "webdis", "openssl": "openssl"}
        if self.args.sched:
            needed["perf"] = "linux-perf"
        if self.pins:
            needed["taskset"] = "util-linux"
        for tool, package in needed.items():
            if bench.shutil.which(tool) is None:
                bench.die(f"{tool} is missing: install Debian's {package}")
        if not os.path.exists(os.path.join(self.build, "streamshift-load")):
            bench.die(f"{self.build}/streamshift-load is missing: build first")
        workdir = tempfile.mkdtemp(prefix="streamshift-tail-")
        self.svc = svc = bench.Services(self.build, workdir)
        svc.redis()
        self.redis_pid = svc.procs[-1][1].pid
        self.pin("redis", self.redis_pid)
        self.peers = []
        variants = [("streamshift", {}, self.args.binary)]
        if self.args.previous:
            variants.append(("previous", {}, os.path.abspath(self.args.previous)))
        for spec in self.args.variant or []:
            name, rest = spec.split("=", 1)
            variants.append((name, dict(kv.split("=", 1) for kv in rest.split(",")),
                             self.args.binary))
        for name, extra, binary in variants:
            env = {"EVENT_TRANSPORT_USE_REDIS_STREAMS": "true",
                   "EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE": "100"}
            env.update(extra)
            port, proc = svc.sidecar(name, env, binary)
            self.pin("streamshift", proc.pid)
            self.peers.append((name, port, "events", proc, proc.admin_port))
        port, proc = svc.webdis()
        self.pin("webdis", proc.pid)
        self.peers.append(("webdis", port, "webdis", proc, None))

    def run_one(self, name, port, fmt, proc, admin, record):
        a = self.args
        argv = [os.path.join(self.build, "streamshift-load"), "--target", f"127.0.0.1:{port}",
                "--rate", str(a.rate), "--duration-ms", str(a.duration_ms), "--warmup-ms",
                str(a.warmup_ms), "--connections", "50", "--workload", "chat", "--format", fmt,
                "--users", "200", "--record", record]
        if "load" in self.pins:
            argv = ["taskset", "-c", self.pins["load"]] + argv
        perf = None
        if a.sched:
            # Recording from before the first request, so that every
            # measured request falls inside it.
            data = record + ".perf"
            perf = subprocess.Popen(["perf", "sched", "record", "-a", "-k", "CLOCK_MONOTONIC",
                                     "-o", data], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, text=True)
            time.sleep(0.5)
            if perf.poll() is not None:
                bench.die("perf sched record failed (linux-perf installed? tracefs mounted?): "
                          + perf.stderr.read())
        start_ns = time.monotonic_ns()
        load = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(a.warmup_ms / 1000.0)
        # From here to the generator's exit: the measured period.
        xadd_before = histogram(admin, "event_publish_duration_seconds", "redis_streams") \
            if admin else {}
        mid = {"target": schedstat(proc.pid), "redis": schedstat(self.redis_pid)}
        mid_s = time.monotonic()
        steal_before = steal_jiffies()
        out, err = load.communicate(timeout=120)
        after = {"target": schedstat(proc.pid), "redis": schedstat(self.redis_pid)}
        seconds = time.monotonic() - mid_s
        steal_ms_per_s = (steal_jiffies() - steal_before) * 1000.0 / os.sysconf("SC_CLK_TCK") / seconds
        xadd_after = histogram(admin, "event_publish_duration_seconds", "redis_streams") \
            if admin else {}
        if perf:
            perf.send_signal(bench.signal.SIGINT)
            perf.wait()
        if load.returncode != 0:
            bench.die(f"streamshift-load failed: {err}")
        report = json.loads(out)
        if report["completed"] == 0 or report["errors"] or report["non_2xx"]:
            bench.die(f"{name}: failed or unanswered requests, not a number: {out}")
        warmup_until = start_ns + a.warmup_ms * 1000000
        rows = read_outcomes(record, warmup_until)
        acks = sorted(d - u for u, _, d in rows)
        gens = sorted(s - u for u, s, _ in rows)
        resps = sorted(d - s for _, s, d in rows)
        p99 = pct(acks, 99)
        windows, longest = bursts(rows, p99)
        result = {
            "completed": len(rows), "errors": report["errors"], "late": report["late"],
            "ack_p50": pct(acks, 50) / 1e3, "ack_p99": p99 / 1e3, "ack_p999": pct(acks, 99.9) / 1e3,
            "gen_p50": pct(gens, 50) / 1e3, "gen_p99": pct(gens, 99) / 1e3,
            "resp_p50": pct(resps, 50) / 1e3, "resp_p99": pct(resps, 99) / 1e3,
            "slow_windows": windows, "slow_longest_run": longest,
            "ack_share_over_1ms": sum(1 for x in acks if x > 1000000) / max(len(acks), 1),
            "steal_ms_per_s": steal_ms_per_s,
            "target": sched_delta(mid["target"], after["target"], seconds),
            "redis": sched_delta(mid["redis"], after["redis"], seconds),
        }
        if perf:
            names = {str(proc.pid): name, str(self.redis_pid): "redis-server",
                     str(load.pid): "streamshift-load"}
            result["sched"] = attribute(data, rows, p99, names)
            os.unlink(data)
            for key in ("slow", "whole"):
                top = lambda d: ", ".join(f"{w} {v:.2f}" for w, v in list(d.items())[:6])
                print(f"  {name} {key}: CPUs: {top(result['sched'][key]['cpu_share'])}; "
                      f"waiting: {top(result['sched'][key]['waiting_share'])}", flush=True)
        if admin:
            result["xadd_share_over_1ms"] = share_above(xadd_before, xadd_after, "0.001")
        return result

    def run(self):
        self.start()
        results = {name: [] for name, *_ in self.peers}
        try:
            for r in range(self.args.rounds):
                for name, port, fmt, proc, admin in self.peers:
                    record = os.path.join(self.svc.dir, f"{name}-{r}.outcomes")
                    res = self.run_one(name, port, fmt, proc, admin, record)
                    results[name].append(res)
                    print(f"round {r} {name:12} ack p99 {res['ack_p99']:8.0f} "
                          f"gen p99 {res['gen_p99']:7.0f} resp p99 {res['resp_p99']:7.0f} "
                          f"windows {res['slow_windows']:4} run {res['slow_longest_run']:4} "
                          f"wait target {res['target']['wait_ms_per_s']:5.1f} ms/s "
                          f"redis {res['redis']['wait_ms_per_s']:5.1f} ms/s "
                          f"steal {res['steal_ms_per_s']:5.1f} ms/s"
                          + (f" xadd>1ms {res['xadd_share_over_1ms']:.4f} "
                             f"ack>1ms {res['ack_share_over_1ms']:.4f}" if admin else ""),
                          flush=True)
                    os.unlink(record)
        finally:
            self.svc.stop_all()
        print("median over rounds:")
        for name, runs in results.items():
            med = {k: bench.median([x[k] for x in runs])
                   for k in ("ack_p50", "ack_p99", "gen_p99", "resp_p99", "slow_windows",
                             "slow_longest_run")}
            med["target_wait_ms_per_s"] = bench.median([x["target"]["wait_ms_per_s"] for x in runs])
            med["target_cpu_ms_per_s"] = bench.median([x["target"]["cpu_ms_per_s"] for x in runs])
            med["p99_rounds"] = [round(x["ack_p99"]) for x in runs]
            print(f"  {name:12} " + json.dumps(med))
        print(json.dumps(results))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default="build/bin")
    ap.add_argument("--binary", help="the streamshift binary (default: BUILD/streamshift)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--rate", type=int, default=10000)
    ap.add_argument("--duration-ms", type=int, default=5000)
    ap.add_argument("--warmup-ms", type=int, default=1000)
    ap.add_argument("--previous", metavar="BINARY",
                    help="another streamshift binary (the previous commit's) as one more peer")
    ap.add_argument("--variant", action="append")
    ap.add_argument("--pin")
    ap.add_argument("--sched", action="store_true",
                    help="record the scheduler (perf sched, all CPUs) during each run and say "
                    "who had the CPUs while the slowest requests waited")
    Tail(ap.parse_args()).run()


if __name__ == "__main__":
    main()
