"""The typed rule DSL: :class:`Schema`, :func:`Field`, :class:`Check`, :class:`Unique`.

A ``Schema`` subclass compiles to the spec (docs/spec.md) when the class is defined, so every
mistake in the rules is a :class:`~pyrustpipe.SchemaError` naming the field, at import time:

>>> import pyrustpipe as pp
>>> class Payments(pp.Schema):
...     txn_id: str = pp.Field(pattern=r"^TX[0-9]{10}$", unique=True)
...     amount: float = pp.Field(gt=0, le=1_000_000)
...     fee: float = pp.Field(ge=0)
...     agent_id: str | None = pp.Field()
...
...     @pp.validate
...     def fee_within_amount(row):
...         return row.fee <= row.amount
>>> spec = Payments.to_spec()
>>> [c["name"] for c in spec["columns"]]
['txn_id', 'amount', 'fee', 'agent_id']
>>> spec["row_rules"][0]["name"], spec["row_rules"][0]["expr"]["op"]
('fee_within_amount', 'le')
>>> try:
...     class Broken(pp.Schema):
...         code: int = pp.Field(pattern="^[0-9]+$")
... except pp.SchemaError as exc:
...     print(exc)
Broken.code: pattern applies to str columns, not int
"""

from __future__ import annotations

import datetime as _dt
import decimal
import re
import sys
import types
import typing
import warnings
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any, ClassVar, Literal, TypeAlias, cast

from pyrustpipe._common import (
    clone,
    did_you_mean,
    normalize_severity,
    normalize_tolerance,
    number,
    scalar,
)
from pyrustpipe.exceptions import SchemaError, UntraceableRuleWarning
from pyrustpipe.expr import (
    DatasetCheck,
    Expr,
    MetricExpr,
    _format,
    col,
    columns_of,
    is_boolean,
    rename_columns,
    row_count,
)
from pyrustpipe.spec import (
    SPEC_VERSION,
    ColumnCheck,
    ColumnSpec,
    DatasetCheckSpec,
    Dtype,
    ExprNode,
    RowRuleSpec,
    RuleSettings,
    Severity,
    SpecDict,
    Tolerance,
    UniqueKeySpec,
)

__all__ = [
    "Check",
    "Field",
    "FieldInfo",
    "PythonRule",
    "Schema",
    "Unique",
    "rule_marker",
]

_PY_TYPES: dict[object, Dtype] = {
    str: "str",
    int: "int",
    float: "float",
    bool: "bool",
    Decimal: "decimal",
    _dt.date: "date",
    _dt.datetime: "datetime",
    _dt.time: "time",
}
_FALLBACK_NAMES: dict[str, object] = {
    "str": str,
    "int": int,
    "float": float,
    "bool": bool,
    "Decimal": Decimal,
    "decimal": decimal,
    "date": _dt.date,
    "datetime": _dt.datetime,
    "time": _dt.time,
    "Optional": typing.Optional,
    "Union": typing.Union,
    "Annotated": typing.Annotated,
    "ClassVar": ClassVar,
}
_NUMERIC = frozenset({"int", "float", "decimal"})
_TEMPORAL = frozenset({"date", "datetime", "time"})
_LOOKAROUND = r"\(\?<?[=!]"
_BACKREF = r"(?<!\\)(?:\\\\)*\\[1-9]"
_ISO_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}\Z"
_ISO_TIME = r"^[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?\Z"
_ISO_DATETIME = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?"
    r"(Z|[+-][0-9]{2}:?[0-9]{2})?\Z"
)
_CONFIG_KEYS = frozenset(
    {
        "strict",
        "ordered",
        "unique",
        "min_rows",
        "max_rows",
        "checks",
        "delimiter",
        "quote",
        "null_values",
        "header",
        "csv_strict",
        "name",
    }
)
_MISSING: Any = object()
_LISTED_COLUMNS = 20  # declared columns named in an "unknown column" error, at most
# What Field() returns, as far as type checkers know: anything, so that
# `amount: float = pp.Field(gt=0)` type-checks (as with pydantic.Field).
FieldValue: TypeAlias = Any


# (regex sources, compiled and cached by `re` on first use: keeps `import pyrustpipe` fast)

# ----------------------------------------------------------------------------------------------
# user-facing building blocks


class Check:
    """A constraint value with its own severity / tolerance / rule name.

    >>> import pyrustpipe as pp
    >>> class T(pp.Schema):
    ...     amount: float = pp.Field(gt=0, le=pp.Check(10_000, severity="warn", tolerance=0.01))
    >>> T.to_spec()["columns"][0]["checks"][1]
    {'type': 'le', 'value': 10000, 'severity': 'warn', 'tolerance': {'fraction': 0.01}}
    """

    __slots__ = ("name", "severity", "tolerance", "value")

    def __init__(
        self,
        value: object,
        *,
        severity: Severity | None = None,
        tolerance: float | None = None,
        name: str | None = None,
    ) -> None:
        if isinstance(value, Check):
            raise TypeError("pp.Check() cannot wrap another pp.Check()")
        self.value = value
        self.severity = severity
        self.tolerance = tolerance
        self.name = name

    def __repr__(self) -> str:
        extra = "".join(
            f", {k}={getattr(self, k)!r}"
            for k in ("severity", "tolerance", "name")
            if getattr(self, k) is not None
        )
        return f"Check({self.value!r}{extra})"


