"""The pieces of dagster_pyrustpipe without a run: check names, the column schema, the resource,
argument errors, and that the examples load as Definitions."""

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import dagster as dg
import pyrustpipe as pp
import pytest
from dagster_aws.s3 import S3Resource
from dagster_pyrustpipe import (
    SUMMARY_CHECK,
    PyRustPipeResource,
    build_pyrustpipe_checks,
    check_names,
    rule_to_check_name,
    rules_to_table_schema,
)

from tests.dagster.support import EXAMPLES, RULES, load_example


class Orders(pp.Schema):
    order_id: int = pp.Field(unique=True)
    amount: float = pp.Field(gt=0, le=pp.Check(100, severity="warn"))
    code: str | None = pp.Field(isin=["a", "b"], min_length=1)

    class Config:
        unique = [("order_id", "code")]
        checks = [pp.row_count().between(1, 10)]


@pytest.mark.parametrize(
    ("rule", "check"),
    [
        ("amount:gt", "amount__gt"),
        ("order_id,code:unique", "order_id_code__unique"),
        ("fee_within_amount", "fee_within_amount"),
        ("dataset:row_count", "dataset__row_count"),
        ("prix-€:gt", "prix____gt"),
    ],
)
def test_rule_to_check_name(rule: str, check: str) -> None:
    assert rule_to_check_name(rule) == check


def test_check_names_are_unique() -> None:
    names = check_names(["a-b:gt", "a_b:gt", "a.b:gt", "pyrustpipe"])
    assert list(names.values()) == ["a_b__gt", "a_b__gt_2", "a_b__gt_3", "pyrustpipe_2"]


def test_one_check_per_rule_plus_summary() -> None:
    (checks,) = build_pyrustpipe_checks(asset="orders", schema=Orders, source="orders.csv")
    names = {key.name for key in checks.check_keys}
    assert SUMMARY_CHECK in names
    assert {"amount__gt", "amount__le", "code__isin", "order_id_code__unique"} <= names
    assert {"dataset__row_count", "schema__missing_columns"} <= names
    specs = {spec.name: spec for spec in checks.check_specs}
    assert specs["amount__le"].metadata["rule"] == "amount:le"
    assert not any(spec.blocking for spec in specs.values())


def test_partition_template_needs_a_partitioned_asset() -> None:
    with pytest.raises(ValueError, match="not partitioned"):
        build_pyrustpipe_checks(asset="orders", schema=Orders, source="s3://b/{partition_key}/")
    days = dg.StaticPartitionsDefinition(["a", "b"])
    (checks,) = build_pyrustpipe_checks(
        asset=dg.AssetSpec("orders", partitions_def=days),
        schema=Orders,
        source="s3://b/{partition_key}/",
        blocking=True,
    )
    assert all(spec.partitions_def == days and spec.blocking for spec in checks.check_specs)


def test_table_schema() -> None:
    schema = rules_to_table_schema(Orders)
    columns = {c.name: c for c in schema.columns}
    assert columns["order_id"].type == "int" and columns["order_id"].constraints.unique
    # the engine's descriptions of the rules (pp.compile), "(warn)" marking warn rules
    assert columns["amount"].constraints.other == ["amount > 0", "amount <= 100 (warn)"]
    assert columns["code"].constraints.nullable
    assert columns["code"].constraints.other == [
        "code has length >= 1",
        'code is one of ["a", "b"]',
    ]
    assert schema.constraints.other == ["(order_id, code) is unique", "row_count >= 1 and <= 10"]


def test_check_descriptions_are_the_engines() -> None:
    (checks,) = build_pyrustpipe_checks(asset="orders", schema=Orders, source="orders.csv")
    specs = {spec.name: spec for spec in checks.check_specs}
    assert specs["amount__gt"].description == "pyrustpipe rule amount:gt: amount > 0 (error)"


def test_resource_storage_options_and_secrets() -> None:
    default = PyRustPipeResource()
    assert default.storage_options() == {}  # the standard AWS chain
    resource = PyRustPipeResource(
        region_name="eu-west-1",
        endpoint_url="http://127.0.0.1:9000",
        force_path_style=True,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="very-secret",
        max_attempts=3,
        threads=2,
    )
    assert resource.storage_options() == {
        "region": "eu-west-1",
        "endpoint_url": "http://127.0.0.1:9000",
        "force_path_style": "true",
        "aws_access_key_id": "AKIDEXAMPLE",
        "aws_secret_access_key": "very-secret",
        "max_attempts": "3",
    }
    assert "very-secret" not in repr(resource) and "very-secret" not in str(resource)


