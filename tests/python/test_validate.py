"""``pp.validate`` end to end on small files with hand-computed counts (needs the engine)."""

from __future__ import annotations

import csv
import json
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import pyrustpipe as pp
import pytest
from pyrustpipe import _core

Write = Callable[[str, str], Path]


class Orders(pp.Schema):
    txn_id: str = pp.Field(pattern=r"^TX[0-9]{3}$", unique=True)
    amount: float = pp.Field(gt=0)
    fee: float = pp.Field(ge=0)
    currency: str = pp.Field(isin=["KES", "UGX"])
    agent_id: str | None = pp.Field()

    @pp.row_rule
    def fee_within_amount(row):
        return row.fee <= row.amount


DATA = (
    "txn_id,amount,fee,currency,agent_id\n"
    "TX001,100.0,1.0,KES,A1\n"  # 1 ok
    "TX002,-5,0,KES,\n"  # 2 amount:gt, fee_within_amount (0 <= -5 is false)
    "TX003,50,60,UGX,A2\n"  # 3 fee_within_amount, txn_id:unique (with 4)
    "TX003,20,1,XXX,A3\n"  # 4 txn_id:unique, currency:isin
    "TX005,abc,1,KES,A4\n"  # 5 amount:type (row rule skipped)
    "TX006,,1,KES,A5\n"  # 6 amount:not_null (row rule skipped)
    "bad,3,1,KES,\n"  # 7 txn_id:pattern
)
EXPECTED_FAILED = {
    "amount:gt": 1,
    "fee_within_amount": 2,
    "txn_id:unique": 2,
    "currency:isin": 1,
    "amount:type": 1,
    "amount:not_null": 1,
    "txn_id:pattern": 1,
    "fee:ge": 0,
    "agent_id:type": 0,
}


@pytest.fixture
def data(write: Write) -> Path:
    return write("orders.csv", DATA)


def failed(report: pp.Report) -> dict[str, int]:
    return {r.name: r.failed for r in report.rules}


def test_counts(data: Path) -> None:
    report = pp.validate(data, Orders)
    assert isinstance(report, pp.Report)
    assert report.passed is False
    assert (report.rows, report.valid_rows, report.invalid_rows) == (7, 1, 6)
    got = failed(report)
    for name, count in EXPECTED_FAILED.items():
        assert got[name] == count, name
    assert report.rule("amount:gt").samples[0].row == 2
    assert report.rule("amount:gt").samples[0].line == 3
    assert report.rule("amount:gt").samples[0].value == "-5"
    assert report.rule("txn_id:unique").failure_rate == pytest.approx(2 / 7)
    assert report.ruleset_hash.startswith("sha256:")
    assert report.schema_name == "Orders"
    assert [s.uri for s in report.sources] == [str(data)]


def test_every_schema_form_gives_the_same_report(data: Path, write: Write) -> None:
    spec = Orders.to_spec()
    write("rules.json", json.dumps(spec))
    forms: list[Any] = [Orders, spec, pp.Spec(spec), str(data.parent / "rules.json")]
    reports = [pp.validate(str(data), form) for form in forms]
    assert {r.ruleset_hash for r in reports} == {reports[0].ruleset_hash}
    assert all(failed(r) == failed(reports[0]) for r in reports)


def test_tolerance_and_severity(write: Write) -> None:
    class Lenient(pp.Schema):
        amount: float = pp.Field(gt=pp.Check(0, tolerance=1))
        fee: float = pp.Field(ge=0, severity="warn")

    path = write("l.csv", "amount,fee\n1,1\n-1,1\n2,-3\n")
    report = pp.validate(path, Lenient)
    assert report.passed is True  # amount:gt 1 failure within tolerance; fee:ge is a warning
    assert report.rule("amount:gt").failed == 1 and report.rule("amount:gt").passed
    assert report.rule("amount:gt").allowed_failures == 1
    assert report.rule("fee:ge").failed == 1 and report.rule("fee:ge").severity == "warn"
    assert report.invalid_rows == 1  # the tolerated error row; warn rows stay valid
    assert report.raise_for_failures() is report


def test_raise_for_failures(data: Path) -> None:
    with pytest.raises(pp.ValidationFailed, match="Orders failed") as info:
        pp.validate(data, Orders).raise_for_failures()
    assert info.value.report.invalid_rows == 6


