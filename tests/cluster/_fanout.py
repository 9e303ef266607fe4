"""The fan-out example Dag on the cluster: seed a day's partitions, and check what a finished
run left in S3 against single-process ``pp.validate`` runs over the same files."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pyrustpipe as pp

from devtools.airflow_cluster import RULES, Cluster, keys, read_json

ATTEMPTS = "_pyrustpipe_attempts/"
MANIFEST = "_pyrustpipe_manifest.json"


def seed(cluster: Cluster, ds: str, files: list[Path]) -> list[str]:
    """Upload ``files`` as the day's partitions part-000, part-001, ...; returns their names."""
    client = cluster.s3()
    parts = []
    for i, path in enumerate(files):
        part = f"part-{i:03d}"
        client.upload_file(str(path), cluster.bucket, f"landing/transactions/{ds}/{part}.csv")
        parts.append(part)
    return parts


def rows_of(data: bytes) -> int:
    """Data records of a CSV with a header (csv parses quoted newlines as one record)."""
    return len(list(csv.reader(io.StringIO(data.decode())))) - 1


def single_process(files: list[Path]) -> list[pp.Report]:
    """The oracle: the engine in this process over the same files, one run per partition."""
    return [pp.validate(str(path), RULES) for path in files]


def check_run(
    cluster: Cluster, ds: str, parts: list[str], oracle: list[pp.Report]
) -> dict[str, Any]:
    """Every partition committed exactly once, counts equal to the oracle's; returns the gate's
    total report."""
    client = cluster.s3()
    bucket = cluster.bucket
    for part, local in zip(parts, oracle, strict=True):
        found = [
            k
            for area in ("clean", "quarantine", "dq-metrics")
            for k in keys(client, bucket, f"{area}/transactions/{ds}/{part}/")
        ]
        committed = sorted(k.rsplit("/", 1)[1] for k in found if ATTEMPTS not in k)
        # One manifest: the partition was committed once; nothing else outside attempt folders.
        assert committed == [MANIFEST, "quarantine.csv", "report.json", "valid.csv"], found
        report = read_json(client, bucket, f"dq-metrics/transactions/{ds}/{part}/report.json")
        assert (report["rows"], report["valid_rows"], report["invalid_rows"]) == (
            local.rows,
            local.valid_rows,
            local.invalid_rows,
        )
        valid = client.get_object(Bucket=bucket, Key=f"clean/transactions/{ds}/{part}/valid.csv")
        quarantine = client.get_object(
            Bucket=bucket, Key=f"quarantine/transactions/{ds}/{part}/quarantine.csv"
        )
        assert rows_of(valid["Body"].read()) == local.valid_rows
        assert rows_of(quarantine["Body"].read()) == local.invalid_rows
        assert local.valid_rows + local.invalid_rows == local.rows
    ledger = keys(client, bucket, f"dq-ledger/dataset=Transactions/date={ds}/")
    assert len([k for k in ledger if k.endswith(".parquet")]) == len(parts), ledger

    total: dict[str, Any] = read_json(
        client, bucket, f"dq-metrics/transactions/{ds}/gate_report.json"
    )
    assert sorted(s["partition"] for s in total["summaries"]) == parts
    rows = sum(r.rows for r in oracle)
    invalid = sum(r.invalid_rows for r in oracle)
    assert (total["partitions"], total["rows"], total["invalid_rows"]) == (
        len(parts),
        rows,
        invalid,
    )
    assert total["valid_rows"] == rows - invalid
    row_rules = {
        r.name: r.failed for local in oracle for r in local.rules if r.scope in ("column", "row")
    }
    merged: dict[str, int] = {}
    for local in oracle:
        for r in local.rules:
            if r.scope in ("column", "row") and r.failed:
                merged[r.name] = merged.get(r.name, 0) + r.failed
    gate_failed = {n: r["failed"] for n, r in total["failed_rules"].items() if n in row_rules}
    assert gate_failed == merged
    return total
