"""Daily gate: validate one S3 prefix; bad data stops the Dag before the load.

Each day's files land under ``raw/transactions/dt=<ds>/``. Any failed error rule fails
``validate_transactions`` without retry, so ``load`` never sees bad data.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, task
from pyrustpipe_provider.operators import PyRustPipeValidateOperator

# The bucket comes from the environment so the Dag runs on S3, MinIO or the local test server.
BUCKET = os.environ.get("PYRUSTPIPE_EXAMPLE_BUCKET", "pyrustpipe-example")
# The sample rules shipped with the project; a deployment keeps its rules next to its Dags.
RULES = f"{Path(__file__).resolve().parents[1] / 'rules' / 'transactions.py'}:Transactions"

DAG_ID = "example_pyrustpipe_gate"

with DAG(
    DAG_ID,
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["example", "pyrustpipe"],
) as dag:
    # [START howto_operator_pyrustpipe_gate]
    validate = PyRustPipeValidateOperator(
        task_id="validate_transactions",
        source=f"s3://{BUCKET}/raw/transactions/dt={{{{ ds }}}}/",
        rules=RULES,
        metrics_output=f"s3://{BUCKET}/dq-metrics/transactions/dt={{{{ ds }}}}/",
        aws_conn_id="aws_default",
    )
    # [END howto_operator_pyrustpipe_gate]

    @task
    def load(summary: dict[str, Any]) -> int:
        """Stands in for the real load; it only runs on data that passed."""
        print(f"loading {summary['rows']} rows from {summary['source']}")
        return int(summary["rows"])

    load(validate.output)
