"""Partitions materialised in parallel with Dagster's multiprocess executor on a real instance
(sqlite in a temporary directory): a run per partition, each started by ``dagster job execute``
in its own process, all at once, as a run launcher starts run workers; in each run the steps
run in child processes, the regions' side by side. Every (region, partition)'s checks equal the
CLI's report of its file, and the blocking checks stop exactly the failing ones' downstream
assets."""

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from dagster_pyrustpipe import SUMMARY_CHECK

from tests.dagster.support import ROOT, assert_matches_cli
from tests.data_gen import make_transactions

DAGSTER = Path(sys.executable).with_name("dagster")

# As in tests/dagster/multiprocess_defs.py (the test checks it): importing that module builds
# definitions that warn (PreviewWarning), which the test's warning filter allows and
# collection's does not.
REGIONS = ("eu", "us")
DAYS = ("2025-04-01", "2025-04-02", "2025-04-03")

# The (region, day) files that fail error rules; the others pass every error rule.
DIRTY = {("eu", "2025-04-02"), ("us", "2025-04-03")}


@pytest.fixture
def landing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The day files, and the environment the child processes read them from."""
    folder = tmp_path / "landing"
    folder.mkdir()
    for n, region in enumerate(REGIONS):
        for m, day in enumerate(DAYS):
            rate = 0.03 if (region, day) in DIRTY else 0.0
            rows = 300 + 50 * m + 10 * n
            make_transactions(
                folder / f"{region}-{day}.csv", rows, seed=10 * n + m, error_rate=rate
            )
    monkeypatch.setenv("PYRUSTPIPE_MP_LANDING", str(folder))
    monkeypatch.setenv("PYRUSTPIPE_MP_LAKE", str(tmp_path / "lake"))
    yield folder


def events_of(instance: dg.DagsterInstance, run_id: str, kind: str) -> list[Any]:
    return [
        entry.dagster_event
        for entry in instance.all_logs(run_id)
        if entry.dagster_event is not None and entry.dagster_event.event_type_value == kind
    ]


def test_partitions_in_parallel_with_the_multiprocess_executor(
    landing: Path, tmp_path: Path, cli_report: Callable[[str], dict[str, Any]]
) -> None:
    from tests.dagster import multiprocess_defs

    assert (multiprocess_defs.REGIONS, multiprocess_defs.DAYS) == (REGIONS, DAYS)
    home = tmp_path / "dagster_home"
    home.mkdir()
    with dg.instance_for_test(temp_dir=str(home)) as instance:  # sets DAGSTER_HOME
        # Create the storage before the runs start: concurrent first uses race on its schema.
        assert not instance.get_runs()
        command = [str(DAGSTER), "job", "execute", "-m", "tests.dagster.multiprocess_defs"]
        command += ["-a", "defs", "-j", "regions"]
        runs = [
            subprocess.Popen(
                [*command, "--tags", json.dumps({"dagster/partition": day})],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                cwd=ROOT,  # where `tests.dagster.multiprocess_defs` imports from
            )
            for day in DAYS
        ]
        for day, run in zip(DAYS, runs, strict=True):
            _, stderr = run.communicate(timeout=900)
            dirty = any((region, day) in DIRTY for region in REGIONS)
            assert run.returncode == (1 if dirty else 0), stderr[-3000:]

        workers = {day: run.pid for day, run in zip(DAYS, runs, strict=True)}
        by_day = {r.tags["dagster/partition"]: r for r in instance.get_runs()}
        assert sorted(by_day) == sorted(DAYS)  # one run per partition
        for day, record in by_day.items():
            run_id = record.run_id
            # The steps ran in child processes, not in the run's own (`dagster job execute`).
            step_pids = {e.pid for e in events_of(instance, run_id, "STEP_START")}
            assert len(step_pids) >= 2 and workers[day] not in step_pids
            found: dict[str, dict[str, Any]] = {}
            for event in events_of(instance, run_id, "ASSET_CHECK_EVALUATION"):
                evaluation = event.event_specific_data
                assert evaluation.partition == day
                region = evaluation.asset_key.path[0].removesuffix("_transactions")
                found.setdefault(region, {})[evaluation.check_name] = evaluation
            assert set(found) == set(REGIONS)
            materialized = {
                e.event_specific_data.materialization.asset_key.path[0]
                for e in events_of(instance, run_id, "ASSET_MATERIALIZATION")
            }
            for region in REGIONS:
                assert_matches_cli(found[region], cli_report(str(landing / f"{region}-{day}.csv")))
                clean = (region, day) not in DIRTY
                assert found[region][SUMMARY_CHECK].passed is clean
                # Blocking: a region's downstream asset runs only if its checks passed.
                assert f"{region}_transactions" in materialized
                assert (f"{region}_totals" in materialized) is clean, (region, day)
