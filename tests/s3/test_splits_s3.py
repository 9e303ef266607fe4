"""Splits of one object on a real S3 server (s3s-fs on loopback): the plan reads only its size,
each split reads its prefix walk and its own range with ranged GETs, and the gate's result
equals the whole-object run, local or S3 — also through a proxy that cuts response bodies."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, ClassVar

import pyrustpipe as pp

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from devtools.local_s3 import S3Server  # noqa: E402
from tests.s3.fault_proxy import FaultProxy  # noqa: E402


class Rows(pp.Schema):
    id: int = pp.Field(unique=True)
    amount: float = pp.Field(gt=0)
    note: str = pp.Field(max_length=8)

    class Config:
        unique: ClassVar = [pp.Unique(("amount", "note"), keep="first", name="pair")]


def make_object(path: Path, rows: int) -> bytes:
    """Quoted line breaks every few rows, CRLF records, ids repeating far apart (so repeats
    cross splits), some bad amounts."""
    out = [b"id,amount,note\r\n"]
    for i in range(rows):
        ident = i % (rows // 3) if i % 7 == 0 else i
        amount = b"-1" if i % 11 == 0 else b"%d.5" % (i % 13)
        note = b'"a\nb"' if i % 5 == 0 else b'"x\r\n""y"' if i % 5 == 1 else b"n%d" % (i % 4)
        out.append(b"%d,%s,%s\r\n" % (ident, amount, note))
    data = b"".join(out)
    path.write_bytes(data)
    return data


def gate_over(uri: str, parts: int, options: dict[str, str], tmp: Path) -> pp.Report:
    splits = pp.plan_splits(uri, parts, storage_options=options)
    assert len(splits) == parts and splits[0].uri == uri
    reports = [
        pp.validate(
            uri,
            Rows,
            split=s,
            split_keys=tmp / f"keys-{parts}-{s.index}",
            storage_options=options,
            sample_size=100_000,
        )
        for s in splits
    ]
    return pp.gate_splits(reports, sample_size=100_000)


def assert_same(whole: pp.Report, gate: pp.Report) -> None:
    assert (gate.rows, gate.valid_rows, gate.invalid_rows, gate.passed) == (
        whole.rows,
        whole.valid_rows,
        whole.invalid_rows,
        whole.passed,
    )
    for mine, theirs in zip(gate.rules, whole.rules, strict=True):
        assert (mine.name, mine.failed) == (theirs.name, theirs.failed)
        assert sorted((s.row, s.line) for s in mine.samples) == sorted(
            (s.row, s.line) for s in theirs.samples
        )


def uploaded(client: Any, bucket: str, tmp: Path, rows: int) -> tuple[str, str, pp.Report]:
    """The test object on S3 (``landing/big.csv``) and the whole-object run of its local copy."""
    local = tmp / "big.csv"
    make_object(local, rows)
    client.upload_file(str(local), bucket, "landing/big.csv")
    return (
        bucket,
        f"s3://{bucket}/landing/big.csv",
        pp.validate(str(local), Rows, sample_size=100_000),
    )


def test_splits_on_s3_equal_the_whole_object(
    s3_server: S3Server, s3_client: Any, s3_bucket: Any, tmp_path: Path
) -> None:
    bucket, uri, whole = uploaded(s3_client, s3_bucket(), tmp_path, 30_000)
    options = s3_server.storage_options
    assert whole.rule("id:unique").failed > 0
    for parts in (1, 3, 8):
        gate = gate_over(uri, parts, options, tmp_path)
        assert_same(whole, gate)
        if parts > 1:
            assert gate.to_dict()["cross_split"]["failures"]


def test_splits_survive_cut_bodies(
    s3_server: S3Server,
    s3_client: Any,
    s3_bucket: Any,
    fault_proxy: FaultProxy,
    tmp_path: Path,
) -> None:
    local = tmp_path / "big.csv"
    make_object(local, 5_000)
    bucket = s3_bucket()
    s3_client.upload_file(str(local), bucket, "big.csv")
    whole = pp.validate(str(local), Rows, sample_size=100_000)
    fault_proxy.add_fault("GET", r"big\.csv", "cut_body", times=4, after_bytes=3000)
    options = dict(s3_server.storage_options, endpoint_url=fault_proxy.endpoint_url)
    gate = gate_over(f"s3://{bucket}/big.csv", 4, options, tmp_path)
    assert_same(whole, gate)


def test_keys_files_on_s3_reach_the_gate(
    s3_server: S3Server, s3_client: Any, s3_bucket: Any, tmp_path: Path
) -> None:
    # Workers on other machines share no disk with the gate: each split's keys go to S3.
    bucket, uri, whole = uploaded(s3_client, s3_bucket(), tmp_path, 12_000)
    options = s3_server.storage_options
    splits = pp.plan_splits(uri, 4, storage_options=options)
    reports = [
        pp.validate(
            uri,
            Rows,
            split=s,
            split_keys=f"s3://{bucket}/keys/split-{s.index}",
            storage_options=options,
            sample_size=100_000,
        )
        for s in splits
    ]
    assert [r.to_dict()["split"]["keys_output"] for r in reports] == [
        f"s3://{bucket}/keys/split-{i}" for i in range(4)
    ]
    listed = s3_client.list_objects_v2(Bucket=bucket, Prefix="keys/")["Contents"]
    assert sorted(o["Key"] for o in listed) == [f"keys/split-{i}" for i in range(4)]
    gate = pp.gate_splits(reports, sample_size=100_000, storage_options=options)
    assert_same(whole, gate)
    assert gate.to_dict()["cross_split"]["failures"]
