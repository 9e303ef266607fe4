"""Column expressions: the symbolic values that ``@pp.row_rule`` row rules and ``Config.checks``
are written with.

An expression is a small tree that compiles to the spec's ``expr`` JSON (docs/spec.md, "Row
rules") and runs in Rust. Build one with :func:`col` and Python operators:

>>> import pyrustpipe as pp
>>> rule = (pp.col("fee") <= pp.col("amount")) & pp.col("currency").isin(["KES", "UGX"])
>>> rule
((col('fee') <= col('amount')) & col('currency').isin(['KES', 'UGX']))
>>> rule.to_dict()["op"]
'and'

Python's ``and`` / ``or`` / ``not`` / ``if`` cannot be overloaded, so they raise on an expression;
use ``&``, ``|`` and ``~``:

>>> bool(pp.col("a") > 1)  # doctest: +IGNORE_EXCEPTION_DETAIL
Traceback (most recent call last):
...
TypeError: the truth value of a column expression is unknown while tracing: use & | ~ ...

Aggregates (``mean sum min max null_fraction null_count n_unique``) make dataset checks:

>>> check = pp.col("amount").mean().between(10, 5000)
>>> check.to_dict()["metric"], check.to_dict()["min"], check.to_dict()["max"]
('mean', 10, 5000)
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Iterable, Mapping

from pyrustpipe._common import (
    clone,
    is_decimal,
    normalize_severity,
    normalize_tolerance,
    number,
    scalar,
)
from pyrustpipe._typing import TYPE_CHECKING, cast
from pyrustpipe.exceptions import SchemaError

if TYPE_CHECKING:
    from typing import Any, Literal, TypeVar

    from pyrustpipe.spec import DatasetCheckSpec, ExprNode, Metric, Severity, Tolerance

    _T = TypeVar("_T")
    DtPart = Literal["year", "month", "day", "hour", "minute", "second", "weekday"]

__all__ = ["DatasetCheck", "Expr", "MetricExpr", "col", "lit", "row_count"]

_BOOL_ERROR = (
    "the truth value of a column expression is unknown while tracing: use & | ~ instead of "
    "and / or / not, and no if on column values"
)
_COMPARISONS = frozenset({"eq", "ne", "lt", "le", "gt", "ge"})
_SYMBOLS = {
    "eq": "==",
    "ne": "!=",
    "lt": "<",
    "le": "<=",
    "gt": ">",
    "ge": ">=",
    "add": "+",
    "sub": "-",
    "mul": "*",
    "div": "/",
    "mod": "%",
    "and": "&",
    "or": "|",
}


def _lit_node(value: object) -> ExprNode:
    """A Python value as a ``lit`` node (dates, times and Decimals carry their ``dtype``)."""
    if isinstance(value, Expr):
        return value._node
    if isinstance(value, (bool, int, str)):
        return {"type": "lit", "value": value}
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TypeError(f"cannot use the non-finite float {value!r} in an expression")
        return {"type": "lit", "value": value}
    if is_decimal(value):
        if not value.is_finite():
            raise TypeError(f"cannot use the non-finite Decimal {value!r} in an expression")
        return {"type": "lit", "value": str(value), "dtype": "decimal"}
    if isinstance(value, _dt.datetime):
        return {"type": "lit", "value": value.isoformat(), "dtype": "datetime"}
    if isinstance(value, _dt.date):
        return {"type": "lit", "value": value.isoformat(), "dtype": "date"}
    if isinstance(value, _dt.time):
        return {"type": "lit", "value": value.isoformat(), "dtype": "time"}
    raise TypeError(f"cannot use a {type(value).__name__} ({value!r}) in a column expression")


def col(name: str) -> Expr:
    """The value of column ``name`` in the current row.

    >>> import pyrustpipe as pp
    >>> pp.col("amount").to_dict()
    {'type': 'col', 'name': 'amount'}
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"pp.col() takes a non-empty column name, not {name!r}")
    return Expr({"type": "col", "name": name})


def lit(value: object) -> Expr:
    """A constant. Plain Python values are converted automatically; ``lit`` is needed only for a
    rule that is a constant.

    >>> import datetime, pyrustpipe as pp
    >>> pp.lit(datetime.date(2026, 1, 31)).to_dict()
    {'type': 'lit', 'value': '2026-01-31', 'dtype': 'date'}
    """
    return Expr(_lit_node(value))


def row_count() -> MetricExpr:
    """The number of data rows, for a dataset check: ``pp.row_count() >= 1``."""
    return MetricExpr(None, "row_count")


