"""What a playground backtest costs (docs/playground.md): ``--days`` daily partitions of
``tests/ledger/daily.py`` (about 900 rows a day) validated into a ledger, then a tightened rule
(``amount > 100``: half the rows newly fail) and the unchanged spec backtested over all of them.
Prints the best of ``--repeat`` runs of each.

    python bench/backtest.py --days 30 --repeat 3
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import pyrustpipe as pp  # noqa: E402
from pyrustpipe.backtest import backtest  # noqa: E402

from tests.ledger.daily import Transactions, day, partition, write_day  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    base = copy.deepcopy(dict(Transactions.to_spec()))
    base.pop("history", None)
    tight = copy.deepcopy(base)
    for column in tight["columns"]:
        if column["name"] == "amount":
            column["checks"] = [{"type": "gt", "value": 100}]
    with tempfile.TemporaryDirectory() as folder:
        data, ledger = Path(folder) / "raw", str(Path(folder) / "ledger")
        for index in range(args.days):
            path = write_day(data, day(index))
            pp.validate(str(path), pp.Spec(base), ledger=ledger, partition=partition(day(index)))
        for label, spec in (("tightened", tight), ("unchanged", base)):
            best, result = float("inf"), None
            for _ in range(args.repeat):
                start = time.perf_counter()
                result = backtest(
                    json.dumps(spec), ledger=ledger, dataset="transactions", last=args.days
                ).to_dict()
                best = min(best, time.perf_counter() - start)
            assert result is not None
            totals = result["totals"]
            print(
                f"{label}: {totals['compared']} partitions, {totals['rows']:,} rows, "
                f"{totals['newly_failing']:,} newly failing, {totals['newly_passing']:,} newly "
                f"passing: best {best:.2f} s of {args.repeat}"
            )


if __name__ == "__main__":
    main()
