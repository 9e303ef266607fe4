"""The Python fallback for untraceable row rules: parsing (by the engine) and batching."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import math
import warnings
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyrustpipe as pp
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyrustpipe import _engine
from pyrustpipe._python_rules import (
    BATCH_ROWS,
    parse_value,
    run_python_rules,
    source_format,
)


@pytest.mark.parametrize(
    ("text", "dtype", "expected"),
    [
        ("abc", "str", "abc"),
        ("", "str", ""),
        ("0", "int", 0),
        ("-17", "int", -17),
        ("+5", "int", 5),
        ("007", "int", 7),
        ("9223372036854775807", "int", 2**63 - 1),
        ("-9223372036854775808", "int", -(2**63)),
        ("1.5", "float", 1.5),
        (".5", "float", 0.5),
        ("-2e3", "float", -2000.0),
        ("1E-2", "float", 0.01),
        ("10", "float", 10.0),
        ("1.10", "decimal", Decimal("1.10")),
        ("-.5e1", "decimal", Decimal(-5)),
        ("true", "bool", True),
        ("F", "bool", False),
        ("Yes", "bool", True),
        ("n", "bool", False),
        ("1", "bool", True),
        ("0", "bool", False),
        ("2024-02-29", "date", dt.date(2024, 2, 29)),
        ("2026-01-05T10:20", "datetime", dt.datetime(2026, 1, 5, 10, 20)),
        ("2026-01-05 10:20:30", "datetime", dt.datetime(2026, 1, 5, 10, 20, 30)),
        (
            "2026-01-05T10:20:30.123456789",
            "datetime",
            dt.datetime(2026, 1, 5, 10, 20, 30, 123456),
        ),
        (
            "2026-01-05T10:20:30Z",
            "datetime",
            dt.datetime(2026, 1, 5, 10, 20, 30, tzinfo=dt.UTC),
        ),
        (
            "2026-01-05T10:20:30+03:00",
            "datetime",
            dt.datetime(2026, 1, 5, 10, 20, 30, tzinfo=dt.timezone(dt.timedelta(hours=3))),
        ),
        (
            "2026-01-05T10:20:30.5-09:30",
            "datetime",
            dt.datetime(
                2026, 1, 5, 10, 20, 30, 500000, tzinfo=dt.timezone(-dt.timedelta(hours=9.5))
            ),
        ),
        ("23:59", "time", dt.time(23, 59)),
        ("07:08:09.5", "time", dt.time(7, 8, 9, 500000)),
        ("23:59:59.999999999", "time", dt.time(23, 59, 59, 999999)),
        ("-0", "float", -0.0),
        ("1e300", "float", 1e300),
        ("1e-60", "decimal", Decimal("1e-60")),
    ],
)
def test_parse_accepts(text: str, dtype: str, expected: Any) -> None:
    assert parse_value(text, dtype) == expected


@pytest.mark.parametrize(
    ("text", "dtype"),
    [
        ("a\x00b", "str"),
        ("bad\udcffbyte", "str"),
        ("1.0", "int"),
        ("12\n", "int"),
        ("١٢", "int"),
        ("1.5\n", "float"),
        ("2020-01-01\n", "date"),
        ("２０２０-01-01", "date"),
        ("\u212aes", "bool"),
        ("1e3", "int"),
        (" 1", "int"),
        ("1,000", "int"),
        ("", "int"),
        ("9223372036854775808", "int"),
        ("NaN", "float"),
        ("inf", "float"),
        ("-Infinity", "float"),
        ("1,000.5", "float"),
        ("0x10", "float"),
        (" 1.5", "float"),
        ("1.e", "float"),
        ("1e999", "float"),
        ("nan", "decimal"),
        ("maybe", "bool"),
        ("2026-02-30", "date"),
        ("2026-1-5", "date"),
        ("20260105", "date"),
        ("24:00:00", "time"),
        ("25:00", "time"),
        ("2026-13-01T00:00:00", "datetime"),
        ("2026-01-01T24:00:00", "datetime"),
        ("2026-01-01", "datetime"),
        ("2026-01-01T00:00:00+25:00", "datetime"),
    ],
)
def test_parse_rejects(text: str, dtype: str) -> None:
    with pytest.raises(ValueError, match="is not a valid"):
        parse_value(text, dtype)


@pytest.mark.parametrize(
    ("text", "dtype", "fmt", "expected"),
    [
        ("05/01/2026", "date", "%d/%m/%Y", dt.date(2026, 1, 5)),
        (
            "2026-01-05T10:20:30",
            "datetime",
            "%Y-%m-%dT%H:%M:%S",
            dt.datetime(2026, 1, 5, 10, 20, 30),
        ),
        ("10h20", "time", "%Hh%M", dt.time(10, 20)),
        (
            "05/01/2026 10:20 +0100",
            "datetime",
            "%d/%m/%Y %H:%M %z",
            dt.datetime(2026, 1, 5, 10, 20, tzinfo=dt.timezone(dt.timedelta(hours=1))),
        ),
    ],
)
def test_parse_with_format(text: str, dtype: str, fmt: str, expected: Any) -> None:
    assert parse_value(text, dtype, fmt) == expected
    with pytest.raises(ValueError):
        parse_value("garbage", dtype, fmt)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_every_finite_float_repr_parses_back(value: float) -> None:
    assert parse_value(repr(value), "float") == value


@given(st.integers(-(2**63), 2**63 - 1))
def test_every_i64_parses(value: int) -> None:
    assert parse_value(str(value), "int") == value


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("a.csv", "csv"),
        ("a.tsv", "csv"),
        ("a.CSV.gz", "csv"),
        ("a.ndjson", "ndjson"),
        ("a.jsonl", "ndjson"),
        ("a.json", "ndjson"),
        ("part-0.parquet", "parquet"),
        ("noext", "csv"),
    ],
)
def test_source_format(path: str, kind: str) -> None:
    assert source_format(path) == kind


# ---------------------------------------------------------------------------------------------


def untraced_schema(**config: Any) -> type[pp.Schema]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pp.UntraceableRuleWarning)

        class Payments(pp.Schema):
            amount: float
            fee: float | None
            day: dt.date | None = pp.Field(format="%d/%m/%Y")
            code: str = pp.Field(alias="Code")

            @pp.row_rule
            def fee_small(row):
                # `and` makes it untraceable
                return row.fee >= 0 and row.fee <= row.amount

            @pp.row_rule(severity="warn", tolerance=1)
            def weekday(row):
                return row.day.weekday() < 5

            @pp.row_rule
            def code_upper(row):
                return row.code == row.code.upper() if row.code else None

            @pp.row_rule
            def explodes(row):
                if row.amount > 100:
                    raise ValueError("too big")
                return True

        if config:
            Payments.__pp_spec__["csv"].update(config)  # type: ignore[typeddict-item]
    return Payments


def failures(schema: type[pp.Schema], *sources: Path) -> dict[str, list[tuple[str, int, str]]]:
    result = run_python_rules(schema.to_spec(), schema.python_rules(), [str(s) for s in sources])
    return {
        r["name"]: [(Path(f["source"]).name, f["row"], f["message"]) for f in r["failures"]]
        for r in result
    }


CSV = (
    "amount,fee,day,Code\r\n"
    "10,1,05/01/2026,AB\r\n"  # row 1: ok (Monday)
    "10,11,10/01/2026,ab\r\n"  # row 2: fee > amount; Saturday; lower code
    "\r\n"  # blank: not a row
    "10,,11/01/2026,\r\n"  # row 3: fee null -> fee_small skipped; Sunday; code null -> skipped
    'x,1,bad,"q\r\nR"\r\n'  # row 4: amount unparsable, day unparsable, quoted newline
    "1,2\r\n"  # row 5: wrong field count -> nothing runs
    "500,1,05/01/2026,ZZ\r\n"  # row 6: explodes
)


def test_csv_rows_numbers_nulls_and_errors(write: Callable[[str, str], Path]) -> None:
    schema = untraced_schema()
    path = write("pay.csv", CSV)
    assert failures(schema, path) == {
        "fee_small": [("pay.csv", 2, "fee_small returned False")],
        "weekday": [
            ("pay.csv", 2, "weekday returned False"),
            ("pay.csv", 3, "weekday returned False"),
        ],
        "code_upper": [
            ("pay.csv", 2, "code_upper returned False"),
            ("pay.csv", 4, "code_upper returned False"),
        ],
        "explodes": [("pay.csv", 6, "explodes raised ValueError: too big")],
    }


def test_each_column_is_parsed_once_per_batch_by_the_engine(
    write: Callable[[str, str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The engine parses every text, batched: one call per column a rule reads, per batch.
    calls: list[tuple[str, int]] = []
    parse_texts = _engine.parse_texts

    def counted(column_json: str, texts: list[bytes]) -> list[str | None]:
        calls.append((json.loads(column_json)["name"], len(texts)))
        return parse_texts(column_json, texts)

    monkeypatch.setattr(_engine, "parse_texts", counted)
    schema = untraced_schema()
    rows = BATCH_ROWS + 5
    path = write("big.csv", "amount,fee,day,Code\n" + "10,1,05/01/2026,AB\n" * rows)
    assert failures(schema, path) == {
        "fee_small": [],
        "weekday": [],
        "code_upper": [],
        "explodes": [],
    }
    assert sorted(calls) == sorted(
        (name, size)
        for name in ("amount", "fee", "day", "Code")
        for size in (BATCH_ROWS, rows - BATCH_ROWS)
    )


def test_external_rule_shape(write: Callable[[str, str], Path]) -> None:
    schema = untraced_schema()
    path = write("pay.csv", CSV)
    result = run_python_rules(schema.to_spec(), schema.python_rules(), [str(path)])
    weekday = next(r for r in result if r["name"] == "weekday")
    assert weekday["severity"] == "warn" and weekday["tolerance"] == {"count": 1}
    assert weekday["failures"][0] == {
        "source": str(path),
        "row": 2,
        "message": "weekday returned False",
    }


def test_ndjson(write: Callable[[str, str], Path]) -> None:
    schema = untraced_schema()
    lines = [
        {"amount": 10, "fee": 1, "day": "05/01/2026", "Code": "AB"},
        {"amount": 10.0, "fee": 11, "day": "10/01/2026", "Code": "ab"},
        {"amount": "10", "fee": None, "Code": "X"},
        {"amount": True, "fee": 1, "day": "05/01/2026", "Code": "x"},
    ]
    text = (
        "\n".join(json.dumps(line) for line in lines[:2])
        + "\n\n"
        + "\n".join(json.dumps(line) for line in lines[2:])
    )
    path = write("pay.ndjson", text + "\n")
    result = failures(schema, path)
    assert result["fee_small"] == [("pay.ndjson", 2, "fee_small returned False")]
    assert result["weekday"] == [("pay.ndjson", 2, "weekday returned False")]
    assert [f[1] for f in result["code_upper"]] == [2, 4]
    assert result["explodes"] == []


def test_gzip_and_several_sources(tmp_path: Path, write: Callable[[str, str], Path]) -> None:
    schema = untraced_schema()
    plain = write("a.csv", CSV)
    packed = tmp_path / "b.csv.gz"
    packed.write_bytes(gzip.compress(CSV.encode()))
    result = failures(schema, plain, packed)
    assert [(s, r) for s, r, _ in result["fee_small"]] == [
        ("a.csv", 2),
        ("b.csv.gz", 2),
    ]


def test_parquet(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "amount": [10.0, 10.0, 500.0],
            "fee": [1.0, 11.0, None],
            "day": ["05/01/2026", "05/01/2026", None],
            "Code": ["AB", "AB", "CD"],
        }
    )
    path = tmp_path / "p.parquet"
    pq.write_table(table, path)
    result = failures(untraced_schema(), path)
    assert result["fee_small"] == [("p.parquet", 2, "fee_small returned False")]
    assert result["explodes"] == [("p.parquet", 3, "explodes raised ValueError: too big")]


def test_custom_dialect_and_null_values(write: Callable[[str, str], Path]) -> None:
    schema = untraced_schema(delimiter=";", null_values=["", "NA"])
    path = write("semi.csv", "amount;fee;day;Code\n10;NA;05/01/2026;A\n10;20;05/01/2026;A\n")
    assert failures(schema, path)["fee_small"] == [("semi.csv", 2, "fee_small returned False")]


def test_batches_cover_every_row(write: Callable[[str, str], Path]) -> None:
    schema = untraced_schema()
    rows = BATCH_ROWS + 7
    body = "".join(f"10,{11 if i % 1000 == 0 else 1},05/01/2026,A\n" for i in range(rows))
    path = write("many.csv", "amount,fee,day,Code\n" + body)
    got = [row for _, row, _ in failures(schema, path)["fee_small"]]
    assert got == [i + 1 for i in range(rows) if i % 1000 == 0]


def test_remote_sources_are_refused() -> None:
    schema = untraced_schema()
    with pytest.raises(pp.SchemaError, match="reads local files only"):
        run_python_rules(schema.to_spec(), schema.python_rules(), ["s3://bucket/key.csv"])


def test_rule_catching_everything_still_skips_nulls(
    write: Callable[[str, str], Path],
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pp.UntraceableRuleWarning)

        class T(pp.Schema):
            a: int | None

            @pp.row_rule
            def greedy(row):
                try:
                    return bool(row.a > 1)
                except Exception:  # noqa: BLE001
                    return False

    path = write("t.csv", "a\n5\n\n0\n\nx\n")
    result = run_python_rules(T.to_spec(), T.python_rules(), [str(path)])
    assert [f["row"] for f in result[0]["failures"]] == [2]
    assert math.isclose(1.0, 1.0)


def test_a_python_rule_reads_only_declared_columns(write: Callable[[str, str], Path]) -> None:
    # the names are computed, so neither tracing (stopped by `and`) nor the bytecode sees them;
    # the file has an `extra` column, but the schema does not declare it
    extra, typo = "ext" + "ra", "amout" + ""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pp.UntraceableRuleWarning)

        class T(pp.Schema):
            amount: int

            @pp.row_rule
            def reads_extra(row):
                return row.amount > 0 and getattr(row, extra) == "x"

            @pp.row_rule
            def reads_typo(row):
                return row.amount > 0 and getattr(row, typo) > 0

    path = write("t.csv", "amount,extra\n5,x\n")
    result = {
        r["name"]: r["failures"]
        for r in run_python_rules(T.to_spec(), T.python_rules(), [str(path)])
    }
    assert [f["message"] for f in result["reads_extra"]] == [
        "reads_extra raised AttributeError: the row has no column 'extra'"
    ]
    assert [f["message"] for f in result["reads_typo"]] == [
        "reads_typo raised AttributeError: the row has no column 'amout' (did you mean 'amount'?)"
    ]


def test_an_untraceable_rule_still_runs(write: Callable[[str, str], Path]) -> None:
    with pytest.warns(pp.UntraceableRuleWarning, match="'rounded' of T"):

        class T(pp.Schema):
            a: float
            b: float

            @pp.row_rule
            def rounded(row):
                return round(row.a / row.b) >= 2

    path = write("t.csv", "a,b\n4,2\n1,2\n")
    (result,) = run_python_rules(T.to_spec(), T.python_rules(), [str(path)])
    assert [(f["row"], f["message"]) for f in result["failures"]] == [(2, "rounded returned False")]
