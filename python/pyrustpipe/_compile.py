"""A ``pp.Schema`` class becomes its spec (docs/spec.md): one function per spec section, then the
engine compiles it and its errors are re-labelled ``Class.attribute``.

Python decides only what only Python can know: annotations, Python values as wire values, and
row-rule tracing (``_trace``). What a rule means, and whether it is valid, is the engine's.
"""

from __future__ import annotations

import datetime as _dt
import json
import sys
import types
import warnings
from collections.abc import Callable, Iterable, Mapping

from pyrustpipe._common import (
    clone,
    decimal_class,
    did_you_mean,
    is_decimal,
    normalize_severity,
    normalize_tolerance,
    number,
    scalar,
)
from pyrustpipe._trace import (
    PythonRule,
    RuleMarker,
    names_only_columns,
    static_row_reads,
    trace,
    unknown_reads,
)
from pyrustpipe._typing import TYPE_CHECKING, cast
from pyrustpipe._versions import SPEC_VERSION
from pyrustpipe.exceptions import SchemaError, UntraceableRuleWarning
from pyrustpipe.expr import (
    DatasetCheck,
    Expr,
    MetricExpr,
    _format,
    columns_of,
    is_boolean,
    rename_columns,
)

if TYPE_CHECKING:
    from typing import Any

    from pyrustpipe.schema import FieldInfo, Schema
    from pyrustpipe.spec import (
        ColumnCheck,
        ColumnSpec,
        Dtype,
        ExprNode,
        RowRuleSpec,
        RuleSettings,
        Severity,
        SpecDict,
        Tolerance,
        UniqueKeySpec,
    )

__all__ = ["build", "empty_spec", "relabel"]

_PY_TYPES: dict[object, Dtype] = {
    str: "str",
    int: "int",
    float: "float",
    bool: "bool",
    _dt.date: "date",
    _dt.datetime: "datetime",
    _dt.time: "time",
}
_FALLBACK_NAMES: dict[str, object] = {
    "str": str,
    "int": int,
    "float": float,
    "bool": bool,
    "date": _dt.date,
    "datetime": _dt.datetime,
    "time": _dt.time,
}
_TYPING_NAMES = ("Optional", "Union", "Annotated", "ClassVar")
_NUMERIC = frozenset({"int", "float", "decimal"})
_TEMPORAL_TYPES: dict[str, type] = {"date": _dt.date, "datetime": _dt.datetime, "time": _dt.time}
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
        "dataset",
        "history",
        "profile",
    }
)
_MISSING: Any = object()


class _Build:
    """A class's spec as it is built, and what each spec path is called in the class (the
    labels an engine error is re-labelled with)."""

    __slots__ = ("attr_to_column", "dtypes", "labels", "name", "python_rules", "spec")

    def __init__(self, name: str, spec: SpecDict) -> None:
        self.name = name
        self.spec = spec
        self.labels: dict[str, str] = {}
        self.attr_to_column: dict[str, str] = {}
        self.dtypes: dict[str, str] = {}
        self.python_rules: list[PythonRule] = []


def empty_spec(name: str) -> SpecDict:
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


def build(cls: type[Schema]) -> None:
    """Compile ``cls`` into ``cls.__pp_spec__`` (and its untraceable rules); a mistake is a
    ``SchemaError`` naming ``Class.attribute``, raised while the class is defined."""
    fields, rules, config = _collect(cls)
    name = cls.__name__
    state = _Build(name, empty_spec(config.get("name") or name))
    _columns(state, fields)
    _csv(state, config)
    _row_rules(state, rules)
    _unique(state, config)
    _dataset_checks(state, config)
    # the ledger key and the history checks (pyrustpipe/history.py), imported only for a Config
    # that names them (~1 ms of every other process's start)
    if config.keys() & {"profile", "dataset", "history"}:
        from pyrustpipe import history

        history.apply_config(
            cast("dict[str, Any]", state.spec),
            config,
            f"{name}.Config",
            lambda column, where: _resolve(state, column, where),
        )
    _check_with_engine(state)
    cls.__pp_spec__ = state.spec
    cls.__pp_python_rules__ = tuple(state.python_rules)


