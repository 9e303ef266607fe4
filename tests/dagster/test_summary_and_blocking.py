"""``checks="summary"`` (one check carrying every rule's result) and blocking chosen per rule,
run on a real file: which checks fail, with what severity, and which downstream assets run."""

# No `from __future__ import annotations`: Dagster reads the asset's parameter annotations.
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_pyrustpipe import (
    SUMMARY_CHECK,
    Blocking,
    PyRustPipeResource,
    build_pyrustpipe_checks,
    check_names,
)
from pyrustpipe.integrations import rules_of

from tests.dagster.support import DIRTY_DAY, RULES

RESOURCES = {"pyrustpipe": PyRustPipeResource()}


def run_gated(
    path: Path, blocking: Blocking, checks: str = "per_rule"
) -> tuple[dg.ExecuteInProcessResult, dict[str, Any]]:
    """``raw`` (the file at ``path``), its checks, and ``downstream``, which the blocking
    checks gate; the run's result and its evaluations by check name."""

    @dg.asset
    def raw() -> None:
        pass  # the file is already there

    @dg.asset(deps=[raw])
    def downstream() -> None:
        pass

    specs = build_pyrustpipe_checks(
        asset=raw,
        schema=RULES,
        source=str(path),
        blocking=blocking,
        checks=checks,  # type: ignore[arg-type]
    )
    result = dg.materialize([raw, downstream, *specs], resources=RESOURCES, raise_on_error=False)
    return result, {e.check_name: e for e in result.get_asset_check_evaluations()}


def ran(result: dg.ExecuteInProcessResult, node: str) -> bool:
    return bool(result.asset_materializations_for_node(node))


def test_the_summary_check_alone_carries_every_rule(
    landing: Path, cli_report: Callable[[str], dict[str, Any]]
) -> None:
    path = landing / f"{DIRTY_DAY}.csv"
    expected = cli_report(str(path))
    result, found = run_gated(path, blocking=False, checks="summary")
    assert set(found) == {SUMMARY_CHECK}  # one check instead of one per rule
    summary = found[SUMMARY_CHECK]
    assert summary.passed is expected["passed"] is False
    assert summary.severity == dg.AssetCheckSeverity.ERROR
    for key in ("rows", "valid_rows", "invalid_rows"):
        assert summary.metadata[key].value == expected[key]
    names = check_names([r["name"] for r in expected["rules"]])
    table = [record.data for record in summary.metadata["rules"].records]
    assert table == [
        {
            "rule": rule["name"],
            "check": names[rule["name"]],
            "severity": rule["severity"],
            "blocking": False,
            "passed": rule["passed"],
            "failed": rule["failed"],
            "failure_rate": rule["failure_rate"],
        }
        for rule in expected["rules"]
    ]
    # Each rule's count as a number, so Dagster plots it over time.
    for rule in expected["rules"]:
        value = summary.metadata[f"failed/{rule['name']}"]
        assert isinstance(value, dg.IntMetadataValue) and value.value == rule["failed"]
    assert result.success and ran(result, "downstream")  # not blocking


def test_one_blocking_rule_that_fails_stops_downstream(
    landing: Path, cli_report: Callable[[str], dict[str, Any]]
) -> None:
    path = landing / f"{DIRTY_DAY}.csv"
    expected = {r["name"]: r for r in cli_report(str(path))["rules"]}
    assert not expected["amount:gt"]["passed"]
    result, found = run_gated(path, blocking={"amount:gt"})
    assert not result.success and not ran(result, "downstream")
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert "raw: amount__gt" in str(failures[0].event_specific_data.error)
    assert [name for name, e in found.items() if e.blocking] == ["amount__gt"]


def test_blocking_rules_that_pass_let_downstream_run(
    landing: Path, cli_report: Callable[[str], dict[str, Any]]
) -> None:
    path = landing / f"{DIRTY_DAY}.csv"
    report = cli_report(str(path))
    passing = [r["name"] for r in report["rules"] if r["passed"] and r["severity"] == "error"]
    assert passing and not report["passed"]  # other error rules fail
    # By check name this time (`schema__missing_columns`), as the UI shows them.
    names = check_names([r["name"] for r in report["rules"]])
    result, found = run_gated(path, blocking={names[name] for name in passing})
    assert result.success and ran(result, "downstream")
    assert not found[SUMMARY_CHECK].passed and not found[SUMMARY_CHECK].blocking
    assert {name for name, e in found.items() if e.blocking} == {names[n] for n in passing}


def test_a_predicate_chooses_the_blocking_rules(landing: Path) -> None:
    path = landing / f"{DIRTY_DAY}.csv"
    result, found = run_gated(path, blocking=lambda rule: rule.column == "amount")
    rules = rules_of(RULES)
    names = check_names([rule.name for rule in rules])
    amount = {names[rule.name] for rule in rules if rule.column == "amount"}
    assert "amount__gt" in amount and "fee__ge" not in amount
    assert {name for name, e in found.items() if e.blocking} == amount
    assert not result.success and not ran(result, "downstream")


def test_summary_blocks_only_on_a_blocking_rule(
    landing: Path, cli_report: Callable[[str], dict[str, Any]]
) -> None:
    path = landing / f"{DIRTY_DAY}.csv"
    report = cli_report(str(path))
    passing = next(r["name"] for r in report["rules"] if r["passed"] and r["severity"] == "error")

    # Only non-blocking rules fail: the summary fails as WARN, on which Dagster does not block.
    result, found = run_gated(path, blocking={passing}, checks="summary")
    summary = found[SUMMARY_CHECK]
    assert summary.blocking and not summary.passed
    assert summary.severity == dg.AssetCheckSeverity.WARN
    table = {r.data["rule"]: r.data["blocking"] for r in summary.metadata["rules"].records}
    assert [rule for rule, blocks in table.items() if blocks] == [passing]
    assert result.success and ran(result, "downstream")

    # A blocking rule fails: ERROR, and downstream does not run.
    result, found = run_gated(path, blocking={"amount:gt"}, checks="summary")
    assert found[SUMMARY_CHECK].severity == dg.AssetCheckSeverity.ERROR
    assert not result.success and not ran(result, "downstream")
