"""The DSL → spec compilation (no engine needed)."""

from __future__ import annotations

import datetime as dt
import json
import warnings
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, ClassVar, Optional, Union

import pyrustpipe as pp
import pytest

from tests.schemas import Transactions


def column(spec: Any, name: str) -> Any:
    return next(c for c in spec["columns"] if c["name"] == name)


def make(annotation: Any, field: Any = None, **config: Any) -> type[pp.Schema]:
    """A one-column schema built at runtime."""
    namespace: dict[str, Any] = {"__annotations__": {"x": annotation}}
    if field is not None:
        namespace["x"] = field
    if config:
        namespace["Config"] = type("Config", (), config)
    return type("Tmp", (pp.Schema,), namespace)


# --------------------------------------------------------------------------------------------


def test_full_example_top_level() -> None:
    spec = Transactions.to_spec()
    assert spec["spec_version"] == 1
    assert spec["name"] == "Transactions"
    assert spec["strict"] is True and spec["ordered"] is False
    assert spec["csv"] == {"delimiter": ",", "quote": '"', "null_values": [""]}
    assert [c["name"] for c in spec["columns"]] == [
        "txn_id",
        "timestamp",
        "sender_phone",
        "amount",
        "fee",
        "currency",
        "agent_id",
        "note",
    ]


def test_full_example_columns() -> None:
    spec = Transactions.to_spec()
    txn = column(spec, "txn_id")
    assert txn["dtype"] == "str" and txn["nullable"] is False
    assert txn["not_null"] == {"severity": "error", "tolerance": None}
    assert txn["type"] == {"severity": "error", "tolerance": None}
    assert [c["type"] for c in txn["checks"]] == ["pattern", "unique"]
    assert txn["checks"][0]["pattern"] == r"^TX[0-9]{10}$"
    assert txn["checks"][1]["keep"] == "none"
    assert column(spec, "timestamp")["format"] == "%Y-%m-%dT%H:%M:%S"
    assert column(spec, "timestamp")["dtype"] == "datetime"
    amount = column(spec, "amount")
    assert [(c["type"], c["value"]) for c in amount["checks"]] == [
        ("gt", 0),
        ("le", 1_000_000),
    ]
    assert column(spec, "currency")["checks"][0] == {
        "type": "isin",
        "values": ["KES", "UGX"],
        "severity": "error",
        "tolerance": None,
    }
    for name in ("agent_id", "note"):
        nullable = column(spec, name)
        assert nullable["nullable"] is True
        assert "not_null" not in nullable
        assert nullable["checks"] == []


def test_full_example_rules() -> None:
    spec = Transactions.to_spec()
    assert spec["row_rules"] == [
        {
            "name": "fee_within_amount",
            "expr": {
                "type": "binary",
                "op": "le",
                "left": {"type": "col", "name": "fee"},
                "right": {"type": "col", "name": "amount"},
            },
            "severity": "error",
            "tolerance": None,
        }
    ]
    assert spec["unique"] == [
        {
            "columns": ["sender_phone", "timestamp"],
            "keep": "none",
            "severity": "error",
            "tolerance": None,
        }
    ]
    checks = spec["dataset_checks"]
    assert [(c["metric"], c["column"]) for c in checks] == [
        ("row_count", None),
        ("mean", "amount"),
        ("null_fraction", "agent_id"),
        ("distinct_count", "currency"),
        ("sum", "amount"),
    ]
    assert (checks[0]["min"], checks[0]["max"]) == (1, None)
    assert (checks[1]["min"], checks[1]["max"]) == (10, 5000)
    assert (checks[2]["min"], checks[2]["max"], checks[2]["max_inclusive"]) == (
        None,
        0.2,
        True,
    )
    assert (checks[4]["min"], checks[4]["min_inclusive"]) == (0, False)
    assert Transactions.python_rules() == ()


def test_spec_json_round_trips_and_to_spec_is_a_copy() -> None:
    assert json.loads(Transactions.spec_json()) == Transactions.to_spec()
    spec = Transactions.to_spec()
    spec["columns"].clear()
    assert Transactions.to_spec()["columns"]


