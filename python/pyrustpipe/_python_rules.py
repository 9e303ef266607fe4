"""Run the row rules that could not be traced, in Python, and hand their failures to the engine.

This is the slow path (a few hundred thousand rows per second at best) and it reads local CSV,
NDJSON and (with pyarrow installed) Parquet files only. Texts are parsed by the engine itself
(``_core.parse_texts``, one call per column and batch), so a rule sees the same typed values the
engine sees; a rule skips a row when a value it reads is null or does not parse, or the CSV
record has the wrong number of fields — exactly like a Rust row rule.
"""

from __future__ import annotations

import csv
import datetime as _dt
import gzip
import io
import json
import math
import sys
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import IO, TYPE_CHECKING, Any

from pyrustpipe import _engine
from pyrustpipe._common import did_you_mean
from pyrustpipe._trace import PythonRule
from pyrustpipe.exceptions import DataFormatError, SchemaError

if TYPE_CHECKING:
    from pyrustpipe.spec import ColumnSpec, ExternalFailure, ExternalRule, SpecDict

__all__ = ["BATCH_ROWS", "parse_value", "run_python_rules", "source_format"]

BATCH_ROWS = 10_000
_I64 = (-(2**63), 2**63 - 1)
# The engine parses every text (one call per column and batch) and gives each value back in a
# canonical text form that Python's own constructors convert: no grammar is copied here.
_FROM_CANONICAL: dict[str, Callable[[str], object]] = {
    "str": str,
    "int": int,
    "float": float,
    "decimal": Decimal,
    "bool": lambda text: text == "true",
    "date": _dt.date.fromisoformat,
    "datetime": _dt.datetime.fromisoformat,
    "time": _dt.time.fromisoformat,
}


class _Invalid:
    """Marks a value that is null, absent or does not parse: a rule reading it skips the row."""


_INVALID = _Invalid()


def _parse_texts(column_json: str, dtype: str, texts: list[str]) -> list[object]:
    """Each text as the column's dtype (``_INVALID`` where it does not parse), parsed by the
    engine. A lone surrogate (undecodable CSV bytes, or a JSON escape) encodes to invalid UTF-8,
    which the engine rejects for every dtype, as it rejects the bytes themselves."""
    convert = _FROM_CANONICAL[dtype]
    encoded = [text.encode("utf-8", "surrogatepass") for text in texts]
    return [
        _INVALID if canonical is None else convert(canonical)
        for canonical in _engine.parse_texts(column_json, encoded)
    ]


def parse_value(text: str, dtype: str, fmt: str | None = None) -> object:
    """Parse ``text`` as ``dtype`` (with the engine's grammar); raise ``ValueError`` if it does not.

    >>> parse_value("1e3", "float"), parse_value("007", "int"), parse_value("Yes", "bool")
    (1000.0, 7, True)
    >>> parse_value("2026-01-05T10:20:30+03:00", "datetime").isoformat()
    '2026-01-05T10:20:30+03:00'
    >>> parse_value("NaN", "float")
    Traceback (most recent call last):
    ...
    ValueError: 'NaN' is not a valid float
    """
    column = json.dumps({"name": "value", "dtype": dtype, "format": fmt})
    (value,) = _parse_texts(column, dtype, [text])
    if value is _INVALID:
        raise ValueError(f"{text!r} is not a valid {dtype}")
    return value


def _convert_typed(value: object, dtype: str) -> object:
    """A JSON / Arrow value that is not a string, as ``dtype`` (``_INVALID`` if it is not one)."""
    if dtype == "bool":
        return value if isinstance(value, bool) else _INVALID
    if isinstance(value, bool):
        return _INVALID
    if dtype == "int":
        if isinstance(value, int) and _I64[0] <= value <= _I64[1]:
            return value
        return _INVALID
    if dtype == "float":
        if isinstance(value, (int, float)) and math.isfinite(value):
            return float(value)
        return _INVALID
    if dtype == "decimal":
        if isinstance(value, (int, Decimal)):
            return Decimal(value)
        if isinstance(value, float) and math.isfinite(value):
            return Decimal(repr(value))
        return _INVALID
    if dtype == "datetime" and isinstance(value, _dt.datetime):
        return value
    if dtype == "date" and isinstance(value, _dt.date) and not isinstance(value, _dt.datetime):
        return value
    if dtype == "time" and isinstance(value, _dt.time):
        return value
    return _INVALID


