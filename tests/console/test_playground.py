"""The playground's endpoints (pyrustpipe/console/playground.py over pyrustpipe.backtest): the
spec that ran, check with line and column, dry run inside the data roots, backtest with
per-partition deltas; roles and CSRF as for every write."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.console.conftest import OPERATOR, VIEWER, World


def _spec_that_ran(client: Any) -> dict[str, Any]:
    body = client.get("/api/playground/spec", params={"dataset": "payments"}, headers=VIEWER)
    assert body.status_code == 200
    loaded: dict[str, Any] = body.json()
    assert loaded["ruleset_hash"].startswith("sha256:")
    return loaded


def test_the_spec_that_ran_is_loaded_from_the_ledger(client: Any) -> None:
    spec = json.loads(_spec_that_ran(client)["spec"])
    assert spec["dataset"] == "payments" and "channel" in [c["name"] for c in spec["columns"]]
    missing = client.get("/api/playground/spec", params={"dataset": "nope"}, headers=VIEWER)
    assert missing.status_code == 404
    page = client.get("/playground", params={"dataset": "payments"}, headers=VIEWER)
    assert page.status_code == 200 and "&#34;spec_version&#34;: 1" in page.text


def test_check_names_the_line_and_column_and_refuses_python(client: Any) -> None:
    bad = "spec_version: 1\ncolumns:\n  - {name: a, dtype: intt}\n"
    [problem] = client.post("/api/playground/check", json={"spec": bad}, headers=VIEWER).json()[
        "problems"
    ]
    assert (problem["line"], problem["column"]) == (3, 15) and "intt" in problem["message"]
    python = "import os\nos.system('touch /tmp/owned')\n"
    [problem] = client.post("/api/playground/check", json={"spec": python}, headers=VIEWER).json()[
        "problems"
    ]
    assert "never executes Python" in problem["message"]
    good = _spec_that_ran(client)["spec"]
    assert client.post("/api/playground/check", json={"spec": good}, headers=VIEWER).json() == {
        "problems": []
    }


def test_dry_run_reports_on_a_sample_inside_the_data_roots(client: Any, world: World) -> None:
    text = _spec_that_ran(client)["spec"]
    body = {"spec": text, "source": str(world.small_source), "rows": 100}
    report = client.post("/api/playground/dry-run", json=body, headers=OPERATOR).json()["report"]
    assert report["rows"] == 100 and report["sample"]["rows"] == 100
    outside = {**body, "source": "/etc/passwd"}
    refused = client.post("/api/playground/dry-run", json=outside, headers=OPERATOR)
    assert refused.status_code == 400 and "root:" not in refused.text
    too_many = {**body, "rows": 10**9}
    assert (
        client.post("/api/playground/dry-run", json=too_many, headers=OPERATOR).status_code == 400
    )


def test_backtest_shows_per_partition_deltas(client: Any) -> None:
    spec = json.loads(_spec_that_ran(client)["spec"])
    amount = next(c for c in spec["columns"] if c["name"] == "amount")
    amount["checks"] = [{"type": "gt", "value": 500}]  # stricter: about half the rows
    body = {"spec": json.dumps(spec), "dataset": "payments", "last": 3, "examples": 2}
    result = client.post("/api/playground/backtest", json=body, headers=OPERATOR).json()
    backtest = result["backtest"]
    assert [p["partition"] for p in backtest["partitions"]] == [
        "dt=2026-01-06",
        "dt=2026-01-07",
        "dt=2026-01-08",
    ]
    compared = [p for p in backtest["partitions"] if p["status"] == "compared"]
    assert compared and all(p["newly_failing"] > 0 for p in compared)
    assert backtest["totals"]["newly_failing"] == sum(p["newly_failing"] for p in compared)
    example = compared[-1]["examples_newly_failing"][0]
    assert example["values"]["phone"].startswith("«masked:")
    assert (
        client.post(
            "/api/playground/backtest", json={**body, "dataset": "nope"}, headers=OPERATOR
        ).status_code
        == 400
    )


@pytest.mark.parametrize("path", ["/api/playground/dry-run", "/api/playground/backtest"])
def test_a_viewer_cannot_dry_run_or_backtest(client: Any, path: str) -> None:
    body = {"spec": "spec_version: 1\n", "dataset": "payments", "source": "/x"}
    assert client.post(path, json=body, headers=VIEWER).status_code == 403
    assert client.post(path, json=body).status_code == 401


def test_playground_form_actions(client: Any) -> None:
    from tests.console.conftest import VIEWER_TOKEN
    from tests.console.test_app import _login

    csrf = _login(client, VIEWER_TOKEN)
    form = {"spec": "spec_version: 1\nname: x\n", "csrf_token": csrf}
    checked = client.post("/playground", data={**form, "action": "check"})
    assert checked.status_code == 200 and "The engine accepts this spec" in checked.text
    exported = client.post("/playground", data={**form, "action": "export"})
    assert exported.text == form["spec"] and "attachment" in exported.headers["content-disposition"]
    assert client.post("/playground", data={**form, "action": "backtest"}).status_code == 403
    assert client.post("/playground", data={"spec": "x", "action": "check"}).status_code == 403
