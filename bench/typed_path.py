"""Typed sources: a typed Parquet file and a typed in-memory polars DataFrame validated by
pyrustpipe against the same rules written as polars expressions, in one process.

    python bench/typed_path.py --rows 1000000 [--repeat 5] [--compression zstd]

The data is the benchmark's transactions with `timestamp` as a datetime and `amount` / `fee` as
float64, as a pipeline that typed its data would hold them (values that do not convert are null,
so they fail `not_null` on both sides). pyrustpipe reads typed columns as values, not as text.
Only validation is timed: for Parquet both sides read the file (polars `scan_parquet`), for the
frame both start from it in memory. The Parquet file is there twice: as polars writes it (a row
group every ~100K rows) and as pyarrow and pandas write it (one row group of up to 1Mi rows).
The two sides run in alternating pairs, so a noisy moment of the host falls on both, and the
ratio is the median of the pairs' ratios. Every rule's count must agree. Both files are written
with `--compression` (polars' default, zstd).

The last table is the floor under the Parquet ratio: reading the file alone (every column
decoded, nothing checked) with polars' and pyarrow's readers, beside the time a 5x lead would
leave pyrustpipe — when the fastest reader alone needs more than that, no validator that decodes
the file can meet the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Sized
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH / "peers"))

import polars as pl  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
import pyrustpipe as pp  # noqa: E402
from _common import TIMESTAMP_FORMAT  # noqa: E402
from polars_streaming import failure_masks as text_failure_masks  # noqa: E402
from run import dataset  # noqa: E402


def typed_frame(rows: int) -> pl.DataFrame:
    """The benchmark data with its datetime and float columns typed (unconvertible → null)."""
    data, _ = dataset(rows, 42)
    return pl.read_csv(data, infer_schema=False).with_columns(
        pl.col("timestamp").str.strptime(pl.Datetime("us"), TIMESTAMP_FORMAT, strict=False),
        pl.col("amount").cast(pl.Float64, strict=False),
        pl.col("fee").cast(pl.Float64, strict=False),
    )


def failure_masks() -> dict[str, pl.Expr]:
    """polars_streaming's expressions, which hold for typed columns too (a float64 cast to float64
    is itself; NaN and inf fail `type` as their text would), less the timestamp's text check:
    a datetime column holds datetimes or nulls."""
    masks = text_failure_masks()
    del masks["timestamp:type"]
    return masks


def polars_counts(frame: pl.LazyFrame) -> dict[str, int]:
    """rows, invalid_rows and every rule's failures, each mask evaluated once."""
    return mask_counts(frame, failure_masks())


def mask_counts(
    frame: pl.LazyFrame, masks: dict[str, pl.Expr], *, streaming: bool = False
) -> dict[str, int]:
    """rows, invalid_rows and each mask's count of true rows, each mask evaluated once; only
    the counts that are not zero. `streaming` for a scan of a file (polars' streaming engine)."""
    names = list(masks)
    row = (
        frame.select(**masks)
        .select(
            pl.len().alias("rows"),
            pl.any_horizontal(names).sum().alias("invalid_rows"),
            pl.col(names).sum(),
        )
        .collect(engine="streaming" if streaming else "auto")
        .row(0, named=True)
    )
    return {name: int(count) for name, count in row.items() if count}


def our_counts(report: pp.Report) -> dict[str, int]:
    counts = {"rows": report.rows, "invalid_rows": report.invalid_rows}
    counts.update({rule.name: rule.failed for rule in report.rules if rule.failed})
    return counts


def timed(run: Callable[[], dict[str, int]], repeat: int) -> tuple[float, dict[str, int]]:
    result = run()  # warm-up
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - began)
    return statistics.median(times), result


def timed_pairs(
    ours: Callable[[], dict[str, int]], theirs: Callable[[], dict[str, int]], repeat: int
) -> tuple[float, float, float, dict[str, int], dict[str, int]]:
    """Both sides `repeat` times in alternating pairs (after one warm-up each): their median
    seconds, the median of the pairs' ratios (theirs / ours), and each side's last counts."""
    our_result, their_result = ours(), theirs()
    our_times, their_times = [], []
    for _ in range(repeat):
        began = time.perf_counter()
        our_result = ours()
        our_times.append(time.perf_counter() - began)
        began = time.perf_counter()
        their_result = theirs()
        their_times.append(time.perf_counter() - began)
    ratio = statistics.median(t / o for o, t in zip(our_times, their_times, strict=True))
    return (
        statistics.median(our_times),
        statistics.median(their_times),
        ratio,
        our_result,
        their_result,
    )