def test_the_engine_spec_is_the_class_spec_dumped_once_a_class() -> None:
    spec, text = Transactions._engine_spec()
    assert spec is Transactions.__pp_spec__ and json.loads(text) == Transactions.to_spec()
    assert Transactions._engine_spec()[1] is text  # kept, not dumped again

    # A subclass keeps its own (its spec has one column more), not its parent's.
    class Wider(Transactions):
        note: str

    wider_spec, wider_text = Wider._engine_spec()
    assert wider_spec is Wider.__pp_spec__ and json.loads(wider_text) == Wider.to_spec()
    assert column(json.loads(wider_text), "note") and wider_text != text
    assert Transactions._engine_spec()[1] is text

    # A class whose spec was replaced gets the new one's text.
    one = make(int, pp.Field(ge=1))
    first = one._engine_spec()[1]
    one.__pp_spec__ = make(int, pp.Field(ge=2)).__pp_spec__
    assert json.loads(one._engine_spec()[1]) == one.to_spec() and one._engine_spec()[1] != first


@pytest.mark.parametrize(
    ("annotation", "dtype", "nullable"),
    [
        (str, "str", False),
        (int, "int", False),
        (float, "float", False),
        (bool, "bool", False),
        (Decimal, "decimal", False),
        (dt.date, "date", False),
        (dt.datetime, "datetime", False),
        (dt.time, "time", False),
        (Optional[int], "int", True),  # noqa: UP045
        (Union[int, None], "int", True),  # noqa: UP007
        (int | None, "int", True),
        (None | dt.date, "date", True),
        (Annotated[float, "meta"], "float", False),
        ("int | None", "int", True),
        ("Decimal", "decimal", False),
        ("datetime", "datetime", False),
        ("Optional[date]", "date", True),
    ],
)
def test_types(annotation: Any, dtype: str, nullable: bool) -> None:
    spec = make(annotation).to_spec()
    assert spec["columns"][0]["dtype"] == dtype
    assert spec["columns"][0]["nullable"] is nullable


@pytest.mark.parametrize(
    ("annotation", "shown"),
    [
        (list[int], "list"),
        (dict, "dict"),
        (bytes, "bytes"),
        (int | str, "int | str"),
        (Any, "Any"),
        (Optional[Union[int, str]], "int"),  # noqa: UP007, UP045
        ("NoSuchType", "NoSuchType"),
    ],
)
def test_unsupported_types_name_the_field(annotation: Any, shown: str) -> None:
    with pytest.raises(pp.SchemaError, match=r"Tmp\.x") as info:
        make(annotation)
    assert shown in str(info.value)


def test_string_annotations_resolve_against_the_module() -> None:
    namespace = {
        "__annotations__": {"when": "dt.datetime | None", "n": "int"},
        "__module__": __name__,
    }
    cls = type("Strings", (pp.Schema,), namespace)
    assert [(c["dtype"], c["nullable"]) for c in cls.to_spec()["columns"]] == [
        ("datetime", True),
        ("int", False),
    ]


