"""The command line's ledger options: ``validate --ledger ROOT --partition KEY --logical-date``
(docs/ledger.md, docs/cli.md)."""

from __future__ import annotations

import argparse
import datetime as _dt
from collections.abc import Callable
from typing import Any

__all__ = ["add_history_command", "add_validate_arguments"]


def _date(text: str) -> str:
    try:
        return _dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


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
    """``pyrustpipe history``: not built yet (see the ledger issue); nothing is registered."""
    del commands, add_storage_arguments
