"""``pyrustpipe init``'s invariant: the schema it prints validates the data it was drawn from.

Random small tables are written as CSV (every sniffed delimiter, null markers, day-first and
month-first dates, quoted text), NDJSON and Parquet; real data sets that PyPI packages ship are
profiled too. Each goes init → exec the class → ``pp.validate`` → no failures.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import string
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pyrustpipe as pp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyrustpipe import _engine
from pyrustpipe._codegen import schema_source

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def drafted(paths: list[Path], **told: Any) -> tuple[dict[str, Any], type[pp.Schema], str]:
    """Profile ``paths`` as ``init`` does and exec the class it prints."""
    profile = _engine.profile([str(p) for p in paths], "{}", json.dumps(told))
    source = schema_source(profile, "Drafted")
    namespace: dict[str, Any] = {}
    exec(compile(source, "<init>", "exec"), namespace)  # noqa: S102 - our own output
    return profile, namespace["Drafted"], source


def assert_round_trip(paths: list[Path], **told: Any) -> dict[str, Any]:
    profile, schema, source = drafted(paths, **told)
    report = pp.validate([str(p) for p in paths], schema)
    malformed = int(profile["malformed_rows"])
    assert report.invalid_rows == malformed, f"{source}\n{report.to_json(indent=1)}"
    if not malformed:
        assert report.passed, f"{source}\n{report.to_json(indent=1)}"
    return profile


# ------------------------------------------------------------------------------------------------
# random tables

DATE_LAYOUTS = ["%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%Y%m%d", "%d.%m.%Y", "%Y/%m/%d"]
MARKERS = ["", "NA", "N/A", "null", "NULL", "None", "-", "?", "NaN"]
TEXT = st.text(
    alphabet=string.ascii_letters + string.digits + " ,;|\t\"'-_./:", min_size=0, max_size=12
)


@st.composite
def columns(draw: st.DrawFn, rows: int) -> tuple[str, list[str | None]]:
    """One column's kind and its values as text (``None``: the table's null marker)."""
    kind = draw(st.sampled_from(["int", "float", "date", "category", "code", "text", "bool"]))
    if kind == "int":
        ints = st.integers(-(10**12), 10**12)
        values: list[Any] = draw(st.lists(ints, min_size=rows, max_size=rows))
        texts = [str(v) for v in values]
    elif kind == "float":
        values = draw(
            st.lists(
                st.floats(-1e9, 1e9, allow_nan=False, allow_infinity=False),
                min_size=rows,
                max_size=rows,
            )
        )
        texts = [repr(v) for v in values]
    elif kind == "date":
        layout = draw(st.sampled_from(DATE_LAYOUTS))
        values = draw(
            st.lists(
                st.dates(dt.date(1950, 1, 1), dt.date(2080, 12, 31)), min_size=rows, max_size=rows
            )
        )
        texts = [v.strftime(layout) for v in values]
    elif kind == "category":
        choices = draw(st.lists(st.sampled_from(["KES", "UGX", "TZS", "x y", "Ä"]), min_size=1))
        texts = [draw(st.sampled_from(choices)) for _ in range(rows)]
    elif kind == "code":
        texts = []
        for _ in range(rows):
            prefix = draw(st.sampled_from(["TX", "AB"]))
            digits = draw(st.integers(1, 7))
            texts.append(f"{prefix}-{draw(st.integers(0, 10**6)):0{digits}d}")
    elif kind == "bool":
        texts = [draw(st.sampled_from(["true", "false", "yes", "no"])) for _ in range(rows)]
    else:
        texts = draw(st.lists(TEXT, min_size=rows, max_size=rows))
    holes = draw(st.lists(st.booleans(), min_size=rows, max_size=rows))
    return kind, [None if hole else text for text, hole in zip(texts, holes, strict=True)]


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[str], list[list[str | None]]]:
    rows = draw(st.integers(1, 25))
    width = draw(st.integers(1, 5))
    cols = [draw(columns(rows)) for _ in range(width)]
    names = [f"{kind}_{i}" for i, (kind, _) in enumerate(cols)]
    if draw(st.booleans()):
        # An id column: distinct, never null — the candidate key.
        names.insert(0, "row_id")
        cols.insert(0, ("int", [str(i * 7 + 1) for i in range(rows)]))
    return names, [list(row) for row in zip(*(values for _, values in cols), strict=True)]


@SETTINGS
@given(
    table=tables(),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    marker=st.sampled_from(MARKERS),
)
def test_csv_round_trip(
    tmp_path: Path,
    table: tuple[list[str], list[list[str | None]]],
    delimiter: str,
    marker: str,
) -> None:
    names, rows = table
    path = tmp_path / "t.csv"
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
        writer.writerow(names)
        for row in rows:
            writer.writerow([marker if v is None else v for v in row])
    profile = assert_round_trip([path])
    if len(names) > 1:
        assert profile["delimiter"] == delimiter


def payer(shape: str, index: int) -> Any:
    """The nested object a record's ``payer`` key holds, in one of ``NESTED_SHAPES``."""
    msisdn = f"2547{index:08d}"
    if shape == "objects":
        return {"msisdn": msisdn, "n": index, "geo": {"lat": index / 4}}
    if shape == "odd objects":
        # Null, empty, a text, objects with different keys and depths, a key left out below.
        odd = [None, {}, "cash", {"msisdn": msisdn}, {"n": index, "geo": {"lat": -1.5}}]
        return odd[index % len(odd)]
    # Keys with a dot (here and beside it, `payer.msisdn`): a path could mean two values.
    return {"msisdn": msisdn, "geo.lat": index}


