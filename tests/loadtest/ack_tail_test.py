#!/usr/bin/env python3
"""loadtest/ack_tail.py's arithmetic: reading outcome logs, the bursts of
slow requests, interval overlap, and the parsing of `perf sched timehist`
lines (the real run is in the ack_tail_smoke test)."""

import importlib.util
import os
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "loadtest"))
spec = importlib.util.spec_from_file_location("ack_tail", os.path.join(ROOT, "loadtest",
                                                                       "ack_tail.py"))
ack_tail = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ack_tail)

MS = 1000000


class Outcomes(unittest.TestCase):
    def test_answered_requests_after_the_warm_up_only_sorted_by_due_time(self):
        with tempfile.NamedTemporaryFile("w", delete=False) as f:
            f.write(f"lg-2-{3 * MS} 200 {3 * MS + 5} {4 * MS}\n")
            f.write(f"lg-0-{1 * MS} 200 {1 * MS} {2 * MS}\n")   # warm-up
            f.write(f"lg-1-{2 * MS} 200 {2 * MS + 7} {3 * MS}\n")
            f.write(f"lg-5-{2 * MS} 0 {2 * MS} {9 * MS}\n")     # failed
            f.write(f"lg-3-{2 * MS} 503 {2 * MS} {3 * MS}\n")   # answered, not 2xx
            f.write(f"lg-4-{5 * MS} -1 {5 * MS} {9 * MS}\n")    # unanswered
        rows = ack_tail.read_outcomes(f.name, 2 * MS)
        os.unlink(f.name)
        self.assertEqual(rows, [(2 * MS, 2 * MS + 7, 3 * MS), (3 * MS, 3 * MS + 5, 4 * MS)])


class Bursts(unittest.TestCase):
    def test_one_stall_is_one_run_in_few_windows(self):
        rows = [(i * 100000, i * 100000, i * 100000 + (5 * MS if 10 <= i < 40 else 200000))
                for i in range(100)]
        windows, longest = ack_tail.bursts(rows, MS)
        self.assertEqual(longest, 30)
        self.assertEqual(windows, 3)  # due 1.0 ms .. 3.9 ms

    def test_scattered_slow_requests_are_runs_of_one(self):
        rows = [(i * MS, i * MS, i * MS + (2 * MS if i % 2 else 0)) for i in range(10)]
        self.assertEqual(ack_tail.bursts(rows, MS), (5, 1))


class Overlap(unittest.TestCase):
    def test_merged_intervals_and_their_overlap(self):
        merged = ack_tail.merge([(10, 20), (15, 30), (40, 50)])
        self.assertEqual(merged, [[10, 30], [40, 50]])
        starts = [a for a, _ in merged]
        self.assertEqual(ack_tail.overlap(merged, starts, 0, 100), 30)
        self.assertEqual(ack_tail.overlap(merged, starts, 25, 45), 10)
        self.assertEqual(ack_tail.overlap(merged, starts, 31, 39), 0)


class Timehist(unittest.TestCase):
    def test_threads_processes_and_idle_lines_parse(self):
        lines = {
            "   36175.265793 [0001]  streamshift[8102/8100]              0.010      0.025      "
            "0.050 ": ("streamshift", "8102", "8100", "0.025", "0.050"),
            "   36175.265819 [0000]  redis-server[18]                    0.000      0.007      "
            "0.026 ": ("redis-server", "18", None, "0.007", "0.026"),
            "   36175.265962 [0000]  <idle>                              0.000      0.000      "
            "0.142 ": ("<idle>", None, None, "0.000", "0.142"),
        }
        for line, (name, tid, pid, delay, run) in lines.items():
            m = ack_tail.TIMEHIST.match(line)
            self.assertIsNotNone(m, line)
            self.assertEqual((m.group(3).strip(), m.group(4), m.group(5), m.group(7), m.group(8)),
                             (name, tid, pid, delay, run))


if __name__ == "__main__":
    unittest.main()
