"""Checks without a source validate the asset's value in memory: pandas, polars and pyarrow
values give the same evaluations as the CLI on the CSV file they were read from."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl
import pyarrow.parquet as pq
import pytest
from dagster_pyrustpipe import SUMMARY_CHECK, PyRustPipeResource, build_pyrustpipe_checks

from tests.dagster.support import CLEAN_DAY, DIRTY_DAY, RULES, assert_matches_cli, load_example
from tests.tables import TEXT_READERS

RESOURCES = {"pyrustpipe": PyRustPipeResource()}


def evaluations(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def test_in_memory_example(
    landing: Path,
    cli_report: Callable[[str], dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = landing / f"{DIRTY_DAY}.csv"
    monkeypatch.setenv("PYRUSTPIPE_EXAMPLE_CSV", str(path))
    module = load_example("transactions_in_memory", {})
    result = dg.materialize(
        [module.transactions_frame, module.transactions_summary, *module.transactions_frame_checks],
        resources=RESOURCES,
    )
    found = evaluations(result)
    assert_matches_cli(found, cli_report(str(path)))
    assert not found[SUMMARY_CHECK].passed
    samples = found["amount__gt"].metadata["samples"].records
    assert {r.data["source"] for r in samples} == {"<in-memory>"}
    # Not blocking: the failed checks leave the downstream asset running.
    assert result.success
    summary = result.output_for_node("transactions_summary")
    assert sum(summary.values()) == 3000


@pytest.mark.parametrize("reader", TEXT_READERS, ids=list(TEXT_READERS))
def test_each_dataframe_kind_matches_the_csv(
    reader: str,
    landing: Path,
    cli_report: Callable[[str], dict[str, Any]],
    tmp_path: Path,
) -> None:
    path = landing / f"{DIRTY_DAY}.csv"

    @dg.asset(name=f"frame_{reader}")
    def frame() -> Any:
        return TEXT_READERS[reader](path)

    checks = build_pyrustpipe_checks(asset=frame, schema=RULES, quarantine=f"{tmp_path}/out/")
    result = dg.materialize([frame, *checks], resources=RESOURCES)
    found = evaluations(result)
    expected = cli_report(str(path))
    assert_matches_cli(found, expected)
    # The quarantine of an in-memory table is Parquet.
    quarantine = found[SUMMARY_CHECK].metadata["quarantine_uri"].value
    assert quarantine.endswith("quarantine.parquet")
    assert pq.read_table(quarantine).num_rows == expected["invalid_rows"]


def test_partitioned_in_memory_checks_load_their_partition(
    landing: Path, cli_report: Callable[[str], dict[str, Any]]
) -> None:
    days = dg.StaticPartitionsDefinition(sorted(p.stem for p in landing.glob("*.csv")))

    @dg.asset(partitions_def=days)
    def daily_frame(context: dg.AssetExecutionContext) -> pl.DataFrame:
        return pl.read_csv(landing / f"{context.partition_key}.csv", infer_schema=False)

    checks = build_pyrustpipe_checks(asset=daily_frame, schema=RULES, blocking=True)
    result = dg.materialize(
        [daily_frame, *checks], resources=RESOURCES, partition_key=DIRTY_DAY, raise_on_error=False
    )
    found = evaluations(result)
    assert_matches_cli(found, cli_report(str(landing / f"{DIRTY_DAY}.csv")))
    assert {e.partition for e in found.values()} == {DIRTY_DAY}


def test_a_value_that_is_not_a_table_fails_clearly() -> None:
    @dg.asset
    def not_a_frame() -> dict[str, int]:
        return {"rows": 1}

    checks = build_pyrustpipe_checks(asset=not_a_frame, schema=RULES)
    result = dg.materialize([not_a_frame, *checks], resources=RESOURCES, raise_on_error=False)
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert [e.step_key for e in failures] == ["not_a_frame_pyrustpipe"]
    assert "not dict" in str(failures[0].event_specific_data.error)


def test_a_failing_warn_rule_does_not_block(landing: Path) -> None:
    frame = pl.read_csv(landing / f"{CLEAN_DAY}.csv", infer_schema=False)
    frame = frame.with_columns(
        pl.when(pl.int_range(pl.len()) < 3)
        .then(pl.col("country").str.to_lowercase())
        .otherwise(pl.col("country"))
        .alias("country")
    )

    @dg.asset
    def clean_but_lowercase() -> pl.DataFrame:
        return frame

    @dg.asset(deps=[clean_but_lowercase])
    def downstream() -> int:
        return 1

    checks = build_pyrustpipe_checks(asset=clean_but_lowercase, schema=RULES, blocking=True)
    result = dg.materialize([clean_but_lowercase, downstream, *checks], resources=RESOURCES)
    found = evaluations(result)
    assert not found["country__pattern"].passed
    assert found["country__pattern"].severity == dg.AssetCheckSeverity.WARN
    assert found["country__pattern"].metadata["failed"].value == 3
    assert found[SUMMARY_CHECK].passed
    assert result.success and result.output_for_node("downstream") == 1
