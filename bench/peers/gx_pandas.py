"""Peer: Great Expectations 1.x, an ExpectationSuite run on a pandas DataFrame (ephemeral context).

Written as GX 1.x's docs show: `gx.get_context(mode="ephemeral")`, a pandas data source with a
dataframe asset and a whole-dataframe batch definition, one suite of built-in expectations,
`batch.validate(suite, result_format=COMPLETE)`. Counts come from each expectation's
`unexpected_index_list` (row positions), so a rule made of two expectations and the rows failing
any rule are unions of row sets.

Adaptations to pyrustpipe's semantics (GX skips missing values in every map expectation but the
not-null one, as pyrustpipe does):
- read as strings with only the empty field missing (`NA` is Namibia);
- patterns end in `\\Z`, not `$`: GX's pandas regex is Python's `re`, whose `$` also matches
  before a trailing newline (pyrustpipe's `$` is end of text);
- numbers: the text must match docs/spec.md's float grammar (a regex expectation = `:type`); the
  range expectations run on `*_value` columns cast only where the text matched;
- timestamps: the two-digit shape (regex) and `ExpectColumnValuesToMatchStrftimeFormat` (the
  calendar; `strptime` alone accepts unpadded fields) together make `timestamp:type`.
"""

import os

os.environ["GX_ANALYTICS_ENABLED"] = "false"  # no network: set before GX is imported

import great_expectations as gx  # noqa: E402
import great_expectations.expectations as gxe  # noqa: E402
import pandas as pd  # noqa: E402
from _common import (  # noqa: E402
    FLOAT,
    ISIN,
    PATTERNS,
    REQUIRED,
    TIMESTAMP,
    TIMESTAMP_FORMAT,
    csv_path,
    emit,
)
from great_expectations.data_context.types.base import (  # noqa: E402
    DataContextConfig,
    InMemoryStoreBackendDefaults,
    ProgressBarsConfig,
)


def _full(pattern: str) -> str:
    return f"^(?:{pattern})\\Z"


def load(path: str) -> pd.DataFrame:
    df = pd.read_csv(path, engine="pyarrow", dtype=str, keep_default_na=False, na_values=[""])
    for col in ("amount", "fee"):
        text = df[col]
        df[f"{col}_value"] = pd.to_numeric(
            text.where(text.str.fullmatch(FLOAT, na=False)), errors="coerce"
        )
    return df


def expectations() -> list[tuple[str, gxe.Expectation]]:
    """(pyrustpipe rule, expectation); a rule listed twice is the union of its expectations."""
    out: list[tuple[str, gxe.Expectation]] = []
    for col in REQUIRED:
        out.append((f"{col}:not_null", gxe.ExpectColumnValuesToNotBeNull(column=col)))
    for col, pattern in PATTERNS.items():
        out.append(
            (f"{col}:pattern", gxe.ExpectColumnValuesToMatchRegex(column=col, regex=_full(pattern)))
        )
    out.append(("txn_id:unique", gxe.ExpectColumnValuesToBeUnique(column="txn_id")))
    out.append(
        (
            "timestamp:type",
            gxe.ExpectColumnValuesToMatchRegex(column="timestamp", regex=_full(TIMESTAMP)),
        )
    )
    out.append(
        (
            "timestamp:type",
            gxe.ExpectColumnValuesToMatchStrftimeFormat(
                column="timestamp", strftime_format=TIMESTAMP_FORMAT
            ),
        )
    )
    for col in ("amount", "fee"):
        out.append(
            (f"{col}:type", gxe.ExpectColumnValuesToMatchRegex(column=col, regex=_full(FLOAT)))
        )
    out.append(
        (
            "amount:gt",
            gxe.ExpectColumnValuesToBeBetween(column="amount_value", min_value=0, strict_min=True),
        )
    )
    out.append(
        ("amount:le", gxe.ExpectColumnValuesToBeBetween(column="amount_value", max_value=1_000_000))
    )
    out.append(("fee:ge", gxe.ExpectColumnValuesToBeBetween(column="fee_value", min_value=0)))
    out.append(
        (
            "fee_within_amount",
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="amount_value",
                column_B="fee_value",
                or_equal=True,
                ignore_row_if="either_value_is_missing",
            ),
        )
    )
    for col, values in ISIN.items():
        out.append((f"{col}:isin", gxe.ExpectColumnValuesToBeInSet(column=col, value_set=values)))
    return out


def main() -> None:
    df = load(csv_path())
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    context = gx.get_context(mode="ephemeral", project_config=config)
    asset = context.data_sources.add_pandas("bench").add_dataframe_asset("transactions")
    batch = asset.add_batch_definition_whole_dataframe("all").get_batch(
        batch_parameters={"dataframe": df}
    )
    rules = expectations()
    suite = context.suites.add(gx.ExpectationSuite(name="transactions"))
    for _, expectation in rules:
        suite.add_expectation(expectation)
    result = batch.validate(suite, result_format={"result_format": "COMPLETE"})
    failing: dict[str, set[int]] = {}
    by_id = {expectation.id: rule for rule, expectation in rules}
    for item in result.results:
        rows = item.result.get("unexpected_index_list") or []
        failing.setdefault(by_id[item.expectation_config.id], set()).update(rows)
    invalid = set().union(*failing.values())
    emit(len(df), len(invalid), {rule: len(rows) for rule, rows in failing.items()})


if __name__ == "__main__":
    main()
