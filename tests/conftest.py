"""Fixtures shared by every test directory: a real S3 server on loopback (s3s-fs, SigV4
verified), a boto3 client and bucket factory to seed and inspect it, and a fault-injecting proxy."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator

import pytest

from devtools.local_s3 import S3Client, S3Server, make_client, running_server
from tests.s3.fault_proxy import FaultProxy


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    try:
        with running_server(tmp_path_factory.mktemp("s3s-fs")) as server:
            yield server
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="session")
def s3_client(s3_server: S3Server) -> Iterator[S3Client]:
    client = make_client(
        s3_server.endpoint_url, s3_server.access_key_id, s3_server.secret_access_key
    )
    yield client
    client.close()


@pytest.fixture
def s3_bucket(s3_client: S3Client) -> Callable[[], str]:
    """Factory: ``s3_bucket()`` creates a bucket with a fresh unique name and returns the name."""

    def create() -> str:
        name = f"prp-{secrets.token_hex(6)}"
        s3_client.create_bucket(Bucket=name)
        return name

    return create


@pytest.fixture
def fault_proxy(s3_server: S3Server) -> Iterator[FaultProxy]:
    """A fault-injecting proxy in front of ``s3_server`` (fresh per test, no faults armed)."""
    host, port = s3_server.endpoint_url.removeprefix("http://").rsplit(":", 1)
    proxy = FaultProxy(host, int(port)).start()
    try:
        yield proxy
    finally:
        proxy.stop()
