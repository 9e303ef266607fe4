"""Run the row rules that could not be traced, in Python, and hand their failures to the engine.

This is the slow path (a few hundred thousand rows per second at best) and it reads local CSV,
NDJSON and (with pyarrow installed) Parquet files only. Values are parsed with the spec's grammar
(docs/spec.md, "Parsing"), so a rule sees the same typed values the engine sees; a rule skips a
row when a value it reads is null or does not parse, or the CSV record has the wrong number of
fields — exactly like a Rust row rule.
"""

from __future__ import annotations

import csv
import datetime as _dt
import gzip
import io
import json
import math
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from pyrustpipe._common import did_you_mean
from pyrustpipe._trace import PythonRule
from pyrustpipe.exceptions import DataFormatError, SchemaError
from pyrustpipe.spec import ColumnSpec, ExternalFailure, ExternalRule, SpecDict

__all__ = ["BATCH_ROWS", "parse_value", "run_python_rules", "source_format"]

BATCH_ROWS = 10_000
_INT = re.compile(r"^[+-]?[0-9]+\Z")
_FLOAT = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?\Z")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
_TIME = re.compile(r"^([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,9}))?)?\Z")
_DATETIME = re.compile(
    r"^([0-9]{4}-[0-9]{2}-[0-9]{2})[T ]"
    r"([0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,9})?)?)"
    r"(Z|[+-][0-9]{2}:?[0-9]{2})?\Z"
)
_BOOLS = {
    "true": True,
    "t": True,
    "yes": True,
    "y": True,
    "1": True,
    "false": False,
    "f": False,
    "no": False,
    "n": False,
    "0": False,
}
_I64 = (-(2**63), 2**63 - 1)


class _Invalid(Exception):
    """The text does not parse as the dtype."""


def _parse_time(text: str) -> _dt.time:
    match = _TIME.match(text)
    if not match:
        raise _Invalid
    hour, minute, second, fraction = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        return _dt.time(int(hour), int(minute), int(second or 0), micro)
    except ValueError:
        raise _Invalid from None


def _parse_datetime(text: str, fmt: str | None) -> _dt.datetime:
    if fmt is not None:
        try:
            return _dt.datetime.strptime(text, fmt)
        except ValueError:
            raise _Invalid from None
    match = _DATETIME.match(text)
    if not match:
        raise _Invalid
    day_text, time_text, zone = match.groups()
    try:
        day = _dt.date.fromisoformat(day_text)
    except ValueError:
        raise _Invalid from None
    moment = _parse_time(time_text)
    tz: _dt.tzinfo | None = None
    if zone == "Z":
        tz = _dt.UTC
    elif zone:
        sign = 1 if zone[0] == "+" else -1
        hours, minutes = int(zone[1:3]), int(zone[-2:])
        if hours > 23 or minutes > 59:
            raise _Invalid
        tz = _dt.timezone(sign * _dt.timedelta(hours=hours, minutes=minutes))
    return _dt.datetime.combine(day, moment, tz)


def parse_value(text: str, dtype: str, fmt: str | None = None) -> object:
    """Parse ``text`` as ``dtype`` with the spec's grammar; raise ``ValueError`` if it does not.

    >>> parse_value("1e3", "float"), parse_value("007", "int"), parse_value("Yes", "bool")
    (1000.0, 7, True)
    >>> parse_value("NaN", "float")
    Traceback (most recent call last):
    ...
    ValueError: 'NaN' is not a valid float
    """
    try:
        return _parse(text, dtype, fmt)
    except _Invalid:
        raise ValueError(f"{text!r} is not a valid {dtype}") from None


