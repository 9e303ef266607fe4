"""The quality ledger and the history checks end to end on local files: five weeks of daily
partitions with weekday seasonality stay green, then a day short by half, a stale day and a day
with a new column each fire exactly their check; re-runs and a reverse backfill leave the same
ledger; DuckDB reads it as a Hive-partitioned Parquet dataset without pyrustpipe."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import duckdb
import pyrustpipe as pp
import pytest
from pyrustpipe.cli import main

from tests.ledger.daily import Transactions, day, partition, rows_for, write_day

NORMAL_DAYS = 35  # five weeks: the weekday row count has four earlier points from day 28 on
HALF, STALE, NEW_COLUMN = NORMAL_DAYS, NORMAL_DAYS + 1, NORMAL_DAYS + 2
DAYS = NORMAL_DAYS + 3
RUN_ONLY = ("run_id", "written_at", "duration_s")


def statuses(report: pp.Report) -> dict[str, str]:
    return {r.name: r.observed["status"] for r in report.rules if r.scope == "history"}


def failing(report: pp.Report) -> list[str]:
    return [r.name for r in report.failed_rules()]


def run(data: Path, ledger: Path, index: int) -> pp.Report:
    date = day(index)
    return pp.validate(
        str(data / partition(date)), Transactions, ledger=str(ledger), partition=partition(date)
    )


def write_season(data: Path) -> None:
    for index in range(NORMAL_DAYS):
        write_day(data, day(index))
    write_day(data, day(HALF), rows=rows_for(day(HALF)) // 100 * 50)
    write_day(data, day(STALE), stale=True)
    write_day(data, day(NEW_COLUMN), new_column=True)


def snapshot(ledger: Path) -> list[tuple[Any, ...]]:
    """Every entry as DuckDB reads it, without what differs between two runs of a partition."""
    query = (
        f"SELECT * EXCLUDE ({', '.join(RUN_ONLY)}) FROM read_parquet("
        f"'{ledger}/**/*.parquet', hive_partitioning = true) ORDER BY partition"
    )
    return duckdb.connect().execute(query).fetchall()


def test_normal_days_stay_green_and_checks_start_with_enough_history(season: Any) -> None:
    _, _, reports = season
    for index, report in enumerate(reports[:NORMAL_DAYS]):
        assert report.passed, (index, failing(report))
        assert report.invalid_rows == 0
        seen = statuses(report)
        assert seen["history:row_count"] == ("pass" if index >= 28 else "skipped"), index
        assert seen["history:null_fraction:agent_id"] == ("pass" if index >= 4 else "skipped")
        assert seen["history:mean:amount"] == ("pass" if index >= 4 else "skipped")
        assert seen["history:freshness:timestamp"] == "pass"
        assert seen["history:schema_drift"] == ("pass" if index >= 1 else "skipped")
    skipped = reports[27].rule("history:row_count")
    assert skipped.observed["reason"] == (
        "3 earlier Sundays in the last 28 days of the ledger; 4 needed"
    )
    assert skipped.passed and skipped.failed == 0


def test_a_day_short_by_half_fires_only_the_row_count(season: Any) -> None:
    _, _, reports = season
    report = reports[HALF]
    assert failing(report) == ["history:row_count"]
    rule = report.rule("history:row_count")
    rows = rows_for(day(HALF)) // 100 * 50
    assert (rule.failed, rule.observed["value"], report.rows) == (1, rows, rows)
    points = rule.observed["history"]
    assert [p["logical_date"] for p in points] == [str(day(HALF - 7 * k)) for k in (4, 3, 2, 1)]
    assert [p["value"] for p in points] == [rows_for(day(HALF - 7 * k)) for k in (4, 3, 2, 1)]
    assert rule.observed["expected"]["low"] > rows
    assert "earlier Mondays" in rule.samples[0].message
    assert report.invalid_rows == 0 and report.valid_rows == rows


def test_a_stale_day_fires_only_freshness(season: Any) -> None:
    _, _, reports = season
    report = reports[STALE]
    assert failing(report) == ["history:freshness:timestamp"]
    rule = report.rule("history:freshness:timestamp")
    # Newest value 11:59:59; the logical date ends at midnight: 12 h 1 s late, 6 h allowed.
    assert rule.observed["value"] == 12 * 3600 + 1
    assert rule.observed["expected"]["high"] == 6 * 3600
    assert rule.observed["newest"].startswith(f"{day(STALE)}T11:59:59")


def test_a_new_column_fires_only_schema_drift(season: Any) -> None:
    _, _, reports = season
    report = reports[NEW_COLUMN]
    assert failing(report) == ["history:schema_drift"]
    rule = report.rule("history:schema_drift")
    assert rule.observed["added"] == ["channel"]
    assert rule.observed["removed"] == [] and rule.observed["retyped"] == []
    assert rule.observed["compared_with"]["partition"] == partition(day(STALE))


def test_duckdb_reads_the_ledger_as_a_hive_partitioned_dataset(season: Any) -> None:
    _, ledger, reports = season
    con = duckdb.connect()
    source = f"read_parquet('{ledger}/**/*.parquet', hive_partitioning = true)"
    entries = con.execute(
        f"SELECT dataset, date, partition, logical_date, rows, invalid_rows, passed, "
        f"ledger_version FROM {source} ORDER BY date"
    ).fetchall()
    assert len(entries) == DAYS
    assert {e[0] for e in entries} == {"transactions"}
    assert [str(e[1]) for e in entries] == [str(day(i)) for i in range(DAYS)]
    assert all(str(e[3]) == str(e[1]) and e[2] == partition(e[3]) for e in entries)
    assert [e[4] for e in entries] == [r.rows for r in reports]
    assert [e[6] for e in entries] == [r.passed for r in reports]
    assert {e[7] for e in entries} == {3}
    failed = con.execute(
        f"SELECT date, r.name, r.status, r.observed FROM {source}, "
        f"unnest(rules) AS t(r) WHERE r.status = 'fail' ORDER BY date"
    ).fetchall()
    assert [(str(d), n) for d, n, _, _ in failed] == [
        (str(day(HALF)), "history:row_count"),
        (str(day(STALE)), "history:freshness:timestamp"),
        (str(day(NEW_COLUMN)), "history:schema_drift"),
    ]
    profile = con.execute(
        f"SELECT p.rows, p.nulls, p.mean, p.min, p.max, p.max_text FROM {source}, "
        f"unnest(profiles) AS t(p) WHERE date = '{day(0)}' AND p.column = 'amount'"
    ).fetchall()
    rows, nulls, mean, low, high, _ = profile[0]
    assert (rows, nulls) == (rows_for(day(0)), 0)
    assert mean == pytest.approx(100.0) and 50 < low < high < 150
    newest = con.execute(
        f"SELECT p.max_text, p.nulls FROM {source}, unnest(profiles) AS t(p) "
        f"WHERE date = '{day(0)}' AND p.column IN ('timestamp', 'agent_id') ORDER BY p.column"
    ).fetchall()
    assert newest == [(None, rows_for(day(0)) // 50), (f"{day(0)}T23:49:59Z", 0)]
    inputs = con.execute(
        f"SELECT i.uri, i.size, i.last_modified IS NOT NULL FROM {source}, "
        f"unnest(inputs) AS t(i) WHERE date = '{day(0)}'"
    ).fetchall()
    assert len(inputs) == 1 and inputs[0][0].endswith("part-0000.csv") and inputs[0][2]


def test_reruns_and_a_reverse_backfill_leave_the_same_ledger(season: Any, tmp_path: Path) -> None:
    data, ledger, reports = season
    copy = tmp_path / "ledger"
    shutil.copytree(ledger, copy)
    before = snapshot(copy)
    # A re-run of one partition replaces its entry: still one entry per partition.
    again = run(data, copy, HALF)
    assert statuses(again) == statuses(reports[HALF])
    assert snapshot(copy) == before
    # A backfill of everything, newest first: each verdict only reads earlier dates.
    verdicts = {index: statuses(run(data, copy, index)) for index in reversed(range(DAYS))}
    assert verdicts == {index: statuses(r) for index, r in enumerate(reports)}
    assert snapshot(copy) == before
    assert len(list(copy.rglob("*.parquet"))) == DAYS
    assert not [p for p in copy.rglob("*") if p.name.startswith(".")]


def test_a_rerun_with_new_data_replaces_the_entry(season: Any, tmp_path: Path) -> None:
    data, ledger, _ = season
    copy = tmp_path / "ledger"
    shutil.copytree(ledger, copy)
    fixed = tmp_path / "raw"
    write_day(fixed, day(HALF))  # the full day arrived
    report = pp.validate(
        str(fixed / partition(day(HALF))),
        Transactions,
        ledger=str(copy),
        partition=partition(day(HALF)),
    )
    assert report.passed and statuses(report)["history:row_count"] == "pass"
    rows = (
        duckdb.connect()
        .execute(
            f"SELECT rows FROM read_parquet('{copy}/**/*.parquet', hive_partitioning = true) "
            f"WHERE partition = '{partition(day(HALF))}'"
        )
        .fetchall()
    )
    assert rows == [(rows_for(day(HALF)),)]


def test_history_checks_without_a_ledger_are_skipped(season: Any) -> None:
    data, _, _ = season
    report = pp.validate(str(data / partition(day(0))), Transactions)
    assert report.passed
    assert set(statuses(report).values()) == {"skipped"}
    assert "no ledger given" in report.rule("history:row_count").observed["reason"]
    assert report.to_dict()["outputs"].get("ledger") is None


def test_ledger_options_are_checked(season: Any, tmp_path: Path) -> None:
    data, _, _ = season
    source = str(data / partition(day(0)))
    with pytest.raises(pp.PyRustPipeError, match="no dt= or date= segment"):
        pp.validate(source, Transactions, ledger=str(tmp_path), partition="region=eu")
    with pytest.raises(ValueError, match="need ledger="):
        pp.validate(source, Transactions, partition="dt=2026-01-05")
    report = pp.validate(
        source, Transactions, ledger=str(tmp_path), partition="region=eu", logical_date=day(0)
    )
    assert report.to_dict()["outputs"]["ledger"].startswith(
        f"{tmp_path}/dataset=transactions/date={day(0)}/run-"
    )


def test_the_cli_writes_the_ledger_and_fails_on_a_history_check(
    season: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, ledger, _ = season
    copy = tmp_path / "ledger"
    shutil.copytree(ledger, copy)
    rules = f"{Path(__file__).with_name('daily.py')}:Transactions"
    args = ["validate", "--rules", rules, "--ledger", str(copy), "--format", "json"]
    code = main([*args, str(data / partition(day(HALF))), "--partition", partition(day(HALF))])
    assert code == 1
    assert '"history:row_count"' in capsys.readouterr().out
    code = main([*args, str(data / partition(day(30))), "--logical-date", str(day(30))])
    assert code == 0
    assert (copy / "dataset=transactions" / f"date={day(30)}").is_dir()
    assert len(list((copy / "dataset=transactions" / f"date={day(30)}").glob("*.parquet"))) == 2
