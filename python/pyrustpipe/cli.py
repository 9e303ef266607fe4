"""The ``pyrustpipe`` command line: ``validate``, ``init``, ``compile``, ``report``, ``gc``.

Exit codes: 0 the report passed (or the command succeeded), 1 the report failed, 2 a usage,
rules or input error (one line on stderr: ``pyrustpipe: error: ...``), 130 interrupted (Ctrl-C),
143 terminated (SIGTERM). A run stopped by either aborts its uploads and commits nothing.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import signal
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress

from pyrustpipe import _ledger_cli
from pyrustpipe._typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from typing import Any, NoReturn, TextIO

    from rich.console import Console

    from pyrustpipe._core import Progress
    from pyrustpipe.report import Report

__all__ = ["main", "run"]

PROG = "pyrustpipe"
PROGRESS_DELAY_S = 1.0
PROGRESS_REFRESH_S = 0.1
INIT_SAMPLE_ROWS = 100_000


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error message."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{PROG}: error: {message} (see `{self.prog} --help`)\n")
        raise SystemExit(2)

    def _get_formatter(self) -> argparse.HelpFormatter:
        # argparse's default width imports shutil (2 ms of every command's start) for this.
        # Every formatter argparse ships (and ours: the default) takes a width.
        formatter = cast("type[argparse.HelpFormatter]", self.formatter_class)
        return formatter(prog=self.prog, width=_terminal_width() - 2)


def _terminal_width() -> int:
    """The terminal's columns, as ``shutil.get_terminal_size`` finds them (``COLUMNS`` first)."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class _UsageError(Exception):
    pass


