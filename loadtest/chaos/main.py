#!/usr/bin/env python3
"""The chaos runner (scripts/chaos.sh calls it): each scenario starts the
real binaries against a real redis-server on free loopback ports, drives
them with streamshift-load, injects one fault, lets the system settle and
reports what became of every event. Exits 1 when a scenario broke one of
its promises (docs/hardening/chaos.md).

--quick runs every scenario briefly (the CI step); without it each load is
longer and the table is written into docs/hardening/chaos.md.
"""

import argparse
import dataclasses
import datetime
import json
import os
import platform
import shutil
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # loadtest/

import accounting  # noqa: E402
from bench import cpu_model, first_line  # noqa: E402
from rig import Load, Redis, RedisError, RedisNode, Relay, Rig, Sidecar, pairs, poll_until
from scenarios import FULL, QUICK, SCENARIOS
from sentinel import SentinelSet
from target import Target

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOC = os.path.join(ROOT, "docs", "hardening", "chaos.md")
TABLE_BEGIN = "<!-- chaos-table:begin (written by scripts/chaos.sh) -->"
TABLE_END = "<!-- chaos-table:end -->"

STREAMS = ("events:chat", "events:ticket", "events:notification", "events:remote")
CONNECTIONS = 200  # the generator's keep-alive connections
IN_FLIGHT_MARGIN_NS = 250_000_000  # sent this long before a SIGTERM: surely read by then

RELAY_ENV = {
    "STREAMSHIFT_CLAIM_IDLE_MS": "3000",
    "STREAMSHIFT_MAX_DELIVERIES": "1000",
    "STREAMSHIFT_RELAY_TIMEOUT_MS": "1000",
}


def sidecar_env(sc, redis_url):
    return {
        "REDIS_URL": redis_url,
        "EVENT_TRANSPORT_USE_REDIS_STREAMS": "true",
        "EVENT_TRANSPORT_REDIS_STREAMS_PERCENTAGE": str(sc.redis_percentage),
        "EVENT_TRANSPORT_FALLBACK_TO_HTTP": "true" if sc.fallback else "false",
        "EVENT_TRANSPORT_PUBLISH_TIMEOUT_MS": str(sc.publish_timeout_ms),
        "EVENT_TRANSPORT_STREAM_MAX_LEN": "100000",
        "EVENT_COALESCING_ENABLED": "false",
        "STREAMSHIFT_UPSTREAM_TIMEOUT_MS": "1000",
    } | sc.sidecar_env


def streams_drained(redis):
    """Every group has read each stream to its end and acked everything."""
    try:
        with Redis(redis.port) as r:
            for stream in STREAMS:
                try:
                    info = pairs(r.call("XINFO", "STREAM", stream))
                except RedisError:
                    continue  # no such stream
                for group in r.call("XINFO", "GROUPS", stream):
                    g = pairs(group)
                    if g["pending"] != 0 or g["last-delivered-id"] != info["last-generated-id"]:
                        return False
        return True
    except (OSError, RedisError):
        return False


def dead_lettered(redis):
    """The event ids in the dead-letter stream."""
    try:
        entries = redis.call("XRANGE", "events:dlq", "-", "+")
    except (OSError, RedisError):
        return set()
    return {pairs(fields).get("event_id") for _, fields in entries}


def start_rig(sc, rig):
    rig.target = Target(sc.baseline)
    rig.target.start()
    if sc.sentinel:
        rig.sentinels = SentinelSet(rig)
        rig.sentinels.start()
    else:
        rig.redis = RedisNode(rig)
        rig.redis.start()
    for i in range(sc.relays):
        relay = Relay(rig, f"relay-{'abcdefgh'[i]}", rig.redis_url, rig.target.port,
                      RELAY_ENV | sc.relay_env)
        rig.relays.append(relay)
        relay.start()
    rig.sidecar = Sidecar(rig, rig.target.port, sidecar_env(sc, rig.redis_url))
    rig.sidecar.start()


