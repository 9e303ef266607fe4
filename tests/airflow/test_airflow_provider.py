"""The provider outside a Dag run: discovery, DagBag hygiene, templating, credentials, failure
classes, the XCom summary, the gate merge and the OpenLineage facets."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pyrustpipe as pp
import pyrustpipe_provider
import pytest
from airflow.sdk import DAG
from airflow.sdk.exceptions import AirflowFailException
from pyrustpipe_provider.hooks import PyRustPipeHook, merge_summaries, partition_of
from pyrustpipe_provider.operators import (
    PyRustPipeGateOperator,
    PyRustPipeValidateOperator,
    PyRustPipeValidationFailed,
)

from tests.airflow._env import EXAMPLE_DAGS, airflow_cli, connection
from tests.data_gen import make_transactions

RULES = f"{EXAMPLE_DAGS.parent / 'rules' / 'transactions.py'}:Transactions"
DAG_IDS = {
    "example_pyrustpipe_gate",
    "example_pyrustpipe_quarantine",
    "example_pyrustpipe_fanout",
    "example_pyrustpipe_splits",
}


def test_dagbag_imports_every_example_without_errors_or_warnings(dagbag: Any) -> None:
    assert dagbag.import_errors == {}
    assert dagbag.captured_warnings == {}
    assert set(dagbag.dag_ids) == DAG_IDS
    assert {len(dagbag.get_dag(d).tasks) for d in DAG_IDS} <= {2, 3}


def test_airflow_providers_list_shows_the_provider(airflow_db: None) -> None:
    done = airflow_cli("providers", "list", "--output", "json")
    assert done.returncode == 0, done.stderr[-2000:]
    providers = {p["package_name"]: p for p in json.loads(done.stdout)}
    assert providers["airflow-provider-pyrustpipe"]["version"] == pyrustpipe_provider.__version__


def test_provider_info_imports_neither_airflow_nor_the_engine() -> None:
    code = (
        "import sys; from pyrustpipe_provider.get_provider_info import get_provider_info as g; "
        "info = g(); assert info['package-name'] == 'airflow-provider-pyrustpipe'; "
        "assert not {'airflow', 'pyrustpipe'} & set(sys.modules), sorted(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_template_fields_render(dagbag: Any) -> None:
    # A copy: rendering replaces the templates in place, and the session's DagBag is shared with
    # the tests that run this Dag afterwards (for their own day).
    task = copy.deepcopy(
        dagbag.get_dag("example_pyrustpipe_quarantine").get_task("quarantine_transactions")
    )
    assert set(task.template_fields) == {
        "source",
        "rules",
        "valid_output",
        "quarantine",
        "metrics_output",
        "ledger",
        "partition",
        "logical_date",
        "split",
        "split_keys",
    }
    task.render_template_fields({"ds": "2026-04-01"})
    bucket = os.environ["PYRUSTPIPE_EXAMPLE_BUCKET"]
    assert task.source == f"s3://{bucket}/raw/transactions/dt=2026-04-01/"
    assert task.valid_output == f"s3://{bucket}/clean/transactions/dt=2026-04-01/"
    assert task.quarantine == f"s3://{bucket}/quarantine/transactions/dt=2026-04-01/"
    assert task.metrics_output == f"s3://{bucket}/dq-metrics/transactions/dt=2026-04-01/"
    assert task.rules == RULES


def test_templates_keep_the_partition_placeholder_and_lists() -> None:
    with DAG("render", schedule=None, start_date=datetime(2026, 1, 1)):
        task = PyRustPipeValidateOperator(
            task_id="v",
            source=["s3://b/{{ ds }}/a.csv", "s3://b/{{ ds }}/b.csv"],
            rules="{{ params.rules }}",
            valid_output="s3://b/clean/{{ ds }}/{partition}/",
        )
    task.render_template_fields({"ds": "2026-04-02", "params": {"rules": RULES}})
    assert task.source == ["s3://b/2026-04-02/a.csv", "s3://b/2026-04-02/b.csv"]
    assert task.rules == RULES
    assert task.valid_output == "s3://b/clean/2026-04-02/{partition}/"


@pytest.mark.parametrize(
    ("source", "partition"),
    [
        ("s3://raw/tx/dt=2026-01-01/", "dt=2026-01-01"),
        ("s3://raw/tx/dt=2026-01-01", "dt=2026-01-01"),
        ("s3://raw/tx/part-003.csv", "part-003"),
        ("s3://raw/tx/part-003.ndjson.gz", "part-003"),
        ("s3://raw/tx/region=ke/*.parquet", "_"),
        (["s3://raw/tx/a.csv", "s3://raw/tx/b.csv"], "a"),
        ("/data/tx/2026-01-01.csv", "2026-01-01"),
    ],
)
def test_partition_of(source: Any, partition: str) -> None:
    assert partition_of(source) == partition


def test_constructor_checks_mode() -> None:
    with pytest.raises(ValueError, match="mode must be"):
        PyRustPipeValidateOperator(task_id="v", source="s", rules=RULES, mode="strict")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="needs quarantine"):
        PyRustPipeValidateOperator(task_id="v", source="s", rules=RULES, mode="quarantine")


def test_storage_options_from_the_connection_never_logged(
    airflow_env: str, s3_server: Any, caplog: pytest.LogCaptureFixture, capfd: Any
) -> None:
    conn = json.loads(connection(s3_server))
    conn["extra"]["aws_session_token"] = "session-token-that-must-not-leak"
    os.environ["AIRFLOW_CONN_PRP_TOKEN"] = json.dumps(conn)
    try:
        options = PyRustPipeHook(aws_conn_id="prp_token").storage_options()
    finally:
        del os.environ["AIRFLOW_CONN_PRP_TOKEN"]
    assert options == {
        "aws_access_key_id": s3_server.access_key_id,
        "aws_secret_access_key": s3_server.secret_access_key,
        "aws_session_token": "session-token-that-must-not-leak",
        "region": s3_server.region,
        "endpoint_url": s3_server.endpoint_url,
        "force_path_style": "true",
    }
    assert PyRustPipeHook(aws_conn_id=None).storage_options() == {}
    out, err = capfd.readouterr()
    for secret in (s3_server.secret_access_key, "session-token-that-must-not-leak"):
        assert secret not in caplog.text + out + err


def test_storage_error_is_retryable_not_a_data_failure(airflow_env: str) -> None:
    op = PyRustPipeValidateOperator(task_id="v", source="s3://no-such-bucket-prp/tx/", rules=RULES)
    with pytest.raises(pp.StorageError) as caught:
        op.execute({})  # type: ignore[arg-type]
    assert not isinstance(caught.value, AirflowFailException)


def run_local(tmp_path: Path, mode: str, rate: float, **kwargs: Any) -> PyRustPipeValidateOperator:
    source = tmp_path / "tx.csv"
    make_transactions(source, 300, 11, rate)
    return PyRustPipeValidateOperator(
        task_id="v",
        source=str(source),
        rules=RULES,
        mode=mode,  # type: ignore[arg-type]
        valid_output=f"{tmp_path}/out/",
        quarantine=f"{tmp_path}/out/",
        aws_conn_id=None,
        **kwargs,
    )


def test_gate_failure_is_a_fail_exception_naming_rules(tmp_path: Path) -> None:
    op = run_local(tmp_path, "gate", 0.05)
    with pytest.raises(PyRustPipeValidationFailed, match=r"rule\(s\) failed .*txn_id:") as caught:
        op.execute({})  # type: ignore[arg-type]
    assert isinstance(caught.value, AirflowFailException)


def test_summary_is_small_json_and_holds_no_row_data(tmp_path: Path) -> None:
    op = run_local(tmp_path, "quarantine", 0.05)
    summary = op.execute({})  # type: ignore[arg-type]
    assert json.loads(json.dumps(summary)) == summary
    quarantined = (tmp_path / "out" / "quarantine.csv").read_text().splitlines()[1]
    assert quarantined.split(",")[0] not in json.dumps(summary)  # a bad row's txn_id
    assert len(json.dumps(summary)) < 4000


def test_openlineage_facets(tmp_path: Path) -> None:
    op = run_local(tmp_path, "quarantine", 0.05)
    assert op.get_openlineage_facets_on_complete(None) is None  # nothing ran yet
    summary = op.execute({})  # type: ignore[arg-type]
    lineage = op.get_openlineage_facets_on_complete(None)

    (source,) = lineage.inputs
    assert (source.namespace, source.name) == ("file", str(tmp_path / "tx.csv"))
    metrics = source.inputFacets["dataQualityMetrics"]
    assert metrics.rowCount == 300 and metrics.fileCount == 1
    assert (
        metrics.columnMetrics["txn_id"].nullCount
        == summary["failed_rules"].get("txn_id:not_null", {"failed": 0})["failed"]
    )
    assertions = source.inputFacets["dataQualityAssertions"].assertions
    failed = {a.name: int(a.actual) for a in assertions if not a.success}
    assert failed == {name: r["failed"] for name, r in summary["failed_rules"].items()}
    outputs = {o.name: o.outputFacets["outputStatistics"].rowCount for o in lineage.outputs}
    assert outputs == {
        str(tmp_path / "out" / "valid.csv"): summary["valid_rows"],
        str(tmp_path / "out" / "quarantine.csv"): summary["invalid_rows"],
    }


def summary(partition: str, rows: int, invalid: int, failed: dict[str, int]) -> dict[str, Any]:
    return {
        "partition": partition,
        "passed": not failed,
        "rows": rows,
        "valid_rows": rows - invalid,
        "invalid_rows": invalid,
        "quarantine_fraction": invalid / rows,
        "failed_rules": {
            n: {"failed": c, "severity": "error", "scope": "column"} for n, c in failed.items()
        },
    }


def test_merge_summaries_sums_counts_and_rules() -> None:
    total = merge_summaries(
        [summary("b", 100, 3, {"x:isin": 3}), summary("a", 50, 2, {"x:isin": 1, "y:gt": 1})]
    )
    assert total["rows"] == 150 and total["valid_rows"] == 145 and total["invalid_rows"] == 5
    assert total["failed_rules"]["x:isin"]["failed"] == 4
    assert total["failed_rules"]["x:isin"]["partitions"] == 2
    assert total["failed_partitions"] == ["a", "b"]
    assert [s["partition"] for s in total["summaries"]] == ["a", "b"]


def test_gate_without_fraction_fails_on_any_error_rule(tmp_path: Path) -> None:
    gate = PyRustPipeGateOperator(
        task_id="g",
        summaries=[summary("a", 10, 0, {}), summary("b", 10, 1, {"x:isin": 1})],
        metrics_output=f"{tmp_path}/",
        aws_conn_id=None,
    )
    with pytest.raises(PyRustPipeValidationFailed, match=r"1 of 2 partitions failed \(b\)"):
        gate.execute({})  # type: ignore[arg-type]
    written = json.loads((tmp_path / "gate_report.json").read_text())
    assert written["invalid_rows"] == 1 and len(written["summaries"]) == 2


def test_an_untemplated_valid_output_is_the_default_outlet() -> None:
    fixed = PyRustPipeValidateOperator(
        task_id="a", source="s3://b/raw/", rules=RULES, valid_output="s3://b/clean/"
    )
    assert [(a.uri, type(a).__name__) for a in fixed.outlets] == [("s3://b/clean", "Asset")]
    templated = PyRustPipeValidateOperator(
        task_id="b", source="s3://b/raw/", rules=RULES, valid_output="s3://b/clean/{{ ds }}/"
    )
    assert templated.outlets == []


def test_rules_may_be_a_schema_class(tmp_path: Path) -> None:
    source = tmp_path / "tx.csv"
    make_transactions(source, 100, 12, 0.0)
    op = PyRustPipeValidateOperator(
        task_id="v", source=str(source), rules=pp.load_rules(RULES), aws_conn_id=None, threads=1
    )
    summary = op.execute({})  # type: ignore[arg-type]
    assert (summary["schema"], summary["rows"], summary["passed"]) == ("Transactions", 100, True)


def test_quarantine_output_is_the_deprecated_spelling_of_quarantine() -> None:
    from airflow.exceptions import AirflowProviderDeprecationWarning

    with pytest.warns(AirflowProviderDeprecationWarning, match="old spelling of quarantine"):
        task = PyRustPipeValidateOperator(
            task_id="v", source="s", rules=RULES, mode="quarantine", quarantine_output="q/"
        )
    assert task.quarantine == "q/"
    with (
        pytest.warns(AirflowProviderDeprecationWarning),
        pytest.raises(ValueError, match="not both"),
    ):
        PyRustPipeValidateOperator(
            task_id="w", source="s", rules=RULES, quarantine="a/", quarantine_output="b/"
        )


def test_plan_splits_operator_returns_split_strings(tmp_path: Any) -> None:
    from pyrustpipe_provider.operators import PyRustPipePlanSplitsOperator

    path = tmp_path / "big.csv"
    path.write_bytes(b"id\n" + b"".join(b"%d\n" % i for i in range(1000)))
    with DAG("plan", schedule=None, start_date=datetime(2026, 1, 1)):
        task = PyRustPipePlanSplitsOperator(
            task_id="p", source=str(path), parts="{{ params.parts }}", aws_conn_id=None
        )
    task.render_template_fields({"params": {"parts": 4}})
    planned = task.execute({})  # type: ignore[arg-type]
    splits = [pp.Split.parse(s) for s in planned]
    assert [s.index for s in splits] == [0, 1, 2, 3]
    assert splits[-1].end == path.stat().st_size


def test_a_split_task_needs_a_source_or_a_split() -> None:
    with pytest.raises(ValueError, match="give source"):
        PyRustPipeValidateOperator(task_id="v", rules=RULES)
