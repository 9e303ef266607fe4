"""Fan-out: list the day's partitions, validate each in its own mapped task, gate on the total.

Each file under ``landing/transactions/<ds>/`` is one partition. Mapped instances run on any
worker (Celery or Kubernetes executor), each writing under ``.../<partition>/``; the gate merges
their summaries into one decision and one total report. Every partition's results also go to the
quality ledger (default ``s3://<bucket>/dq-ledger``; the ``ledger`` param or
``PYRUSTPIPE_EXAMPLE_LEDGER`` moves it), and each file is judged against the earlier days' files
there: the rules' ``history:row_count`` fails a file much shorter than usual.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from airflow.providers.amazon.aws.operators.s3 import S3ListOperator
from airflow.sdk import DAG
from pyrustpipe_provider.operators import PyRustPipeGateOperator, PyRustPipeValidateOperator

# The bucket comes from the environment so the Dag runs on S3, MinIO or the local test server.
BUCKET = os.environ.get("PYRUSTPIPE_EXAMPLE_BUCKET", "pyrustpipe-example")
# The sample rules shipped with the project; a deployment keeps its rules next to its Dags.
RULES = (
    f"{Path(__file__).resolve().parents[1] / 'rules' / 'transactions_daily.py'}:DailyTransactions"
)
# The quality ledger's root: a local path or an s3:// prefix (docs/ledger.md).
LEDGER = os.environ.get("PYRUSTPIPE_EXAMPLE_LEDGER", f"s3://{BUCKET}/dq-ledger")

DAG_ID = "example_pyrustpipe_fanout"


def to_uri(key: str) -> str:
    return f"s3://{BUCKET}/{key}"


with DAG(
    DAG_ID,
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["example", "pyrustpipe"],
    params={"ledger": LEDGER},
) as dag:
    # [START howto_operator_pyrustpipe_fanout]
    list_partitions = S3ListOperator(
        task_id="list_partitions",
        bucket=BUCKET,
        prefix="landing/transactions/{{ ds }}/",
        delimiter="/",  # the files directly under the day's prefix
        aws_conn_id="aws_default",
    )
    validate = PyRustPipeValidateOperator.partial(
        task_id="validate_partition",
        rules=RULES,
        mode="quarantine",
        # {partition} becomes the file's name without suffix, e.g. "part-000".
        valid_output=f"s3://{BUCKET}/clean/transactions/{{{{ ds }}}}/{{partition}}/",
        quarantine=f"s3://{BUCKET}/quarantine/transactions/{{{{ ds }}}}/{{partition}}/",
        metrics_output=f"s3://{BUCKET}/dq-metrics/transactions/{{{{ ds }}}}/{{partition}}/",
        # One quality-ledger entry per partition, committed with its outputs (docs/ledger.md);
        # the rules' history checks compare each file with the earlier days' files.
        ledger="{{ params.ledger }}",
        partition="dt={{ ds }}/{partition}",
        map_index_template="{{ task.source }}",
    ).expand(source=list_partitions.output.map(to_uri))
    gate = PyRustPipeGateOperator(
        task_id="gate",
        summaries=validate.output,
        metrics_output=f"s3://{BUCKET}/dq-metrics/transactions/{{{{ ds }}}}/",
        max_quarantine_fraction=0.05,
    )
    # [END howto_operator_pyrustpipe_fanout]
