"""Strict CSV (`csv.strict`, `Config.csv_strict`, `--strict-csv`; docs/spec.md): a record with a
bare quote in an unquoted field or text after a closing quote is invalid (`row:malformed`, with
the stable code `csv:bare_quote` / `csv:text_after_quote` naming the field) instead of being read
leniently; without it nothing changes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyrustpipe as pp
import pytest

from .conftest import run

COLUMNS = [{"name": "id", "dtype": "int"}, {"name": "name", "dtype": "str"}]
LENIENT = {"spec_version": 1, "columns": COLUMNS}
STRICT = {"spec_version": 1, "csv": {"strict": True}, "columns": COLUMNS}

# Rows 2 and 4 are not strict RFC 4180; row 3's quoted newline is.
DATA = b'id,name\r\n1,ann\r\n2,5"inch\r\n3,"two\r\nlines"\r\n4,"d"x\r\n"5","e"\r\n'


def _malformed(report: dict) -> dict:
    return next(r for r in report["rules"] if r["name"] == "row:malformed")


@pytest.mark.parametrize("chunk_size", [7, 16, None])
def test_strict_records_are_quarantined_with_their_code(
    tmp_path: Path, chunk_size: int | None
) -> None:
    path = tmp_path / "dirty.csv"
    path.write_bytes(DATA)
    report, valid, quarantine = run(STRICT, path, tmp_path, chunk_size=chunk_size)
    assert (report["rows"], report["valid_rows"], report["invalid_rows"]) == (5, 3, 2)
    rule = _malformed(report)
    assert rule["failed"] == 2
    samples = [(s["row"], s["line"], s["column"], s["message"]) for s in rule["samples"]]
    assert samples == [
        (
            2,
            3,
            "name",
            "csv:bare_quote: a quote inside an unquoted field (field 2 `name`; strict CSV)",
        ),
        (
            4,
            6,
            "name",
            "csv:text_after_quote: text after a closing quote (field 2 `name`; strict CSV)",
        ),
    ]
    assert [(row, errors) for _, errors, row, _ in quarantine] == [
        (2, ["row:malformed"]),
        (4, ["row:malformed"]),
    ]
    assert valid == b'id,name\r\n1,ann\r\n3,"two\r\nlines"\r\n"5","e"\r\n'


def test_lenient_by_default(tmp_path: Path) -> None:
    path = tmp_path / "dirty.csv"
    path.write_bytes(DATA)
    report = pp.validate(str(path), LENIENT)
    assert (report.rows, report.valid_rows) == (5, 5)
    assert report.sources[0].quote_garbage_records == 1


def test_the_dsl_and_the_cli_turn_it_on(tmp_path: Path) -> None:
    class Rows(pp.Schema):
        id: int
        name: str

        class Config:
            csv_strict = True

    path = tmp_path / "dirty.csv"
    path.write_bytes(DATA)
    assert pp.validate(str(path), Rows).invalid_rows == 2
    assert Rows.to_spec()["csv"]["strict"] is True

    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps(LENIENT))
    args = [sys.executable, "-m", "pyrustpipe", "validate", str(path), "--rules", str(rules)]
    lenient = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    strict = subprocess.run(
        [*args, "--strict-csv", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (lenient.returncode, strict.returncode) == (0, 1), strict.stderr
    assert "csv:bare_quote" in strict.stdout
