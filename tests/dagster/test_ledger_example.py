"""example_dags/dagster/transactions_ledger.py materialized day by day: every day appends its
ledger entry, the row-count history check is skipped until four earlier days are in the ledger,
passes on a normal day and fails (blocking nothing, but failing the summary) on a day half as
long, with its value and band as numeric metadata."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import dagster as dg
import duckdb
from dagster_pyrustpipe import SUMMARY_CHECK

from tests.dagster.support import load_example
from tests.data_gen import make_transactions

DAYS = [f"2026-02-0{n}" for n in range(1, 7)]  # four to build history, a normal day, a short one
ROWS = (400, 420, 410, 430, 415, 200)


def materialize(module: ModuleType, day: str) -> dict[str, Any]:
    result = dg.materialize(
        [module.transactions, *module.transactions_checks],
        resources={"pyrustpipe": module.defs.resources["pyrustpipe"]},
        partition_key=day,
        raise_on_error=False,
    )
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def test_each_day_writes_the_ledger_and_is_judged_against_the_earlier_days(
    tmp_path: Path,
) -> None:
    landing, lake = tmp_path / "landing", tmp_path / "lake"
    for index, (day, rows) in enumerate(zip(DAYS, ROWS, strict=True)):
        make_transactions(landing / f"{day}.csv", rows=rows, seed=40 + index, error_rate=0.0)
    module = load_example(
        "transactions_ledger",
        {"PYRUSTPIPE_EXAMPLE_LANDING": str(landing), "PYRUSTPIPE_EXAMPLE_LAKE": str(lake)},
    )
    found = {day: materialize(module, day) for day in DAYS}

    statuses = [found[d]["history__row_count"].metadata["status"].value for d in DAYS]
    assert statuses == ["skipped"] * 4 + ["pass", "fail"]
    assert [found[d][SUMMARY_CHECK].passed for d in DAYS] == [True] * 5 + [False]
    assert all(found[d]["history__schema_drift"].passed for d in DAYS)
    short = found[DAYS[-1]]["history__row_count"]
    assert not short.passed
    assert short.metadata["value"].value == 200
    # The band comes from the four earlier days' counts (median 415): 200 is far below it.
    assert short.metadata["expected_low"].value > 200
    assert "median 415" in short.description

    # One entry per day under the default ledger root in the lake, readable without pyrustpipe.
    entries = (
        duckdb.connect()
        .execute(
            f"SELECT partition, CAST(logical_date AS VARCHAR), rows, passed FROM read_parquet("
            f"'{lake}/dq-ledger/dataset=Transactions/*/*.parquet', hive_partitioning = true) "
            "ORDER BY partition"
        )
        .fetchall()
    )
    assert entries == [
        (day, day, rows, day != DAYS[-1]) for day, rows in zip(DAYS, ROWS, strict=True)
    ]