# ----------------------------------------------------------------------------------------------
# the class: fields, row rules and Config, inherited first


def _collect(
    cls: type[Schema],
) -> tuple[
    dict[str, tuple[str, FieldInfo, object]],
    dict[str, tuple[Callable[[Any], Any], RuleMarker]],
    dict[str, Any],
]:
    from pyrustpipe.schema import Field, FieldInfo, Schema

    name = cls.__name__
    fields: dict[str, tuple[str, FieldInfo, object]] = {}
    rules: dict[str, tuple[Callable[[Any], Any], RuleMarker]] = {}
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
        if isinstance(marker, RuleMarker) and callable(target):
            rules[str(marker.name or getattr(target, "__name__", attr))] = (target, marker)
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
    return fields, rules, config


def _resolve_annotation(cls: type, attr: str, annotation: object) -> object:
    if not isinstance(annotation, str):
        return annotation
    module = sys.modules.get(cls.__module__)
    namespace: dict[str, Any] = dict(_FALLBACK_NAMES)
    if "Decimal" in annotation:  # `decimal` is loaded only for a schema that names it
        import decimal

        namespace.update(Decimal=decimal.Decimal, decimal=decimal)
    if any(name in annotation for name in _TYPING_NAMES):  # and `typing` only for these
        import typing

        namespace.update((name, getattr(typing, name)) for name in _TYPING_NAMES)
    if module is not None:
        namespace.update(vars(module))
    try:
        return eval(annotation, namespace, dict(vars(cls)))
    except Exception as exc:  # noqa: BLE001
        raise SchemaError(
            f"{cls.__name__}.{attr}: cannot resolve the type annotation {annotation!r} ({exc})"
        ) from None


# `ClassVar`, `Annotated`, `Optional` and `Union` exist only once `typing` is imported: the tests
# below look it up instead of importing it (pyrustpipe/_typing.py).


def _is_classvar(annotation: object) -> bool:
    typing = sys.modules.get("typing")
    return typing is not None and (
        annotation is typing.ClassVar or typing.get_origin(annotation) is typing.ClassVar
    )


def _unannotated(annotation: object) -> object:
    """``T`` of ``Annotated[T, ...]``, else the annotation itself."""
    typing = sys.modules.get("typing")
    if typing is not None and typing.get_origin(annotation) is typing.Annotated:
        return typing.get_args(annotation)[0]
    return annotation


def _union_members(annotation: object) -> tuple[object, ...] | None:
    """The members of ``A | B``, ``Union[A, B]`` or ``Optional[A]``; ``None`` for any other."""
    if isinstance(annotation, types.UnionType):
        return annotation.__args__
    typing = sys.modules.get("typing")
    if typing is not None and typing.get_origin(annotation) is typing.Union:
        return tuple(typing.get_args(annotation))
    return None


def _dtype_of(cls_name: str, attr: str, annotation: object) -> tuple[Dtype, bool]:
    """(dtype, nullable) of an annotation."""
    annotation = _unannotated(annotation)
    nullable = False
    members = _union_members(annotation)
    if members is not None:
        args = [a for a in members if a is not type(None)]
        if len(args) == 1 and len(members) == 2:
            nullable = True
            annotation = _unannotated(args[0])
    dtype = _PY_TYPES.get(annotation) if isinstance(annotation, type) else None
    if dtype is None and isinstance(annotation, type) and annotation is decimal_class():
        dtype = "decimal"
    if dtype is None:
        shown = getattr(annotation, "__name__", None) or repr(annotation)
        raise SchemaError(
            f"{cls_name}.{attr}: unsupported type {shown}; use str, int, float, bool, "
            "decimal.Decimal, datetime.date, datetime.datetime or datetime.time "
            "(optionally `| None`)"
        )
    return dtype, nullable


