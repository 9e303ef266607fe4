"""The in-memory path: a 1M-row polars DataFrame validated by `pp.validate(frame, ...)`
against the same checks written as polars expressions on the same frame, in one process.

    python bench/arrow_path.py --rows 1000000 [--repeat 5]

Both sides start from the frame already in memory (all columns as strings, empty = null, as the
CSV reads); only validation is timed. The counts must agree.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH / "peers"))

import polars as pl  # noqa: E402
import pyrustpipe as pp  # noqa: E402
from polars_streaming import failure_masks  # noqa: E402
from run import dataset  # noqa: E402


def polars_counts(frame: pl.DataFrame) -> tuple[int, int]:
    masks = failure_masks()
    row = frame.select(
        pl.len().alias("rows"),
        pl.any_horizontal(list(masks.values())).sum().alias("invalid_rows"),
    ).row(0)
    return int(row[0]), int(row[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    data, _ = dataset(args.rows, 42)
    frame = pl.read_csv(data, infer_schema=False)
    rules = pp.load_rules(str(ROOT / "bench" / "rules.py") + ":Transactions")

    ours, theirs = [], []
    report = pp.validate(frame, rules)  # warm-up
    counts = polars_counts(frame)
    for _ in range(args.repeat):
        began = time.perf_counter()
        report = pp.validate(frame, rules)
        ours.append(time.perf_counter() - began)
        began = time.perf_counter()
        counts = polars_counts(frame)
        theirs.append(time.perf_counter() - began)
    agree = (report.rows, report.invalid_rows) == counts
    a, b = statistics.median(ours), statistics.median(theirs)
    print(f"## In-memory path: a {args.rows:,}-row polars DataFrame")
    print(f"- command: `python bench/arrow_path.py --rows {args.rows} --repeat {args.repeat}`")
    print("\n| validator | median s | rows/s |\n|---|---|---|")
    print(f"| pp.validate(frame) | {a:.3f} | {args.rows / a:,.0f} |")
    print(f"| polars expressions | {b:.3f} | {args.rows / b:,.0f} |")
    print(f"\npyrustpipe / polars time = {a / b:.2f}x; counts agree: {agree}")
    if not agree:
        raise SystemExit(
            f"BENCHMARK FAILED: pyrustpipe {report.rows, report.invalid_rows} vs polars {counts}"
        )


if __name__ == "__main__":
    main()
