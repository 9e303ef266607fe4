"""Column expressions and aggregate checks (no engine needed)."""

from __future__ import annotations

import datetime as dt
import json
import operator
from decimal import Decimal
from typing import Any

import pyrustpipe as pp
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyrustpipe.expr import columns_of, is_boolean, rename_columns

A = {"type": "col", "name": "a"}
B = {"type": "col", "name": "b"}


def lit(value: Any, dtype: str | None = None) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "lit", "value": value}
    if dtype:
        node["dtype"] = dtype
    return node


@pytest.mark.parametrize(
    ("op", "name"),
    [
        (operator.eq, "eq"),
        (operator.ne, "ne"),
        (operator.lt, "lt"),
        (operator.le, "le"),
        (operator.gt, "gt"),
        (operator.ge, "ge"),
        (operator.add, "add"),
        (operator.sub, "sub"),
        (operator.mul, "mul"),
        (operator.truediv, "div"),
        (operator.mod, "mod"),
        (operator.and_, "and"),
        (operator.or_, "or"),
    ],
)
def test_binary_operators(op: Any, name: str) -> None:
    assert op(pp.col("a"), pp.col("b")).to_dict() == {
        "type": "binary",
        "op": name,
        "left": A,
        "right": B,
    }
    assert op(pp.col("a"), 2).to_dict()["right"] == lit(2)


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        (
            lambda: 1 + pp.col("a"),
            {"type": "binary", "op": "add", "left": lit(1), "right": A},
        ),
        (
            lambda: 10 - pp.col("a"),
            {"type": "binary", "op": "sub", "left": lit(10), "right": A},
        ),
        (
            lambda: 2 * pp.col("a"),
            {"type": "binary", "op": "mul", "left": lit(2), "right": A},
        ),
        (
            lambda: 1 / pp.col("a"),
            {"type": "binary", "op": "div", "left": lit(1), "right": A},
        ),
        (
            lambda: 7 % pp.col("a"),
            {"type": "binary", "op": "mod", "left": lit(7), "right": A},
        ),
        (
            lambda: 0 < pp.col("a"),
            {"type": "binary", "op": "gt", "left": A, "right": lit(0)},
        ),
        (
            lambda: True & pp.col("a"),
            {"type": "binary", "op": "and", "left": lit(True), "right": A},
        ),
        (
            lambda: False | pp.col("a"),
            {"type": "binary", "op": "or", "left": lit(False), "right": A},
        ),
        (lambda: -pp.col("a"), {"type": "neg", "expr": A}),
        (lambda: +pp.col("a"), A),
        (lambda: abs(pp.col("a")), {"type": "abs", "expr": A}),
        (lambda: ~pp.col("a"), {"type": "not", "expr": A}),
        (lambda: pp.col("a") == None, {"type": "is_null", "expr": A}),  # noqa: E711
        (
            lambda: pp.col("a") != None,  # noqa: E711
            {"type": "not", "expr": {"type": "is_null", "expr": A}},
        ),
        (lambda: pp.col("a").is_null(), {"type": "is_null", "expr": A}),
        (
            lambda: pp.col("a").isin(["x", "y"]),
            {"type": "isin", "expr": A, "values": ["x", "y"]},
        ),
        (
            lambda: pp.col("a").isin((1, 2.5)),
            {"type": "isin", "expr": A, "values": [1, 2.5]},
        ),
        (
            lambda: pp.col("a").isin([dt.date(2020, 1, 2)]),
            {"type": "isin", "expr": A, "values": ["2020-01-02"]},
        ),
        (lambda: pp.col("a").str.len(), {"type": "str_len", "expr": A}),
        (
            lambda: pp.col("a").str.startswith("TX"),
            {"type": "starts_with", "expr": A, "value": "TX"},
        ),
        (
            lambda: pp.col("a").str.starts_with("TX"),
            {"type": "starts_with", "expr": A, "value": "TX"},
        ),
        (
            lambda: pp.col("a").str.endswith("!"),
            {"type": "ends_with", "expr": A, "value": "!"},
        ),
        (
            lambda: pp.col("a").str.contains("a.b"),
            {"type": "contains", "expr": A, "value": "a.b"},
        ),
        (
            lambda: pp.col("a").str.matches("^x+$"),
            {"type": "matches", "expr": A, "pattern": "^x+$"},
        ),
        (lambda: pp.col("a").str.lower(), {"type": "lower", "expr": A}),
        (lambda: pp.col("a").str.upper(), {"type": "upper", "expr": A}),
        (lambda: pp.col("a").dt.year, {"type": "dt_part", "expr": A, "part": "year"}),
        (
            lambda: pp.col("a").dt.month(),
            {"type": "dt_part", "expr": A, "part": "month"},
        ),
        (lambda: pp.col("a").dt.day, {"type": "dt_part", "expr": A, "part": "day"}),
        (lambda: pp.col("a").dt.hour, {"type": "dt_part", "expr": A, "part": "hour"}),
        (
            lambda: pp.col("a").dt.minute,
            {"type": "dt_part", "expr": A, "part": "minute"},
        ),
        (
            lambda: pp.col("a").dt.second,
            {"type": "dt_part", "expr": A, "part": "second"},
        ),
        (
            lambda: pp.col("a").dt.weekday,
            {"type": "dt_part", "expr": A, "part": "weekday"},
        ),
    ],
)
def test_expression_nodes(expr: Any, expected: dict[str, Any]) -> None:
    assert expr().to_dict() == expected