class Expr:
    """A column expression. Build it with :func:`col`, :func:`lit` and operators."""

    __slots__ = ("_name", "_node", "_severity", "_tolerance")
    __hash__ = None  # type: ignore[assignment]

    def __init__(
        self,
        node: ExprNode,
        *,
        name: str | None = None,
        severity: Severity = "error",
        tolerance: Tolerance | None = None,
    ) -> None:
        self._node = node
        self._name = name
        self._severity: Severity = severity
        self._tolerance = tolerance

    # -- serialisation -----------------------------------------------------------------------

    def to_dict(self) -> ExprNode:
        """The spec JSON of this expression (a fresh copy)."""
        node: ExprNode = clone(self._node)
        return node

    @property
    def name(self) -> str | None:
        """The rule name given with :meth:`alias`, if any."""
        return self._name

    @property
    def severity(self) -> Severity:
        return self._severity

    @property
    def tolerance(self) -> Tolerance | None:
        return self._tolerance

    def __repr__(self) -> str:
        text = _format(self._node)
        if self._name is not None:
            text += f".alias({self._name!r})"
        if self._severity != "error":
            text += ".warn()"
        if self._tolerance is not None:
            value = next(iter(self._tolerance.values()))
            text += f".tolerate({value!r})"
        return text

    def __bool__(self) -> bool:
        raise TypeError(_BOOL_ERROR)

    # -- rule options (for Config.checks) ------------------------------------------------------

    def _replace(self, **changes: object) -> Expr:
        options: dict[str, Any] = {
            "name": self._name,
            "severity": self._severity,
            "tolerance": self._tolerance,
        }
        options.update(changes)
        return Expr(self._node, **options)

    def alias(self, name: str) -> Expr:
        """Name the rule this expression becomes (in ``Config.checks``)."""
        if not isinstance(name, str) or not name:
            raise SchemaError(f"alias() takes a non-empty rule name, not {name!r}")
        return self._replace(name=name)

    def warn(self) -> Expr:
        """Make the rule warn-severity: reported, but it neither fails the run nor the row."""
        return self._replace(severity="warn")

    def tolerate(self, tolerance: float) -> Expr:
        """Allow ``tolerance`` failing rows (an int count, or a float fraction of the rows)."""
        return self._replace(tolerance=normalize_tolerance(tolerance, repr(self)))

    # -- building ------------------------------------------------------------------------------

    def _binary(self, op: str, other: object, *, reflected: bool = False) -> Expr:
        right = _lit_node(other)
        left = self._node
        if reflected:
            left, right = right, left
        return Expr(cast("ExprNode", {"type": "binary", "op": op, "left": left, "right": right}))

    def __eq__(self, other: object) -> Expr:  # type: ignore[override]
        if other is None:
            return self.is_null()
        return self._binary("eq", other)

    def __ne__(self, other: object) -> Expr:  # type: ignore[override]
        if other is None:
            return self.is_not_null()
        return self._binary("ne", other)

    def __lt__(self, other: object) -> Expr:
        return self._binary("lt", other)

    def __le__(self, other: object) -> Expr:
        return self._binary("le", other)

    def __gt__(self, other: object) -> Expr:
        return self._binary("gt", other)

    def __ge__(self, other: object) -> Expr:
        return self._binary("ge", other)

    def __add__(self, other: object) -> Expr:
        return self._binary("add", other)

    def __radd__(self, other: object) -> Expr:
        return self._binary("add", other, reflected=True)

    def __sub__(self, other: object) -> Expr:
        return self._binary("sub", other)

    def __rsub__(self, other: object) -> Expr:
        return self._binary("sub", other, reflected=True)

    def __mul__(self, other: object) -> Expr:
        return self._binary("mul", other)

    def __rmul__(self, other: object) -> Expr:
        return self._binary("mul", other, reflected=True)

    def __truediv__(self, other: object) -> Expr:
        return self._binary("div", other)

    def __rtruediv__(self, other: object) -> Expr:
        return self._binary("div", other, reflected=True)

    def __mod__(self, other: object) -> Expr:
        return self._binary("mod", other)

    def __rmod__(self, other: object) -> Expr:
        return self._binary("mod", other, reflected=True)

    def __and__(self, other: object) -> Expr:
        return self._binary("and", other)

    def __rand__(self, other: object) -> Expr:
        return self._binary("and", other, reflected=True)

    def __or__(self, other: object) -> Expr:
        return self._binary("or", other)

    def __ror__(self, other: object) -> Expr:
        return self._binary("or", other, reflected=True)

    def __invert__(self) -> Expr:
        return Expr({"type": "not", "expr": self._node})

    def __neg__(self) -> Expr:
        return Expr({"type": "neg", "expr": self._node})

    def __pos__(self) -> Expr:
        return self

    def __abs__(self) -> Expr:
        return Expr({"type": "abs", "expr": self._node})

    def isin(self, values: Iterable[object]) -> Expr:
        """True when the value is one of ``values``."""
        if isinstance(values, (str, bytes)):
            raise TypeError("isin() takes a list of values, not a string")
        items = [scalar(v, "isin()") for v in values]
        if any(v is None for v in items):
            raise TypeError("isin() values cannot be None; use is_null()")
        return Expr({"type": "isin", "expr": self._node, "values": items})

    def is_null(self) -> Expr:
        """True when the column's value is null (only on a column)."""
        if self._node["type"] != "col":
            raise TypeError("is_null() applies to a column, e.g. pp.col('x').is_null()")
        return Expr({"type": "is_null", "expr": self._node})

    def is_not_null(self) -> Expr:
        """True when the column's value is not null."""
        return ~self.is_null()

    def between(self, low: object, high: object) -> Expr:
        """``low <= value <= high``."""
        return (self >= low) & (self <= high)

    @property
    def str(self) -> StrNamespace:
        """String helpers: ``len startswith endswith contains matches lower upper``."""
        return StrNamespace(self)

    @property
    def dt(self) -> DtNamespace:
        """Date / time parts: ``year month day hour minute second weekday`` (Monday = 0)."""
        return DtNamespace(self)

    # -- aggregates (dataset checks) -----------------------------------------------------------

    def _metric(self, metric: Metric) -> MetricExpr:
        if self._node["type"] != "col":
            raise TypeError(f"{metric}() applies to a column, e.g. pp.col('x').{metric}()")
        return MetricExpr(cast("Any", self._node)["name"], metric)

    def mean(self) -> MetricExpr:
        """Mean of the column's valid values (a dataset check once compared)."""
        return self._metric("mean")

    def sum(self) -> MetricExpr:
        """Sum of the column's valid values."""
        return self._metric("sum")

    def min(self) -> MetricExpr:
        """Smallest valid value."""
        return self._metric("min")

    def max(self) -> MetricExpr:
        """Largest valid value."""
        return self._metric("max")

    def null_count(self) -> MetricExpr:
        """Number of null values."""
        return self._metric("null_count")

    def null_fraction(self) -> MetricExpr:
        """Nulls / rows (0 when there are no rows)."""
        return self._metric("null_fraction")

    def n_unique(self) -> MetricExpr:
        """Number of distinct non-null values (spec metric ``distinct_count``)."""
        return self._metric("distinct_count")

    distinct_count = n_unique


