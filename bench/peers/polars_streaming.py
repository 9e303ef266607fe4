"""Peer: polars lazy scan, all columns as strings, vectorised checks, streaming engine.

Tuned with bench/tune.py (bench/README.md, "How each peer was tuned"): the masks are selected
once and then summed (inside one aggregating `select` every mask was evaluated twice: once for
its own sum and once inside `any_horizontal`), repeated ids by a window count instead of
`is_duplicated()`, and numbers by one `strict=False` cast instead of a regex prefilter.
"""

import polars as pl
from _common import (
    ISIN,
    PATTERNS,
    REQUIRED,
    TIMESTAMP,
    TIMESTAMP_FORMAT,
    csv_path,
    emit,
)


def failure_masks() -> dict[str, pl.Expr]:
    """One boolean expression per rule: True where the row fails it (never null)."""
    masks: dict[str, pl.Expr] = {}
    for col in REQUIRED:
        masks[f"{col}:not_null"] = pl.col(col).is_null()
    for col, pattern in PATTERNS.items():
        masks[f"{col}:pattern"] = ~pl.col(col).str.contains(f"^(?:{pattern})$")
    tid = pl.col("txn_id")
    masks["txn_id:unique"] = tid.is_not_null() & (pl.len().over("txn_id") > 1)
    ts = pl.col("timestamp")
    # polars' strptime also takes unpadded fields (`2026-1-1T0:0:0`): the regex keeps the shape.
    parsed = ts.str.strptime(pl.Datetime, TIMESTAMP_FORMAT, strict=False)
    masks["timestamp:type"] = ts.is_not_null() & ~(
        ts.str.contains(f"^{TIMESTAMP}$") & parsed.is_not_null()
    )
    numbers = {}
    for col in ("amount", "fee"):
        # polars' float parser takes exactly docs/spec.md's grammar plus NaN/inf spellings
        # (no spaces, no `1_000`, no `0x10`): one cast, non-finite values are type failures.
        value = pl.col(col).cast(pl.Float64, strict=False)
        numbers[col] = pl.when(value.is_finite()).then(value)
        masks[f"{col}:type"] = pl.col(col).is_not_null() & numbers[col].is_null()
    amount, fee = numbers["amount"], numbers["fee"]
    masks["amount:gt"] = ~(amount > 0)
    masks["amount:le"] = ~(amount <= 1_000_000)
    masks["fee:ge"] = ~(fee >= 0)
    masks["fee_within_amount"] = ~(fee <= amount)
    for col, values in ISIN.items():
        masks[f"{col}:isin"] = pl.col(col).is_not_null() & ~pl.col(col).is_in(values)
    # A null input makes a comparison null: "unknown is not a violation", so null -> False.
    return {name: mask.fill_null(False) for name, mask in masks.items()}


def counts(frame: pl.LazyFrame) -> pl.LazyFrame:
    """rows, invalid_rows and one count per rule, each mask evaluated once."""
    masks = failure_masks()
    names = list(masks)
    return frame.select(**masks).select(
        pl.len().alias("rows"),
        pl.any_horizontal(names).sum().alias("invalid_rows"),
        pl.col(names).sum(),
    )


def main() -> None:
    lazy = pl.scan_csv(csv_path(), infer_schema=False)
    result = counts(lazy).collect(engine="streaming").row(0, named=True)
    emit(result.pop("rows"), result.pop("invalid_rows"), result)


if __name__ == "__main__":
    main()
