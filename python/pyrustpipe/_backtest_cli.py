"""The command line's ``backtest SPEC --ledger ROOT --dataset NAME``: a rule change tried against
the ledger's last partitions before it ships (pyrustpipe.backtest)."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable

from pyrustpipe._ledger_cli import positive_int
from pyrustpipe._typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

__all__ = ["add_backtest_command", "render_backtest"]


def add_backtest_command(
    commands: Any, add_storage_arguments: Callable[[argparse.ArgumentParser], None]
) -> None:
    parser = commands.add_parser(
        "backtest",
        help="try a rules spec against the last partitions in the ledger",
        description="Run SPEC (a .yaml / .json rules spec, or - for stdin) over the last "
        "partitions of DATASET, each read again from its recorded sources, next to the spec "
        "that ran then: per partition the rows that would newly fail or newly pass, and each "
        "rule's change. Python code is never run. Exit 0 when the backtest ran, 2 on an error.",
    )
    parser.add_argument("spec", metavar="SPEC")
    parser.add_argument("--ledger", required=True, metavar="ROOT", help="the ledger's root")
    parser.add_argument("--dataset", required=True, metavar="NAME", help="the ledger key")
    parser.add_argument(
        "--last", type=positive_int, default=30, metavar="N", help="partitions (default 30)"
    )
    parser.add_argument(
        "--examples", type=int, default=5, metavar="N", help="example rows of each kind"
    )
    parser.add_argument("--format", choices=("table", "json"), default="table")
    add_storage_arguments(parser)
    parser.set_defaults(handler=_cmd_backtest)


def render_backtest(result: dict[str, Any]) -> str:
    """One line per partition, then the totals."""
    lines = [f"{result['dataset']}: backtest of {result['ruleset_hash']}"]
    for part in result["partitions"]:
        name = f"{part['partition']:<24}"
        if part["status"] != "compared":
            lines.append(f"  {name} skipped: {part['reason']}")
            continue
        changed = ", ".join(f"{r['rule']} {r['delta']:+d}" for r in part["rules"] if r["delta"])
        lines.append(
            f"  {name} {part['rows']:>9,} rows  invalid {part['invalid_before']:,} -> "
            f"{part['invalid_after']:,}  newly failing {part['newly_failing']:,}  "
            f"newly passing {part['newly_passing']:,}" + (f"  ({changed})" if changed else "")
        )
        for note in part["notes"]:
            lines.append(f"    note: {note}")
    totals = result["totals"]
    lines.append(
        f"{totals['compared']} compared, {totals['skipped']} skipped: "
        f"{totals['newly_failing']:,} rows newly failing, "
        f"{totals['newly_passing']:,} newly passing"
    )
    return "\n".join(lines) + "\n"


def _cmd_backtest(args: argparse.Namespace) -> int:
    from pyrustpipe.backtest import MAX_SPEC_BYTES, backtest
    from pyrustpipe.cli import _storage_options
    from pyrustpipe.exceptions import SchemaError

    if args.spec == "-":
        text = sys.stdin.read(MAX_SPEC_BYTES + 1)
    else:
        with open(args.spec, "rb") as handle:
            text = handle.read(MAX_SPEC_BYTES + 1).decode("utf-8-sig")
    try:
        result = backtest(
            text,
            ledger=args.ledger,
            dataset=args.dataset,
            last=args.last,
            storage_options=_storage_options(args),
            examples=max(args.examples, 0),
        ).to_dict()
    except SchemaError as exc:  # name the user's file, not the playground's "spec"
        where = "<stdin>" if args.spec == "-" else args.spec
        raise SchemaError(re.sub(r"^spec, ", f"{where}, ", str(exc))) from None
    if args.format == "json":
        sys.stdout.write(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(render_backtest(result))
    return 0
