"""The DSL's output against the wire types (spec.py) and the documented spec (docs/spec.md)."""

from __future__ import annotations

import datetime as dt
import json
import re
import typing
from pathlib import Path
from typing import Any, ClassVar

import pyrustpipe as pp
import pytest
from pyrustpipe import spec as wire

DOCS = Path(__file__).resolve().parents[2] / "docs" / "spec.md"


class Transactions(pp.Schema):
    txn_id: str = pp.Field(pattern=r"^TX[0-9]{10}$", unique=True)
    timestamp: dt.datetime = pp.Field(format="%Y-%m-%dT%H:%M:%S")
    sender_phone: str = pp.Field(pattern=r"^\+2547[0-9]{8}$")
    amount: float = pp.Field(gt=0, le=1_000_000)
    fee: float = pp.Field(ge=0)
    currency: str = pp.Field(isin=["KES", "UGX"])
    agent_id: str | None = pp.Field()
    note: str | None = None

    @pp.validate
    def fee_within_amount(row):
        return row.fee <= row.amount

    class Config:
        strict = True
        ordered = False
        unique: ClassVar = [("sender_phone", "timestamp")]
        min_rows = 1
        max_rows = None
        checks: ClassVar = [
            pp.col("amount").mean().between(10, 5000),
            pp.col("agent_id").null_fraction() <= 0.2,
            pp.col("currency").n_unique() >= 3,
            pp.col("amount").sum() > 0,
        ]
        delimiter = ","
        null_values: ClassVar = [""]


def keys_of(typed_dict: Any) -> set[str]:
    return set(typing.get_type_hints(typed_dict))


def check_keys(value: dict[str, Any], typed_dict: Any, where: str) -> None:
    allowed = keys_of(typed_dict)
    required = set(typed_dict.__required_keys__)
    assert set(value) <= allowed, f"{where}: unexpected keys {set(value) - allowed}"
    assert required <= set(value), f"{where}: missing keys {required - set(value)}"


def walk_expr(node: dict[str, Any], where: str) -> None:
    by_type = {
        "col": wire.ColExpr,
        "lit": wire.LitExpr,
        "binary": wire.BinaryExpr,
        "not": wire.NotExpr,
        "neg": wire.NegExpr,
        "abs": wire.AbsExpr,
        "isin": wire.IsinExpr,
        "is_null": wire.IsNullExpr,
        "str_len": wire.StrLenExpr,
        "starts_with": wire.StrTestExpr,
        "ends_with": wire.StrTestExpr,
        "contains": wire.StrTestExpr,
        "matches": wire.MatchesExpr,
        "lower": wire.CaseExpr,
        "upper": wire.CaseExpr,
        "dt_part": wire.DtPartExpr,
    }
    check_keys(node, by_type[node["type"]], where)
    for key in ("left", "right", "expr"):
        if key in node:
            walk_expr(node[key], where)


def assert_matches_wire_types(spec: dict[str, Any]) -> None:
    check_keys(spec, wire.SpecDict, "spec")
    check_keys(spec["csv"], wire.CsvDialect, "csv")
    by_check = {
        "gt": wire.BoundCheck,
        "ge": wire.BoundCheck,
        "lt": wire.BoundCheck,
        "le": wire.BoundCheck,
        "min_length": wire.LengthCheck,
        "max_length": wire.LengthCheck,
        "pattern": wire.PatternCheck,
        "isin": wire.SetCheck,
        "not_in": wire.SetCheck,
        "unique": wire.UniqueCheck,
    }
    for column in spec["columns"]:
        check_keys(column, wire.ColumnSpec, column["name"])
        assert column["dtype"] in wire.DTYPES
        for check in column["checks"]:
            check_keys(check, by_check[check["type"]], f"{column['name']}:{check['type']}")
    for rule in spec["row_rules"]:
        check_keys(rule, wire.RowRuleSpec, rule["name"])
        walk_expr(rule["expr"], rule["name"])
    for key in spec["unique"]:
        check_keys(key, wire.UniqueKeySpec, str(key["columns"]))
    for dataset in spec["dataset_checks"]:
        check_keys(dataset, wire.DatasetCheckSpec, dataset["metric"])
        assert dataset["metric"] in wire.METRICS


