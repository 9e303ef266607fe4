"""The report's records — a rule's outcome, a failing sample, a source's counts — as frozen
dataclasses; ``pyrustpipe.report`` loads them on first use (their public home)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

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
        return cls(
            row=data.get("row"),
            line=data.get("line"),
            source=data.get("source"),
            column=data.get("column"),
            value=data.get("value"),
            message=data.get("message"),
        )

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
        return cls(
            name=str(data["name"]),
            column=data.get("column"),
            severity=data.get("severity", "error"),
            failed=int(data.get("failed", 0)),
            failure_rate=float(data.get("failure_rate", 0.0)),
            tolerance=copy.deepcopy(data.get("tolerance")),
            passed=bool(data.get("passed", True)),
            samples=tuple(Sample.from_dict(s) for s in data.get("samples") or ()),
            kind=str(data.get("kind", "")),
            scope=str(data.get("scope", "column")),
            observed=copy.deepcopy(data.get("observed")),
            allowed_failures=int(data.get("allowed_failures", 0)),
        )

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


# Their public home: reprs, pickles and docs name `pyrustpipe.report`.
for _record in (Sample, RuleResult, SourceResult):
    _record.__module__ = "pyrustpipe.report"
