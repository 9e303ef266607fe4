"""What the chaos loops share: how many rounds (short in `make test`, long with CHAOS_LONG=1), a
seeded RNG whose seed a failure prints, and one partition on the local S3 server with its
fault-free run (the reference every faulted run must reproduce)."""

from __future__ import annotations

import json
import os
import random
import secrets
import time
from dataclasses import dataclass
from typing import Any

import pytest

from devtools.local_s3 import S3Client, S3Server
from tests.data_gen import make_transactions
from tests.s3.attempts import MANIFEST, CliRun, final_keys, read, seed, start_cli_run

LONG = os.environ.get("CHAOS_LONG") == "1"
# One partition of two files: long enough a run that its phases can be told apart, short enough
# for 200 rounds.
FILES = 2
ROWS = 50_000


def rounds(short: int, long: int) -> int:
    """``long`` with CHAOS_LONG=1, else ``short``; CHAOS_ROUNDS=N overrides both."""
    if "CHAOS_ROUNDS" in os.environ:
        return int(os.environ["CHAOS_ROUNDS"])
    return long if LONG else short


@pytest.fixture
def chaos_rng() -> random.Random:
    """A seeded RNG: CHAOS_SEED=N replays a run; the seed is printed, so a failure shows it."""
    value = int(os.environ.get("CHAOS_SEED") or secrets.randbits(32))
    print(f"chaos seed {value} (CHAOS_SEED={value} replays it)")
    return random.Random(value)


@dataclass
class Reference:
    """The partition, and what a fault-free CLI run of it printed and committed."""

    server: S3Server
    client: S3Client
    source: str
    out: str
    exit_code: int
    report: dict[str, Any]
    valid: bytes
    quarantine: bytes
    duration_s: float

    def outputs(self, prefix: str) -> dict[str, str]:
        """The run's outputs under ``s3://<out>/<prefix>``: one manifest, next to valid.csv."""
        base = f"s3://{self.out}/{prefix}"
        return {
            "valid_output": f"{base}clean/",
            "quarantine": f"{base}bad/",
            "metrics_output": f"{base}clean/",
        }

    def expected_keys(self, prefix: str) -> list[str]:
        return [
            f"{prefix}bad/quarantine.csv",
            f"{prefix}clean/{MANIFEST}",
            f"{prefix}clean/report.json",
            f"{prefix}clean/valid.csv",
        ]

    def run(self, prefix: str, endpoint_url: str | None = None) -> CliRun:
        return start_cli_run(self.server, self.source, self.outputs(prefix), endpoint_url)

    def assert_committed_once(self, prefix: str) -> dict[str, Any]:
        """Exactly the expected final keys (one manifest), every output as in the fault-free
        run, the manifest's and the stored report's counts equal to it; the manifest."""
        assert final_keys(self.client, self.out, prefix) == self.expected_keys(prefix)
        assert read(self.client, self.out, f"{prefix}clean/valid.csv") == self.valid
        assert read(self.client, self.out, f"{prefix}bad/quarantine.csv") == self.quarantine
        manifest: dict[str, Any] = json.loads(
            read(self.client, self.out, f"{prefix}clean/{MANIFEST}")
        )
        stored = json.loads(read(self.client, self.out, f"{prefix}clean/report.json"))
        for counts in (manifest, stored):
            assert counts_of(counts) == counts_of(self.report)
        assert stored["rules"] == self.report["rules"]
        return manifest


def counts_of(report: dict[str, Any]) -> tuple[int, int, int]:
    return report["rows"], report["valid_rows"], report["invalid_rows"]


def finish(*children: CliRun) -> list[tuple[int, dict[str, Any]]]:
    """Wait for every CLI child, then check each: its exit code and the JSON report it printed.
    All are waited for first, so a failed check leaves no child running into the next test."""
    ended = [child.finish() for child in children]
    results = []
    for code, out, err in ended:
        assert code in (0, 1), err[-2000:]
        report: dict[str, Any] = json.loads(out)
        results.append((code, report))
    return results


@pytest.fixture(scope="session")
def reference(
    s3_server: S3Server, s3_client: S3Client, tmp_path_factory: pytest.TempPathFactory
) -> Reference:
    """Made once per session: every loop runs against the same partition and reference."""
    folder = tmp_path_factory.mktemp("chaos-partition")
    paths = []
    for index in range(FILES):
        path = folder / f"part-{index:04d}.csv"
        make_transactions(path, ROWS, seed=200 + index, error_rate=0.02)
        paths.append(path)
    raw, out = f"prp-chaos-raw-{secrets.token_hex(4)}", f"prp-chaos-out-{secrets.token_hex(4)}"
    for bucket in (raw, out):
        s3_client.create_bucket(Bucket=bucket)
    seed(s3_client, raw, "tx/dt=2026-01-01/", paths)
    source = f"s3://{raw}/tx/dt=2026-01-01/"
    partial = Reference(s3_server, s3_client, source, out, 0, {}, b"", b"", 0.0)
    started = time.monotonic()
    [(exit_code, report)] = finish(partial.run("reference/"))
    duration = time.monotonic() - started
    assert report["outputs"]["already_committed"] is False
    assert report["invalid_rows"] > 0 and report["rows"] == FILES * ROWS
    return Reference(
        s3_server,
        s3_client,
        partial.source,
        out,
        exit_code,
        report,
        read(s3_client, out, "reference/clean/valid.csv"),
        read(s3_client, out, "reference/bad/quarantine.csv"),
        duration,
    )
