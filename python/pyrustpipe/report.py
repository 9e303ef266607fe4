"""``pp.Report``: the result of a run (docs/report.md), with a small typed facade.

>>> import pyrustpipe as pp
>>> report = pp.Report.from_dict({
...     "report_version": 1, "schema_name": "Tx", "passed": False, "rows": 4, "valid_rows": 3,
...     "invalid_rows": 1, "duration_s": 0.01, "ruleset_hash": "sha256:00",
...     "rules": [{"name": "amount:gt", "kind": "gt", "scope": "column", "column": "amount",
...                "severity": "error", "failed": 1, "failure_rate": 0.25, "tolerance": None,
...                "allowed_failures": 0, "passed": False, "observed": None,
...                "samples": [{"row": 2, "line": 3, "source": "tx.csv", "column": "amount",
...                             "value": "-5", "message": "-5 is not > 0"}]}]})
>>> report
<Report Tx FAILED rows=4 valid=3 invalid=1 rules=1 failed_rules=1>
>>> report.rule("amount:gt").samples[0].value
'-5'
>>> try:
...     report.raise_for_failures()
... except pp.ValidationFailed as exc:
...     print(str(exc).replace("; ", "\\n"))
Tx failed: 1 error rule failed: amount:gt (1 row, 25.00%)
1 of 4 rows invalid
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping

from pyrustpipe._typing import TYPE_CHECKING
from pyrustpipe.exceptions import ValidationFailed

if TYPE_CHECKING:
    from typing import Any

    from rich.console import Console, ConsoleOptions, RenderResult

    from pyrustpipe._report_records import RuleResult, Sample, SourceResult
    from pyrustpipe.spec import ReportDict, Severity

__all__ = ["Report", "RuleResult", "Sample", "SourceResult"]

_RECORDS = ("RuleResult", "Sample", "SourceResult")


def __getattr__(name: str) -> object:
    # The records are dataclasses, and `dataclasses` imports `inspect` (~6 ms a process): a run
    # whose report is only printed as JSON (`pyrustpipe validate --format json`) never loads them.
    if name in _RECORDS:
        from pyrustpipe import _report_records

        value = getattr(_report_records, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'pyrustpipe.report' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_RECORDS))


class Report:
    """The result of one validation run: a read-only facade over the report JSON."""

    __slots__ = ("_data", "_rules", "_sources")

    def __init__(self, data: Mapping[str, Any]) -> None:
        if not isinstance(data, Mapping):
            raise TypeError(f"a report is a mapping, not {type(data).__name__}")
        import copy  # here, not at the top: a run's report is adopted without a copy

        self._adopt(copy.deepcopy(dict(data)))

    def _adopt(self, data: dict[str, Any]) -> None:
        """Take ``data`` as this report's own (nobody else may hold it)."""
        if "rules" not in data or "passed" not in data:
            raise ValueError("not a pyrustpipe report: 'rules' and 'passed' are required")
        self._data: dict[str, Any] = data
        self._rules: tuple[RuleResult, ...] | None = None
        self._sources: tuple[SourceResult, ...] | None = None

    # -- construction / serialisation ----------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Report:
        return cls(data)

    @classmethod
    def from_json(cls, text: str | bytes) -> Report:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise TypeError("not a pyrustpipe report: the JSON document is not an object")
        report = cls.__new__(cls)
        report._adopt(data)  # freshly parsed: no copy needed
        return report

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Report:
        """Read a report saved by ``metrics_output`` / ``--format json``."""
        with open(path, encoding="utf-8") as handle:
            return cls.from_json(handle.read())

    def to_dict(self) -> ReportDict:
        """The report JSON as a fresh dict."""
        import copy

        data: ReportDict = copy.deepcopy(self._data)  # type: ignore[assignment]
        return data

    def to_json(self, indent: int | None = None) -> str:
        if indent is None:
            return json.dumps(self._data, ensure_ascii=False)
        from pyrustpipe import _indented_json

        return _indented_json.dumps(self._data, indent)

    # -- facade --------------------------------------------------------------------------------

    @property
    def passed(self) -> bool:
        """True when every error-severity rule passed."""
        return bool(self._data["passed"])

    @property
    def rows(self) -> int:
        return int(self._data.get("rows", 0))

    @property
    def valid_rows(self) -> int:
        return int(self._data.get("valid_rows", 0))

    @property
    def invalid_rows(self) -> int:
        return int(self._data.get("invalid_rows", 0))

    @property
    def rules(self) -> tuple[RuleResult, ...]:
        """Every rule of the spec, in spec order."""
        if self._rules is None:
            from pyrustpipe._report_records import RuleResult

            self._rules = tuple(RuleResult.from_dict(r) for r in self._data.get("rules") or ())
        return self._rules

    @property
    def sources(self) -> tuple[SourceResult, ...]:
        if self._sources is None:
            from pyrustpipe._report_records import SourceResult

            sources = self._data.get("sources") or ()
            self._sources = tuple(SourceResult.from_dict(s) for s in sources)
        return self._sources

    @property
    def schema_name(self) -> str:
        return str(self._data.get("schema_name", ""))

    @property
    def ruleset_hash(self) -> str:
        return str(self._data.get("ruleset_hash", ""))

    @property
    def engine_version(self) -> str:
        return str(self._data.get("engine_version", ""))

    @property
    def duration_s(self) -> float:
        return float(self._data.get("duration_s", 0.0))

    @property
    def rows_per_s(self) -> float:
        return float(self._data.get("rows_per_s", 0.0))

    @property
    def bytes(self) -> int:
        return int(self._data.get("bytes", 0))

    @property
    def threads(self) -> int | None:
        value = self._data.get("threads")
        return None if value is None else int(value)

    @property
    def skipped_blank_lines(self) -> int:
        return int(self._data.get("skipped_blank_lines", 0))

    @property
    def outputs(self) -> dict[str, str | None]:
        """Where the valid rows, the quarantine and the metrics were written (``None``: not)."""
        return dict(self._data.get("outputs") or {})

    @property
    def retries(self) -> dict[str, int]:
        """Per S3 operation (``get_object``, ``upload_part``…), the storage SDK's retries
        (attempts beyond the first); empty when nothing was retried (``io.retries``)."""
        io = self._data.get("io") or {}
        return {str(k): int(v) for k, v in (io.get("retries") or {}).items()}

    def rule(self, name: str) -> RuleResult:
        """The result of rule ``name``; a KeyError suggesting close names otherwise."""
        for rule in self.rules:
            if rule.name == name:
                return rule
        import difflib  # only on a miss

        names = [r.name for r in self.rules]
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        raise KeyError(f"no rule named {name!r} in this report{hint}")

    def __contains__(self, name: object) -> bool:
        return any(r.name == name for r in self.rules)

    def __iter__(self) -> Iterator[RuleResult]:
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def failed_rules(self, severity: Severity | None = None) -> list[RuleResult]:
        """Rules that did not pass (of ``severity`` when given)."""
        return [
            r for r in self.rules if not r.passed and (severity is None or r.severity == severity)
        ]

    def summary(self) -> str:
        """One line: ``Tx FAILED: 4 rows, 3 valid, 1 invalid; failed: amount:gt``."""
        status = "passed" if self.passed else "FAILED"
        failed = self.failed_rules()
        text = (
            f"{self.schema_name or 'report'} {status}: {self.rows} rows, {self.valid_rows} valid, "
            f"{self.invalid_rows} invalid"
        )
        if failed:
            text += "; failed: " + ", ".join(r.name for r in failed)
        return text

    def raise_for_failures(self) -> Report:
        """Raise :class:`pp.ValidationFailed` if an error-severity rule failed; else return self."""
        if self.passed:
            return self
        failed = self.failed_rules("error")
        parts = []
        for rule in failed:
            if rule.scope == "history" and rule.samples:
                parts.append(f"{rule.name} ({rule.samples[0].message})")
            elif rule.scope in ("dataset", "schema"):
                observed = "" if rule.observed is None else f": observed {rule.observed!r}"
                parts.append(f"{rule.name}{observed}")
            else:
                unit = "row" if rule.failed == 1 else "rows"
                parts.append(f"{rule.name} ({rule.failed} {unit}, {rule.failure_rate:.2%})")
        noun = "rule" if len(failed) == 1 else "rules"
        message = (
            f"{self.schema_name or 'validation'} failed: {len(failed)} error {noun} failed: "
            f"{', '.join(parts)}; {self.invalid_rows} of {self.rows} rows invalid"
        )
        raise ValidationFailed(message, self)

    def __repr__(self) -> str:
        status = "passed" if self.passed else "FAILED"
        return (
            f"<Report {self.schema_name or '?'} {status} rows={self.rows} valid={self.valid_rows} "
            f"invalid={self.invalid_rows} rules={len(self.rules)} "
            f"failed_rules={len(self.failed_rules())}>"
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Report) and other._data == self._data

    __hash__ = None  # type: ignore[assignment]

    # -- rendering -----------------------------------------------------------------------------

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from pyrustpipe._render import report_renderables

        yield from report_renderables(self)

    def _repr_html_(self) -> str:
        import html  # only in a notebook

        esc = html.escape
        status = "passed" if self.passed else "FAILED"
        color = "#1a7f37" if self.passed else "#cf222e"
        rows = []
        for rule in self.rules:
            style = "" if rule.passed else ' style="color:#cf222e;font-weight:bold"'
            rows.append(
                f"<tr{style}><td>{esc(rule.name)}</td><td>{esc(rule.severity)}</td>"
                f"<td>{rule.failed}</td><td>{rule.failure_rate:.2%}</td>"
                f"<td>{esc(rule.tolerance_text)}</td>"
                f"<td>{'ok' if rule.passed else 'FAIL'}</td></tr>"
            )
        return (
            f"<div><p><b>{esc(self.schema_name)}</b> "
            f'<span style="color:{color}">{status}</span>: {self.rows} rows, '
            f"{self.valid_rows} valid, {self.invalid_rows} invalid</p>"
            "<table><thead><tr><th>rule</th><th>severity</th><th>failed</th><th>rate</th>"
            "<th>tolerance</th><th>status</th></tr></thead><tbody>"
            + "".join(rows)
            + "</tbody></table></div>"
        )