class FieldInfo:
    """What :func:`Field` returns: the constraints of one column (immutable)."""

    __slots__ = (
        "alias",
        "constraints",
        "format",
        "severity",
        "tolerance",
    )

    def __init__(
        self,
        constraints: dict[str, Any],
        *,
        format: str | None,
        severity: Severity | None,
        tolerance: float | None,
        alias: str | None,
    ) -> None:
        self.constraints = constraints
        self.format = format
        self.severity = severity
        self.tolerance = tolerance
        self.alias = alias

    def __repr__(self) -> str:
        parts = [f"{k}={v!r}" for k, v in self.constraints.items()]
        for key in ("format", "severity", "tolerance", "alias"):
            value = getattr(self, key)
            if value is not None:
                parts.append(f"{key}={value!r}")
        return f"Field({', '.join(parts)})"


def Field(
    *,
    gt: object = None,
    ge: object = None,
    lt: object = None,
    le: object = None,
    min_length: int | Check | None = None,
    max_length: int | Check | None = None,
    pattern: str | Check | None = None,
    isin: Iterable[object] | Check | None = None,
    not_in: Iterable[object] | Check | None = None,
    unique: bool | Literal["first"] | Check = False,
    format: str | None = None,
    severity: Severity | None = None,
    tolerance: float | None = None,
    alias: str | None = None,
) -> FieldValue:
    """Constraints of a column. Every constraint is optional; a null value skips them all.

    - ``gt ge lt le``: bounds (numbers; ``date`` / ``datetime`` / ``time`` objects or ISO
      strings for temporal columns).
    - ``min_length max_length``: string length in characters.
    - ``pattern``: a Rust-``regex`` search (no look-around, no back-references).
    - ``isin`` / ``not_in``: allowed / forbidden values.
    - ``unique``: ``True`` (every repeated value fails) or ``"first"`` (the first one passes).
    - ``format``: strftime-style format of a date / datetime / time column (ISO 8601 if absent).
    - ``severity`` (``"error"`` | ``"warn"``) and ``tolerance`` (``int`` count or ``float``
      fraction) apply to every rule of the column, ``not_null`` and ``type`` included; wrap one
      value in :class:`Check` to override them for that constraint only.
    - ``alias``: the column's name in the data, when it differs from the attribute.

    The return type is ``Any`` so that ``amount: float = pp.Field(gt=0)`` type-checks.
    """
    constraints: dict[str, Any] = {}
    for key, value in (
        ("gt", gt),
        ("ge", ge),
        ("lt", lt),
        ("le", le),
        ("min_length", min_length),
        ("max_length", max_length),
        ("pattern", pattern),
        ("isin", isin),
        ("not_in", not_in),
    ):
        if value is not None:
            constraints[key] = value
    if unique is not False and unique is not None:
        constraints["unique"] = unique
    return FieldInfo(
        constraints, format=format, severity=severity, tolerance=tolerance, alias=alias
    )


class Unique:
    """A composite uniqueness key for ``Config.unique``.

    >>> import pyrustpipe as pp
    >>> key = pp.Unique(("sender", "timestamp"), keep="first", severity="warn")
    >>> key.columns, key.keep
    (('sender', 'timestamp'), 'first')
    """

    __slots__ = ("columns", "keep", "name", "severity", "tolerance")

    def __init__(
        self,
        columns: Iterable[str],
        *,
        keep: Literal["none", "first"] = "none",
        severity: Severity = "error",
        tolerance: float | None = None,
        name: str | None = None,
    ) -> None:
        if isinstance(columns, str):
            columns = (columns,)
        self.columns = tuple(columns)
        self.keep = keep
        self.severity = severity
        self.tolerance = tolerance
        self.name = name

    def __repr__(self) -> str:
        return f"Unique({self.columns!r}, keep={self.keep!r})"


class _RuleMarker:
    __slots__ = ("name", "severity", "tolerance")

    def __init__(self, name: str | None, severity: Severity, tolerance: Tolerance | None) -> None:
        self.name = name
        self.severity = severity
        self.tolerance = tolerance


_F = typing.TypeVar("_F", bound=Callable[..., Any])


