"""The console's JSON API and pages through httpx (TestClient): every endpoint, each role, the
errors; and the security rules — no token, a wrong token, a viewer starting a job, cross-site
and CSRF-less writes, path traversal on the quarantine browser: refused, nothing read or run."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.console.conftest import OPERATOR, OPERATOR_TOKEN, VIEWER, VIEWER_TOKEN, World, rules_text


def _wait(client: Any, job_id: str) -> dict[str, Any]:
    """Follow the job's server-sent events to its end (no sleeps, no timing)."""
    last: dict[str, Any] = {}
    with client.stream("GET", f"/api/jobs/{job_id}/events", headers=OPERATOR) as events:
        assert events.headers["content-type"].startswith("text/event-stream")
        for line in events.iter_lines():
            if line.startswith("data: ") and line != "data: {}":
                last = json.loads(line[len("data: ") :])
    return last


def _start(client: Any, world: World, source: Path | None = None, **extra: Any) -> dict[str, Any]:
    body = {"sources": [str(source or world.small_source)], "rules": rules_text(), **extra}
    response = client.post("/api/jobs", json=body, headers=OPERATOR)
    assert response.status_code == 201, response.text
    job: dict[str, Any] = response.json()
    return job


def _login(client: Any, token: str) -> str:
    response = client.post("/login", data={"token": token, "next": "/"}, follow_redirects=False)
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    page = client.get("/jobs")
    marker = 'name="csrf-token" content="'
    return page.text.split(marker, 1)[1].split('"', 1)[0]


# -- reading -------------------------------------------------------------------------------


def test_datasets_lists_every_dataset_with_health_needing_attention_first(client: Any) -> None:
    body = client.get("/api/datasets", headers=VIEWER).json()
    names = [d["dataset"] for d in body["datasets"]]
    assert names == ["payments", "ledger_b"]  # payments' newest run failed
    payments = body["datasets"][0]
    assert payments["passed"] is False and payments["partitions"] == 8
    assert "amount:gt" in payments["failing_rules"] and "currency:isin" in payments["failing_rules"]
    assert payments["invalid_rate"] == pytest.approx(payments["trend"]["invalid_rate"][-1])
    assert len(payments["trend"]["rows"]) == 8
    assert body["datasets"][1]["passed"] is True


def test_dataset_detail_has_rule_series_history_bands_and_schema_changes(client: Any) -> None:
    body = client.get("/api/datasets/payments", headers=VIEWER).json()
    assert len(body["runs"]) == 8
    assert body["rule_failures"]["amount:gt"][2] > 0 and body["rule_failures"]["amount:gt"][0] == 0
    band = body["history"]["history:row_count"]
    assert band["expected_low"][-1] is not None and band["status"][0] == "skipped"
    [change] = body["schema_changes"]
    assert change["logical_date"] == "2026-01-07" and change["added"] == ["channel"]
    assert client.get("/api/datasets/nope", headers=VIEWER).status_code == 404
    assert client.get("/api/datasets/..%2F..%2Fetc", headers=VIEWER).status_code == 404


def test_run_from_the_ledger_has_its_entry_and_history_verdicts(client: Any) -> None:
    run_id = client.get("/api/datasets/payments", headers=VIEWER).json()["runs"][-1]["run_id"]
    body = client.get(f"/api/runs/{run_id}", headers=VIEWER).json()
    assert body["entry"]["partition"] == "dt=2026-01-08"
    [check] = body["history"]
    assert check["name"] == "history:row_count" and "expected" in check["explanation"]
    assert body["report"] is None and body["quarantine_browsable"] is False
    assert client.get("/api/runs/no-such-run", headers=VIEWER).status_code == 404
    # Not a run started here: its quarantine location is unknown, nothing is guessed.
    assert client.get(f"/api/runs/{run_id}/quarantine", headers=VIEWER).status_code == 404


def test_pages_render_for_a_viewer(client: Any) -> None:
    run_id = client.get("/api/datasets/payments", headers=VIEWER).json()["runs"][-1]["run_id"]
    for path, needle in [
        ("/", "payments"),
        ("/datasets/payments", '<svg class="chart"'),
        (f"/runs/{run_id}", "History verdicts"),
        ("/jobs", "Recent jobs"),
        ("/playground", "Rule playground"),
    ]:
        page = client.get(path, headers=VIEWER)
        assert page.status_code == 200, path
        assert needle in page.text, path
        assert "Content-Security-Policy" in page.headers
    assert "Start a validation" not in client.get("/jobs", headers=VIEWER).text
    assert client.get("/datasets/nope", headers=VIEWER).status_code == 404


