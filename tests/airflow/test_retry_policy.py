"""The operators' default retry policy in a real Dag run (``dag.test()`` on sqlite): an unreadable
file fails at once although the task has retries; a storage fault is retried up to ``retries``."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from pyrustpipe_provider.operators import PyRustPipeValidateOperator
from pyrustpipe_provider.retry import pyrustpipe_retry_policy

from tests.airflow._env import EXAMPLE_DAGS

RULES = f"{EXAMPLE_DAGS.parent / 'rules' / 'transactions.py'}:Transactions"


DAG_FILE = """
from datetime import datetime, timedelta, timezone

from airflow.sdk import DAG
from pyrustpipe_provider.operators import PyRustPipeValidateOperator

with DAG(
    "test_pyrustpipe_retry_policy",
    schedule=None,
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    default_args={"retries": 2, "retry_delay": timedelta(0)},
):
    PyRustPipeValidateOperator(
        task_id="unreadable", source=UNREADABLE, rules=RULES, aws_conn_id=None
    )
    PyRustPipeValidateOperator(
        task_id="storage_fault", source="s3://no-such-bucket-prp/tx/", rules=RULES
    )
"""


def test_unreadable_data_fails_at_once_and_storage_faults_retry(
    airflow_env: str, tmp_path: Path
) -> None:
    from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db

    unreadable = tmp_path / "tx.csv"
    unreadable.write_text('txn_id,amount\n"TX0000000001,5\n')  # a quote that never closes
    folder = tmp_path / "dags"
    folder.mkdir()
    (folder / "retry_dag.py").write_text(
        f"UNREADABLE = {str(unreadable)!r}\nRULES = {RULES!r}\n" + DAG_FILE
    )
    bag = DagBag(dag_folder=str(folder))
    assert not bag.import_errors, bag.import_errors
    # dag.test() runs only serialised Dags: register this one as the example bundle does.
    from airflow.dag_processing.bundles.manager import DagBundlesManager

    DagBundlesManager().sync_bundles_to_db()
    sync_bag_to_db(bag, "dags-folder", None)
    assert list(bag.dags) == ["test_pyrustpipe_retry_policy"], bag.import_errors
    dag = bag.dags["test_pyrustpipe_retry_policy"]
    dagrun: Any = dag.test(logical_date=datetime(2026, 1, 5, tzinfo=timezone.utc))
    tries = {ti.task_id: (ti.state, ti.try_number) for ti in dagrun.get_task_instances()}
    assert tries["unreadable"] == ("failed", 1)
    assert tries["storage_fault"] == ("failed", 3)


def test_a_given_retry_policy_is_kept() -> None:
    policy = pyrustpipe_retry_policy(storage_retry_delay=timedelta(seconds=5))
    op = PyRustPipeValidateOperator(task_id="v", source="x.csv", rules=RULES, retry_policy=policy)
    assert op.retry_policy is policy
    default = PyRustPipeValidateOperator(task_id="w", source="x.csv", rules=RULES)
    assert default.retry_policy is not None and default.retry_policy is not policy


def test_the_policy_fails_bad_rules_and_data_and_retries_storage_faults() -> None:
    import pyrustpipe as pp
    from airflow.sdk import RetryAction

    policy = pyrustpipe_retry_policy(storage_retry_delay=timedelta(seconds=7))
    decide = lambda error: policy.evaluate(error, try_number=1, max_tries=3)  # noqa: E731
    assert decide(pp.SchemaError("bad rule")).action is RetryAction.FAIL
    assert decide(pp.DataFormatError("unterminated quote")).action is RetryAction.FAIL
    storage = decide(pp.StorageError("connection reset"))
    assert (storage.action, storage.retry_delay) == (RetryAction.RETRY, timedelta(seconds=7))
    assert decide(RuntimeError("anything else")).action is RetryAction.DEFAULT