def rule_marker(
    func: _F,
    *,
    name: str | None = None,
    severity: Severity | str = "error",
    tolerance: float | None = None,
) -> _F:
    """Mark ``func`` as a row rule (what ``@pp.validate`` does)."""
    target = func.__func__ if isinstance(func, staticmethod) else func
    if not callable(target):
        raise TypeError(f"@pp.validate decorates a function, not {func!r}")
    where = f"row rule {getattr(target, '__name__', target)!r}"
    marker = _RuleMarker(
        name, normalize_severity(severity, where), normalize_tolerance(tolerance, where)
    )
    try:
        target.__pp_rule__ = marker  # type: ignore[attr-defined]
    except AttributeError as exc:  # builtins, functools.partial with slots...
        raise TypeError(f"@pp.validate cannot mark {func!r}: {exc}") from None
    return func


class PythonRule:
    """A row rule that could not be traced: it runs in Python (see ``_python_rules``)."""

    __slots__ = ("attributes", "func", "name", "reason", "severity", "tolerance")

    def __init__(
        self,
        name: str,
        func: Callable[[Any], Any],
        severity: Severity,
        tolerance: Tolerance | None,
        reason: str,
        attributes: dict[str, str],
    ) -> None:
        self.name = name
        self.func = func
        self.severity: Severity = severity
        self.tolerance = tolerance
        self.reason = reason
        self.attributes = attributes  # attribute -> column name

    def __repr__(self) -> str:
        return f"PythonRule({self.name!r}, reason={self.reason!r})"


# ----------------------------------------------------------------------------------------------
# tracing


class _UnknownColumn(AttributeError):
    pass


class _SymbolicRow:
    """The row a rule is traced with: ``row.<attribute>``, ``row.<column>`` and ``row["<column>"]``
    are ``pp.col(<column>)``. Every other name it is asked for is kept in ``unknown``, so that a
    typo is reported even when the rule swallows the error (``getattr(row, "x", None)``)."""

    __slots__ = ("_columns", "unknown")
    unknown: list[object]

    def __init__(self, columns: dict[str, str]) -> None:
        object.__setattr__(self, "_columns", columns)
        object.__setattr__(self, "unknown", [])

    def _read(self, name: object) -> Expr:
        columns: dict[str, str] = object.__getattribute__(self, "_columns")
        if isinstance(name, str):
            if name in columns:
                return col(columns[name])
            if name in columns.values():
                return col(name)
        object.__getattribute__(self, "unknown").append(name)
        raise _UnknownColumn(f"reads unknown column {name!r}")

    def __getattr__(self, name: str) -> Expr:
        columns: dict[str, str] = object.__getattribute__(self, "_columns")
        if name.startswith("_") and name not in columns.values():
            # private names and dunders (copy, pickle... probe them) are not column reads
            raise AttributeError(name)
        return self._read(name)

    def __getitem__(self, name: str) -> Expr:
        return self._read(name)

    def __setattr__(self, name: str, value: object) -> None:
        raise TypeError("a row rule cannot assign to the row")


def _trace(
    func: Callable[[Any], Any], columns: dict[str, str]
) -> tuple[Expr | None, str, list[object]]:
    """Run ``func`` once on a symbolic row. Returns (expression, "", unknown names) or
    (None, reason, unknown names); the unknown names are every non-column the rule asked for."""
    row = _SymbolicRow(columns)
    expr, reason = _run_trace(func, row)
    return expr, reason, list(row.unknown)


def _run_trace(func: Callable[[Any], Any], row: _SymbolicRow) -> tuple[Expr | None, str]:
    try:
        result = func(row)
    except _UnknownColumn as exc:
        return None, str(exc)
    except TypeError as exc:
        if "truth value of a column expression" in str(exc):
            return None, (
                "uses and / or / not / if (or a builtin like min, max, any) on a column value; "
                "use & | ~ to keep it in Rust"
            )
        return None, f"raised TypeError while tracing: {exc}"
    except Exception as exc:  # noqa: BLE001 - any failure means "run it in Python"
        return None, f"raised {type(exc).__name__} while tracing: {exc}"
    if isinstance(result, Expr):
        return result, ""
    return None, f"returned {type(result).__name__} {result!r}, not a column expression"


def _static_row_reads(func: Callable[[Any], Any]) -> list[str]:
    """The names the code of ``func`` reads off its row argument as ``row.name`` or
    ``row["name"]``, found in its bytecode (nested lambdas and generators included).

    Tracing stops at the first ``and`` / ``if`` on a column, so a typo after it is never executed
    while tracing; this finds it anyway. Names starting with ``_`` are left alone."""
    code = getattr(func, "__code__", None)
    if not isinstance(code, types.CodeType) or code.co_argcount < 1:
        return []
    return _code_row_reads(code, code.co_varnames[0])


