"""The quality ledger on a real S3 server (s3s-fs on loopback): the same season of daily
partitions as the local test, and the same month for the row-level checks, read from S3 with
the ledger under an ``s3://`` prefix. The verdicts, the quarantined rows and the entries match
the local run's; each entry is committed exactly once (a re-run of a committed partition, in
any order, uploads nothing, leaves its entry and gives the same verdicts)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import pyrustpipe as pp
import pytest

from tests.ledger import test_row_history as month
from tests.ledger.daily import Transactions, day, partition
from tests.ledger.test_ledger import DAYS, HALF, NEW_COLUMN, STALE, statuses, write_season

SAME = "partition, logical_date, rows, valid_rows, invalid_rows, passed, rules, columns, profiles"


def entries(folder: Path, columns: str = SAME) -> list[tuple[Any, ...]]:
    query = (
        f"SELECT {columns} FROM read_parquet('{folder}/**/*.parquet', hive_partitioning = true) "
        "ORDER BY partition"
    )
    return duckdb.connect().execute(query).fetchall()


def download(s3_client: Any, bucket: str, prefix: str, folder: Path) -> list[str]:
    """Every object under ``prefix`` into ``folder``; returns the keys."""
    keys = []
    for page in s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            key = item["Key"]
            keys.append(key)
            target = folder / key
            target.parent.mkdir(parents=True, exist_ok=True)
            s3_client.download_file(bucket, key, str(target))
    return sorted(keys)


def test_the_season_on_s3_matches_the_local_ledger(
    s3_server: Any, s3_client: Any, s3_bucket: Any, tmp_path: Path
) -> None:
    bucket = s3_bucket()
    data = tmp_path / "raw"
    write_season(data)
    # S3 times have whole seconds.
    uploaded = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    for index in range(DAYS):
        name = partition(day(index))
        s3_client.upload_file(str(data / name / "part-0000.csv"), bucket, f"raw/{name}/part.csv")
    options = s3_server.storage_options
    ledger = f"s3://{bucket}/ledger"

    def run_s3(index: int) -> pp.Report:
        name = partition(day(index))
        return pp.validate(
            f"s3://{bucket}/raw/{name}/",
            Transactions,
            ledger=ledger,
            partition=name,
            storage_options=options,
        )

    def run_local(index: int) -> pp.Report:
        name = partition(day(index))
        return pp.validate(
            str(data / name), Transactions, ledger=str(tmp_path / "local"), partition=name
        )

    reports = [run_s3(index) for index in range(DAYS)]
    finished = dt.datetime.now(dt.timezone.utc)
    local = [run_local(index) for index in range(DAYS)]
    assert [statuses(r) for r in reports] == [statuses(r) for r in local]
    failed = {i: [r.name for r in report.failed_rules()] for i, report in enumerate(reports)}
    assert failed == {
        i: {
            HALF: ["history:row_count"],
            STALE: ["history:freshness:timestamp"],
            NEW_COLUMN: ["history:schema_drift"],
        }.get(i, [])
        for i in range(DAYS)
    }
    keys = download(s3_client, bucket, "ledger/", tmp_path / "s3")
    entry_keys = [k for k in keys if k.endswith(".parquet")]
    assert len(entry_keys) == DAYS
    # Each partition's manifest sits beside its entry; nothing staged is left behind.
    assert len([k for k in keys if "/_pyrustpipe_manifest.run-" in k]) == DAYS
    assert not [k for k in keys if "_pyrustpipe_attempts" in k]
    assert entries(tmp_path / "s3" / "ledger") == entries(tmp_path / "local")
    # Each S3 input keeps the LastModified its listing gave, from the upload above.
    stamps = [
        row[0]
        for row in duckdb.connect()
        .execute(
            f"SELECT i.last_modified FROM read_parquet('{tmp_path}/s3/ledger/**/*.parquet'), "
            "unnest(inputs) AS t(i)"
        )
        .fetchall()
    ]
    assert len(stamps) == DAYS
    assert all(s is not None and uploaded <= s <= finished for s in stamps)
    report = reports[HALF]
    assert report.to_dict()["outputs"]["ledger"] == f"{ledger}/{entry_keys[HALF][len('ledger/') :]}"

    # Re-runs, newest first: every partition is committed already, nothing is uploaded, and
    # the verdicts are the same.
    etags = {k: s3_client.head_object(Bucket=bucket, Key=k)["ETag"] for k in entry_keys}
    again = {index: run_s3(index) for index in reversed(range(DAYS))}
    assert all(r.to_dict()["outputs"]["already_committed"] for r in again.values())
    assert [statuses(again[i]) for i in range(DAYS)] == [statuses(r) for r in reports]
    assert {k: s3_client.head_object(Bucket=bucket, Key=k)["ETag"] for k in entry_keys} == etags


def test_outputs_and_the_ledger_commit_as_one_set(
    s3_server: Any, s3_client: Any, s3_bucket: Any, tmp_path: Path
) -> None:
    bucket = s3_bucket()
    data = tmp_path / "raw"
    write_season(data)
    name = partition(day(0))
    report = pp.validate(
        str(data / name),
        Transactions,
        valid_output=f"s3://{bucket}/valid/{name}/",
        quarantine=f"s3://{bucket}/quarantine/{name}/",
        ledger=f"s3://{bucket}/ledger",
        partition=name,
        storage_options=s3_server.storage_options,
    )
    outputs = report.to_dict()["outputs"]
    assert outputs["manifest"] == f"s3://{bucket}/valid/{name}/_pyrustpipe_manifest.json"
    manifest = s3_client.get_object(Bucket=bucket, Key=f"valid/{name}/_pyrustpipe_manifest.json")
    text = manifest["Body"].read().decode()
    assert '"role": "ledger"' in text and outputs["ledger"].split(f"{bucket}/", 1)[1] in text
    keys = download(s3_client, bucket, "ledger/", tmp_path / "s3")
    # The entry, and the spec store the Python package keeps beside it (docs/playground.md).
    entries = [k for k in keys if not k.startswith("ledger/_specs/")]
    assert [k.rsplit("/", 1)[-1].startswith("run-") for k in entries] == [True]
    assert len(keys) == 2
    # The entry records the committed outputs and their manifest (ledger version 3).
    recorded = duckdb.sql(f"SELECT outputs FROM '{tmp_path / 's3' / entries[0]}'").fetchall()
    wanted = {k: outputs[k] for k in ("valid", "quarantine", "metrics", "manifest")}
    assert recorded == [(wanted,)] and wanted["quarantine"].endswith("/quarantine.csv")
    with pytest.raises(pp.StorageError, match="different inputs or rules"):
        # Other data for the same partition: refused like the other outputs until the manifest
        # is deleted (docs/outputs.md).
        pp.validate(
            str(data / partition(day(1))),
            Transactions,
            valid_output=f"s3://{bucket}/valid/{name}/",
            ledger=f"s3://{bucket}/ledger",
            partition=name,
            storage_options=s3_server.storage_options,
        )


def test_row_level_checks_on_s3_quarantine_exactly_and_survive_a_reverse_rerun(
    s3_server: Any, s3_client: Any, s3_bucket: Any, tmp_path: Path
) -> None:
    bucket = s3_bucket()
    data = tmp_path / "raw"
    for index in range(month.DAYS):
        month.write_day(data, index)
        name = month.partition(index)
        s3_client.upload_file(str(data / name / "part-0000.csv"), bucket, f"raw/{name}/part.csv")
    ledger = f"s3://{bucket}/ledger"

    def run_s3(index: int) -> pp.Report:
        name = month.partition(index)
        return pp.validate(
            f"s3://{bucket}/raw/{name}/",
            month.Payments,
            ledger=ledger,
            partition=name,
            quarantine=f"s3://{bucket}/quarantine/{name}/",
            storage_options=s3_server.storage_options,
        )

    reports = [run_s3(index) for index in range(month.DAYS)]
    local = [month.run(data, tmp_path / "local", index) for index in range(month.DAYS)]
    expected = [(month.verdicts(r), r.invalid_rows) for r in local]
    assert [(month.verdicts(r), r.invalid_rows) for r in reports] == expected
    failed = {i: [r.name for r in report.failed_rules()] for i, report in enumerate(reports)}
    assert failed == {
        i: {month.NEW_CURRENCY: [month.NEW_VALUES], month.REPEATED_KEYS: [month.UNIQUE_ACROSS]}.get(
            i, []
        )
        for i in range(month.DAYS)
    }

    # The new currency: exactly its three rows, and only they reach the S3 quarantine.
    report = reports[month.NEW_CURRENCY]
    rule = report.rule(month.NEW_VALUES)
    assert (rule.failed, report.invalid_rows, report.valid_rows) == (3, 3, month.ROWS - 3)
    assert rule.observed["new_values"] == [{"value": "GBP", "rows": 3}]
    assert [s.row for s in rule.samples] == [r + 1 for r in month.GBP_ROWS]
    name = month.partition(month.NEW_CURRENCY)
    body = s3_client.get_object(Bucket=bucket, Key=f"quarantine/{name}/quarantine.csv")
    lines = body["Body"].read().decode().splitlines()[1:]
    assert len(lines) == 3 and all(",GBP," in line for line in lines)

    # Keys of three days earlier: exactly those five rows, naming that partition.
    report = reports[month.REPEATED_KEYS]
    rule = report.rule(month.UNIQUE_ACROSS)
    earlier = month.partition(month.REPEATED_KEYS - 3)
    assert (rule.failed, report.invalid_rows, report.valid_rows) == (5, 5, month.ROWS - 5)
    assert rule.observed["earlier_partitions"] == [{"partition": earlier, "rows": 5}]
    assert [s.row for s in rule.samples] == [r + 1 for r in month.REPEATED]
    assert rule.samples[0].message == f"key already seen in earlier partition {earlier}"

    # The S3 entries hold what the local ones hold, value sets and key indexes included.
    download(s3_client, bucket, "ledger/", tmp_path / "s3")
    kept = f"{SAME}, value_sets, key_indexes"
    assert entries(tmp_path / "s3" / "ledger", kept) == entries(tmp_path / "local", kept)

    # Every day again, newest first: each is committed already (nothing uploaded, the
    # entries' ETags unchanged) and judged the same, row-level counts included.
    entry_keys = [
        k
        for k in download(s3_client, bucket, "ledger/", tmp_path / "s3b")
        if k.endswith(".parquet")
    ]
    etags = {k: s3_client.head_object(Bucket=bucket, Key=k)["ETag"] for k in entry_keys}
    again = {index: run_s3(index) for index in reversed(range(month.DAYS))}
    assert all(r.to_dict()["outputs"]["already_committed"] for r in again.values())
    assert [
        (month.verdicts(again[i]), again[i].invalid_rows) for i in range(month.DAYS)
    ] == expected
    assert {k: s3_client.head_object(Bucket=bucket, Key=k)["ETag"] for k in entry_keys} == etags
