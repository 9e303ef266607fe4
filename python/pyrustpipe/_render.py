"""Rich renderables for a report (imported only when something is printed)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from rich.markup import escape
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from rich.console import RenderableType

    from pyrustpipe.report import Report

__all__ = ["report_renderables"]

MAX_SAMPLE_RULES = 10
MAX_SAMPLES = 5


def _rate(value: float) -> str:
    return f"{value:.2%}" if value else "0%"


def summary_text(report: Report) -> Text:
    status = (
        Text("passed", style="bold green") if report.passed else Text("FAILED", style="bold red")
    )
    text = Text()
    text.append(f"{report.schema_name or 'report'}: ", style="bold")
    text.append_text(status)
    text.append(
        f" — {report.rows:,} rows, {report.valid_rows:,} valid, {report.invalid_rows:,} invalid"
    )
    if report.rows_per_s:
        text.append(f", {report.rows_per_s:,.0f} rows/s")
    if report.duration_s:
        text.append(f" ({report.duration_s:.2f} s)")
    return text


def report_renderables(report: Report) -> Iterator[RenderableType]:
    yield summary_text(report)
    table = Table(show_edge=False, header_style="bold")
    table.add_column("rule")
    table.add_column("severity")
    table.add_column("failed", justify="right")
    table.add_column("rate", justify="right")
    table.add_column("tolerance", justify="right")
    table.add_column("status")
    for rule in report.rules:
        if rule.passed:
            style = "yellow" if rule.failed and rule.severity == "warn" else ""
            status = "ok" if not rule.failed else "ok (within tolerance)"
        else:
            style = "bold red" if rule.severity == "error" else "yellow"
            status = "FAIL" if rule.severity == "error" else "warn"
        table.add_row(
            escape(rule.name),
            rule.severity,
            f"{rule.failed:,}",
            _rate(rule.failure_rate),
            rule.tolerance_text,
            status,
            style=style,
        )
    yield table
    failing = [r for r in report.rules if r.failed and r.samples][:MAX_SAMPLE_RULES]
    for rule in failing:
        yield Text(f"samples of {rule.name}:", style="bold")
        for sample in rule.samples[:MAX_SAMPLES]:
            where = sample.source or ""
            if sample.row is not None:
                where += f" row {sample.row}"
            if sample.line is not None:
                where += f" (line {sample.line})"
            detail = sample.message or (repr(sample.value) if sample.value is not None else "")
            yield Text(f"  {where.strip()}: {detail}")
        if rule.failed > min(len(rule.samples), MAX_SAMPLES):
            yield Text(
                f"  … {rule.failed - min(len(rule.samples), MAX_SAMPLES):,} more",
                style="dim",
            )
    for source in report.sources:
        if source.quote_garbage_records:
            yield Text(
                f"note: {source.uri}: {source.quote_garbage_records:,} CSV record(s) have text "
                "after a closing quote (read leniently; quote_garbage_records in the report)",
                style="yellow",
            )
    if report.retries:
        counts = ", ".join(f"{op} {n:,}" for op, n in sorted(report.retries.items()))
        yield Text(f"storage retries: {counts}", style="yellow")
    for kind, path in report.outputs.items():
        if path:
            yield Text(f"{kind} output written to {path}", style="cyan")
