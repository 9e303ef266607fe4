"""``pp.compile`` / ``Schema.rules()``: the engine's compiled rule table is exactly the rules a
report lists, for every schema the project ships or documents; the engine alone judges the rules,
and its errors name ``Class.attribute``."""

from __future__ import annotations

import ast
import datetime as dt
import json
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyrustpipe as pp
import pytest
from pyrustpipe import _core  # noqa: F401 - engine-backed: fail, never skip, without it
from pyrustpipe.api import SchemaLike, resolve_schema

from tests.schemas import Everything, Transactions

ROOT = Path(__file__).resolve().parents[2]


def _doc_schemas() -> Iterator[tuple[str, type[pp.Schema]]]:
    """Every ``pp.Schema`` class defined in a Python block of the docs and the README."""
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        blocks = re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.DOTALL)
        for index, block in enumerate(blocks):
            if "(pp.Schema)" not in block:
                continue
            # only the imports, constants and classes: a block's run (pp.validate on its S3
            # example paths) is not executed
            tree = ast.parse(block)
            tree.body = [
                node
                for node in tree.body
                if isinstance(node, (ast.Import, ast.ImportFrom, ast.ClassDef))
                or (isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant))
            ]
            namespace: dict[str, Any] = {"__name__": f"docs_{page.stem}_{index}"}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", pp.UntraceableRuleWarning)
                exec(compile(tree, f"{page.name} block {index}", "exec"), namespace)  # noqa: S102
            for name, value in namespace.items():
                if isinstance(value, type) and issubclass(value, pp.Schema):
                    if value is not pp.Schema:
                        yield f"{page.name}:{name}", value


def _schemas() -> list[tuple[str, SchemaLike]]:
    found: list[tuple[str, SchemaLike]] = [
        ("tests/schemas.py:Transactions", Transactions),
        ("tests/schemas.py:Everything", Everything),
    ]
    for reference in (
        "example_dags/rules/transactions.py",
        "bench/rules.py",
        "bench/rules.json",
    ):
        found.append((reference, pp.load_rules(ROOT / reference)))
    found.extend(_doc_schemas())
    return found


SCHEMAS = _schemas()


def _report_rules(schema: SchemaLike, folder: Path) -> pp.Report:
    """A run over a header-only file: every rule is reported, none fails on data."""
    spec, _ = resolve_schema(schema)
    path = folder / "header.csv"
    csv = spec.get("csv") or {}
    header = csv.get("delimiter", ",").join(c["name"] for c in spec["columns"])
    path.write_text(header + "\n" if csv.get("header", True) else "")
    return pp.validate(path, schema, allow_empty=True, sample_size=0)


def test_every_shipped_and_documented_schema_is_collected() -> None:
    names = [name for name, _ in SCHEMAS]
    assert any(name.startswith("dsl.md:") for name in names), names
    assert any(name.startswith("README.md:") for name in names), names
    assert len(names) >= 8, names


@pytest.mark.parametrize(("name", "schema"), SCHEMAS, ids=[n for n, _ in SCHEMAS])
def test_rule_table_equals_the_report_rules(name: str, schema: SchemaLike, tmp_path: Path) -> None:
    compiled = pp.compile(schema)
    report = _report_rules(schema, tmp_path)
    table = [(r.name, r.kind, r.scope, r.column, r.severity, r.tolerance) for r in compiled.rules]
    reported = [(r.name, r.kind, r.scope, r.column, r.severity, r.tolerance) for r in report.rules]
    assert table == reported, name
    assert compiled.ruleset_hash == report.ruleset_hash
    assert all(r.description for r in compiled.rules), name


def test_schema_rules_is_pp_compile() -> None:
    assert Transactions.rules() == pp.compile(Transactions).rules


def test_rule_table_describes_each_rule() -> None:
    compiled = pp.compile(Transactions)
    described = {r.name: r.description for r in compiled.rules}
    assert described["amount:gt"] == "amount > 0"
    assert described["amount:le"] == "amount <= 1000000"
    assert described["txn_id:pattern"] == 'txn_id matches "^TX[0-9]{10}$"'
    assert described["currency:isin"] == 'currency is one of ["KES", "UGX"]'
    assert described["sender_phone,timestamp:unique"] == "(sender_phone, timestamp) is unique"
    assert described["fee_within_amount"] == "(fee <= amount)"
    assert described["dataset:row_count"] == "row_count >= 1"
    assert described["amount:mean"] == "mean(amount) >= 10 and <= 5000"
    assert described["timestamp:type"] == "timestamp is a datetime (%Y-%m-%dT%H:%M:%S)"
    key = compiled.rule("sender_phone,timestamp:unique")
    assert (key.scope, key.column, key.columns) == ("row", None, ("sender_phone", "timestamp"))
    assert compiled.rule("fee_within_amount").columns == ("amount", "fee")