@pytest.mark.parametrize(
    ("value", "node"),
    [
        (True, lit(True)),
        (3, lit(3)),
        (2.5, lit(2.5)),
        ("KES", lit("KES")),
        (Decimal("1.10"), lit("1.10", "decimal")),
        (dt.date(2026, 2, 28), lit("2026-02-28", "date")),
        (dt.datetime(2026, 2, 28, 13, 5), lit("2026-02-28T13:05:00", "datetime")),
        (dt.time(7, 30, 1), lit("07:30:01", "time")),
    ],
)
def test_literals(value: Any, node: dict[str, Any]) -> None:
    assert (pp.col("a") <= value).to_dict()["right"] == node
    assert pp.lit(value).to_dict() == node


@pytest.mark.parametrize(
    "value", [float("nan"), float("inf"), Decimal("NaN"), object(), [1], b"x", None]
)
def test_bad_literals(value: Any) -> None:
    with pytest.raises(TypeError):
        _ = pp.col("a") < value


@pytest.mark.parametrize(
    "use",
    [
        lambda e: bool(e),
        lambda e: e and True,
        lambda e: not e,
        lambda e: 1 if e else 0,
        lambda e: max(e, e),
    ],
)
def test_truth_value_raises(use: Any) -> None:
    with pytest.raises(TypeError, match="use & | ~"):
        use(pp.col("a") > 1)


