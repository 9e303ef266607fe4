"""Peer: polars lazy scan, all columns as strings, vectorised checks, streaming engine."""

import polars as pl
from _common import (
    FLOAT,
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
    masks["txn_id:unique"] = tid.is_not_null() & tid.is_duplicated()
    ts = pl.col("timestamp")
    parsed = ts.str.strptime(pl.Datetime, TIMESTAMP_FORMAT, strict=False)
    masks["timestamp:type"] = ts.is_not_null() & ~(
        ts.str.contains(f"^{TIMESTAMP}$") & parsed.is_not_null()
    )
    numbers = {}
    for col in ("amount", "fee"):
        ok = pl.col(col).str.contains(f"^(?:{FLOAT})$")
        masks[f"{col}:type"] = ~ok
        numbers[col] = pl.when(ok).then(pl.col(col).cast(pl.Float64, strict=False))
    amount, fee = numbers["amount"], numbers["fee"]
    masks["amount:gt"] = ~(amount > 0)
    masks["amount:le"] = ~(amount <= 1_000_000)
    masks["fee:ge"] = ~(fee >= 0)
    masks["fee_within_amount"] = ~(fee <= amount)
    for col, values in ISIN.items():
        masks[f"{col}:isin"] = pl.col(col).is_null().not_() & ~pl.col(col).is_in(values)
    # A null input makes a comparison null: "unknown is not a violation", so null -> False.
    return {name: mask.fill_null(False) for name, mask in masks.items()}


def query(path: str) -> pl.LazyFrame:
    masks = failure_masks()
    return pl.scan_csv(path, infer_schema=False).select(
        pl.len().alias("rows"),
        pl.any_horizontal(list(masks.values())).sum().alias("invalid_rows"),
        *(mask.sum().alias(name) for name, mask in masks.items()),
    )


def main() -> None:
    result = query(csv_path()).collect(engine="streaming").row(0, named=True)
    emit(result.pop("rows"), result.pop("invalid_rows"), result)


if __name__ == "__main__":
    main()
