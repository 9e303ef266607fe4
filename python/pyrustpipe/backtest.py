"""The rule playground's engine side: check a YAML / JSON spec with errors at their line, dry-run
it on a sample of a source, and backtest it over the ledger's last partitions (rows that would
newly fail or newly pass against the rules that ran). Never executes Python code.

>>> from pyrustpipe.backtest import check_spec_text
>>> check_spec_text('{"spec_version": 1, "name": "T", "columns": []}')
[]
>>> text = 'spec_version: 1\\ncolumns:\\n  - name: id\\n    dtyp: int\\n'
>>> [(p.line, p.column) for p in check_spec_text(text)]
[(4, 5)]
"""

from __future__ import annotations

import csv
import hmac
import io
import json
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pyrustpipe.exceptions import PyRustPipeError, SchemaError

__all__ = [
    "BacktestResult",
    "PartitionDiff",
    "SpecProblem",
    "backtest",
    "check_spec_text",
    "dry_run",
    "load_spec_text",
]

# As for rule files (docs/spec.md, "Rule files"): a spec from a browser costs bounded work.
MAX_SPEC_BYTES = 1 << 20
_ORIGIN = "spec"
_LOCATED = re.compile(rf"^{_ORIGIN}, line (\d+), column (\d+): (.*)$", re.DOTALL)
# What a spec would hold if it tried to carry Python: the playground refuses it by name.
_PYTHON_KEYS = ("python", "code", "function", "callable", "source", "lambda")
_PYTHON_TEXT = re.compile(r"^\s*(?:from\s+\S+\s+import|import\s|class\s|def\s|@)", re.MULTILINE)


@dataclass(frozen=True)
class SpecProblem:
    """One problem of a spec text, at its 1-based line and column."""

    line: int
    column: int
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "column": self.column, "message": self.message}

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}: {self.message}"


def _problem(exc: SchemaError) -> SpecProblem:
    text = str(exc)
    found = _LOCATED.match(text)
    if found:
        return SpecProblem(int(found.group(1)), int(found.group(2)), found.group(3))
    return SpecProblem(1, 1, text.removeprefix(f"{_ORIGIN}: "))


def _python_problem(document: Any, positions: Mapping[Any, tuple[int, int]]) -> SpecProblem | None:
    """A row rule (or a top-level key) that names Python code instead of an expression."""
    if not isinstance(document, Mapping):
        return None
    for key in ("external_rules", "python_rules"):
        if key in document:
            line, column = positions.get((key,), (1, 1))
            return SpecProblem(
                line,
                column,
                f"{key}: rules that run in Python are refused; the playground never executes "
                "Python code — write them as row rule expressions (docs/spec.md, Row rules)",
            )
    rules = document.get("row_rules")
    if not isinstance(rules, list):
        return None
    for index, rule in enumerate(rules):
        if not isinstance(rule, Mapping):
            continue
        for key in _PYTHON_KEYS:
            if key in rule:
                line, column = positions.get(("row_rules", index, key), (1, 1))
                name = rule.get("name", f"row_rules[{index}]")
                return SpecProblem(
                    line,
                    column,
                    f"row rule {name!r} is Python code ({key!r}): refused, the playground never "
                    "executes Python — write it as an expression (`pyrustpipe compile` prints "
                    "the expression of a rule that traces)",
                )
    return None


