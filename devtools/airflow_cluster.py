"""A client of the local Airflow cluster (scripts/cluster/) for its tests and its benchmark:
settings from .cluster/cluster.env, a REST API v2 client (JWT from /auth/token), the S3 client,
and the process controls of scripts/cluster/cluster.py (kill a worker, restart the scheduler).

Waits are generous and only bound a hang; no assertion is about time.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

from devtools.local_s3 import S3Client, make_client

REPO = Path(__file__).resolve().parents[1]
ENV_FILE = REPO / ".cluster" / "cluster.env"
FANOUT = "example_pyrustpipe_fanout"
RULES = f"{REPO / 'example_dags' / 'rules' / 'transactions.py'}:Transactions"
RUN_TIMEOUT = 1800.0  # bounds a hang on a loaded 2-core machine; never an assertion
FINISHED = {"success", "failed"}


def cluster_script() -> ModuleType:
    """scripts/cluster/cluster.py, imported by path (scripts/ is not a package)."""
    path = REPO / "scripts" / "cluster" / "cluster.py"
    spec = importlib.util.spec_from_file_location("pyrustpipe_cluster_script", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def wait_until(what: str, ready: Any, timeout: float = RUN_TIMEOUT, every: float = 1.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = ready()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"gave up after {timeout:.0f}s waiting for {what}")


@dataclass
class Cluster:
    env: dict[str, str]
    script: ModuleType
    _token: str | None = field(default=None, repr=False)

    @property
    def bucket(self) -> str:
        return self.env["S3_BUCKET"]

    def s3(self) -> S3Client:
        return make_client(
            self.env["S3_ENDPOINT"], self.env["S3_ACCESS_KEY_ID"], self.env["S3_SECRET_ACCESS_KEY"]
        )

    def api(self, method: str, path: str, body: Any = None) -> Any:
        """One REST API v2 call; a fresh token once when the current one is refused."""
        for _ in range(2):
            if self._token is None:
                self._token = self.script.token(self.env)
            try:
                return self.script.http_json(
                    f"{self.env['AIRFLOW_API']}{path}", self._token, body, method
                )
            except urllib.error.HTTPError as error:
                if error.code != 401:
                    detail = error.read().decode(errors="replace")[:2000]
                    raise AssertionError(f"{method} {path}: {error.code} {detail}") from None
                self._token = None
        raise AssertionError(f"{method} {path}: the API refused a fresh token")

    def unpause(self, dag_id: str) -> None:
        self.api("PATCH", f"/dags/{dag_id}", {"is_paused": False})

    def trigger(self, dag_id: str, ds: str) -> str:
        run_id = f"cluster-test-{ds}-{time.time_ns()}"
        body = {"dag_run_id": run_id, "logical_date": f"{ds}T00:00:00+00:00"}
        self.api("POST", f"/dags/{dag_id}/dagRuns", body)
        return run_id

    def run_state(self, dag_id: str, run_id: str) -> str:
        quoted = urllib.parse.quote(run_id, safe="")
        return str(self.api("GET", f"/dags/{dag_id}/dagRuns/{quoted}")["state"])

    def wait_run(self, dag_id: str, run_id: str) -> str:
        return str(
            wait_until(
                f"run {run_id}",
                lambda: (s := self.run_state(dag_id, run_id)) in FINISHED and s,
                every=2.0,
            )
        )

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        quoted = urllib.parse.quote(run_id, safe="")
        found = self.api("GET", f"/dags/{dag_id}/dagRuns/{quoted}/taskInstances?limit=1000")
        return list(found["task_instances"])

    def tries(self, dag_id: str, run_id: str, task_id: str, map_index: int) -> list[dict[str, Any]]:
        """Every try of one task instance (hostname, state, try_number), oldest first."""
        quoted = urllib.parse.quote(run_id, safe="")
        path = f"/dags/{dag_id}/dagRuns/{quoted}/taskInstances/{task_id}/{map_index}/tries"
        return sorted(self.api("GET", path)["task_instances"], key=lambda t: int(t["try_number"]))

    def control(self, command: str, component: str) -> None:
        """``cluster.py kill|start COMPONENT`` in its own process: a started component is not
        a child of the caller (nor of pytest), it belongs to the cluster."""
        script = REPO / "scripts" / "cluster" / "cluster.py"
        done = subprocess.run(
            [sys.executable, str(script), command, component],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stdout + done.stderr

    def free_day(self, dag_id: str) -> str:
        """The first day from 2026-04-01 with no run of ``dag_id`` and no landing data, so tests
        can run again against a cluster that is kept up."""
        runs = self.api("GET", f"/dags/{dag_id}/dagRuns?limit=1000")["dag_runs"]
        taken = {str(r["logical_date"])[:10] for r in runs if r["logical_date"]}
        client = self.s3()
        day = date(2026, 4, 1)
        while True:
            ds = day.isoformat()
            if ds not in taken and not keys(client, self.bucket, f"landing/transactions/{ds}/"):
                return ds
            day += timedelta(days=1)

    def task_log(
        self, dag_id: str, run_id: str, task_id: str, map_index: int, attempt: int
    ) -> Path:
        """Where the workers write a task try's log (one AIRFLOW_HOME on one machine)."""
        return (
            Path(self.env["AIRFLOW_HOME"])
            / "logs"
            / f"dag_id={dag_id}"
            / f"run_id={run_id}"
            / f"task_id={task_id}"
            / f"map_index={map_index}"
            / f"attempt={attempt}.log"
        )

    def workers_answering(self) -> set[str]:
        return set(self.script.workers_answering(self.env))


def read_cluster() -> Cluster:
    script = cluster_script()
    return Cluster(env=script.read_env(), script=script)


def read_json(client: S3Client, bucket: str, key: str) -> Any:
    return json.loads(client.get_object(Bucket=bucket, Key=key)["Body"].read())


def keys(client: S3Client, bucket: str, prefix: str) -> list[str]:
    found: list[str] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        found += [o["Key"] for o in page.get("Contents", [])]
    return sorted(found)
