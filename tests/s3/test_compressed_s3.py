"""Compressed CSV and NDJSON partitions on a real S3 server: streamed and decoded as they are read,
the same report as the plain local files, and outputs written in the input's codec."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyrustpipe as pp
import pytest

from devtools.local_s3 import S3Server
from tests.compress import CODECS
from tests.data_gen import make_transactions

REPO = Path(__file__).resolve().parents[2]
RULES = json.loads((REPO / "bench" / "rules.json").read_text())
RUN_ONLY = {"duration_s", "rows_per_s", "threads", "outputs", "sources", "bytes"}


def comparable(report: pp.Report) -> dict[str, Any]:
    data = {k: v for k, v in report.to_dict().items() if k not in RUN_ONLY}
    for rule in data["rules"]:
        rule.pop("samples")
    return data


@pytest.mark.parametrize("suffix", sorted(CODECS))
def test_compressed_partitions_from_s3(
    s3_server: S3Server, s3_client: Any, s3_bucket: Any, tmp_path: Path, suffix: str
) -> None:
    raw, out = s3_bucket(), s3_bucket()
    plain = tmp_path / "part.csv"
    make_transactions(plain, 3000, seed=7, error_rate=0.05)
    ndjson = tmp_path / "part.ndjson"
    import polars as pl

    pl.read_csv(plain, infer_schema=False).write_ndjson(ndjson)
    for source in (plain, ndjson):
        key = f"in/{source.name}.{suffix}"
        s3_client.put_object(Bucket=raw, Key=key, Body=CODECS[suffix](source.read_bytes()))
        prefix = f"s3://{out}/{source.suffix.lstrip('.')}/"
        remote = pp.validate(
            f"s3://{raw}/{key}",
            RULES,
            valid_output=prefix,
            storage_options=s3_server.storage_options,
            chunk_size=64 * 1024,
        )
        local = pp.validate(str(source), RULES)
        assert comparable(remote) == comparable(local)
        assert remote.invalid_rows > 0
        name = f"valid.{source.suffix.lstrip('.')}.{suffix}"
        assert remote.outputs["valid"] == prefix + name
        body = s3_client.get_object(Bucket=out, Key=f"{source.suffix.lstrip('.')}/{name}")
        packed = body["Body"].read()
        again = tmp_path / f"again-{name}"
        again.write_bytes(packed)
        reread = pp.validate(str(again), RULES)
        assert (reread.rows, reread.invalid_rows) == (local.valid_rows, 0)
        assert len(packed) < source.stat().st_size
