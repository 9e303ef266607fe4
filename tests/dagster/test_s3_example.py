"""example_dags/dagster/transactions_s3.py materialized against the local S3 server: every check
agrees with the CLI on the same objects, a failing blocking check skips the downstream asset, and
a partitioned run checks only its partition."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import dagster as dg
from dagster_pyrustpipe import SUMMARY_CHECK

from devtools.local_s3 import S3Client
from tests.dagster.support import CLEAN_DAY, DIRTY_DAY, assert_matches_cli, keys

ASSET = dg.AssetKey("transactions")


def run(module: ModuleType, resources: dict[str, Any], day: str) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [module.transactions, module.daily_totals, *module.transactions_checks],
        resources=resources,
        partition_key=day,
        raise_on_error=False,
    )


def evaluations(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    found = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert all(e.asset_key == ASSET for e in found.values())
    return found


def materialized(result: dg.ExecuteInProcessResult) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}


def test_failing_blocking_check_skips_downstream(
    s3_example: tuple[ModuleType, str],
    s3_resources: dict[str, Any],
    s3_client: S3Client,
    cli_report: Callable[[str], dict[str, Any]],
) -> None:
    module, bucket = s3_example
    result = run(module, s3_resources, DIRTY_DAY)
    found = evaluations(result)
    expected = cli_report(f"s3://{bucket}/transactions/{DIRTY_DAY}/part-0.csv")
    assert not expected["passed"] and expected["invalid_rows"] > 0
    assert_matches_cli(found, expected)
    # An error rule fails with ERROR, a warn rule (country:pattern) with WARN.
    assert not found["txn_id__pattern"].passed
    assert found["txn_id__pattern"].severity == dg.AssetCheckSeverity.ERROR
    assert not found["country__pattern"].passed
    assert found["country__pattern"].severity == dg.AssetCheckSeverity.WARN
    assert all(e.partition == DIRTY_DAY for e in found.values())
    assert all(e.blocking for e in found.values())
    # The blocking failure fails the check step (DagsterAssetCheckFailedError) and daily_totals
    # never starts.
    assert materialized(result) == {"transactions"}
    assert not result.success
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert [e.step_key for e in failures] == ["transactions_pyrustpipe"]
    assert "blocking asset checks failed" in str(failures[0].event_specific_data.error)
    started = {e.step_key for e in result.all_events if e.event_type_value == "STEP_START"}
    assert "daily_totals" not in started
    # The quarantine and the report were committed; the URIs are in the metadata.
    report_uri = f"s3://{bucket}/reports/transactions/{DIRTY_DAY}/report.json"
    quarantine_uri = f"s3://{bucket}/quarantine/transactions/{DIRTY_DAY}/quarantine.csv"
    assert found[SUMMARY_CHECK].metadata["report_uri"].value == report_uri
    assert found["amount__gt"].metadata["quarantine_uri"].value == quarantine_uri
    assert f"quarantine/transactions/{DIRTY_DAY}/quarantine.csv" in keys(
        s3_client, bucket, "quarantine/"
    )
    assert keys(s3_client, bucket, "reports/") == [f"reports/transactions/{DIRTY_DAY}/report.json"]


def test_partitioned_run_checks_only_its_partition(
    s3_example: tuple[ModuleType, str],
    s3_resources: dict[str, Any],
    s3_client: S3Client,
    landing: Path,
    cli_report: Callable[[str], dict[str, Any]],
) -> None:
    module, bucket = s3_example
    # The dirty day is already in the lake: a run of the clean day must not look at it.
    s3_client.upload_file(
        str(landing / f"{DIRTY_DAY}.csv"), bucket, f"transactions/{DIRTY_DAY}/part-0.csv"
    )
    result = run(module, s3_resources, CLEAN_DAY)
    found = evaluations(result)
    expected = cli_report(f"s3://{bucket}/transactions/{CLEAN_DAY}/part-0.csv")
    assert expected["passed"] and expected["rows"] == 2000
    assert_matches_cli(found, expected)
    assert all(e.passed for e in found.values())
    assert {e.partition for e in found.values()} == {CLEAN_DAY}
    assert keys(s3_client, bucket, "reports/") == [f"reports/transactions/{CLEAN_DAY}/report.json"]
    # Passing blocking checks let the downstream asset run on the valid rows.
    assert materialized(result) == {"transactions", "daily_totals"}
    totals = result.output_for_node("daily_totals")
    assert set(totals) <= {"KES", "UGX", "TZS", "NGN", "GHS", "ZAR", "USD"}
    assert sum(totals.values()) > 0


def test_column_schema_metadata(s3_example: tuple[ModuleType, str]) -> None:
    module, _ = s3_example
    schema = module.transactions.specs_by_key[ASSET].metadata["dagster/column_schema"]
    columns = {c.name: c for c in schema.columns}
    assert columns["txn_id"].constraints.unique
    assert not columns["txn_id"].constraints.nullable
    assert columns["agent_id"].constraints.nullable
    assert columns["amount"].constraints.other == ["amount > 0", "amount <= 1000000"]
    assert 'country matches "^[A-Z]{2}$" (warn)' in columns["country"].constraints.other
    assert "row rule fee_within_amount: (fee <= amount)" in schema.constraints.other
