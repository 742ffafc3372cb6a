"""What became of every event of a scenario: the figures of its row and the
checks of its promises. Pure functions over the load generator's outcome
log (`streamshift-load --record`) and the target's deliveries, tested on
their own in test_accounting.py.

Definitions (docs/hardening/chaos.md repeats them):
  acked       the sidecar answered 2xx (202 stored in a stream, or 200/2xx
              from SignalR over HTTP)
  delivered   the target accepted it (answered 2xx) at least once
  acked lost  acked, yet never delivered once the scenario settled
  duplicates  events delivered more than once
  recover     from the end of the fault to the first delivery, over the
              scenario's normal path, of an event sent after the end of the
              fault and acked: the path works again
  drain       from the end of the fault until every event acked before the
              end of the fault was delivered (0 when none was waiting): the
              fault's backlog is gone
"""

import dataclasses

FAILED = 0  # no answer: connect error, reset, the generator's timeout
UNANSWERED = -1  # still waiting when the load ended


@dataclasses.dataclass(frozen=True)
class Outcome:
    event_id: str
    status: int
    sent_ns: int
    done_ns: int

    @property
    def acked(self):
        return 200 <= self.status < 300


def parse_outcomes(lines):
    out = []
    for line in lines:
        fields = line.split()
        if len(fields) != 4:
            raise ValueError(f"bad outcome line: {line!r}")
        out.append(Outcome(fields[0], int(fields[1]), int(fields[2]), int(fields[3])))
    return out


def read_outcomes(path):
    with open(path) as f:
        return parse_outcomes(f)


@dataclasses.dataclass
class Row:
    sent: int
    acked: int
    five_xx: int
    no_answer: int  # failed without an answer (requests still in flight when the load ended are neither)
    delivered: int
    delivered_unacked: int  # delivered although the caller got an error (a 504, a 503 after a late XADD)
    lost: list
    duplicates: int
    extra_copies: int
    recover_s: float | None
    drain_s: float | None


def acked_undelivered(outcomes, deliveries):
    return [o.event_id for o in outcomes if o.acked and o.event_id not in deliveries]


def summarise(outcomes, deliveries, fault_end_ns, path=None):
    """`deliveries`: event id -> [(arrival ns, via)]; `path`: the via that
    counts for recovery ("relay", "http"), None for either."""
    ours = [deliveries[o.event_id] for o in outcomes if o.event_id in deliveries]
    recover = None
    drain_until = fault_end_ns
    drained = True
    for o in outcomes:
        if not o.acked:
            continue
        arrivals = deliveries.get(o.event_id)
        if o.sent_ns >= fault_end_ns:
            for t, via in arrivals or ():
                if path is None or via == path:
                    recover = t if recover is None else min(recover, t)
        elif arrivals:
            drain_until = max(drain_until, min(t for t, _ in arrivals))
        else:
            drained = False
    return Row(
        sent=len(outcomes),
        acked=sum(1 for o in outcomes if o.acked),
        five_xx=sum(1 for o in outcomes if 500 <= o.status < 600),
        no_answer=sum(1 for o in outcomes if o.status == FAILED),
        delivered=len(ours),
        delivered_unacked=sum(1 for o in outcomes if o.event_id in deliveries
                              and not o.acked and o.status != UNANSWERED),
        lost=acked_undelivered(outcomes, deliveries),
        duplicates=sum(1 for a in ours if len(a) > 1),
        extra_copies=sum(len(a) - 1 for a in ours),
        recover_s=None if recover is None else max(0, recover - fault_end_ns) / 1e9,
        drain_s=(drain_until - fault_end_ns) / 1e9 if drained else None,
    )


def dropped_requests(outcomes, deliveries, signal_ns, margin_ns):
    """Requests the sidecar took and never answered around a signal at
    `signal_ns`: those in flight at the signal (sent at least `margin_ns`
    before it, so surely read, and not answered before it) that got no
    answer at all, and those forwarded to SignalR over HTTP (it has them)
    whose caller got no answer."""
    out = []
    for o in outcomes:
        if o.status not in (FAILED, UNANSWERED):
            continue
        in_flight = o.sent_ns <= signal_ns - margin_ns and o.done_ns > signal_ns
        forwarded = o.status == FAILED and any(
            via == "http" for _, via in deliveries.get(o.event_id, ()))
        if in_flight or forwarded:
            out.append(o)
    return out


@dataclasses.dataclass(frozen=True)
class Promises:
    """What the README promises for a scenario, checked on its row."""
    no_acked_loss: bool = True  # every 2xx reaches the target
    no_5xx: bool = False  # the sidecar answers no 5xx (fallback on, SignalR healthy)
    no_duplicates: bool = False  # nothing is delivered twice
    in_flight_answered: bool = False  # requests taken before a SIGTERM are answered
    lost_only_to_dlq: bool = False  # an acked event not delivered is in the dead-letter stream
    recovers: bool = True  # the normal path works again before the load ends (no hang)


def broken_promises(promises, row, dropped=(), dead_lettered=frozenset()):
    """`dropped`: from dropped_requests; `dead_lettered`: the event ids in
    the dead-letter stream."""
    out = []
    if promises.no_acked_loss and row.lost:
        out.append(f"{len(row.lost)} acked events never delivered (e.g. {', '.join(row.lost[:3])})")
    if promises.no_5xx and row.five_xx:
        out.append(f"{row.five_xx} answers 5xx")
    if promises.no_duplicates and row.duplicates:
        out.append(f"{row.duplicates} events delivered more than once")
    if promises.in_flight_answered and dropped:
        ids = ", ".join(o.event_id for o in dropped[:3])
        out.append(f"{len(dropped)} requests taken before the signal got no answer (e.g. {ids})")
    if promises.recovers and row.recover_s is None:
        out.append("never recovered: no event sent after the fault got through (acked and "
                   "delivered over the normal path) before the load ended")
    if promises.lost_only_to_dlq:
        silent = [i for i in row.lost if i not in dead_lettered]
        if silent:
            out.append(f"{len(silent)} acked events neither delivered nor dead-lettered "
                       f"(e.g. {', '.join(silent[:3])})")
    return out