# ----------------------------------------------------------------------------------------------
# columns: Python values become wire values; the engine judges them


def _needs_text(value: object) -> bool:
    """A finite Decimal that JSON numbers cannot carry exactly: a fraction, or an integer beyond
    64 bits (a JSON reader parses those as floats)."""
    if not is_decimal(value) or not value.is_finite():
        return False
    return value != value.to_integral_value() or abs(value) >= 2**63


def _typed_value(where: str, dtype: Dtype, key: str, value: object) -> int | float | str:
    """One value of the column's type, as the wire carries it: a number (a ``Decimal`` that a
    JSON number would round as its exact text), or ISO text for a temporal value."""
    if dtype in _TEMPORAL_TYPES:
        expected = _TEMPORAL_TYPES[dtype]
        if isinstance(value, str):
            return value  # ISO text: the engine reads it with the column's own grammar
        if not isinstance(value, expected) or (dtype == "date" and isinstance(value, _dt.datetime)):
            raise SchemaError(
                f"{where}: {key} on a {dtype} column takes a {expected.__name__} or an ISO "
                f"string, not {value!r}"
            )
        return cast(str, cast("Any", value).isoformat())
    if isinstance(value, (str, _dt.date, _dt.time)):
        raise SchemaError(f"{where}: {key} on a {dtype} column takes a number, not {value!r}")
    if dtype == "decimal" and _needs_text(value):
        return str(value)  # its exact text: a float would round a many-digit money bound
    return number(value, f"{where}: {key}")


_SET_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "decimal": (int, float),
    "bool": (bool,),
    "date": (str, _dt.date),
    "datetime": (str, _dt.datetime),
    "time": (str, _dt.time),
}


