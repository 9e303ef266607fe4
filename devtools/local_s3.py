"""A real S3 server on loopback for tests and the demo: s3s-fs (crates.io) with SigV4 auth.

``scripts/install-s3s-fs.sh`` builds the server (the s3s-fs library served with ``TCP_NODELAY``,
``devtools/s3s_fs_nodelay``) into ``.tools/bin``. It listens on 127.0.0.1
only. Credentials are random per start and never printed.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

import boto3  # type: ignore[import-untyped]
from botocore.config import Config  # type: ignore[import-untyped]

S3Client: TypeAlias = Any  # botocore clients are generated at run time (mypy_boto3_s3 not used)

REPO = Path(__file__).resolve().parents[1]
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


@contextlib.contextmanager
def running_server(base: Path) -> Iterator[S3Server]:
    """Start s3s-fs with its data under ``base``; stop it on exit."""
    if not os.access(S3S_FS, os.X_OK):
        raise RuntimeError(f"{S3S_FS} is missing: run scripts/install-s3s-fs.sh (make does it)")
    root = base / "root"
    root.mkdir(parents=True)
    log = base / "s3s-fs.log"
    access_key = "AKIAPYRUSTPIPE" + secrets.token_hex(3).upper()
    # Hex: a secret starting with '-' would be read by s3s-fs as a flag.
    secret = secrets.token_hex(20)
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
        raise RuntimeError(f"s3s-fs did not start; its log:\n{_log_tail(log, secret)}")

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
