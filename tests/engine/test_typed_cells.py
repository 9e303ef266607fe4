"""Every cell of the Arrow-type × field-type table in docs/spec.md ("Typed values"): one value of
each Arrow type, validated as each field type, in a Parquet file and as an in-memory table.
`True` in a cell: the value passes its type check; `False`: it fails `<column>:type`; a string:
the run is refused with a `DataFormatError` containing it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pyrustpipe as pp
import pytest

FIELDS = ["str", "int", "float", "decimal", "bool", "date", "datetime", "time"]

# (Arrow type, value, {field type: outcome}); a field type left out fails `type`.
CELLS: list[tuple[str, pa.Array, dict[str, Any]]] = [
    ("utf8", pa.array(["12"]), {"str": True, "int": True, "float": True, "decimal": True}),
    ("large_utf8", pa.array(["true"], pa.large_string()), {"str": True, "bool": True}),
    (
        "dictionary<utf8>",
        pa.array(["2024-01-31"]).dictionary_encode(),
        {"str": True, "date": True, "datetime": False},
    ),
    ("int64", pa.array([7]), {"str": True, "int": True, "float": True, "decimal": True}),
    (
        "uint8 1",
        pa.array([1], pa.uint8()),
        {"str": True, "int": True, "float": True, "decimal": True, "bool": True},
    ),
    (
        "float64 integral",
        pa.array([181.0]),
        {"str": True, "int": True, "float": True, "decimal": True},
    ),
    ("float64 fraction", pa.array([181.5]), {"str": True, "float": True, "decimal": True}),
    ("float32", pa.array([0.5], pa.float32()), {"str": True, "float": True, "decimal": True}),
    (
        "decimal128 integral",
        pa.array([Decimal("12.00")], pa.decimal128(10, 2)),
        {"str": True, "int": True, "float": True, "decimal": True},
    ),
    (
        "decimal128 fraction",
        pa.array([Decimal("12.50")], pa.decimal128(10, 2)),
        {"str": True, "float": True, "decimal": True},
    ),
    ("bool", pa.array([True]), {"str": True, "bool": True}),
    ("date32", pa.array([dt.date(2024, 1, 31)]), {"str": True, "date": True}),
    (
        "timestamp no zone, midnight",
        pa.array([dt.datetime(2024, 1, 31)], pa.timestamp("ms")),
        {"str": True, "date": True, "datetime": True},
    ),
    (
        "timestamp no zone, 10:30",
        pa.array([dt.datetime(2024, 1, 31, 10, 30)], pa.timestamp("us")),
        {"str": True, "datetime": True},
    ),
    (
        "timestamp UTC",
        pa.array([dt.datetime(2024, 1, 31, 10, 30)], pa.timestamp("ns", tz="UTC")),
        {"str": True, "datetime": True},
    ),
    (
        "timestamp Africa/Nairobi",
        pa.array([dt.datetime(2024, 1, 31, 10, 30)], pa.timestamp("s", tz="Africa/Nairobi")),
        {"str": True, "datetime": True},
    ),
    ("time64", pa.array([dt.time(10, 30)], pa.time64("us")), {"str": True, "time": True}),
    ("binary utf-8", pa.array([b"abc"]), {"str": True}),
    ("binary not utf-8", pa.array([b"ab\xffc"]), {}),
    (
        "struct",
        pa.array([{"x": 1}]),
        {f: "nested Arrow type" for f in FIELDS},
    ),
    (
        "list",
        pa.array([[1, 2]]),
        {f: "nested Arrow type" for f in FIELDS},
    ),
]


def spec(field: str) -> dict[str, Any]:
    return {"spec_version": 1, "columns": [{"name": "v", "dtype": field}]}


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("arrow_type,array,outcomes", CELLS, ids=[c[0] for c in CELLS])
def test_cell(
    tmp_path: Path, arrow_type: str, array: pa.Array, outcomes: dict[str, Any], field: str
) -> None:
    table = pa.table({"v": array})
    path = tmp_path / "cell.parquet"
    pq.write_table(table, path)
    expected = outcomes.get(field, False)
    for source in (str(path), table):
        if isinstance(expected, str):
            with pytest.raises(pp.DataFormatError, match=expected):
                pp.validate(source, spec(field))
            continue
        report = pp.validate(source, spec(field))
        failed = report.rule("v:type").failed
        assert failed == (0 if expected else 1), (arrow_type, field, report.rule("v:type").samples)


def test_the_values_judged_are_the_values_stored(tmp_path: Path) -> None:
    """Bounds see the value: an instant in another zone, an exact decimal, an integral float."""
    table = pa.table(
        {
            "at": pa.array(
                [dt.datetime(2024, 1, 1, 2, 0, tzinfo=dt.timezone(dt.timedelta(hours=3)))],
                pa.timestamp("s", tz="Africa/Nairobi"),
            ),
            "amount": pa.array([Decimal("1000.01")], pa.decimal128(12, 2)),
            "count": pa.array([181.0]),
        }
    )

    class Row(pp.Schema):
        # 02:00 in Nairobi (stored as 2023-12-31T23:00Z) is before 2024-01-01T00:00Z.
        at: dt.datetime = pp.Field(lt=dt.datetime(2024, 1, 1))
        amount: Decimal = pp.Field(le=Decimal("1000.00"))
        count: int = pp.Field(le=181)

    report = pp.validate(table, Row)
    failed = {r.name: r.failed for r in report.rules if r.failed}
    assert failed == {"amount:le": 1}
