"""The quarantine browser: a page of a run's quarantined rows read from its quarantine object
with ranged reads from a byte cursor (never the whole file in memory), optionally only the rows
that failed one rule; the file must lie inside the console's allowed roots."""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

META = ("_pyrustpipe_errors", "_pyrustpipe_row", "_pyrustpipe_source", "_pyrustpipe_raw")
MAX_RECORD_BYTES = 8 << 20
# One request scans at most this much when filtering; the page then ends early with a cursor to
# continue, so a rare rule in a big file never holds a worker for long.
MAX_SCAN_BYTES = 64 << 20


class QuarantineError(ValueError):
    """The object cannot be browsed (outside the allowed roots, a format the browser does not
    page, a broken record); the message says which and why, without the file's content."""


def confined_s3(uri: str, prefixes: list[str]) -> str:
    """``uri`` if it is an object under one of the ``s3://bucket/prefix/`` ``prefixes`` with no
    ``.``, ``..`` or empty segment (S3 does not normalise keys: such a key names another object
    than it seems to); otherwise ``QuarantineError``."""
    if not uri.startswith("s3://") or any(ord(c) < 32 for c in uri):
        raise QuarantineError("the path is outside the console's allowed locations")
    segments = uri.removeprefix("s3://").split("/")
    # A trailing "/" (a prefix as a source) is the one empty segment allowed.
    if "" in segments[:-1] or any(segment in (".", "..") for segment in segments):
        raise QuarantineError("the path is outside the console's allowed locations")
    for prefix in prefixes:
        if uri.startswith(prefix.rstrip("/") + "/"):
            return uri
    raise QuarantineError("the path is outside the console's allowed locations")


def confined(path: str | os.PathLike[str], roots: list[Path]) -> Path:
    """``path`` with symlinks resolved, if it lies inside one of ``roots`` (also resolved) and
    is a regular file; otherwise ``QuarantineError``. A symlink pointing out is refused."""
    if "\x00" in os.fspath(path):
        raise QuarantineError("the path is outside the console's allowed locations")
    real = Path(os.path.realpath(path))
    for root in roots:
        base = Path(os.path.realpath(root))
        if real == base or base in real.parents:
            if not real.is_file():
                raise QuarantineError("the quarantine object does not exist (any more)")
            return real
    raise QuarantineError("the path is outside the console's allowed locations")


