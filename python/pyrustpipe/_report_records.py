"""The report's records — a rule's outcome, a failing sample, a source's counts — as frozen
dataclasses; ``pyrustpipe.report`` loads them on first use (their public home)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, TypeVar

from pyrustpipe._common import clone

if TYPE_CHECKING:
    from pyrustpipe.spec import Severity, Tolerance


__all__ = ["RuleResult", "Sample", "SourceResult"]


@dataclass(frozen=True)
class Sample:
    """One failing value of a rule (the first ``sample_size`` by source and row)."""

    row: int | None
    line: int | None = None
    source: str | None = None
    column: str | None = None
    value: str | None = None
    message: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Sample:
        # A report's own sample (a fresh dict with exactly the fields) becomes the record's
        # fields as it is: the frozen `__init__` sets each field through `object.__setattr__`,
        # and a million-row run's `report.rules` builds ~500 samples (parsed and built: 1.15 ms
        # that way, 0.74 ms this way).
        if type(data) is dict and data.keys() == _SAMPLE_FIELDS:
            return _adopted(cls, data)
        return _adopted(cls, {name: data.get(name) for name in _SAMPLE_FIELDS})

    def to_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "line": self.line,
            "source": self.source,
            "column": self.column,
            "value": self.value,
            "message": self.message,
        }


@dataclass(frozen=True)
class RuleResult:
    """The outcome of one rule."""

    name: str
    column: str | None
    severity: Severity
    failed: int
    failure_rate: float
    tolerance: Tolerance | None
    passed: bool
    samples: tuple[Sample, ...] = ()
    kind: str = ""
    scope: str = "column"
    observed: Any = None
    allowed_failures: int = 0

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RuleResult:
        values = {
            "name": str(data["name"]),
            "column": data.get("column"),
            "severity": data.get("severity", "error"),
            "failed": int(data.get("failed", 0)),
            "failure_rate": float(data.get("failure_rate", 0.0)),
            "tolerance": clone(data.get("tolerance")),
            "passed": bool(data.get("passed", True)),
            "samples": tuple(map(Sample.from_dict, data.get("samples") or ())),
            "kind": str(data.get("kind", "")),
            "scope": str(data.get("scope", "column")),
            "observed": clone(data.get("observed")),
            "allowed_failures": int(data.get("allowed_failures", 0)),
        }
        return _adopted(cls, values)

    @property
    def tolerance_text(self) -> str:
        """``-``, ``≤ 5 rows`` or ``≤ 1.00%``."""
        if not self.tolerance:
            return "-"
        tolerance: dict[str, Any] = dict(self.tolerance)
        if "count" in tolerance:
            return f"≤ {tolerance['count']} rows"
        return f"≤ {tolerance['fraction']:.2%}"


@dataclass(frozen=True)
class SourceResult:
    """Counts of one source (file or object) of the run."""

    uri: str
    format: str = ""
    bytes: int = 0
    rows: int = 0
    valid_rows: int = 0
    invalid_rows: int = 0
    skipped_blank_lines: int = 0
    quote_garbage_records: int = 0
    columns: tuple[str, ...] = ()
    failures: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SourceResult:
        return cls(
            uri=str(data.get("uri", "")),
            format=str(data.get("format", "")),
            bytes=int(data.get("bytes", 0)),
            rows=int(data.get("rows", 0)),
            valid_rows=int(data.get("valid_rows", 0)),
            invalid_rows=int(data.get("invalid_rows", 0)),
            skipped_blank_lines=int(data.get("skipped_blank_lines", 0)),
            quote_garbage_records=int(data.get("quote_garbage_records", 0)),
            columns=tuple(data.get("columns") or ()),
            failures=dict(data.get("failures") or {}),
        )


# In field order (a fallback sample's dict, and so its pickle, does not depend on string hashing);
# compared with a dict's keys as a set.
_SAMPLE_FIELDS = dict.fromkeys(field.name for field in fields(Sample)).keys()

_R = TypeVar("_R")


def _adopted(record: type[_R], values: dict[str, Any]) -> _R:
    """A frozen record whose fields are ``values`` (every field, converted): one dict set whole."""
    instance = object.__new__(record)
    object.__setattr__(instance, "__dict__", values)
    return instance


# Their public home: reprs, pickles and docs name `pyrustpipe.report`.
for _record in (Sample, RuleResult, SourceResult):
    _record.__module__ = "pyrustpipe.report"
