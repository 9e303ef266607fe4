"""Quarantine: bad rows go aside, clean rows flow on, unless too many rows are bad.

Valid rows land in ``clean/``, invalid ones in ``quarantine/``, the report in ``dq-metrics/``.
The task fails above 5% quarantined rows or when a schema or dataset check fails; downstream
Dags can be scheduled on the ``clean`` asset, whose events carry the counts.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, Asset, task
from pyrustpipe_provider.operators import PyRustPipeValidateOperator

# The bucket comes from the environment so the Dag runs on S3, MinIO or the local test server.
BUCKET = os.environ.get("PYRUSTPIPE_EXAMPLE_BUCKET", "pyrustpipe-example")
# The sample rules shipped with the project; a deployment keeps its rules next to its Dags.
RULES = f"{Path(__file__).resolve().parents[1] / 'rules' / 'transactions.py'}:Transactions"

DAG_ID = "example_pyrustpipe_quarantine"
CLEAN = Asset(uri=f"s3://{BUCKET}/clean/transactions/", name="clean_transactions")

with DAG(
    DAG_ID,
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["example", "pyrustpipe"],
) as dag:
    # [START howto_operator_pyrustpipe_quarantine]
    validate = PyRustPipeValidateOperator(
        task_id="quarantine_transactions",
        source=f"s3://{BUCKET}/raw/transactions/dt={{{{ ds }}}}/",
        rules=RULES,
        mode="quarantine",
        valid_output=f"s3://{BUCKET}/clean/transactions/dt={{{{ ds }}}}/",
        quarantine=f"s3://{BUCKET}/quarantine/transactions/dt={{{{ ds }}}}/",
        metrics_output=f"s3://{BUCKET}/dq-metrics/transactions/dt={{{{ ds }}}}/",
        max_quarantine_fraction=0.05,
        outlets=[CLEAN],
    )
    # [END howto_operator_pyrustpipe_quarantine]

    @task
    def load(summary: dict[str, Any]) -> str:
        """Stands in for the real load: it reads only the clean output."""
        print(f"loading {summary['valid_rows']} rows from {summary['outputs']['valid']}")
        return str(summary["outputs"]["valid"])

    load(validate.output)