def load_spec_text(text: str) -> tuple[dict[str, Any], list[SpecProblem]]:
    """The spec document of a YAML or JSON text and its problems (empty: the engine accepts it).
    Only parsing and the engine's spec check run: no Python from the text, ever."""
    from pyrustpipe import _rulefile
    from pyrustpipe.api import Spec

    text = text.removeprefix("\ufeff")  # a BOM from an editor is not part of the spec
    data = text.encode("utf-8", "surrogatepass")
    if len(data) > MAX_SPEC_BYTES:
        return {}, [SpecProblem(1, 1, f"a spec is limited to 1 MiB ({len(data)} bytes)")]
    if not text.strip():
        return {}, [SpecProblem(1, 1, "the spec is empty")]
    found = _PYTHON_TEXT.search(text)
    if found and not text.lstrip().startswith(("{", "[")):
        line = text.count("\n", 0, found.start()) + 1
        return {}, [
            SpecProblem(
                line,
                1,
                "this looks like Python code: the playground never executes Python; turn a "
                "pp.Schema class into a spec with `pyrustpipe compile rules.py:Class`",
            )
        ]
    try:
        if text.lstrip().startswith(("{", "[")):
            document, positions = _rulefile.load_json(_ORIGIN, text)
        else:
            document, positions = _rulefile.load_yaml(_ORIGIN, data)
    except SchemaError as exc:
        return {}, [_problem(exc)]
    if not isinstance(document, Mapping):
        return {}, [SpecProblem(1, 1, "a spec is a mapping (spec_version, name, columns, ...)")]
    python = _python_problem(document, positions)
    if python is not None:
        return dict(document), [python]
    if document.get("spec_version") != 1:
        line, column = positions.get(("spec_version",), (1, 1))
        return dict(document), [
            SpecProblem(
                line, column, f"spec_version must be 1, not {document.get('spec_version')!r}"
            )
        ]
    try:
        spec = Spec(document, origin=_ORIGIN)
        _rulefile.check_with_engine(_ORIGIN, spec.to_spec(), positions)
    except SchemaError as exc:
        return dict(document), [_problem(exc)]
    return dict(document), []


def check_spec_text(text: str) -> list[SpecProblem]:
    """The problems of a rules spec given as YAML or JSON text, each at its 1-based line and
    column; an empty list when the engine accepts it. Python code is refused, never run."""
    return load_spec_text(text)[1]


def _spec_or_raise(text: str) -> dict[str, Any]:
    document, problems = load_spec_text(text)
    if problems:
        raise SchemaError(f"{_ORIGIN}, {problems[0]}")
    return document


# --- masking ----------------------------------------------------------------------------------


def _sensitive(*specs: Mapping[str, Any]) -> set[str]:
    return {
        str(column.get("name"))
        for spec in specs
        for column in spec.get("columns") or []
        if isinstance(column, Mapping) and column.get("sensitive")
    }


def _token(key: bytes, value: str) -> str:
    """The engine's token form (docs/spec.md, "Sensitive columns"): a keyed hash, never the
    value; equal values get equal tokens within one backtest (or across, with a fixed key)."""
    digest = hmac.new(key, value.encode("utf-8", "surrogatepass"), "sha256").hexdigest()
    return f"«masked:{digest[:12]}»"


def _mask_key() -> str:
    return os.environ.get("PYRUSTPIPE_MASK_KEY") or secrets.token_hex(32)


# --- the quarantine of a run, read back ---------------------------------------------------------

_META = ("_pyrustpipe_errors", "_pyrustpipe_row", "_pyrustpipe_source", "_pyrustpipe_raw")
RowKey = tuple[str, int]


@dataclass
class _Row:
    key: RowKey
    errors: list[str]
    values: dict[str, Any]


def _csv_rows(path: str, spec: Mapping[str, Any]) -> Iterator[_Row]:
    dialect = spec.get("csv") or {}
    with open(path, encoding="utf-8", errors="replace", newline="") as handle:
        first = handle.readline()
        if not first:
            return
        if "_pyrustpipe_errors" in first:
            # The delimiter is the character before the metadata columns.
            at = first.index("_pyrustpipe_errors")
            delimiter = first[at - 1] if at else ","
            header = next(csv.reader([first], delimiter=delimiter))
        else:  # a header-less source: the schema's columns, then the metadata
            handle.seek(0)
            delimiter = dialect.get("delimiter", ",")
            header = [c["name"] for c in spec.get("columns") or []] + list(_META)
        quote = dialect.get("quote", '"') or '"'
        for record in csv.reader(handle, delimiter=delimiter, quotechar=quote):
            cells = dict(zip(header, record, strict=False))
            yield _Row(
                (cells.get("_pyrustpipe_source", ""), int(cells.get("_pyrustpipe_row") or 0)),
                json.loads(cells.get("_pyrustpipe_errors") or "[]"),
                {
                    k: v
                    for k, v in cells.items()
                    if k not in _META or (k == "_pyrustpipe_raw" and v)
                },
            )


