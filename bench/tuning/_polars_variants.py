"""Variants of the polars peer, switched by flags, for bench/tune.py (bench/README.md, "Tuning")."""

import sys

import polars as pl

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent.parent / "peers"))

from _common import (  # noqa: E402
    COLUMNS,
    FLOAT,
    ISIN,
    PATTERNS,
    REQUIRED,
    TIMESTAMP,
    TIMESTAMP_FORMAT,
    csv_path,
    emit,
)


def masks(window: bool, cast_only: bool, ts_len: bool) -> dict[str, pl.Expr]:
    m: dict[str, pl.Expr] = {}
    for col in REQUIRED:
        m[f"{col}:not_null"] = pl.col(col).is_null()
    for col, pattern in PATTERNS.items():
        m[f"{col}:pattern"] = ~pl.col(col).str.contains(f"^(?:{pattern})$")
    tid = pl.col("txn_id")
    dup = (pl.len().over("txn_id") > 1) if window else tid.is_duplicated()
    m["txn_id:unique"] = tid.is_not_null() & dup
    ts = pl.col("timestamp")
    shape = (ts.str.len_bytes() == 19) if ts_len else ts.str.contains(f"^{TIMESTAMP}$")
    parsed = ts.str.strptime(pl.Datetime, TIMESTAMP_FORMAT, strict=False)
    m["timestamp:type"] = ts.is_not_null() & ~(shape & parsed.is_not_null())
    numbers = {}
    for col in ("amount", "fee"):
        if cast_only:
            value = pl.col(col).cast(pl.Float64, strict=False)
            numbers[col] = pl.when(value.is_finite()).then(value)
            m[f"{col}:type"] = pl.col(col).is_not_null() & numbers[col].is_null()
        else:
            ok = pl.col(col).str.contains(f"^(?:{FLOAT})$")
            m[f"{col}:type"] = ~ok
            numbers[col] = pl.when(ok).then(pl.col(col).cast(pl.Float64, strict=False))
    amount, fee = numbers["amount"], numbers["fee"]
    m["amount:gt"] = ~(amount > 0)
    m["amount:le"] = ~(amount <= 1_000_000)
    m["fee:ge"] = ~(fee >= 0)
    m["fee_within_amount"] = ~(fee <= amount)
    for col, values in ISIN.items():
        m[f"{col}:isin"] = pl.col(col).is_not_null() & ~pl.col(col).is_in(values)
    return {name: mask.fill_null(False) for name, mask in m.items()}


def run(
    once: bool = False,
    window: bool = False,
    cast_only: bool = False,
    ts_len: bool = False,
    schema: bool = False,
    eager: bool = False,
    engine: str = "streaming",
) -> None:
    path = csv_path()
    m = masks(window, cast_only, ts_len)
    if eager:
        lf = pl.read_csv(path, infer_schema=False).lazy()
    elif schema:
        lf = pl.scan_csv(path, schema=dict.fromkeys(COLUMNS, pl.String))
    else:
        lf = pl.scan_csv(path, infer_schema=False)
    if once:
        names = list(m)
        q = lf.select(**m).select(
            pl.len().alias("rows"),
            pl.any_horizontal(names).sum().alias("invalid_rows"),
            pl.col(names).sum(),
        )
    else:
        q = lf.select(
            pl.len().alias("rows"),
            pl.any_horizontal(list(m.values())).sum().alias("invalid_rows"),
            *(mask.sum().alias(name) for name, mask in m.items()),
        )
    result = q.collect(engine=engine).row(0, named=True)
    emit(result.pop("rows"), result.pop("invalid_rows"), result)
