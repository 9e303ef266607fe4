"""In-memory tables with outputs on S3 (real s3s-fs on loopback): Parquet outputs committed by the
manifest, whose input is the table's content fingerprint — a rerun on the same table commits once,
a different table at the same prefix is refused."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pyrustpipe as pp
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from devtools.local_s3 import S3Server  # noqa: E402


class Amounts(pp.Schema):
    id: int = pp.Field(unique=True)
    amount: float = pp.Field(ge=0)


def table(bad_every: int) -> pa.Table:
    return pa.table(
        {
            "id": list(range(1000)),
            "amount": [-1.0 if i % bad_every == 0 else 1.0 for i in range(1000)],
        }
    )


def read_parquet(s3_client: Any, bucket: str, key: str) -> pa.Table:
    body = s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()
    return pq.read_table(io.BytesIO(body))


def test_table_outputs_commit_once_and_refuse_other_data(
    s3_server: S3Server, s3_client: Any, s3_bucket: Any
) -> None:
    bucket = s3_bucket()
    prefix = f"s3://{bucket}/checks/dt=2026-01-01/"
    run = {
        "quarantine": prefix,
        "valid_output": prefix,
        "metrics_output": prefix,
        "storage_options": s3_server.storage_options,
    }
    first = pp.validate(table(10), Amounts, **run)
    assert (first.rows, first.valid_rows, first.invalid_rows) == (1000, 900, 100)
    assert first.outputs["quarantine"] == f"{prefix}quarantine.parquet"
    assert not first.outputs["already_committed"]
    quarantined = read_parquet(s3_client, bucket, "checks/dt=2026-01-01/quarantine.parquet")
    assert quarantined.column("id").to_pylist() == list(range(0, 1000, 10))
    valid = read_parquet(s3_client, bucket, "checks/dt=2026-01-01/valid.parquet")
    assert valid.num_rows == 900
    manifest = json.loads(
        s3_client.get_object(Bucket=bucket, Key="checks/dt=2026-01-01/_pyrustpipe_manifest.json")[
            "Body"
        ].read()
    )
    [source] = manifest["inputs"]
    assert source["uri"] == "<in-memory>" and source["etag"].startswith("xxh3:")

    # The same table again (a retried task): already committed, same counts.
    again = pp.validate(table(10), Amounts, **run)
    assert again.outputs["already_committed"]
    assert (again.valid_rows, again.invalid_rows) == (900, 100)

    # Different data at the same prefix: refused, the committed outputs stay.
    with pytest.raises(pp.StorageError, match="different inputs"):
        pp.validate(table(5), Amounts, **run)
    assert read_parquet(s3_client, bucket, "checks/dt=2026-01-01/valid.parquet").num_rows == 900