def _set_values(where: str, dtype: Dtype, key: str, values: object) -> list[Any]:
    """A list of values of the column's Python type, as wire values."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise SchemaError(f"{where}: {key} takes a list of values, not {values!r}")
    out: list[Any] = []
    for value in values:
        bool_ok = dtype == "bool"
        wrong_class = not isinstance(value, _SET_TYPES[dtype]) and not (
            dtype in ("float", "decimal") and is_decimal(value)
        )
        if wrong_class or (isinstance(value, bool) and not bool_ok):
            raise SchemaError(f"{where}: {key} value {value!r} is not a {dtype}")
        if dtype == "date" and isinstance(value, _dt.datetime):
            raise SchemaError(f"{where}: {key} value {value!r} is not a date")
        exact = dtype == "decimal" and _needs_text(value)
        out.append(str(value) if exact else scalar(value, f"{where}: {key}"))
    return out


def _wire_check(where: str, dtype: Dtype, key: str, shape: str, value: object) -> dict[str, Any]:
    """The wire form of one constraint, by its shape (``schema.CONSTRAINTS``)."""
    if shape == "value":
        return {"type": key, "value": _typed_value(where, dtype, key, value)}
    if shape == "count":
        if isinstance(value, bool) or not isinstance(value, int):
            raise SchemaError(f"{where}: {key} must be an int, not {value!r}")
        return {"type": key, "value": value}
    if shape == "pattern":
        if not isinstance(value, str):
            raise SchemaError(f"{where}: pattern must be a string, not {value!r}")
        return {"type": key, "pattern": value}
    if shape == "values":
        return {"type": key, "values": _set_values(where, dtype, key, value)}
    # shape == "unique"
    if value is True:
        return {"type": key, "keep": "none"}
    if value == "first":
        return {"type": key, "keep": "first"}
    raise SchemaError(f'{where}: unique must be True or "first", not {value!r}')


def _column_spec(
    where: str, name: str, dtype: Dtype, nullable: bool, info: FieldInfo
) -> ColumnSpec:
    from pyrustpipe.schema import CONSTRAINTS, Check

    severity = normalize_severity(info.severity, where)
    tolerance = normalize_tolerance(info.tolerance, where)
    if info.format is not None and not isinstance(info.format, str):
        raise SchemaError(f"{where}: format must be a string, not {info.format!r}")
    settings: RuleSettings = {"severity": severity, "tolerance": tolerance}
    column: ColumnSpec = {
        "name": name,
        "dtype": dtype,
        "nullable": nullable,
        "format": info.format,
    }  # type: ignore[typeddict-item]
    if info.sensitive:
        column["sensitive"] = True
    if not nullable:
        column["not_null"] = dict(settings)  # type: ignore[typeddict-item]
    column["type"] = dict(settings)  # type: ignore[typeddict-item]
    checks: list[ColumnCheck] = []
    for key, raw in info.constraints.items():
        options = raw if isinstance(raw, Check) else None
        value = raw.value if isinstance(raw, Check) else raw
        check = _wire_check(where, dtype, key, CONSTRAINTS[key], value)
        rule_where = f"{where}: {key}"
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
        checks.append(cast("ColumnCheck", check))
    column["checks"] = checks
    return column


def _columns(state: _Build, fields: Mapping[str, tuple[str, FieldInfo, object]]) -> None:
    for attr, (dtype_text, info, _annotation) in fields.items():
        where = f"{state.name}.{attr}"
        column_name = attr if info.alias is None else info.alias
        if not isinstance(column_name, str) or not column_name:
            raise SchemaError(f"{where}: alias must be a non-empty string")
        if column_name in state.dtypes:
            raise SchemaError(f"{where}: column {column_name!r} is declared twice")
        nullable = dtype_text.endswith("?")
        dtype = cast("Dtype", dtype_text.rstrip("?"))
        state.labels[f"columns[{len(state.spec['columns'])}] ({column_name})"] = where
        state.spec["columns"].append(_column_spec(where, column_name, dtype, nullable, info))
        state.attr_to_column[attr] = column_name
        state.dtypes[column_name] = dtype


def _resolve(state: _Build, column: str, where: str) -> str:
    """The data's name of ``column`` (an attribute or a column name); a typo is an error."""
    if column in state.dtypes:
        return column
    if column in state.attr_to_column:
        return state.attr_to_column[column]
    hint = did_you_mean(column, list(state.attr_to_column) + list(state.dtypes))
    raise SchemaError(f"{where} reads unknown column {column!r}{hint}")


# ----------------------------------------------------------------------------------------------
# Config: the CSV dialect, strict / ordered


def _csv(state: _Build, config: Mapping[str, Any]) -> None:
    where = f"{state.name}.Config"
    for key in ("strict", "ordered", "header", "csv_strict"):
        if key in config and not isinstance(config[key], bool):
            raise SchemaError(f"{where}: {key} must be True or False")
    for key in ("strict", "ordered"):
        if key in config:
            state.spec[key] = config[key]  # type: ignore[literal-required]
    for key in ("delimiter", "quote"):
        if not isinstance(config.get(key, ","), str):
            raise SchemaError(f"{where}: {key} must be one character, not {config[key]!r}")
        state.labels[f"csv.{key}"] = f"{where}: {key}"
    null_values = config.get("null_values", [""])
    if isinstance(null_values, str) or not all(isinstance(v, str) for v in null_values):
        raise SchemaError(f"{where}: null_values must be a list of strings")
    state.spec["csv"] = {
        "delimiter": config.get("delimiter", ","),
        "quote": config.get("quote", '"'),
        "null_values": list(null_values),
    }
    if not config.get("header", True):
        state.spec["csv"]["header"] = False
    if config.get("csv_strict", False):
        state.spec["csv"]["strict"] = True


