"""Instructions of one `pp.validate` call, for comparing two builds of the engine (issue 12).

    python bench/instructions.py [--package DIR] [--source csv|frame] [--rules bench|floor]
                                 [--rows 100000] [--top 25]

Runs a child process under `valgrind --tool=callgrind` twice, importing pyrustpipe from
`--package` (a directory holding a `pyrustpipe/` package; default `python/`): once doing nothing
and once validating the benchmark's data with the benchmark's rules on one thread. The
difference is the call's own instructions, start-up and imports cancelled out; it is repeatable
to a fraction of a percent on this noisy machine, where wall time is not.

`--source csv` reads the generated transactions CSV of `--rows` rows; `--source frame` builds
the typed polars frame of `bench/typed_path.py` (read from a cached Parquet file before the
count starts). To compare two builds, put each build's `_core.abi3.so` in a copy of the package
(byte-compile it: `python -m compileall -q DIR`) and run this once per copy. `--top` lists the
call's heaviest engine functions (inclusive), from `callgrind_annotate`; a build with symbols
(`PYRUSTPIPE_KEEP_SYMBOLS=1 CARGO_PROFILE_RELEASE_DEBUG=line-tables-only`) names them.
`--rules floor` validates with `bench/floor.json` instead (every column `str`, no checks): the
parse pipeline alone, issue 12's floor.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
# One `callgrind_annotate --inclusive=yes` line: count, share, `file:function [object]`.
SPLIT = re.compile(r"\s*([\d,]+) \([ \d.]+%\)\s+[^:\s]+:(pyrustpipe_core::.*?)(?: \[[^\]]*\])?$")


def child(package: str, source: str, rules: str, data: str, validations: int) -> None:
    """The measured process: import, load the data, validate `validations` times."""
    sys.path.insert(0, package)
    sys.path.insert(0, str(BENCH))
    import pyrustpipe as pp
    from rules import Transactions

    schema: object = Transactions if rules == "bench" else pp.Spec.from_file(BENCH / "floor.json")
    table: object = data
    if source == "frame":
        import polars as pl

        table = pl.read_parquet(data)
    for _ in range(validations):
        pp.validate(table, schema, threads=1)  # type: ignore[arg-type]


def data_path(source: str, rows: int) -> Path:
    """The CSV of `rows` generated rows, or for a frame its typed Parquet copy (made once)."""
    sys.path.insert(0, str(BENCH))
    from run import DATA, dataset

    csv, _ = dataset(rows, 42)
    if source == "csv":
        return csv
    parquet = DATA / f"{csv.stem}.typed.parquet"
    if not parquet.exists():
        from typed_path import typed_frame

        typed_frame(rows).write_parquet(parquet)
    return parquet


def function_totals(annotated: str) -> dict[str, int]:
    """Each pyrustpipe_core function's inclusive instructions in `callgrind_annotate
    --inclusive=yes` output. The tool splits a function by the source file of its (inlined)
    lines and counts a move between splits as a call, so the outermost split holds the others:
    a function's total is its largest split."""
    totals: dict[str, int] = {}
    for line in annotated.splitlines():
        found = SPLIT.match(line)
        if found:
            function = found.group(2)
            totals[function] = max(totals.get(function, 0), int(found.group(1).replace(",", "")))
    return totals


def heaviest(profile: Path, top: int) -> list[tuple[int, str]]:
    """The `top` heaviest pyrustpipe_core functions of a callgrind profile, inclusive."""
    annotated = subprocess.run(
        ["callgrind_annotate", "--inclusive=yes", str(profile)],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    totals = function_totals(annotated)
    return sorted(((n, f) for f, n in totals.items()), reverse=True)[:top]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--package", default=str(ROOT / "python"))
    parser.add_argument("--source", choices=["csv", "frame"], default="csv")
    parser.add_argument("--rules", choices=["bench", "floor"], default="bench")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--top", type=int, default=0, help="list the heaviest engine functions")
    parser.add_argument(
        "--child", nargs=4, metavar=("SOURCE", "RULES", "DATA", "N"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        source, rules, data, validations = args.child
        child(args.package, source, rules, data, int(validations))
        return
    from run import callgrind_instructions

    data = data_path(args.source, args.rows)
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for validations in (0, 1):
            argv = [sys.executable, __file__, "--package", args.package, "--child"]
            argv += [args.source, args.rules, str(data), str(validations)]
            runs.append(callgrind_instructions(argv, Path(tmp) / f"cg.{validations}"))
        call = runs[1] - runs[0]
        print(f"package: {os.path.abspath(args.package)}")
        print(f"source: {args.source}, {args.rows:,} rows ({data.name}), rules: {args.rules}")
        print(f"one validate: {call:,} instructions ({call / args.rows:,.0f} a row)")
        for instructions, function in heaviest(Path(tmp) / "cg.1", args.top):
            print(f"  {instructions:>13,}  {function}")


if __name__ == "__main__":
    main()