class StrNamespace:
    """``expr.str``: string helpers."""

    __slots__ = ("_expr",)

    def __init__(self, expr: Expr) -> None:
        self._expr = expr

    def _test(self, kind: str, value: object) -> Expr:
        if not isinstance(value, str):
            raise TypeError(f"str.{kind}() takes a string, not {value!r}")
        return Expr(cast("ExprNode", {"type": kind, "expr": self._expr._node, "value": value}))

    def len(self) -> Expr:
        """Length in Unicode characters."""
        return Expr({"type": "str_len", "expr": self._expr._node})

    def startswith(self, prefix: str) -> Expr:
        return self._test("starts_with", prefix)

    def endswith(self, suffix: str) -> Expr:
        return self._test("ends_with", suffix)

    starts_with = startswith
    ends_with = endswith

    def contains(self, substring: str) -> Expr:
        """Literal substring test (use :meth:`matches` for a regex)."""
        return self._test("contains", substring)

    def matches(self, pattern: str) -> Expr:
        """Regex search (Rust ``regex`` syntax; anchor with ``^…$``)."""
        if not isinstance(pattern, str):
            raise TypeError(f"str.matches() takes a regex string, not {pattern!r}")
        return Expr({"type": "matches", "expr": self._expr._node, "pattern": pattern})

    def lower(self) -> Expr:
        return Expr({"type": "lower", "expr": self._expr._node})

    def upper(self) -> Expr:
        return Expr({"type": "upper", "expr": self._expr._node})


class DtPartExpr(Expr):
    """A date part; also callable (``.dt.year()``) for polars habits."""

    __slots__ = ()

    def __call__(self) -> Expr:
        return self