def _code_row_reads(code: types.CodeType, row: str) -> list[str]:
    import dis

    instructions = list(dis.get_instructions(code))
    for store in instructions:
        if store.opname.startswith(("STORE_FAST", "STORE_DEREF", "DELETE_FAST")) and (
            store.argval == row or (isinstance(store.argval, tuple) and row in store.argval)
        ):
            return []  # the name is rebound: past that point it is not the row
    names: list[str] = []
    for index, loads in enumerate(instructions[:-1]):
        if not loads.opname.startswith(("LOAD_FAST", "LOAD_DEREF")):
            continue
        # LOAD_FAST_LOAD_FAST (3.13+) pushes two locals: the row must be the second (on top)
        loaded = loads.argval[-1] if isinstance(loads.argval, tuple) else loads.argval
        if loaded != row:
            continue
        after = instructions[index + 1]
        if after.opname in ("LOAD_ATTR", "LOAD_METHOD"):
            names.append(str(after.argval))
        elif (
            after.opname == "LOAD_CONST"
            and isinstance(after.argval, str)
            and index + 2 < len(instructions)
            and (
                instructions[index + 2].opname == "BINARY_SUBSCR"
                or instructions[index + 2].argrepr == "[]"
            )
        ):
            names.append(after.argval)
    for const in code.co_consts:
        if isinstance(const, types.CodeType) and row in const.co_freevars:
            names.extend(_code_row_reads(const, row))
    return [n for n in names if not n.startswith("_")]


def _unknown_reads(
    where: str, unknown: Iterable[object], columns: dict[str, str]
) -> SchemaError | None:
    """The error for a row rule that reads names that are not columns (``None`` if it does not)."""
    known = set(columns) | set(columns.values())
    names = [n for n in dict.fromkeys(unknown) if n not in known]
    if not names:
        return None
    hints = [did_you_mean(n, known) for n in names]
    shown = ", ".join(f"{n!r}{hint}" for n, hint in zip(names, hints, strict=True))
    noun = "column" if len(names) == 1 else "columns"
    message = f"{where}: row rule reads unknown {noun} {shown}"
    if not all(hints):
        # no close name for one of them: say what can be read, and that declaring is the way
        declared = list(columns.values())
        listed = ", ".join(declared[:_LISTED_COLUMNS]) or "none"
        if len(declared) > _LISTED_COLUMNS:
            listed += f", … ({len(declared)} in all)"
        message += f"; a row rule reads only declared columns ({listed})"
    return SchemaError(message)


# ----------------------------------------------------------------------------------------------
# annotations


def _resolve_annotation(cls: type, attr: str, annotation: object) -> object:
    if not isinstance(annotation, str):
        return annotation
    module = sys.modules.get(cls.__module__)
    namespace: dict[str, Any] = dict(_FALLBACK_NAMES)
    if module is not None:
        namespace.update(vars(module))
    try:
        return eval(annotation, namespace, dict(vars(cls)))
    except Exception as exc:  # noqa: BLE001
        raise SchemaError(
            f"{cls.__name__}.{attr}: cannot resolve the type annotation {annotation!r} ({exc})"
        ) from None


def _is_classvar(annotation: object) -> bool:
    return annotation is ClassVar or typing.get_origin(annotation) is ClassVar


def _dtype_of(cls_name: str, attr: str, annotation: object) -> tuple[Dtype, bool]:
    """(dtype, nullable) of an annotation."""
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    nullable = False
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(annotation)) == 2:
            nullable = True
            annotation = args[0]
            if typing.get_origin(annotation) is typing.Annotated:
                annotation = typing.get_args(annotation)[0]
    dtype = _PY_TYPES.get(annotation) if isinstance(annotation, type) else None
    if dtype is None:
        shown = getattr(annotation, "__name__", None) or repr(annotation)
        raise SchemaError(
            f"{cls_name}.{attr}: unsupported type {shown}; use str, int, float, bool, "
            "decimal.Decimal, datetime.date, datetime.datetime or datetime.time "
            "(optionally `| None`)"
        )
    return dtype, nullable


# ----------------------------------------------------------------------------------------------
# constraint checking


def _needs_text(value: object) -> bool:
    """A finite Decimal that JSON numbers cannot carry exactly: a fraction, or an integer beyond
    64 bits (a JSON reader parses those as floats)."""
    if not isinstance(value, Decimal) or not value.is_finite():
        return False
    return value != value.to_integral_value() or abs(value) >= 2**63


