"""The playground on the local S3 server (s3s-fs on loopback): partitions read from S3 with the
ledger under an ``s3://`` prefix; the spec store, the backtest's row-level diff and the dry run
work there as locally, and a partition whose object was deleted is skipped."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pyrustpipe as pp
from pyrustpipe import _ledger_files
from pyrustpipe.backtest import backtest, dry_run

from tests.ledger.daily import day, partition, write_day
from tests.python.test_backtest import BASE, EVEN_ROWS, ROWS, TIGHT

DAYS = 3


def test_backtest_and_dry_run_on_s3(
    s3_server: Any, s3_client: Any, s3_bucket: Any, tmp_path: Path
) -> None:
    bucket = s3_bucket()
    options = s3_server.storage_options
    ledger = f"s3://{bucket}/ledger"
    for index in range(DAYS):
        name = partition(day(index))
        path = write_day(tmp_path / "raw", day(index), rows=ROWS)
        key = f"raw/{name}/part.csv.gz"
        s3_client.put_object(Bucket=bucket, Key=key, Body=gzip.compress(path.read_bytes()))
        pp.validate(
            f"s3://{bucket}/raw/{name}/",
            pp.Spec(BASE),
            ledger=ledger,
            partition=name,
            storage_options=options,
        )
    ruleset_hash = pp.compile(pp.Spec(BASE)).ruleset_hash
    assert _ledger_files.read_spec(ledger, ruleset_hash, options) == BASE

    result = backtest(
        json.dumps(TIGHT),
        ledger=ledger,
        dataset="transactions",
        storage_options=options,
        examples=ROWS,
    ).to_dict()
    assert [p["status"] for p in result["partitions"]] == ["compared"] * DAYS
    for index, part in enumerate(result["partitions"]):
        assert part["sources"] == [f"s3://{bucket}/raw/{partition(day(index))}/part.csv.gz"]
        assert (part["newly_failing"], part["newly_passing"]) == (20, 0)
        assert {e["row"] for e in part["examples_newly_failing"]} == EVEN_ROWS
        assert part["run_id"]

    report = dry_run(json.dumps(TIGHT), f"s3://{bucket}/raw/", rows=7, storage_options=options)
    assert report["rows"] == 7
    assert report["sample"]["sources"] == [f"s3://{bucket}/raw/{partition(day(0))}/part.csv.gz"]
    rule = next(r for r in report["rules"] if r["name"] == "amount:gt")
    assert rule["failed"] == 3

    s3_client.delete_object(Bucket=bucket, Key=f"raw/{partition(day(1))}/part.csv.gz")
    again = backtest(
        json.dumps(TIGHT), ledger=ledger, dataset="transactions", storage_options=options
    ).to_dict()
    assert [p["status"] for p in again["partitions"]] == ["compared", "skipped", "compared"]
    assert again["partitions"][1]["reason"].startswith("the source is gone")
