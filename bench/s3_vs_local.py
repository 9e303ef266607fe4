"""Validate the same partitions from a local S3 server and from local disk, in one run.

    python bench/s3_vs_local.py --rows 1000000 --partitions 4 [--repeat 5]

The partitions are the benchmark's transactions file cut into `--partitions` files. The S3 side is
s3s-fs on loopback (SigV4 checked), so it shares the 2 cores with pyrustpipe: the ratio is an
upper bound on what a remote S3 adds to the engine's own work. Both sides run
`pyrustpipe validate` as a whole process; the counts must agree.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from run import dataset  # noqa: E402

from devtools.local_s3 import make_client, running_server  # noqa: E402

CLI = ROOT / ".venv" / "bin" / "pyrustpipe"
RULES = "bench/rules.py:Transactions"


def split(source: Path, parts: int, into: Path) -> list[Path]:
    """Cut a CSV into `parts` files of whole records, each with the header (the csv module finds
    the record boundaries, so quoted newlines never split a record)."""
    with source.open(newline="", encoding="utf-8", errors="surrogateescape") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    size = -(-len(body) // parts)
    paths = []
    for index in range(parts):
        path = into / f"part-{index:04d}.csv"
        with path.open("w", newline="", encoding="utf-8", errors="surrogateescape") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(body[index * size : (index + 1) * size])
        paths.append(path)
    return paths


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, dict]:
    began = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, check=False)
    wall = time.perf_counter() - began
    if done.returncode not in (0, 1):
        raise SystemExit(f"{cmd[:3]} failed: {done.stderr.decode()[-2000:]}")
    return wall, json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    data, _truth = dataset(args.rows, 42)
    with tempfile.TemporaryDirectory(prefix="pyrustpipe-s3bench-") as base:
        local_dir = Path(base) / "local"
        local_dir.mkdir()
        parts = split(data, args.partitions, local_dir)
        with running_server(Path(base) / "server") as server:
            s3 = make_client(server.endpoint_url, server.access_key_id, server.secret_access_key)
            s3.create_bucket(Bucket="raw")
            for path in parts:
                s3.upload_file(str(path), "raw", f"tx/{path.name}")
            env = dict(
                os.environ,
                AWS_ACCESS_KEY_ID=server.access_key_id,
                AWS_SECRET_ACCESS_KEY=server.secret_access_key,
            )
            local_cmd = [str(CLI), "validate", str(local_dir), "--rules", RULES, "--format", "json"]
            s3_cmd = [
                str(CLI),
                "validate",
                "s3://raw/tx/",
                "--rules",
                RULES,
                "--format",
                "json",
                "--endpoint-url",
                server.endpoint_url,
                "--region",
                server.region,
            ]
            local_times, s3_times = [], []
            _, local_report = timed(local_cmd, env)  # warm-up
            _, s3_report = timed(s3_cmd, env)
            for _ in range(args.repeat):  # alternate so machine load lands on both alike
                wall, local_report = timed(local_cmd, env)
                local_times.append(wall)
                wall, s3_report = timed(s3_cmd, env)
                s3_times.append(wall)
    same = all(
        local_report[key] == s3_report[key] for key in ("rows", "valid_rows", "invalid_rows")
    ) and [r["failed"] for r in local_report["rules"]] == [r["failed"] for r in s3_report["rules"]]
    local_s, s3_s = statistics.median(local_times), statistics.median(s3_times)
    print(f"## S3 vs local disk: {args.rows:,} rows in {args.partitions} partitions")
    print(
        f"- command: `python bench/s3_vs_local.py --rows {args.rows} "
        f"--partitions {args.partitions} --repeat {args.repeat}`"
    )
    print(f"- load average before/after: {os.getloadavg()[0]:.2f}")
    print("\n| source | median wall s | runs |\n|---|---|---|")
    print(f"| local disk | {local_s:.3f} | {', '.join(f'{t:.3f}' for t in local_times)} |")
    print(f"| S3 (s3s-fs, loopback) | {s3_s:.3f} | {', '.join(f'{t:.3f}' for t in s3_times)} |")
    print(f"\nS3 / local = {s3_s / local_s:.2f}x; counts agree: {same}")
    if not same:
        raise SystemExit("BENCHMARK FAILED: S3 and local counts differ")


if __name__ == "__main__":
    main()