def _parse(text: str, dtype: str, fmt: str | None) -> object:
    if dtype == "str":
        if "\x00" in text:
            raise _Invalid
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # surrogate-escaped invalid UTF-8
            raise _Invalid from None
        return text
    if dtype == "int":
        if not _INT.match(text):
            raise _Invalid
        value = int(text)
        if not _I64[0] <= value <= _I64[1]:
            raise _Invalid
        return value
    if dtype in ("float", "decimal"):
        if not _FLOAT.match(text):
            raise _Invalid
        if dtype == "decimal":
            try:
                return Decimal(text)
            except InvalidOperation:
                raise _Invalid from None
        number = float(text)
        if not math.isfinite(number):
            raise _Invalid
        return number
    if dtype == "bool":
        try:
            return _BOOLS[text.lower() if text.isascii() else text]
        except KeyError:
            raise _Invalid from None
    if dtype == "date":
        if fmt is not None:
            try:
                return _dt.datetime.strptime(text, fmt).date()
            except ValueError:
                raise _Invalid from None
        if not _DATE.match(text):
            raise _Invalid
        try:
            return _dt.date.fromisoformat(text)
        except ValueError:
            raise _Invalid from None
    if dtype == "datetime":
        return _parse_datetime(text, fmt)
    if dtype == "time":
        if fmt is not None:
            try:
                return _dt.datetime.strptime(text, fmt).time()
            except ValueError:
                raise _Invalid from None
        return _parse_time(text)
    raise _Invalid


def _convert_json(value: object, dtype: str, fmt: str | None) -> object:
    """A JSON / Arrow value as ``dtype`` (strings go through the text grammar)."""
    if isinstance(value, str):
        return _parse(value, dtype, fmt)
    if dtype == "bool":
        if isinstance(value, bool):
            return value
        raise _Invalid
    if isinstance(value, bool):
        raise _Invalid
    if dtype == "int":
        if isinstance(value, int) and _I64[0] <= value <= _I64[1]:
            return value
        raise _Invalid
    if dtype == "float":
        if isinstance(value, (int, float)) and math.isfinite(value):
            return float(value)
        raise _Invalid
    if dtype == "decimal":
        if isinstance(value, (int, Decimal)):
            return Decimal(value)
        if isinstance(value, float) and math.isfinite(value):
            return Decimal(repr(value))
        raise _Invalid
    if dtype == "datetime" and isinstance(value, _dt.datetime):
        return value
    if dtype == "date" and isinstance(value, _dt.date) and not isinstance(value, _dt.datetime):
        return value
    if dtype == "time" and isinstance(value, _dt.time):
        return value
    raise _Invalid


class _Skip(BaseException):
    """A value the rule reads is null / unparsable: the row is skipped for this rule.

    A BaseException so that a rule's own ``except Exception`` does not swallow it.
    """


class _Row:
    """The row a Python rule receives: attributes are typed, parsed lazily on access."""

    __slots__ = ("_cache", "_reader")

    def __init__(self, reader: _Reader, raw: list[str] | dict[str, object]) -> None:
        self._reader = reader
        self._cache = raw

    def __getattr__(self, name: str) -> object:
        reader = self._reader
        column = reader.attributes.get(name, name)
        if column not in reader.known:
            # only declared columns, as in a traced rule, even if the source has more
            hint = did_you_mean(name, list(reader.attributes) + sorted(reader.known))
            raise AttributeError(f"the row has no column {name!r}{hint}")
        return self._reader.value(self._cache, column)

    def __getitem__(self, name: str) -> object:
        return self.__getattr__(name)