def _ndjson_rows(path: str, spec: Mapping[str, Any]) -> Iterator[_Row]:
    names = [c["name"] for c in spec.get("columns") or []]
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if not line.strip():
                continue
            item = json.loads(line)
            values: dict[str, Any] = {}
            for name in names:  # the schema's columns, dotted names reaching into objects
                value: Any = item
                for part in [name] if name in item else name.split("."):
                    value = value.get(part) if isinstance(value, Mapping) else None
                values[name] = value
            if "_pyrustpipe_raw" in item:
                values["_pyrustpipe_raw"] = item["_pyrustpipe_raw"]
            yield _Row(
                (str(item.get("_pyrustpipe_source", "")), int(item.get("_pyrustpipe_row") or 0)),
                list(item.get("_pyrustpipe_errors") or []),
                values,
            )


def _parquet_rows(path: str, spec: Mapping[str, Any]) -> Iterator[_Row]:
    import pyarrow.parquet as pq

    for batch in pq.ParquetFile(path).iter_batches(batch_size=4096):
        for item in batch.to_pylist():
            errors = item.pop("_pyrustpipe_errors", "[]")
            yield _Row(
                (str(item.pop("_pyrustpipe_source", "")), int(item.pop("_pyrustpipe_row") or 0)),
                json.loads(errors) if isinstance(errors, str) else list(errors or []),
                {
                    k: (v if v is None or isinstance(v, (int, float, bool)) else str(v))
                    for k, v in item.items()
                },
            )


def _quarantine_rows(path: str, fmt: str, spec: Mapping[str, Any]) -> Iterator[_Row]:
    if not os.path.exists(path):
        return iter(())
    if fmt == "parquet":
        return _parquet_rows(path, spec)
    if fmt == "ndjson":
        return _ndjson_rows(path, spec)
    return _csv_rows(path, spec)


# --- one run of a spec over a partition ------------------------------------------------------


@dataclass
class _Run:
    report: Any  # pyrustpipe.Report
    quarantine: str
    fmt: str


def _run(
    spec: Mapping[str, Any],
    sources: list[str],
    folder: str,
    *,
    storage_options: Mapping[str, str] | None,
    mask_key: str,
    sample_size: int,
) -> _Run:
    from pyrustpipe.api import Spec, run_validation

    # No extension: the quarantine keeps the input's format, uncompressed, whatever its codec.
    quarantine = os.path.join(folder, "quarantine")
    report = run_validation(
        sources,
        Spec(spec),
        quarantine=quarantine,
        sample_size=sample_size,
        storage_options=storage_options,
        allow_empty=True,
        mask_key=mask_key,
    )
    formats = {s.format for s in report.sources}
    fmt = "parquet" if "parquet" in formats else "ndjson" if "ndjson" in formats else "csv"
    return _Run(report, quarantine, fmt)


# --- backtest ----------------------------------------------------------------------------------


@dataclass
class PartitionDiff:
    """One partition of a backtest: the rules that ran vs the new spec, row by row."""

    partition: str
    logical_date: str
    run_id: str | None
    status: str  # "compared" or "skipped"
    reason: str | None = None
    sources: list[str] = field(default_factory=list)
    rows: int = 0
    invalid_before: int = 0
    invalid_after: int = 0
    newly_failing: int = 0
    newly_passing: int = 0
    rules: list[dict[str, Any]] = field(default_factory=list)
    examples_newly_failing: list[dict[str, Any]] = field(default_factory=list)
    examples_newly_passing: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "partition": self.partition,
            "logical_date": self.logical_date,
            "run_id": self.run_id,
            "status": self.status,
            "reason": self.reason,
            "sources": list(self.sources),
            "rows": self.rows,
            "invalid_before": self.invalid_before,
            "invalid_after": self.invalid_after,
            "newly_failing": self.newly_failing,
            "newly_passing": self.newly_passing,
            "rules": [dict(r) for r in self.rules],
            "examples_newly_failing": [dict(e) for e in self.examples_newly_failing],
            "examples_newly_passing": [dict(e) for e in self.examples_newly_passing],
            "notes": list(self.notes),
        }


