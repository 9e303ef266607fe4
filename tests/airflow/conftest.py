"""Airflow fixtures: the sqlite metadata DB migrated once per session, ``aws_default`` pointing
at the local S3 server through ``AIRFLOW_CONN_AWS_DEFAULT``, and a DagBag of the example Dags."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.airflow._env import BUCKET, EXAMPLE_DAGS, airflow_cli, connection


@pytest.fixture(scope="session")
def airflow_db() -> None:
    done = airflow_cli("db", "migrate")
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.fixture(scope="session")
def airflow_env(airflow_db: None, s3_server: Any, s3_client: Any) -> Iterator[str]:
    """The example bucket on the local S3 server and ``aws_default`` pointing at it."""
    s3_client.create_bucket(Bucket=BUCKET)
    os.environ["AIRFLOW_CONN_AWS_DEFAULT"] = connection(s3_server)
    yield BUCKET
    os.environ.pop("AIRFLOW_CONN_AWS_DEFAULT", None)


@pytest.fixture(scope="session")
def dagbag(airflow_db: None) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(EXAMPLE_DAGS))