def _bound_value(where: str, dtype: Dtype, key: str, value: object) -> int | float | str:
    if dtype in _NUMERIC:
        if isinstance(value, (str, _dt.date, _dt.time)):
            raise SchemaError(f"{where}: {key} on a {dtype} column takes a number, not {value!r}")
        if dtype == "decimal" and _needs_text(value):
            # Its exact text: a float would round a many-digit money bound.
            return str(value)
        return number(value, f"{where}: {key}")
    if dtype in _TEMPORAL:
        expected: type = {"date": _dt.date, "datetime": _dt.datetime, "time": _dt.time}[dtype]
        if isinstance(value, str):
            grammar = {"date": _ISO_DATE, "datetime": _ISO_DATETIME, "time": _ISO_TIME}[dtype]
            if not re.match(grammar, value):
                raise SchemaError(f"{where}: {key}={value!r} is not an ISO {dtype}")
            return value
        ok = isinstance(value, expected) and not (
            dtype == "date" and isinstance(value, _dt.datetime)
        )
        if not ok:
            raise SchemaError(
                f"{where}: {key} on a {dtype} column takes a {expected.__name__} or an ISO "
                f"string, not {value!r}"
            )
        return cast(str, cast(Any, value).isoformat())
    raise SchemaError(f"{where}: {key} applies to numeric, date and time columns, not {dtype}")


def _set_values(where: str, dtype: Dtype, key: str, values: object) -> list[Any]:
    if dtype in ("datetime", "time"):
        raise SchemaError(f"{where}: {key} does not apply to {dtype} columns")
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise SchemaError(f"{where}: {key} takes a list of values, not {values!r}")
    out: list[Any] = []
    for value in values:
        bad = False
        if dtype == "str":
            bad = not isinstance(value, str)
        elif dtype == "int":
            bad = isinstance(value, bool) or not isinstance(value, int)
        elif dtype in ("float", "decimal"):
            bad = isinstance(value, bool) or not isinstance(value, (int, float, Decimal))
        elif dtype == "bool":
            bad = not isinstance(value, bool)
        elif dtype == "date":
            if isinstance(value, str):
                bad = not re.match(_ISO_DATE, value)
            else:
                bad = not isinstance(value, _dt.date) or isinstance(value, _dt.datetime)
        if bad:
            raise SchemaError(f"{where}: {key} value {value!r} is not a {dtype}")
        if dtype == "decimal" and _needs_text(value):
            out.append(str(value))  # exact, as for bounds
            continue
        out.append(scalar(value, f"{where}: {key}"))
    if key == "isin" and not out:
        raise SchemaError(f"{where}: isin needs at least one value")
    return out


def check_pattern(where: str, pattern: object) -> str:
    """A cheap Python-side check of a Rust regex (the engine compiles it for real)."""
    if not isinstance(pattern, str):
        raise SchemaError(f"{where}: pattern must be a string, not {pattern!r}")
    if len(pattern.encode()) > 4096:
        raise SchemaError(f"{where}: pattern is longer than 4096 bytes")
    if re.search(_LOOKAROUND, pattern):
        raise SchemaError(
            f"{where}: pattern {pattern!r} uses look-around, which the Rust regex engine "
            "does not support (it guarantees linear time)"
        )
    if re.search(_BACKREF, pattern):
        raise SchemaError(f"{where}: pattern {pattern!r} uses a back-reference (unsupported)")
    return pattern


def _column_spec(
    where: str,
    name: str,
    dtype: Dtype,
    nullable: bool,
    info: FieldInfo,
) -> ColumnSpec:
    severity = normalize_severity(info.severity, where)
    tolerance = normalize_tolerance(info.tolerance, where)
    if info.format is not None:
        if dtype not in _TEMPORAL:
            raise SchemaError(f"{where}: format applies to date, datetime and time columns")
        if not isinstance(info.format, str) or not info.format:
            raise SchemaError(f"{where}: format must be a non-empty string")
    settings: RuleSettings = {"severity": severity, "tolerance": tolerance}
    column: ColumnSpec = {
        "name": name,
        "dtype": dtype,
        "nullable": nullable,
        "format": info.format,
    }  # type: ignore[typeddict-item]
    if not nullable:
        column["not_null"] = dict(settings)  # type: ignore[typeddict-item]
    column["type"] = dict(settings)  # type: ignore[typeddict-item]
    checks: list[ColumnCheck] = []
    for key, raw in info.constraints.items():
        rule_where = f"{where}: {key}"
        options = raw if isinstance(raw, Check) else None
        value = raw.value if isinstance(raw, Check) else raw
        check: dict[str, Any] = {"type": key}
        if key in ("gt", "ge", "lt", "le"):
            check["value"] = _bound_value(where, dtype, key, value)
        elif key in ("min_length", "max_length"):
            if dtype != "str":
                raise SchemaError(f"{where}: {key} applies to str columns, not {dtype}")
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise SchemaError(f"{where}: {key} must be an int >= 0, not {value!r}")
            check["value"] = value
        elif key == "pattern":
            if dtype != "str":
                raise SchemaError(f"{where}: pattern applies to str columns, not {dtype}")
            check["pattern"] = check_pattern(where, value)
        elif key in ("isin", "not_in"):
            check["values"] = _set_values(where, dtype, key, value)
        elif key == "unique":
            if value is True:
                check["keep"] = "none"
            elif value == "first":
                check["keep"] = "first"
            else:
                raise SchemaError(f'{where}: unique must be True or "first", not {value!r}')
        check["severity"] = (
            normalize_severity(options.severity, rule_where)
            if options is not None and options.severity is not None
            else severity
        )
        check["tolerance"] = (
            normalize_tolerance(options.tolerance, rule_where)
            if options is not None and options.tolerance is not None
            else tolerance
        )
        if options is not None and options.name is not None:
            check["name"] = options.name
        checks.append(cast(ColumnCheck, check))
    lengths = {
        c["type"]: c.get("value") for c in checks if c["type"] in ("min_length", "max_length")
    }
    if len(lengths) == 2 and lengths["min_length"] > lengths["max_length"]:
        raise SchemaError(f"{where}: min_length is greater than max_length")
    column["checks"] = checks
    return column


