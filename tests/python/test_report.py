"""``pp.Report`` over hand-written report dicts (docs/report.md); no engine needed."""

from __future__ import annotations

import dataclasses
import io
import json
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyrustpipe as pp
import pytest

ReportFactory = Callable[..., dict[str, Any]]


def test_facade_properties(report_dict: ReportFactory) -> None:
    report = pp.Report.from_dict(report_dict())
    assert report.passed is False
    assert (report.rows, report.valid_rows, report.invalid_rows) == (1000, 985, 15)
    assert report.ruleset_hash == "sha256:abc"
    assert report.schema_name == "Transactions"
    assert report.engine_version == "0.1.0"
    assert report.duration_s == pytest.approx(0.31)
    assert report.rows_per_s == pytest.approx(3225.8)
    assert report.threads == 2
    assert report.bytes == 96123
    assert report.skipped_blank_lines == 2
    assert report.outputs == {
        "valid": "out/valid.csv",
        "quarantine": "out/q.csv",
        "metrics": None,
    }
    assert len(report) == 5 and "amount:gt" in report and "nope" not in report
    (source,) = report.sources
    assert source.uri == "data/tx.csv" and source.failures["amount:gt"] == 12
    assert source.columns == ("txn_id", "amount")


def test_rule_results(report_dict: ReportFactory) -> None:
    report = pp.Report.from_dict(report_dict())
    gt = report.rule("amount:gt")
    assert isinstance(gt, pp.RuleResult)
    assert (gt.name, gt.column, gt.severity, gt.failed, gt.passed) == (
        "amount:gt",
        "amount",
        "error",
        12,
        False,
    )
    assert gt.failure_rate == pytest.approx(0.012)
    assert (gt.kind, gt.scope, gt.observed, gt.allowed_failures) == (
        "gt",
        "column",
        None,
        0,
    )
    (sample,) = gt.samples
    assert (sample.row, sample.line, sample.source, sample.value) == (
        17,
        18,
        "data/tx.csv",
        "-5.00",
    )
    assert sample.to_dict()["message"] == "-5.00 is not > 0"
    fee = report.rule("fee:ge")
    assert fee.tolerance == {"count": 5} and fee.tolerance_text == "≤ 5 rows"
    assert report.rule("amount:mean").observed == 7.5
    with pytest.raises(AttributeError):
        gt.failed = 0  # type: ignore[misc]


def test_records_keep_their_public_home(report_dict: ReportFactory) -> None:
    from pyrustpipe import report as report_module
    from pyrustpipe.report import RuleResult, Sample, SourceResult

    for record in (RuleResult, Sample, SourceResult):
        assert dataclasses.is_dataclass(record)
        assert record.__module__ == "pyrustpipe.report"
        assert getattr(report_module, record.__name__) is record
        assert getattr(pp, record.__name__) is record
    assert {"RuleResult", "Sample", "SourceResult"} <= set(dir(report_module))
    with pytest.raises(AttributeError):
        report_module.Nothing  # noqa: B018
    report = pp.Report.from_dict(report_dict())
    gt = report.rule("amount:gt")
    assert pickle.loads(pickle.dumps(gt)) == gt
    assert dataclasses.asdict(gt)["samples"][0]["value"] == "-5.00"
    assert pickle.loads(pickle.dumps(report)) == report


def test_records_from_report_data_are_the_constructed_records() -> None:
    """`from_dict` skips the frozen `__init__`: the records must still be the ones it makes,
    whatever shape a sample's data has, and must not share mutable data with the report."""
    from types import MappingProxyType

    from pyrustpipe.report import RuleResult, Sample

    full = {"row": 3, "line": 4, "source": "s.csv", "column": "c", "value": "v", "message": "m"}
    samples = [
        full,
        {"message": "sparse"},
        {**full, "extra": "ignored"},
        MappingProxyType(full),
    ]
    for data in samples:
        made = Sample(**{name: data.get(name) for name in Sample.__dataclass_fields__})
        built = Sample.from_dict(data)
        assert vars(built) == vars(made) and hash(built) == hash(made)
        assert built == made and repr(built) == repr(made)
        assert dataclasses.asdict(built) == dataclasses.asdict(made)
        with pytest.raises(dataclasses.FrozenInstanceError):
            built.row = 0  # type: ignore[misc]
    rule = {
        "name": "a:gt",
        "failed": 2,
        "tolerance": {"count": 5},
        "observed": {"mean": [1.5]},
        "samples": samples,
    }
    built_rule = RuleResult.from_dict(rule)
    assert built_rule == RuleResult(
        name="a:gt",
        column=None,
        severity="error",
        failed=2,
        failure_rate=0.0,
        tolerance={"count": 5},
        passed=True,
        samples=tuple(Sample.from_dict(s) for s in samples),
        observed={"mean": [1.5]},
    )
    built_rule.observed["mean"].append(9)
    built_rule.tolerance["count"] = 0  # type: ignore[index]
    assert rule["observed"] == {"mean": [1.5]} and rule["tolerance"] == {"count": 5}