@dataclass
class BacktestResult:
    """A backtest over the last partitions of a dataset, oldest first."""

    dataset: str
    ruleset_hash: str
    partitions: list[PartitionDiff]

    @property
    def newly_failing(self) -> int:
        return sum(p.newly_failing for p in self.partitions)

    @property
    def newly_passing(self) -> int:
        return sum(p.newly_passing for p in self.partitions)

    def to_dict(self) -> dict[str, Any]:
        compared = [p for p in self.partitions if p.status == "compared"]
        return {
            "dataset": self.dataset,
            "ruleset_hash": self.ruleset_hash,
            "partitions": [p.to_dict() for p in self.partitions],
            "totals": {
                "partitions": len(self.partitions),
                "compared": len(compared),
                "skipped": len(self.partitions) - len(compared),
                "rows": sum(p.rows for p in compared),
                "newly_failing": self.newly_failing,
                "newly_passing": self.newly_passing,
            },
        }


def _example(row: _Row, masked: set[str], key: bytes) -> dict[str, Any]:
    """A quarantined row as an example: where it is, the rules it failed (in the run that
    quarantined it), its values with sensitive columns masked."""
    values: dict[str, Any] = {}
    for name, value in row.values.items():
        if name == "_pyrustpipe_raw":
            # A ragged record's raw bytes may hold a sensitive field: all or nothing.
            values[name] = _token(key, str(value)) if masked else value
        elif name in masked and value not in (None, ""):
            values[name] = _token(key, str(value))
        else:
            values[name] = value
    return {
        "source": row.key[0],
        "row": row.key[1],
        "errors": list(row.errors),
        "values": values,
    }


def _rule_deltas(before: Any, after: Any) -> list[dict[str, Any]]:
    """Every rule of either run with its failure counts (history checks are not re-judged)."""
    old = {r.name: r.failed for r in before.rules if r.scope != "history"}
    new = {r.name: r.failed for r in after.rules if r.scope != "history"}
    names = list(old) + [n for n in new if n not in old]
    return [
        {
            "rule": name,
            "before": old.get(name),
            "after": new.get(name),
            "delta": (new.get(name) or 0) - (old.get(name) or 0),
        }
        for name in names
    ]


def _compare(
    diff: PartitionDiff,
    before: _Run,
    after: _Run,
    old_spec: Mapping[str, Any],
    new_spec: Mapping[str, Any],
    examples: int,
    key: bytes,
) -> None:
    masked = _sensitive(old_spec, new_spec)
    # Only the keys are held (a million rows is tens of MB); example rows are kept as met, so
    # they are the first ones in source and row order.
    old_rows = {row.key for row in _quarantine_rows(before.quarantine, before.fmt, old_spec)}
    new_rows: set[RowKey] = set()
    for row in _quarantine_rows(after.quarantine, after.fmt, new_spec):
        new_rows.add(row.key)
        if row.key not in old_rows:
            diff.newly_failing += 1
            if len(diff.examples_newly_failing) < examples:
                diff.examples_newly_failing.append(_example(row, masked, key))
    if old_rows - new_rows:
        for row in _quarantine_rows(before.quarantine, before.fmt, old_spec):
            if row.key not in new_rows:
                diff.newly_passing += 1
                if len(diff.examples_newly_passing) < examples:
                    diff.examples_newly_passing.append(_example(row, masked, key))
    diff.rows = after.report.rows
    diff.invalid_before = before.report.invalid_rows
    diff.invalid_after = after.report.invalid_rows
    diff.rules = _rule_deltas(before.report, after.report)