# ----------------------------------------------------------------------------------------------
# the Schema base class


class Schema:
    """Base class of a rule set. Subclass it; annotate one attribute per column.

    Class-level API: :meth:`to_spec`, :meth:`spec_json`. ``Config`` (an inner class) holds
    table-level options: ``strict ordered unique min_rows max_rows checks delimiter quote
    null_values header name``. See docs/dsl.md.
    """

    __pp_spec__: ClassVar[SpecDict]
    __pp_python_rules__: ClassVar[tuple[PythonRule, ...]] = ()
    __pp_fields__: ClassVar[dict[str, tuple[str, FieldInfo, object]]] = {}
    __pp_rules__: ClassVar[dict[str, tuple[Callable[[Any], Any], _RuleMarker]]] = {}
    __pp_config__: ClassVar[dict[str, Any]] = {}

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        _build(cls)

    @classmethod
    def to_spec(cls) -> SpecDict:
        """The spec (docs/spec.md) of this schema, as a fresh dict."""
        if cls is Schema:
            return _empty_spec("Schema")
        spec: SpecDict = clone(cls.__pp_spec__)
        return spec

    @classmethod
    def spec_json(cls, indent: int | None = None) -> str:
        """The spec as JSON text."""
        import json

        return json.dumps(cls.to_spec(), indent=indent, ensure_ascii=False)

    @classmethod
    def python_rules(cls) -> tuple[PythonRule, ...]:
        """The row rules that could not be traced and run in Python."""
        return cls.__pp_python_rules__


def _empty_spec(name: str) -> SpecDict:
    return {
        "spec_version": SPEC_VERSION,
        "name": name,
        "csv": {"delimiter": ",", "quote": '"', "null_values": [""]},
        "strict": False,
        "ordered": False,
        "columns": [],
        "row_rules": [],
        "unique": [],
        "dataset_checks": [],
    }


