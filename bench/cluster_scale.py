"""Scale numbers on the local Airflow cluster (make cluster-up): per-task overhead, throughput
with two workers and with one, S3 throughput per worker. docs/scale.md quotes its output.

    python bench/cluster_scale.py --rows 200000 --partitions 8

The fan-out example Dag runs twice over the same data (two days, the same files): with both
Celery workers, then with worker2 stopped (it is started again at the end). Per mapped task,
its phases: queued -> started (REST API ``queued_when``, ``start_date``); started -> engine
start (the task log's end of "Pre Execute": Dag file parsed, operator ready); engine start ->
committed (the log line with the summary, written after the commit); committed -> task end
(XCom push, state); and the engine's own ``duration_s`` (read, check, stage the outputs: the
upload and commit come after it) and ``bytes`` from the partition's report.json.
"""

from __future__ import annotations

import argparse
import json
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


def log_marks(cluster: Cluster, run_id: str, ti: dict[str, Any]) -> tuple[datetime, datetime]:
    """(engine start, committed) from the task's log: the end of the "Pre Execute" group, and
    the operator's summary line (logged once the outputs are committed)."""
    path = cluster.task_log(FANOUT, run_id, "validate_partition", ti["map_index"], ti["try_number"])
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]
    ready = next(e for e in lines if e["event"] == "::endgroup::")
    summary = next(e for e in lines if str(e["event"]).startswith("pyrustpipe Transactions:"))
    return when(ready["timestamp"]), when(summary["timestamp"])


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
        started, ended = when(t["start_date"]), when(t["end_date"])
        ready, committed = log_marks(cluster, run_id, t)
        tasks.append(
            {
                "host": t["hostname"],
                "start": started,
                "end": ended,
                "task_s": (ended - started).total_seconds(),
                "queued_s": (started - when(t["queued_when"])).total_seconds(),
                "startup_s": (ready - started).total_seconds(),
                "run_s": (committed - ready).total_seconds(),
                "finish_s": (ended - committed).total_seconds(),
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

    def median(key: str) -> float:
        return float(statistics.median(t[key] for t in tasks))

    lines = [
        f"### {name}",
        "",
        f"- mapped tasks: {len(tasks)}, rows {rows:,}, input {size / 1e6:.1f} MB",
        f"- Dag run wall clock (start to end, list + mapped + gate): {result['wall_s']:.1f} s",
        f"- mapped span (first task start to last task end): {result['span_s']:.1f} s "
        f"→ {rows / result['span_s']:,.0f} rows/s, {size / 1e6 / result['span_s']:.1f} MB/s",
        f"- per task, medians: queued → started {median('queued_s'):.2f} s; "
        f"started → engine start {median('startup_s'):.2f} s; "
        f"engine start → committed {median('run_s'):.2f} s "
        f"(of which the engine's read + check + stage {median('engine_s'):.2f} s); "
        f"committed → task end {median('finish_s'):.2f} s; "
        f"task start → end {median('task_s'):.2f} s",
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
