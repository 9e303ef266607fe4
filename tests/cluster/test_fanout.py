"""The fan-out example on the real cluster (the short cluster test of ``make test``): triggered
through the REST API over 8 partitions, its mapped tasks run on both Celery workers and the
gate's totals equal single-process ``pp.validate`` runs over the same files."""

from __future__ import annotations

from pathlib import Path

from devtools.airflow_cluster import FANOUT, Cluster
from tests.cluster._fanout import check_run, seed, single_process
from tests.data_gen import make_transactions

PARTITIONS = 8


def test_fanout_spreads_over_both_workers_and_equals_single_process(
    cluster: Cluster, tmp_path: Path
) -> None:
    ds = cluster.free_day(FANOUT)
    files = []
    for i in range(PARTITIONS):
        path = tmp_path / f"part-{i:03d}.csv"
        make_transactions(path, 20_000 + 1_000 * i, 100 + i, 0.01 + 0.002 * i)
        files.append(path)
    parts = seed(cluster, ds, files)
    oracle = single_process(files)

    run_id = cluster.trigger(FANOUT, ds)
    state = cluster.wait_run(FANOUT, run_id)

    tis = cluster.task_instances(FANOUT, run_id)
    states = {(t["task_id"], t["map_index"]): t["state"] for t in tis}
    assert state == "success", states
    mapped = [t for t in tis if t["task_id"] == "validate_partition"]
    assert sorted(t["map_index"] for t in mapped) == list(range(PARTITIONS))
    assert all(t["state"] == "success" for t in mapped), states
    # Spread over both workers: the hostnames the workers' task runners reported.
    assert {t["hostname"] for t in mapped} == {"worker1", "worker2"}
    check_run(cluster, ds, parts, oracle)
