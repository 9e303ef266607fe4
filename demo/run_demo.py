"""`make demo`: generate a sample of transactions with injected faults, validate it with the
example rules through the CLI, and show the report, where the outputs went and the first
quarantined rows."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "demo_out"
ROWS = 200_000


def main() -> int:
    sys.path.insert(0, str(ROOT / "bench"))
    from generate import make  # the benchmark's seeded generator

    OUT.mkdir(exist_ok=True)
    data = OUT / "transactions.csv"
    where = data.relative_to(ROOT)
    print(f"Generating {ROWS:,} sample transactions (about 1.5% faulty) in {where}")
    make(ROWS, 7, data)
    quarantine = OUT / "quarantine.csv"
    valid = OUT / "valid.csv"
    metrics = OUT / "report.json"
    command = [
        str(Path(sys.executable).parent / "pyrustpipe"),
        "validate",
        str(data.relative_to(ROOT)),
        "--rules",
        "example_dags/rules/transactions.py:Transactions",
        "--quarantine",
        str(quarantine.relative_to(ROOT)),
        "--valid-output",
        str(valid.relative_to(ROOT)),
        "--metrics-output",
        str(metrics.relative_to(ROOT)),
    ]
    print("$ pyrustpipe " + " ".join(command[1:]), flush=True)
    code = subprocess.call(command, cwd=ROOT)
    if code not in (0, 1):
        return code
    print(f"\nQuarantine file: {quarantine}")
    with quarantine.open(newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        wanted = ["txn_id", "amount", "fee", "_pyrustpipe_errors", "_pyrustpipe_row"]
        index = [header.index(name) for name in wanted]
        print("First quarantined rows:")
        print("  " + " | ".join(wanted))
        for _, row in zip(range(8), reader, strict=False):
            print("  " + " | ".join(row[i] for i in index))
    print(f"Valid rows: {valid}\nReport JSON: {metrics}")
    verdict = "passed" if code == 0 else "the gate failed, as the injected faults should make it"
    print(f"(exit code {code}: {verdict})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
