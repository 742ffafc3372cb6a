"""The scenarios: one fault each, the set-up it hits, and what the README
promises about it (checked by accounting.broken_promises). The set-up they
share and the settings changed from the defaults (main.py: sidecar_env,
RELAY_ENV) are described in docs/hardening/chaos.md.

A scenario whose promise is known to be broken names the issue in
`known_issue`: its failure is reported as KNOWN BUG and does not fail the
run (the summary lists it). Remove the mark when the issue is fixed.
"""

import dataclasses
from typing import Callable

from accounting import Promises
from faults import (KillPrimary, KillRedis, KillRelayMidBatch, StopRedis, TargetMisbehaves,
                    Terminate)
from target import HEALTHY, Behaviour


@dataclasses.dataclass(frozen=True)
class Timing:
    rate: int  # events per second
    duration_s: float  # of the load
    fault_at_s: float  # into the load
    hold_s: float  # how long a lasting fault lasts
    settle_s: float  # deadline for every acked event to arrive once the load ended


QUICK = Timing(rate=200, duration_s=14, fault_at_s=3, hold_s=2.5, settle_s=45)
FULL = Timing(rate=500, duration_s=40, fault_at_s=10, hold_s=8, settle_s=120)

SLOW_S = 3.0  # the slow target's answer time, three times the timeouts


@dataclasses.dataclass(frozen=True)
class Scenario:
    name: str
    make_fault: Callable  # (rig, timing) -> Fault
    promises: Promises
    why: str  # the README's promise, in a sentence
    redis_percentage: int = 100
    fallback: bool = True
    relays: int = 1
    sentinel: bool = False  # a primary, a replica and 3 Sentinels (REDIS_URL redis-sentinel://)
    publish_timeout_ms: int = 1000
    baseline: Behaviour = HEALTHY  # the target's behaviour outside the fault
    relay_env: dict = dataclasses.field(default_factory=dict)  # over the shared settings
    sidecar_env: dict = dataclasses.field(default_factory=dict)  # idem
    known_issue: str | None = None

    @property
    def path(self):
        """The normal path whose recovery counts: the relay when every event
        goes to Redis, either path in a mixed rollout."""
        return "relay" if self.redis_percentage == 100 else None


DRAIN_TIMEOUT_S = 15.0  # STREAMSHIFT_DRAIN_TIMEOUT_MS, the default


# Fault factories: (rig, timing) -> Fault.
def kill_redis(rig, t):
    return KillRedis(rig.redis, t.hold_s)


def stop_redis(rig, t):
    return StopRedis(rig.redis, t.hold_s)


def target_503(rig, t):
    return TargetMisbehaves(rig.target, Behaviour(status=503), t.hold_s, "SignalR answers 503")


def redis_fault(name, make_fault, fallback, why):
    """Redis is the fault: XADDs time out fast (200 ms); with fallback on,
    SignalR being healthy, the app never sees a 5xx."""
    return Scenario(name=name, make_fault=make_fault, fallback=fallback, publish_timeout_ms=200,
                    promises=Promises(no_5xx=fallback), why=why)


SCENARIOS = [
    redis_fault(
        "redis-kill-fallback", kill_redis, True,
        "fallback on: an event is stored (AOF, fsync always) or forwarded over HTTP; "
        "no 5xx while SignalR is healthy; duplicates allowed (timed-out XADD + fallback)"),
    redis_fault(
        "redis-kill-no-fallback", kill_redis, False,
        "fallback off: 503 acknowledges nothing; every 202 is in the stream, survives the "
        "restart (AOF, fsync always) and is delivered by the relay"),
    redis_fault(
        "redis-stop", stop_redis, True,
        "fallback on: XADDs time out and fall back to HTTP; the late ones land when Redis "
        "resumes and are delivered too (duplicates allowed, same X-Event-Id)"),
    redis_fault(
        "redis-stop-no-fallback", stop_redis, False,
        "fallback off: timed-out XADDs are answered 503 (nothing acknowledged; such an "
        "event may still land and be delivered); every 202 is delivered"),
    Scenario(
        name="primary-failover",
        make_fault=lambda rig, t: KillPrimary(rig.sentinels),
        sentinel=True,
        fallback=False,
        sidecar_env={"EVENT_TRANSPORT_MIN_REPLICAS": "1"},
        promises=Promises(),
        why="EVENT_TRANSPORT_MIN_REPLICAS=1: a 202 means the replica has the entry too, so it "
            "survives the primary's SIGKILL and the relay delivers it from the new primary; "
            "what could not be replicated is answered 503; sidecar and relay follow Sentinel"),
    Scenario(
        name="relay-kill",
        make_fault=lambda rig, t: KillRelayMidBatch(rig.relays[0]),
        relays=2,
        baseline=Behaviour(delay_s=0.1, via="relay"),  # deliveries in flight, entries held behind
        promises=Promises(no_5xx=True),
        why="at least once: the second relay claims the dead one's pending entries after "
            "STREAMSHIFT_CLAIM_IDLE_MS; duplicates allowed"),
    Scenario(
        name="sidecar-term",
        make_fault=lambda rig, t: Terminate(rig.sidecar, "sidecar", DRAIN_TIMEOUT_S),
        redis_percentage=50,
        baseline=Behaviour(delay_s=0.3, via="http"),
        # 500 events/s, half over HTTP at 0.3 s each: 75 upstream requests at once
        sidecar_env={"STREAMSHIFT_UPSTREAM_POOL_SIZE": "256"},
        promises=Promises(in_flight_answered=True),
        why="requests in flight at SIGTERM are answered (HTTP ones wait 0.3 s on SignalR), "
            "exit 0; nothing acked is lost"),
    Scenario(
        name="relay-term",
        make_fault=lambda rig, t: Terminate(rig.relays[0], "relay", DRAIN_TIMEOUT_S),
        baseline=Behaviour(delay_s=0.05, via="relay"),
        promises=Promises(no_5xx=True, no_duplicates=True),
        why="deliveries in flight finish and are acked, the rest stays pending for the restarted "
            "consumer: nothing lost, nothing delivered twice, exit 0"),
    Scenario(
        name="target-503",
        make_fault=target_503,
        redis_percentage=50,
        promises=Promises(),
        why="HTTP path: the 503 goes back to the app (nothing acked); Redis path: the relay "
            "retries until SignalR is back"),
    Scenario(
        name="target-503-default-retries",
        make_fault=target_503,
        relay_env={"STREAMSHIFT_MAX_DELIVERIES": "5"},
        promises=Promises(no_acked_loss=False, lost_only_to_dlq=True),
        why="with the default 5 attempts (about 1.5 s of retries) an outage this long "
            "dead-letters the entries at the head of each room: every acked event is delivered "
            "or in the dead-letter stream (counted), none is lost silently"),
    Scenario(
        name="target-reset",
        make_fault=lambda rig, t: TargetMisbehaves(rig.target, Behaviour(reset=True), t.hold_s,
                                                   "SignalR resets connections"),
        redis_percentage=50,
        promises=Promises(),
        why="HTTP path: 502 (nothing acked); Redis path: the relay retries"),
    Scenario(
        name="upstream-slow",
        make_fault=lambda rig, t: TargetMisbehaves(
            rig.target, Behaviour(delay_s=SLOW_S), t.hold_s,
            f"SignalR answers after {SLOW_S:g} s (timeouts 1 s)"),
        redis_percentage=50,
        promises=Promises(),
        why="HTTP path: 504 (not acked, though SignalR got it); Redis path: the relay times out "
            "and retries (duplicates allowed)"),
]
