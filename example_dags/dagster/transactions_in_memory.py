"""An asset that returns a polars DataFrame, checked in memory by pyrustpipe.

    dagster dev -f example_dags/dagster/transactions_in_memory.py

``transactions_frame`` reads ``$PYRUSTPIPE_EXAMPLE_CSV`` (every column as text). The checks have
no ``source``: they load the asset's value through its IO manager and validate the DataFrame
itself (through the Arrow C stream interface; see docs/dagster.md for what that costs). They are
not blocking: failures show in the UI (error rules as ERROR, warn rules as WARN) and
``transactions_summary`` runs anyway.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
import polars as pl
import pyrustpipe as pp
from dagster_pyrustpipe import PyRustPipeResource, build_pyrustpipe_checks, rules_to_table_schema

RULES = pp.load_rules(Path(__file__).resolve().parents[1] / "rules" / "transactions.py")


@dg.asset(metadata={"dagster/column_schema": rules_to_table_schema(RULES)}, kinds={"polars"})
def transactions_frame() -> pl.DataFrame:
    """The transactions export as a DataFrame of text columns (empty field → null)."""
    return pl.read_csv(
        os.environ.get("PYRUSTPIPE_EXAMPLE_CSV", "transactions.csv"), infer_schema=False
    )


transactions_frame_checks = build_pyrustpipe_checks(asset=transactions_frame, schema=RULES)


@dg.asset
def transactions_summary(transactions_frame: pl.DataFrame) -> dict[str, int]:
    """Row counts per channel."""
    counts = transactions_frame.group_by("channel").len().sort("channel")
    return {str(channel): int(n) for channel, n in counts.iter_rows()}


defs = dg.Definitions(
    assets=[transactions_frame, transactions_summary],
    asset_checks=transactions_frame_checks,
    resources={"pyrustpipe": PyRustPipeResource()},
)