def test_python_rules_are_listed_last() -> None:
    with pytest.warns(pp.UntraceableRuleWarning):

        class Branchy(pp.Schema):
            a: int = pp.Field()

            @pp.row_rule
            def positive(row):  # type: ignore[no-untyped-def]
                return True if row.a > 0 else False  # noqa: SIM210 - untraceable on purpose

    last = pp.compile(Branchy).rules[-1]
    assert (last.name, last.kind, last.scope) == ("positive", "python_row_rule", "row")


def test_a_spec_compiles_like_its_class() -> None:
    assert pp.compile(Transactions.to_spec()).rules == pp.compile(Transactions).rules


# -- the engine judges; its errors name the class attribute ------------------------------------


def test_a_compact_utc_offset_bound_is_accepted() -> None:
    class Events(pp.Schema):
        at: dt.datetime = pp.Field(gt="2026-01-01T00:00:00+0300")

    assert Events.rules()[-1].description == "at > 2026-01-01T00:00:00+0300"


def test_an_escaped_paren_before_question_mark_is_not_look_around() -> None:
    class Codes(pp.Schema):
        code: str = pp.Field(pattern=r"^\(?=x")

    assert Codes.to_spec()["columns"][0]["checks"][0]["pattern"] == r"^\(?=x"


ENGINE_REJECTS = [
    ({"pattern": "^[0-9]+$"}, int, "T.x: pattern applies to str columns, not int"),
    ({"gt": 0}, str, "T.x: gt applies to numeric, date, datetime and time columns, not str"),
    ({"min_length": 5, "max_length": 2}, str, "T.x: min_length 5 is greater than max_length 2"),
    ({"isin": []}, str, "T.x: isin needs at least one value"),
    ({"gt": "2026-13-01"}, dt.date, 'T.x: gt bound "2026-13-01" does not fit a date column'),
    ({"pattern": "(?=x)"}, str, "T.x: invalid pattern"),
    ({"pattern": "(a)\\1"}, str, "T.x: invalid pattern"),
    ({"min_length": -1}, str, "T.x: min_length needs a non-negative integer"),
    ({"format": "%Y"}, int, "T.x: format applies to date, datetime and time columns, not int"),
]


@pytest.mark.parametrize(("field", "annotation", "message"), ENGINE_REJECTS)
def test_the_engine_judges_and_names_the_attribute(
    field: dict[str, Any], annotation: type, message: str
) -> None:
    with pytest.raises(pp.SchemaError) as caught:
        type("T", (pp.Schema,), {"__annotations__": {"x": annotation}, "x": pp.Field(**field)})
    assert str(caught.value).startswith(message), str(caught.value)


def test_duplicate_rule_names_name_the_second_rule() -> None:
    with pytest.raises(pp.SchemaError, match=r"^T\.b: two rules are named \"a:gt\""):

        class T(pp.Schema):
            a: int = pp.Field(gt=0)
            b: int = pp.Field(gt=pp.Check(0, name="a:gt"))


def test_config_errors_name_the_config() -> None:
    with pytest.raises(pp.SchemaError, match=r"^T\.Config: delimiter: must be one ASCII"):

        class T(pp.Schema):
            a: int = pp.Field()

            class Config:
                delimiter = "é"


# -- parity: what Python checks (Python types), the engine rejects in a hand-written spec too ---

PYTHON_TYPE_CHECKS = [
    ({"not_in": ["a"]}, "int", {"type": "not_in", "values": ["a"]}),
    ({"isin": [1.5]}, "int", {"type": "isin", "values": [1.5]}),
    ({"gt": dt.date(2026, 1, 1)}, "int", {"type": "gt", "value": "2026-01-01"}),
    ({"ge": 5}, "date", {"type": "ge", "value": 5}),
]
_TYPES: dict[str, type] = {"int": int, "date": dt.date}


@pytest.mark.parametrize(("field", "dtype", "check"), PYTHON_TYPE_CHECKS)
def test_python_type_checks_are_a_subset_of_the_engine(
    field: dict[str, Any], dtype: str, check: dict[str, Any]
) -> None:
    with pytest.raises(pp.SchemaError, match=r"^T\.x: "):
        type("T", (pp.Schema,), {"__annotations__": {"x": _TYPES[dtype]}, "x": pp.Field(**field)})
    spec = {"spec_version": 1, "columns": [{"name": "x", "dtype": dtype, "checks": [check]}]}
    with pytest.raises(pp.SchemaError, match=r"columns\[0\] \(x\)\.checks\[0\]"):
        pp.compile(json.loads(json.dumps(spec)))
