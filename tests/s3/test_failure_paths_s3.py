"""S3 failure paths (issue 10): keys with special characters, a stuck publish rolled forward,
timeouts against a silent endpoint, 403s explained, and the manifest read back after its
conditional put."""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyrustpipe as pp
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from devtools.local_s3 import S3Server  # noqa: E402
from tests.data_gen import make_transactions  # noqa: E402

RULES = json.loads((REPO / "bench" / "rules.json").read_text())


@pytest.fixture
def partition(tmp_path: Path) -> Path:
    path = tmp_path / "part-0000.csv"
    make_transactions(path, 800, seed=7, error_rate=0.05)
    return path


def read(s3_client: Any, bucket: str, key: str) -> bytes:
    body: bytes = s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()
    return body


def keys(server: S3Server, bucket: str) -> list[str]:
    """The bucket's keys, from the server's disk: boto3 asks for URL-encoded listings and decodes
    them, which s3s-fs does not encode, so a listed '%C3%A3' would come back as 'ã'."""
    root = server.root / bucket
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def local_outputs(partition: Path, tmp_path: Path) -> tuple[bytes, bytes]:
    valid, bad = tmp_path / "want-valid.csv", tmp_path / "want-bad.csv"
    pp.validate(str(partition), RULES, valid_output=str(valid), quarantine=str(bad))
    return valid.read_bytes(), bad.read_bytes()


# Percent-encoded text, non-ASCII, a space, '+' and '=' in both input keys and output prefixes.
SPECIAL_PREFIXES = [
    "city=S%C3%A3o%20Paulo/",
    "city=Zürich/",
    "a b+c=d/ü %2F/",
]


@pytest.mark.parametrize("prefix", SPECIAL_PREFIXES)
def test_special_characters_in_keys_publish_and_a_rerun_is_committed(
    s3_server: S3Server,
    s3_client: Any,
    s3_bucket: Any,
    partition: Path,
    tmp_path: Path,
    prefix: str,
) -> None:
    raw, out = s3_bucket(), s3_bucket()
    s3_client.upload_file(str(partition), raw, f"in/{prefix}part 1+{partition.name}")
    outputs = {
        "valid_output": f"s3://{out}/clean/{prefix}",
        "quarantine": f"s3://{out}/bad/{prefix}",
    }
    options = s3_server.storage_options
    first = pp.validate(f"s3://{raw}/in/{prefix}", RULES, storage_options=options, **outputs)
    assert first.to_dict()["outputs"]["already_committed"] is False
    assert [s.uri for s in first.sources] == [f"s3://{raw}/in/{prefix}part 1+{partition.name}"]
    valid, bad = local_outputs(partition, tmp_path)
    assert keys(s3_server, out) == sorted(
        [
            f"bad/{prefix}quarantine.csv",
            f"clean/{prefix}_pyrustpipe_manifest.json",
            f"clean/{prefix}valid.csv",
        ]
    )
    assert read(s3_client, out, f"clean/{prefix}valid.csv") == valid
    assert read(s3_client, out, f"bad/{prefix}quarantine.csv").count(b"\n") == bad.count(b"\n")
    again = pp.validate(f"s3://{raw}/in/{prefix}", RULES, storage_options=options, **outputs)
    assert again.to_dict()["outputs"]["already_committed"] is True


