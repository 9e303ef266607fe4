"""``pp.validate`` on in-memory tables (pyrustpipe/_arrow.py): pandas, polars and pyarrow give the
same report as the CSV file they were read from."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pyrustpipe as pp
import pytest
from pyrustpipe import _arrow

from tests.data_gen import make_transactions

ROOT = Path(__file__).resolve().parents[2]


def _transactions_schema() -> type[pp.Schema]:
    spec = importlib.util.spec_from_file_location(
        "_test_arrow_transactions", ROOT / "example_dags" / "rules" / "transactions.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    schema: type[pp.Schema] = module.Transactions
    return schema


Transactions = _transactions_schema()


@pytest.fixture(scope="module")
def csv_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("arrow") / "tx.csv"
    make_transactions(path, rows=3000, seed=7, error_rate=0.03)
    return path


def read_arrow(path: Path) -> pa.Table:
    """Every column as text, the empty field as null: the values the engine reads from the CSV."""
    names = path.read_text().split("\n", 1)[0].split(",")
    options = pacsv.ConvertOptions(
        column_types={name: pa.string() for name in names},
        null_values=[""],
        strings_can_be_null=True,
    )
    return pacsv.read_csv(path, convert_options=options)


READERS: dict[str, Any] = {
    "pyarrow": read_arrow,
    "pyarrow-reader": lambda path: read_arrow(path).to_reader(max_chunksize=700),
    "pandas": lambda path: pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""]),
    "polars": lambda path: pl.read_csv(path, infer_schema=False),
}


def comparable(report: pp.Report) -> dict[str, Any]:
    """The report without what differs between a file and a table: timings, sizes, the source
    name and the physical line (a table has no lines)."""
    data: dict[str, Any] = dict(report.to_dict())
    for key in ("bytes", "duration_s", "rows_per_s", "threads", "sources"):
        data.pop(key, None)
    for rule in data["rules"]:
        for sample in rule["samples"]:
            sample.pop("line")
            sample.pop("source")
    return data


@pytest.mark.parametrize("reader", READERS, ids=list(READERS))
def test_in_memory_report_equals_csv_report(csv_path: Path, reader: str) -> None:
    expected = pp.validate(csv_path, Transactions)
    assert not expected.passed and expected.invalid_rows > 0
    table = READERS[reader](csv_path)
    assert _arrow.is_arrow_like(table)
    report = pp.validate(table, Transactions)
    assert comparable(report) == comparable(expected)
    sources = {s.source for r in report.rules for s in r.samples}
    assert sources == {_arrow.IN_MEMORY}
    assert [s.uri for s in report.sources] == [_arrow.IN_MEMORY]


def test_quarantine_of_a_table_is_parquet(tmp_path: Path) -> None:
    class Tiny(pp.Schema):
        id: int = pp.Field(gt=0)
        name: str = pp.Field()

    frame = pl.DataFrame({"id": [1, -2, 3, None], "name": ["a", "b", None, "d"]})
    report = pp.validate(frame, Tiny, quarantine=tmp_path / "q.parquet")
    assert (report.rows, report.valid_rows, report.invalid_rows) == (4, 1, 3)
    quarantined = pq.read_table(tmp_path / "q.parquet")
    assert quarantined.num_rows == 3


def test_typed_columns_are_read_as_their_text() -> None:
    class Typed(pp.Schema):
        n: int = pp.Field(ge=0)
        x: float = pp.Field(lt=1.5)
        flag: bool = pp.Field()

        class Config:
            strict = True

    frame = pd.DataFrame({"n": [0, 5, -1], "x": [0.5, 2.5, 1.0], "flag": [True, False, True]})
    report = pp.validate(frame, Typed)
    assert (report.rule("n:ge").failed, report.rule("x:lt").failed) == (1, 1)
    assert report.rule("flag:type").failed == 0
    # The pandas index is not a column.
    assert report.rule("schema:unknown_columns").failed == 0


@pytest.mark.parametrize("value", ["data.csv", Path("data.csv"), ["a.csv", "b.csv"], b"x", 3, None])
def test_paths_are_not_tables(value: object) -> None:
    assert not _arrow.is_arrow_like(value)


def test_empty_table() -> None:
    class Tiny(pp.Schema):
        id: int = pp.Field()

    table = pa.table({"id": pa.array([], pa.int64())})
    report = pp.validate(table, Tiny, allow_empty=True)
    assert report.rows == 0
