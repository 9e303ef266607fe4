"""Airflow test setup: a throwaway AIRFLOW_HOME with a sqlite metadata DB migrated once per
session, and ``aws_default`` pointing at the local S3 server through ``AIRFLOW_CONN_AWS_DEFAULT``.

Airflow reads its configuration when first imported, so the environment is set here, at import
time, before any test module imports Airflow.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_DAGS = REPO / "example_dags" / "airflow"
BUCKET = "pyrustpipe-example"
AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="pyrustpipe-airflow-"))

os.environ.update(
    {
        "AIRFLOW_HOME": str(AIRFLOW_HOME),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(EXAMPLE_DAGS),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{AIRFLOW_HOME / 'airflow.db'}",
        "AIRFLOW__OPENLINEAGE__DISABLED": "True",
        "PYRUSTPIPE_EXAMPLE_BUCKET": BUCKET,
    }
)
# Stray real credentials must not leak into (or satisfy) the tests.
for name in [n for n in os.environ if n.startswith("AWS_")]:
    del os.environ[name]


def airflow_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the ``airflow`` CLI of this virtual environment with the test environment."""
    airflow = Path(sys.executable).with_name("airflow")
    return subprocess.run(
        [str(airflow), *args], env=os.environ.copy(), capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="session")
def airflow_db() -> None:
    done = airflow_cli("db", "migrate")
    assert done.returncode == 0, done.stderr[-3000:]


def connection(s3_server: Any, secret: str | None = None) -> str:
    """``aws_default`` as Airflow's JSON connection form, endpoint and path style in the extra."""
    return json.dumps(
        {
            "conn_type": "aws",
            "login": s3_server.access_key_id,
            "password": secret or s3_server.secret_access_key,
            "extra": {
                "endpoint_url": s3_server.endpoint_url,
                "region_name": s3_server.region,
                "config_kwargs": {"s3": {"addressing_style": "path"}},
            },
        }
    )


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