class Everything(pp.Schema):
    s: str = pp.Field(
        min_length=1,
        max_length=9,
        pattern="^a",
        isin=["a"],
        not_in=["b"],
        unique="first",
    )
    i: int = pp.Field(gt=0, ge=1, lt=10, le=9, severity="warn", tolerance=2)
    f: float | None = pp.Field(le=pp.Check(5, name="f_cap"))
    d: dt.date | None = pp.Field(ge="2020-01-01", isin=[dt.date(2020, 1, 2)], format="%d/%m/%Y")
    when: dt.datetime = pp.Field(lt=dt.datetime(2030, 1, 1))
    at: dt.time = pp.Field(ge=dt.time(8))

    @pp.validate
    def everything(row):  # type: ignore[no-untyped-def]
        return (
            (row.s.str.len() > 0)
            & row.s.str.startswith("a")
            & row.s.str.endswith("z")
            & row.s.str.contains("m")
            & row.s.str.matches("^a.*z$")
            & (row.s.str.lower() == row.s.str.upper())
            & ~row.f.is_null()
            & (abs(-row.i) % 2 == 0)
            & row.i.isin([1, 2])
            & (row.i / 2 + 1 - 3 * 1 != 0)
            & (row.when.dt.year >= 2020)
            & (row.d < dt.date(2030, 1, 1))
            & (row.when > dt.datetime(2020, 1, 1))
            & (row.at.dt.hour < 20)
        )

    class Config:
        unique: typing.ClassVar = [pp.Unique(("s", "i"), name="si")]
        min_rows = 0
        checks: typing.ClassVar = [
            pp.col("i").n_unique() > 1,
            pp.col("f").null_count() == 0,
        ]


def test_dsl_output_matches_the_wire_types() -> None:
    assert_matches_wire_types(Transactions.to_spec())  # type: ignore[arg-type]


def test_every_construct_matches_the_wire_types() -> None:
    assert_matches_wire_types(Everything.to_spec())  # type: ignore[arg-type]


def test_rule_names_follow_the_spec() -> None:
    from pyrustpipe.schema import rule_names

    assert rule_names(Transactions.to_spec()) == [
        "txn_id:not_null",
        "txn_id:type",
        "txn_id:pattern",
        "txn_id:unique",
        "timestamp:not_null",
        "timestamp:type",
        "sender_phone:not_null",
        "sender_phone:type",
        "sender_phone:pattern",
        "amount:not_null",
        "amount:type",
        "amount:gt",
        "amount:le",
        "fee:not_null",
        "fee:type",
        "fee:ge",
        "currency:not_null",
        "currency:type",
        "currency:isin",
        "agent_id:type",
        "note:type",
        "fee_within_amount",
        "sender_phone,timestamp:unique",
        "dataset:row_count",
        "amount:mean",
        "agent_id:null_fraction",
        "currency:distinct_count",
        "amount:sum",
    ]


def json_blocks() -> list[str]:
    return re.findall(r"```json\n(.*?)```", DOCS.read_text(), flags=re.DOTALL)


def test_docs_examples_use_keys_the_dsl_knows() -> None:
    blocks = json_blocks()
    assert len(blocks) >= 4
    column = json.loads(blocks[1])
    check_keys(column, wire.ColumnSpec, "docs column")
    rule = json.loads(blocks[2])
    check_keys(rule, wire.RowRuleSpec, "docs row rule")
    walk_expr(rule["expr"], "docs row rule")
    check_keys(json.loads(blocks[3]), wire.UniqueKeySpec, "docs unique")
    check_keys(json.loads(blocks[4]), wire.DatasetCheckSpec, "docs dataset check")


# -- engine-backed: the engine accepts what the DSL writes ---------------------------------------


@pytest.mark.parametrize("schema", [Transactions, Everything])
def test_engine_accepts_dsl_specs(schema: type[pp.Schema]) -> None:
    from pyrustpipe import _core

    result = json.loads(_core.compile_spec(schema.spec_json()))
    assert result["ruleset_hash"].startswith("sha256:")
    assert result["spec"]["name"] == schema.__name__


def test_engine_rejects_unknown_keys_naming_them() -> None:
    from pyrustpipe import _core

    spec = Transactions.to_spec()
    spec["columns"][0]["checks"][0]["patern"] = "x"  # type: ignore[typeddict-unknown-key]
    with pytest.raises(pp.SchemaError, match="patern"):
        _core.compile_spec(json.dumps(spec))