def test_quarantine_and_valid_outputs(data: Path, tmp_path: Path) -> None:
    quarantine, valid = tmp_path / "q.csv", tmp_path / "v.csv"
    report = pp.validate(data, Orders, quarantine=quarantine, valid_output=valid)
    with open(quarantine, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["_pyrustpipe_row"]) for r in rows] == [2, 3, 4, 5, 6, 7]
    assert all(r["_pyrustpipe_source"] for r in rows)
    assert "txn_id:unique" in rows[1]["_pyrustpipe_errors"]
    with open(valid, newline="") as handle:
        assert [r["txn_id"] for r in csv.DictReader(handle)] == ["TX001"]
    assert report.outputs["quarantine"] == str(quarantine)


def test_metrics_output(data: Path, tmp_path: Path) -> None:
    path = tmp_path / "metrics.json"
    report = pp.validate(data, Orders, metrics_output=path)
    assert pp.Report.from_file(path).rows == report.rows


def test_several_sources_directory_and_glob(write: Write, tmp_path: Path) -> None:
    header = "txn_id,amount,fee,currency,agent_id\n"
    write("parts/a.csv", header + "TX001,1,0,KES,\n")
    write("parts/b.csv", header + "TX002,2,0,KES,\nTX003,-2,0,KES,\n")
    for source in (
        [tmp_path / "parts" / "a.csv", tmp_path / "parts" / "b.csv"],
        str(tmp_path / "parts"),
        str(tmp_path / "parts" / "*.csv"),
    ):
        report = pp.validate(source, Orders)  # type: ignore[arg-type]
        assert (report.rows, report.invalid_rows) == (3, 1)
        assert len(report.sources) == 2


def test_dataset_checks(write: Write) -> None:
    class Stats(pp.Schema):
        amount: float

        class Config:
            min_rows = 5
            checks: ClassVar = [
                pp.col("amount").mean().between(1, 2),
                (pp.col("amount").max() < 10).alias("small").warn(),
            ]

    report = pp.validate(write("s.csv", "amount\n1\n2\n30\n"), Stats)
    assert report.rule("dataset:row_count").passed is False
    assert report.rule("dataset:row_count").observed == 3
    assert report.rule("amount:mean").observed == pytest.approx(11.0)
    assert report.rule("amount:mean").passed is False
    assert report.rule("small").passed is False and report.rule("small").severity == "warn"
    assert report.invalid_rows == 0


def test_untraceable_rule_runs_in_python(write: Write, tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pp.UntraceableRuleWarning)

        class Slow(pp.Schema):
            a: int
            b: int | None

            @pp.row_rule
            def both_positive(row):
                return row.a > 0 and row.b > 0

            @pp.row_rule(severity="warn")
            def small(row):
                return row.a < 100 if row.a is not None else True

    path = write("slow.csv", "a,b\n1,1\n\n-1,1\n1,\n500,x\n2,2\n")
    quarantine = tmp_path / "q.csv"
    report = pp.validate(path, Slow, quarantine=quarantine)
    assert report.rule("both_positive").failed == 1  # row 2 (row 3 b null, row 4 b bad: skipped)
    assert report.rule("small").failed == 1 and report.rule("small").severity == "warn"
    assert report.rule("b:type").failed == 1
    assert (report.rows, report.invalid_rows) == (5, 2)  # rows 2 and 4
    with open(quarantine, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["_pyrustpipe_row"]) for r in rows] == [2, 4]
    assert "both_positive" in rows[0]["_pyrustpipe_errors"]


