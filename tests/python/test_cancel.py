"""Cancelling a local run (issue 10, item 2): Ctrl-C or SIGTERM to the CLI while it writes its
outputs leaves no output file and no staged file, within 1 s; ``pyrustpipe gc`` removes the staged
files a killed run left and nothing else."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

# The budget: a cancelled run is gone within 1 s of the signal.
CANCEL_BUDGET_S = 1.0

SPEC = {
    "spec_version": 1,
    "columns": [
        {"name": "id", "dtype": "int"},
        {"name": "amount", "dtype": "float", "checks": [{"type": "gt", "value": 0}]},
        {"name": "note", "dtype": "str"},
    ],
}


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cancel") / "big.csv"
    pad = "x" * 80
    block = "".join(f"{i},{-1 if i % 10 == 0 else i % 997 + 1},{pad}\n" for i in range(10_000))
    with path.open("w") as f:
        f.write("id,amount,note\n")
        for _ in range(40_000_000 // len(block)):
            f.write(block)
    return path


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_while_writing_outputs_leaves_no_file(
    big_csv: Path, tmp_path: Path, cli_env: dict[str, str], signum: int, code: int
) -> None:
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps(SPEC))
    out = tmp_path / "out"
    out.mkdir()
    # gzip makes pass 2 last long enough for the signal to land while it writes.
    child = subprocess.Popen(
        [sys.executable, "-m", "pyrustpipe", "validate", str(big_csv), "--rules", str(rules)]
        + ["--valid-output", str(out / "valid.csv.gz"), "--quarantine", str(out / "bad.csv.gz")],
        env=cli_env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not any(out.iterdir()) and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert child.poll() is None, "the run ended before it was signalled"
    staged = [p.name for p in out.iterdir()]
    assert staged and all(".pyrustpipe-" in name for name in staged)
    sent = time.monotonic()
    child.send_signal(signum)
    _, stderr = child.communicate(timeout=30)
    elapsed = time.monotonic() - sent
    assert child.returncode == code, stderr
    assert stderr == "pyrustpipe: cancelled: no outputs committed\n"
    print(f"cancel: {elapsed:.3f}s from signal {signum} to exit (CLI, local, writing)")
    assert elapsed < CANCEL_BUDGET_S, f"{elapsed:.2f}s from the signal to exit"
    assert list(out.iterdir()) == []


def test_gc_removes_stale_staged_files_only(tmp_path: Path, cli_env: dict[str, str]) -> None:
    day = 86400
    out = tmp_path / "out"
    (out / "dt=1").mkdir(parents=True)
    stale = out / "dt=1" / ".valid.csv.pyrustpipe-4242.tmp"
    fresh = out / ".valid.csv.pyrustpipe-4243.tmp"
    pending = out / ".bad.csv.pyrustpipe-4244.tmp"
    kept = [out / "dt=1" / "valid.csv", out / ".hidden.tmp", out / "notes.pyrustpipe-x.tmp"]
    for path in [stale, fresh, pending, *kept]:
        path.write_text("x")
    # A publish cut short: its staged file is the next run's to finish, whatever its age.
    journal = out / ".bad.csv.pyrustpipe-publish.json"
    journal.write_text(json.dumps([{"temp": str(pending), "target": str(out / "bad.csv")}]))
    old = time.time() - 2 * day
    for path in [stale, pending, *kept]:
        os.utime(path, (old, old))

    def gc(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pyrustpipe", "gc", str(out), *args],
            env=cli_env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    dry = gc("--older-than", "1d", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.startswith(f"would remove staged {stale}, ")
    assert len(dry.stdout.splitlines()) == 1 and stale.exists()
    done = gc("--older-than", "24h")
    assert done.stdout.startswith(f"removed staged {stale}, ")
    assert not stale.exists()
    assert all(p.exists() for p in [fresh, pending, journal, *kept])
    assert gc().stdout == "nothing to remove\n"
    bad = gc("--older-than", "soon")
    assert bad.returncode == 2 and "not an age" in bad.stderr
