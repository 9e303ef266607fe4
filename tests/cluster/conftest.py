"""Tests against the real local Airflow cluster (``make cluster-up``, scripts/cluster/): they run
only when ``.cluster/cluster.env`` exists or ``CLUSTER=1`` (then a missing cluster is an error)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.airflow_cluster import ENV_FILE, FANOUT, Cluster, read_cluster
from tests.data_gen import make_transactions


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if ENV_FILE.exists() or os.environ.get("CLUSTER") == "1":
        return
    skip = pytest.mark.skip(reason="no local Airflow cluster: run `make cluster-test`")
    for item in items:
        if Path(str(item.fspath)).parent == Path(__file__).parent:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    if not ENV_FILE.exists():
        pytest.fail(f"CLUSTER=1 but {ENV_FILE} is missing: run `make cluster-up`", pytrace=False)
    found = read_cluster()
    found.unpause(FANOUT)
    yield found


@pytest.fixture(scope="session")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One generated transactions file (about 10 MB), shared by the partitions of every test:
    the rules' uniqueness holds per file, so copies under several keys are valid partitions."""
    path = tmp_path_factory.mktemp("cluster-data") / "transactions.csv"
    make_transactions(path, 100_000, 14, 0.01)
    return path


@pytest.fixture(scope="session")
def big_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 30 MB: a task long enough (seconds of engine time) to be killed in the middle."""
    path = tmp_path_factory.mktemp("cluster-data") / "transactions-big.csv"
    make_transactions(path, 300_000, 15, 0.01)
    return path
