"""The quarantine of a run the console did not start (pp.validate with ``ledger=`` and
``quarantine=``), found through the outputs its ledger entry records (ledger version 3): its run
page links it, the API pages and filters it with sensitive columns masked from the stored spec;
without that spec no values are shown; an entry tampered to point elsewhere is refused; an entry
of version 2 (no ``outputs``) still shows its run, without a browser."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.console.conftest import VIEWER, World

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")


@pytest.fixture
def out(config: Any, tmp_path: Path) -> Path:
    """A folder outside the console's own, given to it as a data root."""
    folder = tmp_path / "out"
    folder.mkdir()
    config.data_roots.append(Path(os.path.realpath(folder)))
    return folder


@pytest.fixture
def ledger_run(config: Any, world: World, out: Path) -> dict[str, Any]:
    import pyrustpipe as pp
    from pyrustpipe._ledger_files import run_id_of

    from devtools.console_ledger import spec

    report = pp.validate(
        str(world.small_source),
        spec("payments", history=False),
        quarantine=str(out / "quarantine.csv"),
        ledger=str(config.ledger),
        partition="dt=2026-01-11",
    )
    run_id = run_id_of(report.outputs["ledger"])
    assert run_id is not None
    return {"report": report, "run_id": run_id, "entry": report.outputs["ledger"]}


def _client(config: Any) -> Iterator[Any]:
    from fastapi.testclient import TestClient
    from pyrustpipe.console.app import create_app

    with TestClient(create_app(config), base_url="http://console.test") as test_client:
        yield test_client


@pytest.fixture
def console(config: Any, ledger_run: dict[str, Any]) -> Iterator[Any]:
    """The app, started after the run (a test may change the ledger before asking for it)."""
    yield from _client(config)


def _rewrite_outputs(entry: str, outputs: Any) -> None:
    """The entry file with its ``outputs`` column replaced (None: dropped, as in version 2)."""
    table = pq.read_table(entry)
    index = table.schema.get_field_index("outputs")
    if outputs is None:
        table = table.drop_columns(["outputs"])
    else:
        column = pa.array([outputs], type=table.schema.field("outputs").type)
        table = table.set_column(index, "outputs", column)
    pq.write_table(table, entry)


def test_the_entry_records_the_final_output_paths(ledger_run: dict[str, Any], out: Path) -> None:
    table = pq.read_table(ledger_run["entry"])
    assert table.column("ledger_version").to_pylist() == [3]
    assert table.column("outputs").to_pylist() == [
        {
            "valid": None,
            "quarantine": str(out / "quarantine.csv"),
            "metrics": None,
            "manifest": None,
        }
    ]


def test_its_run_page_links_the_quarantine_and_the_api_pages_and_filters_it(
    console: Any, ledger_run: dict[str, Any], out: Path
) -> None:
    run_id, report = ledger_run["run_id"], ledger_run["report"]
    run = console.get(f"/api/runs/{run_id}", headers=VIEWER).json()
    assert run["report"] is None  # not a console job
    assert run["outputs"] == {"quarantine": str(out / "quarantine.csv")}
    assert run["quarantine_browsable"]
    seen: list[str] = []
    cursor = 0
    while True:
        page = console.get(
            f"/api/runs/{run_id}/quarantine", params={"cursor": cursor, "limit": 9}, headers=VIEWER
        ).json()
        seen.extend(row["row"] for row in page["rows"])
        assert page["sensitive"] == ["phone"]
        assert all(row["values"]["phone"].startswith("«masked:") for row in page["rows"])
        if page["next_cursor"] is None:
            break
        cursor = page["next_cursor"]
    assert report.invalid_rows > 0
    assert len(seen) == report.invalid_rows and len(set(seen)) == len(seen)
    assert sorted(page["rules"]) == ["amount:gt", "currency:isin"]
    only = console.get(
        f"/api/runs/{run_id}/quarantine",
        params={"rule": "currency:isin", "limit": 500},
        headers=VIEWER,
    ).json()
    assert only["rows"] and all("currency:isin" in row["errors"] for row in only["rows"])
    assert len(only["rows"]) == report.rule("currency:isin").failed
    html = console.get(f"/runs/{run_id}?rule=amount:gt", headers=VIEWER).text
    assert "Quarantined rows" in html and "browse below" in html and "«masked:" in html


def test_without_the_stored_spec_no_values_are_shown(
    config: Any, ledger_run: dict[str, Any]
) -> None:
    from pyrustpipe._ledger_files import spec_uri

    os.remove(spec_uri(str(config.ledger), ledger_run["report"].ruleset_hash))
    for console in _client(config):
        run_id = ledger_run["run_id"]
        response = console.get(f"/api/runs/{run_id}/quarantine", headers=VIEWER)
        assert response.status_code == 403
        assert "cannot tell which columns are sensitive" in response.json()["detail"]
        html = console.get(f"/runs/{run_id}", headers=VIEWER).text
        assert "cannot tell which columns are sensitive" in html and "«masked:" not in html
        assert "+2547" not in html and "+2547" not in response.text