@pytest.mark.parametrize(
    ("annotation", "field", "message"),
    [
        (int, pp.Field(pattern="^a$"), "pattern applies to str columns, not int"),
        (str, pp.Field(gt=0), "gt applies to numeric, date, datetime and time columns, not str"),
        (bool, pp.Field(ge=0), "ge applies to numeric"),
        (float, pp.Field(min_length=1), "min_length applies to str columns, not float"),
        (str, pp.Field(min_length=-1), "min_length needs a non-negative integer"),
        (str, pp.Field(max_length=1.5), "max_length must be an int"),
        (
            str,
            pp.Field(min_length=5, max_length=2),
            "min_length 5 is greater than max_length 2",
        ),
        (int, pp.Field(tolerance=-1), "tolerance must be >= 0"),
        (int, pp.Field(tolerance=1.5), "between 0 and 1"),
        (int, pp.Field(tolerance=float("nan")), "between 0 and 1"),
        (int, pp.Field(tolerance=True), "not a bool"),
        (int, pp.Field(tolerance="5%"), "tolerance must be an int count"),
        (int, pp.Field(severity="fatal"), 'severity must be "error" or "warn"'),
        (str, pp.Field(pattern=r"^(?=a)"), "look-around"),
        (str, pp.Field(pattern=r"(?<!x)y"), "look-around"),
        (str, pp.Field(pattern=r"(a)\1"), "backreferences are not supported"),
        (str, pp.Field(pattern="a" * 5000), "4096"),
        (str, pp.Field(pattern=5), "pattern must be a string"),
        (str, pp.Field(isin=[1, 2]), "isin value 1 is not a str"),
        (int, pp.Field(isin=["1"]), "isin value '1' is not a int"),
        (int, pp.Field(isin=[True]), "is not a int"),
        (int, pp.Field(isin="abc"), "takes a list"),
        (int, pp.Field(isin=[]), "at least one value"),
        (bool, pp.Field(not_in=[1]), "not a bool"),
        (dt.datetime, pp.Field(isin=["2020-01-01"]), "isin applies to str, int, float, decimal"),
        (dt.date, pp.Field(isin=["2020-1-1"]), '"2020-1-1" is not a valid date value'),
        (str, pp.Field(format="%Y"), "format applies to date, datetime and time"),
        (dt.date, pp.Field(format=""), 'date format "" is missing %Y'),
        (int, pp.Field(unique="last"), 'unique must be True or "first"'),
        (float, pp.Field(gt=float("nan")), "finite number"),
        (float, pp.Field(gt=Decimal("inf")), "finite number"),
        (float, pp.Field(gt=True), "expected a number"),
        (float, pp.Field(gt="1"), "takes a number"),
        (
            dt.date,
            pp.Field(gt=dt.datetime(2020, 1, 1)),
            "takes a date or an ISO string",
        ),
        (dt.date, pp.Field(gt="2020/01/01"), 'gt bound "2020/01/01" does not fit a date column'),
        (dt.time, pp.Field(lt="25h"), 'lt bound "25h" does not fit a time column'),
        (int, pp.Field(gt=pp.Check(0, severity="nope")), "severity must be"),
        (int, pp.Field(gt=pp.Check(0, tolerance=-2)), "tolerance must be >= 0"),
        (int, pp.Field(alias=""), "alias must be a non-empty string"),
        (int, 5, "plain default value"),
        (int, None, "defaults to None but its type is not Optional"),
    ],
)
def test_invalid_fields_raise_schema_error_naming_the_field(
    annotation: Any, field: Any, message: str
) -> None:
    namespace: dict[str, Any] = {"__annotations__": {"x": annotation}, "x": field}
    with pytest.raises(pp.SchemaError, match=r"Tmp\.x") as info:
        type("Tmp", (pp.Schema,), namespace)
    assert message in str(info.value)
    assert isinstance(info.value, ValueError)


def test_field_without_annotation_is_an_error() -> None:
    with pytest.raises(pp.SchemaError, match=r"Tmp\.x: pp.Field\(\) needs a type annotation"):
        type("Tmp", (pp.Schema,), {"x": pp.Field(gt=0)})


@pytest.mark.parametrize(
    ("annotation", "kwargs", "expected"),
    [
        (float, {"gt": 0}, [{"type": "gt", "value": 0}]),
        (
            int,
            {"ge": 1, "lt": 10},
            [{"type": "ge", "value": 1}, {"type": "lt", "value": 10}],
        ),
        (float, {"le": Decimal("2.5")}, [{"type": "le", "value": 2.5}]),
        (Decimal, {"ge": Decimal(10)}, [{"type": "ge", "value": 10}]),
        (
            dt.date,
            {"ge": dt.date(2020, 1, 31)},
            [{"type": "ge", "value": "2020-01-31"}],
        ),
        (dt.date, {"le": "2030-12-31"}, [{"type": "le", "value": "2030-12-31"}]),
        (
            dt.datetime,
            {"lt": dt.datetime(2020, 1, 1, 12, 30)},
            [{"type": "lt", "value": "2020-01-01T12:30:00"}],
        ),
        (dt.time, {"ge": dt.time(8)}, [{"type": "ge", "value": "08:00:00"}]),
        (
            str,
            {"min_length": 1, "max_length": 5},
            [
                {"type": "min_length", "value": 1},
                {"type": "max_length", "value": 5},
            ],
        ),
        (str, {"pattern": "^[a-z]+$"}, [{"type": "pattern", "pattern": "^[a-z]+$"}]),
        (int, {"isin": [1, 2]}, [{"type": "isin", "values": [1, 2]}]),
        (float, {"not_in": [0, 1.5]}, [{"type": "not_in", "values": [0, 1.5]}]),
        (bool, {"isin": [True]}, [{"type": "isin", "values": [True]}]),
        (
            dt.date,
            {"isin": [dt.date(2020, 1, 1), "2020-01-02"]},
            [{"type": "isin", "values": ["2020-01-01", "2020-01-02"]}],
        ),
        (int, {"unique": True}, [{"type": "unique", "keep": "none"}]),
        (str, {"unique": "first"}, [{"type": "unique", "keep": "first"}]),
        (str, {"unique": False}, []),
    ],
)
def test_constraints(annotation: Any, kwargs: dict[str, Any], expected: list[Any]) -> None:
    checks = make(annotation, pp.Field(**kwargs)).to_spec()["columns"][0]["checks"]
    for check in checks:
        assert check.pop("severity") == "error"
        assert check.pop("tolerance") is None
    assert checks == expected


