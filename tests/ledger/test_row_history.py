"""The row-level history checks end to end on local files: a month of daily partitions, then a
day with a new currency (exactly its rows quarantined) and a day repeating keys from three days
earlier (exactly those rows quarantined, naming the earlier partition). Re-runs and backfills
newest first keep the verdicts and the ledger."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pyrustpipe as pp
import pytest

from tests.ledger.test_ledger import snapshot

START = dt.date(2026, 3, 2)
NORMAL_DAYS = 30
NEW_CURRENCY, REPEATED_KEYS = NORMAL_DAYS, NORMAL_DAYS + 1
DAYS = REPEATED_KEYS + 1
ROWS = 20
GBP_ROWS = (3, 7, 11)  # rows carrying the new currency on NEW_CURRENCY
REPEATED = (0, 4, 9, 13, 19)  # rows of REPEATED_KEYS carrying keys of three days earlier
NEW_VALUES = "history:new_values:currency"
UNIQUE_ACROSS = "history:unique_across:txn_id"


class Payments(pp.Schema):
    txn_id: str
    currency: str
    amount: float

    class Config:
        dataset = "payments"
        history = [
            pp.history.new_values("currency", lookback=28),
            pp.history.unique_across("txn_id", lookback=7),
        ]


def day(index: int) -> dt.date:
    return START + dt.timedelta(days=index)


def partition(index: int) -> str:
    return f"dt={day(index).isoformat()}"


def txn(index: int, row: int) -> str:
    return f"T{day(index):%Y%m%d}{row:04d}"


def write_day(data: Path, index: int) -> None:
    lines = ["txn_id,currency,amount"]
    for row in range(ROWS):
        key = txn(index - 3, row) if index == REPEATED_KEYS and row in REPEATED else txn(index, row)
        currency = "GBP" if index == NEW_CURRENCY and row in GBP_ROWS else ("EUR", "USD")[row % 2]
        lines.append(f"{key},{currency},{10 + row}.50")
    path = data / partition(index) / "part-0000.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def run(data: Path, ledger: Path, index: int, quarantine: Path | None = None) -> pp.Report:
    return pp.validate(
        str(data / partition(index)),
        Payments,
        ledger=str(ledger),
        partition=partition(index),
        quarantine=None if quarantine is None else str(quarantine),
    )


def verdicts(report: pp.Report) -> dict[str, tuple[str, int]]:
    return {r.name: (r.observed["status"], r.failed) for r in report.rules if r.scope == "history"}


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[pp.Report]]:
    root = tmp_path_factory.mktemp("row_history")
    data, ledger = root / "raw", root / "ledger"
    for index in range(DAYS):
        write_day(data, index)
    reports = [run(data, ledger, index) for index in range(DAYS)]
    return data, ledger, reports


def test_normal_days_stay_green(month: Any) -> None:
    _, _, reports = month
    for index, report in enumerate(reports[:NORMAL_DAYS]):
        assert report.passed, (index, [r.name for r in report.failed_rules()])
        assert (report.rows, report.invalid_rows) == (ROWS, 0)
        assert verdicts(report) == {
            NEW_VALUES: ("pass" if index >= 4 else "skipped", 0),
            UNIQUE_ACROSS: ("pass" if index >= 1 else "skipped", 0),
        }, index
    reason = reports[2].rule(NEW_VALUES).observed["reason"]
    assert reason == "2 earlier partition(s) in the last 28 days keep currency; 4 needed"


def test_a_new_currency_quarantines_exactly_its_rows(month: Any, tmp_path: Path) -> None:
    data, ledger, reports = month
    report = reports[NEW_CURRENCY]
    assert [r.name for r in report.failed_rules()] == [NEW_VALUES]
    rule = report.rule(NEW_VALUES)
    assert (rule.failed, report.invalid_rows, report.valid_rows) == (3, 3, ROWS - 3)
    assert rule.observed["new_values"] == [{"value": "GBP", "rows": 3}]
    assert len(rule.observed["points"]) == 28
    assert [(s.row, s.value) for s in rule.samples] == [(r + 1, "GBP") for r in GBP_ROWS]
    # Each sample names its row's line (the header is line 1).
    assert [s.line for s in rule.samples] == [r + 2 for r in GBP_ROWS]
    assert rule.samples[0].message == "new value: not seen in the last 28 days"
    assert rule.samples[0].column == "currency"
    # The quarantine holds exactly those rows. (Re-run over a copy of the ledger: the entry
    # would record the quarantine, and the module's other tests compare the forward run's.)
    quarantine = tmp_path / "q.csv"
    shutil.copytree(ledger, tmp_path / "ledger")
    again = run(data, tmp_path / "ledger", NEW_CURRENCY, quarantine)
    body = quarantine.read_text().splitlines()[1:]
    assert len(body) == 3 and all(",GBP," in line for line in body)
    assert again.valid_rows + again.invalid_rows == again.rows == ROWS


def test_keys_of_three_days_earlier_are_quarantined_naming_that_partition(month: Any) -> None:
    _, _, reports = month
    report = reports[REPEATED_KEYS]
    assert [r.name for r in report.failed_rules()] == [UNIQUE_ACROSS]
    rule = report.rule(UNIQUE_ACROSS)
    earlier = partition(REPEATED_KEYS - 3)
    assert (rule.failed, report.invalid_rows, report.valid_rows) == (5, 5, ROWS - 5)
    assert rule.observed["earlier_partitions"] == [{"partition": earlier, "rows": 5}]
    assert [(s.row, s.line) for s in rule.samples] == [(r + 1, r + 2) for r in REPEATED]
    assert rule.samples[0].value == txn(REPEATED_KEYS - 3, 0)
    assert rule.samples[0].message == f"key already seen in earlier partition {earlier}"
    # GBP was seen on the day before: not new any more.
    assert report.rule(NEW_VALUES).observed["status"] == "pass"


def test_a_rerun_gives_the_same_verdicts(month: Any) -> None:
    data, ledger, reports = month
    for index in (NORMAL_DAYS - 1, NEW_CURRENCY, REPEATED_KEYS):
        again = run(data, ledger, index)
        assert verdicts(again) == verdicts(reports[index]), index
        assert again.invalid_rows == reports[index].invalid_rows


def test_a_reverse_rerun_and_a_reverse_backfill_keep_the_ledger_and_verdicts(
    month: Any, tmp_path: Path
) -> None:
    data, ledger, reports = month
    forward = snapshot(ledger)
    expected = {index: (verdicts(r), r.invalid_rows) for index, r in enumerate(reports)}

    # Every day again, newest first, over the ledger the forward run wrote.
    rerun = tmp_path / "rerun"
    shutil.copytree(ledger, rerun)
    again = {index: run(data, rerun, index) for index in reversed(range(DAYS))}
    assert {i: (verdicts(r), r.invalid_rows) for i, r in again.items()} == expected
    assert snapshot(rerun) == forward

    # A backfill newest first into an empty ledger: each day's first run finds no earlier
    # date yet, so both checks skip and quarantine nothing; a second pass, newest first again,
    # finds them all and gives the forward run's verdicts, counts and ledger exactly.
    fresh = tmp_path / "fresh"
    first = [run(data, fresh, index) for index in reversed(range(DAYS))]
    assert all(
        verdicts(r) == {NEW_VALUES: ("skipped", 0), UNIQUE_ACROSS: ("skipped", 0)} for r in first
    )
    assert all(r.invalid_rows == 0 for r in first)
    second = {index: run(data, fresh, index) for index in reversed(range(DAYS))}
    assert {i: (verdicts(r), r.invalid_rows) for i, r in second.items()} == expected
    assert snapshot(fresh) == forward


def test_the_entry_keeps_value_sets_and_key_hashes_not_keys(month: Any) -> None:
    _, ledger, _ = month
    rows = (
        duckdb.connect()
        .execute(
            f"SELECT ledger_version, value_sets, len(key_indexes[1].hashes) FROM read_parquet("
            f"'{ledger}/dataset=payments/date={day(NEW_CURRENCY)}/*.parquet')"
        )
        .fetchall()
    )
    assert len(rows) == 1
    version, value_sets, hashes = rows[0]
    assert version == 3
    assert value_sets == [
        {"column": "currency", "values": ["EUR", "GBP", "USD"], "over_cap": False}
    ]
    assert hashes == ROWS
