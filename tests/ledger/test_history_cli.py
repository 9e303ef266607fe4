"""``pyrustpipe history``: the trend of a dataset's last partitions, read from the ledger."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pyrustpipe._ledger_cli import sparkline
from pyrustpipe.cli import main

from tests.ledger.daily import day, partition, rows_for
from tests.ledger.test_ledger import DAYS, HALF, NEW_COLUMN, STALE


def test_json_lists_every_partition_with_its_failing_rules(
    season: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    _, ledger, reports = season
    code = main(
        ["history", "transactions", "--ledger", str(ledger), "--format", "json", "--last", "100"]
    )
    out = json.loads(capsys.readouterr().out)
    assert code == 1  # the newest partition (the new column) failed
    entries = out["entries"]
    assert [e["partition"] for e in entries] == [partition(day(i)) for i in range(DAYS)]
    assert [e["rows"] for e in entries] == [r.rows for r in reports]
    assert entries[HALF]["failed_rules"] == ["history:row_count"]
    assert entries[STALE]["failed_rules"] == ["history:freshness:timestamp"]
    assert entries[NEW_COLUMN]["failed_rules"] == ["history:schema_drift"]
    assert "history:row_count" in entries[0]["skipped_rules"]
    assert entries[0]["rows"] == rows_for(day(0))


def test_the_table_has_a_sparkline_per_line(
    season: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    _, ledger, _ = season
    code = main(["history", "transactions", "--ledger", str(ledger), "--last", "7"])
    text = capsys.readouterr().out
    assert code == 1
    lines = text.splitlines()
    assert lines[0] == f"transactions: 7 partitions, {day(DAYS - 7)} .. {day(DAYS - 1)}"
    rows_line = next(line for line in lines if line.strip().startswith("rows"))
    assert len(rows_line.split()[1]) == 7
    drift = next(line for line in lines if "history:schema_drift" in line)
    assert "······✗" in drift and "failed 1 of 7" in drift
    assert lines[-1].startswith(f"newest: {partition(day(DAYS - 1))}")


def test_an_unknown_dataset_prints_no_entries(
    season: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    _, ledger, _ = season
    assert main(["history", "nothing", "--ledger", str(ledger)]) == 0
    assert capsys.readouterr().out == "nothing: no entries in the ledger\n"


def test_sparkline() -> None:
    assert sparkline([1, 2, 3, None, 8]) == "▁▂▃·█"
    assert sparkline([5, 5]) == "▅▅"
    assert sparkline([]) == ""
