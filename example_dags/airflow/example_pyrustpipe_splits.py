"""One huge object, many workers: plan byte-range splits of the day's single big export,
validate each split in its own mapped task, and gate on the whole object.

Each split owns the records that start in its byte range (quoted line breaks included: the
engine resolves the real record boundaries), numbers rows and lines as in the whole object, and
writes its unique keys to a shared directory; the gate merges those keys, so an id repeated in
two splits fails exactly as in a whole-object run (docs/splits.md).
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from airflow.sdk import DAG
from pyrustpipe_provider.operators import (
    PyRustPipeGateOperator,
    PyRustPipePlanSplitsOperator,
    PyRustPipeValidateOperator,
)

# The bucket comes from the environment so the Dag runs on S3, MinIO or the local test server.
BUCKET = os.environ.get("PYRUSTPIPE_EXAMPLE_BUCKET", "pyrustpipe-example")
# Where the splits leave their unique keys for the gate: a directory every worker can read
# (a shared volume on Celery / Kubernetes workers).
KEYS = os.environ.get("PYRUSTPIPE_EXAMPLE_KEYS", "/tmp/pyrustpipe-split-keys")
RULES = f"{Path(__file__).resolve().parents[1] / 'rules' / 'transaction_rows.py'}:TransactionRows"

DAG_ID = "example_pyrustpipe_splits"

with DAG(
    DAG_ID,
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["example", "pyrustpipe"],
) as dag:
    # [START howto_operator_pyrustpipe_splits]
    plan = PyRustPipePlanSplitsOperator(
        task_id="plan_splits",
        source=f"s3://{BUCKET}/landing/transactions/{{{{ ds }}}}/export.csv",
        parts=8,
    )
    validate = PyRustPipeValidateOperator.partial(
        task_id="validate_split",
        rules=RULES,
        mode="quarantine",
        # {partition} becomes "export-split-0003" for split 3.
        quarantine=f"s3://{BUCKET}/quarantine/transactions/{{{{ ds }}}}/{{partition}}/",
        split_keys=f"{KEYS}/{{{{ ds }}}}/{{partition}}.keys",
        map_index_template="{{ task.split }}",
    ).expand(split=plan.output)
    gate = PyRustPipeGateOperator(
        task_id="gate",
        summaries=validate.output,
        metrics_output=f"s3://{BUCKET}/dq-metrics/transactions/{{{{ ds }}}}/",
        max_quarantine_fraction=0.05,
    )
    # [END howto_operator_pyrustpipe_splits]