def test_openapi_and_me(client: Any) -> None:
    spec = client.get("/openapi.json", headers=VIEWER).json()
    for path in (
        "/api/datasets",
        "/api/runs/{run_id}/quarantine",
        "/api/jobs/{job_id}/events",
        "/api/playground/backtest",
    ):
        assert path in spec["paths"]
    assert client.get("/api/me", headers=VIEWER).json() == {"name": "vera", "role": "viewer"}


# -- jobs ----------------------------------------------------------------------------------


def test_a_job_runs_to_the_end_and_its_quarantine_pages_and_filters(
    client: Any, world: World
) -> None:
    job = _start(client, world, partition="dt=2026-01-09")
    assert job["status"] in ("queued", "running")
    final = _wait(client, job["id"])
    assert final["status"] == "failed"
    assert final["progress"]["rows"] == 500
    assert final["result"]["valid_rows"] + final["result"]["invalid_rows"] == 500
    assert sorted(final["result"]["failing_rules"]) == ["amount:gt", "currency:isin"]
    run_id = final["run_id"]
    run = client.get(f"/api/runs/{run_id}", headers=VIEWER).json()
    assert run["entry"]["partition"] == "dt=2026-01-09" and run["report"]["rows"] == 500
    assert run["quarantine_browsable"]
    # Page through every quarantined row: together they are the run's invalid rows.
    seen: list[str] = []
    cursor = 0
    while True:
        page = client.get(
            f"/api/runs/{run_id}/quarantine", params={"cursor": cursor, "limit": 7}, headers=VIEWER
        ).json()
        seen.extend(row["row"] for row in page["rows"])
        assert all(row["values"]["phone"].startswith("«masked:") for row in page["rows"])
        if page["next_cursor"] is None:
            break
        cursor = page["next_cursor"]
    assert len(seen) == final["result"]["invalid_rows"] and len(set(seen)) == len(seen)
    only = client.get(
        f"/api/runs/{run_id}/quarantine",
        params={"rule": "currency:isin", "limit": 500},
        headers=VIEWER,
    ).json()
    assert only["rows"] and all("currency:isin" in row["errors"] for row in only["rows"])
    assert (
        len(only["rows"])
        == run["report"]["rules"][
            [r["name"] for r in run["report"]["rules"]].index("currency:isin")
        ]["failed"]
    )
    assert client.get(f"/api/runs/{run_id}/quarantine?limit=0", headers=VIEWER).status_code == 422
    page = client.get(f"/runs/{run_id}?rule=amount:gt", headers=VIEWER).text
    assert "Quarantined rows" in page and "«masked:" in page
    listed = client.get("/api/jobs", headers=VIEWER).json()["jobs"]
    assert [j["id"] for j in listed] == [job["id"]]
    assert client.get(f"/jobs/{job['id']}", headers=VIEWER).status_code == 200


def test_cancel_a_running_and_a_queued_job_through_the_engine_cancel_switch(
    client: Any, world: World
) -> None:
    running = _start(client, world, source=None, ledger=False, sources=[world.many])
    queued = _start(client, world, ledger=False)  # max_jobs=1: it waits behind the first
    for job in (queued, running):
        cancelled = client.post(f"/api/jobs/{job['id']}/cancel", headers=OPERATOR)
        assert cancelled.status_code == 200
    assert _wait(client, queued["id"])["status"] == "cancelled"
    stopped = _wait(client, running["id"])
    assert stopped["status"] == "cancelled" and stopped["run_id"] is None
    assert stopped["error"] == "cancelled: nothing committed"
    assert client.post("/api/jobs/nope/cancel", headers=OPERATOR).status_code == 404


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"sources": []}, "sources"),
        ({"sources": ["relative.csv"]}, "absolute path"),
        ({"sources": ["/etc/passwd"]}, "outside the console's data roots"),
        ({"sources": ["s3://bucket/x.csv"]}, "outside the console's data roots"),
        ({"sources": ["file:///etc/passwd"]}, "a local path or an s3:// URI"),
        ({"rules": ""}, "rules"),
        ({"rules": "spec_version: 1\ncolumns:\n  - {name: a, dtype: intt}\n"}, "line 3"),
        ({"rules": "a: &x 1\nb: *x\n"}, "line 1"),
        ({"logical_date": "yesterday"}, "YYYY-MM-DD"),
    ],
)
def test_bad_job_requests_are_refused_before_anything_runs(
    client: Any, world: World, change: dict[str, Any], message: str
) -> None:
    body = {"sources": [str(world.small_source)], "rules": rules_text(), **change}
    response = client.post("/api/jobs", json=body, headers=OPERATOR)
    assert response.status_code == 400
    assert message in response.json()["detail"]
    assert client.get("/api/jobs", headers=OPERATOR).json()["jobs"] == []