class DtNamespace:
    """``expr.dt``: date and time parts (ints)."""

    __slots__ = ("_expr",)

    def __init__(self, expr: Expr) -> None:
        self._expr = expr

    def _part(self, part: DtPart) -> DtPartExpr:
        return DtPartExpr({"type": "dt_part", "expr": self._expr._node, "part": part})

    @property
    def year(self) -> DtPartExpr:
        return self._part("year")

    @property
    def month(self) -> DtPartExpr:
        return self._part("month")

    @property
    def day(self) -> DtPartExpr:
        return self._part("day")

    @property
    def hour(self) -> DtPartExpr:
        return self._part("hour")

    @property
    def minute(self) -> DtPartExpr:
        return self._part("minute")

    @property
    def second(self) -> DtPartExpr:
        return self._part("second")

    @property
    def weekday(self) -> DtPartExpr:
        """Monday = 0 … Sunday = 6."""
        return self._part("weekday")


class MetricExpr:
    """An aggregate of a column (``pp.col("amount").mean()``). Compare it to get a
    :class:`DatasetCheck`: ``> >= < <= ==`` or :meth:`between`."""

    __slots__ = ("column", "metric")
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, column: str | None, metric: Metric) -> None:
        self.column = column
        self.metric: Metric = metric

    def __repr__(self) -> str:
        if self.column is None:
            return "pp.row_count()"
        method = "n_unique" if self.metric == "distinct_count" else self.metric
        return f"col({self.column!r}).{method}()"

    def _check(
        self,
        low: object = None,
        high: object = None,
        *,
        low_inclusive: bool = True,
        high_inclusive: bool = True,
    ) -> DatasetCheck:
        where = repr(self)
        return DatasetCheck(
            self.metric,
            self.column,
            None if low is None else number(low, where),
            None if high is None else number(high, where),
            min_inclusive=low_inclusive,
            max_inclusive=high_inclusive,
        )

    def __gt__(self, other: object) -> DatasetCheck:
        return self._check(other, low_inclusive=False)

    def __ge__(self, other: object) -> DatasetCheck:
        return self._check(other)

    def __lt__(self, other: object) -> DatasetCheck:
        return self._check(high=other, high_inclusive=False)

    def __le__(self, other: object) -> DatasetCheck:
        return self._check(high=other)

    def __eq__(self, other: object) -> DatasetCheck:  # type: ignore[override]
        return self._check(other, other)

    def between(
        self,
        low: object,
        high: object,
        inclusive: Literal["both", "neither", "left", "right"] = "both",
    ) -> DatasetCheck:
        """``low <= metric <= high`` (``inclusive`` as in polars / pandas)."""
        if inclusive not in ("both", "neither", "left", "right"):
            raise SchemaError(f"{self!r}.between(): bad inclusive={inclusive!r}")
        return self._check(
            low,
            high,
            low_inclusive=inclusive in ("both", "left"),
            high_inclusive=inclusive in ("both", "right"),
        )

    def __bool__(self) -> bool:
        raise TypeError("compare an aggregate with > >= < <= == or .between(), not and/or/if")


