"""Redis Sentinel for the chaos rig: a primary, one replica and three
Sentinels (`redis-server <conf> --sentinel`), each on free loopback ports
with its own dir, and the steps a failover goes through:

    start()                    the replica in sync, every Sentinel seeing the
                               primary, the replica and the two other Sentinels
    (the primary SIGKILLed)
    wait_for_promotion()       every Sentinel names the replica, whose ROLE
                               says master: `primary` is now that node
    rejoin()                   the killed node started again as a replica of
                               the new primary, in sync (as its pod would)

The settings make failover fast: the primary is down 1 s after its last
answer (down-after-milliseconds 1000), a failed election is retried after
6 s (failover-timeout 3000; the default is minutes). The pure parts (the
URL, the config, the checks on what the nodes answer) are tested in
test_sentinel.py.
"""

import dataclasses
import os

from rig import Redis, RedisError, RedisNode, pairs, poll_until

MASTER_NAME = "mymaster"
SETTLE_DEADLINE_S = 60  # Sentinels find each other through hello messages every 2 s
ROLE_DEADLINE_S = 30


@dataclasses.dataclass(frozen=True)
class SentinelSettings:
    master_name: str = MASTER_NAME
    quorum: int = 2
    down_after_ms: int = 1000
    failover_timeout_ms: int = 3000


def sentinel_url(ports, master_name, db=0):
    """redis-sentinel://127.0.0.1:p1,127.0.0.1:p2,.../db#master_name"""
    hosts = ",".join(f"127.0.0.1:{p}" for p in ports)
    return f"redis-sentinel://{hosts}/{db}#{master_name}"


def sentinel_config(port, workdir, primary_port, s):
    """The file a Sentinel starts from (it rewrites it as it learns)."""
    m = s.master_name
    return (f"port {port}\nbind 127.0.0.1\ndir {workdir}\ndaemonize no\n"
            f"sentinel monitor {m} 127.0.0.1 {primary_port} {s.quorum}\n"
            f"sentinel down-after-milliseconds {m} {s.down_after_ms}\n"
            f"sentinel failover-timeout {m} {s.failover_timeout_ms}\n"
            f"sentinel parallel-syncs {m} 1\n")


def info_fields(text):
    """INFO's "key:value" lines as a dict."""
    out = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and not line.startswith("#"):
            out[key] = value.strip()
    return out


def unsettled(replica_info, views, primary_port, replica_port):
    """Why the set is not ready yet, or None when it is. `replica_info`:
    the replica's INFO replication text; `views`: per Sentinel, (SENTINEL
    MASTER as a dict, SENTINEL REPLICAS as a list of dicts)."""
    if info_fields(replica_info).get("master_link_status") != "up":
        return "the replica is not in sync"
    others = str(len(views) - 1)
    for i, (master, replicas) in enumerate(views):
        if master.get("port") != str(primary_port) or master.get("flags") != "master":
            return f"Sentinel {i} does not see the primary up (flags {master.get('flags')})"
        if master.get("num-other-sentinels") != others:
            return f"Sentinel {i} knows {master.get('num-other-sentinels')} other Sentinels"
        if not any(r.get("port") == str(replica_port) and r.get("flags") == "slave"
                   for r in replicas):
            return f"Sentinel {i} does not see the replica up"
    return None


def promoted(named_ports, candidate_port, candidate_role):
    """Every Sentinel names the candidate and the candidate says master."""
    return bool(named_ports) and all(p == candidate_port for p in named_ports) \
        and candidate_role == "master"


class SentinelNode(RedisNode):
    """redis-server in Sentinel mode; the same start, ping and call."""

    def __init__(self, rig, name, primary_port, settings):
        self.primary_port = primary_port
        self.settings = settings
        super().__init__(rig, name)

    def command(self, extra_args):
        conf = os.path.join(self.dir, "sentinel.conf")
        with open(conf, "w") as f:
            f.write(sentinel_config(self.port, self.dir, self.primary_port, self.settings))
        return ["redis-server", conf, "--sentinel", *extra_args]


class SentinelSet:
    def __init__(self, rig, settings=SentinelSettings()):
        self.settings = settings
        fast_sync = ("--repl-diskless-sync-delay", "0")  # full sync at once, not after 5 s
        a = RedisNode(rig, "redis-a", fast_sync)
        b = RedisNode(rig, "redis-b", fast_sync)
        b.follow(a.port)
        self.nodes = [a, b]
        self.primary_index = 0
        self.sentinels = [SentinelNode(rig, f"sentinel-{i}", a.port, settings) for i in range(3)]

    @property
    def primary(self):
        return self.nodes[self.primary_index]

    @property
    def replica(self):
        return self.nodes[1 - self.primary_index]

    @property
    def url(self):
        return sentinel_url([s.port for s in self.sentinels], self.settings.master_name)

    def _ask(self, node, *args):
        try:
            with Redis(node.port, timeout_s=0.5) as r:
                return r.call(*args)
        except (OSError, RedisError):
            return None

    def _unsettled(self):
        name = self.settings.master_name
        views = [(pairs(self._ask(s, "SENTINEL", "MASTER", name) or []),
                  [pairs(r) for r in self._ask(s, "SENTINEL", "REPLICAS", name) or []])
                 for s in self.sentinels]
        return unsettled(self._ask(self.replica, "INFO", "replication") or "", views,
                         self.primary.port, self.replica.port)

    def start(self):
        for node in self.nodes + self.sentinels:
            node.start()
        if not poll_until(lambda: self._unsettled() is None, SETTLE_DEADLINE_S, 0.1):
            raise RuntimeError(f"the Sentinel set did not settle: {self._unsettled()}")

    def named_ports(self):
        """The primary's port per Sentinel that answers."""
        ports = []
        for s in self.sentinels:
            addr = self._ask(s, "SENTINEL", "get-master-addr-by-name", self.settings.master_name)
            if addr:
                ports.append(int(addr[1]))
        return ports

    def wait_for_promotion(self, timeout_s):
        """True once every Sentinel names the replica and it says master;
        from then on `primary` is that node."""
        candidate = self.replica

        def done():
            role = self._ask(candidate, "ROLE")
            return promoted(self.named_ports(), candidate.port, role[0] if role else None)

        if not poll_until(done, timeout_s, 0.05):
            return False
        self.primary_index = 1 - self.primary_index
        return True

    def rejoin(self):
        """Starts the former primary again as a replica of the new one and
        waits until it is in sync."""
        node = self.replica
        node.follow(self.primary.port)
        node.start()

        def in_sync():
            info = info_fields(self._ask(node, "INFO", "replication") or "")
            return info.get("master_link_status") == "up"

        if not poll_until(in_sync, ROLE_DEADLINE_S, 0.05):
            raise RuntimeError(f"{node.proc.name} did not sync with the new primary")
