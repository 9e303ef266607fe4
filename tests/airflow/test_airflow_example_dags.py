"""Every example Dag, run with ``dag.test()`` on sqlite against the local S3 server.

Expected outputs come from two independent places: the generator's ground truth (which rules each
injected fault breaks) and a local run of the engine over a downloaded copy of the same input,
whose valid / quarantine files must equal the S3 objects byte for byte.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb
import pyrustpipe as pp
import pytest

from tests.airflow._env import EXAMPLE_DAGS, airflow_cli
from tests.data_gen import make_transactions

RULES = f"{EXAMPLE_DAGS.parent / 'rules' / 'transactions.py'}:Transactions"
DAILY_RULES = f"{EXAMPLE_DAGS.parent / 'rules' / 'transactions_daily.py'}:DailyTransactions"
WARN_RULES = {"country:pattern"}


def day(n: int) -> datetime:
    """A logical date per test, so tests never share S3 prefixes."""
    return datetime(2026, 3, n, tzinfo=timezone.utc)


def seed(client: Any, bucket: str, key: str, tmp: Path, rows: int, seed: int, rate: float) -> dict:
    """Upload a generated transactions CSV; returns the generator's ground truth and local path."""
    path = tmp / key.replace("/", "_")
    truth = make_transactions(path, rows, seed, rate)
    client.upload_file(str(path), bucket, key)
    return {**truth, "path": path}


def read(client: Any, bucket: str, key: str) -> bytes:
    return client.get_object(Bucket=bucket, Key=key)["Body"].read()


