"""``pyrustpipe init``: write a ready-to-edit ``pp.Schema`` class from a data profile."""

from __future__ import annotations

import keyword
import math
import re
from typing import Any

from pyrustpipe.exceptions import SchemaError
from pyrustpipe.schema import check_pattern

__all__ = ["attribute_name", "class_name_for", "schema_source"]

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
_RESERVED = frozenset({"Config", "to_spec", "spec_json", "python_rules", "mro"})
MAX_ISIN = 20


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


def _number(value: object, dtype: str) -> str | None:
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
    return repr(number)


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
    if dtype in ("int", "float"):
        low = _number(column.get("min"), dtype)
        high = _number(column.get("max"), dtype)
        if low is not None:
            args.append(f"ge={low}")
        if high is not None:
            args.append(f"le={high}")
    top = column.get("top_values")
    if (
        dtype in ("str", "int")
        and isinstance(top, list)
        and 0 < len(top) <= MAX_ISIN
        and distinct is not None
        and distinct < rows / 2
    ):
        try:
            values = [repr(int(v)) if dtype == "int" else repr(str(v)) for v in top]
        except (TypeError, ValueError):
            values = []
        if values:
            args.append(f"isin=[{', '.join(values)}]")
    if dtype == "str":
        pattern = column.get("pattern")
        if isinstance(pattern, str) and pattern:
            try:
                args.append(f"pattern={check_pattern('init', pattern)!r}")
            except SchemaError:
                pass
        lengths = (column.get("min_length"), column.get("max_length"))
        if all(isinstance(v, int) for v in lengths):
            notes.append(f"length {lengths[0]}–{lengths[1]}")
    if column.get("unique") and dtype in ("str", "int") and rows > 1 and not nulls:
        args.append("unique=True")
    return args, notes


def schema_source(profile: dict[str, Any], class_name: str) -> str:
    """Python source of a ``pp.Schema`` subclass describing ``profile`` (see ``_core.profile``)."""
    if not class_name.isidentifier() or keyword.iskeyword(class_name):
        raise SchemaError(f"--name {class_name!r} is not a valid Python class name")
    rows = int(profile.get("rows") or 0)
    sources = profile.get("sources") or []
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
        comment = f"  # {', '.join(notes)}" if notes else ""
        lines.append(f"    {attr}: {type_text} = pp.Field({', '.join(args)}){comment}")
    header = [
        (
            f'"""Rules drafted by `pyrustpipe init` from {", ".join(sources) or "the data"} '
            f"({rows} rows)."
        ),
        "",
        "Review every rule before using it as a gate: the bounds and value sets below are what",
        "the sample happened to contain, not what the data must contain.",
        '"""',
        "",
    ]
    if temporal:
        header.append(f"from datetime import {', '.join(sorted(temporal))}")
    if needs_decimal:
        header.append("from decimal import Decimal")
    if temporal or needs_decimal:
        header.append("")
    header += ["import pyrustpipe as pp", "", ""]
    body = [f"class {class_name}(pp.Schema):"]
    body += lines or ["    pass"]
    body += [
        "",
        "    class Config:",
        "        strict = True  # columns not listed above fail",
        "",
    ]
    return "\n".join(header + body)
