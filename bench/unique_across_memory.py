"""What ``history.unique_across`` holds in memory (docs/ledger.md): the peak resident memory of
a run with a ledger of ``--days`` earlier daily entries of ``--keys`` distinct keys each, and of
the same run with an empty ledger (the check skipped), as the operating system reports them —
for a day as large as the earlier ones, and for a 1,000-row day (where the window dominates).

    python bench/unique_across_memory.py --keys 1000000 --days 7
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "python"))

import pyrustpipe as pp  # noqa: E402

TODAY = dt.date(2026, 3, 1)


class Keys(pp.Schema):
    txn_id: str
    amount: float

    class Config:
        dataset = "keys"
        history = [pp.history.unique_across("txn_id", lookback=7)]


def write_day(path: Path, day: int, keys: int) -> None:
    with path.open("w") as out:
        out.write("txn_id,amount\n")
        out.writelines(f"T{day:03d}{row:09d},{row % 1000}.25\n" for row in range(keys))


def run(data: Path, ledger: Path, day: dt.date) -> None:
    pp.validate(str(data), Keys, ledger=str(ledger), partition=f"dt={day}")


def peak_mib(data: Path, ledger: Path) -> float:
    """The peak resident memory (MiB) of a fresh process validating today's file: its VmHWM
    (``ru_maxrss`` would carry this process's own peak across the fork)."""
    code = (
        f"import sys; sys.argv = ['x']; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
        "import unique_across_memory as m, pathlib; "
        f"m.run(pathlib.Path({str(data)!r}), pathlib.Path({str(ledger)!r}), m.TODAY); "
        "print(open('/proc/self/status').read().split('VmHWM:')[1].split()[0])"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return int(out.stdout.split()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        full, empty = root / "ledger", root / "empty"
        for back in range(args.days, 0, -1):
            data = root / f"day-{back}.csv"
            write_day(data, back, args.keys)
            run(data, full, TODAY - dt.timedelta(days=back))
            data.unlink()
        entries = sum(p.stat().st_size for p in full.rglob("*.parquet"))
        print(json.dumps({"keys_per_day": args.keys, "days": args.days}))
        print(
            "| earlier keys | entries on disk | today's rows | peak RSS, empty ledger "
            "| with the window | window cost |"
        )
        print("|---|---|---|---|---|---|")
        for rows in (args.keys, 1_000):
            today = root / "today.csv"
            write_day(today, 0, rows)
            with_window = peak_mib(today, full)
            without = peak_mib(today, empty)
            extra = with_window - without
            print(
                f"| {args.keys * args.days:,} | {entries / 2**20:.1f} MiB | {rows:,} "
                f"| {without:.0f} MiB | {with_window:.0f} MiB | {extra:+.0f} MiB "
                f"({extra * 2**20 / (args.keys * args.days):.1f} bytes/key) |"
            )


if __name__ == "__main__":
    main()