@pytest.mark.parametrize(
    "location",
    [
        "/etc/passwd",
        "{out}/../../../../../../etc/passwd",
        "{out}/link-out.csv",
        "{ledger}/../elsewhere/quarantine.csv",
        "s3://other-bucket/quarantine.csv",
    ],
)
def test_an_entry_tampered_to_point_elsewhere_is_refused(
    config: Any, ledger_run: dict[str, Any], out: Path, location: str
) -> None:
    os.symlink("/etc/passwd", out / "link-out.csv")
    elsewhere = Path(config.ledger).parent / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "quarantine.csv").write_text("secret,_pyrustpipe_errors\nhush,[]\n")
    target = location.format(out=out, ledger=config.ledger)
    _rewrite_outputs(ledger_run["entry"], {"quarantine": target})
    for console in _client(config):
        run_id = ledger_run["run_id"]
        response = console.get(f"/api/runs/{run_id}/quarantine", headers=VIEWER)
        assert response.status_code == 403, response.text
        assert "outside" in response.json()["detail"]
        assert "root:" not in response.text and "hush" not in response.text
        html = console.get(f"/runs/{run_id}", headers=VIEWER)
        assert html.status_code == 200 and "root:" not in html.text and "hush" not in html.text


def test_a_version_2_entry_shows_its_run_without_a_browser(
    config: Any, ledger_run: dict[str, Any]
) -> None:
    _rewrite_outputs(ledger_run["entry"], None)
    for console in _client(config):
        run_id = ledger_run["run_id"]
        run = console.get(f"/api/runs/{run_id}", headers=VIEWER).json()
        assert run["entry"]["partition"] == "dt=2026-01-11"
        assert run["outputs"] == {} and not run["quarantine_browsable"]
        assert console.get(f"/api/runs/{run_id}/quarantine", headers=VIEWER).status_code == 404
        html = console.get(f"/runs/{run_id}", headers=VIEWER).text
        assert "records no outputs" in html and "Quarantined rows" not in html


def test_an_s3_run_s_quarantine_pages_inside_a_data_prefix_and_not_outside(
    world: World, tmp_path: Path, s3_server: Any, s3_bucket: Any
) -> None:
    """A run with its ledger and quarantine on S3 (the local server): the browser pages the
    quarantine its entry records under a ``--data`` prefix with ranged GETs; one recorded under
    another prefix of the same bucket is refused."""
    import pyrustpipe as pp
    from fastapi.testclient import TestClient
    from pyrustpipe._ledger_files import run_id_of
    from pyrustpipe.console.app import create_app
    from pyrustpipe.console.config import ConsoleConfig

    from devtools.console_ledger import spec

    bucket = s3_bucket()
    options = s3_server.storage_options
    run_ids = {}
    for where, day in (("pipeline", "dt=2026-02-05"), ("elsewhere", "dt=2026-02-06")):
        report = pp.validate(
            str(world.small_source),
            spec("cards", history=False),
            quarantine=f"s3://{bucket}/{where}/quarantine/{day}/",
            ledger=f"s3://{bucket}/ledger",
            partition=day,
            storage_options=options,
        )
        assert report.outputs["manifest"] and report.invalid_rows > 0
        run_id = run_id_of(report.outputs["ledger"], options)
        assert run_id is not None
        run_ids[where] = (run_id, report)
    config = ConsoleConfig(
        ledger=f"s3://{bucket}/ledger",
        auth_file=world.users,
        workdir=tmp_path / "console",
        data_roots=[f"s3://{bucket}/pipeline"],
        storage_options=options,
    )
    with TestClient(create_app(config), base_url="http://console.test") as client:
        run_id, report = run_ids["pipeline"]
        run = client.get(f"/api/runs/{run_id}", headers=VIEWER).json()
        assert run["outputs"]["quarantine"] == report.outputs["quarantine"]
        assert run["outputs"]["manifest"] == report.outputs["manifest"]
        page = client.get(
            f"/api/runs/{run_id}/quarantine", params={"limit": 500}, headers=VIEWER
        ).json()
        assert len(page["rows"]) == report.invalid_rows and page["next_cursor"] is None
        assert all(row["values"]["phone"].startswith("«masked:") for row in page["rows"])
        run_id, _ = run_ids["elsewhere"]
        response = client.get(f"/api/runs/{run_id}/quarantine", headers=VIEWER)
        assert response.status_code == 403 and "outside" in response.json()["detail"]
