"""What the quality ledger and history checks cost on a 1M-row run (docs/ledger.md): the same
file validated with the example rules, without a ledger and with one (28 earlier daily entries,
every aggregate history check on). Prints the best of ``--repeat`` wall times of each (the two
interleaved, so a burst of load on a shared machine hits both) and, with ``--instructions``, the
instructions callgrind counts for each run, the machine's noise left out.

    python bench/ledger_overhead.py --rows 1000000 --repeat 5 --instructions
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "example_dags" / "rules"))
sys.path.insert(0, str(REPO / "bench"))

import pyrustpipe as pp  # noqa: E402
from transactions import Transactions  # noqa: E402

from tests.data_gen import make_transactions  # noqa: E402

TODAY = dt.date(2026, 3, 1)


class WithHistory(Transactions):
    class Config:
        dataset = "bench"
        history = [
            pp.history.row_count(sigma=3, lookback=28, seasonality="weekday"),
            pp.history.null_fraction("agent_id"),
            pp.history.mean("amount", sigma=4),
            pp.history.freshness("timestamp", max_lag="400d"),
            pp.history.schema_drift(),
        ]


def run_once(mode: str, data: Path, ledger: Path) -> None:
    """One run as the benchmark times it: `plain`, `ledger`, or `idle` (imports only)."""
    if mode == "plain":
        pp.validate(str(data), Transactions)
    elif mode == "ledger":
        pp.validate(str(data), WithHistory, ledger=str(ledger), partition=f"dt={TODAY}")


def callgrind(mode: str, data: Path, ledger: Path) -> int:
    """Instructions of one `run_once(mode, ...)` process (bench/run.py's count)."""
    from run import callgrind_instructions

    return callgrind_instructions(
        [sys.executable, __file__, "--worker", mode, str(data), str(ledger)]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count instructions with valgrind's callgrind (slow: about a minute a run)",
    )
    parser.add_argument(
        "--worker", nargs=3, metavar=("MODE", "DATA", "LEDGER"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.worker:
        mode, data, ledger = args.worker
        run_once(mode, Path(data), Path(ledger))
        return
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        data = root / "big.csv"
        small = root / "small.csv"
        make_transactions(data, args.rows, seed=7)
        make_transactions(small, 2_000, seed=8)
        ledger = root / "ledger"
        for back in range(28, 0, -1):
            day = TODAY - dt.timedelta(days=back)
            pp.validate(str(small), WithHistory, ledger=str(ledger), partition=f"dt={day}")
        walls: dict[str, list[float]] = {"plain": [], "ledger": []}
        for _ in range(args.repeat):
            for mode, times in walls.items():
                start = time.perf_counter()
                run_once(mode, data, ledger)
                times.append(time.perf_counter() - start)
        plain, with_ledger = min(walls["plain"]), min(walls["ledger"])
        print("| rows | measure | without ledger | with ledger + 5 history checks | overhead |")
        print("|---|---|---|---|---|")
        print(
            f"| {args.rows:,} | wall, best of {args.repeat} | {plain:.3f} s | {with_ledger:.3f} s "
            f"| {with_ledger / plain - 1:+.1%} |"
        )
        if args.instructions:
            # The run's instructions: the process's minus those of one that only imports.
            idle = callgrind("idle", data, ledger)
            ir_plain = callgrind("plain", data, ledger) - idle
            ir_ledger = callgrind("ledger", data, ledger) - idle
            print(
                f"| {args.rows:,} | instructions (callgrind, imports excluded) | {ir_plain:,} "
                f"| {ir_ledger:,} | {ir_ledger / ir_plain - 1:+.1%} |"
            )


if __name__ == "__main__":
    main()