NESTED_SHAPES = ["flat", "objects", "odd objects", "dotted keys"]


@SETTINGS
@given(table=tables(), nested=st.sampled_from(NESTED_SHAPES))
def test_ndjson_round_trip(
    tmp_path: Path, table: tuple[list[str], list[list[str | None]]], nested: str
) -> None:
    names, rows = table
    path = tmp_path / "t.ndjson"
    with path.open("w", encoding="utf-8") as out:
        for index, row in enumerate(rows):
            record: dict[str, Any] = {}
            for name, value in zip(names, row, strict=True):
                # A null is a JSON null or a missing key, alternately.
                if value is None:
                    if index % 2:
                        record[name] = None
                    continue
                record[name] = json_value(name, value)
            if nested != "flat" and index % 7 != 6:
                record["payer"] = payer(nested, index)
            if nested == "dotted keys":
                record["payer.msisdn"] = f"+{index}"
            out.write(json.dumps(record) + "\n")
    profile = assert_round_trip([path])
    drafted = {c["name"] for c in profile["columns"]}
    if nested == "objects" and rows:
        assert {"payer.msisdn", "payer.n", "payer.geo.lat"} <= drafted and "payer" not in drafted
    if nested == "dotted keys" and rows:
        inside = {name for name in drafted if name.startswith("payer.")}
        assert "payer" in drafted and inside == {"payer.msisdn"}


def json_value(name: str, text: str) -> Any:
    """Numbers and booleans typed as JSON would carry them; everything else as a string."""
    if name.startswith(("int", "row_id")):
        return int(text)
    if name.startswith("float"):
        return float(text)
    if name.startswith("bool"):
        return text in ("true", "yes")
    return text


@SETTINGS
@given(table=tables(), row_group=st.integers(1, 10))
def test_parquet_round_trip(
    tmp_path: Path, table: tuple[list[str], list[list[str | None]]], row_group: int
) -> None:
    names, rows = table
    data: dict[str, list[Any]] = {}
    for position, name in enumerate(names):
        values = [row[position] for row in rows]
        data[name] = [None if v is None else json_value(name, v) for v in values]
    arrays = {}
    for name, values in data.items():
        if name.startswith("date") and all(
            v is None or len(v) == 10 and v[4] == "-" for v in values
        ):
            arrays[name] = pa.array(
                [None if v is None else dt.date.fromisoformat(v) for v in values], pa.date32()
            )
        else:
            arrays[name] = pa.array(values)
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table(arrays), path, row_group_size=row_group)
    profile = assert_round_trip([path])
    assert profile["format"] == "parquet"


def test_parquet_nan_and_timestamps(tmp_path: Path) -> None:
    table = pa.table(
        {
            "amount": pa.array([1.5, float("nan"), None, 2.0]),
            "at": pa.array(
                [dt.datetime(2024, 1, d, 10, 30) for d in (1, 2, 3, 4)], pa.timestamp("us")
            ),
            "n": pa.array([1, 2, None, 4], pa.int32()),
        }
    )
    path = tmp_path / "no_suffix"
    pq.write_table(table, path)
    profile = assert_round_trip([path])
    columns = {c["name"]: c for c in profile["columns"]}
    assert profile["format"] == "parquet"
    assert "NaN" in profile["null_values"]
    assert (columns["amount"]["dtype"], columns["amount"]["null_count"]) == ("float", 2)
    assert columns["at"]["dtype"] == "datetime"
    assert (columns["n"]["dtype"], columns["n"]["min"], columns["n"]["max"]) == ("int", 1, 4)


