"""Partitions materialised with Dagster's multiprocess executor on a real instance (sqlite in a
temporary directory): a run per partition, each run's steps in child processes, the regions'
steps side by side; every (region, partition)'s checks equal the CLI's report of its file, and
the blocking checks stop exactly the failing ones' downstream assets.

The runs go one after another: started together from threads of one process, the runs hung
(each spawning its step processes), so that is not what this test claims."""

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from dagster_pyrustpipe import SUMMARY_CHECK

from tests.dagster.support import assert_matches_cli
from tests.data_gen import make_transactions

# As in tests/dagster/multiprocess_defs.py, which is imported in the test: its definitions warn
# (PreviewWarning) when built, which the test's warning filter allows and collection's does not.
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


def test_partitions_in_parallel_with_the_multiprocess_executor(
    landing: Path, tmp_path: Path, cli_report: Callable[[str], dict[str, Any]]
) -> None:
    from tests.dagster import multiprocess_defs

    assert (multiprocess_defs.REGIONS, multiprocess_defs.DAYS) == (REGIONS, DAYS)
    job = dg.reconstructable(multiprocess_defs.regions_job)
    home = tmp_path / "dagster_home"
    home.mkdir()
    with dg.instance_for_test(temp_dir=str(home)) as instance:

        def run(day: str) -> Any:  # a JobExecutionResult
            return dg.execute_job(job, instance, tags={"dagster/partition": day})

        results = {day: run(day) for day in DAYS}

        test_pid = os.getpid()
        for day, result in results.items():
            # Each run's steps ran in child processes of the multiprocess executor.
            starts = [e for e in result.all_events if e.event_type_value == "STEP_START"]
            assert starts and all(e.pid is not None and e.pid != test_pid for e in starts)
            dirty = {region for region in REGIONS if (region, day) in DIRTY}
            assert result.success is (not dirty), day
            found: dict[str, dict[str, Any]] = {}
            for evaluation in result.get_asset_check_evaluations():
                assert evaluation.partition == day
                region = evaluation.asset_key.path[0].removesuffix("_transactions")
                found.setdefault(region, {})[evaluation.check_name] = evaluation
            assert set(found) == set(REGIONS)
            for region in REGIONS:
                expected = cli_report(str(landing / f"{region}-{day}.csv"))
                assert_matches_cli(found[region], expected)
                assert found[region][SUMMARY_CHECK].passed is (region not in dirty)
                # Blocking: a region's downstream asset runs only if its checks passed.
                totals = result.asset_materializations_for_node(f"{region}_totals")
                assert bool(totals) is (region not in dirty), (region, day)
                (landed,) = result.asset_materializations_for_node(f"{region}_transactions")
                assert landed.metadata["pid"].value != test_pid

        # The instance holds every run, one per partition.
        runs = instance.get_runs()
        assert sorted(r.tags["dagster/partition"] for r in runs) == sorted(DAYS)
