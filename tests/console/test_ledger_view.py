"""The ledger as the console reads it (pyrustpipe/console/ledger_view.py), on a ledger the
engine wrote: datasets, entries oldest first, the newest-N read, health and attention order,
schema changes, run lookup, a re-run replacing its entry."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from pyrustpipe.console.ledger_view import LedgerView, dataset_detail

from devtools.console_ledger import write_partition
from tests.console.conftest import World


def test_datasets_entries_and_health(world: World) -> None:
    view = LedgerView(world.ledger)
    assert view.datasets() == ["ledger_b", "payments"]
    entries = view.entries("payments")
    assert [e["logical_date"] for e in entries] == [f"2026-01-0{d}" for d in range(1, 9)]
    assert [e["logical_date"] for e in view.entries("payments", 3)] == [
        "2026-01-06",
        "2026-01-07",
        "2026-01-08",
    ]
    assert view.entries("../etc") == [] and view.entries("nope") == []
    [first, second] = view.overview(30)
    assert first["dataset"] == "payments" and first["attention"] > second["attention"]
    assert second["passed"] and second["failing_rules"] == []


def test_detail_and_run_lookup(world: World) -> None:
    view = LedgerView(world.ledger)
    detail = dataset_detail(view, "payments")
    assert detail is not None and dataset_detail(view, "nope") is None
    assert detail["schema_changes"][0]["added"] == ["channel"]
    run = detail["runs"][4]
    assert view.find_run(run["run_id"])["partition"] == run["partition"]  # type: ignore[index]
    assert view.find_run("../../x") is None and view.find_run("unknown") is None


def test_a_rerun_replaces_its_entry_and_the_cache_follows(world: World, tmp_path: Path) -> None:
    ledger = tmp_path / "ledger"
    shutil.copytree(world.ledger, ledger)
    view = LedgerView(ledger)
    before = view.entries("ledger_b")[-1]
    write_partition(ledger, tmp_path / "data", "ledger_b", dt.date(2026, 1, 5), 100, bad_every=10)
    after = view.entries("ledger_b")
    assert len(after) == 5 and after[-1]["run_id"] != before["run_id"]
    assert after[-1]["passed"] is False and view.find_run(before["run_id"]) is None