def test_field_severity_and_tolerance_apply_to_every_rule_and_check_overrides() -> None:
    class T(pp.Schema):
        amount: float = pp.Field(
            gt=0,
            le=pp.Check(10_000, severity="error", tolerance=5, name="amount_cap"),
            severity="warn",
            tolerance=0.01,
        )

    col = T.to_spec()["columns"][0]
    assert col["not_null"] == {"severity": "warn", "tolerance": {"fraction": 0.01}}
    assert col["type"] == {"severity": "warn", "tolerance": {"fraction": 0.01}}
    assert col["checks"] == [
        {"type": "gt", "value": 0, "severity": "warn", "tolerance": {"fraction": 0.01}},
        {
            "type": "le",
            "value": 10_000,
            "severity": "error",
            "tolerance": {"count": 5},
            "name": "amount_cap",
        },
    ]


def test_unique_check_wrapper() -> None:
    spec = make(str, pp.Field(unique=pp.Check("first", severity="warn"))).to_spec()
    assert spec["columns"][0]["checks"] == [
        {"type": "unique", "keep": "first", "severity": "warn", "tolerance": None}
    ]


@pytest.mark.parametrize(
    ("tolerance", "expected"),
    [
        (0, {"count": 0}),
        (12, {"count": 12}),
        (0.0, {"fraction": 0.0}),
        (0.25, {"fraction": 0.25}),
        (1.0, {"fraction": 1.0}),
        ({"count": 3}, {"count": 3}),
        ({"fraction": 0.5}, {"fraction": 0.5}),
    ],
)
def test_tolerance_forms(tolerance: Any, expected: dict[str, Any]) -> None:
    col = make(int, pp.Field(tolerance=tolerance)).to_spec()["columns"][0]
    assert col["not_null"]["tolerance"] == expected


def test_alias_names_the_column_and_row_rules_read_it() -> None:
    class T(pp.Schema):
        amount: float = pp.Field(alias="Amount (KES)", gt=0)
        fee: float = pp.Field(alias="Fee")

        @pp.row_rule
        def fee_ok(row):
            return row.fee <= row.amount

        class Config:
            unique: ClassVar = [("amount", "fee")]
            checks: ClassVar = [
                pp.col("fee").sum() >= 0,
                (pp.col("fee") >= 0).alias("fee_sign"),
            ]

    spec = T.to_spec()
    assert [c["name"] for c in spec["columns"]] == ["Amount (KES)", "Fee"]
    expr = spec["row_rules"][0]["expr"]
    assert (expr["left"]["name"], expr["right"]["name"]) == ("Fee", "Amount (KES)")
    assert spec["unique"][0]["columns"] == ["Amount (KES)", "Fee"]
    assert spec["dataset_checks"][0]["column"] == "Fee"
    assert spec["row_rules"][1]["name"] == "fee_sign"
    assert spec["row_rules"][1]["expr"]["left"]["name"] == "Fee"


def test_duplicate_column_names_are_an_error() -> None:
    with pytest.raises(pp.SchemaError, match="declared twice"):

        class T(pp.Schema):
            a: int
            b: int = pp.Field(alias="a")


def test_classvar_and_private_annotations_are_not_columns() -> None:
    class T(pp.Schema):
        a: int
        _private: int = 3
        counter: ClassVar[int] = 0

    assert [c["name"] for c in T.to_spec()["columns"]] == ["a"]


