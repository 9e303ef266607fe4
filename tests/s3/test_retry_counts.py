"""The report counts the storage SDK's retries per S3 operation (``io.retries``): a 503 on one
GET of the data shows as one ``get_object`` retry, and the CLI's summary prints it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyrustpipe as pp

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from devtools.local_s3 import S3Server  # noqa: E402
from tests.python.conftest import cli_env  # noqa: E402

RULES = {"spec_version": 1, "columns": [{"name": "id", "dtype": "int"}]}
# The object's path, not a listing's query string (whose prefix would name the file too).
OBJECT_GET = r"^/[^?]*/data\.csv"


def _seed(s3_client: Any, bucket: str, tmp_path: Path) -> str:
    path = tmp_path / "data.csv"
    path.write_text("id\n1\n2\nx\n", encoding="utf-8")
    s3_client.upload_file(str(path), bucket, "in/data.csv")
    return f"s3://{bucket}/in/data.csv"


def test_one_503_on_a_get_is_one_get_object_retry(
    s3_server: S3Server, s3_client: Any, s3_bucket: Any, fault_proxy: Any, tmp_path: Path
) -> None:
    uri = _seed(s3_client, s3_bucket(), tmp_path)
    options = dict(s3_server.storage_options, endpoint_url=fault_proxy.endpoint_url)
    clean = pp.validate(uri, RULES, storage_options=options)
    assert clean.retries == {}
    assert clean.to_dict()["io"] == {"retries": {}}

    fault_proxy.add_fault("GET", OBJECT_GET, "slowdown", times=1)
    faulty = pp.validate(uri, RULES, storage_options=options)
    assert fault_proxy.pending_faults() == 0
    assert faulty.retries == {"get_object": 1}
    assert (faulty.rows, faulty.invalid_rows) == (clean.rows, clean.invalid_rows) == (3, 1)


def test_local_runs_report_no_retries(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text("id\n1\n", encoding="utf-8")
    assert pp.validate(str(path), RULES).to_dict()["io"] == {"retries": {}}


def test_the_cli_summary_prints_retries(
    s3_server: S3Server, s3_client: Any, s3_bucket: Any, fault_proxy: Any, tmp_path: Path
) -> None:
    uri = _seed(s3_client, s3_bucket(), tmp_path)
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps(RULES), encoding="utf-8")
    fault_proxy.add_fault("GET", OBJECT_GET, "slowdown", times=1)
    options = s3_server.storage_options
    env = dict(cli_env(), AWS_ACCESS_KEY_ID=options["aws_access_key_id"])
    env["AWS_SECRET_ACCESS_KEY"] = options["aws_secret_access_key"]
    done = subprocess.run(
        [sys.executable, "-m", "pyrustpipe", "validate", uri, "--rules", str(rules)]
        + ["--endpoint-url", fault_proxy.endpoint_url, "--region", "us-east-1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "storage retries: get_object 1" in done.stdout, done.stdout