class _Terminated(BaseException):
    """Raised by the CLI's SIGTERM handler, so a terminated run winds down like Ctrl-C (uploads
    aborted, nothing committed) instead of dying on the spot. A BaseException, as
    KeyboardInterrupt is, so no ``except Exception`` swallows it."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise _Terminated


def _cancel_note(exc: BaseException) -> str:
    """One line for stderr: what a signal left behind."""
    from pyrustpipe.exceptions import CancelledError

    if isinstance(exc.__cause__, CancelledError):
        return "cancelled: no outputs committed"
    return "interrupted"


def _version() -> str:
    """The release, and how the engine was built (what a bug report needs)."""
    from pyrustpipe import __version__

    try:
        from pyrustpipe._core import build_info
    except ImportError:
        return f"{PROG} {__version__} (engine not built)"
    info = build_info()
    codecs = ", ".join(info["codecs"])
    return (
        f"{PROG} {__version__} (engine {info['engine_version']}, {info['profile']} build, "
        f"{info['target']}; codecs: {codecs})"
    )


def _delimiter(text: str) -> str:
    value = {"tab": "\t", "\\t": "\t"}.get(text, text)
    if len(value.encode()) != 1 or value in ('"', "\n", "\r"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a one-character delimiter")
    return value


def _null_values(text: str) -> list[str]:
    values = text.split(",")
    # Order kept, repeats dropped: the list goes into the generated Config as written.
    return list(dict.fromkeys(values))


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be >= 0")
    return value


def _add_dialect_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--delimiter",
        type=_delimiter,
        metavar="CHAR",
        help="CSV field delimiter, overriding the rules' ('tab' for a tab; .tsv files imply it)",
    )
    command.add_argument(
        "--null-values",
        type=_null_values,
        metavar="LIST",
        help="comma-separated texts read as null, replacing the rules' list; e.g. ',NA' for "
        "empty and NA",
    )
    command.add_argument(
        "--no-header",
        action="store_true",
        help="CSV files have no header row: their fields are the schema's columns, in order",
    )
    command.add_argument(
        "--strict-csv",
        action="store_true",
        help="strict RFC 4180 quoting: a record with a bare quote in an unquoted field or text "
        "after a closing quote is invalid (row:malformed) instead of read leniently",
    )


def _dialect(args: argparse.Namespace) -> dict[str, object]:
    """The CSV dialect keys the flags set (none: the rules' own dialect stands)."""
    dialect: dict[str, object] = {}
    if args.delimiter is not None:
        dialect["delimiter"] = args.delimiter
    if args.null_values is not None:
        dialect["null_values"] = args.null_values
    if args.no_header:
        dialect["header"] = False
    if args.strict_csv:
        dialect["strict"] = True
    return dialect


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The command line's parser. Given the arguments, only the command they name is built:
    the others' arguments (and argparse's gettext lookups for them) cost ~1 ms of every run."""
    parser = _Parser(
        prog=PROG,
        description="A data-quality gate: validate CSV / NDJSON / Parquet files against "
        "typed rules.",
    )
    parser.add_argument("--version", action="version", version=_version())
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    named = argv[0] if argv else None
    for name, add in _COMMANDS.items():
        if named not in _COMMANDS or name == named:
            add(commands)
    return parser


def _add_validate(commands: Any) -> None:
    """``validate``: data files against rules."""
    run = commands.add_parser(
        "validate",
        help="validate data files against rules",
        description="Validate DATA (files, directories, globs, s3:// URIs) against RULES. "
        "Exit 0 when the report passes, 1 when it fails, 2 on a usage / rules / input error.",
    )
    run.add_argument("data", nargs="+", metavar="DATA", help="file, directory, glob or s3:// URI")
    run.add_argument(
        "--rules",
        "-r",
        required=True,
        help="file.py:Class, module:Class, or a .json / .yaml spec",
    )
    run.add_argument("--quarantine", metavar="PATH", help="write invalid rows (with reasons) here")
    run.add_argument("--valid-output", metavar="PATH", help="write valid rows here")
    run.add_argument("--metrics-output", metavar="PATH", help="write the JSON report here")
    run.add_argument("--format", choices=("table", "json"), default="table", help="output format")
    run.add_argument("--threads", type=_ledger_cli.positive_int, metavar="N", help="worker threads")
    run.add_argument(
        "--sample-size",
        type=_non_negative_int,
        default=20,
        metavar="N",
        help="samples per rule",
    )
    run.add_argument(
        "--allow-empty",
        action="store_true",
        help="an input without data rows is not an error",
    )
    run.add_argument(
        "--chunk-size", type=_ledger_cli.positive_int, metavar="BYTES", help=argparse.SUPPRESS
    )
    _ledger_cli.add_validate_arguments(run)
    _add_dialect_arguments(run)
    _add_storage_arguments(run)
    run.set_defaults(handler=_cmd_validate)


def _add_gc(commands: Any) -> None:
    """``gc``: what interrupted runs left under an output prefix."""
    gc = commands.add_parser(
        "gc",
        help="remove what interrupted runs left under an output prefix",
        description="Remove stale attempt folders (_pyrustpipe_attempts/) that no committed "
        "manifest names, abort multipart uploads never completed, and delete local staged "
        "files, all older than --older-than, under PREFIX (an s3:// prefix or a directory). "
        "Committed outputs are never touched.",
    )
    gc.add_argument("prefix", metavar="PREFIX", help="s3://bucket/prefix/ or a local directory")
    gc.add_argument(
        "--older-than",
        type=_age,
        default=_age("24h"),
        metavar="AGE",
        help="only what is older than this: 90s, 30m, 24h, 7d (default: 24h)",
    )
    gc.add_argument("--dry-run", action="store_true", help="list what would be removed")
    _add_storage_arguments(gc)
    gc.set_defaults(handler=_cmd_gc)


def _add_init(commands: Any) -> None:
    """``init``: a draft ``pp.Schema`` from profiled data."""
    init = commands.add_parser(
        "init",
        help="profile data and print a draft pp.Schema class",
        description="Profile DATA and print a ready-to-edit pp.Schema class on stdout.",
    )
    init.add_argument("data", nargs="+", metavar="DATA")
    init.add_argument("--name", metavar="CLASS", help="class name (default: from the file name)")
    init.add_argument(
        "--delimiter",
        type=_delimiter,
        metavar="CHAR",
        help="CSV delimiter (`tab` or \\t for tabs; default: sniffed from , ; tab |)",
    )
    init.add_argument(
        "--null-values",
        type=_null_values,
        metavar="LIST",
        help="comma-separated texts read as null, e.g. ',NA' for empty and NA "
        "(default: empty, plus markers such as NA found in typed columns)",
    )
    init.add_argument(
        "--no-header",
        action="store_true",
        help="the CSV's first line is data; columns are named column_1, column_2, ...",
    )
    init.add_argument(
        "--sample-rows",
        type=_ledger_cli.positive_int,
        default=INIT_SAMPLE_ROWS,
        metavar="N",
        help=f"profile at most N rows (default: {INIT_SAMPLE_ROWS:,})",
    )
    init.add_argument(
        "--sensitive",
        action="append",
        default=[],
        metavar="COLUMN",
        help="a column whose values must not be printed (repeatable): its draft Field gets "
        "sensitive=True and no value-based rules",
    )
    _add_storage_arguments(init)
    init.set_defaults(handler=_cmd_init)


def _add_compile(commands: Any) -> None:
    """``compile``: the JSON spec of rules."""
    comp = commands.add_parser(
        "compile",
        help="print the JSON spec of rules",
        description="Check RULES with the engine and print their JSON spec on stdout; the "
        "ruleset hash goes to stderr.",
    )
    comp.add_argument("rules", metavar="RULES")
    comp.add_argument(
        "--normalized", action="store_true", help="print the engine's normalized spec"
    )
    comp.add_argument(
        "--rules",
        dest="table",
        action="store_true",
        help="print the compiled rule table (one rule a line, in report order) instead",
    )
    comp.set_defaults(handler=_cmd_compile)


def _add_report(commands: Any) -> None:
    """``report``: a saved JSON report, rendered."""
    rep = commands.add_parser(
        "report",
        help="render a saved JSON report",
        description="Render a report saved with --metrics-output / --format json. Exit 0 when "
        "it passed, 1 when it failed.",
    )
    rep.add_argument("path", metavar="REPORT.json")
    rep.add_argument("--format", choices=("table", "json"), default="table")
    rep.set_defaults(handler=_cmd_report)


def _add_history(commands: Any) -> None:
    _ledger_cli.add_history_command(commands, _add_storage_arguments)


def _add_backtest(commands: Any) -> None:
    from pyrustpipe import _backtest_cli

    _backtest_cli.add_backtest_command(commands, _add_storage_arguments)


def _add_serve(commands: Any) -> None:
    from pyrustpipe.console.serve import add_serve_command

    add_serve_command(commands)


_COMMANDS: dict[str, Callable[[Any], None]] = {
    "validate": _add_validate,
    "gc": _add_gc,
    "init": _add_init,
    "compile": _add_compile,
    "report": _add_report,
    "history": _add_history,
    "backtest": _add_backtest,
    "serve": _add_serve,
}


# ------------------------------------------------------------------------------------------------
# output helpers


def _console(stream: TextIO | None = None) -> Console:
    from rich.console import Console

    return Console(file=stream or sys.stdout, soft_wrap=False, highlight=False)


def _print_report(report: Report, output_format: str) -> int:
    if output_format == "json":
        sys.stdout.write(report.to_json(indent=2) + "\n")
    else:
        _console().print(report)
    sys.stdout.flush()
    return 0 if report.passed else 1


@contextmanager
def _progress(message: str, tracker: Progress | None = None) -> Iterator[None]:
    """A progress bar on stderr when it is a terminal and the work takes more than a second
    (``PYRUSTPIPE_PROGRESS_DELAY_S``): bytes read of the total, rows checked, time elapsed. It
    reads the engine's counters (``tracker``); without them it only shows that work goes on."""
    if not sys.stderr.isatty() or os.environ.get("PYRUSTPIPE_NO_PROGRESS"):
        yield
        return
    import threading  # only with a terminal to draw on (~1 ms of every other run's start)

    delay = float(os.environ.get("PYRUSTPIPE_PROGRESS_DELAY_S", PROGRESS_DELAY_S))
    stop = threading.Event()

    def draw() -> None:
        if stop.wait(delay):
            return
        from rich import progress

        columns = (
            progress.SpinnerColumn(),
            progress.TextColumn("{task.description}"),
            progress.BarColumn(bar_width=20),
            progress.DownloadColumn(),
            progress.TextColumn("{task.fields[rows]} rows"),
            progress.TimeElapsedColumn(),
        )
        with progress.Progress(*columns, console=_console(sys.stderr), transient=True) as bar:
            task = bar.add_task(message, total=None, rows="0")
            while True:
                if tracker is not None:
                    total, done, rows, writing = tracker.snapshot()
                    bar.update(
                        task,
                        total=total or None,
                        completed=done,
                        rows=f"{rows:,}",
                        description="writing outputs…" if writing else message,
                    )
                if stop.wait(PROGRESS_REFRESH_S):
                    return

    thread = threading.Thread(target=draw, name="pyrustpipe-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    sys.stderr.write(f"{PROG}: warning: {message}\n")


# ------------------------------------------------------------------------------------------------
# commands


def _add_storage_arguments(parser: argparse.ArgumentParser) -> None:
    """S3 settings; credentials come from the standard AWS environment and profiles."""
    parser.add_argument("--endpoint-url", metavar="URL", help="S3 endpoint (MinIO, a local server)")
    parser.add_argument("--region", metavar="REGION", help="S3 region")
    parser.add_argument("--profile", metavar="NAME", help="AWS profile for credentials")


def _storage_options(args: argparse.Namespace) -> dict[str, str] | None:
    options = {
        key: value
        for key, value in (
            ("endpoint_url", args.endpoint_url),
            ("region", args.region),
            ("profile", args.profile),
        )
        if value
    }
    return options or None


def _cmd_validate(args: argparse.Namespace) -> int:
    from pyrustpipe._engine import new_progress
    from pyrustpipe.api import load_rules, run_validation

    rules = load_rules(args.rules)
    tracker = new_progress()
    with _progress("validating…", tracker):
        report = run_validation(
            args.data,
            rules,
            quarantine=args.quarantine,
            valid_output=args.valid_output,
            metrics_output=args.metrics_output,
            threads=args.threads,
            sample_size=args.sample_size,
            allow_empty=args.allow_empty,
            chunk_size=args.chunk_size,
            storage_options=_storage_options(args),
            progress=tracker,
            dialect=_dialect(args),
            ledger=args.ledger,
            partition=args.partition,
            logical_date=args.logical_date,
        )
    return _print_report(report, args.format)


def _cmd_init(args: argparse.Namespace) -> int:
    from pyrustpipe import _engine
    from pyrustpipe._codegen import class_name_for, schema_source

    name = args.name or class_name_for(args.data[0])
    told: dict[str, object] = {"header": not args.no_header, "sample_rows": args.sample_rows}
    if args.delimiter is not None:
        told["delimiter"] = args.delimiter
    if args.null_values is not None:
        told["null_values"] = args.null_values
    if args.sensitive:
        told["sensitive"] = list(args.sensitive)
    storage = _storage_options(args)
    options = json.dumps({"storage_options": storage} if storage else {})
    with _progress("profiling…"):
        profile = _engine.profile(list(args.data), options, json.dumps(told))
    source = schema_source(profile, name)
    malformed = int(profile.get("malformed_rows") or 0)
    if malformed:
        where = "; ".join(
            f"{m.get('source')}"
            + (f" line {m['line']}" if m.get("line") else "")
            + f": {m.get('reason')}"
            for m in profile.get("malformed") or []
        )
        sys.stderr.write(
            f"{PROG}: warning: {malformed} malformed row{'s' if malformed != 1 else ''} "
            f"skipped (validate reports them as row:malformed / row:field_count): {where}\n"
        )
    sys.stdout.write(source)
    return 0


def _cmd_compile(args: argparse.Namespace) -> int:
    from pyrustpipe.api import load_rules
    from pyrustpipe.compiled import compile

    schema = load_rules(args.rules)
    compiled = compile(schema)
    if args.table:
        width = max(len(rule.name) for rule in compiled.rules)
        for rule in compiled.rules:
            sys.stdout.write(
                f"{rule.name:<{width}}  {rule.severity:<5}  {rule.scope:<7}  {rule.description}\n"
            )
    else:
        shown = compiled.spec if args.normalized else schema.to_spec()
        sys.stdout.write(json.dumps(shown, indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()
    sys.stderr.write(f"ruleset_hash: {compiled.ruleset_hash}\n")
    for python_rule in schema.python_rules():
        sys.stderr.write(
            f"{PROG}: warning: row rule {python_rule.name!r} runs in Python and is not part of "
            "the spec\n"
        )
    return 0


def _age(text: str) -> float:
    """``90s``, ``30m``, ``24h``, ``7d`` or a number of seconds, as seconds."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    number, unit = (text[:-1], text[-1]) if text[-1:] in units else (text, "s")
    try:
        seconds = float(number) * units[unit]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an age: {text!r} (use 90s, 30m, 24h or 7d)"
        ) from None
    if not seconds >= 0:
        raise argparse.ArgumentTypeError(f"an age cannot be negative: {text!r}")
    return seconds


def _cmd_gc(args: argparse.Namespace) -> int:
    from pyrustpipe import _engine

    storage = _storage_options(args)
    options = json.dumps({"storage_options": storage} if storage else {})
    done = _engine.gc(args.prefix, args.older_than, args.dry_run, options)
    verb = "would remove" if args.dry_run else "removed"
    for item in done["removed"]:
        what = f" ({item['objects']} objects)" if item["kind"] == "attempt" else ""
        sys.stdout.write(f"{verb} {item['kind']} {item['uri']}{what}, {item['age_s']}s old\n")
    for note in done["notes"]:
        sys.stderr.write(f"{PROG}: note: {note}\n")
    if not done["removed"]:
        sys.stdout.write("nothing to remove\n")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from pyrustpipe.report import Report

    try:
        report = Report.from_file(args.path)
    except (ValueError, KeyError, TypeError) as exc:
        raise _UsageError(f"{args.path}: not a pyrustpipe report ({exc})") from None
    return _print_report(report, args.format)


# ------------------------------------------------------------------------------------------------


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.filename and exc.strerror:
        return f"{exc.strerror}: {exc.filename}"
    text = str(exc) or type(exc).__name__
    return " ".join(text.split()) if "\n" in text else text


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    from pyrustpipe.exceptions import PyRustPipeError

    if argv is None:
        argv = sys.argv[1:]
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    warnings.showwarning = _show_warning
    # Only the main thread may set handlers (tests call main() from others too).
    previous = None
    with suppress(ValueError):  # raised in any thread but the main one
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        code: int = args.handler(args)
    except KeyboardInterrupt as exc:
        sys.stderr.write(f"{PROG}: {_cancel_note(exc)}\n")
        return 130
    except _Terminated as exc:
        sys.stderr.write(f"{PROG}: {_cancel_note(exc)}\n")
        return 143
    except BrokenPipeError:
        return 1
    except (PyRustPipeError, OSError, ImportError, ValueError, _UsageError) as exc:
        if os.environ.get("PYRUSTPIPE_DEBUG"):
            raise
        sys.stderr.write(f"{PROG}: error: {_describe(exc)}\n")
        return 2
    except Exception as exc:
        if os.environ.get("PYRUSTPIPE_DEBUG"):
            raise
        sys.stderr.write(
            f"{PROG}: error: internal error ({type(exc).__name__}: {_describe(exc)}); "
            "rerun with PYRUSTPIPE_DEBUG=1 for the traceback\n"
        )
        return 2
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return code


def run() -> NoReturn:
    """The ``pyrustpipe`` program: run the command line, then exit with its code.

    What the imports made is frozen before the command runs, so its garbage collections do not
    walk those objects again (1.5M of a 10-row ``validate``'s 172M instructions), and what is left
    is frozen at exit, so the interpreter's last collection does not walk it either (~5 ms of a
    1M-row ``validate``'s ~185 ms); the memory goes back with the process. ``main`` never
    freezes: its in-process callers go on running."""
    gc.freeze()
    code = main()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