def test_inheritance_adds_columns_rules_and_config() -> None:
    class Base(pp.Schema):
        id: int = pp.Field(unique=True)

        @pp.row_rule
        def positive(row):
            return row.id > 0

        class Config:
            strict = True

    class Child(Base):
        name: str

        class Config:
            ordered = True

    spec = Child.to_spec()
    assert [c["name"] for c in spec["columns"]] == ["id", "name"]
    assert [r["name"] for r in spec["row_rules"]] == ["positive"]
    assert (spec["strict"], spec["ordered"]) == (True, True)
    assert spec["name"] == "Child"
    assert Base.to_spec()["ordered"] is False


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"stritc": True}, "unknown option 'stritc'"),
        ({"strict": 1}, "strict must be True or False"),
        ({"delimiter": ";;"}, "delimiter: must be one ASCII character"),
        ({"quote": ""}, "quote: must be one ASCII character"),
        ({"null_values": "NA"}, "null_values must be a list of strings"),
        ({"null_values": [None]}, "null_values must be a list of strings"),
        ({"min_rows": -1}, "min_rows must be an int >= 0"),
        ({"max_rows": 1.5}, "max_rows must be an int >= 0"),
        ({"unique": [1]}, "unique entries are tuples"),
        ({"unique": [pp.Unique(())]}, "at least one column"),
        (
            {"unique": [pp.Unique(("x",), keep="last")]},
            'keep must be "none" or "first"',
        ),
        ({"unique": [pp.Unique(("x",), tolerance=-1)]}, "tolerance must be >= 0"),
        ({"checks": [pp.col("x").mean()]}, "needs a bound"),
        ({"checks": ["x > 0"]}, "must be a pp.col"),
        ({"checks": [pp.col("x") + 1]}, "not a boolean expression"),
    ],
)
def test_invalid_config(config: dict[str, Any], message: str) -> None:
    with pytest.raises(pp.SchemaError, match=r"Tmp\.Config") as info:
        make(int, **config)
    assert message in str(info.value)


def test_config_options() -> None:
    spec = make(
        int,
        delimiter=";",
        quote="'",
        null_values=["", "NA", "null"],
        name="Renamed",
        min_rows=2,
        max_rows=10,
    ).to_spec()
    assert spec["csv"] == {
        "delimiter": ";",
        "quote": "'",
        "null_values": ["", "NA", "null"],
    }
    assert spec["name"] == "Renamed"
    assert spec["dataset_checks"] == [
        {
            "metric": "row_count",
            "column": None,
            "min": 2,
            "max": 10,
            "min_inclusive": True,
            "max_inclusive": True,
            "name": None,
            "severity": "error",
        }
    ]


@pytest.mark.parametrize(
    ("unique", "expected"),
    [
        (("a", "b"), [(["a", "b"], "none")]),
        ([("a", "b"), ["b", "c"]], [(["a", "b"], "none"), (["b", "c"], "none")]),
        ("a", [(["a"], "none")]),
        ([pp.Unique(("a", "c"), keep="first")], [(["a", "c"], "first")]),
        (pp.Unique("b"), [(["b"], "none")]),
    ],
)
def test_composite_unique_forms(unique: Any, expected: list[Any]) -> None:
    namespace: dict[str, Any] = {
        "__annotations__": {"a": int, "b": str, "c": str},
        "Config": type("Config", (), {"unique": unique}),
    }
    spec = type("T", (pp.Schema,), namespace).to_spec()
    assert [(u["columns"], u["keep"]) for u in spec["unique"]] == expected


def test_unique_options() -> None:
    namespace: dict[str, Any] = {
        "__annotations__": {"a": int, "b": int},
        "Config": type(
            "Config",
            (),
            {"unique": [pp.Unique(("a", "b"), severity="warn", tolerance=0.1, name="ab_key")]},
        ),
    }
    spec = type("T", (pp.Schema,), namespace).to_spec()
    assert spec["unique"] == [
        {
            "columns": ["a", "b"],
            "keep": "none",
            "severity": "warn",
            "tolerance": {"fraction": 0.1},
            "name": "ab_key",
        }
    ]


def test_row_rule_options_and_config_row_checks() -> None:
    class T(pp.Schema):
        a: int
        b: int | None

        @pp.row_rule(severity="warn", tolerance=0.01)
        def a_positive(row):
            return row.a > 0

        @pp.row_rule(name="b_set")
        def whatever(row):
            return row.b.is_not_null()

        class Config:
            checks: ClassVar = [
                pp.col("a") < 100,
                (pp.col("a") != pp.col("b")).alias("a_ne_b").warn().tolerate(3),
                pp.col("a").max() <= 50,
            ]

    rules = T.to_spec()["row_rules"]
    assert [(r["name"], r["severity"], r["tolerance"]) for r in rules] == [
        ("a_positive", "warn", {"fraction": 0.01}),
        ("b_set", "error", None),
        ("check_1", "error", None),
        ("a_ne_b", "warn", {"count": 3}),
    ]
    assert rules[1]["expr"] == {
        "type": "not",
        "expr": {"type": "is_null", "expr": {"type": "col", "name": "b"}},
    }


