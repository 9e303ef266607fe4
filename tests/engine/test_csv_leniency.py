"""CSV that is read but not clean: over-long records (`max_record_bytes`) and text after a
closing quote (`quote_garbage_records` in the report's sources), docs/spec.md and docs/report.md.
"""

from __future__ import annotations

from pathlib import Path

import pyrustpipe as pp
import pytest

SPEC = {
    "spec_version": 1,
    "columns": [{"name": "id", "dtype": "str"}, {"name": "name", "dtype": "str"}],
}


@pytest.mark.parametrize("chunk_size", [16, 4096, 1 << 16])
def test_an_over_long_record_names_its_first_line(tmp_path: Path, chunk_size: int | None) -> None:
    path = tmp_path / "long.csv"
    # Longer than one read (64 KiB or chunk_size): the reader meets the limit.
    path.write_bytes(b"id,name\n1,a\n\n2," + b"x" * 200_000 + b"\n3,c\n")
    with pytest.raises(pp.DataFormatError, match="longer than 100000 bytes") as error:
        pp.validate(str(path), SPEC, max_record_bytes=100_000, chunk_size=chunk_size)
    assert error.value.path == str(path)
    assert error.value.line == 4


@pytest.mark.parametrize("chunk_size", [None, 16, 4096])
@pytest.mark.parametrize(
    ("name", "data", "line"),
    [
        ("small.csv", b"id,name\n1,a\n\n2," + b"x" * 2_000 + b"\n3,c\n", 4),
        (
            "crlf.csv",
            b"id,name\r\n1,a\r\n" + b"2,y\r\n" * 5 + b'3,"' + b"z\r\n" * 700 + b'"\r\n',
            8,
        ),
        ("first.csv", b"id,name\n1," + b"x" * 1_500 + b"\n2," + b"y" * 3_000 + b"\n", 2),
        (
            "rows.ndjson",
            b'{"id": "1", "name": "a"}\n\n{"id": "2", "name": "' + b"x" * 2_000 + b'"}\n',
            3,
        ),
    ],
)
def test_max_record_bytes_holds_for_a_file_read_in_one_piece(
    tmp_path: Path, name: str, data: bytes, line: int, chunk_size: int | None
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(pp.DataFormatError, match="longer than 1000 bytes") as error:
        pp.validate(str(path), SPEC, max_record_bytes=1_000, chunk_size=chunk_size)
    assert (error.value.path, error.value.line) == (str(path), line)


def test_records_within_max_record_bytes_are_read(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_bytes(b"id,name\n1,a\n2," + b"x" * 200_000 + b"\n")
    report = pp.validate(str(path), SPEC, max_record_bytes=200_100, chunk_size=16)
    assert (report.rows, report.valid_rows) == (2, 2)


@pytest.mark.parametrize("value", [0, -1, True, 1.5, "10"])
def test_max_record_bytes_must_be_a_positive_int(tmp_path: Path, value: object) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(b"id,name\n1,a\n")
    with pytest.raises(ValueError, match="max_record_bytes"):
        pp.validate(str(path), SPEC, max_record_bytes=value)  # type: ignore[arg-type]


@pytest.mark.parametrize("chunk_size", [8, None])
def test_text_after_a_closing_quote_is_counted_per_source(
    tmp_path: Path, chunk_size: int | None
) -> None:
    dirty = tmp_path / "dirty.csv"
    dirty.write_bytes(b'id,name\n"1"x,a\n2,"b"c\n3,"c"\n"4"4,"d"d\n')
    clean = tmp_path / "clean.csv"
    clean.write_bytes(b'id,name\n1,"a"\n')
    report = pp.validate([str(dirty), str(clean)], SPEC, chunk_size=chunk_size)
    counts = {s.uri: s.quote_garbage_records for s in report.sources}
    assert counts == {str(dirty): 3, str(clean): 0}
    by_dict = {s["uri"]: s["quote_garbage_records"] for s in report.to_dict()["sources"]}
    assert by_dict == counts
