"""A validation task whose first try dies in the middle of its S3 commit, retried by Airflow
(``retries=1``) in a real Dag run (``dag.test()`` on sqlite): the partition ends committed
exactly once, and the retry's counts are the fault-free run's.

The first try's S3 requests go through the fault proxy (tests/s3/fault_proxy.py): every attempt
of one commit request fails with ``500 InternalError``, so the engine raises ``StorageError``
mid-commit, which the provider's retry policy retries. ``dag.test()`` runs the retry itself,
within the same call (a task that failed with retries left is put up for retry and run again
as try 2 of the same task instance; tests/airflow/test_retry_policy.py relies on it too).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pyrustpipe as pp
import pytest

from tests.airflow._env import EXAMPLE_DAGS, connection
from tests.data_gen import make_transactions
from tests.s3.attempts import MANIFEST, STAGING, all_keys, final_keys, read

RULES = f"{EXAMPLE_DAGS.parent / 'rules' / 'transactions.py'}:Transactions"
DAG_FILE = """
from datetime import datetime, timedelta, timezone

from airflow.sdk import DAG
from pyrustpipe_provider.operators import PyRustPipeValidateOperator

with DAG(
    DAG_ID,
    schedule=None,
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    default_args={"retries": 1, "retry_delay": timedelta(0)},
):
    PyRustPipeValidateOperator(
        task_id="validate",
        source=f"s3://{BUCKET}/retry/raw/",
        rules=RULES,
        mode="quarantine",
        valid_output=f"s3://{BUCKET}/retry/{PREFIX}/valid/",
        quarantine=f"s3://{BUCKET}/retry/{PREFIX}/quarantine/",
        aws_conn_id="aws_faulty",
    )
"""
# The engine's default attempts per S3 request (docs/outputs.md): one fault per attempt fails
# the request, and with it the try.
MAX_ATTEMPTS = 5


@pytest.fixture
def faulty_connection(s3_server: Any, fault_proxy: Any) -> Iterator[None]:
    """``aws_faulty``: ``aws_default``'s credentials, its endpoint the fault proxy."""
    conn = json.loads(connection(s3_server))
    conn["extra"]["endpoint_url"] = fault_proxy.endpoint_url
    os.environ["AIRFLOW_CONN_AWS_FAULTY"] = json.dumps(conn)
    yield
    del os.environ["AIRFLOW_CONN_AWS_FAULTY"]


@pytest.mark.parametrize(
    ("stage", "method", "path", "committed_by_first"),
    [
        # The manifest's conditional put fails: the first try commits nothing; the retry does.
        ("manifest", "PUT", r"_pyrustpipe_manifest\.json", False),
        # The manifest is written, then the publish's copy to the final key fails: the first
        # try committed but did not publish; the retry finishes its publish, writing nothing new.
        ("publish", "PUT", r"valid/valid\.csv\?x-id=CopyObject", True),
    ],
)
def test_a_first_try_that_dies_mid_commit_is_retried_and_commits_once(
    airflow_env: str,
    faulty_connection: None,
    fault_proxy: Any,
    s3_client: Any,
    tmp_path: Path,
    stage: str,
    method: str,
    path: str,
    committed_by_first: bool,
) -> None:
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db

    bucket = airflow_env
    data = tmp_path / "part-0.csv"
    make_transactions(data, 2000, seed=21, error_rate=0.03)
    s3_client.upload_file(str(data), bucket, "retry/raw/part-0.csv")
    folder = tmp_path / "dags"
    folder.mkdir()
    dag_id = f"test_pyrustpipe_retry_commit_{stage}"  # one Dag per case: one serialised Dag each
    header = f"DAG_ID = {dag_id!r}\nBUCKET = {bucket!r}\nRULES = {RULES!r}\nPREFIX = {stage!r}\n"
    (folder / "retry_commit_dag.py").write_text(header + DAG_FILE)
    bag = DagBag(dag_folder=str(folder))
    assert not bag.import_errors, bag.import_errors
    DagBundlesManager().sync_bundles_to_db()
    sync_bag_to_db(bag, "dags-folder", None)
    fault_proxy.add_fault(
        method, path, "status", times=MAX_ATTEMPTS, status=500, code="InternalError"
    )

    dagrun: Any = bag.dags[dag_id].test(logical_date=datetime(2026, 4, 1, tzinfo=timezone.utc))

    assert fault_proxy.pending_faults() == 0, "the first try never reached the commit"
    ti = dagrun.get_task_instance("validate")
    assert (ti.state, ti.try_number) == ("success", 2)
    summary = ti.xcom_pull(task_ids="validate")
    assert summary["outputs"]["already_committed"] is committed_by_first
    # The counts of the retry are those of a fault-free run of the same data.
    local = tmp_path / "local"
    local.mkdir()
    expected = pp.validate(str(data), RULES, valid_output=f"{local}/", quarantine=f"{local}/")
    rows = (summary["rows"], summary["valid_rows"], summary["invalid_rows"])
    assert rows == (expected.rows, expected.valid_rows, expected.invalid_rows)
    # Committed once: one manifest with those counts, both outputs published, no staging left.
    prefix = f"retry/{stage}/"
    assert final_keys(s3_client, bucket, prefix) == [
        f"{prefix}quarantine/quarantine.csv",
        f"{prefix}valid/{MANIFEST}",
        f"{prefix}valid/valid.csv",
    ]
    manifest = json.loads(read(s3_client, bucket, f"{prefix}valid/{MANIFEST}"))
    assert (manifest["rows"], manifest["valid_rows"], manifest["invalid_rows"]) == rows
    assert [k for k in all_keys(s3_client, bucket, prefix) if STAGING in k] == []
    assert read(s3_client, bucket, f"{prefix}valid/valid.csv") == (local / "valid.csv").read_bytes()