def test_row_rule_can_index_the_row_by_column_name() -> None:
    class T(pp.Schema):
        amount: float = pp.Field(alias="Amount")

        @pp.row_rule
        def positive(row):
            return row["Amount"] > 0

    assert T.to_spec()["row_rules"][0]["expr"]["left"] == {
        "type": "col",
        "name": "Amount",
    }


def test_row_rule_of_a_bool_column() -> None:
    class T(pp.Schema):
        active: bool

        @pp.row_rule
        def is_active(row):
            return row.active

    assert T.to_spec()["row_rules"][0]["expr"] == {"type": "col", "name": "active"}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (lambda row: row.a > 0 and row.b > 0, "and / or / not / if"),
        (lambda row: row.a > 0 if row.b else True, "and / or / not / if"),
        (lambda row: not row.a, "and / or / not / if"),
        (lambda row: row.a is None, "returned bool False, not a column expression"),
        (lambda row: int(row.a) > 1, "raised TypeError while tracing"),
        (lambda row: {}[row.a.name], "raised KeyError while tracing"),
        (lambda row: row.a // 2 == 0, "raised TypeError while tracing"),
        (lambda row: None, "returned NoneType None"),
    ],
)
def test_untraceable_rules_warn_and_run_in_python(body: Any, reason: str) -> None:
    def rule(row: Any) -> Any:
        return body(row)

    namespace: dict[str, Any] = {
        "__annotations__": {"a": int, "b": int},
        "odd": pp.row_rule(rule),
    }
    with pytest.warns(pp.UntraceableRuleWarning) as record:
        cls = type("T", (pp.Schema,), namespace)
    message = str(record[0].message)
    assert "'rule' of T" in message and "Python" in message
    assert reason in message
    assert cls.to_spec()["row_rules"] == []
    (python_rule,) = cls.python_rules()
    assert python_rule.name == "rule" and python_rule.func is rule
    assert reason in python_rule.reason


# -- typos: a row rule reads only declared columns --------------------------------------------


def penguins(rule: Any, **config: Any) -> type[pp.Schema]:
    """A Penguins schema (one aliased column) with ``rule`` as its row rule ``bill_ratio``."""
    namespace: dict[str, Any] = {
        "__annotations__": {"bill_length_mm": float, "bill_depth_mm": float, "species": str},
        "species": pp.Field(alias="Species Name"),
        "bill_ratio": pp.row_rule(name="bill_ratio")(rule),
    }
    if config:
        namespace["Config"] = type("Config", (), config)
    return type("Penguins", (pp.Schema,), namespace)


def lenght_by_attribute(row: Any) -> Any:
    return row.bill_lenght_mm / row.bill_depth_mm > 1


def lenght_by_item(row: Any) -> Any:
    return row["bill_lenght_mm"] > 1


def alias_by_item(row: Any) -> Any:
    return row["Species Nmae"] == "Adelie"


def lenght_after_and(row: Any) -> Any:
    # `and` stops tracing before the typo is read: only the bytecode shows it
    return row.bill_depth_mm > 0 and row.bill_lenght_mm > 0


def lenght_in_untraceable_call(row: Any) -> Any:
    return float(row.bill_lenght_mm) > 1


def lenght_in_a_generator(row: Any) -> Any:
    return all(x > 0 for x in (row.bill_depth_mm, row.bill_lenght_mm))


def lenght_swallowed(row: Any) -> Any:
    value = getattr(row, "bill_lenght_mm", None)
    return row.bill_depth_mm > 0 if value is None else value > 0


