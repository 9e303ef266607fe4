"""What the quality ledger and history checks cost on a 1M-row run (docs/ledger.md): the same
file validated with the example rules, without a ledger and with one (28 earlier daily entries,
every history check on). Prints the best of ``--repeat`` runs of each and the overhead.

    python bench/ledger_overhead.py --rows 1000000 --repeat 5
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

import pyrustpipe as pp  # noqa: E402
from transactions import Transactions  # noqa: E402

from tests.data_gen import make_transactions  # noqa: E402


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


def best(repeat: int, run: object) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        data = root / "big.csv"
        small = root / "small.csv"
        make_transactions(data, args.rows, seed=7)
        make_transactions(small, 2_000, seed=8)
        ledger = root / "ledger"
        today = dt.date(2026, 3, 1)
        for back in range(28, 0, -1):
            day = today - dt.timedelta(days=back)
            pp.validate(str(small), WithHistory, ledger=str(ledger), partition=f"dt={day}")
        plain = best(args.repeat, lambda: pp.validate(str(data), Transactions))
        with_ledger = best(
            args.repeat,
            lambda: pp.validate(
                str(data), WithHistory, ledger=str(ledger), partition=f"dt={today}"
            ),
        )
    overhead = with_ledger / plain - 1
    print("| rows | without ledger | with ledger + 5 history checks | overhead |")
    print("|---|---|---|---|")
    print(f"| {args.rows:,} | {plain:.3f} s | {with_ledger:.3f} s | {overhead:+.1%} |")


if __name__ == "__main__":
    main()