def _build(cls: type[Schema]) -> None:
    name = cls.__name__
    # ---- fields: inherited first (MRO order, base first), then own, in declaration order
    fields: dict[str, tuple[str, FieldInfo, object]] = {}
    rules: dict[str, tuple[Callable[[Any], Any], _RuleMarker]] = {}
    config: dict[str, Any] = {}
    for base in reversed(cls.__mro__[1:]):
        if isinstance(base, type) and issubclass(base, Schema) and base is not Schema:
            fields.update(base.__pp_fields__)
            rules.update(base.__pp_rules__)
            config.update(base.__pp_config__)
    namespace = vars(cls)
    annotations: dict[str, object] = dict(namespace.get("__annotations__", {}))
    for attr, raw_annotation in annotations.items():
        if attr.startswith("_"):
            continue
        annotation = _resolve_annotation(cls, attr, raw_annotation)
        if _is_classvar(annotation):
            continue
        default = namespace.get(attr, _MISSING)
        where = f"{name}.{attr}"
        dtype, nullable = _dtype_of(name, attr, annotation)
        if default is _MISSING:
            info = Field()
        elif isinstance(default, FieldInfo):
            info = default
        elif default is None:
            if not nullable:
                raise SchemaError(
                    f"{where}: defaults to None but its type is not Optional; "
                    f"write `{attr}: {dtype} | None = None`"
                )
            info = Field()
        else:
            raise SchemaError(
                f"{where}: a plain default value ({default!r}) means nothing to a validator; "
                "use pp.Field(...) for constraints"
            )
        fields[attr] = (dtype + ("?" if nullable else ""), info, annotation)
    for attr, value in namespace.items():
        if isinstance(value, FieldInfo) and attr not in annotations:
            raise SchemaError(f"{name}.{attr}: pp.Field() needs a type annotation ({attr}: type)")
        target = value.__func__ if isinstance(value, staticmethod) else value
        marker = getattr(target, "__pp_rule__", None)
        if isinstance(marker, _RuleMarker) and callable(target):
            rules[str(marker.name or getattr(target, "__name__", attr))] = (
                target,
                marker,
            )
    own_config = namespace.get("Config")
    if own_config is not None:
        for key, value in vars(own_config).items():
            if key.startswith("__"):
                continue
            if key not in _CONFIG_KEYS:
                raise SchemaError(
                    f"{name}.Config: unknown option {key!r} "
                    f"(known: {', '.join(sorted(_CONFIG_KEYS))})"
                )
            config[key] = value
    cls.__pp_fields__ = fields
    cls.__pp_rules__ = rules
    cls.__pp_config__ = config

    # ---- columns
    spec = _empty_spec(config.get("name") or name)
    attr_to_column: dict[str, str] = {}
    dtypes: dict[str, str] = {}
    for attr, (dtype_text, info, _annotation) in fields.items():
        column_name = attr if info.alias is None else info.alias
        if not isinstance(column_name, str) or not column_name:
            raise SchemaError(f"{name}.{attr}: alias must be a non-empty string")
        if column_name in dtypes:
            raise SchemaError(f"{name}.{attr}: column {column_name!r} is declared twice")
        nullable = dtype_text.endswith("?")
        dtype = cast(Dtype, dtype_text.rstrip("?"))
        spec["columns"].append(_column_spec(f"{name}.{attr}", column_name, dtype, nullable, info))
        attr_to_column[attr] = column_name
        dtypes[column_name] = dtype

    def resolve(column: str, where: str) -> str:
        """The data's name of ``column`` (an attribute or a column name); a typo is an error."""
        if column in dtypes:
            return column
        if column in attr_to_column:
            return attr_to_column[column]
        hint = did_you_mean(column, list(attr_to_column) + list(dtypes))
        raise SchemaError(f"{where} reads unknown column {column!r}{hint}")

    # ---- config
    where = f"{name}.Config"
    for key in ("strict", "ordered"):
        if key in config:
            if not isinstance(config[key], bool):
                raise SchemaError(f"{where}: {key} must be True or False")
            spec[key] = config[key]  # type: ignore[literal-required]
    delimiter = config.get("delimiter", ",")
    quote = config.get("quote", '"')
    for key, value in (("delimiter", delimiter), ("quote", quote)):
        if not isinstance(value, str) or len(value) != 1:
            raise SchemaError(f"{where}: {key} must be one character, not {value!r}")
    null_values = config.get("null_values", [""])
    if isinstance(null_values, str) or not all(isinstance(v, str) for v in null_values):
        raise SchemaError(f"{where}: null_values must be a list of strings")
    spec["csv"] = {
        "delimiter": delimiter,
        "quote": quote,
        "null_values": list(null_values),
    }
    header = config.get("header", True)
    if not isinstance(header, bool):
        raise SchemaError(f"{where}: header must be True or False")
    if not header:
        spec["csv"]["header"] = False
    csv_strict = config.get("csv_strict", False)
    if not isinstance(csv_strict, bool):
        raise SchemaError(f"{where}: csv_strict must be True or False")
    if csv_strict:
        spec["csv"]["strict"] = True

    # ---- row rules
    python_rules: list[PythonRule] = []
    for rule_name, (func, marker) in rules.items():
        code = getattr(func, "__code__", None)
        if code is not None:
            required = code.co_argcount - len(getattr(func, "__defaults__", None) or ())
            if required > 1 or code.co_argcount < 1:
                raise SchemaError(
                    f"{name}.{rule_name}: a row rule takes exactly one argument (the row)"
                )
        expr, reason, unknown = _trace(func, attr_to_column)
        typo = _unknown_reads(
            f"{name}.{rule_name}", unknown + _static_row_reads(func), attr_to_column
        )
        if typo is not None:
            raise typo
        if expr is not None:
            if is_boolean(expr._node, dtypes) is False:
                raise SchemaError(
                    f"{name}.{rule_name}: a row rule must return a boolean expression, "
                    f"not {_format(expr._node)}"
                )
            spec["row_rules"].append(
                _row_rule(rule_name, expr._node, marker.severity, marker.tolerance)
            )
        else:
            python_rules.append(
                PythonRule(
                    rule_name,
                    func,
                    marker.severity,
                    marker.tolerance,
                    reason,
                    attr_to_column,
                )
            )
            code = getattr(func, "__code__", None)
            warnings.warn_explicit(
                f"row rule {rule_name!r} of {name} cannot be compiled to Rust and will run in "
                f"Python (slow; local files and in-memory tables only): it {reason}",
                UntraceableRuleWarning,
                filename=code.co_filename if code is not None else "<unknown>",
                lineno=code.co_firstlineno if code is not None else 0,
                module=getattr(func, "__module__", None) or "<unknown>",
            )

    # ---- composite uniqueness
    unique = config.get("unique", [])
    if isinstance(unique, (str, Unique)) or (
        isinstance(unique, tuple) and all(isinstance(c, str) for c in unique)
    ):
        unique = [unique]
    for key in unique:
        if not isinstance(key, Unique):
            if isinstance(key, str):
                key = Unique((key,))
            elif isinstance(key, (tuple, list)) and all(isinstance(c, str) for c in key):
                key = Unique(key)
            else:
                raise SchemaError(
                    f"{where}: unique entries are tuples of column names or pp.Unique(...), "
                    f"not {key!r}"
                )
        key_where = f"{where}: unique {key.columns!r}"
        if not key.columns:
            raise SchemaError(f"{key_where}: needs at least one column")
        if key.keep not in ("none", "first"):
            raise SchemaError(f'{key_where}: keep must be "none" or "first", not {key.keep!r}')
        entry: UniqueKeySpec = {
            "columns": [resolve(c, key_where) for c in key.columns],
            "keep": key.keep,
            "severity": normalize_severity(key.severity, key_where),
            "tolerance": normalize_tolerance(key.tolerance, key_where),
        }
        if key.name is not None:
            entry["name"] = key.name
        spec["unique"].append(entry)

    # ---- dataset checks
    min_rows, max_rows = config.get("min_rows"), config.get("max_rows")
    for key, value in (("min_rows", min_rows), ("max_rows", max_rows)):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 0
        ):
            raise SchemaError(f"{where}: {key} must be an int >= 0 or None, not {value!r}")
    if min_rows is not None or max_rows is not None:
        spec["dataset_checks"].append(DatasetCheck("row_count", None, min_rows, max_rows).to_dict())
    checks = config.get("checks", [])
    if isinstance(checks, (Expr, DatasetCheck, MetricExpr)):
        checks = [checks]
    for index, check in enumerate(checks, start=1):
        check_where = f"{where}: checks[{index - 1}] ({check!r})"
        if isinstance(check, DatasetCheck):
            entry_ds: DatasetCheckSpec = check.to_dict()
            if entry_ds["column"] is not None:
                entry_ds["column"] = resolve(entry_ds["column"], check_where)
            spec["dataset_checks"].append(entry_ds)
        elif isinstance(check, Expr):
            for column_read in sorted(columns_of(check._node)):
                resolve(column_read, check_where)
            node = rename_columns(check._node, attr_to_column_only(attr_to_column, dtypes))
            rule_name = check.name or f"check_{index}"
            if is_boolean(node, dtypes) is False:
                raise SchemaError(
                    f"{where}: checks[{index - 1}] ({check!r}) is not a boolean expression"
                )
            spec["row_rules"].append(_row_rule(rule_name, node, check.severity, check.tolerance))
        elif isinstance(check, MetricExpr):
            raise SchemaError(
                f"{where}: checks[{index - 1}] {check!r} needs a bound, e.g. "
                f"{check!r} >= 0 or {check!r}.between(0, 1)"
            )
        else:
            raise SchemaError(
                f"{where}: checks[{index - 1}] must be a pp.col(...) expression or aggregate "
                f"check, not {check!r}"
            )

    _check_rule_names(name, spec, python_rules)
    cls.__pp_spec__ = spec
    cls.__pp_python_rules__ = tuple(python_rules)


