"""The Dagster summary check links to the run's page in the console, ``{console_url}/runs/
{run_id}`` with the run id its ledger entry records: from the resource's ``console_url`` or
``$PYRUSTPIPE_CONSOLE_URL``; no link without a console URL or a ledger."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg
import pyarrow.parquet as pq
import pytest
from dagster_pyrustpipe import SUMMARY_CHECK, PyRustPipeResource, build_pyrustpipe_checks

from tests.ledger.daily import START, Transactions, day, write_day


def summary(tmp_path: Path, resource: PyRustPipeResource, ledger: Path | None) -> Any:
    data = tmp_path / "raw"
    write_day(data, day(0), rows=20)
    days = dg.DailyPartitionsDefinition(start_date=START.isoformat())

    @dg.asset(partitions_def=days)
    def transactions() -> None:
        return None

    checks = build_pyrustpipe_checks(
        asset=transactions,
        schema=Transactions,
        source=f"{data}/dt={{partition_key}}/",
        ledger=None if ledger is None else str(ledger),
    )
    result = dg.materialize(
        [transactions, *checks],
        partition_key=day(0).isoformat(),
        resources={"pyrustpipe": resource},
    )
    found = {e.check_name: e for e in result.get_asset_check_evaluations()}
    return found[SUMMARY_CHECK]


def run_id(ledger: Path) -> str:
    (entry,) = ledger.glob(f"dataset=transactions/date={day(0).isoformat()}/run-*.parquet")
    return str(pq.read_table(entry, columns=["run_id"]).column("run_id")[0])


def test_the_summary_check_links_to_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PYRUSTPIPE_CONSOLE_URL", raising=False)
    ledger = tmp_path / "ledger"
    check = summary(tmp_path, PyRustPipeResource(console_url="http://127.0.0.1:8765/"), ledger)
    link = check.metadata["pyrustpipe_console"]
    assert isinstance(link, dg.UrlMetadataValue)
    assert link.value == f"http://127.0.0.1:8765/runs/{run_id(ledger)}"


def test_the_console_url_may_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYRUSTPIPE_CONSOLE_URL", "http://console.local")
    ledger = tmp_path / "ledger"
    check = summary(tmp_path, PyRustPipeResource(), ledger)
    assert check.metadata["pyrustpipe_console"].value == (
        f"http://console.local/runs/{run_id(ledger)}"
    )


def test_no_link_without_a_console_url_or_a_ledger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PYRUSTPIPE_CONSOLE_URL", raising=False)
    check = summary(tmp_path / "a", PyRustPipeResource(), tmp_path / "a" / "ledger")
    assert "pyrustpipe_console" not in check.metadata
    resource = PyRustPipeResource(console_url="http://127.0.0.1:8765")
    check = summary(tmp_path / "b", resource, None)
    assert "pyrustpipe_console" not in check.metadata