def run_scenario(sc, timing, build, keep):
    workdir = tempfile.mkdtemp(prefix=f"streamshift-chaos-{sc.name}-")
    rig = Rig(build, workdir)
    result = {"name": sc.name, "why": sc.why, "known_issue": sc.known_issue, "dir": workdir,
              "fault": "", "row": None}
    problems = []
    began = time.monotonic()
    try:
        start_rig(sc, rig)
        fault = sc.make_fault(rig, timing)
        result["fault"] = fault.label
        load = Load(rig, rig.sidecar.port, timing.rate, timing.duration_s, CONNECTIONS)
        load.start()
        t0 = time.monotonic()
        # The fault hits a system under load: at its time, once events flow.
        if not poll_until(lambda: time.monotonic() - t0 >= timing.fault_at_s
                          and rig.target.delivered_count() >= 20, timing.fault_at_s + 60, 0.05):
            raise RuntimeError("no event reached the target before the fault was due")
        fault.prepare()
        t_start = fault.inject()
        time.sleep(fault.hold_s)  # the fault's length, by design (not a wait for an event)
        t_end = fault.heal()
        result["fault_s"] = (t_end - t_start) / 1e9
        result["fault_details"] = fault.details()
        result["load"] = {k: v for k, v in load.wait(timing.duration_s + 120).items()
                          if k in ("sent", "ok", "non_2xx", "errors", "late", "latency_us")}

        outcomes = accounting.read_outcomes(load.record)
        acked = [o.event_id for o in outcomes if o.acked]
        settle_began = time.monotonic()
        # Settled: every acked event delivered (or dead-lettered: counted,
        # not silent) and the relays have nothing left to deliver.
        settled = poll_until(
            lambda: set(rig.target.missing(acked)) <= dead_lettered(rig.redis)
            and streams_drained(rig.redis), timing.settle_s, 0.2)
        result["settle_s"] = time.monotonic() - settle_began

        deliveries = rig.target.deliveries()
        with open(os.path.join(workdir, "deliveries.txt"), "w") as f:
            f.write(f"# fault {t_start} {t_end}\n")
            for event_id, arrivals in deliveries.items():
                f.writelines(f"{event_id} {t} {via}\n" for t, via in arrivals)
        row = accounting.summarise(outcomes, deliveries, t_end, sc.path)
        dropped = []
        if sc.promises.in_flight_answered:
            dropped = accounting.dropped_requests(outcomes, deliveries, t_start,
                                                  IN_FLIGHT_MARGIN_NS)
        dlq = dead_lettered(rig.redis)
        problems += accounting.broken_promises(sc.promises, row, dropped, dlq)
        problems += fault.problems()
        if not settled:
            problems.append(f"not settled {timing.settle_s:g} s after the load: acked events "
                            "missing or entries left in the streams")
        down = set(fault.left_down()) | {"load"}
        for proc in rig.procs:
            if proc.name not in down and not proc.running():
                problems.append(f"{proc.name} died (status {proc.popen.returncode})")
        result["dlq"] = len(dlq)
        result["target"] = rig.target.counts()
        result["row"] = dataclasses.asdict(row) | {"lost": row.lost[:20], "lost_count": len(row.lost)}
    except (RuntimeError, OSError, ValueError, RedisError) as e:
        problems.append(f"scenario error: {e}")
    except KeyboardInterrupt:
        rig.stop_all(graceful=False)
        raise
    finally:
        for name, status in rig.stop_all().items():
            if status != 0:
                problems.append(f"{name} exited with status {status} when stopped at the end")
    result["seconds"] = time.monotonic() - began
    result["problems"] = problems
    if problems:
        result["logs"] = {p.name: p.log_tail() for p in rig.procs if p.name != "load"}
    if not problems and not keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return result


def verdict(r):
    if not r["problems"]:
        return "ok"
    if r["known_issue"]:
        return f"KNOWN BUG ({r['known_issue']})"
    return "**FAIL**"


def seconds(v):
    return "never" if v is None else f"{v:.2f}"


