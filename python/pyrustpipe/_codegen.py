"""``pyrustpipe init``: write a ready-to-edit ``pp.Schema`` class from a data profile."""

from __future__ import annotations

import keyword
import math
import re
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from pyrustpipe.exceptions import SchemaError

__all__ = ["attribute_name", "class_name_for", "looks_like_id", "schema_source"]

_PY_TYPE = {
    "str": "str",
    "int": "int",
    "float": "float",
    "bool": "bool",
    "date": "date",
    "datetime": "datetime",
    "time": "time",
    "decimal": "Decimal",
}
# Schema members, and the names the generated module imports (an attribute `date` would hide
# the type `date` from the annotations after it).
_RESERVED = frozenset(
    {"Config", "to_spec", "spec_json", "python_rules", "mro"}
    | {"pp", "date", "datetime", "time", "Decimal"}
)
MAX_ISIN = 20


def _engine_compiles(pattern: str) -> bool:
    """Whether the engine accepts ``pattern`` (a profile written by another engine version, or
    by hand, may hold one it does not)."""
    import json

    from pyrustpipe import _engine

    check = {"type": "pattern", "pattern": pattern}
    column = {"name": "x", "dtype": "str", "checks": [check]}
    try:
        _engine.compile_spec(json.dumps({"spec_version": 1, "columns": [column]}))
    except SchemaError:
        return False
    return True


def attribute_name(column: str, used: set[str]) -> str:
    """A valid, unused Python attribute for ``column`` (``alias=`` keeps the real name)."""
    name = re.sub(r"\W", "_", column.strip())
    if not name or not name.replace("_", ""):
        name = "column"
    if name[0].isdigit():
        name = "c_" + name
    if name.startswith("_"):
        name = "f" + name
    if keyword.iskeyword(name) or name in _RESERVED:
        name += "_"
    base, counter = name, 2
    while name in used:
        name = f"{base}_{counter}"
        counter += 1
    used.add(name)
    return name


def class_name_for(source: str) -> str:
    """``data/mobile_money-2024.csv`` → ``MobileMoney2024``."""
    stem = re.split(r"[\\/]", source.rstrip("/\\"))[-1].split(".")[0]
    parts = [p for p in re.split(r"[^0-9A-Za-z]+", stem) if p]
    name = "".join(p[:1].upper() + p[1:] for p in parts)
    if not name or not name[0].isalpha():
        name = "Data" + name
    return name


# Float bounds keep this many significant digits, rounded outwards: a bound describes the
# sample's range, and a short decimal is read back to the same double by every JSON parser
# (a 17-digit one may come back one unit in the last place inside the range).
SIGNIFICANT = 6


def _number(value: object, dtype: str, *, up: bool = False) -> str | None:
    """An ``int`` bound as it is; a ``float`` bound rounded outwards (down, or ``up``)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        if dtype == "int":
            return repr(int(value))  # type: ignore[call-overload]
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number):
        return None
    exact = Decimal(repr(number))
    if not exact:
        return repr(number)
    step = Decimal(1).scaleb(exact.adjusted() - (SIGNIFICANT - 1))
    rounded = exact.quantize(step, rounding=ROUND_CEILING if up else ROUND_FLOOR)
    return repr(float(rounded))


# Names that say "identifier": only these are proposed as unique keys (a measurement column can
# be all-distinct in a sample without being a key).
_ID_NAME = re.compile(
    r"(?i:(^|[^A-Za-z])(id|key|uuid|guid|code|ref|no|num|number)$)|[a-z0-9](Id|ID|Key|No|Code)$"
)


def looks_like_id(column: str) -> bool:
    """Whether ``column``'s name reads like an identifier (``id``, ``txn_id``, ``customerId``)."""
    return bool(_ID_NAME.search(column.strip()))


def _value_set(column: dict[str, Any], dtype: str) -> list[str]:
    """The ``isin`` literals, in a stable order (numbers sorted as numbers)."""
    top = column.get("top_values")
    if not isinstance(top, list) or not top:
        return []
    try:
        if dtype == "int":
            return [repr(v) for v in sorted({int(v) for v in top})]
        return [repr(v) for v in sorted({str(v) for v in top})]
    except (TypeError, ValueError):
        return []