@pytest.mark.parametrize(
    ("rule", "name"),
    [
        (lenght_by_attribute, "bill_lenght_mm"),
        (lenght_by_item, "bill_lenght_mm"),
        (lenght_after_and, "bill_lenght_mm"),
        (lenght_in_untraceable_call, "bill_lenght_mm"),
        (lenght_in_a_generator, "bill_lenght_mm"),
        (lenght_swallowed, "bill_lenght_mm"),
    ],
)
def test_a_row_rule_reading_a_misspelt_column_is_an_error(rule: Any, name: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an error at definition, not a Python-run rule
        with pytest.raises(pp.SchemaError) as info:
            penguins(rule)
    assert str(info.value) == (
        f"Penguins.bill_ratio: row rule reads unknown column {name!r} "
        "(did you mean 'bill_length_mm'?)"
    )


def test_only_a_rule_naming_nothing_but_columns_skips_the_bytecode_scan() -> None:
    from pyrustpipe._trace import names_only_columns

    columns = {"bill_depth_mm": "bill_depth_mm", "species": "Species Name"}

    def by_item(row: Any) -> Any:
        return row["Species Name"] == row._private

    assert names_only_columns(lambda row: row.bill_depth_mm > 0, columns)
    assert names_only_columns(by_item, columns)  # its string constants are columns
    assert not names_only_columns(lenght_after_and, columns)  # the typo's name is in the code
    assert not names_only_columns(lambda row: abs(row.bill_depth_mm) > 0, columns)

    def nested_typo(row: Any) -> Any:
        inner = lambda: row.bill_lenght_mm > 0  # noqa: E731 - the name is only in nested code
        return inner()

    assert not names_only_columns(nested_typo, columns)


def test_a_misspelt_alias_suggests_the_data_name() -> None:
    with pytest.raises(pp.SchemaError) as info:
        penguins(alias_by_item)
    assert str(info.value) == (
        "Penguins.bill_ratio: row rule reads unknown column 'Species Nmae' "
        "(did you mean 'Species Name'?)"
    )


def test_an_unknown_column_without_a_close_name_lists_the_declared_ones() -> None:
    with pytest.raises(pp.SchemaError) as info:
        penguins(lambda row: row.island == "Biscoe")
    assert str(info.value) == (
        "Penguins.bill_ratio: row rule reads unknown column 'island'; a row rule reads only "
        "declared columns (bill_length_mm, bill_depth_mm, Species Name)"
    )


def test_several_unknown_columns_are_named_together() -> None:
    def two_typos(row: Any) -> Any:
        return row.bill_depth_mm > 0 and row.bill_lenght_mm > row.bil_depth_mm

    with pytest.raises(pp.SchemaError, match="unknown columns 'bill_lenght_mm' "):
        penguins(two_typos)
    with pytest.raises(pp.SchemaError) as info:
        penguins(two_typos)
    assert "'bil_depth_mm' (did you mean 'bill_depth_mm'?)" in str(info.value)


def test_a_non_strict_schema_still_reads_only_declared_columns() -> None:
    # strict=False lets the data have more columns; a rule cannot read them (declare them)
    with pytest.raises(pp.SchemaError, match="row rule reads unknown column 'island'"):
        penguins(lambda row: row.island == "Biscoe", strict=False)


def test_the_data_name_of_an_aliased_column_is_readable_as_an_attribute() -> None:
    class T(pp.Schema):
        amount: float = pp.Field(alias="Amount")

        @pp.row_rule
        def positive(row):
            return (row.Amount > 0) & (row["amount"] > 0)

    expr = T.to_spec()["row_rules"][0]["expr"]
    assert expr["left"]["left"] == expr["right"]["left"] == {"type": "col", "name": "Amount"}


def test_a_rule_reading_the_row_by_position_is_an_error() -> None:
    with pytest.raises(
        pp.SchemaError, match=r"Penguins\.bill_ratio: row rule reads unknown column 0"
    ):
        penguins(lambda row: row[0] > 1)


def test_private_names_of_the_row_are_not_column_reads() -> None:
    with pytest.warns(pp.UntraceableRuleWarning, match="raised AttributeError"):
        cls = penguins(lambda row: row._cache is not None)
    assert [r.name for r in cls.python_rules()] == ["bill_ratio"]


def test_a_genuinely_untraceable_rule_still_runs_in_python() -> None:
    def ratio(row: Any) -> Any:
        return round(row.bill_length_mm / row.bill_depth_mm, 1) > 1.5

    with pytest.warns(pp.UntraceableRuleWarning, match="'bill_ratio' of Penguins"):
        cls = penguins(ratio)
    assert cls.to_spec()["row_rules"] == []
    assert [r.name for r in cls.python_rules()] == ["bill_ratio"]


def test_a_rebound_row_name_is_not_read_statically() -> None:
    def rebinds(row: Any) -> Any:
        depth = row.bill_depth_mm
        row = {"x": 1}  # no longer the row: `row.get` below is not a column read
        return depth > 0 if row.get("x") else None

    spec = penguins(rebinds).to_spec()
    assert spec["row_rules"][0]["expr"]["left"] == {"type": "col", "name": "bill_depth_mm"}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"checks": [pp.col("bill_lenght_mm") > 0]},
            "Penguins.Config: checks[0] ((col('bill_lenght_mm') > 0)) reads unknown column "
            "'bill_lenght_mm' (did you mean 'bill_length_mm'?)",
        ),
        (
            {"checks": [pp.col("bill_depth_mm").mean() > 0, pp.col("specie").n_unique() > 1]},
            "Penguins.Config: checks[1] (col('specie').n_unique() > 1) reads unknown column "
            "'specie' (did you mean 'species'?)",
        ),
        (
            {"unique": [("species", "bill_lenght")]},
            "Penguins.Config: unique ('species', 'bill_lenght') reads unknown column "
            "'bill_lenght' (did you mean 'bill_length_mm'?)",
        ),
        (
            {"checks": [pp.col("island") == "Biscoe"]},
            "Penguins.Config: checks[0] ((col('island') == 'Biscoe')) reads unknown column "
            "'island'",
        ),
    ],
)
def test_config_reading_an_unknown_column_is_an_error(config: dict[str, Any], message: str) -> None:
    with pytest.raises(pp.SchemaError) as info:
        penguins(lambda row: row.bill_depth_mm > 0, **config)
    assert str(info.value) == message


