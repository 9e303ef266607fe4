"""Parquet sources: the same rules give the same report as the same data in CSV, and the outputs
are Parquet files holding exactly the valid and the quarantined rows."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pyrustpipe as pp
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.data_gen import make_transactions  # noqa: E402

RULES = json.loads((Path(__file__).resolve().parents[2] / "bench" / "rules.json").read_text())
RUN_ONLY = {"duration_s", "rows_per_s", "threads", "bytes", "sources", "outputs"}


def comparable(report: pp.Report) -> dict:
    data = {k: v for k, v in report.to_dict().items() if k not in RUN_ONLY}
    for rule in data["rules"]:
        rule.pop("samples")
    return data


def transactions(csv_path: Path, rows: int, seed: int) -> pa.Table:
    """The generator's transactions written to `csv_path`, and read back as a table of strings."""
    make_transactions(csv_path, rows, seed=seed, error_rate=0.05)
    return pacsv.read_csv(
        csv_path,
        convert_options=pacsv.ConvertOptions(
            column_types={name: pa.string() for name in pacsv.read_csv(csv_path).column_names},
            # Only the empty field is null, as in pyrustpipe (pyarrow would also null "NA").
            strings_can_be_null=True,
            null_values=[""],
        ),
    )


@pytest.mark.parametrize("row_group_size", [700, 100_000])
def test_parquet_matches_csv(tmp_path: Path, row_group_size: int) -> None:
    csv_path = tmp_path / "tx.csv"
    table = transactions(csv_path, 3_000, seed=5)
    parquet_path = tmp_path / "tx.parquet"
    pq.write_table(table, parquet_path, row_group_size=row_group_size)

    from_csv = pp.validate(str(csv_path), RULES)
    valid = tmp_path / "valid.parquet"
    quarantine = tmp_path / "quarantine.parquet"
    from_parquet = pp.validate(
        str(parquet_path), RULES, valid_output=str(valid), quarantine=str(quarantine)
    )
    assert comparable(from_parquet) == comparable(from_csv)
    assert from_parquet.invalid_rows > 0

    kept = pq.read_table(valid)
    bad = pq.read_table(quarantine)
    assert kept.num_rows == from_parquet.valid_rows
    assert bad.num_rows == from_parquet.invalid_rows
    assert kept.schema == table.schema
    assert bad.column_names[-3:] == ["_pyrustpipe_errors", "_pyrustpipe_row", "_pyrustpipe_source"]
    rows = bad.column("_pyrustpipe_row").to_pylist()
    assert rows == sorted(rows) and len(set(rows)) == len(rows)
    # Every quarantined row holds the input's values at its row number.
    originals = table.to_pylist()
    for record in bad.to_pylist()[:50]:
        original = originals[record["_pyrustpipe_row"] - 1]
        assert {k: record[k] for k in original} == original


def test_a_lone_row_group_cut_for_the_workers_reports_as_one_worker(tmp_path: Path) -> None:
    # pyarrow and pandas write up to a million rows to one row group; with two or more workers
    # it is read in parts (two of 35,000 rows here, a part at least 32,768), and every count,
    # sample and output row must be what one worker reading it whole finds. Keys repeat across
    # the parts' boundary (the generator repeats txn_ids), pages are small so parts start
    # inside one.
    table = transactions(tmp_path / "tx.csv", 70_000, seed=11)
    parquet_path = tmp_path / "tx.parquet"
    pq.write_table(table, parquet_path, row_group_size=1 << 20, data_page_size=4096)
    assert pq.ParquetFile(parquet_path).metadata.num_row_groups == 1

    def run(threads: int) -> tuple[dict, list, list]:
        valid, quarantine = tmp_path / f"valid{threads}.parquet", tmp_path / f"bad{threads}.parquet"
        report = pp.validate(
            str(parquet_path),
            RULES,
            threads=threads,
            valid_output=str(valid),
            quarantine=str(quarantine),
        )
        data = {k: v for k, v in report.to_dict().items() if k not in RUN_ONLY}
        return data, pq.read_table(valid).to_pylist(), pq.read_table(quarantine).to_pylist()

    whole = run(1)
    assert whole[0]["rows"] == 70_000 and whole[0]["invalid_rows"] > 0
    assert any(rule["failed"] for rule in whole[0]["rules"] if rule["name"].endswith("unique"))
    for threads in (2, 3):
        assert run(threads) == whole, threads