def _field_args(column: dict[str, Any], rows: int) -> tuple[list[str], list[str]]:
    dtype = column.get("dtype", "str")
    args: list[str] = []
    notes: list[str] = []
    nulls = int(column.get("null_count") or 0)
    distinct = column.get("distinct_count")
    if nulls:
        notes.append(f"{nulls} null{'s' if nulls != 1 else ''}")
    if distinct is not None:
        notes.append(f"{distinct} distinct")
    if column.get("nested"):
        notes.append("JSON objects/arrays, checked as their JSON text")
        return args, notes
    fmt = column.get("format")
    if dtype in ("date", "datetime", "time") and isinstance(fmt, str) and fmt:
        args.append(f"format={fmt!r}")
        others = [f for f in column.get("ambiguous_formats") or [] if isinstance(f, str)]
        if others:
            notes.append(
                f"day/month order is ambiguous in the sample: {' or '.join(others)} also reads "
                "every value; check which one is meant"
            )
    if dtype in ("int", "float"):
        low = _number(column.get("min"), dtype)
        high = _number(column.get("max"), dtype, up=True)
        if low is not None:
            args.append(f"ge={low}")
        if high is not None:
            args.append(f"le={high}")
    values = _value_set(column, dtype) if dtype in ("str", "int") else []
    use_set = 0 < len(values) <= MAX_ISIN and distinct is not None and distinct < rows / 2
    if use_set:
        args.append(f"isin=[{', '.join(values)}]")
    if dtype == "str":
        pattern = column.get("pattern")
        if isinstance(pattern, str) and pattern and not use_set and _engine_compiles(pattern):
            args.append(f"pattern={pattern!r}")
        lengths = (column.get("min_length"), column.get("max_length"))
        if all(isinstance(v, int) for v in lengths):
            notes.append(f"length {lengths[0]}–{lengths[1]}")
    if (
        column.get("unique")
        and dtype in ("str", "int")
        and rows > 1
        and not nulls
        and looks_like_id(str(column.get("name", "")))
    ):
        args.append("unique=True")
    return args, notes


def _header(profile: dict[str, Any]) -> list[str]:
    """The module docstring: where the rules come from and what to review."""
    rows = int(profile.get("rows") or 0)
    sources = [str(s) for s in profile.get("sources") or []]
    shown = ", ".join(sources[:3]) + (f" and {len(sources) - 3} more" if len(sources) > 3 else "")
    fmt = profile.get("format") or "csv"
    lines = [
        f'"""Rules drafted by `pyrustpipe init` from {shown or "the data"} ({fmt}, {rows} rows).',
        "",
    ]
    if profile.get("sampled"):
        lines += [
            f"Sampled: only the first {rows} rows were profiled (--sample-rows); rows after them",
            "may hold values these rules reject.",
            "",
        ]
    malformed = int(profile.get("malformed_rows") or 0)
    if malformed:
        lines += [
            f"{malformed} malformed row{'s' if malformed != 1 else ''} (wrong field count or not a "
            "JSON object) were skipped;",
            "validate reports them as failures.",
            "",
        ]
    if profile.get("header") is False and fmt == "csv":
        lines += [
            "The data has no header row, so the columns are named column_1, column_2, ...",
            "(Config.header = False: validate reads the fields in this order).",
            "",
        ]
    keys = [str(k) for k in profile.get("candidate_keys") or []]
    if keys:
        lines += [f"Candidate keys (every value distinct, none null): {', '.join(keys)}.", ""]
    lines += [
        "Review every rule before using it as a gate: the bounds and value sets below are what",
        "the sample happened to contain, not what the data must contain.",
        '"""',
        "",
    ]
    return lines


def _config(profile: dict[str, Any]) -> list[str]:
    lines = ["    class Config:", "        strict = True  # columns not listed above fail"]
    delimiter = profile.get("delimiter")
    if isinstance(delimiter, str) and delimiter and delimiter != ",":
        lines.append(f"        delimiter = {delimiter!r}")
    null_values = profile.get("null_values")
    if isinstance(null_values, list) and [str(v) for v in null_values] != [""]:
        shown = ", ".join(repr(str(v)) for v in null_values)
        lines.append(f"        null_values = [{shown}]")
    if profile.get("header") is False and (profile.get("format") or "csv") == "csv":
        lines.append("        header = False  # the fields are the columns above, in order")
    return lines


def schema_source(profile: dict[str, Any], class_name: str) -> str:
    """Python source of a ``pp.Schema`` subclass describing ``profile`` (see ``_core.profile``)."""
    if not class_name.isidentifier() or keyword.iskeyword(class_name):
        raise SchemaError(f"--name {class_name!r} is not a valid Python class name")
    rows = int(profile.get("rows") or 0)
    used: set[str] = set()
    lines: list[str] = []
    temporal: set[str] = set()
    needs_decimal = False
    for column in profile.get("columns") or []:
        real = str(column.get("name", ""))
        attr = attribute_name(real, used)
        dtype = column.get("dtype") if column.get("dtype") in _PY_TYPE else "str"
        type_text = _PY_TYPE[dtype]
        if dtype in ("date", "datetime", "time"):
            temporal.add(dtype)
        needs_decimal |= dtype == "decimal"
        if int(column.get("null_count") or 0):
            type_text += " | None"
        args, notes = _field_args({**column, "dtype": dtype}, rows)
        if attr != real:
            args.append(f"alias={real!r}")
        if column.get("sensitive"):
            args.append("sensitive=True")
        comment = f"  # {', '.join(notes)}" if notes else ""
        lines.append(f"    {attr}: {type_text} = pp.Field({', '.join(args)}){comment}")
    header = _header(profile)
    if temporal:
        header.append(f"from datetime import {', '.join(sorted(temporal))}")
    if needs_decimal:
        header.append("from decimal import Decimal")
    if temporal or needs_decimal:
        header.append("")
    header += ["import pyrustpipe as pp", "", ""]
    body = [f"class {class_name}(pp.Schema):"]
    body += lines or ["    pass"]
    body += ["", *_config(profile), ""]
    return "\n".join(header + body)
