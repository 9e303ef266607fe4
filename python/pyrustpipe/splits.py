"""``pp.plan_splits``, ``pp.Split`` and ``pp.gate_splits``: one huge CSV / NDJSON object validated
by many workers, each owning the records that start in its byte range, judged as one."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias, Union

from pyrustpipe import _engine

if TYPE_CHECKING:
    from pyrustpipe.report import Report

__all__ = ["Split", "SplitLike", "as_split", "gate_splits", "plan_splits"]

_MARK = "#split="
# Rules judged on the whole dataset cannot be summed from parts (a mean of means is not a mean).
_UNSPLITTABLE_SCOPES = ("dataset", "history")


@dataclass(frozen=True)
class Split:
    """Split ``index`` of ``parts`` of the object ``uri``: the records starting in bytes
    ``[start, end)``. ``str(split)`` is its argument form (an Airflow mapped-task argument);
    :meth:`parse` reads it back.

    >>> s = Split("s3://b/big.csv", 0, 100, 0, 2)
    >>> str(s)
    's3://b/big.csv#split=0/2:0-100'
    >>> Split.parse(str(s)) == s
    True
    """

    uri: str
    start: int
    end: int
    index: int
    parts: int

    def __str__(self) -> str:
        return f"{self.uri}{_MARK}{self.index}/{self.parts}:{self.start}-{self.end}"

    @classmethod
    def parse(cls, text: str) -> Split:
        uri, mark, rest = text.rpartition(_MARK)
        try:
            if not mark or not uri:
                raise ValueError
            numbering, _, span = rest.partition(":")
            index, _, parts = numbering.partition("/")
            start, _, end = span.partition("-")
            split = cls(uri, int(start), int(end), int(index), int(parts))
        except ValueError:
            raise ValueError(
                f"not a split: {text!r} (expected 'URI#split=INDEX/PARTS:START-END')"
            ) from None
        split._check()
        return split

    def to_dict(self) -> dict[str, Any]:
        return {
            "uri": self.uri,
            "start": self.start,
            "end": self.end,
            "index": self.index,
            "parts": self.parts,
        }

    def _check(self) -> None:
        if not (0 <= self.start <= self.end and 0 <= self.index < self.parts):
            raise ValueError(f"not a split: {self!s} (needs 0 <= start <= end, index < parts)")


SplitLike: TypeAlias = Union[Split, str, Mapping[str, Any]]  # noqa: UP007 (a runtime alias)


def as_split(value: SplitLike) -> Split:
    """A :class:`Split` from itself, its string form or its dict form."""
    if isinstance(value, Split):
        split = value
    elif isinstance(value, str):
        return Split.parse(value)
    elif isinstance(value, Mapping):
        try:
            split = Split(
                str(value["uri"]),
                int(value["start"]),
                int(value["end"]),
                int(value["index"]),
                int(value["parts"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a split: {dict(value)!r} ({exc})") from None
    else:
        raise TypeError(f"a split is a pp.Split, its str or its dict, not {type(value).__name__}")
    split._check()
    return split


def plan_splits(
    uri: str | os.PathLike[str],
    parts: int,
    *,
    storage_options: Mapping[str, str] | None = None,
) -> list[Split]:
    """Cut the one CSV / NDJSON object ``uri`` (a path or ``s3://``) into ``parts`` byte ranges.
    Only its size is read (a HEAD for S3); each split finds its record boundaries when it runs
    (``pp.validate(uri, schema, split=s)``). A compressed object splits only as ``parts=1``.

    >>> import os, tempfile, pyrustpipe as pp
    >>> path = os.path.join(tempfile.mkdtemp(), "t.csv")
    >>> with open(path, "w") as f:
    ...     _ = f.write("id\\n1\\n2\\n3\\n")
    >>> [(s.start, s.end) for s in pp.plan_splits(path, 2)]
    [(0, 4), (4, 9)]
    """
    if isinstance(parts, bool) or not isinstance(parts, int) or parts < 1:
        raise ValueError(f"parts must be an int >= 1, not {parts!r}")
    options = {} if storage_options is None else {"storage_options": dict(storage_options)}
    text = _engine.core().plan_splits(os.fspath(uri), parts, json.dumps(options))
    return [as_split(item) for item in json.loads(text)]


def _report(value: Report | Mapping[str, Any] | str) -> Report:
    from pyrustpipe.report import Report

    if isinstance(value, Report):
        return value
    if isinstance(value, str):
        return Report.from_json(value)
    return Report.from_dict(value)


def _allowed(tolerance: Any, rows: int) -> int:
    """The engine's ``Tolerance::allowed``: a count, or floor(fraction × rows)."""
    if tolerance is None:
        return 0
    if isinstance(tolerance, Mapping):
        if "count" in tolerance:
            return int(tolerance["count"])
        tolerance = tolerance.get("fraction", 0.0)
    if isinstance(tolerance, int) and not isinstance(tolerance, bool):
        return tolerance
    fraction = float(tolerance)
    return rows if fraction >= 1.0 else int(fraction * rows)


def gate_splits(
    reports: Sequence[Report | Mapping[str, Any] | str],
    *,
    keys: Sequence[str | os.PathLike[str]] | None = None,
    sample_size: int = 20,
    storage_options: Mapping[str, str] | None = None,
) -> Report:
    """Judge one object from the reports of all its splits (any order): the union must cover
    the object exactly (else ``ValueError`` naming the gap), unique keys are merged across
    splits from each split's keys file (``split_keys=`` of :func:`pp.validate`; ``keys``
    overrides the paths the reports name; ``s3://`` keys files are read with
    ``storage_options``), and the result is the report a whole-object run
    gives — same rows, counts per rule, verdicts — with every repeat across splits in
    ``report.to_dict()["cross_split"]["failures"]`` and among the samples."""
    from pyrustpipe.exceptions import SchemaError
    from pyrustpipe.report import Report

    parts: list[dict[str, Any]] = [dict(_report(r).to_dict()) for r in reports]
    if not parts:
        raise ValueError("gate_splits needs the reports of the splits")
    for data in parts:
        if "split" not in data:
            raise ValueError(f"not a split's report (no 'split'): {data.get('schema_name')!r}")
    # Empty splits (no record starts in them) share their neighbour's start: order by both ends.
    order = sorted(
        range(len(parts)),
        key=lambda i: (parts[i]["split"]["data_start"], parts[i]["split"]["data_end"]),
    )
    parts = [parts[i] for i in order]
    first = parts[0]
    uri = first["sources"][0]["uri"] if first["sources"] else ""
    for data in parts[1:]:
        if data["ruleset_hash"] != first["ruleset_hash"]:
            raise ValueError("the splits were validated with different rules")
        other = data["sources"][0]["uri"] if data["sources"] else ""
        if other != uri:
            raise ValueError(f"the splits are of different objects: {uri} and {other}")
    size = int(first["sources"][0]["bytes"]) if first["sources"] else 0
    at = int(first["split"]["data_start"])
    rows_before = 0
    for data in parts:
        split = data["split"]
        if split["data_start"] != at or split["rows_before"] != rows_before:
            raise ValueError(
                f"{uri}: the splits do not cover bytes {at}..{split['data_start']} "
                f"(rows {rows_before}..{split['rows_before']}): a split is missing or given twice"
            )
        at = int(split["data_end"])
        rows_before += int(data["rows"])
    if at != size:
        raise ValueError(f"{uri}: no split covers bytes {at}..{size}")
    for rule in first["rules"]:
        if rule["scope"] in _UNSPLITTABLE_SCOPES:
            raise SchemaError(
                f"rule {rule['name']!r} ({rule['scope']} scope) is judged on the whole data set "
                "and cannot be combined from splits; validate the object whole"
            )
    cross: dict[str, Any] = {"failures": [], "new_invalid_rows": 0}
    unique_rules = [r for r in first["rules"] if r["kind"] == "unique"]
    if unique_rules:
        paths = (
            [os.fspath(k) for k in keys]
            if keys is not None
            else [data["split"].get("keys_output") for data in parts]
        )
        if keys is not None:
            paths = [paths[i] for i in order]
        if len(paths) != len(parts) or not all(paths):
            raise ValueError(
                "the rules check unique keys: every split needs its keys file "
                "(pp.validate(..., split=s, split_keys=PATH)) for the gate to find repeats "
                "across splits"
            )
        with _local_keys([str(p) for p in paths], storage_options) as local:
            cross = json.loads(_engine.core().merge_split_keys(local))
    return Report.from_dict(_combine(parts, cross, uri, sample_size))


def _source_failures(
    parts: list[dict[str, Any]], cross_by_rule: dict[str, list[dict[str, Any]]]
) -> dict[str, int]:
    """The object's per-rule failures: the splits' plus the repeats across them."""
    total: dict[str, int] = {}
    for data in parts:
        for name, count in data["sources"][0]["failures"].items():
            total[name] = total.get(name, 0) + int(count)
    for name, failures in cross_by_rule.items():
        total[name] = total.get(name, 0) + len(failures)
    return total


def _combine(
    parts: list[dict[str, Any]], cross: dict[str, Any], uri: str, sample_size: int
) -> dict[str, Any]:
    """The whole-object report from the splits' reports and the repeats across them."""
    first = parts[0]
    rows = sum(int(p["rows"]) for p in parts)
    invalid = sum(int(p["invalid_rows"]) for p in parts) + int(cross["new_invalid_rows"])
    cross_by_rule: dict[str, list[dict[str, Any]]] = {}
    for failure in cross["failures"]:
        cross_by_rule.setdefault(failure["rule"], []).append(failure)
    rules = []
    for index, rule in enumerate(first["rules"]):
        same = [p["rules"][index] for p in parts]
        extra = cross_by_rule.get(rule["name"], [])
        samples = [s for r in same for s in r["samples"]]
        samples += [
            {
                "row": f["row"],
                "line": f["line"],
                "source": uri,
                "column": rule["column"],
                "value": None,
                "message": f"{f['message']} (first at row {f['first_row']}, split "
                f"{f['first_split']})",
            }
            for f in extra
        ]
        samples.sort(key=lambda s: (s["row"], s["line"] or 0))
        combined = dict(rule)
        if rule["scope"] == "schema":
            combined["failed"] = max(int(r["failed"]) for r in same)
            combined["passed"] = all(r["passed"] for r in same)
            samples = (
                same[0]["samples"]
                if combined["passed"]
                else next(r["samples"] for r in same if not r["passed"])
            )
        else:
            failed = sum(int(r["failed"]) for r in same) + len(extra)
            allowed = _allowed(rule["tolerance"], rows)
            combined.update(
                failed=failed,
                allowed_failures=allowed,
                passed=failed <= allowed,
                failure_rate=failed / rows if rows else 0.0,
            )
        combined["samples"] = samples[:sample_size]
        rules.append(combined)
    source = dict(first["sources"][0]) if first["sources"] else {}
    if source:
        source.update(
            rows=rows,
            valid_rows=rows - invalid,
            invalid_rows=invalid,
            skipped_blank_lines=sum(int(p["sources"][0]["skipped_blank_lines"]) for p in parts),
            quote_garbage_records=sum(int(p["sources"][0]["quote_garbage_records"]) for p in parts),
            failures=_source_failures(parts, cross_by_rule),
        )
    duration = max(float(p["duration_s"]) for p in parts)
    return {
        **first,
        "passed": all(r["passed"] or r["severity"] == "warn" for r in rules),
        "rows": rows,
        "valid_rows": rows - invalid,
        "invalid_rows": invalid,
        "skipped_blank_lines": sum(int(p["skipped_blank_lines"]) for p in parts),
        "duration_s": duration,
        "rows_per_s": rows / duration if duration > 0 else 0.0,
        "sources": [source] if source else [],
        "rules": rules,
        "outputs": {"splits": [p["outputs"] for p in parts]},
        "split": None,
        "splits": [p["split"] for p in parts],
        "cross_split": cross,
    }


def is_s3_keys(split_keys: str | os.PathLike[str] | None) -> bool:
    return split_keys is not None and os.fspath(split_keys).startswith("s3://")


def local_keys_path() -> str:
    """Where a split run writes keys bound for S3 before :func:`upload_keys` sends them."""
    return os.path.join(tempfile.mkdtemp(prefix="pyrustpipe-keys-"), "keys")


def upload_keys(
    report_json: str, local: str, uri: str, storage_options: Mapping[str, str] | None
) -> str:
    """Send a split's keys file to S3 once its run has succeeded (workers on other machines
    share no disk with the gate) and name it in the report; the local copy is removed."""
    from pyrustpipe._ledger_files import _write

    try:
        with open(local, "rb") as handle:
            _write(uri, handle.read(), storage_options)
    finally:
        shutil.rmtree(os.path.dirname(local), ignore_errors=True)
    data = json.loads(report_json)
    data["split"]["keys_output"] = uri
    return json.dumps(data)


class _local_keys:
    """The keys files as local paths for the engine's merge: S3 ones are fetched into a
    temporary directory, removed afterwards."""

    def __init__(self, paths: list[str], storage_options: Mapping[str, str] | None) -> None:
        self.paths = paths
        self.storage_options = storage_options
        self.folder: str | None = None

    def __enter__(self) -> list[str]:
        from pyrustpipe._ledger_files import open_input

        local = []
        for index, path in enumerate(self.paths):
            if not path.startswith("s3://"):
                local.append(path)
                continue
            if self.folder is None:
                self.folder = tempfile.mkdtemp(prefix="pyrustpipe-gate-keys-")
            target = os.path.join(self.folder, f"split-{index:04d}")
            with open_input(path, self.storage_options) as source, open(target, "wb") as out:
                shutil.copyfileobj(source, out)
            local.append(target)
        return local

    def __exit__(self, *_: object) -> None:
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
