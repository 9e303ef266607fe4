"""NDJSON sources: the same checks as CSV, lines as records, original bytes kept in the outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pyrustpipe as pp
import pytest

SPEC = {
    "spec_version": 1,
    "name": "Orders",
    "strict": True,
    "columns": [
        {"name": "id", "dtype": "int", "checks": [{"type": "unique", "keep": "none"}]},
        {"name": "amount", "dtype": "float", "checks": [{"type": "gt", "value": 0}]},
        {"name": "note", "dtype": "str", "nullable": True},
    ],
}

LINES = [
    b'{"id": 1, "amount": 5.5, "note": "ok"}',
    b'{"id": 2, "amount": -1}',  # amount:gt; note missing -> null, nullable
    b"",  # blank: not a row
    b'{"id": 3, "amount": "7"}',  # a numeric string parses as float
    b"[1, 2]",  # not an object: row:malformed
    b'{"id": 1, "amount": 1, "extra": true}',  # repeats id 1; unknown key under strict
    b'{"id": null, "amount": 2}',  # id:not_null
    b'{"id": 4, "amount": "abc"}\r',  # amount:type, CRLF line end
]


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "orders.ndjson"
    path.write_bytes(b"\n".join(LINES) + b"\n")
    return path


def rule(report: pp.Report, name: str) -> int:
    return report.rule(name).failed


@pytest.mark.parametrize(("threads", "chunk_size"), [(1, None), (2, 7), (8, 64)])
def test_ndjson_counts_and_outputs(
    source: Path, tmp_path: Path, threads: int, chunk_size: int | None
) -> None:
    valid = tmp_path / "valid.ndjson"
    quarantine = tmp_path / "quarantine.ndjson"
    report = pp.validate(
        str(source),
        SPEC,
        valid_output=str(valid),
        quarantine=str(quarantine),
        threads=threads,
        chunk_size=chunk_size,
    )
    # id 1 occurs on rows 1 and 5, so both fail id:unique: only row 3 is valid.
    assert (report.rows, report.valid_rows, report.invalid_rows) == (7, 1, 6)
    assert report.to_dict()["skipped_blank_lines"] == 1
    assert rule(report, "amount:gt") == 1
    assert rule(report, "amount:type") == 1
    assert rule(report, "row:malformed") == 1
    assert rule(report, "id:unique") == 2
    assert rule(report, "id:not_null") == 1
    assert rule(report, "schema:unknown_columns") == 1
    assert valid.read_bytes() == LINES[3] + b"\n"
    quarantined = [json.loads(line) for line in quarantine.read_bytes().splitlines()]
    assert [q["_pyrustpipe_row"] for q in quarantined] == [1, 2, 4, 5, 6, 7]
    by_row = {q["_pyrustpipe_row"]: q for q in quarantined}
    assert by_row[2]["amount"] == -1 and by_row[2]["_pyrustpipe_errors"] == ["amount:gt"]
    assert by_row[4]["_pyrustpipe_raw"] == "[1, 2]"
    assert by_row[7]["_pyrustpipe_errors"] == ["amount:type"]
    assert by_row[5]["extra"] is True and by_row[5]["_pyrustpipe_errors"] == ["id:unique"]
    assert report.valid_rows + report.invalid_rows == report.rows == 7


def test_an_escape_no_text_holds_is_a_malformed_line_not_a_crash(tmp_path: Path) -> None:
    # `\ud800` is a valid escape in JSON's grammar but a lone surrogate, which no UTF-8 text
    # holds: the line is broken with the parser's message, the other lines are checked.
    path = tmp_path / "surrogates.ndjson"
    path.write_bytes(
        b'{"id": 1, "amount": 2, "note": "\\ud800"}\n'
        b'{"id": 2, "amount": 3, "note": "\\ud83d\\ude00 ok"}\n'
        b'{"id": 3, "amount": 4, "note": "\\udc00x"}\n'
    )
    report = pp.validate(str(path), SPEC, threads=1)
    assert (report.rows, report.valid_rows, report.invalid_rows) == (3, 1, 2)
    samples = report.to_dict()["rules"]
    malformed = next(r for r in samples if r["name"] == "row:malformed")
    assert malformed["failed"] == 2
    assert [s["line"] for s in malformed["samples"]] == [1, 3]
    for sample in malformed["samples"]:
        # serde_json's words, with the place in the line (not in the string).
        assert sample["message"].startswith("not valid JSON: "), sample
        assert "hex escape at line 1 column 3" in sample["message"], sample


NESTED_SPEC = {
    "spec_version": 1,
    "columns": [
        {"name": "id", "dtype": "int"},
        {
            "name": "payer.msisdn",
            "dtype": "str",
            "checks": [{"type": "pattern", "pattern": "^\\+254"}],
        },
        {
            "name": "geo.loc.lat",
            "dtype": "float",
            "nullable": True,
            "checks": [{"type": "gt", "value": 0}],
        },
    ],
}


@pytest.mark.parametrize(("threads", "chunk_size"), [(1, None), (2, 16)])
def test_dotted_paths_read_the_exact_key_first_then_the_last_object(
    tmp_path: Path, threads: int, chunk_size: int | None
) -> None:
    path = tmp_path / "nested.ndjson"
    path.write_bytes(
        b'{"id": 1, "payer": {"msisdn": "+254700000001", "kyc": {"level": 2}}, '
        b'"geo": {"loc": {"lat": 1.5}}}\n'
        # The exact dotted key, even null, wins over the object.
        b'{"id": 2, "payer.msisdn": null, "payer": {"msisdn": "+254700000002"}}\n'
        # Only the last value of a repeated key is looked into.
        b'{"id": 3, "payer": {"msisdn": "+254700000003"}, "payer": {"name": "x"}}\n'
        # Any dot may split the path: `geo.loc` then `lat`.
        b'{"id": 4, "payer": {"msisdn": "0700", "msisdn": "bad"}, "geo.loc": {"lat": -2}}\n'
        b'{"id": 5, "payer": {"msisdn": "+254700000005"}, "geo": {"loc.lat": 3}}\n'
    )
    report = pp.validate(str(path), NESTED_SPEC, threads=threads, chunk_size=chunk_size)
    assert (report.rows, report.valid_rows, report.invalid_rows) == (5, 2, 3)
    assert rule(report, "payer.msisdn:not_null") == 2
    assert rule(report, "payer.msisdn:pattern") == 1
    assert rule(report, "geo.loc.lat:gt") == 1
    pattern = next(r for r in report.to_dict()["rules"] if r["name"] == "payer.msisdn:pattern")
    assert [(s["line"], s["value"]) for s in pattern["samples"]] == [(4, "bad")]
