"""Peer: a pandera DataFrameSchema on pandas, lazy=True; failure cases counted per check.

Columns are read as str (empty field -> null, "NA" kept as Namibia); typed checks are custom
vectorised Checks that pass for values that did not parse, so a type failure is reported once,
under `<column>:type`, as pyrustpipe does.
"""

import pandas as pd
import pandera.pandas as pa
from _common import FLOAT, ISIN, PATTERNS, TIMESTAMP, TIMESTAMP_FORMAT, csv_path, emit

# pandera's built-in check names -> pyrustpipe's rule suffixes
BUILTIN = {"not_nullable": "not_null", "field_uniqueness": "unique"}


def _number(s: pd.Series) -> pd.Series:
    """NaN where the text is outside the float grammar (a type failure, reported elsewhere)."""
    return pd.to_numeric(s.where(s.str.fullmatch(FLOAT)), errors="coerce")


def _timestamp_ok(s: pd.Series) -> pd.Series:
    parsed = pd.to_datetime(
        s.where(s.str.fullmatch(TIMESTAMP)), format=TIMESTAMP_FORMAT, errors="coerce"
    )
    return parsed.notna()


def _fee_within_amount(df: pd.DataFrame) -> pd.Series:
    amount, fee = _number(df["amount"]), _number(df["fee"])
    return amount.isna() | fee.isna() | (fee <= amount)


def schema() -> pa.DataFrameSchema:
    columns = {
        col: pa.Column(str, pa.Check(lambda s, p=p: s.str.fullmatch(p), name="pattern"))
        for col, p in PATTERNS.items()
    }
    columns["txn_id"] = pa.Column(str, columns["txn_id"].checks, unique=True)
    columns["timestamp"] = pa.Column(str, pa.Check(_timestamp_ok, name="type"))
    columns["amount"] = pa.Column(
        str,
        [
            pa.Check(lambda s: s.str.fullmatch(FLOAT), name="type"),
            pa.Check(lambda s: _number(s).isna() | (_number(s) > 0), name="gt"),
            pa.Check(lambda s: _number(s).isna() | (_number(s) <= 1_000_000), name="le"),
        ],
    )
    columns["fee"] = pa.Column(
        str,
        [
            pa.Check(lambda s: s.str.fullmatch(FLOAT), name="type"),
            pa.Check(lambda s: _number(s).isna() | (_number(s) >= 0), name="ge"),
        ],
    )
    for col, values in ISIN.items():
        columns[col] = pa.Column(str, pa.Check.isin(values, name="isin"))
    columns["agent_id"] = pa.Column(str, nullable=True)
    return pa.DataFrameSchema(
        columns, checks=[pa.Check(_fee_within_amount, name="fee_within_amount")]
    )


def main() -> None:
    df = pd.read_csv(csv_path(), engine="pyarrow", dtype=str, keep_default_na=False, na_values=[""])
    failures: dict[str, int] = {}
    invalid = 0
    try:
        schema().validate(df, lazy=True)
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases
        cases = cases[cases["index"].notna()]
        check = cases["check"].astype(str).str.split("(").str[0]  # "isin(['KES', ...])" -> "isin"
        column_rule = cases["column"].astype(str) + ":" + check.replace(BUILTIN)
        # A DataFrame-level check (the row rule) lists one failure case per cell of a bad row.
        cases = cases.assign(
            rule=column_rule.where(cases["schema_context"] != "DataFrameSchema", check)
        )
        failures = cases.groupby("rule")["index"].nunique().to_dict()
        invalid = cases["index"].nunique()
    emit(len(df), invalid, failures)


if __name__ == "__main__":
    main()