def test_compressed_and_semicolon_csv(tmp_path: Path) -> None:
    import gzip

    text = "id;amount;day\n1;2,5;31/01/2024\n2;NA;01/02/2024\n3;4;NA\n"
    path = tmp_path / "export.csv.gz"
    path.write_bytes(gzip.compress(text.encode()))
    profile, _, source = drafted([path])
    assert profile["delimiter"] == ";"
    assert "delimiter = ';'" in source and "null_values = ['', 'NA']" in source
    assert "format='%d/%m/%Y'" in source
    assert_round_trip([path])


def test_a_file_without_a_header(tmp_path: Path) -> None:
    path = tmp_path / "headless.tsv"
    path.write_text("1\tKES\t10.5\n2\tUGX\t7\n3\tKES\tNA\n")
    profile, _, source = drafted([path], header=False)
    assert "header = False" in source and "column_3: float | None" in source
    assert_round_trip([path], header=False)


def test_a_json_array_file(tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    path.write_text(json.dumps([{"id": 1, "v": 1.10}, {"id": 2, "v": None}], indent=2))
    assert_round_trip([path])


def test_malformed_rows_are_reported_not_typed(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,2\n3\n4,5\n")
    profile = assert_round_trip([path])
    assert profile["malformed_rows"] == 1
    assert {c["name"]: c["dtype"] for c in profile["columns"]} == {"a": "int", "b": "int"}


# ------------------------------------------------------------------------------------------------
# real data sets shipped by PyPI packages (requirements-dev.txt)


def shipped(package: str, *parts: str) -> Path:
    module = pytest.importorskip(package)
    return Path(module.__file__).parent.joinpath(*parts)


def test_palmer_penguins() -> None:
    path = shipped("palmerpenguins", "data", "penguins.csv")
    profile, _, source = drafted([path])
    columns = {c["name"]: c for c in profile["columns"]}
    assert profile["null_values"] == ["", "NA"]
    assert columns["bill_length_mm"]["dtype"] == "float"
    assert columns["body_mass_g"]["dtype"] == "int" and columns["body_mass_g"]["null_count"] == 2
    assert "isin=[2007, 2008, 2009]" in source
    assert "isin=['female', 'male']" in source and "sex: str | None" in source
    assert "'NA'" not in source.split("class Config")[0]
    assert_round_trip([path])


def test_palmer_penguins_raw() -> None:
    path = shipped("palmerpenguins", "data", "penguins-raw.csv")
    profile = assert_round_trip([path])
    columns = {c["name"]: c for c in profile["columns"]}
    assert columns["Date Egg"]["dtype"] == "date"
    assert columns["Delta 15 N (o/oo)"]["dtype"] == "float"
    assert columns["Comments"]["dtype"] == "str"


@pytest.mark.parametrize(
    "name",
    ["seattle-weather.csv", "airports.csv", "stocks.csv", "iowa-electricity.csv", "la-riots.csv"],
)
def test_vega_csv(name: str) -> None:
    path = shipped("vega_datasets", "_data", name)
    profile = assert_round_trip([path])
    if name == "seattle-weather.csv":
        columns = {c["name"]: c for c in profile["columns"]}
        assert (columns["date"]["dtype"], columns["date"]["format"]) == ("date", "%Y/%m/%d")


def test_vega_json_as_ndjson(tmp_path: Path) -> None:
    # cars.json is one JSON array; validate reads NDJSON, so the rows are written one per line.
    rows = json.loads(shipped("vega_datasets", "_data", "cars.json").read_text())
    path = tmp_path / "cars.ndjson"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    profile = assert_round_trip([path])
    columns = {c["name"]: c for c in profile["columns"]}
    assert columns["Horsepower"]["dtype"] == "int" and columns["Horsepower"]["null_count"] > 0
    array_profile = _engine.profile([str(shipped("vega_datasets", "_data", "cars.json"))])
    assert array_profile["rows"] == profile["rows"] == len(rows)
    assert array_profile["columns"] == profile["columns"]