def test_ndjson(write: Write) -> None:
    lines = [
        {
            "txn_id": "TX001",
            "amount": 1.5,
            "fee": 0,
            "currency": "KES",
            "agent_id": None,
        },
        {"txn_id": "TX002", "amount": -1, "fee": 0, "currency": "KES"},
    ]
    path = write("o.ndjson", "\n".join(json.dumps(x) for x in lines) + "\n")
    report = pp.validate(path, Orders)
    assert (report.rows, report.invalid_rows) == (2, 1)
    assert report.rule("amount:gt").failed == 1


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"threads": 0}, ValueError),
        ({"sample_size": -1}, ValueError),
        ({"chunk_size": 0}, ValueError),
    ],
)
def test_bad_arguments(data: Path, kwargs: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        pp.validate(data, Orders, **kwargs)


def test_results_do_not_depend_on_threads_or_chunks(data: Path) -> None:
    reference = pp.validate(data, Orders, threads=1).to_dict()
    for threads, chunk in ((1, 16), (4, 16), (4, 64), (2, None)):
        other = pp.validate(data, Orders, threads=threads, chunk_size=chunk).to_dict()
        for key in ("rows", "valid_rows", "invalid_rows", "rules", "ruleset_hash"):
            assert other[key] == reference[key], (threads, chunk, key)  # type: ignore[literal-required]


def test_runs_at_once_and_in_a_forked_child(data: Path) -> None:
    """Runs from several threads at once each get their workers, and a forked child (which
    has none of its parent's threads) validates too: the guard for any worker pool kept between
    runs (one was tried: a fork's child hung on its parent's pool until it checked the process)."""
    import multiprocessing
    from concurrent.futures import ThreadPoolExecutor

    reference = failed(pp.validate(data, Orders, threads=2))
    with ThreadPoolExecutor(4) as runs:
        reports = list(runs.map(lambda _: pp.validate(data, Orders, threads=2), range(8)))
    assert all(failed(report) == reference for report in reports)
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork on this platform")
    child = multiprocessing.get_context("fork").Process(target=_validate_and_exit, args=(data,))
    with warnings.catch_warnings():
        # Python 3.12+ warns on a fork of a process with threads: that is the case under test.
        warnings.simplefilter("ignore", DeprecationWarning)
        child.start()
    child.join(60)
    if child.is_alive():
        child.kill()
        pytest.fail("a forked child's run hung on its parent's worker pool")
    assert child.exitcode == 0


def _validate_and_exit(data: Path) -> None:
    report = pp.validate(data, Orders, threads=2)
    raise SystemExit(0 if report.rows == 7 else 1)


def test_engine_errors(write: Write, tmp_path: Path) -> None:
    with pytest.raises(pp.StorageError):
        pp.validate(tmp_path / "missing.csv", Orders)
    bad_spec = {**Orders.to_spec(), "typo_key": 1}
    with pytest.raises(pp.SchemaError, match="typo_key"):
        pp.validate(write("x.csv", "txn_id\n"), bad_spec)
    with pytest.raises(ValueError, match="no source"):
        pp.validate([], Orders)


def test_compile_spec_hash_ignores_key_order() -> None:
    spec = Orders.to_spec()
    first = json.loads(_core.compile_spec(json.dumps(spec)))
    second = json.loads(_core.compile_spec(json.dumps(spec, sort_keys=True, indent=3)))
    assert first["ruleset_hash"] == second["ruleset_hash"]
    assert first["ruleset_hash"].startswith("sha256:")


@pytest.mark.parametrize(
    "location",
    ["s3://bucket/q/../../etc/", "s3://bucket/q/./x/", "s3://bucket/q//x/", "s3://bucket//q/"],
)
def test_output_keys_that_leave_their_prefix_are_refused(tmp_path: Path, location: str) -> None:
    """Refused before anything is read or written (no S3 server is contacted)."""
    source = tmp_path / "data.csv"
    source.write_text("id\n1\n")
    spec = {"spec_version": 1, "columns": [{"name": "id", "dtype": "int"}]}
    with pytest.raises(pp.SchemaError, match="percent-encode partition values"):
        pp.validate(source, spec, quarantine=location)


def test_runs_read_the_schema_spec_without_changing_it(write: Write) -> None:
    # A run reads the class's own spec (no copy a run); a dialect override (the CLI's flags)
    # and a table run must leave it as it was.
    from pyrustpipe.api import run_validation

    before = Orders.to_spec()
    semicolons = write("orders.csv", DATA.replace(",", ";"))
    report = run_validation(str(semicolons), Orders, dialect={"delimiter": ";"})
    assert report.rows == 7 and report.invalid_rows == 6
    assert pp.validate(str(write("plain.csv", DATA)), Orders).invalid_rows == 6
    pa = pytest.importorskip("pyarrow")
    table = pa.table({"txn_id": ["TX001"], "amount": [1.0], "fee": [0.0], "currency": ["KES"]})
    assert pp.validate(table, Orders).rows == 1
    assert Orders.to_spec() == before
