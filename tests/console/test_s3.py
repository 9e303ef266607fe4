"""The console with its jobs' outputs on S3 (a real s3s-fs server on loopback): a job writes its
quarantine under the console's S3 prefix and the browser pages it with ranged GETs, filtered
and masked; a run record pointing at another bucket or an odd key is refused, nothing read."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from devtools.local_s3 import S3Client, S3Server
from tests.console.conftest import OPERATOR, VIEWER, World, rules_text


@pytest.fixture
def s3_console(
    world: World, tmp_path: Path, s3_server: S3Server, s3_bucket: Callable[[], str]
) -> Iterator[tuple[Any, Any, str]]:
    from fastapi.testclient import TestClient
    from pyrustpipe.console.app import create_app
    from pyrustpipe.console.config import ConsoleConfig

    bucket = s3_bucket()
    config = ConsoleConfig(
        ledger=tmp_path / "ledger",
        auth_file=world.users,
        workdir=tmp_path / "console",
        data_roots=[world.data],
        outputs=f"s3://{bucket}/console",
        storage_options=s3_server.storage_options,
    )
    with TestClient(create_app(config), base_url="http://console.test") as client:
        yield client, config, bucket


def test_a_job_writes_to_s3_and_its_quarantine_pages_from_there(
    s3_console: tuple[Any, Any, str], world: World, s3_client: S3Client
) -> None:
    client, _, bucket = s3_console
    body = {"sources": [str(world.small_source)], "rules": rules_text(), "ledger": False}
    job = client.post("/api/jobs", json=body, headers=OPERATOR).json()
    with client.stream("GET", f"/api/jobs/{job['id']}/events", headers=VIEWER) as events:
        final = [json.loads(line[6:]) for line in events.iter_lines() if line[6:8] == '{"']
    done = final[-1]
    assert done["status"] == "failed", done
    run = client.get(f"/api/runs/{done['run_id']}", headers=VIEWER).json()
    location = run["outputs"]["quarantine"]
    assert location.startswith(f"s3://{bucket}/console/{job['id']}/")
    keys = [o["Key"] for o in s3_client.list_objects_v2(Bucket=bucket)["Contents"]]
    assert f"console/{job['id']}/quarantine.csv" in keys
    seen, cursor = [], 0
    while True:
        page = client.get(
            f"/api/runs/{done['run_id']}/quarantine",
            params={"cursor": cursor, "limit": 9},
            headers=VIEWER,
        ).json()
        seen.extend(row["row"] for row in page["rows"])
        assert all(row["values"]["phone"].startswith("«masked:") for row in page["rows"])
        if page["next_cursor"] is None:
            break
        cursor = page["next_cursor"]
    assert len(seen) == done["result"]["invalid_rows"] == len(set(seen))
    only = client.get(
        f"/api/runs/{done['run_id']}/quarantine",
        params={"rule": "currency:isin", "limit": 500},
        headers=VIEWER,
    ).json()
    assert only["rows"] and all("currency:isin" in row["errors"] for row in only["rows"])


@pytest.mark.parametrize(
    "location",
    [
        "s3://{other}/console/x/quarantine.csv",
        "s3://{bucket}/elsewhere/quarantine.csv",
        "s3://{bucket}/console/../elsewhere/quarantine.csv",
        "s3://{bucket}/console//quarantine.csv",
        "s3://{bucket}/console-evil/quarantine.csv",
    ],
)
def test_s3_locations_outside_the_prefix_are_refused(
    s3_console: tuple[Any, Any, str],
    s3_client: S3Client,
    s3_bucket: Callable[[], str],
    location: str,
) -> None:
    from pyrustpipe.console.runs import RunStore

    client, config, bucket = s3_console
    other = s3_bucket()
    secret = "id,note\n1,top secret\n"
    for name, key in ((other, "console/x/quarantine.csv"), (bucket, "elsewhere/quarantine.csv")):
        s3_client.put_object(Bucket=name, Key=key, Body=secret.encode())
    RunStore(config.runs_root).save(
        "tampered",
        {
            "run_id": "tampered",
            "report": {"rules": []},
            "spec": {
                "sensitive": [],
                "columns": [],
                "header": True,
                "delimiter": ",",
                "quote": '"',
            },
            "outputs": {"quarantine": location.format(bucket=bucket, other=other)},
        },
    )
    response = client.get("/api/runs/tampered/quarantine", headers=VIEWER)
    assert response.status_code == 403 and "top secret" not in response.text


def test_a_ledger_on_s3(
    world: World, tmp_path: Path, s3_server: S3Server, s3_bucket: Callable[[], str]
) -> None:
    """The console over an S3 ledger: datasets, charts, runs, the spec that ran, and a job that
    records its run there."""
    import datetime as dt

    from fastapi.testclient import TestClient
    from pyrustpipe.console.app import create_app
    from pyrustpipe.console.config import ConsoleConfig

    from devtools.console_ledger import write_partition

    ledger = f"s3://{s3_bucket()}/quality/ledger"
    options = s3_server.storage_options
    for n in range(4):
        day = dt.date(2026, 2, 1) + dt.timedelta(days=n)
        write_partition(
            ledger,
            tmp_path / "data",
            "cards",
            day,
            120,
            bad_every=30 if n == 3 else 0,
            storage_options=options,
        )
    config = ConsoleConfig(
        ledger=ledger,
        auth_file=world.users,
        workdir=tmp_path / "console",
        data_roots=[world.data],
        storage_options=options,
    )
    with TestClient(create_app(config), base_url="http://console.test") as client:
        [cards] = client.get("/api/datasets", headers=VIEWER).json()["datasets"]
        assert cards["dataset"] == "cards" and cards["partitions"] == 4 and not cards["passed"]
        detail = client.get("/api/datasets/cards", headers=VIEWER).json()
        assert [r["logical_date"] for r in detail["runs"]][-1] == "2026-02-04"
        run_id = detail["runs"][-1]["run_id"]
        assert client.get(f"/runs/{run_id}", headers=VIEWER).status_code == 200
        spec = client.get("/api/playground/spec", params={"dataset": "cards"}, headers=VIEWER)
        assert json.loads(spec.json()["spec"])["dataset"] == "cards"
        rules = json.loads(rules_text("cards"))
        body = {
            "sources": [str(world.small_source)],
            "rules": json.dumps(rules),
            "partition": "dt=2026-02-05",
        }
        job = client.post("/api/jobs", json=body, headers=OPERATOR).json()
        with client.stream("GET", f"/api/jobs/{job['id']}/events", headers=VIEWER) as events:
            final = [json.loads(x[6:]) for x in events.iter_lines() if x[6:8] == '{"'][-1]
        assert final["status"] == "failed" and final["run_id"]
        run = client.get(f"/api/runs/{final['run_id']}", headers=VIEWER).json()
        assert run["entry"]["partition"] == "dt=2026-02-05" and run["quarantine_browsable"]


def test_sources_on_s3_inside_a_data_prefix(
    world: World,
    tmp_path: Path,
    s3_server: S3Server,
    s3_client: S3Client,
    s3_bucket: Callable[[], str],
) -> None:
    from fastapi.testclient import TestClient
    from pyrustpipe.console.app import create_app
    from pyrustpipe.console.config import ConsoleConfig

    bucket, other = s3_bucket(), s3_bucket()
    data = world.small_source.read_bytes()
    for name in (bucket, other):
        s3_client.put_object(Bucket=name, Key="raw/dt=2026-01-09/part-0.csv", Body=data)
    config = ConsoleConfig(
        ledger=tmp_path / "ledger",
        auth_file=world.users,
        workdir=tmp_path / "console",
        data_roots=[f"s3://{bucket}/raw/"],
        storage_options=s3_server.storage_options,
    )
    with TestClient(create_app(config), base_url="http://console.test") as client:
        source = f"s3://{bucket}/raw/dt=2026-01-09/"
        body = {"sources": [source], "rules": rules_text(), "ledger": False}
        job = client.post("/api/jobs", json=body, headers=OPERATOR).json()
        with client.stream("GET", f"/api/jobs/{job['id']}/events", headers=VIEWER) as events:
            final = [json.loads(x[6:]) for x in events.iter_lines() if x[6:8] == '{"'][-1]
        assert final["status"] == "failed" and final["progress"]["rows"] == 500
        dry = {"spec": rules_text(), "source": source, "rows": 50}
        report = client.post("/api/playground/dry-run", json=dry, headers=OPERATOR).json()
        assert report["report"]["rows"] == 50
        for refused in (
            f"s3://{other}/raw/dt=2026-01-09/",
            f"s3://{bucket}/raw/../secret/x.csv",
            f"s3://{bucket}/rawer/x.csv",
        ):
            for path, payload in (
                ("/api/jobs", {**body, "sources": [refused]}),
                ("/api/playground/dry-run", {**dry, "source": refused}),
            ):
                response = client.post(path, json=payload, headers=OPERATOR)
                assert response.status_code == 400, (path, refused)
                assert "outside the console's data roots" in response.json()["detail"]