def test_a_source_symlinked_out_of_the_data_root_is_refused(client: Any, world: World) -> None:
    link = world.data / "escape.csv"
    if not link.exists():
        os.symlink("/etc/hostname", link)
    body = {"sources": [str(link)], "rules": rules_text()}
    assert client.post("/api/jobs", json=body, headers=OPERATOR).status_code == 400
    body = {"sources": [str(world.data / "*.csv")], "rules": rules_text()}  # the glob matches it
    assert client.post("/api/jobs", json=body, headers=OPERATOR).status_code == 400


# -- security ------------------------------------------------------------------------------

ENDPOINTS = [
    ("GET", "/"),
    ("GET", "/datasets/payments"),
    ("GET", "/runs/x"),
    ("GET", "/jobs"),
    ("GET", "/jobs/x"),
    ("GET", "/playground"),
    ("GET", "/openapi.json"),
    ("GET", "/api/me"),
    ("GET", "/api/datasets"),
    ("GET", "/api/datasets/payments"),
    ("GET", "/api/runs/x"),
    ("GET", "/api/runs/x/quarantine"),
    ("GET", "/api/jobs"),
    ("GET", "/api/jobs/x"),
    ("GET", "/api/jobs/x/events"),
    ("POST", "/api/jobs"),
    ("POST", "/api/jobs/x/cancel"),
    ("POST", "/jobs"),
    ("POST", "/jobs/x/cancel"),
    ("POST", "/logout"),
    ("GET", "/api/playground/spec?dataset=payments"),
    ("POST", "/api/playground/check"),
    ("POST", "/api/playground/dry-run"),
    ("POST", "/api/playground/backtest"),
    ("POST", "/playground"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong-token"}, {"Authorization": "Basic x"}]
)
def test_no_token_or_a_wrong_token_is_401(
    client: Any, method: str, path: str, headers: dict[str, str]
) -> None:
    response = client.request(method, path, headers=headers)
    assert response.status_code == 401
    if path.startswith("/api/"):
        assert response.headers["www-authenticate"] == "Bearer"
    assert client.get("/api/jobs", headers=OPERATOR).json()["jobs"] == []


def test_a_viewer_cannot_start_or_cancel_a_job(client: Any, world: World) -> None:
    body = {"sources": [str(world.small_source)], "rules": rules_text()}
    assert client.post("/api/jobs", json=body, headers=VIEWER).status_code == 403
    job = _start(client, world, ledger=False)
    assert client.post(f"/api/jobs/{job['id']}/cancel", headers=VIEWER).status_code == 403
    assert _wait(client, job["id"])["status"] == "failed"  # it ran to its end, not cancelled
    assert len(client.get("/api/jobs", headers=VIEWER).json()["jobs"]) == 1


def test_a_browser_session_needs_the_csrf_token_and_its_own_origin(
    client: Any, world: World
) -> None:
    csrf = _login(client, OPERATOR_TOKEN)
    form = {
        "sources": str(world.small_source),
        "rules": rules_text(),
        "ledger": "",
        "valid_output": "on",
    }
    # No CSRF token: refused.
    assert client.post("/jobs", data=form, follow_redirects=False).status_code == 403
    # A wrong one: refused.
    bad = {**form, "csrf_token": "x" * 43}
    assert client.post("/jobs", data=bad, follow_redirects=False).status_code == 403
    # The right token from a foreign origin (a cross-site form post): refused.
    good = {**form, "csrf_token": csrf}
    foreign = {"Origin": "https://evil.example"}
    assert (
        client.post("/jobs", data=good, headers=foreign, follow_redirects=False).status_code == 403
    )
    assert (
        client.post(
            "/api/jobs",
            json={"sources": [str(world.small_source)], "rules": rules_text()},
            headers={"X-CSRF-Token": csrf, "Sec-Fetch-Site": "cross-site"},
        ).status_code
        == 403
    )
    assert client.get("/api/jobs").json()["jobs"] == []  # nothing ran
    # Same origin with the token: it starts.
    own = {"Origin": "http://console.test"}
    started = client.post("/jobs", data=good, headers=own, follow_redirects=False)
    assert started.status_code == 303 and started.headers["location"].startswith("/jobs/")
    job_id = started.headers["location"].rsplit("/", 1)[1]
    final = _wait(client, job_id)
    assert final["status"] == "failed"
    outputs = client.get(f"/api/runs/{final['run_id']}").json()["outputs"]
    assert outputs["valid"].endswith("/valid.csv") and outputs["quarantine"]
    # A JSON write with the header token works too; logging out ends the session.
    assert (
        client.post("/logout", headers={"X-CSRF-Token": csrf}, follow_redirects=False).status_code
        == 303
    )
    assert client.get("/api/me").status_code == 401


def test_login_with_a_wrong_token_and_an_open_redirect_are_refused(client: Any) -> None:
    assert client.post("/login", data={"token": "nope"}).status_code == 401
    response = client.post(
        "/login", data={"token": VIEWER_TOKEN, "next": "//evil.example/x"}, follow_redirects=False
    )
    assert response.headers["location"] == "/"
    assert (
        client.post(
            "/login", data={"token": VIEWER_TOKEN}, headers={"Origin": "https://evil.example"}
        ).status_code
        == 403
    )
    assert client.get("/login").status_code == 200


def _record_with_quarantine(config: Any, run_id: str, location: str) -> None:
    from pyrustpipe.console.runs import RunStore

    RunStore(config.runs_root).save(
        run_id,
        {
            "run_id": run_id,
            "report": {"rows": 1, "valid_rows": 0, "invalid_rows": 1, "passed": False, "rules": []},
            "spec": {
                "sensitive": [],
                "columns": [],
                "header": True,
                "delimiter": ",",
                "quote": '"',
            },
            "outputs": {"quarantine": location},
        },
    )


@pytest.mark.parametrize(
    "location",
    [
        "/etc/passwd",
        "{outputs}/../../../../etc/passwd",
        "{outputs}/link-out.csv",
        "s3://other-bucket/quarantine.csv",
    ],
)
def test_the_quarantine_browser_never_reads_outside_its_roots(
    client: Any, config: Any, location: str
) -> None:
    config.outputs_root.mkdir(parents=True, exist_ok=True)
    link = config.outputs_root / "link-out.csv"
    if not link.exists():
        os.symlink("/etc/passwd", link)
    _record_with_quarantine(config, "tampered", location.format(outputs=config.outputs_root))
    response = client.get("/api/runs/tampered/quarantine", headers=VIEWER)
    assert response.status_code in (403, 422)
    assert "root:" not in response.text
    page = client.get("/runs/tampered", headers=VIEWER)
    assert page.status_code == 200 and "root:" not in page.text


@pytest.mark.parametrize("run_id", ["..%2F..%2Fetc%2Fpasswd", "..", "a%00b", "%2Fetc%2Fpasswd"])
def test_run_ids_that_are_paths_are_refused(client: Any, run_id: str) -> None:
    response = client.get(f"/api/runs/{run_id}/quarantine", headers=VIEWER)
    assert response.status_code == 404
    assert "root:" not in response.text


def test_failed_logins_are_limited_per_client(client: Any) -> None:
    from pyrustpipe.console.auth import LOGIN_FAILURES

    for _ in range(LOGIN_FAILURES):
        assert client.post("/login", data={"token": "guess"}).status_code == 401
    # Even the right token waits now: guessing stops at ten tries a minute.
    assert client.post("/login", data={"token": VIEWER_TOKEN}).status_code == 429
    assert client.get("/api/me", headers=VIEWER).status_code == 200  # API tokens unaffected


def test_the_orchestrators_run_link_opens_the_run(client: Any, config: Any, world: World) -> None:
    """The link Airflow and Dagster carry (integrations.console_run_url) is this run's page."""
    from pyrustpipe.integrations import console_run_url, run_validation

    report = run_validation(
        str(world.small_source),
        json.loads(rules_text()),
        ledger=str(config.ledger),
        partition="dt=2026-01-10",
    )
    url = console_run_url(report, console_url="http://console.test")
    assert url is not None and url.startswith("http://console.test/runs/")
    page = client.get(url, headers=VIEWER)
    assert page.status_code == 200 and "dt=2026-01-10" in page.text


def test_a_request_body_over_two_mib_is_refused_unread(client: Any) -> None:
    big = b"x" * (3 << 20)
    response = client.post(
        "/api/jobs", content=big, headers={**OPERATOR, "content-type": "application/json"}
    )
    assert response.status_code == 413
    assert client.get("/api/jobs", headers=OPERATOR).json()["jobs"] == []