def test_a_committed_partition_whose_publish_failed_is_finished_by_a_rerun(
    s3_server: S3Server,
    s3_client: Any,
    s3_bucket: Any,
    partition: Path,
    tmp_path: Path,
    fault_proxy: Any,
) -> None:
    raw, out = s3_bucket(), s3_bucket()
    prefix = "city=Zürich/"
    s3_client.upload_file(str(partition), raw, f"in/{partition.name}")
    outputs = {"valid_output": f"s3://{out}/{prefix}", "quarantine": f"s3://{out}/q/{prefix}"}
    failing = dict(
        s3_server.storage_options, endpoint_url=fault_proxy.endpoint_url, max_attempts="2"
    )
    # Every copy to the final valid key fails: the manifest is written, the publish is not.
    fault_proxy.add_fault(
        "PUT",
        r"rich/valid\.csv\?x-id=CopyObject",
        "status",
        times=10,
        status=500,
        code="InternalError",
    )
    with pytest.raises(pp.StorageError) as failure:
        pp.validate(f"s3://{raw}/in/", RULES, storage_options=failing, **outputs)
    assert "copy" in str(failure.value) and "run again to finish publishing" in str(failure.value)
    assert f"{prefix}_pyrustpipe_manifest.json" in keys(s3_server, out)
    assert f"{prefix}valid.csv" not in keys(s3_server, out)

    rerun = pp.validate(
        f"s3://{raw}/in/", RULES, storage_options=s3_server.storage_options, **outputs
    )
    assert rerun.to_dict()["outputs"]["already_committed"] is True
    assert read(s3_client, out, f"{prefix}valid.csv") == local_outputs(partition, tmp_path)[0]
    assert [k for k in keys(s3_server, out) if "_pyrustpipe_attempts/" in k] == []


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """A loopback TCP server that accepts connections and never answers."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.2)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in held:
            conn.close()
        server.close()


@pytest.mark.parametrize(
    ("limits", "named"),
    [
        ({"read_timeout_s": "1", "attempt_timeout_s": "30"}, "first byte"),
        ({"read_timeout_s": "30", "attempt_timeout_s": "1"}, "attempt_timeout_s"),
    ],
)
def test_a_silent_endpoint_fails_within_the_timeouts(
    s3_server: S3Server, silent_endpoint: str, limits: dict[str, str], named: str
) -> None:
    options = dict(
        s3_server.storage_options,
        endpoint_url=silent_endpoint,
        connect_timeout_s="1",
        max_attempts="2",
        **limits,
    )
    started = time.monotonic()
    with pytest.raises(pp.StorageError) as failure:
        pp.validate("s3://bucket/p/", RULES, storage_options=options)
    elapsed = time.monotonic() - started
    message = str(failure.value)
    assert elapsed < 10, elapsed
    assert message.startswith("list s3://bucket/p/: timed out"), message
    assert named in message
    assert s3_server.secret_access_key not in message


def test_timeouts_must_be_positive_seconds(s3_server: S3Server) -> None:
    for key in ("connect_timeout_s", "read_timeout_s", "attempt_timeout_s"):
        options = dict(s3_server.storage_options, **{key: "0"})
        with pytest.raises(pp.SchemaError, match=f"{key} must be a positive number of seconds"):
            pp.validate("s3://bucket/p/", RULES, storage_options=options)


@pytest.mark.parametrize(
    ("change", "source", "expected"),
    [
        # A listing has an error body: S3 says why.
        ({"aws_secret_access_key": "WRONG-secret-CANARY-0042"}, "p/", "credentials rejected"),
        # s3s-fs answers an unknown key id with NotSignedUp (AWS S3: InvalidAccessKeyId).
        ({"aws_access_key_id": "AKIACANARY0042"}, "p/", "forbidden (S3 error NotSignedUp"),
        # A HEAD answer has none.
        (
            {"aws_secret_access_key": "WRONG-secret-CANARY-0042"},
            "p/part-0000.csv",
            "access denied or bad credentials",
        ),
    ],
)
def test_403s_say_what_was_refused(
    s3_server: S3Server,
    s3_client: Any,
    s3_bucket: Any,
    partition: Path,
    change: dict[str, str],
    source: str,
    expected: str,
) -> None:
    raw = s3_bucket()
    s3_client.upload_file(str(partition), raw, "p/part-0000.csv")
    with pytest.raises(pp.StorageError) as failure:
        pp.validate(
            f"s3://{raw}/{source}", RULES, storage_options=dict(s3_server.storage_options, **change)
        )
    message = str(failure.value)
    operation = "head" if source.endswith(".csv") else "list"
    assert message.startswith(f"{operation} s3://{raw}/{source}: {expected}"), message
    assert "HTTP 403" in message and "Unknown" not in message
    for secret in ("CANARY", s3_server.secret_access_key):
        assert secret not in message and secret not in repr(failure.value)


def test_a_manifest_put_that_did_not_stand_is_a_lost_race(
    s3_server: S3Server,
    s3_client: Any,
    s3_bucket: Any,
    partition: Path,
    tmp_path: Path,
    fault_proxy: Any,
) -> None:
    """A backend whose conditional put is not atomic can tell two attempts they both wrote the
    manifest. The one whose manifest was overwritten must not report a commit of its own."""
    raw, out = s3_bucket(), s3_bucket()
    s3_client.upload_file(str(partition), raw, f"in/{partition.name}")
    outputs = {"valid_output": f"s3://{out}/clean/", "quarantine": f"s3://{out}/bad/"}
    first = pp.validate(
        f"s3://{raw}/in/", RULES, storage_options=s3_server.storage_options, **outputs
    )
    manifest = read(s3_client, out, "clean/_pyrustpipe_manifest.json")
    # The second attempt starts before the first one's manifest is visible to it (its check
    # before reading finds none), then its own conditional put "succeeds" without standing.
    fault_proxy.add_fault(
        "GET", r"_pyrustpipe_manifest\.json", "status", status=404, code="NoSuchKey", times=1
    )
    fault_proxy.add_fault("PUT", r"_pyrustpipe_manifest\.json", "drop", times=1)
    proxied = dict(s3_server.storage_options, endpoint_url=fault_proxy.endpoint_url)
    second = pp.validate(f"s3://{raw}/in/", RULES, storage_options=proxied, **outputs)
    assert fault_proxy.pending_faults() == 0
    assert first.to_dict()["outputs"]["already_committed"] is False
    assert second.to_dict()["outputs"]["already_committed"] is True
    assert second.invalid_rows == first.invalid_rows
    assert read(s3_client, out, "clean/_pyrustpipe_manifest.json") == manifest
    assert keys(s3_server, out) == [
        "bad/quarantine.csv",
        "clean/_pyrustpipe_manifest.json",
        "clean/valid.csv",
    ]


def test_a_lost_manifest_write_removes_its_staging_keys(
    s3_server: S3Server,
    s3_client: Any,
    s3_bucket: Any,
    partition: Path,
    fault_proxy: Any,
) -> None:
    """The manifest put is acknowledged but never stored: the read-back finds no manifest and the
    run fails (nothing is committed); like any run failing before its commit, it must remove its
    staging keys."""
    raw, out = s3_bucket(), s3_bucket()
    s3_client.upload_file(str(partition), raw, f"in/{partition.name}")
    outputs = {"valid_output": f"s3://{out}/clean/", "quarantine": f"s3://{out}/bad/"}
    fault_proxy.add_fault("PUT", r"_pyrustpipe_manifest\.json", "drop", times=1)
    proxied = dict(s3_server.storage_options, endpoint_url=fault_proxy.endpoint_url)
    with pytest.raises(pp.StorageError, match="the manifest vanished while committing"):
        pp.validate(f"s3://{raw}/in/", RULES, storage_options=proxied, **outputs)
    assert fault_proxy.pending_faults() == 0
    assert keys(s3_server, out) == []


def test_a_manifest_failing_its_checksum_is_read_again_then_named(
    s3_server: S3Server,
    s3_client: Any,
    s3_bucket: Any,
    partition: Path,
) -> None:
    """An object whose bytes no longer match the checksum stored with it (what a server's racing,
    non-atomic conditional puts can leave) fails every read: after the retries the run says which
    object and why, not only that a body broke."""
    raw, out = s3_bucket(), s3_bucket()
    s3_client.upload_file(str(partition), raw, f"in/{partition.name}")
    outputs = {"valid_output": f"s3://{out}/clean/", "quarantine": f"s3://{out}/bad/"}
    pp.validate(f"s3://{raw}/in/", RULES, storage_options=s3_server.storage_options, **outputs)
    # Other bytes of the same length behind the server's back: its stored checksum stays.
    stored = s3_server.root / out / "clean" / "_pyrustpipe_manifest.json"
    stored.write_bytes(stored.read_bytes().replace(b'"rows"', b'"ROWS"'))
    with pytest.raises(pp.StorageError) as failed:
        pp.validate(f"s3://{raw}/in/", RULES, storage_options=s3_server.storage_options, **outputs)
    message = str(failed.value)
    assert f"s3://{out}/clean/_pyrustpipe_manifest.json" in message, message
    assert "body failed 5 times" in message and "checksum mismatch" in message, message
