"""Scale numbers on the local Airflow cluster (make cluster-up): per-task overhead, throughput
with two workers and with one, S3 throughput per worker. docs/scale.md quotes its output.

    python bench/cluster_scale.py --rows 200000 --partitions 8

The fan-out example Dag runs twice over the same data (two days, the same files): with both
Celery workers, then with worker2 stopped (it is started again at the end). Per mapped task:
Airflow's start and end (REST API) and the engine's own ``duration_s`` and ``bytes`` (each
partition's report.json); overhead = task duration - engine duration.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from devtools.airflow_cluster import FANOUT, Cluster, read_cluster, read_json, wait_until  # noqa: E402
from tests.data_gen import make_transactions  # noqa: E402


def when(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def one_run(cluster: Cluster, ds: str, data: Path, partitions: int) -> dict[str, Any]:
    client = cluster.s3()
    for i in range(partitions):
        key = f"landing/transactions/{ds}/part-{i:03d}.csv"
        client.upload_file(str(data), cluster.bucket, key)
    run_id = cluster.trigger(FANOUT, ds)
    state = cluster.wait_run(FANOUT, run_id)
    if state != "success":
        raise SystemExit(f"run {run_id} ended {state}")
    tis = [
        t for t in cluster.task_instances(FANOUT, run_id) if t["task_id"] == "validate_partition"
    ]
    tasks = []
    for t in tis:
        part = f"part-{t['map_index']:03d}"
        report = read_json(
            client, cluster.bucket, f"dq-metrics/transactions/{ds}/{part}/report.json"
        )
        duration = (when(t["end_date"]) - when(t["start_date"])).total_seconds()
        tasks.append(
            {
                "host": t["hostname"],
                "start": when(t["start_date"]),
                "end": when(t["end_date"]),
                "task_s": duration,
                "engine_s": float(report["duration_s"]),
                "bytes": int(report["bytes"]),
                "rows": int(report["rows"]),
            }
        )
    span = (max(t["end"] for t in tasks) - min(t["start"] for t in tasks)).total_seconds()
    run = cluster.api("GET", f"/dags/{FANOUT}/dagRuns/{run_id}")
    wall = (when(run["end_date"]) - when(run["start_date"])).total_seconds()
    return {"tasks": tasks, "span_s": span, "wall_s": wall}


def describe(name: str, result: dict[str, Any]) -> list[str]:
    tasks = result["tasks"]
    rows = sum(t["rows"] for t in tasks)
    size = sum(t["bytes"] for t in tasks)
    overhead = [t["task_s"] - t["engine_s"] for t in tasks]
    task_s = statistics.median(t["task_s"] for t in tasks)
    engine_s = statistics.median(t["engine_s"] for t in tasks)
    lines = [
        f"### {name}",
        "",
        f"- mapped tasks: {len(tasks)}, rows {rows:,}, input {size / 1e6:.1f} MB",
        f"- Dag run wall clock (start to end, list + mapped + gate): {result['wall_s']:.1f} s",
        f"- mapped span (first task start to last task end): {result['span_s']:.1f} s "
        f"→ {rows / result['span_s']:,.0f} rows/s, {size / 1e6 / result['span_s']:.1f} MB/s",
        f"- per task: Airflow task duration median {task_s:.2f} s, "
        f"engine (read, check, write, commit) median {engine_s:.2f} s, "
        f"overhead (task - engine) median {statistics.median(overhead):.2f} s, "
        f"min {min(overhead):.2f} s, max {max(overhead):.2f} s",
    ]
    for host in sorted({t["host"] for t in tasks}):
        mine = [t for t in tasks if t["host"] == host]
        engine = sum(t["engine_s"] for t in mine)
        moved = sum(t["bytes"] for t in mine)
        lines.append(
            f"- {host}: {len(mine)} tasks, engine S3 throughput {moved / 1e6 / engine:.1f} MB/s "
            f"({sum(t['rows'] for t in mine) / engine:,.0f} rows/s) per task, summed over its tasks"
        )
    return [*lines, ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000, help="rows per partition")
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--days", default="2026-05-01,2026-05-02", help="two unused days")
    args = parser.parse_args()
    cluster = read_cluster()
    cluster.unpause(FANOUT)
    two, one = args.days.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "transactions.csv"
        make_transactions(data, args.rows, 21, 0.01)
        both = one_run(cluster, two, data, args.partitions)
        cluster.control("kill", "worker2")
        wait_until("worker2 gone", lambda: "worker2" not in cluster.workers_answering())
        try:
            single = one_run(cluster, one, data, args.partitions)
        finally:
            cluster.control("start", "worker2")
            wait_until("worker2 back", lambda: "worker2" in cluster.workers_answering())
    print(f"## Cluster scale: {args.partitions} partitions x {args.rows:,} rows\n")
    print("\n".join(describe("Two Celery workers (concurrency 2 each)", both)))
    print("\n".join(describe("One Celery worker (worker2 stopped)", single)))


if __name__ == "__main__":
    main()