class DatasetCheck:
    """A bound on an aggregate; goes in ``Config.checks``."""

    __slots__ = (
        "column",
        "max",
        "max_inclusive",
        "metric",
        "min",
        "min_inclusive",
        "name",
        "severity",
    )

    def __init__(
        self,
        metric: Metric,
        column: str | None,
        min: float | None,
        max: float | None,
        *,
        min_inclusive: bool = True,
        max_inclusive: bool = True,
        name: str | None = None,
        severity: Severity = "error",
    ) -> None:
        if min is None and max is None:
            raise SchemaError(f"dataset check {metric}: give a lower or an upper bound")
        self.metric: Metric = metric
        self.column = column
        self.min = min
        self.max = max
        self.min_inclusive = min_inclusive
        self.max_inclusive = max_inclusive
        self.name = name
        self.severity: Severity = severity

    def _replace(self, **changes: object) -> DatasetCheck:
        values: dict[str, Any] = {s: getattr(self, s) for s in self.__slots__}
        values.update(changes)
        metric, column = values.pop("metric"), values.pop("column")
        low, high = values.pop("min"), values.pop("max")
        return DatasetCheck(metric, column, low, high, **values)

    def alias(self, name: str) -> DatasetCheck:
        """Name the check (default ``<column>:<metric>``)."""
        if not isinstance(name, str) or not name:
            raise SchemaError(f"alias() takes a non-empty rule name, not {name!r}")
        return self._replace(name=name)

    def warn(self) -> DatasetCheck:
        """Make the check warn-severity (reported; does not fail the run)."""
        return self._replace(severity="warn")

    def with_severity(self, severity: Severity) -> DatasetCheck:
        return self._replace(severity=normalize_severity(severity, repr(self)))

    def to_dict(self) -> DatasetCheckSpec:
        spec: DatasetCheckSpec = {
            "metric": self.metric,
            "column": self.column,
            "min": self.min,
            "max": self.max,
            "min_inclusive": self.min_inclusive,
            "max_inclusive": self.max_inclusive,
            "name": self.name,
            "severity": self.severity,
        }
        return spec

    def __repr__(self) -> str:
        metric = repr(MetricExpr(self.column, self.metric))
        if self.min is not None and self.max is not None:
            if self.min == self.max and self.min_inclusive and self.max_inclusive:
                text = f"{metric} == {self.min!r}"
            else:
                text = f"{metric}.between({self.min!r}, {self.max!r})"
        elif self.min is not None:
            text = f"{metric} {'>=' if self.min_inclusive else '>'} {self.min!r}"
        else:
            text = f"{metric} {'<=' if self.max_inclusive else '<'} {self.max!r}"
        if self.name:
            text = f"({text}).alias({self.name!r})"
        return text


def _format(node: Mapping[str, Any]) -> str:
    """A Python-like rendering of an expression node, for messages and ``repr``."""
    kind = node.get("type")
    if kind == "col":
        return f"col({node['name']!r})"
    if kind == "lit":
        if "dtype" in node:
            return f"{node['dtype']}({node['value']!r})"
        return repr(node["value"])
    if kind == "binary":
        symbol = _SYMBOLS.get(node["op"], node["op"])
        return f"({_format(node['left'])} {symbol} {_format(node['right'])})"
    if kind == "not":
        return f"~{_format(node['expr'])}"
    if kind == "neg":
        return f"-{_format(node['expr'])}"
    if kind == "abs":
        return f"abs({_format(node['expr'])})"
    if kind == "isin":
        return f"{_format(node['expr'])}.isin({node['values']!r})"
    if kind == "is_null":
        return f"{_format(node['expr'])}.is_null()"
    if kind == "str_len":
        return f"{_format(node['expr'])}.str.len()"
    if kind in ("starts_with", "ends_with", "contains"):
        return f"{_format(node['expr'])}.str.{kind}({node['value']!r})"
    if kind == "matches":
        return f"{_format(node['expr'])}.str.matches({node['pattern']!r})"
    if kind in ("lower", "upper"):
        return f"{_format(node['expr'])}.str.{kind}()"
    if kind == "dt_part":
        return f"{_format(node['expr'])}.dt.{node['part']}"
    return repr(node)


def is_boolean(node: Mapping[str, Any], dtypes: Mapping[str, str]) -> bool | None:
    """Whether ``node`` evaluates to a bool (``None``: cannot tell here; the engine decides)."""
    kind = node.get("type")
    if kind == "binary":
        return node["op"] in _COMPARISONS or node["op"] in ("and", "or")
    if kind in (
        "not",
        "isin",
        "is_null",
        "starts_with",
        "ends_with",
        "contains",
        "matches",
    ):
        return True
    if kind == "lit":
        return isinstance(node["value"], bool) and "dtype" not in node
    if kind == "col":
        dtype = dtypes.get(node["name"])
        return None if dtype is None else dtype == "bool"
    return False


def rename_columns(node: _T, mapping: Mapping[str, str]) -> _T:
    """A copy of ``node`` with ``col`` names mapped through ``mapping``."""
    if isinstance(node, dict):
        if node.get("type") == "col":
            name = node["name"]
            return cast("_T", {**node, "name": mapping.get(name, name)})
        return cast("_T", {k: rename_columns(v, mapping) for k, v in node.items()})
    if isinstance(node, list):
        return cast("_T", [rename_columns(v, mapping) for v in node])
    return node


def columns_of(node: object) -> set[str]:
    """Every column an expression reads."""
    if isinstance(node, dict):
        if node.get("type") == "col":
            return {node["name"]}
        out: set[str] = set()
        for value in node.values():
            out |= columns_of(value)
        return out
    if isinstance(node, list):
        result: set[str] = set()
        for value in node:
            result |= columns_of(value)
        return result
    return set()
