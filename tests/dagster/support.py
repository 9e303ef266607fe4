"""Helpers of the Dagster integration's tests (no fixtures: those are in conftest.py)."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import dagster as dg
from dagster_pyrustpipe import SUMMARY_CHECK, check_names

from devtools.local_s3 import S3Client

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "example_dags" / "dagster"
RULES_FILE = ROOT / "example_dags" / "rules" / "transactions.py"
RULES = f"{RULES_FILE}:Transactions"
CLI = Path(sys.executable).parent / "pyrustpipe"

CLEAN_DAY, DIRTY_DAY = "2025-01-01", "2025-01-02"


def load_example(name: str, env: dict[str, str]) -> ModuleType:
    """Import ``example_dags/dagster/<name>.py`` afresh with ``env`` set (read at import)."""
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        spec = importlib.util.spec_from_file_location(f"_example_{name}", EXAMPLES / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def keys(client: S3Client, bucket: str, prefix: str) -> list[str]:
    listed = client.list_objects_v2(Bucket=bucket, Prefix=prefix)
    return sorted(item["Key"] for item in listed.get("Contents", []))


def assert_matches_cli(found: dict[str, Any], expected: dict[str, Any]) -> None:
    """Every rule's check against the CLI's report of the same data, and the summary."""
    names = check_names([rule["name"] for rule in expected["rules"]])
    assert set(found) == {SUMMARY_CHECK, *names.values()}
    for rule in expected["rules"]:
        evaluation = found[names[rule["name"]]]
        metadata = evaluation.metadata
        assert evaluation.passed == rule["passed"], rule["name"]
        severity = dg.AssetCheckSeverity.ERROR if rule["severity"] == "error" else "WARN"
        assert evaluation.severity == dg.AssetCheckSeverity(severity), rule["name"]
        assert metadata["rule"].value == rule["name"]
        assert metadata["failed"].value == rule["failed"], rule["name"]
        assert metadata["failure_rate"].value == rule["failure_rate"], rule["name"]
        assert metadata["allowed_failures"].value == rule["allowed_failures"]
        assert metadata["rows"].value == expected["rows"]
        samples = metadata["samples"].records
        assert [r.data["row"] for r in samples] == [s["row"] for s in rule["samples"]]
        assert [r.data["value"] for r in samples] == [s["value"] for s in rule["samples"]]
    summary = found[SUMMARY_CHECK]
    assert summary.passed == expected["passed"]
    assert summary.severity == dg.AssetCheckSeverity.ERROR
    for key in ("rows", "valid_rows", "invalid_rows"):
        assert summary.metadata[key].value == expected[key], key
    failed = [rule["name"] for rule in expected["rules"] if not rule["passed"]]
    assert summary.metadata["failed_rules"].value == failed