class _Reader:
    def __init__(self, spec: SpecDict, attributes: dict[str, str], header: list[str]) -> None:
        columns: dict[str, ColumnSpec] = {c["name"]: c for c in spec.get("columns", [])}
        self.attributes = attributes
        self.null_values = set(spec.get("csv", {}).get("null_values", [""]))
        self.index = {name: i for i, name in enumerate(header)}
        self.known = set(columns)
        self.dtypes = {n: (c["dtype"], c.get("format")) for n, c in columns.items()}
        self.sensitive = [n for n, c in columns.items() if c.get("sensitive")]

    def sensitive_values(self, raw: list[str] | dict[str, object]) -> list[str]:
        """The row's values of sensitive columns, as text and as parsed, for the engine to mask
        wherever a failure message quotes them (the message is made by user code)."""
        out: set[str] = set()
        for column in self.sensitive:
            if isinstance(raw, list):
                position = self.index.get(column)
                text: object = None if position is None else raw[position]
            else:
                text = raw.get(column)
            if text is None:
                continue
            out.add(str(text))
            try:
                out.add(str(self.value(raw, column)))
            except _Skip:
                pass
        return sorted(value for value in out if value)

    def value(self, raw: list[str] | dict[str, object], column: str) -> object:
        text: object
        if isinstance(raw, list):
            position = self.index.get(column)
            if position is None:  # the column is missing from this source
                raise _Skip
            text = raw[position]
        else:
            if column not in raw:
                raise _Skip
            text = raw[column]
        if text is None or (isinstance(text, str) and text in self.null_values):
            raise _Skip
        dtype, fmt = self.dtypes.get(column, ("str", None))
        try:
            if isinstance(text, str):
                return _parse(text, dtype, fmt)
            return _convert_json(text, dtype, fmt)
        except _Invalid:
            raise _Skip from None


def source_format(path: str) -> str:
    """``csv``, ``ndjson`` or ``parquet``, from the file name (compression suffix ignored)."""
    name = path.lower()
    for suffix in (".gz", ".zst", ".bz2"):
        name = name.removesuffix(suffix)
    if name.endswith((".ndjson", ".jsonl", ".json")):
        return "ndjson"
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    return "csv"


def _open_text(path: str) -> IO[str]:
    if path.lower().endswith(".gz"):
        raw = gzip.open(path, "rb")  # noqa: SIM115 - wrapped and returned open
        return io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape", newline="")
    return open(path, encoding="utf-8-sig", errors="surrogateescape", newline="")


def _csv_rows(path: str, spec: SpecDict) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    dialect = spec.get("csv", {})
    handle = _open_text(path)
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    reader = csv.reader(
        handle,
        delimiter=dialect.get("delimiter", ","),
        quotechar=dialect.get("quote", '"'),
        doublequote=True,
        strict=False,
    )
    header: list[str] = []
    for record in reader:
        if record:
            header = record
            break

    def rows() -> Iterator[tuple[int, list[str]]]:
        number = 0
        try:
            for record in reader:
                if not record:
                    continue
                number += 1
                if len(record) != len(header):
                    continue  # row:field_count: no other check runs on this row
                yield number, record
        except csv.Error as exc:
            raise DataFormatError(
                f"{path}: cannot read CSV near data row {number + 1}: {exc}"
            ) from None
        finally:
            handle.close()

    return header, rows()


def _ndjson_rows(path: str) -> Iterator[tuple[int, dict[str, Any]]]:
    with _open_text(path) as handle:
        number = 0
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            number += 1
            try:
                record = json.loads(line)
            except ValueError as exc:
                raise DataFormatError(f"{path}: line {line_number}: invalid JSON ({exc})") from None
            if isinstance(record, dict):
                yield number, record


def _parquet_rows(path: str) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise SchemaError(
            f"{path}: Python-run rules need pyarrow to read Parquet (pip install pyarrow)"
        ) from None
    return _batch_rows(pq.ParquetFile(path).iter_batches(batch_size=BATCH_ROWS))


def _batch_rows(batches: Iterable[Any]) -> Iterator[tuple[int, dict[str, Any]]]:
    number = 0
    for batch in batches:
        for record in batch.to_pylist():
            number += 1
            yield number, record


def _evaluate(rule: PythonRule, row: _Row) -> str | None:
    """``None`` when the row passes (or is skipped), else the failure message."""
    try:
        result = rule.func(row)
    except _Skip:
        return None
    except Exception as exc:  # noqa: BLE001 - a rule that raises fails the row, with the reason
        return f"{rule.name} raised {type(exc).__name__}: {exc}"
    if result is None:
        return None
    try:
        ok = bool(result)
    except Exception as exc:  # noqa: BLE001
        return f"{rule.name} returned an ambiguous {type(result).__name__}: {exc}"
    return None if ok else f"{rule.name} returned {result!r}"


