"""NDJSON: the benchmark's transactions as JSON lines, checked by pyrustpipe and by the same
rules as a polars streaming scan of the lines, in one process.

    python bench/ndjson_path.py --rows 1000000 [--repeat 5]

Two files of the same rows: every value a JSON string (a text frame written by polars'
`write_ndjson`), and the way an API or a log writes them, `amount` and `fee` as JSON numbers
(values that are not numbers written as null, so they fail `not_null` on both sides). polars
reads each with its schema given (no inference), its masks the transactions peer's
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
from run import dataset  # noqa: E402
from typed_path import our_counts, run_cases  # noqa: E402


def polars_counts(path: Path, schema: dict[str, pl.DataType]) -> dict[str, int]:
    """rows, invalid_rows and each rule's count of failing rows (the ones not zero)."""
    row = counts(pl.scan_ndjson(path, schema=schema)).collect(engine="streaming").row(0, named=True)
    return {name: int(count) for name, count in row.items() if count}


def schemas(strings: Path) -> tuple[dict[str, pl.DataType], dict[str, pl.DataType]]:
    """polars' schemas of the two files: every column a string; `amount` and `fee` numbers."""
    text = {name: pl.String() for name in pl.read_ndjson(strings, n_rows=1).columns}
    return text, {**text, "amount": pl.Float64(), "fee": pl.Float64()}


def write_files(rows: int, directory: Path = BENCH / "data") -> tuple[Path, Path]:
    """The transactions as string-valued lines and as lines with numeric amounts."""
    strings = directory / f"tx_{rows}_strings.ndjson"
    numbers = directory / f"tx_{rows}_numbers.ndjson"
    if strings.exists() and numbers.exists():
        return strings, numbers
    data, _ = dataset(rows, 42)
    frame = pl.read_csv(data, infer_schema=False)
    for path, table in (
        (strings, frame),
        (numbers, frame.with_columns(pl.col("amount", "fee").cast(pl.Float64, strict=False))),
    ):
        partial = path.with_suffix(".part")
        table.write_ndjson(partial)
        partial.replace(path)
    return strings, numbers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    strings, numbers = write_files(args.rows)
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
    }
    run_cases(
        f"NDJSON: {args.rows:,} rows ({strings.stat().st_size / 1e6:.0f} and "
        f"{numbers.stat().st_size / 1e6:.0f} MB)",
        f"python bench/ndjson_path.py --rows {args.rows} --repeat {args.repeat}",
        cases,
        args.repeat,
    )


if __name__ == "__main__":
    main()
