"""The engine against the pure-Python oracle on the benchmark's transactions (bench/rules.json).

Per-rule counts, quarantined row numbers and the valid output must agree exactly.
"""

from __future__ import annotations

from pathlib import Path

import pyrustpipe as pp
import pytest

from tests.data_gen import make_transactions
from tests.oracle import oracle_validate, read_records

from .conftest import (
    assert_failures_match,
    bench_spec,
    expected_valid_bytes,
    line_starts,
    normalized,
    parse_record,
    run,
    split_records,
)

ROWS = 20_000


@pytest.fixture(scope="module", params=[1, 7, 2026])
def transactions(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    seed = request.param
    folder = tmp_path_factory.mktemp(f"tx{seed}")
    path = folder / "tx.csv"
    truth = make_transactions(path, ROWS, seed, error_rate=0.03)
    spec = bench_spec()
    oracle = oracle_validate(spec, [str(path)])
    return path, spec, oracle, truth


def test_record_splitter_agrees_with_csv_module(transactions) -> None:
    """Sanity check of the test's own raw-record splitter (used to rebuild the valid output)."""
    path, _, _, _ = transactions
    raw = split_records(path.read_bytes())
    assert [parse_record(r) for r in raw] == list(read_records(str(path)))


def test_oracle_agrees_with_generator_truth(transactions) -> None:
    _, _, oracle, truth = transactions
    assert oracle["rows"] == truth["rows"] == ROWS
    assert oracle["invalid_rows"] == truth["invalid_rows"]
    assert oracle["invalid_rows"] > 0


@pytest.mark.parametrize(
    "opts",
    [{}, {"threads": 1}, {"threads": 8, "chunk_size": 4096}, {"threads": 2, "chunk_size": 1000}],
    ids=["default", "t1", "t8-c4096", "t2-c1000"],
)
def test_counts_rows_and_outputs_match_oracle(transactions, opts: dict, tmp_path: Path) -> None:
    path, spec, oracle, _ = transactions
    report, valid, qrows = run(spec, path, tmp_path, **opts)

    assert report["rows"] == oracle["rows"]
    assert report["valid_rows"] == oracle["valid_rows"]
    assert report["invalid_rows"] == oracle["invalid_rows"]
    assert report["passed"] == oracle["passed"]
    assert_failures_match(report, oracle)
    for rule in report["rules"]:
        assert rule["passed"] == oracle["rule_passed"][rule["name"]], rule["name"]

    expected_rows = oracle["invalid_row_numbers"][str(path)]
    got_rows = [row for _, _, row, _ in qrows]
    assert got_rows == sorted(got_rows), "quarantine not in row order"
    assert len(got_rows) == len(set(got_rows)), "a row quarantined twice"
    assert set(got_rows) == set(expected_rows)
    assert {src for *_, src in qrows} == {str(path)}

    # the failing rules listed for each quarantined row are exactly the oracle's
    by_row: dict[int, set[str]] = {}
    for rule, where in oracle["rule_rows"].items():
        for _, row in where:
            by_row.setdefault(row, set()).add(rule)
    for _, errors, row, _ in qrows:
        assert set(errors) == by_row[row], row

    # quarantined values are the input's fields
    records = split_records(path.read_bytes())
    for fields, _, row, _ in qrows[:200]:
        assert fields == parse_record(records[row]), row

    data = path.read_bytes()
    assert valid == expected_valid_bytes(data, set(expected_rows))


def test_samples_point_at_failing_rows(transactions, tmp_path: Path) -> None:
    path, spec, oracle, _ = transactions
    report, _, _ = run(spec, path, tmp_path, sample_size=5)
    data = path.read_bytes()
    records = split_records(data)
    lines = line_starts(data)
    for rule in report["rules"]:
        want = [row for _, row in oracle["rule_rows"].get(rule["name"], [])][:5]
        got = [s["row"] for s in rule["samples"]]
        assert got == want, rule["name"]
        if rule["kind"] == "unique":
            continue  # see test_unique_samples_carry_line_and_column
        for s in rule["samples"]:
            assert s["line"] == lines[s["row"]], rule["name"]
            assert s["source"] == str(path)
            if s["column"] is not None:
                header = parse_record(records[0])
                fields = parse_record(records[s["row"]])
                assert s["value"] == fields[header.index(s["column"])][:200]


def test_report_identical_across_threads_and_chunks(transactions, tmp_path: Path) -> None:
    path, spec, _, _ = transactions
    base, base_valid, base_q = run(spec, path, tmp_path, threads=1)
    for threads, chunk in [(2, None), (8, 4096), (2, 777)]:
        opts = {"threads": threads} | ({"chunk_size": chunk} if chunk else {})
        report, valid, qrows = run(spec, path, tmp_path, **opts)
        assert normalized(report) == normalized(base), opts
        assert valid == base_valid, opts
        assert qrows == base_q, opts


def test_unique_samples_carry_line_and_column(transactions, tmp_path: Path) -> None:
    path, spec, _, _ = transactions
    report, _, _ = run(spec, path, tmp_path, sample_size=5)
    lines = line_starts(path.read_bytes())
    rule = next(r for r in report["rules"] if r["name"] == "txn_id:unique")
    assert rule["column"] == "txn_id"
    assert rule["samples"]
    for s in rule["samples"]:
        assert s["column"] == "txn_id"
        assert s["line"] == lines[s["row"]]


@pytest.mark.parametrize("threads", [1, 2])
def test_int_key_samples_show_the_keys_as_written(tmp_path: Path, threads: int) -> None:
    # 7, 007 and +7 are one key, as are -0 and 0: a repeat shows its own text, a first
    # occurrence the text of the repeat that found it.
    path = tmp_path / "ids.csv"
    path.write_text(
        "id\n7\n007\n+7\n8\n-0\n0\n-12\n-12\n" + "".join(f"{n}\n" for n in range(20, 60))
    )
    spec = {
        "spec_version": 1,
        "columns": [{"name": "id", "dtype": "int", "checks": [{"type": "unique", "keep": "none"}]}],
    }
    report = pp.validate(str(path), spec, threads=threads, chunk_size=16, sample_size=20)
    rule = report.to_dict()["rules"][-1]
    assert rule["name"] == "id:unique" and rule["failed"] == 7
    shown = [(s["line"], s["value"]) for s in rule["samples"]]
    assert shown == [(2, "007"), (3, "007"), (4, "+7"), (6, "0"), (7, "0"), (8, "-12"), (9, "-12")]
