"""Peer: a pointblank Validate plan on a polars DataFrame, one validation step per rule.

Written as pointblank's docs show: `col_vals_not_null`, `col_vals_regex`, `col_vals_in_set`,
`col_vals_gt/le/ge` (with `na_pass=True`, so a value that is missing or did not parse is not a
range failure) and `col_vals_expr` for the rules that need a polars expression; `interrogate`,
then `n_failed()` per step and the failing rows from `get_sundered_data(type="fail")`.

Two adaptations to pyrustpipe's semantics, both in plain polars before validating:
- the numbers are cast once (strict=False) into `*_value` columns, nulled where not finite
  (polars reads `NaN`/`inf`), and a `col_vals_expr` step says whether the text parsed;
- `rows_distinct(columns_subset="txn_id")` counts missing ids as duplicates of one another and is
  left out of `get_sundered_data`, so uniqueness is a `col_vals_expr` with `is_unique()`.
- `col_vals_in_set` fails a missing value; `None` in the set leaves nulls to `col_vals_not_null`.
"""

import pointblank as pb
import polars as pl
from _common import (
    COLUMNS,
    ISIN,
    PATTERNS,
    REQUIRED,
    RULES,
    TIMESTAMP,
    TIMESTAMP_FORMAT,
    csv_path,
    emit,
)


def _full(pattern: str) -> str:
    return f"^(?:{pattern})$"


def load(path: str) -> pl.DataFrame:
    frame = pl.read_csv(path, schema=dict.fromkeys(COLUMNS, pl.String))
    values = {}
    for col in ("amount", "fee"):
        value = pl.col(col).cast(pl.Float64, strict=False)
        values[f"{col}_value"] = pl.when(value.is_finite()).then(value)
    return frame.with_columns(**values)


def plan(frame: pl.DataFrame) -> tuple[pb.Validate, list[str]]:
    """The validation plan and, per step (1-based, in order), pyrustpipe's rule name."""
    v = pb.Validate(data=frame, tbl_name="transactions")
    steps: list[str] = []

    def step(rule: str, validate: pb.Validate) -> None:
        nonlocal v
        v = validate
        steps.append(rule)

    for col in REQUIRED:
        step(f"{col}:not_null", v.col_vals_not_null(col))
    for col, pattern in PATTERNS.items():
        step(f"{col}:pattern", v.col_vals_regex(col, _full(pattern), na_pass=True))
    tid = pl.col("txn_id")
    step("txn_id:unique", v.col_vals_expr(tid.is_null() | tid.is_unique()))
    ts = pl.col("timestamp")
    parsed = ts.str.strptime(pl.Datetime, TIMESTAMP_FORMAT, strict=False)
    shaped = ts.str.contains(_full(TIMESTAMP))
    step("timestamp:type", v.col_vals_expr(ts.is_null() | (shaped & parsed.is_not_null())))
    for col in ("amount", "fee"):
        parses = pl.col(col).is_null() | pl.col(f"{col}_value").is_not_null()
        step(f"{col}:type", v.col_vals_expr(parses))
    step("amount:gt", v.col_vals_gt("amount_value", 0, na_pass=True))
    step("amount:le", v.col_vals_le("amount_value", 1_000_000, na_pass=True))
    step("fee:ge", v.col_vals_ge("fee_value", 0, na_pass=True))
    step("fee_within_amount", v.col_vals_le("fee_value", pb.col("amount_value"), na_pass=True))
    for col, values in ISIN.items():
        step(f"{col}:isin", v.col_vals_in_set(col, [*values, None]))
    assert sorted(steps) == sorted(RULES)
    return v, steps


def main() -> None:
    frame = load(csv_path())
    validation, steps = plan(frame)
    validation = validation.interrogate(collect_extracts=False)
    failed = validation.n_failed()
    invalid = validation.get_sundered_data(type="fail").height
    emit(frame.height, invalid, {rule: failed[i + 1] for i, rule in enumerate(steps)})


if __name__ == "__main__":
    main()