# ----------------------------------------------------------------------------------------------
# row rules: traced functions, then Config.checks expressions (after the unique keys' section in
# the class, but row rules come first in the spec)


def _row_rule(
    name: str, node: ExprNode, severity: Severity, tolerance: Tolerance | None
) -> RowRuleSpec:
    return {"name": name, "expr": clone(node), "severity": severity, "tolerance": tolerance}


def _add_row_rule(state: _Build, label: str, rule: RowRuleSpec) -> None:
    state.labels[f"row_rules[{len(state.spec['row_rules'])}] ({rule['name']})"] = label
    state.spec["row_rules"].append(rule)


def _row_rules(state: _Build, rules: Mapping[str, tuple[Callable[[Any], Any], RuleMarker]]) -> None:
    name = state.name
    for rule_name, (func, marker) in rules.items():
        where = f"{name}.{rule_name}"
        code = getattr(func, "__code__", None)
        if code is not None:
            required = code.co_argcount - len(getattr(func, "__defaults__", None) or ())
            if required > 1 or code.co_argcount < 1:
                raise SchemaError(f"{where}: a row rule takes exactly one argument (the row)")
        expr, reason, unknown = trace(func, state.attr_to_column)
        if not names_only_columns(func, state.attr_to_column):
            unknown = unknown + static_row_reads(func)
        typo = unknown_reads(where, unknown, state.attr_to_column)
        if typo is not None:
            raise typo
        if expr is not None:
            if is_boolean(expr._node, state.dtypes) is False:
                raise SchemaError(
                    f"{where}: a row rule must return a boolean expression, "
                    f"not {_format(expr._node)}"
                )
            _add_row_rule(
                state, where, _row_rule(rule_name, expr._node, marker.severity, marker.tolerance)
            )
            continue
        state.labels[f"external_rules[{len(state.python_rules)}]"] = where
        state.python_rules.append(
            PythonRule(
                rule_name, func, marker.severity, marker.tolerance, reason, state.attr_to_column
            )
        )
        warnings.warn_explicit(
            f"row rule {rule_name!r} of {name} cannot be compiled to Rust and will run in "
            f"Python (slow; local files and in-memory tables only): it {reason}",
            UntraceableRuleWarning,
            filename=code.co_filename if code is not None else "<unknown>",
            lineno=code.co_firstlineno if code is not None else 0,
            module=getattr(func, "__module__", None) or "<unknown>",
        )


# ----------------------------------------------------------------------------------------------
# Config.unique: composite keys


def _unique(state: _Build, config: Mapping[str, Any]) -> None:
    from pyrustpipe.schema import Unique

    where = f"{state.name}.Config"
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
        if key.keep not in ("none", "first"):
            raise SchemaError(f'{key_where}: keep must be "none" or "first", not {key.keep!r}')
        entry: UniqueKeySpec = {
            "columns": [_resolve(state, c, key_where) for c in key.columns],
            "keep": key.keep,
            "severity": normalize_severity(key.severity, key_where),
            "tolerance": normalize_tolerance(key.tolerance, key_where),
        }
        if key.name is not None:
            entry["name"] = key.name
        state.labels[f"unique[{len(state.spec['unique'])}]"] = key_where
        state.spec["unique"].append(entry)


# ----------------------------------------------------------------------------------------------
# Config.min_rows / max_rows / checks: dataset checks (and row-rule expressions)


def _attr_only(state: _Build) -> dict[str, str]:
    """Attribute names that are not also column names, mapped to their column."""
    return {a: c for a, c in state.attr_to_column.items() if a not in state.dtypes}


