"""An asset with a ``RetryPolicy`` whose first attempt meets a transient S3 fault in its commit
(the fault proxy of tests/s3 answers 500s, or drops the manifest write), materialized by Dagster's
own executor: the retry ends committed exactly once, with the fault-free run's counts.

``dg.materialize`` runs the in-process executor, which honours op retry policies (its retries are
enabled by default): a failed step is put up for retry and run again in the same run, as the
``STEP_UP_FOR_RETRY`` and ``STEP_RESTARTED`` events below show.
"""

# No `from __future__ import annotations`: Dagster reads the asset's parameter annotations.
import json
from pathlib import Path
from typing import Any

import dagster as dg
import pyrustpipe as pp
import pytest
from dagster_pyrustpipe import PyRustPipeResource

from devtools.local_s3 import S3Client, S3Server
from tests.dagster.support import RULES
from tests.data_gen import make_transactions
from tests.s3.attempts import MANIFEST, STAGING, all_keys, final_keys, read

# Attempts per S3 request in the resource: a fault used this many times fails the request.
MAX_ATTEMPTS = 2


@pytest.mark.parametrize(
    ("kind", "path", "committed_by_first"),
    [
        # The manifest's conditional put keeps failing: the first attempt commits nothing.
        ("status", MANIFEST, False),
        # The manifest put is acknowledged but never stored: the read-back finds no manifest.
        ("drop", MANIFEST, False),
        # The manifest is written, the publish's copy keeps failing: committed, not published.
        ("status", r"valid\.csv\?x-id=CopyObject", True),
    ],
    ids=["manifest-500", "manifest-dropped", "publish-500"],
)
def test_a_transient_commit_fault_is_retried_and_commits_once(
    s3_server: S3Server,
    s3_client: S3Client,
    s3_bucket: Any,
    fault_proxy: Any,
    tmp_path: Path,
    kind: str,
    path: str,
    committed_by_first: bool,
) -> None:
    bucket = s3_bucket()
    data = tmp_path / "part-0.csv"
    make_transactions(data, 2000, seed=31, error_rate=0.03)
    s3_client.upload_file(str(data), bucket, "raw/dt=2025-01-01/part-0.csv")

    @dg.asset(retry_policy=dg.RetryPolicy(max_retries=1))
    def validated(
        context: dg.AssetExecutionContext, pyrustpipe: PyRustPipeResource
    ) -> dg.MaterializeResult:
        report = pyrustpipe.validate_data(
            f"s3://{bucket}/raw/dt=2025-01-01/",
            RULES,
            valid_output=f"s3://{bucket}/valid/dt=2025-01-01/",
            quarantine=f"s3://{bucket}/quarantine/dt=2025-01-01/",
        )
        counts = {k: getattr(report, k) for k in ("rows", "valid_rows", "invalid_rows")}
        already = report.outputs["already_committed"]
        return dg.MaterializeResult(
            metadata={**counts, "already_committed": already, "retry": context.retry_number}
        )

    resource = PyRustPipeResource(
        region_name=s3_server.region,
        endpoint_url=fault_proxy.endpoint_url,
        force_path_style=True,
        aws_access_key_id=s3_server.access_key_id,
        aws_secret_access_key=s3_server.secret_access_key,
        max_attempts=MAX_ATTEMPTS,
    )
    if kind == "status":  # every attempt of the request fails
        fault_proxy.add_fault(
            "PUT", path, "status", times=MAX_ATTEMPTS, status=500, code="InternalError"
        )
    else:  # one write acknowledged and lost
        fault_proxy.add_fault("PUT", path, "drop", times=1)

    result = dg.materialize([validated], resources={"pyrustpipe": resource}, raise_on_error=False)

    assert fault_proxy.pending_faults() == 0, "the first attempt never reached the commit"
    assert result.success
    events = [e.event_type_value for e in result.all_events]
    assert events.count("STEP_UP_FOR_RETRY") == 1 and events.count("STEP_RESTARTED") == 1
    (materialization,) = result.asset_materializations_for_node("validated")
    metadata = {k: v.value for k, v in materialization.metadata.items()}
    assert metadata["retry"] == 1
    assert metadata["already_committed"] is committed_by_first
    local = tmp_path / "local"
    local.mkdir()
    expected = pp.validate(str(data), RULES, valid_output=f"{local}/", quarantine=f"{local}/")
    rows = (metadata["rows"], metadata["valid_rows"], metadata["invalid_rows"])
    assert rows == (expected.rows, expected.valid_rows, expected.invalid_rows)
    # Committed once: one manifest with those counts, the published outputs as a local run's.
    assert final_keys(s3_client, bucket, "valid/") == [
        f"valid/dt=2025-01-01/{MANIFEST}",
        "valid/dt=2025-01-01/valid.csv",
    ]
    manifest = json.loads(read(s3_client, bucket, f"valid/dt=2025-01-01/{MANIFEST}"))
    assert (manifest["rows"], manifest["valid_rows"], manifest["invalid_rows"]) == rows
    assert (
        read(s3_client, bucket, "valid/dt=2025-01-01/valid.csv")
        == (local / "valid.csv").read_bytes()
    )
    assert final_keys(s3_client, bucket, "quarantine/") == [
        "quarantine/dt=2025-01-01/quarantine.csv"
    ]
    # The committed attempt's staging keys are gone. (A first attempt that failed before its
    # commit removes its own; not yet after a lost manifest write: see
    # tests/s3/test_failure_paths_s3.py, test_a_lost_manifest_write_removes_its_staging_keys.)
    staged = [k for k in all_keys(s3_client, bucket) if STAGING in k]
    assert not [k for k in staged if manifest["attempt"] in k]
    if kind == "status":
        assert staged == []