class Masker:
    """Tokens for sensitive columns' values, the engine's shape: ``«masked:<12 hex>»``. The key is
    the console process's own, so tokens compare within one console run only."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def __call__(self, value: str) -> str:
        if value == "":
            return value
        digest = hmac.new(self._key, value.encode(), hashlib.sha256).hexdigest()[:12]
        return f"«masked:{digest}»"


@dataclass
class Page:
    columns: list[str]
    rows: list[dict[str, Any]] = field(default_factory=list)
    cursor: int = 0
    next_cursor: int | None = None
    scanned_bytes: int = 0
    rule: str | None = None


class _Records:
    """Records from a byte offset: CSV records may hold line breaks inside quotes (an odd
    number of quote characters so far means the record goes on), NDJSON records are lines."""

    def __init__(self, handle: IO[bytes], offset: int, quote: bytes | None) -> None:
        self._handle = handle
        self._quote = quote
        self.offset = offset
        handle.seek(offset)

    def next(self) -> bytes | None:
        parts: list[bytes] = []
        size = 0
        quotes = 0
        while True:
            line = self._handle.readline(MAX_RECORD_BYTES + 1)
            if not line:
                if parts:
                    raise QuarantineError("the quarantine object ends inside a quoted field")
                return None
            parts.append(line)
            size += len(line)
            self.offset += len(line)
            if size > MAX_RECORD_BYTES:
                raise QuarantineError(f"a record is larger than {MAX_RECORD_BYTES} bytes")
            if self._quote is not None:
                quotes += line.count(self._quote)
                if quotes % 2:
                    continue
            return b"".join(parts)


def _csv_fields(record: bytes, delimiter: str, quote: str) -> list[str]:
    text = record.decode("utf-8", errors="replace").rstrip("\r\n")
    return next(csv.reader([text], delimiter=delimiter, quotechar=quote), [])


def read_page(
    source: Path | Callable[[], IO[bytes]],
    *,
    fmt: str,
    cursor: int = 0,
    limit: int = 50,
    rule: str | None = None,
    columns: list[str] | None = None,
    header: bool = True,
    delimiter: str = ",",
    quote: str = '"',
    sensitive: frozenset[str] = frozenset(),
    mask: Masker | None = None,
) -> Page:
    """``limit`` rows from byte ``cursor`` (0: the first data row); ``rule``: only rows whose
    ``_pyrustpipe_errors`` name it. ``source``: a local path, or a function opening the object
    as a seekable buffered stream (S3: each buffer fill is one ranged GET). ``fmt``: ``csv``,
    ``tsv`` or ``ndjson``; ``columns``: the data columns when the CSV has no header line."""
    if fmt not in ("csv", "tsv", "ndjson"):
        raise QuarantineError(
            f"the browser pages CSV and NDJSON quarantines; this one is {fmt} (open it with "
            "polars or DuckDB)"
        )
    if cursor < 0:
        raise QuarantineError("the cursor must be >= 0")
    opener = source if callable(source) else lambda: open(source, "rb", buffering=1 << 16)
    with opener() as handle:
        size = handle.seek(0, os.SEEK_END)
        if cursor > size:
            raise QuarantineError("the cursor is past the end of the quarantine object")
        quote_byte = quote.encode() if fmt != "ndjson" else None
        names: list[str] = []
        start = cursor
        if fmt != "ndjson":
            if header:
                first = _Records(handle, 0, quote_byte)
                line = first.next()
                names = _csv_fields(line, delimiter, quote) if line else []
                start = max(cursor, first.offset)
            else:
                names = [*(columns or []), *META]
        records = _Records(handle, start, quote_byte)
        page = Page(columns=[n for n in names if n not in META], cursor=start, rule=rule)
        seen_columns: list[str] = list(page.columns)
        while len(page.rows) < limit:
            if records.offset - start > MAX_SCAN_BYTES:
                break
            record = records.next()
            if record is None:
                break
            if not record.strip():
                continue
            if fmt == "ndjson":
                row = _ndjson_row(record, seen_columns)
            else:
                row = _csv_row(_csv_fields(record, delimiter, quote), names)
            if rule is not None and rule not in row["errors"]:
                continue
            for name in sensitive:
                if name in row["values"] and mask is not None:
                    row["values"][name] = mask(str(row["values"][name]))
            row["sensitive"] = sorted(sensitive & set(row["values"]))
            page.rows.append(row)
        page.scanned_bytes = records.offset - start
        page.next_cursor = records.offset if records.offset < size else None
        if fmt == "ndjson":
            page.columns = seen_columns
    return page


def _errors(text: Any) -> list[str]:
    if isinstance(text, list):
        return [str(e) for e in text]
    try:
        parsed = json.loads(text) if isinstance(text, str) and text else []
    except ValueError:
        return []
    return [str(e) for e in parsed] if isinstance(parsed, list) else []


def _csv_row(fields: list[str], names: list[str]) -> dict[str, Any]:
    data = dict(zip(names, fields, strict=False))  # a short record leaves the rest empty
    return {
        "values": {n: data.get(n, "") for n in names if n not in META},
        "errors": _errors(data.get("_pyrustpipe_errors")),
        "row": data.get("_pyrustpipe_row"),
        "source": data.get("_pyrustpipe_source"),
        "raw": data.get("_pyrustpipe_raw") or None,
    }


def _ndjson_row(record: bytes, seen: list[str]) -> dict[str, Any]:
    try:
        value = json.loads(record)
    except ValueError:
        value = {}
    if not isinstance(value, dict):
        value = {}
    values = {k: v for k, v in value.items() if k not in META}
    for name in values:
        if name not in seen:
            seen.append(name)
    return {
        "values": values,
        "errors": _errors(value.get("_pyrustpipe_errors")),
        "row": value.get("_pyrustpipe_row"),
        "source": value.get("_pyrustpipe_source"),
        "raw": value.get("_pyrustpipe_raw"),
    }