def run(dagbag: Any, dag_id: str, when: datetime) -> tuple[dict[str, str], Any]:
    dag = dagbag.get_dag(dag_id)
    dagrun = dag.test(logical_date=when)
    states = {
        (ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"): ti.state
        for ti in dagrun.get_task_instances()
    }
    return states, dagrun


def xcom(dagrun: Any, task_id: str, map_index: int = -1) -> Any:
    ti = dagrun.get_task_instance(task_id, map_index=map_index)
    return ti.xcom_pull(task_ids=task_id, map_indexes=map_index)


def local_out(path: Path) -> Path:
    return path.with_name(f"local-{path.stem}")


def local_run(path: Path) -> pp.Report:
    """The oracle for the S3 objects: the engine over a local copy of the input."""
    out = local_out(path)
    out.mkdir()
    return pp.validate(
        str(path), RULES, quarantine=f"{out}/", valid_output=f"{out}/", metrics_output=f"{out}/"
    )


def quarantine_of(path: Path, uri: str) -> bytes:
    """The local quarantine file as the S3 run writes it: rows name their source URI."""
    return (
        (local_out(path) / "quarantine.csv").read_bytes().replace(str(path).encode(), uri.encode())
    )


def expected_failed(truth: dict) -> dict[str, int]:
    return {rule: n for rule, n in truth["failures"].items() if n}


def assert_no_secret(capfd: pytest.CaptureFixture[str], caplog: Any, s3_server: Any) -> str:
    out, err = capfd.readouterr()
    text = out + err + caplog.text
    assert s3_server.secret_access_key not in text
    return text


def test_gate_dag_passes_clean_data(
    dagbag, airflow_env, s3_client, s3_server, tmp_path, capfd, caplog
):
    bucket = airflow_env
    truth = seed(s3_client, bucket, "raw/transactions/dt=2026-03-01/a.csv", tmp_path, 300, 1, 0.0)
    assert truth["invalid_rows"] == 0

    states, dagrun = run(dagbag, "example_pyrustpipe_gate", day(1))

    assert states == {"validate_transactions": "success", "load": "success"}
    summary = xcom(dagrun, "validate_transactions")
    metrics = f"s3://{bucket}/dq-metrics/transactions/dt=2026-03-01/report.json"
    assert summary == {
        "source": f"s3://{bucket}/raw/transactions/dt=2026-03-01/",
        "partition": "dt=2026-03-01",
        "mode": "gate",
        "schema": "Transactions",
        "ruleset_hash": summary["ruleset_hash"],
        "passed": True,
        "rows": 300,
        "valid_rows": 300,
        "invalid_rows": 0,
        "quarantine_fraction": 0.0,
        "failed_rules": {},
        "outputs": {
            "valid": None,
            "quarantine": None,
            "metrics": metrics,
            "manifest": f"s3://{bucket}/dq-metrics/transactions/dt=2026-03-01/_pyrustpipe_manifest.json",
            "already_committed": False,
        },
    }
    assert summary["ruleset_hash"].startswith("sha256:")
    assert xcom(dagrun, "load") == 300
    report = json.loads(read(s3_client, bucket, metrics.split("/", 3)[3]))
    assert (report["rows"], report["invalid_rows"], report["passed"]) == (300, 0, True)
    assert report["ruleset_hash"] == summary["ruleset_hash"]
    text = assert_no_secret(capfd, caplog, s3_server)
    assert "pyrustpipe Transactions: PASSED  rows=300  valid=300  invalid=0" in text


def test_gate_dag_fails_bad_data_at_validate(
    dagbag, airflow_env, s3_client, s3_server, tmp_path, capfd, caplog
):
    bucket = airflow_env
    truth = seed(s3_client, bucket, "raw/transactions/dt=2026-03-02/a.csv", tmp_path, 400, 7, 0.05)
    failed = expected_failed(truth)
    errors = {r: n for r, n in failed.items() if r not in WARN_RULES}
    assert errors and set(failed) & WARN_RULES, "the seed must break error and warn rules"

    states, dagrun = run(dagbag, "example_pyrustpipe_gate", day(2))

    assert states == {"validate_transactions": "failed", "load": "upstream_failed"}
    ti = dagrun.get_task_instance("validate_transactions")
    assert ti.try_number == 1  # AirflowFailException: no retry
    local = local_run(truth["path"])
    text = assert_no_secret(capfd, caplog, s3_server)
    described = ", ".join(f"{r} ({n} rows)" for r, n in sorted(errors.items()))
    message = (
        f"PyRustPipeValidationFailed: pyrustpipe: {len(errors)} rule(s) failed for Transactions on "
        f"s3://{bucket}/raw/transactions/dt=2026-03-02/ ({local.invalid_rows} of 400 rows "
        f"invalid): {described}"
    )
    assert message in text
    warned = ", ".join(f"{r} ({failed[r]} rows)" for r in sorted(set(failed) & WARN_RULES))
    assert f"warn rules failed, task goes on: {warned}" in text


def test_quarantine_dag_splits_rows(
    dagbag, airflow_env, s3_client, s3_server, tmp_path, capfd, caplog
):
    bucket = airflow_env
    truth = seed(s3_client, bucket, "raw/transactions/dt=2026-03-03/a.csv", tmp_path, 500, 3, 0.02)
    local = local_run(truth["path"])
    assert 0 < local.invalid_rows / local.rows <= 0.05

    states, dagrun = run(dagbag, "example_pyrustpipe_quarantine", day(3))

    assert states == {"quarantine_transactions": "success", "load": "success"}
    summary = xcom(dagrun, "quarantine_transactions")
    prefix = f"s3://{bucket}/{{}}/transactions/dt=2026-03-03/"
    assert summary["outputs"]["valid"] == prefix.format("clean") + "valid.csv"
    assert summary["outputs"]["quarantine"] == prefix.format("quarantine") + "quarantine.csv"
    assert summary["outputs"]["metrics"] == prefix.format("dq-metrics") + "report.json"
    assert (summary["rows"], summary["valid_rows"], summary["invalid_rows"]) == (
        500,
        local.valid_rows,
        local.invalid_rows,
    )
    assert summary["passed"] is False and summary["mode"] == "quarantine"
    assert {n: r["failed"] for n, r in summary["failed_rules"].items()} == expected_failed(truth)
    assert xcom(dagrun, "load") == summary["outputs"]["valid"]

    out = local_out(truth["path"])
    key = "transactions/dt=2026-03-03/"
    assert read(s3_client, bucket, f"clean/{key}valid.csv") == (out / "valid.csv").read_bytes()
    quarantined = read(s3_client, bucket, f"quarantine/{key}quarantine.csv")
    assert quarantined == quarantine_of(truth["path"], f"s3://{bucket}/raw/{key}a.csv")
    assert len(list(csv.reader(io.StringIO(quarantined.decode())))) == local.invalid_rows + 1
    report = json.loads(read(s3_client, bucket, f"dq-metrics/{key}report.json"))
    assert (report["rows"], report["valid_rows"], report["invalid_rows"]) == (
        500,
        local.valid_rows,
        local.invalid_rows,
    )
    assert_no_secret(capfd, caplog, s3_server)

    # The asset event on the clean output carries the counts.
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        event = session.scalars(
            select(AssetEvent)
            .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .where(
                AssetModel.name == "clean_transactions", AssetEvent.source_run_id == dagrun.run_id
            )
        ).one()
        assert event.extra == {
            "rows": 500,
            "valid_rows": local.valid_rows,
            "invalid_rows": local.invalid_rows,
            "passed": False,
        }


def test_quarantine_dag_fails_above_max_fraction(
    dagbag, airflow_env, s3_client, s3_server, tmp_path, capfd, caplog
):
    bucket = airflow_env
    truth = seed(s3_client, bucket, "raw/transactions/dt=2026-03-04/a.csv", tmp_path, 200, 5, 0.2)
    local = local_run(truth["path"])

    states, _ = run(dagbag, "example_pyrustpipe_quarantine", day(4))

    assert states == {"quarantine_transactions": "failed", "load": "upstream_failed"}
    text = assert_no_secret(capfd, caplog, s3_server)
    fraction = local.invalid_rows / 200
    assert (
        f"quarantined {local.invalid_rows} of 200 rows ({fraction:.2%}), "
        "above max_quarantine_fraction=5.00%" in text
    )


def seed_partitions(client: Any, bucket: str, ds: str, tmp: Path, rates: list[float]) -> list[dict]:
    return [
        seed(client, bucket, f"landing/transactions/{ds}/part-{i:03d}.csv", tmp, 200 + i, i, rate)
        for i, rate in enumerate(rates)
    ]


def test_fanout_dag_maps_partitions_and_gates(
    dagbag, airflow_env, s3_client, s3_server, tmp_path, capfd, caplog
):
    bucket = airflow_env
    ds = "2026-03-05"
    truths = seed_partitions(s3_client, bucket, ds, tmp_path, [0.0, 0.02, 0.03])
    locals_ = [local_run(t["path"]) for t in truths]

    states, dagrun = run(dagbag, "example_pyrustpipe_fanout", day(5))

    assert states == {
        "list_partitions": "success",
        "validate_partition[0]": "success",
        "validate_partition[1]": "success",
        "validate_partition[2]": "success",
        "gate": "success",
    }
    for i, (truth, local) in enumerate(zip(truths, locals_, strict=True)):
        part = f"part-{i:03d}"
        summary = xcom(dagrun, "validate_partition", i)
        assert summary["partition"] == part
        assert summary["source"] == f"s3://{bucket}/landing/transactions/{ds}/{part}.csv"
        assert (summary["rows"], summary["invalid_rows"]) == (local.rows, local.invalid_rows)
        key = f"transactions/{ds}/{part}/"
        out = local_out(truth["path"])
        assert read(s3_client, bucket, f"clean/{key}valid.csv") == (out / "valid.csv").read_bytes()
        assert read(s3_client, bucket, f"quarantine/{key}quarantine.csv") == quarantine_of(
            truth["path"], summary["source"]
        )
        assert (
            json.loads(read(s3_client, bucket, f"dq-metrics/{key}report.json"))["rows"]
            == local.rows
        )

    rows = sum(r.rows for r in locals_)
    invalid = sum(r.invalid_rows for r in locals_)
    gate = xcom(dagrun, "gate")
    failed: dict[str, int] = {}
    for truth in truths:
        for rule, n in expected_failed(truth).items():
            failed[rule] = failed.get(rule, 0) + n
    assert (gate["partitions"], gate["rows"], gate["invalid_rows"]) == (3, rows, invalid)
    assert gate["valid_rows"] == rows - invalid
    assert gate["quarantine_fraction"] == invalid / rows
    assert {n: r["failed"] for n, r in gate["failed_rules"].items()} == failed
    assert gate["failed_partitions"] == [
        f"part-{i:03d}" for i, r in enumerate(locals_) if not r.passed
    ]
    assert gate["report"] == f"s3://{bucket}/dq-metrics/transactions/{ds}/gate_report.json"
    assert "summaries" not in gate
    total = json.loads(read(s3_client, bucket, f"dq-metrics/transactions/{ds}/gate_report.json"))
    assert [s["partition"] for s in total["summaries"]] == ["part-000", "part-001", "part-002"]
    assert total["rows"] == rows and total["invalid_rows"] == invalid
    # One ledger entry per mapped partition, committed with its outputs.
    listed = s3_client.list_objects_v2(Bucket=bucket, Prefix="dq-ledger/")
    entries = sorted(o["Key"] for o in listed["Contents"] if o["Key"].endswith(".parquet"))
    assert len(entries) == 3
    assert all(k.startswith(f"dq-ledger/dataset=Transactions/date={ds}/run-") for k in entries)
    summary_entries = [xcom(dagrun, "validate_partition", i)["outputs"] for i in range(3)]
    assert sorted(o["ledger"] for o in summary_entries) == [f"s3://{bucket}/{k}" for k in entries]
    assert_no_secret(capfd, caplog, s3_server)


def test_fanout_judges_each_file_against_the_ledger(
    dagbag, airflow_env, s3_client, s3_server, tmp_path, capfd, caplog
):
    """Four earlier days of files in the ledger (a backfill with the same rules), then a day
    with a normal file and one half as long: the short one fails ``history:row_count`` (its
    task fails, the gate does not run), the normal one passes it; both days' entries land in
    the ledger the ``ledger`` param names."""
    bucket = airflow_env
    ledger = f"s3://{bucket}/history-ledger"
    for n in range(1, 5):
        for i, rows in enumerate((200, 210)):
            truth = seed(
                s3_client,
                bucket,
                f"landing/transactions/2026-04-0{n}/part-{i:03d}.csv",
                tmp_path,
                rows,
                50 + 2 * n + i,
                0.0,
            )
            pp.validate(
                str(truth["path"]),
                DAILY_RULES,
                ledger=ledger,
                partition=f"dt=2026-04-0{n}/part-{i:03d}",
                storage_options=s3_server.storage_options,
            )
    ds = "2026-04-05"
    for i, rows in enumerate((205, 100)):
        seed(
            s3_client,
            bucket,
            f"landing/transactions/{ds}/part-{i:03d}.csv",
            tmp_path,
            rows,
            60 + i,
            0.0,
        )

    dag = dagbag.get_dag("example_pyrustpipe_fanout")
    dagrun = dag.test(
        logical_date=datetime(2026, 4, 5, tzinfo=timezone.utc), run_conf={"ledger": ledger}
    )
    states = {
        (ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"): ti.state
        for ti in dagrun.get_task_instances()
    }

    assert states == {
        "list_partitions": "success",
        "validate_partition[0]": "success",
        "validate_partition[1]": "failed",
        "gate": "upstream_failed",
    }
    text = assert_no_secret(capfd, caplog, s3_server)
    assert (
        "PyRustPipeValidationFailed: pyrustpipe: 1 rule(s) failed for Transactions on "
        f"s3://{bucket}/landing/transactions/{ds}/part-001.csv (0 of 100 rows invalid): "
        "history:row_count" in text
    )
    # The verdicts as the ledger keeps them, read with DuckDB from a download of the entries.
    listed = s3_client.list_objects_v2(Bucket=bucket, Prefix="history-ledger/")
    entries = sorted(o["Key"] for o in listed["Contents"] if o["Key"].endswith(".parquet"))
    assert len(entries) == 10
    for key in entries:
        target = tmp_path / "ledger" / key
        target.parent.mkdir(parents=True, exist_ok=True)
        s3_client.download_file(bucket, key, str(target))
    found = (
        duckdb.connect()
        .execute(
            "SELECT partition, rows, passed, r.status, r.observed, r.expected_low "
            "FROM read_parquet("
            f"'{tmp_path}/ledger/history-ledger/dataset=Transactions/date={ds}/*.parquet'), "
            "unnest(rules) AS t(r) WHERE r.name = 'history:row_count' ORDER BY partition"
        )
        .fetchall()
    )
    # Eight earlier files of 200 and 210 rows: median 205, MAD 5, band from 205 - 4 * 7.413.
    low = 205 - 4 * 1.4826 * 5
    assert [(p, rows, ok, status, value) for p, rows, ok, status, value, _ in found] == [
        (f"dt={ds}/part-000", 205, True, "pass", 205.0),
        (f"dt={ds}/part-001", 100, False, "fail", 100.0),
    ]
    assert all(abs(band - low) < 1e-9 for *_, band in found)


def test_fanout_gate_fails_when_total_too_bad(
    dagbag, airflow_env, s3_client, s3_server, tmp_path, capfd, caplog
):
    bucket = airflow_env
    truths = seed_partitions(s3_client, bucket, "2026-03-06", tmp_path, [0.1, 0.12])
    locals_ = [local_run(t["path"]) for t in truths]

    states, _ = run(dagbag, "example_pyrustpipe_fanout", day(6))

    assert states == {
        "list_partitions": "success",
        "validate_partition[0]": "success",
        "validate_partition[1]": "success",
        "gate": "failed",
    }
    rows = sum(r.rows for r in locals_)
    invalid = sum(r.invalid_rows for r in locals_)
    text = assert_no_secret(capfd, caplog, s3_server)
    assert (
        f"pyrustpipe: 2 partitions quarantined {invalid} of {rows} rows ({invalid / rows:.2%}), "
        "above max_quarantine_fraction=5.00%" in text
    )


def test_fanout_fails_at_the_partition_whose_dataset_check_fails(
    dagbag, airflow_env, s3_client, s3_server, tmp_path, capfd, caplog
):
    """Quarantine cannot fix a dataset check (here: the mean amount): that partition fails."""
    bucket = airflow_env
    truths = seed_partitions(s3_client, bucket, "2026-03-07", tmp_path, [0.0, 0.3])
    bad = local_run(truths[1]["path"])
    assert not bad.rule("amount:mean").passed

    states, _ = run(dagbag, "example_pyrustpipe_fanout", day(7))

    assert states == {
        "list_partitions": "success",
        "validate_partition[0]": "success",
        "validate_partition[1]": "failed",
        "gate": "upstream_failed",
    }
    text = assert_no_secret(capfd, caplog, s3_server)
    assert (
        "PyRustPipeValidationFailed: pyrustpipe: 1 rule(s) failed for Transactions on "
        f"s3://{bucket}/landing/transactions/2026-03-07/part-001.csv "
        f"({bad.invalid_rows} of {bad.rows} rows invalid): amount:mean (dataset check)" in text
    )


def test_rerun_commits_outputs_once(dagbag, airflow_env, s3_client, tmp_path):
    """A second run of the same partition (as a retry would be) finds the manifest: same counts,
    the same objects, nothing duplicated."""
    bucket = airflow_env
    seed(s3_client, bucket, "raw/transactions/dt=2026-03-08/a.csv", tmp_path, 300, 8, 0.02)
    key = "quarantine/transactions/dt=2026-03-08/quarantine.csv"

    _, first = run(dagbag, "example_pyrustpipe_quarantine", day(8))
    before = xcom(first, "quarantine_transactions")  # dag.test() replaces the run on the same day
    quarantined = read(s3_client, bucket, key)
    states, second = run(dagbag, "example_pyrustpipe_quarantine", day(8))

    assert states == {"quarantine_transactions": "success", "load": "success"}
    after = xcom(second, "quarantine_transactions")
    assert before["outputs"]["already_committed"] is False
    assert after["outputs"]["already_committed"] is True
    assert {**after, "outputs": None} == {**before, "outputs": None}
    assert read(s3_client, bucket, key) == quarantined
    listed = s3_client.list_objects_v2(
        Bucket=bucket, Prefix="quarantine/transactions/dt=2026-03-08/"
    )
    assert [o["Key"] for o in listed["Contents"]] == [key]


def test_openlineage_events_carry_data_quality_facets(airflow_env, s3_client, s3_server, tmp_path):
    """`airflow dags test` with OpenLineage on (file transport): the COMPLETE event of the
    validation task has the metrics and assertions facets on the input, counts on the outputs."""
    bucket = airflow_env
    truth = seed(s3_client, bucket, "raw/transactions/dt=2026-03-09/a.csv", tmp_path, 200, 9, 0.02)
    local = local_run(truth["path"])
    events = tmp_path / "openlineage.ndjson"
    transport = {"type": "file", "log_file_path": str(events), "append": True}

    done = airflow_cli(
        "dags",
        "test",
        "example_pyrustpipe_quarantine",
        "2026-03-09",
        AIRFLOW__OPENLINEAGE__DISABLED="False",
        AIRFLOW__OPENLINEAGE__NAMESPACE="pyrustpipe-test",
        AIRFLOW__OPENLINEAGE__TRANSPORT=json.dumps(transport),
    )

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert s3_server.secret_access_key not in done.stdout + done.stderr + events.read_text()
    (complete,) = [
        e
        for e in map(json.loads, events.read_text().splitlines())
        if e["eventType"] == "COMPLETE"
        and e["job"]["name"] == "example_pyrustpipe_quarantine.quarantine_transactions"
    ]
    (source,) = complete["inputs"]
    assert (source["namespace"], source["name"]) == (
        f"s3://{bucket}",
        "raw/transactions/dt=2026-03-09/",
    )
    metrics = source["inputFacets"]["dataQualityMetrics"]
    assert (metrics["rowCount"], metrics["fileCount"]) == (200, 1)
    assertions = source["inputFacets"]["dataQualityAssertions"]["assertions"]
    assert len(assertions) == len(local.rules)
    failed = {a["name"]: int(a["actual"]) for a in assertions if not a["success"]}
    assert failed == expected_failed(truth)
    outputs = {
        o["name"]: o["outputFacets"]["outputStatistics"]["rowCount"] for o in complete["outputs"]
    }
    assert outputs == {
        "clean/transactions/dt=2026-03-09/valid.csv": local.valid_rows,
        "quarantine/transactions/dt=2026-03-09/quarantine.csv": local.invalid_rows,
    }


def test_splits_dag_validates_one_object_in_splits_and_gates_it_whole(
    dagbag, airflow_env, s3_client, s3_server, tmp_path, capfd, caplog
):
    bucket = airflow_env
    ds = "2026-03-21"
    key = f"landing/transactions/{ds}/export.csv"
    truth = seed(s3_client, bucket, key, tmp_path, 3000, 21, 0.02)
    rows_rules = f"{EXAMPLE_DAGS.parent / 'rules' / 'transaction_rows.py'}:TransactionRows"
    whole = pp.validate(str(truth["path"]), rows_rules)

    states, dagrun = run(dagbag, "example_pyrustpipe_splits", day(21))

    assert states == {
        "plan_splits": "success",
        **{f"validate_split[{i}]": "success" for i in range(8)},
        "gate": "success",
    }
    uri = f"s3://{bucket}/landing/transactions/{ds}/export.csv"
    planned = xcom(dagrun, "plan_splits")
    assert [pp.Split.parse(s).index for s in planned] == list(range(8))
    assert all(pp.Split.parse(s).uri == uri for s in planned)
    split_rows = [xcom(dagrun, "validate_split", i)["rows"] for i in range(8)]
    assert sum(split_rows) == whole.rows
    gate = xcom(dagrun, "gate")
    assert (gate["partitions"], gate["rows"], gate["invalid_rows"]) == (
        1,
        whole.rows,
        whole.invalid_rows,
    )
    assert {n: r["failed"] for n, r in gate["failed_rules"].items()} == {
        r.name: r.failed for r in whole.rules if not r.passed
    }
    assert_no_secret(capfd, caplog, s3_server)
