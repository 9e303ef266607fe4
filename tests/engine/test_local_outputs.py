"""Local outputs are one set: a run that cannot write one of them publishes none, and a publish
cut short by a kill is finished by the next run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pyrustpipe as pp
import pytest

SPEC = {
    "spec_version": 1,
    "columns": [
        {"name": "id", "dtype": "int"},
        {"name": "amount", "dtype": "float", "checks": [{"type": "gt", "value": 0}]},
    ],
}


def data(tmp_path: Path) -> Path:
    path = tmp_path / "in.csv"
    path.write_text("id,amount\n1,5\n2,-1\n3,7\n")
    return path


def test_a_failed_metrics_write_publishes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    blocker = tmp_path / "not_a_dir"
    blocker.write_text("a file where the metrics folder should be")
    with pytest.raises(pp.StorageError):
        pp.validate(
            str(data(tmp_path)),
            SPEC,
            valid_output=str(out / "valid.csv"),
            quarantine=str(out / "quarantine.csv"),
            metrics_output=str(blocker / "report.json"),
        )
    # Neither the data outputs nor their temporary files are left behind.
    assert sorted(p.name for p in out.iterdir()) == []


def test_outputs_appear_together(tmp_path: Path) -> None:
    out = tmp_path / "out"
    report = pp.validate(
        str(data(tmp_path)),
        SPEC,
        valid_output=f"{out}/",
        quarantine=f"{out}/",
        metrics_output=f"{out}/",
    )
    assert sorted(p.name for p in out.iterdir()) == ["quarantine.csv", "report.json", "valid.csv"]
    assert json.loads((out / "report.json").read_text())["rows"] == report.rows == 3


def test_a_publish_killed_between_renames_is_finished_by_the_next_run(tmp_path: Path) -> None:
    """The journal of a run killed after its first rename (recreated byte for byte) is rolled
    forward by the next run with the same outputs."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "valid.csv").write_text("id,amount\n1,5\n3,7\n")
    (out / ".quarantine.csv.pyrustpipe-1.tmp").write_text("q")
    (out / ".report.json.pyrustpipe-1.tmp").write_text("{}")
    journal = out / ".valid.csv.pyrustpipe-publish.json"
    journal.write_text(
        json.dumps(
            [
                {
                    "temp": str(out / ".valid.csv.pyrustpipe-1.tmp"),
                    "target": str(out / "valid.csv"),
                },
                {
                    "temp": str(out / ".quarantine.csv.pyrustpipe-1.tmp"),
                    "target": str(out / "quarantine.csv"),
                },
                {
                    "temp": str(out / ".report.json.pyrustpipe-1.tmp"),
                    "target": str(out / "report.json"),
                },
            ]
        )
    )
    pp.validate(
        str(data(tmp_path)),
        SPEC,
        valid_output=str(out / "valid.csv"),
        quarantine=str(out / "quarantine.csv"),
        metrics_output=str(out / "report.json"),
    )
    assert not journal.exists()
    assert sorted(p.name for p in out.iterdir()) == ["quarantine.csv", "report.json", "valid.csv"]
    assert json.loads((out / "report.json").read_text())["rows"] == 3


@pytest.mark.timeout(60)
def test_a_killed_run_leaves_no_partial_set(tmp_path: Path) -> None:
    """kill -9 at random moments of real runs: the folder holds the whole set or none of it
    (temporary files aside), and a re-run always ends with the whole set."""
    big = tmp_path / "big.csv"
    with big.open("w") as f:
        f.write("id,amount\n")
        for i in range(200_000):
            f.write(f"{i},{(i % 13) - 1}\n")
    script = (
        "import sys, pyrustpipe as pp, json;"
        "pp.validate(sys.argv[1], json.loads(sys.argv[2]), valid_output=sys.argv[3] + '/',"
        " quarantine=sys.argv[3] + '/', metrics_output=sys.argv[3] + '/')"
    )
    for attempt, delay in enumerate([0.05, 0.15, 0.3, 0.5, 0.8]):
        out = tmp_path / f"out{attempt}"
        child = subprocess.Popen(
            [sys.executable, "-c", script, str(big), json.dumps(SPEC), str(out)],
            env={**os.environ, "PYRUSTPIPE_NO_PROGRESS": "1"},
        )
        try:
            child.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            child.send_signal(signal.SIGKILL)
            child.wait()
        final = {"valid.csv", "quarantine.csv", "report.json"}
        seen = {p.name for p in out.iterdir()} & final if out.exists() else set()
        journal = out.exists() and any(p.name.endswith("-publish.json") for p in out.iterdir())
        assert seen in (set(), final) or journal, seen
        pp.validate(
            str(big), SPEC, valid_output=f"{out}/", quarantine=f"{out}/", metrics_output=f"{out}/"
        )
        assert {p.name for p in out.iterdir()} & final == final
        assert not any(p.name.endswith("-publish.json") for p in out.iterdir())
