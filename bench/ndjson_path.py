"""NDJSON: the benchmark's transactions as JSON lines, checked by pyrustpipe and by the same
rules as a polars streaming scan of the lines, in one process.

    python bench/ndjson_path.py --rows 1000000 [--repeat 5]

Three files of the same rows: every value a JSON string (a text frame written by polars'
`write_ndjson`); the way an API or a log writes them, `amount` and `fee` as JSON numbers
(values that are not numbers written as null, so they fail `not_null` on both sides); and the
parties as nested objects (`"payer": {"msisdn": ..., "country": ...}, "payee": {"msisdn":
...}`), which pyrustpipe reads by dotted paths and polars as struct fields. polars reads each
with its schema given (no inference), its masks the transactions peer's
(`bench/peers/polars_streaming.py`). Both sides read the file from disk (the page cache, after
the first run); the sides run in alternating pairs, the ratio is the median of the pairs'
ratios. Every rule's count must agree.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import polars as pl
import pyrustpipe as pp

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH / "peers"))

from polars_streaming import counts  # noqa: E402
from rules import PHONE, Transactions  # noqa: E402
from run import dataset  # noqa: E402
from typed_path import our_counts, run_cases  # noqa: E402

# The nested file's fields, as (object, key, the transactions column it holds).
NESTED = (
    ("payer", "msisdn", "sender_phone"),
    ("payer", "country", "country"),
    ("payee", "msisdn", "receiver_phone"),
)


class NestedTransactions(Transactions):
    """The transactions' rules over the nested file: the parties' fields by dotted paths."""

    sender_phone: str = pp.Field(alias="payer.msisdn", pattern=PHONE)
    receiver_phone: str = pp.Field(alias="payee.msisdn", pattern=PHONE)
    country: str = pp.Field(alias="payer.country", pattern=r"^[A-Z]{2}$")


def polars_counts(path: Path, schema: dict[str, pl.DataType]) -> dict[str, int]:
    """rows, invalid_rows and each rule's count of failing rows (the ones not zero)."""
    row = counts(pl.scan_ndjson(path, schema=schema)).collect(engine="streaming").row(0, named=True)
    return {name: int(count) for name, count in row.items() if count}


def polars_nested_counts(path: Path, text: dict[str, pl.DataType]) -> dict[str, int]:
    """As `polars_counts`, the nested fields read as struct fields under their columns' names,
    and the counts named as pyrustpipe names them (by the dotted path)."""
    schema = {name: kind for name, kind in text.items() if name not in {c for *_, c in NESTED}}
    for parent in dict.fromkeys(parent for parent, *_ in NESTED):
        fields = {key: pl.String() for p, key, _ in NESTED if p == parent}
        schema[parent] = pl.Struct(fields)
    frame = pl.scan_ndjson(path, schema=schema).with_columns(
        pl.col(parent).struct.field(key).alias(column) for parent, key, column in NESTED
    )
    found = counts(frame).collect(engine="streaming").row(0, named=True)
    paths = {column: f"{parent}.{key}" for parent, key, column in NESTED}
    named = {}
    for name, count in found.items():
        column, _, rule = name.partition(":")
        named[f"{paths[column]}:{rule}" if column in paths and rule else name] = count
    return {name: int(count) for name, count in named.items() if count}


def schemas(strings: Path) -> tuple[dict[str, pl.DataType], dict[str, pl.DataType]]:
    """polars' schemas of the two files: every column a string; `amount` and `fee` numbers."""
    text = {name: pl.String() for name in pl.read_ndjson(strings, n_rows=1).columns}
    return text, {**text, "amount": pl.Float64(), "fee": pl.Float64()}


def write_files(rows: int, directory: Path = BENCH / "data") -> tuple[Path, Path, Path]:
    """The transactions as string-valued lines, as lines with numeric amounts, and with the
    parties as nested objects."""
    strings = directory / f"tx_{rows}_strings.ndjson"
    numbers = directory / f"tx_{rows}_numbers.ndjson"
    nested = directory / f"tx_{rows}_nested.ndjson"
    if strings.exists() and numbers.exists() and nested.exists():
        return strings, numbers, nested
    data, _ = dataset(rows, 42)
    frame = pl.read_csv(data, infer_schema=False)
    parents = {
        parent: pl.struct(pl.col(c).alias(key) for p, key, c in NESTED if p == parent).alias(parent)
        for parent, *_ in NESTED
    }
    # Each object where its first field was.
    places = {column: parent for parent, _, column in NESTED}
    columns = dict.fromkeys(places.get(name, name) for name in frame.columns)
    in_objects = frame.select(parents.get(name, pl.col(name)) for name in columns)
    for path, table in (
        (strings, frame),
        (numbers, frame.with_columns(pl.col("amount", "fee").cast(pl.Float64, strict=False))),
        (nested, in_objects),
    ):
        partial = path.with_suffix(".part")
        table.write_ndjson(partial)
        partial.replace(path)
    return strings, numbers, nested


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    strings, numbers, nested = write_files(args.rows)
    rules = pp.load_rules(str(BENCH / "rules.py") + ":Transactions")
    text_schema, number_schema = schemas(strings)
    cases = {
        "NDJSON, every value a string": (
            lambda: our_counts(pp.validate(str(strings), rules)),
            lambda: polars_counts(strings, text_schema),
        ),
        "NDJSON, amounts as numbers": (
            lambda: our_counts(pp.validate(str(numbers), rules)),
            lambda: polars_counts(numbers, number_schema),
        ),
        "NDJSON, parties as nested objects": (
            lambda: our_counts(pp.validate(str(nested), NestedTransactions)),
            lambda: polars_nested_counts(nested, text_schema),
        ),
    }
    run_cases(
        f"NDJSON: {args.rows:,} rows ({strings.stat().st_size / 1e6:.0f}, "
        f"{numbers.stat().st_size / 1e6:.0f} and {nested.stat().st_size / 1e6:.0f} MB)",
        f"python bench/ndjson_path.py --rows {args.rows} --repeat {args.repeat}",
        cases,
        args.repeat,
    )


if __name__ == "__main__":
    main()
