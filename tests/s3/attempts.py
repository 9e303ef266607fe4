"""Attempts of one S3 → S3 validation run in child processes (so a test can kill -9 one, or race
two), and what the output bucket holds afterwards: shared by tests/s3 and the tests/chaos loops."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from devtools.local_s3 import S3Client, S3Server

REPO = Path(__file__).resolve().parents[2]
RULES_FILE = REPO / "bench" / "rules.json"
RULES = json.loads(RULES_FILE.read_text())
STAGING = "_pyrustpipe_attempts/"
MANIFEST = "_pyrustpipe_manifest.json"

# pp.validate with its arguments from argv[1] (JSON): the Python API in a process of its own.
_API_SCRIPT = (
    "import json, sys, pyrustpipe as pp\n"
    "args = json.loads(sys.argv[1])\n"
    "pp.validate(args['source'], args['rules'], storage_options=args['options'],"
    " **args['outputs'])\n"
)


def seed(s3_client: S3Client, bucket: str, prefix: str, paths: Sequence[Path]) -> None:
    """Upload ``paths`` under ``prefix``, plus a ``_SUCCESS`` marker (listings skip it)."""
    for path in paths:
        s3_client.upload_file(str(path), bucket, f"{prefix}{path.name}")
    s3_client.put_object(Bucket=bucket, Key=f"{prefix}_SUCCESS", Body=b"")


def start_api_run(
    source: str, options: Mapping[str, str], outputs: Mapping[str, str]
) -> subprocess.Popen[bytes]:
    """``pp.validate(source, RULES, storage_options=options, **outputs)`` in a child process."""
    payload = json.dumps(
        {"source": source, "rules": RULES, "options": dict(options), "outputs": dict(outputs)}
    )
    return subprocess.Popen([sys.executable, "-c", _API_SCRIPT, payload])


def cli_command(
    server: S3Server, source: str, outputs: Mapping[str, str], endpoint_url: str | None = None
) -> list[str]:
    """``pyrustpipe validate`` of ``source`` with RULES, writing ``outputs`` (``valid_output``,
    ``quarantine``, ``metrics_output``), its report as JSON on stdout; through ``endpoint_url``
    (a fault proxy) instead of the server's when given."""
    flags = {"valid_output": "--valid-output", "quarantine": "--quarantine"}
    flags["metrics_output"] = "--metrics-output"
    command = [sys.executable, "-m", "pyrustpipe", "validate", source, "--rules", str(RULES_FILE)]
    for name, uri in outputs.items():
        command += [flags[name], uri]
    command += ["--endpoint-url", endpoint_url or server.endpoint_url, "--region", server.region]
    return command + ["--format", "json"]


def cli_env(server: S3Server) -> dict[str, str]:
    """The environment of a CLI child: the server's credentials, the parent's import path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID=server.access_key_id,
        AWS_SECRET_ACCESS_KEY=server.secret_access_key,
        PYRUSTPIPE_NO_PROGRESS="1",
        PYTHONPATH=os.pathsep.join(sys.path),
    )
    return env


@dataclass
class CliRun:
    """A CLI child whose stdout and stderr go to files: a pipe nobody reads while the test
    waits would stop the child once its report fills the pipe."""

    process: subprocess.Popen[bytes]
    stdout: IO[bytes]
    stderr: IO[bytes]

    def finish(self, timeout: float = 600) -> tuple[int, str, str]:
        """Wait for the child: its exit code, stdout and stderr (-9 when killed)."""
        code = self.process.wait(timeout=timeout)
        texts = []
        for stream in (self.stdout, self.stderr):
            stream.seek(0)
            texts.append(stream.read().decode(errors="replace"))
            stream.close()
        return code, texts[0], texts[1]


def start_cli_run(
    server: S3Server, source: str, outputs: Mapping[str, str], endpoint_url: str | None = None
) -> CliRun:
    """The CLI run of ``cli_command`` in a child process."""
    stdout, stderr = tempfile.TemporaryFile(), tempfile.TemporaryFile()
    process = subprocess.Popen(
        cli_command(server, source, outputs, endpoint_url),
        env=cli_env(server),
        stdout=stdout,
        stderr=stderr,
        stdin=subprocess.DEVNULL,
    )
    return CliRun(process, stdout, stderr)


def all_keys(s3_client: S3Client, bucket: str, prefix: str = "") -> list[str]:
    keys: list[str] = []
    pages = s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    for page in pages:
        keys += [item["Key"] for item in page.get("Contents", [])]
    return sorted(keys)


def final_keys(s3_client: S3Client, bucket: str, prefix: str = "") -> list[str]:
    """The keys a reader sees: everything but the attempts' staging keys."""
    return [key for key in all_keys(s3_client, bucket, prefix) if STAGING not in key]


def read(s3_client: S3Client, bucket: str, key: str) -> bytes:
    body: bytes = s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()
    return body


def read_json(s3_client: S3Client, bucket: str, key: str) -> Any:
    return json.loads(read(s3_client, bucket, key))