def test_rule_lookup_suggests_close_names(report_dict: ReportFactory) -> None:
    report = pp.Report.from_dict(report_dict())
    with pytest.raises(KeyError, match="did you mean 'amount:gt'"):
        report.rule("amount:gte")
    with pytest.raises(KeyError, match="no rule named 'zzz'"):
        report.rule("zzz")


def test_failed_rules(report_dict: ReportFactory) -> None:
    report = pp.Report.from_dict(report_dict())
    assert [r.name for r in report.failed_rules()] == [
        "amount:gt",
        "txn_id:unique",
        "amount:mean",
    ]
    assert [r.name for r in report.failed_rules("error")] == [
        "amount:gt",
        "amount:mean",
    ]
    assert [r.name for r in report.failed_rules("warn")] == ["txn_id:unique"]


def test_json_round_trip(tmp_path: Path, report_dict: ReportFactory) -> None:
    data = report_dict()
    report = pp.Report.from_dict(data)
    assert report.to_dict() == data
    assert json.loads(report.to_json()) == data
    assert "\n" in report.to_json(indent=2)
    assert pp.Report.from_json(report.to_json()) == report
    path = tmp_path / "r.json"
    path.write_text(report.to_json())
    assert pp.Report.from_file(path) == report
    copy = report.to_dict()
    copy["rows"] = 0
    assert report.rows == 1000


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ("[]", TypeError),
        ("{}", ValueError),
        ('{"passed": true}', ValueError),
        ("nope", ValueError),
    ],
)
def test_from_json_rejects_non_reports(payload: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        pp.Report.from_json(payload)


def test_raise_for_failures(report_dict: ReportFactory) -> None:
    report = pp.Report.from_dict(report_dict())
    with pytest.raises(pp.ValidationFailed) as info:
        report.raise_for_failures()
    message = str(info.value)
    assert message.startswith("Transactions failed: 2 error rules failed: ")
    assert "amount:gt (12 rows, 1.20%)" in message
    assert "amount:mean: observed 7.5" in message
    assert "txn_id:unique" not in message  # warn severity
    assert "15 of 1000 rows invalid" in message
    assert info.value.report is report
    assert isinstance(info.value, pp.PyRustPipeError)


def test_raise_for_failures_returns_the_report_when_passed(
    report_dict: ReportFactory,
) -> None:
    report = pp.Report.from_dict(report_dict(passed=True))
    assert report.raise_for_failures() is report


def test_repr_is_one_short_line(report_dict: ReportFactory) -> None:
    text = repr(pp.Report.from_dict(report_dict()))
    assert (
        text == "<Report Transactions FAILED rows=1000 valid=985 invalid=15 rules=5 failed_rules=3>"
    )
    assert "passed" in repr(pp.Report.from_dict(report_dict(passed=True)))


def test_summary(report_dict: ReportFactory) -> None:
    assert pp.Report.from_dict(report_dict()).summary() == (
        "Transactions FAILED: 1000 rows, 985 valid, 15 invalid; failed: amount:gt, txn_id:unique, "
        "amount:mean"
    )


def test_html_escapes(report_dict: ReportFactory) -> None:
    data = report_dict(schema_name="<b>x</b>")
    data["rules"].append({**data["rules"][1], "name": "<script>:gt"})
    html = pp.Report.from_dict(data)._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "FAILED" in html and "amount:gt" in html


def test_rich_rendering(report_dict: ReportFactory) -> None:
    from rich.console import Console

    buffer = io.StringIO()
    Console(file=buffer, width=120, color_system=None).print(pp.Report.from_dict(report_dict()))
    text = buffer.getvalue()
    assert "Transactions" in text and "FAILED" in text
    for name in ("amount:gt", "txn_id:unique", "fee:ge", "amount:mean"):
        assert name in text
    assert "≤ 5 rows" in text
    assert "data/tx.csv row 17 (line 18): -5.00 is not > 0" in text
    assert "quarantine output written to out/q.csv" in text
    assert "985 valid" in text and "rows/s" in text


def test_minimal_report_defaults() -> None:
    report = pp.Report.from_dict({"passed": True, "rules": [{"name": "a:type"}]})
    assert report.rows == 0 and report.sources == () and report.threads is None
    assert report.rule("a:type").passed is True