def test_resource_from_s3_resource() -> None:
    s3 = S3Resource(region_name="af-south-1", endpoint_url="http://x:1", profile_name="p")
    resource = PyRustPipeResource.from_s3_resource(s3, threads=4)
    assert resource.storage_options() == {
        "region": "af-south-1",
        "endpoint_url": "http://x:1",
        "profile": "p",
        "max_attempts": "5",
    }
    assert resource.threads == 4


@pytest.mark.parametrize("name", ["transactions_s3", "transactions_in_memory"])
def test_examples_load(name: str) -> None:
    module: Any = load_example(name, {})
    dg.Definitions.validate_loadable(module.defs)
    graph = module.defs.resolve_asset_graph()
    assert graph.asset_check_keys


@pytest.mark.parametrize("name", ["transactions_s3", "transactions_in_memory"])
def test_examples_pass_dagster_definitions_validate(name: str, tmp_path: Path) -> None:
    """What ``dagster dev -f example_dags/dagster/<name>.py`` loads, checked by Dagster's CLI."""
    dagster = Path(sys.executable).with_name("dagster")
    done = subprocess.run(
        [str(dagster), "definitions", "validate", "-f", str(EXAMPLES / f"{name}.py")],
        env={**os.environ, "DAGSTER_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "All code locations passed validation" in done.stdout + done.stderr


def test_rules_reference_string() -> None:
    (checks,) = build_pyrustpipe_checks(asset="tx", schema=RULES)
    assert len(checks.check_keys) == 40  # 39 rules of Transactions + the summary


def test_quarantine_output_is_the_deprecated_spelling_of_quarantine() -> None:
    with pytest.warns(DeprecationWarning, match="old spelling of quarantine"):
        (checks,) = build_pyrustpipe_checks(
            asset="orders", schema=Orders, source="orders.csv", quarantine_output="q/"
        )
    assert SUMMARY_CHECK in {key.name for key in checks.check_keys}


def test_summary_mode_is_one_check() -> None:
    (per_rule,) = build_pyrustpipe_checks(asset="orders", schema=Orders, source="orders.csv")
    (summary,) = build_pyrustpipe_checks(
        asset="orders", schema=Orders, source="orders.csv", checks="summary"
    )
    assert len(per_rule.check_keys) > 10
    assert {key.name for key in summary.check_keys} == {SUMMARY_CHECK}
    with pytest.raises(ValueError, match='"per_rule" or "summary"'):
        build_pyrustpipe_checks(asset="orders", schema=Orders, checks="rules")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("blocking", "blocking_checks"),
    [
        (True, "all"),
        (False, set()),
        ({"amount:gt", "order_id_code__unique"}, {"amount__gt", "order_id_code__unique"}),
        (lambda rule: rule.kind == "unique", {"order_id__unique", "order_id_code__unique"}),
    ],
    ids=["all", "none", "named", "predicate"],
)
def test_blocking_per_rule(blocking: Any, blocking_checks: Any) -> None:
    (checks,) = build_pyrustpipe_checks(
        asset="orders", schema=Orders, source="orders.csv", blocking=blocking
    )
    specs = {spec.name: spec.blocking for spec in checks.check_specs}
    expected = set(specs) if blocking_checks == "all" else blocking_checks
    assert {name for name, blocks in specs.items() if blocks} == expected
    # Per rule, the summary blocks only when every rule does.
    assert specs[SUMMARY_CHECK] is (blocking is True)


@pytest.mark.parametrize(
    ("blocking", "error", "message"),
    [
        ({"amount:lt"}, ValueError, "'amount:lt', which is not a rule"),
        ({"amount__le"}, ValueError, "a warn rule: only error rules can block"),
        ("amount:gt", TypeError, "not one string"),
    ],
)
def test_blocking_names_are_checked(blocking: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        build_pyrustpipe_checks(asset="orders", schema=Orders, blocking=blocking)
