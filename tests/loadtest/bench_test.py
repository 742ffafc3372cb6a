#!/usr/bin/env python3
"""loadtest/bench.py without running the bench: what the READMEs say about
it is what it does, and the servers it starts write only into its own
directory (a stray webdis.log in the repository was one of them)."""

import contextlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import types
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BENCH = os.path.join(ROOT, "loadtest", "bench.py")
NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
           "eight": 8, "nine": 9, "ten": 10}


def load_bench():
    spec = importlib.util.spec_from_file_location("bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read(relative):
    with open(os.path.join(ROOT, relative)) as f:
        return f.read()


class BenchDocs(unittest.TestCase):
    def test_the_readmes_give_the_rounds_the_bench_runs(self):
        help_text = subprocess.run([sys.executable, BENCH, "--help"], capture_output=True,
                                   text=True, check=True).stdout
        m = re.search(r"--rounds ROUNDS\s+.*?\(default: (\d+)\)", help_text, re.S)
        self.assertIsNotNone(m, help_text)
        rounds = int(m.group(1))
        readme = re.sub(r"\s+", " ", read("README.md"))
        m = re.search(r"It runs (\w+) rounds \(`--rounds`, default (\d+)\)", readme)
        self.assertIsNotNone(m, "README.md: the bench's number of rounds")
        self.assertEqual(NUMBERS.get(m.group(1)), rounds)
        self.assertEqual(int(m.group(2)), rounds)
        self.assertIn(f"`--rounds N` ({rounds})", re.sub(r"\s+", " ", read("loadtest/README.md")))


class BenchPrevious(unittest.TestCase):
    def test_previous_needs_only_and_an_executable(self):
        def run(*args):
            return subprocess.run([sys.executable, BENCH, *args], capture_output=True, text=True)
        r = run("--previous", sys.executable)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("--previous needs --only", r.stderr)
        r = run("--only", "http", "--previous", os.path.join(ROOT, "README.md"))
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("not an executable", r.stderr)


class BenchServers(unittest.TestCase):
    @contextlib.contextmanager
    def scratch_services(self):
        """bench's Services in a fresh bench dir, the test's working directory
        another fresh one; yields (bench, svc, cwd, workdir). Every server is
        stopped and both dirs removed afterwards."""
        bench = load_bench()
        cwd = tempfile.mkdtemp(prefix="bench-test-cwd-")
        workdir = tempfile.mkdtemp(prefix="bench-test-dir-")
        before = os.getcwd()
        os.chdir(cwd)
        svc = bench.Services(os.path.join(ROOT, "build", "bin"), workdir)
        try:
            yield bench, svc, cwd, workdir
        finally:
            svc.stop_all()
            os.chdir(before)
            shutil.rmtree(cwd, ignore_errors=True)
            shutil.rmtree(workdir, ignore_errors=True)

    def test_webdis_and_redis_write_only_into_the_bench_dir(self):
        for tool, package in (("redis-server", "redis-server"), ("webdis", "webdis")):
            self.assertIsNotNone(shutil.which(tool),
                                 f"{tool} is missing: install Debian's {package} "
                                 "(scripts/setup-deps.sh)")
        with self.scratch_services() as (bench, svc, cwd, workdir):
            svc.redis()
            port, _ = svc.webdis()
            # One XADD through it, so it has logged in earnest.
            import urllib.request
            with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/XADD/bench-test/*/k/v", timeout=10) as r:
                self.assertEqual(r.status, 200)
            svc.stop_all()
            self.assertEqual(os.listdir(cwd), [])
            self.assertIn("webdis.log", os.listdir(workdir))
            self.assertIn("webdis-own.log", os.listdir(workdir))

    def test_the_cluster_scenarios_clusters_own_every_slot_and_write_into_the_bench_dir(self):
        with self.scratch_services() as (bench, svc, cwd, workdir):
            for primaries in (1, 3):
                nodes = svc.redis_cluster(primaries)
                self.assertEqual(len(nodes), primaries)
                for port, _ in nodes:
                    info = bench.resp_command(port, "CLUSTER", "INFO")
                    self.assertIn("cluster_state:ok", info)
                    self.assertIn("cluster_slots_assigned:16384", info)
                    self.assertIn(f"cluster_known_nodes:{primaries}", info)
                # A shard stream lands on its slot's owner, and KEYS finds it there.
                owner = [p for p, _ in nodes
                         if "MOVED" not in bench.resp_command(p, "XADD", "events:chat:{s3}",
                                                              "*", "k", "v")]
                self.assertEqual(len(owner), 1)
                self.assertEqual(bench.cluster_keys(owner[0]), ["events:chat:{s3}"])
            svc.stop_all()
            self.assertEqual(os.listdir(cwd), [])
            self.assertEqual(len([f for f in os.listdir(workdir) if f.startswith("nodes-")]), 4)

    def test_reading_the_peers_versions_writes_nothing(self):
        # `webdis --version` did: webdis takes the argument for a config
        # file and, finding none, serves with its defaults, logging to
        # ./webdis.log.
        bench = load_bench()
        cwd = tempfile.mkdtemp(prefix="bench-test-cwd-")
        before = os.getcwd()
        os.chdir(cwd)
        try:
            versions = bench.Bench.versions(types.SimpleNamespace(
                build=os.path.join(ROOT, "build", "bin")))
            self.assertNotEqual(versions["webdis"], "?")
            self.assertEqual(os.listdir(cwd), [])
        finally:
            os.chdir(before)
            shutil.rmtree(cwd, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
