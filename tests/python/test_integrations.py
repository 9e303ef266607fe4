"""``pyrustpipe.integrations``: the one module the orchestrator packages import from pyrustpipe
besides its public names."""

from __future__ import annotations

import ast
from pathlib import Path

import pyrustpipe as pp
from pyrustpipe import (
    _core,  # noqa: F401 - engine-backed: fail, never skip, without it
    integrations,
)

ROOT = Path(__file__).resolve().parents[2]


def test_the_integrations_import_only_the_public_seam() -> None:
    private = []
    for package in (
        "airflow_provider/pyrustpipe_provider",
        "dagster_integration/dagster_pyrustpipe",
    ):
        for path in sorted((ROOT / package).glob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                    "pyrustpipe."
                ):
                    if node.module != "pyrustpipe.integrations":
                        private.append(f"{path.name}: {node.module}")
    assert private == []


def test_rules_of_is_the_engines_rule_table() -> None:
    class Tiny(pp.Schema):
        id: int = pp.Field(unique=True)

        class Config:
            name = "tiny"

    assert integrations.rules_of(Tiny) == pp.compile(Tiny).rules
    assert integrations.schema_name(Tiny) == "tiny"
    assert integrations.schema_name(Tiny.to_spec()) == "tiny"
