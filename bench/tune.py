"""Compare variants of one peer (bench/tuning/*.py): whole processes, round-robin, strict counts.

    python bench/tune.py --rows 1000000 --repeat 7 bench/tuning/polars_v0_masks_twice.py ...
    python bench/tune.py --rows 200000 --instructions bench/tuning/duckdb_*.py

Every variant must report exactly pyrustpipe's counts (rows, invalid_rows, every rule), or it is
marked DISAGREES and must not be kept. Timing is bench/run.py's own (os.wait4, median wall and CPU
seconds over --repeat round-robin rounds after one warm-up); `--instructions` adds callgrind's
instruction count per row, measured as the difference between the full file and a file of the
first tenth of its rows, so interpreter start-up and imports cancel out (slow: run on ≤ 200k rows).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from run import (  # noqa: E402
    ROOT,
    command,
    dataset,
    disagreements,
    instructions_per_row,
    parse_counts,
    run_once,
)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("scripts", nargs="+", help="peer variants (one JSON line each)")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--instructions", action="store_true", help="also callgrind Ir/row")
    args = parser.parse_args()
    data, _ = dataset(args.rows, 42)
    reference = parse_counts("pyrustpipe", run_once(command("pyrustpipe", data), 1800))
    scripts = {Path(s).stem: str(Path(s).resolve()) for s in args.scripts}
    cmds = {name: [sys.executable, script, str(data)] for name, script in scripts.items()}
    verdict, walls, cpus = {}, {name: [] for name in cmds}, {name: [] for name in cmds}
    for name, cmd in cmds.items():  # warm-up: the checked output
        run = run_once(cmd, 1800)
        try:
            diffs = disagreements(reference, parse_counts(name, run))
            verdict[name] = "agrees" if not diffs else "DISAGREES: " + "; ".join(diffs[:4])
        except ValueError as exc:
            verdict[name] = f"FAILED: {exc}"
    for i in range(args.repeat):
        print(f"round {i + 1}/{args.repeat}", file=sys.stderr, flush=True)
        for name, cmd in cmds.items():
            if verdict[name] == "agrees":
                run = run_once(cmd, 1800)
                walls[name].append(run.wall)
                cpus[name].append(run.cpu)
    print(f"{args.rows:,} rows, median of {args.repeat} (round-robin), {ROOT.name}")
    print("| variant | wall s | cpu s | min wall s | Ir/row | counts |")
    print("|---|---|---|---|---|---|")
    for name, script in scripts.items():
        if not walls[name]:
            print(f"| {name} | — | — | — | — | {verdict[name]} |")
            continue
        ir = "—"
        if args.instructions:
            per_row = instructions_per_row(
                lambda d, s=script: [sys.executable, s, str(d)], args.rows
            )
            ir = f"{per_row:,.0f}"
        print(
            f"| {name} | {statistics.median(walls[name]):.3f} | "
            f"{statistics.median(cpus[name]):.3f} | {min(walls[name]):.3f} | {ir} | "
            f"{verdict[name]} |"
        )


if __name__ == "__main__":
    main()