def test_untraceable_warning_points_at_the_function() -> None:
    with pytest.warns(pp.UntraceableRuleWarning) as record:

        class T(pp.Schema):
            a: int

            @pp.row_rule
            def both(row):
                return row.a > 0 and row.a < 10

    assert record[0].filename == __file__
    assert record[0].lineno == T.python_rules()[0].func.__code__.co_firstlineno


def test_traceable_rules_emit_no_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")

        class T(pp.Schema):
            a: int

            @pp.row_rule
            def ok(row):
                return (row.a > 0) & (row.a < 10)

    assert T.to_spec()["row_rules"][0]["expr"]["op"] == "and"


def test_row_rule_must_take_one_argument() -> None:
    with pytest.raises(pp.SchemaError, match="exactly one argument"):

        class T(pp.Schema):
            a: int

            @pp.row_rule
            def two(self, row):  # type: ignore[no-untyped-def]
                return row.a > 0


def test_row_rule_must_return_a_boolean_expression() -> None:
    with pytest.raises(pp.SchemaError, match="must return a boolean expression"):

        class T(pp.Schema):
            a: int

            @pp.row_rule
            def total(row):
                return row.a + 1


def test_duplicate_rule_names_are_an_error() -> None:
    with pytest.raises(
        pp.SchemaError, match=r"^T\.Config: checks\[0\] .*two rules are named \"a:gt\""
    ):

        class T(pp.Schema):
            a: int = pp.Field(gt=0)

            class Config:
                checks: ClassVar = [(pp.col("a") > 1).alias("a:gt")]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"severity": "bad"}, 'severity must be "error" or "warn"'),
        ({"tolerance": -3}, "tolerance must be >= 0"),
    ],
)
def test_decorator_options_are_checked(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(pp.SchemaError, match=message):

        @pp.row_rule(**kwargs)
        def rule(row: Any) -> Any:
            return row.a > 0


def test_base_schema_spec_is_empty() -> None:
    spec = pp.Schema.to_spec()
    assert spec["columns"] == [] and spec["spec_version"] == 1


def test_field_repr() -> None:
    assert repr(pp.Field(gt=0, alias="A")) == "Field(gt=0, alias='A')"
    assert repr(pp.Check(1, severity="warn")) == "Check(1, severity='warn')"


def test_a_datetime_bound_with_a_compact_offset(tmp_path: Path) -> None:
    """`+0300` is an offset the engine accepts (docs/spec.md); the DSL takes it too."""

    class Events(pp.Schema):
        at: dt.datetime = pp.Field(gt="2026-01-01T00:00:00+0300")

    path = tmp_path / "e.csv"
    path.write_text("at\n2025-12-31T22:00:00Z\n2025-12-31T20:00:00Z\n")
    report = pp.validate(str(path), Events)
    assert report.rule("at:gt").failed == 1


def test_the_old_decorator_spelling_still_works_and_warns() -> None:
    with pytest.warns(DeprecationWarning, match="old spelling of @pp.row_rule") as caught:

        class T(pp.Schema):
            a: int = pp.Field()

            @pp.validate
            def positive(row):  # type: ignore[no-untyped-def]
                return row.a > 0

            @pp.validate(severity="warn", name="small")
            def below_ten(row):  # type: ignore[no-untyped-def]
                return row.a < 10

    assert len(caught) == 2
    rules = {r["name"]: r["severity"] for r in T.to_spec()["row_rules"]}
    assert rules == {"positive": "error", "small": "warn"}