def run_python_rules(
    spec: SpecDict,
    rules: tuple[PythonRule, ...] | list[PythonRule],
    sources: list[str],
    on_batch: Callable[[int], None] | None = None,
) -> list[ExternalRule]:
    """Evaluate ``rules`` over ``sources`` (concrete local files), in batches of rows."""
    failures: dict[str, list[ExternalFailure]] = {rule.name: [] for rule in rules}
    if not rules:
        return []
    attributes: dict[str, str] = dict(rules[0].attributes)
    for source in sources:
        if "://" in source and not source.startswith("file://"):
            raise SchemaError(
                f"row rule {rules[0].name!r} runs in Python and reads local files only, "
                f"not {source}; make it traceable (see UntraceableRuleWarning) to run it on "
                "remote storage"
            )
        path = source.removeprefix("file://")
        kind = source_format(path)
        rows: Iterator[tuple[int, Any]]
        if kind == "csv":
            header, rows = _csv_rows(path, spec)
            reader = _Reader(spec, attributes, header)
        else:
            rows = _ndjson_rows(path) if kind == "ndjson" else _parquet_rows(path)
            reader = _typed_reader(spec, attributes)
        _run_source(reader, rules, rows, source, failures, on_batch)
    return _results(rules, failures)


def run_python_rules_on_table(
    spec: SpecDict,
    rules: tuple[PythonRule, ...] | list[PythonRule],
    table: Any,
    name: str,
) -> list[ExternalRule]:
    """Evaluate ``rules`` over an in-memory pyarrow Table whose report name is ``name``."""
    failures: dict[str, list[ExternalFailure]] = {rule.name: [] for rule in rules}
    if not rules:
        return []
    reader = _typed_reader(spec, dict(rules[0].attributes))
    rows = _batch_rows(table.to_batches(max_chunksize=BATCH_ROWS))
    _run_source(reader, rules, rows, name, failures, None)
    return _results(rules, failures)


def _typed_reader(spec: SpecDict, attributes: dict[str, str]) -> _Reader:
    """A reader of rows whose values are typed already (NDJSON, Parquet, tables)."""
    return _Reader(spec, attributes, [])


def _run_source(
    reader: _Reader,
    rules: tuple[PythonRule, ...] | list[PythonRule],
    rows: Iterator[tuple[int, Any]],
    source: str,
    failures: dict[str, list[ExternalFailure]],
    on_batch: Callable[[int], None] | None,
) -> None:
    batch: list[tuple[int, Any]] = []
    for item in rows:
        batch.append(item)
        if len(batch) >= BATCH_ROWS:
            _run_batch(reader, rules, batch, source, failures)
            if on_batch is not None:
                on_batch(len(batch))
            batch = []
    if batch:
        _run_batch(reader, rules, batch, source, failures)
        if on_batch is not None:
            on_batch(len(batch))


def _results(
    rules: tuple[PythonRule, ...] | list[PythonRule],
    failures: dict[str, list[ExternalFailure]],
) -> list[ExternalRule]:
    return [
        {
            "name": rule.name,
            "severity": rule.severity,
            "tolerance": rule.tolerance,
            "failures": failures[rule.name],
        }
        for rule in rules
    ]


def _run_batch(
    reader: _Reader,
    rules: tuple[PythonRule, ...] | list[PythonRule],
    batch: list[tuple[int, Any]],
    source: str,
    failures: dict[str, list[ExternalFailure]],
) -> None:
    for rule in rules:
        out = failures[rule.name]
        for number, raw in batch:
            message = _evaluate(rule, _Row(reader, raw))
            if message is not None:
                failure: ExternalFailure = {"source": source, "row": number, "message": message}
                if reader.sensitive:
                    failure["sensitive_values"] = reader.sensitive_values(raw)
                out.append(failure)
