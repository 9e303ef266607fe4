"""Helpers shared by the engine-vs-oracle tests (no fixtures: plain functions, imported relatively).

Everything here is written from docs/spec.md, docs/report.md and docs/cli.md, never from the
engine's code: the expected outputs are rebuilt independently.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

import pyrustpipe as pp

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))

TESTS_DIR = Path(__file__).resolve().parent.parent
ROOT = TESTS_DIR.parent

# The only report fields that describe the run rather than the data (docs/report.md).
RUN_FIELDS = ("duration_s", "rows_per_s", "threads")
BOM = b"\xef\xbb\xbf"
META_COLUMNS = ["_pyrustpipe_errors", "_pyrustpipe_row", "_pyrustpipe_source", "_pyrustpipe_raw"]


def bench_spec() -> dict:
    return json.loads((ROOT / "bench" / "rules.json").read_text())


def split_records(data: bytes, delimiter: bytes = b",", quote: bytes = b'"') -> list[bytes]:
    """Raw bytes of every CSV record (terminator included), blank lines dropped.

    An RFC 4180 reader written for the tests: a quote opens a quoted field only at the start of a
    field; `""` inside it is a literal quote; text after a closing quote continues the field; CR,
    LF and CRLF each end a record; a line holding only a terminator is blank (not a record). The
    first record is the header; a BOM at offset 0 stays in the header's bytes.
    """
    d, q = delimiter[0], quote[0]
    cr, lf = 0x0D, 0x0A
    out: list[bytes] = []
    i = 3 if data.startswith(BOM) else 0
    start = 0
    n = len(data)
    while i < n:
        # i is at the start of a record (or of a blank line)
        if data[i] in (cr, lf):  # blank line
            i += 2 if data[i] == cr and i + 1 < n and data[i + 1] == lf else 1
            start = i
            continue
        field_start = True
        in_quote = False
        while i < n:
            b = data[i]
            if in_quote:
                if b == q:
                    if i + 1 < n and data[i + 1] == q:
                        i += 2
                        continue
                    in_quote = False
                i += 1
                continue
            if field_start and b == q:
                in_quote = True
                field_start = False
                i += 1
                continue
            field_start = False
            if b == d:
                field_start = True
                i += 1
                continue
            if b in (cr, lf):
                i += 2 if b == cr and i + 1 < n and data[i + 1] == lf else 1
                break
            i += 1
        if in_quote:
            raise ValueError("unterminated quote")
        out.append(data[start:i])
        start = i
    return out


def line_starts(data: bytes) -> list[int]:
    """1-based physical start line of every record of split_records(data) (header first).

    CRLF, a lone CR and a lone LF each end one physical line.
    """
    lines = []
    pos = 0
    line = 1
    for raw in split_records(data):
        start = data.index(raw, pos) if raw else pos
        line += _count_line_ends(data[pos:start])
        lines.append(line)
        line += _count_line_ends(raw)
        pos = start + len(raw)
    return lines


def _count_line_ends(chunk: bytes) -> int:
    return (
        chunk.count(b"\r\n")
        + chunk.replace(b"\r\n", b"").count(b"\r")
        + chunk.replace(b"\r\n", b"").count(b"\n")
    )


def parse_record(raw: bytes) -> list[str]:
    text = raw.decode("utf-8", "surrogateescape").removeprefix("\ufeff")
    return next(csv.reader(io.StringIO(text, newline="")))


def expected_valid_bytes(data: bytes, invalid_rows: set[int]) -> bytes:
    """The input's header + the passing records, raw, in order."""
    records = split_records(data)
    return records[0] + b"".join(r for n, r in enumerate(records[1:], 1) if n not in invalid_rows)


def read_quarantine(
    path: str | Path,
) -> tuple[list[str], list[tuple[list[str], list[str], int, str]]]:
    """(header, [(fields, errors, row, source), ...]) of a quarantine CSV (docs/cli.md).

    Every line has the header's columns; a ragged row's data columns are empty and its record is
    in `_pyrustpipe_raw`, whose fields are returned as the row's fields.
    """
    with open(path, newline="", encoding="utf-8", errors="surrogateescape") as fh:
        recs = [r for r in csv.reader(fh) if r]
    if not recs:
        return [], []
    header = recs[0]
    header[0] = header[0].removeprefix("\ufeff")
    meta = len(META_COLUMNS)
    assert header[-meta:] == META_COLUMNS, header
    rows = []
    for rec in recs[1:]:
        assert len(rec) == len(header), rec
        fields, raw = rec[:-meta], rec[-1]
        if raw:
            assert fields == [""] * len(fields), rec
            fields = parse_record(raw.encode("utf-8", "surrogateescape"))
        rows.append((fields, json.loads(rec[-4]), int(rec[-3]), rec[-2]))
    return header[:-meta], rows


def normalized(report: Any) -> dict:
    d = dict(report.to_dict() if hasattr(report, "to_dict") else report)
    for key in RUN_FIELDS:
        d.pop(key, None)
    return d


def run(spec: dict, path: str | Path, out_dir: Path, **opts: Any) -> tuple[dict, bytes, list]:
    """Validate with outputs; returns (report dict, valid output bytes, quarantine rows)."""
    valid = out_dir / "valid.csv"
    quarantine = out_dir / "quarantine.csv"
    report = pp.validate(
        str(path), spec, valid_output=str(valid), quarantine=str(quarantine), **opts
    )
    _, qrows = read_quarantine(quarantine)
    return report.to_dict(), valid.read_bytes(), qrows


def failures(report: dict) -> dict[str, int]:
    return {r["name"]: r["failed"] for r in report["rules"]}


def assert_failures_match(report: dict, oracle: dict) -> None:
    """Every rule the engine reports has the oracle's count, in the oracle's (spec) order.

    The oracle also lists rules that cannot fire under the spec (`schema:unknown_columns` without
    `strict`, `schema:column_order` without `ordered`, `<col>:not_null` for a nullable column); the
    engine may leave those out of its report (docs/report.md does not settle it), but only if the
    oracle counts no failure for them.
    """
    got = failures(report)
    want = oracle["failures"]
    assert set(got) <= set(want), set(got) - set(want)
    assert {n: want[n] for n in got} == got
    assert all(want[n] == 0 for n in set(want) - set(got)), set(want) - set(got)
    assert list(got) == [n for n in want if n in got], "rules not in spec order"
