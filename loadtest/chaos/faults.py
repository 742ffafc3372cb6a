"""Faults, one class each, reusable by any scenario (and by later ones:
a cluster reshard is one more class here).

A fault's life, driven by the runner:

    prepare()   wait until the system is where the fault should hit
                (e.g. a relay holding deliveries: "mid-batch")
    inject()    the fault starts; returns its time (monotonic ns)
    (hold_s)    how long the fault lasts, by design (0: instantaneous)
    heal()      the fault ends and whatever was taken down is back up;
                returns that time, "the end of the fault"

Each step returns once its effect is observed (a process gone, a server
answering again), polling with a deadline, never after a fixed sleep.
"""

import signal
import time

from rig import poll_until

EXIT_DEADLINE_S = 30  # generous: the machine is shared


class Fault:
    label = ""
    hold_s = 0.0

    def prepare(self):
        pass

    def inject(self):
        raise NotImplementedError

    def heal(self):
        return time.monotonic_ns()

    def problems(self):
        """What went wrong in the fault's own steps (an exit status, say)."""
        return []

    def left_down(self):
        """Names of the processes the fault leaves stopped for good."""
        return []

    def details(self):
        """What was observed while injecting, for the results file."""
        return {}


class KillRedis(Fault):
    """SIGKILL redis-server; after `hold_s`, start it again on the same port
    and dir (it reloads its AOF)."""

    def __init__(self, node, hold_s):
        self.node = node
        self.hold_s = hold_s
        self.label = f"SIGKILL redis-server, restart after {hold_s:g} s"

    def inject(self):
        now = time.monotonic_ns()
        self.node.proc.signal(signal.SIGKILL)
        self.node.proc.wait(EXIT_DEADLINE_S)
        return now

    def heal(self):
        self.node.start()
        return time.monotonic_ns()


class KillPrimary(Fault):
    """SIGKILL the primary of a Sentinel set (sentinel.SentinelSet); the
    fault ends once Sentinel has promoted the replica and the killed node,
    started again, is in sync as a replica of the new primary (as its pod
    would be), so EVENT_TRANSPORT_MIN_REPLICAS=1 can be met again."""

    label = "SIGKILL the Redis primary, Sentinel promotes the replica, the old one rejoins"

    def __init__(self, sentinels):
        self.sentinels = sentinels
        self._t = None
        self.promoted_s = None
        self.rejoined_s = None

    def inject(self):
        self._t = time.monotonic_ns()
        node = self.sentinels.primary
        node.proc.signal(signal.SIGKILL)
        node.proc.wait(EXIT_DEADLINE_S)
        return self._t

    def heal(self):
        if not self.sentinels.wait_for_promotion(EXIT_DEADLINE_S):
            raise RuntimeError(f"Sentinel promoted no replica within {EXIT_DEADLINE_S} s")
        self.promoted_s = (time.monotonic_ns() - self._t) / 1e9
        self.sentinels.rejoin()
        now = time.monotonic_ns()
        self.rejoined_s = (now - self._t) / 1e9
        return now

    def details(self):
        return {"promoted_s": self.promoted_s, "rejoined_s": self.rejoined_s}


class StopRedis(Fault):
    """SIGSTOP redis-server for `hold_s`, then SIGCONT."""

    def __init__(self, node, hold_s):
        self.node = node
        self.hold_s = hold_s
        self.label = f"SIGSTOP redis-server for {hold_s:g} s"

    def inject(self):
        now = time.monotonic_ns()
        self.node.proc.signal(signal.SIGSTOP)
        return now

    def heal(self):
        now = time.monotonic_ns()
        self.node.proc.signal(signal.SIGCONT)
        if not poll_until(self.node.ping, EXIT_DEADLINE_S):
            raise RuntimeError("redis-server does not answer after SIGCONT")
        return now


class KillRelayMidBatch(Fault):
    """SIGKILL a relay while it holds deliveries in flight; it is not
    restarted: another relay must take its pending entries over."""

    def __init__(self, relay):
        self.relay = relay
        self.label = f"SIGKILL {relay.name} mid-batch, other relay running"
        self.at_kill = None

    def prepare(self):
        # Mid-batch: deliveries in flight and at least three more entries of its read batch
        # held behind them, pending under its name in Redis.
        def mid_batch():
            in_flight = self.relay.metric("streamshift_relay_in_flight") or 0
            held = self.relay.metric("streamshift_relay_held_entries") or 0
            return (in_flight, held) if in_flight >= 1 and held >= in_flight + 3 else None

        self.at_kill = poll_until(mid_batch, EXIT_DEADLINE_S, 0.005)
        if not self.at_kill:
            raise RuntimeError(f"{self.relay.name} never held entries beyond its deliveries")

    def inject(self):
        now = time.monotonic_ns()
        self.relay.proc.signal(signal.SIGKILL)
        self.relay.proc.wait(EXIT_DEADLINE_S)
        return now

    def left_down(self):
        return [self.relay.proc.name]

    def details(self):
        return {"in_flight": self.at_kill[0], "held": self.at_kill[1]} if self.at_kill else {}


class Terminate(Fault):
    """SIGTERM a sidecar or relay under load; once it has exited, start it
    again (same ports, same consumer name) as Kubernetes would. Its exit
    status must be 0 (README: "Shutdown", and the relay's SIGTERM)."""

    def __init__(self, component, name, drain_timeout_s):
        self.component = component
        self.name = name
        self.drain_timeout_s = drain_timeout_s
        self.label = f"SIGTERM {name} under load, then restart"
        self.exit_status = None
        self.exit_s = None
        self._t = None

    def inject(self):
        self._t = time.monotonic_ns()
        self.component.proc.signal(signal.SIGTERM)
        return self._t

    def heal(self):
        self.exit_status = self.component.proc.wait(self.drain_timeout_s + EXIT_DEADLINE_S)
        self.exit_s = (time.monotonic_ns() - self._t) / 1e9
        if self.exit_status is None:
            raise RuntimeError(f"{self.name} still running {self.exit_s:.1f} s after SIGTERM")
        self.component.start()
        return time.monotonic_ns()

    def details(self):
        return {"exit_status": self.exit_status, "exit_s": self.exit_s}

    def problems(self):
        if self.exit_status != 0:
            return [f"{self.name} exited with status {self.exit_status} after SIGTERM"]
        return []


class TargetMisbehaves(Fault):
    """The SignalR stand-in behaves badly (503s, resets, slow answers) for
    `hold_s`, then behaves as before."""

    def __init__(self, target, behaviour, hold_s, label):
        self.target = target
        self.behaviour = behaviour
        self.hold_s = hold_s
        self.label = f"{label} for {hold_s:g} s"
        self._before = None

    def inject(self):
        now = time.monotonic_ns()
        self._before = self.target.set(self.behaviour)
        return now

    def heal(self):
        now = time.monotonic_ns()
        self.target.set(self._before)
        return now
