"""Dagster checks with a ledger: each partition's run appends its entry (the asset's partition
key is the partition, and the logical date) and the history checks report their value and
expected band as numeric metadata, so Dagster plots them per partition."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pyrustpipe as pp
from dagster_pyrustpipe import SUMMARY_CHECK, PyRustPipeResource, build_pyrustpipe_checks

from tests.ledger.daily import START, Transactions, day, rows_for, write_day


class Daily(Transactions):
    class Config:
        dataset = "transactions"
        history = [pp.history.row_count(sigma=6, lookback=7, min_history=2)]


def test_partitioned_checks_write_and_use_the_ledger(tmp_path: Path) -> None:
    data, ledger = tmp_path / "raw", tmp_path / "ledger"
    for index in range(3):
        write_day(data, day(index))
    write_day(data, day(3), rows=rows_for(day(3)) // 2)
    days = dg.DailyPartitionsDefinition(start_date=START.isoformat())

    @dg.asset(partitions_def=days)
    def transactions() -> None:
        return None

    checks = build_pyrustpipe_checks(
        asset=transactions,
        schema=Daily,
        source=f"{data}/dt={{partition_key}}/",
        ledger=str(ledger),
    )
    found: dict[str, Any] = {}
    for index in range(4):
        result = dg.materialize(
            [transactions, *checks],
            partition_key=day(index).isoformat(),
            resources={"pyrustpipe": PyRustPipeResource()},
        )
        found[day(index).isoformat()] = {
            e.check_name: e for e in result.get_asset_check_evaluations()
        }
    statuses = [f["history__row_count"].metadata["status"].value for f in found.values()]
    assert statuses == ["skipped", "skipped", "pass", "fail"]
    last = found[day(3).isoformat()]
    assert not last["history__row_count"].passed and not last[SUMMARY_CHECK].passed
    metadata = last["history__row_count"].metadata
    assert metadata["value"].value == rows_for(day(3)) // 2
    assert metadata["expected_low"].value > metadata["value"].value
    assert "median" in last["history__row_count"].description
    entries = (
        duckdb.connect()
        .execute(
            f"SELECT partition, logical_date, rows FROM read_parquet('{ledger}/**/*.parquet', "
            "hive_partitioning = true) ORDER BY partition"
        )
        .fetchall()
    )
    assert [(p, str(d)) for p, d, _ in entries] == [
        (day(i).isoformat(), day(i).isoformat()) for i in range(4)
    ]
