"""The DSL's output against the wire types (spec.py) and the documented spec (docs/spec.md)."""

from __future__ import annotations

import json
import re
import typing
from pathlib import Path
from typing import Any

import pyrustpipe as pp
import pytest
from pyrustpipe import spec as wire

from tests.schemas import Everything, Transactions

DOCS = Path(__file__).resolve().parents[2] / "docs" / "spec.md"


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
        "pattern": wire.PatternCheck,
        "values": wire.SetCheck,
        "keep": wire.UniqueCheck,
    }
    for column in spec["columns"]:
        check_keys(column, wire.ColumnSpec, column["name"])
        assert column["dtype"] in wire.DTYPES
        for check in column["checks"]:
            shape = next((by_check[k] for k in by_check if k in check), wire.ValueCheck)
            check_keys(check, shape, f"{column['name']}:{check['type']}")
    for rule in spec["row_rules"]:
        check_keys(rule, wire.RowRuleSpec, rule["name"])
        walk_expr(rule["expr"], rule["name"])
    for key in spec["unique"]:
        check_keys(key, wire.UniqueKeySpec, str(key["columns"]))
    for dataset in spec["dataset_checks"]:
        check_keys(dataset, wire.DatasetCheckSpec, dataset["metric"])
        assert dataset["metric"] in wire.METRICS


def test_dsl_output_matches_the_wire_types() -> None:
    assert_matches_wire_types(Transactions.to_spec())  # type: ignore[arg-type]


def test_every_construct_matches_the_wire_types() -> None:
    assert_matches_wire_types(Everything.to_spec())  # type: ignore[arg-type]


def test_rule_names_follow_the_spec() -> None:
    fixed = ("schema:", "row:field_count", "row:malformed")
    names = [r.name for r in Transactions.rules() if not r.name.startswith(fixed)]
    assert names == [
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
