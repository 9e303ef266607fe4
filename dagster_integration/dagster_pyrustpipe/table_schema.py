"""The rules as Dagster column metadata: ``rules_to_table_schema(schema) -> dg.TableSchema``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg
from pyrustpipe.integrations import Rule, SchemaLike, resolve_schema, rules_of

__all__ = ["rules_to_table_schema"]

# Rules every schema has, or that the column's type and nullability already say.
_IMPLIED = frozenset({"missing_columns", "field_count", "malformed", "not_null", "type"})


def _text(rule: Rule) -> str:
    """The engine's one-line description, marked when the rule only warns."""
    return rule.description + (" (warn)" if rule.severity == "warn" else "")


def rules_to_table_schema(schema: SchemaLike) -> dg.TableSchema:
    """The schema's columns with their rules as constraints, for ``dagster/column_schema``.

    Column checks become ``TableColumnConstraints`` (``nullable``, ``unique``, ``other``: the
    engine's description of each rule, such as ``amount > 0`` or ``txn_id matches
    "^TX[0-9]{10}$"``); row rules, composite keys, dataset checks and ``strict`` become
    table-level ``TableConstraints``.
    """
    spec, _ = resolve_schema(schema)
    columns: Mapping[str, Any] = {c["name"]: c for c in spec["columns"]}
    other: dict[str, list[str]] = {name: [] for name in columns}
    unique: set[str] = set()
    table: list[str] = []
    for rule in rules_of(schema):
        if rule.kind in _IMPLIED:
            continue
        column = rule.column if rule.scope == "column" else None
        if column is not None and column in columns:
            if rule.kind == "unique":
                unique.add(column)
            else:
                other[column].append(_text(rule))
        elif rule.kind in ("row_rule", "python_row_rule"):
            table.append(f"row rule {rule.name}: {_text(rule)}")
        else:
            table.append(_text(rule))
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=name,
                type=column["dtype"],
                constraints=dg.TableColumnConstraints(
                    nullable=bool(column.get("nullable", True)),
                    unique=name in unique,
                    other=other[name],
                ),
            )
            for name, column in columns.items()
        ],
        constraints=dg.TableConstraints(other=table),
    )
