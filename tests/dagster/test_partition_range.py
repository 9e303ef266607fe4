"""A run over a partition range (a single-run backfill, ``BackfillPolicy.single_run()``): the
checks validate every partition of the range on its own and record one evaluation per check and
partition, each equal to the CLI's report on that partition's file."""

# No `from __future__ import annotations`: Dagster reads the asset's parameter annotations.
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl
import pytest
from dagster_aws.s3 import S3Resource
from dagster_pyrustpipe import SUMMARY_CHECK, PyRustPipeResource, build_pyrustpipe_checks

from devtools.local_s3 import S3Client
from tests.dagster.support import RULES, assert_matches_cli, keys
from tests.data_gen import make_transactions

# Dagster 1.13 marks `backfill_policy` as beta and warns on every asset that sets it.
pytestmark = pytest.mark.filterwarnings("ignore::dagster.BetaWarning")

DAYS = ["2025-03-01", "2025-03-02", "2025-03-03", "2025-03-04"]
DIRTY = {"2025-03-02", "2025-03-04"}
LOCAL = {"pyrustpipe": PyRustPipeResource()}
daily = dg.DailyPartitionsDefinition(start_date="2025-03-01", end_date="2025-03-05")


def range_tags(first: str, last: str) -> dict[str, str]:
    """The tags of a single run over ``first``..``last`` (what a single-run backfill launches)."""
    return {
        "dagster/asset_partition_range_start": first,
        "dagster/asset_partition_range_end": last,
    }


def by_partition(result: dg.ExecuteInProcessResult) -> dict[str | None, dict[str, Any]]:
    found: dict[str | None, dict[str, Any]] = {}
    for evaluation in result.get_asset_check_evaluations():
        found.setdefault(evaluation.partition, {})[evaluation.check_name] = evaluation
    return found