@pytest.mark.parametrize(
    ("build", "error"),
    [
        (lambda: pp.col(""), TypeError),
        (lambda: pp.col(3), TypeError),
        (lambda: pp.col("a").isin("abc"), TypeError),
        (lambda: pp.col("a").isin([None]), TypeError),
        (lambda: (pp.col("a") + 1).is_null(), TypeError),
        (lambda: pp.col("a").str.startswith(1), TypeError),
        (lambda: pp.col("a").str.matches(None), TypeError),
        (lambda: (pp.col("a") + 1).mean(), TypeError),
        (lambda: pp.col("a") // 2, TypeError),
        (lambda: pp.col("a") ** 2, TypeError),
        (lambda: hash(pp.col("a")), TypeError),
        (lambda: pp.col("a").alias(""), pp.SchemaError),
        (lambda: pp.col("a").tolerate(-1), pp.SchemaError),
    ],
)
def test_expression_errors(build: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        build()


def test_between_and_repr() -> None:
    expr = pp.col("amount").between(1, 10)
    assert expr.to_dict()["op"] == "and"
    assert repr(expr) == "((col('amount') >= 1) & (col('amount') <= 10))"
    assert repr(pp.col("d") > dt.date(2020, 1, 1)) == "(col('d') > date('2020-01-01'))"
    assert repr(pp.col("s").str.len().alias("n").warn().tolerate(2)) == (
        "col('s').str.len().alias('n').warn().tolerate(2)"
    )


@pytest.mark.parametrize(
    ("check", "bounds"),
    [
        (lambda m: m > 1, (1, None, False, True)),
        (lambda m: m >= 1, (1, None, True, True)),
        (lambda m: m < 5, (None, 5, True, False)),
        (lambda m: m <= 5, (None, 5, True, True)),
        (lambda m: m == 3, (3, 3, True, True)),
        (lambda m: 1 < m, (1, None, False, True)),
        (lambda m: m.between(1, 5), (1, 5, True, True)),
        (lambda m: m.between(1, 5, inclusive="neither"), (1, 5, False, False)),
        (lambda m: m.between(1, 5, inclusive="left"), (1, 5, True, False)),
        (lambda m: m.between(1, 5, inclusive="right"), (1, 5, False, True)),
        (lambda m: m >= Decimal("2.5"), (2.5, None, True, True)),
    ],
)
def test_dataset_check_bounds(check: Any, bounds: tuple[Any, ...]) -> None:
    spec = check(pp.col("amount").mean()).to_dict()
    assert (
        spec["min"],
        spec["max"],
        spec["min_inclusive"],
        spec["max_inclusive"],
    ) == bounds
    assert (spec["metric"], spec["column"], spec["name"], spec["severity"]) == (
        "mean",
        "amount",
        None,
        "error",
    )


@pytest.mark.parametrize(
    ("method", "metric"),
    [
        ("mean", "mean"),
        ("sum", "sum"),
        ("min", "min"),
        ("max", "max"),
        ("null_count", "null_count"),
        ("null_fraction", "null_fraction"),
        ("n_unique", "distinct_count"),
        ("distinct_count", "distinct_count"),
    ],
)
def test_metrics(method: str, metric: str) -> None:
    check = getattr(pp.col("x"), method)() >= 0
    assert check.to_dict()["metric"] == metric
    assert check.to_dict()["column"] == "x"


def test_row_count_alias_warn_and_repr() -> None:
    check = (pp.row_count() >= 1).alias("not_empty").warn()
    assert check.to_dict() == {
        "metric": "row_count",
        "column": None,
        "min": 1,
        "max": None,
        "min_inclusive": True,
        "max_inclusive": True,
        "name": "not_empty",
        "severity": "warn",
    }
    assert repr(pp.col("a").n_unique().between(1, 2)) == "col('a').n_unique().between(1, 2)"
    assert repr(pp.row_count() > 0) == "pp.row_count() > 0"
    assert repr(pp.col("a").sum() == 4) == "col('a').sum() == 4"


@pytest.mark.parametrize(
    "build",
    [
        lambda: pp.col("a").mean() > "1",
        lambda: pp.col("a").mean() > True,
        lambda: pp.col("a").mean() > float("inf"),
        lambda: pp.col("a").mean().between(1, 2, inclusive="both!"),  # type: ignore[arg-type]
        lambda: bool(pp.col("a").mean()),
    ],
)
def test_bad_dataset_checks(build: Any) -> None:
    with pytest.raises((pp.SchemaError, TypeError)):
        build()


def test_helpers() -> None:
    node = ((pp.col("a") > 1) & pp.col("b").isin([1])).to_dict()
    assert columns_of(node) == {"a", "b"}
    renamed = rename_columns(node, {"a": "A"})
    assert columns_of(renamed) == {"A", "b"}
    assert is_boolean(node, {}) is True
    assert is_boolean((pp.col("a") + 1).to_dict(), {}) is False
    assert is_boolean(A, {"a": "bool"}) is True
    assert is_boolean(A, {}) is None


# -- property: any expression built from the operators is JSON and re-renders ------------------

_leaf = st.one_of(
    st.sampled_from(["a", "b", "c"]).map(pp.col),
    st.integers(-10, 10).map(pp.lit),
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(pp.lit),
)
_ops = [
    operator.add,
    operator.sub,
    operator.mul,
    operator.truediv,
    operator.lt,
    operator.ge,
    operator.eq,
    operator.and_,
    operator.or_,
]


def _combine(children: st.SearchStrategy[pp.Expr]) -> st.SearchStrategy[pp.Expr]:
    binary = st.tuples(st.sampled_from(_ops), children, children).map(lambda t: t[0](t[1], t[2]))
    unary = st.tuples(st.sampled_from([operator.neg, operator.invert, abs]), children).map(
        lambda t: t[0](t[1])
    )
    return st.one_of(binary, unary)


@given(st.recursive(_leaf, _combine, max_leaves=12))
def test_any_expression_is_json_serialisable(expr: pp.Expr) -> None:
    node = expr.to_dict()
    assert json.loads(json.dumps(node)) == node
    assert columns_of(node) <= {"a", "b", "c"}
    assert isinstance(repr(expr), str)
    assert rename_columns(node, {}) == node
