"""Fixtures of the console's tests: a ledger written by the real engine (two datasets, failed
days, a schema change, a history check), a users file with an operator and a viewer, a data
root for jobs, and the app behind a TestClient."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the console extra is not installed")

from devtools.console_ledger import spec, write_csv, write_partition  # noqa: E402

OPERATOR_TOKEN = "operator-token-0123456789"
VIEWER_TOKEN = "viewer-token-0123456789"
OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
VIEWER = {"Authorization": f"Bearer {VIEWER_TOKEN}"}


@dataclass
class World:
    root: Path
    ledger: Path
    data: Path
    users: Path
    big_source: Path
    small_source: Path
    # Twenty links to the big source: six million rows, seconds of work for a job to cancel.
    many: str


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    root = tmp_path_factory.mktemp("console")
    ledger, data = root / "ledger", root / "data"
    start = dt.date(2026, 1, 1)
    for n in range(8):
        write_partition(
            ledger,
            root / "history-data",
            "payments",
            start + dt.timedelta(days=n),
            300 + n,
            bad_every=40 if n in (2, 7) else 0,
            bad_currency_every=60 if n == 7 else 0,
            extra=n >= 6,
        )
    for n in range(5):
        write_partition(
            ledger, root / "history-data", "ledger_b", start + dt.timedelta(days=n), 100
        )
    users = root / "users.yaml"
    users.write_text(
        "users:\n"
        f"- name: olga\n  role: operator\n  token_sha256: {_sha(OPERATOR_TOKEN)}\n"
        f"- name: vera\n  role: viewer\n  token_sha256: {_sha(VIEWER_TOKEN)}\n",
        encoding="utf-8",
    )
    small = data / "payments" / "dt=2026-01-09.csv"
    write_csv(small, 500, bad_every=20, bad_currency_every=45, seed=9)
    big = data / "payments" / "big.csv"
    write_csv(big, 300_000, bad_every=1000, seed=3)
    copies = data / "copies"
    copies.mkdir()
    for n in range(20):
        (copies / f"part-{n:02d}.csv").symlink_to(big)
    return World(root, ledger, data, users, big, small, str(copies / "*.csv"))


def rules_text(dataset: str = "payments") -> str:
    import json

    return json.dumps(spec(dataset, history=False), indent=2)


@pytest.fixture
def config(world: World, tmp_path: Path):  # type: ignore[no-untyped-def]
    import shutil

    from pyrustpipe.console.config import ConsoleConfig

    # A copy per test: jobs append to the ledger, and no test should see another's runs.
    ledger = tmp_path / "ledger"
    shutil.copytree(world.ledger, ledger)
    return ConsoleConfig(
        ledger=ledger,
        auth_file=world.users,
        workdir=tmp_path / "console",
        data_roots=[world.data],
        max_jobs=1,
    )


@pytest.fixture
def client(config) -> Iterator:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient
    from pyrustpipe.console.app import create_app

    with TestClient(create_app(config), base_url="http://console.test") as test_client:
        yield test_client