def test_typed_temporal_columns_are_read_as_iso(tmp_path: Path) -> None:
    table = pa.table(
        {
            "id": pa.array([1, 2, 3], pa.int64()),
            "at": pa.array([dt.datetime(2026, 1, 1, 10), None, dt.datetime(2026, 2, 28, 23, 59)]),
            "amount": pa.array([1.5, -2.0, None], pa.float64()),
        }
    )
    path = tmp_path / "t.parquet"
    pq.write_table(table, path)
    spec = {
        "spec_version": 1,
        "columns": [
            {"name": "id", "dtype": "int"},
            {"name": "at", "dtype": "datetime", "format": "%Y-%m-%d %H:%M", "nullable": True},
            {"name": "amount", "dtype": "float", "checks": [{"type": "gt", "value": 0}]},
        ],
    }
    report = pp.validate(str(path), spec)
    assert report.rule("at:type").failed == 0
    assert report.rule("amount:gt").failed == 1
    assert report.rule("amount:not_null").failed == 1
    assert (report.rows, report.invalid_rows) == (3, 2)
    sample = report.rule("amount:gt").samples[0]
    assert (sample.row, sample.line) == (2, None)


TYPED_SPEC = {
    "spec_version": 1,
    "name": "Typed",
    "columns": [
        {
            "name": "id",
            "dtype": "int",
            "nullable": False,
            "checks": [{"type": "ge", "value": 0}, {"type": "unique", "keep": "none"}],
        },
        {
            "name": "amount",
            "dtype": "float",
            "nullable": False,
            "checks": [{"type": "gt", "value": 0}, {"type": "le", "value": 100}],
        },
        {"name": "at", "dtype": "datetime", "nullable": False},
        {"name": "day", "dtype": "date", "nullable": False},
        {"name": "flag", "dtype": "bool", "nullable": False},
    ],
}


def judged(report: pp.Report) -> dict:
    """The report without run facts, and each sample without where its row was read from."""
    data = {k: v for k, v in report.to_dict().items() if k not in RUN_ONLY}
    for rule in data["rules"]:
        rule["samples"] = [
            {k: v for k, v in sample.items() if k not in {"line", "source"}}
            for sample in rule["samples"]
        ]
    return data


@pytest.mark.parametrize("markers", [[""], ["", "NaN", "-3", "false", "2024-01-31"]])
@pytest.mark.parametrize("source", ["parquet", "table"])
def test_typed_values_are_judged_and_shown_as_their_text_would_be(
    tmp_path: Path, source: str, markers: list[str]
) -> None:
    """Typed columns are checked as values, not printed and parsed again: the report, samples,
    duplicate keys and null markers included, is the one for the same values written as text."""
    spec = {**TYPED_SPEC, "csv": {"null_values": markers}}
    at = dt.datetime(2024, 1, 31, 10, 30)
    table = pa.table(
        {
            "id": pa.array([1, 2, 2, -3, None, 5, 6, 7], pa.int64()),
            "amount": pa.array([1.5, -2.25, 150.0, float("nan"), 10.0, float("inf"), None, 0.0]),
            "at": pa.array([at, at, None, at, at, at, at, at], pa.timestamp("ms")),
            "day": pa.array([dt.date(2024, 1, 31)] * 7 + [None], pa.date32()),
            "flag": pa.array([True, False, True, None, True, True, False, True]),
        }
    )
    text = {
        "id": ["1", "2", "2", "-3", "", "5", "6", "7"],
        "amount": ["1.5", "-2.25", "150.0", "NaN", "10.0", "inf", "", "0.0"],
        "at": ["2024-01-31T10:30:00", "2024-01-31T10:30:00", "", *["2024-01-31T10:30:00"] * 5],
        "day": ["2024-01-31"] * 7 + [""],
        "flag": ["true", "false", "true", "", "true", "true", "false", "true"],
    }
    csv_path = tmp_path / "typed.csv"
    rows = [",".join(column[row] for column in text.values()) for row in range(8)]
    csv_path.write_text("\n".join([",".join(text), *rows]) + "\n")
    if source == "parquet":
        pq.write_table(table, tmp_path / "typed.parquet")
        typed = pp.validate(str(tmp_path / "typed.parquet"), spec)
    else:
        typed = pp.validate(table, spec)
    as_text = pp.validate(str(csv_path), spec)
    assert judged(typed) == judged(as_text)
    if markers != [""]:
        nulls = {rule.name: rule.failed for rule in typed.rules if rule.name.endswith("not_null")}
        assert nulls == {
            "id:not_null": 2,
            "amount:not_null": 2,
            "at:not_null": 1,
            "day:not_null": 8,
            "flag:not_null": 3,
        }
        return
    failed = {rule.name: rule.failed for rule in typed.rules if rule.failed}
    assert failed == {
        "id:ge": 1,
        "id:unique": 2,
        "id:not_null": 1,
        "amount:gt": 2,
        "amount:le": 1,
        "amount:type": 2,
        "amount:not_null": 1,
        "at:not_null": 1,
        "day:not_null": 1,
        "flag:not_null": 1,
    }
    shown = {rule.name: [s.value for s in rule.samples] for rule in typed.rules if rule.failed}
    assert shown["id:unique"] == ["2", "2"]
    assert shown["amount:type"] == ["NaN", "inf"]
    assert shown["amount:gt"] == ["-2.25", "0.0"]
