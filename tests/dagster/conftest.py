"""Fixtures of the Dagster integration's tests: the examples loaded against the local S3 server,
day files on a landing directory, and the CLI's report on the same data."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from dagster_aws.s3 import S3Resource
from dagster_pyrustpipe import PyRustPipeResource

from devtools.local_s3 import S3Server
from tests.dagster.support import CLEAN_DAY, CLI, DIRTY_DAY, RULES, load_example
from tests.data_gen import make_transactions

HERE = Path(__file__).resolve().parent
# The multiprocess test's job, loaded by `dagster job execute` in child processes: not a test
# module, and importing it under --doctest-modules would warn at collection (PreviewWarning).
collect_ignore = ["multiprocess_defs.py"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Dagster 1.13 marks partitioned asset checks as preview and warns on every definition; the
    # tests keep every other warning an error.
    preview = pytest.mark.filterwarnings("ignore::dagster.PreviewWarning")
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(preview)


@pytest.fixture(scope="session")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two day files: CLEAN_DAY passes every rule, DIRTY_DAY fails several (and a warn rule)."""
    folder = tmp_path_factory.mktemp("landing")
    make_transactions(folder / f"{CLEAN_DAY}.csv", rows=2000, seed=11, error_rate=0.0)
    make_transactions(folder / f"{DIRTY_DAY}.csv", rows=3000, seed=12, error_rate=0.03)
    return folder


@pytest.fixture
def s3_example(s3_bucket: Callable[[], str], landing: Path) -> tuple[ModuleType, str]:
    """example_dags/dagster/transactions_s3.py on a fresh bucket, and the bucket's name."""
    bucket = s3_bucket()
    module = load_example(
        "transactions_s3",
        {"PYRUSTPIPE_EXAMPLE_BUCKET": bucket, "PYRUSTPIPE_EXAMPLE_LANDING": str(landing)},
    )
    return module, bucket


@pytest.fixture
def s3_resources(s3_server: S3Server) -> dict[str, Any]:
    """What the example's Definitions build from the AWS variables, for the test server."""
    s3 = S3Resource(
        region_name=s3_server.region,
        endpoint_url=s3_server.endpoint_url,
        aws_access_key_id=s3_server.access_key_id,
        aws_secret_access_key=s3_server.secret_access_key,
    )
    return {
        "s3": s3,
        "pyrustpipe": PyRustPipeResource.from_s3_resource(s3, force_path_style=True),
    }


@pytest.fixture
def cli_report(s3_server: S3Server) -> Callable[[str], dict[str, Any]]:
    """The report ``pyrustpipe validate SOURCE --format json`` prints (S3 sources included)."""

    def run(source: str) -> dict[str, Any]:
        env = dict(os.environ)
        env.update(
            AWS_ACCESS_KEY_ID=s3_server.access_key_id,
            AWS_SECRET_ACCESS_KEY=s3_server.secret_access_key,
            PYRUSTPIPE_NO_PROGRESS="1",
        )
        command = [str(CLI), "validate", source, "--rules", RULES, "--format", "json"]
        if source.startswith("s3://"):
            command += ["--endpoint-url", s3_server.endpoint_url, "--region", s3_server.region]
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
        assert done.returncode in (0, 1), done.stderr
        report: dict[str, Any] = json.loads(done.stdout)
        return report

    return run
