"""Two processes validating the same partition into the same output prefix at once: exactly one
commits (one manifest), the other reports the partition as already committed with the same
counts and exit code, and the outputs are the fault-free run's."""

from __future__ import annotations

import collections
import random
import time

from tests.chaos.conftest import Reference, counts_of, finish, rounds
from tests.s3.attempts import STAGING, all_keys

# The second process starts up to this long after the first: both are still reading when the
# other starts, so they meet at the commit (a 412 on the manifest, or its read-back).
MAX_OFFSET_S = 0.2


def test_two_racing_attempts_commit_exactly_once(
    reference: Reference, chaos_rng: random.Random
) -> None:
    runs = rounds(short=4, long=50)
    outcomes: collections.Counter[str] = collections.Counter()
    started = time.monotonic()
    for index in range(runs):
        prefix = f"race-{index:04d}/"
        offset = chaos_rng.uniform(0.0, MAX_OFFSET_S)
        first = reference.run(prefix)
        time.sleep(offset)
        second = reference.run(prefix)
        results = finish(first, second)
        context = f"race {index} (second started {offset:.3f}s later)"
        committed = [r["outputs"]["already_committed"] for _, r in results]
        outcomes["first won" if committed == [False, True] else "second won"] += 1
        # Exactly one attempt commits; the loser says so, with the same counts and exit code.
        assert sorted(committed) == [False, True], f"{context}: already_committed {committed}"
        for exit_code, report in results:
            assert exit_code == reference.exit_code, context
            assert counts_of(report) == counts_of(reference.report), context
            assert report["rules"] == reference.report["rules"], context
            assert report["outputs"]["manifest"] == results[0][1]["outputs"]["manifest"]
        manifest = reference.assert_committed_once(prefix)
        # Both attempts ended normally: the winner removed its staging keys after publishing,
        # the loser its own when it found the manifest.
        assert [k for k in all_keys(reference.client, reference.out, prefix) if STAGING in k] == []
        assert manifest["attempt"]
    elapsed = time.monotonic() - started
    print(
        f"race loop: {runs} races in {elapsed:.0f}s (fault-free run {reference.duration_s:.2f}s);"
        f" {dict(sorted(outcomes.items()))}"
    )
