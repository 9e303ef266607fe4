"""The Airflow test environment, set when this module is first imported (by conftest.py, before
any test module imports Airflow, which reads its configuration once): a throwaway AIRFLOW_HOME
with a sqlite metadata DB, no example Dags, OpenLineage off, the example bucket's name.

Kept out of conftest.py so that test modules can import these names without running the setup
a second time under another module name.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_DAGS = REPO / "example_dags" / "airflow"
BUCKET = "pyrustpipe-example"
AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="pyrustpipe-airflow-"))
atexit.register(shutil.rmtree, AIRFLOW_HOME, ignore_errors=True)

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


def airflow_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the ``airflow`` CLI of this virtual environment with the test environment (+ ``env``)."""
    airflow = Path(sys.executable).with_name("airflow")
    return subprocess.run(
        [str(airflow), *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


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
