"""The fan-out example on the real cluster (the short cluster test of ``make test``): triggered
through the REST API over 8 partitions, its mapped tasks run on both Celery workers and the
gate's totals equal single-process ``pp.validate`` runs over the same files."""

from __future__ import annotations

from pathlib import Path

from devtools.airflow_cluster import FANOUT, Cluster
from tests.cluster._fanout import check_run, seed, single_process
from tests.data_gen import make_transactions

PARTITIONS = 8
# Celery hands a queued task to whichever worker fetches first: a worker whose main loop stalls
# for a few seconds (observed under CPU load: ~5 s between a task's end and its slot freeing)
# can miss every task of one run. Another run, on another day, must then reach it.
MAX_RUNS = 3


def test_fanout_spreads_over_both_workers_and_equals_single_process(
    cluster: Cluster, tmp_path: Path
) -> None:
    files = []
    for i in range(PARTITIONS):
        path = tmp_path / f"part-{i:03d}.csv"
        make_transactions(path, 20_000 + 1_000 * i, 100 + i, 0.01 + 0.002 * i)
        files.append(path)
    oracle = single_process(files)

    hosts_by_run: list[list[str]] = []
    while len(hosts_by_run) < MAX_RUNS:
        ds = cluster.free_day(FANOUT)
        parts = seed(cluster, ds, files)
        run_id = cluster.trigger(FANOUT, ds)
        state = cluster.wait_run(FANOUT, run_id)

        tis = cluster.task_instances(FANOUT, run_id)
        states = {(t["task_id"], t["map_index"]): t["state"] for t in tis}
        assert state == "success", states
        mapped = sorted(
            (t for t in tis if t["task_id"] == "validate_partition"), key=lambda t: t["map_index"]
        )
        assert [t["map_index"] for t in mapped] == list(range(PARTITIONS))
        assert all(t["state"] == "success" for t in mapped), states
        # Every run, whichever workers it used, commits each partition once with the oracle's
        # counts.
        check_run(cluster, ds, parts, oracle)
        # The hostnames the workers' task runners reported, by map index.
        hosts_by_run.append([str(t["hostname"]) for t in mapped])
        if len(set(hosts_by_run[-1])) > 1:
            break
    seen = {host for hosts in hosts_by_run for host in hosts}
    assert seen == {"worker1", "worker2"}, hosts_by_run
