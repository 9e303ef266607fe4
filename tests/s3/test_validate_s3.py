"""The engine against a real S3 server (s3s-fs on loopback, SigV4 verified): partitions in,
valid / quarantine / report out, exactly-once commits, and faults injected by our proxy."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pyrustpipe as pp
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from devtools.local_s3 import S3Server  # noqa: E402
from tests.data_gen import make_transactions  # noqa: E402
from tests.s3.attempts import RULES, all_keys, final_keys, read, seed, start_api_run  # noqa: E402

RUN_ONLY = {"duration_s", "rows_per_s", "threads", "outputs", "io"}


def comparable(report: pp.Report) -> dict[str, Any]:
    """The report without what legitimately differs between two runs (timing, URIs)."""
    data = {k: v for k, v in report.to_dict().items() if k not in RUN_ONLY}
    data["sources"] = [
        {k: v for k, v in s.items() if k != "uri"} | {"name": s["uri"].rsplit("/", 1)[-1]}
        for s in data["sources"]
    ]
    for rule in data["rules"]:
        for sample in rule["samples"]:
            sample["source"] = sample["source"].rsplit("/", 1)[-1]
    return data


@pytest.fixture
def partitions(tmp_path: Path) -> list[Path]:
    """Four generated partitions with injected faults (and ids repeated across partitions)."""
    paths = []
    for index in range(4):
        path = tmp_path / "local" / "dt=2026-01-01" / f"part-{index:04d}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        make_transactions(path, 1500, seed=100 + index % 3, error_rate=0.05)
        paths.append(path)
    return paths


def test_prefix_matches_local_and_commits_outputs(
    s3_server: S3Server, s3_client: Any, s3_bucket: Any, partitions: list[Path], tmp_path: Path
) -> None:
    raw, clean, quarantine, metrics = s3_bucket(), s3_bucket(), s3_bucket(), s3_bucket()
    seed(s3_client, raw, "tx/dt=2026-01-01/", partitions)
    local_out = tmp_path / "out"
    local = pp.validate(
        str(partitions[0].parent),
        RULES,
        valid_output=str(local_out / "valid.csv"),
        quarantine=str(local_out / "quarantine.csv"),
    )
    remote = pp.validate(
        f"s3://{raw}/tx/dt=2026-01-01/",
        RULES,
        valid_output=f"s3://{clean}/tx/dt=2026-01-01/",
        quarantine=f"s3://{quarantine}/tx/dt=2026-01-01/",
        metrics_output=f"s3://{metrics}/tx/dt=2026-01-01/",
        storage_options=s3_server.storage_options,
        chunk_size=64 * 1024,
    )
    assert comparable(remote) == comparable(local)
    assert remote.invalid_rows > 0 and remote.rows == 6000
    assert (
        read(s3_client, clean, "tx/dt=2026-01-01/valid.csv")
        == (local_out / "valid.csv").read_bytes()
    )
    # The quarantine differs from the local one only in _pyrustpipe_source.
    got = read(s3_client, quarantine, "tx/dt=2026-01-01/quarantine.csv").decode()
    want = (local_out / "quarantine.csv").read_text()
    assert got.replace(f"s3://{raw}/tx/dt=2026-01-01/", "") == want.replace(
        str(partitions[0].parent) + "/", ""
    )
    report = json.loads(read(s3_client, metrics, "tx/dt=2026-01-01/report.json"))
    assert report["invalid_rows"] == remote.invalid_rows
    assert report["outputs"]["valid"] == f"s3://{clean}/tx/dt=2026-01-01/valid.csv"
    listed = s3_client.list_objects_v2(Bucket=clean)["Contents"]
    assert sorted(o["Key"] for o in listed) == [
        "tx/dt=2026-01-01/_pyrustpipe_manifest.json",
        "tx/dt=2026-01-01/valid.csv",
    ]


def test_a_second_run_commits_nothing_new(
    s3_server: S3Server, s3_client: Any, s3_bucket: Any, partitions: list[Path]
) -> None:
    raw, out = s3_bucket(), s3_bucket()
    seed(s3_client, raw, "p/", partitions[:2])
    kwargs: dict[str, Any] = {
        "valid_output": f"s3://{out}/clean/",
        "quarantine": f"s3://{out}/bad/",
        "storage_options": s3_server.storage_options,
    }
    first = pp.validate(f"s3://{raw}/p/", RULES, **kwargs).to_dict()
    manifest = read(s3_client, out, "clean/_pyrustpipe_manifest.json")
    second = pp.validate(f"s3://{raw}/p/", RULES, **kwargs).to_dict()
    assert first["outputs"]["already_committed"] is False
    assert second["outputs"]["already_committed"] is True
    assert read(s3_client, out, "clean/_pyrustpipe_manifest.json") == manifest
    keys = sorted(o["Key"] for o in s3_client.list_objects_v2(Bucket=out)["Contents"])
    assert keys == ["bad/quarantine.csv", "clean/_pyrustpipe_manifest.json", "clean/valid.csv"]


def test_a_rerun_of_a_committed_partition_uploads_nothing(
    s3_server: S3Server,
    s3_client: Any,
    s3_bucket: Any,
    partitions: list[Path],
    fault_proxy: Any,
) -> None:
    raw, out = s3_bucket(), s3_bucket()
    seed(s3_client, raw, "p/", partitions[:2])
    kwargs: dict[str, Any] = {
        "valid_output": f"s3://{out}/clean/",
        "quarantine": f"s3://{out}/bad/",
        "metrics_output": f"s3://{out}/clean/",
        "storage_options": dict(s3_server.storage_options, endpoint_url=fault_proxy.endpoint_url),
    }
    first = pp.validate(f"s3://{raw}/p/", RULES, **kwargs)
    assert fault_proxy.count("PUT") > 0
    fault_proxy.clear()
    second = pp.validate(f"s3://{raw}/p/", RULES, **kwargs)
    assert second.outputs["already_committed"] is True
    assert (second.rows, second.invalid_rows) == (first.rows, first.invalid_rows)
    # No upload, no copy, no delete: every request of the re-run reads.
    methods = {method for method, _ in fault_proxy.requests}
    assert methods <= {"GET", "HEAD"}, fault_proxy.requests
    # A rerun racing another attempt may read the manifest while that one's conditional put is
    # still writing it, and get a cut body: the read is made again, not the run's error.
    fault_proxy.add_fault("GET", r"_pyrustpipe_manifest", "cut_body", times=2, after_bytes=20)
    third = pp.validate(f"s3://{raw}/p/", RULES, **kwargs)
    assert fault_proxy.pending_faults() == 0
    assert third.outputs["already_committed"] is True
    assert (third.rows, third.invalid_rows) == (first.rows, first.invalid_rows)


def test_globs_and_single_keys(
    s3_server: S3Server, s3_client: Any, s3_bucket: Any, partitions: list[Path]
) -> None:
    raw = s3_bucket()
    seed(s3_client, raw, "raw/dt=2026-01-01/", partitions[:2])
    seed(s3_client, raw, "raw/dt=2026-01-02/", partitions[2:])
    options = s3_server.storage_options
    glob = pp.validate(f"s3://{raw}/raw/dt=2026-01-*/part-*.csv", RULES, storage_options=options)
    assert [s.uri.rsplit("/", 2)[-2] for s in glob.sources] == ["dt=2026-01-01"] * 2 + [
        "dt=2026-01-02"
    ] * 2
    one = pp.validate(f"s3://{raw}/raw/dt=2026-01-02/part-0003.csv", RULES, storage_options=options)
    assert one.rows == 1500 and len(one.sources) == 1


def test_missing_prefix_and_wrong_credentials_fail_clearly(
    s3_server: S3Server, s3_bucket: Any
) -> None:
    raw = s3_bucket()
    with pytest.raises(pp.StorageError, match="no objects match"):
        pp.validate(f"s3://{raw}/nothing/", RULES, storage_options=s3_server.storage_options)
    wrong = dict(s3_server.storage_options, aws_secret_access_key="WRONG-secret-CANARY-0042")
    with pytest.raises(pp.StorageError) as failure:
        pp.validate(f"s3://{raw}/x/", RULES, storage_options=wrong)
    message = str(failure.value)
    assert "SignatureDoesNotMatch" in message or "403" in message
    assert "CANARY" not in message and s3_server.secret_access_key not in message
    assert "CANARY" not in repr(failure.value)


def test_recovers_from_throttling_resets_and_cut_bodies(
    s3_server: S3Server,
    s3_client: Any,
    s3_bucket: Any,
    partitions: list[Path],
    fault_proxy: Any,
) -> None:
    raw = s3_bucket()
    seed(s3_client, raw, "p/", partitions[:2])
    clean = pp.validate(f"s3://{raw}/p/", RULES, storage_options=s3_server.storage_options)
    options = dict(s3_server.storage_options, endpoint_url=fault_proxy.endpoint_url)
    fault_proxy.add_fault("GET", r"list-type=2", "slowdown", times=2)
    fault_proxy.add_fault("GET", r"part-0000", "reset", times=1)
    fault_proxy.add_fault("GET", r"part-0001", "cut_body", times=2, after_bytes=5000)
    faulty = pp.validate(f"s3://{raw}/p/", RULES, storage_options=options)
    assert fault_proxy.pending_faults() == 0
    assert comparable(faulty) == comparable(clean)
    # two throttled listings and a reset GET were retried by the SDK; a cut body is resumed by
    # the reader with a new request, not retried
    assert faulty.retries == {"list_objects_v2": 2, "get_object": 1}
    assert clean.retries == {}


def test_past_the_retry_budget_commits_nothing(
    s3_server: S3Server,
    s3_client: Any,
    s3_bucket: Any,
    partitions: list[Path],
    fault_proxy: Any,
) -> None:
    raw, out = s3_bucket(), s3_bucket()
    seed(s3_client, raw, "p/", partitions[:1])
    options = dict(s3_server.storage_options, endpoint_url=fault_proxy.endpoint_url)
    options["max_attempts"] = "2"
    fault_proxy.add_fault("PUT", r"_pyrustpipe_manifest", "slowdown", times=5)
    with pytest.raises(pp.StorageError, match="SlowDown|503"):
        pp.validate(
            f"s3://{raw}/p/",
            RULES,
            valid_output=f"s3://{out}/clean/",
            quarantine=f"s3://{out}/bad/",
            storage_options=options,
        )
    assert s3_client.list_objects_v2(Bucket=out).get("KeyCount", 0) == 0


@pytest.mark.parametrize(
    ("stalled", "committed_by_first"),
    [
        # Killed while staging: nothing was committed; the rerun commits.
        (r"_pyrustpipe_attempts/.*/valid\.csv", False),
        # Killed after the manifest was written, before publishing: the rerun finishes the
        # first attempt's publish and commits nothing new.
        (r"_pyrustpipe_manifest\.json", True),
    ],
)
def test_a_run_killed_mid_write_and_run_again_commits_exactly_once(
    s3_server: S3Server,
    s3_client: Any,
    s3_bucket: Any,
    partitions: list[Path],
    fault_proxy: Any,
    tmp_path: Path,
    stalled: str,
    committed_by_first: bool,
) -> None:
    import os
    import re
    import signal
    import time

    raw, out = s3_bucket(), s3_bucket()
    seed(s3_client, raw, "p/", partitions[:2])
    outputs = {"valid_output": f"s3://{out}/clean/", "quarantine": f"s3://{out}/bad/"}
    proxied = dict(s3_server.storage_options, endpoint_url=fault_proxy.endpoint_url)
    # The server stores the write; the run never hears back (a PUT's answer has no body, so only
    # holding its headers holds the run), so the kill below lands at exactly that point.
    fault_proxy.add_fault("PUT", stalled, "stall", times=1, seconds=60, before_head=True)
    child = start_api_run(f"s3://{raw}/p/", proxied, outputs)
    deadline = time.monotonic() + 60
    while fault_proxy.pending_faults() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert fault_proxy.pending_faults() == 0, "the run never reached the stalled request"

    # The proxy matched the request; wait until the server has stored it, then kill.
    stored = re.compile(stalled)
    while (
        not any(stored.search(key) for key in all_keys(s3_client, out))
        and time.monotonic() < deadline
    ):
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=10)

    if committed_by_first:
        assert final_keys(s3_client, out) == ["clean/_pyrustpipe_manifest.json"]
    else:
        assert final_keys(s3_client, out) == []
    rerun = pp.validate(
        f"s3://{raw}/p/", RULES, storage_options=s3_server.storage_options, **outputs
    ).to_dict()
    assert rerun["outputs"]["already_committed"] is committed_by_first
    assert final_keys(s3_client, out) == [
        "bad/quarantine.csv",
        "clean/_pyrustpipe_manifest.json",
        "clean/valid.csv",
    ]
    local = tmp_path / "valid.csv"
    pp.validate([str(p) for p in partitions[:2]], RULES, valid_output=str(local))
    assert read(s3_client, out, "clean/valid.csv") == local.read_bytes()
    again = pp.validate(
        f"s3://{raw}/p/", RULES, storage_options=s3_server.storage_options, **outputs
    ).to_dict()
    assert again["outputs"]["already_committed"] is True


def test_an_empty_prefix_is_an_empty_passing_report_when_allowed(
    s3_server: S3Server, s3_bucket: Any
) -> None:
    report = pp.validate(
        f"s3://{s3_bucket()}/nothing/",
        RULES,
        storage_options=s3_server.storage_options,
        allow_empty=True,
    )
    assert (report.rows, report.passed, len(report.sources)) == (0, True, 0)


def open_uploads(server: S3Server) -> list[str]:
    """Multipart uploads s3s-fs still holds (it keeps one `.upload-<id>.json` per open upload;
    it does not implement ListMultipartUploads)."""
    return sorted(p.name for p in server.root.glob(".upload-*.json"))


def test_multipart_outputs_and_an_aborted_upload_leaves_nothing(
    s3_server: S3Server,
    s3_client: Any,
    s3_bucket: Any,
    tmp_path: Path,
    fault_proxy: Any,
) -> None:
    raw, out = s3_bucket(), s3_bucket()
    big = tmp_path / "big.csv"
    make_transactions(big, 100_000, seed=9, error_rate=0.01)  # a valid output of ~9 MiB
    s3_client.upload_file(str(big), raw, "p/big.csv")
    outputs = {"valid_output": f"s3://{out}/clean/", "quarantine": f"s3://{out}/bad/"}
    options = dict(s3_server.storage_options, multipart_threshold_mb="5")

    # Past the retry budget on the second part: the upload is aborted, nothing is committed.
    failing = dict(options, endpoint_url=fault_proxy.endpoint_url, max_attempts="2")
    fault_proxy.add_fault(
        "PUT", r"partNumber=2", "status", times=10, status=500, code="InternalError"
    )
    with pytest.raises(pp.StorageError, match="upload part"):
        pp.validate(f"s3://{raw}/p/", RULES, storage_options=failing, **outputs)
    assert fault_proxy.count("PUT", r"partNumber=2") == 2
    assert s3_client.list_objects_v2(Bucket=out).get("KeyCount", 0) == 0
    assert open_uploads(s3_server) == []

    # Without faults the same run commits a two-part object holding exactly the valid rows.
    report = pp.validate(f"s3://{raw}/p/", RULES, storage_options=options, **outputs)
    local = tmp_path / "valid.csv"
    pp.validate(str(big), RULES, valid_output=str(local))
    head = s3_client.head_object(Bucket=out, Key="clean/valid.csv")
    assert head["ETag"].endswith('-2"')  # S3's multipart ETag: <md5 of part md5s>-<parts>
    assert read(s3_client, out, "clean/valid.csv") == local.read_bytes()
    assert report.valid_rows > 90_000
    assert open_uploads(s3_server) == []


def test_the_s3_runtime_survives_fork(
    s3_server: S3Server, s3_client: Any, s3_bucket: Any, partitions: list[Path]
) -> None:
    """Airflow and Celery fork workers after the parent may have used S3."""
    import os

    raw = s3_bucket()
    seed(s3_client, raw, "p/", partitions[:1])
    source = f"s3://{raw}/p/"
    parent = pp.validate(source, RULES, storage_options=s3_server.storage_options)
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        code = 1
        try:
            again = pp.validate(source, RULES, storage_options=s3_server.storage_options)
            code = 0 if again.invalid_rows == parent.invalid_rows else 3
        finally:
            os._exit(code)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