def attr_to_column_only(attr_to_column: dict[str, str], dtypes: dict[str, str]) -> dict[str, str]:
    """Attribute names that are not also column names, mapped to their column."""
    return {a: c for a, c in attr_to_column.items() if a not in dtypes}


def _row_rule(
    name: str, node: ExprNode, severity: Severity, tolerance: Tolerance | None
) -> RowRuleSpec:
    return {
        "name": name,
        "expr": clone(node),
        "severity": severity,
        "tolerance": tolerance,
    }


def rule_names(spec: SpecDict) -> list[str]:
    """Every rule name a spec defines (schema rules excluded), in report order."""
    names: list[str] = []
    for column in spec.get("columns", []):
        if not column.get("nullable", False):
            names.append(f"{column['name']}:not_null")
        names.append(f"{column['name']}:type")
        for check in column.get("checks", []):
            names.append(check.get("name") or f"{column['name']}:{check['type']}")
    for rule in spec.get("row_rules", []):
        names.append(rule["name"])
    for key in spec.get("unique", []):
        names.append(key.get("name") or f"{','.join(key['columns'])}:unique")
    for dataset in spec.get("dataset_checks", []):
        default = "dataset:row_count" if dataset["metric"] == "row_count" else None
        names.append(dataset.get("name") or default or f"{dataset['column']}:{dataset['metric']}")
    return names


def _check_rule_names(schema: str, spec: SpecDict, python_rules: list[PythonRule]) -> None:
    seen: set[str] = set()
    for rule in rule_names(spec) + [r.name for r in python_rules]:
        if rule in seen:
            raise SchemaError(f"{schema}: two rules are named {rule!r}; rename one (alias/name=)")
        seen.add(rule)


# keep these names importable for the tests / other modules
__all__ += ["check_pattern", "columns_of", "row_count", "rule_names"]