def backtest(
    spec_text: str,
    *,
    ledger: str,
    dataset: str,
    last: int = 30,
    storage_options: Mapping[str, str] | None = None,
    examples: int = 5,
) -> BacktestResult:
    """Run ``spec_text`` over the last ``last`` partitions of ``dataset`` in the ledger, each
    read again from the sources its entry records, next to the spec that ran then (kept in
    ``<ledger>/_specs/``): per partition the rows that would newly fail and newly pass (a
    row-level diff of the quarantined sets), per-rule count deltas and up to ``examples``
    example rows of each kind, sensitive columns masked. A partition whose sources or spec are
    gone is skipped with the reason. Nothing is written to the ledger or beside the data."""
    from pyrustpipe import _engine, _ledger_files
    from pyrustpipe.compiled import compile as compile_spec

    if isinstance(last, bool) or not isinstance(last, int) or last < 1:
        raise ValueError(f"last must be an int >= 1, not {last!r}")
    if isinstance(examples, bool) or not isinstance(examples, int) or examples < 0:
        raise ValueError(f"examples must be an int >= 0, not {examples!r}")
    new_spec = _spec_or_raise(spec_text)
    ruleset_hash = compile_spec(new_spec).ruleset_hash
    options = json.dumps({"storage_options": dict(storage_options)} if storage_options else {})
    entries = _engine.ledger_entries(ledger, dataset, options)[-last:]
    mask_key = _mask_key()
    key = mask_key.encode()
    result = BacktestResult(dataset, ruleset_hash, [])
    for summary in entries:
        partition, logical_date = summary["partition"], summary["logical_date"]
        diff = PartitionDiff(partition, logical_date, None, "skipped")
        result.partitions.append(diff)
        try:
            entry = _ledger_files.read_entry(
                ledger, dataset, partition, logical_date, storage_options
            )
        except (OSError, ValueError) as exc:  # pyarrow's errors are both
            diff.reason = f"its ledger entry could not be read: {exc}"
            continue
        if entry is None:
            diff.reason = "its ledger entry could not be found"
            continue
        diff.run_id = entry["run_id"]
        diff.sources = [i["uri"] for i in entry["inputs"] or []]
        if not diff.sources:
            diff.reason = "the ledger entry records no sources (an in-memory table)"
            continue
        old_spec = _ledger_files.read_spec(ledger, entry["rules_hash"], storage_options)
        if old_spec is None:
            diff.reason = (
                f"the spec that ran ({entry['rules_hash']}) is not stored in the ledger "
                "(_specs/): the run predates the spec store"
            )
            continue
        try:
            _engine.expand_sources(diff.sources, options)
        except (PyRustPipeError, OSError) as exc:
            diff.reason = f"the source is gone: {exc}"
            continue
        folder = tempfile.mkdtemp(prefix="pyrustpipe-backtest-")
        try:
            os.makedirs(os.path.join(folder, "before"))
            os.makedirs(os.path.join(folder, "after"))
            common = {
                "storage_options": storage_options,
                "mask_key": mask_key,
                "sample_size": examples,
            }
            before = _run(old_spec, diff.sources, os.path.join(folder, "before"), **common)  # type: ignore[arg-type]
            after = _run(new_spec, diff.sources, os.path.join(folder, "after"), **common)  # type: ignore[arg-type]
            _compare(diff, before, after, old_spec, new_spec, examples, key)
        except (PyRustPipeError, OSError) as exc:
            diff.reason = f"the partition could not be read again: {exc}"
            continue
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        diff.status = "compared"
        if (before.report.rows, before.report.invalid_rows) != (
            entry["rows"],
            entry["invalid_rows"],
        ):
            diff.notes.append(
                f"the source changed since the run, or the run had checks a backtest does not "
                f"repeat (history, Python rules): the ledger records {entry['rows']} rows, "
                f"{entry['invalid_rows']} invalid; the rules that ran give "
                f"{before.report.rows} rows, {before.report.invalid_rows} invalid now"
            )
    return result


# --- dry run ---------------------------------------------------------------------------------

_CODECS = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bz2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
)
_SUFFIXES = (".gz", ".gzip", ".zst", ".zstd", ".bz2", ".xz")


def _format_of(uri: str) -> str:
    name = uri.lower()
    for suffix in _SUFFIXES:
        name = name.removesuffix(suffix)
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    if name.endswith((".ndjson", ".jsonl", ".json")):
        return "ndjson"
    return "csv"


def _text_stream(raw: Any) -> Any:
    """The decoded stream of a possibly compressed text source (codec by its magic bytes), with
    ``peek``."""
    import bz2
    import gzip
    import lzma

    buffered = raw if hasattr(raw, "peek") else io.BufferedReader(raw)
    head = buffered.peek(8)[:8]
    decoded: Any = buffered
    for magic, codec in _CODECS:
        if head.startswith(magic):
            if codec == "gzip":
                decoded = gzip.GzipFile(fileobj=buffered)
            elif codec == "bz2":
                decoded = bz2.BZ2File(buffered)
            elif codec == "xz":
                decoded = lzma.LZMAFile(buffered)
            else:
                import pyarrow as pa

                decoded = pa.CompressedInputStream(buffered, "zstd")
            break
    return decoded if hasattr(decoded, "peek") else io.BufferedReader(decoded)


