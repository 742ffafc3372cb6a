"""The chaos runner's accounting on made-up outcomes and deliveries: what
counts as acked, lost, duplicated, recovered and drained, and which
promises a row breaks. Run: python3 -m unittest discover -s loadtest/chaos
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from accounting import (FAILED, UNANSWERED, Outcome, Promises, broken_promises,  # noqa: E402
                        dropped_requests, parse_outcomes, summarise)

MS = 1_000_000


def o(n, status, sent_ms, done_ms=None):
    return Outcome(f"lg-{n}-0", status, sent_ms * MS, (done_ms if done_ms is not None else sent_ms + 1) * MS)


class Summarise(unittest.TestCase):
    def test_counts_acked_5xx_failures_and_deliveries(self):
        outcomes = [o(0, 202, 10), o(1, 200, 20), o(2, 503, 30), o(3, FAILED, 40), o(4, UNANSWERED, 50),
                    o(5, 504, 60)]
        deliveries = {"lg-0-0": [(15 * MS, "relay")], "lg-1-0": [(21 * MS, "http")],
                      "lg-5-0": [(61 * MS, "http")], "lg-4-0": [(51 * MS, "http")],
                      "someone-else": [(1, "http")]}
        row = summarise(outcomes, deliveries, fault_end_ns=0)
        self.assertEqual(row.sent, 6)
        self.assertEqual(row.acked, 2)
        self.assertEqual(row.five_xx, 2)
        self.assertEqual(row.no_answer, 1)  # the unanswered one was still in flight at the end
        self.assertEqual(row.delivered, 4)  # ours only
        self.assertEqual(row.delivered_unacked, 1)  # the 504; the unanswered one does not count
        self.assertEqual(row.lost, [])

    def test_an_acked_event_never_delivered_is_lost_and_a_refused_one_is_not(self):
        outcomes = [o(0, 202, 10), o(1, 503, 20), o(2, 202, 30)]
        row = summarise(outcomes, {"lg-0-0": [(11 * MS, "relay")]}, fault_end_ns=100 * MS)
        self.assertEqual(row.lost, ["lg-2-0"])
        self.assertIsNone(row.drain_s)  # the backlog never drained

    def test_duplicates_count_events_and_extra_copies(self):
        outcomes = [o(0, 202, 10), o(1, 202, 20), o(2, 202, 30)]
        deliveries = {"lg-0-0": [(11 * MS, "relay"), (12 * MS, "http")],
                      "lg-1-0": [(21 * MS, "relay")] * 3,
                      "lg-2-0": [(31 * MS, "relay")]}
        row = summarise(outcomes, deliveries, fault_end_ns=0)
        self.assertEqual(row.duplicates, 2)
        self.assertEqual(row.extra_copies, 3)

    def test_recovery_is_the_first_normal_path_delivery_of_an_event_sent_after_the_fault(self):
        end = 100 * MS
        outcomes = [o(0, 202, 50),  # before the end: counts for drain, not recovery
                    o(1, 200, 110),  # after, but fell back to HTTP: not the normal path
                    o(2, 503, 120),  # not acked
                    o(3, 202, 130), o(4, 202, 140)]
        deliveries = {"lg-0-0": [(160 * MS, "relay")], "lg-1-0": [(111 * MS, "http")],
                      "lg-2-0": [(121 * MS, "relay")], "lg-3-0": [(190 * MS, "relay")],
                      "lg-4-0": [(150 * MS, "relay")]}
        row = summarise(outcomes, deliveries, end, path="relay")
        self.assertAlmostEqual(row.recover_s, 0.050)
        self.assertAlmostEqual(summarise(outcomes, deliveries, end).recover_s, 0.011)
        self.assertAlmostEqual(row.drain_s, 0.060)

    def test_no_recovery_when_nothing_sent_after_the_fault_got_through(self):
        row = summarise([o(0, 503, 110)], {}, 100 * MS, path="relay")
        self.assertIsNone(row.recover_s)
        self.assertEqual(row.drain_s, 0)

    def test_drain_is_zero_when_the_backlog_arrived_before_the_end_of_the_fault(self):
        row = summarise([o(0, 202, 10)], {"lg-0-0": [(20 * MS, "relay"), (500 * MS, "relay")]},
                        100 * MS)
        self.assertEqual(row.drain_s, 0)


class Dropped(unittest.TestCase):
    SIGNAL = 1000 * MS
    MARGIN = 250 * MS

    def test_in_flight_at_the_signal_and_unanswered_is_dropped(self):
        outcomes = [o(0, FAILED, 700, 1100),  # in flight, then reset: dropped
                    o(1, UNANSWERED, 600, 9000),  # in flight until the end: dropped
                    o(2, FAILED, 800, 1100),  # sent 200 ms before: maybe never read
                    o(3, 200, 700, 1200),  # in flight and answered
                    o(4, FAILED, 100, 200),  # failed before the signal: another story
                    o(5, FAILED, 1050, 1060)]  # sent after the signal
        dropped = dropped_requests(outcomes, {}, self.SIGNAL, self.MARGIN)
        self.assertEqual([d.event_id for d in dropped], ["lg-0-0", "lg-1-0"])

    def test_a_request_forwarded_to_signalr_whose_caller_got_no_answer_is_dropped(self):
        outcomes = [o(0, FAILED, 990, 1100), o(1, FAILED, 995, 1100)]
        deliveries = {"lg-0-0": [(992 * MS, "http")], "lg-1-0": [(2000 * MS, "relay")]}
        dropped = dropped_requests(outcomes, deliveries, self.SIGNAL, self.MARGIN)
        self.assertEqual([d.event_id for d in dropped], ["lg-0-0"])


class Promised(unittest.TestCase):
    def row(self, **kw):
        base = summarise([o(0, 202, 10)], {"lg-0-0": [(11 * MS, "relay")]}, 0)
        for k, v in kw.items():
            setattr(base, k, v)
        return base

    def test_a_clean_row_keeps_every_promise(self):
        p = Promises(no_5xx=True, no_duplicates=True, in_flight_answered=True)
        self.assertEqual(broken_promises(p, self.row()), [])

    def test_each_broken_promise_is_named(self):
        p = Promises(no_5xx=True, no_duplicates=True, in_flight_answered=True)
        broken = broken_promises(p, self.row(lost=["lg-7-0"], five_xx=3, duplicates=2),
                                 [o(9, FAILED, 1)])
        self.assertEqual(len(broken), 4, broken)
        self.assertIn("lg-7-0", broken[0])
        self.assertIn("lg-9-0", broken[3])

    def test_an_event_lost_to_the_dead_letter_stream_is_not_silent(self):
        p = Promises(no_acked_loss=False, lost_only_to_dlq=True)
        row = self.row(lost=["lg-1-0", "lg-2-0"])
        self.assertEqual(broken_promises(p, row, dead_lettered={"lg-1-0", "lg-2-0"}), [])
        broken = broken_promises(p, row, dead_lettered={"lg-1-0"})
        self.assertEqual(len(broken), 1)
        self.assertIn("lg-2-0", broken[0])

    def test_a_path_that_never_recovers_is_a_broken_promise(self):
        broken = broken_promises(Promises(), self.row(recover_s=None))
        self.assertEqual(len(broken), 1)
        self.assertIn("never recovered", broken[0])
        self.assertEqual(broken_promises(Promises(recovers=False), self.row(recover_s=None)), [])

    def test_what_a_scenario_does_not_promise_is_not_checked(self):
        self.assertEqual(broken_promises(Promises(), self.row(five_xx=3, duplicates=2),
                                         [o(9, FAILED, 1)]), [])
        self.assertEqual(len(broken_promises(Promises(), self.row(lost=["x"]))), 1)


class Parse(unittest.TestCase):
    def test_reads_the_load_generators_lines(self):
        self.assertEqual(parse_outcomes(["lg-3-1000 202 1500 2500\n", "lg-4-2000 -1 2100 9999"]),
                         [Outcome("lg-3-1000", 202, 1500, 2500), Outcome("lg-4-2000", -1, 2100, 9999)])

    def test_a_malformed_line_is_an_error(self):
        with self.assertRaises(ValueError):
            parse_outcomes(["lg-3-1000 202 1500"])


if __name__ == "__main__":
    unittest.main()
