"""kill -9 at random moments of a CLI run validating S3 → S3, then a run without fault: whatever
the moment, the partition ends committed exactly once (one manifest), with the fault-free run's
counts and byte-identical outputs."""

from __future__ import annotations

import collections
import os
import random
import signal
import subprocess
import time

from tests.chaos.conftest import Reference, counts_of, finish, rounds
from tests.s3.attempts import MANIFEST, STAGING, all_keys
from tests.s3.fault_proxy import FaultProxy


def phase(keys: list[str], prefix: str, expected: list[str]) -> str:
    """Where the killed run had got to, from what it left under ``prefix``."""
    staged = [k for k in keys if STAGING in k]
    final = [k for k in keys if STAGING not in k]
    if not keys:
        return "killed before staging"
    if f"{prefix}clean/{MANIFEST}" not in final:
        return "killed while staging (no manifest)"
    if final != expected:
        return "killed after the manifest, publish unfinished"
    if staged:
        return "killed after publishing, staging keys not all removed"
    return "finished before the kill"


def writes(proxy: FaultProxy) -> int:
    """The uploads, copies and deletes the proxy has passed on since it was last cleared."""
    return proxy.count("PUT") + proxy.count("DELETE") + proxy.count("POST")


def test_kill_9_at_random_moments_then_rerun_commits_exactly_once(
    reference: Reference, chaos_rng: random.Random, fault_proxy: FaultProxy
) -> None:
    runs = rounds(short=8, long=200)
    # The S3 writes of a fault-free run (staging, manifest, publish copies, staging deletes).
    finish(reference.run("kill-writes/", fault_proxy.endpoint_url))
    protocol_points = writes(fault_proxy)
    phases: collections.Counter[str] = collections.Counter()
    left_behind = 0
    started = time.monotonic()
    for index in range(runs):
        prefix = f"kill-{index:04d}/"
        # Every other kill lands anywhere in a fault-free run's time (interpreter start and
        # import included). The others land right after a random one of its S3 writes: few
        # milliseconds of a run, but where a kill can break a commit; the run goes through the
        # fault proxy (no fault armed), which counts its requests.
        if index % 2 == 0:
            point = None
            delay = chaos_rng.uniform(0.0, reference.duration_s)
            child = reference.run(prefix)
            try:
                child.process.wait(timeout=delay)
            except subprocess.TimeoutExpired:
                os.kill(child.process.pid, signal.SIGKILL)
        else:
            delay, point = 0.0, chaos_rng.randint(1, protocol_points)
            fault_proxy.clear()
            child = reference.run(prefix, fault_proxy.endpoint_url)
            while child.process.poll() is None and writes(fault_proxy) < point:
                time.sleep(0.001)
            if child.process.poll() is None:
                os.kill(child.process.pid, signal.SIGKILL)
        child.finish()
        expected = reference.expected_keys(prefix)
        before = all_keys(reference.client, reference.out, prefix)
        where = phase(before, prefix, expected)
        phases[where] += 1
        was_committed = f"{prefix}clean/{MANIFEST}" in before

        [(exit_code, report)] = finish(reference.run(prefix))
        when = f"after {delay:.3f}s" if point is None else f"after S3 write {point}"
        context = f"run {index} ({where}, killed {when})"
        assert exit_code == reference.exit_code, context
        assert counts_of(report) == counts_of(reference.report), context
        assert report["rules"] == reference.report["rules"], context
        assert report["outputs"]["already_committed"] is was_committed, context
        manifest = reference.assert_committed_once(prefix)
        # The committed attempt's staging keys are gone (its publish was finished); a killed
        # attempt that never committed may leave its own (docs/outputs.md: lifecycle rule).
        after = all_keys(reference.client, reference.out, prefix)
        assert not [k for k in after if manifest["attempt"] in k], context
        left_behind += sum(STAGING in k for k in after) > 0
    elapsed = time.monotonic() - started
    print(
        f"kill -9 loop: {runs} runs in {elapsed:.0f}s (fault-free run {reference.duration_s:.2f}s,"
        f" {protocol_points} S3 writes,"
        f" {counts_of(reference.report)} rows/valid/invalid); where the kills landed:"
        f" {dict(sorted(phases.items()))}; runs leaving uncommitted staging keys: {left_behind}"
    )
