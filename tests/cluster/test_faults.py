"""Faults on the real cluster (``make cluster-test``): a Celery worker killed with -9 in the
middle of a task, and the scheduler killed and restarted mid-run. Either way every partition is
committed exactly once (one manifest, one ledger entry, one gate summary each) and the totals
equal single-process runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from devtools.airflow_cluster import FANOUT, Cluster, wait_until
from tests.cluster._fanout import check_run, seed, single_process

PARTITIONS = 8
ENGINE_START = "credentials retrieved"
COMMITTED = "pyrustpipe Transactions:"


def mapped(cluster: Cluster, run_id: str) -> list[dict[str, Any]]:
    return [
        t for t in cluster.task_instances(FANOUT, run_id) if t["task_id"] == "validate_partition"
    ]


def test_worker_killed_mid_task_is_retried_on_the_other_worker(
    cluster: Cluster, big_sample: Path
) -> None:
    ds = cluster.free_day(FANOUT)
    parts = seed(cluster, ds, [big_sample] * PARTITIONS)
    oracle = single_process([big_sample]) * PARTITIONS
    run_id = cluster.trigger(FANOUT, ds)

    def running_on_worker1() -> dict[str, Any] | None:
        on = [
            t
            for t in mapped(cluster, run_id)
            if (t["state"], t["hostname"]) == ("running", "worker1")
        ]
        return on[0] if on else None

    victim = wait_until("a mapped task running on worker1", running_on_worker1, every=0.25)
    log = cluster.task_log(FANOUT, run_id, "validate_partition", victim["map_index"], 1)

    def log_text() -> str:
        return log.read_text() if log.exists() else ""

    # The operator fetches its S3 credentials right before it starts the engine.
    wait_until("the engine starting", lambda: ENGINE_START in log_text(), every=0.05)
    # The whole worker: its Celery processes, the task supervisors and the task processes.
    cluster.control("kill", "worker1")
    killed_log = log_text()
    try:
        state = cluster.wait_run(FANOUT, run_id)
        tries = cluster.tries(FANOUT, run_id, "validate_partition", victim["map_index"])
    finally:
        cluster.control("start", "worker1")
        wait_until("worker1 back", lambda: "worker1" in cluster.workers_answering())

    # Killed between the engine's start and the operator's summary (logged after the commit).
    assert COMMITTED not in killed_log, killed_log[-2000:]
    assert state == "success", [(t["map_index"], t["state"]) for t in mapped(cluster, run_id)]
    assert tries[0]["hostname"] == "worker1" and tries[0]["state"] != "success", tries
    assert (tries[-1]["hostname"], tries[-1]["state"]) == ("worker2", "success"), tries
    check_run(cluster, ds, parts, oracle)


def test_scheduler_restart_mid_run_loses_and_duplicates_nothing(
    cluster: Cluster, sample: Path
) -> None:
    ds = cluster.free_day(FANOUT)
    parts = seed(cluster, ds, [sample] * PARTITIONS)
    oracle = single_process([sample]) * PARTITIONS
    run_id = cluster.trigger(FANOUT, ds)

    def mid_run() -> bool:
        states = [t["state"] for t in mapped(cluster, run_id)]
        return "success" in states and any(s != "success" for s in states)

    # Some partitions done, others still to schedule or running.
    wait_until("some mapped tasks done, some not", mid_run, every=0.25)
    cluster.control("kill", "scheduler")
    cluster.control("start", "scheduler")

    state = cluster.wait_run(FANOUT, run_id)

    assert state == "success", [(t["map_index"], t["state"]) for t in mapped(cluster, run_id)]
    assert sorted(t["map_index"] for t in mapped(cluster, run_id)) == list(range(PARTITIONS))
    check_run(cluster, ds, parts, oracle)