@pytest.fixture(scope="module")
def days(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One file per day of DAYS; the DIRTY days fail error rules."""
    folder = tmp_path_factory.mktemp("range-landing")
    for n, day in enumerate(DAYS):
        rate = 0.03 if day in DIRTY else 0.0
        make_transactions(folder / f"{day}.csv", rows=800 + 100 * n, seed=40 + n, error_rate=rate)
    return folder


def test_a_single_run_backfill_over_s3_checks_every_partition(
    days: Path,
    s3_bucket: Callable[[], str],
    s3_client: S3Client,
    s3_resources: dict[str, Any],
    cli_report: Callable[[str], dict[str, Any]],
) -> None:
    bucket = s3_bucket()

    @dg.asset(partitions_def=daily, backfill_policy=dg.BackfillPolicy.single_run())
    def transactions(context: dg.AssetExecutionContext, s3: S3Resource) -> None:
        for day in context.partition_keys:  # the whole range in one step
            key = f"transactions/{day}/part-0.csv"
            s3.get_client().upload_file(str(days / f"{day}.csv"), bucket, key)

    checks = build_pyrustpipe_checks(
        asset=transactions,
        schema=RULES,
        source=f"s3://{bucket}/transactions/{{partition_key}}/*.csv",
        quarantine=f"s3://{bucket}/quarantine/{{partition_key}}/",
        metrics_output=f"s3://{bucket}/reports/{{partition_key}}/report.json",
    )
    result = dg.materialize(
        [transactions, *checks], resources=s3_resources, tags=range_tags(DAYS[0], DAYS[-1])
    )

    assert result.success  # not blocking: the failed checks fail nothing
    found = by_partition(result)
    assert set(found) == set(DAYS)  # each evaluation is its partition's, none is the range's
    for day in DAYS:
        expected = cli_report(f"s3://{bucket}/transactions/{day}/part-0.csv")
        assert_matches_cli(found[day], expected)
        summary = found[day][SUMMARY_CHECK]
        assert summary.passed is (day not in DIRTY)
        assert summary.metadata["partition"].value == day
        assert summary.metadata["report_uri"].value == (f"s3://{bucket}/reports/{day}/report.json")
        # Linked to the partition's materialization, as a one-partition run's evaluation is.
        assert summary.target_materialization_data is not None
        assert summary.target_materialization_data.run_id == result.run_id
    # Each partition's outputs under its own prefix, committed once.
    assert keys(s3_client, bucket, "quarantine/") == [
        f"quarantine/{day}/{name}"
        for day in DAYS
        for name in ("_pyrustpipe_manifest.json", "quarantine.csv")
    ]


def test_a_range_with_a_failing_partition_blocks_downstream(days: Path, tmp_path: Path) -> None:
    lake = tmp_path / "lake"

    @dg.asset(partitions_def=daily, backfill_policy=dg.BackfillPolicy.single_run())
    def landed(context: dg.AssetExecutionContext) -> None:
        for day in context.partition_keys:
            (lake / day).mkdir(parents=True)
            shutil.copy(days / f"{day}.csv", lake / day / "part-0.csv")

    @dg.asset(partitions_def=daily, deps=[landed], backfill_policy=dg.BackfillPolicy.single_run())
    def totals() -> None:
        pass

    checks = build_pyrustpipe_checks(
        asset=landed, schema=RULES, source=f"{lake}/{{partition_key}}/*.csv", blocking=True
    )
    assets = [landed, totals, *checks]

    # The clean days alone: every check passes and the downstream asset runs.
    clean = dg.materialize(assets, resources=LOCAL, tags=range_tags(DAYS[0], DAYS[0]))
    assert clean.success and clean.asset_materializations_for_node("totals")
    shutil.rmtree(lake)

    result = dg.materialize(
        assets, resources=LOCAL, tags=range_tags(DAYS[0], DAYS[-1]), raise_on_error=False
    )
    assert not result.success
    found = by_partition(result)
    assert set(found) == set(DAYS)  # every partition was validated before the step failed
    assert {day for day in DAYS if not found[day][SUMMARY_CHECK].passed} == DIRTY
    assert all(e.blocking for checks_of_day in found.values() for e in checks_of_day.values())
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert [e.step_key for e in failures] == ["landed_pyrustpipe"]
    assert "blocking asset check" in str(failures[0].event_specific_data.error)
    assert not result.asset_materializations_for_node("totals")


class RangeFrames(dg.ConfigurableIOManager):
    """Polars frames as a Parquet file per partition. A run over a range stores and loads a
    mapping of partition key → frame (Dagster's default IO manager refuses a range)."""

    base: str

    def _path(self, key: dg.AssetKey, partition: str) -> Path:
        return Path(self.base, *key.path, f"{partition}.parquet")

    def handle_output(self, context: dg.OutputContext, obj: dict[str, pl.DataFrame]) -> None:
        for partition in context.asset_partition_keys:
            path = self._path(context.asset_key, partition)
            path.parent.mkdir(parents=True, exist_ok=True)
            obj[partition].write_parquet(path)

    def load_input(self, context: dg.InputContext) -> dict[str, pl.DataFrame]:
        return {
            partition: pl.read_parquet(self._path(context.asset_key, partition))
            for partition in context.asset_partition_keys
        }


def test_in_memory_checks_over_a_range_validate_each_partitions_frame(
    days: Path, tmp_path: Path, cli_report: Callable[[str], dict[str, Any]]
) -> None:
    @dg.asset(partitions_def=daily, backfill_policy=dg.BackfillPolicy.single_run())
    def frames(context: dg.AssetExecutionContext) -> dict[str, pl.DataFrame]:
        return {
            day: pl.read_csv(days / f"{day}.csv", infer_schema=False)
            for day in context.partition_keys
        }

    checks = build_pyrustpipe_checks(asset=frames, schema=RULES)
    resources = {**LOCAL, "io_manager": RangeFrames(base=str(tmp_path / "io"))}
    result = dg.materialize(
        [frames, *checks], resources=resources, tags=range_tags(DAYS[1], DAYS[-1])
    )
    found = by_partition(result)
    assert set(found) == set(DAYS[1:])
    for day in DAYS[1:]:
        assert_matches_cli(found[day], cli_report(str(days / f"{day}.csv")))


def test_a_partition_that_cannot_be_read_fails_the_step_after_the_others(
    days: Path, tmp_path: Path
) -> None:
    lake = tmp_path / "lake"

    @dg.asset(partitions_def=daily, backfill_policy=dg.BackfillPolicy.single_run())
    def partly_landed(context: dg.AssetExecutionContext) -> None:
        for day in context.partition_keys[:2]:  # the third day never lands
            (lake / day).mkdir(parents=True)
            shutil.copy(days / f"{day}.csv", lake / day / "part-0.csv")

    checks = build_pyrustpipe_checks(
        asset=partly_landed, schema=RULES, source=f"{lake}/{{partition_key}}/*.csv"
    )
    result = dg.materialize(
        [partly_landed, *checks],
        resources=LOCAL,
        tags=range_tags(DAYS[0], DAYS[2]),
        raise_on_error=False,
    )
    assert not result.success
    # The partitions validated before the failing one keep their evaluations.
    assert set(by_partition(result)) == {DAYS[0], DAYS[1]}
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failure.step_key == "partly_landed_pyrustpipe"
    assert f"{lake}/{DAYS[2]}" in str(failure.event_specific_data.error)