Case = tuple[Callable[[], dict[str, int]], Callable[[], dict[str, int]]]


def compare_cases(cases: dict[str, Case], repeat: int) -> tuple[dict[str, float], list[str]]:
    """Each case's two sides timed in pairs, a markdown row each: polars' median seconds by case,
    and the cases whose counts disagree."""
    print(
        "\n| source | pyrustpipe s | polars expressions s | polars / pyrustpipe (median of pairs)"
        " | counts agree |"
    )
    print("|---|---|---|---|---|")
    polars_times, failures = {}, []
    for name, (ours, theirs) in cases.items():
        our_time, their_time, ratio, our_result, their_result = timed_pairs(ours, theirs, repeat)
        polars_times[name] = their_time
        agree = our_result == their_result
        print(
            f"| {name} | {our_time:.3f} | {their_time:.3f} | {ratio:.2f}x "
            f"| {'yes' if agree else 'NO'} |"
        )
        if not agree:
            failures.append(f"{name}: pyrustpipe {our_result} vs polars {their_result}")
    return polars_times, failures


def run_cases(title: str, command: str, cases: dict[str, Case], repeat: int) -> None:
    """A benchmark's table under its title and command; exits failed when any counts disagree."""
    print(f"## {title}")
    print(f"- command: `{command}`")
    _, failures = compare_cases(cases, repeat)
    if failures:
        raise SystemExit("BENCHMARK FAILED: " + "; ".join(failures))


def read_floor(parquet: Path, repeat: int, polars_checks: float) -> None:
    """The Parquet file read whole, nothing checked, by the two fastest readers at hand."""
    readers: dict[str, Callable[[], Sized]] = {
        "polars `read_parquet`": lambda: pl.read_parquet(parquet),
        "pyarrow `read_table`": lambda: pq.read_table(parquet),
    }
    print(f"\n| read alone (no checks) | s | a 5x lead over polars' {polars_checks:.3f} s |")
    print("|---|---|---|")
    for name, read in readers.items():

        def rows(read: Callable[[], Sized] = read) -> dict[str, int]:
            return {"rows": len(read())}

        seconds, _ = timed(rows, repeat)
        print(f"| {name} | {seconds:.3f} | {polars_checks / 5:.3f} s |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--compression", default="zstd", help="the Parquet file's codec (polars' default: zstd)"
    )
    args = parser.parse_args()
    frame = typed_frame(args.rows)
    parquet = BENCH / "data" / f"tx_{args.rows}_typed.parquet"
    frame.write_parquet(parquet, compression=args.compression)
    # pyarrow (and pandas through it) writes up to 1Mi rows to one row group, where polars cuts
    # a row group every ~100K rows: the same rows as most pipelines' files hold them.
    one_group = BENCH / "data" / f"tx_{args.rows}_typed_one_group.parquet"
    pq.write_table(frame.to_arrow(), one_group, compression=args.compression)
    rules = pp.load_rules(str(BENCH / "rules.py") + ":Transactions")

    cases = {
        "typed Parquet file": (
            lambda: our_counts(pp.validate(str(parquet), rules)),
            lambda: polars_counts(pl.scan_parquet(parquet)),
        ),
        "typed Parquet file, written by pyarrow": (
            lambda: our_counts(pp.validate(str(one_group), rules)),
            lambda: polars_counts(pl.scan_parquet(one_group)),
        ),
        "typed polars DataFrame": (
            lambda: our_counts(pp.validate(frame, rules)),
            lambda: polars_counts(frame.lazy()),
        ),
    }
    print(f"## Typed sources: {args.rows:,} rows")
    print(
        f"- command: `python bench/typed_path.py --rows {args.rows} --repeat {args.repeat}"
        f" --compression {args.compression}`"
    )
    polars_times, failures = compare_cases(cases, args.repeat)
    read_floor(parquet, args.repeat, polars_times["typed Parquet file"])
    if failures:
        raise SystemExit("BENCHMARK FAILED: " + "; ".join(failures))


if __name__ == "__main__":
    main()