def _sample_text(stream: Any, out: Any, fmt: str, rows: int, spec: Mapping[str, Any]) -> int:
    """Copy the first ``rows`` records (after the header) byte for byte; the records taken."""
    dialect = spec.get("csv") or {}
    quote = (dialect.get("quote") or '"').encode()
    header = fmt == "csv" and dialect.get("header", True)
    taken, pending = 0, b""
    if fmt == "ndjson" and stream.peek(64).lstrip()[:1] == b"[":
        # One JSON array (docs/spec.md, NDJSON): its elements span lines, so take it whole.
        shutil.copyfileobj(stream, out)
        return rows
    for line in iter(stream.readline, b""):
        pending += line
        if fmt == "csv" and pending.count(quote) % 2:
            continue  # a quoted field runs on over the line break
        record, pending = pending, b""
        out.write(record)
        if not record.strip():
            continue  # blank lines are not rows
        if header:
            header = False
            continue
        taken += 1
        if taken >= rows:
            break
    out.write(pending)
    return taken


def dry_run(
    spec_text: str,
    source: str | list[str],
    *,
    rows: int = 10_000,
    storage_options: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Validate the first ``rows`` records of ``source`` (files, a directory, a glob, s3://)
    with the spec: the report as a dict (every rule's failures and samples, sensitive columns
    masked), plus ``sample``: the records read and from which sources. Nothing is written
    beside the data."""
    from pyrustpipe import _engine
    from pyrustpipe.api import Spec, run_validation

    if isinstance(rows, bool) or not isinstance(rows, int) or rows < 1:
        raise ValueError(f"rows must be an int >= 1, not {rows!r}")
    spec = _spec_or_raise(spec_text)
    options = json.dumps({"storage_options": dict(storage_options)} if storage_options else {})
    files = _engine.expand_sources([source] if isinstance(source, str) else list(source), options)
    folder = tempfile.mkdtemp(prefix="pyrustpipe-dry-run-")
    try:
        samples: dict[str, str] = {}
        left = rows
        for index, uri in enumerate(files):
            if left <= 0:
                break
            fmt = _format_of(uri)
            name = os.path.basename(uri.rstrip("/")) or "source"
            for suffix in _SUFFIXES:
                name = name.removesuffix(suffix)
            local = os.path.join(folder, f"{index:04d}-{name}")
            if fmt == "parquet":
                import pyarrow as pa
                import pyarrow.parquet as pq

                from pyrustpipe import _ledger_files

                with _ledger_files.open_input(uri, storage_options) as raw:
                    parquet = pq.ParquetFile(raw)
                    batches = []
                    for batch in parquet.iter_batches(batch_size=min(left, 65536)):
                        batches.append(batch.slice(0, left))
                        left -= batches[-1].num_rows
                        if left <= 0:
                            break
                    pq.write_table(
                        pa.Table.from_batches(batches, schema=parquet.schema_arrow), local
                    )
            else:
                from pyrustpipe import _ledger_files

                with (
                    _ledger_files.open_input(uri, storage_options) as raw,
                    open(local, "wb") as out,
                ):
                    left -= _sample_text(_text_stream(raw), out, fmt, left, spec)
            samples[local] = uri
        report = run_validation(
            list(samples), Spec(spec), storage_options=storage_options, allow_empty=True
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    result: dict[str, Any] = dict(report.to_dict())
    # The report names the sample files; name the sources the user gave instead.
    for item in result["sources"]:
        item["uri"] = samples.get(item["uri"], item["uri"])
    for rule in result["rules"]:
        for sample in rule["samples"]:
            if sample.get("source") in samples:
                sample["source"] = samples[sample["source"]]
    result["sample"] = {
        "rows": report.rows,
        "limit": rows,
        "sources": list(samples.values()),
        "complete": report.rows < rows,
    }
    return result
