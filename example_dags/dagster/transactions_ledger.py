"""Daily transaction files checked against their own history: pyrustpipe asset checks with the
quality ledger (docs/ledger.md).

    dagster dev -f example_dags/dagster/transactions_ledger.py

Each day's export lands at ``$PYRUSTPIPE_EXAMPLE_LANDING/<day>.csv``; the ``transactions`` asset
copies it into the lake (``$PYRUSTPIPE_EXAMPLE_LAKE/transactions/<day>/``, a local folder). The
checks validate that partition with the example rules plus their history checks, and append the
day's entry to the ledger (``$PYRUSTPIPE_EXAMPLE_LEDGER``, by default ``dq-ledger`` in the lake):
``history:row_count`` fails a day much shorter than the earlier days once four are in the ledger,
``history:schema_drift`` a day whose columns changed. Their value and band are numeric metadata,
so Dagster's UI plots them per partition.
"""

import os
import shutil
from pathlib import Path

import dagster as dg
import pyrustpipe as pp
from dagster_pyrustpipe import PyRustPipeResource, build_pyrustpipe_checks

RULES = pp.load_rules(
    Path(__file__).resolve().parents[1] / "rules" / "transactions_daily.py:DailyTransactions"
)
LANDING = Path(os.environ.get("PYRUSTPIPE_EXAMPLE_LANDING", "landing"))
LAKE = Path(os.environ.get("PYRUSTPIPE_EXAMPLE_LAKE", "lake"))
LEDGER = os.environ.get("PYRUSTPIPE_EXAMPLE_LEDGER", str(LAKE / "dq-ledger"))

daily = dg.DailyPartitionsDefinition(start_date="2025-01-01")


@dg.asset(partitions_def=daily, kinds={"csv"})
def transactions(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """The day's transactions export, copied into the lake unchanged."""
    target = LAKE / "transactions" / context.partition_key / "part-0.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(LANDING / f"{context.partition_key}.csv", target)
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(target))})


transactions_checks = build_pyrustpipe_checks(
    asset=transactions,
    schema=RULES,
    source=f"{LAKE}/transactions/{{partition_key}}/",
    # The partition key (the day) is the ledger entry's partition and its logical date.
    ledger=LEDGER,
)

defs = dg.Definitions(
    assets=[transactions],
    asset_checks=transactions_checks,
    resources={"pyrustpipe": PyRustPipeResource()},
)
