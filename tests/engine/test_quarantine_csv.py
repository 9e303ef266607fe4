"""The CSV quarantine of ragged rows: every line has the header's columns plus the metadata
columns, so header-based readers (polars, pandas) read it, and a ragged record is kept byte for
byte in `_pyrustpipe_raw` (docs/outputs.md).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import polars as pl
import pyrustpipe as pp

from .conftest import META_COLUMNS, read_quarantine

SPEC = {
    "spec_version": 1,
    "columns": [
        {"name": "id", "dtype": "int", "checks": [{"type": "gt", "value": 0}]},
        {"name": "name", "dtype": "str"},
        {"name": "note", "dtype": "str", "nullable": True},
    ],
}

SHORT = b"2,bob"
LONG = b'3,"c,""d""",x,extra'
MULTILINE_LONG = b'5,"two\nlines",y,"z"'
DATA = (
    b"id,name,note\n1,ann,\n"
    + SHORT
    + b"\n"
    + LONG
    + b"\r\n-4,dan,neg\n"
    + MULTILINE_LONG
    + b"\n6,eve,ok\n"
)


def validate(tmp_path: Path, data: bytes, spec: dict = SPEC) -> Path:
    path = tmp_path / "in.csv"
    path.write_bytes(data)
    quarantine = tmp_path / "quarantine.csv"
    pp.validate(str(path), spec, quarantine=str(quarantine))
    return quarantine


def test_ragged_rows_read_back_with_polars_and_pandas(tmp_path: Path) -> None:
    quarantine = validate(tmp_path, DATA)
    source = str(tmp_path / "in.csv")
    columns = ["id", "name", "note", *META_COLUMNS]

    by_polars = pl.read_csv(quarantine, infer_schema=False)
    assert by_polars.columns == columns
    assert by_polars["_pyrustpipe_row"].to_list() == ["2", "3", "4", "5"]
    assert by_polars["_pyrustpipe_source"].to_list() == [source] * 4
    errors = [json.loads(e) for e in by_polars["_pyrustpipe_errors"].to_list()]
    assert errors == [["row:field_count"], ["row:field_count"], ["id:gt"], ["row:field_count"]]
    raws = by_polars["_pyrustpipe_raw"].to_list()
    assert raws == [SHORT.decode(), LONG.decode(), None, MULTILINE_LONG.decode()]
    # A ragged row's data columns are empty; an ordinary row's are its fields.
    assert by_polars.row(2)[:3] == ("-4", "dan", "neg")
    assert all(by_polars.row(i)[:3] == (None, None, None) for i in (0, 1, 3))

    by_pandas = pd.read_csv(quarantine, dtype=str, keep_default_na=False)
    assert list(by_pandas.columns) == columns
    assert list(by_pandas["_pyrustpipe_raw"]) == [
        SHORT.decode(),
        LONG.decode(),
        "",
        MULTILINE_LONG.decode(),
    ]
    assert list(by_pandas["_pyrustpipe_row"]) == ["2", "3", "4", "5"]


def test_raw_column_holds_the_record_bytes(tmp_path: Path) -> None:
    """Invalid UTF-8 and the delimiter inside a ragged record survive the quoting."""
    record = b"7,\xffbad,x,y"
    quarantine = validate(tmp_path, b"id,name,note\n" + record + b"\n")
    _, rows = read_quarantine(quarantine)
    source = str(tmp_path / "in.csv")
    assert rows == [(["7", "\udcffbad", "x", "y"], ["row:field_count"], 1, source)]
    text = quarantine.read_bytes()
    assert text.endswith(b',"' + record + b'"\n')


def test_a_source_without_a_header_gets_a_quarantine_without_one(tmp_path: Path) -> None:
    spec = {**SPEC, "csv": {"header": False}}
    quarantine = validate(tmp_path, b"1,ann,\n2\n", spec)
    lines = quarantine.read_bytes().split(b"\n")
    source = str(tmp_path / "in.csv").encode()
    assert lines == [b',,,"[""row:field_count""]",2,"' + source + b'","2"', b""]
