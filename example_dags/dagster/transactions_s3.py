"""Daily transaction files on S3, gated by pyrustpipe asset checks (blocking, with a quarantine).

    dagster dev -f example_dags/dagster/transactions_s3.py

Each day's export lands at ``$PYRUSTPIPE_EXAMPLE_LANDING/<day>.csv``; the ``transactions`` asset
copies it to ``s3://$PYRUSTPIPE_EXAMPLE_BUCKET/transactions/<day>/``. The checks validate that
partition on S3 (one check per rule plus a summary), write the invalid rows to the quarantine and
the valid rows next to them, and — being blocking — keep ``daily_totals`` from running on a day
whose data fails an error rule. S3 settings come from the standard AWS variables
(``AWS_REGION``, ``AWS_ENDPOINT_URL``, keys or a profile).
"""

import csv
import io
import os
from collections import defaultdict
from pathlib import Path

import dagster as dg
import pyrustpipe as pp
from dagster_aws.s3 import S3Resource
from dagster_pyrustpipe import PyRustPipeResource, build_pyrustpipe_checks, rules_to_table_schema

RULES = pp.load_rules(Path(__file__).resolve().parents[1] / "rules" / "transactions.py")
BUCKET = os.environ.get("PYRUSTPIPE_EXAMPLE_BUCKET", "pyrustpipe-example")
LANDING = Path(os.environ.get("PYRUSTPIPE_EXAMPLE_LANDING", "landing"))
LAKE = f"s3://{BUCKET}/transactions/{{partition_key}}/"
VALID = f"s3://{BUCKET}/valid/transactions/{{partition_key}}/"

daily = dg.DailyPartitionsDefinition(start_date="2025-01-01")


@dg.asset(
    partitions_def=daily,
    metadata={"dagster/column_schema": rules_to_table_schema(RULES)},
    kinds={"s3", "csv"},
)
def transactions(context: dg.AssetExecutionContext, s3: S3Resource) -> dg.MaterializeResult:
    """The day's transactions export, copied to the lake unchanged."""
    day = context.partition_key
    key = f"transactions/{day}/part-0.csv"
    s3.get_client().upload_file(str(LANDING / f"{day}.csv"), BUCKET, key)
    return dg.MaterializeResult(metadata={"uri": dg.MetadataValue.path(f"s3://{BUCKET}/{key}")})


transactions_checks = build_pyrustpipe_checks(
    asset=transactions,
    schema=RULES,
    source=LAKE + "*.csv",
    blocking=True,
    quarantine=f"s3://{BUCKET}/quarantine/transactions/{{partition_key}}/",
    valid_output=VALID,
    metrics_output=f"s3://{BUCKET}/reports/transactions/{{partition_key}}/report.json",
)


@dg.asset(partitions_def=daily, deps=[transactions])
def daily_totals(context: dg.AssetExecutionContext, s3: S3Resource) -> dict[str, float]:
    """Amount per currency over the day's valid rows (runs only when the checks pass)."""
    key = f"valid/transactions/{context.partition_key}/valid.csv"
    body = s3.get_client().get_object(Bucket=BUCKET, Key=key)["Body"].read().decode()
    totals: dict[str, float] = defaultdict(float)
    for row in csv.DictReader(io.StringIO(body)):
        totals[row["currency"]] += float(row["amount"])
    return dict(sorted(totals.items()))


s3 = S3Resource(
    region_name=os.environ.get("AWS_REGION", "us-east-1"),
    endpoint_url=os.environ.get("AWS_ENDPOINT_URL"),
)

defs = dg.Definitions(
    assets=[transactions, daily_totals],
    asset_checks=transactions_checks,
    resources={
        "s3": s3,
        "pyrustpipe": PyRustPipeResource.from_s3_resource(
            s3, force_path_style="AWS_ENDPOINT_URL" in os.environ
        ),
    },
)
