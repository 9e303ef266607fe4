"""Fixtures for tests against a real S3 server on loopback: s3s-fs (crates.io) with SigV4 auth.

``scripts/install-s3s-fs.sh`` installs the server into ``.tools/bin``. Every fixture talks to
127.0.0.1 only. Credentials are random per session and never printed.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

import boto3  # type: ignore[import-untyped]
import pytest
from botocore.config import Config  # type: ignore[import-untyped]

from .fault_proxy import FaultProxy

S3Client: TypeAlias = Any  # botocore clients are generated at run time (mypy_boto3_s3 not used)

REPO = Path(__file__).resolve().parents[2]
S3S_FS = REPO / ".tools" / "bin" / "s3s-fs"
REGION = "us-east-1"
START_TIMEOUT = 20.0


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str
    access_key_id: str
    secret_access_key: str = field(repr=False)
    root: Path
    log: Path
    region: str = REGION

    @property
    def storage_options(self) -> dict[str, str]:
        """What pyrustpipe takes as ``storage_options`` to reach this server."""
        return {
            "aws_access_key_id": self.access_key_id,
            "aws_secret_access_key": self.secret_access_key,
            "region": self.region,
            "endpoint_url": self.endpoint_url,
            "force_path_style": "true",
        }


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(url: str) -> bool:
    """True once an HTTP server answers at ``url`` (any status: unsigned requests get 403)."""
    try:
        with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - loopback only
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def _log_tail(log: Path, secret: str) -> str:
    text = log.read_text(errors="replace")[-4000:] if log.exists() else ""
    return text.replace(secret, "<secret>")


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    if not os.access(S3S_FS, os.X_OK):
        pytest.fail(
            f"{S3S_FS} is missing: run scripts/install-s3s-fs.sh (make test does it)",
            pytrace=False,
        )
    base = tmp_path_factory.mktemp("s3s-fs")
    root = base / "root"
    root.mkdir()
    log = base / "s3s-fs.log"
    access_key = "AKIAPYRUSTPIPE" + secrets.token_hex(3).upper()
    secret = secrets.token_urlsafe(30)[:40]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.setdefault("RUST_LOG", "s3s=info")

    proc: subprocess.Popen[bytes] | None = None
    endpoint = ""
    for _attempt in range(3):  # the port found free may be taken before s3s-fs binds it
        port = free_port()
        endpoint = f"http://127.0.0.1:{port}"
        with log.open("ab") as out:
            proc = subprocess.Popen(
                [
                    str(S3S_FS),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--access-key",
                    access_key,
                    "--secret-key",
                    secret,
                    str(root),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and proc.poll() is None and not _answers(endpoint):
            time.sleep(0.05)
        if proc.poll() is None and _answers(endpoint):
            break
        _stop(proc)
        proc = None
    if proc is None:
        pytest.fail(f"s3s-fs did not start; its log:\n{_log_tail(log, secret)}", pytrace=False)

    try:
        yield S3Server(endpoint, access_key, secret, root, log)
    finally:
        _stop(proc)


def make_client(
    endpoint_url: str,
    access_key_id: str,
    secret_access_key: str,
    *,
    max_attempts: int = 3,
    read_timeout: float = 10.0,
) -> S3Client:
    """A boto3 S3 client: path-style, SigV4, standard retries, no environment proxies.

    ``max_attempts`` counts every attempt, the first included (botocore's ``total_max_attempts``;
    its ``max_attempts`` key would count retries only).
    """
    session = boto3.session.Session(
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        region_name=REGION,
    )
    config = Config(
        s3={"addressing_style": "path"},
        signature_version="s3v4",
        retries={"mode": "standard", "total_max_attempts": max_attempts},
        connect_timeout=3,
        read_timeout=read_timeout,
        proxies={},
    )
    return session.client("s3", endpoint_url=endpoint_url, config=config)


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
