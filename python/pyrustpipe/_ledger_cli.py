"""The command line's ledger parts: ``validate --ledger ROOT --partition KEY --logical-date``
and ``history DATASET --ledger ROOT``, the trend of the last partitions (docs/ledger.md)."""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import sys
from collections.abc import Callable, Sequence

from pyrustpipe._typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "add_history_command",
    "add_validate_arguments",
    "positive_int",
    "render_trend",
    "sparkline",
]

_BARS = "▁▂▃▄▅▆▇█"


def _date(text: str) -> str:
    try:
        return _dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def positive_int(text: str) -> int:
    """An argparse type: a whole number >= 1 (the CLI's counts: --last, --threads, ...)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number >= 1")
    return value


def add_validate_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("quality ledger (docs/ledger.md)")
    group.add_argument(
        "--ledger",
        metavar="ROOT",
        help="append this run to the quality ledger under ROOT (a directory or s3:// prefix) "
        "and judge the rules' history checks against it",
    )
    group.add_argument(
        "--partition",
        metavar="KEY",
        help="the partition this run checks, e.g. dt=2026-01-05 (default: date=<logical date>)",
    )
    group.add_argument(
        "--logical-date",
        type=_date,
        metavar="YYYY-MM-DD",
        help="the partition's logical date (default: its dt= / date= segment)",
    )


def add_history_command(
    commands: Any, add_storage_arguments: Callable[[argparse.ArgumentParser], None]
) -> None:
    parser = commands.add_parser(
        "history",
        help="print the quality trend of a dataset from the ledger",
        description="Print the last partitions of DATASET in the ledger: rows, invalid rate and "
        "each failing rule, with a sparkline per line. Exit 0 when the newest partition passed, "
        "1 when it failed.",
    )
    parser.add_argument("dataset", metavar="DATASET")
    parser.add_argument("--ledger", required=True, metavar="ROOT", help="the ledger's root")
    parser.add_argument(
        "--last", type=positive_int, default=30, metavar="N", help="partitions shown (default 30)"
    )
    parser.add_argument("--format", choices=("table", "json"), default="table")
    add_storage_arguments(parser)
    parser.set_defaults(handler=_cmd_history)


def sparkline(values: Sequence[float | None]) -> str:
    """One character per value, scaled between the smallest and the largest (``·`` for none)."""
    known = [v for v in values if v is not None]
    if not known:
        return "·" * len(values)
    low, high = min(known), max(known)
    out = []
    for value in values:
        if value is None:
            out.append("·")
        elif high == low:
            out.append(_BARS[len(_BARS) // 2])
        else:
            out.append(_BARS[round((value - low) / (high - low) * (len(_BARS) - 1))])
    return "".join(out)


def render_trend(dataset: str, entries: Sequence[dict[str, Any]]) -> str:
    """The table ``history`` prints: one line per measure, one column per partition."""
    if not entries:
        return f"{dataset}: no entries in the ledger\n"
    rows = [float(e["rows"]) for e in entries]
    rates = [e["invalid_rows"] / e["rows"] if e["rows"] else 0.0 for e in entries]
    first, last = entries[0], entries[-1]
    lines = [
        f"{dataset}: {len(entries)} partitions, {first['logical_date']} .. {last['logical_date']}",
        f"  {'rows':<34} {sparkline(rows)}  last {int(rows[-1]):,} "
        f"(min {int(min(rows)):,}, max {int(max(rows)):,})",
        f"  {'invalid rate':<34} {sparkline(rates)}  last {rates[-1]:.2%} (max {max(rates):.2%})",
        f"  {'passed':<34} "
        + "".join("✓" if e["passed"] else "✗" for e in entries)
        + f"  {sum(1 for e in entries if not e['passed'])} failed",
    ]
    failing: list[str] = []
    for entry in entries:
        failing.extend(name for name in entry["failed_rules"] if name not in failing)
    for name in failing:
        marks = "".join("✗" if name in e["failed_rules"] else "·" for e in entries)
        count = marks.count("✗")
        lines.append(f"  {name:<34} {marks}  failed {count} of {len(entries)}")
    newest = ", ".join(last["failed_rules"]) or "none"
    lines.append(f"newest: {last['partition']} ({last['logical_date']}), failing: {newest}")
    return "\n".join(lines) + "\n"


def _cmd_history(args: argparse.Namespace) -> int:
    from pyrustpipe import _engine
    from pyrustpipe.cli import _storage_options

    storage = _storage_options(args)
    options = json.dumps({"storage_options": storage} if storage else {})
    entries = _engine.ledger_entries(args.ledger, args.dataset, options)[-args.last :]
    if args.format == "json":
        sys.stdout.write(json.dumps({"dataset": args.dataset, "entries": entries}, indent=2))
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render_trend(args.dataset, entries))
    return 0 if not entries or entries[-1]["passed"] else 1