def _dataset_checks(state: _Build, config: Mapping[str, Any]) -> None:
    where = f"{state.name}.Config"
    min_rows, max_rows = config.get("min_rows"), config.get("max_rows")
    for key, value in (("min_rows", min_rows), ("max_rows", max_rows)):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 0
        ):
            raise SchemaError(f"{where}: {key} must be an int >= 0 or None, not {value!r}")
    if min_rows is not None or max_rows is not None:
        state.labels[f"dataset_checks[{len(state.spec['dataset_checks'])}]"] = (
            f"{where}: min_rows / max_rows"
        )
        state.spec["dataset_checks"].append(
            DatasetCheck("row_count", None, min_rows, max_rows).to_dict()
        )
    checks = config.get("checks", [])
    if isinstance(checks, (Expr, DatasetCheck, MetricExpr)):
        checks = [checks]
    for index, check in enumerate(checks):
        check_where = f"{where}: checks[{index}] ({check!r})"
        if isinstance(check, DatasetCheck):
            entry = check.to_dict()
            if entry["column"] is not None:
                entry["column"] = _resolve(state, entry["column"], check_where)
            state.labels[f"dataset_checks[{len(state.spec['dataset_checks'])}]"] = check_where
            state.spec["dataset_checks"].append(entry)
        elif isinstance(check, Expr):
            for column_read in sorted(columns_of(check._node)):
                _resolve(state, column_read, check_where)
            node = rename_columns(check._node, _attr_only(state))
            if is_boolean(node, state.dtypes) is False:
                raise SchemaError(f"{check_where} is not a boolean expression")
            rule_name = check.name or f"check_{index + 1}"
            _add_row_rule(
                state, check_where, _row_rule(rule_name, node, check.severity, check.tolerance)
            )
        elif isinstance(check, MetricExpr):
            raise SchemaError(
                f"{where}: checks[{index}] {check!r} needs a bound, e.g. "
                f"{check!r} >= 0 or {check!r}.between(0, 1)"
            )
        else:
            raise SchemaError(
                f"{where}: checks[{index}] must be a pp.col(...) expression or aggregate "
                f"check, not {check!r}"
            )


# ----------------------------------------------------------------------------------------------
# the engine: the one judge of the rules


def external_rules(python_rules: Iterable[PythonRule]) -> list[dict[str, Any]]:
    """The rules Python runs, as the engine's rule table lists them (after every other rule)."""
    return [
        {"name": r.name, "severity": r.severity, "tolerance": r.tolerance} for r in python_rules
    ]


def _check_with_engine(state: _Build) -> None:
    """Compile the spec now, when the engine is built (the DSL alone works without it: the run
    checks the spec then), so a mistake is raised where the class is defined."""
    try:
        from pyrustpipe import _core  # noqa: F401
    except ImportError:
        return
    from pyrustpipe import _engine

    try:
        _engine.compile_spec(json.dumps(state.spec), json.dumps(external_rules(state.python_rules)))
    except SchemaError as exc:
        raise SchemaError(relabel(str(exc), state.name, state.labels)) from None


_ENGINE_PREFIX = "invalid rule spec at "


def relabel(message: str, schema: str, labels: Mapping[str, str]) -> str:
    """An engine error (``invalid rule spec at columns[2] (fee).checks[0]: ...``) as the class
    names it (``Payments.fee: ...``); ``labels`` maps spec paths to those names.

    >>> relabel("invalid rule spec at columns[0] (amount).checks[1]: bad", "T", {
    ...     "columns[0] (amount)": "T.amount"})
    'T.amount: bad'
    >>> relabel("invalid rule spec at strict: odd", "T", {})
    'T: invalid rule spec at strict: odd'
    """
    if message.startswith(_ENGINE_PREFIX):
        at = message[len(_ENGINE_PREFIX) :]
        for path in sorted(labels, key=len, reverse=True):
            if at.startswith(path) and at[len(path) : len(path) + 1] in (".", ":"):
                rest = at[len(path) :]
                # deeper segments (".checks[0]", ".values[2]") carry no ": "
                detail = rest[rest.index(": ") + 2 :] if ": " in rest else rest
                return f"{labels[path]}: {detail}"
    return f"{schema}: {message}"
