"""A 10M-row object split 8 ways equals the whole-object run exactly (rows, invalid rows, failures
per rule, the first failing rows and lines of every rule). Slow: runs only with
``PYRUSTPIPE_SPLITS_10M=1`` (``make test-splits-slow``); prints the timings it saw."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pyrustpipe as pp
import pytest

REPO = Path(__file__).resolve().parents[2]
ROWS = int(os.environ.get("PYRUSTPIPE_SPLITS_ROWS", "10000000"))
PARTS = 8
RULES = f"{REPO / 'bench' / 'rules.py'}:Transactions"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("PYRUSTPIPE_SPLITS_10M") != "1",
        reason="the 10M-row split run is slow: PYRUSTPIPE_SPLITS_10M=1 (make test-splits-slow)",
    ),
]


@pytest.fixture(scope="module")
def big_object(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The benchmark's generated transactions (seeded; ~1.5% faulty rows, repeated ids)."""
    given = os.environ.get("PYRUSTPIPE_SPLITS_OBJECT")
    if given:
        return Path(given)
    path = tmp_path_factory.mktemp("big") / "tx.csv"
    subprocess.run(
        [sys.executable, str(REPO / "bench" / "generate.py"), "--rows", str(ROWS)]
        + ["--seed", "7", "--out", str(path)],
        check=True,
    )
    return path


def test_ten_million_rows_in_eight_splits_equal_the_whole_run(
    big_object: Path, tmp_path: Path
) -> None:
    started = time.perf_counter()
    whole = pp.validate(str(big_object), RULES, sample_size=200)
    whole_s = time.perf_counter() - started

    reports, split_s = [], []
    for split in pp.plan_splits(big_object, PARTS):
        started = time.perf_counter()
        reports.append(
            pp.validate(
                str(big_object),
                RULES,
                split=split,
                split_keys=tmp_path / f"keys-{split.index}",
                sample_size=200,
            )
        )
        split_s.append(time.perf_counter() - started)
    started = time.perf_counter()
    gate = pp.gate_splits(reports, sample_size=200)
    gate_s = time.perf_counter() - started

    assert whole.rows == ROWS or os.environ.get("PYRUSTPIPE_SPLITS_OBJECT")
    assert (gate.rows, gate.valid_rows, gate.invalid_rows, gate.passed) == (
        whole.rows,
        whole.valid_rows,
        whole.invalid_rows,
        whole.passed,
    )
    for mine, theirs in zip(gate.rules, whole.rules, strict=True):
        assert (mine.name, mine.failed, mine.passed) == (theirs.name, theirs.failed, theirs.passed)
        assert [(s.row, s.line) for s in mine.samples] == [(s.row, s.line) for s in theirs.samples]
    assert gate.sources[0].failures == whole.sources[0].failures
    cross = gate.to_dict()["cross_split"]["failures"]
    print(
        f"\n{whole.rows} rows, {big_object.stat().st_size} bytes: whole {whole_s:.2f}s "
        f"(threads {whole.threads}); {PARTS} splits one after another "
        f"{sum(split_s):.2f}s, slowest {max(split_s):.2f}s, each "
        f"{', '.join(f'{s:.2f}' for s in split_s)}; gate {gate_s:.2f}s; "
        f"{len(cross)} repeats across splits"
    )