class _Skip(BaseException):
    """A value the rule reads is null / unparsable: the row is skipped for this rule.

    A BaseException so that a rule's own ``except Exception`` does not swallow it.
    """


class _Row:
    """The row a Python rule receives: attributes are typed, parsed lazily on access."""

    __slots__ = ("_batch", "_index")

    def __init__(self, batch: _Batch, index: int) -> None:
        self._batch = batch
        self._index = index

    def __getattr__(self, name: str) -> object:
        reader = self._batch.reader
        column = reader.attributes.get(name, name)
        if column not in reader.known:
            # only declared columns, as in a traced rule, even if the source has more
            hint = did_you_mean(name, list(reader.attributes) + sorted(reader.known))
            raise AttributeError(f"the row has no column {name!r}{hint}")
        return self._batch.value(self._index, column)

    def __getitem__(self, name: str) -> object:
        return self.__getattr__(name)


class _Reader:
    """What a source's rows look like: the spec's columns and, for CSV, the header."""

    def __init__(self, spec: SpecDict, attributes: dict[str, str], header: list[str]) -> None:
        columns: dict[str, ColumnSpec] = {c["name"]: c for c in spec.get("columns", [])}
        self.attributes = attributes
        self.null_values = set(spec.get("csv", {}).get("null_values", [""]))
        self.index = {name: i for i, name in enumerate(header)}
        self.known = set(columns)
        self.dtypes = {n: c["dtype"] for n, c in columns.items()}
        self.columns_json = {n: json.dumps(c) for n, c in columns.items()}
        self.sensitive = [n for n, c in columns.items() if c.get("sensitive")]

    def raw(self, raw: list[str] | dict[str, object], column: str) -> object:
        """The column's field in a row as read (``None`` when the source has no such column)."""
        if isinstance(raw, list):
            position = self.index.get(column)
            return None if position is None else raw[position]
        return raw.get(column)

    def parse_column(self, raws: list[Any], column: str) -> list[object]:
        """The column's value in each row (``_INVALID`` where null, absent or unparsable), its
        texts parsed in one engine call."""
        dtype = self.dtypes[column]
        values: list[object] = [_INVALID] * len(raws)
        texts: list[str] = []
        text_rows: list[int] = []
        for row, raw in enumerate(raws):
            field = self.raw(raw, column)
            if isinstance(field, str):
                if field not in self.null_values:
                    texts.append(field)
                    text_rows.append(row)
            elif field is not None:
                values[row] = _convert_typed(field, dtype)
        if texts:
            parsed = _parse_texts(self.columns_json[column], dtype, texts)
            for row, value in zip(text_rows, parsed, strict=True):
                values[row] = value
        return values


class _Batch:
    """A batch of rows; a column is parsed for the whole batch the first time a rule reads it."""

    __slots__ = ("columns", "raws", "reader")

    def __init__(self, reader: _Reader, raws: list[Any]) -> None:
        self.reader = reader
        self.raws = raws
        self.columns: dict[str, list[object]] = {}

    def value(self, index: int, column: str) -> object:
        values = self.columns.get(column)
        if values is None:
            values = self.columns[column] = self.reader.parse_column(self.raws, column)
        value = values[index]
        if value is _INVALID:
            raise _Skip
        return value

    def sensitive_values(self, index: int) -> list[str]:
        """The row's values of sensitive columns, as text and as parsed, for the engine to mask
        wherever a failure message quotes them (the message is made by user code)."""
        out: set[str] = set()
        for column in self.reader.sensitive:
            text = self.reader.raw(self.raws[index], column)
            if text is None:
                continue
            out.add(str(text))
            try:
                out.add(str(self.value(index, column)))
            except _Skip:
                pass
        return sorted(value for value in out if value)


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
    rows = _Batch(reader, [raw for _, raw in batch])
    for rule in rules:
        out = failures[rule.name]
        for index, (number, _) in enumerate(batch):
            message = _evaluate(rule, _Row(rows, index))
            if message is not None:
                failure: ExternalFailure = {"source": source, "row": number, "message": message}
                if reader.sensitive:
                    failure["sensitive_values"] = rows.sensitive_values(index)
                out.append(failure)
