"""Peer: pandas read_csv(engine="pyarrow"), every column as str, vectorised Series checks.

keep_default_na=False: pandas' default NA strings include "NA" (Namibia) and "N/A"; only the
empty field is null here, as in pyrustpipe's default null_values.
"""

import pandas as pd
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


def failure_masks(df: pd.DataFrame) -> dict[str, pd.Series]:
    masks: dict[str, pd.Series] = {}
    null = {col: df[col].eq("") for col in REQUIRED}
    for col in REQUIRED:
        masks[f"{col}:not_null"] = null[col]
    for col, pattern in PATTERNS.items():
        masks[f"{col}:pattern"] = ~null[col] & ~df[col].str.fullmatch(pattern)
    tid = df["txn_id"]
    masks["txn_id:unique"] = ~null["txn_id"] & tid.duplicated(keep=False)
    ts = df["timestamp"]
    shaped = ts.str.fullmatch(TIMESTAMP)
    parsed = pd.to_datetime(ts.where(shaped), format=TIMESTAMP_FORMAT, errors="coerce")
    masks["timestamp:type"] = ~null["timestamp"] & parsed.isna()
    numbers = {}
    for col in ("amount", "fee"):
        ok = df[col].str.fullmatch(FLOAT)
        masks[f"{col}:type"] = ~null[col] & ~ok
        numbers[col] = pd.to_numeric(df[col].where(ok), errors="coerce")
    amount, fee = numbers["amount"], numbers["fee"]
    # Comparisons with NaN are False: guard with notna() so that a null is never a violation.
    masks["amount:gt"] = amount.notna() & ~(amount > 0)
    masks["amount:le"] = amount.notna() & ~(amount <= 1_000_000)
    masks["fee:ge"] = fee.notna() & ~(fee >= 0)
    masks["fee_within_amount"] = amount.notna() & fee.notna() & ~(fee <= amount)
    for col, values in ISIN.items():
        masks[f"{col}:isin"] = ~null[col] & ~df[col].isin(values)
    return {name: mask.fillna(False).astype(bool) for name, mask in masks.items()}


def main() -> None:
    df = pd.read_csv(csv_path(), engine="pyarrow", dtype=str, keep_default_na=False)
    masks = failure_masks(df)
    invalid = pd.concat(masks, axis=1).any(axis=1)
    emit(len(df), int(invalid.sum()), {name: int(mask.sum()) for name, mask in masks.items()})


if __name__ == "__main__":
    main()
