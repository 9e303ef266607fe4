"""The rules as Dagster column metadata: ``rules_to_table_schema(schema) -> dg.TableSchema``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import dagster as dg
from pyrustpipe.api import SchemaLike, resolve_schema

__all__ = ["rules_to_table_schema"]

_OPERATORS = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}


def _severity(rule: Mapping[str, Any]) -> str:
    return " (warn)" if rule.get("severity") == "warn" else ""


def _check_text(check: Mapping[str, Any]) -> str:
    kind = check["type"]
    if kind in _OPERATORS:
        text = f"{_OPERATORS[kind]} {check['value']}"
    elif kind in ("min_length", "max_length"):
        text = f"{kind} {check['value']}"
    elif kind == "pattern":
        text = f"matches {check['pattern']}"
    elif kind in ("isin", "not_in"):
        text = f"{'in' if kind == 'isin' else 'not in'} {json.dumps(check['values'])}"
    elif kind == "unique":
        text = "unique" if check.get("keep") in (None, "none") else "unique (first kept)"
    else:
        text = kind
    return text + _severity(check)


def _column(column: Mapping[str, Any]) -> dg.TableColumn:
    other = [_check_text(c) for c in column.get("checks") or () if c["type"] != "unique"]
    if column.get("format"):
        other.insert(0, f"format {column['format']}")
    return dg.TableColumn(
        name=column["name"],
        type=column["dtype"],
        constraints=dg.TableColumnConstraints(
            nullable=bool(column.get("nullable", True)),
            unique=any(c["type"] == "unique" for c in column.get("checks") or ()),
            other=other,
        ),
    )


def _dataset_text(check: Mapping[str, Any]) -> str:
    metric = check["metric"]
    target = f"{metric}({check['column']})" if check.get("column") else metric
    low = "[" if check.get("min_inclusive", True) else "("
    high = "]" if check.get("max_inclusive", True) else ")"
    return f"{target} in {low}{check.get('min')}, {check.get('max')}{high}" + _severity(check)


def rules_to_table_schema(schema: SchemaLike) -> dg.TableSchema:
    """The schema's columns with their rules as constraints, for ``dagster/column_schema``.

    Column checks become ``TableColumnConstraints`` (``nullable``, ``unique``, ``other`` such as
    ``> 0`` or ``matches ^TX[0-9]{10}$``); row rules, composite keys and dataset checks become
    table-level ``TableConstraints``.
    """
    spec, python_rules = resolve_schema(schema)
    spec_dict: Mapping[str, Any] = spec
    other = [f"row rule {r['name']}{_severity(r)}" for r in spec_dict.get("row_rules") or ()]
    other += [f"row rule {r.name} (Python)" for r in python_rules]
    other += [f"unique ({', '.join(k['columns'])})" for k in spec_dict.get("unique") or ()]
    other += [_dataset_text(c) for c in spec_dict.get("dataset_checks") or ()]
    if spec_dict.get("strict"):
        other.append("no columns beyond these (strict)")
    return dg.TableSchema(
        columns=[_column(c) for c in spec_dict.get("columns") or ()],
        constraints=dg.TableConstraints(other=other),
    )
