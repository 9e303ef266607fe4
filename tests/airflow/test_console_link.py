"""The operator's extra link "pyrustpipe console" in a real Dag run (``dag.test()`` on sqlite):
``{console_url}/runs/{run_id}``, the run id as the ledger entry records it; the URL from the
operator's argument or ``$PYRUSTPIPE_CONSOLE_URL``; no link without a console URL or a ledger."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from pyrustpipe_provider.get_provider_info import get_provider_info
from pyrustpipe_provider.operators import (
    PyRustPipeConsoleLink,
    PyRustPipeValidateOperator,
    _console_url,
)

from tests.airflow._env import REPO
from tests.ledger.daily import day, write_day

RULES = f"{REPO / 'tests' / 'ledger' / 'daily.py'}:Transactions"
LINK_KEY = PyRustPipeConsoleLink().xcom_key

DAG_FILE = """
from datetime import datetime, timezone

from airflow.sdk import DAG
from pyrustpipe_provider.operators import PyRustPipeValidateOperator

with DAG(
    "test_pyrustpipe_console_link",
    schedule=None,
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
):
    PyRustPipeValidateOperator(
        task_id="given", source=SOURCE, rules=RULES, aws_conn_id=None, ledger=LEDGER_A,
        partition="dt=2026-01-05", console_url="http://127.0.0.1:8765/",
    )
    PyRustPipeValidateOperator(
        task_id="from_env", source=SOURCE, rules=RULES, aws_conn_id=None, ledger=LEDGER_B,
        partition="dt=2026-01-05",
    )
    PyRustPipeValidateOperator(
        task_id="no_ledger", source=SOURCE, rules=RULES, aws_conn_id=None,
        console_url="http://127.0.0.1:8765",
    )
"""


def run_id(ledger: Path) -> str:
    (entry,) = ledger.glob("dataset=transactions/date=2026-01-05/run-*.parquet")
    (value,) = pq.read_table(entry, columns=["run_id"]).column("run_id").to_pylist()
    return str(value)


def test_the_task_links_to_its_run_in_the_console(
    airflow_db: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db

    source = write_day(tmp_path / "raw", day(0), rows=20)
    ledger_a, ledger_b = tmp_path / "ledger-a", tmp_path / "ledger-b"
    folder = tmp_path / "dags"
    folder.mkdir()
    (folder / "link_dag.py").write_text(
        f"SOURCE = {str(source)!r}\nRULES = {RULES!r}\n"
        f"LEDGER_A = {str(ledger_a)!r}\nLEDGER_B = {str(ledger_b)!r}\n" + DAG_FILE
    )
    bag = DagBag(dag_folder=str(folder))
    assert not bag.import_errors, bag.import_errors
    DagBundlesManager().sync_bundles_to_db()
    sync_bag_to_db(bag, "dags-folder", None)
    dag = bag.dags["test_pyrustpipe_console_link"]
    monkeypatch.setenv("PYRUSTPIPE_CONSOLE_URL", "http://console.local:9000")
    dagrun: Any = dag.test(logical_date=datetime(2026, 1, 5, tzinfo=timezone.utc))
    tis = {ti.task_id: ti for ti in dagrun.get_task_instances()}
    assert {k: ti.state for k, ti in tis.items()} == {
        "given": "success",
        "from_env": "success",
        "no_ledger": "success",
    }

    def link(task_id: str) -> Any:
        return tis[task_id].xcom_pull(task_ids=task_id, key=LINK_KEY)

    assert link("given") == f"http://127.0.0.1:8765/runs/{run_id(ledger_a)}"
    assert link("from_env") == f"http://console.local:9000/runs/{run_id(ledger_b)}"
    assert link("no_ledger") in ("", None)


def test_without_a_console_url_there_is_no_link(
    airflow_db: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PYRUSTPIPE_CONSOLE_URL", raising=False)
    monkeypatch.delenv("AIRFLOW__PYRUSTPIPE__CONSOLE_URL", raising=False)
    assert _console_url(None) is None
    monkeypatch.setenv("AIRFLOW__PYRUSTPIPE__CONSOLE_URL", "http://from-airflow-config")
    assert _console_url(None) == "http://from-airflow-config"
    assert _console_url("http://given") == "http://given"
    source = write_day(tmp_path / "raw", day(0), rows=5)
    monkeypatch.delenv("AIRFLOW__PYRUSTPIPE__CONSOLE_URL")
    operator = PyRustPipeValidateOperator(
        task_id="v",
        source=str(source),
        rules=RULES,
        aws_conn_id=None,
        ledger=str(tmp_path / "l"),
        partition="dt=2026-01-05",
    )
    operator.execute({"outlet_events": {}})  # type: ignore[arg-type]
    assert operator.console_link is None
    assert PyRustPipeConsoleLink().get_link(operator, ti_key=None) == ""  # type: ignore[arg-type]


def test_the_provider_declares_the_link() -> None:
    assert get_provider_info()["extra-links"] == [
        "pyrustpipe_provider.operators.PyRustPipeConsoleLink"
    ]
