"""The chaos rig's Sentinel set, its pure parts: the URL the programs get,
the config the Sentinels start from, and the checks on what the nodes
answer (ready, promoted). Run: python3 -m unittest discover -s loadtest/chaos
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from sentinel import (SentinelSettings, info_fields, promoted, sentinel_config,  # noqa: E402
                      sentinel_url, unsettled)

IN_SYNC = "# Replication\r\nrole:slave\r\nmaster_port:7000\r\nmaster_link_status:up\r\n"


def view(primary_port=7000, flags="master", others="2", replicas=((7001, "slave"),)):
    master = {"name": "mymaster", "port": str(primary_port), "flags": flags,
              "num-other-sentinels": others}
    return master, [{"port": str(p), "flags": f} for p, f in replicas]


class Url(unittest.TestCase):
    def test_lists_every_sentinel_then_the_db_and_the_master_name(self):
        self.assertEqual(sentinel_url([26379, 26380, 26381], "mymaster"),
                         "redis-sentinel://127.0.0.1:26379,127.0.0.1:26380,127.0.0.1:26381"
                         "/0#mymaster")
        self.assertEqual(sentinel_url([1], "m", db=3), "redis-sentinel://127.0.0.1:1/3#m")


class Config(unittest.TestCase):
    def test_monitors_the_primary_with_the_fast_failover_settings(self):
        text = sentinel_config(26379, "/tmp/s0", 7000, SentinelSettings())
        lines = text.splitlines()
        self.assertIn("port 26379", lines)
        self.assertIn("dir /tmp/s0", lines)
        self.assertIn("sentinel monitor mymaster 127.0.0.1 7000 2", lines)
        self.assertIn("sentinel down-after-milliseconds mymaster 1000", lines)
        self.assertIn("sentinel failover-timeout mymaster 3000", lines)
        self.assertTrue(text.endswith("\n"))

    def test_follows_the_settings(self):
        text = sentinel_config(1, "/d", 2, SentinelSettings("other", 3, 500, 9000))
        self.assertIn("sentinel monitor other 127.0.0.1 2 3\n", text)
        self.assertIn("sentinel down-after-milliseconds other 500\n", text)
        self.assertIn("sentinel failover-timeout other 9000\n", text)


class Settled(unittest.TestCase):
    def test_info_lines_become_fields_and_headers_are_skipped(self):
        self.assertEqual(info_fields(IN_SYNC), {"role": "slave", "master_port": "7000",
                                                "master_link_status": "up"})

    def test_ready_when_the_replica_is_in_sync_and_every_sentinel_sees_everything(self):
        self.assertIsNone(unsettled(IN_SYNC, [view(), view(), view()], 7000, 7001))

    def test_each_missing_piece_is_named(self):
        cases = [
            (IN_SYNC.replace("up", "down"), [view()] * 3, "replica is not in sync"),
            (IN_SYNC, [view(), view(flags="s_down,master"), view()],
             "Sentinel 1 does not see the primary"),
            (IN_SYNC, [view(primary_port=7001)] * 3, "Sentinel 0 does not see the primary"),
            (IN_SYNC, [view(), view(), view(others="1")], "Sentinel 2 knows 1 other"),
            (IN_SYNC, [view(replicas=())] * 3, "Sentinel 0 does not see the replica"),
            (IN_SYNC, [view(replicas=((7001, "s_down,slave"),))] * 3, "does not see the replica"),
            ("", [view()] * 3, "replica is not in sync"),  # no answer from the replica
            (IN_SYNC, [({}, [])] * 3, "Sentinel 0 does not see the primary"),  # no answer
        ]
        for info, views, why in cases:
            with self.subTest(why=why):
                self.assertIn(why, unsettled(info, views, 7000, 7001) or "")


class Promotion(unittest.TestCase):
    def test_promoted_once_every_sentinel_names_the_replica_and_it_says_master(self):
        self.assertTrue(promoted([7001, 7001, 7001], 7001, "master"))

    def test_not_while_a_sentinel_names_the_old_primary_or_the_replica_is_not_master(self):
        self.assertFalse(promoted([7001, 7000, 7001], 7001, "master"))
        self.assertFalse(promoted([7001, 7001, 7001], 7001, "slave"))
        self.assertFalse(promoted([7001, 7001, 7001], 7001, None))  # no answer
        self.assertFalse(promoted([], 7001, "master"))  # no Sentinel answered


if __name__ == "__main__":
    unittest.main()
