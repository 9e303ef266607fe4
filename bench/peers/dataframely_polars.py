"""Peer: a dataframely Schema (polars) over a lazy CSV scan, `filter()`, counts from its rules.

Written as dataframely's docs show: columns with their built-in constraints (`regex`, `unique`,
`min_exclusive`, `allow_nan`, named `check`s), `@dy.rule` for rules across columns, `filter` for
the valid rows plus a `FailureInfo`. Two choices an expert makes for a CSV of strings:

- the numbers are cast by polars before `filter` (strict=False, the text kept beside the value)
  instead of `filter(cast=True)`: with casting, dataframely marks *every other rule* of a row
  whose cast failed as "unknown", which would hide that row's other failures;
- timestamps stay strings with the format's shape as `regex` and a rule for the calendar
  (a lenient cast to Datetime would accept ISO variants the format does not).

dataframely's rules overlap where pyrustpipe's skip (a NaN amount fails `nan` and also `max`), so
the per-rule counts are taken from `FailureInfo.details()` with pyrustpipe's skipping applied.
"""

import dataframely as dy
import polars as pl
from _common import (
    COLUMNS,
    ISIN,
    PATTERNS,
    REQUIRED,
    TIMESTAMP,
    TIMESTAMP_FORMAT,
    csv_path,
    emit,
)


def _full(pattern: str) -> str:
    return f"^(?:{pattern})$"


def _isin(values: list[str]) -> dict:
    return {"isin": lambda col: col.is_in(values)}


class Transactions(dy.Schema):
    txn_id = dy.String(unique=True, regex=_full(PATTERNS["txn_id"]))
    timestamp = dy.String(regex=_full(TIMESTAMP))
    sender_phone = dy.String(regex=_full(PATTERNS["sender_phone"]))
    receiver_phone = dy.String(regex=_full(PATTERNS["receiver_phone"]))
    amount = dy.String()  # the CSV text; its number is amount_value
    fee = dy.String()
    # null where the text is null or does not parse (see the *_parses rules)
    amount_value = dy.Float64(nullable=True, min_exclusive=0, max=1_000_000)
    fee_value = dy.Float64(nullable=True, min=0)
    currency = dy.String(check=_isin(ISIN["currency"]))
    channel = dy.String(check=_isin(ISIN["channel"]))
    status = dy.String(check=_isin(ISIN["status"]))
    country = dy.String(regex=_full(PATTERNS["country"]))
    agent_id = dy.String(nullable=True)

    @dy.rule()
    def timestamp_valid(cls) -> pl.Expr:
        parsed = pl.col("timestamp").str.strptime(pl.Datetime, TIMESTAMP_FORMAT, strict=False)
        return pl.col("timestamp").is_null() | parsed.is_not_null()

    @dy.rule()
    def amount_parses(cls) -> pl.Expr:
        return pl.col("amount").is_null() | pl.col("amount_value").is_not_null()

    @dy.rule()
    def fee_parses(cls) -> pl.Expr:
        return pl.col("fee").is_null() | pl.col("fee_value").is_not_null()

    @dy.rule()
    def fee_within_amount(cls) -> pl.Expr:
        return pl.col("fee_value") <= pl.col("amount_value")


def counts(details: pl.DataFrame) -> dict[str, int]:
    """pyrustpipe's rule counts from `FailureInfo.details()`: one valid/invalid/unknown column
    per rule, named `<column>|<check>` or after the `@dy.rule`."""

    def failed(name: str) -> pl.Expr:
        return (pl.col(name) == "invalid") if name in details.columns else pl.lit(False)

    number_type = {
        c: failed(f"{c}_parses") | failed(f"{c}_value|nan") | failed(f"{c}_value|inf")
        for c in ("amount", "fee")
    }
    rules = {
        "txn_id:unique": failed("txn_id|unique") & pl.col("txn_id").is_not_null(),
        "timestamp:type": failed("timestamp|regex") | failed("timestamp_valid"),
        "amount:type": number_type["amount"],
        "amount:gt": failed("amount_value|min_exclusive") & ~number_type["amount"],
        "amount:le": failed("amount_value|max") & ~number_type["amount"],
        "fee:type": number_type["fee"],
        "fee:ge": failed("fee_value|min") & ~number_type["fee"],
        "fee_within_amount": failed("fee_within_amount")
        & ~number_type["amount"]
        & ~number_type["fee"],
    }
    for col, _ in PATTERNS.items():
        rules[f"{col}:pattern"] = failed(f"{col}|regex")
    for col in ISIN:
        rules[f"{col}:isin"] = failed(f"{col}|check__isin")
    for col in REQUIRED:
        rules[f"{col}:not_null"] = failed(f"{col}|nullability")
    return details.select(**{name: e.sum() for name, e in rules.items()}).row(0, named=True)


def main() -> None:
    numbers = {f"{c}_value": pl.col(c).cast(pl.Float64, strict=False) for c in ("amount", "fee")}
    lazy = pl.scan_csv(csv_path(), schema=dict.fromkeys(COLUMNS, pl.String)).with_columns(**numbers)
    valid, failure = Transactions.filter(lazy).collect_all(engine="streaming")
    emit(len(valid) + len(failure), len(failure), counts(failure.details()))


if __name__ == "__main__":
    main()