def render_table(results):
    lines = ["| Scenario | Fault | Sent | Acked (2xx) | 5xx | No answer | Delivered | Acked lost "
             "| Duplicates | Dead-lettered | Recover s | Drain s | Result |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        row = r["row"]
        if row is None:
            lines.append(f"| {r['name']} | {r['fault']} |" + " |" * 10 + f" {verdict(r)} |")
            continue
        lines.append(
            f"| {r['name']} | {r['fault']} | {row['sent']} | {row['acked']} | {row['five_xx']} | "
            f"{row['no_answer']} | {row['delivered']} | {row['lost_count']} | "
            f"{row['duplicates']} | {r['dlq']} | {seconds(row['recover_s'])} | "
            f"{seconds(row['drain_s'])} | {verdict(r)} |")
    return "\n".join(lines)


def machine():
    return f"{os.cpu_count()} cores ({cpu_model()}), kernel {platform.release()}, " \
           f"load average {os.getloadavg()[0]:.1f} at the start"


def write_doc(table, meta):
    with open(DOC) as f:
        text = f.read()
    if TABLE_BEGIN not in text or TABLE_END not in text:
        sys.exit(f"chaos: {DOC} lacks the table markers")
    head, rest = text.split(TABLE_BEGIN, 1)
    _, tail = rest.split(TABLE_END, 1)
    block = f"{TABLE_BEGIN}\n{meta}\n\n{table}\n{TABLE_END}"
    with open(DOC, "w") as f:
        f.write(head + block + tail)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="short loads (the CI step)")
    ap.add_argument("--only", help="comma-separated scenario names")
    ap.add_argument("--build", default=os.path.join(ROOT, "build", "bin"), help="the binaries")
    ap.add_argument("--keep", action="store_true", help="keep every scenario's temp dir and logs")
    ap.add_argument("--json", help="write the results there")
    ap.add_argument("--no-doc", action="store_true", help="full run: do not write the doc")
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)  # the processes run in their temp dirs

    for tool, package in (("redis-server", "redis-server"), ("setpriv", "util-linux")):
        if shutil.which(tool) is None:
            sys.exit(f"chaos: {tool} is missing: install Debian's {package} (scripts/setup-deps.sh)")
    for binary in ("streamshift", "streamshift-load"):
        if not os.access(os.path.join(args.build, binary), os.X_OK):
            sys.exit(f"chaos: {args.build}/{binary} is missing: build it (scripts/chaos.sh does)")
    scenarios = SCENARIOS
    if args.only:
        names = args.only.split(",")
        unknown = set(names) - {s.name for s in SCENARIOS}
        if unknown:
            sys.exit(f"chaos: unknown scenario(s) {', '.join(sorted(unknown))}; known: "
                     + ", ".join(s.name for s in SCENARIOS))
        scenarios = [s for s in SCENARIOS if s.name in names]

    def on_term(*_):
        raise KeyboardInterrupt  # unwinds through every finally: the processes are stopped
    signal.signal(signal.SIGTERM, on_term)

    timing = QUICK if args.quick else FULL
    meta = (f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}, "
            f"{'--quick' if args.quick else 'full run'}: {timing.rate} events/s for "
            f"{timing.duration_s:g} s per scenario, fault at {timing.fault_at_s:g} s, lasting "
            f"faults {timing.hold_s:g} s; {machine()}; "
            f"{first_line([os.path.join(args.build, 'streamshift'), '--version'])}, "
            f"{first_line(['redis-server', '--version'])}.")
    began = time.monotonic()
    results = []
    for sc in scenarios:
        print(f"chaos: {sc.name} ...", flush=True)
        try:
            r = run_scenario(sc, timing, args.build, args.keep)
        except KeyboardInterrupt:
            print("chaos: interrupted; every process it started is stopped", flush=True)
            return 130
        results.append(r)
        print(f"chaos: {sc.name}: {verdict(r)} in {r['seconds']:.1f} s", flush=True)
        for p in r["problems"]:
            print(f"chaos:   {p}", flush=True)
        if r["problems"]:
            print(f"chaos:   logs in {r['dir']}", flush=True)
            for name, tail in r.get("logs", {}).items():
                print(f"chaos:   --- {name} (last lines)\n{tail}", flush=True)
    runtime = time.monotonic() - began
    table = render_table(results)
    print(f"\n{meta}\n\n{table}\n\nchaos: {len(results)} scenarios in {runtime:.0f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "runtime_s": runtime, "results": results}, f, indent=1)
    if not args.quick and not args.only and not args.no_doc:
        write_doc(table, meta)
        print(f"chaos: wrote the table into {DOC}")
    known = [r for r in results if r["problems"] and r["known_issue"]]
    for r in known:
        print(f"chaos: KNOWN BUG still present in {r['name']}: {r['known_issue']}")
    failed = [r["name"] for r in results if r["problems"] and not r["known_issue"]]
    if failed:
        print(f"chaos: FAILED: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
